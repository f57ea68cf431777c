//! Runs `govern run` with a `[feedback]` table that hands labels from a JSON Lines file to the
//! outlier screen after the first round.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

/// Row id of the moderate outlier (30.0) that the labels reject. Row ids count the rows of
/// the file from 0.
const MODERATE_ROW: u64 = 20;
/// Row id of the far outlier (80.0) that the labels confirm.
const FAR_ROW: u64 = 35;

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

/// 48 hourly PM2.5 readings of one station between 10 and 14, with a moderate outlier at
/// row 20 and a far one at row 35: the default threshold of 5 flags both.
fn readings() -> String {
    let mut text = String::from("station,time,pm25\n");
    for row in 0..48u64 {
        let value = match row {
            MODERATE_ROW => 30.0,
            FAR_ROW => 80.0,
            _ => (10 + (row * 7) % 5) as f64,
        };
        text.push_str(&format!(
            "north,2024-05-{:02}T{:02}:00:00,{value:.1}\n",
            1 + row / 24,
            row % 24
        ));
    }
    text
}

const CHAIN: &str = r#"
name = "labelled"
rounds = 2

[source.csv]
paths = ["data/readings.csv"]

[[stages]]
kind = "outliers"
series = "station"
columns = ["pm25"]
swap_pairs = []

[sinks.csv]
"#;

fn label_line(row_id: u64, column: &str, label: &str) -> String {
    format!(
        r#"{{"target":{{"type":"cell","row_id":{row_id},"column":"{column}"}},"label":{{"label":"{label}"}},"source":"reviewer"}}"#
    )
}

/// Writes the readings, the chain with `extra` appended and, when given, `labels` as
/// `labels.jsonl`; returns the chain file's path.
fn write_chain(dir: &Path, extra: &str, labels: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(dir.join("data")).expect("data folder");
    std::fs::write(dir.join("data").join("readings.csv"), readings()).expect("write csv");
    if let Some(labels) = labels {
        std::fs::write(dir.join("labels.jsonl"), labels).expect("write labels");
    }
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, format!("{CHAIN}{extra}")).expect("write chain");
    path
}

fn run(chain: &Path, out: &Path) -> Output {
    govern(&["run", path_arg(chain), "--out", path_arg(out), "--quiet"])
}

/// Returns the count of the `issues` column of the rounds table, one entry per round.
fn issues_per_round(text: &str) -> Vec<u64> {
    text.lines()
        .filter(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|line| line.split_whitespace().nth(4)?.parse().ok())
        .collect()
}

#[test]
fn labels_move_outlier_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = format!(
        "{}\n\n{}\n",
        label_line(MODERATE_ROW, "pm25", "rejected"),
        label_line(FAR_ROW, "pm25", "confirmed")
    );
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"labels.jsonl\"\n",
        Some(&labels),
    );
    let output = run(&chain, &dir.path().join("out"));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);

    assert!(
        text.contains("feedback: 2 labels from"),
        "labels counted: {text}"
    );
    assert!(
        text.contains("adjusted after round 1: robust_outliers version 1 -> 2: threshold 5 ->"),
        "change line: {text}"
    );
    assert_eq!(issues_per_round(&text), vec![2, 1], "{text}");
    let audit =
        std::fs::read_to_string(dir.path().join("out").join("audit.jsonl")).expect("audit log");
    assert!(audit.contains("threshold 5 ->"), "the change is audited");
}

#[test]
fn run_without_labels_learns_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(dir.path(), "", None);
    let output = run(&chain, &dir.path().join("out"));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);

    assert!(!text.contains("adjusted after round"), "{text}");
    assert!(!text.contains("feedback:"), "{text}");
    assert_eq!(issues_per_round(&text), vec![2, 2], "{text}");
}

#[test]
fn malformed_label_line_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = format!(
        "{}\n{{\"target\":{{\"type\":\"cell\",\"row_id\":\"twenty\"}}}}\n",
        label_line(MODERATE_ROW, "pm25", "rejected")
    );
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"labels.jsonl\"\n",
        Some(&labels),
    );
    let out = dir.path().join("out");
    let output = run(&chain, &out);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let message = stderr(&output);
    assert!(message.contains("labels.jsonl:2:"), "{message}");
    assert!(message.contains("not a feedback record"), "{message}");
    assert!(
        message.contains(r#""label":{"label":"rejected"}"#),
        "{message}"
    );
    assert!(!out.exists(), "no round ran");
}

#[test]
fn missing_labels_file_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"absent.jsonl\"\n",
        None,
    );
    let output = run(&chain, &dir.path().join("out"));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("absent.jsonl not found"), "{message}");
}

#[test]
fn labels_after_last_round_exit_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"labels.jsonl\"\nafter_round = 2\n",
        Some(""),
    );
    let output = run(&chain, &dir.path().join("out"));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("feedback.after_round is 2"), "{message}");
    assert!(message.contains("rounds to at least 3"), "{message}");
}

#[test]
fn unflagged_cell_labels_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = format!(
        "{}\n{}\n",
        label_line(MODERATE_ROW, "station", "rejected"),
        label_line(3, "pm25", "rejected")
    );
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"labels.jsonl\"\n",
        Some(&labels),
    );
    let output = run(&chain, &dir.path().join("out"));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);

    assert!(!text.contains("adjusted after round"), "{text}");
    assert!(text.contains("note: no stage changed"), "{text}");
    assert_eq!(issues_per_round(&text), vec![2, 2], "{text}");
}

#[test]
fn unknown_label_targets_exit_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = format!(
        "{}\n{}\n{}\n",
        label_line(MODERATE_ROW, "pm10", "rejected"),
        label_line(FAR_ROW, "pm25", "confirmed"),
        label_line(999, "pm25", "rejected")
    );
    let chain = write_chain(
        dir.path(),
        "\n[feedback]\nlabels = \"labels.jsonl\"\n",
        Some(&labels),
    );
    let out = dir.path().join("out");
    let output = run(&chain, &out);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let message = stderr(&output);

    assert!(message.contains("2 of 3 feedback labels"), "{message}");
    assert!(
        message.contains("name cells that round 1 did not deliver"),
        "{message}"
    );
    assert!(
        message.contains("labels.jsonl:1: column \"pm10\" is not a column of the governed output"),
        "{message}"
    );
    assert!(
        message.contains("labels.jsonl:3: row id 999 was not delivered"),
        "{message}"
    );
    assert!(
        !message.contains("labels.jsonl:2:"),
        "line 2 is valid: {message}"
    );
    assert!(
        message.contains("governed columns: pm25, station, time"),
        "{message}"
    );
    assert!(message.contains("delivered row ids: 0 to 47"), "{message}");
    assert!(message.contains("fix the row_id and column"), "{message}");
    assert!(out.join("round-1").exists(), "round 1 ran before the check");
    assert!(
        !out.join("round-2").exists(),
        "no round ran after the check"
    );
    assert!(!stdout(&output).contains("adjusted after round"));
}
