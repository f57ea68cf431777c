//! Schema drift: how a new batch's columns differ from a reference batch's.
//!
//! The key column of each batch is given in [`DriftConfig`], or else it is the batch's first
//! column of timestamps. Rows are aligned on the keys, and every (reference, new) column pair
//! is compared over the aligned rows by the share of equal values and, for numbers, the
//! Pearson correlation. Pairs whose agreement reaches `min_value_agreement` are matched one to one,
//! most agreeing first. A matched pair is then classified by the names:
//!
//! - same name: unchanged, or retyped when the Arrow types differ;
//! - the new name points at another reference column (same name, or clearly the most
//!   similar one): swapped, because the column carries one column's values under another's
//!   name;
//! - otherwise: renamed.
//!
//! Columns not matched by values are paired by name and value profile, then reported as new
//! or missing. A new column that keeps a reference name but whose values no longer agree is
//! reported as changed. Name similarity is `0.7 × token overlap + 0.3 × character
//! similarity`, or the character similarity alone where that is larger. It says what a name
//! suggests and never overrules values.

mod align;

use std::fmt;

use arrow::array::RecordBatch;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

pub use align::PairEvidence;
use align::{Values, align, column_index, compare, sum_of_two};

use super::names::{character_similarity, token_overlap};
use super::profile::{ColumnProfile, ValueKind, ValuePattern, profile_batch};

/// Settings of a [`DriftDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftConfig {
    /// Key column of the reference batch; by default its first timestamp column.
    pub reference_key: Option<String>,
    /// Key column of the new batch; by default `reference_key` when that name exists in the
    /// new batch, else its first timestamp column.
    pub new_key: Option<String>,
    /// Minimum number of aligned rows with both values present for values to count as evidence.
    pub min_aligned_rows: usize,
    /// Smallest agreement, in [0, 1], at which two columns carry the same values.
    pub min_value_agreement: f64,
    /// Smallest name similarity, in [0, 1], at which a name suggests a reference column.
    pub min_name_similarity: f64,
    /// Smallest name-and-profile similarity, in [0, 1], to call a column renamed when no
    /// values can be compared.
    pub min_profile_similarity: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            reference_key: None,
            new_key: None,
            min_aligned_rows: 24,
            min_value_agreement: 0.9,
            min_name_similarity: 0.6,
            min_profile_similarity: 0.6,
        }
    }
}

/// Evidence that a renamed column is the reference column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RenameBasis {
    /// The values agree over aligned rows.
    Values(PairEvidence),
    /// Both are the key columns the rows were aligned on.
    AlignmentKey,
    /// No values could be compared; the name and value profile are similar.
    Profile {
        /// Mean of name and profile similarity, in [0, 1].
        similarity: f64,
    },
}

/// One difference between the reference and the new batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DriftFinding {
    /// A column with no counterpart in the reference.
    New {
        /// New column.
        column: String,
        /// Further facts, such as that the column is the sum of two other columns.
        note: Option<String>,
    },
    /// A reference column with no counterpart in the new batch.
    Missing {
        /// Reference column.
        column: String,
    },
    /// A reference column that appears under another name.
    Renamed {
        /// Reference column.
        reference_column: String,
        /// New column.
        column: String,
        /// Evidence that both are the same column.
        basis: RenameBasis,
    },
    /// A column whose Arrow type changed.
    Retyped {
        /// Reference column.
        reference_column: String,
        /// New column.
        column: String,
        /// Arrow type in the reference.
        reference_type: String,
        /// Arrow type in the new batch.
        new_type: String,
    },
    /// A new column that carries one reference column's values while its name points at
    /// another reference column.
    Swapped {
        /// New column.
        column: String,
        /// Reference column whose values it carries.
        carries: String,
        /// Reference column its name suggests.
        name_suggests: String,
        /// Agreement with `carries` over aligned rows.
        evidence: PairEvidence,
    },
    /// A column that keeps its reference name but whose values disagree with it.
    ValuesChanged {
        /// Column name.
        column: String,
        /// Agreement with the reference column of the same name.
        evidence: PairEvidence,
    },
}

