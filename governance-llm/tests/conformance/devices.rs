//! A model whose device comes from its config rather than from the code: the autoencoder
//! trained on a wgpu adapter. Built with the `wgpu` feature only; it skips with a message
//! where the machine offers no adapter.

use governance_llm::{AutoencoderConfig, DeviceConfig, ModelRegistry, TrainedAutoencoder};

use super::assert_close;
use super::common::{correlated_rows, matrix};

#[test]
#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn autoencoder_trains_on_wgpu() {
    let device: DeviceConfig =
        serde_json::from_str(r#"{"wgpu": {"adapter": "preferred"}}"#).expect("device parses");
    if let Err(error) = device.probe() {
        eprintln!("skipping the wgpu conformance check: {error}");
        return;
    }
    let config = AutoencoderConfig {
        hidden: 8,
        bottleneck: 2,
        epochs: 3,
        batch_size: 32,
        seed: 11,
        device,
        ..Default::default()
    };
    let model =
        TrainedAutoencoder::train(&config, &matrix(&correlated_rows(300, 1))).expect("training");
    let metrics = model.metrics();
    assert!(
        metrics.final_loss < metrics.initial_loss,
        "final loss {} is not below the initial {}",
        metrics.final_loss,
        metrics.initial_loss
    );

    let probe = matrix(&correlated_rows(20, 9));
    let scores = |model: &TrainedAutoencoder| -> Vec<f32> {
        model
            .score_rows(&probe)
            .expect("scoring")
            .iter()
            .map(|row| row.score)
            .collect()
    };
    let trained = scores(&model);
    assert!(trained.iter().all(|score| score.is_finite()), "{trained:?}");

    // The saved config carries the device, so the loaded model runs on the adapter too.
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    registry.save("autoencoder", &model, None).expect("save");
    let loaded: TrainedAutoencoder = registry.load("autoencoder", 1).expect("load");
    assert_close(
        &trained,
        &scores(&loaded),
        "scores after a round trip on wgpu",
    );
}
