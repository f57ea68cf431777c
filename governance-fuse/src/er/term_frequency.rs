//! Term-frequency adjustment of Fellegi-Sunter match weights.
//!
//! The `exact` level of a comparison has one `u` for every value: the chance that two random
//! records agree on the attribute at all. But agreement on a rare family name is much
//! stronger evidence than agreement on a common one. So, for a pair that agrees exactly, a
//! comparison with a [`TermFrequencyConfig`] replaces that `u` by the frequency of the
//! pair's value among the input's values (the chance that a random record has it), floored
//! at `min_u`.
//! The pair's weight changes by
//!
//! ```text
//! weight × log2(u_exact / max(frequency(value), min_u))
//! ```
//!
//! bits: more for a rare value, fewer (down to a negative adjustment) for a value more common
//! than average. Frequencies count the normalised values ([`normalize`]) of both tables that
//! the comparison was fitted on. EM trains the model without the adjustment, and
//! [`FellegiSunterModel::predict_with_term_frequencies`] applies it when scoring, as Splink
//! does.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compare::{FittedComparison, NULL_LEVEL, normalize};
use super::fellegi_sunter::{FellegiSunterModel, LevelMatrix, probability_from_weight};
use super::{CandidatePair, ErError, RecordTable};

/// Settings of the term-frequency adjustment of one comparison's `exact` level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TermFrequencyConfig {
    /// Smallest `u` a value gets, in `(0, 1]`, so that a value seen once cannot outweigh
    /// every other comparison.
    pub min_u: f64,
    /// Share of the adjustment applied, in `[0, 1]`: 0 turns it off, 1 applies it whole.
    pub weight: f64,
}

impl Default for TermFrequencyConfig {
    /// Returns a floor of 0.0001 (one record in ten thousand) and the whole adjustment.
    fn default() -> Self {
        Self {
            min_u: 1e-4,
            weight: 1.0,
        }
    }
}

impl TermFrequencyConfig {
    /// Checks the settings for the comparison of `attribute`.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] naming the setting, its value and its valid range.
    pub fn validate(&self, attribute: &str) -> Result<(), ErError> {
        if !(self.min_u > 0.0 && self.min_u <= 1.0) {
            return Err(ErError::invalid_config(
                format!("term_frequency min_u of the comparison of '{attribute}'"),
                self.min_u,
                "use a probability in (0, 1] such as 0.0001",
            ));
        }
        if !(0.0..=1.0).contains(&self.weight) {
            return Err(ErError::invalid_config(
                format!("term_frequency weight of the comparison of '{attribute}'"),
                self.weight,
                "use a share in [0, 1], where 1 applies the whole adjustment",
            ));
        }
        Ok(())
    }
}

/// Relative frequencies of the normalised values of one attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TermFrequencies {
    counts: HashMap<String, u64>,
    total: u64,
}

impl TermFrequencies {
    /// Counts the normalised form of every value.
    pub fn count<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut frequencies = Self::default();
        for value in values {
            *frequencies.counts.entry(normalize(value)).or_default() += 1;
            frequencies.total += 1;
        }
        frequencies
    }

    /// Share of the counted values whose normalised form is `normalized`; 0 for a value never
    /// counted.
    pub fn frequency(&self, normalized: &str) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let count = self.counts.get(normalized).copied().unwrap_or(0);
        count as f64 / self.total as f64
    }

    /// Number of values counted, missing values not included.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Number of distinct normalised values.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }
}

/// A comparison with a term-frequency adjustment, bound to its column of the level matrix.
struct Adjusted<'a> {
    comparison: &'a FittedComparison,
    frequencies: &'a TermFrequencies,
    config: TermFrequencyConfig,
    column: usize,
    exact_level: u8,
    u_exact: f64,
}

