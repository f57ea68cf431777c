//! [`HttpPollCollector`]: polls an HTTP endpoint on an interval and turns the items of each
//! response (plain JSON objects, NGSI-LD entities or SensorThings Observations) into rows.
//!
//! # Cursor and resume
//!
//! Every item has an observation time ([`HttpPollConfig::time_pointer`]). The collector
//! requests the items observed after its cursor, the latest time emitted so far, by adding
//! `since_param=<cursor>` to the URL, or for SensorThings an OData `$filter` such as
//! `phenomenonTime ge <cursor>` with `$orderby=phenomenonTime asc` ([`TimeQuery`]). A
//! caller's own OData filter ([`HttpPollConfig::filter`]) is joined to that condition by
//! `and`. Query values are percent-encoded, spaces as `%20`. When a response names a next page
//! ([`HttpPollConfig::next_link_pointer`]), that page is fetched at once and in place of
//! the URL. The [`HttpPosition`] carried by every batch contains the cursor, the keys of the
//! items emitted at exactly the cursor time, the next-page link and the next row id. On
//! resume, items older than the cursor, or at the cursor with a known key, are skipped as
//! already committed, so a server that treats `since` as inclusive causes no duplicates.
//!
//! An item's key is a hash of its JSON value with object keys sorted, so the same item with
//! its keys in another order is still recognised. Two items with equal values and times
//! count as one, also within one response. Items that share the cursor's time are neither
//! lost nor repeated at a poll boundary, at a batch boundary inside a page or after a
//! restart, provided the server treats `since` as inclusive (time >= since). NOTE: a server
//! that treats `since` as exclusive never returns an item that arrives after a poll with the
//! same time as the cursor, so that item is lost. The collector cannot detect this.
//!
//! Items of a response are emitted in time order. NOTE: across responses the cursor is
//! correct only when the server returns items in ascending time order, page after page;
//! an item older than the cursor that arrives later is skipped as already committed.
//!
//! # Failures
//!
//! Each request has a time limit ([`HttpPollConfig::timeout_ms`]). Connection errors,
//! timeouts, HTTP 429 and 5xx are retried with exponential backoff and jitter
//! ([`RetryConfig`]). A 429 or 503 reply's `Retry-After` header, in seconds or as an HTTP
//! date, sets the delay in place of the backoff, capped by
//! [`RetryConfig::max_backoff_ms`]. After the last attempt, or on another 4xx, the
//! collector fails with an error that names the URL without credentials or query values,
//! the status and the attempts. An `https` server whose certificate does not verify against
//! the web PKI roots and [`HttpPollConfig::extra_root_certificates`] fails at once with an
//! error that names that setting. A body that is not JSON, an item without a time, an item the format parser
//! rejects and an item above [`BatchLimits::max_bytes`] are quarantined with the reason,
//! and polling goes on.
//!
//! # Control
//!
//! [`HttpPollCollector::control`] returns a [`PollControl`]. Its alert flag, or an alert
//! hold until it runs out, switches the interval to [`HttpPollConfig::alert_interval_ms`],
//! and each switch is logged and recorded as a `poll_interval_changed` lineage event. A
//! re-collection request queries `[from, to)` with `since_param` and `until_param` before
//! the next poll; its outcome is logged, audited and recorded as a `recollection` lineage
//! event.
//!
//! Two components drive the control from inside a chain.
//! [`ValidatingCollector::http`](crate::recollect::ValidatingCollector::http) wraps this
//! collector and requests a re-collection for each gap or impossible value it finds in the
//! batches. [`PollAlertAnalyzer`] wraps an analyzer and keeps the alert active for a quiet period
//! after each alert, anomaly or early-warning finding, so that the rate falls back once the
//! findings stop.
//!
//! NOTE: re-collected rows are not checked against rows collected before, so a range that
//! was only partly missing yields duplicates for a later deduplication stage to drop. A
//! re-collection request is not part of the position: after a crash, a request whose
//! batches were not committed must be made again.

