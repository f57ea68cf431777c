//! Whole-table checks that keep bounded state across batches: functional dependencies, row
//! count and freshness, and the key encoding and hashing that they share with uniqueness
//! ([`super::unique`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
#[cfg(test)]
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use arrow::row::{RowConverter, Rows, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::{Error, GovernedBatch, Result};

use super::cell::rule_column;
use super::config::{COMPONENT, FreshnessCheck, FunctionalDependencyCheck};
use super::{Evaluator, Failure, RuleStats, Scope};
use crate::support::text_values;

/// Returns true when any of `columns` is null at `row`.
pub(crate) fn any_null(columns: &[ArrayRef], row: usize) -> bool {
    columns.iter().any(|column| column.is_null(row))
}

/// Formats the values of `columns` at `row` as text, joined by `", "`.
pub(crate) fn key_text(columns: &[ArrayRef], row: usize) -> Result<String> {
    let options = FormatOptions::default().with_null("null");
    let mut parts = Vec::with_capacity(columns.len());
    for column in columns {
        let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
        parts.push(formatter.value(row).to_string());
    }
    Ok(parts.join(", "))
}

/// Hashes a key's row encoding to 64 bits. Each 8-byte word (the tail zero-padded) is
/// folded in through the MurmurHash3 64-bit finaliser, which spreads every input bit over the
/// whole hash; a plain multiply-and-rotate (FxHash) loses the high bits of short integer keys.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hash = fmix64(bytes.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut buffer = [0u8; 8];
        buffer.copy_from_slice(word);
        hash = fmix64(hash ^ u64::from_le_bytes(buffer)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut buffer = [0u8; 8];
        buffer[..tail.len()].copy_from_slice(tail);
        hash = fmix64(hash ^ u64::from_le_bytes(buffer));
    }
    hash
}

