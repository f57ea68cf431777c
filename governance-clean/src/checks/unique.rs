//! `unique` and `primary_key`: every key seen so far, with the row id of its first copy.
//!
//! The keys are 64-bit hashes of their row encoding, kept in [`PARTITIONS`] hash tables chosen
//! by bits of the hash. A batch's keys are grouped by table before they are looked up, so the
//! lookups of one group stay in one small table. With ten million keys a single table
//! outgrows the caches, its lookups miss the TLB, and each growth copies the whole table.

use std::collections::hash_map::Entry;

use arrow::array::Array;
use governance_core::{GovernedBatch, IssueKind, Result};

use super::keys::{HashedMap, KeyEncoder, any_null, hash_bytes, key_text};
use super::{Evaluator, Failure, RuleStats, Scope};

/// Number of hash tables the keys are spread over, a power of two.
const PARTITIONS: usize = 256;
/// The table of a hash is given by the bits from this position up. hashbrown keeps the top 7
/// bits as a tag in every slot and picks the slot from the low bits. These bits lie between
/// the two for any table under 2^48 slots, so all keys of a table still differ in both.
const PARTITION_SHIFT: u32 = 48;

fn partition_of(hash: u64) -> usize {
    (hash >> PARTITION_SHIFT) as usize & (PARTITIONS - 1)
}

/// A repeated key: the row id of one later copy and the key as text.
struct Repeat {
    hash: u64,
    row_id: u64,
    text: String,
}

/// `unique` and `primary_key`.
pub(crate) struct Unique {
    columns: Vec<String>,
    primary: bool,
    encoder: KeyEncoder,
    /// Per partition, key hash to the row id of the key's first copy.
    first_copies: Vec<HashedMap<u64>>,
    /// Number of keys in `first_copies`.
    tracked: usize,
    /// Key hash to the number of copies, for keys seen more than once.
    copies: HashedMap<u64>,
    repeats: Vec<Repeat>,
    null_keys: u64,
}

impl Unique {
    pub fn new(columns: Vec<String>, primary: bool) -> Self {
        Unique {
            columns,
            primary,
            encoder: KeyEncoder::default(),
            first_copies: empty_partitions(),
            tracked: 0,
            copies: HashedMap::default(),
            repeats: Vec::new(),
            null_keys: 0,
        }
    }

    /// Records one key in arrival order. Returns true when the key was seen before. A new
    /// key is kept only while fewer than `max_tracked` keys are; otherwise `incomplete` is
    /// set and the key is forgotten.
    fn record(
        &mut self,
        hash: u64,
        row_id: u64,
        max_tracked: usize,
        stats: &mut RuleStats,
    ) -> bool {
        match self.first_copies[partition_of(hash)].entry(hash) {
            Entry::Occupied(_) => {
                *self.copies.entry(hash).or_insert(1) += 1;
                true
            }
            Entry::Vacant(slot) if self.tracked < max_tracked => {
                slot.insert(row_id);
                self.tracked += 1;
                false
            }
            Entry::Vacant(_) => {
                stats.incomplete = true;
                false
            }
        }
    }
}

fn empty_partitions() -> Vec<HashedMap<u64>> {
    (0..PARTITIONS).map(|_| HashedMap::default()).collect()
}

/// Reorders `(hash, row)` pairs by partition, keeping the row order within each partition
/// (a counting sort), so that every copy of a key still comes after its first copy.
fn group_by_partition(keys: &[(u64, u32)]) -> Vec<(u64, u32)> {
    let mut starts = vec![0usize; PARTITIONS + 1];
    for &(hash, _) in keys {
        starts[partition_of(hash) + 1] += 1;
    }
    for partition in 0..PARTITIONS {
        starts[partition + 1] += starts[partition];
    }
    let mut grouped = vec![(0u64, 0u32); keys.len()];
    for &(hash, row) in keys {
        let slot = &mut starts[partition_of(hash)];
        grouped[*slot] = (hash, row);
        *slot += 1;
    }
    grouped
}

