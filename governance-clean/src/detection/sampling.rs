//! Choosing which tuples a person labels, and spreading their labels to similar cells.
//!
//! Cells of a column are clustered by their generic features rounded to on/off, so two cells
//! share a cluster when the same detectors fire on them. The column's own indicator features
//! (one per frequent character or format) are left out. They would split a text column into
//! about one cluster per distinct value, so a label would spread to no other cell and the
//! picker would chase clusters of one cell. The tuples to label are picked one at a time,
//! each the tuple whose cells fall in the most clusters that no label covers yet, the rarer
//! the better; a seeded RNG breaks only the ties left. Rare combinations of firing detectors
//! are where errors sit, so this draws errors into the labelled set, and every cluster a
//! label covers lends the label to its other cells.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::features::ColumnFeatures;

/// The cluster of each cell of one column, as a dense id.
#[derive(Debug, Clone)]
pub(crate) struct Clusters {
    pub of_row: Vec<u32>,
    pub sizes: Vec<u32>,
}

impl Clusters {
    /// Clusters the cells of one column by their first `detectors` features, each rounded to
    /// on or off.
    pub fn of(features: &ColumnFeatures, detectors: usize, rows: usize) -> Clusters {
        let mut ids: HashMap<Vec<bool>, u32> = HashMap::new();
        let mut of_row = Vec::with_capacity(rows);
        let mut sizes: Vec<u32> = Vec::new();
        for row in 0..rows {
            let row_features = features.row(row);
            let key: Vec<bool> = row_features[..detectors.min(row_features.len())]
                .iter()
                .map(|&value| value >= 0.5)
                .collect();
            let next = ids.len() as u32;
            let id = *ids.entry(key).or_insert(next);
            if id == next {
                sizes.push(0);
            }
            sizes[id as usize] += 1;
            of_row.push(id);
        }
        Clusters { of_row, sizes }
    }
}

/// Picks up to `budget` rows to label, leaving out rows in `already_labelled`.
pub(crate) fn pick_rows(
    clusters: &[Clusters],
    rows: usize,
    budget: usize,
    already_labelled: &[usize],
    seed: u64,
) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut covered: Vec<Vec<bool>> = clusters
        .iter()
        .map(|column| vec![false; column.sizes.len()])
        .collect();
    let mut taken = vec![false; rows];
    for &row in already_labelled {
        if row < rows {
            taken[row] = true;
            cover(clusters, &mut covered, row);
        }
    }
    let mut picked = Vec::with_capacity(budget);
    while picked.len() < budget {
        // Ranked by the number of uncovered clusters, then by their rarity (the sum of
        // 1 / size), so that the seed only decides between rows that are truly alike.
        let mut best_score = (0usize, 0.0f64);
        let mut best_rows: Vec<usize> = Vec::new();
        for row in (0..rows).filter(|&row| !taken[row]) {
            let mut score = (0usize, 0.0f64);
            for (column, done) in clusters.iter().zip(&covered) {
                let cluster = column.of_row[row] as usize;
                if !done[cluster] {
                    score.0 += 1;
                    score.1 += 1.0 / f64::from(column.sizes[cluster]);
                }
            }
            let order = score
                .0
                .cmp(&best_score.0)
                .then(score.1.total_cmp(&best_score.1));
            if order == std::cmp::Ordering::Greater {
                best_score = score;
                best_rows.clear();
            }
            if order != std::cmp::Ordering::Less {
                best_rows.push(row);
            }
        }
        // With every cluster covered, any row left is as good as another.
        let Some(&row) = best_rows.choose(&mut rng) else {
            break;
        };
        taken[row] = true;
        cover(clusters, &mut covered, row);
        picked.push(row);
    }
    picked
}

fn cover(clusters: &[Clusters], covered: &mut [Vec<bool>], row: usize) {
    for (column, done) in clusters.iter().zip(covered.iter_mut()) {
        done[column.of_row[row] as usize] = true;
    }
}

/// A training label: from a person, or spread from one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TrainingLabel {
    pub is_error: bool,
    pub weight: f32,
}

/// Weight of a propagated label relative to a label a person gave.
const PROPAGATED_WEIGHT: f32 = 0.3;

/// Returns a training label for each row of one column: the person's label where there is
/// one, else the label of the row's cluster when every labelled cell in it agrees.
pub(crate) fn propagate(
    clusters: &Clusters,
    labels: &BTreeMap<usize, bool>,
) -> Vec<Option<TrainingLabel>> {
    // Per cluster: (errors, clean cells) among the labelled rows.
    let mut votes: HashMap<u32, (u32, u32)> = HashMap::new();
    for (&row, &is_error) in labels {
        let entry = votes.entry(clusters.of_row[row]).or_insert((0, 0));
        if is_error {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    (0..clusters.of_row.len())
        .map(|row| {
            if let Some(&is_error) = labels.get(&row) {
                return Some(TrainingLabel {
                    is_error,
                    weight: 1.0,
                });
            }
            match votes.get(&clusters.of_row[row]) {
                Some(&(errors, 0)) if errors > 0 => Some(TrainingLabel {
                    is_error: true,
                    weight: PROPAGATED_WEIGHT,
                }),
                Some(&(0, clean)) if clean > 0 => Some(TrainingLabel {
                    is_error: false,
                    weight: PROPAGATED_WEIGHT,
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(rows: &[[f32; 2]]) -> ColumnFeatures {
        ColumnFeatures {
            names: vec!["a".into(), "b".into()],
            values: rows.iter().flatten().copied().collect(),
            explains: vec![true, true],
        }
    }

    #[test]
    fn picks_cover_distinct_clusters() {
        let column = features(&[[0.0, 0.0], [0.0, 0.1], [1.0, 0.0], [0.0, 0.9], [0.2, 0.0]]);
        let clusters = vec![Clusters::of(&column, 2, 5)];
        assert_eq!(clusters[0].sizes.len(), 3);
        let picked = pick_rows(&clusters, 5, 3, &[], 1);
        let mut covered: Vec<u32> = picked.iter().map(|&row| clusters[0].of_row[row]).collect();
        covered.sort_unstable();
        assert_eq!(covered, vec![0, 1, 2]);
    }

    #[test]
    fn clusters_ignore_features_past_detectors() {
        let column = features(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        let clusters = Clusters::of(&column, 1, 3);
        assert_eq!(clusters.sizes, vec![2, 1]);
        assert_eq!(clusters.of_row, vec![0, 0, 1]);
    }

    #[test]
    fn budget_larger_than_rows_stops() {
        let column = features(&[[0.0, 0.0], [1.0, 1.0]]);
        let clusters = vec![Clusters::of(&column, 2, 2)];
        assert_eq!(pick_rows(&clusters, 2, 20, &[], 3).len(), 2);
    }

    #[test]
    fn labels_spread_only_in_agreeing_clusters() {
        let column = features(&[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]);
        let clusters = Clusters::of(&column, 2, 5);
        let labels = BTreeMap::from([(0, true), (2, false), (3, true)]);
        let spread = propagate(&clusters, &labels);
        assert_eq!(spread[1].map(|label| label.is_error), Some(true));
        assert_eq!(spread[4], None);
        assert_eq!(spread[3].map(|label| label.weight), Some(1.0));
    }
}
