//! Clustering of scored pairs into entities.
//!
//! Plain connected components over pairs above a threshold chain records together: one
//! wrong edge joins two entities, and a run of weak edges can pull thousands of records into
//! one cluster. [`cluster_pairs`] guards against that with a size cap applied in the order of
//! a maximum spanning forest:
//!
//! 1. Pairs below the threshold are dropped.
//! 2. The rest are taken strongest first (ties by row positions, so the result is
//!    deterministic).
//! 3. A pair joins its two clusters only when the joined cluster has at most
//!    `max_cluster_size` records; otherwise the pair is rejected and counted.
//!
//! Each cluster is thus held together by its strongest pairs, and the pairs that would have
//! grown it past the cap are the weakest ones that reached it. A cap of 2 in linkage of two
//! sources without internal duplicates gives a greedy one-to-one assignment.

use serde::{Deserialize, Serialize};

use super::{CandidatePair, ErError};

/// A candidate pair with its match score (a probability, a log-likelihood ratio or any
/// score where higher means more likely the same entity).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// The pair.
    pub pair: CandidatePair,
    /// Match score.
    pub score: f64,
}

impl ScoredPair {
    /// Creates a scored pair.
    pub fn new(pair: CandidatePair, score: f64) -> Self {
        Self { pair, score }
    }
}

/// Configuration of [`cluster_pairs`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Pairs scored below this take no part.
    pub threshold: f64,
    /// Largest number of records in one cluster, at least 1.
    pub max_cluster_size: usize,
}

impl Default for ClusterConfig {
    /// Threshold 0.5 (for probabilities) and clusters of at most 1,000 records.
    fn default() -> Self {
        Self {
            threshold: 0.5,
            max_cluster_size: 1_000,
        }
    }
}

/// Clusters and the counts of what happened to the pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Cluster of each record: the smallest record position in its cluster, so a record
    /// alone is its own cluster.
    pub cluster_of: Vec<u32>,
    /// Number of clusters, records alone included.
    pub clusters: u64,
    /// Records of the largest cluster.
    pub largest: u64,
    /// Pairs that joined two clusters.
    pub pairs_used: u64,
    /// Pairs whose records were already in one cluster.
    pub pairs_redundant: u64,
    /// Pairs below the threshold.
    pub pairs_below_threshold: u64,
    /// Pairs rejected because the joined cluster would exceed the size cap.
    pub pairs_rejected_by_size: u64,
}

impl Clustering {
    /// Records of each cluster with more than one record, in ascending order of their
    /// smallest record.
    pub fn groups(&self) -> Vec<Vec<u32>> {
        let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for (row, &cluster) in self.cluster_of.iter().enumerate() {
            groups.entry(cluster).or_default().push(row as u32);
        }
        groups
            .into_values()
            .filter(|group| group.len() > 1)
            .collect()
    }

    /// Pairs of records in one cluster, with `left < right`, sorted: the predicted matches of
    /// a deduplication. Quadratic in cluster size, which the size cap bounds.
    pub fn pairs(&self) -> Vec<CandidatePair> {
        let mut pairs = Vec::new();
        for group in self.groups() {
            for (i, &left) in group.iter().enumerate() {
                for &right in &group[i + 1..] {
                    pairs.push(CandidatePair::new(left, right));
                }
            }
        }
        pairs.sort_unstable();
        pairs
    }
}

/// Union-find with union by size and path halving.
struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DisjointSets {
    fn new(records: usize) -> Self {
        Self {
            parent: (0..records as u32).collect(),
            size: vec![1; records],
        }
    }

    fn find(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }
}

