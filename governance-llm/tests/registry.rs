//! Saving, loading, versioning and rolling back models in the registry.

mod common;

use common::{column_names, correlated_rows, matrix};
use governance_llm::registry::AUTOENCODER_KIND;
use governance_llm::{AutoencoderConfig, Error, ModelRegistry, TrainedAutoencoder};

fn trained(seed: u64) -> TrainedAutoencoder {
    let config = AutoencoderConfig {
        epochs: 10,
        seed,
        ..Default::default()
    };
    TrainedAutoencoder::train(&config, &matrix(&correlated_rows(600, seed))).expect("training")
}

#[test]
fn saved_model_loads_with_identical_scores() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path().join("models")).expect("registry");
    let model = trained(1);
    let meta = registry.save("sensor", &model, None).expect("save");

    let version_dir = dir.path().join("models/sensor/1");
    assert!(version_dir.join("model.safetensors").is_file());
    assert!(version_dir.join("meta.json").is_file());
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(version_dir.join("meta.json")).expect("read meta.json"),
    )
    .expect("meta.json is JSON");
    assert_eq!(json["version"], "1");
    assert_eq!(json["kind"], AUTOENCODER_KIND);
    assert_eq!(json["parent_version"], serde_json::Value::Null);

    assert_eq!(meta.version, 1);
    assert_eq!(meta.card.training_data_hash, model.training_data_hash());
    assert_eq!(meta.card.columns, column_names());
    assert_eq!(meta.card.metrics.threshold, Some(model.threshold()));
    assert_eq!(meta.card.metrics.final_loss, model.metrics().final_loss);
    assert_eq!(
        meta.card.standardization.as_ref(),
        Some(model.standardization())
    );
    assert!(chrono::DateTime::parse_from_rfc3339(&meta.created_at).is_ok());

    let loaded: TrainedAutoencoder = registry.load("sensor", 1).expect("load");
    let probe = matrix(&correlated_rows(300, 99));
    assert_eq!(
        loaded.score_rows(&probe).expect("loaded scores"),
        model.score_rows(&probe).expect("original scores")
    );
    assert_eq!(loaded.threshold(), model.threshold());
    assert_eq!(loaded.config(), model.config());
}

#[test]
fn versions_increment_and_rollback_moves_latest() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let first = registry.save("sensor", &trained(1), None).expect("save v1");
    let mut tuned = trained(1);
    tuned.set_threshold(2.5).expect("threshold");
    let second = registry
        .save("sensor", &tuned, Some(first.version))
        .expect("save v2");
    assert_eq!(second.version, 2);
    assert_eq!(second.parent_version, Some(1));
    assert_eq!(
        registry
            .latest("sensor")
            .expect("latest")
            .map(|meta| meta.version),
        Some(2)
    );

    let back = registry.rollback("sensor").expect("rollback");
    assert_eq!(back.version, 1);
    assert_eq!(
        registry
            .latest("sensor")
            .expect("latest")
            .map(|meta| meta.version),
        Some(1)
    );
    let (meta, model) = registry
        .load_latest::<TrainedAutoencoder>("sensor")
        .expect("load latest")
        .expect("a version");
    assert_eq!(meta.version, 1);
    assert_ne!(model.threshold(), 2.5);

    // A save after a rollback never reuses a number.
    let third = registry
        .save("sensor", &trained(3), Some(1))
        .expect("save v3");
    assert_eq!(third.version, 3);
    let versions: Vec<u32> = registry
        .list("sensor")
        .expect("list")
        .iter()
        .map(|meta| meta.version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);

    let error = registry.rollback("other").expect_err("no such model");
    assert!(matches!(error, Error::NotFound(_)));
}

#[test]
fn first_version_cannot_roll_back() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    registry.save("sensor", &trained(1), None).expect("save");
    let error = registry.rollback("sensor").expect_err("only one version");
    assert!(
        error
            .to_string()
            .contains("version 1 has no earlier version")
    );
}

#[test]
fn unknown_parent_is_rejected() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let error = registry
        .save("sensor", &trained(1), Some(4))
        .expect_err("no version 4");
    assert!(error.to_string().contains("has no version 4"));
    assert!(registry.list("sensor").expect("list").is_empty());
}

#[test]
fn damaged_weights_fail_to_load() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    registry.save("sensor", &trained(1), None).expect("save");
    let weights = dir.path().join("sensor/1/model.safetensors");
    std::fs::write(&weights, b"not a safetensors file").expect("overwrite weights");
    let error = registry
        .load::<TrainedAutoencoder>("sensor", 1)
        .expect_err("damaged");
    assert!(
        matches!(error, Error::Weights { action: "load", .. }),
        "{error}"
    );
}
