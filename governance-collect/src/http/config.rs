//! [`HttpPollConfig`]: the URL, payload format, cursor, timing, retries and batch limits of
//! an [`HttpPollCollector`](super::HttpPollCollector).

use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::csv::ColumnSpec;
use crate::limits::BatchLimits;

/// The format of the items in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpPayload {
    /// Plain JSON objects, one row each, under [`HttpPollConfig::columns`] or a schema
    /// inferred from the first object.
    #[default]
    Json,
    /// NGSI-LD entities in normalised form, one row each.
    NgsiLd,
    /// SensorThings Observations, one row each.
    SensorThings,
}

impl HttpPayload {
    /// Returns the JSON Pointer of an item's observation time used when
    /// [`HttpPollConfig::time_pointer`] is absent. `None` for NGSI-LD, whose items carry an
    /// `observedAt` per attribute: the latest of them is the item's time.
    pub fn default_time_pointer(self) -> Option<&'static str> {
        match self {
            HttpPayload::Json => Some("/observedAt"),
            HttpPayload::NgsiLd => None,
            HttpPayload::SensorThings => Some("/phenomenonTime"),
        }
    }
}

/// Retries of one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per request, the first included; at least 1.
    pub max_attempts: u32,
    /// Delay before the second attempt, in milliseconds; each later delay doubles.
    pub initial_backoff_ms: u64,
    /// Upper bound of a delay between attempts, in milliseconds, also of a delay that a
    /// `Retry-After` header requests.
    pub max_backoff_ms: u64,
    /// Fraction of each delay drawn at random, from 0 (fixed delays) to 1 (a delay anywhere
    /// between 0 and the computed one), so that many collectors do not retry in step.
    pub jitter: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            jitter: 0.5,
        }
    }
}

/// Configuration of an [`HttpPollCollector`](super::HttpPollCollector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpPollConfig {
    /// Stage name, unique within a chain.
    pub name: String,
    /// The URL polled with HTTP GET, `http` or `https`. Credentials in it are never logged
    /// or put in an error message.
    pub url: String,
    /// Format of the items.
    pub payload: HttpPayload,
    /// Declared columns for [`HttpPayload::Json`]; inferred from the first item when absent.
    pub columns: Option<Vec<ColumnSpec>>,
    /// JSON Pointer of the array of items in a response body. When absent, a body that is
    /// an array is the list of items, an object with a `value` array (a SensorThings
    /// collection) has its items there, and any other object is one item.
    pub items_pointer: Option<String>,
    /// JSON Pointer of an item's observation time, an RFC 3339 date-time; see
    /// [`HttpPayload::default_time_pointer`] for the default. A SensorThings interval
    /// (`start/end`) counts by its end.
    pub time_pointer: Option<String>,
    /// JSON Pointer of the link to the next page in a response body, followed at once; the
    /// default is SensorThings' `/@iot.nextLink`.
    pub next_link_pointer: Option<String>,
    /// Query parameter that carries the cursor: the server returns items observed after it.
    pub since_param: String,
    /// Query parameter of the end of a re-collected time range.
    pub until_param: String,
    /// Interval between two polls, in milliseconds.
    pub interval_ms: u64,
    /// Interval between two polls while the alert flag of the collector's
    /// [`PollControl`](super::PollControl) is set, in milliseconds.
    pub alert_interval_ms: u64,
    /// Time limit of one request, from connecting to the end of the body, in milliseconds.
    pub timeout_ms: u64,
    /// Retries of a request that failed to connect, timed out or got HTTP 429 or 5xx.
    pub retry: RetryConfig,
    /// Limits of one output batch.
    pub limits: BatchLimits,
    /// The stream ends after this many polls (pages of a next link included); it never
    /// ends when absent.
    pub max_polls: Option<u64>,
}

impl Default for HttpPollConfig {
    fn default() -> Self {
        HttpPollConfig {
            name: "http_poll".into(),
            url: String::new(),
            payload: HttpPayload::Json,
            columns: None,
            items_pointer: None,
            time_pointer: None,
            next_link_pointer: Some("/@iot.nextLink".into()),
            since_param: "since".into(),
            until_param: "until".into(),
            interval_ms: 60_000,
            alert_interval_ms: 10_000,
            timeout_ms: 10_000,
            retry: RetryConfig::default(),
            limits: BatchLimits::default(),
            max_polls: None,
        }
    }
}

impl HttpPollConfig {
    /// Checks the values that would make polling fail or spin.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::config(&self.name, message));
        let scheme_ok = self.url.starts_with("http://") || self.url.starts_with("https://");
        if !scheme_ok {
            return invalid(format!(
                "url {:?} must start with http:// or https://",
                super::fetch::redact_url(&self.url)
            ));
        }
        if self.interval_ms == 0 || self.alert_interval_ms == 0 || self.timeout_ms == 0 {
            return invalid(format!(
                "interval_ms ({}), alert_interval_ms ({}) and timeout_ms ({}) must be above 0",
                self.interval_ms, self.alert_interval_ms, self.timeout_ms
            ));
        }
        if self.retry.max_attempts == 0 {
            return invalid("retry.max_attempts must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) {
            return invalid(format!(
                "retry.jitter ({}) must be between 0 and 1",
                self.retry.jitter
            ));
        }
        for (field, pointer) in [
            ("items_pointer", &self.items_pointer),
            ("time_pointer", &self.time_pointer),
            ("next_link_pointer", &self.next_link_pointer),
        ] {
            if let Some(pointer) = pointer
                && !pointer.is_empty()
                && !pointer.starts_with('/')
            {
                return invalid(format!(
                    "{field} {pointer:?} is not a JSON Pointer: it must be empty or start with '/'"
                ));
            }
        }
        self.limits.validate(&self.name)
    }
}
