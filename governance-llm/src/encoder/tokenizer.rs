//! The WordPiece tokenizer of the encoder, read from `tokenizer.json` by the `tokenizers`
//! crate (built with its pure-Rust regex engine and without network access).
//!
//! Truncation and padding stored in `tokenizer.json` are replaced: each text is cut to the
//! encoder's maximum length in tokens, `[CLS]` and `[SEP]` included, and the encoder pads each
//! batch itself to its longest text.

use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;
use tokenizers::utils::truncation::{TruncationDirection, TruncationParams, TruncationStrategy};

use super::error::EncoderError;

/// The token ids of one text, cut to the maximum length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Token-type (segment) ids, all 0 for a single text.
    pub type_ids: Vec<u32>,
}

/// A `tokenizer.json` tokenizer set up for the encoder.
#[derive(Debug, Clone)]
pub struct EncoderTokenizer {
    inner: Tokenizer,
    path: PathBuf,
    max_length: usize,
    pad_id: u32,
}

impl EncoderTokenizer {
    /// Loads `path` and sets truncation to `max_length` tokens.
    pub fn from_file(path: &Path, max_length: usize) -> Result<Self, EncoderError> {
        if !path.exists() {
            return Err(EncoderError::MissingFile {
                path: path.to_path_buf(),
            });
        }
        let invalid = |message: String| EncoderError::InvalidTokenizer {
            path: path.to_path_buf(),
            message,
        };
        let mut inner = Tokenizer::from_file(path).map_err(|error| invalid(error.to_string()))?;
        let truncation = TruncationParams {
            direction: TruncationDirection::Right,
            max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        };
        inner
            .with_truncation(Some(truncation))
            .map_err(|error| invalid(format!("cannot truncate to {max_length} tokens: {error}")))?;
        // The pad id only fills masked positions, so any valid id works; prefer the file's.
        let pad_id = inner
            .get_padding()
            .map(|padding| padding.pad_id)
            .or_else(|| inner.token_to_id("[PAD]"))
            .unwrap_or(0);
        inner.with_padding(None);
        Ok(EncoderTokenizer {
            inner,
            path: path.to_path_buf(),
            max_length,
            pad_id,
        })
    }

    /// Returns the number of tokens, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Returns the maximum length of a tokenised text, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Returns the id that fills padding positions.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Returns the file the tokenizer was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tokenises `texts` with `[CLS]` and `[SEP]` added and cuts each to the maximum length.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<TokenizedText>, EncoderError> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(|error| EncoderError::Tokenize {
                message: error.to_string(),
            })?;
        Ok(encodings
            .into_iter()
            .map(|encoding| TokenizedText {
                ids: encoding.get_ids().to_vec(),
                type_ids: encoding.get_type_ids().to_vec(),
            })
            .collect())
    }
}
