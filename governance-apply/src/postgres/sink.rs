//! [`PostgresSink`]: the [`Applicator`] that runs a [`PostgresWriter`] from the chain's
//! synchronous stage calls.

use std::future::Future;

use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, CheckpointStore, Error, GovernedBatch, Result, RunSummary, SourcePosition, Stage,
    StageContext,
};
use serde_json::json;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

use super::POSTGRES_SINK_NAME;
use super::config::{CommitMode, PostgresSinkConfig};
use super::writer::{Checkpoint, PostgresWriter};

/// The tokio runtime that drives the connection.
#[derive(Debug)]
enum SinkRuntime {
    /// A current-thread runtime of the sink's own. It runs only while a sink call blocks on
    /// it, which is enough: the connection has work only during those calls.
    Owned(Runtime),
    /// A multi-thread runtime of the application's.
    Shared(Handle),
}

/// Progress of the open transaction, written as the checkpoint position.
#[derive(Debug, Default)]
struct Progress {
    round: u32,
    batches: u64,
    rows: u64,
    last_row_id: Option<u64>,
    source: Option<String>,
    collected_at_ms: Option<i64>,
    source_position: Option<SourcePosition>,
}

impl Progress {
    fn position(&self) -> serde_json::Value {
        json!({
            "round": self.round,
            "batches": self.batches,
            "rows": self.rows,
            "last_row_id": self.last_row_id,
            "source": self.source,
            "collected_at_ms": self.collected_at_ms,
            "source_position": self.source_position,
        })
    }
}

/// Writes the governed data of each round to a PostgreSQL table by binary COPY, with a
/// checkpoint committed in the same transaction.
///
/// The table gets the row ids as its first column, [`governance_core::ROW_ID_COLUMN`]
/// (`bigint`), then one column per data field, typed by the mapping in the
/// [module docs](crate::postgres), with the fields' `governance.*` metadata as column
/// comments.
///
/// With [`CommitMode::Round`] (the default) a round is one transaction, committed in
/// [`Applicator::finish`], which the chain calls only after a successful round: the rows of
/// a failed round are rolled back when the next round starts or the sink is dropped. With
/// [`CommitMode::Batch`] each batch commits on its own. Either way the checkpoint written
/// with the rows is a JSON object: the round, the batches and rows committed in the
/// transaction, and the last batch's highest row id, source and collection time. Read it at
/// startup with [`PostgresSink::last_checkpoint`] to resume the source after the last
/// committed row.
///
/// A batch whose provenance carries a [`SourcePosition`] adds it to the checkpoint as
/// `source_position`, and [`CheckpointStore::load_position`] reads it back, so a resumable
/// collector restarts after the last committed batch (see [`governance_core::checkpoint`]).
/// Streaming pipelines use [`CommitMode::Batch`], so that each batch commits with its
/// position.
///
/// The sink connects at the first batch, or at [`PostgresSink::connect`]. Its async work
/// runs on a current-thread tokio runtime that it owns, or on a multi-thread runtime passed
/// to [`PostgresSink::with_runtime`].
#[derive(Debug)]
pub struct PostgresSink {
    name: String,
    config: PostgresSinkConfig,
    runtime: SinkRuntime,
    writer: Option<PostgresWriter>,
    progress: Option<Progress>,
}

