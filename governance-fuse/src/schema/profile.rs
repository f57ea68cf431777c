//! Value profiles of columns: kind, null and distinct counts, numeric percentiles and
//! recognised patterns. Schema matching scores them against an attribute's type and range,
//! and drift detection compares them between a reference batch and a new one.

use std::collections::HashSet;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

use super::time::epoch_millis;

/// Share of non-null values that must fit a pattern or parse as numbers for the column to
/// be profiled as such.
const PATTERN_SHARE: f64 = 0.9;

/// At most this many distinct values are kept as categories.
const MAX_CATEGORIES: usize = 32;

/// The broad kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// No rows, or only nulls.
    Empty,
    /// Floating-point or decimal numbers.
    Number,
    /// Integers.
    Integer,
    /// Text of which most values parse as numbers.
    NumericText,
    /// Timestamps or dates, stored as such or as text.
    Temporal,
    /// True or false.
    Boolean,
    /// Any other text.
    Text,
    /// Any other Arrow type, such as lists or binary.
    Other,
}

impl ValueKind {
    /// Returns true for kinds whose values can be read as numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ValueKind::Number | ValueKind::Integer | ValueKind::NumericText
        )
    }
}

/// A recognisable shape shared by most values of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValuePattern {
    /// Timestamps or dates.
    Timestamp,
    /// Compass points such as `NNW` or `东北`, or calm.
    CompassDirection,
    /// Words for true and false, such as `yes` and `no`.
    BooleanText,
    /// Integers that count up by one from row to row, such as a row number.
    RowIndex,
}

/// Numeric summary of a column's non-null values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Share of values that are whole numbers.
    pub integer_share: f64,
    /// The 0th to 100th percentiles (101 values, nearest rank).
    pub percentiles: Vec<f64>,
}

impl NumericSummary {
    /// Estimates the share of values in `[min, max]` from the percentiles, to within about
    /// one percent.
    pub fn share_within(&self, min: f64, max: f64) -> f64 {
        if self.percentiles.is_empty() {
            return 0.0;
        }
        let inside = self
            .percentiles
            .iter()
            .filter(|&&value| value >= min && value <= max)
            .count();
        inside as f64 / self.percentiles.len() as f64
    }
}

/// The value profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Arrow data type, as Arrow displays it.
    pub data_type: String,
    /// Number of rows.
    pub rows: usize,
    /// Number of null values (empty strings count as null).
    pub nulls: usize,
    /// Broad kind of the values.
    pub kind: ValueKind,
    /// Pattern shared by at least 90 % of the non-null values.
    pub pattern: Option<ValuePattern>,
    /// Number of distinct non-null values.
    pub distinct: usize,
    /// Numeric summary, for numeric kinds.
    pub numeric: Option<NumericSummary>,
    /// The distinct values, when there are at most 32 of them.
    pub categories: Vec<String>,
}

impl ColumnProfile {
    /// Returns the share of distinct values among the non-null values, or 0 for none.
    pub fn distinct_ratio(&self) -> f64 {
        let present = self.rows - self.nulls;
        if present == 0 {
            0.0
        } else {
            self.distinct as f64 / present as f64
        }
    }

    /// Returns the share of null values, or 1 for a column with no rows.
    pub fn null_share(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            self.nulls as f64 / self.rows as f64
        }
    }
}

/// Profiles every column of a batch, in schema order.
pub fn profile_batch(batch: &RecordBatch) -> Vec<ColumnProfile> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| profile_column(field.name(), column.as_ref()))
        .collect()
}

/// Profiles one column.
pub fn profile_column(name: &str, array: &dyn Array) -> ColumnProfile {
    let text = text_values(array);
    let numbers = numeric_values(array, text.as_deref());
    let present_text: Vec<&str> = text
        .as_ref()
        .map(|values| values.iter().flatten().map(String::as_str).collect())
        .unwrap_or_default();

    let nulls = match (&text, &numbers) {
        (Some(values), _) => values.iter().filter(|value| value.is_none()).count(),
        _ => array.null_count(),
    };
    let mut profile = ColumnProfile {
        name: name.to_string(),
        data_type: array.data_type().to_string(),
        rows: array.len(),
        nulls,
        kind: ValueKind::Other,
        pattern: None,
        distinct: 0,
        numeric: None,
        categories: Vec::new(),
    };

    if profile.rows == profile.nulls {
        profile.kind = ValueKind::Empty;
        return profile;
    }

    if let Some(numbers) = &numbers {
        let present: Vec<f64> = numbers.iter().flatten().copied().collect();
        profile.kind = match array.data_type() {
            data_type if data_type.is_integer() => ValueKind::Integer,
            data_type if data_type.is_numeric() => ValueKind::Number,
            _ => ValueKind::NumericText,
        };
        let distinct: HashSet<u64> = present.iter().map(|value| value.to_bits()).collect();
        profile.distinct = distinct.len();
        if is_row_index(numbers) {
            profile.pattern = Some(ValuePattern::RowIndex);
        }
        profile.numeric = summarise(present);
    } else if let Some(values) = &text {
        let distinct: HashSet<&str> = present_text.iter().copied().collect();
        profile.distinct = distinct.len();
        profile.kind = ValueKind::Text;
        profile.pattern = text_pattern(&present_text);
        if profile.pattern == Some(ValuePattern::Timestamp) {
            profile.kind = ValueKind::Temporal;
        }
        if profile.pattern.is_none() && looks_temporal(array, values) {
            profile.kind = ValueKind::Temporal;
            profile.pattern = Some(ValuePattern::Timestamp);
        }
    } else {
        profile.kind = match array.data_type() {
            DataType::Boolean => ValueKind::Boolean,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
                profile.pattern = Some(ValuePattern::Timestamp);
                ValueKind::Temporal
            }
            _ => ValueKind::Other,
        };
        profile.distinct = distinct_scalars(array);
    }

    if profile.distinct <= MAX_CATEGORIES && !present_text.is_empty() {
        let mut categories: Vec<String> = present_text.iter().map(|v| v.to_string()).collect();
        categories.sort();
        categories.dedup();
        profile.categories = categories;
    }
    profile
}

