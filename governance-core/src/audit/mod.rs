//! The tamper-evident audit log: an append-only list of reads, changes, shares and policy
//! decisions in which each record carries the SHA-256 of its predecessor.
//!
//! On disk the log is JSON Lines, one record per line in a canonical form, either in one file
//! ([`AuditLog::create`], checked by [`verify_file`]) or in a folder of rotated segment files
//! with buffered writes, a chosen fsync policy and retention ([`AuditLog::open_dir`], checked
//! by [`verify_dir`]). Verification names the first record that does not verify. Because
//! every record must re-serialise to exactly its own bytes, must hash to the value stored in
//! it and in its successor, and must carry the next sequence number, changing any single byte
//! and deleting, inserting or reordering records all fail verification.
//!
//! A hash chain cannot show that records were cut from its end. Give the log an
//! [`AuditHeadSink`] (such as [`FileHeadSink`]) that stores [`AuditLog::head`] on every flush
//! somewhere the writer of the log cannot change, and verify with [`verify_dir_with_head`] or
//! [`verify_file_with_head`].
//!
//! A crash while a record is being written leaves a segment whose last line is incomplete.
//! [`AuditLog::open_dir`] cuts that line and appends a record that says so, so the repair
//! is itself audited.
//!
//! The audit log is data, not logging: it is never written through `tracing`.
//!
//! ```
//! use governance_core::audit::{AuditAction, AuditLog, AuditStoreConfig, FsyncPolicy, verify_dir};
//!
//! let dir = tempfile::tempdir()?;
//! let config = AuditStoreConfig { fsync: FsyncPolicy::OnFlush, ..AuditStoreConfig::default() };
//! let mut log = AuditLog::open_dir(dir.path(), config)?;
//! log.append("csv", AuditAction::Read, "tickets.csv", "rows=120")?;
//! log.flush()?;
//! assert_eq!(verify_dir(dir.path())?.records, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod head;
mod record;
mod store;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use head::{AuditHead, AuditHeadSink, FileHeadSink, read_head, verify_file_with_head};
pub use record::{AccessDetails, AuditAction, AuditDecision, AuditRecord};
pub use store::{
    AuditStoreConfig, FsyncPolicy, Retention, VerifiedLog, export_dir, verify_dir,
    verify_dir_with_head,
};

use crate::{Error, Result};
use head::check_head;
use store::SegmentStore;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Destination of an [`AuditLog`]'s records.
#[derive(Debug)]
enum Sink {
    /// Kept in memory only.
    Memory,
    /// One JSON Lines file, flushed to the operating system after every record.
    File {
        path: PathBuf,
        writer: BufWriter<File>,
    },
    /// Rotated segment files in a folder.
    Segments(SegmentStore),
}

/// An append-only audit log, in memory and optionally written to disk.
#[derive(Debug)]
pub struct AuditLog {
    /// Records appended since the log was opened, at most `memory_window` of them when set.
    records: Vec<AuditRecord>,
    memory_window: Option<usize>,
    next_seq: u64,
    last_hash: String,
    sink: Sink,
    /// Receives the head on every flush.
    head_sink: Option<Box<dyn AuditHeadSink>>,
}

/// A shared handle to an audit log, cloned into every stage context.
pub type AuditHandle = Arc<Mutex<AuditLog>>;

impl AuditLog {
    /// Creates a log kept only in memory.
    pub fn in_memory() -> Self {
        AuditLog {
            records: Vec::new(),
            memory_window: None,
            next_seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            sink: Sink::Memory,
            head_sink: None,
        }
    }

