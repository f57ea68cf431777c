//! Renders a [`QualityReport`] as Markdown tables for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::QualityReport;

/// Renders `report` as a Markdown document with a stage table, a column table and issue and
/// finding counts.
pub(crate) fn render_quality(report: &QualityReport) -> String {
    let summary = &report.summary;
    let mut text = String::new();
    // Writing to a String cannot fail, so the results of `writeln!` are ignored throughout.
    let _ = writeln!(text, "# Data quality, round {}\n", summary.round);
    let _ = writeln!(text, "- Rows read: {}", summary.rows_read);
    let _ = writeln!(text, "- Rows delivered: {}", summary.rows_delivered);
    let _ = writeln!(text, "- Rows quarantined: {}", summary.quarantined);
    if summary.quarantined_outside_chain > 0 {
        let _ = writeln!(
            text,
            "- Rows quarantined outside the chain (side sources): {}",
            summary.quarantined_outside_chain
        );
    }
    let _ = writeln!(
        text,
        "- Wall time: {:.3} s ({:.0} rows per second)",
        summary.seconds, summary.rows_per_second
    );
    let verified = if summary.audit_verified { "yes" } else { "no" };
    let _ = writeln!(text, "- Audit log verified: {verified}\n");

    let _ = writeln!(text, "## Stages\n");
    let _ = writeln!(
        text,
        "| stage | rows in | rows out | quarantined | merged | seconds |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|");
    for stage in &summary.stages {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {:.3} |",
            cell(&stage.name),
            stage.rows_in,
            stage.rows_out,
            stage.rows_quarantined,
            stage.rows_merged,
            stage.seconds
        );
    }

    let _ = writeln!(text, "\n## Columns\n");
    if report.columns.is_empty() {
        let _ = writeln!(text, "No data reached the report.");
    } else {
        let _ = writeln!(
            text,
            "| column | type | rows | present | null | blank | completeness | invalid | validity | issues |"
        );
        let _ = writeln!(text, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
        for column in &report.columns {
            let issues: Vec<String> = column
                .issues_by_kind
                .iter()
                .map(|(kind, count)| format!("{}: {count}", kind.as_str()))
                .collect();
            let _ = writeln!(
                text,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&column.name),
                cell(&column.data_type),
                column.rows,
                column.present,
                column.rows - column.non_null,
                column.blank,
                percent(column.completeness),
                column.invalid,
                percent(column.validity),
                issues.join(", ")
            );
        }
    }

    if let Some(tiers) = &report.tiers {
        push_tiers(&mut text, tiers);
    }

    let _ = writeln!(text, "\n## Issues by kind\n");
    let issue_counts: BTreeMap<&str, u64> = summary
        .issues_by_kind
        .iter()
        .map(|(kind, count)| (kind.as_str(), *count))
        .collect();
    counts_table(
        &mut text,
        "kind",
        "issues",
        &issue_counts,
        "No issues reached the end of the chain.",
    );

    let _ = writeln!(text, "\n## Findings by kind\n");
    let finding_counts: BTreeMap<String, u64> = summary
        .findings_by_kind
        .iter()
        .map(|(kind, count)| (finding_kind_name(*kind), *count))
        .collect();
    counts_table(
        &mut text,
        "kind",
        "findings",
        &finding_counts,
        "No findings.",
    );
    text
}

/// Appends the rows per quality tier, best tier first, with each tier's share.
fn push_tiers(text: &mut String, tiers: &crate::quality::TierSummary) {
    let _ = writeln!(text, "\n## Quality tiers\n");
    if let Some(mean) = tiers.mean_score {
        let _ = writeln!(text, "Mean usability score: {mean:.3}\n");
    }
    let total: u64 = tiers.rows_by_tier.values().sum();
    let _ = writeln!(text, "| tier | rows | share |");
    let _ = writeln!(text, "|---|---:|---:|");
    for (tier, count) in ordered_tiers(&tiers.rows_by_tier) {
        let share = (total > 0).then(|| count as f64 / total as f64);
        let _ = writeln!(text, "| {} | {count} | {} |", cell(tier), percent(share));
    }
}

