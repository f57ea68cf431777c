//! Runs `govern run` with a guard whose access policy is a Rego file beside the chain file,
//! and checks what the consumer named in `[request]` receives and what the audit log records.

use std::path::Path;
use std::process::{Command, Output};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

const READINGS: &str = "\
station,district,pm25,contact
north,haidian,12.5,13812345678
south,chaoyang,35.0,13987654321
east,haidian,22.0,13700001111
";

/// Analysts see their own district's stations, without the contact column; the blocked
/// purposes come from the data document.
const POLICY: &str = r#"
package city.air

import rego.v1

default allow := false

allow if input.subject.role == "analyst"

deny contains "purpose is blocked" if input.purpose in data.blocked

columns := ["station", "district", "pm25"]

row_filter := [{"column": "district", "op": "eq", "value": input.subject.department}]

rules contains "analysts-own-district" if allow
"#;

fn chain(purpose: &str) -> String {
    format!(
        r#"
name = "rego_guard"

[source.csv]
paths = ["readings.csv"]

[[stages]]
kind = "guard"
rego = {{ path = "policy/air.rego", package = "city.air", data = "policy/data.json" }}

[sinks.csv]

[request]
role = "analyst"
purpose = "{purpose}"
department = "haidian"
"#
    )
}

fn run(dir: &Path, purpose: &str) -> Output {
    std::fs::create_dir_all(dir.join("policy")).expect("policy folder");
    std::fs::write(dir.join("readings.csv"), READINGS).expect("readings");
    std::fs::write(dir.join("policy/air.rego"), POLICY).expect("policy");
    std::fs::write(
        dir.join("policy/data.json"),
        r#"{"blocked": ["marketing"]}"#,
    )
    .expect("data document");
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, chain(purpose)).expect("chain file");
    let out = dir.join("out");
    Command::new(GOVERN)
        .args(["run"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .expect("the govern binary starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn rego_guard_filters_rows_and_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(dir.path(), "daily report");
    assert!(output.status.success(), "{}", stderr(&output));

    let governed =
        std::fs::read_to_string(dir.path().join("out/round-1/governed.csv")).expect("csv");
    let lines: Vec<&str> = governed.lines().collect();
    assert_eq!(lines[0], "__row_id,station,district,pm25", "{governed}");
    assert_eq!(lines.len(), 3, "{governed}");
    assert!(lines[1..].iter().all(|line| line.contains("haidian")));
    assert!(!governed.contains("1381234"), "the contact column leaked");

    let audit = std::fs::read_to_string(dir.path().join("out/audit.jsonl")).expect("audit");
    assert!(audit.contains("rego:city.air"), "{audit}");
    assert!(audit.contains("analysts-own-district"), "{audit}");
}

#[test]
fn rego_deny_fails_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(dir.path(), "marketing");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("purpose is blocked"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_rego_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("policy")).expect("policy folder");
    let path = dir.path().join("CHAIN.toml");
    std::fs::write(&path, chain("daily report")).expect("chain file");
    std::fs::write(dir.path().join("readings.csv"), READINGS).expect("readings");
    let output = Command::new(GOVERN)
        .args(["run"])
        .arg(&path)
        .arg("--quiet")
        .output()
        .expect("the govern binary starts");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("air.rego"), "{}", stderr(&output));
}
