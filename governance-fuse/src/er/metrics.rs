//! Quality measures of blocking, matching and clustering against ground truth.
//!
//! Blocking is measured by pair completeness (the share of true matches among the
//! candidates, its recall), reduction ratio (`1 - candidates / all pairs`) and pair quality
//! (the share of candidates that are true matches, its precision). Matching is measured by
//! pairwise precision, recall and F1 of the predicted match set. Clustering of a
//! deduplication is measured by pairwise F1 over all pairs of records placed in one cluster
//! versus pairs of the same true entity.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::{CandidatePair, ErError, LinkMode};

/// Returns `1 - candidates / total_pairs`, or 0 when there are no pairs at all.
pub fn reduction_ratio(candidates: u64, total_pairs: u64) -> f64 {
    if total_pairs == 0 {
        return 0.0;
    }
    1.0 - candidates as f64 / total_pairs as f64
}

/// Sorted, distinct true pairs; in deduplication each pair is stored with `left < right` and
/// pairs of a record with itself are dropped, since they are no comparison.
pub fn normalise_truth(
    mode: LinkMode,
    pairs: impl IntoIterator<Item = CandidatePair>,
) -> Vec<CandidatePair> {
    let mut truth: Vec<CandidatePair> = pairs
        .into_iter()
        .filter_map(|pair| match mode {
            LinkMode::Link => Some(pair),
            LinkMode::Dedupe if pair.left == pair.right => None,
            LinkMode::Dedupe => Some(CandidatePair::ordered(pair.left, pair.right)),
        })
        .collect();
    truth.sort_unstable();
    truth.dedup();
    truth
}

