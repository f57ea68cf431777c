//! Embedding-vector features: the element-wise product and the absolute difference of the
//! two records' embeddings, so that a classifier learns which embedding dimensions agree and
//! not only their cosine.
//!
//! Each record's embedding (all attributes joined) is first projected to
//! [`EmbeddingVectorConfig::dim`] dimensions by a fixed random ±1 matrix scaled by
//! `1/sqrt(dim)`. The expected dot product of two projected vectors equals that of the
//! originals, with a spread that shrinks as `dim` grows. A pair then gets `2 × dim` features. Projecting first keeps the
//! feature count small for a small label budget, and makes the cost per pair `O(dim)`
//! whatever the embedder's dimension (256 for the hashed embedder, 384 for MiniLM).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::er::ErError;

/// Settings of the embedding-vector features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingVectorConfig {
    /// Dimensions of the projected record embedding; a pair gets twice as many features.
    pub dim: usize,
    /// Seed of the projection matrix.
    pub seed: u64,
}

impl Default for EmbeddingVectorConfig {
    /// Returns 16 dimensions (32 features) and seed 7.
    fn default() -> Self {
        Self { dim: 16, seed: 7 }
    }
}

impl EmbeddingVectorConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for a dimension of 0.
    pub fn validate(&self) -> Result<(), ErError> {
        if self.dim == 0 {
            return Err(ErError::invalid_config(
                "embedding_vectors dim",
                self.dim,
                "use at least 1 dimension, or leave embedding_vectors unset to turn the \
                 features off",
            ));
        }
        Ok(())
    }
}

/// Projected record embeddings of both tables.
#[derive(Debug, Clone)]
pub(super) struct RecordVectors {
    left: Vec<Vec<f32>>,
    right: Vec<Vec<f32>>,
}

impl RecordVectors {
    /// Projects the embeddings of the left and right records, all of one length.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for bad settings or embeddings of different lengths.
    pub(super) fn project(
        config: &EmbeddingVectorConfig,
        left: &[Vec<f32>],
        right: &[Vec<f32>],
    ) -> Result<Self, ErError> {
        config.validate()?;
        let input_dim = left.first().or(right.first()).map_or(0, Vec::len);
        if let Some(other) = left
            .iter()
            .chain(right)
            .find(|embedding| embedding.len() != input_dim)
        {
            return Err(ErError::invalid_config(
                "embedding length",
                other.len(),
                format!(
                    "use an embedder whose embeddings all have the same length, here \
                     {input_dim}"
                ),
            ));
        }
        let matrix = projection(input_dim, config.dim, config.seed);
        let apply = |embeddings: &[Vec<f32>]| -> Vec<Vec<f32>> {
            embeddings
                .par_iter()
                .map(|embedding| project(&matrix, config.dim, embedding))
                .collect()
        };
        Ok(Self {
            left: apply(left),
            right: apply(right),
        })
    }

    /// Appends the product and then the absolute difference of the projected embeddings of
    /// left record `left` and right record `right`.
    pub(super) fn push(&self, row: &mut Vec<f32>, left: usize, right: usize) {
        let (a, b) = (&self.left[left], &self.right[right]);
        row.extend(a.iter().zip(b).map(|(x, y)| x * y));
        row.extend(a.iter().zip(b).map(|(x, y)| (x - y).abs()));
    }
}

/// Feature names of `dim` projected dimensions, in the order of [`RecordVectors::push`].
pub(super) fn feature_names(dim: usize) -> Vec<String> {
    (0..dim)
        .map(|index| format!("record:embedding_product_{index}"))
        .chain((0..dim).map(|index| format!("record:embedding_difference_{index}")))
        .collect()
}

/// Row-major `input_dim × dim` matrix of ±1/sqrt(dim), from a seeded generator.
fn projection(input_dim: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scale = 1.0 / (dim as f32).sqrt();
    (0..input_dim * dim)
        .map(|_| if rng.random::<bool>() { scale } else { -scale })
        .collect()
}

