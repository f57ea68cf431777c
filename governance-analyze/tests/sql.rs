//! SQL indicators: daily means and alert days on hand-built readings, error reporting, audit
//! records and memory reset between rounds.

use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance_analyze::{
    AlertRule, AnalyzeError, IndicatorSql, SqlIndicators, SqlIndicatorsConfig,
};
use governance_core::audit::{AuditAction, AuditHandle, AuditLog};
use governance_core::{
    Analyzer, Error, Finding, FindingKind, GovernedBatch, Provenance, RowIdAllocator, StageContext,
};

/// 2013-03-01T00:00:00 as naive local time in milliseconds.
const MARCH_1: i64 = 1_362_096_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Hourly PM2.5 of one station over one day starting at `day_start`.
struct Day {
    station: &'static str,
    day_start: i64,
    values: Vec<Option<f64>>,
}

fn readings(days: &[Day]) -> RecordBatch {
    let mut stations = Vec::new();
    let mut times = Vec::new();
    let mut values = Vec::new();
    for day in days {
        for (hour, value) in day.values.iter().enumerate() {
            stations.push(day.station);
            times.push(day.day_start + hour as i64 * HOUR);
            values.push(*value);
        }
    }
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("PM2.5", DataType::Float64, true),
        Field::new("NO2", DataType::Float64, true),
    ]);
    let no2 = vec![Some(1.0); values.len()];
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(stations)),
            Arc::new(TimestampMillisecondArray::from(times)),
            Arc::new(Float64Array::from(values)),
            Arc::new(Float64Array::from(no2)),
        ],
    )
    .expect("readings batch")
}

fn governed(data: RecordBatch, ids: &RowIdAllocator) -> GovernedBatch {
    let row_ids = ids.allocate(data.num_rows());
    GovernedBatch::try_new(data, row_ids, Provenance::new("readings")).expect("governed batch")
}

/// Station A: day 1 hourly 70..93 (mean 81.5), day 2 all 50. Station B: day 1 only 19
/// valid hours of 100 (too few for a daily mean), day 2 all 76.
fn four_days() -> Vec<Day> {
    let mut sparse = vec![Some(100.0); 24];
    for hour in [2, 5, 9, 14, 20] {
        sparse[hour] = None;
    }
    vec![
        Day {
            station: "A",
            day_start: MARCH_1,
            values: (0..24).map(|hour| Some(70.0 + hour as f64)).collect(),
        },
        Day {
            station: "A",
            day_start: MARCH_1 + DAY,
            values: vec![Some(50.0); 24],
        },
        Day {
            station: "B",
            day_start: MARCH_1,
            values: sparse,
        },
        Day {
            station: "B",
            day_start: MARCH_1 + DAY,
            values: vec![Some(76.0); 24],
        },
    ]
}

fn context(audit: &AuditHandle) -> StageContext {
    StageContext::new("air_quality_indicators", 1, audit.clone())
}

/// Feeds the four days to `analyzer` in two batches and returns the findings of `finish`.
fn run(analyzer: &mut SqlIndicators, audit: &AuditHandle) -> Vec<Finding> {
    let ids = RowIdAllocator::default();
    let days = four_days();
    let mut ctx = context(audit);
    for half in days.chunks(2) {
        let batch = governed(readings(half), &ids);
        let findings = analyzer.analyze(&batch, &mut ctx).expect("analyze");
        assert!(findings.is_empty(), "sql indicators report only at finish");
    }
    analyzer.finish(&mut ctx).expect("finish")
}

fn of<'a>(findings: &'a [Finding], name: &str, kind: FindingKind) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|finding| finding.name == name && finding.kind == kind)
        .collect()
}

fn indicator(name: &str, sql: &str) -> IndicatorSql {
    IndicatorSql {
        name: name.into(),
        sql: sql.into(),
        value_column: "v".into(),
        subject_column: None,
        time_column: None,
        alert: None,
    }
}

