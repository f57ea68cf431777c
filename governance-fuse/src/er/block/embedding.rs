//! Embedding blocking: the top-k nearest neighbours of each record by cosine similarity.
//!
//! Small inputs are searched exactly (every query against every record). Large inputs use
//! random-hyperplane LSH (SimHash): each of `tables` hash tables files a vector under the
//! signs of its dot products with `bits` random Gaussian hyperplanes, and a query is compared
//! exactly only with the records that share a bucket in some table. Two unit vectors at
//! angle `θ` agree on one hyperplane with probability `1 - θ / π`, so near neighbours share
//! a bucket with high probability. This index needs no training (an IVF index needs k-means
//! over the data first), is deterministic for a seed, and its buckets are capped and
//! reported like blocks.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::groups::PairCollector;
use super::{BlockCap, Blocker, Blocking, BlockingInput, BlockingReport, CappedBlock};
use crate::er::{CandidatePair, ErError, RecordTable};

/// A text embedding function, such as `move |text| embedder.embed(text)` for any text
/// embedder. Vectors of one call must all have the same length.
pub type EmbedFn = Arc<dyn Fn(&str) -> Vec<f32> + Send + Sync>;

/// The nearest-neighbour index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EmbeddingIndex {
    /// Exact search over every pair.
    Exact,
    /// Random-hyperplane LSH with `tables` tables of `bits` hyperplanes.
    RandomHyperplanes {
        /// Hyperplanes per table, 1 to 64.
        bits: usize,
        /// Hash tables, at least 1.
        tables: usize,
        /// Seed of the hyperplanes.
        seed: u64,
    },
    /// Exact search up to `exact_limit` query-record comparisons, random hyperplanes with
    /// 8 tables beyond, with bits chosen for buckets of about 64 records.
    Auto {
        /// Largest number of comparisons searched exactly.
        exact_limit: u64,
    },
}

/// Configuration of [`EmbeddingBlocker`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingBlockerConfig {
    /// Attributes whose values, joined with a space, are embedded.
    pub attributes: Vec<String>,
    /// Neighbours kept per query record.
    pub k: usize,
    /// Neighbours below this cosine similarity are not kept.
    #[serde(default)]
    pub min_similarity: Option<f32>,
    /// The index.
    pub index: EmbeddingIndex,
    /// Limits on bucket size and on the total.
    #[serde(default)]
    pub cap: BlockCap,
}

impl EmbeddingBlockerConfig {
    /// `k` neighbours over `attributes`, with an automatic index that searches up to 50
    /// million comparisons exactly.
    pub fn new(attributes: &[&str], k: usize) -> Self {
        Self {
            attributes: attributes.iter().map(|name| (*name).to_owned()).collect(),
            k,
            min_similarity: None,
            index: EmbeddingIndex::Auto {
                exact_limit: 50_000_000,
            },
            cap: BlockCap::default(),
        }
    }
}

/// Blocking by the top-k nearest neighbours of each record's text embedding.
///
/// In deduplication every record queries its own table. In linkage every left record
/// queries the right table and every right record the left table, and both directions are
/// united, so a pair is a candidate when either record is among the other's k nearest.
pub struct EmbeddingBlocker {
    config: EmbeddingBlockerConfig,
    embed: EmbedFn,
}

impl std::fmt::Debug for EmbeddingBlocker {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EmbeddingBlocker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EmbeddingBlocker {
    /// Creates the blocker with the embedding function `embed`.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for no attributes, `k = 0`, or an index with `bits`
    /// outside 1 to 64 or no tables.
    pub fn new(config: EmbeddingBlockerConfig, embed: EmbedFn) -> Result<Self, ErError> {
        if config.attributes.is_empty() {
            return Err(ErError::invalid_config(
                "attributes",
                "[]",
                "name at least one attribute to embed",
            ));
        }
        if config.k == 0 {
            return Err(ErError::invalid_config(
                "k",
                0,
                "keep at least 1 neighbour per record",
            ));
        }
        if let EmbeddingIndex::RandomHyperplanes { bits, tables, .. } = config.index {
            if !(1..=64).contains(&bits) {
                return Err(ErError::invalid_config(
                    "bits",
                    bits,
                    "use 1 to 64 hyperplanes per table",
                ));
            }
            if tables == 0 {
                return Err(ErError::invalid_config(
                    "tables",
                    0,
                    "use at least 1 hash table",
                ));
            }
        }
        Ok(Self { config, embed })
    }

