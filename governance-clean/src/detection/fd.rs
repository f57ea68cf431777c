//! Approximate functional dependencies `A -> B` discovered from the data, scored by the g3
//! error: the share of rows that would have to go for `A` to determine `B` exactly.
//!
//! Only rows whose `A` value repeats can show a violation, so g3 is measured over those rows,
//! and a determinant whose values almost never repeat (a key) is skipped: it determines every
//! column trivially.
//!
//! A pair of columns can determine what neither does alone. A code that joins the state to a
//! measure is fixed by state and measure together, while the measure alone fits it in the
//! large state only. Each single determinant kept for a column is therefore also tried with
//! every other column, and the best pair replaces it when it removes a clear share of its
//! violations.

use super::table::Interned;

/// One discovered dependency with the majority value of `dependent` in each `determinant`
/// group.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    pub determinant: usize,
    /// The second determinant column and the interned pairs of both, when two columns
    /// determine `dependent`.
    pub pair: Option<Pair>,
    pub dependent: usize,
    /// g3 error over the rows whose determinant value repeats, in `[0, 1]`.
    pub g3: f64,
}

/// The second column of a two-column determinant, with the pairs of values interned.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub second: usize,
    pub groups: Interned,
}

impl Dependency {
    /// Returns the determinant's groups: the determinant column, or the interned pairs.
    pub fn groups<'a>(&'a self, interned: &'a [Interned]) -> &'a Interned {
        self.pair
            .as_ref()
            .map_or(&interned[self.determinant], |pair| &pair.groups)
    }

    /// Names the determinant by its column names.
    pub fn determinant_name(&self, names: &[String]) -> String {
        let first = &names[self.determinant];
        match &self.pair {
            Some(pair) => format!("{first} and {}", names[pair.second]),
            None => first.clone(),
        }
    }
}

/// Rows in repeated groups must make up at least this share for a determinant to count.
const MIN_REPEATED_SHARE: f64 = 0.5;

/// A pair replaces the best single determinant only when its g3 error is at most this share of
/// the single column's, so that a pair which merely splits groups finer does not.
const PAIR_GAIN: f64 = 0.8;

/// A pair may have at most this many times the groups of its first column. Splitting groups
/// finer lowers the g3 error of almost any pair, so a pair counts only when its second column
/// refines a few groups.
const PAIR_SPLIT: f64 = 2.0;

/// Pairs are tried only while rows times columns squared times the determinants kept per
/// column stays under this, which bounds the sorting work to a few seconds.
// NOTE: wider or longer tables get single-column determinants only.
const PAIR_WORK_LIMIT: usize = 200_000_000;

/// Discovers, for each dependent column, up to `per_column` determinants with a g3 error of at
/// most `max_g3`, lowest error first.
pub(crate) fn discover(columns: &[Interned], max_g3: f64, per_column: usize) -> Vec<Dependency> {
    let rows = columns.first().map_or(0, |column| column.ids.len());
    if rows < 4 {
        return Vec::new();
    }
    let pairs_allowed = rows
        .saturating_mul(columns.len().pow(2))
        .saturating_mul(per_column)
        <= PAIR_WORK_LIMIT;
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
            if !mostly_repeated(source, rows) {
                continue;
            }
            let g3 = g3_error(source, target);
            if g3 <= max_g3 {
                candidates.push(Dependency {
                    determinant,
                    pair: None,
                    dependent,
                    g3,
                });
            }
        }
        candidates.sort_by(|left, right| left.g3.total_cmp(&right.g3));
        candidates.truncate(per_column);
        if pairs_allowed {
            for candidate in &mut candidates {
                if let Some(pair) = best_pair(columns, candidate, max_g3) {
                    *candidate = pair;
                }
            }
            candidates.sort_by(|left, right| left.g3.total_cmp(&right.g3));
        }
        found.extend(candidates);
    }
    found
}

/// Returns true when rows whose value repeats make up at least [`MIN_REPEATED_SHARE`].
fn mostly_repeated(source: &Interned, rows: usize) -> bool {
    let repeated = source
        .ids
        .iter()
        .filter(|&&id| source.counts[id as usize] > 1)
        .count();
    repeated as f64 >= MIN_REPEATED_SHARE * rows as f64
}

