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
//!
//! # Cannot-link pairs
//!
//! A pair can score above the threshold and still be confidently two entities: twins share
//! family name, birth date, address and phone, and differ only in given name. One such pair
//! merges two clusters, and every record of one then pairs with every record of the other.
//! [`cluster_pairs_with_cannot_link`] takes such pairs as constraints (for example from
//! [`crate::er::cannot_link`]): step 3 also rejects a pair when the joined cluster would
//! contain both records of any cannot-link pair. A chain A-B-C whose ends A and C are
//! cannot-link thus keeps A-B (the stronger link) and leaves C apart, instead of putting A
//! and C in one cluster through B. [`cluster_pairs`] is the same without constraints.

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
    /// Pairs rejected because the joined cluster would contain a cannot-link pair.
    pub pairs_rejected_by_cannot_link: u64,
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

/// Union-find with union by size and path halving. Each root also keeps the records that
/// a cannot-link pair ties to one of its records; `cannot_link` is empty when there are no
/// cannot-link pairs, so that plain clustering does not pay for it.
struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
    cannot_link: Vec<Vec<u32>>,
}

impl DisjointSets {
    fn new(records: usize, with_cannot_link: bool) -> Self {
        Self {
            parent: (0..records as u32).collect(),
            size: vec![1; records],
            cannot_link: if with_cannot_link {
                vec![Vec::new(); records]
            } else {
                Vec::new()
            },
        }
    }

    /// Returns whether some record of the cluster of root `a` is cannot-link with some
    /// record of the cluster of root `b`, by scanning the shorter of the two lists.
    fn conflict(&mut self, a: u32, b: u32) -> bool {
        if self.cannot_link.is_empty() {
            return false;
        }
        let (scan, other) =
            if self.cannot_link[a as usize].len() <= self.cannot_link[b as usize].len() {
                (a, b)
            } else {
                (b, a)
            };
        let partners = std::mem::take(&mut self.cannot_link[scan as usize]);
        let conflict = partners.iter().any(|&partner| self.find(partner) == other);
        self.cannot_link[scan as usize] = partners;
        conflict
    }

    /// Joins the clusters of roots `a` and `b` into one of `joined` records.
    fn union(&mut self, a: u32, b: u32, joined: u32) {
        let (large, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = large;
        self.size[large as usize] = joined;
        if !self.cannot_link.is_empty() {
            let moved = std::mem::take(&mut self.cannot_link[small as usize]);
            self.cannot_link[large as usize].extend(moved);
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
    cluster_pairs_with_cannot_link(records, pairs, &[], config)
}

/// Clusters as [`cluster_pairs`] does, but never puts the two records of a pair of
/// `cannot_link` in one cluster (see the module docs). A cannot-link pair may also be
/// among `pairs`; it is then rejected like any pair that would join a cannot-link pair.
///
/// # Errors
/// As [`cluster_pairs`], and [`ErError::RowOutOfRange`] for a cannot-link pair that names a
/// record at or past `records`.
pub fn cluster_pairs_with_cannot_link(
    records: usize,
    pairs: &[ScoredPair],
    cannot_link: &[CandidatePair],
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

    let mut sets = DisjointSets::new(records, !cannot_link.is_empty());
    for pair in cannot_link {
        for row in [pair.left, pair.right] {
            if row as usize >= records {
                return Err(ErError::RowOutOfRange {
                    what: "a cannot-link pair".into(),
                    row,
                    records,
                });
            }
        }
        if pair.left != pair.right {
            sets.cannot_link[pair.left as usize].push(pair.right);
            sets.cannot_link[pair.right as usize].push(pair.left);
        }
    }
    let cap = u32::try_from(config.max_cluster_size).unwrap_or(u32::MAX);
    let (mut used, mut redundant, mut rejected, mut conflicting) = (0, 0, 0, 0);
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
        if sets.conflict(a, b) {
            conflicting += 1;
            continue;
        }
        sets.union(a, b, joined);
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
        pairs_rejected_by_cannot_link: conflicting,
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
    fn cannot_link_splits_chain() {
        // A-B and B-C score above the threshold, but A and C are clearly different people.
        let pairs = [scored(0, 1, 0.95), scored(1, 2, 0.9)];
        let config = ClusterConfig::default();
        let chained = cluster_pairs(3, &pairs, &config).expect("valid");
        assert_eq!(chained.cluster_of, [0, 0, 0]);

        let split = cluster_pairs_with_cannot_link(3, &pairs, &[CandidatePair::new(0, 2)], &config)
            .expect("valid");
        assert_eq!(split.cluster_of, [0, 0, 2]);
        assert_eq!(split.pairs_used, 1);
        assert_eq!(split.pairs_rejected_by_cannot_link, 1);
        assert_eq!(split.pairs(), [CandidatePair::new(0, 1)]);
    }

    #[test]
    fn cannot_link_between_grown_clusters() {
        // Two clusters {0, 1, 2} and {3, 4}. The link 2-3 would join them, but 0 and 4 are
        // cannot-link, and neither of them is in the link itself.
        let pairs = [
            scored(0, 1, 0.99),
            scored(1, 2, 0.98),
            scored(3, 4, 0.97),
            scored(2, 3, 0.9),
            scored(5, 4, 0.8),
        ];
        let cannot_link = [CandidatePair::new(4, 0), CandidatePair::new(5, 5)];
        let clustering =
            cluster_pairs_with_cannot_link(6, &pairs, &cannot_link, &ClusterConfig::default())
                .expect("valid");
        assert_eq!(clustering.cluster_of, [0, 0, 0, 3, 3, 3]);
        assert_eq!(clustering.pairs_rejected_by_cannot_link, 1);
        // The result does not depend on the order of the pairs.
        let mut reversed = pairs;
        reversed.reverse();
        let again =
            cluster_pairs_with_cannot_link(6, &reversed, &cannot_link, &ClusterConfig::default())
                .expect("valid");
        assert_eq!(again, clustering);
    }

    #[test]
    fn cannot_link_pair_out_of_range() {
        let err = cluster_pairs_with_cannot_link(
            2,
            &[scored(0, 1, 0.9)],
            &[CandidatePair::new(0, 7)],
            &ClusterConfig::default(),
        )
        .expect_err("row 7");
        assert!(
            matches!(err, ErError::RowOutOfRange { row: 7, ref what, .. } if what.contains("cannot-link")),
            "{err}"
        );
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
