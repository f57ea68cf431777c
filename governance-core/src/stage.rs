//! The stage traits of the governance chain and the context a stage reports into.
//!
//! # Design
//!
//! Every stage shares the [`Stage`] supertrait: a name, a version, its parameters and an
//! optional [`Stage::learn`] hook, all defaulted but the name. Each kind of stage then adds one
//! small required method:
//!
//! ```text
//! Collector::next_batch -> Cleaner::clean -> Fuser::fuse -> Analyzer::analyze
//!                                   -> Guard::guard -> Applicator::apply
//! ```
//!
//! Stages take `&mut self` so they may keep state across the batches of a stream (a dedupe
//! window, a model warming up). A stage that holds rows back must release them from `flush`,
//! which the runner calls once after the last batch. Every row a stage receives must leave it
//! as output, as quarantine (through [`StageContext::quarantine`]) or as a merge (through
//! [`StageContext::record_merged`]). The runner checks this identity per stage and reports a
//! broken count as an internal error.

use serde::{Deserialize, Serialize};

use crate::audit::{AccessDetails, AuditAction, AuditHandle};
use crate::{
    Adjustment, Error, Feedback, GovernedBatch, LineageEvent, QuarantinedRow, Result, Sensitivity,
    Severity,
};

/// Behaviour shared by all stages. Only [`Stage::name`] is required.
pub trait Stage: Send {
    /// Returns the stage's name, unique within a chain.
    fn name(&self) -> &str;

    /// Returns the stage version. A learner bumps it when feedback changes the stage.
    fn version(&self) -> String {
        "1".to_string()
    }

    /// Returns the stage parameters as JSON, hashed into lineage.
    fn params(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Returns a one-line description for reports.
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Updates the stage from feedback between rounds. Returns the versioned change, or `None`
    /// when the stage does not learn or the feedback changed nothing.
    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        let _ = feedback;
        Ok(None)
    }
}

/// Per-stage sink for quarantined rows, merge counts and audit events.
#[derive(Debug)]
pub struct StageContext {
    stage: String,
    round: u32,
    audit: AuditHandle,
    quarantined: Vec<QuarantinedRow>,
    rows_merged: u64,
    rows_read: u64,
    events: Vec<LineageEvent>,
}

impl StageContext {
    /// Creates a context for `stage` in `round`.
    pub fn new(stage: impl Into<String>, round: u32, audit: AuditHandle) -> Self {
        StageContext {
            stage: stage.into(),
            round,
            audit,
            quarantined: Vec::new(),
            rows_merged: 0,
            rows_read: 0,
            events: Vec::new(),
        }
    }

    /// Returns the stage name.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Returns the current round, from 1.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Sends a row to quarantine with a reason. The row must not also appear in the output.
    pub fn quarantine(&mut self, mut row: QuarantinedRow) {
        row.stage.clone_from(&self.stage);
        self.quarantined.push(row);
    }

    /// Records that `count` rows were merged into other rows and left the stream.
    pub fn record_merged(&mut self, count: u64) {
        self.rows_merged += count;
    }

    /// Records rows a collector read from its source, including those it quarantined.
    pub fn record_read(&mut self, count: u64) {
        self.rows_read += count;
    }

    /// Records an event of `kind` with its parameters; the chain copies it into the stage's
    /// lineage record of the round ([`LineageRecord::events`](crate::LineageRecord::events)).
    pub fn record_event(&mut self, kind: impl Into<String>, parameters: serde_json::Value) {
        self.events.push(LineageEvent {
            kind: kind.into(),
            parameters,
        });
    }

    /// Takes the events recorded so far.
    pub fn take_events(&mut self) -> Vec<LineageEvent> {
        std::mem::take(&mut self.events)
    }

    /// Appends an audit record with this stage as the actor.
    pub fn audit(&self, action: AuditAction, subject: &str, detail: &str) -> Result<()> {
        let mut log = self
            .audit
            .lock()
            .map_err(|_| Error::Internal("audit log lock poisoned by a panicking stage".into()))?;
        log.append(&self.stage, action, subject, detail)?;
        Ok(())
    }

    /// Appends an audit record of an access with this stage as the actor.
    pub fn audit_access(
        &self,
        action: AuditAction,
        subject: &str,
        detail: &str,
        access: AccessDetails,
    ) -> Result<()> {
        let mut log = self
            .audit
            .lock()
            .map_err(|_| Error::Internal("audit log lock poisoned by a panicking stage".into()))?;
        log.append_access(&self.stage, action, subject, detail, access)?;
        Ok(())
    }

    /// Returns the shared audit log handle.
    pub fn audit_handle(&self) -> &AuditHandle {
        &self.audit
    }

    /// Takes the quarantined rows recorded so far.
    pub fn take_quarantined(&mut self) -> Vec<QuarantinedRow> {
        std::mem::take(&mut self.quarantined)
    }

