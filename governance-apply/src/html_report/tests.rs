use std::collections::BTreeMap;

use governance_core::{IssueKind, RunSummary, StageReport};

use super::*;
use crate::report::SummaryReport;
use crate::{ColumnQuality, ReportWriterConfig, TierSummary};

const INJECTED: &str = "<script>alert(1)</script>";

fn column(name: &str, completeness: f64, validity: f64) -> ColumnQuality {
    ColumnQuality {
        name: name.into(),
        data_type: "Float64".into(),
        rows: 10,
        non_null: 10,
        blank: 0,
        present: 10,
        invalid: 0,
        completeness: Some(completeness),
        validity: Some(validity),
        issues_by_kind: BTreeMap::new(),
    }
}

fn round(number: u32, stage_name: &str, subject: &str) -> RoundRecord {
    let stage = StageReport {
        name: stage_name.into(),
        kind: "cleaner".into(),
        version: "1".into(),
        rows_in: 10,
        rows_out: 10,
        seconds: 0.25 * f64::from(number),
        ..StageReport::default()
    };
    let run = RunSummary {
        round: number,
        stages: vec![stage],
        issues_by_kind: BTreeMap::from([(IssueKind::OutOfRange, 3), (IssueKind::Missing, 1)]),
        rows_delivered: 10,
        ..RunSummary::default()
    };
    let mut alert = Finding::new(FindingKind::Alert, "pm25_high", "alerts", INJECTED);
    alert.subject = Some(subject.into());
    alert.time = Some(format!("2013-03-0{number}T05:00:00"));
    alert.value = Some(300.0);
    let mut untimed = Finding::new(FindingKind::Alert, "pm25_high", "alerts", "no time");
    untimed.time = Some("sometime".into());
    RoundRecord {
        quality: QualityReport {
            summary: SummaryReport::from_summary(&run),
            rows: 10,
            batches: 1,
            columns: vec![column(INJECTED, 0.9, 0.8 + 0.1 * f64::from(number))],
            row_issues_by_kind: BTreeMap::new(),
            issues_by_severity: BTreeMap::new(),
            tiers: (number == 2).then(|| TierSummary {
                rows_by_tier: BTreeMap::from([("silver".into(), 6), ("gold".into(), 4)]),
                mean_score: Some(0.9),
            }),
        },
        findings: vec![alert, untimed],
    }
}

fn report() -> HtmlReport {
    let mut report = HtmlReport::new("Run <b>1</b>");
    report.push_round(round(1, INJECTED, "station <x>"));
    report.push_round(round(2, "rules", "station <x>"));
    report
}

#[test]
fn page_has_four_plots() {
    let page = report().render().expect("render");
    for id in [
        "quality-over-rounds",
        "issues-by-kind",
        "alerts-timeline",
        "stage-timings",
    ] {
        assert!(page.contains(&format!("<figure id=\"{id}\">")), "{id}");
    }
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(page.contains("out_of_range (round 2)"));
    assert!(page.contains("Alerts over time (2 alerts)"));
    assert!(page.contains("2 alerts without a parsable time"));
}

#[test]
fn data_text_is_escaped() {
    let page = report().render().expect("render");
    assert!(!page.contains("<script"), "raw script tag in the page");
    assert!(!page.contains("<x>"));
    assert!(!page.contains("<b>1"));
    assert!(page.contains("&lt;script&gt;"));
    assert!(page.contains("Run &lt;b&gt;1&lt;/b&gt;"));
}

#[test]
fn page_is_self_contained() {
    let page = report().render().expect("render");
    assert!(!page.contains("src="), "the page loads nothing");
    assert!(!page.contains("<link"));
    assert!(page.contains("<style>"));
}

#[test]
fn empty_run_still_renders() {
    let page = HtmlReport::new("empty").render().expect("render");
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(page.contains("none with a time"));
}

#[test]
fn output_dir_rounds_load_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    for number in [2, 1] {
        let record = round(number, "rules", "north");
        let folder = dir.path().join(format!("round-{number}"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        let quality = serde_json::to_string(&record.quality).expect("json");
        std::fs::write(folder.join(QUALITY_JSON_FILE), quality).expect("write");
        let findings = serde_json::to_string(&record.findings).expect("json");
        std::fs::write(folder.join(FINDINGS_FILE), findings).expect("write");
    }
    let loaded = HtmlReport::from_output_dir(dir.path(), "run").expect("load");
    let rounds: Vec<u32> = loaded.rounds().iter().map(RoundRecord::round).collect();
    assert_eq!(rounds, vec![1, 2]);
    assert_eq!(loaded.rounds()[1].findings.len(), 2);
}

#[test]
fn missing_reports_name_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = HtmlReport::from_output_dir(dir.path(), "run").expect_err("no reports");
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains(QUALITY_JSON_FILE), "{message}");
    // The report writer's default layout is the one this reader expects.
    assert!(ReportWriterConfig::new("out").per_round_subdir);
}

#[test]
fn last_round_tiers_are_listed() {
    let page = report().render().expect("render");
    assert!(page.contains("<h2>Quality tiers in round 2</h2>"), "{page}");
    assert!(page.contains("<tr><td>gold</td><td>4</td></tr>"), "{page}");
    let gold = page.find("<td>gold</td>").expect("gold");
    let silver = page.find("<td>silver</td>").expect("silver");
    assert!(gold < silver);
}