#[test]
fn daily_means_are_computed() {
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::air_quality(), &audit);
    let means = of(&findings, "pm25_daily_mean", FindingKind::Indicator);
    let got: Vec<(&str, &str, f64)> = means
        .iter()
        .map(|finding| {
            (
                finding.subject.as_deref().expect("subject"),
                finding.time.as_deref().expect("time"),
                finding.value.expect("value"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("A", "2013-03-01", 81.5),
            ("A", "2013-03-02", 50.0),
            ("B", "2013-03-02", 76.0)
        ]
    );
}

#[test]
fn alert_days_are_those_over_75() {
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::air_quality(), &audit);
    let alerts = of(&findings, "pm25_daily_mean", FindingKind::Alert);
    let days: Vec<(&str, &str)> = alerts
        .iter()
        .map(|alert| {
            (
                alert.subject.as_deref().expect("subject"),
                alert.time.as_deref().expect("time"),
            )
        })
        .collect();
    assert_eq!(days, [("A", "2013-03-01"), ("B", "2013-03-02")]);
    assert!(alerts.iter().all(|alert| alert.threshold == Some(75.0)));
    assert_eq!(alerts[1].value, Some(76.0));
    assert!(
        alerts[0].message.contains("GB 3095-2012"),
        "{}",
        alerts[0].message
    );
}

#[test]
fn days_over_are_counted_per_station() {
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::air_quality(), &audit);
    let counts: Vec<(&str, f64)> = of(&findings, "pm25_days_over_limit", FindingKind::Indicator)
        .iter()
        .map(|finding| {
            (
                finding.subject.as_deref().expect("subject"),
                finding.value.expect("value"),
            )
        })
        .collect();
    assert_eq!(counts, [("A", 1.0), ("B", 1.0)]);
}

#[test]
fn finish_audits_table_read() {
    let audit = AuditLog::in_memory().into_handle();
    run(&mut SqlIndicators::air_quality(), &audit);
    let log = audit.lock().expect("audit lock");
    let reads: Vec<_> = log
        .records()
        .iter()
        .filter(|record| record.action == AuditAction::Read)
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].subject, "governed");
    assert_eq!(reads[0].detail, "rows=96 columns=3 indicators=2");
}

#[test]
fn date_trunc_time_is_iso_text() {
    let mut entry = indicator(
        "pm25_daily_max",
        "SELECT station, date_trunc('day', \"timestamp\") AS day, max(\"PM2.5\") AS v \
         FROM governed GROUP BY station, date_trunc('day', \"timestamp\") ORDER BY station, day",
    );
    entry.subject_column = Some("station".into());
    entry.time_column = Some("day".into());
    entry.alert = Some(AlertRule {
        above: None,
        below: Some(60.0),
        message: "clean day".into(),
    });
    let config = SqlIndicatorsConfig::new(
        vec!["station".into(), "timestamp".into(), "PM2.5".into()],
        vec![entry],
    );
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::new(config).expect("valid"), &audit);

    let maxima = of(&findings, "pm25_daily_max", FindingKind::Indicator);
    assert_eq!(maxima.len(), 4);
    assert_eq!(maxima[0].time.as_deref(), Some("2013-03-01T00:00:00"));
    assert_eq!(maxima[0].value, Some(93.0));
    assert_eq!(
        maxima[2].value,
        Some(100.0),
        "the sparse day still has a maximum"
    );
    let below = of(&findings, "pm25_daily_max", FindingKind::Alert);
    assert_eq!(below.len(), 1);
    assert_eq!(below[0].threshold, Some(60.0));
    assert_eq!(below[0].subject.as_deref(), Some("A"));
}

#[test]
fn invalid_sql_error_names_indicator() {
    let config = SqlIndicatorsConfig::new(
        Vec::new(),
        vec![
            indicator("pm25_mean", "SELECT avg(\"PM2.5\") AS v FROM governed"),
            indicator("broken", "SELECT avg(pm10) AS v FROM governed"),
        ],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let ids = RowIdAllocator::default();
    let mut ctx = context(&audit);
    analyzer
        .analyze(&governed(readings(&four_days()), &ids), &mut ctx)
        .expect("analyze");
    let error = analyzer.finish(&mut ctx).expect_err("pm10 is not a column");

    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("indicator \"broken\""), "{message}");
    // DataFusion's own message names the missing field.
    assert!(message.contains("pm10"), "{message}");
}

