//! The dataset relationship graph: nodes are data sets, edges are pairs of columns in
//! different data sets whose values overlap enough to join.
//!
//! Each column of a sketched kind (text, integer, decimal, temporal) is profiled with a
//! MinHash signature of its distinct values ([`crate::sketch`]) and an exact distinct count.
//! For every pair of columns whose kinds may join ([`ColumnKind::joins_with`]), the graph
//! estimates the Jaccard similarity `|A ∩ B| / |A ∪ B|` from the signatures and the
//! containment `|A ∩ B| / |A|` in both directions from the Jaccard estimate and the distinct
//! counts. A pair becomes an edge when its Jaccard estimate reaches `min_jaccard` (the columns
//! share most values) or a containment reaches `min_containment` (one column's values lie
//! in the other, as a foreign key's in a primary key).
//!
//! Accuracy: the Jaccard estimate has a standard error of about `sqrt(J (1 - J) / k)` for `k`
//! hash functions (at most 0.031 for the default `k = 256`). The containment of a small
//! column in a much larger one has a larger error, because the estimate divides the Jaccard
//! estimate by the small column's share of the union.
//!
//! # Finding candidate pairs
//!
//! With [`PairSearch::Exhaustive`] (the default) every pair of compatible columns is
//! compared, `O(columns²)` signature comparisons of `k` integers each. With
//! [`PairSearch::Lsh`] the graph keeps a MinHash LSH index: each signature is cut into `b`
//! bands of `r` positions, and only columns that share a band with the new column are
//! compared, exactly as before. Two columns of Jaccard similarity `J` share a band with
//! probability `1 - (1 - J^r)^b`.
//!
//! The banding comes from the thresholds ([`GraphConfig::lsh_bands`]). A containment edge
//! of `A` in `B` with `|B| = ρ |A|` has `J = c / (1 + ρ - c)` at containment `c`, so the
//! smallest Jaccard an edge may have is `J_min = min(min_jaccard, min_containment / (1 +
//! lsh_max_size_ratio - min_containment))`. The banding is the one with the most rows per
//! band (fewest false candidates) that still makes a pair at `J_min` a candidate with
//! probability `lsh_recall`. With the defaults (`k = 256`, `min_jaccard` 0.5,
//! `min_containment` 0.8, ratio 4, recall 0.99) `J_min` is 0.19 and the banding is 128 bands
//! of 2 rows.
//!
//! What LSH can miss: a containment edge between columns whose distinct counts differ by more
//! than `lsh_max_size_ratio` (a column of 10 codes inside one of 1,000) has a Jaccard below
//! `J_min`, so it is found only by chance. For such edges, raise the ratio (more candidates,
//! slower) or use the exhaustive search. Any edge is missed with probability about `1 -
//! lsh_recall` at `J_min`, and less above it.

mod profile;

use std::collections::HashSet;

use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::sketch::{LshBands, MinHashSignature, MinHasher, SketchError};
pub use profile::{ColumnKind, ColumnProfile, DatasetProfile};

/// Configuration of a [`DatasetGraph`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphConfig {
    /// Hash functions per signature. Default 256.
    pub num_hashes: usize,
    /// Seed of the hash functions; profiles built with another seed cannot be added.
    /// Default 0.
    pub seed: u64,
    /// Smallest Jaccard estimate of a `joinable` edge. Default 0.5.
    pub min_jaccard: f64,
    /// Smallest containment estimate of a `contained` edge. Default 0.8.
    pub min_containment: f64,
    /// Columns with fewer distinct values are left out of edges: a column of one or two
    /// values overlaps with anything. Default 3.
    pub min_distinct: u64,
    /// Search for candidate column pairs. Default `exhaustive`.
    pub search: PairSearch,
    /// With `lsh`: the largest ratio of two columns' distinct counts at which a containment
    /// edge is still looked for on purpose (see the module docs). At least 1. Default 4.
    pub lsh_max_size_ratio: f64,
    /// With `lsh`: the probability, in (0, 1), that a pair at the smallest edge Jaccard
    /// becomes a candidate. Default 0.99.
    pub lsh_recall: f64,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            num_hashes: 256,
            seed: 0,
            min_jaccard: 0.5,
            min_containment: 0.8,
            min_distinct: 3,
            search: PairSearch::Exhaustive,
            lsh_max_size_ratio: 4.0,
            lsh_recall: 0.99,
        }
    }
}

