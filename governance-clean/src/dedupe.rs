//! The [`Dedupe`] cleaner: merges rows that repeat the key of an earlier row (by default the
//! same station and hour), keeping the first and counting the rest as merged.
//!
//! The stage streams: it remembers, per series, a bounded window of recent keys, so memory
//! stays bounded however long the stream runs. A key is remembered as a 64-bit SipHash
//! digest under a random per-stage key, next to the id of the row kept for it, in a ring in
//! arrival order. An open-addressing index of ring slots finds a digest. The window takes 20
//! to 24 bytes per key (12 KiB for 512 keys), whatever the key's length. A new key matches a remembered
//! digest of its series by chance with a probability near `window / 2⁶⁴`, about 3e-17 for a
//! window of 512. Without the random key, a writer of the data cannot aim for such a match.
//! A merge is always recorded as a `Duplicate` issue.
//!
//! [`Cleaner::flush`] ends the stream and clears the windows, so each round of a chain starts
//! with no remembered keys.
//!
//! NOTE: a duplicate is found only while its key is still in the window: after more than
//! `window` newer keys of the same series, or after its series was evicted beyond
//! `max_series`, a repeat passes as a new row. Rows already emitted with an earlier batch are
//! never changed, so only a duplicate in the same batch as its kept row can fill that row's
//! null cells.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, BooleanArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};
use arrow::util::display::array_value_to_string;
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher13;

use crate::support::{ChangeCounts, column_index, row_issue, text_values, with_columns};

/// Configuration of [`Dedupe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupeConfig {
    /// Columns whose values together identify a record. Rows with a null in any key column
    /// are never treated as duplicates.
    pub key: Vec<String>,
    /// Key column that names a series, such as a station; each series keeps its own window.
    /// `None` keeps one window for the whole stream.
    pub series: Option<String>,
    /// Number of most recent distinct keys remembered per series (default 512: three weeks
    /// of hourly readings).
    pub window: usize,
    /// Number of series remembered; beyond it, the series unseen for the most batches is
    /// forgotten.
    pub max_series: usize,
}

impl Default for DedupeConfig {
    fn default() -> Self {
        DedupeConfig {
            key: vec!["station".into(), "timestamp".into()],
            series: Some("station".into()),
            window: 512,
            max_series: 1024,
        }
    }
}

/// The recent keys of one series.
#[derive(Debug)]
struct SeriesWindow {
    /// Digest of each remembered key with the id of the row kept for it, a ring in arrival
    /// order that is overwritten oldest first once full.
    entries: Vec<(u64, u64)>,
    /// Slot of the oldest entry once the ring is full.
    oldest: usize,
    /// Slots of `entries`, found by digest.
    index: SlotIndex,
    /// Number of the last batch that touched the series, for eviction.
    last_batch: u64,
}

impl SeriesWindow {
    /// Creates a window for `capacity` keys. Both parts are allocated whole, so they never
    /// grow and leave freed blocks behind in the allocator.
    fn new(capacity: usize) -> Self {
        SeriesWindow {
            entries: Vec::with_capacity(capacity),
            oldest: 0,
            index: SlotIndex::new(capacity),
            last_batch: 0,
        }
    }

    /// Returns the id of the row kept for `digest`, if the window contains it.
    fn kept(&self, digest: u64) -> Option<u64> {
        let slot = self.index.find(digest, &self.entries)?;
        self.entries.get(slot as usize).map(|entry| entry.1)
    }