#[test]
fn syntax_error_shows_parser_message() {
    let config = SqlIndicatorsConfig::new(Vec::new(), vec![indicator("typo", "SELEC 1 AS v")]);
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let mut ctx = context(&audit);
    analyzer
        .analyze(
            &governed(readings(&four_days()), &RowIdAllocator::default()),
            &mut ctx,
        )
        .expect("analyze");
    let message = analyzer
        .finish(&mut ctx)
        .expect_err("syntax error")
        .to_string();
    assert!(message.contains("indicator \"typo\""), "{message}");
    assert!(message.to_lowercase().contains("selec"), "{message}");
}

#[test]
fn ddl_is_rejected() {
    let config = SqlIndicatorsConfig::new(
        Vec::new(),
        vec![indicator("ddl", "CREATE TABLE copy AS SELECT 1 AS v")],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let mut ctx = context(&audit);
    analyzer
        .analyze(
            &governed(readings(&four_days()), &RowIdAllocator::default()),
            &mut ctx,
        )
        .expect("analyze");
    let message = analyzer.finish(&mut ctx).expect_err("ddl").to_string();
    assert!(message.contains("DDL not supported"), "{message}");
}

#[test]
fn runtime_error_keeps_datafusion_source() {
    let config = SqlIndicatorsConfig::new(
        Vec::new(),
        vec![indicator(
            "bad_cast",
            "SELECT CAST(station AS DOUBLE) AS v FROM governed",
        )],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let mut ctx = context(&audit);
    analyzer
        .analyze(
            &governed(readings(&four_days()), &RowIdAllocator::default()),
            &mut ctx,
        )
        .expect("analyze");
    let error = analyzer
        .finish(&mut ctx)
        .expect_err("station is not a number");

    let Error::Stage { stage, source } = &error else {
        panic!("expected a stage error, got {error:?}");
    };
    assert_eq!(stage, "sql_indicators");
    let analyze_error = source
        .downcast_ref::<AnalyzeError>()
        .expect("analyze error");
    assert!(
        analyze_error.to_string().contains("indicator \"bad_cast\""),
        "{analyze_error}"
    );
    let datafusion = std::error::Error::source(analyze_error)
        .expect("datafusion error")
        .to_string();
    assert!(datafusion.to_lowercase().contains("cast"), "{datafusion}");
}

#[test]
fn missing_value_column_is_reported() {
    let mut entry = indicator("mean", "SELECT avg(\"PM2.5\") AS mean FROM governed");
    entry.value_column = "value".into();
    let config = SqlIndicatorsConfig::new(Vec::new(), vec![entry]);
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let mut ctx = context(&audit);
    analyzer
        .analyze(
            &governed(readings(&four_days()), &RowIdAllocator::default()),
            &mut ctx,
        )
        .expect("analyze");
    let message = analyzer
        .finish(&mut ctx)
        .expect_err("no value column")
        .to_string();
    assert!(message.contains("value_column \"value\""), "{message}");
    assert!(message.contains("columns are: mean"), "{message}");
}

#[test]
fn only_configured_columns_are_kept() {
    let config = SqlIndicatorsConfig::new(
        vec!["station".into(), "PM2.5".into()],
        vec![indicator("no2", "SELECT avg(\"NO2\") AS v FROM governed")],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let mut ctx = context(&audit);
    analyzer
        .analyze(
            &governed(readings(&four_days()), &RowIdAllocator::default()),
            &mut ctx,
        )
        .expect("analyze");
    assert_eq!(analyzer.rows_gathered(), 96);
    let message = analyzer
        .finish(&mut ctx)
        .expect_err("NO2 was not kept")
        .to_string();
    assert!(message.contains("NO2"), "{message}");
}

#[test]
fn missing_configured_column_is_rejected() {
    let config = SqlIndicatorsConfig::new(
        vec!["CO".into()],
        vec![indicator("co", "SELECT avg(\"CO\") AS v FROM governed")],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let batch = governed(readings(&four_days()), &RowIdAllocator::default());
    let message = analyzer
        .analyze(&batch, &mut context(&audit))
        .expect_err("no CO")
        .to_string();
    assert!(message.contains("\"CO\""), "{message}");
    assert!(
        message.contains("station, timestamp, PM2.5, NO2"),
        "{message}"
    );
}

#[test]
fn changed_column_type_is_rejected() {
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::air_quality();
    let ids = RowIdAllocator::default();
    let mut ctx = context(&audit);
    analyzer
        .analyze(&governed(readings(&four_days()), &ids), &mut ctx)
        .expect("first batch");

    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("PM2.5", DataType::Utf8, true),
    ]);
    let text = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["A"])),
            Arc::new(TimestampMillisecondArray::from(vec![MARCH_1])),
            Arc::new(StringArray::from(vec!["12"])),
        ],
    )
    .expect("text batch");
    let message = analyzer
        .analyze(&governed(text, &ids), &mut ctx)
        .expect_err("text PM2.5")
        .to_string();
    assert!(message.contains("\"PM2.5\" has type Utf8"), "{message}");
    assert!(message.contains("Float64"), "{message}");
}

