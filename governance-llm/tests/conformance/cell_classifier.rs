//! Conformance of the cell classifier.

use governance_llm::{
    CELL_CLASSIFIER_KIND, CellClassifierConfig, CellNetwork, ModelRegistry, TrainedCellClassifier,
};

use super::{assert_close, cpu, ramp};

const WIDTH: usize = 3;

/// 300 rows where feature 0 mostly decides the class, feature 1 helps a little and feature 2
/// is noise.
fn cells() -> (Vec<f32>, Vec<bool>) {
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for index in 0..300 {
        let error = index % 5 == 0;
        let signal = if error { 0.8 } else { 0.2 } + (index % 7) as f32 * 0.02;
        features.extend([signal, (index % 3) as f32 / 3.0, (index % 11) as f32 / 11.0]);
        labels.push(error);
    }
    (features, labels)
}

fn config(seed: u64) -> CellClassifierConfig {
    CellClassifierConfig {
        hidden: 4,
        epochs: 30,
        seed,
        ..Default::default()
    }
}

fn train(seed: u64) -> TrainedCellClassifier {
    let (features, labels) = cells();
    let weights = vec![1.0; labels.len()];
    TrainedCellClassifier::train(&config(seed), &features, WIDTH, &labels, &weights)
        .expect("training")
}

fn probe() -> Vec<f32> {
    vec![0.9, 0.3, 0.5, 0.1, 0.6, 0.2, 0.5, 0.0, 0.9]
}

#[test]
fn cell_classifier_forward_shape() {
    for hidden in [0, 4] {
        let network = CellNetwork::new(WIDTH, hidden, 1, &cpu());
        for rows in [1, 6] {
            assert_eq!(network.forward(ramp(rows, WIDTH)).dims(), [rows, 1]);
        }
    }

    let model = train(1);
    assert_eq!(model.width(), WIDTH);
    assert_eq!(model.predict(&probe()[..WIDTH]).expect("predict").len(), 1);
    let probabilities = model.predict(&probe()).expect("predict");
    assert_eq!(probabilities.len(), 3);
    for probability in probabilities {
        assert!(
            (0.0..=1.0).contains(&probability),
            "probability {probability}"
        );
    }
}

#[test]
fn cell_classifier_save_load_round_trip() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let model = train(5);
    let meta = registry.save("cells", &model, None).expect("save");
    assert_eq!(meta.kind, CELL_CLASSIFIER_KIND);
    assert_eq!(meta.card.training_rows, 300);
    assert_eq!(meta.card.columns.len(), WIDTH);
    assert_eq!(meta.card.training_data_hash.len(), 64);

    let loaded: TrainedCellClassifier = registry.load("cells", 1).expect("load");
    assert_eq!(loaded.width(), model.width());
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.final_loss(), model.final_loss());
    assert_close(
        &model.predict(&probe()).expect("predict"),
        &loaded.predict(&probe()).expect("predict"),
        "probabilities",
    );
}

#[test]
fn cell_classifier_seed_determinism() {
    let first = train(2).predict(&probe()).expect("predict");
    let second = train(2).predict(&probe()).expect("predict");
    assert_eq!(first, second);

    let other = train(3).predict(&probe()).expect("predict");
    assert_ne!(first, other);
}

#[test]
fn cell_classifier_training_lowers_loss() {
    let model = train(4);
    assert!(
        model.final_loss() < model.initial_loss(),
        "final loss {} is not below the initial {}",
        model.final_loss(),
        model.initial_loss()
    );
}
