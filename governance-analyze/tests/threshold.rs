//! Threshold alerts: crossings with row ids, subjects and times, bounded findings, and type
//! errors.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance_analyze::{ThresholdAlerts, ThresholdAlertsConfig, ThresholdRule};
use governance_core::audit::{AuditAction, AuditHandle, AuditLog};
use governance_core::{
    Analyzer, FindingKind, GovernedBatch, Provenance, RowIdAllocator, Severity, StageContext,
};

const MARCH_1: i64 = 1_362_096_000_000;
const HOUR: i64 = 3_600_000;

fn batch(stations: Vec<&str>, pm25: Vec<Option<f64>>, ids: &RowIdAllocator) -> GovernedBatch {
    let times: Vec<i64> = (0..pm25.len() as i64)
        .map(|hour| MARCH_1 + hour * HOUR)
        .collect();
    let co: Vec<i64> = (0..pm25.len() as i64).map(|hour| hour * 1000).collect();
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("PM2.5", DataType::Float64, true),
        Field::new("CO", DataType::Int64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(stations)),
        Arc::new(TimestampMillisecondArray::from(times)),
        Arc::new(Float64Array::from(pm25)),
        Arc::new(Int64Array::from(co)),
    ];
    let data = RecordBatch::try_new(Arc::new(schema), columns).expect("batch");
    let row_ids = ids.allocate(data.num_rows());
    GovernedBatch::try_new(data, row_ids, Provenance::new("readings")).expect("governed")
}

fn rule(name: &str, column: &str, above: Option<f64>, below: Option<f64>) -> ThresholdRule {
    ThresholdRule {
        name: name.into(),
        column: column.into(),
        above,
        below,
        severity: Severity::Error,
    }
}

fn config(rules: Vec<ThresholdRule>) -> ThresholdAlertsConfig {
    ThresholdAlertsConfig {
        subject_column: Some("station".into()),
        time_column: Some("timestamp".into()),
        ..ThresholdAlertsConfig::new(rules)
    }
}

fn context(audit: &AuditHandle) -> StageContext {
    StageContext::new("threshold_alerts", 1, audit.clone())
}

#[test]
fn crossings_become_alerts() {
    let audit = AuditLog::in_memory().into_handle();
    let mut alerts = ThresholdAlerts::new(config(vec![rule(
        "pm25_band",
        "PM2.5",
        Some(250.0),
        Some(1.0),
    )]))
    .expect("valid");
    let ids = RowIdAllocator::starting_at(10);
    let readings = batch(
        vec!["A", "A", "B", "B"],
        vec![Some(12.0), Some(320.0), Some(0.5), Some(250.0)],
        &ids,
    );
    let findings = alerts
        .analyze(&readings, &mut context(&audit))
        .expect("analyze");

    assert_eq!(
        findings.len(),
        2,
        "250 equals the bound and does not cross it"
    );
    let high = &findings[0];
    assert_eq!(high.kind, FindingKind::Alert);
    assert_eq!(high.name, "pm25_band");
    assert_eq!(high.row_ids, [11]);
    assert_eq!(high.value, Some(320.0));
    assert_eq!(high.threshold, Some(250.0));
    assert_eq!(high.subject.as_deref(), Some("A"));
    assert_eq!(high.time.as_deref(), Some("2013-03-01T01:00:00"));
    assert_eq!(high.severity, Some(Severity::Error));
    assert!(
        high.message.starts_with("error: PM2.5 = 320 above 250"),
        "{}",
        high.message
    );
    let low = &findings[1];
    assert_eq!(low.row_ids, [12]);
    assert_eq!(low.threshold, Some(1.0));
    assert!(low.message.contains("below 1"), "{}", low.message);
}

#[test]
fn null_and_nan_never_alert() {
    let audit = AuditLog::in_memory().into_handle();
    let mut alerts =
        ThresholdAlerts::new(config(vec![rule("pm25_high", "PM2.5", Some(100.0), None)]))
            .expect("valid");
    let readings = batch(
        vec!["A", "A", "A"],
        vec![None, Some(f64::NAN), Some(101.0)],
        &RowIdAllocator::default(),
    );
    let findings = alerts
        .analyze(&readings, &mut context(&audit))
        .expect("analyze");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].row_ids, [2]);
}

