//! The schema matcher: scores every column against every attribute and assigns them one to
//! one.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use governance_core::standard::{ReferenceConditions, StandardModel, StandardRegistry};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::mapping::{Candidate, ColumnMapping, SchemaMapping, UnmappedColumn};
use super::names::tokens;
use super::profile::{ColumnProfile, ValueKind, profile_batch};
use super::score::{Score, score};
use crate::embed::{HashedNgramEmbedder, TextEmbedder};

/// Settings of a [`SchemaMatcher`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaMatcherConfig {
    /// Smallest confidence, in [0, 1], at which a column is mapped.
    pub min_confidence: f64,
    /// Weight, in [0, 1], of the name embedding against the lexical name similarity.
    pub embedding_weight: f64,
    /// Conditions at which ppb and ppm values are compared with mass concentrations.
    pub reference_conditions: ReferenceConditions,
}

impl Default for SchemaMatcherConfig {
    fn default() -> Self {
        SchemaMatcherConfig {
            min_confidence: 0.5,
            embedding_weight: 0.3,
            reference_conditions: ReferenceConditions::default(),
        }
    }
}

/// Maps the columns of a batch to the attributes of a standard model.
///
/// Assignment is greedy by confidence: the most confident (column, attribute) pair is
/// fixed first, then the most confident pair among the remaining columns and attributes,
/// and so on down to the minimum confidence. Unlike an optimal (Hungarian) assignment,
/// which maximises the sum, greedy never gives up a confident pair to let two weak ones in,
/// and each decision can be explained by its own score. Ties go to the earlier column, then
/// the earlier attribute, so the result is deterministic.
pub struct SchemaMatcher {
    config: SchemaMatcherConfig,
    embedder: Arc<dyn TextEmbedder>,
}

impl std::fmt::Debug for SchemaMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaMatcher")
            .field("config", &self.config)
            .field("embedder_dim", &self.embedder.dim())
            .finish()
    }
}

impl Default for SchemaMatcher {
    fn default() -> Self {
        SchemaMatcher {
            config: SchemaMatcherConfig::default(),
            embedder: Arc::new(HashedNgramEmbedder::default()),
        }
    }
}

impl SchemaMatcher {
    /// Builds a matcher with the hashed n-gram embedder, after checking the config.
    pub fn new(config: SchemaMatcherConfig) -> Result<Self> {
        for (name, value) in [
            ("min_confidence", config.min_confidence),
            ("embedding_weight", config.embedding_weight),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::config(
                    "schema matcher",
                    format!("{name} is {value}: expected a number from 0 to 1"),
                ));
            }
        }
        Ok(SchemaMatcher {
            config,
            embedder: Arc::new(HashedNgramEmbedder::default()),
        })
    }

    /// Replaces the name embedder, for example with a pretrained sentence encoder.
    pub fn with_embedder(mut self, embedder: Arc<dyn TextEmbedder>) -> Self {
        self.embedder = embedder;
        self
    }

    /// Maps `batch` to the model called `model` in `registry`; an unknown name is an error
    /// that lists the registered models.
    pub fn match_model(
        &self,
        batch: &RecordBatch,
        registry: &StandardRegistry,
        model: &str,
    ) -> Result<SchemaMapping> {
        self.match_batch(batch, registry.get(model)?)
    }

    /// Maps `batch` to `model`. A batch with no rows is matched by names alone. A batch with
    /// no columns is an error.
    pub fn match_batch(&self, batch: &RecordBatch, model: &StandardModel) -> Result<SchemaMapping> {
        if batch.num_columns() == 0 {
            return Err(Error::InvalidInput(format!(
                "cannot match a batch with no columns to {}: pass a batch with the source \
                 columns",
                model.name
            )));
        }
        model.validate()?;
        let profiles = profile_batch(batch);
        Ok(self.match_profiles(&profiles, model))
    }

    /// Maps columns given by their profiles to `model`.
    pub fn match_profiles(
        &self,
        profiles: &[ColumnProfile],
        model: &StandardModel,
    ) -> SchemaMapping {
        let scores: Vec<Vec<Score>> = profiles
            .iter()
            .map(|profile| {
                model
                    .attributes
                    .iter()
                    .map(|attribute| {
                        score(
                            profile,
                            attribute,
                            self.embedder.as_ref(),
                            self.config.embedding_weight,
                            self.config.reference_conditions,
                        )
                    })
                    .collect()
            })
            .collect();

        let assignment = assign_greedy(&scores, self.config.min_confidence);
        let taken_by: Vec<Option<usize>> = (0..model.attributes.len())
            .map(|attribute| assignment.iter().position(|a| *a == Some(attribute)))
            .collect();

        let mut mappings = Vec::new();
        let mut unmapped = Vec::new();
        for (column, profile) in profiles.iter().enumerate() {
            if let Some(attribute_index) = assignment[column] {
                let attribute = &model.attributes[attribute_index];
                let chosen = &scores[column][attribute_index];
                mappings.push(ColumnMapping {
                    column: profile.name.clone(),
                    attribute: attribute.name.clone(),
                    confidence: chosen.confidence,
                    evidence: chosen.evidence.clone(),
                    source_unit: chosen.source_unit,
                    semantic: attribute.semantic(),
                });
                continue;
            }
            let best = best_attribute(&scores[column]);
            let best_candidate = best.map(|index| Candidate {
                attribute: model.attributes[index].name.clone(),
                confidence: scores[column][index].confidence,
            });
            let reason = unmapped_reason(
                profile,
                model,
                best.map(|index| (index, &scores[column][index])),
                &taken_by,
                profiles,
                self.config.min_confidence,
            );
            unmapped.push(UnmappedColumn {
                column: profile.name.clone(),
                reason,
                best_candidate,
            });
        }
        let unfilled_attributes = model
            .attributes
            .iter()
            .zip(&taken_by)
            .filter(|(_, taken)| taken.is_none())
            .map(|(attribute, _)| attribute.name.clone())
            .collect();
        SchemaMapping {
            model: model.name.clone(),
            mappings,
            unmapped,
            unfilled_attributes,
        }
    }
}