mod alert;
mod config;
mod control;
mod fetch;
mod items;

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use governance_core::audit::AuditAction;
use governance_core::{
    Collector, Error, GovernedBatch, Provenance, QuarantinedRow, Result, RowIdAllocator,
    SourcePosition, Stage, StageContext,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::alert::{PollAlertAnalyzer, PollAlertConfig};
pub use self::config::{HttpPayload, HttpPollConfig, RetryConfig, TimeQuery};
pub use self::control::{PollControl, RecollectionOutcome, RecollectionRequest};
pub use self::fetch::{FetchError, redact_url};
use self::fetch::{Fetcher, read_root_certificates};
use self::items::{Item, item_key, item_time, read_page};
use crate::json_rows::JsonRows;
use crate::limits::BatchLimits;
use crate::mqtt::MqttPayload;
use crate::mqtt::decode::decode;

/// The `kind` of the HTTP poll collector's [`SourcePosition`].
pub const HTTP_POSITION_KIND: &str = "http_poll";

/// Maximum sleep between two checks of the alert flag and the re-collection queue.
const CONTROL_CHECK: Duration = Duration::from_millis(20);

/// Pages a re-collection follows at most, against a server whose next links loop.
const MAX_RECOLLECTION_PAGES: usize = 10_000;

/// The state an HTTP poll collector resumes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpPosition {
    /// Observation time of the latest item emitted.
    pub cursor: Option<DateTime<Utc>>,
    /// Keys of the items emitted whose time equals the cursor.
    pub keys_at_cursor: Vec<u64>,
    /// The page to fetch next in place of the URL.
    pub next_link: Option<String>,
    /// Row id the next row gets.
    pub next_row_id: u64,
}

/// Polls an HTTP endpoint (see the [module docs](self)).
pub struct HttpPollCollector {
    config: HttpPollConfig,
    source: String,
    /// Certificates of [`HttpPollConfig::extra_root_certificates`], read at creation.
    extra_roots: Vec<reqwest::Certificate>,
    fetcher: Option<Fetcher>,
    json: JsonRows,
    position: HttpPosition,
    pending: VecDeque<GovernedBatch>,
    control: PollControl,
    alert_active: bool,
    last_poll: Option<Instant>,
    polls: u64,
    skipped: u64,
    recollections: Vec<RecollectionOutcome>,
}

impl std::fmt::Debug for HttpPollCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPollCollector")
            .field("source", &self.source)
            .field("position", &self.position)
            .field("polls", &self.polls)
            .finish_non_exhaustive()
    }
}

/// Source of the items being converted.
enum Origin {
    /// A poll of `link` (the configured URL when `None`).
    Poll {
        link: Option<String>,
        next_link: Option<String>,
    },
    Recollection,
}

/// Counts of one response.
#[derive(Debug, Default, Clone, Copy)]
struct PageCounts {
    items: u64,
    rows: u64,
    quarantined: u64,
}

impl HttpPollCollector {
    /// Creates a collector after checking `config`; it sends its first request at the
    /// first batch.
    pub fn new(config: HttpPollConfig) -> Result<Self> {
        config.validate()?;
        let json = JsonRows::new(config.columns.clone())?;
        let extra_roots = match &config.extra_root_certificates {
            Some(path) => read_root_certificates(path)
                .map_err(|message| Error::config(&config.name, message))?,
            None => Vec::new(),
        };
        Ok(HttpPollCollector {
            extra_roots,
            source: redact_url(&config.url),
            config,
            fetcher: None,
            json,
            position: HttpPosition::default(),
            pending: VecDeque::new(),
            control: PollControl::default(),
            alert_active: false,
            last_poll: None,
            polls: 0,
            skipped: 0,
            recollections: Vec::new(),
        })
    }

    /// Returns a handle to set the alert flag and to request re-collections.
    pub fn control(&self) -> PollControl {
        self.control.clone()
    }

    /// Returns the position after the last emitted batch.
    pub fn position(&self) -> &HttpPosition {
        &self.position
    }

    /// Returns the polls sent so far, pages of next links included.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Returns the items skipped because an earlier batch had emitted them.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Returns the outcomes of the re-collections run so far.
    pub fn recollections(&self) -> &[RecollectionOutcome] {
        &self.recollections
    }

    /// Returns the poll interval in force, in milliseconds.
    pub fn interval_ms(&self) -> u64 {
        if self.alert_active {
            self.config.alert_interval_ms
        } else {
            self.config.interval_ms
        }
    }

    fn fetcher(&mut self) -> Result<&mut Fetcher> {
        if self.fetcher.is_none() {
            let timeout = Duration::from_millis(self.config.timeout_ms);
            let fetcher = Fetcher::new(timeout, self.config.retry.clone(), &self.extra_roots)
                .map_err(|message| Error::config(&self.config.name, message))?;
            self.fetcher = Some(fetcher);
        }
        self.fetcher
            .as_mut()
            .ok_or_else(|| Error::Internal("the HTTP fetcher was not created".into()))
    }

