//! Turning blocking keys into candidate pairs under a cap.
//!
//! Blockers that group records by a key (standard keys, LSH band keys) hand their
//! `(key hash, row)` entries to a [`PairCollector`], which sorts them, walks the groups, skips
//! and reports those above the [`BlockCap`], and keeps the total under the pair budget. Keys
//! are 64-bit hashes, so two different keys that collide form one block. A collision adds
//! candidates and never removes one, unless the merged block exceeds the cap.

use rayon::slice::ParallelSliceMut;

use super::{BlockCap, BlockingReport, CappedBlock};
use crate::er::{CandidatePair, ErError};

/// A key hash and a row position.
pub(crate) type Keyed = (u64, u32);

/// Sorts pairs and removes repeats.
pub(crate) fn sort_unique(pairs: &mut Vec<CandidatePair>) {
    pairs.par_sort_unstable();
    pairs.dedup();
}

/// Sorts keyed rows and removes a row repeated under the same key.
fn sort_keyed(keyed: &mut Vec<Keyed>) {
    keyed.par_sort_unstable();
    keyed.dedup();
}

/// Collects the pairs of keyed groups within the cap and the budget.
pub(crate) struct PairCollector<'r> {
    cap: BlockCap,
    report: &'r mut BlockingReport,
    pairs: Vec<CandidatePair>,
    /// Length at which the pairs are next sorted and deduplicated.
    compact_at: usize,
}

impl<'r> PairCollector<'r> {
    pub(crate) fn new(cap: BlockCap, report: &'r mut BlockingReport) -> Self {
        let budget = usize::try_from(cap.max_total_pairs).unwrap_or(usize::MAX);
        let compact_at = budget.saturating_add(budget / 4);
        Self {
            cap,
            report,
            pairs: Vec::new(),
            compact_at,
        }
    }

    pub(crate) fn report(&mut self) -> &mut BlockingReport {
        self.report
    }

    /// Checks a block against the cap; returns false (and reports it) when it is skipped.
    fn admit(
        &mut self,
        rule: &str,
        records: u64,
        pairs: u64,
        key: impl FnOnce() -> String,
    ) -> bool {
        self.report.blocks += 1;
        self.report.largest_block = self.report.largest_block.max(records);
        if records > self.cap.max_block_records as u64 || pairs > self.cap.max_block_pairs {
            self.report.record_cap(CappedBlock {
                rule: rule.to_owned(),
                key: key(),
                records,
                pairs,
            });
            return false;
        }
        true
    }

    /// Makes room for `incoming` more pairs: sorts and deduplicates the pairs so far when
    /// the buffer is full, and fails when the distinct pairs exceed the budget.
    fn reserve(&mut self, incoming: usize) -> Result<(), ErError> {
        if self.pairs.len().saturating_add(incoming) <= self.compact_at {
            return Ok(());
        }
        sort_unique(&mut self.pairs);
        let budget = usize::try_from(self.cap.max_total_pairs).unwrap_or(usize::MAX);
        if self.pairs.len() > budget {
            return Err(self.over_budget());
        }
        // Repeats may pile up to a quarter of the budget before the next compaction, which
        // bounds the buffer at 1.25 times the budget plus one block.
        self.compact_at = self
            .pairs
            .len()
            .saturating_add(incoming)
            .max(budget)
            .saturating_add(budget / 4);
        Ok(())
    }

    fn over_budget(&self) -> ErError {
        ErError::PairBudgetExceeded {
            method: self.report.method.clone(),
            budget: self.cap.max_total_pairs,
        }
    }

    /// Adds the pairs within each group of a deduplication, with `left < right`.
    ///
    /// `describe` renders the key of a group from one of its rows, for the report.
    pub(crate) fn add_dedupe(
        &mut self,
        rule: &str,
        mut keyed: Vec<Keyed>,
        describe: impl Fn(u32) -> String,
    ) -> Result<(), ErError> {
        sort_keyed(&mut keyed);
        let mut start = 0;
        while start < keyed.len() {
            let key = keyed[start].0;
            let end = start + keyed[start..].partition_point(|entry| entry.0 == key);
            let rows: Vec<u32> = keyed[start..end].iter().map(|entry| entry.1).collect();
            start = end;
            let n = rows.len() as u64;
            if n < 2 {
                continue;
            }
            let pairs = n * (n - 1) / 2;
            if !self.admit(rule, n, pairs, || describe(rows[0])) {
                continue;
            }
            self.reserve(pairs as usize)?;
            // Rows of a group are ascending and distinct, so `rows[i] < rows[j]` for i < j.
            for (i, &left) in rows.iter().enumerate() {
                for &right in &rows[i + 1..] {
                    self.pairs.push(CandidatePair::new(left, right));
                }
            }
        }
        Ok(())
    }

    /// Adds the pairs of left and right rows that share a key.
    ///
    /// `describe` renders the key of a group from one of its left rows, for the report.
    pub(crate) fn add_link(
        &mut self,
        rule: &str,
        mut left: Vec<Keyed>,
        mut right: Vec<Keyed>,
        describe: impl Fn(u32) -> String,
    ) -> Result<(), ErError> {
        sort_keyed(&mut left);
        sort_keyed(&mut right);
        let (mut i, mut j) = (0, 0);
        while i < left.len() && j < right.len() {
            let (left_key, right_key) = (left[i].0, right[j].0);
            if left_key < right_key {
                i += left[i..].partition_point(|entry| entry.0 == left_key);
                continue;
            }
            if right_key < left_key {
                j += right[j..].partition_point(|entry| entry.0 == right_key);
                continue;
            }
            let left_end = i + left[i..].partition_point(|entry| entry.0 == left_key);
            let right_end = j + right[j..].partition_point(|entry| entry.0 == right_key);
            let left_rows = &left[i..left_end];
            let right_rows = &right[j..right_end];
            let records = (left_rows.len() + right_rows.len()) as u64;
            let pairs = left_rows.len() as u64 * right_rows.len() as u64;
            let first = left_rows[0].1;
            if self.admit(rule, records, pairs, || describe(first)) {
                self.reserve(pairs as usize)?;
                for &(_, l) in left_rows {
                    for &(_, r) in right_rows {
                        self.pairs.push(CandidatePair::new(l, r));
                    }
                }
            }
            i = left_end;
            j = right_end;
        }
        Ok(())
    }

    /// Adds pairs found some other way (a window, a neighbour search), checking the budget.
    pub(crate) fn add_pairs(
        &mut self,
        pairs: impl ExactSizeIterator<Item = CandidatePair>,
    ) -> Result<(), ErError> {
        self.reserve(pairs.len())?;
        self.pairs.extend(pairs);
        Ok(())
    }

    /// Returns the distinct pairs in ascending order and fills in the report's counts.
    pub(crate) fn finish(mut self) -> Result<Vec<CandidatePair>, ErError> {
        sort_unique(&mut self.pairs);
        if self.pairs.len() as u64 > self.cap.max_total_pairs {
            return Err(self.over_budget());
        }
        self.report.candidates = self.pairs.len() as u64;
        self.report.trim_caps();
        self.report.warn_caps();
        Ok(self.pairs)
    }
}
