//! The chain builder and the streaming runner.
//!
//! ```text
//!  collector ──▶ [bounded channel] ──▶ stage 1 ──▶ [bounded channel] ──▶ ... ──▶ applicators
//!  (tokio blocking pool)               (CPU work on rayon, awaited from a tokio task)
//! ```
//!
//! Each link is a bounded tokio channel, so a slow stage holds back the collector. A round
//! keeps at most `channel_capacity` batches per link in memory, plus one batch per stage
//! (collector and applicators included) that the stage is working on or waiting to send
//! downstream, whatever the length of the input. CPU work runs on the rayon pool and
//! never blocks the tokio workers. When any stage fails, its receiver closes, upstream stages
//! stop, the applicators' `finish` is never called, and the run returns the first error in
//! chain order.
//!
//! # Checkpoints
//!
//! A chain built with [`ChainBuilder::apply_checkpointed`] follows the contract of
//! [`crate::checkpoint`]. Before the first batch of each round the runner reads the sink's
//! committed position and passes it to [`Collector::resume`]. After every applicator has
//! handled a batch, it passes the batch's position to [`Collector::committed`]. A cleaner
//! that keeps rows back after a batch fails the round, because the position that
//! batch carries would be committed without those rows.

mod sinks;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::audit::{AuditAction, AuditHandle, AuditLog};
use crate::stage::{
    AccessRequest, Analyzer, Applicator, Cleaner, Collector, Finding, Fuser, Guard, Stage,
    StageContext,
};
use crate::{
    Adjustment, CheckpointStore, Error, Feedback, GovernedBatch, IssueKind, LineageEvent,
    LineageRecord, QuarantinedRow, Result, SourcePosition, params_hash,
};
use sinks::Sink;

/// Default number of batches buffered between two stages.
///
/// Two batches per link let a stage take its next batch as soon as it has sent one. A chain
/// of five cleaners then keeps at most 19 batches at a time (12 in its six links, 7 in its
/// stages), where a capacity of 4 kept up to 31.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 2;

/// Row counts and time of one stage in one round.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// Stage name.
    pub name: String,
    /// Stage kind.
    pub kind: String,
    /// Stage version in this round.
    pub version: String,
    /// Rows in.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Rows merged.
    pub rows_merged: u64,
    /// Seconds spent inside the stage's own calls, excluding time waiting for input, for room
    /// downstream or for a free rayon thread.
    pub seconds: f64,
    /// Events the stage recorded with [`StageContext::record_event`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LineageEvent>,
}

/// Outcome of one round of the chain.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunSummary {
    /// Round number, from 1.
    pub round: u32,
    /// Per-stage counts, in chain order (collector first, applicators last).
    pub stages: Vec<StageReport>,
    /// Findings of all analyzers.
    pub findings: Vec<Finding>,
    /// Rows rejected by any stage, with reasons.
    pub quarantine: Vec<QuarantinedRow>,
    /// Issues that reached the end of the chain, by kind.
    pub issues_by_kind: BTreeMap<IssueKind, u64>,
    /// Rows that reached the applicators.
    pub rows_delivered: u64,
    /// Wall time of the round in seconds.
    pub seconds: f64,
    /// Whether the audit log verified at the end of the round.
    pub audit_verified: bool,
    /// Lineage records of this round, one per stage.
    pub lineage: Vec<LineageRecord>,
}

enum Step {
    Clean(Box<dyn Cleaner>),
    Fuse(Box<dyn Fuser>),
    Analyze(Box<dyn Analyzer>, Vec<Finding>),
    Guard(Box<dyn Guard>),
}

impl Step {
    fn stage(&self) -> &dyn Stage {
        match self {
            Step::Clean(stage) => stage.as_ref(),
            Step::Fuse(stage) => stage.as_ref(),
            Step::Analyze(stage, _) => stage.as_ref(),
            Step::Guard(stage) => stage.as_ref(),
        }
    }