    /// Remembers a digest that the window does not hold, forgetting the oldest once
    /// `capacity` digests are held.
    fn insert(&mut self, digest: u64, row_id: u64, capacity: usize) {
        if self.entries.len() < capacity {
            self.index.insert(digest, self.entries.len() as u32);
            self.entries.push((digest, row_id));
            return;
        }
        let slot = self.oldest;
        let Some(&(evicted, _)) = self.entries.get(slot) else {
            return;
        };
        self.index.remove(evicted, slot as u32, &self.entries);
        self.entries[slot] = (digest, row_id);
        self.index.insert(digest, slot as u32);
        self.oldest = (slot + 1) % capacity;
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Largest `window`: ring slots are indexed by `u32`, with `u32::MAX` marking a free position.
const MAX_WINDOW: usize = 1 << 31;

/// Marks a free position of a [`SlotIndex`].
const FREE: u32 = u32::MAX;

/// Open-addressing hash index from a digest to its slot in a window's ring, with linear
/// probing. The digest is its own hash, since it is already a keyed SipHash. The table has at
/// least twice as many positions as the ring has slots, so probe runs stay short. A removal
/// shifts the later entries of its run back (Knuth's Algorithm R) instead of leaving a
/// tombstone, so the table never fills up with tombstones and never has to be rebuilt. It
/// costs at most 8 bytes per remembered key.
#[derive(Debug)]
struct SlotIndex {
    positions: Box<[u32]>,
    mask: usize,
}

impl SlotIndex {
    fn new(capacity: usize) -> Self {
        let size = capacity.saturating_mul(2).next_power_of_two().max(2);
        SlotIndex {
            positions: vec![FREE; size].into_boxed_slice(),
            mask: size - 1,
        }
    }

    fn home(&self, digest: u64) -> usize {
        digest as usize & self.mask
    }

    /// Returns the slot whose entry has `digest`.
    fn find(&self, digest: u64, entries: &[(u64, u64)]) -> Option<u32> {
        let mut position = self.home(digest);
        loop {
            let slot = self.positions[position];
            if slot == FREE {
                return None;
            }
            if entries.get(slot as usize).map(|entry| entry.0) == Some(digest) {
                return Some(slot);
            }
            position = (position + 1) & self.mask;
        }
    }

    /// Adds `slot` under `digest`. A window has at most half as many slots as its index has
    /// positions, so a free position always exists.
    fn insert(&mut self, digest: u64, slot: u32) {
        let mut position = self.home(digest);
        while self.positions[position] != FREE {
            position = (position + 1) & self.mask;
        }
        self.positions[position] = slot;
    }

    /// Removes `slot`, stored under `digest`. The caller passes `entries` before the slot is
    /// overwritten, so every slot's digest is still there.
    fn remove(&mut self, digest: u64, slot: u32, entries: &[(u64, u64)]) {
        let mut hole = self.home(digest);
        loop {
            match self.positions[hole] {
                FREE => return,
                known if known == slot => break,
                _ => hole = (hole + 1) & self.mask,
            }
        }
        self.positions[hole] = FREE;
        let mut next = hole;
        loop {
            next = (next + 1) & self.mask;
            let moved = self.positions[next];
            if moved == FREE {
                return;
            }
            let Some(&(moved_digest, _)) = entries.get(moved as usize) else {
                return;
            };
            // The entry may fill the hole when the hole lies on its probe path, from its home
            // position to where it sits now.
            let from_home = next.wrapping_sub(self.home(moved_digest)) & self.mask;
            let from_hole = next.wrapping_sub(hole) & self.mask;
            if from_home >= from_hole {
                self.positions[hole] = moved;
                self.positions[next] = FREE;
                hole = next;
            }
        }
    }
}

/// Removes rows whose key repeats a recent row of the same series; see the module docs.
#[derive(Debug)]
pub struct Dedupe {
    name: String,
    config: DedupeConfig,
    /// Key encoder, made from the first batch's key types and reused so encodings compare.
    converter: Option<(RowConverter, Vec<DataType>)>,
    windows: HashMap<Option<String>, SeriesWindow>,
    batches_seen: u64,
    /// Keyed hasher of encoded keys; its key is drawn at random when the stage is created.
    hasher: SipHasher13,
}

impl Dedupe {
    /// Creates the stage. Fails on an empty key, a series column outside the key, or a zero
    /// window or series bound.
    pub fn new(config: DedupeConfig) -> Result<Self> {
        const NAME: &str = "dedupe";
        if config.key.is_empty() {
            return Err(Error::config(
                NAME,
                "`key` is empty; name at least one key column",
            ));
        }
        if let Some(series) = &config.series
            && !config.key.contains(series)
        {
            return Err(Error::config(
                NAME,
                format!(
                    "series column {series:?} is not in `key`; add it to `key` or unset `series`"
                ),
            ));
        }
        if config.window == 0 || config.max_series == 0 {
            return Err(Error::config(
                NAME,
                "`window` and `max_series` must be at least 1",
            ));
        }
        if config.window > MAX_WINDOW {
            return Err(Error::config(
                NAME,
                format!(
                    "`window` {} is above the maximum of {MAX_WINDOW} keys per series; lower it",
                    config.window
                ),
            ));
        }
        let mut seed = [0u8; 16];
        getrandom::fill(&mut seed).map_err(|error| {
            Error::Internal(format!(
                "the operating system gave no random bytes for the key digests: {error}"
            ))
        })?;
        let (first, second) = seed.split_at(8);
        let half = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
        Ok(Dedupe {
            name: NAME.into(),
            config,
            converter: None,
            windows: HashMap::new(),
            batches_seen: 0,
            hasher: SipHasher13::new_with_keys(half(first), half(second)),
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &DedupeConfig {
        &self.config
    }

    /// Returns the number of keys currently remembered over all series.
    pub fn remembered_keys(&self) -> usize {
        self.windows.values().map(SeriesWindow::len).sum()
    }

    /// Returns the key encoder, creating it from the first batch's key types.
    fn converter(&mut self, key_columns: &[ArrayRef]) -> Result<&RowConverter> {
        let types: Vec<DataType> = key_columns
            .iter()
            .map(|column| column.data_type().clone())
            .collect();
        match &self.converter {
            Some((_, known)) if *known != types => {
                return Err(Error::InvalidInput(format!(
                    "key column types changed from {known:?} to {types:?} between batches; every \
                     batch of a stream must have the same key types"
                )));
            }
            Some(_) => {}
            None => {
                let fields = types.iter().cloned().map(SortField::new).collect();
                self.converter = Some((RowConverter::new(fields)?, types));
            }
        }
        self.converter
            .as_ref()
            .map(|(converter, _)| converter)
            .ok_or_else(|| Error::Internal("key converter missing after creation".into()))
    }

    /// Forgets the series unseen for the most batches until at most `max_series` remain.
    fn evict_series(&mut self) {
        let excess = self.windows.len().saturating_sub(self.config.max_series);
        if excess == 0 {
            return;
        }
        let mut by_age: Vec<(u64, Option<String>)> = self
            .windows
            .iter()
            .map(|(series, window)| (window.last_batch, series.clone()))
            .collect();
        by_age.sort();
        for (_, series) in by_age.into_iter().take(excess) {
            self.windows.remove(&series);
        }
    }
}

impl Stage for Dedupe {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "merge rows with a repeated key ({})",
            self.config.key.join(", ")
        )
    }
}

impl Cleaner for Dedupe {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let key_indices = self
            .config
            .key
            .iter()
            .map(|name| column_index(&batch, &self.name, "key", name))
            .collect::<Result<Vec<_>>>()?;
        let series_names = match &self.config.series {
            Some(series) => {
                let index = column_index(&batch, &self.name, "series", series)?;
                Some(text_values(batch.data().column(index))?)
            }
            None => None,
        };
        let key_columns: Vec<ArrayRef> = key_indices
            .iter()
            .map(|&index| batch.data().column(index).clone())
            .collect();
        let rows = self
            .converter(&key_columns)?
            .convert_columns(&key_columns)?;
        self.batches_seen += 1;

        let rows_in_batch = batch.num_rows();
        let columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        let value_columns: Vec<usize> = (0..columns.len())
            .filter(|index| !key_indices.contains(index))
            .collect();
        // Rows of this batch kept so far, by row id, so a later duplicate can fill them.
        let mut kept_here: HashMap<u64, usize> = HashMap::new();
        // Per column: kept row position to the duplicate position that fills its null cell.
        let mut fills: Vec<HashMap<usize, usize>> = vec![HashMap::new(); columns.len()];
        let mut merged_rows = Vec::new();
        let mut issues = Vec::new();
        let mut merged_count = 0u64;
        let mut filled_count = 0u64;

        for row in 0..rows_in_batch {
            if key_columns.iter().any(|column| column.is_null(row)) {
                continue;
            }
            let series = series_names
                .as_ref()
                .and_then(|names| names.is_valid(row).then(|| names.value(row).to_string()));
            let capacity = self.config.window;
            let window = self
                .windows
                .entry(series)
                .or_insert_with(|| SeriesWindow::new(capacity));
            window.last_batch = self.batches_seen;
            let key = self.hasher.hash(rows.row(row).as_ref());
            let row_id = batch.row_ids().value(row);

            let Some(kept_id) = window.kept(key) else {
                window.insert(key, row_id, capacity);
                kept_here.insert(row_id, row);
                continue;
            };

            merged_rows.push(row);
            merged_count += 1;
            issues.push(row_issue(
                kept_id,
                IssueKind::Duplicate,
                Severity::Warning,
                &self.name,
                format!(
                    "row {row_id} repeats this row's key ({}) and was merged into it; this row's \
                     values were kept",
                    self.config.key.join(", ")
                ),
            ));
            let Some(&kept_row) = kept_here.get(&kept_id) else {
                continue;
            };
            for &column in &value_columns {
                let array = &columns[column];
                let open = array.is_null(kept_row) && !fills[column].contains_key(&kept_row);
                if !(open && array.is_valid(row)) {
                    continue;
                }
                fills[column].insert(kept_row, row);
                filled_count += 1;
                let field = batch.data().schema().field(column).clone();
                let value = array_value_to_string(array, row)?;
                issues.push(
                    Issue::cell(
                        kept_id,
                        field.name(),
                        IssueKind::Imputed,
                        Severity::Info,
                        &self.name,
                        format!("null filled with {value} from duplicate row {row_id}"),
                    )
                    .with_suggested(value),
                );
            }
        }
        self.evict_series();

        if filled_count > 0 {
            let mut filled_columns = columns.clone();
            for (column, column_fills) in fills
                .iter()
                .enumerate()
                .filter(|(_, fills)| !fills.is_empty())
            {
                let indices: UInt32Array = (0..rows_in_batch)
                    .map(|row| column_fills.get(&row).copied().unwrap_or(row) as u32)
                    .collect();
                filled_columns[column] = take(&columns[column], &indices, None)?;
            }
            with_columns(&mut batch, filled_columns)?;
        }
        if merged_count > 0 {
            let mut keep = vec![true; rows_in_batch];
            for row in merged_rows {
                keep[row] = false;
            }
            let keep = BooleanArray::from(keep);
            batch = batch.filter(&keep)?;
            ctx.record_merged(merged_count);
        }
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());

        let mut changes = ChangeCounts::default();
        changes.add("merged", merged_count);
        changes.add("filled", filled_count);
        changes.audit(ctx)?;
        Ok(batch)
    }

    /// Ends the stream and forgets every remembered key, so that the next round, which reads
    /// the source again, does not take its own rows for duplicates. Returns no rows.
    fn flush(&mut self, _ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        self.windows.clear();
        self.converter = None;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{audit_details, context, floats, series_batch};

    fn dedupe(window: usize) -> Dedupe {
        Dedupe::new(DedupeConfig {
            window,
            ..DedupeConfig::default()
        })
        .expect("dedupe")
    }

    #[test]
    fn duplicate_in_batch_fills_nulls() {
        let ids = RowIdAllocator::default();
        let input = series_batch(
            &["A", "A", "A", "B"],
            &[0, 1, 0, 0],
            &[None, Some(2.0), Some(7.0), Some(9.0)],
            &ids,
        );
        let mut stage = dedupe(10);
        let mut ctx = context("dedupe");
        let output = stage.clean(input, &mut ctx).expect("clean");

        assert_eq!(output.num_rows(), 3);
        assert_eq!(output.row_ids().values().to_vec(), vec![0, 1, 3]);
        assert_eq!(
            floats(&output, "value"),
            vec![Some(7.0), Some(2.0), Some(9.0)]
        );
        assert_eq!(ctx.rows_merged(), 1);
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 2);
        assert_eq!(
            (issues[0].row_id, issues[0].kind, issues[0].column.clone()),
            (0, IssueKind::Duplicate, None)
        );
        assert!(
            issues[0].message.contains("row 2 repeats"),
            "{}",
            issues[0].message
        );
        assert_eq!((issues[1].row_id, issues[1].kind), (0, IssueKind::Imputed));
        assert_eq!(issues[1].suggested.as_deref(), Some("7.0"));
        assert_eq!(
            audit_details(&ctx),
            vec!["count=2 filled=1 merged=1".to_string()]
        );
    }

    #[test]
    fn same_hour_in_other_series_is_kept() {
        let ids = RowIdAllocator::default();
        let input = series_batch(&["A", "B"], &[5, 5], &[Some(1.0), Some(2.0)], &ids);
        let output = dedupe(10)
            .clean(input, &mut context("dedupe"))
            .expect("clean");
        assert_eq!(output.num_rows(), 2);
        assert!(output.issues.is_empty());
    }

    #[test]
    fn duplicate_across_batches_keeps_emitted_row() {
        let ids = RowIdAllocator::default();
        let mut stage = dedupe(10);
        let mut ctx = context("dedupe");
        let first = stage
            .clean(
                series_batch(&["A", "A"], &[0, 1], &[None, Some(1.0)], &ids),
                &mut ctx,
            )
            .expect("first");
        assert_eq!(first.num_rows(), 2);

        let second = stage
            .clean(
                series_batch(&["A", "A"], &[0, 2], &[Some(5.0), Some(3.0)], &ids),
                &mut ctx,
            )
            .expect("second");
        assert_eq!(second.row_ids().values().to_vec(), vec![3]);
        assert_eq!(ctx.rows_merged(), 1);
        // The issue names the emitted row 0, which the stage did not modify.
        let issues = second.issues.issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(
            (issues[0].row_id, issues[0].kind),
            (0, IssueKind::Duplicate)
        );
        assert!(issues[0].message.contains("row 2 repeats"));
    }

    #[test]
    fn window_bounds_memory() {
        let ids = RowIdAllocator::default();
        let mut stage = dedupe(2);
        let mut ctx = context("dedupe");
        let hours = [0, 1, 2, 0];
        let output = stage
            .clean(
                series_batch(&["A"; 4], &hours, &[Some(1.0); 4], &ids),
                &mut ctx,
            )
            .expect("clean");
        // Hour 0 left the two-key window before it came again, so it passes.
        assert_eq!(output.num_rows(), 4);
        assert_eq!(stage.remembered_keys(), 2);
    }

    #[test]
    fn null_keys_are_never_merged() {
        let ids = RowIdAllocator::default();
        let input = series_batch(&["A", "A"], &[3, 3], &[Some(1.0), Some(2.0)], &ids);
        let stations = arrow::array::StringArray::from(vec![Some("A"), Some("A")]);
        let stamps = arrow::array::TimestampMillisecondArray::from(vec![None::<i64>, None]);
        let data = arrow::array::RecordBatch::try_new(
            input.data().schema(),
            vec![
                std::sync::Arc::new(stations),
                std::sync::Arc::new(stamps),
                input.data().column(2).clone(),
            ],
        )
        .expect("data");
        let input = GovernedBatch::try_new(data, input.row_ids().clone(), input.provenance.clone())
            .expect("batch");
        let output = dedupe(10)
            .clean(input, &mut context("dedupe"))
            .expect("clean");
        assert_eq!(output.num_rows(), 2);
    }

    #[test]
    fn series_eviction_keeps_recent() {
        let ids = RowIdAllocator::default();
        let mut stage = Dedupe::new(DedupeConfig {
            max_series: 1,
            ..DedupeConfig::default()
        })
        .expect("dedupe");
        let mut ctx = context("dedupe");
        stage
            .clean(series_batch(&["A"], &[0], &[Some(1.0)], &ids), &mut ctx)
            .expect("first");
        stage
            .clean(series_batch(&["B"], &[0], &[Some(1.0)], &ids), &mut ctx)
            .expect("second");
        assert_eq!(stage.remembered_keys(), 1);
        let repeat = stage
            .clean(series_batch(&["B"], &[0], &[Some(1.0)], &ids), &mut ctx)
            .expect("third");
        assert_eq!(repeat.num_rows(), 0, "series B is still remembered");
    }

    #[test]
    fn flush_forgets_keys() {
        let ids = RowIdAllocator::default();
        let mut stage = dedupe(10);
        let mut ctx = context("dedupe");
        stage
            .clean(series_batch(&["A"], &[0], &[Some(1.0)], &ids), &mut ctx)
            .expect("first");
        assert_eq!(
            stage
                .flush(&mut ctx)
                .expect("flush")
                .map(|batch| batch.num_rows()),
            None
        );
        assert_eq!(stage.remembered_keys(), 0);
        let again = stage
            .clean(series_batch(&["A"], &[0], &[Some(1.0)], &ids), &mut ctx)
            .expect("next round");
        assert_eq!(again.num_rows(), 1);
    }

    /// Checks the window against a plain map and queue, with digests from a small range so
    /// that keys repeat, and with probe runs that wrap around the end of the index.
    #[test]
    fn window_matches_reference_model() {
        use rand::{Rng, SeedableRng};
        use std::collections::VecDeque;

        for capacity in [1, 2, 5, 8, 13] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(capacity as u64);
            let mut window = SeriesWindow::new(capacity);
            let mut expected: HashMap<u64, u64> = HashMap::new();
            let mut order: VecDeque<u64> = VecDeque::new();
            let last = window.index.mask as u64;
            for row_id in 0..2_000u64 {
                // Digests near the last index position make probe runs wrap to position 0.
                let digest = if rng.random_bool(0.5) {
                    rng.random_range(0..40)
                } else {
                    last + rng.random_range(0..4) * (last + 1)
                };
                assert_eq!(window.kept(digest), expected.get(&digest).copied());
                if window.kept(digest).is_none() {
                    window.insert(digest, row_id, capacity);
                    expected.insert(digest, row_id);
                    order.push_back(digest);
                    if order.len() > capacity
                        && let Some(oldest) = order.pop_front()
                    {
                        expected.remove(&oldest);
                    }
                }
                assert_eq!(window.len(), expected.len());
            }
            for digest in 0..(4 * (last + 1)) {
                assert_eq!(
                    window.kept(digest),
                    expected.get(&digest).copied(),
                    "capacity {capacity}, digest {digest}"
                );
            }
        }
    }

    #[test]
    fn window_size_is_checked() {
        let error = Dedupe::new(DedupeConfig {
            window: MAX_WINDOW + 1,
            ..DedupeConfig::default()
        })
        .expect_err("window too large");
        assert!(error.to_string().contains("lower it"), "{error}");
    }

    #[test]
    fn config_is_validated() {
        let config = DedupeConfig {
            series: Some("district".into()),
            ..DedupeConfig::default()
        };
        let error = Dedupe::new(config).expect_err("series outside key");
        assert!(error.to_string().contains("\"district\""), "{error}");
        assert!(serde_json::from_str::<DedupeConfig>(r#"{"keys": ["a"]}"#).is_err());
    }
}
