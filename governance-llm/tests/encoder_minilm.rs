//! The sentence encoder on the real all-MiniLM-L6-v2 weights. The tests skip with a message
//! when the model folder is absent; `.ci/fetch_minilm.sh` installs it.

use std::path::PathBuf;

use governance_llm::{SentenceEncoder, TextEmbedder, cosine};

/// Returns the model folder, `GOVERNANCE_MINILM_DIR` or else
/// `$HOME/.cache/governance-models/all-minilm-l6-v2`, or `None` when it has no weights.
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn minilm_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("GOVERNANCE_MINILM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache/governance-models/all-minilm-l6-v2"),
    };
    if dir.join("model.safetensors").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: no MiniLM weights in {} (run .ci/fetch_minilm.sh or set GOVERNANCE_MINILM_DIR)",
            dir.display()
        );
        None
    }
}

fn load() -> Option<SentenceEncoder> {
    let dir = minilm_dir()?;
    Some(SentenceEncoder::load(&dir).expect("MiniLM folder loads"))
}

#[test]
fn minilm_loads_with_its_sizes() {
    let Some(encoder) = load() else { return };
    assert_eq!(encoder.dim(), 384);
    assert_eq!(encoder.config().num_hidden_layers, 6);
    assert_eq!(encoder.config().layer_norm_eps, 1e-12);
    // sentence_bert_config.json sets max_seq_length 256.
    assert_eq!(encoder.max_length(), 256);
}

#[test]
fn minilm_ranks_paraphrase_first() {
    let Some(encoder) = load() else { return };
    let texts = [
        "A man is playing a guitar.",
        "Someone is strumming an acoustic instrument.",
        "The council approved the new budget for road repairs.",
    ];
    let vectors = encoder.embed_batch(&texts).expect("embed");
    let paraphrase = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(
        paraphrase > unrelated + 0.2,
        "paraphrase {paraphrase}, unrelated {unrelated}"
    );
    for vector in &vectors {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
}

#[test]
fn minilm_truncates_long_text() {
    let Some(encoder) = load() else { return };
    let long = "The river flooded the lower streets after three days of rain. ".repeat(60);
    let tokens = encoder.tokenize(&[long.as_str()]).expect("tokenize");
    assert_eq!(tokens[0].ids.len(), 256);
    // [CLS] first, [SEP] last, as in the model's tokenizer.json.
    assert_eq!(tokens[0].ids.first(), Some(&101));
    assert_eq!(tokens[0].ids.last(), Some(&102));
    let vectors = encoder
        .embed_batch(&[long.as_str(), "rain"])
        .expect("embed");
    assert_eq!(vectors[0].len(), 384);
}

#[test]
fn minilm_single_embed_matches_batch() {
    let Some(encoder) = load() else { return };
    let texts = [
        "空气质量监测站",
        "air quality monitoring station",
        "bus stop",
    ];
    let batch = encoder.embed_batch(&texts).expect("embed batch");
    for (text, vector) in texts.iter().zip(&batch) {
        let single = encoder.embed(text);
        let similarity = cosine(&single, vector);
        assert!(similarity > 0.99999, "{text}: {similarity}");
    }
}
