use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{Field, Schema};

use super::*;

const MINUTE_MS: i64 = 60_000;

fn gap_config() -> SourceValidationConfig {
    SourceValidationConfig {
        time_column: "time".into(),
        key_columns: vec!["sensor".into()],
        expected_interval_ms: Some(60_000),
        ..SourceValidationConfig::default()
    }
}

/// Builds a batch of `(sensor, minute, pm25)` rows with a millisecond timestamp column.
fn batch(rows: &[(&str, i64, f64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("sensor", DataType::Utf8, true),
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("pm25", DataType::Float64, true),
    ]));
    let sensors = StringArray::from_iter_values(rows.iter().map(|row| row.0));
    let times =
        TimestampMillisecondArray::from_iter_values(rows.iter().map(|row| row.1 * MINUTE_MS))
            .with_timezone("UTC");
    let values = Float64Array::from_iter_values(rows.iter().map(|row| row.2));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(sensors), Arc::new(times), Arc::new(values)],
    )
    .expect("batch")
}

fn minute(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(minute * MINUTE_MS).expect("time")
}

#[test]
fn gap_inside_batch_is_found() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    let found = checker
        .check(&batch(&[("s1", 0, 1.0), ("s1", 1, 1.0), ("s1", 4, 1.0)]))
        .expect("check");
    assert_eq!(found.issues.len(), 1);
    let gap = &found.issues[0];
    assert_eq!(gap.kind, SourceIssueKind::Gap);
    assert_eq!(gap.from, minute(1) + Duration::milliseconds(1));
    assert_eq!(gap.to, minute(4));
    assert_eq!(gap.key["sensor"], "s1");
}

#[test]
fn gap_across_batches_is_found() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    let first = checker
        .check(&batch(&[("s1", 0, 1.0), ("s1", 1, 1.0)]))
        .expect("check");
    assert!(first.issues.is_empty(), "{:?}", first.issues);
    let second = checker
        .check(&batch(&[("s1", 5, 1.0), ("s1", 6, 1.0)]))
        .expect("check");
    assert_eq!(second.issues.len(), 1);
    assert_eq!(second.issues[0].from, minute(1) + Duration::milliseconds(1));
    assert_eq!(second.issues[0].to, minute(5));
}

#[test]
fn series_are_checked_apart() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    checker
        .check(&batch(&[("s1", 0, 1.0), ("s2", 0, 1.0)]))
        .expect("check");
    // s2 reports every minute, s1 skips two; interleaved rows must not hide s1's gap.
    let found = checker
        .check(&batch(&[("s2", 1, 1.0), ("s2", 2, 1.0), ("s1", 3, 1.0)]))
        .expect("check");
    assert_eq!(found.issues.len(), 1);
    assert_eq!(found.issues[0].key["sensor"], "s1");
}

#[test]
fn step_within_tolerance_is_no_gap() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    // 90 s is the default limit: one interval plus half of it.
    let schema_batch = batch(&[("s1", 0, 1.0)]);
    checker.check(&schema_batch).expect("check");
    let times = TimestampMillisecondArray::from(vec![90_000]).with_timezone("UTC");
    let late = RecordBatch::try_new(
        schema_batch.schema(),
        vec![
            Arc::new(StringArray::from(vec!["s1"])),
            Arc::new(times),
            Arc::new(Float64Array::from(vec![1.0])),
        ],
    )
    .expect("batch");
    assert!(checker.check(&late).expect("check").issues.is_empty());
}

#[test]
fn late_rows_cause_no_gap() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    checker
        .check(&batch(&[("s1", 0, 1.0), ("s1", 1, 1.0), ("s1", 4, 1.0)]))
        .expect("check");
    // The re-collected rows lie before the series' last time.
    let refill = checker
        .check(&batch(&[("s1", 2, 1.0), ("s1", 3, 1.0)]))
        .expect("check");
    assert!(refill.issues.is_empty(), "{:?}", refill.issues);
    let next = checker.check(&batch(&[("s1", 5, 1.0)])).expect("check");
    assert!(next.issues.is_empty(), "{:?}", next.issues);
}

#[test]
fn unsorted_batch_is_sorted_per_series() {
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    let found = checker
        .check(&batch(&[("s1", 2, 1.0), ("s1", 0, 1.0), ("s1", 1, 1.0)]))
        .expect("check");
    assert!(found.issues.is_empty(), "{:?}", found.issues);
}

