//! A comparison bound to the attribute positions of two tables: the levels and scores of
//! candidate pairs, one pair at a time or for a whole batch.

use super::{Comparison, FittedComparator, NULL_LEVEL, day_month_swapped, normalize};
use crate::er::term_frequency::TermFrequencies;
use crate::er::{CandidatePair, RecordTable};

/// A comparison bound to the attribute positions of two tables.
#[derive(Debug, Clone)]
pub struct FittedComparison {
    pub(super) comparison: Comparison,
    pub(super) left_index: usize,
    pub(super) right_index: usize,
    /// Positions of `swapped_with` in the left and right tables.
    pub(super) swapped: Option<(usize, usize)>,
    pub(super) comparator: FittedComparator,
    /// Value frequencies of the attribute when the comparison has a term-frequency
    /// adjustment.
    pub(super) term_frequencies: Option<TermFrequencies>,
}

impl FittedComparison {
    /// Returns the comparison's settings.
    pub fn comparison(&self) -> &Comparison {
        &self.comparison
    }

    /// Returns the fitted comparator.
    pub fn comparator(&self) -> &FittedComparator {
        &self.comparator
    }

    /// Value frequencies counted at fit time, when the comparison has a term-frequency
    /// adjustment.
    pub fn term_frequencies(&self) -> Option<&TermFrequencies> {
        self.term_frequencies.as_ref()
    }