impl fmt::Display for DriftFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |share: f64| share * 100.0;
        match self {
            DriftFinding::New { column, note } => {
                write!(f, "column {column:?} is new")?;
                if let Some(note) = note {
                    write!(f, ": {note}")?;
                }
                Ok(())
            }
            DriftFinding::Missing { column } => {
                write!(f, "reference column {column:?} is missing")
            }
            DriftFinding::Renamed {
                reference_column,
                column,
                basis,
            } => {
                write!(f, "reference column {reference_column:?} is now {column:?}")?;
                match basis {
                    RenameBasis::Values(evidence) => write!(
                        f,
                        " ({:.1} % of values equal over {} aligned rows)",
                        percent(evidence.equal_share),
                        evidence.rows
                    ),
                    RenameBasis::AlignmentKey => f.write_str(" (the key the rows were aligned on)"),
                    RenameBasis::Profile { similarity } => write!(
                        f,
                        " (by name and value profile, similarity {similarity:.2}; no aligned rows)"
                    ),
                }
            }
            DriftFinding::Retyped {
                reference_column,
                column,
                reference_type,
                new_type,
            } => write!(
                f,
                "column {column:?} (reference {reference_column:?}) changed type from \
                 {reference_type} to {new_type}"
            ),
            DriftFinding::Swapped {
                column,
                carries,
                name_suggests,
                evidence,
            } => write!(
                f,
                "column {column:?} in the new batch carries the values of reference column \
                 {carries:?} ({:.1} % equal over {} aligned rows), but its name suggests \
                 reference column {name_suggests:?}",
                percent(evidence.equal_share),
                evidence.rows
            ),
            DriftFinding::ValuesChanged { column, evidence } => write!(
                f,
                "column {column:?} keeps its name but only {:.1} % of its values equal the \
                 reference over {} aligned rows",
                percent(evidence.equal_share),
                evidence.rows
            ),
        }
    }
}

/// The drift of a new batch from a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Key columns (reference, new) the rows were aligned on, if any.
    pub key: Option<(String, String)>,
    /// Rows of the new batch aligned with a reference row.
    pub aligned_rows: usize,
    /// Reference rows left out because their key repeats an earlier row's.
    pub duplicate_reference_keys: usize,
    /// Differences, in the new batch's column order, then missing reference columns.
    pub findings: Vec<DriftFinding>,
    /// Columns found unchanged in name, type and (where compared) values.
    pub unchanged: Vec<String>,
}

impl DriftReport {
    /// Returns true when no drift was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Returns pairs of new columns that swapped values: each carries the values of the
    /// reference column the other's name suggests.
    pub fn swapped_pairs(&self) -> Vec<(String, String)> {
        let swaps: Vec<(&String, &String, &String)> = self
            .findings
            .iter()
            .filter_map(|finding| match finding {
                DriftFinding::Swapped {
                    column,
                    carries,
                    name_suggests,
                    ..
                } => Some((column, carries, name_suggests)),
                _ => None,
            })
            .collect();
        let mut pairs = Vec::new();
        for (index, (column, carries, suggests)) in swaps.iter().enumerate() {
            for (other, other_carries, other_suggests) in &swaps[index + 1..] {
                if carries == other_suggests && suggests == other_carries {
                    pairs.push(((*column).clone(), (*other).clone()));
                }
            }
        }
        pairs
    }
}

/// Compares batches against a reference and reports schema drift.
#[derive(Debug, Clone, Default)]
pub struct DriftDetector {
    config: DriftConfig,
}

/// A (reference, new) column pair found by values.
struct ValueMatch {
    reference: usize,
    evidence: PairEvidence,
}

