//! MinHash LSH blocking: records whose token or q-gram sets are likely similar.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::groups::{Keyed, PairCollector};
use super::keys::normalise;
use super::{BlockCap, Blocker, Blocking, BlockingInput, BlockingReport};
use crate::er::{ErError, RecordTable};
use crate::sketch::{LshBands, MinHasher, hash_value};

/// How a record's text becomes a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shingling {
    /// The normalised words.
    Tokens,
    /// Character q-grams of the normalised text, spaces included; text shorter than `q`
    /// is one shingle.
    QGrams {
        /// Characters per gram, at least 1.
        q: usize,
    },
}

/// Configuration of [`MinHashLshBlocker`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinHashLshConfig {
    /// Attributes whose values, joined, form each record's text.
    pub attributes: Vec<String>,
    /// Words or q-grams.
    pub shingling: Shingling,
    /// Hash functions per signature.
    #[serde(default = "default_num_hashes")]
    pub num_hashes: usize,
    /// Jaccard similarity at the middle of the LSH S-curve: pairs well above it are found
    /// with high probability, pairs well below it rarely.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Seed of the hash functions.
    #[serde(default)]
    pub seed: u64,
    /// Limits on bucket size and on the total.
    #[serde(default)]
    pub cap: BlockCap,
}

fn default_num_hashes() -> usize {
    128
}

fn default_threshold() -> f64 {
    0.5
}

impl MinHashLshConfig {
    /// A configuration with 128 hash functions, threshold 0.5, seed 0 and the default cap.
    pub fn new(attributes: &[&str], shingling: Shingling) -> Self {
        Self {
            attributes: attributes.iter().map(|name| (*name).to_owned()).collect(),
            shingling,
            num_hashes: default_num_hashes(),
            threshold: default_threshold(),
            seed: 0,
            cap: BlockCap::default(),
        }
    }
}

/// Blocking by MinHash signatures of each record's shingles, cut into LSH bands: records
/// that share a band key meet. Band keys are grouped like blocking keys, so a bucket above
/// the cap is skipped and reported.
#[derive(Debug, Clone)]
pub struct MinHashLshBlocker {
    config: MinHashLshConfig,
    hasher: MinHasher,
    bands: LshBands,
}

impl MinHashLshBlocker {
    /// Creates the blocker, choosing the banding from the threshold.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for no attributes or `q = 0`, and [`ErError::Sketch`]
    /// for zero hash functions or a threshold outside (0, 1).
    pub fn new(config: MinHashLshConfig) -> Result<Self, ErError> {
        if config.attributes.is_empty() {
            return Err(ErError::invalid_config(
                "attributes",
                "[]",
                "name at least one attribute to shingle",
            ));
        }
        if let Shingling::QGrams { q: 0 } = config.shingling {
            return Err(ErError::invalid_config(
                "q",
                0,
                "use q-grams of at least 1 character",
            ));
        }
        let hasher = MinHasher::new(config.num_hashes, config.seed)?;
        let bands = LshBands::for_threshold(config.num_hashes, config.threshold)?;
        Ok(Self {
            config,
            hasher,
            bands,
        })
    }

    /// The banding chosen for the threshold.
    pub fn bands(&self) -> LshBands {
        self.bands
    }

    fn text(&self, table: &RecordTable, indices: &[usize], row: usize) -> String {
        let values: Vec<&str> = indices
            .iter()
            .filter_map(|&index| table.value(row, index))
            .collect();
        normalise(&values.join(" "))
    }

    fn shingle_hashes(&self, text: &str) -> Vec<u64> {
        match self.config.shingling {
            Shingling::Tokens => text
                .split(' ')
                .filter(|token| !token.is_empty())
                .map(|token| hash_value(token.as_bytes()))
                .collect(),
            Shingling::QGrams { q } => {
                let chars: Vec<char> = text.chars().collect();
                if chars.is_empty() {
                    return Vec::new();
                }
                if chars.len() <= q {
                    return vec![hash_value(text.as_bytes())];
                }
                let mut gram = String::new();
                chars
                    .windows(q)
                    .map(|window| {
                        gram.clear();
                        gram.extend(window);
                        hash_value(gram.as_bytes())
                    })
                    .collect()
            }
        }
    }

    /// Band keys of every record, as `(key, row)` entries, and the count of records with
    /// no text.
    fn band_entries(&self, table: &RecordTable) -> Result<(Vec<Keyed>, u64), ErError> {
        let indices: Vec<usize> = self
            .config
            .attributes
            .iter()
            .map(|attribute| table.attribute_index(attribute))
            .collect::<Result<_, _>>()?;
        let per_row: Vec<Vec<u64>> = (0..table.len())
            .into_par_iter()
            .map(|row| {
                let text = self.text(table, &indices, row);
                let signature = self.hasher.signature_of_hashes(self.shingle_hashes(&text));
                self.bands.band_keys(&signature)
            })
            .collect::<Result<_, _>>()?;
        let mut keyed = Vec::with_capacity(table.len() * self.bands.bands());
        let mut without = 0;
        for (row, keys) in per_row.into_iter().enumerate() {
            if keys.is_empty() {
                without += 1;
            }
            keyed.extend(keys.into_iter().map(|key| (key, row as u32)));
        }
        Ok((keyed, without))
    }
}

impl Blocker for MinHashLshBlocker {
    fn name(&self) -> &str {
        match self.config.shingling {
            Shingling::Tokens => "minhash_lsh_tokens",
            Shingling::QGrams { .. } => "minhash_lsh_qgrams",
        }
    }

    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError> {
        let started = std::time::Instant::now();
        let attributes: Vec<&str> = self.config.attributes.iter().map(String::as_str).collect();
        input.validate(&attributes)?;
        let mut report = BlockingReport::new(self.name(), &input);
        let mut collector = PairCollector::new(self.config.cap, &mut report);
        let label = format!(
            "{} bands of {} rows over {}",
            self.bands.bands(),
            self.bands.rows(),
            attributes.join(", ")
        );
        let left = input.left();
        let describe = |row: u32| {
            format!(
                "a band key of record '{}'",
                left.id(row as usize).unwrap_or("?")
            )
        };
        match input {
            BlockingInput::Dedupe(table) => {
                let (keyed, without) = self.band_entries(table)?;
                collector.report().records_without_key += without;
                collector.add_dedupe(&label, keyed, describe)?;
            }
            BlockingInput::Link { left, right } => {
                let (left_keys, left_without) = self.band_entries(left)?;
                let (right_keys, right_without) = self.band_entries(right)?;
                collector.report().records_without_key += left_without + right_without;
                collector.add_link(&label, left_keys, right_keys, describe)?;
            }
        }
        let pairs = collector.finish()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(Blocking { pairs, report })
    }
}
