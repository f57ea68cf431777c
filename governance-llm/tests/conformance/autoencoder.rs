//! Conformance of the dense autoencoder.

use governance_llm::{
    AutoencoderConfig, AutoencoderNetwork, FeatureMatrix, ModelRegistry, TrainedAutoencoder,
};

use super::common::{COLUMNS, correlated_rows, matrix};
use super::{assert_close, cpu, ramp, values};

fn config(seed: u64) -> AutoencoderConfig {
    AutoencoderConfig {
        hidden: 8,
        bottleneck: 2,
        epochs: 3,
        batch_size: 32,
        seed,
        ..Default::default()
    }
}

fn train(seed: u64) -> TrainedAutoencoder {
    TrainedAutoencoder::train(&config(seed), &matrix(&correlated_rows(300, 1))).expect("training")
}

fn scores(model: &TrainedAutoencoder, data: &FeatureMatrix) -> Vec<f32> {
    model
        .score_rows(data)
        .expect("scoring")
        .iter()
        .map(|row| row.score)
        .collect()
}

#[test]
fn autoencoder_forward_shape() {
    let network = AutoencoderNetwork::new(COLUMNS.len(), 8, 2, 1, &cpu());
    for rows in [1, 7] {
        let output = network.forward(ramp(rows, COLUMNS.len()));
        assert_eq!(output.dims(), [rows, COLUMNS.len()]);
        let code = network.encode(ramp(rows, COLUMNS.len()));
        assert_eq!(code.dims(), [rows, 2]);
    }

    let model = train(1);
    for rows in [1, 7] {
        let probe = matrix(&correlated_rows(rows, 9));
        assert_eq!(model.score_rows(&probe).expect("scoring").len(), rows);
    }
}

#[test]
fn autoencoder_save_load_round_trip() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let model = train(2);
    registry.save("autoencoder", &model, None).expect("save");
    let loaded: TrainedAutoencoder = registry.load("autoencoder", 1).expect("load");

    let probe = matrix(&correlated_rows(20, 9));
    assert_close(&scores(&model, &probe), &scores(&loaded, &probe), "scores");
    assert_eq!(loaded.threshold(), model.threshold());

    let input = ramp(4, COLUMNS.len());
    assert_close(
        &values(model.network().forward(input.clone())),
        &values(loaded.network().forward(input)),
        "reconstructions",
    );
}

#[test]
fn autoencoder_seed_determinism() {
    let probe = matrix(&correlated_rows(20, 9));
    let first = train(3);
    let second = train(3);
    assert_eq!(scores(&first, &probe), scores(&second, &probe));
    assert_eq!(first.metrics().epoch_losses, second.metrics().epoch_losses);

    let other = train(4);
    assert_ne!(scores(&first, &probe), scores(&other, &probe));
}

#[test]
fn autoencoder_training_lowers_loss() {
    let metrics = train(5).metrics().clone();
    assert_eq!(metrics.epoch_losses.len(), 3);
    assert!(
        metrics.final_loss < metrics.initial_loss,
        "final loss {} is not below the initial {}",
        metrics.final_loss,
        metrics.initial_loss
    );
}