/// Returns the pair of `single`'s determinant with another column that determines the same
/// column with the lowest g3 error, when that error is under [`PAIR_GAIN`] times the single
/// column's and under `max_g3`.
fn best_pair(columns: &[Interned], single: &Dependency, max_g3: f64) -> Option<Dependency> {
    let rows = columns[single.determinant].ids.len();
    let target = &columns[single.dependent];
    let mut best: Option<Dependency> = None;
    for (second, other) in columns.iter().enumerate() {
        if second == single.determinant || second == single.dependent || other.distinct() <= 1 {
            continue;
        }
        let groups = Interned::of_pair(&columns[single.determinant], other);
        let single_groups = columns[single.determinant].distinct();
        if groups.distinct() == single_groups
            || groups.distinct() as f64 > PAIR_SPLIT * single_groups as f64
            || !mostly_repeated(&groups, rows)
        {
            continue;
        }
        let g3 = g3_error(&groups, target);
        let bound = (single.g3 * PAIR_GAIN).min(max_g3);
        if g3 < bound && best.as_ref().is_none_or(|found| g3 < found.g3) {
            best = Some(Dependency {
                determinant: single.determinant,
                pair: Some(Pair { second, groups }),
                dependent: single.dependent,
                g3,
            });
        }
    }
    best
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

    /// Builds a region, a measure and a code joining both, with a typo in `typo_row`. The
    /// measure alone determines the code in the large region only.
    fn region_measure_code(typo_row: usize) -> Vec<Interned> {
        let (mut regions, mut measures, mut codes) = (Vec::new(), Vec::new(), Vec::new());
        for row in 0..40 {
            let (region, measure) = if row < 36 {
                ("north", format!("m{}", row % 4))
            } else {
                ("south", format!("m{}", row % 4))
            };
            let mut code = format!("{region}_{measure}");
            if row == typo_row {
                code = "north_mx".to_string();
            }
            regions.push(region.to_string());
            measures.push(measure);
            codes.push(code);
        }
        vec![
            Interned::of(&regions),
            Interned::of(&measures),
            Interned::of(&codes),
        ]
    }

    #[test]
    fn pair_replaces_single_determinant_it_clearly_beats() {
        let columns = region_measure_code(5);
        let found = discover(&columns, 0.3, 1);
        let code = found
            .iter()
            .find(|dependency| dependency.dependent == 2)
            .expect("a determinant of the code is found");
        assert_eq!(code.determinant, 1);
        let pair = code.pair.as_ref().expect("region and measure together");
        assert_eq!(pair.second, 0);
        // Only the typo is left: 1 of the 36 north rows. The four south pairs hold one row
        // each, so they cannot show a violation.
        assert!((code.g3 - 1.0 / 36.0).abs() < 1e-9, "{}", code.g3);
        let names = [
            "region".to_string(),
            "measure".to_string(),
            "code".to_string(),
        ];
        assert_eq!(code.determinant_name(&names), "measure and region");
        // The typo's row disagrees with its pair group, a south row does not.
        let counts = GroupCounts::build(code.groups(&columns), &columns[2], None);
        let typo_group = code.groups(&columns).ids[5];
        assert_ne!(
            counts.majority(typo_group).map(|(id, _)| id),
            Some(columns[2].ids[5])
        );
        let south_group = code.groups(&columns).ids[37];
        assert_eq!(
            counts.majority(south_group).map(|(id, _)| id),
            Some(columns[2].ids[37])
        );
    }

    #[test]
    fn pair_that_splits_every_group_is_not_used() {
        // The second column differs in every row of a group, so pairing with it leaves groups
        // of one: no better determinant, only a finer split.
        let zip = column(&["1", "1", "1", "1", "2", "2", "2", "2"]);
        let city = column(&["a", "a", "a", "x", "b", "b", "b", "b"]);
        let serial = column(&["s1", "s2", "s3", "s4", "s1", "s2", "s3", "s4"]);
        let found = discover(&[zip, city, serial], 0.2, 1);
        let zip_city = found
            .iter()
            .find(|dependency| dependency.dependent == 1)
            .expect("zip -> city is found");
        assert!(zip_city.pair.is_none());
        assert_eq!(zip_city.determinant, 0);
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