    /// Returns the number of rows quarantined so far and not yet taken.
    pub fn quarantined_len(&self) -> usize {
        self.quarantined.len()
    }

    /// Returns the rows merged so far.
    pub fn rows_merged(&self) -> u64 {
        self.rows_merged
    }

    /// Returns the rows a collector recorded as read.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }
}

impl<S: Stage + ?Sized> Stage for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn version(&self) -> String {
        (**self).version()
    }

    fn params(&self) -> serde_json::Value {
        (**self).params()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        (**self).learn(feedback)
    }
}

/// Reads batches from a source and assigns stable row ids.
///
/// The runner calls [`Collector::next_batch`] on tokio's blocking pool, so a file collector
/// may block. A collector must call [`StageContext::record_read`] with every record it read,
/// and quarantine those it could not turn into rows.
pub trait Collector: Stage {
    /// Rewinds to the start of the source for a new round. The default does nothing.
    fn start(&mut self, ctx: &mut StageContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Returns the next batch, or `None` when the source is exhausted.
    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>>;

    /// Moves the collector to just after `position`, the position a sink committed last
    /// (see [`crate::checkpoint`]). `None` means nothing was committed: start at the
    /// beginning. The default accepts only `None`, because a collector that cannot resume
    /// must not silently read its source again from the start.
    fn resume(&mut self, position: Option<&crate::SourcePosition>) -> Result<()> {
        match position {
            None => Ok(()),
            Some(position) => Err(Error::config(
                self.name(),
                format!(
                    "the collector cannot resume from a {:?} checkpoint; use a collector that \
                     writes source positions, or remove the checkpoint to start over",
                    position.kind
                ),
            )),
        }
    }

    /// Tells the collector that every batch up to the one that carried `position` is
    /// durable in the sink, so it may release them (acknowledge messages, delete spooled
    /// data). A chain calls it after each batch its checkpointing sink committed or, when
    /// no sink checkpoints, once after a round whose applicators all finished. The default
    /// does nothing.
    fn committed(&mut self, position: &crate::SourcePosition) -> Result<()> {
        let _ = position;
        Ok(())
    }
}

/// A boxed collector is a collector, so a chain can take one chosen at run time.
impl<C: Collector + ?Sized> Collector for Box<C> {
    fn start(&mut self, ctx: &mut StageContext) -> Result<()> {
        (**self).start(ctx)
    }

    fn resume(&mut self, position: Option<&crate::SourcePosition>) -> Result<()> {
        (**self).resume(position)
    }

    fn committed(&mut self, position: &crate::SourcePosition) -> Result<()> {
        (**self).committed(position)
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        (**self).next_batch(ctx)
    }
}

/// Transforms one batch: canonicalises, validates, merges or fills values.
pub trait Cleaner: Stage {
    /// Cleans one batch. May return fewer rows if others were quarantined, merged or held
    /// back for `flush`.
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch>;

    /// Releases rows held back across batches, after the last batch. The default holds none.
    fn flush(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let _ = ctx;
        Ok(None)
    }

    /// Returns the number of rows currently held back; must be 0 after `flush`.
    fn held_rows(&self) -> u64 {
        0
    }
}

/// Combines the stream with other sources (keyed by source name), such as an as-of join of
/// readings with weather. Side sources are given to the fuser before the stream starts.
pub trait Fuser: Stage {
    /// Fuses one batch of the stream with the side sources.
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch>;

    /// Returns the names of the side sources this fuser uses.
    fn sources(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Reads batches and emits findings; never changes data.
pub trait Analyzer: Stage {
    /// Looks at one batch and returns findings that need only this batch.
    fn analyze(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<Vec<Finding>>;

    /// Returns findings that need the whole stream, after the last batch.
    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let _ = ctx;
        Ok(Vec::new())
    }
}

/// Consumer of the chain's output: the subject's attributes, the purpose and the time of the
/// request, matched against the guard's access policy.
///
/// ```
/// use governance_core::{AccessRequest, Sensitivity};
///
/// let request = AccessRequest::new("analyst", "monthly report")
///     .with_subject_id("u-1042")
///     .with_department("transport")
///     .with_clearance(Sensitivity::Internal);
/// assert_eq!(request.subject(), "u-1042");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// The consumer's role, looked up in the guard's policy.
    pub role: String,
    /// Purpose of the use, recorded in the audit log.
    pub purpose: String,
    /// The consumer's own id, such as a user or service account name.
    #[serde(default)]
    pub subject_id: Option<String>,
    /// The consumer's department.
    #[serde(default)]
    pub department: Option<String>,
    /// The most sensitive level of data the consumer is cleared for.
    #[serde(default)]
    pub clearance: Option<Sensitivity>,
    /// Time of the request in milliseconds since the Unix epoch; `None` means the time the
    /// guard decides.
    #[serde(default)]
    pub time_ms: Option<i64>,
}

impl AccessRequest {
    /// Creates a request by `role` for `purpose`, with no other attributes.
    pub fn new(role: impl Into<String>, purpose: impl Into<String>) -> Self {
        AccessRequest {
            role: role.into(),
            purpose: purpose.into(),
            ..AccessRequest::default()
        }
    }

