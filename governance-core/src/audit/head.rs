//! The head of an audit log kept apart from the log, so that cutting records from the end
//! of the log is found at verification.

use std::fmt;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AuditRecord, ChainCursor, GENESIS_HASH, verify_lines};
use crate::{Error, Result};

/// End of a log's chain: the sequence number of the next record and the hash of the last
/// one ([`GENESIS_HASH`] for an empty log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// Sequence number the next record gets, which is the number of records since the
    /// first.
    pub next_seq: u64,
    /// Hash of the record `next_seq - 1`.
    pub hash: String,
}

/// A destination for the head of an audit log that the log's writer cannot rewrite, such as
/// a file on another volume, a write-once store or a remote service. The log sends its head
/// on every [`AuditLog::flush`](super::AuditLog::flush).
pub trait AuditHeadSink: Send + fmt::Debug {
    /// Stores `head`, replacing the previous one.
    fn write_head(&mut self, head: &AuditHead) -> Result<()>;
}

/// Writes the head as JSON to one file, replaced atomically (a synced temporary file, then
/// a rename), so the file always contains a whole head.
#[derive(Debug, Clone)]
pub struct FileHeadSink {
    path: PathBuf,
}

impl FileHeadSink {
    /// Creates a sink writing to `path`. Keep it outside the audit folder, out of reach of
    /// anyone who can rewrite the log.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileHeadSink { path: path.into() }
    }

    /// Returns the file the head is written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditHeadSink for FileHeadSink {
    fn write_head(&mut self, head: &AuditHead) -> Result<()> {
        let bytes = serde_json::to_vec(head)
            .map_err(|error| Error::Internal(format!("audit head not serialisable: {error}")))?;
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = File::create(&temporary).map_err(|source| Error::io(&temporary, source))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|source| Error::io(&temporary, source))?;
        fs::rename(&temporary, &self.path).map_err(|source| Error::io(&self.path, source))
    }
}

/// Reads a head written by [`FileHeadSink`].
pub fn read_head(path: impl AsRef<Path>) -> Result<AuditHead> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| Error::io(path, source))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        Error::InvalidInput(format!(
            "{} is not an audit head ({error}); it should hold {{\"next_seq\": N, \"hash\": \
             \"<64 hex digits>\"}} as written by FileHeadSink",
            path.display()
        ))
    })
}

/// Verifies a single-file log as [`verify_file`](super::verify_file) does and then checks
/// that the chain reaches `expected`, which finds records cut from the end of the file.
/// The log may have grown since the head was written.
pub fn verify_file_with_head(path: impl AsRef<Path>, expected: &AuditHead) -> Result<u64> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut cursor = ChainCursor {
        seq: 0,
        prev_hash: GENESIS_HASH.to_string(),
    };
    let target = expected.next_seq.checked_sub(1);
    let mut seen = None;
    verify_lines(
        std::io::BufReader::new(file),
        path,
        "",
        &mut cursor,
        |record: &AuditRecord| {
            if Some(record.seq) == target {
                seen = Some(record.hash.clone());
            }
        },
    )?;
    check_head(cursor.seq, seen, 0, expected)?;
    Ok(cursor.seq)
}

/// Checks a verified chain that ends before `next_seq` against `expected`. `seen` is the
/// hash of record `expected.next_seq - 1` when verification read it, and `first_seq` the
/// first retained record.
pub(super) fn check_head(
    next_seq: u64,
    seen: Option<String>,
    first_seq: u64,
    expected: &AuditHead,
) -> Result<()> {
    if next_seq < expected.next_seq {
        return Err(Error::AuditTampered {
            record: next_seq,
            line: 0,
            reason: format!(
                "the log ends before record {next_seq}, but the head kept apart names {} \
                 records; records {next_seq}..{} were cut from its end",
                expected.next_seq,
                expected.next_seq - 1
            ),
        });
    }
    let matches = match (expected.next_seq, seen) {
        (0, _) => expected.hash == GENESIS_HASH,
        (_, Some(hash)) => hash == expected.hash,
        // The record was pruned by retention, so only the length can be checked.
        (seq, None) => seq - 1 < first_seq,
    };
    if !matches {
        let record = expected.next_seq.saturating_sub(1);
        return Err(Error::AuditTampered {
            record,
            line: 0,
            reason: format!(
                "record {record} does not have the hash the head kept apart names; the end \
                 of the log was rewritten"
            ),
        });
    }
    Ok(())
}