    fn stage_mut(&mut self) -> &mut dyn Stage {
        match self {
            Step::Clean(stage) => stage.as_mut(),
            Step::Fuse(stage) => stage.as_mut(),
            Step::Analyze(stage, _) => stage.as_mut(),
            Step::Guard(stage) => stage.as_mut(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Step::Clean(_) => "cleaner",
            Step::Fuse(_) => "fuser",
            Step::Analyze(..) => "analyzer",
            Step::Guard(_) => "guard",
        }
    }

    fn process(
        &mut self,
        batch: GovernedBatch,
        request: &AccessRequest,
        ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        match self {
            Step::Clean(stage) => stage.clean(batch, ctx),
            Step::Fuse(stage) => stage.fuse(batch, ctx),
            Step::Analyze(stage, findings) => {
                findings.extend(stage.analyze(&batch, ctx)?);
                Ok(batch)
            }
            Step::Guard(stage) => stage.guard(batch, request, ctx),
        }
    }

    fn flush(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        match self {
            Step::Clean(stage) => stage.flush(ctx),
            Step::Analyze(stage, findings) => {
                findings.extend(stage.finish(ctx)?);
                Ok(None)
            }
            Step::Fuse(_) | Step::Guard(_) => Ok(None),
        }
    }

    fn held_rows(&self) -> u64 {
        match self {
            Step::Clean(stage) => stage.held_rows(),
            _ => 0,
        }
    }
}

/// Builds a [`Chain`]: one collector, then cleaners, fusers, analyzers and guards in the order
/// added, then applicators.
pub struct ChainBuilder {
    collector: Option<Box<dyn Collector>>,
    steps: Vec<Step>,
    applicators: Vec<Sink>,
    request: AccessRequest,
    channel_capacity: usize,
    audit: Option<AuditHandle>,
}

impl Default for ChainBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainBuilder {
    /// Starts an empty chain. Its access request has role `"anonymous"`, which a deny-by-default
    /// guard rejects unless the policy names it.
    pub fn new() -> Self {
        ChainBuilder {
            collector: None,
            steps: Vec::new(),
            applicators: Vec::new(),
            request: AccessRequest::new("anonymous", "unspecified"),
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            audit: None,
        }
    }

    /// Sets the collector.
    pub fn collect(mut self, collector: impl Collector + 'static) -> Self {
        self.collector = Some(Box::new(collector));
        self
    }

    /// Appends a cleaner.
    pub fn clean(mut self, cleaner: impl Cleaner + 'static) -> Self {
        self.steps.push(Step::Clean(Box::new(cleaner)));
        self
    }

    /// Appends a fuser.
    pub fn fuse(mut self, fuser: impl Fuser + 'static) -> Self {
        self.steps.push(Step::Fuse(Box::new(fuser)));
        self
    }

    /// Appends an analyzer; batches pass through it unchanged.
    pub fn analyze(mut self, analyzer: impl Analyzer + 'static) -> Self {
        self.steps
            .push(Step::Analyze(Box::new(analyzer), Vec::new()));
        self
    }

    /// Appends a guard.
    pub fn guard(mut self, guard: impl Guard + 'static) -> Self {
        self.steps.push(Step::Guard(Box::new(guard)));
        self
    }

    /// Appends an applicator. Every applicator receives every batch.
    pub fn apply(mut self, applicator: impl Applicator + 'static) -> Self {
        self.applicators.push(Sink::Plain(Box::new(applicator)));
        self
    }

    /// Appends the applicator that commits each batch with its source position, and makes
    /// the chain resume from that position (see the [module docs](self)).
    ///
    /// [`ChainBuilder::build`] fails when `sink` does not commit each batch
    /// ([`CheckpointStore::commits_each_batch`]) or when a chain has two such sinks. The
    /// other applicators are not part of the sink's commit: after a crash they may see the
    /// batches after the last commit a second time.
    pub fn apply_checkpointed<S>(mut self, sink: S) -> Self
    where
        S: Applicator + CheckpointStore + 'static,
    {
        self.applicators.push(Sink::Checkpointing(Box::new(sink)));
        self
    }