impl DriftDetector {
    /// Builds a detector after checking the config.
    pub fn new(config: DriftConfig) -> Result<Self> {
        for (name, value) in [
            ("min_value_agreement", config.min_value_agreement),
            ("min_name_similarity", config.min_name_similarity),
            ("min_profile_similarity", config.min_profile_similarity),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::config(
                    "drift detector",
                    format!("{name} is {value}: expected a number from 0 to 1"),
                ));
            }
        }
        Ok(DriftDetector { config })
    }

    /// Compares `new` with `reference`, by values over rows aligned on the key columns when
    /// both batches have one, else by names and value profiles.
    pub fn compare(&self, reference: &RecordBatch, new: &RecordBatch) -> Result<DriftReport> {
        let reference_profiles = profile_batch(reference);
        let new_profiles = profile_batch(new);
        let keys = self.key_columns(reference, &reference_profiles, new, &new_profiles)?;
        let Some((reference_key, new_key)) = keys else {
            return Ok(self.classify(&reference_profiles, &new_profiles, None));
        };

        let alignment = align(reference, reference_key, new, new_key)?;
        let reference_values: Vec<Values> = reference
            .columns()
            .iter()
            .map(|column| Values::of(column.as_ref()))
            .collect();
        let new_values: Vec<Values> = new
            .columns()
            .iter()
            .map(|column| Values::of(column.as_ref()))
            .collect();
        let value_matches = self.match_by_values(
            &reference_values,
            reference_key,
            &new_values,
            new_key,
            &alignment.pairs,
        );
        let context = AlignedContext {
            reference_key,
            new_key,
            reference_values: &reference_values,
            new_values: &new_values,
            pairs: &alignment.pairs,
            value_matches,
        };
        let mut report = self.classify(&reference_profiles, &new_profiles, Some(&context));
        report.key = Some((
            reference_profiles[reference_key].name.clone(),
            new_profiles[new_key].name.clone(),
        ));
        report.aligned_rows = alignment.pairs.len();
        report.duplicate_reference_keys = alignment.duplicate_keys;
        Ok(report)
    }

    /// Compares `new` with stored reference profiles, by names and value profiles only.
    pub fn compare_with_profiles(
        &self,
        reference: &[ColumnProfile],
        new: &RecordBatch,
    ) -> Result<DriftReport> {
        let new_profiles = profile_batch(new);
        Ok(self.classify(reference, &new_profiles, None))
    }

    fn key_columns(
        &self,
        reference: &RecordBatch,
        reference_profiles: &[ColumnProfile],
        new: &RecordBatch,
        new_profiles: &[ColumnProfile],
    ) -> Result<Option<(usize, usize)>> {
        let first_time = |profiles: &[ColumnProfile]| {
            profiles
                .iter()
                .position(|profile| profile.pattern == Some(ValuePattern::Timestamp))
        };
        let reference_key = match &self.config.reference_key {
            Some(name) => Some(column_index(reference, name, "reference")?),
            None => first_time(reference_profiles),
        };
        let new_key = match (&self.config.new_key, &self.config.reference_key) {
            (Some(name), _) => Some(column_index(new, name, "new")?),
            (None, Some(name)) if new.schema().index_of(name).is_ok() => {
                Some(column_index(new, name, "new")?)
            }
            _ => first_time(new_profiles),
        };
        Ok(reference_key.zip(new_key))
    }

    /// Matches new columns to reference columns by agreement, one to one, most agreeing
    /// first. Returns, per new column, its match.
    fn match_by_values(
        &self,
        reference: &[Values],
        reference_key: usize,
        new: &[Values],
        new_key: usize,
        pairs: &[(usize, usize)],
    ) -> Vec<Option<ValueMatch>> {
        let mut candidates = Vec::new();
        for (j, new_column) in new.iter().enumerate() {
            if j == new_key {
                continue;
            }
            for (i, reference_column) in reference.iter().enumerate() {
                if i == reference_key {
                    continue;
                }
                let evidence = compare(reference_column, new_column, pairs);
                if evidence.rows >= self.config.min_aligned_rows
                    && evidence.agreement() >= self.config.min_value_agreement
                {
                    candidates.push((j, i, evidence));
                }
            }
        }
        candidates.sort_by(|a, b| {
            b.2.agreement()
                .total_cmp(&a.2.agreement())
                .then(b.2.equal_share.total_cmp(&a.2.equal_share))
                .then(a.0.cmp(&b.0))
                .then(a.1.cmp(&b.1))
        });
        let mut matches: Vec<Option<ValueMatch>> = (0..new.len()).map(|_| None).collect();
        let mut used = vec![false; reference.len()];
        for (j, i, evidence) in candidates {
            if matches[j].is_none() && !used[i] {
                used[i] = true;
                matches[j] = Some(ValueMatch {
                    reference: i,
                    evidence,
                });
            }
        }
        matches
    }

    /// Returns the reference column a new name points at: the same name, else the clearly
    /// most similar name (by at least 0.05 over the runner-up).
    fn name_suggestion(
        &self,
        name: &str,
        reference: &[ColumnProfile],
        skip: Option<usize>,
    ) -> Option<usize> {
        if let Some(exact) = reference
            .iter()
            .enumerate()
            .position(|(i, profile)| Some(i) != skip && profile.name == name)
        {
            return Some(exact);
        }
        let mut scored: Vec<(usize, f64)> = reference
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(i, profile)| (i, name_similarity(name, &profile.name)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = scored.first()?;
        let runner_up = scored.get(1).map_or(0.0, |second| second.1);
        (best.1 >= self.config.min_name_similarity && best.1 - runner_up >= 0.05).then_some(best.0)
    }

    fn classify(
        &self,
        reference: &[ColumnProfile],
        new: &[ColumnProfile],
        aligned: Option<&AlignedContext<'_>>,
    ) -> DriftReport {
        let reference_key = aligned.map(|context| context.reference_key);
        let new_key = aligned.map(|context| context.new_key);
        let mut findings = Vec::new();
        let mut unchanged = Vec::new();
        let mut reference_used = vec![false; reference.len()];
        if let Some(key) = reference_key {
            reference_used[key] = true;
        }
        // New columns still open after value and exact-name matching, with their findings
        // slot, for the profile pass.
        let mut open_new = Vec::new();
        let mut slots: Vec<Vec<DriftFinding>> = vec![Vec::new(); new.len()];

        for (j, profile) in new.iter().enumerate() {
            if Some(j) == new_key {
                let key = reference_key.map(|i| &reference[i]);
                if let Some(key) = key {
                    if key.name == profile.name && key.data_type == profile.data_type {
                        unchanged.push(profile.name.clone());
                    } else {
                        slots[j].extend(retyped_or_renamed(
                            key,
                            profile,
                            RenameBasis::AlignmentKey,
                        ));
                    }
                }
                continue;
            }
            let value_match = aligned.and_then(|context| context.value_matches[j].as_ref());
            if let Some(matched) = value_match {
                let i = matched.reference;
                reference_used[i] = true;
                let reference_profile = &reference[i];
                if reference_profile.name == profile.name {
                    if reference_profile.data_type == profile.data_type {
                        unchanged.push(profile.name.clone());
                    } else {
                        slots[j].push(retyped(reference_profile, profile));
                    }
                    continue;
                }
                match self.name_suggestion(&profile.name, reference, reference_key) {
                    Some(suggested) if suggested != i => slots[j].push(DriftFinding::Swapped {
                        column: profile.name.clone(),
                        carries: reference_profile.name.clone(),
                        name_suggests: reference[suggested].name.clone(),
                        evidence: matched.evidence.clone(),
                    }),
                    _ => slots[j].extend(retyped_or_renamed(
                        reference_profile,
                        profile,
                        RenameBasis::Values(matched.evidence.clone()),
                    )),
                }
                continue;
            }
            open_new.push(j);
        }

        // Same name, not matched by values.
        let mut still_open = Vec::new();
        for j in open_new {
            let profile = &new[j];
            let same_name = reference
                .iter()
                .enumerate()
                .position(|(i, r)| !reference_used[i] && r.name == profile.name);
            let Some(i) = same_name else {
                still_open.push(j);
                continue;
            };
            reference_used[i] = true;
            let changed = aligned.and_then(|context| {
                let evidence = compare(
                    &context.reference_values[i],
                    &context.new_values[j],
                    context.pairs,
                );
                (evidence.rows >= self.config.min_aligned_rows).then_some(evidence)
            });
            if reference[i].data_type != profile.data_type {
                slots[j].push(retyped(&reference[i], profile));
            }
            match changed {
                Some(evidence) => slots[j].push(DriftFinding::ValuesChanged {
                    column: profile.name.clone(),
                    evidence,
                }),
                None if reference[i].data_type == profile.data_type => {
                    unchanged.push(profile.name.clone())
                }
                None => {}
            }
        }

        // Renamed by name and profile, most similar pair first. Where enough rows were
        // aligned, a renamed column would have matched by values, so this pass is skipped.
        let values_compared =
            aligned.is_some_and(|context| context.pairs.len() >= self.config.min_aligned_rows);
        let mut candidates = Vec::new();
        for &j in still_open.iter().filter(|_| !values_compared) {
            for (i, reference_profile) in reference.iter().enumerate() {
                if reference_used[i] {
                    continue;
                }
                let similarity = 0.5 * name_similarity(&new[j].name, &reference_profile.name)
                    + 0.5 * profile_similarity(reference_profile, &new[j]);
                if similarity >= self.config.min_profile_similarity {
                    candidates.push((j, i, similarity));
                }
            }
        }
        candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        let mut renamed = vec![false; new.len()];
        for (j, i, similarity) in candidates {
            if renamed[j] || reference_used[i] {
                continue;
            }
            renamed[j] = true;
            reference_used[i] = true;
            slots[j].extend(retyped_or_renamed(
                &reference[i],
                &new[j],
                RenameBasis::Profile { similarity },
            ));
        }
        for j in still_open.into_iter().filter(|&j| !renamed[j]) {
            let note = aligned.and_then(|context| {
                sum_of_two(context.new_values, j).map(|(a, b, share)| {
                    format!(
                        "equals the sum of {:?} and {:?} in {:.1} % of rows",
                        new[a].name,
                        new[b].name,
                        share * 100.0
                    )
                })
            });
            slots[j].push(DriftFinding::New {
                column: new[j].name.clone(),
                note,
            });
        }

        findings.extend(slots.into_iter().flatten());
        for (i, profile) in reference.iter().enumerate() {
            if !reference_used[i] {
                findings.push(DriftFinding::Missing {
                    column: profile.name.clone(),
                });
            }
        }
        DriftReport {
            key: None,
            aligned_rows: 0,
            duplicate_reference_keys: 0,
            findings,
            unchanged,
        }
    }
}

