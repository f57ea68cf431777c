//! Training, saving, loading and running the token tagger.

use std::path::Path;

use governance_llm::tagger::{
    EntityLabel, NetworkShape, SentenceGenerator, Split, TAGGER_KIND, Tagger, TaggerConfig,
};
use governance_llm::{Error, ModelRegistry};

/// Returns a network and data set small enough to train in a few seconds.
fn tiny_config(seed: u64) -> TaggerConfig {
    TaggerConfig {
        network: NetworkShape {
            word_buckets: 1024,
            word_dim: 8,
            ngram_buckets: 1024,
            ngram_dim: 8,
            max_ngrams: 8,
            shape_dim: 4,
            hidden: 16,
            layers: 2,
        },
        train_sentences: 300,
        held_out_sentences: 40,
        epochs: 3,
        batch_size: 16,
        // At 0.01 some seeds tag no span in the probes after three epochs, and a check that
        // compares two runs' spans would then compare empty output.
        learning_rate: 0.02,
        seed,
        ..TaggerConfig::default()
    }
}

const PROBES: [&str; 4] = [
    "Dr. Jane Smith moved from Boston to 12 Oak Street, Apt. 4, Springfield, IL 62704.",
    "联系人：王芳，地址：北京市朝阳区建国路88号3栋2单元501室。",
    "The Harbor Logistics Inc. office in Paris called Li Wei at 9:30 AM.",
    "",
];

#[test]
fn training_lowers_the_loss() {
    let tagger = Tagger::train(&tiny_config(1)).expect("training");
    let report = &tagger.metadata().training;
    let last = *report.epoch_losses.last().expect("one loss per epoch");
    assert_eq!(report.epoch_losses.len(), 3);
    assert!(
        last < report.initial_loss * 0.7,
        "loss {last} is not well below the initial {}",
        report.initial_loss
    );
    assert_eq!(report.training_sentences, 300);
    assert_eq!(report.training_data_hash.len(), 64);
    let held_out = report.held_out.as_ref().expect("held-out scores");
    assert_eq!(held_out.sentences, 40);
    let templates = report
        .held_out_templates
        .as_ref()
        .expect("held-out template scores");
    assert_eq!(templates.sentences, 40);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let first = Tagger::train(&tiny_config(3)).expect("first");
    let second = Tagger::train(&tiny_config(3)).expect("second");
    assert_eq!(
        first.metadata().training.epoch_losses,
        second.metadata().training.epoch_losses
    );
    assert_eq!(
        first.metadata().training.training_data_hash,
        second.metadata().training.training_data_hash
    );
    let spans = first.tag_batch(&PROBES);
    assert!(
        spans.iter().any(|found| !found.is_empty()),
        "no span tagged"
    );
    assert_eq!(spans, second.tag_batch(&PROBES));
}

#[test]
fn save_and_load_give_identical_outputs() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let tagger = Tagger::train(&tiny_config(5)).expect("training");
    tagger.save(dir.path()).expect("save");
    assert!(dir.path().join("tagger.safetensors").is_file());

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tagger.json")).expect("read tagger.json"),
    )
    .expect("tagger.json is JSON");
    assert_eq!(json["kind"], TAGGER_KIND);
    assert!(json["created_at"].is_string());
    assert!(json["training"]["training_data_hash"].is_string());

    // Floats in the JSON may differ in their last digit, so the metadata is compared by the
    // fields that identify the model.
    let loaded = Tagger::load(dir.path()).expect("load");
    assert_eq!(loaded.metadata().config, tagger.metadata().config);
    assert_eq!(
        loaded.metadata().training.training_data_hash,
        tagger.metadata().training.training_data_hash
    );
    assert_eq!(
        loaded.metadata().training.epoch_losses,
        tagger.metadata().training.epoch_losses
    );
    let spans = tagger.tag_batch(&PROBES);
    assert!(
        spans.iter().any(|found| !found.is_empty()),
        "no span tagged"
    );
    assert_eq!(loaded.tag_batch(&PROBES), spans);
}

#[test]
fn registry_keeps_tagger_versions() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let tagger = Tagger::train(&tiny_config(6)).expect("training");
    let meta = registry.save("tagger", &tagger, None).expect("save");
    assert_eq!(meta.kind, TAGGER_KIND);
    assert_eq!(meta.card.training_rows, 300);

    let loaded: Tagger = registry.load("tagger", 1).expect("load");
    assert_eq!(loaded.tag_batch(&PROBES), tagger.tag_batch(&PROBES));
}

