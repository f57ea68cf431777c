use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};

use super::*;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

fn hours(count: usize, start: usize) -> ArrayRef {
    let times: Vec<String> = (start..start + count)
        .map(|hour| format!("2020-01-{:02}T{:02}:00:00", 1 + hour / 24, hour % 24))
        .collect();
    Arc::new(StringArray::from(times))
}

/// Returns a deterministic, irregular series of whole numbers from 0 to 199.
fn series(count: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % 200) as f64
        })
        .collect()
}

fn floats(values: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

#[test]
fn identical_batches_are_clean() {
    let a = series(48, 1);
    let reference = batch(vec![("time", hours(48, 0)), ("west", floats(&a))]);
    let report = DriftDetector::default()
        .compare(&reference, &reference)
        .expect("comparable");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.aligned_rows, 48);
    assert_eq!(report.unchanged, ["time", "west"]);
}

#[test]
fn swap_with_rename_is_found_from_values() {
    let (west, east) = (series(72, 1), series(72, 2));
    let reference = batch(vec![
        ("Date", hours(72, 0)),
        ("Bridge West Sidewalk", floats(&west)),
        ("Bridge East Sidewalk", floats(&east)),
    ]);
    // The new export starts 24 hours later and swaps the values under new names.
    let new = batch(vec![
        ("Date", hours(48, 24)),
        (
            "Bridge Sidewalks Cyclist East Sidewalk",
            floats(&west[24..]),
        ),
        (
            "Bridge Sidewalks Cyclist West Sidewalk",
            floats(&east[24..]),
        ),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    assert_eq!(report.aligned_rows, 48);
    let first = &report.findings[0];
    match first {
        DriftFinding::Swapped {
            column,
            carries,
            name_suggests,
            evidence,
        } => {
            assert_eq!(column, "Bridge Sidewalks Cyclist East Sidewalk");
            assert_eq!(carries, "Bridge West Sidewalk");
            assert_eq!(name_suggests, "Bridge East Sidewalk");
            assert_eq!(evidence.equal_share, 1.0);
        }
        other => panic!("expected a swap, got {other:?}"),
    }
    assert_eq!(report.swapped_pairs().len(), 1);
    assert!(
        first
            .to_string()
            .contains("carries the values of reference column"),
        "{first}"
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|finding| matches!(finding, DriftFinding::Missing { .. })),
        "{:?}",
        report.findings
    );
}

#[test]
fn swap_with_kept_names_is_found() {
    let (a, b) = (series(30, 3), series(30, 4));
    let reference = batch(vec![
        ("t", hours(30, 0)),
        ("a", floats(&a)),
        ("b", floats(&b)),
    ]);
    let new = batch(vec![
        ("t", hours(30, 0)),
        ("a", floats(&b)),
        ("b", floats(&a)),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    assert_eq!(report.swapped_pairs(), [("a".to_string(), "b".to_string())]);
}

#[test]
fn rename_is_found_from_values() {
    let a = series(30, 5);
    let reference = batch(vec![("t", hours(30, 0)), ("pm25", floats(&a))]);
    let new = batch(vec![("t", hours(30, 0)), ("fine_dust", floats(&a))]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(matches!(
        &report.findings[0],
        DriftFinding::Renamed { reference_column, column, basis: RenameBasis::Values(_) }
            if reference_column == "pm25" && column == "fine_dust"
    ));
}

#[test]
fn retype_is_found_and_values_still_match() {
    let counts: Vec<i64> = (0..30).map(|i| (i * 7) % 13).collect();
    let text: Vec<String> = counts.iter().map(|count| count.to_string()).collect();
    let reference = batch(vec![
        ("t", hours(30, 0)),
        ("count", Arc::new(Int64Array::from(counts)) as ArrayRef),
    ]);
    let new = batch(vec![
        ("t", hours(30, 0)),
        ("count", Arc::new(StringArray::from(text)) as ArrayRef),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    assert_eq!(
        report.findings,
        [DriftFinding::Retyped {
            reference_column: "count".into(),
            column: "count".into(),
            reference_type: "Int64".into(),
            new_type: "Utf8".into(),
        }]
    );
}

#[test]
fn new_missing_and_changed_columns() {
    let (a, b, c, d) = (series(30, 6), series(30, 7), series(30, 8), series(30, 9));
    let sum: Vec<f64> = c.iter().zip(&d).map(|(x, y)| x + y).collect();
    let reference = batch(vec![
        ("t", hours(30, 0)),
        ("a", floats(&a)),
        ("gone", floats(&b)),
    ]);
    let new = batch(vec![
        ("t", hours(30, 0)),
        ("a", floats(&c)),
        ("d", floats(&d)),
        ("total", floats(&sum)),
        (
            "extra",
            Arc::new(StringArray::from(vec!["x"; 30])) as ArrayRef,
        ),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    let kinds: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(report.findings.len(), 5, "{kinds:?}");
    assert!(
        matches!(&report.findings[0], DriftFinding::ValuesChanged { column, .. } if column == "a"),
        "{kinds:?}"
    );
    assert!(
        matches!(&report.findings[1], DriftFinding::New { column, note: None } if column == "d"),
        "{kinds:?}"
    );
    assert!(
        matches!(&report.findings[2], DriftFinding::New { column, note: Some(note) }
            if column == "total" && note.contains("sum of \"a\" and \"d\"")),
        "{kinds:?}"
    );
    assert!(
        matches!(&report.findings[3], DriftFinding::New { column, .. } if column == "extra"),
        "{kinds:?}"
    );
    assert!(
        matches!(&report.findings[4], DriftFinding::Missing { column } if column == "gone"),
        "{kinds:?}"
    );
}

#[test]
fn without_keys_renames_come_from_profiles() {
    let reference = batch(vec![
        ("wind_speed", floats(&[1.0, 2.5, 3.0, 4.2])),
        (
            "station",
            Arc::new(StringArray::from(vec!["A", "B", "A", "B"])) as ArrayRef,
        ),
    ]);
    let new = batch(vec![
        ("windspeed_ms", floats(&[1.2, 2.0, 3.1, 4.0])),
        (
            "station",
            Arc::new(StringArray::from(vec!["A", "B", "B", "A"])) as ArrayRef,
        ),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable");
    assert_eq!(report.key, None);
    assert!(
        matches!(&report.findings[..], [DriftFinding::Renamed { reference_column, basis: RenameBasis::Profile { .. }, .. }] if reference_column == "wind_speed"),
        "{:?}",
        report.findings
    );
    let profiles = profile_batch(&reference);
    let from_profiles = DriftDetector::default()
        .compare_with_profiles(&profiles, &new)
        .expect("comparable");
    assert_eq!(from_profiles.findings, report.findings);
}

#[test]
fn empty_and_all_null_batches_do_not_panic() {
    let reference = batch(vec![("t", hours(30, 0)), ("a", floats(&series(30, 9)))]);
    let empty = batch(vec![
        (
            "t",
            Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
        ),
        ("a", floats(&[])),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &empty)
        .expect("comparable");
    assert_eq!(report.aligned_rows, 0);
    assert!(report.findings.is_empty(), "{:?}", report.findings);

    let nulls = batch(vec![
        ("t", hours(30, 0)),
        (
            "a",
            Arc::new(Float64Array::from(vec![None::<f64>; 30])) as ArrayRef,
        ),
    ]);
    let report = DriftDetector::default()
        .compare(&reference, &nulls)
        .expect("comparable");
    assert_eq!(report.aligned_rows, 30);
    assert_eq!(report.unchanged, ["t", "a"]);
}

#[test]
fn bad_key_and_config_are_rejected() {
    let reference = batch(vec![("t", hours(3, 0))]);
    let config = DriftConfig {
        reference_key: Some("timestamp".into()),
        ..DriftConfig::default()
    };
    let error = DriftDetector::new(config)
        .expect("valid config")
        .compare(&reference, &reference)
        .expect_err("missing key column");
    assert!(error.to_string().contains("\"timestamp\""), "{error}");
    assert!(error.to_string().contains("[\"t\"]"), "{error}");
    let config = DriftConfig {
        min_value_agreement: 1.5,
        ..DriftConfig::default()
    };
    assert!(DriftDetector::new(config).is_err());
}