    /// Returns the left record's value of `pair`.
    pub(crate) fn left_value<'a>(
        &self,
        left: &'a RecordTable,
        pair: CandidatePair,
    ) -> Option<&'a str> {
        left.value(pair.left as usize, self.left_index)
    }

    /// Returns the right record's value of `pair`.
    pub(crate) fn right_value<'a>(
        &self,
        right: &'a RecordTable,
        pair: CandidatePair,
    ) -> Option<&'a str> {
        right.value(pair.right as usize, self.right_index)
    }

    /// Name of the comparison: attribute and comparator, such as `title:jaro_winkler`.
    pub fn name(&self) -> String {
        format!(
            "{}:{}",
            self.comparison.attribute,
            self.comparison.comparator.name()
        )
    }

    /// Number of levels, `null` not counted.
    pub fn num_levels(&self) -> usize {
        self.comparison.thresholds.len()
            + 1
            + usize::from(self.comparison.day_month_swap)
            + usize::from(self.comparison.exact_level)
    }

    /// Returns the similarity of the two records of `pair`, the left one from `left` and the
    /// right one from `right`. These are the tables the comparison was fitted on, or the same
    /// table twice when deduplicating.
    pub fn similarity(
        &self,
        left: &RecordTable,
        right: &RecordTable,
        pair: CandidatePair,
    ) -> Option<f64> {
        let (left, right) = self.values(left, right, pair);
        self.comparator.similarity(left, right)
    }

    /// Level of the two records of `pair`; [`NULL_LEVEL`] when a value is missing.
    pub fn level(&self, left: &RecordTable, right: &RecordTable, pair: CandidatePair) -> u8 {
        let (left_value, right_value) = self.values(left, right, pair);
        let level = self.level_of(left_value, right_value);
        self.swap_level(left, right, pair, level)
    }

    /// Returns the `day_month_swapped` level for two dates with day and month swapped, when
    /// the comparison has that level and `level` is below it. Otherwise returns `level`.
    fn day_month_level(&self, left: Option<&str>, right: Option<&str>, level: u8) -> u8 {
        if !self.comparison.day_month_swap || level == NULL_LEVEL {
            return level;
        }
        let swap_level = self.day_month_swap_level();
        if level >= swap_level {
            return level;
        }
        match (left, right) {
            (Some(left), Some(right)) if day_month_swapped(left, right) => swap_level,
            _ => level,
        }
    }

    /// Level of `day_month_swapped`, just above the highest threshold.
    fn day_month_swap_level(&self) -> u8 {
        (self.comparison.thresholds.len() + 1) as u8
    }

    /// Returns the higher of `level` and the level of the pair's values compared across
    /// `swapped_with`, capped at the highest threshold level.
    fn swap_level(
        &self,
        left: &RecordTable,
        right: &RecordTable,
        pair: CandidatePair,
        level: u8,
    ) -> u8 {
        let Some((left_other, right_other)) = self.swapped else {
            return level;
        };
        let top = self.comparison.thresholds.len() as u8;
        if level == NULL_LEVEL || level >= top {
            return level;
        }
        let (left_value, right_value) = self.values(left, right, pair);
        let left_swapped = left.value(pair.left as usize, left_other);
        let right_swapped = right.value(pair.right as usize, right_other);
        let (Some(first), Some(second)) = (
            self.comparator.similarity(left_value, right_swapped),
            self.comparator.similarity(left_swapped, right_value),
        ) else {
            return level;
        };
        let swapped = self.level_of_similarity(first.min(second)).min(top);
        level.max(swapped)
    }

    /// Computes [`Self::swap_level`] from normalised values: `values` are the pair's values of
    /// the attribute and `swapped` its values of `swapped_with`, left record first.
    fn swap_level_normalized(
        &self,
        level: u8,
        values: (Option<&str>, Option<&str>),
        swapped: (Option<&str>, Option<&str>),
    ) -> u8 {
        let top = self.comparison.thresholds.len() as u8;
        if level == NULL_LEVEL || level >= top {
            return level;
        }
        let (Some(left_value), Some(right_value), Some(left_swapped), Some(right_swapped)) =
            (values.0, values.1, swapped.0, swapped.1)
        else {
            return level;
        };
        let first = self
            .comparator
            .similarity_of_normalized(left_value, right_swapped);
        let second = self
            .comparator
            .similarity_of_normalized(left_swapped, right_value);
        let swapped = self.level_of_similarity(first.min(second)).min(top);
        level.max(swapped)
    }

    /// Level of two values; [`NULL_LEVEL`] when either is missing or unreadable.
    pub fn level_of(&self, left: Option<&str>, right: Option<&str>) -> u8 {
        let (Some(left), Some(right)) = (left, right) else {
            return NULL_LEVEL;
        };
        let Some(similarity) = self.comparator.similarity(Some(left), Some(right)) else {
            return NULL_LEVEL;
        };
        if self.comparison.exact_level && self.comparator.is_exact(left, right) {
            return self.exact_level();
        }
        let level = self.level_of_similarity(similarity);
        self.day_month_level(Some(left), Some(right), level)
    }

    /// Levels of many pairs, in pair order, computed in parallel.
    ///
    /// The text comparators normalise each column once instead of each value once per pair
    /// when there are at least half as many pairs as records, with the same levels as
    /// [`Self::level`].
    pub fn levels(
        &self,
        left: &RecordTable,
        right: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Vec<u8> {
        use rayon::prelude::*;
        if self.comparator.reads_normalized_text() && pairs.len() * 2 >= left.len() + right.len() {
            let left_values = normalized_column(left, self.left_index);
            let deduplicating = std::ptr::eq(left, right) && self.left_index == self.right_index;
            let right_owned = (!deduplicating).then(|| normalized_column(right, self.right_index));
            let right_values = right_owned.as_deref().unwrap_or(&left_values);
            // The columns compared across `swapped_with` are normalised once as well, so
            // that a pair below the top level does not normalise four values again.
            let swapped_columns = self.swapped.map(|(left_other, right_other)| {
                let left_swapped = normalized_column(left, left_other);
                let right_swapped = (!std::ptr::eq(left, right) || left_other != right_other)
                    .then(|| normalized_column(right, right_other));
                (left_swapped, right_swapped)
            });
            let swapped_values = swapped_columns
                .as_ref()
                .map(|(left_swapped, right_swapped)| {
                    (
                        left_swapped.as_slice(),
                        right_swapped.as_deref().unwrap_or(left_swapped),
                    )
                });
            return pairs
                .par_iter()
                .map(|&pair| {
                    let left_normalized = normalized_value(&left_values, pair.left);
                    let right_normalized = normalized_value(right_values, pair.right);
                    let level = self.level_of_normalized(left_normalized, right_normalized);
                    // Reading the raw values is a cache miss per pair at a million records,
                    // so only a comparison with the day/month level does it.
                    let level = if self.comparison.day_month_swap {
                        let (left_value, right_value) = self.values(left, right, pair);
                        self.day_month_level(left_value, right_value, level)
                    } else {
                        level
                    };
                    match swapped_values {
                        Some((left_swapped, right_swapped)) => self.swap_level_normalized(
                            level,
                            (left_normalized, right_normalized),
                            (
                                normalized_value(left_swapped, pair.left),
                                normalized_value(right_swapped, pair.right),
                            ),
                        ),
                        None => level,
                    }
                })
                .collect();
        }
        pairs
            .par_iter()
            .map(|&pair| self.level(left, right, pair))
            .collect()
    }

    /// Computes [`Self::level_of`] for two values that [`normalize`] already produced.
    fn level_of_normalized(&self, left: Option<&str>, right: Option<&str>) -> u8 {
        let (Some(left), Some(right)) = (left, right) else {
            return NULL_LEVEL;
        };
        if self.comparison.exact_level && left == right {
            return self.exact_level();
        }
        self.level_of_similarity(self.comparator.similarity_of_normalized(left, right))
    }

    fn exact_level(&self) -> u8 {
        (self.comparison.thresholds.len() + 1 + usize::from(self.comparison.day_month_swap)) as u8
    }

    /// Returns the highest threshold level that `similarity` reaches, or 0 (`else`).
    fn level_of_similarity(&self, similarity: f64) -> u8 {
        let thresholds = &self.comparison.thresholds;
        match thresholds
            .iter()
            .position(|&threshold| similarity >= threshold)
        {
            Some(index) => (thresholds.len() - index) as u8,
            None => 0,
        }
    }

    /// Label of a level, such as `exact`, `jaro_winkler >= 0.92`, `else` or `null`.
    pub fn level_label(&self, level: u8) -> String {
        let thresholds = &self.comparison.thresholds;
        if level == NULL_LEVEL {
            return "null".into();
        }
        let level = usize::from(level);
        if level == 0 {
            "else".into()
        } else if level <= thresholds.len() {
            format!(
                "{} >= {}",
                self.comparison.comparator.name(),
                thresholds[thresholds.len() - level]
            )
        } else if self.comparison.day_month_swap && level == thresholds.len() + 1 {
            "day_month_swapped".into()
        } else {
            "exact".into()
        }
    }

    /// Labels of every level from `else` (level 0) up, `null` not included.
    pub fn level_labels(&self) -> Vec<String> {
        (0..self.num_levels() as u8)
            .map(|level| self.level_label(level))
            .collect()
    }

    fn values<'a>(
        &self,
        left: &'a RecordTable,
        right: &'a RecordTable,
        pair: CandidatePair,
    ) -> (Option<&'a str>, Option<&'a str>) {
        (
            left.value(pair.left as usize, self.left_index),
            right.value(pair.right as usize, self.right_index),
        )
    }
}

/// Normalises every value of attribute `index`, in row order.
fn normalized_column(table: &RecordTable, index: usize) -> Vec<Option<String>> {
    use rayon::prelude::*;
    table
        .column(index)
        .unwrap_or_default()
        .par_iter()
        .map(|value| value.as_deref().map(normalize))
        .collect()
}

fn normalized_value(values: &[Option<String>], row: u32) -> Option<&str> {
    values.get(row as usize).and_then(Option::as_deref)
}