    /// Returns the request with the subject's own id set.
    pub fn with_subject_id(mut self, id: impl Into<String>) -> Self {
        self.subject_id = Some(id.into());
        self
    }

    /// Returns the request with the subject's department set.
    pub fn with_department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// Returns the request with the subject's clearance set.
    pub fn with_clearance(mut self, clearance: Sensitivity) -> Self {
        self.clearance = Some(clearance);
        self
    }

    /// Returns the request made at `time_ms`, milliseconds since the Unix epoch.
    pub fn at(mut self, time_ms: i64) -> Self {
        self.time_ms = Some(time_ms);
        self
    }

    /// Returns the subject's id, or the role when the request names no id.
    pub fn subject(&self) -> &str {
        self.subject_id.as_deref().unwrap_or(&self.role)
    }
}

/// Decides what a consumer may see of each batch, masks what it may not, and records the
/// decision. An unknown role is denied with [`Error::AccessDenied`].
pub trait Guard: Stage {
    /// Returns the part of `batch` the requester may see.
    fn guard(
        &mut self,
        batch: GovernedBatch,
        request: &AccessRequest,
        ctx: &mut StageContext,
    ) -> Result<GovernedBatch>;
}

/// Turns data and findings into effects: writes, alerts, work orders, reports.
pub trait Applicator: Stage {
    /// Handles one batch of governed data.
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()>;

    /// Finishes the round with the run's summary, such as writing reports. The default does
    /// nothing.
    fn finish(&mut self, summary: &crate::RunSummary, ctx: &mut StageContext) -> Result<()> {
        let _ = (summary, ctx);
        Ok(())
    }

    /// Told, instead of [`Applicator::finish`], that the round failed with `error`: the place
    /// to discard partial output at once and to record the failure, such as a lineage FAIL
    /// event. It must not present the round's output as complete. The chain reports the
    /// round's own error whatever this returns, and logs an error from here. The default does
    /// nothing.
    fn fail(&mut self, error: &crate::Error, ctx: &mut StageContext) -> Result<()> {
        let _ = (error, ctx);
        Ok(())
    }
}

/// A standalone component that updates itself from feedback, such as a label store.
pub trait Learner: Send {
    /// Learns from feedback and returns the versioned change, if any.
    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>>;
}

/// What an analyzer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A computed indicator value.
    Indicator,
    /// A threshold was crossed.
    Alert,
    /// An anomaly in the data.
    Anomaly,
    /// A forecast value.
    Forecast,
    /// An early warning of a coming threshold crossing.
    Warning,
}

/// A result of analysis: an indicator, alert, anomaly, forecast or warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Kind of finding.
    pub kind: FindingKind,
    /// Name of the indicator or rule, such as `pm25_daily_mean`.
    pub name: String,
    /// Analyzer that produced it.
    pub analyzer: String,
    /// Description for people.
    pub message: String,
    /// Subject the finding is about, such as a station id.
    pub subject: Option<String>,
    /// Time the finding refers to, as text (ISO 8601 date or timestamp).
    pub time: Option<String>,
    /// Observed value.
    pub value: Option<f64>,
    /// Threshold the value was compared with.
    pub threshold: Option<f64>,
    /// Rows the finding rests on.
    pub row_ids: Vec<u64>,
    /// Version of the model that made it, for learned analyzers.
    pub model_version: Option<String>,
    /// Severity, for alerts and warnings that applicators route by it.
    pub severity: Option<Severity>,
    /// Lead time, interval and exceedance probability of a forecast or early warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastDetail>,
}

/// Forecast details of a forecast or early-warning finding: the lead time, the prediction
/// interval and, for a warning, the estimated probability of the crossing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastDetail {
    /// Hours between the last observation the forecast rests on and the forecast time.
    pub lead_time_hours: u32,
    /// Lower end of the prediction interval, in the column's unit.
    pub lower: f64,
    /// Upper end of the prediction interval, in the column's unit.
    pub upper: f64,
    /// Nominal coverage of the interval, such as 0.8.
    pub interval_level: f64,
    /// Estimated probability that the value crosses the finding's threshold, from 0 to 1.
    pub exceedance_probability: Option<f64>,
}

impl Finding {
    /// Builds a finding with only kind, name, analyzer and message set.
    pub fn new(
        kind: FindingKind,
        name: impl Into<String>,
        analyzer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            kind,
            name: name.into(),
            analyzer: analyzer.into(),
            message: message.into(),
            subject: None,
            time: None,
            value: None,
            threshold: None,
            row_ids: Vec::new(),
            model_version: None,
            severity: None,
            forecast: None,
        }
    }
}
