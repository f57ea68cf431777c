//! [`RecollectionTarget`]: where a source issue's re-collection request goes, a re-query
//! of an HTTP poll collector or a line of a report file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use governance_core::{Error, Result};
use serde::Serialize;
use serde_json::Value;

use super::check::SourceIssue;
use crate::http::PollControl;

/// Receiver of the re-collection requests of a [`ValidatingCollector`](super::ValidatingCollector).
#[derive(Debug, Clone)]
pub enum RecollectionTarget {
    /// Queues a re-query of the range on an HTTP poll collector, which runs it before its
    /// next poll and records the outcome as a `recollection` lineage event.
    Http(PollControl),
    /// Appends one JSON object per request to this JSON Lines file, for an operator to
    /// fetch the range again and drop the files into the folder.
    Report(PathBuf),
}

/// One line of a re-collection report.
#[derive(Debug, Serialize)]
pub struct ReportLine<'a> {
    /// Time the request was written, RFC 3339 in UTC.
    pub requested_at: String,
    /// Name of the collector stage.
    pub collector: &'a str,
    /// The source of the batch, such as the file path.
    pub file: &'a str,
    /// The issue with its range, key and reason.
    #[serde(flatten)]
    pub issue: &'a SourceIssue,
}

impl RecollectionTarget {
    /// Returns the target's name in lineage: `http_requery` or `report`.
    pub fn kind(&self) -> &'static str {
        match self {
            RecollectionTarget::Http(_) => "http_requery",
            RecollectionTarget::Report(_) => "report",
        }
    }

    /// Sends the request for `issue`, found in a batch of `source`; returns what lineage
    /// records as its outcome at request time. Fails when the report cannot be written, so
    /// that no request is lost.
    pub(crate) fn send(&self, collector: &str, source: &str, issue: &SourceIssue) -> Result<Value> {
        match self {
            RecollectionTarget::Http(control) => {
                control.request_recollection(issue.from, issue.to, issue.reason.clone())?;
                Ok(serde_json::json!({"status": "queued"}))
            }
            RecollectionTarget::Report(path) => {
                let line = ReportLine {
                    requested_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
                    collector,
                    file: source,
                    issue,
                };
                let mut text = serde_json::to_string(&line).map_err(|error| {
                    Error::Internal(format!(
                        "cannot serialise a re-collection report line: {error}"
                    ))
                })?;
                text.push('\n');
                append(path, &text).map_err(|error| {
                    Error::config(
                        collector,
                        format!(
                            "cannot append to the re-collection report {}: {error}; make its \
                             folder exist and be writable",
                            path.display()
                        ),
                    )
                })?;
                Ok(serde_json::json!({"status": "reported", "path": path.display().to_string()}))
            }
        }
    }
}

/// Appends `text` and syncs it, so that a request survives a crash right after.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_data()
}
