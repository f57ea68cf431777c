//! The side index: for every key, the side rows sorted by time, built once before the stream
//! starts so that each stream row is matched with one hash lookup and one binary search.

use std::collections::HashMap;

use arrow::array::Array;

use super::columns::{KeyColumn, KeyKind, TimeColumn};
use super::config::AsOfDirection;

/// Position of a side row: (side batch, row within that batch), the index form that
/// `arrow::compute::interleave` takes.
pub(crate) type RowPosition = (usize, usize);

/// The side rows of one key, sorted by time, one row per distinct time.
#[derive(Debug, Default)]
pub(crate) struct Series {
    times: Vec<i64>,
    positions: Vec<RowPosition>,
}

impl Series {
    /// Returns the side row that matches time `target` in `direction`, if one lies within
    /// `tolerance_ms` (inclusive).
    pub(crate) fn find(
        &self,
        target: i64,
        direction: AsOfDirection,
        tolerance_ms: u64,
    ) -> Option<RowPosition> {
        // Index of the first side time after `target`; the row before it is the latest at or
        // before `target`.
        let after = self.times.partition_point(|&time| time <= target);
        let backward = after
            .checked_sub(1)
            .map(|index| (index, target.abs_diff(self.times[index])));
        // Index of the first side time at or after `target`.
        let at_or_after = self.times.partition_point(|&time| time < target);
        let forward = (at_or_after < self.times.len())
            .then(|| (at_or_after, self.times[at_or_after].abs_diff(target)));

        let chosen = match direction {
            AsOfDirection::Backward => backward,
            AsOfDirection::Forward => forward,
            AsOfDirection::Nearest => match (backward, forward) {
                (Some(before), Some(later)) if later.1 < before.1 => Some(later),
                (Some(before), _) => Some(before),
                (None, later) => later,
            },
        };
        chosen
            .filter(|&(_, distance)| distance <= tolerance_ms)
            .map(|(index, _)| self.positions[index])
    }
}

/// Per-key series of one side source.
#[derive(Debug)]
enum SeriesByKey {
    Utf8(HashMap<String, Series>),
    Int64(HashMap<i64, Series>),
}

/// Counts of indexed and skipped side rows, for the audit log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexCounts {
    /// Side rows indexed.
    pub(crate) indexed: u64,
    /// Side rows with a null key or time, which can never match.
    pub(crate) null_key_or_time: u64,
    /// Side rows that repeat the key and time of an earlier row; the earlier row wins.
    pub(crate) duplicates: u64,
}

/// The side index of an as-of join.
#[derive(Debug)]
pub(crate) struct SideIndex {
    series: SeriesByKey,
    counts: IndexCounts,
}

/// Collects (time, position) pairs per key before sorting.
#[derive(Debug)]
pub(crate) struct SideIndexBuilder {
    entries: EntriesByKey,
    null_key_or_time: u64,
}

#[derive(Debug)]
enum EntriesByKey {
    Utf8(HashMap<String, Vec<(i64, RowPosition)>>),
    Int64(HashMap<i64, Vec<(i64, RowPosition)>>),
}

impl SideIndexBuilder {
    /// Starts an index for keys of `kind`.
    pub(crate) fn new(kind: KeyKind) -> Self {
        let entries = match kind {
            KeyKind::Utf8 => EntriesByKey::Utf8(HashMap::new()),
            KeyKind::Int64 => EntriesByKey::Int64(HashMap::new()),
        };
        SideIndexBuilder {
            entries,
            null_key_or_time: 0,
        }
    }

    /// Adds the rows of side batch number `batch`. The key kind must be the builder's; the
    /// caller checks it first.
    pub(crate) fn add(&mut self, batch: usize, keys: &KeyColumn, times: &TimeColumn) {
        for row in 0..times.millis.len() {
            if times.millis.is_null(row) {
                self.null_key_or_time += 1;
                continue;
            }
            let entry = (times.millis.value(row), (batch, row));
            match (&mut self.entries, keys) {
                (EntriesByKey::Utf8(map), KeyColumn::Utf8(keys)) if keys.is_valid(row) => {
                    let key = keys.value(row);
                    match map.get_mut(key) {
                        Some(entries) => entries.push(entry),
                        None => {
                            map.insert(key.to_string(), vec![entry]);
                        }
                    }
                }
                (EntriesByKey::Int64(map), KeyColumn::Int64(keys)) if keys.is_valid(row) => {
                    map.entry(keys.value(row)).or_default().push(entry);
                }
                _ => self.null_key_or_time += 1,
            }
        }
    }

    /// Sorts every key's rows by time and keeps the first row (in load order) of each time.
    pub(crate) fn build(self) -> SideIndex {
        let mut counts = IndexCounts {
            null_key_or_time: self.null_key_or_time,
            ..IndexCounts::default()
        };
        let series = match self.entries {
            EntriesByKey::Utf8(map) => SeriesByKey::Utf8(
                map.into_iter()
                    .map(|(key, entries)| (key, sorted_series(entries, &mut counts)))
                    .collect(),
            ),
            EntriesByKey::Int64(map) => SeriesByKey::Int64(
                map.into_iter()
                    .map(|(key, entries)| (key, sorted_series(entries, &mut counts)))
                    .collect(),
            ),
        };
        SideIndex { series, counts }
    }
}