    /// Applies a change of the alert flag to the interval, and records it.
    fn follow_alert(&mut self, ctx: &mut StageContext) {
        let alert = self.control.alert_active();
        if alert == self.alert_active {
            return;
        }
        let from_ms = self.interval_ms();
        self.alert_active = alert;
        let to_ms = self.interval_ms();
        tracing::info!(stage = %self.config.name, url = %self.source, alert, from_ms, to_ms, "poll interval changed");
        ctx.record_event(
            "poll_interval_changed",
            serde_json::json!({"alert_active": alert, "from_ms": from_ms, "to_ms": to_ms}),
        );
    }

    /// Sleeps until the next poll is due. Returns early with `false` when a re-collection
    /// was requested, and `true` when the poll is due.
    fn wait_for_poll(&mut self, ctx: &mut StageContext) -> Result<bool> {
        loop {
            self.follow_alert(ctx);
            let due = match (&self.position.next_link, self.last_poll) {
                (Some(_), _) | (None, None) => return Ok(true),
                (None, Some(last)) => last + Duration::from_millis(self.interval_ms()),
            };
            let now = Instant::now();
            if now >= due {
                return Ok(true);
            }
            if self.control.has_recollection()? {
                return Ok(false);
            }
            std::thread::sleep((due - now).min(CONTROL_CHECK));
        }
    }

    /// Sends one poll and queues the batches of its response.
    fn poll(&mut self, ctx: &mut StageContext) -> Result<()> {
        let link = self.position.next_link.clone();
        let (url, query) = match &link {
            Some(link) => (link.clone(), Vec::new()),
            None => (
                self.config.url.clone(),
                self.time_query(self.position.cursor, None),
            ),
        };
        self.polls += 1;
        self.last_poll = Some(Instant::now());
        let name = self.config.name.clone();
        let body = self
            .fetcher()?
            .get(&url, &query)
            .map_err(|error| Error::stage(name, error))?;
        let page = read_page(&body, &self.config);
        let next_link = page.next_link.clone();
        let counts = self.take_page(page, &body, Origin::Poll { link, next_link }, ctx)?;
        ctx.audit(
            AuditAction::Read,
            &redact_url(&url),
            &format!(
                "poll: {} items, {} rows, {} quarantined, {} skipped as seen",
                counts.items, counts.rows, counts.quarantined, self.skipped
            ),
        )?;
        Ok(())
    }

    /// Queries a time range again, following next links, and records the outcome.
    fn recollect(&mut self, request: RecollectionRequest, ctx: &mut StageContext) -> Result<()> {
        let mut outcome = RecollectionOutcome {
            request: request.clone(),
            items: 0,
            rows: 0,
            quarantined: 0,
            error: None,
        };
        let mut url = self.config.url.clone();
        let mut query = self.time_query(Some(request.from), Some(request.to));
        for _ in 0..MAX_RECOLLECTION_PAGES {
            let body = match self.fetcher()?.get(&url, &query) {
                Ok(body) => body,
                Err(error) => {
                    outcome.error = Some(error.to_string());
                    break;
                }
            };
            let page = read_page(&body, &self.config);
            let next = page.next_link.clone();
            let counts = self.take_page(page, &body, Origin::Recollection, ctx)?;
            outcome.items += counts.items;
            outcome.rows += counts.rows;
            outcome.quarantined += counts.quarantined;
            match next {
                Some(next) => {
                    url = next;
                    query.clear();
                }
                None => break,
            }
        }
        match &outcome.error {
            Some(error) => {
                tracing::error!(stage = %self.config.name, url = %self.source, from = %request.from, to = %request.to, error = %error, "re-collection failed");
            }
            None => {
                tracing::info!(stage = %self.config.name, url = %self.source, from = %request.from, to = %request.to, rows = outcome.rows, quarantined = outcome.quarantined, "re-collection done");
            }
        }
        let parameters = serde_json::to_value(&outcome).map_err(|error| {
            Error::Internal(format!("cannot serialise a re-collection outcome: {error}"))
        })?;
        ctx.audit(
            AuditAction::Read,
            &self.source,
            &format!("re-collection: {parameters}"),
        )?;
        ctx.record_event("recollection", parameters);
        self.recollections.push(outcome);
        Ok(())
    }