    /// Creates a log that is also written to one file at `path`, replacing any file there.
    /// Every record is flushed to the operating system as it is appended, so the file always
    /// ends with a whole record. Only [`AuditLog::flush`] syncs it to disk.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(|source| Error::io(&path, source))?;
        Ok(AuditLog {
            sink: Sink::File {
                path,
                writer: BufWriter::new(file),
            },
            ..AuditLog::in_memory()
        })
    }

    /// Opens the segmented log in folder `dir`, creating the folder when it is missing, and
    /// continues the chain after its last record. Only records appended after opening are
    /// kept in memory, at most [`AuditStoreConfig::memory_window`] of them.
    ///
    /// When the last segment ends with an incomplete record, left by a crash during a
    /// write, the incomplete bytes are cut, a record of the repair (segment, bytes cut) is
    /// appended and the log is flushed. Complete records are never changed.
    ///
    /// Fails when the folder cannot be read or written, when the config is invalid, or when
    /// a complete record of the last segment does not verify. Run [`verify_dir`] to find
    /// the record.
    pub fn open_dir(dir: impl AsRef<Path>, config: AuditStoreConfig) -> Result<Self> {
        let memory_window = config.memory_window;
        let (store, next_seq, last_hash, repair) = SegmentStore::open(dir.as_ref(), config)?;
        let mut log = AuditLog {
            records: Vec::new(),
            memory_window: Some(memory_window),
            next_seq,
            last_hash,
            sink: Sink::Segments(store),
            head_sink: None,
        };
        if let Some(repair) = repair {
            let detail = format!(
                "cut an incomplete last record of {} bytes from {} after a crash; record {} \
                 was never completely written",
                repair.bytes, repair.segment, next_seq
            );
            log.append("audit_store", AuditAction::Change, "repair", &detail)?;
            log.flush()?;
        }
        Ok(log)
    }

    /// Returns the log sending its head to `sink` on every [`AuditLog::flush`], and once
    /// now. A head kept where the log's writer cannot change it lets
    /// [`verify_dir_with_head`] find records cut from the end of the log.
    pub fn with_head_sink(mut self, sink: impl AuditHeadSink + 'static) -> Result<Self> {
        self.head_sink = Some(Box::new(sink));
        self.flush()?;
        Ok(self)
    }

    /// Wraps the log in a shared handle.
    pub fn into_handle(self) -> AuditHandle {
        Arc::new(Mutex::new(self))
    }

    /// Appends a record and writes it to the file or segment, if any.
    pub fn append(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: &str,
    ) -> Result<&AuditRecord> {
        self.append_record(actor, action, subject, detail, None)
    }

    /// Appends a record of an access: who read which data set, columns and rows, for which
    /// purpose, and the decision with the policy rules behind it.
    pub fn append_access(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: &str,
        access: AccessDetails,
    ) -> Result<&AuditRecord> {
        self.append_record(actor, action, subject, detail, Some(access))
    }

    fn append_record(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: &str,
        access: Option<AccessDetails>,
    ) -> Result<&AuditRecord> {
        let time_ms = now_ms();
        if let Sink::Segments(store) = &mut self.sink
            && let Some(pruned) = store.rotate_if_due(self.next_seq, time_ms)?
        {
            // The retention record chains the anchor into the log, so that a forged anchor
            // file is caught by verification.
            let detail = pruned.detail();
            self.write_record(
                "audit_store",
                AuditAction::Change,
                "retention",
                &detail,
                None,
            )?;
        }
        self.write_record(actor, action, subject, detail, access)
    }

    fn write_record(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: &str,
        access: Option<AccessDetails>,
    ) -> Result<&AuditRecord> {
        let mut record = AuditRecord {
            seq: self.next_seq,
            time_ms: now_ms(),
            actor: actor.to_string(),
            action,
            subject: subject.to_string(),
            detail: detail.to_string(),
            access,
            prev_hash: std::mem::take(&mut self.last_hash),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        match &mut self.sink {
            Sink::Memory => {}
            Sink::File { path, writer } => {
                let line = record.to_line()?;
                writer
                    .write_all(&line)
                    .and_then(|()| writer.flush())
                    .map_err(|source| Error::io(path.clone(), source))?;
            }
            Sink::Segments(store) => store.write(&record.to_line()?)?,
        }
        self.next_seq += 1;
        self.last_hash.clone_from(&record.hash);
        if let Some(window) = self.memory_window {
            // Drop in chunks, so that trimming costs O(1) per record on average.
            if window == 0 {
                self.records.clear();
            } else if self.records.len() >= 2 * window {
                self.records.drain(..self.records.len() + 1 - window);
            }
        }
        self.records.push(record);
        Ok(self
            .records
            .last()
            .unwrap_or_else(|| unreachable!("record was just pushed")))
    }

    /// Writes buffered records to disk and syncs them, whatever the fsync policy, then
    /// sends the head to the head sink, if any.
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.sink {
            Sink::Memory => {}
            Sink::File { path, writer } => writer
                .flush()
                .and_then(|()| writer.get_ref().sync_data())
                .map_err(|source| Error::io(path.clone(), source))?,
            Sink::Segments(store) => store.sync()?,
        }
        if let Some(sink) = &mut self.head_sink {
            sink.write_head(&AuditHead {
                next_seq: self.next_seq,
                hash: self.last_hash.clone(),
            })?;
        }
        Ok(())
    }

    /// Returns the records kept in memory, in order: every record for a log made by
    /// [`AuditLog::in_memory`] or [`AuditLog::create`], the latest ones for a folder log.
    pub fn records(&self) -> &[AuditRecord] {
        &self.records
    }

    /// Returns the sequence number the next record will get and the hash of the last record
    /// ([`GENESIS_HASH`] for an empty log).
    pub fn head(&self) -> (u64, &str) {
        (self.next_seq, &self.last_hash)
    }

    /// Returns the file or folder the log is written to, if any.
    pub fn path(&self) -> Option<&Path> {
        match &self.sink {
            Sink::Memory => None,
            Sink::File { path, .. } => Some(path),
            Sink::Segments(store) => Some(store.dir()),
        }
    }

    /// Verifies the records kept in memory and returns their number. For a folder log the
    /// first record kept is trusted; [`verify_dir`] checks the whole folder.
    pub fn verify(&self) -> Result<u64> {
        let Some(first) = self.records.first() else {
            return Ok(0);
        };
        let (mut seq, mut prev_hash) = if self.memory_window.is_some() {
            (first.seq, first.prev_hash.clone())
        } else {
            (0, GENESIS_HASH.to_string())
        };
        for (index, record) in self.records.iter().enumerate() {
            check_record(record, seq, &prev_hash, index as u64 + 1)?;
            prev_hash.clone_from(&record.hash);
            seq += 1;
        }
        Ok(self.records.len() as u64)
    }

    /// Writes the records kept in memory as JSON Lines, in the same form as the log files.
    pub fn export_jsonl(&self, mut writer: impl Write) -> Result<u64> {
        for record in &self.records {
            writer
                .write_all(&record.to_line()?)
                .map_err(|source| Error::io("audit export", source))?;
        }
        Ok(self.records.len() as u64)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

fn check_record(record: &AuditRecord, expected_seq: u64, prev_hash: &str, line: u64) -> Result<()> {
    let fail = |reason: String| Error::AuditTampered {
        record: expected_seq,
        line,
        reason,
    };
    if record.seq != expected_seq {
        return Err(fail(format!(
            "sequence number {} where {expected_seq} was expected",
            record.seq
        )));
    }
    if record.prev_hash != prev_hash {
        return Err(fail(
            "prev_hash does not match the previous record's hash".into(),
        ));
    }
    if record.hash != record.compute_hash() {
        return Err(fail("hash does not match the record's contents".into()));
    }
    Ok(())
}

/// Position in a chain that verification has reached: the next expected sequence number and
/// the hash of the last verified record.
#[derive(Debug, Clone)]
struct ChainCursor {
    seq: u64,
    prev_hash: String,
}

/// Verifies the JSON Lines records read from `reader` against `cursor` and advances it.
/// `label` prefixes failure reasons (a segment file name) and `on_record` receives each
/// verified record.
fn verify_lines(
    reader: impl BufRead,
    path: &Path,
    label: &str,
    cursor: &mut ChainCursor,
    mut on_record: impl FnMut(&AuditRecord),
) -> Result<()> {
    let mut reader = reader;
    let mut bytes = Vec::new();
    let mut line = 0u64;
    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|source| Error::io(path, source))?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        let seq = cursor.seq;
        let fail = |reason: String| Error::AuditTampered {
            record: seq,
            line,
            reason: format!("{label}{reason}"),
        };
        let Some(body) = bytes.strip_suffix(b"\n") else {
            return Err(fail("the last record does not end with a newline".into()));
        };
        let record: AuditRecord = serde_json::from_slice(body)
            .map_err(|error| fail(format!("not a valid audit record: {error}")))?;
        let canonical = serde_json::to_vec(&record)
            .map_err(|error| Error::Internal(format!("audit record not serialisable: {error}")))?;
        if canonical != body {
            return Err(fail("the record is not in canonical form".into()));
        }
        check_record(&record, seq, &cursor.prev_hash, line).map_err(|error| match error {
            Error::AuditTampered { reason, .. } => fail(reason),
            other => other,
        })?;
        on_record(&record);
        cursor.prev_hash = record.hash;
        cursor.seq += 1;
    }
}