impl PostgresSink {
    /// Creates a sink named [`POSTGRES_SINK_NAME`] with a runtime of its own. Checks the
    /// config but does not connect.
    pub fn new(config: PostgresSinkConfig) -> Result<Self> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                Error::Internal(format!(
                    "cannot start the PostgreSQL sink's runtime: {error}"
                ))
            })?;
        Ok(Self::with_sink_runtime(config, SinkRuntime::Owned(runtime)))
    }

    /// Creates a sink that runs its async work on `handle`, which must belong to a
    /// multi-thread runtime with IO and timers enabled: a current-thread runtime makes no
    /// progress on IO unless its own thread is blocked on it.
    pub fn with_runtime(config: PostgresSinkConfig, handle: Handle) -> Result<Self> {
        config.validate()?;
        if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
            return Err(Error::config(
                POSTGRES_SINK_NAME,
                "the runtime handle belongs to a current-thread runtime: pass a multi-thread \
                 runtime's handle, or use PostgresSink::new, which starts a runtime of its own",
            ));
        }
        Ok(Self::with_sink_runtime(config, SinkRuntime::Shared(handle)))
    }

    fn with_sink_runtime(config: PostgresSinkConfig, runtime: SinkRuntime) -> Self {
        PostgresSink {
            name: POSTGRES_SINK_NAME.to_string(),
            config,
            runtime,
            writer: None,
            progress: None,
        }
    }

    /// Renames the stage, so that a chain can hold more than one sink.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &PostgresSinkConfig {
        &self.config
    }

    /// Connects now instead of at the first batch. Does nothing when connected.
    pub fn connect(&mut self) -> Result<()> {
        if self.writer.is_none() {
            let stage = self.name.clone();
            let config = self.config.clone();
            let writer = self.block_on(PostgresWriter::connect_as(stage, config))??;
            self.writer = Some(writer);
        }
        Ok(())
    }

    /// Connects if needed and returns the pipeline's last committed checkpoint.
    pub fn last_checkpoint(&mut self) -> Result<Option<Checkpoint>> {
        self.connect()?;
        let writer = self.take_writer()?;
        let outcome = self.block_on(writer.last_checkpoint());
        self.writer = Some(writer);
        outcome?
    }

    /// Takes the writer out of the sink, so that a future borrowing it can run on the
    /// sink's runtime. The caller puts it back.
    fn take_writer(&mut self) -> Result<PostgresWriter> {
        self.writer.take().ok_or_else(|| {
            Error::Internal("the PostgreSQL sink used its writer before connecting".into())
        })
    }

    /// Runs `future` to completion on the sink's runtime. A caller on a tokio thread cannot
    /// block it, so there the future runs on a scoped thread of its own.
    fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let run = move || match &self.runtime {
            SinkRuntime::Owned(runtime) => runtime.block_on(future),
            SinkRuntime::Shared(handle) => handle.block_on(future),
        };
        if Handle::try_current().is_ok() {
            std::thread::scope(|scope| scope.spawn(run).join()).map_err(|_| {
                Error::Internal(format!(
                    "the PostgreSQL thread of stage {} panicked",
                    self.name
                ))
            })
        } else {
            Ok(run())
        }
    }

    /// Rolls back a transaction left open by a round that failed.
    fn discard_stale_round(&mut self, round: u32) -> Result<()> {
        let stale = self
            .progress
            .as_ref()
            .is_some_and(|progress| progress.round != round);
        if !stale {
            return Ok(());
        }
        if let Some(progress) = self.progress.take() {
            tracing::debug!(stage = %self.name, round = progress.round, rows = progress.rows, "rolling back the rows of an unfinished round");
        }
        let mut writer = self.take_writer()?;
        let outcome = self.block_on(writer.rollback());
        self.writer = Some(writer);
        outcome?
    }

    /// Puts the writer back after a successful call. After a failed one it drops the writer,
    /// which closes the connection, so the server rolls back the open transaction. The next
    /// call connects afresh, which also recovers from a lost connection.
    fn keep_writer_if_ok<T>(&mut self, writer: PostgresWriter, outcome: &Result<Result<T>>) {
        if matches!(outcome, Ok(Ok(_))) {
            self.writer = Some(writer);
        } else {
            self.progress = None;
        }
    }

    fn commit(&mut self, ctx: &StageContext) -> Result<()> {
        let progress = self.progress.take().unwrap_or_else(|| Progress {
            round: ctx.round(),
            ..Progress::default()
        });
        let position = progress.position();
        let mut writer = self.take_writer()?;
        let outcome = self.block_on(writer.commit(&position));
        self.keep_writer_if_ok(writer, &outcome);
        outcome??;
        ctx.audit(
            AuditAction::Share,
            &format!(
                "postgresql {}.{} at {}",
                self.config.schema,
                self.config.table,
                self.config.connection.redacted()
            ),
            &format!("rows={} checkpoint={position}", progress.rows),
        )?;
        tracing::info!(
            stage = %self.name,
            round = progress.round,
            rows = progress.rows,
            table = %self.config.table,
            "committed rows to PostgreSQL"
        );
        Ok(())
    }
}

impl CheckpointStore for PostgresSink {
    fn commits_each_batch(&self) -> bool {
        self.config.commit == CommitMode::Batch
    }

    fn load_position(&mut self) -> Result<Option<SourcePosition>> {
        let Some(checkpoint) = self.last_checkpoint()? else {
            return Ok(None);
        };
        match checkpoint.position.get("source_position") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone()).map(Some).map_err(|error| {
                Error::config(
                    &self.name,
                    format!(
                        "the checkpoint of pipeline {:?} holds source position {value}, which is \
                         not a source position ({error}); delete the checkpoint row to start over",
                        checkpoint.pipeline_id
                    ),
                )
            }),
        }
    }
}

impl Stage for PostgresSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        self.config.to_redacted_json()
    }

    fn describe(&self) -> String {
        format!(
            "writes governed data to PostgreSQL table {}.{} at {}",
            self.config.schema,
            self.config.table,
            self.config.connection.redacted()
        )
    }
}

impl Applicator for PostgresSink {
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        self.connect()?;
        self.discard_stale_round(round)?;
        let mut writer = self.take_writer()?;
        let outcome = self.block_on(writer.write(batch));
        self.keep_writer_if_ok(writer, &outcome);
        outcome??;

        let progress = self.progress.get_or_insert_with(|| Progress {
            round,
            ..Progress::default()
        });
        progress.batches += 1;
        // Rows received, not rows the upsert changed, so the count matches the chain's.
        progress.rows += batch.num_rows() as u64;
        let highest = batch.row_ids().values().iter().copied().max();
        progress.last_row_id = progress.last_row_id.max(highest);
        progress.source = Some(batch.provenance.source.clone());
        progress.collected_at_ms = Some(batch.provenance.collected_at_ms);
        if let Some(position) = &batch.provenance.position {
            progress.source_position = Some(position.clone());
        }

        if self.config.commit == CommitMode::Batch {
            self.commit(ctx)?;
        }
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        self.connect()?;
        self.discard_stale_round(ctx.round())?;
        if self.config.commit == CommitMode::Round {
            let rows = self.progress.as_ref().map_or(0, |progress| progress.rows);
            if rows != summary.rows_delivered {
                return Err(Error::Internal(format!(
                    "PostgreSQL sink {} wrote {rows} rows but the chain delivered {}",
                    self.name, summary.rows_delivered
                )));
            }
            self.commit(ctx)?;
        }
        Ok(())
    }
}
