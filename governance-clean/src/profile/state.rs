//! The state of one column's profile as a value that can be merged and sent between
//! processes. Parts of a column can then be profiled in different places (partitions,
//! executors) and combined at the end.
//!
//! Merging keeps the state as bounded as the [`Profiler`](super::Profiler)'s: at most
//! [`ProfileConfig::max_tracked_values`] exact value counts and patterns, one HyperLogLog++
//! sketch and one t-digest. The merged profile equals the one-pass profile in its counts,
//! null rate, lengths, minimum and maximum, and in its distinct count and top values while no
//! part overflowed the tracked values. Quantiles come from merged t-digests, so they are
//! estimates that can differ slightly from a one-pass digest. The semantic type is voted by the
//! first values of each part rather than of the whole column.

use std::collections::HashMap;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tdigest::{Centroid, TDigest};

use super::pattern::ValueClass;
use super::{ColumnProfile, ColumnState, ProfileConfig, Sketch, finish_column, update_column};

/// The mergeable profile state of one column; see the module docs.
pub struct ColumnProfileState {
    state: ColumnState,
}

impl std::fmt::Debug for ColumnProfileState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ColumnProfileState")
            .field("name", &self.state.name)
            .field("rows", &self.state.rows)
            .finish_non_exhaustive()
    }
}

/// The serialised form of a t-digest: its centroids as `(mean, weight)` and its totals.
#[derive(Serialize, Deserialize)]
struct DigestWire {
    centroids: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
    min: Option<f64>,
    max: Option<f64>,
    max_size: usize,
}

impl DigestWire {
    fn of(digest: &TDigest) -> Self {
        DigestWire {
            centroids: digest
                .centroids()
                .iter()
                .map(|centroid| (centroid.mean(), centroid.weight()))
                .collect(),
            sum: digest.sum(),
            count: digest.count(),
            min: digest.min(),
            max: digest.max(),
            max_size: digest.max_size(),
        }
    }

    /// Rebuilds the digest, first checking what `TDigest::new` would otherwise assert.
    fn digest(self, column: &str) -> Result<TDigest> {
        let invalid = |what: &str| {
            Err(Error::InvalidInput(format!(
                "profile state of column {column:?} has an invalid t-digest: {what}"
            )))
        };
        if self.max_size == 0 {
            return invalid("max_size is 0");
        }
        if self.min.is_some_and(|min| !min.is_finite())
            || self.max.is_some_and(|max| !max.is_finite())
        {
            return invalid("a non-finite minimum or maximum");
        }
        if !self.centroids.is_empty() && (self.min.is_none() || self.max.is_none()) {
            return invalid("centroids without a minimum and maximum");
        }
        if self
            .centroids
            .iter()
            .any(|(mean, weight)| !(mean.is_finite() && weight.is_finite() && *weight > 0.0))
        {
            return invalid("a centroid with a non-finite mean or a weight that is not positive");
        }
        let centroids = self
            .centroids
            .into_iter()
            .map(|(mean, weight)| Centroid::new(mean, weight))
            .collect();
        Ok(TDigest::new(
            centroids,
            self.sum,
            self.count,
            self.max,
            self.min,
            self.max_size,
        ))
    }
}

/// The serialised form: the column state with its type as text and its maps as lists.
#[derive(Serialize, Deserialize)]
struct Wire {
    name: String,
    data_type: String,
    rows: u64,
    nulls: u64,
    blanks: u64,
    counts: Vec<(String, u64)>,
    overflowed: bool,
    /// The HyperLogLog++ sketch in its own serde form (the sketch type is not `Clone`).
    sketch: serde_json::Value,
    patterns: Vec<(String, u64)>,
    votes: Vec<(ValueClass, u64)>,
    classified: u64,
    digest: DigestWire,
    all_numeric: bool,
    min_text: Option<String>,
    max_text: Option<String>,
    min_length: Option<u64>,
    max_length: Option<u64>,
}

impl ColumnProfileState {
    /// Creates the empty state of a column.
    pub fn new(name: &str, data_type: &DataType) -> Result<Self> {
        Ok(ColumnProfileState {
            state: ColumnState::new(name, data_type)?,
        })
    }

    /// Adds the values of `column`, which must have the state's data type.
    pub fn update(&mut self, column: &ArrayRef, config: &ProfileConfig) -> Result<()> {
        if column.data_type() != &self.state.data_type {
            return Err(Error::InvalidInput(format!(
                "column {:?} is profiled as {} but a part has type {}; cast the parts to one \
                 type first",
                self.state.name,
                self.state.data_type,
                column.data_type()
            )));
        }
        update_column(&mut self.state, column, config)
    }

