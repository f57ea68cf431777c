//! MinHash sketches of value sets, with Jaccard and containment estimates and LSH banding.
//!
//! A [`MinHasher`] turns a set of values (tokens, q-grams, a column's distinct values) into a
//! fixed-size [`MinHashSignature`]. The share of positions where two signatures agree is an
//! unbiased estimate of the Jaccard similarity of the two sets, with a standard error of about
//! `sqrt(J (1 - J) / k)` for `k` hash functions (0.044 at most for `k = 128`).
//!
//! [`LshBands`] cuts a signature into `b` bands of `r` rows. Two sets share at least one band
//! key with probability `1 - (1 - J^r)^b`, an S-curve whose steep part sits near
//! `(1 / b)^(1 / r)`. Entity resolution uses the band keys as blocking keys and the dataset
//! graph uses them to find candidate column pairs without comparing every pair.
//!
//! Values are hashed with XXH3 (64 bit, seed 0), so signatures are stable across processes,
//! platforms and releases of this crate and can be stored. The `k` hash functions are that one
//! hash mixed with `k` seeds drawn from a SplitMix64 stream, which costs one multiply-xorshift
//! round per value and function: `O(values * k)`.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// Errors of sketch construction and comparison.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum SketchError {
    /// A MinHasher needs at least one hash function.
    #[error("a MinHasher needs at least one hash function, got num_hashes = 0")]
    NoHashFunctions,
    /// Two signatures of different lengths or seeds cannot be compared.
    #[error(
        "signatures are not comparable: {left_hashes} hashes with seed {left_seed} vs \
         {right_hashes} hashes with seed {right_seed}; build both with the same MinHasher"
    )]
    Incompatible {
        /// Number of hash functions of the left signature.
        left_hashes: usize,
        /// Seed of the left signature.
        left_seed: u64,
        /// Number of hash functions of the right signature.
        right_hashes: usize,
        /// Seed of the right signature.
        right_seed: u64,
    },
    /// The bands do not fit the signature length.
    #[error(
        "LSH with {bands} bands of {rows} rows needs {needed} hash functions, but signatures \
         have {available}; use bands * rows <= num_hashes"
    )]
    BandsTooLarge {
        /// Requested number of bands.
        bands: usize,
        /// Requested rows per band.
        rows: usize,
        /// `bands * rows`.
        needed: usize,
        /// Signature length.
        available: usize,
    },
    /// Bands and rows must be positive.
    #[error("LSH needs at least one band of at least one row, got {bands} bands of {rows} rows")]
    EmptyBands {
        /// Requested number of bands.
        bands: usize,
        /// Requested rows per band.
        rows: usize,
    },
    /// A threshold outside (0, 1).
    #[error("LSH threshold must lie strictly between 0 and 1, got {0}")]
    InvalidThreshold(f64),
}

/// Hashes a value to 64 bits with XXH3, the hash every signature is built on.
pub fn hash_value(value: &[u8]) -> u64 {
    xxh3_64(value)
}

/// One step of SplitMix64: advances `state` and returns a well-mixed 64-bit value.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

/// The SplitMix64 finaliser: a bijective mix of all 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A family of `k` hash functions that builds MinHash signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinHasher {
    seed: u64,
    seeds: Vec<u64>,
}

impl MinHasher {
    /// Creates `num_hashes` hash functions derived from `seed`.
    ///
    /// # Errors
    /// [`SketchError::NoHashFunctions`] when `num_hashes` is zero.
    pub fn new(num_hashes: usize, seed: u64) -> Result<Self, SketchError> {
        if num_hashes == 0 {
            return Err(SketchError::NoHashFunctions);
        }
        let mut state = seed;
        let seeds = (0..num_hashes).map(|_| splitmix64(&mut state)).collect();
        Ok(Self { seed, seeds })
    }

    /// Number of hash functions, the length of every signature.
    pub fn num_hashes(&self) -> usize {
        self.seeds.len()
    }

