//! The BERT encoder as burn modules, laid out like the Hugging Face `BertModel` whose
//! weights it loads:
//!
//! ```text
//! token ids ─▶ word + position + token-type embeddings ─▶ LayerNorm
//!           ─▶ [self-attention ─▶ add & LayerNorm ─▶ GELU feed-forward ─▶ add & LayerNorm] × layers
//!           ─▶ one hidden vector per token
//! ```
//!
//! Every LayerNorm uses `layer_norm_eps` from `config.json` (1e-12 for BERT), and GELU is the
//! exact form `x · Φ(x)` with the Gaussian CDF computed through `erf`. burn 0.22's
//! [`gelu`] is that form (its tanh approximation is the separate `gelu_approximate`).
//! Dropout is left out, because the encoder only runs inference.

use burn::module::Module;
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Int, Tensor};

use super::config::BertConfig;

/// Added to the attention score of a padding position before the softmax, so that its
/// weight underflows to zero. Finite, so that a row of scores never turns into NaN.
const MASKED_SCORE: f32 = -1.0e9;

/// The three embedding tables and their LayerNorm.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub(crate) word: Embedding,
    pub(crate) position: Embedding,
    pub(crate) token_type: Embedding,
    pub(crate) layer_norm: LayerNorm,
}

impl BertEmbeddings {
    /// Returns `[batch, length, hidden]` for token ids and token-type ids of
    /// `[batch, length]`; positions count from 0 in every row.
    pub fn forward(&self, ids: Tensor<2, Int>, type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, length] = ids.dims();
        let positions =
            Tensor::<1, Int>::arange(0..length as i64, &ids.device()).reshape([1, length]);
        let summed = self.word.forward(ids)
            + self.position.forward(positions)
            + self.token_type.forward(type_ids);
        self.layer_norm.forward(summed)
    }
}

/// Multi-head self-attention with its output projection, residual and LayerNorm.
#[derive(Module, Debug)]
pub struct BertAttention {
    pub(crate) query: Linear,
    pub(crate) key: Linear,
    pub(crate) value: Linear,
    pub(crate) output: Linear,
    pub(crate) layer_norm: LayerNorm,
    pub(crate) heads: usize,
}

impl BertAttention {
    /// Returns `[batch, length, hidden]`. `mask_bias` is `[batch, 1, 1, length]`, 0 for a real
    /// token and [`MASKED_SCORE`] for padding, so no token attends to padding.
    pub fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [batch, length, width] = hidden.dims();
        let head_size = width / self.heads;
        let split = |projected: Tensor<3>| {
            projected
                .reshape([batch, length, self.heads, head_size])
                .swap_dims(1, 2)
        };
        let query = split(self.query.forward(hidden.clone()));
        let key = split(self.key.forward(hidden.clone()));
        let value = split(self.value.forward(hidden.clone()));

        let scores = query.matmul(key.swap_dims(2, 3)) / (head_size as f64).sqrt() + mask_bias;
        let weights = softmax(scores, 3);
        let context = weights
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, length, width]);

        self.layer_norm
            .forward(self.output.forward(context) + hidden)
    }
}

/// One transformer layer: attention, then the GELU feed-forward block.
#[derive(Module, Debug)]
pub struct BertLayer {
    pub(crate) attention: BertAttention,
    pub(crate) intermediate: Linear,
    pub(crate) output: Linear,
    pub(crate) layer_norm: LayerNorm,
}

impl BertLayer {
    /// Returns `[batch, length, hidden]`.
    pub fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.forward(hidden, mask_bias);
        let expanded = gelu(self.intermediate.forward(attended.clone()));
        self.layer_norm
            .forward(self.output.forward(expanded) + attended)
    }
}

/// The BERT encoder without its pooler head, which sentence embeddings do not use.
#[derive(Module, Debug)]
pub struct BertModel {
    pub(crate) embeddings: BertEmbeddings,
    pub(crate) layers: Vec<BertLayer>,
}

impl BertModel {
    /// Returns the last hidden state, `[batch, length, hidden]`. `mask` is `[batch, length]`,
    /// 1 for a real token and 0 for padding.
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        type_ids: Tensor<2, Int>,
        mask: Tensor<2>,
    ) -> Tensor<3> {
        let [batch, length] = mask.dims();
        // (1 - mask) · MASKED_SCORE: 0 where attention is allowed.
        let mask_bias = (mask.neg() + 1.0)
            .mul_scalar(MASKED_SCORE)
            .reshape([batch, 1, 1, length]);
        let mut hidden = self.embeddings.forward(ids, type_ids);
        for layer in &self.layers {
            hidden = layer.forward(hidden, mask_bias.clone());
        }
        hidden
    }
}

/// Sizes the loader checks each tensor against, derived from [`BertConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shapes {
    pub(crate) vocab: usize,
    pub(crate) hidden: usize,
    pub(crate) intermediate: usize,
    pub(crate) positions: usize,
    pub(crate) token_types: usize,
}

impl Shapes {
    pub(crate) fn of(config: &BertConfig) -> Self {
        Shapes {
            vocab: config.vocab_size,
            hidden: config.hidden_size,
            intermediate: config.intermediate_size,
            positions: config.max_position_embeddings,
            token_types: config.type_vocab_size,
        }
    }
}
