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
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
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
    assert!(
        out.join("models").is_dir(),
        "the anomaly model was not saved"
    );

    // The weather join attaches the city's weather to every reading.
    let governed = std::fs::read_to_string(out.join("round-2/governed.csv")).expect("csv");
    let header = governed.lines().next().expect("header line");
    for column in ["TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"] {
        assert!(
            header.split(',').any(|name| name == column),
            "{column}: {header}"
        );
    }
    let second_row = governed.lines().nth(1).expect("a governed row");
    assert!(!second_row.ends_with(','), "weather missing: {second_row}");

    // Detection figures per round, and the learners changed by round 1's labels.
    assert!(
        text.contains("detection against the synthetic city's ground truth"),
        "{text}"
    );
    assert!(text.contains("precision"), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("detection against"))
        .skip(3)
        .take(2)
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    for (round, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields.len(), 7, "{row}");
        assert_eq!(fields[0], (round + 1).to_string(), "{row}");
        let flagged: usize = fields[1].parse().expect("flagged cells");
        let true_positives: usize = fields[2].parse().expect("true positives");
        assert!(flagged > 0, "{row}");
        assert!(true_positives <= flagged, "{row}");
    }
    assert!(
        text.contains("adjusted after round 1: robust_outliers"),
        "{text}"
    );
    assert!(
        text.contains("adjusted after round 1: anomaly_detector"),
        "{text}"
    );
    let verify = govern(&["audit", "verify", path_arg(&out.join("audit.jsonl"))]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let page = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert_eq!(page.matches("<svg").count(), 4);
}

#[test]
fn demo_without_labels_learns_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo");
    let output = govern(&[
        "demo",
        "--out",
        path_arg(&out),
        "--days",
        "2",
        "--labels",
        "0",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("detection against"), "{text}");
    assert!(!text.contains("adjusted after"), "{text}");
}

/// Readings with times in milliseconds since the epoch, and the weather of two stations.
const JOIN_READINGS: &str = "\
station,time,pm25
north,1714521600000,12.5
south,1714521600000,35.0
north,1714525200000,310.0
";

const JOIN_WEATHER: &str = "\
station,time,temp
north,1714522200000,11.0
south,1714524600000,13.5
north,1714525500000,12.0
";

const JOIN_CHAIN: &str = r#"
name = "joined"

[source.csv]
paths = ["data/*.csv"]

[side_sources.weather.source.csv]
paths = ["weather.csv"]

[[stages]]
kind = "as_of_join"
source = "SIDE"
key = "station"
time = "time"
columns = ["temp"]
direction = "nearest"
tolerance_seconds = 1800

[sinks.csv]
"#;

fn write_join_chain(dir: &Path, side: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("data")).expect("data folder");
    std::fs::write(dir.join("data").join("readings.csv"), JOIN_READINGS).expect("readings");
    std::fs::write(dir.join("weather.csv"), JOIN_WEATHER).expect("weather");
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, JOIN_CHAIN.replace("SIDE", side)).expect("chain");
    path
}

#[test]
fn run_joins_side_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_join_chain(dir.path(), "weather");
    let out = dir.path().join("out");
    let output = govern(&["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let governed = std::fs::read_to_string(out.join("round-1/governed.csv")).expect("csv");
    let lines: Vec<&str> = governed.lines().collect();
    assert_eq!(lines[0], "__row_id,station,time,pm25,temp");
    // North at 00:00 matches the weather at 00:10; south's nearest weather is 50 minutes
    // away, beyond the 30-minute tolerance; north at 01:00 matches 01:05.
    assert_eq!(lines[1], "0,north,1714521600000,12.5,11.0");
    assert_eq!(lines[2], "1,south,1714521600000,35.0,");
    assert_eq!(lines[3], "2,north,1714525200000,310.0,12.0");
}

#[test]
fn side_source_quarantine_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_join_chain(dir.path(), "weather");
    // Line 5 has a field too many, so the side source's collector quarantines it.
    let weather = format!("{JOIN_WEATHER}south,1714528000000,9.5,gusty\n");
    std::fs::write(dir.path().join("weather.csv"), weather).expect("weather");
    let out = dir.path().join("out");
    let output = govern(&["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let warning = stderr(&output);
    assert!(
        warning.contains("side source weather: 1 rows quarantined"),
        "{warning}"
    );
    assert!(warning.contains("quarantine.jsonl"), "{warning}");

    let text = std::fs::read_to_string(out.join("round-1/quarantine.jsonl")).expect("quarantine");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let row = &lines[0];
    assert_eq!(row["stage"], "side_source_weather", "{text}");
    assert_eq!(row["line"], 5, "{text}");
    let source = row["source"].as_str().expect("source");
    assert!(source.ends_with("weather.csv"), "{text}");
    assert!(
        !row["reason"].as_str().expect("reason").is_empty(),
        "{text}"
    );
    assert_eq!(row["raw"], "south,1714528000000,9.5,gusty", "{text}");

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("round-1/summary.json")).expect("summary"),
    )
    .expect("summary JSON");
    assert_eq!(
        summary["quarantined"], 0,
        "the chain itself rejected nothing"
    );
    assert_eq!(summary["quarantined_outside_chain"], 1);
    let governed = std::fs::read_to_string(out.join("round-1/governed.csv")).expect("csv");
    assert_eq!(governed.lines().count(), 4, "every reading is delivered");
}

#[test]
fn undefined_side_source_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_join_chain(dir.path(), "wether");
    let output = govern(&["run", path_arg(&chain), "--quiet"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("\"wether\""), "{message}");
    assert!(message.contains("[side_sources.wether]"), "{message}");
}

#[test]
fn help_states_units_and_exit_codes() {
    let output = govern(&["demo", "--help"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("days of hourly readings"), "{text}");
    assert!(text.contains("--labels <N>"), "{text}");
    assert!(text.contains("ground truth"), "{text}");
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
