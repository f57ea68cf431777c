//! Source validation and adaptive polling against a scripted server on 127.0.0.1 and a
//! temporary folder: a gap re-queried and filled, an impossible value requested again,
//! a folder's re-collection report, and the poll alert raised and cleared by findings.

#[path = "support/http_server.rs"]
mod http_server;

use std::path::Path;
use std::time::Duration;

use arrow::array::{Array, AsArray};
use arrow::compute::kernels::cast::cast;
use arrow::datatypes::{DataType, Float64Type};
use governance_collect::csv::{ColumnSpec, CsvType};
use governance_collect::http::{
    HttpPollCollector, HttpPollConfig, PollAlertAnalyzer, PollAlertConfig, RetryConfig,
};
use governance_collect::recollect::{ColumnRange, SourceValidationConfig, ValidatingCollector};
use governance_collect::{FolderCollector, FolderConfig};
use governance_core::audit::{AuditHandle, AuditLog};
use governance_core::{
    Analyzer, Collector, Finding, FindingKind, GovernedBatch, LineageEvent, Result, Stage,
    StageContext,
};
use http_server::{Reply, ScriptedServer};
use serde_json::{Value, json};

fn reading(minute: u32, pm25: f64) -> Value {
    json!({
        "sensor": "s1",
        "observedAt": format!("2024-05-01T10:{minute:02}:00Z"),
        "pm25": pm25,
    })
}

fn http_config(url: String, max_polls: u64) -> HttpPollConfig {
    HttpPollConfig {
        url,
        interval_ms: 20,
        alert_interval_ms: 5,
        timeout_ms: 2_000,
        retry: RetryConfig {
            max_attempts: 2,
            initial_backoff_ms: 10,
            max_backoff_ms: 50,
            jitter: 0.0,
        },
        max_polls: Some(max_polls),
        ..HttpPollConfig::default()
    }
}

fn validation() -> SourceValidationConfig {
    SourceValidationConfig {
        time_column: "observedAt".into(),
        key_columns: vec!["sensor".into()],
        ..SourceValidationConfig::default()
    }
}

fn context(audit: &AuditHandle) -> StageContext {
    StageContext::new("http_poll", 1, audit.clone())
}

fn drain(collector: &mut impl Collector, ctx: &mut StageContext) -> Vec<GovernedBatch> {
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(ctx).expect("next batch") {
        batches.push(batch);
    }
    batches
}

/// Returns the text of a column over all batches, in batch order.
fn texts(batches: &[GovernedBatch], column: &str) -> Vec<String> {
    let mut values = Vec::new();
    for batch in batches {
        let array = cast(batch.column(column).expect("column"), &DataType::Utf8).expect("cast");
        let array = array.as_string::<i32>();
        values.extend((0..array.len()).map(|row| array.value(row).to_string()));
    }
    values
}

/// Returns the values of a numeric column over all batches, in batch order.
fn numbers(batches: &[GovernedBatch], column: &str) -> Vec<f64> {
    let mut values = Vec::new();
    for batch in batches {
        let array = cast(batch.column(column).expect("column"), &DataType::Float64).expect("cast");
        values.extend(array.as_primitive::<Float64Type>().iter().flatten());
    }
    values
}

fn events_of<'a>(events: &'a [LineageEvent], kind: &str) -> Vec<&'a LineageEvent> {
    events.iter().filter(|event| event.kind == kind).collect()
}

fn audit_details(audit: &AuditHandle) -> Vec<String> {
    let log = audit.lock().expect("audit lock");
    log.records()
        .iter()
        .map(|record| record.detail.clone())
        .collect()
}

#[test]
fn gap_is_requeried_and_filled() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[
            reading(0, 5.0),
            reading(1, 6.0),
            reading(3, 7.0),
            reading(4, 8.0),
        ]),
        Reply::items(&[reading(2, 9.0)]),
    ]);
    let http = HttpPollCollector::new(http_config(format!("{}/readings", server.base_url), 1))
        .expect("collector");
    let config = SourceValidationConfig {
        expected_interval_ms: Some(60_000),
        ..validation()
    };
    let mut collector = ValidatingCollector::http(http, config).expect("validating collector");
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = context(&audit);
    let batches = drain(&mut collector, &mut ctx);

    let mut times = texts(&batches, "observedAt");
    times.sort();
    let expected: Vec<String> = (0..5)
        .map(|minute| format!("2024-05-01T10:{minute:02}:00Z"))
        .collect();
    assert_eq!(times, expected);

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let requery = requests[1].replace("%3A", ":");
    assert!(
        requery.contains("since=2024-05-01T10:01:00.001Z"),
        "{requery}"
    );
    assert!(requery.contains("until=2024-05-01T10:03:00Z"), "{requery}");

    let events = ctx.take_events();
    let requested = events_of(&events, "recollection_requested");
    assert_eq!(requested.len(), 1, "{events:?}");
    assert_eq!(requested[0].parameters["issue"]["kind"], json!("gap"));
    assert_eq!(
        requested[0].parameters["issue"]["key"],
        json!({"sensor": "s1"})
    );
    assert_eq!(requested[0].parameters["target"], json!("http_requery"));
    assert_eq!(
        requested[0].parameters["outcome"]["status"],
        json!("queued")
    );
    let outcomes = events_of(&events, "recollection");
    assert_eq!(outcomes.len(), 1, "{events:?}");
    assert_eq!(outcomes[0].parameters["rows"], json!(1));
    assert_eq!(outcomes[0].parameters["error"], Value::Null);
    // The re-queried row lies before the series' last time, so it opens no new gap.
    assert_eq!(collector.requests(), 1);

    let details = audit_details(&audit);
    assert!(
        details
            .iter()
            .any(|detail| detail.starts_with("re-collection requested")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|detail| detail.starts_with("re-collection: ")),
        "{details:?}"
    );
}

