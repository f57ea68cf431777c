//! Approximate functional dependencies `A -> B` discovered from the data, scored by the g3
//! error: the share of rows that would have to go for `A` to determine `B` exactly.
//!
//! Only rows whose `A` value repeats can show a violation, so g3 is measured over those rows,
//! and a determinant whose values almost never repeat (a key) is skipped: it determines every
//! column trivially.

use super::table::Interned;

/// One discovered dependency with the majority value of `dependent` in each `determinant`
/// group.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    pub determinant: usize,
    pub dependent: usize,
    /// g3 error over the rows whose determinant value repeats, in `[0, 1]`.
    pub g3: f64,
}

/// Rows in repeated groups must make up at least this share for a determinant to count.
const MIN_REPEATED_SHARE: f64 = 0.5;

/// Discovers, for each dependent column, up to `per_column` determinants with a g3 error of at
/// most `max_g3`, lowest error first.
pub(crate) fn discover(columns: &[Interned], max_g3: f64, per_column: usize) -> Vec<Dependency> {
    let rows = columns.first().map_or(0, |column| column.ids.len());
    if rows < 4 {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (dependent, target) in columns.iter().enumerate() {
        if target.distinct() <= 1 {
            continue;
        }
        let mut candidates: Vec<Dependency> = Vec::new();
        for (determinant, source) in columns.iter().enumerate() {
            if determinant == dependent || source.distinct() <= 1 {
                continue;
            }
            let repeated: usize = source
                .ids
                .iter()
                .filter(|&&id| source.counts[id as usize] > 1)
                .count();
            if (repeated as f64) < MIN_REPEATED_SHARE * rows as f64 {
                continue;
            }
            let g3 = g3_error(source, target);
            if g3 <= max_g3 {
                candidates.push(Dependency {
                    determinant,
                    dependent,
                    g3,
                });
            }
        }
        candidates.sort_by(|left, right| left.g3.total_cmp(&right.g3));
        candidates.truncate(per_column);
        found.extend(candidates);
    }
    found
}

/// Returns the g3 error of `source -> target` over rows whose source value repeats.
fn g3_error(source: &Interned, target: &Interned) -> f64 {
    let mut pairs: Vec<(u32, u32)> = source
        .ids
        .iter()
        .zip(&target.ids)
        .filter(|(id, _)| source.counts[**id as usize] > 1)
        .map(|(&left, &right)| (left, right))
        .collect();
    if pairs.is_empty() {
        return 1.0;
    }
    pairs.sort_unstable();
    let total = pairs.len();
    let mut kept = 0usize;
    let mut index = 0;
    while index < total {
        let group = pairs[index].0;
        let mut best = 0usize;
        while index < total && pairs[index].0 == group {
            let value = pairs[index].1;
            let mut run = 0;
            while index < total && pairs[index] == (group, value) {
                run += 1;
                index += 1;
            }
            best = best.max(run);
        }
        kept += best;
    }
    1.0 - kept as f64 / total as f64
}

/// Counts of each dependent value within each determinant group, for majority look-ups.
#[derive(Debug, Clone)]
pub(crate) struct GroupCounts {
    /// `(determinant id, dependent id) -> count`, sorted for binary search.
    counts: Vec<((u32, u32), u32)>,
    group_sizes: Vec<u32>,
}

impl GroupCounts {
    /// Counts the rows selected by `include` (all rows when `None`).
    pub fn build(source: &Interned, target: &Interned, include: Option<&[bool]>) -> GroupCounts {
        let mut pairs: Vec<(u32, u32)> = source
            .ids
            .iter()
            .zip(&target.ids)
            .enumerate()
            .filter(|(row, _)| include.is_none_or(|mask| mask[*row]))
            .map(|(_, (&left, &right))| (left, right))
            .collect();
        pairs.sort_unstable();
        let mut counts: Vec<((u32, u32), u32)> = Vec::new();
        let mut group_sizes = vec![0u32; source.distinct()];
        for pair in pairs {
            group_sizes[pair.0 as usize] += 1;
            match counts.last_mut() {
                Some((last, count)) if *last == pair => *count += 1,
                _ => counts.push((pair, 1)),
            }
        }
        GroupCounts {
            counts,
            group_sizes,
        }
    }

    /// Returns the size of a determinant group.
    pub fn group_size(&self, group: u32) -> u32 {
        self.group_sizes[group as usize]
    }

    /// Returns the count of `value` in `group`.
    pub fn count(&self, group: u32, value: u32) -> u32 {
        self.counts
            .binary_search_by(|(key, _)| key.cmp(&(group, value)))
            .map_or(0, |position| self.counts[position].1)
    }

    /// Returns the most frequent value of `group` with its count; ties go to the lower id,
    /// which is the value seen first.
    pub fn majority(&self, group: u32) -> Option<(u32, u32)> {
        let start = self.counts.partition_point(|((key, _), _)| *key < group);
        self.counts[start..]
            .iter()
            .take_while(|((key, _), _)| *key == group)
            .map(|((_, value), count)| (*value, *count))
            .max_by(|left, right| left.1.cmp(&right.1).then(right.0.cmp(&left.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str]) -> Interned {
        let owned: Vec<String> = values.iter().map(|value| value.to_string()).collect();
        Interned::of(&owned)
    }

    #[test]
    fn near_dependency_is_found_with_its_error() {
        let zip = column(&["1", "1", "1", "1", "2", "2", "2", "2"]);
        let city = column(&["a", "a", "a", "x", "b", "b", "b", "b"]);
        let noise = column(&["p", "q", "p", "q", "p", "q", "p", "q"]);
        let found = discover(&[zip, city, noise], 0.2, 2);
        let zip_city = found
            .iter()
            .find(|dependency| dependency.determinant == 0 && dependency.dependent == 1)
            .expect("zip -> city is found");
        assert!((zip_city.g3 - 0.125).abs() < 1e-9);
        assert!(found.iter().all(|dependency| dependency.dependent != 2));
    }

    #[test]
    fn group_majority_and_counts() {
        let zip = column(&["1", "1", "1", "2"]);
        let city = column(&["a", "a", "x", "b"]);
        let counts = GroupCounts::build(&zip, &city, None);
        assert_eq!(counts.majority(0), Some((0, 2)));
        assert_eq!(counts.count(0, 1), 1);
        assert_eq!(counts.group_size(1), 1);
        let without_first = GroupCounts::build(&zip, &city, Some(&[false, true, true, true]));
        assert_eq!(without_first.group_size(0), 2);
    }
}
