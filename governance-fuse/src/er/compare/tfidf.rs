//! TF-IDF weighting of tokens, its cosine similarity and soft TF-IDF.
//!
//! The inverse document frequency is fitted on the values of both sides of a comparison, so a
//! token frequent on either side weighs little. Weights are `(1 + ln tf) * idf` with the
//! smoothed `idf = ln((1 + n) / (1 + df)) + 1`, and each vector is scaled to unit length, so
//! the cosine of two vectors is their dot product.
//!
//! Soft TF-IDF (Cohen, Ravikumar and Fienberg, "A comparison of string distance metrics for
//! name-matching tasks", 2003) also credits tokens that are close but not equal: each token of
//! one side is paired with its most similar token of the other side by Jaro-Winkler, and pairs
//! at or above a threshold add the product of their weights times that similarity.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::tokens;

/// A sparse vector of token weights, sorted by token id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    entries: Vec<(u32, f32)>,
}

impl SparseVector {
    /// Token ids and weights, sorted by id.
    pub fn entries(&self) -> &[(u32, f32)] {
        &self.entries
    }

    /// Whether the vector has no token.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Dot product, by merging the two sorted entry lists.
    pub fn dot(&self, other: &SparseVector) -> f64 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0f64);
        while i < self.entries.len() && j < other.entries.len() {
            let (left_id, left_weight) = self.entries[i];
            let (right_id, right_weight) = other.entries[j];
            match left_id.cmp(&right_id) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += f64::from(left_weight) * f64::from(right_weight);
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}

/// Inverse document frequencies fitted on a corpus of values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TfIdf {
    vocabulary: HashMap<String, u32>,
    idf: Vec<f32>,
    documents: usize,
}

