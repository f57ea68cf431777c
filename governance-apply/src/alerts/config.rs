//! Settings of the [`AlertSink`](super::AlertSink) and its webhooks.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use governance_core::{Error, FindingKind, Result, Severity};
use serde::{Deserialize, Serialize};

use super::ALERT_SINK_NAME;

/// A header value that must stay secret, such as a bearer token. Its `Debug` output hides the
/// value, and it is never serialized, logged, put in an error or written to the dead letter.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// Returns the secret, for the HTTP header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretValue(<hidden>)")
    }
}

/// One HTTP header sent with every request to a webhook. Its value is treated as a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookHeader {
    /// Header name, such as `Authorization`.
    pub name: String,
    /// The value. Never serialized, so a config written back to a file does not contain it;
    /// prefer `value_env` in config files.
    #[serde(default, skip_serializing)]
    pub value: Option<SecretValue>,
    /// Name of an environment variable to read the value from when `value` is not set.
    #[serde(default)]
    pub value_env: Option<String>,
}

/// One webhook that receives every alert as a JSON `POST`. Durations are in milliseconds.
///
/// Logs, errors and dead-letter records name a webhook by `name` only, never by URL, because
/// many webhook URLs carry a token in their path or query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name in logs and dead-letter records, such as `ops-chat`.
    pub name: String,
    /// URL to post to, `http` or `https`. Set this or `url_env`.
    #[serde(default)]
    pub url: Option<String>,
    /// Name of an environment variable that contains the URL, for URLs that carry a token.
    #[serde(default)]
    pub url_env: Option<String>,
    /// Extra headers, such as `Authorization`.
    #[serde(default)]
    pub headers: Vec<WebhookHeader>,
    /// Maximum time to open the connection, per attempt. Default 2,000.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Maximum time of one attempt, from sending the request to the end of the reply.
    /// Default 5,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts in total, the first included, for a timeout, a connection error, HTTP 408,
    /// 429 or 5xx. Other statuses are not retried. Default 4.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the second attempt; each later wait doubles, up to `backoff_max_ms`.
    /// Default 500.
    #[serde(default = "default_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// Maximum wait between attempts. Default 30,000.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_timeout_ms() -> u64 {
    5_000
}

fn default_max_attempts() -> u32 {
    4
}

fn default_backoff_initial_ms() -> u64 {
    500
}

fn default_backoff_max_ms() -> u64 {
    30_000
}

impl WebhookConfig {
    /// Creates a webhook named `name` that posts to `url` with the default timeouts and
    /// retries.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        WebhookConfig {
            name: name.into(),
            url: Some(url.into()),
            url_env: None,
            headers: Vec::new(),
            connect_timeout_ms: default_connect_timeout_ms(),
            timeout_ms: default_timeout_ms(),
            max_attempts: default_max_attempts(),
            backoff_initial_ms: default_backoff_initial_ms(),
            backoff_max_ms: default_backoff_max_ms(),
        }
    }

    /// Returns the config with a secret header added.
    pub fn with_header(mut self, name: impl Into<String>, value: SecretValue) -> Self {
        self.headers.push(WebhookHeader {
            name: name.into(),
            value: Some(value),
            value_env: None,
        });
        self
    }

    /// Returns the wait before attempt `attempt + 1`, after `attempt` failed (from 1):
    /// `backoff_initial_ms * 2^(attempt - 1)`, capped at `backoff_max_ms`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1_u64 << attempt.saturating_sub(1).min(32);
        let wait = self.backoff_initial_ms.saturating_mul(factor);
        Duration::from_millis(wait.min(self.backoff_max_ms))
    }

    /// Returns the URL from `url`, else from the environment variable `url_env`.
    pub(crate) fn resolve_url(&self) -> Result<String> {
        let url = match (&self.url, &self.url_env) {
            (Some(url), None) => url.clone(),
            (None, Some(variable)) => std::env::var(variable)
                .ok()
                .filter(|value| !value.is_empty())
                .ok_or_else(|| {
                    self.invalid(format!(
                        "environment variable {variable:?} named by url_env is not set or \
                         empty; export it or set url"
                    ))
                })?,
            (Some(_), Some(_)) => {
                return Err(self.invalid("both url and url_env are set; keep one".into()));
            }
            (None, None) => {
                return Err(self.invalid("no URL: set url or url_env".into()));
            }
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            // The URL itself may hold a token, so the message does not repeat it.
            return Err(self.invalid(
                "the URL does not start with http:// or https://; fix the scheme".into(),
            ));
        }
        Ok(url)
    }

    /// Returns each header's name and value, reading `value_env` where `value` is not set.
    pub(crate) fn resolve_headers(&self) -> Result<Vec<(String, SecretValue)>> {
        let mut resolved = Vec::with_capacity(self.headers.len());
        for header in &self.headers {
            let value = match (&header.value, &header.value_env) {
                (Some(value), _) => value.clone(),
                (None, Some(variable)) => std::env::var(variable)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .map(SecretValue::new)
                    .ok_or_else(|| {
                        self.invalid(format!(
                            "environment variable {variable:?} for header {:?} is not set or \
                             empty; export it",
                            header.name
                        ))
                    })?,
                (None, None) => {
                    return Err(self.invalid(format!(
                        "header {:?} has no value: set value_env",
                        header.name
                    )));
                }
            };
            resolved.push((header.name.clone(), value));
        }
        Ok(resolved)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(self.invalid("the webhook name is empty; name it, such as ops-chat".into()));
        }
        if self.max_attempts == 0 {
            return Err(self.invalid("max_attempts is 0; use 1 or more".into()));
        }
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err(self.invalid(
                "timeout_ms and connect_timeout_ms must be above 0 so that a hanging webhook \
                 cannot hold its queue forever"
                    .into(),
            ));
        }
        Ok(())
    }

    fn invalid(&self, message: String) -> Error {
        Error::config(
            ALERT_SINK_NAME,
            format!("webhook {:?}: {message}", self.name),
        )
    }
}

