//! Runs the built `govern` binary on files written to temporary folders.

use std::path::Path;
use std::process::{Command, Output};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

fn govern(args: &[&str]) -> Output {
    Command::new(GOVERN)
        .args(args)
        .output()
        .expect("the govern binary starts")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Readings of three stations; one PM2.5 value is out of range and one is above the alert
/// threshold.
const READINGS: &str = "\
station,time,pm25
north,2024-05-01T00:00:00,12.5
south,2024-05-01T00:00:00,35.0
east,2024-05-01T00:00:00,-4.0
north,2024-05-01T01:00:00,310.0
south,2024-05-01T01:00:00,40.5
east,2024-05-01T01:00:00,22.0
";

const CHAIN: &str = r#"
name = "stations"
rounds = 2

[source.csv]
paths = ["data/*.csv"]

[[stages]]
kind = "rules"
rules = [
  { column = "pm25", check = { range = { min = 0, max = 1000 } } },
  { column = "station", check = "not_null" },
]

[[stages]]
kind = "threshold_alerts"
rules = [{ name = "pm25_high", column = "pm25", above = 250.0 }]
subject_column = "station"
time_column = "time"

[sinks.parquet]
[sinks.csv]
delimiter = ";"
"#;

/// Writes the readings and `chain` into `dir` and returns the chain file's path.
fn write_chain(dir: &Path, chain: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("data")).expect("data folder");
    std::fs::write(dir.join("data").join("readings.csv"), READINGS).expect("write csv");
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, chain).expect("write chain");
    path
}

fn run_chain(dir: &Path) -> std::path::PathBuf {
    let chain = write_chain(dir, CHAIN);
    let out = dir.join("out");
    let output = govern(&["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    out
}

#[test]
fn run_writes_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_chain(dir.path());

    for file in [
        "audit.jsonl",
        "lineage.json",
        "report.html",
        "summary.json",
        "round-1/governed.parquet",
        "round-2/governed.parquet",
        "round-1/quality.json",
    ] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    let csv = std::fs::read_to_string(out.join("round-1").join("governed.csv")).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7, "{csv}");
    assert_eq!(lines[0], "__row_id;station;time;pm25");

    let findings =
        std::fs::read_to_string(out.join("round-1").join("findings.json")).expect("findings");
    let findings: serde_json::Value = serde_json::from_str(&findings).expect("json");
    let alerts = findings.as_array().expect("a list of findings");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["subject"], "north");

    let page = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(
        page.contains("out_of_range (round 2)"),
        "issue kinds per round"
    );
}