    /// Seed the hash functions were derived from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Builds the signature of a set given as pre-hashed values (see [`hash_value`]).
    ///
    /// Repeated values do not change the signature, so a multiset gives the signature of
    /// its set. An empty input gives the empty signature, whose Jaccard estimate with any
    /// set is 0.
    pub fn signature_of_hashes(&self, hashes: impl IntoIterator<Item = u64>) -> MinHashSignature {
        let mut mins = vec![u64::MAX; self.seeds.len()];
        let mut empty = true;
        for hash in hashes {
            empty = false;
            for (slot, seed) in mins.iter_mut().zip(&self.seeds) {
                let value = mix64(hash ^ seed);
                if value < *slot {
                    *slot = value;
                }
            }
        }
        MinHashSignature {
            seed: self.seed,
            mins: if empty { Vec::new() } else { mins },
            num_hashes: self.seeds.len(),
        }
    }

    /// Builds the signature of a set of byte strings, such as tokens or distinct values.
    pub fn signature<T: AsRef<[u8]>>(
        &self,
        values: impl IntoIterator<Item = T>,
    ) -> MinHashSignature {
        self.signature_of_hashes(values.into_iter().map(|value| hash_value(value.as_ref())))
    }
}

/// The MinHash signature of one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinHashSignature {
    seed: u64,
    num_hashes: usize,
    /// Minimum hash per function; empty for the empty set.
    mins: Vec<u64>,
}

impl MinHashSignature {
    /// Whether the sketched set was empty.
    pub fn is_empty(&self) -> bool {
        self.mins.is_empty()
    }

    /// Minimum hash per function; empty for the empty set.
    pub fn mins(&self) -> &[u64] {
        &self.mins
    }

    fn check_compatible(&self, other: &Self) -> Result<(), SketchError> {
        if self.seed != other.seed || self.num_hashes != other.num_hashes {
            return Err(SketchError::Incompatible {
                left_hashes: self.num_hashes,
                left_seed: self.seed,
                right_hashes: other.num_hashes,
                right_seed: other.seed,
            });
        }
        Ok(())
    }

    /// Estimates the Jaccard similarity `|A ∩ B| / |A ∪ B|` of the two sketched sets.
    ///
    /// Two empty sets have similarity 1 by convention; an empty and a non-empty set have 0.
    ///
    /// # Errors
    /// [`SketchError::Incompatible`] when the signatures come from different hashers.
    pub fn jaccard(&self, other: &Self) -> Result<f64, SketchError> {
        self.check_compatible(other)?;
        match (self.is_empty(), other.is_empty()) {
            (true, true) => return Ok(1.0),
            (true, false) | (false, true) => return Ok(0.0),
            (false, false) => {}
        }
        let agree = self
            .mins
            .iter()
            .zip(&other.mins)
            .filter(|(a, b)| a == b)
            .count();
        Ok(agree as f64 / self.num_hashes as f64)
    }

    /// Estimates the containment `|A ∩ B| / |A|` of this set `A` in `other` (`B`).
    ///
    /// MinHash alone gives Jaccard; the caller passes the set sizes (exact counts or
    /// estimates such as HyperLogLog), and the estimate follows from
    /// `|A ∩ B| = J (|A| + |B|) / (1 + J)`. The result is clamped to `[0, 1]`.
    ///
    /// # Errors
    /// [`SketchError::Incompatible`] when the signatures come from different hashers.
    pub fn containment_in(
        &self,
        other: &Self,
        self_size: u64,
        other_size: u64,
    ) -> Result<f64, SketchError> {
        let jaccard = self.jaccard(other)?;
        if self_size == 0 {
            return Ok(if self.is_empty() { 1.0 } else { 0.0 });
        }
        let intersection = jaccard * (self_size + other_size) as f64 / (1.0 + jaccard);
        Ok((intersection / self_size as f64).clamp(0.0, 1.0))
    }
}

/// Locality-sensitive hashing by banding: `bands` bands of `rows` signature positions each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshBands {
    bands: usize,
    rows: usize,
}