    /// Unit-length embeddings of every record; `None` for a record with no text or a zero
    /// vector.
    fn embed_table(&self, table: &RecordTable) -> Result<Vec<Option<Vec<f32>>>, ErError> {
        let indices: Vec<usize> = self
            .config
            .attributes
            .iter()
            .map(|attribute| table.attribute_index(attribute))
            .collect::<Result<_, _>>()?;
        let vectors: Vec<Option<Vec<f32>>> = (0..table.len())
            .into_par_iter()
            .map(|row| {
                let values: Vec<&str> = indices
                    .iter()
                    .filter_map(|&index| table.value(row, index))
                    .collect();
                if values.is_empty() {
                    return None;
                }
                let mut vector = (self.embed)(&values.join(" "));
                let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm == 0.0 || !norm.is_finite() {
                    return None;
                }
                vector.iter_mut().for_each(|x| *x /= norm);
                Some(vector)
            })
            .collect();
        let dim = vectors.iter().flatten().map(Vec::len).next();
        if let Some(dim) = dim
            && let Some(other) = vectors.iter().flatten().find(|vector| vector.len() != dim)
        {
            return Err(ErError::LengthMismatch {
                what: format!("an embedding of table '{}'", table.name()),
                expected: dim,
                found: other.len(),
            });
        }
        Ok(vectors)
    }

    fn resolve_index(&self, comparisons: u64, records: usize) -> EmbeddingIndex {
        match self.config.index {
            EmbeddingIndex::Auto { exact_limit } if comparisons <= exact_limit => {
                EmbeddingIndex::Exact
            }
            EmbeddingIndex::Auto { .. } => {
                let buckets = (records / 64).max(2);
                let bits = (usize::BITS - buckets.leading_zeros()) as usize;
                EmbeddingIndex::RandomHyperplanes {
                    bits: bits.clamp(1, 64),
                    tables: 8,
                    seed: 0,
                }
            }
            other => other,
        }
    }
}

/// Rows of `targets` nearest to each query, as `(query, target)` row pairs.
struct Search<'a> {
    queries: &'a [Option<Vec<f32>>],
    targets: &'a [Option<Vec<f32>>],
    k: usize,
    min_similarity: f32,
    /// Whether queries and targets are the same table, so a record never finds itself.
    same_table: bool,
}

impl Search<'_> {
    fn top_k(&self, query: usize, candidates: impl Iterator<Item = u32>) -> Vec<u32> {
        let Some(vector) = &self.queries[query] else {
            return Vec::new();
        };
        let mut best: Vec<(f32, u32)> = Vec::with_capacity(self.k + 1);
        for target in candidates {
            if self.same_table && target as usize == query {
                continue;
            }
            let Some(other) = &self.targets[target as usize] else {
                continue;
            };
            let similarity: f32 = vector.iter().zip(other).map(|(a, b)| a * b).sum();
            if similarity < self.min_similarity {
                continue;
            }
            let worse = |entry: &(f32, u32)| {
                entry.0 > similarity || (entry.0 == similarity && entry.1 < target)
            };
            let position = best.partition_point(worse);
            if position < self.k {
                best.insert(position, (similarity, target));
                best.truncate(self.k);
            }
        }
        best.into_iter().map(|(_, target)| target).collect()
    }

    fn exact(&self) -> Vec<(u32, u32)> {
        (0..self.queries.len())
            .into_par_iter()
            .flat_map_iter(|query| {
                self.top_k(query, 0..self.targets.len() as u32)
                    .into_iter()
                    .map(move |target| (query as u32, target))
            })
            .collect()
    }

    fn hyperplanes(
        &self,
        bits: usize,
        tables: usize,
        seed: u64,
        cap: &BlockCap,
        report: &mut BlockingReport,
    ) -> Vec<(u32, u32)> {
        let dim = self
            .queries
            .iter()
            .chain(self.targets)
            .flatten()
            .map(Vec::len)
            .next()
            .unwrap_or(0);
        let planes = gaussian_planes(tables * bits, dim, seed);
        let signatures = |vectors: &[Option<Vec<f32>>]| -> Vec<Option<Vec<u64>>> {
            vectors
                .par_iter()
                .map(|vector| {
                    let vector = vector.as_ref()?;
                    Some(
                        (0..tables)
                            .map(|table| {
                                let mut key = table as u64;
                                for bit in 0..bits {
                                    let plane = &planes[table * bits + bit];
                                    let dot: f32 =
                                        plane.iter().zip(vector).map(|(a, b)| a * b).sum();
                                    key = (key << 1) | u64::from(dot >= 0.0);
                                }
                                // Mixing the table into the key keeps tables apart in one map.
                                crate::sketch::hash_value(
                                    &[key.to_le_bytes(), (table as u64).to_le_bytes()].concat(),
                                )
                            })
                            .collect(),
                    )
                })
                .collect()
        };
        let query_keys = signatures(self.queries);
        let target_keys = if self.same_table {
            query_keys.clone()
        } else {
            signatures(self.targets)
        };
        let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
        for (row, keys) in target_keys.iter().enumerate() {
            for &key in keys.iter().flatten() {
                buckets.entry(key).or_default().push(row as u32);
            }
        }
        let mut skipped = std::collections::HashSet::new();
        let mut keys: Vec<&u64> = buckets.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let size = buckets[key].len() as u64;
            report.blocks += 1;
            report.largest_block = report.largest_block.max(size);
            if size > cap.max_block_records as u64 || size * size / 2 > cap.max_block_pairs {
                skipped.insert(*key);
                report.record_cap(CappedBlock {
                    rule: format!("{tables} tables of {bits} hyperplanes"),
                    key: format!("bucket {key:016x}"),
                    records: size,
                    pairs: size * size / 2,
                });
            }
        }
        (0..self.queries.len())
            .into_par_iter()
            .flat_map_iter(|query| {
                let mut candidates: Vec<u32> = query_keys[query]
                    .iter()
                    .flatten()
                    .filter(|key| !skipped.contains(*key))
                    .filter_map(|key| buckets.get(key))
                    .flatten()
                    .copied()
                    .collect();
                candidates.sort_unstable();
                candidates.dedup();
                self.top_k(query, candidates.into_iter())
                    .into_iter()
                    .map(move |target| (query as u32, target))
            })
            .collect()
    }
}

