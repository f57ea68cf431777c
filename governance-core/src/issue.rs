//! The cell-level issue log: findings about single cells or rows, appended by stages and never
//! rewritten.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float32Builder, RecordBatch, StringBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::Result;

/// Kind of problem an issue reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssueKind {
    /// A required value is null or blank.
    Missing,
    /// A value is outside its allowed range.
    OutOfRange,
    /// A value is not in its allowed set.
    NotAllowed,
    /// A value does not parse in the expected format.
    Format,
    /// A row repeats the key of another row.
    Duplicate,
    /// A value is a statistical outlier.
    Outlier,
    /// A learned model flags the row or cell as anomalous.
    Anomaly,
    /// A value contains personal data.
    PersonalData,
    /// A missing value was filled in.
    Imputed,
    /// A value was rewritten to its canonical form.
    Canonicalised,
    /// A value was masked.
    Masked,
    /// A value contradicts other values: a functional dependency, a cross-column predicate,
    /// a reference table or a table-level expectation such as a row count.
    Inconsistent,
}

impl IssueKind {
    /// Returns the snake_case name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::Missing => "missing",
            IssueKind::OutOfRange => "out_of_range",
            IssueKind::NotAllowed => "not_allowed",
            IssueKind::Format => "format",
            IssueKind::Duplicate => "duplicate",
            IssueKind::Outlier => "outlier",
            IssueKind::Anomaly => "anomaly",
            IssueKind::PersonalData => "personal_data",
            IssueKind::Imputed => "imputed",
            IssueKind::Canonicalised => "canonicalised",
            IssueKind::Masked => "masked",
            IssueKind::Inconsistent => "inconsistent",
        }
    }
}

/// Seriousness of an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A record of what a stage did (an imputation, a canonicalisation).
    Info,
    /// A suspicious value.
    Warning,
    /// A value that breaks a rule.
    Error,
}

impl Severity {
    /// Returns the lowercase name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding about a cell (`column` set) or a whole row (`column` empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable id of the row.
    pub row_id: u64,
    /// Column name, or `None` for a row-level issue.
    pub column: Option<String>,
    /// Kind of issue.
    pub kind: IssueKind,
    /// Severity.
    pub severity: Severity,
    /// Name of the stage or detector that found it.
    pub detector: String,
    /// Human-readable explanation, including the observed value where it helps.
    pub message: String,
    /// Suggested replacement value, if the detector has one.
    pub suggested: Option<String>,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
}

impl Issue {
    /// Builds a cell issue with confidence 1 and no suggestion.
    pub fn cell(
        row_id: u64,
        column: impl Into<String>,
        kind: IssueKind,
        severity: Severity,
        detector: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            row_id,
            column: Some(column.into()),
            kind,
            severity,
            detector: detector.into(),
            message: message.into(),
            suggested: None,
            confidence: 1.0,
        }
    }

    /// Sets the suggested value.
    pub fn with_suggested(mut self, value: impl Into<String>) -> Self {
        self.suggested = Some(value.into());
        self
    }

    /// Sets the confidence, clamped to `[0, 1]`.
    pub fn with_confidence(mut self, confidence: f32) -> Self {
        self.confidence = confidence.clamp(0.0, 1.0);
        self
    }
}

/// An append-only list of issues. History is never rewritten: there is no way to remove or
/// edit an entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueLog {
    issues: Vec<Issue>,
}

impl IssueLog {
    /// Creates an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one issue.
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// Appends all issues of `other`.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Issue>) {
        self.issues.extend(other);
    }

    /// Returns the issues in the order they were appended.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Returns the number of issues.
    pub fn len(&self) -> usize {
        self.issues.len()
    }

    /// Returns true when the log is empty.
    pub fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }

    /// Counts issues by kind.
    pub fn count_by_kind(&self) -> BTreeMap<IssueKind, u64> {
        let mut counts = BTreeMap::new();
        for issue in &self.issues {
            *counts.entry(issue.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Returns the Arrow schema of [`IssueLog::to_record_batch`].
    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("row_id", DataType::UInt64, false),
            Field::new("column", DataType::Utf8, true),
            Field::new("kind", DataType::Utf8, false),
            Field::new("severity", DataType::Utf8, false),
            Field::new("detector", DataType::Utf8, false),
            Field::new("message", DataType::Utf8, false),
            Field::new("suggested", DataType::Utf8, true),
            Field::new("confidence", DataType::Float32, false),
        ]))
    }

    /// Converts the log to a columnar Arrow batch with the schema of [`IssueLog::schema`].
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let mut row_id = UInt64Builder::with_capacity(self.issues.len());
        let mut column = StringBuilder::new();
        let mut kind = StringBuilder::new();
        let mut severity = StringBuilder::new();
        let mut detector = StringBuilder::new();
        let mut message = StringBuilder::new();
        let mut suggested = StringBuilder::new();
        let mut confidence = Float32Builder::with_capacity(self.issues.len());
        for issue in &self.issues {
            row_id.append_value(issue.row_id);
            column.append_option(issue.column.as_deref());
            kind.append_value(issue.kind.as_str());
            severity.append_value(issue.severity.as_str());
            detector.append_value(&issue.detector);
            message.append_value(&issue.message);
            suggested.append_option(issue.suggested.as_deref());
            confidence.append_value(issue.confidence);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(row_id.finish()),
            Arc::new(column.finish()),
            Arc::new(kind.finish()),
            Arc::new(severity.finish()),
            Arc::new(detector.finish()),
            Arc::new(message.finish()),
            Arc::new(suggested.finish()),
            Arc::new(confidence.finish()),
        ];
        Ok(RecordBatch::try_new(Self::schema(), columns)?)
    }
}

impl IntoIterator for IssueLog {
    type Item = Issue;
    type IntoIter = std::vec::IntoIter<Issue>;

    fn into_iter(self) -> Self::IntoIter {
        self.issues.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_converts_to_columnar_batch() {
        let mut log = IssueLog::new();
        log.push(Issue::cell(
            7,
            "PM2.5",
            IssueKind::Outlier,
            Severity::Warning,
            "mad",
            "x",
        ));
        log.push(
            Issue::cell(
                8,
                "CO",
                IssueKind::Imputed,
                Severity::Info,
                "gaps",
                "filled",
            )
            .with_suggested("300")
            .with_confidence(2.0),
        );
        let batch = log.to_record_batch().expect("issue batch");
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), IssueLog::schema());
        assert_eq!(log.issues()[1].confidence, 1.0);
        assert_eq!(log.count_by_kind()[&IssueKind::Outlier], 1);
    }
}
