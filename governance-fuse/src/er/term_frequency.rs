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
//!
//! With [`TermFrequencyConfig::near_exact`], a pair at the highest threshold level (a near
//! match such as a typo) gets the same adjustment. Its two values differ, so the frequency is
//! that of the more common of the two, which never credits a rare misspelling of a common
//! value. The ratio is taken against `u_exact` there too, because it measures how much more
//! or less common the value is than an average agreeing value. The level's own `u` already
//! counts how often near matches occur at all.
//!
//! [`FellegiSunterModel::term_frequency_report`] lists the trained and the adjusted weights of
//! every adjusted level, next to the model's per-level m, u and weight.

use std::collections::HashMap;
use std::fmt;

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
    /// Whether the highest threshold level (a near match) is adjusted too, by the frequency
    /// of the more common of the pair's two values. Needs at least one threshold.
    pub near_exact: bool,
}

impl Default for TermFrequencyConfig {
    /// Returns a floor of 0.0001 (one record in ten thousand), the whole adjustment, and
    /// the `exact` level only.
    fn default() -> Self {
        Self {
            min_u: 1e-4,
            weight: 1.0,
            near_exact: false,
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

    /// Returns the `count` most frequent normalised values with their frequencies, most
    /// frequent first and ties in alphabetical order.
    pub fn most_common(&self, count: usize) -> Vec<(&str, f64)> {
        let mut values: Vec<(&str, u64)> = self
            .counts
            .iter()
            .map(|(value, &seen)| (value.as_str(), seen))
            .collect();
        values.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        values.truncate(count);
        values
            .into_iter()
            .map(|(value, seen)| (value, seen as f64 / self.total as f64))
            .collect()
    }
}

/// Trained and term-frequency-adjusted match weights of one adjusted level, in bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermFrequencyLevel {
    /// Comparison name, as in the model.
    pub comparison: String,
    /// Level label: `exact`, or the highest threshold's label for a near-exact level.
    pub label: String,
    /// Trained weight `log2(m / u)` of the level, which every value had without the
    /// adjustment.
    pub trained_weight: f64,
    /// Adjusted weight of a value at or below the `min_u` floor: the most the level reaches.
    pub max_weight: f64,
    /// Most frequent values with their frequency and adjusted weight, most frequent first.
    /// The first has the lowest adjusted weight of the level.
    pub most_common: Vec<ValueWeight>,
}

/// One value's frequency and adjusted weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueWeight {
    /// Normalised value.
    pub value: String,
    /// Share of the counted values that have it.
    pub frequency: f64,
    /// Weight of the level for a pair on this value, in bits.
    pub weight: f64,
}

impl fmt::Display for TermFrequencyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  {} {}: trained weight {:+.2}, rarest values {:+.2}",
            self.comparison, self.label, self.trained_weight, self.max_weight
        )?;
        for value in &self.most_common {
            writeln!(
                f,
                "    {:<28} frequency {:.5}  weight {:+.2}",
                value.value, value.frequency, value.weight
            )?;
        }
        Ok(())
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
    /// The highest threshold level, when [`TermFrequencyConfig::near_exact`] adjusts it.
    near_level: Option<u8>,
}

impl FellegiSunterModel {
    /// Term-frequency adjustment, in bits, of every pair of `data`: the sum over the
    /// comparisons of `comparisons` with a [`TermFrequencyConfig`] whose level is `exact`
    /// (or the highest threshold level, with [`TermFrequencyConfig::near_exact`]).
    ///
    /// `data` contains the levels of `pairs` (in the same order) under the model's comparisons,
    /// and `left` and `right` are the tables of the pairs (the same table twice when
    /// deduplicating); the pair's values are read there.
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
        right: &RecordTable,
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
                    .map(|entry| entry.bits(levels[entry.column], left, right, pair))
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
        right: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Result<Vec<f64>, ErError> {
        let adjustments = self.term_frequency_adjustments(data, comparisons, left, right, pairs)?;
        let weights = self.match_weights(data)?;
        Ok(weights
            .into_iter()
            .zip(adjustments)
            .map(|(weight, adjustment)| probability_from_weight(weight + adjustment))
            .collect())
    }

    /// Lists the trained and the adjusted weights of every adjusted level of `comparisons`,
    /// with the `most_common` most frequent values of each: the term-frequency part of the
    /// model's per-level report (its [`std::fmt::Display`] lists m, u and weight per level).
    ///
    /// # Errors
    /// As [`Self::term_frequency_adjustments`], for a comparison that is not a column of the
    /// model or has no `exact` level.
    pub fn term_frequency_report(
        &self,
        comparisons: &[FittedComparison],
        most_common: usize,
    ) -> Result<Vec<TermFrequencyLevel>, ErError> {
        let mut report = Vec::new();
        for entry in self.adjusted_comparisons(comparisons)? {
            let parameters = &self.comparisons[entry.column];
            let levels = std::iter::once(entry.exact_level).chain(entry.near_level);
            for level in levels {
                let Some(trained) = parameters.levels.get(usize::from(level)) else {
                    continue;
                };
                let values = entry
                    .frequencies
                    .most_common(most_common)
                    .into_iter()
                    .map(|(value, frequency)| ValueWeight {
                        value: value.to_owned(),
                        frequency,
                        weight: trained.weight + entry.bits_at_frequency(frequency),
                    })
                    .collect();
                report.push(TermFrequencyLevel {
                    comparison: parameters.name.clone(),
                    label: trained.label.clone(),
                    trained_weight: trained.weight,
                    max_weight: trained.weight + entry.bits_at_frequency(0.0),
                    most_common: values,
                });
            }
        }
        Ok(report)
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
            let thresholds = comparison.comparison().thresholds.len();
            // `Comparison::validate` rejects `near_exact` without a threshold at fit time.
            let near_level = if config.near_exact && thresholds > 0 {
                u8::try_from(thresholds).ok()
            } else {
                None
            };
            adjusted.push(Adjusted {
                comparison,
                frequencies,
                config,
                column,
                exact_level: u8::try_from(exact_level).unwrap_or(NULL_LEVEL),
                u_exact: exact.u,
                near_level,
            });
        }
        Ok(adjusted)
    }
}

impl Adjusted<'_> {
    /// Computes the adjustment in bits for a pair at `level`. At `exact` it uses the left
    /// record's value (the right one is the same after normalisation), and at the near-exact
    /// level the more frequent of the two values. It is 0 at any other level or for a
    /// missing value.
    fn bits(&self, level: u8, left: &RecordTable, right: &RecordTable, pair: CandidatePair) -> f64 {
        let frequency = if level == self.exact_level {
            let Some(value) = self.comparison.left_value(left, pair) else {
                return 0.0;
            };
            self.frequencies.frequency(&normalize(value))
        } else if Some(level) == self.near_level {
            // NOTE: a pair that reaches this level through `swapped_with` is adjusted by its
            // values of this attribute, not by the swapped values that put it there.
            let (Some(a), Some(b)) = (
                self.comparison.left_value(left, pair),
                self.comparison.right_value(right, pair),
            ) else {
                return 0.0;
            };
            let a = self.frequencies.frequency(&normalize(a));
            let b = self.frequencies.frequency(&normalize(b));
            a.max(b)
        } else {
            return 0.0;
        };
        self.bits_at_frequency(frequency)
    }

    /// Adjustment in bits for a value of relative frequency `frequency`.
    fn bits_at_frequency(&self, frequency: f64) -> f64 {
        let u_value = frequency.max(self.config.min_u);
        self.config.weight * (self.u_exact / u_value).log2()
    }
}

#[cfg(test)]
mod tests;
