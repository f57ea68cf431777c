//! Reading BERT weights from a safetensors file into the burn modules of [`super::model`].
//!
//! Tensor names follow Hugging Face transformers' `BertModel` (`embeddings.word_embeddings.weight`,
//! `encoder.layer.N.attention.self.query.weight`, ...). Files saved from `BertForMaskedLM` and
//! similar heads prefix every name with `bert.`; the loader accepts both. Every tensor is
//! checked against the shape `config.json` implies before it is used. A linear layer's weight
//! is stored as `[out, in]` in the file and transposed to burn's `[in, out]`.

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Tensor, TensorData};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};

use super::config::BertConfig;
use super::error::EncoderError;
use super::model::{BertAttention, BertEmbeddings, BertLayer, BertModel, Shapes};
use crate::backend::Device;

/// The bytes of a safetensors file with its parsed header.
pub(crate) struct WeightFile<'data> {
    path: PathBuf,
    tensors: SafeTensors<'data>,
    /// `""` or `"bert."`, whichever the word embeddings are found under.
    prefix: &'static str,
}

/// Reads `path` whole. A missing file gets [`EncoderError::MissingFile`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, EncoderError> {
    std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            EncoderError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            EncoderError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

impl<'data> WeightFile<'data> {
    /// Parses the header of a safetensors file held in `bytes`.
    pub(crate) fn parse(path: &Path, bytes: &'data [u8]) -> Result<Self, EncoderError> {
        if let Some(expected) = truncated_size(bytes) {
            return Err(EncoderError::TruncatedWeights {
                path: path.to_path_buf(),
                expected,
                actual: bytes.len(),
            });
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|error| invalid(path, &error))?;
        let prefix = if tensors.tensor("embeddings.word_embeddings.weight").is_ok() {
            ""
        } else if tensors
            .tensor("bert.embeddings.word_embeddings.weight")
            .is_ok()
        {
            "bert."
        } else {
            ""
        };
        Ok(WeightFile {
            path: path.to_path_buf(),
            tensors,
            prefix,
        })
    }

    /// Returns the shape of the named tensor, or [`EncoderError::MissingTensor`].
    pub(crate) fn shape(&self, name: &str) -> Result<Vec<usize>, EncoderError> {
        Ok(self.view(name)?.shape().to_vec())
    }