/// Returns a text column's values with empty strings as nulls, or `None` for other types.
fn text_values(array: &dyn Array) -> Option<Vec<Option<String>>> {
    if !matches!(
        array.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return None;
    }
    let cast = cast(array, &DataType::Utf8).ok()?;
    let strings = cast.as_string_opt::<i32>()?;
    Some(
        strings
            .iter()
            .map(|value| {
                value
                    .map(str::trim)
                    .filter(|text| !text.is_empty())
                    .map(str::to_string)
            })
            .collect(),
    )
}

/// Reads a column as numbers: numeric types directly, text when at least 90 % of the
/// non-null values parse. Returns `None` otherwise.
pub(crate) fn numeric_values(
    array: &dyn Array,
    text: Option<&[Option<String>]>,
) -> Option<Vec<Option<f64>>> {
    if array.data_type().is_numeric() {
        let cast = cast(array, &DataType::Float64).ok()?;
        let floats = cast.as_primitive_opt::<arrow::datatypes::Float64Type>()?;
        return Some(
            floats
                .iter()
                .map(|value| value.filter(|v| v.is_finite()))
                .collect(),
        );
    }
    let text = text?;
    let present = text.iter().flatten().count();
    if present == 0 {
        return None;
    }
    let parsed: Vec<Option<f64>> = text
        .iter()
        .map(|value| {
            value
                .as_deref()
                .and_then(|text| text.parse::<f64>().ok())
                .filter(|v| v.is_finite())
        })
        .collect();
    let parsed_count = parsed.iter().flatten().count();
    (parsed_count as f64 >= PATTERN_SHARE * present as f64).then_some(parsed)
}

/// Reads any column as numbers for value comparison: numeric columns and numeric text.
pub(crate) fn comparable_numbers(array: &dyn Array) -> Option<Vec<Option<f64>>> {
    let text = text_values(array);
    numeric_values(array, text.as_deref())
}

/// Reads any column as trimmed text for value comparison, or `None` for types that do not
/// cast to text.
pub(crate) fn comparable_text(array: &dyn Array) -> Option<Vec<Option<String>>> {
    if let Some(values) = text_values(array) {
        return Some(values);
    }
    let cast = cast(array, &DataType::Utf8).ok()?;
    let strings = cast.as_string_opt::<i32>()?;
    Some(
        strings
            .iter()
            .map(|value| value.map(|text| text.trim().to_string()))
            .collect(),
    )
}

fn summarise(mut present: Vec<f64>) -> Option<NumericSummary> {
    if present.is_empty() {
        return None;
    }
    present.sort_by(f64::total_cmp);
    let count = present.len();
    let mean = present.iter().sum::<f64>() / count as f64;
    let integers = present.iter().filter(|value| value.fract() == 0.0).count();
    let percentiles = (0..=100)
        .map(|p| {
            let rank = (p as f64 / 100.0 * (count - 1) as f64).round() as usize;
            present[rank.min(count - 1)]
        })
        .collect();
    Some(NumericSummary {
        min: present[0],
        max: present[count - 1],
        mean,
        integer_share: integers as f64 / count as f64,
        percentiles,
    })
}

/// Minimum number of values for a column to be taken for row numbers.
const MIN_ROW_INDEX_LENGTH: usize = 10;

/// True when the present values are whole numbers and at least 99 % of consecutive ones step
/// up by exactly one.
fn is_row_index(values: &[Option<f64>]) -> bool {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.len() < MIN_ROW_INDEX_LENGTH || present.iter().any(|value| value.fract() != 0.0) {
        return false;
    }
    let steps = present.windows(2).filter(|w| w[1] - w[0] == 1.0).count();
    steps as f64 >= 0.99 * (present.len() - 1) as f64
}

const COMPASS_POINTS: [&str; 16] = [
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW",
    "NNW",
];
const CALM: [&str; 4] = ["C", "CV", "CALM", "VRB"];
const COMPASS_CHINESE: [&str; 9] = [
    "北", "东北", "东", "东南", "南", "西南", "西", "西北", "静风",
];
const BOOLEAN_WORDS: [&str; 8] = ["true", "false", "yes", "no", "y", "n", "t", "f"];