#[test]
fn integer_columns_are_checked() {
    let audit = AuditLog::in_memory().into_handle();
    let mut alerts = ThresholdAlerts::new(config(vec![rule("co_high", "CO", Some(2500.0), None)]))
        .expect("valid");
    let readings = batch(vec!["A"; 4], vec![Some(1.0); 4], &RowIdAllocator::default());
    let findings = alerts
        .analyze(&readings, &mut context(&audit))
        .expect("analyze");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].value, Some(3000.0));
}

#[test]
fn findings_are_bounded_per_rule() {
    let audit = AuditLog::in_memory().into_handle();
    let mut config = config(vec![
        rule("pm25_high", "PM2.5", Some(100.0), None),
        rule("co_high", "CO", Some(0.0), None),
    ]);
    config.max_findings_per_rule = 3;
    let mut alerts = ThresholdAlerts::new(config).expect("valid");
    let ids = RowIdAllocator::default();
    let mut ctx = context(&audit);
    let mut listed = Vec::new();
    for _ in 0..2 {
        let readings = batch(vec!["A"; 5], vec![Some(150.0); 5], &ids);
        listed.extend(alerts.analyze(&readings, &mut ctx).expect("analyze"));
    }
    // PM2.5 crosses in all 10 rows; CO (0, 1000, 2000, ...) in 8.
    let pm25 = listed
        .iter()
        .filter(|finding| finding.name == "pm25_high")
        .count();
    let co = listed
        .iter()
        .filter(|finding| finding.name == "co_high")
        .count();
    assert_eq!((pm25, co), (3, 3));

    let summaries = alerts.finish(&mut ctx).expect("finish");
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0].name, "pm25_high");
    assert_eq!(summaries[0].value, Some(7.0));
    assert_eq!(summaries[1].value, Some(5.0));
    assert!(
        summaries[0].message.contains("7 more crossings"),
        "{}",
        summaries[0].message
    );

    let log = audit.lock().expect("audit lock");
    let read = log
        .records()
        .iter()
        .find(|record| record.action == AuditAction::Read)
        .expect("read record");
    assert_eq!(read.detail, "rows=10 rules=2 alerts=6 not_listed=12");
}

#[test]
fn counts_reset_each_round() {
    let audit = AuditLog::in_memory().into_handle();
    let mut config = config(vec![rule("pm25_high", "PM2.5", Some(100.0), None)]);
    config.max_findings_per_rule = 1;
    let mut alerts = ThresholdAlerts::new(config).expect("valid");
    let ids = RowIdAllocator::default();
    let mut ctx = context(&audit);
    for _ in 0..2 {
        let findings = alerts
            .analyze(&batch(vec!["A"; 2], vec![Some(200.0); 2], &ids), &mut ctx)
            .expect("analyze");
        assert_eq!(findings.len(), 1, "each round lists up to the limit again");
        let summary = alerts.finish(&mut ctx).expect("finish");
        assert_eq!(summary[0].value, Some(1.0));
    }
}

#[test]
fn text_column_error_names_rule_and_type() {
    let audit = AuditLog::in_memory().into_handle();
    let mut alerts = ThresholdAlerts::new(config(vec![rule(
        "station_high",
        "station",
        Some(1.0),
        None,
    )]))
    .expect("valid");
    let readings = batch(vec!["A"], vec![Some(1.0)], &RowIdAllocator::default());
    let message = alerts
        .analyze(&readings, &mut context(&audit))
        .expect_err("text")
        .to_string();
    assert!(message.contains("rule \"station_high\""), "{message}");
    assert!(message.contains("Utf8"), "{message}");
}

#[test]
fn missing_column_lists_batch_columns() {
    let audit = AuditLog::in_memory().into_handle();
    let mut alerts = ThresholdAlerts::new(config(vec![rule("o3_high", "O3", Some(200.0), None)]))
        .expect("valid");
    let readings = batch(vec!["A"], vec![Some(1.0)], &RowIdAllocator::default());
    let message = alerts
        .analyze(&readings, &mut context(&audit))
        .expect_err("no O3")
        .to_string();
    assert!(message.contains("\"O3\""), "{message}");
    assert!(
        message.contains("station, timestamp, PM2.5, CO"),
        "{message}"
    );
}

#[test]
fn unknown_config_field_is_rejected() {
    let error =
        serde_json::from_str::<ThresholdAlertsConfig>(r#"{"rules": [], "max_findings": 5}"#)
            .expect_err("unknown field");
    assert!(error.to_string().contains("max_findings"));
}
