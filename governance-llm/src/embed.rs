//! The [`TextEmbedder`] interface shared by every text embedding of the SDK.
//!
//! It lives here, in the model crate, so that the pretrained
//! [`SentenceEncoder`](crate::encoder::SentenceEncoder) can implement it, and
//! `governance-fuse` re-exports it beside its dependency-free hashed n-gram embedder.
//! Fusers take an `Arc<dyn TextEmbedder>`, so either embedder fits without changing them.

/// A map from text to a vector of fixed length.
pub trait TextEmbedder: Send + Sync {
    /// Returns the embedding of `text`, of length [`TextEmbedder::dim`]. Implementations
    /// return unit-length vectors, or the zero vector for text with no content.
    fn embed(&self, text: &str) -> Vec<f32>;

    /// Returns the length of every embedding.
    fn dim(&self) -> usize;

    /// Returns the cosine similarity of two texts' embeddings, in [-1, 1], or 0 when either
    /// embedding is zero.
    fn similarity(&self, a: &str, b: &str) -> f32 {
        cosine(&self.embed(a), &self.embed(b))
    }
}

/// Returns the cosine similarity of two vectors, or 0 when either is zero or their lengths
/// differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norm_b: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    (dot / (norm_a * norm_b)).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_handles_zero_and_length_mismatch() {
        assert_eq!(cosine(&[1.0, 0.0], &[1.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-6);
    }
}
