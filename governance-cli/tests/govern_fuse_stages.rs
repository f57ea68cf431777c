//! Runs the `schema_map` and `resample` stages through the built `govern` binary on
//! invented CSV files.

use std::fmt::Write;
use std::path::Path;
use std::process::{Command, Output};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

fn govern(args: &[&str]) -> Output {
    Command::new(GOVERN)
        .args(args)
        .output()
        .expect("the govern binary starts")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn run(dir: &Path, chain: &str, files: &[(&str, String)]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("data")).expect("data folder");
    for (name, text) in files {
        std::fs::write(dir.join("data").join(name), text).expect("write csv");
    }
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, chain).expect("write chain");
    let out = dir.join("out");
    let output = govern(&["run", path_arg(&path), "--out", path_arg(&out), "--quiet"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Lineage records of stage `stage` in round 1.
fn lineage_of(out: &Path, stage: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("lineage.json")).expect("lineage");
    let records: serde_json::Value = serde_json::from_str(&text).expect("lineage json");
    records
        .as_array()
        .expect("a list of records")
        .iter()
        .find(|record| record["stage"] == stage && record["round"] == 1)
        .unwrap_or_else(|| panic!("no lineage record of {stage} in {text}"))
        .clone()
}

fn event_columns(record: &serde_json::Value, kind: &str) -> Vec<String> {
    record["events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|event| event["kind"] == kind)
        .filter_map(|event| event["parameters"]["column"].as_str().map(str::to_string))
        .collect()
}

/// Hourly readings of 36 hours: (time, pm25, no2, o3), each pollutant its own wave.
fn readings() -> Vec<(String, f64, f64, f64)> {
    (0..36)
        .map(|hour: u32| {
            let x = f64::from(hour);
            (
                format!("2025-03-{:02}T{:02}:00", 10 + hour / 24, hour % 24),
                (55.0 + 30.0 * (x / 4.0).sin()).round(),
                (38.0 + 17.0 * (x / 3.0).cos() + f64::from(hour % 5)).round(),
                (61.0 + 25.0 * (x / 6.0).sin() - f64::from(hour % 3)).round(),
            )
        })
        .collect()
}

const SCHEMA_CHAIN: &str = r#"
name = "harbour_air"

[source.csv]
paths = ["data/feed.csv"]

[side_sources.reference]
source = { csv = { paths = ["data/reference.csv"] } }

[[stages]]
kind = "schema_map"
model = "AirQualityObserved"
min_confidence = 0.5
skip = ["time", "site"]
reference = "reference"
drift = { reference_key = "time" }

[sinks.csv]
"#;

#[test]
fn schema_map_renames_and_reports_swaps() {
    let mut reference = String::from("time,pm25,no2,o3\n");
    // The feed renamed PM2.5 to an opaque sensor name and swapped the NO2 and O3 values.
    let mut feed = String::from("time,site,sensor_7,no2,o3\n");
    for (time, pm25, no2, o3) in readings() {
        writeln!(reference, "{time},{pm25:.1},{no2:.1},{o3:.1}").expect("write");
        writeln!(feed, "{time},pier,{pm25:.1},{o3:.1},{no2:.1}").expect("write");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(
        dir.path(),
        SCHEMA_CHAIN,
        &[("reference.csv", reference), ("feed.csv", feed)],
    );

    let csv = std::fs::read_to_string(out.join("round-1").join("governed.csv")).expect("csv");
    let header = csv.lines().next().expect("header");
    assert_eq!(header, "__row_id,time,site,pm25,no2,o3");
    assert_eq!(csv.lines().count(), 37, "every row is kept");

    let record = lineage_of(&out, "schema_map");
    assert_eq!(record["rows_in"], 36);
    assert_eq!(record["rows_out"], 36);
    assert_eq!(event_columns(&record, "schema_swapped"), ["no2", "o3"]);
    assert_eq!(event_columns(&record, "schema_mapped"), ["sensor_7"]);
    let unmapped = event_columns(&record, "schema_unmapped");
    for column in ["no2", "o3"] {
        assert!(unmapped.contains(&column.to_string()), "{unmapped:?}");
    }
}

#[test]
fn schema_map_reference_must_be_a_side_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data folder");
    std::fs::write(dir.path().join("data/feed.csv"), "time,no2\nx,1\n").expect("write");
    let chain = SCHEMA_CHAIN.replace("reference = \"reference\"", "reference = \"golden\"");
    let path = dir.path().join("CHAIN.toml");
    std::fs::write(&path, chain).expect("write chain");
    let output = govern(&["run", path_arg(&path), "--quiet"]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("\"golden\""), "{message}");
    assert!(message.contains("side_sources"), "{message}");
}

const RESAMPLE_CHAIN: &str = r#"
name = "harbour_daily"
rounds = 2

[source.csv]
paths = ["data/hourly.csv"]
batch_size = 7

[[stages]]
kind = "canonicalise"
timestamp = { year = "year", month = "month", day = "day", hour = "hour", output = "timestamp" }

[[stages]]
kind = "resample"
keys = ["site"]
time = "timestamp"
interval = { every = 6, unit = "hours" }
columns = [
  { column = "pm25", aggregate = "mean" },
  { column = "pm25", aggregate = "max", name = "pm25_peak" },
]

[sinks.csv]
"#;

#[test]
fn resample_merges_rows_into_buckets() {
    // Two sites, 24 hourly rows each, read in batches of 7 rows so that buckets span batches.
    let mut hourly = String::from("site,year,month,day,hour,pm25\n");
    for hour in 0..24 {
        for (site, offset) in [("pier", 0.0), ("dock", 100.0)] {
            writeln!(
                hourly,
                "{site},2025,3,10,{hour},{:.1}",
                offset + f64::from(hour)
            )
            .expect("write");
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), RESAMPLE_CHAIN, &[("hourly.csv", hourly)]);

    let csv = std::fs::read_to_string(out.join("round-1").join("governed.csv")).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("__row_id,site,timestamp,rows,pm25_mean,pm25_peak")
    );
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(
        rows.len(),
        8,
        "4 buckets of 6 hours for each of 2 sites: {csv}"
    );
    for row in &rows {
        assert_eq!(row[3], "6", "{row:?}");
    }
    let first_pier = rows
        .iter()
        .find(|row| row[1] == "pier" && row[2].ends_with("00:00:00"))
        .expect("pier's first bucket");
    assert_eq!(first_pier[4], "2.5");
    assert_eq!(first_pier[5], "5.0");

    let second = std::fs::read_to_string(out.join("round-2").join("governed.csv")).expect("csv");
    assert_eq!(
        second, csv,
        "round 2 reads the same rows and writes the same buckets"
    );

    let record = lineage_of(&out, "resample");
    assert_eq!(record["rows_in"], 48);
    assert_eq!(record["rows_out"], 8);
    assert_eq!(record["rows_merged"], 40);
    assert_eq!(record["rows_quarantined"], 0);
}
