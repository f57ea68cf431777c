//! Lineage records (what each stage did, per round) and the quarantine of rejected rows.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Record of one stage in one round of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRecord {
    /// Round of the closed loop, starting at 1.
    pub round: u32,
    /// Stage name.
    pub stage: String,
    /// Stage kind: collector, cleaner, fuser, analyzer, guard or applicator.
    pub kind: String,
    /// Stage version; changes when a learner adjusts the stage.
    pub version: String,
    /// SHA-256 of the stage's parameters as canonical JSON, hex encoded.
    pub params_hash: String,
    /// Rows that entered the stage (for a collector: rows read from the source).
    pub rows_in: u64,
    /// Rows that left the stage.
    pub rows_out: u64,
    /// Rows sent to quarantine.
    pub rows_quarantined: u64,
    /// Rows merged into other rows.
    pub rows_merged: u64,
    /// Wall time spent inside the stage, in seconds.
    pub seconds: f64,
    /// Events the stage recorded during the round, such as a re-collection or a change of
    /// its poll interval, in the order recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LineageEvent>,
}

/// Something a stage did during a round that its parameters hash does not show, recorded
/// through [`StageContext::record_event`](crate::StageContext::record_event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageEvent {
    /// Event kind, such as `recollection` or `poll_interval_changed`.
    pub kind: String,
    /// The event's parameters and outcome, as JSON.
    pub parameters: serde_json::Value,
}

/// A versioned change a learner made between rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Stage that changed.
    pub stage: String,
    /// Version before the change.
    pub from_version: String,
    /// Version after the change.
    pub to_version: String,
    /// Description of the change, for people.
    pub description: String,
    /// New parameters, as JSON.
    pub params: serde_json::Value,
}

/// Returns the hex SHA-256 of a value's JSON form. Struct fields serialise in declaration
/// order and maps used in configs are ordered, so equal configs hash equally.
pub fn params_hash(params: &serde_json::Value) -> String {
    let text = params.to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A record rejected by a stage, kept with the reason instead of being dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedRow {
    /// Stage that rejected it.
    pub stage: String,
    /// Row id, when the record had been given one.
    pub row_id: Option<u64>,
    /// Source file or stream, when known.
    pub source: Option<String>,
    /// 1-based line in the source, when known.
    pub line: Option<u64>,
    /// Reason for the rejection.
    pub reason: String,
    /// The raw record as text, so nothing is lost.
    pub raw: String,
}