/// Everything the classifier needs from aligned rows.
struct AlignedContext<'a> {
    reference_key: usize,
    new_key: usize,
    reference_values: &'a [Values],
    new_values: &'a [Values],
    pairs: &'a [(usize, usize)],
    value_matches: Vec<Option<ValueMatch>>,
}

fn retyped(reference: &ColumnProfile, new: &ColumnProfile) -> DriftFinding {
    DriftFinding::Retyped {
        reference_column: reference.name.clone(),
        column: new.name.clone(),
        reference_type: reference.data_type.clone(),
        new_type: new.data_type.clone(),
    }
}

/// Returns a rename finding when the names differ (with `basis`), and a retype finding when
/// the types differ.
fn retyped_or_renamed(
    reference: &ColumnProfile,
    new: &ColumnProfile,
    basis: RenameBasis,
) -> Vec<DriftFinding> {
    let mut findings = Vec::new();
    if reference.name != new.name {
        findings.push(DriftFinding::Renamed {
            reference_column: reference.name.clone(),
            column: new.name.clone(),
            basis,
        });
    }
    if reference.data_type != new.data_type {
        findings.push(retyped(reference, new));
    }
    findings
}

/// Returns the larger of `0.7 × token overlap + 0.3 × character similarity` and the
/// character similarity alone, which covers names that differ in separators or a suffix
/// (`wind_speed`, `windspeed_ms`).
fn name_similarity(a: &str, b: &str) -> f64 {
    let characters = character_similarity(a, b);
    (0.7 * token_overlap(a, b) + 0.3 * characters).max(characters)
}

