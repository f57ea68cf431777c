//! Training and scoring of the autoencoder on synthetic correlated sensor data.

mod common;

use common::{COLUMNS, correlated_rows, matrix};
use governance_llm::{AutoencoderConfig, TrainedAutoencoder};

/// Small and quick: 2000 rows of 6 columns train in well under a second per epoch.
fn config() -> AutoencoderConfig {
    AutoencoderConfig {
        epochs: 40,
        ..Default::default()
    }
}

/// Multiplies column `row % columns` of each row by 10 and returns that column per row.
fn inject_outliers(rows: &mut [Vec<f32>]) -> Vec<usize> {
    rows.iter_mut()
        .enumerate()
        .map(|(index, row)| {
            let column = index % COLUMNS.len();
            row[column] *= 10.0;
            column
        })
        .collect()
}

#[test]
fn training_lowers_loss() {
    let model =
        TrainedAutoencoder::train(&config(), &matrix(&correlated_rows(2000, 1))).expect("training");
    let metrics = model.metrics();
    assert!(
        metrics.final_loss < metrics.initial_loss,
        "final loss {} is not below initial loss {}",
        metrics.final_loss,
        metrics.initial_loss
    );
    assert!(
        metrics.final_loss < 0.5 * metrics.initial_loss,
        "loss barely moved: {metrics:?}"
    );
    assert_eq!(metrics.epoch_losses.len(), 40);
    assert_eq!(model.training_rows(), 2000);
}

#[test]
fn same_seed_gives_same_scores() {
    let data = matrix(&correlated_rows(1000, 2));
    let first = TrainedAutoencoder::train(&config(), &data).expect("first training");
    let second = TrainedAutoencoder::train(&config(), &data).expect("second training");
    let other_seed = AutoencoderConfig {
        seed: 43,
        ..config()
    };
    let third = TrainedAutoencoder::train(&other_seed, &data).expect("third training");

    let first_scores = first.score_rows(&data).expect("first scores");
    assert_eq!(
        first_scores,
        second.score_rows(&data).expect("second scores")
    );
    assert_eq!(first.threshold(), second.threshold());
    assert_eq!(first.training_data_hash(), second.training_data_hash());
    assert_ne!(first_scores, third.score_rows(&data).expect("third scores"));
}

#[test]
fn injected_outliers_are_flagged_on_their_column() {
    let clean = correlated_rows(2000, 3);
    let model = TrainedAutoencoder::train(&config(), &matrix(&clean)).expect("training");

    let mut outliers = correlated_rows(20, 4);
    let injected_columns = inject_outliers(&mut outliers);
    let outlier_scores = model
        .score_rows(&matrix(&outliers))
        .expect("outlier scores");
    let flagged = outlier_scores.iter().filter(|row| row.is_anomaly).count();
    assert!(flagged >= 16, "recall {flagged}/20 is below 0.8");

    let right_column_first = outlier_scores
        .iter()
        .zip(&injected_columns)
        .filter(|(row, column)| row.is_anomaly && row.top_columns[0].column == **column)
        .count();
    assert!(
        right_column_first >= 16,
        "only {right_column_first} of 20 outliers name the injected column first"
    );

    let fresh_scores = model
        .score_rows(&matrix(&correlated_rows(2000, 5)))
        .expect("fresh scores");
    let false_alarms = fresh_scores.iter().filter(|row| row.is_anomaly).count();
    assert!(
        false_alarms <= 40,
        "{false_alarms} of 2000 clean rows flagged"
    );
}

#[test]
fn outliers_in_training_data_are_still_flagged() {
    let mut rows = correlated_rows(2000, 6);
    let mut outliers = correlated_rows(20, 7);
    inject_outliers(&mut outliers);
    rows.extend(outliers);
    // The threshold quantile must leave room for the 1% contamination.
    let config = AutoencoderConfig {
        threshold_quantile: 0.98,
        ..config()
    };
    let model = TrainedAutoencoder::train(&config, &matrix(&rows)).expect("training");
    let scores = model.score_rows(&matrix(&rows)).expect("scores");
    let flagged = scores[2000..].iter().filter(|row| row.is_anomaly).count();
    assert!(flagged >= 16, "recall {flagged}/20 is below 0.8");
}

#[test]
fn missing_cells_never_drive_a_flag() {
    let mut rows = correlated_rows(1500, 8);
    for (index, row) in rows.iter_mut().enumerate() {
        for (column, value) in row.iter_mut().enumerate() {
            // About one cell in seven is missing.
            if (index * COLUMNS.len() + column).is_multiple_of(7) {
                *value = f32::NAN;
            }
        }
    }
    let model = TrainedAutoencoder::train(&config(), &matrix(&rows)).expect("training");

    let mut probe = correlated_rows(50, 9);
    for row in &mut probe {
        row[0] = f32::NAN;
        row[3] = f32::NAN;
    }
    let scores = model.score_rows(&matrix(&probe)).expect("scores");
    for row in &scores {
        assert_eq!(row.observed, 4);
        assert!(
            row.top_columns
                .iter()
                .all(|part| part.column != 0 && part.column != 3)
        );
    }

    // Outliers whose multiplied cell is then missing are ordinary rows with a gap.
    let mut hidden = correlated_rows(20, 11);
    let injected_columns = inject_outliers(&mut hidden);
    for (row, &column) in hidden.iter_mut().zip(&injected_columns) {
        row[column] = f32::NAN;
    }
    let scores = model.score_rows(&matrix(&hidden)).expect("scores");
    let flagged = scores.iter().filter(|row| row.is_anomaly).count();
    assert!(
        flagged <= 2,
        "{flagged} of 20 rows flagged although their outlier is missing"
    );
}

#[test]
fn large_input_is_sampled_to_max_rows() {
    let config = AutoencoderConfig {
        max_train_rows: 500,
        epochs: 5,
        ..Default::default()
    };
    let data = matrix(&correlated_rows(1200, 10));
    let model = TrainedAutoencoder::train(&config, &data).expect("training");
    assert_eq!(model.training_rows(), 500);
    assert_ne!(model.training_data_hash(), data.sha256());
}
