//! The audit record and its hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

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

/// Outcome of an access decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    /// Access was granted, possibly to fewer columns or rows, or masked.
    Allow,
    /// Access was refused.
    Deny,
}

impl AuditDecision {
    /// Returns the snake_case name, `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditDecision::Allow => "allow",
            AuditDecision::Deny => "deny",
        }
    }
}

/// Who accessed what, why, and with which outcome. Never contains personal data values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessDetails {
    /// The requesting subject's id, or its role when the request names no id.
    pub subject: String,
    /// The subject's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The subject's department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The data set accessed.
    pub dataset: String,
    /// The columns read or shared.
    pub columns: Vec<String>,
    /// The rows read or shared.
    pub rows: u64,
    /// The declared purpose of the access.
    pub purpose: String,
    /// The decision, for records of policy decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AuditDecision>,
    /// Ids of the policy rules that produced the decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
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
    /// Access details (subject, data, purpose) on records of accesses. Absent on other
    /// records and on records written before the field existed, which keep their hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessDetails>,
    /// Hash of the previous record, or [`GENESIS_HASH`](super::GENESIS_HASH).
    pub prev_hash: String,
    /// SHA-256 over this record's other fields, hex encoded.
    pub hash: String,
}

impl AuditRecord {
    /// Computes the SHA-256 over every field but `hash`, as hex.
    pub fn compute_hash(&self) -> String {
        // Canonical JSON of the fields in declaration order. `access` joins the list only when
        // present, so that records without it hash as they did before it existed.
        let mut body = vec![
            serde_json::json!(self.seq),
            serde_json::json!(self.time_ms),
            serde_json::json!(self.actor),
            serde_json::json!(self.action),
            serde_json::json!(self.subject),
            serde_json::json!(self.detail),
            serde_json::json!(self.prev_hash),
        ];
        if let Some(access) = &self.access {
            body.push(serde_json::json!(access));
        }
        let text = serde_json::Value::Array(body).to_string();
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// Serialises the record as one JSON line, newline included.
    pub(super) fn to_line(&self) -> Result<Vec<u8>> {
        let mut line = serde_json::to_vec(self)
            .map_err(|error| Error::Internal(format!("audit record not serialisable: {error}")))?;
        line.push(b'\n');
        Ok(line)
    }
}
