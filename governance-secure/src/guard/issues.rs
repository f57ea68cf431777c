//! Issues the guard writes. Messages name kinds, operators, spans and reasons, never a
//! value.

use governance_core::{Issue, IssueKind, Severity};

use crate::detect::{ColumnClassification, PiiFinding};
use crate::mask::MaskConfig;
use crate::masker::{MaskFallback, MaskedText};

/// Builds the issues the guard logs for one scanned text cell: one `personal_data` issue per
/// finding and, when the cell was masked, a `masked` issue and a warning per operator that
/// fell back to a type tag. Messages name kinds, operators, spans and reasons, never a value.
///
/// Exposed so that engines which run the guard's detector and masker cell by cell (such as
/// DataFusion UDFs) log the same issues as the guard.
pub fn text_cell_issues(
    stage: &str,
    row_id: u64,
    column: &str,
    findings: &[PiiFinding],
    masked: Option<&MaskedText>,
    mask: &MaskConfig,
) -> Vec<Issue> {
    let mut issues: Vec<Issue> = findings
        .iter()
        .map(|finding| personal_data_issue(stage, row_id, column, finding))
        .collect();
    if let Some(masked) = masked {
        issues.push(masked_issue(stage, row_id, column, findings, mask));
        for fallback in &masked.fallbacks {
            issues.push(fallback_issue(stage, row_id, column, fallback));
        }
    }
    issues
}

/// Builds the issue for one finding. The message names kind, recognizer, character span and
/// tier, never the value.
pub(super) fn personal_data_issue(
    stage: &str,
    row_id: u64,
    column: &str,
    finding: &PiiFinding,
) -> Issue {
    let message = format!(
        "{} ({}) at characters {}..{}, {}",
        finding.kind,
        finding.recognizer,
        finding.char_span.start,
        finding.char_span.end,
        finding.tier
    );
    Issue::cell(
        row_id,
        column,
        IssueKind::PersonalData,
        Severity::Warning,
        stage,
        message,
    )
    .with_confidence(finding.score)
}

/// Builds the warning that a keyed operator failed on a value, which was replaced by its type
/// tag instead. The reason never holds the value or a key.
pub(super) fn fallback_issue(
    stage: &str,
    row_id: u64,
    column: &str,
    fallback: &MaskFallback,
) -> Issue {
    let message = format!(
        "{} value masked with type_tag instead of {}: {}",
        fallback.kind,
        fallback.operator.as_str(),
        fallback.reason
    );
    Issue::cell(
        row_id,
        column,
        IssueKind::Masked,
        Severity::Warning,
        stage,
        message,
    )
}

/// Builds the issue that records the masking of one cell.
pub(super) fn masked_issue(
    stage: &str,
    row_id: u64,
    column: &str,
    findings: &[PiiFinding],
    mask: &MaskConfig,
) -> Issue {
    let parts: Vec<String> = findings
        .iter()
        .map(|finding| {
            format!(
                "{} with {}",
                finding.kind,
                mask.operator(finding.kind).as_str()
            )
        })
        .collect();
    let message = format!("masked {} value(s): {}", findings.len(), parts.join(", "));
    Issue::cell(
        row_id,
        column,
        IssueKind::Masked,
        Severity::Info,
        stage,
        message,
    )
}

/// Builds the issue that records a column's classification. It sits on the first row of
/// the batch in which the column was classified, because issues name a row.
pub(super) fn classification_issue(
    stage: &str,
    row_id: u64,
    verdict: &ColumnClassification,
) -> Issue {
    let message = format!(
        "column classified as {} with confidence {:.2}: {}",
        verdict.kind, verdict.confidence, verdict.explanation
    );
    Issue::cell(
        row_id,
        &verdict.column,
        IssueKind::PersonalData,
        Severity::Info,
        stage,
        message,
    )
    .with_confidence(verdict.confidence)
}

/// Builds the warning that a whole-value mask failed on a cell, which was set to null.
pub fn column_fallback_issue(
    stage: &str,
    row_id: u64,
    column: &str,
    fallback: &MaskFallback,
) -> Issue {
    let message = format!(
        "{} value set to null because {} failed: {}",
        fallback.kind,
        fallback.operator.as_str(),
        fallback.reason
    );
    Issue::cell(
        row_id,
        column,
        IssueKind::Masked,
        Severity::Warning,
        stage,
        message,
    )
}

/// Builds the warning that a position could not be generalised and both its cells were set
/// to null.
pub(super) fn position_nulled_issue(stage: &str, row_id: u64, column: &str, reason: &str) -> Issue {
    Issue::cell(
        row_id,
        column,
        IssueKind::Masked,
        Severity::Warning,
        stage,
        format!("position set to null because it could not be generalised: {reason}"),
    )
}
