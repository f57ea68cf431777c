//! [`AlertSink`]: posts analyzer findings and failed rounds as JSON to webhooks, on a
//! background thread, with retries and a dead letter.
//!
//! ```no_run
//! use governance_apply::alerts::{AlertSink, AlertSinkConfig, SecretValue, WebhookConfig};
//!
//! let webhook = WebhookConfig::new("ops", "https://alerts.city.example/hooks/governance")
//!     .with_header("Authorization", SecretValue::new("Bearer token-from-a-vault"));
//! let sink = AlertSink::new(AlertSinkConfig::new(vec![webhook], "out/alerts-dead.jsonl"))?;
//! // Add `sink` to a chain with `.apply(sink)`; the chain's findings reach it after each
//! // round.
//! # Ok::<(), governance_core::Error>(())
//! ```

mod config;
mod delivery;
mod message;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Finding, GovernedBatch, Result, RunSummary, Severity, Stage, StageContext,
};

pub use config::{AlertSinkConfig, SecretValue, WebhookConfig, WebhookHeader};
pub use delivery::{AlertCounts, AlertMonitor};
pub use message::{AlertEvent, AlertMessage, DeadLetterRecord, read_dead_letter};

use delivery::Delivery;
use message::DeadLetter;

/// Default stage name of an [`AlertSink`].
pub const ALERT_SINK_NAME: &str = "alert_sink";

/// Sends alerts to webhooks: each finding of a finished round whose kind is in
/// [`AlertSinkConfig::kinds`] and whose severity is at least [`AlertSinkConfig::min_severity`],
/// and one alert per failed round (through [`Applicator::fail`]).
///
/// The sink only puts alerts in a bounded queue per webhook, and a background thread posts
/// them. So a slow or hanging webhook never holds up the chain, its other sinks or the other
/// webhooks. Each webhook gets up to `max_attempts` attempts per alert with exponential
/// backoff. An alert that a webhook does not take (every attempt failed, a status that is not
/// retried, a full queue, or the sink shutting down) is appended to the dead-letter file with
/// the reason and fsynced. Header values, and the URLs themselves, never appear in logs,
/// errors or dead-letter records.
///
/// Dropping the sink waits up to [`AlertSinkConfig::shutdown_grace_ms`] for queued alerts,
/// then moves whatever is left to the dead letter.
#[derive(Debug)]
pub struct AlertSink {
    name: String,
    config: AlertSinkConfig,
    dead_letter: Arc<DeadLetter>,
    delivery: Delivery,
}

impl AlertSink {
    /// Checks the config, reads URLs and header values from the environment where the config
    /// names variables, and starts the delivery thread. Fails on an invalid config, a missing
    /// variable or an invalid header.
    pub fn new(config: AlertSinkConfig) -> Result<Self> {
        config.check()?;
        let dead_letter = Arc::new(DeadLetter::new(config.dead_letter.clone()));
        let delivery = Delivery::start(
            ALERT_SINK_NAME,
            &config.webhooks,
            config.queue_capacity,
            Arc::clone(&dead_letter),
            Duration::from_millis(config.shutdown_grace_ms),
        )?;
        Ok(AlertSink {
            name: ALERT_SINK_NAME.to_string(),
            config,
            dead_letter,
            delivery,
        })
    }

    /// Renames the stage, so that a chain can hold more than one alert sink.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &AlertSinkConfig {
        &self.config
    }

    /// Returns the dead-letter file.
    pub fn dead_letter_path(&self) -> &Path {
        self.dead_letter.path()
    }

    /// Returns a view of the deliveries that can be kept after the sink moves into a chain.
    pub fn monitor(&self) -> AlertMonitor {
        self.delivery.monitor()
    }

    /// Returns true when `finding` passes the kind and severity filters.
    fn wants(&self, finding: &Finding) -> bool {
        self.config.kinds.contains(&finding.kind)
            && finding.severity.unwrap_or(Severity::Info) >= self.config.min_severity
    }
}

impl Stage for AlertSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        // Header values are never serialized, and webhooks are listed by name only.
        serde_json::json!({
            "webhooks": self.config.webhooks.iter().map(|webhook| &webhook.name).collect::<Vec<_>>(),
            "dead_letter": self.config.dead_letter,
            "min_severity": self.config.min_severity,
            "kinds": self.config.kinds,
            "alert_on_failure": self.config.alert_on_failure,
            "queue_capacity": self.config.queue_capacity,
        })
    }

    fn describe(&self) -> String {
        format!(
            "posts alerts to {} webhook(s), dead letter {}",
            self.config.webhooks.len(),
            self.config.dead_letter.display()
        )
    }
}

impl Applicator for AlertSink {
    /// Does nothing: alerts come from the round's findings in `finish`.
    fn apply(&mut self, _batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<()> {
        Ok(())
    }

    /// Queues one alert per matching finding. Fails only when an alert that found a full
    /// queue cannot be written to the dead letter either.
    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        let mut sent = 0_u64;
        let mut first_error = None;
        for finding in summary
            .findings
            .iter()
            .filter(|finding| self.wants(finding))
        {
            let alert = AlertMessage::new(
                &self.name,
                summary.round,
                finding.severity.unwrap_or(Severity::Info),
                AlertEvent::Finding {
                    finding: Box::new(finding.clone()),
                },
            );
            if let Err(error) = self.delivery.enqueue(alert) {
                first_error.get_or_insert(error);
            }
            sent += 1;
        }
        if sent > 0 {
            ctx.audit(
                AuditAction::Share,
                "webhooks",
                &format!(
                    "alerts={sent} webhooks={} round={}",
                    self.config.webhooks.len(),
                    summary.round
                ),
            )?;
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Queues one `round_failed` alert with the error and its causes, when
    /// [`AlertSinkConfig::alert_on_failure`] is set.
    fn fail(&mut self, error: &governance_core::Error, ctx: &mut StageContext) -> Result<()> {
        if !self.config.alert_on_failure {
            return Ok(());
        }
        let alert = AlertMessage::new(
            &self.name,
            ctx.round(),
            Severity::Error,
            AlertEvent::RoundFailed {
                error: error_with_causes(error),
            },
        );
        self.delivery.enqueue(alert)?;
        ctx.audit(
            AuditAction::Share,
            "webhooks",
            &format!("round_failed webhooks={}", self.config.webhooks.len()),
        )
    }
}

fn error_with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