    /// Turns a response into queued batches; quarantines what cannot become rows.
    fn take_page(
        &mut self,
        page: items::Page,
        body: &[u8],
        origin: Origin,
        ctx: &mut StageContext,
    ) -> Result<PageCounts> {
        let mut counts = PageCounts::default();
        if let Some(reason) = page.body_error {
            ctx.record_read(1);
            self.quarantine(ctx, reason, String::from_utf8_lossy(body).into_owned());
            counts.quarantined += 1;
        }
        let recollection = matches!(origin, Origin::Recollection);
        let mut timed: Vec<(DateTime<Utc>, u64, Item)> = Vec::new();
        let mut in_page: HashSet<(DateTime<Utc>, u64)> = HashSet::new();
        for item in page.items {
            let time = match item_time(
                &item.value,
                self.config.payload,
                self.config.time_pointer.as_deref(),
            ) {
                Ok(time) => time,
                Err(reason) => {
                    ctx.record_read(1);
                    counts.items += 1;
                    counts.quarantined += 1;
                    self.quarantine(ctx, reason, item.text);
                    continue;
                }
            };
            let key = item_key(&item.value);
            // An item repeated within one response is emitted once.
            if !recollection && (self.seen(time, key) || !in_page.insert((time, key))) {
                self.skipped += 1;
                continue;
            }
            ctx.record_read(1);
            counts.items += 1;
            timed.push((time, key, item));
        }
        // A stable sort keeps the server's order among items of one time, and the cursor's
        // keys make any order safe on the next poll.
        timed.sort_by_key(|(time, _, _)| *time);

        let limits: BatchLimits = self.config.limits;
        let sizes: Vec<usize> = timed.iter().map(|(_, _, item)| item.text.len()).collect();
        let split = limits.split(&sizes);
        for &(index, size) in &split.oversized {
            counts.quarantined += 1;
            self.quarantine(
                ctx,
                limits.oversized_reason(size),
                timed[index].2.text.clone(),
            );
        }
        let chunk_count = split.batches.len();
        // The cursor passes every item up to a batch's last one, oversized items included,
        // so that a quarantined item is not fetched again on the next poll.
        let mut advanced = 0;
        for (number, chunk) in split.batches.iter().enumerate() {
            if let Origin::Poll { link, next_link } = &origin {
                let end = chunk.last().map_or(advanced, |last| last + 1);
                for (time, key, _) in &timed[advanced..end] {
                    self.advance_cursor(*time, *key);
                }
                advanced = end;
                // Until the last batch of a page commits, a resume must fetch this page again.
                let last = number + 1 == chunk_count;
                self.position.next_link = if last {
                    next_link.clone()
                } else {
                    link.clone()
                };
            }
            let items: Vec<&Item> = chunk.iter().map(|&index| &timed[index].2).collect();
            let (rows, quarantined) = self.convert(&items, ctx)?;
            counts.rows += rows;
            counts.quarantined += quarantined;
        }
        if let Origin::Poll { next_link, .. } = origin {
            for (time, key, _) in &timed[advanced..] {
                self.advance_cursor(*time, *key);
            }
            if chunk_count == 0 {
                self.position.next_link = next_link;
            }
        }
        Ok(counts)
    }

