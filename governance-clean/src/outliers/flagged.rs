//! The scores of recently flagged cells, which feedback turns into labels.

use std::collections::HashMap;

/// Identifies a cell: row id and the column's index in the stage's column names. An index in
/// place of the name keeps each remembered cell at 12 bytes of key.
pub(super) type CellKey = (u64, u32);

/// One flagged cell and its robust z-score.
#[derive(Debug, Clone, Copy)]
struct FlaggedCell {
    row_id: u64,
    column: u32,
    score: f64,
}

/// Scores of the `capacity` most recent flags, a ring overwritten oldest first.
///
/// An entry takes 24 bytes. A hash map with a queue of insertion order would take about 60
/// per entry and reallocate as the run goes on, so the ring keeps the memory that grows with
/// the number of flags small. It has no index: a single lookup scans the ring, and
/// [`FlaggedCells::scores`] builds a map once for a whole list of feedback. A cell flagged
/// again, in a later round over the same rows, takes a new entry, and the newest score wins.
#[derive(Debug)]
pub(super) struct FlaggedCells {
    entries: Vec<FlaggedCell>,
    /// Slot of the oldest entry once the ring is full.
    oldest: usize,
    capacity: usize,
}

impl FlaggedCells {
    pub(super) fn new(capacity: usize) -> Self {
        FlaggedCells {
            entries: Vec::new(),
            oldest: 0,
            capacity,
        }
    }

    /// Remembers the score of a flagged cell, forgetting the oldest flag once full.
    pub(super) fn insert(&mut self, (row_id, column): CellKey, score: f64) {
        if self.capacity == 0 {
            return;
        }
        let cell = FlaggedCell {
            row_id,
            column,
            score,
        };
        if self.entries.len() < self.capacity {
            self.entries.push(cell);
            return;
        }
        self.entries[self.oldest] = cell;
        self.oldest = (self.oldest + 1) % self.capacity;
    }

    /// Returns the entries from the oldest to the newest.
    fn in_order(&self) -> impl Iterator<Item = &FlaggedCell> {
        let (newer, older) = self.entries.split_at(self.oldest);
        older.iter().chain(newer)
    }

    /// Returns the newest score of `key`, scanning the whole ring.
    pub(super) fn get(&self, (row_id, column): CellKey) -> Option<f64> {
        self.in_order()
            .filter(|cell| cell.row_id == row_id && cell.column == column)
            .last()
            .map(|cell| cell.score)
    }

    /// Returns the newest score of every remembered cell.
    pub(super) fn scores(&self) -> HashMap<CellKey, f64> {
        self.in_order()
            .map(|cell| ((cell.row_id, cell.column), cell.score))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_forgets_oldest_flags() {
        let mut flagged = FlaggedCells::new(3);
        for row_id in 0..5 {
            flagged.insert((row_id, 0), row_id as f64);
        }
        assert_eq!(flagged.get((0, 0)), None);
        assert_eq!(flagged.get((1, 0)), None);
        assert_eq!(flagged.get((2, 0)), Some(2.0));
        assert_eq!(flagged.get((4, 0)), Some(4.0));
        assert_eq!(flagged.scores().len(), 3);
    }

    #[test]
    fn newest_score_of_a_cell_wins() {
        let mut flagged = FlaggedCells::new(4);
        flagged.insert((7, 1), 6.0);
        flagged.insert((8, 1), 9.0);
        flagged.insert((7, 1), 12.0);
        assert_eq!(flagged.get((7, 1)), Some(12.0));
        assert_eq!(flagged.scores().get(&(7, 1)), Some(&12.0));
        // The same row in another column is another cell.
        assert_eq!(flagged.get((7, 0)), None);
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let mut flagged = FlaggedCells::new(0);
        flagged.insert((1, 0), 8.0);
        assert_eq!(flagged.get((1, 0)), None);
        assert!(flagged.scores().is_empty());
    }
}