#[test]
fn impossible_value_is_requested_again() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading(0, 5.0), reading(1, -40.0), reading(2, 7.0)]),
        // The server still returns the impossible value.
        Reply::items(&[reading(1, -40.0)]),
    ]);
    let http = HttpPollCollector::new(http_config(format!("{}/readings", server.base_url), 1))
        .expect("collector");
    let config = SourceValidationConfig {
        ranges: vec![ColumnRange {
            column: "pm25".into(),
            min: Some(0.0),
            max: Some(1000.0),
        }],
        ..validation()
    };
    let mut collector = ValidatingCollector::http(http, config).expect("validating collector");
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = context(&audit);
    let batches = drain(&mut collector, &mut ctx);

    // No row is dropped or changed: the impossible value flows on to the clean stage.
    assert_eq!(numbers(&batches, "pm25"), vec![5.0, -40.0, 7.0, -40.0]);

    let requery = server.requests()[1].replace("%3A", ":");
    assert!(requery.contains("since=2024-05-01T10:01:00Z"), "{requery}");
    assert!(
        requery.contains("until=2024-05-01T10:01:00.001Z"),
        "{requery}"
    );

    let events = ctx.take_events();
    let requested = events_of(&events, "recollection_requested");
    assert_eq!(requested.len(), 1, "{events:?}");
    let issue = &requested[0].parameters["issue"];
    assert_eq!(issue["kind"], json!("impossible_value"));
    assert_eq!(issue["column"], json!("pm25"));
    assert_eq!(issue["value"], json!(-40.0));
    assert_eq!(events_of(&events, "recollection").len(), 1);
    let unresolved = events_of(&events, "recollection_unresolved");
    assert_eq!(unresolved.len(), 1, "{events:?}");
    assert_eq!(unresolved[0].parameters["issue"]["value"], json!(-40.0));
    assert_eq!(collector.unresolved(), 1);
}

fn write_csv(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a file");
}