    /// Builds the query of a request to the configured URL: items from `from` (inclusive)
    /// and, for a re-collection, before `to`.
    fn time_query(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Vec<(String, String)> {
        match self.config.effective_time_query() {
            TimeQuery::Params => {
                let mut query = Vec::new();
                if let Some(from) = from {
                    query.push((self.config.since_param.clone(), format_time(from)));
                }
                if let Some(to) = to {
                    query.push((self.config.until_param.clone(), format_time(to)));
                }
                query
            }
            TimeQuery::ODataFilter { property } => {
                let mut conditions = Vec::new();
                if let Some(from) = from {
                    conditions.push(format!("{property} ge {}", format_time(from)));
                }
                if let Some(to) = to {
                    conditions.push(format!("{property} lt {}", format_time(to)));
                }
                let filter = match (&self.config.filter, conditions.is_empty()) {
                    (None, true) => None,
                    (None, false) => Some(conditions.join(" and ")),
                    (Some(own), true) => Some(own.clone()),
                    // The brackets keep an `or` in the caller's filter from binding to
                    // the time condition.
                    (Some(own), false) => Some(format!("({own}) and {}", conditions.join(" and "))),
                };
                let mut query = Vec::new();
                if let Some(filter) = filter {
                    query.push(("$filter".to_string(), filter));
                }
                query.push(("$orderby".to_string(), format!("{property} asc")));
                query
            }
        }
    }

    /// Returns whether an item of `time` and `key` was emitted before.
    fn seen(&self, time: DateTime<Utc>, key: u64) -> bool {
        match self.position.cursor {
            Some(cursor) if time < cursor => true,
            Some(cursor) if time == cursor => self.position.keys_at_cursor.contains(&key),
            _ => false,
        }
    }

    fn advance_cursor(&mut self, time: DateTime<Utc>, key: u64) {
        match self.position.cursor {
            Some(cursor) if time < cursor => {}
            Some(cursor) if time == cursor => self.position.keys_at_cursor.push(key),
            _ => {
                self.position.cursor = Some(time);
                self.position.keys_at_cursor = vec![key];
            }
        }
    }

    /// Converts the items of one batch and queues it; returns the rows and the items
    /// quarantined.
    fn convert(&mut self, items: &[&Item], ctx: &mut StageContext) -> Result<(u64, u64)> {
        let parsed: Vec<std::result::Result<Value, String>> =
            items.iter().map(|item| Ok(item.value.clone())).collect();
        let decoded = decode(payload_format(self.config.payload), &mut self.json, &parsed)?;
        let quarantined = decoded.rejected.len() as u64;
        for (index, reason) in decoded.rejected {
            let raw = items
                .get(index)
                .map(|item| item.text.clone())
                .unwrap_or_default();
            self.quarantine(ctx, reason, raw);
        }
        let Some(data) = decoded.batch.filter(|batch| batch.num_rows() > 0) else {
            return Ok((0, quarantined));
        };
        let rows = data.num_rows();
        let ids = RowIdAllocator::starting_at(self.position.next_row_id).allocate(rows);
        self.position.next_row_id += rows as u64;
        let state = serde_json::to_value(&self.position).map_err(|error| {
            Error::Internal(format!("cannot serialise an HTTP position: {error}"))
        })?;
        let mut provenance = Provenance::new(self.source.clone());
        provenance.position = Some(SourcePosition::new(HTTP_POSITION_KIND, state));
        self.pending
            .push_back(GovernedBatch::try_new(data, ids, provenance)?);
        Ok((rows as u64, quarantined))
    }

    fn quarantine(&self, ctx: &mut StageContext, reason: String, raw: String) {
        ctx.quarantine(QuarantinedRow {
            stage: self.config.name.clone(),
            row_id: None,
            source: Some(self.source.clone()),
            line: None,
            reason,
            raw,
        });
    }
}

fn payload_format(payload: HttpPayload) -> MqttPayload {
    match payload {
        HttpPayload::Json => MqttPayload::Json,
        HttpPayload::NgsiLd => MqttPayload::NgsiLd,
        HttpPayload::SensorThings => MqttPayload::SensorThings,
    }
}

fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl Stage for HttpPollCollector {
    fn name(&self) -> &str {
        &self.config.name
    }

    /// Returns the config with the URL redacted, so that lineage never contains a credential.
    fn params(&self) -> Value {
        let mut config = self.config.clone();
        config.url.clone_from(&self.source);
        serde_json::to_value(&config).unwrap_or(Value::Null)
    }

    fn describe(&self) -> String {
        format!("polls {} every {} ms", self.source, self.config.interval_ms)
    }
}

impl Collector for HttpPollCollector {
    fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
        self.pending.clear();
        self.position = match position {
            None => HttpPosition::default(),
            Some(position) if position.kind == HTTP_POSITION_KIND => {
                serde_json::from_value(position.state.clone()).map_err(|error| {
                    Error::config(
                        &self.config.name,
                        format!(
                            "the checkpoint's HTTP position is invalid ({error}): {}",
                            position.state
                        ),
                    )
                })?
            }
            Some(position) => {
                return Err(Error::config(
                    &self.config.name,
                    format!(
                        "the checkpoint holds a {:?} position, expected {HTTP_POSITION_KIND:?}: \
                         the sink's checkpoint belongs to another collector",
                        position.kind
                    ),
                ));
            }
        };
        tracing::info!(stage = %self.config.name, cursor = ?self.position.cursor, "resuming HTTP polling");
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Ok(Some(batch));
            }
            if let Some(request) = self.control.next_recollection()? {
                self.recollect(request, ctx)?;
                continue;
            }
            if self.config.max_polls.is_some_and(|max| self.polls >= max) {
                return Ok(None);
            }
            if self.wait_for_poll(ctx)? {
                self.poll(ctx)?;
            }
        }
    }
}