    /// Adds another part's state of the same column.
    pub fn merge(&mut self, other: ColumnProfileState, config: &ProfileConfig) -> Result<()> {
        let other = other.state;
        let state = &mut self.state;
        if other.data_type != state.data_type {
            return Err(Error::InvalidInput(format!(
                "column {:?} is profiled as {} but a part to merge has type {}; cast the parts \
                 to one type first",
                state.name, state.data_type, other.data_type
            )));
        }

        state.rows += other.rows;
        state.nulls += other.nulls;
        state.blanks += other.blanks;
        state.overflowed |= other.overflowed;
        state.overflowed |= merge_counts(&mut state.counts, other.counts, config);
        merge_counts(&mut state.patterns, other.patterns, config);
        for (class, votes) in other.votes {
            *state.votes.entry(class).or_insert(0) += votes;
        }
        state.classified += other.classified;

        state.sketch.merge(&other.sketch).map_err(|error| {
            Error::Internal(format!("merging distinct-count sketches failed: {error:?}"))
        })?;
        let digest = std::mem::replace(&mut state.digest, TDigest::new_with_size(1));
        state.digest = TDigest::merge_digests(vec![digest, other.digest]);
        state.all_numeric &= other.all_numeric;
        state.min_text = pick(state.min_text.take(), other.min_text, |a, b| a <= b);
        state.max_text = pick(state.max_text.take(), other.max_text, |a, b| a >= b);
        state.min_length = pick(state.min_length, other.min_length, |a, b| a <= b);
        state.max_length = pick(state.max_length, other.max_length, |a, b| a >= b);
        Ok(())
    }

    /// Returns an estimate of the heap bytes the state uses: the tracked values and patterns
    /// with their counts, the sketch at its dense size, and the digest's centroids.
    pub fn estimated_bytes(&self) -> usize {
        let entries = |counts: &HashMap<String, u64>| {
            counts
                .keys()
                .map(|value| value.len() + std::mem::size_of::<(String, u64)>() + 8)
                .sum::<usize>()
        };
        // 2^14 six-bit registers, as the dense HyperLogLog++ sketch stores them.
        let sketch = (1usize << 14) * 6 / 8;
        entries(&self.state.counts)
            + entries(&self.state.patterns)
            + sketch
            + self.state.digest.centroids().len() * 16
    }

    /// Writes the state as JSON bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let state = &self.state;
        let wire = Wire {
            name: state.name.clone(),
            data_type: state.data_type.to_string(),
            rows: state.rows,
            nulls: state.nulls,
            blanks: state.blanks,
            counts: sorted(&state.counts),
            overflowed: state.overflowed,
            sketch: serde_json::to_value(&state.sketch).map_err(|error| {
                Error::Internal(format!("distinct-count sketch did not serialise: {error}"))
            })?,
            patterns: sorted(&state.patterns),
            votes: state.votes.iter().map(|(class, n)| (*class, *n)).collect(),
            classified: state.classified,
            digest: DigestWire::of(&state.digest),
            all_numeric: state.all_numeric,
            min_text: state.min_text.clone(),
            max_text: state.max_text.clone(),
            min_length: state.min_length,
            max_length: state.max_length,
        };
        serde_json::to_vec(&wire)
            .map_err(|error| Error::Internal(format!("profile state did not serialise: {error}")))
    }

    /// Reads a state written by [`ColumnProfileState::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let wire: Wire = serde_json::from_slice(bytes).map_err(|error| {
            Error::InvalidInput(format!(
                "invalid profile state ({error}); pass bytes written by ColumnProfileState::to_bytes"
            ))
        })?;
        let data_type: DataType = wire.data_type.parse().map_err(|error| {
            Error::InvalidInput(format!(
                "profile state of column {:?} has an unknown data type {:?}: {error}",
                wire.name, wire.data_type
            ))
        })?;

        let mut state = ColumnState::new(&wire.name, &data_type)?;
        state.rows = wire.rows;
        state.nulls = wire.nulls;
        state.blanks = wire.blanks;
        state.counts = wire.counts.into_iter().collect();
        state.overflowed = wire.overflowed;
        state.sketch = serde_json::from_value::<Sketch>(wire.sketch).map_err(|error| {
            Error::InvalidInput(format!(
                "profile state of column {:?} has an invalid distinct-count sketch: {error}",
                wire.name
            ))
        })?;
        state.patterns = wire.patterns.into_iter().collect();
        state.votes = wire.votes.into_iter().collect();
        state.classified = wire.classified;
        state.digest = wire.digest.digest(&wire.name)?;
        state.all_numeric = wire.all_numeric;
        state.min_text = wire.min_text;
        state.max_text = wire.max_text;
        state.min_length = wire.min_length;
        state.max_length = wire.max_length;
        Ok(ColumnProfileState { state })
    }

    /// Returns the profile of every value added or merged so far.
    pub fn finish(self, config: &ProfileConfig) -> ColumnProfile {
        finish_column(self.state, config)
    }
}

/// Adds `other` into `counts`, tracking at most `max_tracked_values` keys. Returns whether a
/// key was left out for lack of room.
fn merge_counts(
    counts: &mut HashMap<String, u64>,
    other: HashMap<String, u64>,
    config: &ProfileConfig,
) -> bool {
    let mut left_out = false;
    for (value, count) in other {
        if let Some(existing) = counts.get_mut(&value) {
            *existing += count;
        } else if counts.len() < config.max_tracked_values {
            counts.insert(value, count);
        } else {
            left_out = true;
        }
    }
    left_out
}