    /// Sets who consumes the chain's output; guards decide on this request.
    pub fn request(mut self, request: AccessRequest) -> Self {
        self.request = request;
        self
    }

    /// Sets how many batches each link buffers (at least 1, default
    /// [`DEFAULT_CHANNEL_CAPACITY`]). A larger capacity absorbs stages whose speed varies
    /// from batch to batch, at the cost of up to that many more batches in memory per link.
    pub fn channel_capacity(mut self, capacity: usize) -> Self {
        self.channel_capacity = capacity.max(1);
        self
    }

    /// Uses `audit` as the audit log instead of a new in-memory one.
    pub fn audit(mut self, audit: AuditHandle) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Checks the chain and builds it. Fails without a collector, with two stages of the
    /// same name, or with a checkpointing sink that does not commit each batch.
    pub fn build(self) -> Result<Chain> {
        let collector = self.collector.ok_or_else(|| {
            Error::config(
                "chain",
                "no collector: call ChainBuilder::collect before build",
            )
        })?;
        let mut names = vec![collector.name().to_string()];
        names.extend(
            self.steps
                .iter()
                .map(|step| step.stage().name().to_string()),
        );
        names.extend(
            self.applicators
                .iter()
                .map(|sink| sink.applicator().name().to_string()),
        );
        let mut seen = std::collections::HashSet::new();
        for name in &names {
            if !seen.insert(name.as_str()) {
                return Err(Error::config(
                    "chain",
                    format!("two stages are named {name:?}: stage names must be unique"),
                ));
            }
        }
        sinks::check_checkpointing(&self.applicators)?;
        Ok(Chain {
            collector: Some(collector),
            steps: self.steps.into_iter().map(Some).collect(),
            applicators: Some(self.applicators),
            request: self.request,
            channel_capacity: self.channel_capacity,
            audit: self
                .audit
                .unwrap_or_else(|| AuditLog::in_memory().into_handle()),
            round: 0,
            lineage: Vec::new(),
            adjustments: Vec::new(),
        })
    }
}

/// A runnable chain. Each call to [`Chain::run`] is one round of the closed loop; between
/// rounds, [`Chain::learn`] hands feedback to every stage.
pub struct Chain {
    collector: Option<Box<dyn Collector>>,
    steps: Vec<Option<Step>>,
    applicators: Option<Vec<Sink>>,
    request: AccessRequest,
    channel_capacity: usize,
    audit: AuditHandle,
    round: u32,
    lineage: Vec<LineageRecord>,
    adjustments: Vec<(u32, Adjustment)>,
}

struct StepResult {
    step: Step,
    report: StageReport,
    quarantine: Vec<QuarantinedRow>,
    params_hash: String,
}

/// Runs `work` on the rayon pool and awaits it; a panic becomes an internal error.
async fn on_rayon<T: Send + 'static>(
    stage: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(work));
        let _ = sender.send(outcome);
    });
    match receiver.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(Error::Internal(format!("stage {stage} panicked"))),
    }
}

fn check_counts(report: &StageReport, held: u64) -> Result<()> {
    let accounted = report.rows_out + report.rows_quarantined + report.rows_merged + held;
    if report.rows_in != accounted || held != 0 {
        return Err(Error::RowCountMismatch {
            stage: report.name.clone(),
            rows_in: report.rows_in,
            rows_out: report.rows_out,
            quarantined: report.rows_quarantined,
            merged: report.rows_merged,
            held,
        });
    }
    Ok(())
}

fn stage_report(stage: &dyn Stage, kind: &str) -> StageReport {
    StageReport {
        name: stage.name().to_string(),
        kind: kind.to_string(),
        version: stage.version(),
        ..StageReport::default()
    }
}

impl Chain {
    /// Starts a chain builder.
    pub fn builder() -> ChainBuilder {
        ChainBuilder::new()
    }