impl FellegiSunterModel {
    /// Term-frequency adjustment, in bits, of every pair of `data`: the sum over the
    /// comparisons of `comparisons` with a [`TermFrequencyConfig`] whose level is `exact`.
    ///
    /// `data` contains the levels of `pairs` (in the same order) under the model's comparisons,
    /// and `left` is the left table of the pairs; the value of an exact pair is read there.
    /// Comparisons without the adjustment are skipped, so `comparisons` may list every
    /// fitted comparison.
    ///
    /// # Errors
    /// [`ErError::LengthMismatch`] when `data` and `pairs` differ in length, and
    /// [`ErError::InvalidConfig`] when an adjusted comparison is not a column of the model
    /// (for example because it was merged into a joint comparison) or has no `exact` level.
    pub fn term_frequency_adjustments(
        &self,
        data: &LevelMatrix,
        comparisons: &[FittedComparison],
        left: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Result<Vec<f64>, ErError> {
        if data.num_pairs() != pairs.len() {
            return Err(ErError::LengthMismatch {
                what: "the level matrix".into(),
                expected: pairs.len(),
                found: data.num_pairs(),
            });
        }
        let adjusted = self.adjusted_comparisons(comparisons)?;
        let adjustments = pairs
            .par_iter()
            .enumerate()
            .map(|(row, &pair)| {
                let levels = data.row(row);
                adjusted
                    .iter()
                    .filter(|entry| levels[entry.column] == entry.exact_level)
                    .map(|entry| entry.bits(left, pair))
                    .sum()
            })
            .collect();
        Ok(adjustments)
    }

    /// Posterior match probability of every pair of `data`, with the term-frequency
    /// adjustment of [`Self::term_frequency_adjustments`] added to each match weight.
    ///
    /// # Errors
    /// As [`Self::match_weights`] and [`Self::term_frequency_adjustments`].
    pub fn predict_with_term_frequencies(
        &self,
        data: &LevelMatrix,
        comparisons: &[FittedComparison],
        left: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Result<Vec<f64>, ErError> {
        let adjustments = self.term_frequency_adjustments(data, comparisons, left, pairs)?;
        let weights = self.match_weights(data)?;
        Ok(weights
            .into_iter()
            .zip(adjustments)
            .map(|(weight, adjustment)| probability_from_weight(weight + adjustment))
            .collect())
    }

    /// Finds the model column and the trained `u` of the `exact` level of every comparison
    /// with a term-frequency adjustment.
    fn adjusted_comparisons<'a>(
        &self,
        comparisons: &'a [FittedComparison],
    ) -> Result<Vec<Adjusted<'a>>, ErError> {
        let mut adjusted = Vec::new();
        for comparison in comparisons {
            let (Some(config), Some(frequencies)) = (
                comparison.comparison().term_frequency,
                comparison.term_frequencies(),
            ) else {
                continue;
            };
            let name = comparison.name();
            let Some(column) = self.comparisons.iter().position(|c| c.name == name) else {
                return Err(ErError::invalid_config(
                    "term_frequency of a comparison",
                    format!("'{name}'"),
                    format!(
                        "adjust only comparisons of the model [{}]; a comparison merged into a \
                         joint comparison has no exact level of its own, so turn its \
                         term_frequency off",
                        self.comparisons
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let levels = &self.comparisons[column].levels;
            let exact_level = levels.len().saturating_sub(1);
            let Some(exact) = levels
                .get(exact_level)
                .filter(|level| level.label == "exact")
            else {
                return Err(ErError::invalid_config(
                    "term_frequency of a comparison",
                    format!("'{name}'"),
                    "give the comparison an exact level (exact_level: true), because the \
                     adjustment applies to exact agreement",
                ));
            };
            adjusted.push(Adjusted {
                comparison,
                frequencies,
                config,
                column,
                exact_level: u8::try_from(exact_level).unwrap_or(NULL_LEVEL),
                u_exact: exact.u,
            });
        }
        Ok(adjusted)
    }
}

impl Adjusted<'_> {
    /// Adjustment in bits for a pair at the `exact` level, read from the left record's value
    /// (the right one is the same after normalisation).
    fn bits(&self, left: &RecordTable, pair: CandidatePair) -> f64 {
        let Some(value) = self.comparison.left_value(left, pair) else {
            return 0.0;
        };
        let frequency = self.frequencies.frequency(&normalize(value));
        let u_value = frequency.max(self.config.min_u);
        self.config.weight * (self.u_exact / u_value).log2()
    }
}

#[cfg(test)]
mod tests;