/// Returns how alike two columns' values look, in [0, 1]: kind agreement, overlap of the
/// 5th-95th percentile ranges (or of the category sets) and closeness of distinct ratios.
fn profile_similarity(a: &ColumnProfile, b: &ColumnProfile) -> f64 {
    if a.kind == ValueKind::Empty || b.kind == ValueKind::Empty {
        return 0.0;
    }
    let kind = if a.kind == b.kind {
        1.0
    } else if a.kind.is_numeric() && b.kind.is_numeric() {
        0.8
    } else {
        0.0
    };
    let values = match (&a.numeric, &b.numeric) {
        (Some(x), Some(y)) if x.percentiles.len() == 101 && y.percentiles.len() == 101 => {
            let (low_a, high_a) = (x.percentiles[5], x.percentiles[95]);
            let (low_b, high_b) = (y.percentiles[5], y.percentiles[95]);
            let overlap = (high_a.min(high_b) - low_a.max(low_b)).max(0.0);
            let union = high_a.max(high_b) - low_a.min(low_b);
            if union == 0.0 { 1.0 } else { overlap / union }
        }
        _ if !a.categories.is_empty() && !b.categories.is_empty() => {
            let shared = a
                .categories
                .iter()
                .filter(|value| b.categories.contains(value))
                .count();
            let union = a.categories.len() + b.categories.len() - shared;
            shared as f64 / union as f64
        }
        _ => 0.5,
    };
    let distinct = 1.0 - (a.distinct_ratio() - b.distinct_ratio()).abs();
    0.4 * kind + 0.4 * values + 0.2 * distinct
}

#[cfg(test)]
mod tests;