/// All pairs of records that share an entity label, with `left < right`: the true matches of
/// a deduplication. Records with the label `None` match nothing.
pub fn true_pairs_from_entities<T: Hash + Eq>(entities: &[Option<T>]) -> Vec<CandidatePair> {
    let mut members: HashMap<&T, Vec<u32>> = HashMap::new();
    for (row, entity) in entities.iter().enumerate() {
        if let Some(entity) = entity {
            members.entry(entity).or_default().push(row as u32);
        }
    }
    let mut pairs = Vec::new();
    for rows in members.values() {
        for (i, &left) in rows.iter().enumerate() {
            for &right in &rows[i + 1..] {
                pairs.push(CandidatePair::new(left, right));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Blocking quality against ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockingQuality {
    /// Distinct candidate pairs.
    pub candidates: u64,
    /// Pairs without blocking.
    pub total_pairs: u64,
    /// True matches.
    pub true_pairs: u64,
    /// True matches among the candidates.
    pub true_candidates: u64,
    /// `true_candidates / true_pairs`; 1 when there are no true pairs.
    pub pair_completeness: f64,
    /// `1 - candidates / total_pairs`.
    pub reduction_ratio: f64,
    /// `true_candidates / candidates`; 0 when there are no candidates.
    pub pair_quality: f64,
}

impl BlockingQuality {
    /// Measures `candidates` against the `truth` pairs (both as from [`normalise_truth`] or a
    /// blocker: sorted and distinct).
    pub fn measure(
        candidates: &[CandidatePair],
        truth: &[CandidatePair],
        total_pairs: u64,
    ) -> Self {
        let true_candidates = count_common(candidates, truth);
        Self {
            candidates: candidates.len() as u64,
            total_pairs,
            true_pairs: truth.len() as u64,
            true_candidates,
            pair_completeness: ratio_or(true_candidates, truth.len() as u64, 1.0),
            reduction_ratio: reduction_ratio(candidates.len() as u64, total_pairs),
            pair_quality: ratio_or(true_candidates, candidates.len() as u64, 0.0),
        }
    }
}

/// Pairwise precision, recall and F1 of a predicted match set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairMetrics {
    /// Predicted pairs that are true matches.
    pub true_positives: u64,
    /// Predicted pairs that are not.
    pub false_positives: u64,
    /// True matches not predicted.
    pub false_negatives: u64,
    /// `tp / (tp + fp)`; 0 when nothing is predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`; 1 when there is nothing to find.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
}

impl PairMetrics {
    /// Computes the metrics from the three counts.
    pub fn from_counts(true_positives: u64, false_positives: u64, false_negatives: u64) -> Self {
        let precision = ratio_or(true_positives, true_positives + false_positives, 0.0);
        let recall = ratio_or(true_positives, true_positives + false_negatives, 1.0);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            true_positives,
            false_positives,
            false_negatives,
            precision,
            recall,
            f1,
        }
    }

    /// Measures `predicted` against `truth`; both sorted and distinct.
    pub fn measure(predicted: &[CandidatePair], truth: &[CandidatePair]) -> Self {
        let true_positives = count_common(predicted, truth);
        Self::from_counts(
            true_positives,
            predicted.len() as u64 - true_positives,
            truth.len() as u64 - true_positives,
        )
    }
}

/// Pairwise metrics of a clustering of one table against true entities: a pair is predicted
/// when both records are in one cluster and true when both have the same entity.
///
/// `clusters[row]` is the cluster of each record and `entities[row]` its true entity; a
/// `None` entity matches nothing. Runs in linear time from the contingency table of
/// (cluster, entity) counts, so it handles clusters of any size.
///
/// # Errors
/// [`ErError::LengthMismatch`] when the two slices differ in length.
pub fn cluster_pair_metrics<C: Hash + Eq, T: Hash + Eq>(
    clusters: &[C],
    entities: &[Option<T>],
) -> Result<PairMetrics, ErError> {
    if clusters.len() != entities.len() {
        return Err(ErError::LengthMismatch {
            what: "the list of true entities".into(),
            expected: clusters.len(),
            found: entities.len(),
        });
    }
    let choose2 = |n: u64| n * n.saturating_sub(1) / 2;
    let mut cluster_sizes: HashMap<&C, u64> = HashMap::new();
    let mut entity_sizes: HashMap<&T, u64> = HashMap::new();
    let mut cells: HashMap<(&C, &T), u64> = HashMap::new();
    for (cluster, entity) in clusters.iter().zip(entities) {
        *cluster_sizes.entry(cluster).or_default() += 1;
        if let Some(entity) = entity {
            *entity_sizes.entry(entity).or_default() += 1;
            *cells.entry((cluster, entity)).or_default() += 1;
        }
    }
    let predicted: u64 = cluster_sizes.values().map(|&n| choose2(n)).sum();
    let truth: u64 = entity_sizes.values().map(|&n| choose2(n)).sum();
    let true_positives: u64 = cells.values().map(|&n| choose2(n)).sum();
    Ok(PairMetrics::from_counts(
        true_positives,
        predicted - true_positives,
        truth - true_positives,
    ))
}

/// Counts the pairs in both sorted, distinct slices by a merge walk.
fn count_common(a: &[CandidatePair], b: &[CandidatePair]) -> u64 {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

fn ratio_or(numerator: u64, denominator: u64, empty: f64) -> f64 {
    if denominator == 0 {
        empty
    } else {
        numerator as f64 / denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(u32, u32)]) -> Vec<CandidatePair> {
        list.iter()
            .map(|&(l, r)| CandidatePair::new(l, r))
            .collect()
    }

    #[test]
    fn blocking_quality_counts() {
        let truth = pairs(&[(0, 1), (2, 3)]);
        let candidates = pairs(&[(0, 1), (0, 2), (1, 2), (1, 3)]);
        let quality = BlockingQuality::measure(&candidates, &truth, 6);
        assert_eq!(quality.true_candidates, 1);
        assert!((quality.pair_completeness - 0.5).abs() < 1e-12);
        assert!((quality.reduction_ratio - (1.0 - 4.0 / 6.0)).abs() < 1e-12);
        assert!((quality.pair_quality - 0.25).abs() < 1e-12);
    }

    #[test]
    fn pair_metrics_precision_recall_f1() {
        let truth = pairs(&[(0, 1), (2, 3), (4, 5)]);
        let predicted = pairs(&[(0, 1), (2, 3), (0, 5), (1, 4)]);
        let metrics = PairMetrics::measure(&predicted, &truth);
        assert_eq!(metrics.true_positives, 2);
        assert_eq!(metrics.false_positives, 2);
        assert_eq!(metrics.false_negatives, 1);
        assert!((metrics.precision - 0.5).abs() < 1e-12);
        assert!((metrics.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((metrics.f1 - 4.0 / 7.0).abs() < 1e-12);
        let empty = PairMetrics::measure(&[], &truth);
        assert_eq!(empty.f1, 0.0);
    }

    #[test]
    fn truth_from_entities_and_normalised() {
        let entities = [Some("a"), Some("b"), Some("a"), None, Some("a")];
        assert_eq!(
            true_pairs_from_entities(&entities),
            pairs(&[(0, 2), (0, 4), (2, 4)])
        );
        let truth = normalise_truth(LinkMode::Dedupe, pairs(&[(3, 1), (1, 3), (2, 2)]));
        assert_eq!(truth, pairs(&[(1, 3)]));
        let linked = normalise_truth(LinkMode::Link, pairs(&[(3, 1), (1, 3)]));
        assert_eq!(linked.len(), 2);
    }

    #[test]
    fn cluster_metrics_match_pair_metrics() {
        // Truth: {0, 1, 2}, {3, 4}; predicted: {0, 1}, {2, 3, 4}.
        let clusters = [7, 7, 9, 9, 9];
        let entities = [Some('a'), Some('a'), Some('a'), Some('b'), Some('b')];
        let metrics = cluster_pair_metrics(&clusters, &entities).expect("same length");
        // Predicted pairs: (0,1), (2,3), (2,4), (3,4); true: (0,1), (0,2), (1,2), (3,4).
        assert_eq!(metrics.true_positives, 2);
        assert_eq!(metrics.false_positives, 2);
        assert_eq!(metrics.false_negatives, 2);
        assert!((metrics.f1 - 0.5).abs() < 1e-12);
        let err = cluster_pair_metrics(&clusters, &entities[..2]).expect_err("lengths differ");
        assert!(matches!(err, ErError::LengthMismatch { .. }));
    }
}
