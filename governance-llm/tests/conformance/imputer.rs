//! Conformance of the cell imputer.

use governance_llm::imputer::ImputerNetwork;
use governance_llm::{
    ColumnValues, IMPUTER_KIND, ImputationTable, ImputedValue, ImputerConfig, ImputerMetrics,
    ModelRegistry, TableColumn, TrainedImputer,
};

use super::{cpu, ramp};

/// 300 rows where `y = 2a - b`, plus 3 when `zone` is "east"; every tenth `y` is missing.
fn table() -> ImputationTable {
    let rows = 300;
    let a: Vec<Option<f64>> = (0..rows).map(|i| Some((i % 11) as f64)).collect();
    let b: Vec<Option<f64>> = (0..rows)
        .map(|i| Some(((i * 7) % 13) as f64 / 2.0))
        .collect();
    let zone: Vec<Option<String>> = (0..rows)
        .map(|i| Some(if i % 3 == 0 { "east" } else { "west" }.to_string()))
        .collect();
    let y: Vec<Option<f64>> = (0..rows)
        .map(|i| {
            let shift = if i % 3 == 0 { 3.0 } else { 0.0 };
            let value = 2.0 * (i % 11) as f64 - ((i * 7) % 13) as f64 / 2.0 + shift;
            (i % 10 != 0).then_some(value)
        })
        .collect();
    ImputationTable::new(vec![
        TableColumn {
            name: "a".into(),
            values: ColumnValues::Numeric(a),
        },
        TableColumn {
            name: "b".into(),
            values: ColumnValues::Numeric(b),
        },
        TableColumn {
            name: "zone".into(),
            values: ColumnValues::Categorical(zone),
        },
        TableColumn {
            name: "y".into(),
            values: ColumnValues::Numeric(y),
        },
    ])
    .expect("table")
}

fn config(seed: u64) -> ImputerConfig {
    ImputerConfig {
        hidden: 8,
        epochs: 4,
        batch_size: 32,
        learning_rate: 0.01,
        seed,
        ..Default::default()
    }
}

fn train(seed: u64) -> TrainedImputer {
    TrainedImputer::train(&config(seed), &table(), "y").expect("training")
}

fn predicted_numbers(model: &TrainedImputer) -> Vec<f64> {
    model
        .impute(&table())
        .expect("impute")
        .iter()
        .map(|imputation| match imputation.value {
            ImputedValue::Number(value) => value,
            ImputedValue::Category(ref label) => panic!("numeric target imputed as {label:?}"),
        })
        .collect()
}

#[test]
fn imputer_forward_shape() {
    let network = ImputerNetwork::new(5, 8, 3, 1, &cpu());
    for rows in [1, 6] {
        assert_eq!(network.forward(ramp(rows, 5)).dims(), [rows, 3]);
    }

    let model = train(1);
    // Rows 0, 10, ..., 290 miss `y`.
    assert_eq!(model.impute(&table()).expect("impute").len(), 30);
    let one = model.predict_rows(&table(), &[10]).expect("predict");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].row, 10);
    assert_eq!(
        model
            .predict_rows(&table(), &[1, 2, 3])
            .expect("predict")
            .len(),
        3
    );
}

/// Checks that two metrics agree, floats to 1e-12 relative: the model card stores them as
/// JSON text, whose parsing may round the last bit.
fn assert_same_metrics(loaded: &ImputerMetrics, trained: &ImputerMetrics) {
    let close = |left: f64, right: f64| (left - right).abs() <= 1e-12 * right.abs().max(1.0);
    let close_option = |left: Option<f64>, right: Option<f64>| match (left, right) {
        (Some(left), Some(right)) => close(left, right),
        (left, right) => left == right,
    };
    assert_eq!(loaded.training_rows, trained.training_rows);
    assert_eq!(loaded.held_out_rows, trained.held_out_rows);
    assert!(close_option(loaded.rmse, trained.rmse), "{loaded:?}");
    assert!(
        close_option(loaded.target_std, trained.target_std),
        "{loaded:?}"
    );
    assert!(
        close_option(loaded.accuracy, trained.accuracy),
        "{loaded:?}"
    );
    assert_eq!(loaded.rmse_without.len(), trained.rmse_without.len());
    for (left, right) in loaded.rmse_without.iter().zip(&trained.rmse_without) {
        assert!(close(*left, *right), "{loaded:?}");
    }
    assert_eq!(loaded.rmse_missing.len(), trained.rmse_missing.len());
    for (left, right) in loaded.rmse_missing.iter().zip(&trained.rmse_missing) {
        assert!(close_option(*left, *right), "{loaded:?}");
    }
    assert_eq!(loaded.first_epoch_loss, trained.first_epoch_loss);
    assert_eq!(loaded.last_epoch_loss, trained.last_epoch_loss);
}

#[test]
fn imputer_save_load_round_trip() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    // One numeric target and one categorical target, so both encodings go through the card.
    for (name, target) in [("y-imputer", "y"), ("zone-imputer", "zone")] {
        let model = TrainedImputer::train(&config(5), &table(), target).expect("training");
        let meta = registry.save(name, &model, None).expect("save");
        assert_eq!(meta.kind, IMPUTER_KIND);
        assert_eq!(meta.card.columns.len(), 3, "{target}");
        assert_eq!(meta.card.training_data_hash.len(), 64);

        let loaded: TrainedImputer = registry.load(name, 1).expect("load");
        assert_eq!(loaded.target(), target);
        assert_eq!(loaded.predictors(), model.predictors());
        assert_same_metrics(loaded.metrics(), model.metrics());
        let rows: Vec<usize> = (0..40).collect();
        let before = model.predict_rows(&table(), &rows).expect("predict");
        let after = loaded.predict_rows(&table(), &rows).expect("predict");
        assert_eq!(before.len(), after.len());
        for (left, right) in before.iter().zip(&after) {
            assert_eq!(left.row, right.row);
            assert_eq!(left.value, right.value, "{target} row {}", left.row);
            assert!(
                (left.confidence - right.confidence).abs() <= 1e-6,
                "{target} row {}: confidence {} then {}",
                left.row,
                left.confidence,
                right.confidence
            );
        }
    }
}

#[test]
fn imputer_seed_determinism() {
    let first = predicted_numbers(&train(2));
    let second = predicted_numbers(&train(2));
    assert_eq!(first, second);

    let other = predicted_numbers(&train(3));
    assert_ne!(first, other);
}

#[test]
fn imputer_training_lowers_loss() {
    let metrics = train(4).metrics().clone();
    assert!(
        metrics.last_epoch_loss < metrics.first_epoch_loss,
        "last epoch loss {} is not below the first {}",
        metrics.last_epoch_loss,
        metrics.first_epoch_loss
    );
}
