//! ReportWriter end to end: summary, quality, findings, lineage and quarantine files.

mod common;

use std::fs;
use std::path::Path;

use common::{AlertOnMax, FailAt, LINES, LineCollector, RangeCheck, SOURCE, files_under};
use governance_apply::{
    FINDINGS_FILE, LINEAGE_FILE, ParquetSink, ParquetSinkConfig, QUALITY_JSON_FILE,
    QUALITY_MARKDOWN_FILE, QUARANTINE_FILE, QualityReport, ReportWriter, ReportWriterConfig,
    SUMMARY_FILE, SummaryReport,
};
use governance_core::audit::AuditAction;
use governance_core::{Chain, ChainBuilder, RunSummary};
use serde_json::Value;

fn chain_with(dir: &Path, lines: &[&str]) -> ChainBuilder {
    Chain::builder()
        .collect(LineCollector::new(lines, 2))
        .clean(RangeCheck { limit: 500.0 })
        .analyze(AlertOnMax {
            threshold: 100.0,
            max: f64::MIN,
        })
        .apply(ReportWriter::new(ReportWriterConfig::new(dir)).expect("report writer"))
}

fn run(dir: &Path, lines: &[&str]) -> RunSummary {
    chain_with(dir, lines)
        .build()
        .expect("chain")
        .run_blocking()
        .expect("run")
}

fn read_json(path: &Path) -> Value {
    let text =
        fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn summary_has_required_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = run(dir.path(), LINES);
    let json = read_json(&dir.path().join("round-1").join(SUMMARY_FILE));

    assert_eq!(json["round"], 1);
    assert_eq!(json["audit_verified"], true);
    assert_eq!(json["rows_delivered"], 4);
    assert_eq!(json["rows_read"], 6);
    assert_eq!(json["quarantined"], 2);
    assert!(json["seconds"].as_f64().expect("seconds") > 0.0);
    assert!(json["rows_per_second"].as_f64().expect("rate") > 0.0);
    assert_eq!(
        json["issues_by_kind"],
        serde_json::json!({"out_of_range": 1, "missing": 1})
    );
    assert_eq!(json["findings_by_kind"], serde_json::json!({"alert": 1}));

    let stages = json["stages"].as_array().expect("stages");
    let names: Vec<&str> = stages
        .iter()
        .map(|stage| stage["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["lines", "range", "alert", "report"]);
    for key in [
        "name",
        "kind",
        "version",
        "rows_in",
        "rows_out",
        "rows_quarantined",
        "rows_merged",
        "seconds",
    ] {
        assert!(stages[0].get(key).is_some(), "stage entry lacks {key}");
    }
    assert_eq!(stages[0]["rows_in"], 6);
    assert_eq!(stages[0]["rows_quarantined"], 1);
    assert_eq!(stages[1]["rows_quarantined"], 1);
    assert_eq!(stages[3]["kind"], "applicator");
    assert_eq!(stages[3]["rows_in"], 4);

    // serde_json parses floats to within one unit in the last place, so seconds are compared
    // with a tolerance and everything else exactly.
    let parsed: SummaryReport = serde_json::from_value(json).expect("summary.json parses");
    assert_eq!(parsed.stages.len(), summary.stages.len());
    for (read_back, original) in parsed.stages.iter().zip(&summary.stages) {
        let mut without_time = read_back.clone();
        without_time.seconds = original.seconds;
        assert_eq!(&without_time, original);
        assert!((read_back.seconds - original.seconds).abs() <= original.seconds * 1e-12);
    }
}

#[test]
fn top_level_summary_is_latest_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(dir.path(), LINES).build().expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");

    let top = read_json(&dir.path().join(SUMMARY_FILE));
    assert_eq!(top["round"], 2);
    assert_eq!(
        top,
        read_json(&dir.path().join("round-2").join(SUMMARY_FILE))
    );
    assert_eq!(
        read_json(&dir.path().join("round-1").join(SUMMARY_FILE))["round"],
        1
    );
}

#[test]
fn blank_strings_count_as_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(dir.path(), &["a,1", ",2", "  ,3", "NULL,4"]);
    let quality: QualityReport = serde_json::from_value(read_json(
        &dir.path().join("round-1").join(QUALITY_JSON_FILE),
    ))
    .expect("quality.json");

    let name = quality
        .columns
        .iter()
        .find(|column| column.name == "name")
        .expect("name column");
    assert_eq!(name.rows, 4);
    assert_eq!(name.non_null, 3);
    assert_eq!(name.blank, 2);
    assert_eq!(name.present, 1);
    assert_eq!(name.completeness, Some(0.25));
    let pm25 = quality
        .columns
        .iter()
        .find(|column| column.name == "pm25")
        .expect("pm25 column");
    assert_eq!(pm25.completeness, Some(1.0));
}

