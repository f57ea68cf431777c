//! Text embeddings for fusers: a small [`TextEmbedder`] trait and [`HashedNgramEmbedder`],
//! a dependency-free embedder of character n-grams.
//!
//! Schema matching embeds column and attribute names; entity resolution can embed names and
//! addresses the same way. Any encoder that maps text to a fixed-length vector fits the
//! trait, so the pretrained sentence encoder of `governance-llm`
//! (`governance_llm::encoder::SentenceEncoder`, a MiniLM-class model) can replace the hashed
//! embedder without changing its callers.
//!
//! The hashed embedder lowercases the text and pads each word with a boundary mark. It adds
//! each character n-gram of the configured lengths to one of `dim` buckets chosen by a fixed
//! hash (FNV-1a), with a sign taken from another bit of the hash to spread collisions, and
//! scales the vector to unit length. It is deterministic across runs and platforms, needs no training,
//! and catches spelling and abbreviation variants (`temperature`, `temp`, `air_temp`), but not
//! synonyms that share no letters (`rain`, `precipitation`): aliases in the standard models
//! cover those.

/// The embedding interface and the cosine, defined in `governance-llm` so that its
/// pretrained encoder implements the same trait; re-exported here under their old paths.
pub use governance_llm::embed::{TextEmbedder, cosine};

/// An embedder that hashes character n-grams into a fixed number of buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedNgramEmbedder {
    dim: usize,
    ngram_sizes: Vec<usize>,
}

impl HashedNgramEmbedder {
    /// Builds an embedder with `dim` buckets and n-grams of the given lengths. A `dim` of 0
    /// becomes 1, an empty size list becomes `[3]`, and sizes of 0 are ignored.
    pub fn new(dim: usize, ngram_sizes: &[usize]) -> Self {
        let mut sizes: Vec<usize> = ngram_sizes.iter().copied().filter(|&n| n > 0).collect();
        sizes.sort_unstable();
        sizes.dedup();
        if sizes.is_empty() {
            sizes.push(3);
        }
        HashedNgramEmbedder {
            dim: dim.max(1),
            ngram_sizes: sizes,
        }
    }

    /// Returns the configured n-gram lengths.
    pub fn ngram_sizes(&self) -> &[usize] {
        &self.ngram_sizes
    }
}

impl Default for HashedNgramEmbedder {
    /// 256 buckets with character 2-, 3- and 4-grams, which separates short column names well.
    fn default() -> Self {
        HashedNgramEmbedder::new(256, &[2, 3, 4])
    }
}

impl TextEmbedder for HashedNgramEmbedder {
    fn embed(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dim];
        let lowered = text.to_lowercase();
        for word in lowered
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
        {
            // '#' marks the word boundary, so prefixes and suffixes get n-grams of their own.
            let chars: Vec<char> = std::iter::once('#')
                .chain(word.chars())
                .chain(std::iter::once('#'))
                .collect();
            for &size in &self.ngram_sizes {
                if chars.len() < size {
                    add_gram(&mut vector, &chars, size);
                    continue;
                }
                for window in chars.windows(size) {
                    add_gram(&mut vector, window, size);
                }
            }
        }
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for value in &mut vector {
                *value /= norm;
            }
        }
        vector
    }

    fn dim(&self) -> usize {
        self.dim
    }
}

/// Adds one n-gram to its bucket with a hash-chosen sign.
fn add_gram(vector: &mut [f32], gram: &[char], size: usize) {
    let hash = fnv1a(gram, size);
    let bucket = (hash % vector.len() as u64) as usize;
    let sign = if (hash >> 63) & 1 == 0 { 1.0 } else { -1.0 };
    vector[bucket] += sign;
}

/// FNV-1a over the characters' UTF-32 bytes and the n-gram length, so that equal text in
/// grams of different length lands in different buckets.
fn fnv1a(gram: &[char], size: usize) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let size_bytes = (size as u32).to_le_bytes();
    let char_bytes = gram.iter().flat_map(|c| (*c as u32).to_le_bytes());
    for byte in size_bytes.into_iter().chain(char_bytes) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_is_unit_length_and_deterministic() {
        let embedder = HashedNgramEmbedder::default();
        let first = embedder.embed("Temperature");
        let second = embedder.embed("Temperature");
        assert_eq!(first, second);
        assert_eq!(first.len(), embedder.dim());
        let norm: f32 = first.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }

    #[test]
    fn empty_text_embeds_to_zero() {
        let embedder = HashedNgramEmbedder::default();
        let vector = embedder.embed("  _-  ");
        assert!(vector.iter().all(|&x| x == 0.0));
        assert_eq!(embedder.similarity("", "temperature"), 0.0);
    }

    #[test]
    fn similar_names_score_higher_than_unrelated() {
        let embedder = HashedNgramEmbedder::default();
        let close = embedder.similarity("air_temperature", "temperature");
        let far = embedder.similarity("air_temperature", "wind_speed");
        assert!(close > 0.5, "close {close}");
        assert!(close > far + 0.3, "close {close}, far {far}");
        assert!((embedder.similarity("WindSpeed", "windspeed") - 1.0).abs() < 1e-5);
    }

    #[test]
    fn handles_chinese_and_short_text() {
        let embedder = HashedNgramEmbedder::default();
        assert!(embedder.similarity("温度", "温度") > 0.99);
        assert!(embedder.similarity("相对湿度", "湿度") > 0.3);
        assert!(embedder.embed("T").iter().any(|&x| x != 0.0));
    }

    #[test]
    fn constructor_repairs_degenerate_settings() {
        let embedder = HashedNgramEmbedder::new(0, &[0]);
        assert_eq!(embedder.dim(), 1);
        assert_eq!(embedder.ngram_sizes(), &[3]);
        assert_eq!(cosine(&[1.0, 0.0], &[1.0]), 0.0);
    }
}