/// Clusters `records` records (positions `0..records`) from scored pairs, under the rule in
/// the module docs. In linkage, number the right table's records after the left table's
/// (`left_len + right`) before calling.
///
/// # Errors
/// [`ErError::InvalidConfig`] for a NaN threshold, a zero size cap or a NaN score, and
/// [`ErError::RowOutOfRange`] for a pair that names a record at or past `records`.
pub fn cluster_pairs(
    records: usize,
    pairs: &[ScoredPair],
    config: &ClusterConfig,
) -> Result<Clustering, ErError> {
    if config.threshold.is_nan() {
        return Err(ErError::invalid_config(
            "threshold",
            "NaN",
            "use a number such as 0.5",
        ));
    }
    if config.max_cluster_size == 0 {
        return Err(ErError::invalid_config(
            "max_cluster_size",
            0,
            "allow at least 1 record per cluster",
        ));
    }
    if records > u32::MAX as usize {
        return Err(ErError::TooManyRecords {
            table: "clustering input".into(),
            records,
            max: u32::MAX as usize,
        });
    }
    let mut kept = Vec::with_capacity(pairs.len());
    let mut below = 0;
    for scored in pairs {
        if scored.score.is_nan() {
            return Err(ErError::invalid_config(
                format!(
                    "score of pair ({}, {})",
                    scored.pair.left, scored.pair.right
                ),
                "NaN",
                "score every pair with a number, so check the comparator that scored it",
            ));
        }
        for row in [scored.pair.left, scored.pair.right] {
            if row as usize >= records {
                return Err(ErError::RowOutOfRange {
                    what: "a scored pair".into(),
                    row,
                    records,
                });
            }
        }
        if scored.score < config.threshold {
            below += 1;
        } else {
            kept.push(*scored);
        }
    }
    kept.sort_unstable_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.pair.cmp(&b.pair))
    });

    let mut sets = DisjointSets::new(records);
    let cap = u32::try_from(config.max_cluster_size).unwrap_or(u32::MAX);
    let (mut used, mut redundant, mut rejected) = (0, 0, 0);
    for scored in &kept {
        let a = sets.find(scored.pair.left);
        let b = sets.find(scored.pair.right);
        if a == b {
            redundant += 1;
            continue;
        }
        let joined = sets.size[a as usize] + sets.size[b as usize];
        if joined > cap {
            rejected += 1;
            continue;
        }
        let (large, small) = if sets.size[a as usize] >= sets.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        sets.parent[small as usize] = large;
        sets.size[large as usize] = joined;
        used += 1;
    }

    // Name each cluster by its smallest record: the first row seen with that root.
    let mut name_of_root = vec![u32::MAX; records];
    let mut cluster_of = Vec::with_capacity(records);
    let mut clusters = 0;
    let mut largest = 0;
    for row in 0..records as u32 {
        let root = sets.find(row);
        if name_of_root[root as usize] == u32::MAX {
            name_of_root[root as usize] = row;
            clusters += 1;
            largest = largest.max(u64::from(sets.size[root as usize]));
        }
        cluster_of.push(name_of_root[root as usize]);
    }
    Ok(Clustering {
        cluster_of,
        clusters,
        largest,
        pairs_used: used,
        pairs_redundant: redundant,
        pairs_below_threshold: below,
        pairs_rejected_by_size: rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(left: u32, right: u32, score: f64) -> ScoredPair {
        ScoredPair::new(CandidatePair::new(left, right), score)
    }

    #[test]
    fn components_above_threshold() {
        let pairs = [scored(0, 1, 0.9), scored(1, 2, 0.8), scored(3, 4, 0.3)];
        let config = ClusterConfig {
            threshold: 0.5,
            max_cluster_size: 10,
        };
        let clustering = cluster_pairs(5, &pairs, &config).expect("valid");
        assert_eq!(clustering.cluster_of, [0, 0, 0, 3, 4]);
        assert_eq!(clustering.clusters, 3);
        assert_eq!(clustering.largest, 3);
        assert_eq!(clustering.pairs_below_threshold, 1);
        assert_eq!(clustering.groups(), [vec![0, 1, 2]]);
        assert_eq!(clustering.pairs().len(), 3);
    }

    #[test]
    fn size_cap_drops_weakest_link() {
        // A chain 0-1-2-3-4-5 whose middle link is weakest splits there under a cap of 3.
        let pairs = [
            scored(0, 1, 0.99),
            scored(1, 2, 0.98),
            scored(2, 3, 0.6),
            scored(3, 4, 0.97),
            scored(4, 5, 0.96),
        ];
        let config = ClusterConfig {
            threshold: 0.5,
            max_cluster_size: 3,
        };
        let clustering = cluster_pairs(6, &pairs, &config).expect("valid");
        assert_eq!(clustering.cluster_of, [0, 0, 0, 3, 3, 3]);
        assert_eq!(clustering.pairs_rejected_by_size, 1);
        assert_eq!(clustering.largest, 3);
    }

    #[test]
    fn long_chain_bounded_by_cap() {
        let pairs: Vec<ScoredPair> = (0..9_999).map(|i| scored(i, i + 1, 0.9)).collect();
        let config = ClusterConfig {
            threshold: 0.5,
            max_cluster_size: 50,
        };
        let clustering = cluster_pairs(10_000, &pairs, &config).expect("valid");
        assert!(clustering.largest <= 50, "largest {}", clustering.largest);
        assert_eq!(clustering.clusters, 200);
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let mut pairs = vec![
            scored(0, 1, 0.7),
            scored(1, 2, 0.7),
            scored(2, 0, 0.7),
            scored(2, 3, 0.7),
        ];
        let config = ClusterConfig {
            threshold: 0.5,
            max_cluster_size: 3,
        };
        let first = cluster_pairs(4, &pairs, &config).expect("valid");
        pairs.reverse();
        let second = cluster_pairs(4, &pairs, &config).expect("valid");
        assert_eq!(first, second);
    }

    #[test]
    fn invalid_inputs_rejected() {
        let config = ClusterConfig::default();
        let err = cluster_pairs(2, &[scored(0, 5, 0.9)], &config).expect_err("row 5");
        assert!(
            matches!(err, ErError::RowOutOfRange { row: 5, .. }),
            "{err}"
        );
        let err = cluster_pairs(2, &[scored(0, 1, f64::NAN)], &config).expect_err("NaN");
        assert!(err.to_string().contains("score of pair (0, 1)"), "{err}");
        let zero = ClusterConfig {
            max_cluster_size: 0,
            ..config
        };
        assert!(cluster_pairs(2, &[], &zero).is_err());
    }
}
