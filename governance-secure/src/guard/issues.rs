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
/// tier, never the value. For a model's finding it adds the explanation of
/// [`model_explanation`].
pub(super) fn personal_data_issue(
    stage: &str,
    row_id: u64,
    column: &str,
    finding: &PiiFinding,
) -> Issue {
    let mut message = format!(
        "{} ({}) at characters {}..{}, {}",
        finding.kind,
        finding.recognizer,
        finding.char_span.start,
        finding.char_span.end,
        finding.tier
    );
    if let Some(explanation) = model_explanation(finding) {
        message.push_str("; ");
        message.push_str(&explanation);
    }
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

/// Returns the explanation of a model's finding, or `None` for a finding without a model
/// version or token scores: the model version, then each token's character range and the
/// model's probability for it, such as
/// `model tagger-0123456789ab token scores 4..8=0.912 9..14=0.874 15..18=rule`.
/// `rule` marks a token that a rule added to the span and the model did not tag. Tokens are
/// named by position only, so the value stays out of the log.
fn model_explanation(finding: &PiiFinding) -> Option<String> {
    if finding.token_scores.is_empty() && finding.model_version.is_none() {
        return None;
    }
    let version = finding.model_version.as_deref().unwrap_or("unknown");
    let tokens: Vec<String> = finding
        .token_scores
        .iter()
        .map(|token| {
            let span = &token.char_span;
            match token.score {
                Some(score) => format!("{}..{}={score:.3}", span.start, span.end),
                None => format!("{}..{}=rule", span.start, span.end),
            }
        })
        .collect();
    Some(format!("model {version} token scores {}", tokens.join(" ")))
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