/// Search that a [`DatasetGraph`] uses to find the column pairs it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSearch {
    /// Compare every pair of compatible columns in different data sets.
    #[default]
    Exhaustive,
    /// Compare only pairs that share an LSH band of their MinHash signatures.
    Lsh,
}

impl GraphConfig {
    /// Returns the smallest Jaccard similarity an edge may have when no two columns' distinct
    /// counts differ by more than `lsh_max_size_ratio`.
    pub fn min_edge_jaccard(&self) -> f64 {
        let containment = self.min_containment;
        let from_containment = containment / (1.0 + self.lsh_max_size_ratio - containment);
        self.min_jaccard.min(from_containment)
    }

    /// Returns the LSH banding: the most rows per band at which a pair at
    /// [`min_edge_jaccard`](Self::min_edge_jaccard) becomes a candidate with probability at
    /// least `lsh_recall`, or one row per band when no banding reaches it.
    pub fn lsh_bands(&self) -> Result<LshBands> {
        let floor = self.min_edge_jaccard();
        for rows in (1..=self.num_hashes).rev() {
            let bands = LshBands::new(self.num_hashes / rows, rows, self.num_hashes)
                .map_err(|error| Error::config("dataset graph", error.to_string()))?;
            if rows == 1 || bands.candidate_probability(floor) >= self.lsh_recall {
                return Ok(bands);
            }
        }
        Err(Error::config(
            "dataset graph",
            "num_hashes is 0: use at least 1 hash function",
        ))
    }
}

/// The LSH index of the columns in the graph: band key to (data set, column) positions.
#[derive(Debug)]
struct LshIndex {
    bands: LshBands,
    buckets: HashMap<u64, Vec<(u32, u32)>>,
}

/// One column of one data set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    /// Data set name.
    pub dataset: String,
    /// Column name.
    pub column: String,
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}.{}", self.dataset, self.column)
    }
}

/// Criterion that links two columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The Jaccard estimate reaches `min_jaccard`.
    Joinable,
    /// The left column's values lie in the right column.
    LeftContained,
    /// The right column's values lie in the left column.
    RightContained,
}

/// An edge between two columns of different data sets, with its estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// The column of the data set added first.
    pub left: ColumnRef,
    /// The column of the data set added later.
    pub right: ColumnRef,
    /// Estimated Jaccard similarity of the distinct values.
    pub jaccard: f64,
    /// Estimated share of the left column's distinct values found in the right column.
    pub left_in_right: f64,
    /// Estimated share of the right column's distinct values found in the left column.
    pub right_in_left: f64,
    /// The criteria the pair meets, at least one.
    pub relations: Vec<Relation>,
}

impl Edge {
    /// Returns the largest of the three estimates, used to rank edges.
    pub fn score(&self) -> f64 {
        self.jaccard.max(self.left_in_right).max(self.right_in_left)
    }
}

/// A column that joins a queried column, from [`DatasetGraph::joins_for`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinCandidate {
    /// The other column.
    pub column: ColumnRef,
    /// Estimated Jaccard similarity.
    pub jaccard: f64,
    /// Estimated share of the queried column's values found in the other column.
    pub containment: f64,
    /// Estimated share of the other column's values found in the queried column.
    pub reverse_containment: f64,
    /// Largest of the three estimates.
    pub score: f64,
}

/// The graph in its exported form: data set summaries without signatures, and the edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphExport {
    /// Config the graph was built with.
    pub config: GraphConfig,
    /// One node per data set.
    pub datasets: Vec<DatasetNode>,
    /// Edges, best score first.
    pub edges: Vec<Edge>,
}

/// A data set node in the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetNode {
    /// Data set name.
    pub name: String,
    /// Rows.
    pub rows: u64,
    /// Columns with kind and counts.
    pub columns: Vec<ColumnNode>,
}

/// A column in the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnNode {
    /// Column name.
    pub name: String,
    /// Arrow type, as text.
    pub data_type: String,
    /// Broad type.
    pub kind: ColumnKind,
    /// Null values.
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: u64,
}

