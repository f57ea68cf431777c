//! The tamper-evident audit log: an append-only list of reads, changes, shares and policy
//! decisions in which each record carries the SHA-256 of its predecessor.
//!
//! On disk the log is JSON Lines, one record per line in a canonical form. [`verify_file`]
//! checks the whole file offline and names the first record that does not verify. Because
//! every record must re-serialise to exactly its own bytes and must hash to the value stored
//! in it and in its successor, changing any single byte of the file fails verification.
//!
//! The audit log is data, not logging: it is never written through `tracing`.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Kind of an audited event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Data was read from a source.
    Read,
    /// Data was changed (cleaned, masked, merged).
    Change,
    /// Data was handed to a consumer or written out.
    Share,
    /// A policy decision (allow, mask, deny).
    Decision,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Time in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Actor: a stage name or a role.
    pub actor: String,
    /// Action taken.
    pub action: AuditAction,
    /// Subject of the action, such as a source or a column.
    pub subject: String,
    /// Details, such as counts or the decision's reason. Must not contain personal data values.
    pub detail: String,
    /// Hash of the previous record, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// SHA-256 over this record's other fields, hex encoded.
    pub hash: String,
}

impl AuditRecord {
    fn compute_hash(&self) -> String {
        // Hash the canonical JSON of every field but `hash`, in declaration order.
        let body = serde_json::json!([
            self.seq,
            self.time_ms,
            self.actor,
            self.action,
            self.subject,
            self.detail,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }
}

/// An append-only audit log, in memory and optionally mirrored to a JSON Lines file.
#[derive(Debug)]
pub struct AuditLog {
    records: Vec<AuditRecord>,
    file: Option<(PathBuf, BufWriter<File>)>,
}

/// A shared handle to an audit log, cloned into every stage context.
pub type AuditHandle = Arc<Mutex<AuditLog>>;

impl AuditLog {
    /// Creates a log kept only in memory.
    pub fn in_memory() -> Self {
        AuditLog {
            records: Vec::new(),
            file: None,
        }
    }

    /// Creates a log that is also written to `path`, replacing any file there.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(|source| Error::io(&path, source))?;
        Ok(AuditLog {
            records: Vec::new(),
            file: Some((path, BufWriter::new(file))),
        })
    }

    /// Wraps the log in a shared handle.
    pub fn into_handle(self) -> AuditHandle {
        Arc::new(Mutex::new(self))
    }

    /// Appends a record and writes it through to the file, if any.
    pub fn append(
        &mut self,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: &str,
    ) -> Result<&AuditRecord> {
        let prev_hash = self
            .records
            .last()
            .map_or_else(|| GENESIS_HASH.to_string(), |record| record.hash.clone());
        let time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as i64)
            .unwrap_or(0);
        let mut record = AuditRecord {
            seq: self.records.len() as u64,
            time_ms,
            actor: actor.to_string(),
            action,
            subject: subject.to_string(),
            detail: detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        if let Some((path, writer)) = &mut self.file {
            let line = serde_json::to_string(&record).map_err(|error| {
                Error::Internal(format!("audit record not serialisable: {error}"))
            })?;
            writeln!(writer, "{line}")
                .and_then(|()| writer.flush())
                .map_err(|source| Error::io(path.clone(), source))?;
        }
        self.records.push(record);
        Ok(self
            .records
            .last()
            .unwrap_or_else(|| unreachable!("record was just pushed")))
    }

    /// Returns the records in order.
    pub fn records(&self) -> &[AuditRecord] {
        &self.records
    }

    /// Returns the file the log is mirrored to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(path, _)| path.as_path())
    }

    /// Verifies the in-memory records.
    pub fn verify(&self) -> Result<u64> {
        let mut prev_hash = GENESIS_HASH.to_string();
        for (index, record) in self.records.iter().enumerate() {
            check_record(record, index as u64, &prev_hash, index as u64 + 1)?;
            prev_hash = record.hash.clone();
        }
        Ok(self.records.len() as u64)
    }
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

/// Verifies an audit log file offline and returns the number of records. The error names the
/// first record (and its line) that is malformed, out of sequence or whose hash does not match.
pub fn verify_file(path: impl AsRef<Path>) -> Result<u64> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut reader = BufReader::new(file);
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut bytes = Vec::new();
    let mut seq = 0u64;
    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|source| Error::io(path, source))?;
        if read == 0 {
            return Ok(seq);
        }
        let line = seq + 1;
        let fail = |reason: String| Error::AuditTampered {
            record: seq,
            line,
            reason,
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
        check_record(&record, seq, &prev_hash, line)?;
        prev_hash = record.hash;
        seq += 1;
    }
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
    }
}