/// Returns the compass bearing in degrees of a compass point such as `NNW` or `东北`, or
/// `None` for calm and unknown text.
pub fn compass_degrees(text: &str) -> Option<f64> {
    let upper = text.trim().to_uppercase();
    if let Some(index) = COMPASS_POINTS.iter().position(|point| *point == upper) {
        return Some(index as f64 * 22.5);
    }
    let chinese = upper.trim_end_matches('风');
    COMPASS_CHINESE[..8]
        .iter()
        .position(|point| *point == chinese)
        .map(|index| index as f64 * 45.0)
}

fn is_compass(text: &str) -> bool {
    let upper = text.trim().to_uppercase();
    compass_degrees(&upper).is_some()
        || CALM.contains(&upper.as_str())
        || COMPASS_CHINESE.contains(&upper.trim_end_matches('风'))
}

fn text_pattern(present: &[&str]) -> Option<ValuePattern> {
    if present.is_empty() {
        return None;
    }
    let share = |test: &dyn Fn(&str) -> bool| {
        present.iter().filter(|value| test(value)).count() as f64 / present.len() as f64
    };
    if share(&is_compass) >= PATTERN_SHARE {
        return Some(ValuePattern::CompassDirection);
    }
    let is_boolean = |value: &str| BOOLEAN_WORDS.contains(&value.to_lowercase().as_str());
    if share(&is_boolean) >= PATTERN_SHARE {
        return Some(ValuePattern::BooleanText);
    }
    None
}

fn looks_temporal(array: &dyn Array, values: &[Option<String>]) -> bool {
    let present = values.iter().flatten().count();
    let Some(times) = epoch_millis(array) else {
        return false;
    };
    let parsed = times.iter().flatten().count();
    present > 0 && parsed as f64 >= PATTERN_SHARE * present as f64
}

fn distinct_scalars(array: &dyn Array) -> usize {
    match comparable_text(array) {
        Some(values) => values.iter().flatten().collect::<HashSet<_>>().len(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};

    #[test]
    fn profiles_numeric_column() {
        let column = Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(2.5)]);
        let profile = profile_column("x", &column);
        assert_eq!(profile.kind, ValueKind::Number);
        assert_eq!(profile.nulls, 1);
        assert_eq!(profile.distinct, 3);
        let numeric = profile.numeric.expect("numeric summary");
        assert_eq!(numeric.min, 1.0);
        assert_eq!(numeric.max, 3.0);
        assert_eq!(numeric.percentiles.len(), 101);
        assert_eq!(
            numeric.share_within(0.0, 2.0),
            numeric.share_within(1.0, 1.0)
        );
    }

    #[test]
    fn profiles_numeric_text_and_empty_strings() {
        let column = StringArray::from(vec![Some("12"), Some(""), Some("7.5"), None]);
        let profile = profile_column("count", &column);
        assert_eq!(profile.kind, ValueKind::NumericText);
        assert_eq!(profile.nulls, 2);
        assert_eq!(profile.categories, ["12", "7.5"]);
    }

    #[test]
    fn recognises_patterns() {
        let compass = StringArray::from(vec!["NNW", "N", "SE", "CV", "东北"]);
        assert_eq!(
            profile_column("wd", &compass).pattern,
            Some(ValuePattern::CompassDirection)
        );
        let times = StringArray::from(vec!["2013-03-01 00:00", "2013-03-01 01:00"]);
        let profile = profile_column("time", &times);
        assert_eq!(profile.pattern, Some(ValuePattern::Timestamp));
        assert_eq!(profile.kind, ValueKind::Temporal);
        let index = Int64Array::from((1..=50).collect::<Vec<i64>>());
        assert_eq!(
            profile_column("No", &index).pattern,
            Some(ValuePattern::RowIndex)
        );
        let flags = StringArray::from(vec!["yes", "no", "Yes"]);
        assert_eq!(
            profile_column("flag", &flags).pattern,
            Some(ValuePattern::BooleanText)
        );
    }

    #[test]
    fn all_null_and_empty_columns_are_empty() {
        let nulls = Float64Array::from(vec![None, None]);
        let profile = profile_column("x", &nulls);
        assert_eq!(profile.kind, ValueKind::Empty);
        assert!(profile.numeric.is_none());
        assert_eq!(profile.null_share(), 1.0);
        let empty = StringArray::from(Vec::<&str>::new());
        let profile = profile_column("y", &empty);
        assert_eq!(profile.kind, ValueKind::Empty);
        assert_eq!(profile.distinct_ratio(), 0.0);
        let booleans = BooleanArray::from(vec![true, false, true]);
        let profile = profile_column("z", &booleans);
        assert_eq!(profile.kind, ValueKind::Boolean);
        assert_eq!(profile.distinct, 2);
    }

    #[test]
    fn compass_points_have_bearings() {
        assert_eq!(compass_degrees("N"), Some(0.0));
        assert_eq!(compass_degrees("nnw"), Some(337.5));
        assert_eq!(compass_degrees("东北风"), Some(45.0));
        assert_eq!(compass_degrees("CV"), None);
    }
}