#[test]
fn validity_counts_error_cells() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(dir.path(), LINES);
    let quality = read_json(&dir.path().join("round-1").join(QUALITY_JSON_FILE));
    let pm25 = quality["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|column| column["name"] == "pm25")
        .expect("pm25")
        .clone();
    // north 12.5, south 900 (error), west null, centre 35: three present, one invalid.
    assert_eq!(pm25["present"], 3);
    assert_eq!(pm25["invalid"], 1);
    let validity = pm25["validity"].as_f64().expect("validity");
    assert!((validity - 2.0 / 3.0).abs() < 1e-12, "{validity}");
    assert_eq!(pm25["completeness"], 0.75);
    assert_eq!(
        pm25["issues_by_kind"],
        serde_json::json!({"out_of_range": 1, "missing": 1})
    );
    assert_eq!(quality["summary"]["rows_delivered"], 4);
}

#[test]
fn quarantine_lines_have_reason_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(dir.path(), LINES);
    let text = fs::read_to_string(dir.path().join("round-1").join(QUARANTINE_FILE))
        .expect("quarantine.jsonl");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);

    let malformed = &lines[0];
    assert_eq!(malformed["stage"], "lines");
    assert_eq!(malformed["line"], 3);
    assert_eq!(malformed["source"], SOURCE);
    assert_eq!(malformed["raw"], "east,not-a-number");
    assert_eq!(malformed["row_id"], Value::Null);
    assert!(
        malformed["reason"]
            .as_str()
            .expect("reason")
            .contains("numeric pm25")
    );

    let rejected = &lines[1];
    assert_eq!(rejected["stage"], "range");
    assert_eq!(rejected["reason"], "station name is on the reject list");
    assert!(rejected["row_id"].is_u64());
}

#[test]
fn findings_and_lineage_are_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = run(dir.path(), LINES);
    let round = dir.path().join("round-1");

    let findings = read_json(&round.join(FINDINGS_FILE));
    let findings = findings.as_array().expect("findings array");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["name"], "pm25_limit");
    assert_eq!(findings[0]["value"], 900.0);

    let lineage = read_json(&round.join(LINEAGE_FILE));
    let lineage = lineage.as_array().expect("lineage array");
    assert_eq!(lineage.len(), summary.stages.len());
    assert_eq!(lineage[1]["stage"], "range");
    assert_eq!(lineage[1]["rows_out"], 4);
    assert!(
        lineage[1]["params_hash"]
            .as_str()
            .is_some_and(|hash| hash.len() == 64)
    );
}

#[test]
fn markdown_has_stage_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(dir.path(), LINES);
    let text = fs::read_to_string(dir.path().join("round-1").join(QUALITY_MARKDOWN_FILE))
        .expect("quality.md");
    assert!(text.starts_with("# Data quality, round 1\n"), "{text}");
    assert!(
        text.contains("| stage | rows in | rows out | quarantined | merged | seconds |\n|---|"),
        "{text}"
    );
    let range_row = text
        .lines()
        .find(|line| line.starts_with("| range |"))
        .expect("range row");
    assert!(
        range_row.starts_with("| range | 5 | 4 | 1 | 0 | "),
        "{range_row}"
    );
    assert!(text.contains("| name | Utf8 | 4 |"), "{text}");
    assert!(text.contains("| out_of_range | 1 |"), "{text}");
}

#[test]
fn failed_round_writes_no_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(dir.path(), LINES)
        .clean(FailAt {
            fail_at: 2,
            rounds: vec![1],
            seen: 0,
        })
        .apply(ParquetSink::new(ParquetSinkConfig::new(dir.path())).expect("sink"))
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("round 1 fails");
    drop(chain);
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[test]
fn round_after_failure_reports_only_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(dir.path(), LINES)
        .clean(FailAt {
            fail_at: 3,
            rounds: vec![1],
            seen: 0,
        })
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("round 1 fails");
    chain.run_blocking().expect("round 2 succeeds");

    assert!(!dir.path().join("round-1").join(SUMMARY_FILE).exists());
    let quality = read_json(&dir.path().join("round-2").join(QUALITY_JSON_FILE));
    assert_eq!(quality["rows"], 4);
    assert_eq!(quality["batches"], 3);
}

#[test]
fn report_share_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(dir.path(), LINES).build().expect("chain");
    chain.run_blocking().expect("run");
    let log = chain.audit().lock().expect("audit lock");
    let shares: Vec<_> = log
        .records()
        .iter()
        .filter(|record| record.actor == "report" && record.action == AuditAction::Share)
        .collect();
    assert_eq!(shares.len(), 1);
    assert!(
        shares[0].detail.contains("quarantined=2"),
        "{}",
        shares[0].detail
    );
}

#[test]
fn flat_layout_writes_one_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ReportWriterConfig::new(dir.path());
    config.per_round_subdir = false;
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .apply(ReportWriter::new(config).expect("writer"))
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");

    let mut names: Vec<String> = files_under(dir.path())
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            FINDINGS_FILE,
            LINEAGE_FILE,
            QUALITY_JSON_FILE,
            QUALITY_MARKDOWN_FILE,
            QUARANTINE_FILE,
            SUMMARY_FILE
        ]
    );
    assert_eq!(read_json(&dir.path().join(SUMMARY_FILE))["round"], 2);
}