    fn view(&self, name: &str) -> Result<TensorView<'data>, EncoderError> {
        let full = format!("{}{name}", self.prefix);
        self.tensors
            .tensor(&full)
            .map_err(|_| EncoderError::MissingTensor {
                path: self.path.clone(),
                name: full,
            })
    }

    /// Returns the values of the named F32 tensor after checking its shape is `expected`.
    fn values(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, EncoderError> {
        let view = self.view(name)?;
        if view.dtype() != Dtype::F32 || view.shape() != expected {
            return Err(EncoderError::TensorShape {
                path: self.path.clone(),
                name: format!("{}{name}", self.prefix),
                expected: expected.to_vec(),
                actual: view.shape().to_vec(),
                dtype: format!("{:?}", view.dtype()),
            });
        }
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect())
    }

    fn tensor<const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &Device,
    ) -> Result<Tensor<D>, EncoderError> {
        let values = self.values(name, &shape)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    fn embedding(
        &self,
        name: &str,
        rows: usize,
        width: usize,
        device: &Device,
    ) -> Result<Embedding, EncoderError> {
        Ok(Embedding {
            weight: Param::from_tensor(self.tensor(
                &format!("{name}.weight"),
                [rows, width],
                device,
            )?),
        })
    }

    fn linear(
        &self,
        name: &str,
        inputs: usize,
        outputs: usize,
        device: &Device,
    ) -> Result<Linear, EncoderError> {
        let weight = self.tensor(&format!("{name}.weight"), [outputs, inputs], device)?;
        let bias = self.tensor(&format!("{name}.bias"), [outputs], device)?;
        Ok(Linear {
            weight: Param::from_tensor(weight.transpose()),
            bias: Some(Param::from_tensor(bias)),
        })
    }

    fn layer_norm(
        &self,
        name: &str,
        width: usize,
        epsilon: f64,
        device: &Device,
    ) -> Result<LayerNorm, EncoderError> {
        let mut norm = LayerNormConfig::new(width)
            .with_epsilon(epsilon)
            .init(device);
        norm.gamma = Param::from_tensor(self.tensor(&format!("{name}.weight"), [width], device)?);
        norm.beta = Some(Param::from_tensor(self.tensor(
            &format!("{name}.bias"),
            [width],
            device,
        )?));
        Ok(norm)
    }

    /// Builds the whole encoder of `config` from this file.
    pub(crate) fn model(
        &self,
        config: &BertConfig,
        device: &Device,
    ) -> Result<BertModel, EncoderError> {
        let shapes = Shapes::of(config);
        let eps = config.layer_norm_eps;
        let hidden = shapes.hidden;
        let embeddings = BertEmbeddings {
            word: self.embedding("embeddings.word_embeddings", shapes.vocab, hidden, device)?,
            position: self.embedding(
                "embeddings.position_embeddings",
                shapes.positions,
                hidden,
                device,
            )?,
            token_type: self.embedding(
                "embeddings.token_type_embeddings",
                shapes.token_types,
                hidden,
                device,
            )?,
            layer_norm: self.layer_norm("embeddings.LayerNorm", hidden, eps, device)?,
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for index in 0..config.num_hidden_layers {
            let prefix = format!("encoder.layer.{index}");
            let attention = BertAttention {
                query: self.linear(
                    &format!("{prefix}.attention.self.query"),
                    hidden,
                    hidden,
                    device,
                )?,
                key: self.linear(
                    &format!("{prefix}.attention.self.key"),
                    hidden,
                    hidden,
                    device,
                )?,
                value: self.linear(
                    &format!("{prefix}.attention.self.value"),
                    hidden,
                    hidden,
                    device,
                )?,
                output: self.linear(
                    &format!("{prefix}.attention.output.dense"),
                    hidden,
                    hidden,
                    device,
                )?,
                layer_norm: self.layer_norm(
                    &format!("{prefix}.attention.output.LayerNorm"),
                    hidden,
                    eps,
                    device,
                )?,
                heads: config.num_attention_heads,
            };
            layers.push(BertLayer {
                attention,
                intermediate: self.linear(
                    &format!("{prefix}.intermediate.dense"),
                    hidden,
                    shapes.intermediate,
                    device,
                )?,
                output: self.linear(
                    &format!("{prefix}.output.dense"),
                    shapes.intermediate,
                    hidden,
                    device,
                )?,
                layer_norm: self.layer_norm(
                    &format!("{prefix}.output.LayerNorm"),
                    hidden,
                    eps,
                    device,
                )?,
            });
        }
        Ok(BertModel { embeddings, layers })
    }
}

fn invalid(path: &Path, error: &SafeTensorError) -> EncoderError {
    EncoderError::InvalidWeights {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Returns the size a safetensors file must have when `bytes` is shorter than its header
/// states, or `None` when the file is long enough or its header cannot be read (the parser
/// reports those).
///
/// The format is an 8-byte little-endian header length, a JSON header mapping each tensor
/// name to its `data_offsets` (begin and end, relative to the end of the header), then the
/// tensor data.
fn truncated_size(bytes: &[u8]) -> Option<usize> {
    const LENGTH_BYTES: usize = 8;
    let Some(length_bytes) = bytes.get(..LENGTH_BYTES) else {
        return Some(LENGTH_BYTES);
    };
    let mut length = [0u8; LENGTH_BYTES];
    length.copy_from_slice(length_bytes);
    let header_length = usize::try_from(u64::from_le_bytes(length)).ok()?;
    let header_end = LENGTH_BYTES.checked_add(header_length)?;
    // A header length past 100 MB is not a cut file but a file of another format.
    if header_length > 100_000_000 {
        return None;
    }
    let Some(header) = bytes.get(LENGTH_BYTES..header_end) else {
        return Some(header_end);
    };
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    let data_end = header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .filter_map(|(_, info)| info.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    let expected = header_end.checked_add(usize::try_from(data_end).ok()?)?;
    (bytes.len() < expected).then_some(expected)
}
