//! AlertSink end to end against webhook receivers on 127.0.0.1: retries, the dead letter,
//! failed rounds, secrets, and a hanging webhook beside a file sink.

mod common;
#[path = "support/webhook.rs"]
mod webhook;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{FailAt, LINES, LineCollector, RangeCheck};
use governance_apply::alerts::{
    AlertMonitor, AlertSink, AlertSinkConfig, SecretValue, WebhookConfig, read_dead_letter,
};
use governance_apply::{CsvSink, CsvSinkConfig, GOVERNED_CSV_FILE};
use governance_core::{
    Analyzer, Chain, ChainBuilder, Finding, FindingKind, GovernedBatch, Result, Severity, Stage,
    StageContext,
};
use tokio::runtime::Runtime;
use webhook::{Receiver, Reply, closed_url};

const SECRET: &str = "Bearer hook-secret-7f3a";

/// Emits `count` findings of `severity` at the end of each round.
struct Findings {
    name: &'static str,
    count: usize,
    severity: Option<Severity>,
}

impl Stage for Findings {
    fn name(&self) -> &str {
        self.name
    }
}

impl Analyzer for Findings {
    fn analyze(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<Vec<Finding>> {
        Ok(Vec::new())
    }

    fn finish(&mut self, _: &mut StageContext) -> Result<Vec<Finding>> {
        let findings = (0..self.count)
            .map(|index| {
                let mut finding = Finding::new(
                    FindingKind::Alert,
                    "pm25_limit",
                    self.name,
                    format!("pm25 above the limit at station {index}"),
                );
                finding.subject = Some(format!("station-{index}"));
                finding.severity = self.severity;
                finding
            })
            .collect();
        Ok(findings)
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Returns a webhook with the secret header and short backoff, so retries finish quickly.
fn fast_webhook(url: &str) -> WebhookConfig {
    let mut webhook =
        WebhookConfig::new("ops", url).with_header("Authorization", SecretValue::new(SECRET));
    webhook.backoff_initial_ms = 20;
    webhook.backoff_max_ms = 100;
    webhook.timeout_ms = 2_000;
    webhook.max_attempts = 3;
    webhook
}

fn sink(webhook: WebhookConfig, dead_letter: &Path) -> (AlertSink, AlertMonitor) {
    let sink = AlertSink::new(AlertSinkConfig::new(vec![webhook], dead_letter)).expect("sink");
    let monitor = sink.monitor();
    (sink, monitor)
}

fn chain_with(findings: usize, sink: AlertSink) -> ChainBuilder {
    Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(RangeCheck { limit: 500.0 })
        .analyze(Findings {
            name: "findings",
            count: findings,
            severity: Some(Severity::Error),
        })
        .apply(sink)
}

fn assert_secret_absent(text: &str) {
    assert!(!text.contains("hook-secret"), "secret leaked into: {text}");
}

#[test]
fn server_error_then_success_delivers_once() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(
        vec![Reply::Status(500), Reply::Status(200)],
        Reply::Status(418),
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&receiver.url), &dead_letter);
    let mut chain = chain_with(1, sink).build().expect("chain");
    chain.run_blocking().expect("run");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    let counts = monitor.counts();
    assert_eq!(counts.delivered, 1);
    assert_eq!(counts.attempts, 2);
    assert_eq!(counts.dead_lettered, 0);

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let first = received[0].json();
    let second = received[1].json();
    assert_eq!(
        first["id"], second["id"],
        "a retry must resend the same alert id"
    );
    assert_eq!(second["type"], "finding");
    assert_eq!(second["severity"], "error");
    assert_eq!(second["finding"]["name"], "pm25_limit");
    assert_eq!(second["finding"]["subject"], "station-0");
    assert!(
        received[1].head.contains(SECRET),
        "the header must reach the webhook: {}",
        received[1].head
    );
    assert!(!dead_letter.exists(), "nothing should be dead-lettered");
}

#[test]
fn persistent_server_error_goes_to_dead_letter() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Status(500)));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("alerts").join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&receiver.url), &dead_letter);
    let mut chain = chain_with(1, sink).build().expect("chain");
    chain.run_blocking().expect("run");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    assert_eq!(receiver.received().len(), 3, "max_attempts is 3");
    let counts = monitor.counts();
    assert_eq!(counts.delivered, 0);
    assert_eq!(counts.dead_lettered, 1);

    let records = read_dead_letter(&dead_letter).expect("read dead letter");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].webhook, "ops");
    assert_eq!(records[0].attempts, 3);
    assert_eq!(records[0].reason, "HTTP 500 after 3 attempts");
    assert_eq!(records[0].alert.severity, Severity::Error);
    let text = std::fs::read_to_string(&dead_letter).expect("read file");
    assert_secret_absent(&text);
    assert!(
        !text.contains(&receiver.url),
        "the URL must stay out: {text}"
    );
}

#[test]
fn client_error_is_not_retried() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Status(400)));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&receiver.url), &dead_letter);
    let mut chain = chain_with(1, sink).build().expect("chain");
    chain.run_blocking().expect("run");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    assert_eq!(receiver.received().len(), 1);
    let records = read_dead_letter(&dead_letter).expect("read dead letter");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].attempts, 1);
    assert!(
        records[0].reason.contains("HTTP 400"),
        "{}",
        records[0].reason
    );
    assert!(
        records[0].reason.contains("not retried"),
        "{}",
        records[0].reason
    );
}