/// `count` random Gaussian vectors of length `dim`, from a SplitMix64 stream and the
/// Box-Muller transform, so they are the same on every platform for a seed.
fn gaussian_planes(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed ^ 0x5851_F42D_4C95_7F2D;
    let mut next_unit = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits in (0, 1], so the logarithm below is finite.
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            (0..dim)
                .map(|_| {
                    let (u, v) = (next_unit(), next_unit());
                    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
                })
                .collect()
        })
        .collect()
}

impl Blocker for EmbeddingBlocker {
    fn name(&self) -> &str {
        "embedding_knn"
    }

    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError> {
        let started = std::time::Instant::now();
        let attributes: Vec<&str> = self.config.attributes.iter().map(String::as_str).collect();
        input.validate(&attributes)?;
        let mut report = BlockingReport::new(self.name(), &input);
        let left = self.embed_table(input.left())?;
        let right = match input {
            BlockingInput::Dedupe(_) => None,
            BlockingInput::Link { right, .. } => Some(self.embed_table(right)?),
        };
        report.records_without_key = left.iter().filter(|vector| vector.is_none()).count() as u64
            + right
                .iter()
                .flatten()
                .filter(|vector| vector.is_none())
                .count() as u64;
        let records = input.left().len().max(input.right().len());
        let index = self.resolve_index(input.total_pairs().saturating_mul(2), records);
        let min_similarity = self.config.min_similarity.unwrap_or(f32::NEG_INFINITY);

        let mut directions = Vec::new();
        match &right {
            None => directions.push((&left, &left, false)),
            Some(right) => {
                directions.push((&left, right, false));
                directions.push((right, &left, true));
            }
        }
        let mut found = Vec::new();
        for (queries, targets, swapped) in directions {
            let search = Search {
                queries,
                targets,
                k: self.config.k,
                min_similarity,
                same_table: right.is_none(),
            };
            let pairs = match index {
                EmbeddingIndex::RandomHyperplanes { bits, tables, seed } => {
                    search.hyperplanes(bits, tables, seed, &self.config.cap, &mut report)
                }
                EmbeddingIndex::Exact | EmbeddingIndex::Auto { .. } => {
                    report.blocks += queries.len() as u64;
                    report.largest_block = report.largest_block.max(targets.len() as u64);
                    search.exact()
                }
            };
            found.extend(pairs.into_iter().map(|(query, target)| {
                if right.is_none() {
                    CandidatePair::ordered(query, target)
                } else if swapped {
                    CandidatePair::new(target, query)
                } else {
                    CandidatePair::new(query, target)
                }
            }));
        }
        let mut collector = PairCollector::new(self.config.cap, &mut report);
        collector.add_pairs(found.into_iter())?;
        let pairs = collector.finish()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(Blocking { pairs, report })
    }
}