/// Data sets and the column edges between them; see the module docs.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Int64Array, RecordBatch, StringArray};
/// use arrow::datatypes::{DataType, Field, Schema};
/// use governance_fuse::graph::{DatasetGraph, GraphConfig};
///
/// let stations = RecordBatch::try_new(
///     Arc::new(Schema::new(vec![Field::new("code", DataType::Utf8, false)])),
///     vec![Arc::new(StringArray::from((0..100).map(|i| format!("S{i}")).collect::<Vec<_>>()))],
/// )?;
/// let readings = RecordBatch::try_new(
///     Arc::new(Schema::new(vec![Field::new("station", DataType::Utf8, false)])),
///     vec![Arc::new(StringArray::from((0..40).map(|i| format!("S{i}")).collect::<Vec<_>>()))],
/// )?;
/// let mut graph = DatasetGraph::new(GraphConfig::default())?;
/// graph.add_batches("stations", &[stations])?;
/// graph.add_batches("readings", &[readings])?;
/// let joins = graph.joins_for("readings", "station")?;
/// assert_eq!(joins[0].column.to_string(), "stations.code");
/// assert!(joins[0].containment > 0.85);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DatasetGraph {
    config: GraphConfig,
    hasher: MinHasher,
    datasets: Vec<DatasetProfile>,
    edges: Vec<Edge>,
    lsh: Option<LshIndex>,
    pairs_compared: u64,
}

