//! Blocking: choosing the candidate pairs that entity resolution compares.
//!
//! Comparing every pair costs `n (n - 1) / 2` comparisons in deduplication and `n m` in
//! linkage, which is out of reach beyond a few ten thousand records. A [`Blocker`] proposes a
//! much smaller set of [`CandidatePair`]s that should still contain nearly every true match.
//! The implementations are:
//!
//! - [`StandardBlocker`]: records that agree on a blocking key (attribute values, prefixes,
//!   Soundex codes, years, digits or normalised tokens) form a block; several rules are
//!   united, like the blocking rules of Splink.
//! - [`SortedNeighbourhood`]: records sorted by a key, each paired with the next records
//!   within a window.
//! - [`MinHashLshBlocker`]: records whose token or q-gram sets are likely similar, found by
//!   MinHash signatures and LSH banding.
//! - [`EmbeddingBlocker`]: the top-k nearest neighbours of each record by cosine similarity
//!   of text embeddings.
//!
//! Every blocker returns the pairs sorted and without repeats, in deduplication with
//! `left < right`, plus a [`BlockingReport`]. A block larger than its [`BlockCap`] is
//! skipped and reported, key and counts included, so a frequent key never makes the pair
//! count quadratic. All candidate pairs together are bounded by
//! [`BlockCap::max_total_pairs`].

mod embedding;
mod groups;
mod keys;
mod lsh;
mod sorted;
mod standard;

use serde::{Deserialize, Serialize};

pub use embedding::{EmbedFn, EmbeddingBlocker, EmbeddingBlockerConfig, EmbeddingIndex};
pub use keys::{KeyExpr, KeyFunction, normalise, soundex};
pub use lsh::{MinHashLshBlocker, MinHashLshConfig, Shingling};
pub use sorted::{SortedNeighbourhood, SortedNeighbourhoodConfig};
pub use standard::{BlockingRule, StandardBlocker, StandardBlockerConfig};

use super::{CandidatePair, ErError, LinkMode, RecordTable};

/// The table or tables a blocker works on.
#[derive(Debug, Clone, Copy)]
pub enum BlockingInput<'a> {
    /// Deduplication of one table: pairs of its own records.
    Dedupe(&'a RecordTable),
    /// Linkage of two tables: pairs of one left and one right record.
    Link {
        /// Left table; its rows are [`CandidatePair::left`].
        left: &'a RecordTable,
        /// Right table; its rows are [`CandidatePair::right`].
        right: &'a RecordTable,
    },
}

impl<'a> BlockingInput<'a> {
    /// Link or dedupe.
    pub fn mode(&self) -> LinkMode {
        match self {
            BlockingInput::Dedupe(_) => LinkMode::Dedupe,
            BlockingInput::Link { .. } => LinkMode::Link,
        }
    }

    /// Left table, or the only table in deduplication.
    pub fn left(&self) -> &'a RecordTable {
        match *self {
            BlockingInput::Dedupe(table) => table,
            BlockingInput::Link { left, .. } => left,
        }
    }

    /// Right table, or the only table in deduplication.
    pub fn right(&self) -> &'a RecordTable {
        match *self {
            BlockingInput::Dedupe(table) => table,
            BlockingInput::Link { right, .. } => right,
        }
    }

    /// Number of pairs without blocking: `n (n - 1) / 2` or `n m`.
    pub fn total_pairs(&self) -> u64 {
        match *self {
            BlockingInput::Dedupe(table) => {
                let n = table.len() as u64;
                n * n.saturating_sub(1) / 2
            }
            BlockingInput::Link { left, right } => left.len() as u64 * right.len() as u64,
        }
    }

    /// Checks what every blocker needs: records on each side, row positions that fit in
    /// 32 bits, a common attribute in linkage, and a value somewhere in each key attribute.
    ///
    /// # Errors
    /// [`ErError::EmptyInput`], [`ErError::TooManyRecords`], [`ErError::NoCommonAttribute`],
    /// [`ErError::UnknownAttribute`] or [`ErError::AllNull`], naming the table at fault.
    pub fn validate(&self, attributes: &[&str]) -> Result<(), ErError> {
        let tables: Vec<&RecordTable> = match *self {
            BlockingInput::Dedupe(table) => vec![table],
            BlockingInput::Link { left, right } => {
                left.require_records()?;
                right.require_records()?;
                left.common_attributes(right)?;
                vec![left, right]
            }
        };
        for table in tables {
            table.require_records()?;
            if table.len() > u32::MAX as usize {
                return Err(ErError::TooManyRecords {
                    table: table.name().to_owned(),
                    records: table.len(),
                    max: u32::MAX as usize,
                });
            }
            for attribute in attributes {
                table.require_values(attribute)?;
            }
        }
        Ok(())
    }
}