/// Applies the MurmurHash3 64-bit finaliser, a bijection with full avalanche.
fn fmix64(mut value: u64) -> u64 {
    value ^= value >> 33;
    value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
    value ^= value >> 33;
    value = value.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    value ^ (value >> 33)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub(crate) type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// Encodes key columns with Arrow's row format, keeping the types of the first batch so that
/// later batches are cast to them.
#[derive(Default)]
pub(crate) struct KeyEncoder {
    converter: Option<(RowConverter, Vec<DataType>)>,
}

impl KeyEncoder {
    /// Resolves `names` in the batch and returns the columns (cast to the first batch's
    /// types) with their row encoding.
    pub fn encode(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        names: &[String],
    ) -> Result<(Vec<ArrayRef>, Rows)> {
        let mut columns = Vec::with_capacity(names.len());
        for name in names {
            columns.push(rule_column(batch, scope, name)?.clone());
        }
        if self.converter.is_none() {
            let types: Vec<DataType> = columns
                .iter()
                .map(|column| column.data_type().clone())
                .collect();
            let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
            self.converter = Some((converter, types));
        }
        let Some((converter, types)) = &self.converter else {
            return Err(Error::Internal("key encoder has no converter".into()));
        };
        for ((column, data_type), name) in columns.iter_mut().zip(types).zip(names) {
            if column.data_type() != data_type {
                *column = cast(column, data_type).map_err(|error| {
                    Error::InvalidInput(format!(
                        "rule {:?}: column {name:?} changed type from {data_type} to {} between \
                         batches and cannot be cast back: {error}",
                        scope.rule,
                        column.data_type()
                    ))
                })?;
            }
        }
        let rows = converter.convert_columns(&columns)?;
        Ok((columns, rows))
    }
}

/// One dependent value seen for a determinant value.
struct Variant {
    rhs: u64,
    count: u64,
    first_row: u64,
    text: Box<str>,
    /// Row ids after the first, recorded only once the group has a conflict.
    more_rows: Vec<u64>,
}

struct Group {
    variants: Vec<Variant>,
    /// The determinant as text, recorded when the group first conflicts.
    lhs_text: Option<Box<str>>,
}

/// `functional_dependency`, with or without a condition and constant dependent values.
pub(crate) struct FunctionalDependency {
    check: FunctionalDependencyCheck,
    lhs: KeyEncoder,
    rhs: KeyEncoder,
    groups: HashedMap<Group>,
    stored_rows: usize,
}

impl FunctionalDependency {
    pub fn new(check: FunctionalDependencyCheck) -> Self {
        FunctionalDependency {
            check,
            lhs: KeyEncoder::default(),
            rhs: KeyEncoder::default(),
            groups: HashedMap::default(),
            stored_rows: 0,
        }
    }

    /// Returns, per row, whether it matches the `when` condition.
    fn condition(&self, batch: &GovernedBatch, scope: &Scope<'_>) -> Result<Vec<bool>> {
        let mut matches = vec![true; batch.num_rows()];
        for (name, expected) in &self.check.when {
            let text = text_values(rule_column(batch, scope, name)?)?;
            for (row, matched) in matches.iter_mut().enumerate() {
                *matched &= text.is_valid(row) && text.value(row) == expected;
            }
        }
        Ok(matches)
    }

    fn check_constants(
        &self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        matches: &[bool],
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let ids = batch.row_ids();
        stats.evaluated += matches.iter().filter(|&&matched| matched).count() as u64;
        let mut failing_rows = vec![false; batch.num_rows()];
        for (name, expected) in &self.check.then {
            let text = text_values(rule_column(batch, scope, name)?)?;
            for row in (0..batch.num_rows()).filter(|&row| matches[row]) {
                let observed = text.is_valid(row).then(|| text.value(row));
                if observed != Some(expected.as_str()) {
                    failing_rows[row] = true;
                    failures.push(
                        Failure::cell(
                            ids.value(row),
                            name,
                            observed.map(str::to_string),
                            format!(
                                "breaks the conditional dependency, which requires {expected:?}"
                            ),
                        )
                        .with_suggested(expected.clone()),
                    );
                }
            }
        }
        stats.failing += failing_rows.iter().filter(|&&failed| failed).count() as u64;
        Ok(())
    }
}

impl Evaluator for FunctionalDependency {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let matches = self.condition(batch, scope)?;
        if !self.check.then.is_empty() {
            return self.check_constants(batch, scope, &matches, stats, failures);
        }
        let (lhs_columns, lhs_rows) = self.lhs.encode(batch, scope, &self.check.determinant)?;
        let (rhs_columns, rhs_rows) = self.rhs.encode(batch, scope, &self.check.dependent)?;
        let ids = batch.row_ids();
        let max_keys = scope.config.max_tracked_keys;
        let max_rows = scope.config.max_tracked_failures;
        for row in (0..batch.num_rows()).filter(|&row| matches[row]) {
            if any_null(&lhs_columns, row) {
                continue;
            }
            let lhs = hash_bytes(lhs_rows.row(row).as_ref());
            let rhs = hash_bytes(rhs_rows.row(row).as_ref());
            let row_id = ids.value(row);
            let tracked = self.groups.len();
            let group = match self.groups.get_mut(&lhs) {
                Some(group) => group,
                None if tracked < max_keys => {
                    self.groups.insert(
                        lhs,
                        Group {
                            variants: vec![Variant {
                                rhs,
                                count: 1,
                                first_row: row_id,
                                text: key_text(&rhs_columns, row)?.into(),
                                more_rows: Vec::new(),
                            }],
                            lhs_text: None,
                        },
                    );
                    stats.evaluated += 1;
                    continue;
                }
                None => {
                    stats.incomplete = true;
                    continue;
                }
            };
            stats.evaluated += 1;
            let conflicted = group.variants.len() > 1;
            if let Some(variant) = group.variants.iter_mut().find(|variant| variant.rhs == rhs) {
                variant.count += 1;
                if conflicted {
                    if self.stored_rows < max_rows {
                        variant.more_rows.push(row_id);
                        self.stored_rows += 1;
                    } else {
                        stats.truncated = true;
                    }
                }
                continue;
            }
            group.variants.push(Variant {
                rhs,
                count: 1,
                first_row: row_id,
                text: key_text(&rhs_columns, row)?.into(),
                more_rows: Vec::new(),
            });
            if group.lhs_text.is_none() {
                group.lhs_text = Some(key_text(&lhs_columns, row)?.into());
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        if !self.check.then.is_empty() {
            return Ok(());
        }
        let column = &self.check.dependent[0];
        let single = self.check.dependent.len() == 1;
        let (mut violating, mut conflicting_groups) = (0u64, 0u64);
        for group in self.groups.values() {
            if group.variants.len() < 2 {
                continue;
            }
            conflicting_groups += 1;
            let mut majority = 0;
            for (index, variant) in group.variants.iter().enumerate() {
                if variant.count > group.variants[majority].count {
                    majority = index;
                }
            }
            let expected = &group.variants[majority];
            let lhs_text = group.lhs_text.as_deref().unwrap_or("?");
            for (index, variant) in group.variants.iter().enumerate() {
                if index == majority {
                    continue;
                }
                violating += variant.count;
                let named = 1 + variant.more_rows.len() as u64;
                if named < variant.count {
                    stats.truncated = true;
                }
                for row_id in
                    std::iter::once(variant.first_row).chain(variant.more_rows.iter().copied())
                {
                    let mut failure = Failure::cell(
                        row_id,
                        column,
                        Some(variant.text.to_string()),
                        format!(
                            "breaks {} -> {}: {} rows with {} = ({lhs_text}) hold ({})",
                            self.check.determinant.join(","),
                            self.check.dependent.join(","),
                            expected.count,
                            self.check.determinant.join(","),
                            expected.text
                        ),
                    );
                    if single {
                        failure = failure.with_suggested(expected.text.to_string());
                    }
                    failures.push(failure);
                }
            }
        }
        stats.failing += violating;
        let g3 = if stats.evaluated == 0 {
            0.0
        } else {
            violating as f64 / stats.evaluated as f64
        };
        stats.set_metric("g3_error", g3);
        stats.set_metric("violating_rows", violating as f64);
        stats.set_metric("conflicting_groups", conflicting_groups as f64);
        stats.set_metric("groups", self.groups.len() as f64);
        self.groups = HashedMap::default();
        self.stored_rows = 0;
        Ok(())
    }
}

/// `row_count`.
pub(crate) struct RowCount {
    min: Option<u64>,
    max: Option<u64>,
}

impl RowCount {
    pub fn new(min: Option<u64>, max: Option<u64>) -> Self {
        RowCount { min, max }
    }
}

impl Evaluator for RowCount {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        stats.evaluated += batch.num_rows() as u64;
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let rows = stats.evaluated;
        let low = self.min.is_some_and(|min| rows < min);
        let high = self.max.is_some_and(|max| rows > max);
        stats.verdict = Some(!low && !high);
        stats.set_metric("row_count", rows as f64);
        let bound =
            |bound: Option<u64>| bound.map_or("none".to_string(), |value| value.to_string());
        stats.detail = Some(format!(
            "{rows} rows (min {}, max {})",
            bound(self.min),
            bound(self.max)
        ));
        Ok(())
    }
}

/// `freshness`.
pub(crate) struct Freshness {
    check: FreshnessCheck,
    /// Newest value in milliseconds since the epoch, with its row id.
    newest: Option<(i64, u64)>,
}

impl Freshness {
    pub fn new(check: FreshnessCheck) -> Self {
        Freshness {
            check,
            newest: None,
        }
    }
}

impl Evaluator for Freshness {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.check.column)?;
        let millis = DataType::Timestamp(TimeUnit::Millisecond, None);
        let supported = matches!(
            column.data_type(),
            DataType::Timestamp(..)
                | DataType::Date32
                | DataType::Date64
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
        );
        if !supported {
            return Err(Error::config(
                COMPONENT,
                format!(
                    "rule {:?}: freshness needs a timestamp, date or text column, but column {:?} \
                     is {}",
                    scope.rule,
                    self.check.column,
                    column.data_type()
                ),
            ));
        }
        // A text value that does not parse as a timestamp becomes null and is skipped.
        let options = arrow::compute::CastOptions {
            safe: true,
            ..Default::default()
        };
        let times = arrow::compute::cast_with_options(column, &millis, &options)?;
        let times = times
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| Error::Internal("cast to Timestamp(ms) changed type".into()))?;
        let ids = batch.row_ids();
        for row in (0..times.len()).filter(|&row| times.is_valid(row)) {
            stats.evaluated += 1;
            let value = times.value(row);
            if self.newest.is_none_or(|(newest, _)| value > newest) {
                self.newest = Some((value, ids.value(row)));
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let now = self
            .check
            .now_ms
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let max_age_ms = self.check.max_age_seconds.saturating_mul(1000);
        let Some((newest, row_id)) = self.newest.take() else {
            stats.verdict = Some(false);
            stats.detail = Some("no time values to measure freshness on".into());
            return Ok(());
        };
        let age_ms = now.saturating_sub(newest);
        let fresh = age_ms <= i64::try_from(max_age_ms).unwrap_or(i64::MAX);
        stats.verdict = Some(fresh);
        stats.set_metric("age_seconds", age_ms as f64 / 1000.0);
        let observed = chrono::DateTime::from_timestamp_millis(newest)
            .map_or_else(|| newest.to_string(), |time| time.to_rfc3339());
        stats.detail = Some(format!(
            "newest value {observed} is {:.0} s old (maximum {} s)",
            age_ms as f64 / 1000.0,
            self.check.max_age_seconds
        ));
        if !fresh {
            stats.failing += 1;
            failures.push(Failure::cell(
                row_id,
                &self.check.column,
                Some(observed),
                format!(
                    "is the newest value and is {:.0} s old, more than the maximum {} s",
                    age_ms as f64 / 1000.0,
                    self.check.max_age_seconds
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_distinct_integers_differ() {
        let column: ArrayRef = Arc::new(arrow::array::Int64Array::from_iter_values(0..200_000));
        let converter =
            RowConverter::new(vec![SortField::new(DataType::Int64)]).expect("converter");
        let rows = converter.convert_columns(&[column]).expect("rows");
        let mut seen = HashedMap::default();
        for row in 0..rows.num_rows() {
            seen.insert(hash_bytes(rows.row(row).as_ref()), ());
        }
        assert_eq!(seen.len(), 200_000);
    }
}