/// Returns the entries of a count map in key order, so equal states serialise alike.
fn sorted(counts: &HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut entries: Vec<(String, u64)> = counts
        .iter()
        .map(|(value, count)| (value.clone(), *count))
        .collect();
    entries.sort();
    entries
}

/// Returns the one of two optional values that `keep_first` prefers, or the one present.
fn pick<T>(first: Option<T>, second: Option<T>, keep_first: impl Fn(&T, &T) -> bool) -> Option<T> {
    match (first, second) {
        (Some(a), Some(b)) => Some(if keep_first(&a, &b) { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::profile::profile_batches;

    fn one_pass(column: &ArrayRef, config: &ProfileConfig) -> ColumnProfile {
        let schema = Schema::new(vec![Field::new("v", column.data_type().clone(), true)]);
        let batch =
            RecordBatch::try_new(Arc::new(schema), vec![Arc::clone(column)]).expect("batch");
        profile_batches([&batch], config.clone())
            .expect("profile")
            .columns
            .remove(0)
    }

    /// Profiles `parts` one state each, sends every state through bytes, and merges them.
    fn merged(parts: &[ArrayRef], config: &ProfileConfig) -> ColumnProfile {
        let mut total = ColumnProfileState::new("v", parts[0].data_type()).expect("state");
        for part in parts {
            let mut state = ColumnProfileState::new("v", part.data_type()).expect("state");
            state.update(part, config).expect("update");

            let bytes = state.to_bytes().expect("bytes");
            let state = ColumnProfileState::from_bytes(&bytes).expect("read back");
            total.merge(state, config).expect("merge");
        }
        total.finish(config)
    }

    #[test]
    fn merged_text_profile_equals_one_pass() {
        let values: Vec<Option<&str>> = (0..3000)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some(" "),
                2 => Some("ana@example.org"),
                _ => Some(["north", "south", "east", "west"][i % 4]),
            })
            .collect();
        let whole: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let parts: Vec<ArrayRef> = values
            .chunks(700)
            .map(|chunk| Arc::new(StringArray::from(chunk.to_vec())) as ArrayRef)
            .collect();
        let config = ProfileConfig::default();
        let expected = one_pass(&whole, &config);
        let actual = merged(&parts, &config);
        assert_eq!(actual, expected);
    }

    #[test]
    fn merged_numbers_keep_exact_counts_and_close_quantiles() {
        let values: Vec<Option<f64>> = (0..20_000)
            .map(|i| (i % 50 != 0).then(|| ((i * 37) % 1000) as f64 / 10.0))
            .collect();
        let whole: ArrayRef = Arc::new(Float64Array::from(values.clone()));
        let parts: Vec<ArrayRef> = values
            .chunks(3000)
            .map(|chunk| Arc::new(Float64Array::from(chunk.to_vec())) as ArrayRef)
            .collect();
        let config = ProfileConfig::default();
        let expected = one_pass(&whole, &config);
        let actual = merged(&parts, &config);
        assert_eq!(actual.rows, expected.rows);
        assert_eq!(actual.null_count, expected.null_count);
        assert_eq!(actual.distinct_count, expected.distinct_count);
        assert_eq!(actual.top_values, expected.top_values);
        assert_eq!(actual.min, expected.min);
        assert_eq!(actual.max, expected.max);
        assert_eq!(actual.semantic_type, expected.semantic_type);
        let (Some(merged), Some(single)) = (&actual.numeric, &expected.numeric) else {
            panic!("both profiles are numeric");
        };
        assert!((merged.mean - single.mean).abs() < 1e-9);
        for (a, b) in merged.quantiles.iter().zip(&single.quantiles) {
            // The values span 0 to 99.9, so one unit is 1% of the range.
            assert!((a - b).abs() < 1.0, "quantile {a} against {b}");
        }
    }

    #[test]
    fn overflow_of_tracked_values_survives_merge() {
        let config = ProfileConfig {
            max_tracked_values: 50,
            ..ProfileConfig::default()
        };
        let parts: Vec<ArrayRef> = (0..4)
            .map(|part| {
                let values: Vec<String> = (0..40).map(|i| format!("id-{part}-{i}")).collect();
                Arc::new(StringArray::from(values)) as ArrayRef
            })
            .collect();
        let profile = merged(&parts, &config);
        assert!(!profile.distinct_is_exact);
        // 160 distinct values; the sketch's estimate is within a few percent.
        assert!(
            profile.distinct_count.abs_diff(160) <= 8,
            "{}",
            profile.distinct_count
        );
    }

    #[test]
    fn merge_rejects_another_type() {
        let mut text = ColumnProfileState::new("v", &DataType::Utf8).expect("state");
        let number = ColumnProfileState::new("v", &DataType::Float64).expect("state");
        let error = text
            .merge(number, &ProfileConfig::default())
            .expect_err("types differ");
        assert!(error.to_string().contains("Float64"), "{error}");
    }

    #[test]
    fn invalid_bytes_name_the_source() {
        let error = ColumnProfileState::from_bytes(b"{}").expect_err("not a state");
        assert!(error.to_string().contains("to_bytes"), "{error}");
    }
}
