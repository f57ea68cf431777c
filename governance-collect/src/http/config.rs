//! [`HttpPollConfig`]: the URL, payload format, cursor, filter, timing, retries, TLS roots
//! and batch limits of an [`HttpPollCollector`](super::HttpPollCollector).

use std::path::PathBuf;

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

    /// Returns the [`TimeQuery`] used when [`HttpPollConfig::time_query`] is absent: an
    /// OData `$filter` on `phenomenonTime` for SensorThings, query parameters otherwise.
    pub fn default_time_query(self) -> TimeQuery {
        match self {
            HttpPayload::Json | HttpPayload::NgsiLd => TimeQuery::Params,
            HttpPayload::SensorThings => TimeQuery::ODataFilter {
                property: "phenomenonTime".into(),
            },
        }
    }
}

/// The query form of the cursor and of the end of a re-collected time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeQuery {
    /// `since_param=<cursor>`; a re-collection sends `since_param=<from>&until_param=<to>`.
    Params,
    /// An OData `$filter` condition on `property`, the form SensorThings servers take:
    /// `property ge <cursor>`, and `property ge <from> and property lt <to>` for a
    /// re-collection, with `$orderby=property asc` so that the server returns items in time
    /// order. [`HttpPollConfig::filter`] is combined with the condition by `and`.
    ODataFilter {
        /// The time property or path, such as `phenomenonTime` or `resultTime`.
        property: String,
    },
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
    /// Query form of the cursor; see [`HttpPayload::default_time_query`] for the default.
    pub time_query: Option<TimeQuery>,
    /// An OData `$filter` expression, such as `Datastream/id eq 7`, sent with every
    /// request to [`url`](Self::url) and combined with the cursor's condition as
    /// `(<filter>) and phenomenonTime ge <cursor>`. The collector does not parse it: it
    /// passes it through percent-encoded, and the server rejects one that is invalid. It
    /// needs the [`TimeQuery::ODataFilter`] time query, the default for SensorThings. A next
    /// link is followed as the server wrote it, because it already carries the filter.
    pub filter: Option<String>,
    /// Query parameter that carries the cursor under [`TimeQuery::Params`]: the server
    /// returns items observed after it.
    pub since_param: String,
    /// Query parameter of the end of a re-collected time range under [`TimeQuery::Params`].
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
    /// A PEM file of extra root certificates that an `https` server's certificate may chain
    /// to, such as a city's private certificate authority or a self-signed certificate.
    /// They are trusted in addition to the built-in web PKI roots, for this collector only.
    /// Certificate verification stays on.
    pub extra_root_certificates: Option<PathBuf>,
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
            time_query: None,
            filter: None,
            since_param: "since".into(),
            until_param: "until".into(),
            interval_ms: 60_000,
            alert_interval_ms: 10_000,
            timeout_ms: 10_000,
            retry: RetryConfig::default(),
            extra_root_certificates: None,
            limits: BatchLimits::default(),
            max_polls: None,
        }
    }
}

impl HttpPollConfig {
    /// Returns the time query in force: [`Self::time_query`], else the payload's default.
    pub fn effective_time_query(&self) -> TimeQuery {
        self.time_query
            .clone()
            .unwrap_or_else(|| self.payload.default_time_query())
    }

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
        self.validate_time_query()?;
        self.limits.validate(&self.name)
    }

    /// Checks the time query, the filter and the URL's own query against each other.
    fn validate_time_query(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::config(&self.name, message));
        let query = self.effective_time_query();
        if let Some(filter) = &self.filter {
            if filter.trim().is_empty() {
                return invalid(
                    "filter is empty: write an OData expression, such as \
                     \"Datastream/id eq 7\", or remove it"
                        .into(),
                );
            }
            if query == TimeQuery::Params {
                return invalid(format!(
                    "filter {filter:?} is an OData $filter, but the time query is `params`, \
                     which sends {}=<cursor>: set time_query to odata_filter or remove filter",
                    self.since_param
                ));
            }
        }
        let TimeQuery::ODataFilter { property } = query else {
            return Ok(());
        };
        if !is_odata_path(&property) {
            return invalid(format!(
                "time_query property {property:?} is not an OData property path: write names \
                 of letters, digits and underscores joined by '/', such as \"phenomenonTime\""
            ));
        }
        let own_query = self.url.split_once('?').map_or("", |(_, query)| query);
        for option in ["$filter", "$orderby"] {
            let present = own_query.split('&').any(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                name == option || name.eq_ignore_ascii_case(&option.replace('$', "%24"))
            });
            if present {
                return invalid(format!(
                    "url {} already has a {option} query option, which the collector sets \
                     itself: move a filter expression to the filter setting and remove \
                     {option} from the url",
                    super::fetch::redact_url(&self.url)
                ));
            }
        }
        Ok(())
    }
}

/// Returns whether `path` is an OData property path: identifiers joined by `/`.
fn is_odata_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            let mut chars = segment.chars();
            chars
                .next()
                .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
                && chars.all(|next| next.is_ascii_alphanumeric() || next == '_')
        })
}