#[test]
fn least_recent_series_is_dropped() {
    let config = SourceValidationConfig {
        max_series: 2,
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    checker.check(&batch(&[("s1", 0, 1.0)])).expect("check");
    checker.check(&batch(&[("s2", 0, 1.0)])).expect("check");
    let found = checker.check(&batch(&[("s3", 0, 1.0)])).expect("check");
    assert_eq!(found.series_dropped, 1);
    assert_eq!(checker.series_len(), 2);
    // s1 was dropped, so its gap across the drop goes unseen, while s2's is found.
    let later = checker
        .check(&batch(&[("s1", 9, 1.0), ("s2", 9, 1.0)]))
        .expect("check");
    let keys: Vec<&str> = later
        .issues
        .iter()
        .map(|issue| issue.key["sensor"].as_str())
        .collect();
    assert_eq!(keys, vec!["s2"]);
}

#[test]
fn impossible_values_form_one_range() {
    let config = SourceValidationConfig {
        expected_interval_ms: None,
        ranges: vec![ColumnRange {
            column: "pm25".into(),
            min: Some(0.0),
            max: Some(1000.0),
        }],
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    let found = checker
        .check(&batch(&[
            ("s1", 0, 5.0),
            ("s1", 1, -4.0),
            ("s1", 2, 7.0),
            ("s1", 3, f64::NAN),
            ("s2", 3, 8.0),
        ]))
        .expect("check");
    assert_eq!(found.issues.len(), 1);
    let issue = &found.issues[0];
    assert_eq!(issue.kind, SourceIssueKind::ImpossibleValue);
    assert_eq!(issue.rows, 2);
    assert_eq!(issue.value, Some(-4.0));
    assert_eq!(issue.from, minute(1));
    assert_eq!(issue.to, minute(3) + Duration::milliseconds(1));
    assert_eq!(issue.column.as_deref(), Some("pm25"));
}

#[test]
fn standard_model_range_applies_by_alias() {
    let config = SourceValidationConfig {
        expected_interval_ms: None,
        standard_model: Some("AirQualityObserved".into()),
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    let found = checker
        .check(&batch(&[("s1", 0, 5.0), ("s1", 1, -3.0)]))
        .expect("check");
    assert_eq!(found.issues.len(), 1, "{:?}", found.issues);
    assert_eq!(found.issues[0].column.as_deref(), Some("pm25"));
}

#[test]
fn text_times_are_parsed() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("time", DataType::Utf8, true),
        Field::new("sensor", DataType::Int64, true),
    ]));
    let data = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![
                Some("2024-05-01T10:00:00Z"),
                Some("2024-05-01 10:05:00"),
                None,
                Some("not a time"),
            ])),
            Arc::new(Int64Array::from(vec![7, 7, 7, 7])),
        ],
    )
    .expect("batch");
    let mut checker = SourceChecker::new(gap_config()).expect("checker");
    let found = checker.check(&data).expect("check");
    assert_eq!(found.rows_without_time, 2);
    assert_eq!(found.issues.len(), 1);
    assert_eq!(found.issues[0].key["sensor"], "7");
    assert_eq!(found.issues[0].to.to_rfc3339(), "2024-05-01T10:05:00+00:00");
}

#[test]
fn missing_time_column_names_the_fix() {
    let config = SourceValidationConfig {
        time_column: "observed".into(),
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    let error = checker
        .check(&batch(&[("s1", 0, 1.0)]))
        .expect_err("missing column");
    let text = error.to_string();
    assert!(
        text.contains("`time_column` names column \"observed\""),
        "{text}"
    );
    assert!(text.contains("sensor, time, pm25"), "{text}");
}

#[test]
fn numeric_time_column_is_rejected() {
    let config = SourceValidationConfig {
        time_column: "pm25".into(),
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    let error = checker
        .check(&batch(&[("s1", 0, 1.0)]))
        .expect_err("numeric time");
    assert!(error.to_string().contains("use a timestamp"), "{error}");
}

#[test]
fn text_range_column_is_rejected() {
    let config = SourceValidationConfig {
        ranges: vec![ColumnRange {
            column: "sensor".into(),
            min: Some(0.0),
            max: None,
        }],
        ..gap_config()
    };
    let mut checker = SourceChecker::new(config).expect("checker");
    let error = checker
        .check(&batch(&[("s1", 0, 1.0)]))
        .expect_err("text column");
    assert!(error.to_string().contains("not numeric"), "{error}");
}