#[test]
fn run_report_option_sets_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(dir.path(), CHAIN);
    let out = dir.path().join("out");
    let report = dir.path().join("elsewhere.html");
    let output = govern(&[
        "run",
        path_arg(&chain),
        "--out",
        path_arg(&out),
        "--report",
        path_arg(&report),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(report.is_file());
    assert!(!out.join("report.html").exists());
}

#[test]
fn unknown_key_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(
        dir.path(),
        &CHAIN.replace("delimiter = \";\"", "delimeter = \";\""),
    );
    let output = govern(&["run", path_arg(&chain), "--quiet"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("delimeter"), "{message}");
    assert!(message.contains("CHAIN.toml"), "{message}");
    assert!(
        message.contains("delimiter"),
        "valid keys are listed: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn missing_chain_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nowhere.toml");
    let output = govern(&["run", path_arg(&missing)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nowhere.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn failing_source_exits_with_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(dir.path(), &CHAIN.replace("data/*.csv", "data/none-*.csv"));
    let output = govern(&["run", path_arg(&chain), "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("matches no file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn audit_verify_accepts_good_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_chain(dir.path());
    let log = out.join("audit.jsonl");
    let lines = std::fs::read_to_string(&log).expect("log").lines().count();

    let output = govern(&["audit", "verify", path_arg(&log)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("OK: {lines} records")),
        "{}",
        stdout(&output)
    );
}

#[test]
fn audit_verify_names_changed_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_chain(dir.path());
    let log = out.join("audit.jsonl");
    let mut bytes = std::fs::read(&log).expect("log");
    // Change one letter of the actor of the third record (0-based record 2).
    let third = bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .nth(1)
        .map(|(index, _)| index + 1)
        .expect("a third line");
    let marker = b"\"actor\":\"";
    let offset = bytes[third..]
        .windows(marker.len())
        .position(|window| window == marker)
        .expect("an actor field")
        + third
        + marker.len();
    bytes[offset] = if bytes[offset] == b'x' { b'y' } else { b'x' };
    std::fs::write(&log, bytes).expect("write tampered log");

    let output = govern(&["audit", "verify", path_arg(&log)]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("record 2 (line 3)"), "{message}");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn profile_prints_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("readings.csv");
    std::fs::write(&csv, READINGS).expect("write csv");

    let output = govern(&["profile", path_arg(&csv)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("6 rows"), "{text}");
    for column in ["station", "time", "pm25"] {
        assert!(text.lines().any(|line| line.starts_with(column)), "{text}");
    }

    let output = govern(&["profile", path_arg(&csv), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let profile: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(profile["rows"], 6);
    assert_eq!(profile["columns"][2]["name"], "pm25");
    assert_eq!(profile["columns"][0]["distinct_count"], 3);
}

#[test]
fn profile_reads_parquet_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_chain(dir.path());
    let parquet = out.join("round-1").join("governed.parquet");
    let output = govern(&["profile", path_arg(&parquet), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let profile: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(profile["rows"], 6);
}

#[test]
fn profile_rejects_other_extensions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "a\n").expect("write");
    let output = govern(&["profile", path_arg(&text)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(".csv or .parquet"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn lineage_show_lists_stages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_chain(dir.path());

    let output = govern(&["lineage", "show", path_arg(&out)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.lines()
            .next()
            .is_some_and(|line| line.contains("params hash"))
    );
    for stage in [
        "csv",
        "rules",
        "threshold_alerts",
        "parquet_sink",
        "csv_sink",
    ] {
        assert!(text.contains(stage), "{stage} missing from:\n{text}");
    }

    let output = govern(&["lineage", "show", path_arg(&out), "--json"]);
    let records: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    let records = records.as_array().expect("a list");
    let rounds: Vec<u64> = records
        .iter()
        .filter_map(|record| record["round"].as_u64())
        .collect();
    assert!(rounds.contains(&1), "{rounds:?}");
    assert!(rounds.contains(&2), "{rounds:?}");
    let collector = &records[0];
    assert_eq!(collector["stage"], "csv");
    assert_eq!(collector["rows_in"], 6);
}

#[test]
fn lineage_show_missing_run_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = govern(&["lineage", "show", path_arg(&dir.path().join("none"))]);
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("not found"), "{}", stderr(&output));
}

#[test]
fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo");
    let output = govern(&[
        "demo",
        "--out",
        path_arg(&out),
        "--days",
        "3",
        "--rounds",
        "2",
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("audit log verified"), "{text}");
    for file in [
        "audit.jsonl",
        "lineage.json",
        "report.html",
        "round-2/governed.parquet",
        "round-2/governed.csv",
        "round-2/quality.md",
    ] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    let verify = govern(&["audit", "verify", path_arg(&out.join("audit.jsonl"))]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let page = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert_eq!(page.matches("<svg").count(), 4);
}

#[test]
fn help_states_units_and_exit_codes() {
    let output = govern(&["demo", "--help"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("days of hourly readings"), "{text}");
    assert!(text.contains("Exit codes"), "{text}");
    let output = govern(&["audit", "verify", "--help"]);
    assert!(stdout(&output).contains("first bad record"));
}

#[test]
fn bad_argument_exits_with_two() {
    let output = govern(&["demo", "--days", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let output = govern(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
}
