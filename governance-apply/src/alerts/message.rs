//! The JSON body of an alert and the dead-letter file that keeps alerts no webhook took.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use governance_core::{Error, Finding, Result, Severity};
use serde::{Deserialize, Serialize};

/// Event that an alert reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertEvent {
    /// An analyzer's finding at or above the sink's minimum severity.
    Finding {
        /// The finding as the analyzer made it.
        finding: Box<Finding>,
    },
    /// A round of the chain failed.
    RoundFailed {
        /// The chain's error with its causes, joined by `: `.
        error: String,
    },
}

/// The JSON body posted to each webhook, and the `alert` of a dead-letter record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// Random id (UUID v4), the same on every attempt and every webhook, so that a receiver
    /// can drop a repeat.
    pub id: String,
    /// Name of the sink stage that sent it.
    pub sink: String,
    /// Round of the chain, from 1.
    pub round: u32,
    /// Severity: the finding's (`info` when it has none), `error` for a failed round.
    pub severity: Severity,
    /// Time the alert was made, RFC 3339 in UTC.
    pub created_at: String,
    /// What happened.
    #[serde(flatten)]
    pub event: AlertEvent,
}

impl AlertMessage {
    pub(crate) fn new(sink: &str, round: u32, severity: Severity, event: AlertEvent) -> Self {
        AlertMessage {
            id: uuid::Uuid::new_v4().to_string(),
            sink: sink.to_string(),
            round,
            severity,
            created_at: now_rfc3339(),
            event,
        }
    }
}

/// One line of the dead-letter file: an alert that a webhook did not take, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRecord {
    /// Name of the webhook (never its URL).
    pub webhook: String,
    /// Reason the alert was not delivered, such as `HTTP 500 after 4 attempts`.
    pub reason: String,
    /// Attempts made; 0 when the alert never left its queue.
    pub attempts: u32,
    /// Time the record was written, RFC 3339 in UTC.
    pub recorded_at: String,
    /// The alert as it would have been posted.
    pub alert: AlertMessage,
}

/// Reads every record of a dead-letter file, to inspect or resend them. A missing file has
/// no records.
pub fn read_dead_letter(path: impl AsRef<Path>) -> Result<Vec<DeadLetterRecord>> {
    let path = path.as_ref();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(path, error)),
    };
    let mut records = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|error| Error::io(path, error))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|error| {
            Error::InvalidInput(format!(
                "line {} of dead-letter file {} is not a dead-letter record: {error}",
                index + 1,
                path.display()
            ))
        })?;
        records.push(record);
    }
    Ok(records)
}

/// The dead-letter file, shared by the sink and its delivery thread. Each record is one
/// appended line followed by an fsync, so a record that was reported written survives a
/// crash.
#[derive(Debug)]
pub(crate) struct DeadLetter {
    path: PathBuf,
    lock: Mutex<()>,
}

impl DeadLetter {
    pub(crate) fn new(path: PathBuf) -> Self {
        DeadLetter {
            path,
            lock: Mutex::new(()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs the file.
    pub(crate) fn append(
        &self,
        webhook: &str,
        reason: &str,
        attempts: u32,
        alert: &AlertMessage,
    ) -> Result<()> {
        let record = DeadLetterRecord {
            webhook: webhook.to_string(),
            reason: reason.to_string(),
            attempts,
            recorded_at: now_rfc3339(),
            alert: alert.clone(),
        };
        let mut line = serde_json::to_vec(&record).map_err(|error| {
            Error::Internal(format!("cannot serialize a dead-letter record: {error}"))
        })?;
        line.push(b'\n');

        // A poisoned lock only means another writer panicked; the file is still usable.
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(folder) = self
            .path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|error| Error::io(folder, error))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|error| Error::io(&self.path, error))?;
        file.write_all(&line)
            .map_err(|error| Error::io(&self.path, error))?;
        file.sync_data()
            .map_err(|error| Error::io(&self.path, error))?;
        Ok(())
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use governance_core::FindingKind;

    use super::*;

    #[test]
    fn dead_letter_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested").join("dead.jsonl");
        let dead_letter = DeadLetter::new(path.clone());
        let finding = Finding::new(FindingKind::Alert, "pm25_limit", "alert", "pm25 high");
        let alert = AlertMessage::new(
            "alerts",
            2,
            Severity::Error,
            AlertEvent::Finding {
                finding: Box::new(finding),
            },
        );
        dead_letter
            .append("ops", "HTTP 500 after 4 attempts", 4, &alert)
            .expect("append");
        dead_letter
            .append("ops", "queue full", 0, &alert)
            .expect("append");

        let records = read_dead_letter(&path).expect("read");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].alert, alert);
        assert_eq!(records[0].attempts, 4);
        assert_eq!(records[1].reason, "queue full");
    }

    #[test]
    fn alert_body_is_flat_json() {
        let alert = AlertMessage::new(
            "alerts",
            1,
            Severity::Error,
            AlertEvent::RoundFailed {
                error: "stage fails failed: disk full".into(),
            },
        );
        let json = serde_json::to_value(&alert).expect("serialize");
        assert_eq!(json["type"], "round_failed");
        assert_eq!(json["severity"], "error");
        assert_eq!(json["error"], "stage fails failed: disk full");
    }

    #[test]
    fn missing_dead_letter_has_no_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let records = read_dead_letter(dir.path().join("none.jsonl")).expect("read");
        assert!(records.is_empty());
    }
}