#[test]
fn empty_stream_gives_no_findings() {
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::air_quality();
    let findings = analyzer.finish(&mut context(&audit)).expect("finish");
    assert!(findings.is_empty());
    let log = audit.lock().expect("audit lock");
    assert_eq!(log.records()[0].detail, "rows=0 columns=0 indicators=2");
}

#[test]
fn rounds_start_empty() {
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::air_quality();
    let first = run(&mut analyzer, &audit);
    let second = run(&mut analyzer, &audit);
    assert_eq!(
        first, second,
        "the second round must not see the first round's rows"
    );
    assert_eq!(analyzer.rows_gathered(), 0);
}

#[tokio::test]
async fn finish_works_inside_tokio() {
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::air_quality(), &audit);
    assert_eq!(
        of(&findings, "pm25_daily_mean", FindingKind::Alert).len(),
        2
    );
}

#[test]
fn config_from_json_runs() {
    let config: SqlIndicatorsConfig = serde_json::from_str(
        r#"{
            "name": "station_means",
            "columns": ["station", "PM2.5"],
            "indicators": [{
                "name": "pm25_mean",
                "sql": "SELECT station, avg(\"PM2.5\") AS v FROM governed GROUP BY station ORDER BY station",
                "value_column": "v",
                "subject_column": "station"
            }]
        }"#,
    )
    .expect("config");
    let audit = AuditLog::in_memory().into_handle();
    let findings = run(&mut SqlIndicators::new(config).expect("valid"), &audit);
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].analyzer, "station_means");
    // A: 24 hours of 70..93 and 24 of 50; B: 19 of 100 and 24 of 76.
    assert_eq!(findings[0].value, Some((81.5 * 24.0 + 50.0 * 24.0) / 48.0));
    assert_eq!(findings[1].value, Some((100.0 * 19.0 + 76.0 * 24.0) / 43.0));
}

#[test]
fn all_columns_follow_first_batch() {
    let config = SqlIndicatorsConfig::new(
        Vec::new(),
        vec![indicator("rows", "SELECT count(*) AS v FROM governed")],
    );
    let audit = AuditLog::in_memory().into_handle();
    let mut analyzer = SqlIndicators::new(config).expect("valid");
    let ids = RowIdAllocator::default();
    let mut ctx = context(&audit);
    analyzer
        .analyze(&governed(readings(&four_days()), &ids), &mut ctx)
        .expect("first batch");

    // A later batch without NO2 lacks a column of the table.
    let narrower = readings(&four_days()).project(&[0, 1, 2]).expect("project");
    let message = analyzer
        .analyze(&governed(narrower, &ids), &mut ctx)
        .expect_err("no NO2")
        .to_string();
    assert!(message.contains("\"NO2\""), "{message}");

    // A later batch with its columns in another order still fits the table.
    let reordered = readings(&four_days())
        .project(&[3, 2, 1, 0])
        .expect("project");
    analyzer
        .analyze(&governed(reordered, &ids), &mut ctx)
        .expect("reordered batch");
    let findings = analyzer.finish(&mut ctx).expect("finish");
    assert_eq!(findings[0].value, Some(192.0));
}