/// Limits that keep blocking from growing quadratically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockCap {
    /// Largest number of records (both sides together in linkage) one block may have; a
    /// larger block is skipped and reported.
    pub max_block_records: usize,
    /// Largest number of pairs one block may produce; a larger block is skipped and reported.
    pub max_block_pairs: u64,
    /// Largest number of distinct candidate pairs of one blocker; more is an error.
    pub max_total_pairs: u64,
}

impl Default for BlockCap {
    /// 100,000 records or 1,000,000 pairs per block, and 200 million candidate pairs in all
    /// (1.6 GB of pairs at 8 bytes each).
    fn default() -> Self {
        Self {
            max_block_records: 100_000,
            max_block_pairs: 1_000_000,
            max_total_pairs: 200_000_000,
        }
    }
}

/// A block that was skipped because it exceeded the [`BlockCap`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CappedBlock {
    /// Rule or pass that formed the block.
    pub rule: String,
    /// Key shared by the block's records, as text.
    pub key: String,
    /// Records in the block.
    pub records: u64,
    /// Pairs the block would have produced.
    pub pairs: u64,
}

/// Report of one blocker run: pair counts, skipped blocks and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingReport {
    /// Blocker name.
    pub method: String,
    /// Link or dedupe.
    pub mode: LinkMode,
    /// Records of the left (or only) table.
    pub left_records: u64,
    /// Records of the right table; equal to `left_records` in deduplication.
    pub right_records: u64,
    /// Distinct candidate pairs returned.
    pub candidates: u64,
    /// Pairs without blocking.
    pub total_pairs: u64,
    /// Blocks formed (or windows, or query records), capped ones included.
    pub blocks: u64,
    /// Records of the largest block, capped blocks included.
    pub largest_block: u64,
    /// Record-rule combinations that yielded no key, such as a null key attribute.
    pub records_without_key: u64,
    /// Number of blocks skipped because of the cap.
    pub capped_blocks: u64,
    /// Records in skipped blocks, counted once per block.
    pub capped_records: u64,
    /// Pairs the skipped blocks would have produced.
    pub pairs_skipped: u64,
    /// The first [`BlockingReport::MAX_LISTED_CAPS`] skipped blocks, largest first.
    pub capped: Vec<CappedBlock>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl BlockingReport {
    /// Number of skipped blocks listed in [`BlockingReport::capped`].
    pub const MAX_LISTED_CAPS: usize = 50;

    /// Starts an empty report for `input`.
    pub fn new(method: impl Into<String>, input: &BlockingInput<'_>) -> Self {
        Self {
            method: method.into(),
            mode: input.mode(),
            left_records: input.left().len() as u64,
            right_records: input.right().len() as u64,
            candidates: 0,
            total_pairs: input.total_pairs(),
            blocks: 0,
            largest_block: 0,
            records_without_key: 0,
            capped_blocks: 0,
            capped_records: 0,
            pairs_skipped: 0,
            capped: Vec::new(),
            seconds: 0.0,
        }
    }

    /// Reduction ratio `1 - candidates / total_pairs`, or 0 when there are no pairs at all.
    pub fn reduction_ratio(&self) -> f64 {
        super::metrics::reduction_ratio(self.candidates, self.total_pairs)
    }

    pub(crate) fn record_cap(&mut self, block: CappedBlock) {
        self.capped_blocks += 1;
        self.capped_records += block.records;
        self.pairs_skipped += block.pairs;
        self.capped.push(block);
        if self.capped.len() > 2 * Self::MAX_LISTED_CAPS {
            self.trim_caps();
        }
    }

    pub(crate) fn trim_caps(&mut self) {
        self.capped.sort_by(|a, b| {
            b.pairs
                .cmp(&a.pairs)
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.key.cmp(&b.key))
        });
        self.capped.truncate(Self::MAX_LISTED_CAPS);
    }

    /// Logs skipped blocks at warning level, since they can hide true matches.
    pub(crate) fn warn_caps(&self) {
        if self.capped_blocks > 0 {
            tracing::warn!(
                method = %self.method,
                capped_blocks = self.capped_blocks,
                capped_records = self.capped_records,
                pairs_skipped = self.pairs_skipped,
                largest = ?self.capped.first().map(|block| &block.key),
                "blocking skipped blocks above the cap"
            );
        }
    }
}

