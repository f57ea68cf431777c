use governance_core::{Label, RowIdAllocator};

use super::*;
use crate::support::testing::{context, floats, series_batch};

fn stage(config: RobustOutliersConfig) -> RobustOutliers {
    RobustOutliers::new(RobustOutliersConfig {
        swap_pairs: Vec::new(),
        ..config
    })
    .expect("outliers")
}

/// Forty readings alternating around 50, with `spike` at position 20.
fn readings(spike: f64) -> Vec<Option<f64>> {
    (0..40)
        .map(|index| {
            Some(if index == 20 {
                spike
            } else {
                50.0 + (index % 5) as f64
            })
        })
        .collect()
}

#[test]
fn spike_is_flagged_without_changing_data() {
    let ids = RowIdAllocator::default();
    let values = readings(600.0);
    let input = series_batch(&["A"; 40], &(0..40).collect::<Vec<_>>(), &values, &ids);
    let mut stage = stage(RobustOutliersConfig::default());
    let output = stage
        .clean(input, &mut context("robust_outliers"))
        .expect("clean");

    assert_eq!(floats(&output, "value"), values);
    let issues = output.issues.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].row_id, issues[0].kind, issues[0].severity),
        (20, IssueKind::Outlier, Severity::Warning)
    );
    // Median 52, MAD 1, so the score is 548 / 1.4826.
    assert!(
        issues[0].message.contains("median 52 (MAD 1)"),
        "{}",
        issues[0].message
    );
    assert!(
        issues[0].message.contains("369.62"),
        "{}",
        issues[0].message
    );
    assert!(issues[0].confidence > 0.99);
    let score = stage.flagged_score(20, "value").expect("remembered");
    assert!((score - 548.0 / 1.4826).abs() < 1e-9);
}

#[test]
fn rounds_score_alike_after_flush() {
    let ids = RowIdAllocator::default();
    let values = readings(600.0);
    let positions: Vec<i64> = (0..40).collect();
    let mut stage = stage(RobustOutliersConfig::default());
    let mut ctx = context("robust_outliers");

    let first = stage
        .clean(
            series_batch(&["A"; 40], &positions, &values, &ids),
            &mut ctx,
        )
        .expect("round 1");
    stage.flush(&mut ctx).expect("flush");
    let shifted: Vec<Option<f64>> = values
        .iter()
        .map(|value| value.map(|v| v + 1000.0))
        .collect();
    let second = stage
        .clean(
            series_batch(&["A"; 40], &positions, &shifted, &ids),
            &mut ctx,
        )
        .expect("round 2");

    // Without the flush, round 1's samples near 52 skew round 2's median and MAD, and its
    // spike goes unflagged.
    assert_eq!(first.issues.len(), 1);
    assert_eq!(second.issues.len(), 1);
}

#[test]
fn few_values_are_not_flagged() {
    let ids = RowIdAllocator::default();
    let input = series_batch(
        &["A"; 5],
        &[0, 1, 2, 3, 4],
        &[Some(1.0), Some(1.0), Some(2.0), Some(1.0), Some(900.0)],
        &ids,
    );
    let output = stage(RobustOutliersConfig::default())
        .clean(input, &mut context("robust_outliers"))
        .expect("clean");
    assert!(output.issues.is_empty());
}

#[test]
fn sample_carries_over_batches() {
    let ids = RowIdAllocator::default();
    let mut stage = stage(RobustOutliersConfig::default());
    let mut ctx = context("robust_outliers");
    let quiet: Vec<Option<f64>> = (0..40)
        .map(|index| Some(50.0 + (index % 5) as f64))
        .collect();
    let first = stage
        .clean(
            series_batch(&["A"; 40], &(0..40).collect::<Vec<_>>(), &quiet, &ids),
            &mut ctx,
        )
        .expect("first");
    assert!(first.issues.is_empty());
    // Two values alone are too few, but the sample of the first batch scores them.
    let second = stage
        .clean(
            series_batch(&["A"; 2], &[40, 41], &[Some(51.0), Some(700.0)], &ids),
            &mut ctx,
        )
        .expect("second");
    assert_eq!(second.issues.len(), 1);
    assert_eq!(second.issues.issues()[0].row_id, 41);
    // Another series has no sample yet.
    let other = stage
        .clean(
            series_batch(&["B"; 2], &[0, 1], &[Some(51.0), Some(700.0)], &ids),
            &mut ctx,
        )
        .expect("other series");
    assert!(other.issues.is_empty());
}

