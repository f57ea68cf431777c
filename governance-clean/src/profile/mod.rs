//! Column profiles of a table, rule suggestion from a profile, and discovery of approximate
//! functional dependencies.
//!
//! A [`Profiler`] reads batches one at a time and keeps bounded state per column:
//!
//! - null and blank counts, and text lengths in characters;
//! - distinct count: exact while at most [`ProfileConfig::max_tracked_values`] values were
//!   seen, otherwise the HyperLogLog++ estimate (crate `hyperloglogplus`, precision 14, about
//!   0.8% standard error);
//! - top-k values from the same exact counts (approximate once values stop being tracked);
//! - minimum, maximum, mean and 101 quantiles of numbers, from a t-digest (crate `tdigest`,
//!   100 centroids), so the quantiles are estimates with the largest relative error in the
//!   middle of the distribution;
//! - value patterns (see [`signature`]) and an inferred [`SemanticType`] voted by the first
//!   10,000 non-null values.
//!
//! [`suggest_rules`] turns a profile into a [`SuiteConfig`](crate::checks::SuiteConfig), and
//! [`discover_dependencies`] finds functional dependencies on a sample.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_clean::profile::{Profiler, SemanticType};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("mail", DataType::Utf8, true)]));
//! let data = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec![
//!     "ana@example.org", "bo@example.org", "cy@example.net",
//! ]))])?;
//! let mut profiler = Profiler::default();
//! profiler.update(&data)?;
//! let profile = profiler.finish();
//! assert_eq!(profile.columns[0].semantic_type, SemanticType::Email);
//! assert_eq!(profile.columns[0].distinct_count, 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod discover;
mod pattern;
mod state;
mod suggest;

use std::collections::HashMap;
use std::hash::{BuildHasher, DefaultHasher};

use arrow::array::{Array, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use governance_core::{Error, Result};
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use serde::{Deserialize, Serialize};
use tdigest::TDigest;

use crate::checks::drift::ReferenceDistribution;
use crate::support::text_values;

pub use discover::{DependencyConfig, DiscoveredDependency, discover_dependencies};
pub use pattern::{signature, signature_regex};
pub use state::ColumnProfileState;
pub use suggest::{SuggestConfig, Suggestion, suggest_rules};

use pattern::{ValueClass, classify};

/// Values classified per column to infer its semantic type.
const CLASSIFIED_VALUES: u64 = 10_000;

/// Centroids of each column's t-digest.
const DIGEST_SIZE: usize = 100;

/// Quantiles stored per numeric column: the minimum, every percentile, the maximum.
const QUANTILE_POINTS: usize = 101;

/// Configuration of a [`Profiler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// Most frequent values kept per column. Defaults to 10.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Distinct values counted exactly per column; beyond it the distinct count is the
    /// HyperLogLog estimate. Defaults to 10,000.
    #[serde(default = "default_max_tracked_values")]
    pub max_tracked_values: usize,
    /// Most frequent patterns kept per column. Defaults to 10.
    #[serde(default = "default_top_k")]
    pub top_patterns: usize,
}

fn default_top_k() -> usize {
    10
}

fn default_max_tracked_values() -> usize {
    10_000
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            top_k: default_top_k(),
            max_tracked_values: default_max_tracked_values(),
            top_patterns: default_top_k(),
        }
    }
}

/// The inferred meaning of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SemanticType {
    /// Whole numbers.
    Integer,
    /// Numbers with a fractional part.
    Decimal,
    /// True or false.
    Boolean,
    /// Calendar dates.
    Date,
    /// Dates with a time of day.
    Timestamp,
    /// E-mail addresses.
    Email,
    /// Telephone numbers.
    Phone,
    /// Values that name one row each, such as ids and codes.
    Identifier,
    /// A small set of repeated values.
    Categorical,
    /// Free text.
    FreeText,
    /// No values to judge by.
    Unknown,
}

/// A value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    /// The value as text, or the pattern.
    pub value: String,
    /// Occurrences.
    pub count: u64,
}

/// Summary of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Estimated quantiles at 0, 0.01, ..., 1 (101 values).
    pub quantiles: Vec<f64>,
}

/// Profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Arrow data type.
    pub data_type: String,
    /// Rows seen.
    pub rows: u64,
    /// Null cells.
    pub null_count: u64,
    /// Empty or whitespace-only text cells, apart from nulls.
    pub blank_count: u64,
    /// `null_count / rows`, 0 for an empty table.
    pub null_rate: f64,
    /// Distinct non-null values: exact when `distinct_is_exact`, else a HyperLogLog estimate.
    pub distinct_count: u64,
    /// Whether `distinct_count` and `top_values` are exact.
    pub distinct_is_exact: bool,
    /// Smallest value as text (numeric order for numbers, byte order for text).
    pub min: Option<String>,
    /// Largest value as text.
    pub max: Option<String>,
    /// Shortest non-null text value, in characters.
    pub min_length: Option<u64>,
    /// Maximum length of a non-null text value, in characters.
    pub max_length: Option<u64>,
    /// Figures of numeric columns, and of text columns whose values all parse as numbers.
    pub numeric: Option<NumericSummary>,
    /// Most frequent values, most frequent first.
    pub top_values: Vec<ValueCount>,
    /// Most frequent format signatures, most frequent first.
    pub patterns: Vec<ValueCount>,
    /// Inferred meaning of the values.
    pub semantic_type: SemanticType,
}

impl ColumnProfile {
    /// Returns the non-null, non-blank values.
    pub fn present(&self) -> u64 {
        self.rows - self.null_count - self.blank_count
    }

    /// Returns a reference distribution for a `drift` rule: quantiles for numeric columns,
    /// value counts for columns whose values were all counted. Returns `None` otherwise.
    pub fn reference(&self) -> Option<ReferenceDistribution> {
        if let Some(numeric) = &self.numeric
            && matches!(
                self.semantic_type,
                SemanticType::Integer | SemanticType::Decimal
            )
        {
            return Some(ReferenceDistribution::Numeric {
                quantiles: numeric.quantiles.clone(),
                count: self.rows - self.null_count,
            });
        }
        (self.distinct_is_exact && self.distinct_count as usize <= self.top_values.len()).then(
            || ReferenceDistribution::Categorical {
                counts: self
                    .top_values
                    .iter()
                    .map(|value| (value.value.clone(), value.count))
                    .collect(),
            },
        )
    }
}

/// Profile of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    /// Rows seen.
    pub rows: u64,
    /// One profile per column, in schema order.
    pub columns: Vec<ColumnProfile>,
}

impl TableProfile {
    /// Returns the profile of column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// Builds SipHash hashers with fixed keys, so that sketches built in different processes
/// hash a value alike and can be merged. Serialisable, as the sketch type requires of its
/// builder.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct FixedHasher;

impl BuildHasher for FixedHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

type Sketch = HyperLogLogPlus<str, FixedHasher>;

struct ColumnState {
    name: String,
    data_type: DataType,
    rows: u64,
    nulls: u64,
    blanks: u64,
    counts: HashMap<String, u64>,
    overflowed: bool,
    sketch: Sketch,
    patterns: HashMap<String, u64>,
    votes: HashMap<ValueClass, u64>,
    classified: u64,
    digest: TDigest,
    all_numeric: bool,
    min_text: Option<String>,
    max_text: Option<String>,
    min_length: Option<u64>,
    max_length: Option<u64>,
}

impl ColumnState {
    fn new(name: &str, data_type: &DataType) -> Result<Self> {
        let sketch = HyperLogLogPlus::new(14, FixedHasher)
            .map_err(|error| Error::Internal(format!("HyperLogLog setup failed: {error:?}")))?;
        Ok(ColumnState {
            name: name.to_string(),
            data_type: data_type.clone(),
            rows: 0,
            nulls: 0,
            blanks: 0,
            counts: HashMap::new(),
            overflowed: false,
            sketch,
            patterns: HashMap::new(),
            votes: HashMap::new(),
            classified: 0,
            digest: TDigest::new_with_size(DIGEST_SIZE),
            all_numeric: true,
            min_text: None,
            max_text: None,
            min_length: None,
            max_length: None,
        })
    }
}

/// Builds a [`TableProfile`] from a stream of batches with bounded memory per column.
pub struct Profiler {
    config: ProfileConfig,
    columns: Vec<ColumnState>,
    rows: u64,
}

impl Default for Profiler {
    fn default() -> Self {
        Profiler::new(ProfileConfig::default())
    }
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Profiler")
            .field("config", &self.config)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Profiler {
    /// Creates a profiler.
    pub fn new(config: ProfileConfig) -> Self {
        Profiler {
            config,
            columns: Vec::new(),
            rows: 0,
        }
    }

    /// Adds one batch. The first batch fixes the columns; a later batch must have the same
    /// column names in the same order.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        if self.columns.is_empty() && self.rows == 0 {
            for field in schema.fields() {
                self.columns
                    .push(ColumnState::new(field.name(), field.data_type())?);
            }
        }
        let names: Vec<&str> = schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        let expected: Vec<&str> = self
            .columns
            .iter()
            .map(|column| column.name.as_str())
            .collect();
        if names != expected {
            return Err(Error::InvalidInput(format!(
                "batch columns [{}] differ from the profiled columns [{}]; profile each table \
                 with its own profiler",
                names.join(", "),
                expected.join(", ")
            )));
        }
        self.rows += batch.num_rows() as u64;
        for (state, column) in self.columns.iter_mut().zip(batch.columns()) {
            update_column(state, column, &self.config)?;
        }
        Ok(())
    }