impl Evaluator for Unique {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let (columns, rows) = self.encoder.encode(batch, scope, &self.columns)?;
        let ids = batch.row_ids();
        let has_nulls = columns.iter().any(|column| column.null_count() > 0);
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            if has_nulls && any_null(&columns, row) {
                self.null_keys += 1;
                if self.primary {
                    stats.evaluated += 1;
                    stats.failing += 1;
                    failures.push(
                        Failure::cell(
                            ids.value(row),
                            &self.columns[0],
                            Some(key_text(&columns, row)?),
                            "is a primary key with a null part",
                        )
                        .with_kind(IssueKind::Missing),
                    );
                }
                continue;
            }
            stats.evaluated += 1;
            let row_index = u32::try_from(row).map_err(|_| {
                governance_core::Error::InvalidInput(format!(
                    "rule {:?}: a batch of {} rows is too large for a uniqueness check; split \
                     it into batches of at most {} rows",
                    scope.rule,
                    batch.num_rows(),
                    u32::MAX
                ))
            })?;
            keys.push((hash_bytes(rows.row(row).as_ref()), row_index));
        }

        let max_tracked = scope.config.max_tracked_keys;
        let mut repeated: Vec<(u32, u64)> = Vec::new();
        if self.tracked + keys.len() <= max_tracked {
            // No key of this batch can be turned away, so the lookups may run partition by
            // partition without changing which keys are kept.
            for (hash, row) in group_by_partition(&keys) {
                if self.record(hash, ids.value(row as usize), max_tracked, stats) {
                    repeated.push((row, hash));
                }
            }
            repeated.sort_unstable_by_key(|&(row, _)| row);
        } else {
            for &(hash, row) in &keys {
                if self.record(hash, ids.value(row as usize), max_tracked, stats) {
                    repeated.push((row, hash));
                }
            }
        }
        for (row, hash) in repeated {
            if self.repeats.len() < scope.config.max_tracked_failures {
                self.repeats.push(Repeat {
                    hash,
                    row_id: ids.value(row as usize),
                    text: key_text(&columns, row as usize)?,
                });
            } else {
                stats.truncated = true;
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
        let (mut rows_with_duplicates, mut extra_copies) = (0u64, 0u64);
        for &count in self.copies.values() {
            rows_with_duplicates += count;
            extra_copies += count - 1;
        }
        let repeated_values = self.copies.len() as u64;
        let mut named_first: HashedMap<()> = HashedMap::default();
        for repeat in &self.repeats {
            let first = self.first_copies[partition_of(repeat.hash)].get(&repeat.hash);
            let (Some(&first_row), Some(&count)) = (first, self.copies.get(&repeat.hash)) else {
                continue;
            };
            if named_first.insert(repeat.hash, ()).is_none() {
                failures.push(Failure::cell(
                    first_row,
                    &self.columns[0],
                    Some(repeat.text.clone()),
                    format!("is a key that {count} rows share; this is the first copy"),
                ));
            }
            failures.push(Failure::cell(
                repeat.row_id,
                &self.columns[0],
                Some(repeat.text.clone()),
                format!("repeats the key of row {first_row}"),
            ));
        }
        stats.failing += rows_with_duplicates;
        stats.set_metric("rows_with_duplicates", rows_with_duplicates as f64);
        stats.set_metric("extra_copies", extra_copies as f64);
        stats.set_metric("repeated_values", repeated_values as f64);
        stats.set_metric("distinct_keys", self.tracked as f64);
        stats.set_metric("null_keys", self.null_keys as f64);
        stats.detail = Some(format!(
            "{rows_with_duplicates} rows share a key with another row: {extra_copies} extra \
             copies of {repeated_values} repeated keys, {} distinct keys, {} rows with a null \
             key part",
            self.tracked, self.null_keys
        ));
        self.first_copies = empty_partitions();
        self.tracked = 0;
        self.copies = HashedMap::default();
        self.repeats = Vec::new();
        self.null_keys = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_row_order_per_partition() {
        let keys: Vec<(u64, u32)> = (0..10_000u32)
            .map(|row| (hash_bytes(&u64::from(row % 3_000).to_le_bytes()), row))
            .collect();
        let grouped = group_by_partition(&keys);

        let mut sorted = grouped.clone();
        sorted.sort_unstable_by_key(|&(_, row)| row);
        assert_eq!(sorted, keys, "grouping must be a permutation of the keys");
        for pair in grouped.windows(2) {
            let (left, right) = (partition_of(pair[0].0), partition_of(pair[1].0));
            assert!(
                left <= right,
                "partitions out of order: {left} before {right}"
            );
            if left == right {
                assert!(
                    pair[0].1 < pair[1].1,
                    "rows out of order in partition {left}"
                );
            }
        }
    }
}
