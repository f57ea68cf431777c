//! The printed summary table and the final `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;

use governance::{Adjustment, Error, FindingKind, Result, RunSummary};
use serde_json::json;

use crate::feedback::Detection;

/// How many placed personal values the ticket guard masked, per kind.
#[derive(Debug, Default)]
pub struct TicketCheck {
    pub rows: u64,
    /// Kind -> (placed, no longer present in the masked text).
    pub by_kind: BTreeMap<String, (u64, u64)>,
}

/// Prints rows per stage, issues by kind, alerts and throughput of one round.
pub fn print_round(summary: &RunSummary) {
    println!(
        "\nround {}: {:.1} s, {} rows delivered",
        summary.round, summary.seconds, summary.rows_delivered
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>11} {:>8} {:>8} {:>12}",
        "stage", "rows in", "rows out", "quarantined", "merged", "seconds", "rows/s"
    );
    for stage in &summary.stages {
        let rate = if stage.seconds > 0.0 {
            stage.rows_in as f64 / stage.seconds
        } else {
            0.0
        };
        println!(
            "  {:<22} {:>10} {:>10} {:>11} {:>8} {:>8.2} {:>12.0}",
            stage.name,
            stage.rows_in,
            stage.rows_out,
            stage.rows_quarantined,
            stage.rows_merged,
            stage.seconds,
            rate
        );
    }
    let issues: Vec<String> = summary
        .issues_by_kind
        .iter()
        .map(|(kind, count)| format!("{}={count}", kind.as_str()))
        .collect();
    println!("  issues: {}", issues.join(" "));
    let alerts = summary
        .findings
        .iter()
        .filter(|finding| finding.kind == FindingKind::Alert)
        .count();
    println!("  findings: {} ({} alerts)", summary.findings.len(), alerts);
    let rows_in = summary.stages.first().map_or(0, |stage| stage.rows_in);
    if summary.seconds > 0.0 {
        println!(
            "  chain throughput: {:.0} rows/s",
            rows_in as f64 / summary.seconds
        );
    }
}

/// Prints precision and recall per round.
pub fn print_detection(detections: &[Detection]) {
    if detections.is_empty() {
        return;
    }
    println!(
        "\ndetection of injected outliers, swaps and typos (cell level, against ground truth)"
    );
    for detection in detections {
        println!(
            "  round {}: flagged {:>6}, true positives {:>6} of {:>6}: precision {:.3}, recall {:.3}",
            detection.round,
            detection.flagged,
            detection.true_positives,
            detection.truth,
            detection.precision,
            detection.recall
        );
    }
}

/// Prints how much placed personal data the ticket guard masked.
pub fn print_tickets(check: &TicketCheck) {
    println!(
        "\npersonal data in {} service tickets, masked / placed:",
        check.rows
    );
    for (kind, (placed, masked)) in &check.by_kind {
        println!("  {kind:<12} {masked:>6} / {placed:<6}");
    }
}

/// Writes `summary.json`: the last round's stages at the top level (the form CI checks),
/// every round, the adjustments, detection scores and the audit verdict.
pub fn write_summary(
    out: &Path,
    rounds: &[RunSummary],
    adjustments: &[(u32, Adjustment)],
    detections: &[Detection],
    tickets: Option<&TicketCheck>,
    audit_verified: bool,
) -> Result<()> {
    let last = rounds
        .last()
        .ok_or_else(|| Error::Internal("no round ran".into()))?;
    let round_json: Vec<serde_json::Value> = rounds
        .iter()
        .map(|summary| {
            json!({
                "round": summary.round,
                "stages": summary.stages,
                "seconds": summary.seconds,
                "rows_delivered": summary.rows_delivered,
                "issues_by_kind": summary.issues_by_kind,
                "findings": summary.findings.len(),
                "quarantined": summary.quarantine.len(),
            })
        })
        .collect();
    let adjustments: Vec<serde_json::Value> = adjustments
        .iter()
        .map(|(round, adjustment)| json!({"after_round": round, "adjustment": adjustment}))
        .collect();
    let tickets = tickets.map(|check| {
        json!({
            "rows": check.rows,
            "by_kind": check.by_kind.iter().map(|(kind, (placed, masked))| {
                (kind.clone(), json!({"placed": placed, "masked": masked}))
            }).collect::<BTreeMap<_, _>>(),
        })
    });
    let summary = json!({
        "stages": last.stages,
        "audit_verified": audit_verified,
        "rows_delivered": last.rows_delivered,
        "seconds": last.seconds,
        "rounds": round_json,
        "adjustments": adjustments,
        "detection": detections,
        "tickets": tickets,
    });
    let path = out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|error| Error::Internal(format!("summary not serialisable: {error}")))?;
    std::fs::write(&path, text).map_err(|source| Error::io(&path, source))
}