#[test]
fn sample_size_is_bounded() {
    let ids = RowIdAllocator::default();
    let mut stage = stage(RobustOutliersConfig {
        sample_size: 10,
        ..RobustOutliersConfig::default()
    });
    stage
        .clean(
            series_batch(
                &["A"; 40],
                &(0..40).collect::<Vec<_>>(),
                &readings(60.0),
                &ids,
            ),
            &mut context("robust_outliers"),
        )
        .expect("clean");
    let sample = stage
        .samples
        .get(&(Some("A".to_string()), "value".to_string()))
        .expect("sample");
    assert_eq!(sample.len(stage.shape), 10);
}

/// Streams six months of hourly readings in weekly batches and checks each batch's flags
/// against the exact median and MAD of the same values. The summarised sample may only
/// change the flag of a cell whose exact score is within 5% of the threshold.
#[test]
fn flags_match_exact_statistics_away_from_threshold() {
    use rand::{Rng, SeedableRng};

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let ids = RowIdAllocator::default();
    let mut stage = stage(RobustOutliersConfig::default());
    let mut ctx = context("robust_outliers");
    let key = (Some("A".to_string()), "value".to_string());
    let threshold = stage.threshold();
    let mut history: Vec<f64> = Vec::new();
    let (mut agreed, mut differed) = (0, 0);
    for week in 0..26i64 {
        let hours: Vec<i64> = (week * 168..(week + 1) * 168).collect();
        let values: Vec<f64> = hours
            .iter()
            .map(|&hour| {
                let daily = 40.0 + 25.0 * (hour as f64 * std::f64::consts::TAU / 24.0).sin();
                let noise = rng.random_range(-1.0..1.0) * rng.random_range(0.0..30.0);
                let spike = if rng.random_bool(0.02) {
                    rng.random_range(50.0..400.0)
                } else {
                    0.0
                };
                (daily + noise).max(0.0) + spike
            })
            .collect();
        let covered = stage
            .samples
            .get(&key)
            .map_or(0, |sample| sample.len(stage.shape));
        let mut pooled: Vec<f64> = history[history.len() - covered..]
            .iter()
            .map(|&value| f64::from(value as f32))
            .chain(values.iter().copied())
            .collect();
        let exact = RobustStats::of(&mut pooled).expect("spread");

        let present: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
        let output = stage
            .clean(
                series_batch(&vec!["A"; hours.len()], &hours, &present, &ids),
                &mut ctx,
            )
            .expect("clean");
        let flagged: std::collections::HashSet<u64> = output
            .issues
            .issues()
            .iter()
            .map(|issue| issue.row_id)
            .collect();
        for (position, &value) in values.iter().enumerate() {
            let score = (value - exact.median).abs() / exact.scale;
            let row_id = output.row_ids().value(position);
            if (score > threshold) == flagged.contains(&row_id) {
                agreed += 1;
                continue;
            }
            differed += 1;
            assert!(
                (score - threshold).abs() <= 0.05 * threshold,
                "week {week}: value {value} has exact score {score}, but its flag differs"
            );
        }
        history.extend(values);
    }
    assert!(
        differed * 100 <= agreed,
        "{differed} flags differ, {agreed} agree"
    );
}

#[test]
fn swapped_pair_is_flagged_on_both_cells() {
    let ids = RowIdAllocator::default();
    let input = crate::support::testing::batch(
        vec![
            (
                "PM2.5",
                std::sync::Arc::new(arrow::array::Float64Array::from(vec![
                    Some(80.0),
                    Some(30.0),
                    None,
                ])) as arrow::array::ArrayRef,
            ),
            (
                "PM10",
                std::sync::Arc::new(arrow::array::Float64Array::from(vec![
                    Some(40.0),
                    Some(60.0),
                    Some(1.0),
                ])),
            ),
        ],
        &ids,
    );
    let mut stage = RobustOutliers::new(RobustOutliersConfig {
        series: None,
        ..RobustOutliersConfig::default()
    })
    .expect("stage");
    let output = stage
        .clean(input, &mut context("robust_outliers"))
        .expect("clean");
    let issues = output.issues.issues();
    assert_eq!(issues.len(), 2);
    assert_eq!(
        issues[0].message,
        "PM2.5 (80) exceeds PM10 (40); values may be swapped"
    );
    assert_eq!(
        (issues[0].column.as_deref(), issues[0].suggested.as_deref()),
        (Some("PM2.5"), Some("40"))
    );
    assert_eq!(
        (issues[1].column.as_deref(), issues[1].suggested.as_deref()),
        (Some("PM10"), Some("80"))
    );
    assert!(
        issues
            .iter()
            .all(|issue| issue.kind == IssueKind::OutOfRange && issue.row_id == 0)
    );
}

