//! Value profiles of columns, to tell a renamed column from a new one by its values.

use std::collections::BTreeSet;

use arrow::array::{Array, ArrayRef, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

/// Distinct text values kept per profile; more are not compared.
const MAX_DISTINCT: usize = 256;

/// A summary of one column's values. Its numbers are finite, so it round-trips through JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum ValueProfile {
    /// Numbers, summarised by their moments and range.
    Numeric {
        mean: f64,
        std: f64,
        min: f64,
        max: f64,
    },
    /// Text, summarised by up to [`MAX_DISTINCT`] distinct values and the mean length.
    Text {
        values: BTreeSet<String>,
        mean_length: f64,
    },
    /// No non-null value, or a type with no profile here (lists, structs, binary).
    Unknown,
}

impl ValueProfile {
    /// Profiles `array`. Numbers of any width are read as `f64`, and dates and times are
    /// treated as text so that their values, not their epoch offsets, are compared.
    pub(crate) fn of(array: &ArrayRef) -> ValueProfile {
        if is_numeric(array.data_type()) {
            return numeric_profile(array);
        }
        if is_textual(array.data_type()) {
            return text_profile(array);
        }
        ValueProfile::Unknown
    }

    /// Returns a similarity from 0 (unrelated) to 1 (the same values). Profiles of different
    /// kinds, or without values, score 0.
    pub(crate) fn similarity(&self, other: &ValueProfile) -> f64 {
        match (self, other) {
            (
                ValueProfile::Numeric {
                    mean,
                    std,
                    min,
                    max,
                },
                ValueProfile::Numeric {
                    mean: other_mean,
                    std: other_std,
                    min: other_min,
                    max: other_max,
                },
            ) => {
                let scores = [
                    closeness(*mean, *other_mean),
                    closeness(*std, *other_std),
                    closeness(*min, *other_min),
                    closeness(*max, *other_max),
                ];
                scores.iter().sum::<f64>() / scores.len() as f64
            }
            (
                ValueProfile::Text {
                    values,
                    mean_length,
                },
                ValueProfile::Text {
                    values: other_values,
                    mean_length: other_length,
                },
            ) => {
                let shared = values.intersection(other_values).count() as f64;
                let all = values.union(other_values).count() as f64;
                let jaccard = if all == 0.0 { 0.0 } else { shared / all };
                0.8 * jaccard + 0.2 * closeness(*mean_length, *other_length)
            }
            _ => 0.0,
        }
    }
}

/// Returns true for integer, unsigned, float and decimal types.
pub(crate) fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_numeric()
}

/// Returns true for strings, dates, times and timestamps.
pub(crate) fn is_textual(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || data_type.is_temporal()
}

/// Returns 1 for equal values, falling towards 0 as their relative difference grows.
fn closeness(left: f64, right: f64) -> f64 {
    let scale = left.abs().max(right.abs());
    if scale == 0.0 {
        return 1.0;
    }
    (1.0 - (left - right).abs() / scale).clamp(0.0, 1.0)
}

fn numeric_profile(array: &ArrayRef) -> ValueProfile {
    let Ok(values) = cast(array, &DataType::Float64) else {
        return ValueProfile::Unknown;
    };
    let Some(values) = values.as_any().downcast_ref::<Float64Array>() else {
        return ValueProfile::Unknown;
    };
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .filter(|value| value.is_finite())
        .collect();
    if finite.is_empty() {
        return ValueProfile::Unknown;
    }
    let count = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / count;
    let variance = finite
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / count;
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    ValueProfile::Numeric {
        mean,
        std: variance.sqrt(),
        min,
        max,
    }
}

fn text_profile(array: &ArrayRef) -> ValueProfile {
    let Ok(text) = cast(array, &DataType::Utf8) else {
        return ValueProfile::Unknown;
    };
    let Some(text) = text.as_any().downcast_ref::<StringArray>() else {
        return ValueProfile::Unknown;
    };
    let mut values = BTreeSet::new();
    let mut total_length = 0_usize;
    let mut count = 0_usize;
    for value in text.iter().flatten() {
        total_length += value.chars().count();
        count += 1;
        if values.len() < MAX_DISTINCT {
            values.insert(value.to_string());
        }
    }
    if count == 0 {
        return ValueProfile::Unknown;
    }
    ValueProfile::Text {
        values,
        mean_length: total_length as f64 / count as f64,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;

    use super::*;

    #[test]
    fn same_values_score_one() {
        let left: ArrayRef = Arc::new(Float64Array::from(vec![10.0, 12.0, 14.0]));
        let right: ArrayRef = Arc::new(Int64Array::from(vec![10, 12, 14]));
        let score = ValueProfile::of(&left).similarity(&ValueProfile::of(&right));
        assert!((score - 1.0).abs() < 1e-9, "{score}");
    }

    #[test]
    fn different_scales_score_low() {
        let pm25: ArrayRef = Arc::new(Float64Array::from(vec![10.0, 12.0, 14.0]));
        let pressure: ArrayRef = Arc::new(Float64Array::from(vec![1010.0, 1012.0, 1009.0]));
        let score = ValueProfile::of(&pm25).similarity(&ValueProfile::of(&pressure));
        assert!(score < 0.5, "{score}");
    }

    #[test]
    fn text_overlap_counts() {
        let left: ArrayRef = Arc::new(StringArray::from(vec!["north", "south", "east"]));
        let right: ArrayRef = Arc::new(StringArray::from(vec!["north", "south", "west"]));
        let score = ValueProfile::of(&left).similarity(&ValueProfile::of(&right));
        // Jaccard 2/4, equal mean length: 0.8 * 0.5 + 0.2 * 1.
        assert!((score - 0.6).abs() < 1e-9, "{score}");
    }

    #[test]
    fn all_null_column_has_no_profile() {
        let nulls: ArrayRef = Arc::new(Float64Array::from(vec![None, None]));
        assert_eq!(ValueProfile::of(&nulls), ValueProfile::Unknown);
    }
}
