//! Source-level validation: [`ValidatingCollector`] wraps a collector, checks each batch it
//! produces for gaps and impossible values, and turns each finding into a re-collection
//! request for the finding's time range.
//!
//! # Checks
//!
//! [`SourceChecker`] groups rows by series ([`SourceValidationConfig::key_columns`]) and
//! reads each row's time from [`SourceValidationConfig::time_column`].
//!
//! - A **gap** is a step between two rows of a series longer than
//!   [`expected_interval_ms`](SourceValidationConfig::expected_interval_ms) plus the
//!   tolerance. The last time of each series is kept across batches, so a gap at a batch
//!   boundary is found too. The kept state is bounded by
//!   [`max_series`](SourceValidationConfig::max_series): beyond it the least recently seen
//!   series is dropped, and a gap across its drop goes unseen. Rows at or before a series'
//!   last time (duplicates, late rows, re-collected rows) leave the state unchanged. The
//!   range to collect again starts one step of the time column after the last row and ends
//!   at the next row, exclusive.
//! - An **impossible value** lies outside the column's valid range
//!   ([`SourceValidationConfig::ranges`], or a standard model's attribute ranges through
//!   [`SourceValidationConfig::standard_model`]), or is NaN or infinite. The impossible
//!   values of one series and column in a batch become one issue from the first to the
//!   last of their times.
//!
//! A trailing gap (a series that stopped reporting) is not found, because the check reads
//! only rows that arrive.
//!
//! # Requests and lineage
//!
//! Each issue is sent to the [`RecollectionTarget`]: a re-query of `[from, to)` through an
//! HTTP poll collector's [`PollControl`](crate::http::PollControl), or a line of a JSON
//! Lines report with the range, key, file and reason for an operator. Each request is
//! logged, audited and recorded as a `recollection_requested` lineage event with its issue,
//! target and status (`queued` or `reported`). The HTTP collector records the re-query's
//! outcome as a `recollection` event. An issue whose exact range was requested before
//! (such as an impossible value that the re-query returned again) is not requested again
//! but recorded as a `recollection_unresolved` event. A batch with rows lacking a time, or
//! with series dropped from the state, gets a `source_validation` event with those counts.
//!
//! The validator never drops or changes a row: every batch leaves as it came, impossible
//! values included, for the clean stage to handle.
//!
//! NOTE: the kept series and remembered requests are not part of the collector's
//! position, so after a restart a gap across the restart goes unseen.
//!
//! ```no_run
//! use governance_collect::http::{HttpPollCollector, HttpPollConfig};
//! use governance_collect::recollect::{SourceValidationConfig, ValidatingCollector};
//! use governance_core::Chain;
//!
//! let http = HttpPollCollector::new(HttpPollConfig {
//!     url: "http://127.0.0.1:8080/readings".into(),
//!     ..HttpPollConfig::default()
//! })?;
//! let validation = SourceValidationConfig {
//!     time_column: "observedAt".into(),
//!     key_columns: vec!["sensor".into()],
//!     expected_interval_ms: Some(60_000),
//!     ..SourceValidationConfig::default()
//! };
//! let collector = ValidatingCollector::http(http, validation)?;
//! let mut chain = Chain::builder().collect(collector).build()?;
//! chain.run_blocking()?;
//! # Ok::<(), governance_core::Error>(())
//! ```

mod check;
mod config;
mod target;

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;

use governance_core::audit::AuditAction;
use governance_core::{
    Adjustment, Collector, Error, Feedback, GovernedBatch, Result, SourcePosition, Stage,
    StageContext,
};
use serde_json::{Value, json};

pub use self::check::{BatchCheck, SourceChecker, SourceIssue, SourceIssueKind};
pub use self::config::{ColumnRange, SourceValidationConfig};
pub use self::target::{RecollectionTarget, ReportLine};
use crate::folder::FolderCollector;
use crate::http::HttpPollCollector;

/// A collector whose batches are checked at the source (see the [module docs](self)).
#[derive(Debug)]
pub struct ValidatingCollector<C> {
    inner: C,
    checker: SourceChecker,
    target: RecollectionTarget,
    /// Ranges requested so far, oldest first, bounded by `max_remembered_requests`.
    requested: VecDeque<String>,
    requested_set: HashSet<String>,
    requests: u64,
    unresolved: u64,
}

impl ValidatingCollector<HttpPollCollector> {
    /// Wraps an HTTP poll collector; requests become re-queries through its control.
    pub fn http(collector: HttpPollCollector, config: SourceValidationConfig) -> Result<Self> {
        let control = collector.control();
        ValidatingCollector::new(collector, config, RecollectionTarget::Http(control))
    }
}

impl ValidatingCollector<FolderCollector> {
    /// Wraps a folder collector; requests become lines of the JSON Lines file `report`.
    pub fn folder(
        collector: FolderCollector,
        config: SourceValidationConfig,
        report: impl Into<PathBuf>,
    ) -> Result<Self> {
        ValidatingCollector::new(collector, config, RecollectionTarget::Report(report.into()))
    }
}

