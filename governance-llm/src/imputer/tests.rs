use super::*;

/// 400 rows where `y = 2a - b + 3` when `zone` is "east" and `2a - b` otherwise, and `kind`
/// is "high" when `a > 5`; rows 0, 10, 20 ... have `y` and `kind` missing.
fn linear_table() -> ImputationTable {
    let rows: usize = 400;
    let a: Vec<Option<f64>> = (0..rows).map(|i| Some((i % 11) as f64)).collect();
    let b: Vec<Option<f64>> = (0..rows)
        .map(|i| Some(((i * 7) % 13) as f64 / 2.0))
        .collect();
    let zone: Vec<Option<String>> = (0..rows)
        .map(|i| Some(if i.is_multiple_of(3) { "east" } else { "west" }.to_string()))
        .collect();
    let y: Vec<Option<f64>> = (0..rows)
        .map(|i| {
            let shift = if i.is_multiple_of(3) { 3.0 } else { 0.0 };
            let value = 2.0 * a[i].unwrap_or(0.0) - b[i].unwrap_or(0.0) + shift;
            (!i.is_multiple_of(10)).then_some(value)
        })
        .collect();
    let kind: Vec<Option<String>> = (0..rows)
        .map(|i| {
            let label = if (i % 11) > 5 { "high" } else { "low" };
            (!i.is_multiple_of(10)).then(|| label.to_string())
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
        TableColumn {
            name: "kind".into(),
            values: ColumnValues::Categorical(kind),
        },
    ])
    .expect("table")
}

fn config() -> ImputerConfig {
    ImputerConfig {
        hidden: 16,
        epochs: 150,
        learning_rate: 0.01,
        batch_size: 64,
        ..ImputerConfig::default()
    }
}

fn truth(row: usize) -> f64 {
    let shift = if row.is_multiple_of(3) { 3.0 } else { 0.0 };
    2.0 * (row % 11) as f64 - ((row * 7) % 13) as f64 / 2.0 + shift
}

#[test]
fn regression_recovers_linear_target() {
    let table = linear_table();
    // Only rows with both `y` and `kind` present are complete, so predictors include `kind`.
    let model = TrainedImputer::train(&config(), &table, "y").expect("training");
    let imputations = model.impute(&table).expect("impute");

    assert_eq!(imputations.len(), 40);
    let mean_error: f64 = imputations
        .iter()
        .map(|imputation| match imputation.value {
            ImputedValue::Number(value) => (value - truth(imputation.row)).abs(),
            ImputedValue::Category(_) => f64::INFINITY,
        })
        .sum::<f64>()
        / imputations.len() as f64;
    // `y` spans about -6 to 23 with a std near 6.5; the column mean would miss by about 5.
    assert!(mean_error < 0.8, "mean absolute error {mean_error}");
    let metrics = model.metrics();
    assert!(metrics.rmse.expect("rmse") < 1.0, "{metrics:?}");
    assert!(
        imputations[0].confidence > 0.8,
        "{}",
        imputations[0].confidence
    );
    assert_eq!(model.predictors(), vec!["a", "b", "zone", "kind"]);
}

#[test]
fn classification_predicts_category() {
    let table = linear_table();
    let model = TrainedImputer::train(&config(), &table, "kind").expect("training");
    let imputations = model.impute(&table).expect("impute");

    let right = imputations
        .iter()
        .filter(|imputation| {
            let expected = if (imputation.row % 11) > 5 {
                "high"
            } else {
                "low"
            };
            imputation.value == ImputedValue::Category(expected.into())
        })
        .count();
    assert!(right >= 36, "{right} of {} right", imputations.len());
    assert!(model.metrics().accuracy.expect("accuracy") > 0.9);
    assert!(
        imputations
            .iter()
            .all(|i| (0.5..=1.0).contains(&i.confidence))
    );
}

#[test]
fn training_is_deterministic_for_seed() {
    let table = linear_table();
    let first = TrainedImputer::train(&config(), &table, "y").expect("first");
    let second = TrainedImputer::train(&config(), &table, "y").expect("second");
    assert_eq!(
        first.impute(&table).expect("first"),
        second.impute(&table).expect("second")
    );
    let other = ImputerConfig {
        seed: 99,
        ..config()
    };
    let third = TrainedImputer::train(&other, &table, "y").expect("third");
    assert_ne!(
        first.impute(&table).expect("first"),
        third.impute(&table).expect("third")
    );
}

#[test]
fn too_few_complete_rows_is_rejected() {
    let table = ImputationTable::new(vec![
        TableColumn {
            name: "a".into(),
            values: ColumnValues::Numeric(vec![Some(1.0); 12]),
        },
        TableColumn {
            name: "y".into(),
            values: ColumnValues::Numeric(vec![Some(1.0); 12]),
        },
    ])
    .expect("table");
    let error = TrainedImputer::train(&config(), &table, "y").expect_err("12 rows");
    let message = error.to_string();
    assert!(message.contains("12 complete rows of 12"), "{message}");
    assert!(message.contains("min_train_rows"), "{message}");
}