#[test]
fn missing_files_name_the_training_command() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let error = Tagger::load(dir.path()).expect_err("empty folder");
    assert!(matches!(error, Error::NotFound(_)));
    let message = error.to_string();
    assert!(message.contains("tagger.json"), "{message}");
    assert!(message.contains("--example train_tagger"), "{message}");
}

#[test]
fn batch_tagging_matches_single_texts() {
    let tagger = Tagger::train(&tiny_config(8)).expect("training");
    let batched = tagger.tag_batch(&PROBES);
    for (text, spans) in PROBES.iter().zip(&batched) {
        let single = tagger.tag(text);
        assert_eq!(single.len(), spans.len(), "span count differs for {text:?}");
        for (one, other) in single.iter().zip(spans) {
            assert_eq!(one.range(), other.range());
            assert_eq!(one.label, other.label);
            assert!((one.score - other.score).abs() < 1e-4);
        }
    }
    assert!(batched[3].is_empty());
}

#[test]
fn long_text_spans_stay_in_bounds() {
    let tagger = Tagger::train(&tiny_config(9)).expect("training");
    let sentences = SentenceGenerator::new(2, Split::HeldOut).sentences(80);
    let text: String = sentences
        .iter()
        .map(|sentence| sentence.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let spans = tagger.tag(&text);
    for span in &spans {
        assert!(span.start < span.end, "empty span {span:?}");
        assert!(span.end <= text.len(), "span past the end {span:?}");
        assert!(
            text.is_char_boundary(span.start),
            "start inside a character {span:?}"
        );
        assert!(
            text.is_char_boundary(span.end),
            "end inside a character {span:?}"
        );
        assert!(span.score > 0.0, "score {}", span.score);
        assert!(span.score <= 1.0, "score {}", span.score);
    }
    assert!(spans.windows(2).all(|pair| pair[0].end <= pair[1].start));
}

#[test]
fn invalid_config_is_rejected() {
    let config = TaggerConfig {
        word_dropout: 1.0,
        ..tiny_config(1)
    };
    let error = Tagger::train(&config).expect_err("dropout 1");
    assert!(error.to_string().contains("word_dropout is 1"));
}

/// Checks the committed tagger on sentences written for this test.
#[test]
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn committed_tagger_finds_entities() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tagger");
    if !dir.join("tagger.json").is_file() {
        eprintln!(
            "skipping: no committed tagger in {}; create it with \
             `cargo run -p governance-llm --example train_tagger -- --out {}`",
            dir.display(),
            dir.display()
        );
        return;
    }
    let tagger = Tagger::load(&dir).expect("load the committed tagger");
    let text = "Please ask Margaret Olsen to mail the forms to 48 Birchwood Avenue, Denver.";
    let spans = tagger.tag(text);
    let found = |label: EntityLabel, part: &str| {
        spans
            .iter()
            .any(|span| span.label == label && text[span.range()].contains(part))
    };
    assert!(found(EntityLabel::Person, "Margaret"), "{spans:?}");
    assert!(found(EntityLabel::Location, "Birchwood"), "{spans:?}");

    let text = "市民李建华反映，上海市徐汇区漕溪北路120号门口的路灯坏了。";
    let spans = tagger.tag(text);
    let labels: Vec<EntityLabel> = spans.iter().map(|span| span.label).collect();
    assert!(labels.contains(&EntityLabel::Person), "{spans:?}");
    assert!(labels.contains(&EntityLabel::Location), "{spans:?}");
}

/// Checks that the committed tagger leaves ordinary text alone and splits an address written
/// over several lines into one span per line.
#[test]
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn committed_tagger_ignores_ordinary_text() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tagger");
    if !dir.join("tagger.json").is_file() {
        eprintln!("skipping: no committed tagger in {}", dir.display());
        return;
    }
    let tagger = Tagger::load(&dir).expect("load the committed tagger");
    let ordinary = [
        "I'm so glad the breakfast was brilliant, and the song on the radio was lovely.",
        "Honestly, the cheese tasted bitter but the soup was warm and fresh.",
        "We played cards after dinner and talked about music until midnight.",
    ];
    for text in ordinary {
        let spans = tagger.tag(text);
        assert!(spans.is_empty(), "{text:?} gave {spans:?}");
    }

    let text = "Send it to:\n17 Orchard Lane\nApt. 5\nRiverton";
    let spans = tagger.tag(text);
    assert!(
        spans.iter().all(|span| !text[span.range()].contains('\n')),
        "{spans:?}"
    );
    assert!(
        spans
            .iter()
            .any(|span| text[span.range()].contains("Orchard")),
        "{spans:?}"
    );
}
