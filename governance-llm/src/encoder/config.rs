//! The model's sizes, read from the `config.json` that ships with BERT-family weights.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::EncoderError;

/// The `config.json` fields the encoder uses. Other fields of the file are ignored, because
/// configs written by different tools carry different extras.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Width of every hidden vector.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads; `hidden_size` must be a multiple of it.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the position-embedding table, so the longest input in tokens.
    pub max_position_embeddings: usize,
    /// Rows of the token-type (segment) embedding table.
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    /// The epsilon of every LayerNorm.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// The feed-forward activation; only `gelu` (the exact erf form) is supported.
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// The position encoding; only `absolute` (learned embeddings) is supported.
    #[serde(default = "default_position_embedding_type")]
    pub position_embedding_type: String,
}

fn default_type_vocab_size() -> usize {
    2
}

/// BERT's LayerNorm epsilon, used when `config.json` does not set `layer_norm_eps`.
fn default_layer_norm_eps() -> f64 {
    1e-12
}

fn default_hidden_act() -> String {
    "gelu".to_string()
}

fn default_position_embedding_type() -> String {
    "absolute".to_string()
}

impl BertConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, EncoderError> {
        let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config: BertConfig =
            serde_json::from_str(&text).map_err(|source| EncoderError::InvalidConfig {
                path: path.to_path_buf(),
                message: source.to_string(),
            })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Checks that the sizes describe a model this encoder can run.
    pub fn validate(&self, path: &Path) -> Result<(), EncoderError> {
        let invalid = |message: String| EncoderError::InvalidConfig {
            path: path.to_path_buf(),
            message,
        };
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        for (field, value) in sizes {
            if value == 0 {
                return Err(invalid(format!("{field} is 0; it must be at least 1")));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(invalid(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(invalid(format!(
                "layer_norm_eps is {}; it must be a small positive number such as 1e-12",
                self.layer_norm_eps
            )));
        }
        if self.hidden_act != "gelu" {
            return Err(invalid(format!(
                "hidden_act is {:?}; only \"gelu\" (the erf form) is supported",
                self.hidden_act
            )));
        }
        if self.position_embedding_type != "absolute" {
            return Err(invalid(format!(
                "position_embedding_type is {:?}; only \"absolute\" is supported",
                self.position_embedding_type
            )));
        }
        Ok(())
    }

    /// Returns the width of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// Reads `max_seq_length` from sentence-transformers' `sentence_bert_config.json` in `dir`,
/// or `model_max_length` from `tokenizer_config.json`, or `None` when neither file sets one.
/// A file that is present but unreadable or not JSON is an error, because silently using a
/// different maximum length changes every embedding of a long text.
pub(crate) fn configured_max_length(dir: &Path) -> Result<Option<usize>, EncoderError> {
    for (file, field) in [
        ("sentence_bert_config.json", "max_seq_length"),
        ("tokenizer_config.json", "model_max_length"),
    ] {
        let path = dir.join(file);
        if !path.exists() {
            continue;
        }
        let value = read_json(&path)?;
        // tokenizer_config.json stores a huge float when the model has no limit; skip it.
        if let Some(length) = value.get(field).and_then(serde_json::Value::as_u64) {
            return Ok(Some(length as usize));
        }
    }
    Ok(None)
}

fn read_json(path: &PathBuf) -> Result<serde_json::Value, EncoderError> {
    let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| EncoderError::InvalidConfig {
        path: path.clone(),
        message: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 12,
        "model_type": "bert"}"#;

    #[test]
    fn config_reads_defaults() {
        let config: BertConfig = serde_json::from_str(MINI).expect("config parses");
        assert_eq!(config.layer_norm_eps, 1e-12);
        assert_eq!(config.type_vocab_size, 2);
        assert_eq!(config.head_size(), 4);
        config.validate(Path::new("config.json")).expect("valid");
    }

    #[test]
    fn config_rejects_uneven_heads() {
        let mut config: BertConfig = serde_json::from_str(MINI).expect("config parses");
        config.num_attention_heads = 3;
        let error = config
            .validate(Path::new("x/config.json"))
            .expect_err("3 heads");
        let message = error.to_string();
        assert!(message.contains("x/config.json"), "{message}");
        assert!(message.contains("num_attention_heads 3"), "{message}");
    }

    #[test]
    fn config_rejects_other_activation() {
        let mut config: BertConfig = serde_json::from_str(MINI).expect("config parses");
        config.hidden_act = "relu".to_string();
        let error = config.validate(Path::new("config.json")).expect_err("relu");
        assert!(error.to_string().contains("relu"));
    }

    #[test]
    fn max_length_prefers_sentence_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(configured_max_length(dir.path()).expect("no files"), None);
        std::fs::write(
            dir.path().join("tokenizer_config.json"),
            r#"{"model_max_length": 512}"#,
        )
        .expect("write");
        assert_eq!(configured_max_length(dir.path()).expect("read"), Some(512));
        std::fs::write(
            dir.path().join("sentence_bert_config.json"),
            r#"{"max_seq_length": 256}"#,
        )
        .expect("write");
        assert_eq!(configured_max_length(dir.path()).expect("read"), Some(256));
        std::fs::write(dir.path().join("sentence_bert_config.json"), "{").expect("write");
        assert!(configured_max_length(dir.path()).is_err());
    }
}