impl<C: Collector> ValidatingCollector<C> {
    /// Wraps any collector; fails when `config` is invalid.
    pub fn new(
        inner: C,
        config: SourceValidationConfig,
        target: RecollectionTarget,
    ) -> Result<Self> {
        let checker = SourceChecker::new(config).map_err(|error| match error {
            Error::Config { message, .. } => {
                Error::config(inner.name(), format!("source validation: {message}"))
            }
            other => other,
        })?;
        Ok(ValidatingCollector {
            inner,
            checker,
            target,
            requested: VecDeque::new(),
            requested_set: HashSet::new(),
            requests: 0,
            unresolved: 0,
        })
    }

    /// Returns the wrapped collector.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Returns the wrapped collector, consuming the wrapper.
    pub fn into_inner(self) -> C {
        self.inner
    }

    /// Returns the re-collection requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Returns the issues found again after their range was requested.
    pub fn unresolved(&self) -> u64 {
        self.unresolved
    }

    /// Checks a batch and sends a request for each new issue.
    fn validate(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let name = self.inner.name().to_string();
        let found = self
            .checker
            .check(batch.data())
            .map_err(|error| match error {
                Error::Config { message, .. } => {
                    Error::config(&name, format!("source validation: {message}"))
                }
                other => other,
            })?;
        let source = batch.provenance.source.as_str();
        if found.rows_without_time > 0
            || found.series_dropped > 0
            || found.impossible_without_time > 0
        {
            tracing::warn!(stage = %name, source, rows_without_time = found.rows_without_time, impossible_without_time = found.impossible_without_time, series_dropped = found.series_dropped, "source validation left rows unchecked or dropped series");
            ctx.record_event(
                "source_validation",
                json!({
                    "source": source,
                    "rows_without_time": found.rows_without_time,
                    "impossible_without_time": found.impossible_without_time,
                    "series_dropped": found.series_dropped,
                }),
            );
        }
        for issue in &found.issues {
            let issue_json = serde_json::to_value(issue).map_err(|error| {
                Error::Internal(format!("cannot serialise a source issue: {error}"))
            })?;
            if !self.remember(issue) {
                self.unresolved += 1;
                tracing::warn!(stage = %name, source, from = %issue.from, to = %issue.to, reason = %issue.reason, "issue found again after its range was requested");
                ctx.record_event(
                    "recollection_unresolved",
                    json!({"source": source, "target": self.target.kind(), "issue": issue_json}),
                );
                continue;
            }
            let status = self.target.send(&name, source, issue)?;
            self.requests += 1;
            tracing::warn!(stage = %name, source, recollection_target = self.target.kind(), from = %issue.from, to = %issue.to, reason = %issue.reason, "re-collection requested");
            let parameters = json!({
                "source": source,
                "target": self.target.kind(),
                "issue": issue_json,
                "outcome": status,
            });
            ctx.audit(
                AuditAction::Read,
                source,
                &format!("re-collection requested: {parameters}"),
            )?;
            ctx.record_event("recollection_requested", parameters);
        }
        Ok(())
    }

    /// Stores the issue's range and returns false when that range was already requested.
    fn remember(&mut self, issue: &SourceIssue) -> bool {
        let id = format!(
            "{:?}|{:?}|{:?}|{}|{}",
            issue.kind, issue.key, issue.column, issue.from, issue.to
        );
        if self.requested_set.contains(&id) {
            return false;
        }
        self.requested_set.insert(id.clone());
        self.requested.push_back(id);
        while self.requested.len() > self.checker.config().max_remembered_requests {
            if let Some(oldest) = self.requested.pop_front() {
                self.requested_set.remove(&oldest);
            }
        }
        true
    }
}

impl<C: Collector> Stage for ValidatingCollector<C> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn version(&self) -> String {
        self.inner.version()
    }

    fn params(&self) -> Value {
        json!({
            "collector": self.inner.params(),
            "source_validation": self.checker.config(),
            "recollection_target": self.target.kind(),
        })
    }

    fn describe(&self) -> String {
        format!(
            "{}, checked for gaps and impossible values (requests: {})",
            self.inner.describe(),
            self.target.kind()
        )
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        self.inner.learn(feedback)
    }
}

impl<C: Collector> Collector for ValidatingCollector<C> {
    fn start(&mut self, ctx: &mut StageContext) -> Result<()> {
        self.checker.reset();
        self.inner.start(ctx)
    }

    fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
        self.checker.reset();
        self.inner.resume(position)
    }

    fn committed(&mut self, position: &SourcePosition) -> Result<()> {
        self.inner.committed(position)
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let batch = self.inner.next_batch(ctx)?;
        if let Some(batch) = &batch {
            self.validate(batch, ctx)?;
        }
        Ok(batch)
    }
}