    /// Returns the audit log handle.
    pub fn audit(&self) -> &AuditHandle {
        &self.audit
    }

    /// Returns the lineage records of all rounds so far.
    pub fn lineage(&self) -> &[LineageRecord] {
        &self.lineage
    }

    /// Returns the adjustments learners made, with the round after which they were made.
    pub fn adjustments(&self) -> &[(u32, Adjustment)] {
        &self.adjustments
    }

    /// Returns the number of rounds run so far.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Runs one round on a new multi-threaded tokio runtime and blocks until it ends.
    pub fn run_blocking(&mut self) -> Result<RunSummary> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Internal(format!("cannot start the tokio runtime: {error}")))?;
        runtime.block_on(self.run())
    }

    /// Hands feedback to every stage and records the adjustments they make in lineage and in
    /// the audit log.
    pub fn learn(&mut self, feedback: &[Feedback]) -> Result<Vec<Adjustment>> {
        let mut made = Vec::new();
        let mut stages: Vec<&mut dyn Stage> = Vec::new();
        if let Some(collector) = self.collector.as_mut() {
            stages.push(collector.as_mut());
        }
        for step in self.steps.iter_mut().flatten() {
            stages.push(step.stage_mut());
        }
        if let Some(applicators) = self.applicators.as_mut() {
            for sink in applicators.iter_mut() {
                stages.push(sink.applicator_mut());
            }
        }
        for stage in stages {
            if let Some(adjustment) = stage.learn(feedback)? {
                made.push(adjustment);
            }
        }
        let mut log = self
            .audit
            .lock()
            .map_err(|_| Error::Internal("audit log lock poisoned".into()))?;
        log.append(
            "feedback",
            AuditAction::Read,
            "feedback",
            &format!("round={} items={}", self.round, feedback.len()),
        )?;
        for adjustment in &made {
            let detail = format!(
                "{} -> {}: {}",
                adjustment.from_version, adjustment.to_version, adjustment.description
            );
            log.append(&adjustment.stage, AuditAction::Change, "stage", &detail)?;
            self.adjustments.push((self.round, adjustment.clone()));
        }
        Ok(made)
    }

    /// Runs one round: streams every batch from the collector through the stages to the
    /// applicators, checks the row-count identity of every stage, and returns the summary.
    /// On error no applicator is finished, so nothing is reported as a complete output.
    ///
    /// With a checkpointing sink, the collector is told of each batch the sink committed.
    /// With sinks that do not checkpoint, it is told once, after every applicator finished
    /// the round, with the position of the last batch it emitted. An error from
    /// [`Collector::committed`] is then returned although the output is complete, and the
    /// source delivers those records again. A chain without applicators releases nothing.
    pub async fn run(&mut self) -> Result<RunSummary> {
        self.round += 1;
        let round = self.round;
        let started = Instant::now();
        let capacity = self.channel_capacity;
        let mut collector = self.collector.take().ok_or_else(|| {
            Error::Internal("chain collector missing after a failed round".into())
        })?;
        let request = Arc::new(self.request.clone());
        let applicators = self.applicators.take().ok_or_else(|| {
            Error::Internal("chain applicators missing after a failed round".into())
        })?;
        let checkpointing = sinks::has_checkpointing(&applicators);

        // The sink may block (a PostgreSQL query), so it is read on the blocking pool.
        let (applicators, loaded) = if checkpointing {
            tokio::task::spawn_blocking(move || {
                let mut applicators = applicators;
                let loaded = sinks::load_position(&mut applicators);
                (applicators, loaded)
            })
            .await
            .map_err(|error| {
                Error::Internal(format!("checkpoint read task failed to join: {error}"))
            })?
        } else {
            (applicators, Ok(None))
        };
        let position = match loaded {
            Ok(position) => position,
            Err(error) => {
                // Nothing was read, so there is no partial output for `fail` to discard.
                self.collector = Some(collector);
                self.applicators = Some(applicators);
                return Err(error);
            }
        };
        let (commit_sender, commit_receiver) = std_mpsc::channel::<SourcePosition>();
        let commit_sender = checkpointing.then_some(commit_sender);

        let (first_sender, mut receiver) = mpsc::channel::<GovernedBatch>(capacity);
        let audit = self.audit.clone();
        let collector_task = tokio::task::spawn_blocking(move || {
            let mut report = stage_report(collector.as_ref(), "collector");
            let mut ctx = StageContext::new(collector.name(), round, audit);
            // Time spent waiting for downstream room is not the collector's own time.
            let mut busy = std::time::Duration::ZERO;
            // Position of the last batch handed downstream, released after a clean round
            // when no sink checkpoints.
            let mut last_emitted: Option<SourcePosition> = None;
            let outcome = (|| -> Result<()> {
                let clock = Instant::now();
                collector.start(&mut ctx)?;
                if checkpointing {
                    collector.resume(position.as_ref())?;
                }
                busy += clock.elapsed();
                loop {
                    let clock = Instant::now();
                    for committed in commit_receiver.try_iter() {
                        collector.committed(&committed)?;
                    }
                    let next = collector.next_batch(&mut ctx)?;
                    busy += clock.elapsed();
                    let Some(batch) = next else { break };
                    report.rows_out += batch.num_rows() as u64;
                    let position = batch.provenance.position.clone();
                    if first_sender.blocking_send(batch).is_err() {
                        // A downstream stage failed; its error is reported instead.
                        break;
                    }
                    if position.is_some() {
                        last_emitted = position;
                    }
                }
                Ok(())
            })();
            // Closing the first link lets the stages finish, and the applicators then close
            // the commit channel, so this waits only for the batches already in flight.
            drop(first_sender);
            let outcome = outcome.and_then(|()| {
                for committed in commit_receiver.iter() {
                    collector.committed(&committed)?;
                }
                Ok(())
            });
            report.seconds = busy.as_secs_f64();
            report.rows_in = ctx.rows_read();
            let quarantine = ctx.take_quarantined();
            report.rows_quarantined = quarantine.len() as u64;
            report.rows_merged = ctx.rows_merged();
            report.events = ctx.take_events();
            let params = params_hash(&collector.params());
            (collector, outcome, report, quarantine, params, last_emitted)
        });

        let mut step_tasks = Vec::new();
        for slot in self.steps.iter_mut() {
            let step = slot.take().ok_or_else(|| {
                Error::Internal("chain stage missing after a failed round".into())
            })?;
            let (sender, next_receiver) = mpsc::channel::<GovernedBatch>(capacity);
            let input = std::mem::replace(&mut receiver, next_receiver);
            let audit = self.audit.clone();
            let request = Arc::clone(&request);
            step_tasks.push(tokio::spawn(run_step(
                step,
                input,
                sender,
                request,
                audit,
                StepOptions {
                    round,
                    checkpointing,
                },
            )));
        }

        let audit = self.audit.clone();
        let apply_task = tokio::spawn(run_applicators(
            applicators,
            receiver,
            audit,
            round,
            commit_sender,
        ));

        // Collect every task before deciding, so that stages are put back even on failure.
        let collector_outcome = collector_task.await;
        let mut step_outcomes = Vec::new();
        for task in step_tasks {
            step_outcomes.push(task.await);
        }
        let apply_outcome = apply_task.await;

        let join_error = |error: tokio::task::JoinError| {
            Error::Internal(format!("stage task failed to join: {error}"))
        };
        let (collector, collect_result, collect_report, mut quarantine, collect_hash, last_emitted) =
            collector_outcome.map_err(join_error)?;
        self.collector = Some(collector);
        let mut first_error = collect_result.err();
        let mut reports = vec![(collect_report, collect_hash, 0u64)];

        for (slot, outcome) in self.steps.iter_mut().zip(step_outcomes) {
            let (step_result, outcome) = outcome.map_err(join_error)?;
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
            let held = step_result.step.held_rows();
            quarantine.extend(step_result.quarantine);
            reports.push((step_result.report, step_result.params_hash, held));
            *slot = Some(step_result.step);
        }

        let (mut applicators, apply_result, apply_reports, issues_by_kind, rows_delivered) =
            apply_outcome.map_err(join_error)?;
        if let Err(error) = apply_result {
            first_error.get_or_insert(error);
        }
        reports.extend(apply_reports);

        let count_error = reports
            .iter()
            .find_map(|(report, _, held)| check_counts(report, *held).err());
        if let Some(error) = first_error.or(count_error) {
            let audit = self.audit.clone();
            let (applicators, error) = tokio::task::spawn_blocking(move || {
                let mut applicators = applicators;
                fail_applicators(&mut applicators, &error, round, &audit);
                (applicators, error)
            })
            .await
            .map_err(join_error)?;
            self.applicators = Some(applicators);
            return Err(error);
        }

        let mut findings = Vec::new();
        for step in self.steps.iter_mut().flatten() {
            if let Step::Analyze(_, found) = step {
                findings.append(found);
            }
        }
        let mut round_lineage = Vec::new();
        for (report, hash, _) in &reports {
            round_lineage.push(LineageRecord {
                round,
                stage: report.name.clone(),
                kind: report.kind.clone(),
                version: report.version.clone(),
                params_hash: hash.clone(),
                rows_in: report.rows_in,
                rows_out: report.rows_out,
                rows_quarantined: report.rows_quarantined,
                rows_merged: report.rows_merged,
                seconds: report.seconds,
                events: report.events.clone(),
            });
        }
        self.lineage.extend(round_lineage.iter().cloned());
        let audit_verified = self
            .audit
            .lock()
            .map_err(|_| Error::Internal("audit log lock poisoned".into()))?
            .verify()
            .is_ok();
        let mut summary = RunSummary {
            round,
            stages: reports.into_iter().map(|(report, _, _)| report).collect(),
            findings,
            quarantine,
            issues_by_kind,
            rows_delivered,
            seconds: 0.0,
            audit_verified,
            lineage: round_lineage,
        };
        summary.seconds = started.elapsed().as_secs_f64();

        let audit = self.audit.clone();
        let finish_summary = summary.clone();
        let (applicators_back, finished) = tokio::task::spawn_blocking(move || {
            let mut outcome = Ok(());
            for sink in applicators.iter_mut() {
                let applicator = sink.applicator_mut();
                let mut ctx = StageContext::new(applicator.name(), round, audit.clone());
                if let Err(error) = applicator.finish(&finish_summary, &mut ctx) {
                    outcome = Err(error);
                    break;
                }
            }
            (applicators, outcome)
        })
        .await
        .map_err(join_error)?;
        let has_sinks = !applicators_back.is_empty();
        self.applicators = Some(applicators_back);
        finished?;
        // Without a checkpointing sink nothing was released batch by batch. Every applicator
        // has now finished its output, so the source may release what the round read.
        if !checkpointing
            && has_sinks
            && let Some(position) = last_emitted
        {
            self.release_source(position).await?;
        }
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Calls [`Collector::committed`] with `position` on the blocking pool, because a
    /// collector may talk to its source there (an MQTT collector sends acknowledgements).
    async fn release_source(&mut self, position: SourcePosition) -> Result<()> {
        let mut collector = self.collector.take().ok_or_else(|| {
            Error::Internal("chain collector missing after a finished round".into())
        })?;
        let (collector, released) = tokio::task::spawn_blocking(move || {
            let released = collector.committed(&position);
            (collector, released)
        })
        .await
        .map_err(|error| Error::Internal(format!("source release task failed to join: {error}")))?;
        self.collector = Some(collector);
        released
    }
}

