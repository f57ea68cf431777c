//! Entity blocking and pair features with the pretrained MiniLM sentence encoder behind the
//! same `TextEmbedder` interface as the hashed n-gram embedder. Skips with a message when
//! the model folder is absent; `.ci/fetch_minilm.sh` installs it.

use std::path::PathBuf;
use std::sync::Arc;

use governance_fuse::embed::{HashedNgramEmbedder, TextEmbedder};
use governance_fuse::er::block::{
    Blocker, EmbedFn, EmbeddingBlocker, EmbeddingBlockerConfig, EmbeddingIndex,
};
use governance_fuse::er::features::vectors::EmbeddingVectorConfig;
use governance_fuse::er::features::{PairFeatureConfig, PairFeaturizer};
use governance_fuse::er::{CandidatePair, RecordTable};
use governance_llm::SentenceEncoder;

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

/// Service requests from two systems that describe the same four problems in other words.
/// Right row `MATCHES[i]` is the same problem as left row `i`.
const LEFT: [&str; 4] = [
    "Streetlight is out on Maple Avenue",
    "Garbage has not been collected for two weeks",
    "Water main burst, flooding the road",
    "Loud music from a bar after midnight",
];
const RIGHT: [&str; 4] = [
    "Noise complaint: nightclub playing songs late at night",
    "Lamp post not working near Maple Ave",
    "Pipe broke and the street is under water",
    "Trash bins left unemptied since early this month",
];
const MATCHES: [usize; 4] = [1, 3, 2, 0];

fn table(name: &str, texts: &[&str]) -> RecordTable {
    let mut table = RecordTable::new(name, vec!["description".to_string()]).expect("table");
    for (row, text) in texts.iter().enumerate() {
        table
            .push(format!("{name}{row}"), vec![Some((*text).to_string())])
            .expect("push");
    }
    table
}

/// Returns how many true pairs nearest-neighbour blocking (k = 1, exact) finds with `embedder`.
fn true_pairs_found(embedder: Arc<dyn TextEmbedder>) -> usize {
    let embed: EmbedFn = Arc::new(move |text: &str| embedder.embed(text));
    let config = EmbeddingBlockerConfig {
        index: EmbeddingIndex::Exact,
        ..EmbeddingBlockerConfig::new(&["description"], 1)
    };
    let blocker = EmbeddingBlocker::new(config, embed).expect("valid config");
    let blocking = blocker
        .link(&table("left", &LEFT), &table("right", &RIGHT))
        .expect("blocking runs");
    (0..LEFT.len())
        .filter(|&left| {
            blocking
                .pairs
                .iter()
                .any(|pair| pair.left as usize == left && pair.right as usize == MATCHES[left])
        })
        .count()
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test reports both embedders' counts"
)]
fn encoder_blocks_paraphrases() {
    let Some(dir) = minilm_dir() else { return };
    let encoder: Arc<dyn TextEmbedder> =
        Arc::new(SentenceEncoder::load(&dir).expect("MiniLM folder loads"));
    let hashed: Arc<dyn TextEmbedder> = Arc::new(HashedNgramEmbedder::default());

    let with_encoder = true_pairs_found(encoder.clone());
    let with_hashed = true_pairs_found(hashed.clone());
    eprintln!("true pairs found: encoder {with_encoder} of 4, hashed n-grams {with_hashed} of 4");
    assert_eq!(with_encoder, 4);
    assert!(with_encoder >= with_hashed);

    // Through the same interface, the encoder scores the paraphrase of the streetlight
    // request above an unrelated request.
    let paraphrase = encoder.similarity(LEFT[0], RIGHT[1]);
    let unrelated = encoder.similarity(LEFT[0], RIGHT[3]);
    assert!(
        paraphrase > unrelated + 0.2,
        "paraphrase {paraphrase}, unrelated {unrelated}"
    );
}

#[test]
fn encoder_features_score_paraphrases() {
    let Some(dir) = minilm_dir() else { return };
    let encoder = SentenceEncoder::load(&dir).expect("MiniLM folder loads");
    let config = PairFeatureConfig {
        embedding_vectors: Some(EmbeddingVectorConfig { dim: 8, seed: 7 }),
        ..PairFeatureConfig::default()
    };
    let (left, right) = (table("left", &LEFT), table("right", &RIGHT));
    let featurizer =
        PairFeaturizer::fit_with_embedder(&left, &right, &config, &encoder).expect("fits");
    let names = featurizer.names();
    assert_eq!(
        names.last().map(String::as_str),
        Some("record:embedding_difference_7")
    );
    let cosine = names
        .iter()
        .position(|name| name == "record:embedding_cosine")
        .expect("cosine column");

    // The streetlight request with its paraphrase, then with the trash request.
    let pairs = [CandidatePair::new(0, 1), CandidatePair::new(0, 3)];
    let rows = featurizer.features(&pairs).expect("features");
    let width = featurizer.width();
    let (paraphrase, unrelated) = (rows[cosine], rows[width + cosine]);
    assert!(
        paraphrase > unrelated + 0.2,
        "paraphrase {paraphrase}, unrelated {unrelated}"
    );
    assert!(rows.iter().all(|value| value.is_finite()));
}