/// Candidate pairs of one blocker with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocking {
    /// Distinct pairs in ascending order; in deduplication `left < right`.
    pub pairs: Vec<CandidatePair>,
    /// Counts and skipped blocks.
    pub report: BlockingReport,
}

/// Proposes candidate pairs for comparison.
///
/// Implementations return distinct pairs in ascending order, in deduplication with
/// `left < right`, never more than their [`BlockCap::max_total_pairs`], and they reject
/// empty tables, tables without a common attribute and key attributes without any value
/// with an [`ErError`] (see [`BlockingInput::validate`]).
pub trait Blocker: Send + Sync {
    /// Short name for reports.
    fn name(&self) -> &str;

    /// Proposes the candidate pairs of `input`.
    ///
    /// # Errors
    /// Invalid input or configuration, or more pairs than the budget allows.
    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError>;

    /// Proposes pairs of records of one table.
    ///
    /// # Errors
    /// As [`Blocker::block`].
    fn dedupe(&self, table: &RecordTable) -> Result<Blocking, ErError> {
        self.block(BlockingInput::Dedupe(table))
    }

    /// Proposes pairs of one record of `left` and one of `right`.
    ///
    /// # Errors
    /// As [`Blocker::block`].
    fn link(&self, left: &RecordTable, right: &RecordTable) -> Result<Blocking, ErError> {
        self.block(BlockingInput::Link { left, right })
    }
}

/// Unites the candidate pairs of several blockers, such as a key rule and an LSH pass.
pub struct UnionBlocker {
    name: String,
    blockers: Vec<Box<dyn Blocker>>,
}

impl std::fmt::Debug for UnionBlocker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.blockers.iter().map(|blocker| blocker.name()).collect();
        formatter
            .debug_struct("UnionBlocker")
            .field("name", &self.name)
            .field("blockers", &names)
            .finish()
    }
}

impl UnionBlocker {
    /// Creates the union of `blockers`.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when `blockers` is empty.
    pub fn new(name: impl Into<String>, blockers: Vec<Box<dyn Blocker>>) -> Result<Self, ErError> {
        if blockers.is_empty() {
            return Err(ErError::invalid_config(
                "blockers",
                "[]",
                "pass at least one blocker",
            ));
        }
        Ok(Self {
            name: name.into(),
            blockers,
        })
    }
}

impl Blocker for UnionBlocker {
    fn name(&self) -> &str {
        &self.name
    }

    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError> {
        let started = std::time::Instant::now();
        let mut report = BlockingReport::new(&self.name, &input);
        let mut pairs = Vec::new();
        for blocker in &self.blockers {
            let part = blocker.block(input)?;
            pairs.extend(part.pairs);
            report.blocks += part.report.blocks;
            report.largest_block = report.largest_block.max(part.report.largest_block);
            report.records_without_key += part.report.records_without_key;
            report.capped_blocks += part.report.capped_blocks;
            report.capped_records += part.report.capped_records;
            report.pairs_skipped += part.report.pairs_skipped;
            report.capped.extend(part.report.capped);
        }
        groups::sort_unique(&mut pairs);
        report.trim_caps();
        report.candidates = pairs.len() as u64;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(Blocking { pairs, report })
    }
}

#[cfg(test)]
mod tests;