/// Verifies an audit log file offline and returns the number of records. The error names the
/// first record (and its line) that is malformed, out of sequence or whose hash does not match.
///
/// A file cut after a whole record still verifies; see [`verify_file_with_head`].
pub fn verify_file(path: impl AsRef<Path>) -> Result<u64> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut cursor = ChainCursor {
        seq: 0,
        prev_hash: GENESIS_HASH.to_string(),
    };
    verify_lines(BufReader::new(file), path, "", &mut cursor, |_| {})?;
    Ok(cursor.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_log_verifies() {
        let mut log = AuditLog::in_memory();
        log.append("csv", AuditAction::Read, "a.csv", "rows=3")
            .expect("append");
        log.append("mask", AuditAction::Change, "text", "masked=1")
            .expect("append");
        assert_eq!(log.verify().expect("valid"), 2);
        assert_eq!(log.records()[1].prev_hash, log.records()[0].hash);
        assert_eq!(log.head(), (2, log.records()[1].hash.as_str()));
    }

    #[test]
    fn access_details_change_the_hash() {
        let mut log = AuditLog::in_memory();
        let access = AccessDetails {
            subject: "u-17".into(),
            dataset: "tickets".into(),
            columns: vec!["district".into()],
            rows: 4,
            purpose: "report".into(),
            decision: Some(AuditDecision::Allow),
            rules: vec!["analysts-read".into()],
            ..AccessDetails::default()
        };
        let record = log
            .append_access("guard", AuditAction::Decision, "tickets", "", access)
            .expect("append")
            .clone();
        let mut changed = record.clone();
        if let Some(access) = changed.access.as_mut() {
            access.rows = 5;
        }
        assert_eq!(record.hash, record.compute_hash());
        assert_ne!(changed.compute_hash(), record.hash);
    }

    #[test]
    fn memory_window_keeps_latest_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = AuditStoreConfig {
            memory_window: 3,
            ..AuditStoreConfig::default()
        };
        let mut log = AuditLog::open_dir(dir.path(), config).expect("open");
        for index in 0..20 {
            log.append("t", AuditAction::Read, "s", &format!("n={index}"))
                .expect("append");
        }
        assert!(log.records().len() <= 6, "{}", log.records().len());
        assert_eq!(log.records().last().map(|record| record.seq), Some(19));
        assert!(log.verify().is_ok());
    }
}
