//! The [`QualityGate`] cleaner: scores completeness, accuracy, consistency, timeliness and
//! usability per row, per column and per batch, assigns gold, silver or bronze tiers, and
//! sends rows below the minimum tier to quarantine.
//!
//! The scores come from the batch's values and from the issue log that earlier stages wrote
//! (rules, checks, outlier and error detectors), so the gate belongs after them in a chain;
//! [`score`] defines each dimension. With the default per-row routing a row's tier comes from
//! its own cells' issues; with [`Routing::Batch`] a batch passes or goes to quarantine whole.
//!
//! Passing rows carry their usability score and tier in two added columns, `quality_score`
//! and `quality_tier` unless configured otherwise. An existing column of either name is
//! replaced. A quarantined row's reason lists its scores. The latest batch's scores are
//! available from [`QualityGate::last_quality`], the tier counts so far from
//! [`QualityGate::tier_counts`], and each batch writes one audit record with its counts and
//! batch scores.

mod config;
pub mod score;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use governance_core::audit::AuditAction;
use governance_core::{Cleaner, Error, GovernedBatch, QuarantinedRow, Result, Stage, StageContext};

pub use config::{
    QualityConfig, Routing, Tier, TierThresholds, TimelinessConfig, UsabilityWeights,
};
pub use score::{BatchQuality, ColumnScores, Scores};

use crate::support::{column_index, row_text};

/// Default stage name, used in config errors.
pub(crate) const NAME: &str = "quality";

/// Scores quality, assigns tiers and routes rows below the minimum tier to quarantine; see
/// the module docs.
#[derive(Debug)]
pub struct QualityGate {
    name: String,
    config: QualityConfig,
    last: Option<BatchQuality>,
    tier_counts: BTreeMap<Tier, u64>,
}

impl QualityGate {
    /// Creates the stage. Fails with an error that names the field and its valid range when
    /// a threshold, weight or window is invalid.
    pub fn new(config: QualityConfig) -> Result<Self> {
        config.validate()?;
        Ok(QualityGate {
            name: NAME.into(),
            config,
            last: None,
            tier_counts: BTreeMap::new(),
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &QualityConfig {
        &self.config
    }

    /// Returns the scores of the latest batch, or `None` before the first batch.
    pub fn last_quality(&self) -> Option<&BatchQuality> {
        self.last.as_ref()
    }

    /// Returns the rows per tier over every batch so far, quarantined rows included.
    pub fn tier_counts(&self) -> &BTreeMap<Tier, u64> {
        &self.tier_counts
    }

    /// Resolves the scored columns: the configured ones, or every column but the output ones.
    fn scored_columns(&self, batch: &GovernedBatch) -> Result<Vec<usize>> {
        if let Some(names) = &self.config.columns {
            return names
                .iter()
                .map(|name| column_index(batch, &self.name, "columns", name))
                .collect();
        }
        let outputs = [&self.config.score_column, &self.config.tier_column];
        let columns: Vec<usize> = batch
            .data()
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| {
                !outputs
                    .iter()
                    .any(|name| name.as_deref() == Some(field.name()))
            })
            .map(|(index, _)| index)
            .collect();
        if columns.is_empty() {
            return Err(Error::config(
                &self.name,
                format!(
                    "the batch has no column to score besides the score and tier columns; \
                     columns are: {}",
                    batch.column_names().join(", ")
                ),
            ));
        }
        Ok(columns)
    }

    /// Appends or replaces the score and tier columns on the passing rows.
    fn with_outputs(
        &self,
        batch: &mut GovernedBatch,
        usability: Vec<Option<f64>>,
        tiers: Vec<Tier>,
    ) -> Result<()> {
        let mut outputs: Vec<(&str, ArrayRef)> = Vec::new();
        if let Some(name) = &self.config.score_column {
            outputs.push((name, Arc::new(Float64Array::from(usability))));
        }
        if let Some(name) = &self.config.tier_column {
            let names: Vec<&str> = tiers.iter().map(|tier| tier.as_str()).collect();
            outputs.push((name, Arc::new(StringArray::from(names))));
        }
        if outputs.is_empty() {
            return Ok(());
        }
        let schema = batch.data().schema();
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        for (name, array) in outputs {
            let field = Field::new(name, array.data_type().clone(), true);
            match schema.index_of(name) {
                Ok(index) => {
                    fields[index] = field;
                    columns[index] = array;
                }
                Err(_) => {
                    fields.push(field);
                    columns.push(array);
                }
            }
        }
        let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
        batch.replace_data(RecordBatch::try_new(Arc::new(schema), columns)?)
    }
}

impl Stage for QualityGate {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "score quality and quarantine rows below {}",
            self.config.min_tier.as_str()
        )
    }
}