/// Settings of the [`AlertSink`](super::AlertSink). Unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSinkConfig {
    /// Webhooks that each receive every alert.
    pub webhooks: Vec<WebhookConfig>,
    /// NDJSON file that alerts go to when delivery fails or a queue is full. Appended, never
    /// truncated; its folder is created when missing.
    pub dead_letter: PathBuf,
    /// Lowest severity of a finding that is sent. A finding without a severity counts as
    /// `info`. Default `warning`.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Kinds of finding that are sent. Default alert, anomaly and warning.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<FindingKind>,
    /// Sends an alert when a round fails. Default true.
    #[serde(default = "default_true")]
    pub alert_on_failure: bool,
    /// Alerts waiting per webhook; when a queue is full, further alerts for that webhook go to
    /// the dead letter. Default 256.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// Time that dropping the sink waits for queued alerts to be delivered before it stops
    /// the deliveries and writes what is left to the dead letter. Default 5,000 ms.
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
}

fn default_min_severity() -> Severity {
    Severity::Warning
}

fn default_kinds() -> Vec<FindingKind> {
    vec![
        FindingKind::Alert,
        FindingKind::Anomaly,
        FindingKind::Warning,
    ]
}

fn default_true() -> bool {
    true
}

fn default_queue_capacity() -> usize {
    256
}

fn default_shutdown_grace_ms() -> u64 {
    5_000
}

impl AlertSinkConfig {
    /// Creates a config with the defaults that sends to `webhooks` and dead-letters into
    /// `dead_letter`.
    pub fn new(webhooks: Vec<WebhookConfig>, dead_letter: impl Into<PathBuf>) -> Self {
        AlertSinkConfig {
            webhooks,
            dead_letter: dead_letter.into(),
            min_severity: default_min_severity(),
            kinds: default_kinds(),
            alert_on_failure: true,
            queue_capacity: default_queue_capacity(),
            shutdown_grace_ms: default_shutdown_grace_ms(),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.webhooks.is_empty() {
            return Err(Error::config(
                ALERT_SINK_NAME,
                "no webhooks configured; add at least one under webhooks",
            ));
        }
        if self.queue_capacity == 0 {
            return Err(Error::config(
                ALERT_SINK_NAME,
                "queue_capacity is 0; use 1 or more",
            ));
        }
        if self.dead_letter.as_os_str().is_empty() {
            return Err(Error::config(
                ALERT_SINK_NAME,
                "dead_letter is empty; name the NDJSON file for undelivered alerts",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for webhook in &self.webhooks {
            webhook.check()?;
            if !names.insert(webhook.name.as_str()) {
                return Err(Error::config(
                    ALERT_SINK_NAME,
                    format!(
                        "two webhooks are named {:?}; give each a unique name",
                        webhook.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_unknown_fields() {
        let text = r#"{"webhooks": [], "dead_letter": "dl.jsonl", "min_sev": "error"}"#;
        let error = serde_json::from_str::<AlertSinkConfig>(text).expect_err("typo must fail");
        assert!(error.to_string().contains("min_sev"), "{error}");
    }

    #[test]
    fn header_value_is_never_serialized() {
        let config = WebhookConfig::new("ops", "http://127.0.0.1:9/hook")
            .with_header("Authorization", SecretValue::new("Bearer s3cret"));
        let json = serde_json::to_string(&config).expect("serialize");
        assert!(!json.contains("s3cret"), "{json}");
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut config = WebhookConfig::new("ops", "http://127.0.0.1:9/hook");
        config.backoff_initial_ms = 100;
        config.backoff_max_ms = 350;
        assert_eq!(config.backoff(1), Duration::from_millis(100));
        assert_eq!(config.backoff(2), Duration::from_millis(200));
        assert_eq!(config.backoff(3), Duration::from_millis(350));
        assert_eq!(config.backoff(40), Duration::from_millis(350));
    }

    #[test]
    fn url_without_scheme_is_rejected_without_echo() {
        let config = WebhookConfig::new("ops", "hooks.example/T0KEN");
        let error = config.resolve_url().expect_err("no scheme");
        let message = error.to_string();
        assert!(message.contains("http://"), "{message}");
        assert!(!message.contains("T0KEN"), "{message}");
    }

    #[test]
    fn duplicate_webhook_names_are_rejected() {
        let hook = WebhookConfig::new("ops", "http://127.0.0.1:9/hook");
        let config = AlertSinkConfig::new(vec![hook.clone(), hook], "dl.jsonl");
        let error = config.check().expect_err("duplicate");
        assert!(error.to_string().contains("\"ops\""), "{error}");
    }
}