#[test]
fn missing_pair_column_explains_fix() {
    let ids = RowIdAllocator::default();
    let input = series_batch(&["A"], &[0], &[Some(1.0)], &ids);
    let mut stage = RobustOutliers::new(RobustOutliersConfig::default()).expect("stage");
    let error = stage
        .clean(input, &mut context("robust_outliers"))
        .expect_err("no PM columns");
    assert!(
        error
            .to_string()
            .contains("set it to [] to turn the check off"),
        "{error}"
    );
}

#[test]
fn best_threshold_separates_labels() {
    // Rejected flags at 5.5 and 6, confirmed at 9 and 12: any threshold in [6, 9) is perfect.
    let labels = [(5.5, false), (6.0, false), (9.0, true), (12.0, true)];
    assert_eq!(best_threshold(&labels, 5.0, 3.0), 6.0);
    assert_eq!(f1_at(&labels, 6.0), 1.0);
    // All flags confirmed: the current threshold already scores 1 and stays.
    assert_eq!(best_threshold(&[(7.0, true)], 5.0, 3.0), 5.0);
    // A confirmed cell below the current threshold pulls it down, not below the floor.
    assert_eq!(best_threshold(&[(3.5, true), (2.0, true)], 5.0, 3.0), 3.0);
}

#[test]
fn feedback_moves_threshold_and_version() {
    let ids = RowIdAllocator::default();
    let mut stage = stage(RobustOutliersConfig {
        threshold: 3.0,
        ..RobustOutliersConfig::default()
    });
    let mut values: Vec<Option<f64>> = (0..60)
        .map(|index| Some(50.0 + (index % 5) as f64))
        .collect();
    values[10] = Some(58.0); // score 4.05: a false alarm
    values[20] = Some(70.0); // score 12.1: a real fault
    let output = stage
        .clean(
            series_batch(&["A"; 60], &(0..60).collect::<Vec<_>>(), &values, &ids),
            &mut context("robust_outliers"),
        )
        .expect("clean");
    let flagged: Vec<u64> = output
        .issues
        .issues()
        .iter()
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(flagged, vec![10, 20]);

    let feedback = vec![
        Feedback::cell(10, "value", Label::Rejected, "reviewer"),
        Feedback::cell(20, "value", Label::Confirmed, "reviewer"),
        Feedback::cell(999, "value", Label::Confirmed, "reviewer"),
    ];
    let adjustment = stage
        .learn(&feedback)
        .expect("learn")
        .expect("threshold moved");
    let score = stage.flagged_score(10, "value").expect("score");
    assert_eq!(stage.threshold(), score);
    assert_eq!(
        (
            adjustment.from_version.as_str(),
            adjustment.to_version.as_str()
        ),
        ("1", "2")
    );
    assert_eq!(stage.version(), "2");
    assert_eq!(adjustment.params["threshold"], serde_json::json!(score));
    assert!(
        adjustment
            .description
            .contains("F1 on 2 labelled cells 0.667 -> 1.000"),
        "{}",
        adjustment.description
    );

    // The same labels again change nothing.
    assert_eq!(stage.learn(&feedback).expect("learn again"), None);
}

#[test]
fn config_is_validated() {
    assert!(
        RobustOutliers::new(RobustOutliersConfig {
            threshold: 2.0,
            ..RobustOutliersConfig::default()
        })
        .is_err()
    );
    assert!(
        RobustOutliers::new(RobustOutliersConfig {
            sample_size: 0,
            ..RobustOutliersConfig::default()
        })
        .is_err()
    );
    let config: RobustOutliersConfig =
        serde_json::from_str(r#"{"swap_pairs": [["NO2", "NOx"]], "threshold": 6}"#)
            .expect("config");
    assert_eq!(
        config.swap_pairs,
        vec![("NO2".to_string(), "NOx".to_string())]
    );
    assert!(serde_json::from_str::<RobustOutliersConfig>(r#"{"treshold": 6}"#).is_err());
}
