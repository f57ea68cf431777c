//! Conformance of the token tagger. Its network's `forward` is crate-private, so the shape
//! check runs through `tag_batch`.

use governance_llm::ModelRegistry;
use governance_llm::tagger::{NetworkShape, Tagger, TaggerConfig};

fn config(seed: u64) -> TaggerConfig {
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
        train_sentences: 600,
        held_out_sentences: 20,
        epochs: 4,
        batch_size: 16,
        learning_rate: 0.02,
        seed,
        ..TaggerConfig::default()
    }
}

fn train(seed: u64) -> Tagger {
    Tagger::train(&config(seed)).expect("training")
}

const PROBES: [&str; 3] = [
    "Dr. Jane Smith moved from Boston to 12 Oak Street, Springfield.",
    "联系人：王芳，地址：北京市朝阳区建国路88号。",
    "The Harbor Logistics Inc. office in Paris called Li Wei.",
];

#[test]
fn tagger_forward_shape() {
    let tagger = train(1);
    assert_eq!(tagger.tag_batch(&PROBES[..1]).len(), 1);
    let batch = tagger.tag_batch(&PROBES);
    assert_eq!(batch.len(), PROBES.len());
    for (text, spans) in PROBES.iter().zip(&batch) {
        for span in spans {
            assert!(span.start < span.end, "empty span {span:?} in {text:?}");
            assert!(span.end <= text.len(), "span {span:?} runs past {text:?}");
            assert!(
                text.is_char_boundary(span.start),
                "start of {span:?} in {text:?}"
            );
            assert!(
                text.is_char_boundary(span.end),
                "end of {span:?} in {text:?}"
            );
            assert!((0.0..=1.0).contains(&span.score), "score of {span:?}");
        }
    }
    assert_eq!(tagger.tag(PROBES[0]), batch[0]);
}

#[test]
fn tagger_save_load_round_trip() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let tagger = train(2);
    registry.save("tagger", &tagger, None).expect("save");
    let loaded: Tagger = registry.load("tagger", 1).expect("load");

    let before = tagger.tag_batch(&PROBES);
    let after = loaded.tag_batch(&PROBES);
    assert!(
        before.iter().any(|spans| !spans.is_empty()),
        "the tiny tagger tags no span in the probes, so the comparison would check nothing"
    );
    assert_eq!(before.len(), after.len());
    for (left, right) in before.iter().zip(&after) {
        assert_eq!(
            left.len(),
            right.len(),
            "span counts differ: {left:?} vs {right:?}"
        );
        for (a, b) in left.iter().zip(right) {
            assert_eq!((a.start, a.end, a.label), (b.start, b.end, b.label));
            assert!((a.score - b.score).abs() <= 1e-6, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn tagger_seed_determinism() {
    let first = train(3);
    let second = train(3);
    let tagged = first.tag_batch(&PROBES);
    assert!(
        tagged.iter().any(|spans| !spans.is_empty()),
        "the tiny tagger tags no span in the probes, so the comparison would check nothing"
    );
    assert_eq!(tagged, second.tag_batch(&PROBES));
    assert_eq!(
        first.metadata().training.epoch_losses,
        second.metadata().training.epoch_losses
    );

    let other = train(4);
    assert_ne!(
        first.metadata().training.epoch_losses,
        other.metadata().training.epoch_losses
    );
    assert_ne!(tagged, other.tag_batch(&PROBES));
}

#[test]
fn tagger_training_lowers_loss() {
    let tagger = train(5);
    let report = &tagger.metadata().training;
    assert_eq!(report.epoch_losses.len(), 4);
    let last = *report.epoch_losses.last().expect("one loss per epoch");
    assert!(
        last < report.initial_loss,
        "last epoch loss {last} is not below the initial {}",
        report.initial_loss
    );
}