impl Cleaner for QualityGate {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let columns = self.scored_columns(&batch)?;
        let time = match &self.config.timeliness {
            Some(settings) => Some(column_index(
                &batch,
                &self.name,
                "timeliness.column",
                &settings.column,
            )?),
            None => None,
        };
        let quality = score::score_batch(&batch, &self.config, &columns, time, &self.name)?;

        let row_scores: Vec<Scores> = match self.config.routing {
            Routing::Row => quality.row_scores.clone(),
            Routing::Batch => vec![quality.batch; batch.num_rows()],
        };
        let tiers: Vec<Tier> = row_scores
            .iter()
            .map(|scores| {
                scores
                    .usability
                    .map_or(Tier::BelowBronze, |value| self.config.tiers.tier(value))
            })
            .collect();

        let mut keep = Vec::with_capacity(tiers.len());
        let mut counts: BTreeMap<Tier, u64> = BTreeMap::new();
        for (row, (tier, scores)) in tiers.iter().zip(&row_scores).enumerate() {
            *counts.entry(*tier).or_insert(0) += 1;
            let passes = *tier >= self.config.min_tier;
            keep.push(passes);
            if passes {
                continue;
            }
            ctx.quarantine(QuarantinedRow {
                stage: self.name.clone(),
                row_id: Some(batch.row_ids().value(row)),
                source: Some(batch.provenance.source.clone()),
                line: None,
                reason: format!(
                    "quality tier {} is below the minimum tier {}: {}",
                    tier.as_str(),
                    self.config.min_tier.as_str(),
                    describe_scores(scores)
                ),
                raw: row_text(batch.data(), row),
            });
        }
        let quarantined = keep.iter().filter(|&&passes| !passes).count();

        let mut output = if quarantined == 0 {
            batch
        } else {
            batch.filter(&BooleanArray::from(keep.clone()))?
        };
        let (usability, passing_tiers): (Vec<Option<f64>>, Vec<Tier>) = row_scores
            .iter()
            .zip(&tiers)
            .zip(&keep)
            .filter(|(_, passes)| **passes)
            .map(|((scores, tier), _)| (scores.usability, *tier))
            .unzip();
        self.with_outputs(&mut output, usability, passing_tiers)?;
        output.provenance.stages.push(self.name.clone());

        let mut detail = format!("rows={} quarantined={quarantined}", quality.rows);
        for (tier, count) in &counts {
            detail.push_str(&format!(" {}={count}", tier.as_str()));
            *self.tier_counts.entry(*tier).or_insert(0) += count;
        }
        detail.push_str(&format!(" {}", describe_scores(&quality.batch)));
        ctx.audit(AuditAction::Decision, ctx.stage(), &detail)?;
        // The scores also go to lineage, where a round's record shows what the gate saw
        // beside the parameters it ran with.
        let tier_counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(tier, count)| (tier.as_str().to_string(), (*count).into()))
            .collect();
        ctx.record_event(
            "quality_scored",
            serde_json::json!({
                "rows": quality.rows,
                "quarantined": quarantined,
                "tiers": tier_counts,
                "scores": quality.batch,
            }),
        );
        tracing::debug!(stage = %self.name, %detail, "scored batch quality");
        self.last = Some(quality);
        Ok(output)
    }
}

/// Formats scores as `usability=0.812 completeness=0.750 ...`, leaving out missing ones.
fn describe_scores(scores: &Scores) -> String {
    [
        ("usability", scores.usability),
        ("completeness", scores.completeness),
        ("accuracy", scores.accuracy),
        ("consistency", scores.consistency),
        ("timeliness", scores.timeliness),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|value| format!("{name}={value:.3}")))
    .collect::<Vec<_>>()
    .join(" ")
}