impl LshBands {
    /// Creates a banding of `bands` bands of `rows` rows for signatures of `num_hashes`.
    ///
    /// # Errors
    /// [`SketchError::EmptyBands`] for zero bands or rows, [`SketchError::BandsTooLarge`] when
    /// `bands * rows` exceeds `num_hashes`.
    pub fn new(bands: usize, rows: usize, num_hashes: usize) -> Result<Self, SketchError> {
        if bands == 0 || rows == 0 {
            return Err(SketchError::EmptyBands { bands, rows });
        }
        let needed = bands.saturating_mul(rows);
        if needed > num_hashes {
            return Err(SketchError::BandsTooLarge {
                bands,
                rows,
                needed,
                available: num_hashes,
            });
        }
        Ok(Self { bands, rows })
    }

    /// Chooses the banding of `num_hashes` positions whose S-curve midpoint
    /// `(1 / b)^(1 / r)` lies closest to `threshold`, using as many positions as possible.
    ///
    /// # Errors
    /// [`SketchError::InvalidThreshold`] unless `0 < threshold < 1`, and
    /// [`SketchError::NoHashFunctions`] for `num_hashes = 0`.
    pub fn for_threshold(num_hashes: usize, threshold: f64) -> Result<Self, SketchError> {
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(SketchError::InvalidThreshold(threshold));
        }
        if num_hashes == 0 {
            return Err(SketchError::NoHashFunctions);
        }
        let mut best = Self {
            bands: num_hashes,
            rows: 1,
        };
        let mut best_gap = f64::INFINITY;
        for rows in 1..=num_hashes {
            let bands = num_hashes / rows;
            let midpoint = (1.0 / bands as f64).powf(1.0 / rows as f64);
            let gap = (midpoint - threshold).abs();
            if gap < best_gap {
                best_gap = gap;
                best = Self { bands, rows };
            }
        }
        Ok(best)
    }

    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Signature positions per band.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Probability that two sets of Jaccard similarity `jaccard` share at least one band key.
    pub fn candidate_probability(&self, jaccard: f64) -> f64 {
        1.0 - (1.0 - jaccard.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// Returns one key per band; two signatures are LSH candidates when any key at the same
    /// band index is equal. The band index is mixed into the key, so keys of all bands can
    /// share one hash table. The empty signature has no keys.
    ///
    /// # Errors
    /// [`SketchError::BandsTooLarge`] when the signature is shorter than `bands * rows`.
    pub fn band_keys(&self, signature: &MinHashSignature) -> Result<Vec<u64>, SketchError> {
        if signature.is_empty() {
            return Ok(Vec::new());
        }
        let needed = self.bands * self.rows;
        if signature.mins.len() < needed {
            return Err(SketchError::BandsTooLarge {
                bands: self.bands,
                rows: self.rows,
                needed,
                available: signature.mins.len(),
            });
        }
        let keys = signature.mins[..needed]
            .chunks_exact(self.rows)
            .enumerate()
            .map(|(band, rows)| {
                let mut key = mix64(band as u64 ^ 0xA076_1D64_78BD_642F);
                for value in rows {
                    key = mix64(key ^ value);
                }
                key
            })
            .collect();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u32>) -> Vec<String> {
        range.map(|i| format!("value-{i}")).collect()
    }

    #[test]
    fn jaccard_estimate_within_three_standard_errors() {
        let hasher = MinHasher::new(256, 7).expect("valid hasher");
        // |A ∩ B| = 500, |A ∪ B| = 1500: J = 1/3.
        let a = hasher.signature(set(0..1000));
        let b = hasher.signature(set(500..1500));
        let estimate = a.jaccard(&b).expect("same hasher");
        let truth = 1.0 / 3.0;
        let standard_error = (truth * (1.0 - truth) / 256.0_f64).sqrt();
        assert!(
            (estimate - truth).abs() < 3.0 * standard_error,
            "estimate {estimate} vs {truth}"
        );
    }

    #[test]
    fn identical_and_disjoint_sets() {
        let hasher = MinHasher::new(64, 1).expect("valid hasher");
        let a = hasher.signature(set(0..100));
        let same = hasher.signature(set(0..100).into_iter().rev());
        let disjoint = hasher.signature(set(1000..1100));
        assert_eq!(a.jaccard(&same), Ok(1.0));
        assert!(a.jaccard(&disjoint).expect("same hasher") < 0.1);
    }

    #[test]
    fn duplicates_do_not_change_signature() {
        let hasher = MinHasher::new(32, 3).expect("valid hasher");
        let once = hasher.signature(["a", "b", "c"]);
        let repeated = hasher.signature(["a", "b", "b", "c", "a"]);
        assert_eq!(once, repeated);
    }

    #[test]
    fn empty_sets_follow_convention() {
        let hasher = MinHasher::new(16, 0).expect("valid hasher");
        let empty = hasher.signature(Vec::<&str>::new());
        let full = hasher.signature(["x"]);
        assert!(empty.is_empty());
        assert_eq!(empty.jaccard(&empty), Ok(1.0));
        assert_eq!(empty.jaccard(&full), Ok(0.0));
        let bands = LshBands::new(4, 4, 16).expect("fits");
        assert_eq!(bands.band_keys(&empty), Ok(Vec::new()));
    }

    #[test]
    fn containment_of_subset_near_one() {
        let hasher = MinHasher::new(256, 11).expect("valid hasher");
        let small = hasher.signature(set(0..200));
        let large = hasher.signature(set(0..2000));
        let contained = small
            .containment_in(&large, 200, 2000)
            .expect("same hasher");
        assert!(contained > 0.8, "containment {contained}");
        let reverse = large
            .containment_in(&small, 2000, 200)
            .expect("same hasher");
        assert!(
            (reverse - 0.1).abs() < 0.05,
            "reverse containment {reverse}"
        );
    }

    #[test]
    fn different_hashers_rejected() {
        let a = MinHasher::new(16, 1).expect("valid").signature(["x"]);
        let b = MinHasher::new(16, 2).expect("valid").signature(["x"]);
        let err = a.jaccard(&b).expect_err("seeds differ");
        assert!(err.to_string().contains("same MinHasher"), "{err}");
    }

    #[test]
    fn invalid_configurations_rejected() {
        assert_eq!(MinHasher::new(0, 1), Err(SketchError::NoHashFunctions));
        assert!(matches!(
            LshBands::new(0, 4, 16),
            Err(SketchError::EmptyBands { .. })
        ));
        assert!(matches!(
            LshBands::new(5, 4, 16),
            Err(SketchError::BandsTooLarge { .. })
        ));
        assert!(matches!(
            LshBands::for_threshold(128, 1.5),
            Err(SketchError::InvalidThreshold(_))
        ));
    }

    #[test]
    fn banding_midpoint_near_threshold() {
        let bands = LshBands::for_threshold(128, 0.5).expect("valid threshold");
        assert!(bands.bands() * bands.rows() <= 128);
        let at_high = bands.candidate_probability(0.9);
        let at_low = bands.candidate_probability(0.1);
        assert!(at_high > 0.99, "p(0.9) = {at_high}");
        assert!(at_low < 0.05, "p(0.1) = {at_low}");
    }

    #[test]
    fn similar_sets_share_band_key() {
        let hasher = MinHasher::new(128, 5).expect("valid hasher");
        let bands = LshBands::for_threshold(128, 0.5).expect("valid threshold");
        // J = 90 / 110, about 0.82.
        let a = bands
            .band_keys(&hasher.signature(set(0..100)))
            .expect("fits");
        let b = bands
            .band_keys(&hasher.signature(set(10..110)))
            .expect("fits");
        let shared = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert!(shared > 0);
        let c = bands
            .band_keys(&hasher.signature(set(5000..5100)))
            .expect("fits");
        let shared_disjoint = a.iter().zip(&c).filter(|(x, y)| x == y).count();
        assert_eq!(shared_disjoint, 0);
    }

    #[test]
    fn signatures_stable_across_runs() {
        // Pinned so that stored sketches stay comparable across releases.
        let hasher = MinHasher::new(2, 42).expect("valid hasher");
        let signature = hasher.signature(["governance"]);
        let again = MinHasher::new(2, 42)
            .expect("valid hasher")
            .signature(["governance"]);
        assert_eq!(signature, again);
        assert_eq!(hash_value(b""), 0x2D06_8005_38D3_94C2);
    }
}