#[test]
fn target_alone_and_unknown_target_are_rejected() {
    let table = linear_table();
    let error = TrainedImputer::train(&config(), &table, "z").expect_err("unknown");
    assert!(
        error
            .to_string()
            .contains("columns are: a, b, zone, y, kind"),
        "{error}"
    );

    let alone = ImputationTable::new(vec![TableColumn {
        name: "y".into(),
        values: ColumnValues::Numeric(vec![Some(1.0); 40]),
    }])
    .expect("table");
    let error = TrainedImputer::train(&config(), &alone, "y").expect_err("no predictor");
    assert!(
        error.to_string().contains("at least one predictor"),
        "{error}"
    );
}

#[test]
fn invalid_config_names_field() {
    let bad = ImputerConfig {
        learning_rate: -1.0,
        ..ImputerConfig::default()
    };
    let error = bad.validate().expect_err("negative rate");
    assert!(error.to_string().contains("learning_rate is -1"), "{error}");
    let bad = ImputerConfig {
        max_train_rows: 5,
        ..ImputerConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn sparse_rows_get_lower_confidence() {
    // Rows 0, 20, 40 ... miss `a` and `b` as well as `y` and `kind`, so three predictors,
    // and rows 0, 40, 80 ... miss `zone` too, so all four.
    let mut columns = linear_table().columns().to_vec();
    for column in columns.iter_mut() {
        let step = match column.name.as_str() {
            "a" | "b" => 20,
            "zone" => 40,
            _ => continue,
        };
        match &mut column.values {
            ColumnValues::Numeric(values) => {
                for row in (0..values.len()).step_by(step) {
                    values[row] = None;
                }
            }
            ColumnValues::Categorical(labels) => {
                for row in (0..labels.len()).step_by(step) {
                    labels[row] = None;
                }
            }
        }
    }
    let table = ImputationTable::new(columns).expect("table");
    let model = TrainedImputer::train(&config(), &table, "y").expect("training");
    let metrics = model.metrics();
    let std = metrics.target_std.expect("std");
    let complete = metrics.rmse.expect("rmse");
    // Errors with 2, 3 and 4 of the 4 predictors hidden.
    assert_eq!(metrics.rmse_missing.len(), 3, "{metrics:?}");
    let two_hidden = metrics.rmse_missing[0].expect("error with two hidden");
    let three_hidden = metrics.rmse_missing[1].expect("error with three hidden");
    let four_hidden = metrics.rmse_missing[2].expect("error with four hidden");
    assert!(three_hidden > complete, "{metrics:?}");
    assert!(four_hidden > three_hidden, "{metrics:?}");

    let imputations = model.impute(&table).expect("impute");
    let confidence_of = |row: usize| {
        imputations
            .iter()
            .find(|imputation| imputation.row == row)
            .map(|imputation| imputation.confidence)
            .expect("row imputed")
    };
    // Row 10 misses only `kind`, row 20 misses `kind`, `a` and `b`, row 40 misses all four.
    assert!(
        confidence_of(20) < confidence_of(10),
        "{} vs {}",
        confidence_of(20),
        confidence_of(10)
    );
    assert!(
        confidence_of(40) < confidence_of(20),
        "{} vs {}",
        confidence_of(40),
        confidence_of(20)
    );
    let confidence = |rmse: f64| (1.0 - rmse / std).clamp(0.0, 1.0);
    let expected = confidence(two_hidden.max(three_hidden));
    assert!((f64::from(confidence_of(20)) - expected).abs() < 1e-6);
    let expected = confidence(two_hidden.max(three_hidden).max(four_hidden));
    assert!((f64::from(confidence_of(40)) - expected).abs() < 1e-6);
    // Row 10's confidence comes from the error without `kind` alone, predictor 3.
    let expected = confidence(metrics.rmse_without[3]);
    assert!((f64::from(confidence_of(10)) - expected).abs() < 1e-6);
}

#[test]
fn metrics_of_older_models_still_load() {
    // Saved before the error was measured for every count of hidden predictors.
    let two_counts = serde_json::json!({
        "training_rows": 300, "held_out_rows": 30, "rmse": 1.0,
        "rmse_without": [1.5, 1.2, 1.1, 1.3, 1.4], "rmse_missing": [2.0, 2.5],
        "target_std": 4.0, "accuracy": null
    });
    let metrics: ImputerMetrics = serde_json::from_value(two_counts).expect("two counts");
    assert_eq!(metrics.rmse_missing, vec![Some(2.0), Some(2.5)]);
    assert_eq!(
        sparse::error_with_missing(&metrics.rmse_missing, 5),
        Some(2.5)
    );
    // Saved before any error with hidden predictors was measured.
    let none = serde_json::json!({
        "training_rows": 300, "held_out_rows": 30, "rmse": 1.0,
        "target_std": 4.0, "accuracy": null
    });
    let metrics: ImputerMetrics = serde_json::from_value(none).expect("no counts");
    assert!(metrics.rmse_missing.is_empty());
    assert!(metrics.rmse_without.is_empty());
}