fn sorted_series(mut entries: Vec<(i64, RowPosition)>, counts: &mut IndexCounts) -> Series {
    // Sorting on (time, batch, row) puts equal times in load order, so dedup keeps the first.
    entries.sort_unstable();
    let before = entries.len();
    entries.dedup_by_key(|(time, _)| *time);
    counts.duplicates += (before - entries.len()) as u64;
    counts.indexed += entries.len() as u64;
    let (times, positions) = entries.into_iter().unzip();
    Series { times, positions }
}

impl SideIndex {
    /// Returns the series of the key at `row` of `keys`, or `None` for a null or unknown key
    /// or a key of the other kind.
    pub(crate) fn series(&self, keys: &KeyColumn, row: usize) -> Option<&Series> {
        match (&self.series, keys) {
            (SeriesByKey::Utf8(map), KeyColumn::Utf8(keys)) if keys.is_valid(row) => {
                map.get(keys.value(row))
            }
            (SeriesByKey::Int64(map), KeyColumn::Int64(keys)) if keys.is_valid(row) => {
                map.get(&keys.value(row))
            }
            _ => None,
        }
    }

    /// Returns the number of distinct keys.
    pub(crate) fn keys(&self) -> usize {
        match &self.series {
            SeriesByKey::Utf8(map) => map.len(),
            SeriesByKey::Int64(map) => map.len(),
        }
    }

    /// Returns what building the index indexed and skipped.
    pub(crate) fn counts(&self) -> IndexCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::super::columns::TimeKind;
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    fn series(times: &[i64]) -> Series {
        Series {
            times: times.to_vec(),
            positions: (0..times.len()).map(|row| (0, row)).collect(),
        }
    }

    #[test]
    fn backward_takes_latest_at_or_before() {
        let series = series(&[10, 20, 30]);
        assert_eq!(series.find(25, AsOfDirection::Backward, 100), Some((0, 1)));
        assert_eq!(series.find(20, AsOfDirection::Backward, 100), Some((0, 1)));
        assert_eq!(series.find(5, AsOfDirection::Backward, 100), None);
    }

    #[test]
    fn forward_takes_earliest_at_or_after() {
        let series = series(&[10, 20, 30]);
        assert_eq!(series.find(25, AsOfDirection::Forward, 100), Some((0, 2)));
        assert_eq!(series.find(20, AsOfDirection::Forward, 100), Some((0, 1)));
        assert_eq!(series.find(31, AsOfDirection::Forward, 100), None);
    }

    #[test]
    fn nearest_prefers_earlier_on_tie() {
        let series = series(&[10, 20]);
        assert_eq!(series.find(15, AsOfDirection::Nearest, 100), Some((0, 0)));
        assert_eq!(series.find(16, AsOfDirection::Nearest, 100), Some((0, 1)));
        assert_eq!(series.find(40, AsOfDirection::Nearest, 100), Some((0, 1)));
    }

    #[test]
    fn tolerance_is_inclusive() {
        let series = series(&[1_000]);
        assert_eq!(
            series.find(1_500, AsOfDirection::Backward, 500),
            Some((0, 0))
        );
        assert_eq!(series.find(1_501, AsOfDirection::Backward, 500), None);
        assert_eq!(series.find(1_000, AsOfDirection::Nearest, 0), Some((0, 0)));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let series = series(&[i64::MIN, i64::MAX]);
        assert_eq!(series.find(0, AsOfDirection::Nearest, 10), None);
        assert_eq!(
            series.find(i64::MAX, AsOfDirection::Backward, 0),
            Some((0, 1))
        );
    }

    #[test]
    fn builder_sorts_and_drops_repeats() {
        let mut builder = SideIndexBuilder::new(KeyKind::Utf8);
        let keys = KeyColumn::Utf8(StringArray::from(vec![
            Some("a"),
            Some("a"),
            None,
            Some("a"),
        ]));
        let times = TimeColumn {
            millis: Int64Array::from(vec![Some(30), Some(10), Some(20), Some(10)]),
            kind: TimeKind::EpochMillis,
        };
        builder.add(0, &keys, &times);
        let index = builder.build();
        let counts = index.counts();
        assert_eq!(counts.indexed, 2);
        assert_eq!(counts.duplicates, 1);
        assert_eq!(counts.null_key_or_time, 1);
        let lookup = KeyColumn::Utf8(StringArray::from(vec!["a"]));
        let series = index.series(&lookup, 0).expect("key a");
        // Rows 1 and 3 share time 10; row 1 came first and wins.
        assert_eq!(series.find(10, AsOfDirection::Backward, 0), Some((0, 1)));
        assert_eq!(series.find(30, AsOfDirection::Backward, 0), Some((0, 0)));
    }
}