/// Returns the tiers gold, silver, bronze and below_bronze first, then any other name.
pub(crate) fn ordered_tiers(rows_by_tier: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    const ORDER: [&str; 4] = ["gold", "silver", "bronze", "below_bronze"];
    let rank = |tier: &str| {
        ORDER
            .iter()
            .position(|known| *known == tier)
            .unwrap_or(ORDER.len())
    };
    let mut tiers: Vec<(&str, u64)> = rows_by_tier
        .iter()
        .map(|(tier, count)| (tier.as_str(), *count))
        .collect();
    tiers.sort_by_key(|(tier, _)| rank(tier));
    tiers
}

fn counts_table<K: std::fmt::Display>(
    text: &mut String,
    key: &str,
    value: &str,
    counts: &BTreeMap<K, u64>,
    empty: &str,
) {
    if counts.is_empty() {
        let _ = writeln!(text, "{empty}");
        return;
    }
    let _ = writeln!(text, "| {key} | {value} |");
    let _ = writeln!(text, "|---|---:|");
    for (name, count) in counts {
        let _ = writeln!(text, "| {name} | {count} |");
    }
}

/// Returns the snake_case name serde gives a finding kind, so the Markdown and JSON agree.
fn finding_kind_name(kind: governance_core::FindingKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{kind:?}"))
}

/// Escapes text for a table cell: a pipe would end the cell and a newline the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(
        || "n/a".to_string(),
        |ratio| format!("{:.1}%", ratio * 100.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::ColumnQuality;
    use crate::report::SummaryReport;
    use governance_core::{FindingKind, IssueKind, StageReport};

    fn report() -> QualityReport {
        let stage = StageReport {
            name: "csv|reader".into(),
            kind: "collector".into(),
            version: "1".into(),
            rows_in: 4,
            rows_out: 3,
            rows_quarantined: 1,
            rows_merged: 0,
            seconds: 0.25,
            events: Vec::new(),
        };
        let column = ColumnQuality {
            name: "name".into(),
            data_type: "Utf8".into(),
            rows: 4,
            non_null: 3,
            blank: 2,
            present: 1,
            invalid: 0,
            completeness: Some(0.25),
            validity: Some(1.0),
            issues_by_kind: BTreeMap::from([(IssueKind::Missing, 2)]),
        };
        QualityReport {
            summary: SummaryReport {
                round: 1,
                stages: vec![stage],
                audit_verified: true,
                rows_read: 4,
                rows_delivered: 3,
                seconds: 0.5,
                rows_per_second: 8.0,
                issues_by_kind: BTreeMap::from([(IssueKind::Missing, 2)]),
                findings_by_kind: BTreeMap::from([(FindingKind::Alert, 1)]),
                quarantined: 1,
                quarantined_outside_chain: 0,
            },
            rows: 3,
            batches: 1,
            columns: vec![column],
            row_issues_by_kind: BTreeMap::new(),
            issues_by_severity: BTreeMap::new(),
            tiers: None,
        }
    }

    #[test]
    fn stage_table_has_header_and_escaped_row() {
        let text = render_quality(&report());
        assert!(text.contains("| stage | rows in | rows out | quarantined | merged | seconds |"));
        assert!(
            text.contains("| csv\\|reader | 4 | 3 | 1 | 0 | 0.250 |"),
            "{text}"
        );
    }

    #[test]
    fn column_table_shows_percentages() {
        let text = render_quality(&report());
        assert!(
            text.contains("| name | Utf8 | 4 | 1 | 1 | 2 | 25.0% | 0 | 100.0% | missing: 2 |"),
            "{text}"
        );
    }

    #[test]
    fn counts_use_snake_case_names() {
        let text = render_quality(&report());
        assert!(text.contains("| missing | 2 |"), "{text}");
        assert!(text.contains("| alert | 1 |"), "{text}");
    }

    #[test]
    fn tier_table_orders_best_first() {
        let mut report = report();
        report.tiers = Some(crate::quality::TierSummary {
            rows_by_tier: BTreeMap::from([("bronze".into(), 1), ("gold".into(), 3)]),
            mean_score: Some(0.8125),
        });
        let text = render_quality(&report);
        assert!(text.contains("Mean usability score: 0.812"), "{text}");
        let gold = text.find("| gold | 3 | 75.0% |").expect("gold row");
        let bronze = text.find("| bronze | 1 | 25.0% |").expect("bronze row");
        assert!(gold < bronze, "{text}");
    }

    #[test]
    fn tier_section_needs_tiers() {
        let text = render_quality(&report());
        assert!(!text.contains("Quality tiers"), "{text}");
    }
}