#[test]
fn refused_connection_is_retried_then_dead_lettered() {
    let runtime = runtime();
    let url = runtime.block_on(closed_url());
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&url), &dead_letter);
    let mut chain = chain_with(1, sink).build().expect("chain");
    chain.run_blocking().expect("run");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    assert_eq!(monitor.counts().attempts, 3);
    let records = read_dead_letter(&dead_letter).expect("read dead letter");
    assert_eq!(records.len(), 1);
    assert!(
        records[0].reason.ends_with("after 3 attempts"),
        "{}",
        records[0].reason
    );
    assert!(!records[0].reason.contains(&url), "{}", records[0].reason);
}

#[test]
fn findings_below_min_severity_are_not_sent() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Status(200)));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&receiver.url), &dead_letter);
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .analyze(Findings {
            name: "info_findings",
            count: 2,
            severity: Some(Severity::Info),
        })
        .analyze(Findings {
            name: "unrated_findings",
            count: 1,
            severity: None,
        })
        .apply(sink)
        .build()
        .expect("chain");
    chain.run_blocking().expect("run");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    assert_eq!(monitor.counts().queued, 0);
    assert!(receiver.received().is_empty());
}

#[test]
fn failed_round_sends_round_failed_alert() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Status(204)));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let (sink, monitor) = sink(fast_webhook(&receiver.url), &dead_letter);
    let failing = FailAt {
        fail_at: 2,
        rounds: vec![1],
        seen: 0,
    };
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(failing)
        .apply(sink)
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("the second batch fails");

    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    assert_eq!(monitor.counts().delivered, 1);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let body = received[0].json();
    assert_eq!(body["type"], "round_failed");
    assert_eq!(body["severity"], "error");
    assert_eq!(body["round"], 1);
    let error = body["error"].as_str().expect("error text");
    assert!(error.contains("disk full"), "{error}");
}

#[test]
fn hanging_webhook_does_not_stall_file_sink() {
    let runtime = runtime();
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Hang));
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let mut webhook = fast_webhook(&receiver.url);
    // Long enough that only the sink's shutdown can end the hanging attempt.
    webhook.timeout_ms = 60_000;
    let mut config = AlertSinkConfig::new(vec![webhook], &dead_letter);
    config.queue_capacity = 2;
    config.shutdown_grace_ms = 300;
    let alerts = AlertSink::new(config).expect("sink");
    let monitor = alerts.monitor();
    let csv = CsvSink::new(CsvSinkConfig::new(dir.path())).expect("csv sink");

    let started = Instant::now();
    let mut chain = chain_with(10, alerts).apply(csv).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    let run_time = started.elapsed();
    assert!(
        run_time < Duration::from_secs(10),
        "the round took {run_time:?} with a hanging webhook"
    );

    let text = std::fs::read_to_string(dir.path().join("round-1").join(GOVERNED_CSV_FILE))
        .expect("read csv");
    assert_eq!(summary.rows_delivered, 4);
    assert_eq!(text.lines().count(), 5, "header and every row: {text}");

    // One alert hangs in flight and two wait in the queue; the others found the queue full.
    // Whether the first alert left the queue before the last ones arrived depends on thread
    // timing, so seven or eight overflowed.
    let early = read_dead_letter(&dead_letter).expect("read dead letter");
    assert!((7..=8).contains(&early.len()), "{early:?}");
    assert!(early[0].reason.contains("queue"), "{}", early[0].reason);
    assert_eq!(early[0].attempts, 0);

    let closing = Instant::now();
    drop(chain);
    let close_time = closing.elapsed();
    assert!(
        close_time < Duration::from_secs(5),
        "dropping the sink took {close_time:?}"
    );
    let records = read_dead_letter(&dead_letter).expect("read dead letter");
    assert_eq!(records.len(), 10, "no alert may vanish: {records:?}");
    let counts = monitor.counts();
    assert_eq!(counts.dead_lettered, 10);
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.delivered, 0);
    let in_flight = records
        .iter()
        .filter(|record| record.reason.contains("during attempt 1"))
        .count();
    assert_eq!(in_flight, 1, "{records:?}");
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn missing_url_variable_is_a_clear_error() {
    let mut webhook = WebhookConfig::new("ops", "http://127.0.0.1:9/hook");
    webhook.url = None;
    webhook.url_env = Some("GOVERNANCE_TEST_UNSET_WEBHOOK_URL".into());
    let error = AlertSink::new(AlertSinkConfig::new(vec![webhook], "dead.jsonl"))
        .expect_err("variable is not set");
    let message = error.to_string();
    assert!(
        message.contains("GOVERNANCE_TEST_UNSET_WEBHOOK_URL"),
        "{message}"
    );
    assert!(message.contains("\"ops\""), "{message}");
}

#[test]
fn invalid_header_value_error_hides_value() {
    let webhook = WebhookConfig::new("ops", "http://127.0.0.1:9/hook")
        .with_header("Authorization", SecretValue::new("Bearer hook-secret\nx"));
    let error = AlertSink::new(AlertSinkConfig::new(vec![webhook], "dead.jsonl"))
        .expect_err("line break in a header value");
    let message = error.to_string();
    assert!(message.contains("Authorization"), "{message}");
    assert_secret_absent(&message);
}
