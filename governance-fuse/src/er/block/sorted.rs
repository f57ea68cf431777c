//! Sorted neighbourhood: records sorted by a key, each paired with its next neighbours.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::groups::PairCollector;
use super::keys::KeyExpr;
use super::{BlockCap, Blocker, Blocking, BlockingInput, BlockingReport};
use crate::er::{CandidatePair, ErError, RecordTable};

/// Configuration of [`SortedNeighbourhood`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SortedNeighbourhoodConfig {
    /// Sort keys; each is one pass, and the passes' pairs are united.
    pub passes: Vec<KeyExpr>,
    /// Records in one window, at least 2: each record meets the next `window - 1`.
    pub window: usize,
    /// Only [`BlockCap::max_total_pairs`] applies, since a window bounds every block.
    #[serde(default)]
    pub cap: BlockCap,
}

/// The sorted-neighbourhood method: per pass, sort all records by a key and pair records
/// that lie within `window` positions of each other.
///
/// In linkage both tables are sorted together and only pairs across the tables count. A
/// record without a key in a pass takes no part in it and is counted in the report. Ties are
/// broken by table and row, so the result is deterministic.
#[derive(Debug, Clone)]
pub struct SortedNeighbourhood {
    config: SortedNeighbourhoodConfig,
}

impl SortedNeighbourhood {
    /// Creates the blocker.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for no passes, a window below 2 or an invalid key.
    pub fn new(config: SortedNeighbourhoodConfig) -> Result<Self, ErError> {
        if config.passes.is_empty() {
            return Err(ErError::invalid_config(
                "passes",
                "[]",
                "add at least one sort key",
            ));
        }
        if config.window < 2 {
            return Err(ErError::invalid_config(
                "window",
                config.window,
                "use a window of at least 2 records",
            ));
        }
        for pass in &config.passes {
            pass.validate()?;
        }
        Ok(Self { config })
    }
}

/// A sort key, the side (0 left, 1 right) and the row.
type SortEntry = (String, u8, u32);

/// Sort entries of one table and the count of its records without a key.
fn sort_entries(
    pass: &KeyExpr,
    table: &RecordTable,
    side: u8,
) -> Result<(Vec<SortEntry>, u64), ErError> {
    let bound = pass.bind(table)?;
    let per_row: Vec<Vec<String>> = (0..table.len())
        .into_par_iter()
        .map(|row| {
            let mut keys = Vec::new();
            bound.keys(table, row, &mut keys);
            keys
        })
        .collect();
    let mut entries = Vec::with_capacity(table.len());
    let mut without_key = 0;
    for (row, keys) in per_row.into_iter().enumerate() {
        if keys.is_empty() {
            without_key += 1;
        }
        entries.extend(keys.into_iter().map(|key| (key, side, row as u32)));
    }
    Ok((entries, without_key))
}

impl Blocker for SortedNeighbourhood {
    fn name(&self) -> &str {
        "sorted_neighbourhood"
    }

    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError> {
        let started = std::time::Instant::now();
        let mut attributes: Vec<&str> = self
            .config
            .passes
            .iter()
            .flat_map(|pass| pass.attributes.iter().map(String::as_str))
            .collect();
        attributes.sort_unstable();
        attributes.dedup();
        input.validate(&attributes)?;

        let mut report = BlockingReport::new(self.name(), &input);
        let mut collector = PairCollector::new(self.config.cap, &mut report);
        let window = self.config.window;
        for pass in &self.config.passes {
            let (mut entries, mut without) = sort_entries(pass, input.left(), 0)?;
            if let BlockingInput::Link { right, .. } = input {
                let (right_entries, right_without) = sort_entries(pass, right, 1)?;
                entries.extend(right_entries);
                without += right_without;
            }
            entries.par_sort_unstable();
            let report = collector.report();
            report.records_without_key += without;
            report.blocks += entries.len() as u64;
            report.largest_block = report.largest_block.max(window.min(entries.len()) as u64);

            let dedupe = matches!(input, BlockingInput::Dedupe(_));
            let pairs: Vec<CandidatePair> = (0..entries.len())
                .into_par_iter()
                .flat_map_iter(|i| {
                    let end = (i + window).min(entries.len());
                    let (_, side, row) = entries[i];
                    entries[i + 1..end]
                        .iter()
                        .filter_map(move |&(_, other_side, other_row)| {
                            if dedupe {
                                (other_row != row).then(|| CandidatePair::ordered(row, other_row))
                            } else if side == other_side {
                                None
                            } else if side == 0 {
                                Some(CandidatePair::new(row, other_row))
                            } else {
                                Some(CandidatePair::new(other_row, row))
                            }
                        })
                })
                .collect();
            collector.add_pairs(pairs.into_iter())?;
        }
        let pairs = collector.finish()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(Blocking { pairs, report })
    }
}