#[test]
fn folder_source_writes_report() {
    let folder = tempfile::tempdir().expect("folder");
    let reports = tempfile::tempdir().expect("report folder");
    write_csv(
        folder.path(),
        "readings.csv",
        "sensor,observedAt,pm25\n\
         s1,2024-05-01T10:00:00Z,5\n\
         s1,2024-05-01T10:01:00Z,6\n\
         s1,2024-05-01T10:05:00Z,7\n\
         s2,2024-05-01T10:00:00Z,-3\n",
    );
    let folder_config = FolderConfig {
        dir: folder.path().to_path_buf(),
        schema: Some(vec![
            ColumnSpec::new("sensor", CsvType::Utf8),
            ColumnSpec::new("observedAt", CsvType::Utf8),
            ColumnSpec::new("pm25", CsvType::Float64),
        ]),
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(100),
        ..FolderConfig::default()
    };
    let config = SourceValidationConfig {
        expected_interval_ms: Some(60_000),
        ranges: vec![ColumnRange {
            column: "pm25".into(),
            min: Some(0.0),
            max: None,
        }],
        ..validation()
    };
    let report = reports.path().join("recollect.jsonl");
    let inner = FolderCollector::new(folder_config).expect("folder collector");
    let mut collector =
        ValidatingCollector::folder(inner, config, &report).expect("validating collector");
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = context(&audit);
    let batches = drain(&mut collector, &mut ctx);
    assert_eq!(
        batches.iter().map(GovernedBatch::num_rows).sum::<usize>(),
        4
    );

    let text = std::fs::read_to_string(&report).expect("report");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let file = folder.path().join("readings.csv");
    let gap = lines
        .iter()
        .find(|line| line["kind"] == json!("gap"))
        .expect("a gap line");
    assert_eq!(gap["key"], json!({"sensor": "s1"}));
    assert_eq!(gap["from"], json!("2024-05-01T10:01:00.001Z"));
    assert_eq!(gap["to"], json!("2024-05-01T10:05:00Z"));
    assert_eq!(gap["file"], json!(file.display().to_string()));
    assert!(
        gap["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("no row between"))
    );
    let impossible = lines
        .iter()
        .find(|line| line["kind"] == json!("impossible_value"))
        .expect("an impossible value line");
    assert_eq!(impossible["key"], json!({"sensor": "s2"}));
    assert_eq!(impossible["column"], json!("pm25"));

    let events = ctx.take_events();
    let requested = events_of(&events, "recollection_requested");
    assert_eq!(requested.len(), 2, "{events:?}");
    for event in requested {
        assert_eq!(event.parameters["target"], json!("report"));
        assert_eq!(event.parameters["outcome"]["status"], json!("reported"));
    }
}

#[test]
fn unwritable_report_fails_with_path() {
    let folder = tempfile::tempdir().expect("folder");
    write_csv(
        folder.path(),
        "readings.csv",
        "sensor,observedAt,pm25\ns1,2024-05-01T10:00:00Z,-1\n",
    );
    let folder_config = FolderConfig {
        dir: folder.path().to_path_buf(),
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(100),
        ..FolderConfig::default()
    };
    let config = SourceValidationConfig {
        ranges: vec![ColumnRange {
            column: "pm25".into(),
            min: Some(0.0),
            max: None,
        }],
        ..validation()
    };
    let report = folder.path().join("missing").join("report.jsonl");
    let inner = FolderCollector::new(folder_config).expect("folder collector");
    let mut collector =
        ValidatingCollector::folder(inner, config, &report).expect("validating collector");

    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = context(&audit);
    let error = collector
        .next_batch(&mut ctx)
        .expect_err("unwritable report");
    let text = error.to_string();
    assert!(text.contains("report.jsonl"), "{text}");
    assert!(text.contains("writable"), "{text}");
}

/// Emits an early warning for every batch with a pm25 value above 50.
struct HighPm25Warning;

impl Stage for HighPm25Warning {
    fn name(&self) -> &str {
        "pm25_warning"
    }
}

impl Analyzer for HighPm25Warning {
    fn analyze(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let values = cast(batch.column("pm25")?, &DataType::Float64)
            .map_err(|error| governance_core::Error::Internal(error.to_string()))?;
        let high = values
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .any(|value| value > 50.0);
        Ok(if high {
            vec![Finding::new(
                FindingKind::Warning,
                "pm25_rising",
                "pm25_warning",
                "pm25 above 50",
            )]
        } else {
            Vec::new()
        })
    }
}

#[test]
fn alert_follows_findings() {
    let mut script = vec![Reply::items(&[reading(0, 80.0)])];
    script.extend((0..40).map(|_| Reply::items(&[])));
    let server = ScriptedServer::start(script);
    let mut settings = http_config(format!("{}/readings", server.base_url), 14);
    settings.interval_ms = 300;
    settings.alert_interval_ms = 10;
    let mut collector = HttpPollCollector::new(settings).expect("collector");
    let control = collector.control();
    let alert_config = PollAlertConfig {
        quiet_period_ms: 100,
        ..PollAlertConfig::default()
    };
    let mut analyzer =
        PollAlertAnalyzer::new(HighPm25Warning, control.clone(), alert_config).expect("analyzer");
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = context(&audit);
    let mut analyzer_ctx = StageContext::new("pm25_warning", 1, audit.clone());

    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        let findings = analyzer
            .analyze(&batch, &mut analyzer_ctx)
            .expect("analyze");
        assert_eq!(findings.len(), 1, "the warning passes through unchanged");
        assert!(control.alert_active());
    }

    assert!(!control.alert_active());
    assert_eq!(analyzer.raised(), 1);
    let raised = analyzer_ctx.take_events();
    assert_eq!(
        events_of(&raised, "poll_alert_raised").len(),
        1,
        "{raised:?}"
    );
    let events = ctx.take_events();
    let changes: Vec<Value> = events_of(&events, "poll_interval_changed")
        .iter()
        .map(|event| event.parameters["alert_active"].clone())
        .collect();
    assert_eq!(changes, vec![json!(true), json!(false)], "{events:?}");

    // Polls under the alert came 10 ms apart; after the quiet period they are 300 ms apart.
    let arrivals = server.arrivals();
    let steps: Vec<Duration> = arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        steps.iter().any(|step| *step < Duration::from_millis(100)),
        "{steps:?}"
    );
    let last = steps.last().expect("several polls");
    assert!(*last >= Duration::from_millis(290), "{steps:?}");
}