impl TfIdf {
    /// Fits the document frequencies on `documents`; each document counts a token once.
    pub fn fit<'a>(documents: impl IntoIterator<Item = &'a str>) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut frequency: Vec<u32> = Vec::new();
        let mut count = 0usize;
        for document in documents {
            count += 1;
            let mut seen = tokens(document);
            seen.sort_unstable();
            seen.dedup();
            for token in seen {
                let next = vocabulary.len() as u32;
                let id = *vocabulary.entry(token).or_insert(next);
                if id as usize == frequency.len() {
                    frequency.push(0);
                }
                frequency[id as usize] += 1;
            }
        }
        let n = count as f64;
        let idf = frequency
            .iter()
            .map(|&df| (((1.0 + n) / (1.0 + f64::from(df))).ln() + 1.0) as f32)
            .collect();
        Self {
            vocabulary,
            idf,
            documents: count,
        }
    }

    /// Number of documents the frequencies were fitted on.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// Number of distinct tokens seen in fitting.
    pub fn vocabulary_len(&self) -> usize {
        self.idf.len()
    }

    /// Inverse document frequency of a token; a token never seen in fitting gets the weight of
    /// a token seen in no document.
    pub fn idf(&self, token: &str) -> f32 {
        match self.vocabulary.get(token) {
            Some(&id) => self.idf[id as usize],
            None => self.unseen_idf(),
        }
    }

    fn unseen_idf(&self) -> f32 {
        ((1.0 + self.documents as f64).ln() + 1.0) as f32
    }

    /// Returns the unit-length TF-IDF vector of `value`.
    ///
    /// Tokens not seen in fitting get ids above the vocabulary from a 31-bit hash of the
    /// token, so two values that share an unseen token still agree on it.
    pub fn vectorize(&self, value: &str) -> SparseVector {
        self.weigh(&tokens(value))
    }

    /// Returns the unit-length TF-IDF vector of already tokenised text.
    pub fn weigh(&self, value_tokens: &[String]) -> SparseVector {
        let mut counts: HashMap<u32, (u32, f32)> = HashMap::new();
        for token in value_tokens {
            let (id, idf) = match self.vocabulary.get(token) {
                Some(&id) => (id, self.idf[id as usize]),
                None => (self.unseen_id(token), self.unseen_idf()),
            };
            counts.entry(id).or_insert((0, idf)).0 += 1;
        }
        let mut entries: Vec<(u32, f32)> = counts
            .into_iter()
            .map(|(id, (tf, idf))| (id, (1.0 + (tf as f32).ln()) * idf))
            .collect();
        // Sorting before the norm fixes the order of the float sum, which hash order would
        // otherwise change from run to run.
        entries.sort_unstable_by_key(|entry| entry.0);
        let norm = entries
            .iter()
            .map(|(_, weight)| weight * weight)
            .sum::<f32>()
            .sqrt();
        if norm > 0.0 {
            for entry in &mut entries {
                entry.1 /= norm;
            }
        }
        SparseVector { entries }
    }

    fn unseen_id(&self, token: &str) -> u32 {
        let hash = xxhash_rust::xxh3::xxh3_64(token.as_bytes()) as u32 & 0x7FFF_FFFF;
        (self.idf.len() as u32).saturating_add(hash)
    }

    /// Cosine similarity of the TF-IDF vectors of two values; 0 when either has no token.
    pub fn cosine(&self, left: &str, right: &str) -> f64 {
        self.vectorize(left)
            .dot(&self.vectorize(right))
            .clamp(0.0, 1.0)
    }

    /// Soft TF-IDF similarity: tokens pair with their closest counterpart by Jaro-Winkler, and
    /// pairs with similarity at least `threshold` count, weighted by that similarity.
    pub fn soft_cosine(&self, left: &str, right: &str, threshold: f64) -> f64 {
        self.soft_cosine_tokens(&tokens(left), &tokens(right), threshold)
    }

    /// Soft TF-IDF similarity of already tokenised values; see [`TfIdf::soft_cosine`].
    pub fn soft_cosine_tokens(
        &self,
        left_tokens: &[String],
        right_tokens: &[String],
        threshold: f64,
    ) -> f64 {
        let left_weights = self.token_weights(left_tokens);
        let right_weights = self.token_weights(right_tokens);
        let mut sum = 0.0;
        for (token, weight) in &left_weights {
            let mut best: Option<(f64, f32)> = None;
            for (other, other_weight) in &right_weights {
                let similarity = if token == other {
                    1.0
                } else {
                    strsim::jaro_winkler(token, other)
                };
                if similarity >= threshold && best.is_none_or(|(known, _)| similarity > known) {
                    best = Some((similarity, *other_weight));
                }
            }
            if let Some((similarity, other_weight)) = best {
                sum += f64::from(*weight) * f64::from(other_weight) * similarity;
            }
        }
        sum.clamp(0.0, 1.0)
    }

    /// Unit-length weights per distinct token, keyed by the token text.
    fn token_weights<'a>(&self, value_tokens: &'a [String]) -> Vec<(&'a str, f32)> {
        let mut counts: Vec<(&str, u32)> = Vec::new();
        for token in value_tokens {
            match counts.iter_mut().find(|(known, _)| known == token) {
                Some(entry) => entry.1 += 1,
                None => counts.push((token, 1)),
            }
        }
        let mut weights: Vec<(&str, f32)> = counts
            .into_iter()
            .map(|(token, tf)| (token, (1.0 + (tf as f32).ln()) * self.idf(token)))
            .collect();
        let norm = weights
            .iter()
            .map(|(_, weight)| weight * weight)
            .sum::<f32>()
            .sqrt();
        if norm > 0.0 {
            for entry in &mut weights {
                entry.1 /= norm;
            }
        }
        weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idf_weighs_rare_tokens_higher() {
        let model = TfIdf::fit(["the cat", "the dog", "the bird"]);
        assert!(model.idf("cat") > model.idf("the"));
        // n = 3, df("the") = 3: ln(4/4) + 1 = 1.
        assert!((model.idf("the") - 1.0).abs() < 1e-6);
        assert_eq!(model.vocabulary_len(), 4);
    }

    #[test]
    fn cosine_known_values() {
        let model = TfIdf::fit(["a b", "a c"]);
        assert!((model.cosine("a b", "b a") - 1.0).abs() < 1e-6);
        assert_eq!(model.cosine("b", "c"), 0.0);
        assert_eq!(model.cosine("", "a"), 0.0);
        // idf(a) = 1, idf(b) = ln(3/2) + 1; cosine of (1, w) with (1, 0) is 1 / sqrt(1 + w^2).
        let weight = (1.5f64).ln() + 1.0;
        let expected = 1.0 / (1.0 + weight * weight).sqrt();
        assert!((model.cosine("a b", "a") - expected).abs() < 1e-5);
    }

    #[test]
    fn unseen_tokens_still_match() {
        let model = TfIdf::fit(["x"]);
        assert!((model.cosine("zebra", "zebra") - 1.0).abs() < 1e-6);
    }

    #[test]
    fn soft_cosine_credits_close_tokens() {
        let model = TfIdf::fit(["jonathan smith", "jon smyth"]);
        let hard = model.cosine("jonathan smith", "jonathon smyth");
        let soft = model.soft_cosine("jonathan smith", "jonathon smyth", 0.9);
        assert!(soft > hard, "soft {soft} not above hard {hard}");
        assert!(soft <= 1.0);
    }
}