impl DatasetGraph {
    /// Creates an empty graph; fails when `num_hashes` is 0 or a threshold is outside (0, 1].
    pub fn new(config: GraphConfig) -> Result<Self> {
        let hasher = MinHasher::new(config.num_hashes, config.seed)
            .map_err(|error| Error::config("dataset graph", error.to_string()))?;
        for (name, value) in [
            ("min_jaccard", config.min_jaccard),
            ("min_containment", config.min_containment),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::config(
                    "dataset graph",
                    format!("{name} {value} is invalid: use a value in (0, 1]"),
                ));
            }
        }
        if !(config.lsh_max_size_ratio >= 1.0 && config.lsh_max_size_ratio.is_finite()) {
            return Err(Error::config(
                "dataset graph",
                format!(
                    "lsh_max_size_ratio {} is invalid: use a finite value of at least 1",
                    config.lsh_max_size_ratio
                ),
            ));
        }
        if !(config.lsh_recall > 0.0 && config.lsh_recall < 1.0) {
            return Err(Error::config(
                "dataset graph",
                format!(
                    "lsh_recall {} is invalid: use a value in (0, 1)",
                    config.lsh_recall
                ),
            ));
        }
        let lsh = match config.search {
            PairSearch::Exhaustive => None,
            PairSearch::Lsh => Some(LshIndex {
                bands: config.lsh_bands()?,
                buckets: HashMap::new(),
            }),
        };
        Ok(DatasetGraph {
            config,
            hasher,
            datasets: Vec::new(),
            edges: Vec::new(),
            lsh,
            pairs_compared: 0,
        })
    }

    /// Returns the hasher, for building profiles elsewhere that this graph accepts.
    pub fn hasher(&self) -> &MinHasher {
        &self.hasher
    }

    /// Profiles `batches` as data set `name` and adds it; see [`DatasetProfile::from_batches`].
    pub fn add_batches(&mut self, name: &str, batches: &[arrow::array::RecordBatch]) -> Result<()> {
        self.check_new_name(name)?;
        let profile = DatasetProfile::from_batches(name, batches, &self.hasher)?;
        self.add_profile(profile)
    }

    /// Adds a data set from a stored profile and links its columns to those already in the
    /// graph. Fails when the name is empty or taken, or a signature was built with another
    /// number of hash functions or seed.
    pub fn add_profile(&mut self, profile: DatasetProfile) -> Result<()> {
        self.check_new_name(&profile.name)?;
        let probe = self.hasher.signature(["probe"]);
        for column in &profile.columns {
            if let Some(signature) = &column.signature
                && !signature.is_empty()
            {
                signature.jaccard(&probe).map_err(|error| {
                    Error::InvalidInput(format!(
                        "column {:?} of data set {:?}: {error}",
                        column.name, profile.name
                    ))
                })?;
            }
        }
        let mut edges = Vec::new();
        let mut compared = 0u64;
        match &self.lsh {
            None => {
                for other in &self.datasets {
                    for left in &other.columns {
                        for right in &profile.columns {
                            compared += 1;
                            if let Some(edge) = self.link(other, left, &profile, right)? {
                                edges.push(edge);
                            }
                        }
                    }
                }
            }
            Some(index) => {
                // Candidates in the exhaustive pass's order, so both find edges in one order.
                let mut triples: Vec<(u32, u32, u32)> = Vec::new();
                let mut new_keys = Vec::with_capacity(profile.columns.len());
                for (position, right) in profile.columns.iter().enumerate() {
                    let keys = match self.indexed_signature(right) {
                        Some(signature) => {
                            index.bands.band_keys(signature).map_err(sketch_error)?
                        }
                        None => Vec::new(),
                    };
                    for key in &keys {
                        if let Some(found) = index.buckets.get(key) {
                            triples.extend(
                                found
                                    .iter()
                                    .map(|&(set, column)| (set, column, position as u32)),
                            );
                        }
                    }
                    new_keys.push(keys);
                }
                triples.sort_unstable();
                triples.dedup();
                for (set, column, position) in triples {
                    let other = &self.datasets[set as usize];
                    let left = &other.columns[column as usize];
                    let right = &profile.columns[position as usize];
                    compared += 1;
                    if let Some(edge) = self.link(other, left, &profile, right)? {
                        edges.push(edge);
                    }
                }
                let set = u32::try_from(self.datasets.len()).map_err(|_| {
                    Error::InvalidInput("the graph already contains u32::MAX data sets: split it into several graphs".into())
                })?;
                if let Some(index) = &mut self.lsh {
                    for (position, keys) in new_keys.into_iter().enumerate() {
                        for key in keys {
                            index
                                .buckets
                                .entry(key)
                                .or_default()
                                .push((set, position as u32));
                        }
                    }
                }
            }
        }
        self.pairs_compared += compared;
        tracing::debug!(dataset = %profile.name, compared, columns = profile.columns.len(), edges = edges.len(), "dataset added to graph");
        self.edges.extend(edges);
        self.datasets.push(profile);
        Ok(())
    }

    fn check_new_name(&self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidInput(
                "data set name is empty: give every data set a name".into(),
            ));
        }
        if self.datasets.iter().any(|dataset| dataset.name == name) {
            return Err(Error::InvalidInput(format!(
                "data set {name:?} is already in the graph: use another name"
            )));
        }
        Ok(())
    }

    /// Returns the signature of a column that can have edges, for the LSH index.
    fn indexed_signature<'a>(&self, column: &'a ColumnProfile) -> Option<&'a MinHashSignature> {
        let signature = column.signature.as_ref()?;
        let usable = column.kind.is_sketched()
            && column.distinct >= self.config.min_distinct
            && !signature.is_empty();
        usable.then_some(signature)
    }

    /// Returns the number of column pairs compared so far, candidates and misses alike.
    pub fn pairs_compared(&self) -> u64 {
        self.pairs_compared
    }

    /// Returns the edge between two columns when the pair meets a threshold.
    fn link(
        &self,
        left_set: &DatasetProfile,
        left: &ColumnProfile,
        right_set: &DatasetProfile,
        right: &ColumnProfile,
    ) -> Result<Option<Edge>> {
        if !left.kind.joins_with(right.kind)
            || left.distinct < self.config.min_distinct
            || right.distinct < self.config.min_distinct
        {
            return Ok(None);
        }
        let (Some(left_signature), Some(right_signature)) = (&left.signature, &right.signature)
        else {
            return Ok(None);
        };

        let estimate = |from: &MinHashSignature, to: &MinHashSignature, from_size, to_size| {
            from.containment_in(to, from_size, to_size)
                .map_err(sketch_error)
        };
        let jaccard = left_signature
            .jaccard(right_signature)
            .map_err(sketch_error)?;
        let left_in_right = estimate(
            left_signature,
            right_signature,
            left.distinct,
            right.distinct,
        )?;
        let right_in_left = estimate(
            right_signature,
            left_signature,
            right.distinct,
            left.distinct,
        )?;

        let mut relations = Vec::new();
        if jaccard >= self.config.min_jaccard {
            relations.push(Relation::Joinable);
        }
        if left_in_right >= self.config.min_containment {
            relations.push(Relation::LeftContained);
        }
        if right_in_left >= self.config.min_containment {
            relations.push(Relation::RightContained);
        }
        if relations.is_empty() {
            return Ok(None);
        }

        Ok(Some(Edge {
            left: ColumnRef {
                dataset: left_set.name.clone(),
                column: left.name.clone(),
            },
            right: ColumnRef {
                dataset: right_set.name.clone(),
                column: right.name.clone(),
            },
            jaccard,
            left_in_right,
            right_in_left,
            relations,
        }))
    }

    /// Returns the profiles of the data sets, in the order added.
    pub fn datasets(&self) -> &[DatasetProfile] {
        &self.datasets
    }

    /// Returns the edges, in the order found.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Returns the columns that join `dataset.column`, best score first. Fails when the data
    /// set or the column is not in the graph.
    pub fn joins_for(&self, dataset: &str, column: &str) -> Result<Vec<JoinCandidate>> {
        let Some(profile) = self.datasets.iter().find(|profile| profile.name == dataset) else {
            let names: Vec<&str> = self
                .datasets
                .iter()
                .map(|profile| profile.name.as_str())
                .collect();
            return Err(Error::InvalidInput(format!(
                "data set {dataset:?} not in the graph; data sets are: {}",
                names.join(", ")
            )));
        };
        if profile.column(column).is_none() {
            let names: Vec<&str> = profile
                .columns
                .iter()
                .map(|column| column.name.as_str())
                .collect();
            return Err(Error::InvalidInput(format!(
                "column {column:?} not in data set {dataset:?}; its columns are: {}",
                names.join(", ")
            )));
        }
        let query = ColumnRef {
            dataset: dataset.to_string(),
            column: column.to_string(),
        };
        let mut candidates: Vec<JoinCandidate> = self
            .edges
            .iter()
            .filter_map(|edge| {
                if edge.left == query {
                    Some((
                        edge.right.clone(),
                        edge.left_in_right,
                        edge.right_in_left,
                        edge,
                    ))
                } else if edge.right == query {
                    Some((
                        edge.left.clone(),
                        edge.right_in_left,
                        edge.left_in_right,
                        edge,
                    ))
                } else {
                    None
                }
            })
            .map(|(other, containment, reverse, edge)| JoinCandidate {
                column: other,
                jaccard: edge.jaccard,
                containment,
                reverse_containment: reverse,
                score: edge.score(),
            })
            .collect();
        candidates.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.column.cmp(&b.column))
        });
        Ok(candidates)
    }

    /// Returns the data sets that have at least one edge to `dataset`.
    pub fn neighbours(&self, dataset: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .edges
            .iter()
            .filter_map(|edge| {
                if edge.left.dataset == dataset {
                    Some(edge.right.dataset.clone())
                } else if edge.right.dataset == dataset {
                    Some(edge.left.dataset.clone())
                } else {
                    None
                }
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        names.sort();
        names
    }

    /// Returns the graph as an export: summaries without signatures, and edges best first.
    pub fn export(&self) -> GraphExport {
        let datasets = self
            .datasets
            .iter()
            .map(|profile| DatasetNode {
                name: profile.name.clone(),
                rows: profile.rows,
                columns: profile
                    .columns
                    .iter()
                    .map(|column| ColumnNode {
                        name: column.name.clone(),
                        data_type: column.data_type.clone(),
                        kind: column.kind,
                        nulls: column.nulls,
                        distinct: column.distinct,
                    })
                    .collect(),
            })
            .collect();
        let mut edges = self.edges.clone();
        edges.sort_by(|a, b| b.score().total_cmp(&a.score()));
        GraphExport {
            config: self.config.clone(),
            datasets,
            edges,
        }
    }

    /// Returns the export as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.export())
            .map_err(|error| Error::Internal(format!("graph export failed to serialise: {error}")))
    }
}

fn sketch_error(error: SketchError) -> Error {
    Error::InvalidInput(error.to_string())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod lsh_tests;
