//! A tiny BERT model folder written by the tests: a 12-token WordPiece tokenizer, a config
//! with 8-wide hidden vectors and 2 layers, and weights of a fixed pseudo-random pattern.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use serde_json::json;

/// Tokens of the tiny vocabulary, in id order.
pub const VOCAB: [&str; 12] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "city", "river", "road", "bus", "##s", "air",
    "water",
];

/// Sizes of the tiny model.
pub const HIDDEN: usize = 8;
pub const INTERMEDIATE: usize = 16;
pub const LAYERS: usize = 2;
pub const POSITIONS: usize = 16;

/// Writes config.json for the tiny model with `vocab_size` rows.
pub fn write_config(dir: &Path, vocab_size: usize) {
    let config = json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": vocab_size,
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": 2,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": POSITIONS,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "hidden_act": "gelu"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
}

/// Writes a WordPiece tokenizer.json over `tokens`.
pub fn write_tokenizer(dir: &Path, tokens: &[&str]) {
    let vocab: serde_json::Map<String, serde_json::Value> = tokens
        .iter()
        .enumerate()
        .map(|(id, token)| (token.to_string(), json!(id)))
        .collect();
    let special = |id: usize, content: &str| {
        json!({"id": id, "content": content, "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true})
    };
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string())
        .expect("write tokenizer.json");
}

/// Returns every tensor of the tiny model by name with its shape, in the Hugging Face
/// `BertModel` layout (linear weights `[out, in]`).
pub fn tensor_shapes(vocab_size: usize) -> Vec<(String, Vec<usize>)> {
    let mut shapes = vec![
        (
            "embeddings.word_embeddings.weight".to_string(),
            vec![vocab_size, HIDDEN],
        ),
        (
            "embeddings.position_embeddings.weight".to_string(),
            vec![POSITIONS, HIDDEN],
        ),
        (
            "embeddings.token_type_embeddings.weight".to_string(),
            vec![2, HIDDEN],
        ),
        ("embeddings.LayerNorm.weight".to_string(), vec![HIDDEN]),
        ("embeddings.LayerNorm.bias".to_string(), vec![HIDDEN]),
    ];
    for layer in 0..LAYERS {
        let p = format!("encoder.layer.{layer}");
        for (name, out, input) in [
            ("attention.self.query", HIDDEN, HIDDEN),
            ("attention.self.key", HIDDEN, HIDDEN),
            ("attention.self.value", HIDDEN, HIDDEN),
            ("attention.output.dense", HIDDEN, HIDDEN),
            ("intermediate.dense", INTERMEDIATE, HIDDEN),
            ("output.dense", HIDDEN, INTERMEDIATE),
        ] {
            shapes.push((format!("{p}.{name}.weight"), vec![out, input]));
            shapes.push((format!("{p}.{name}.bias"), vec![out]));
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            shapes.push((format!("{p}.{name}.weight"), vec![HIDDEN]));
            shapes.push((format!("{p}.{name}.bias"), vec![HIDDEN]));
        }
    }
    shapes
}

/// Writes model.safetensors with the given tensors; values follow a fixed pattern in
/// [-0.5, 0.5], with LayerNorm weights near 1 and biases near 0, so that the embedding of a
/// text depends on its tokens rather than on the biases.
pub fn write_weights(dir: &Path, shapes: &[(String, Vec<usize>)]) {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = shapes
        .iter()
        .enumerate()
        .map(|(tensor, (name, shape))| {
            let count: usize = shape.iter().product();
            let layer_norm_weight = name.ends_with("LayerNorm.weight");
            let bias = name.ends_with(".bias");
            let bytes = (0..count)
                .flat_map(|i| {
                    let wave = ((i * 7919 + tensor * 104_729) as f32 * 0.618_034).sin() * 0.5;
                    let value = if layer_norm_weight {
                        1.0 + 0.2 * wave
                    } else if bias {
                        0.02 * wave
                    } else {
                        wave
                    };
                    value.to_le_bytes()
                })
                .collect();
            (name.clone(), shape.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("valid view");
            (name.clone(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, None::<HashMap<String, String>>)
        .expect("serialize safetensors");
    std::fs::write(dir.join("model.safetensors"), bytes).expect("write model.safetensors");
}

/// Writes a complete, valid tiny model folder into `dir`.
pub fn write_tiny_model(dir: &Path) {
    write_config(dir, VOCAB.len());
    write_tokenizer(dir, &VOCAB);
    write_weights(dir, &tensor_shapes(VOCAB.len()));
}
