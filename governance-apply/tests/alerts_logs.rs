//! AlertSink's log lines name the webhook but never carry a header value or the URL. This
//! test installs a global tracing subscriber, so it has a test binary of its own.

mod common;
#[path = "support/webhook.rs"]
mod webhook;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{LINES, LineCollector};
use governance_apply::alerts::{
    AlertSink, AlertSinkConfig, SecretValue, WebhookConfig, read_dead_letter,
};
use governance_core::{
    Analyzer, Chain, Finding, FindingKind, GovernedBatch, Result, Severity, Stage, StageContext,
};
use webhook::{Receiver, Reply};

/// Emits one error-severity alert at the end of each round.
struct OneAlert;

impl Stage for OneAlert {
    fn name(&self) -> &str {
        "one_alert"
    }
}

impl Analyzer for OneAlert {
    fn analyze(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<Vec<Finding>> {
        Ok(Vec::new())
    }

    fn finish(&mut self, _: &mut StageContext) -> Result<Vec<Finding>> {
        let mut finding = Finding::new(FindingKind::Alert, "pm25_limit", "one_alert", "high");
        finding.severity = Some(Severity::Error);
        Ok(vec![finding])
    }
}

/// Collects formatted log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_name_webhook_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("install the subscriber");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let receiver = runtime.block_on(Receiver::start(Vec::new(), Reply::Status(503)));
    let url = format!("{}?token=url-secret-991", receiver.url);
    let mut webhook = WebhookConfig::new("ops", url)
        .with_header("Authorization", SecretValue::new("Bearer hook-secret-7f3a"));
    webhook.max_attempts = 2;
    webhook.backoff_initial_ms = 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_letter = dir.path().join("dead.jsonl");
    let sink = AlertSink::new(AlertSinkConfig::new(vec![webhook], &dead_letter)).expect("sink");
    let monitor = sink.monitor();
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .analyze(OneAlert)
        .apply(sink)
        .build()
        .expect("chain");
    chain.run_blocking().expect("run");
    assert!(
        monitor.wait_idle(Duration::from_secs(10)),
        "delivery did not settle"
    );
    drop(chain);

    assert_eq!(receiver.received().len(), 2);
    assert_eq!(read_dead_letter(&dead_letter).expect("read").len(), 1);
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("UTF-8 logs");
    assert!(logs.contains("webhook attempt failed"), "{logs}");
    assert!(logs.contains("webhook=ops"), "{logs}");
    assert!(logs.contains("HTTP 503"), "{logs}");
    assert!(!logs.contains("hook-secret"), "header value leaked: {logs}");
    assert!(!logs.contains("url-secret"), "URL token leaked: {logs}");
    let dead = std::fs::read_to_string(&dead_letter).expect("read dead letter");
    assert!(!dead.contains("url-secret"), "URL token leaked: {dead}");
}