fn project(matrix: &[f32], dim: usize, embedding: &[f32]) -> Vec<f32> {
    let mut projected = vec![0.0f32; dim];
    for (value, row) in embedding.iter().zip(matrix.chunks_exact(dim)) {
        if *value == 0.0 {
            continue;
        }
        for (target, weight) in projected.iter_mut().zip(row) {
            *target += value * weight;
        }
    }
    projected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::TextEmbedder;
    use crate::er::CandidatePair;
    use crate::er::RecordTable;
    use crate::er::features::{PairFeatureConfig, PairFeaturizer};

    /// Embeds a text as the one-hot vector of its first letter among a, b and c.
    struct FirstLetter;

    impl TextEmbedder for FirstLetter {
        fn embed(&self, text: &str) -> Vec<f32> {
            let mut vector = vec![0.0; 3];
            match text.trim().chars().next() {
                Some('a') => vector[0] = 1.0,
                Some('b') => vector[1] = 1.0,
                Some('c') => vector[2] = 1.0,
                _ => {}
            }
            vector
        }

        fn dim(&self) -> usize {
            3
        }
    }

    fn table(name: &str, values: &[&str]) -> RecordTable {
        let mut table = RecordTable::new(name, vec!["name".into()]).expect("valid");
        for (index, value) in values.iter().enumerate() {
            table
                .push(index.to_string(), vec![Some((*value).into())])
                .expect("arity");
        }
        table
    }

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        values.iter().map(|v| v / norm).collect()
    }

    #[test]
    fn product_and_difference_of_projections() {
        let config = EmbeddingVectorConfig { dim: 4, seed: 3 };
        let a = unit(&[1.0, 2.0, 0.0, 3.0, 0.5, 0.0]);
        let b = unit(&[0.0, 1.0, 1.0, 3.0, 0.0, 2.0]);
        let vectors =
            RecordVectors::project(&config, std::slice::from_ref(&a), &[a.clone(), b.clone()])
                .expect("fits");
        let mut same = Vec::new();
        vectors.push(&mut same, 0, 0);
        assert_eq!(same.len(), 8);
        assert!(same[4..].iter().all(|&d| d == 0.0), "{same:?}");
        assert!(same[..4].iter().all(|&p| p >= 0.0), "{same:?}");

        let mut other = Vec::new();
        vectors.push(&mut other, 0, 1);
        let matrix = projection(6, 4, 3);
        let (pa, pb) = (project(&matrix, 4, &a), project(&matrix, 4, &b));
        for index in 0..4 {
            assert!((other[index] - pa[index] * pb[index]).abs() < 1e-6);
            assert!((other[4 + index] - (pa[index] - pb[index]).abs()).abs() < 1e-6);
        }
        assert!(other[4..].iter().any(|&d| d > 0.0), "{other:?}");
    }

    #[test]
    fn projection_keeps_dot_products_on_average() {
        // With 512 dimensions the projected dot product of two unit vectors has a standard
        // deviation of at most sqrt(2 / 512) = 0.0625 around the original; 0.25 is 4 of them.
        let a = unit(&(0..64).map(|i| (i % 7) as f32).collect::<Vec<_>>());
        let b = unit(&(0..64).map(|i| (i % 5) as f32 + 1.0).collect::<Vec<_>>());
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let matrix = projection(64, 512, 11);
        let (pa, pb) = (project(&matrix, 512, &a), project(&matrix, 512, &b));
        let projected: f32 = pa.iter().zip(&pb).map(|(x, y)| x * y).sum();
        assert!((projected - exact).abs() < 0.25, "{projected} vs {exact}");
    }

    #[test]
    fn projection_is_seeded() {
        assert_eq!(projection(8, 4, 5), projection(8, 4, 5));
        assert_ne!(projection(8, 4, 5), projection(8, 4, 6));
    }

    #[test]
    fn invalid_settings_and_lengths_rejected() {
        let zero = EmbeddingVectorConfig { dim: 0, seed: 7 };
        let err = RecordVectors::project(&zero, &[vec![1.0]], &[vec![1.0]]).expect_err("dim 0");
        assert!(err.to_string().contains("embedding_vectors dim"), "{err}");

        let err = RecordVectors::project(
            &EmbeddingVectorConfig::default(),
            &[vec![1.0, 0.0]],
            &[vec![1.0]],
        )
        .expect_err("lengths differ");
        assert!(err.to_string().contains("embedding length"), "{err}");
    }

    #[test]
    fn featurizer_appends_vectors_from_embedder() {
        let left = table("left", &["apple pie", "banana bread"]);
        let right = table("right", &["avocado toast", "banana bread", "cherry tart"]);
        let plain =
            PairFeaturizer::fit(&left, &right, &PairFeatureConfig::default()).expect("fits");
        let config = PairFeatureConfig {
            embedding_vectors: Some(EmbeddingVectorConfig { dim: 4, seed: 1 }),
            ..PairFeatureConfig::default()
        };
        let featurizer =
            PairFeaturizer::fit_with_embedder(&left, &right, &config, &FirstLetter).expect("fits");
        assert_eq!(featurizer.width(), plain.width() + 8);
        assert_eq!(
            &featurizer.names()[plain.width()..],
            feature_names(4).as_slice()
        );

        let pairs = [
            CandidatePair::new(0, 0),
            CandidatePair::new(1, 1),
            CandidatePair::new(0, 2),
        ];
        let rows = featurizer.features(&pairs).expect("features");
        let width = featurizer.width();
        let cosine = featurizer
            .names()
            .iter()
            .position(|name| name == "record:embedding_cosine")
            .expect("cosine column");
        // The stub embedder reads only first letters: apple and avocado agree, apple and
        // cherry do not.
        assert_eq!(rows[cosine], 1.0);
        assert_eq!(rows[2 * width + cosine], 0.0);
        for (index, row) in rows.chunks_exact(width).enumerate().take(2) {
            let differences = &row[plain.width() + 4..];
            assert!(
                differences.iter().all(|&d| d == 0.0),
                "pair {index}: {differences:?}"
            );
        }
        let differences = &rows[2 * width + plain.width() + 4..];
        assert!(differences.iter().any(|&d| d > 0.0), "{differences:?}");
    }

    #[test]
    fn featurizer_rejects_zero_dimensions() {
        let left = table("left", &["apple"]);
        let config = PairFeatureConfig {
            embedding_vectors: Some(EmbeddingVectorConfig { dim: 0, seed: 1 }),
            ..PairFeatureConfig::default()
        };
        let err = PairFeaturizer::fit(&left, &left, &config).expect_err("dim 0");
        assert!(err.to_string().contains("embedding_vectors dim"), "{err}");
    }

    #[test]
    fn feature_names_follow_push_order() {
        assert_eq!(
            feature_names(2),
            [
                "record:embedding_product_0",
                "record:embedding_product_1",
                "record:embedding_difference_0",
                "record:embedding_difference_1",
            ]
        );
    }
}