    /// Returns the profile of every batch added so far and resets the profiler.
    pub fn finish(&mut self) -> TableProfile {
        let columns = std::mem::take(&mut self.columns)
            .into_iter()
            .map(|state| finish_column(state, &self.config))
            .collect();
        let profile = TableProfile {
            rows: self.rows,
            columns,
        };
        self.rows = 0;
        profile
    }
}

/// Profiles a list of batches in one call.
pub fn profile_batches<'a>(
    batches: impl IntoIterator<Item = &'a RecordBatch>,
    config: ProfileConfig,
) -> Result<TableProfile> {
    let mut profiler = Profiler::new(config);
    for batch in batches {
        profiler.update(batch)?;
    }
    Ok(profiler.finish())
}

fn update_column(
    state: &mut ColumnState,
    column: &arrow::array::ArrayRef,
    config: &ProfileConfig,
) -> Result<()> {
    state.rows += column.len() as u64;
    state.nulls += column.null_count() as u64;
    let text = text_values(column)?;
    let is_text = matches!(
        column.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let mut numbers = Vec::new();
    let numeric_column = column.data_type().is_numeric();
    if numeric_column {
        let values = cast(column, &DataType::Float64)?;
        if let Some(values) = values.as_any().downcast_ref::<Float64Array>() {
            numbers.extend(values.iter().flatten().filter(|value| value.is_finite()));
        }
    }
    for value in text.iter().flatten() {
        if is_text && value.trim().is_empty() {
            state.blanks += 1;
            continue;
        }
        state.sketch.insert(value);
        if let Some(count) = state.counts.get_mut(value) {
            *count += 1;
        } else if state.counts.len() < config.max_tracked_values {
            state.counts.insert(value.to_string(), 1);
        } else {
            state.overflowed = true;
        }
        let pattern = signature(value);
        if let Some(count) = state.patterns.get_mut(&pattern) {
            *count += 1;
        } else if state.patterns.len() < config.max_tracked_values {
            state.patterns.insert(pattern, 1);
        }
        if state.classified < CLASSIFIED_VALUES {
            state.classified += 1;
            *state.votes.entry(classify(value)).or_insert(0) += 1;
        }
        if is_text {
            let length = value.chars().count() as u64;
            state.min_length = Some(state.min_length.map_or(length, |min| min.min(length)));
            state.max_length = Some(state.max_length.map_or(length, |max| max.max(length)));
            if state.min_text.as_deref().is_none_or(|min| value < min) {
                state.min_text = Some(value.to_string());
            }
            if state.max_text.as_deref().is_none_or(|max| value > max) {
                state.max_text = Some(value.to_string());
            }
            match value.trim().parse::<f64>() {
                Ok(number) if number.is_finite() && state.all_numeric => numbers.push(number),
                _ => state.all_numeric = false,
            }
        }
    }
    if numeric_column || (is_text && state.all_numeric) {
        if !numbers.is_empty() {
            state.digest = state.digest.merge_unsorted(numbers);
        }
    } else {
        state.all_numeric = false;
    }
    Ok(())
}

fn top(counts: &HashMap<String, u64>, k: usize) -> Vec<ValueCount> {
    let mut entries: Vec<ValueCount> = counts
        .iter()
        .map(|(value, &count)| ValueCount {
            value: value.clone(),
            count,
        })
        .collect();
    entries.sort_by(|left, right| {
        right
            .count
            .cmp(&left.count)
            .then(left.value.cmp(&right.value))
    });
    entries.truncate(k);
    entries
}

fn finish_column(mut state: ColumnState, config: &ProfileConfig) -> ColumnProfile {
    let distinct_is_exact = !state.overflowed;
    let distinct_count = if distinct_is_exact {
        state.counts.len() as u64
    } else {
        state.sketch.count().round() as u64
    };
    let numeric = (state.all_numeric && !state.digest.is_empty()).then(|| {
        let quantiles = (0..QUANTILE_POINTS)
            .map(|point| {
                state
                    .digest
                    .estimate_quantile(point as f64 / (QUANTILE_POINTS - 1) as f64)
                    .unwrap_or(f64::NAN)
            })
            .collect();
        NumericSummary {
            min: state.digest.min().unwrap_or(f64::NAN),
            max: state.digest.max().unwrap_or(f64::NAN),
            mean: state.digest.mean().unwrap_or(f64::NAN),
            quantiles,
        }
    });
    let (min, max) = match &numeric {
        Some(summary) if state.data_type.is_numeric() => {
            (Some(summary.min.to_string()), Some(summary.max.to_string()))
        }
        _ => (state.min_text.take(), state.max_text.take()),
    };
    let present = state.rows - state.nulls - state.blanks;
    let semantic_type = infer_semantic_type(&state, distinct_count, present);
    ColumnProfile {
        name: state.name,
        data_type: state.data_type.to_string(),
        rows: state.rows,
        null_count: state.nulls,
        blank_count: state.blanks,
        null_rate: if state.rows == 0 {
            0.0
        } else {
            state.nulls as f64 / state.rows as f64
        },
        distinct_count,
        distinct_is_exact,
        min,
        max,
        min_length: state.min_length,
        max_length: state.max_length,
        numeric,
        top_values: top(&state.counts, config.top_k),
        patterns: top(&state.patterns, config.top_patterns),
        semantic_type,
    }
}

/// Share of classified values a class needs to name the column's type.
const TYPE_MAJORITY: f64 = 0.95;

fn infer_semantic_type(state: &ColumnState, distinct: u64, present: u64) -> SemanticType {
    if present == 0 {
        return SemanticType::Unknown;
    }
    let unique = distinct >= present && present > 1;
    match &state.data_type {
        DataType::Boolean => return SemanticType::Boolean,
        DataType::Date32 | DataType::Date64 => return SemanticType::Date,
        DataType::Timestamp(..) => return SemanticType::Timestamp,
        data_type if data_type.is_integer() => {
            return if unique {
                SemanticType::Identifier
            } else {
                SemanticType::Integer
            };
        }
        data_type if data_type.is_floating() || data_type.is_decimal() => {
            return SemanticType::Decimal;
        }
        _ => {}
    }
    let total = state.classified.max(1) as f64;
    let share = |classes: &[ValueClass]| {
        classes
            .iter()
            .map(|class| state.votes.get(class).copied().unwrap_or(0))
            .sum::<u64>() as f64
            / total
    };
    if share(&[ValueClass::Integer]) >= TYPE_MAJORITY {
        return if unique {
            SemanticType::Identifier
        } else {
            SemanticType::Integer
        };
    }
    let typed = [
        (
            &[ValueClass::Integer, ValueClass::Decimal][..],
            SemanticType::Decimal,
        ),
        (&[ValueClass::Boolean][..], SemanticType::Boolean),
        (&[ValueClass::Date][..], SemanticType::Date),
        (&[ValueClass::Timestamp][..], SemanticType::Timestamp),
        (&[ValueClass::Email][..], SemanticType::Email),
        (&[ValueClass::Phone][..], SemanticType::Phone),
    ];
    for (classes, semantic) in typed {
        if share(classes) >= TYPE_MAJORITY {
            return semantic;
        }
    }
    let categorical_limit = (present as f64 * 0.05).max(20.0) as u64;
    if distinct <= categorical_limit && distinct < present {
        return SemanticType::Categorical;
    }
    if share(&[ValueClass::Word]) >= TYPE_MAJORITY && distinct as f64 >= 0.99 * present as f64 {
        return SemanticType::Identifier;
    }
    SemanticType::FreeText
}
