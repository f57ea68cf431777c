//! Conformance of the record-pair classifier.

use governance_llm::{
    FeatureMatrix, ModelRegistry, PairClassifierConfig, PairNetwork, TrainedPairClassifier,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{assert_close, cpu, ramp};

/// `rows` comparison vectors where a match has a high name score and an agreeing postcode;
/// the third column is noise.
fn pairs(rows: usize, seed: u64) -> (FeatureMatrix, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for index in 0..rows {
        let matched = index % 4 == 0;
        let score: f32 = if matched {
            rng.random_range(0.5..1.0)
        } else {
            rng.random_range(0.0..0.6)
        };
        let postcode = if matched || rng.random::<f32>() < 0.1 {
            1.0
        } else {
            0.0
        };
        values.extend([score, postcode, rng.random::<f32>()]);
        labels.push(matched);
    }
    let columns = vec!["name_score".into(), "postcode".into(), "noise".into()];
    let features = FeatureMatrix::new(columns, values).expect("whole rows");
    (features, labels)
}

fn config(seed: u64) -> PairClassifierConfig {
    PairClassifierConfig {
        hidden: vec![8],
        epochs: 5,
        batch_size: 32,
        learning_rate: 0.01,
        seed,
        ..Default::default()
    }
}

fn train(seed: u64) -> TrainedPairClassifier {
    let (features, labels) = pairs(300, 1);
    TrainedPairClassifier::train(&config(seed), &features, &labels, None).expect("training")
}

#[test]
fn pair_classifier_forward_shape() {
    let network = PairNetwork::new(3, &[8, 4], 1, &cpu());
    for rows in [1, 6] {
        assert_eq!(network.forward(ramp(rows, 3)).dims(), [rows, 1]);
    }

    let model = train(1);
    for rows in [1, 6] {
        let (probe, _) = pairs(rows, 9);
        assert_eq!(model.predict(&probe).expect("predict").len(), rows);
        assert_eq!(model.classify(&probe).expect("classify").len(), rows);
    }
}

#[test]
fn pair_classifier_save_load_round_trip() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let model = train(2);
    registry.save("pairs", &model, None).expect("save");
    let loaded: TrainedPairClassifier = registry.load("pairs", 1).expect("load");

    let (probe, _) = pairs(20, 9);
    assert_close(
        &model.predict(&probe).expect("predict"),
        &loaded.predict(&probe).expect("predict"),
        "match probabilities",
    );
    assert_eq!(loaded.threshold(), model.threshold());
}

#[test]
fn pair_classifier_seed_determinism() {
    let (probe, _) = pairs(20, 9);
    let first = train(3);
    let second = train(3);
    assert_eq!(
        first.predict(&probe).expect("predict"),
        second.predict(&probe).expect("predict")
    );
    assert_eq!(first.metrics(), second.metrics());

    let other = train(4);
    assert_ne!(
        first.predict(&probe).expect("predict"),
        other.predict(&probe).expect("predict")
    );
}

#[test]
fn pair_classifier_training_lowers_loss() {
    let model = train(5);
    let metrics = model.metrics();
    assert!(metrics.epochs_run >= 1);
    assert_eq!(metrics.epoch_losses.len(), metrics.epochs_run);
    assert!(
        metrics.final_loss < metrics.initial_loss,
        "final loss {} is not below the initial {}",
        metrics.final_loss,
        metrics.initial_loss
    );
}