/// Assigns columns to attributes one to one, most confident pair first.
fn assign_greedy(scores: &[Vec<Score>], min_confidence: f64) -> Vec<Option<usize>> {
    let mut pairs: Vec<(usize, usize, f64)> = scores
        .iter()
        .enumerate()
        .flat_map(|(column, row)| {
            row.iter()
                .enumerate()
                .map(move |(attribute, score)| (column, attribute, score.confidence))
        })
        .filter(|(_, _, confidence)| *confidence >= min_confidence && *confidence > 0.0)
        .collect();
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));

    let mut assignment = vec![None; scores.len()];
    let mut used = HashSet::new();
    for (column, attribute, _) in pairs {
        if assignment[column].is_none() && !used.contains(&attribute) {
            assignment[column] = Some(attribute);
            used.insert(attribute);
        }
    }
    assignment
}

fn best_attribute(scores: &[Score]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .filter(|(_, score)| score.confidence > 0.0)
        .max_by(|a, b| {
            a.1.confidence
                .total_cmp(&b.1.confidence)
                .then(b.0.cmp(&a.0))
        })
        .map(|(index, _)| index)
}

/// Names of date parts that sources split a timestamp into.
const DATE_PARTS: [&str; 14] = [
    "year", "month", "day", "hour", "minute", "second", "yr", "mon", "年", "月", "日", "时", "分",
    "秒",
];

fn unmapped_reason(
    profile: &ColumnProfile,
    model: &StandardModel,
    best: Option<(usize, &Score)>,
    taken_by: &[Option<usize>],
    profiles: &[ColumnProfile],
    min_confidence: f64,
) -> String {
    let name_tokens = tokens(&profile.name);
    let is_date_part = name_tokens.len() == 1
        && DATE_PARTS.contains(&name_tokens[0].as_str())
        && (profile.kind.is_numeric() || profile.kind == ValueKind::Empty);
    if is_date_part {
        return "a date part: combine the date-part columns into one timestamp to map them to \
                a date-time attribute"
            .into();
    }
    let Some((index, best)) = best else {
        return format!(
            "no attribute of {} resembles the column's name or values",
            model.name
        );
    };
    let attribute = &model.attributes[index].name;
    if best.row_index {
        return format!(
            "values count up by one per row like a row number, so the column was not taken \
             for {attribute:?}"
        );
    }
    if best.confidence >= min_confidence
        && let Some(Some(other)) = taken_by.get(index)
    {
        return format!(
            "the best attribute, {attribute:?} (confidence {:.2}), went to column {:?} with a \
             higher confidence",
            best.confidence, profiles[*other].name
        );
    }
    format!(
        "the best attribute, {attribute:?}, has confidence {:.2}, below the minimum \
         {min_confidence}",
        best.confidence
    )
}
