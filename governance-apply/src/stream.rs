//! [`run_checkpointed`]: drives a resumable collector into a checkpointing sink, one commit
//! per batch, following the contract of [`governance_core::checkpoint`].

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use governance_core::audit::AuditHandle;
use governance_core::{Applicator, CheckpointStore, Collector, Error, Result, StageContext};

/// Options of [`run_checkpointed`].
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// JSON Lines file that quarantined records are appended to, flushed after each
    /// commit; quarantined records are counted but not kept when absent.
    pub quarantine_file: Option<PathBuf>,
    /// Stops after this many batches; runs until the collector is exhausted when absent.
    pub max_batches: Option<u64>,
}

/// Counts of one [`run_checkpointed`] call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Batches committed.
    pub batches: u64,
    /// Rows committed.
    pub rows: u64,
    /// Records quarantined by the collector.
    pub quarantined: u64,
}

/// Resumes `collector` from the position `sink` committed last, then moves every batch into
/// the sink and calls [`Collector::committed`] after each commit, until the collector is exhausted.
///
/// The sink must commit each batch within [`Applicator::apply`] together with the batch's
/// source position ([`CheckpointStore::commits_each_batch`]), otherwise this returns a config
/// error before reading anything. [`crate::ParquetPartSink`] does, and so does
/// [`crate::PostgresSink`] with [`crate::CommitMode::Batch`].
pub fn run_checkpointed<C, S>(
    collector: &mut C,
    sink: &mut S,
    audit: AuditHandle,
    options: &StreamOptions,
) -> Result<StreamStats>
where
    C: Collector + ?Sized,
    S: Applicator + CheckpointStore + ?Sized,
{
    if !sink.commits_each_batch() {
        return Err(Error::config(
            sink.name(),
            "the sink does not commit each batch with its source position, so the collector \
             would release records that are not durable; use a sink that does, such as the \
             PostgreSQL sink with commit = \"batch\"",
        ));
    }
    let position = sink.load_position()?;
    collector.resume(position.as_ref())?;
    let mut collect_ctx = StageContext::new(collector.name().to_string(), 1, audit.clone());
    let mut sink_ctx = StageContext::new(sink.name().to_string(), 1, audit);
    let mut quarantine = match &options.quarantine_file {
        Some(path) => Some(QuarantineFile::open(path.clone())?),
        None => None,
    };
    let mut stats = StreamStats::default();
    while options.max_batches.is_none_or(|max| stats.batches < max) {
        let Some(batch) = collector.next_batch(&mut collect_ctx)? else {
            break;
        };
        sink.apply(&batch, &mut sink_ctx)?;
        stats.batches += 1;
        stats.rows += batch.num_rows() as u64;
        let quarantined = collect_ctx.take_quarantined();
        stats.quarantined += quarantined.len() as u64;
        if let Some(file) = quarantine.as_mut() {
            file.append(&quarantined)?;
        }
        if let Some(position) = &batch.provenance.position {
            collector.committed(position)?;
        }
    }
    // Records quarantined after the last batch (a stream that ended on malformed input).
    let quarantined = collect_ctx.take_quarantined();
    stats.quarantined += quarantined.len() as u64;
    if let Some(file) = quarantine.as_mut() {
        file.append(&quarantined)?;
    }
    Ok(stats)
}

struct QuarantineFile {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl QuarantineFile {
    fn open(path: PathBuf) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| Error::io(&path, source))?;
        Ok(QuarantineFile {
            path,
            writer: BufWriter::new(file),
        })
    }

    fn append(&mut self, rows: &[governance_core::QuarantinedRow]) -> Result<()> {
        for row in rows {
            serde_json::to_writer(&mut self.writer, row).map_err(|error| {
                Error::Internal(format!("cannot serialise a quarantined row: {error}"))
            })?;
            self.writer
                .write_all(b"\n")
                .map_err(|source| Error::io(&self.path, source))?;
        }
        self.writer
            .flush()
            .map_err(|source| Error::io(&self.path, source))
    }
}
