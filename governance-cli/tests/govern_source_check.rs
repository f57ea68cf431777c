//! Runs `govern run` with a `[source_check]` table on CSV readings with a gap and an
//! impossible value, and checks the re-collection report, the lineage events and that
//! every row reached the sink.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

/// Hourly readings: north skips two hours, south has a negative PM2.5 value.
const READINGS: &str = "\
station,time,pm25
north,2024-05-01T00:00:00Z,12.5
north,2024-05-01T01:00:00Z,13.0
north,2024-05-01T04:00:00Z,14.0
south,2024-05-01T00:00:00Z,-7.0
south,2024-05-01T01:00:00Z,9.0
";

const CHECK: &str = "\
[source_check]
report = \"state/recollect.jsonl\"
time_column = \"time\"
key_columns = [\"station\"]
expected_interval_ms = 3600000
ranges = [{ column = \"pm25\", min = 0 }]
";

fn govern(args: &[&str]) -> Output {
    Command::new(GOVERN)
        .args(args)
        .output()
        .expect("the govern binary starts")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Writes the readings and a chain file with `check` as its source check, and runs it.
fn run(dir: &Path, check: &str) -> Output {
    std::fs::write(dir.join("readings.csv"), READINGS).expect("readings");
    let chain = dir.join("chain.toml");
    let text = format!(
        "name = \"checked\"\n\n[source.csv]\npaths = [\"readings.csv\"]\n\n{check}\n[sinks.csv]\n"
    );
    std::fs::write(&chain, text).expect("chain file");
    let out = dir.join("out");
    govern(&["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"])
}

#[test]
fn source_check_writes_report() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let output = run(dir.path(), CHECK);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report = std::fs::read_to_string(dir.path().join("state").join("recollect.jsonl"))
        .expect("the report next to the chain file");
    let lines: Vec<Value> = report
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{report}");
    let gap = lines
        .iter()
        .find(|line| line["kind"] == "gap")
        .expect("a gap line");
    assert_eq!(gap["key"]["station"], "north");
    assert_eq!(gap["to"], "2024-05-01T04:00:00Z");
    assert!(
        gap["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("readings.csv")),
        "{gap}"
    );
    let impossible = lines
        .iter()
        .find(|line| line["kind"] == "impossible_value")
        .expect("an impossible value line");
    assert_eq!(impossible["key"]["station"], "south");
    assert_eq!(impossible["value"], -7.0);

    let lineage =
        std::fs::read_to_string(dir.path().join("out").join("lineage.json")).expect("lineage");
    assert_eq!(lineage.matches("\"recollection_requested\"").count(), 2);

    // The check only reports: all five rows, the impossible one included, reach the sink.
    let governed =
        std::fs::read_to_string(dir.path().join("out").join("round-1").join("governed.csv"))
            .expect("governed rows");
    assert_eq!(governed.lines().count(), 6, "{governed}");
    assert!(governed.contains("-7"), "{governed}");
}

#[test]
fn source_check_without_report_fails() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let check = "[source_check]\ntime_column = \"time\"\nexpected_interval_ms = 3600000\n";
    let output = run(dir.path(), check);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`report` is missing"), "{stderr}");
}