/// Calls [`Applicator::fail`] on every applicator for a failed round. An applicator's own
/// error here is logged, not returned, so the round's error stays the one reported.
fn fail_applicators(applicators: &mut [Sink], error: &Error, round: u32, audit: &AuditHandle) {
    for sink in applicators.iter_mut() {
        let applicator = sink.applicator_mut();
        let mut ctx = StageContext::new(applicator.name(), round, audit.clone());
        if let Err(fail_error) = applicator.fail(error, &mut ctx) {
            tracing::warn!(
                stage = applicator.name(),
                round,
                error = %fail_error,
                "applicator failed while recording a failed round"
            );
        }
    }
}

/// Settings of one round that every step task needs.
#[derive(Debug, Clone, Copy)]
struct StepOptions {
    round: u32,
    /// Whether the chain commits source positions, so a step must not hold rows back.
    checkpointing: bool,
}

async fn run_step(
    mut step: Step,
    mut input: mpsc::Receiver<GovernedBatch>,
    output: mpsc::Sender<GovernedBatch>,
    request: Arc<AccessRequest>,
    audit: AuditHandle,
    options: StepOptions,
) -> (StepResult, Result<()>) {
    let StepOptions {
        round,
        checkpointing,
    } = options;
    let name = step.stage().name().to_string();
    let mut report = stage_report(step.stage(), step.kind());
    let params_hash = params_hash(&step.stage().params());
    let mut ctx = StageContext::new(name.clone(), round, audit);
    let mut outcome = Ok(());
    let mut downstream_closed = false;

    while let Some(batch) = input.recv().await {
        report.rows_in += batch.num_rows() as u64;
        let request = Arc::clone(&request);
        // Timed inside the rayon task, so queueing behind other stages does not count.
        let processed = on_rayon(name.clone(), move || {
            let clock = Instant::now();
            let result = step.process(batch, &request, &mut ctx);
            (step, ctx, result, clock.elapsed().as_secs_f64())
        })
        .await;
        let (returned_step, returned_ctx, result) = match processed {
            Ok((step, ctx, result, seconds)) => {
                report.seconds += seconds;
                (step, ctx, result)
            }
            Err(error) => {
                // The stage panicked and is lost; report with what is known.
                return (
                    StepResult {
                        step: Step::Clean(Box::new(Lost(name))),
                        report,
                        quarantine: Vec::new(),
                        params_hash,
                    },
                    Err(error),
                );
            }
        };
        step = returned_step;
        ctx = returned_ctx;
        let held = step.held_rows();
        match result {
            Ok(_) if checkpointing && held > 0 => {
                outcome = Err(Error::config(
                    &name,
                    format!(
                        "the stage holds {held} rows back after a batch, but the chain commits \
                         each batch's source position, so a crash would lose those rows; \
                         remove the stage from the checkpointed chain or configure it not to \
                         hold rows across batches"
                    ),
                ));
                break;
            }
            Ok(batch) => {
                report.rows_out += batch.num_rows() as u64;
                if output.send(batch).await.is_err() {
                    downstream_closed = true;
                    break;
                }
            }
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }

    if outcome.is_ok() && !downstream_closed {
        let flushed = on_rayon(name.clone(), move || {
            let clock = Instant::now();
            let result = step.flush(&mut ctx);
            (step, ctx, result, clock.elapsed().as_secs_f64())
        })
        .await;
        match flushed {
            Ok((returned_step, returned_ctx, result, seconds)) => {
                report.seconds += seconds;
                step = returned_step;
                ctx = returned_ctx;
                match result {
                    Ok(Some(batch)) => {
                        report.rows_out += batch.num_rows() as u64;
                        let _ = output.send(batch).await;
                    }
                    Ok(None) => {}
                    Err(error) => outcome = Err(error),
                }
            }
            Err(error) => {
                return (
                    StepResult {
                        step: Step::Clean(Box::new(Lost(name))),
                        report,
                        quarantine: Vec::new(),
                        params_hash,
                    },
                    Err(error),
                );
            }
        }
    }
    let quarantine = ctx.take_quarantined();
    report.rows_quarantined = quarantine.len() as u64;
    report.rows_merged = ctx.rows_merged();
    report.events = ctx.take_events();
    (
        StepResult {
            step,
            report,
            quarantine,
            params_hash,
        },
        outcome,
    )
}

type ApplyOutcome = (
    Vec<Sink>,
    Result<()>,
    Vec<(StageReport, String, u64)>,
    BTreeMap<IssueKind, u64>,
    u64,
);

/// Hands every batch to every applicator in order. With `commits`, sends each batch's
/// source position there once all applicators handled it.
async fn run_applicators(
    mut applicators: Vec<Sink>,
    mut input: mpsc::Receiver<GovernedBatch>,
    audit: AuditHandle,
    round: u32,
    commits: Option<std_mpsc::Sender<SourcePosition>>,
) -> ApplyOutcome {
    let mut reports: Vec<StageReport> = applicators
        .iter()
        .map(|sink| stage_report(sink.applicator(), "applicator"))
        .collect();
    let hashes: Vec<String> = applicators
        .iter()
        .map(|sink| params_hash(&sink.applicator().params()))
        .collect();
    let mut contexts: Vec<StageContext> = applicators
        .iter()
        .map(|sink| StageContext::new(sink.applicator().name(), round, audit.clone()))
        .collect();
    let mut issues_by_kind = BTreeMap::new();
    let mut rows_delivered = 0u64;
    let mut outcome = Ok(());

    while let Some(batch) = input.recv().await {
        rows_delivered += batch.num_rows() as u64;
        for (kind, count) in batch.issues.count_by_kind() {
            *issues_by_kind.entry(kind).or_insert(0) += count;
        }
        let batch = Arc::new(batch);
        let work_batch = Arc::clone(&batch);
        let processed = on_rayon("applicators".into(), move || {
            let mut timings = Vec::new();
            let mut result = Ok(());
            for (sink, ctx) in applicators.iter_mut().zip(contexts.iter_mut()) {
                let clock = Instant::now();
                result = sink.applicator_mut().apply(&work_batch, ctx);
                timings.push(clock.elapsed().as_secs_f64());
                if result.is_err() {
                    break;
                }
            }
            (applicators, contexts, timings, result)
        })
        .await;
        let (returned, returned_contexts, timings, result) = match processed {
            Ok(parts) => parts,
            Err(error) => {
                return (
                    Vec::new(),
                    Err(error),
                    Vec::new(),
                    issues_by_kind,
                    rows_delivered,
                );
            }
        };
        applicators = returned;
        contexts = returned_contexts;
        for (report, seconds) in reports.iter_mut().zip(timings) {
            report.rows_in += batch.num_rows() as u64;
            report.rows_out += batch.num_rows() as u64;
            report.seconds += seconds;
        }
        if let Err(error) = result {
            outcome = Err(error);
            break;
        }
        if let (Some(commits), Some(position)) = (&commits, &batch.provenance.position) {
            // The collector task ends only after this sender is dropped, so it still listens.
            let _ = commits.send(position.clone());
        }
    }
    for (report, ctx) in reports.iter_mut().zip(contexts.iter_mut()) {
        let quarantined = ctx.take_quarantined().len() as u64;
        report.rows_quarantined = quarantined;
        report.rows_out = report.rows_out.saturating_sub(quarantined);
        report.events = ctx.take_events();
    }
    let reports = reports
        .into_iter()
        .zip(hashes)
        .map(|(report, hash)| (report, hash, 0))
        .collect();
    (
        applicators,
        outcome,
        reports,
        issues_by_kind,
        rows_delivered,
    )
}

/// Stands in for a stage lost to a panic, so the chain can report the error; it fails every
/// later call.
struct Lost(String);

impl Stage for Lost {
    fn name(&self) -> &str {
        &self.0
    }
}

impl Cleaner for Lost {
    fn clean(&mut self, _: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        Err(Error::Internal(format!(
            "stage {} was lost to an earlier panic",
            self.0
        )))
    }
}
