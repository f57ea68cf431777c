//! End-to-end entity-resolution benchmark: blocking and unsupervised Fellegi-Sunter matching
//! of two record tables, scored against the true matching pairs.
//!
//! ```text
//! cargo run --release --example bench_er -- [--data DIR] [--json OUT]
//! cargo run --release --example bench_er -- --left A.csv --right B.csv --truth gt.csv \
//!     --separator '|' [--name NAME] [--json OUT]
//! ```
//!
//! Without `--left`, the program runs the tasks D2 (Abt-Buy, `|`), D3 (Amazon-Google
//! Products, `#`) and D4 (DBLP-ACM, `%`) found under `DIR/matching/raw_tables`, where DIR is
//! `--data`, `$GOVERNANCE_DATA_DIR` or `../shared/data`. Each table's first column is the
//! record id; the truth file lists a left id and a right id per row after a header line.
//!
//! Per blocking method it reports candidates, pair completeness (PC), reduction ratio (RR)
//! and pair quality (PQ). The matcher is Fellegi-Sunter trained by EM without labels on the
//! union of all blockers' candidates, with `u` estimated from random pairs. It reports
//! pairwise precision, recall and F1 at match probability 0.5, and again after a greedy
//! one-to-one assignment (clustering with at most two records per cluster).

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod data;
mod matcher;

use std::path::PathBuf;

use serde::Serialize;

use crate::data::{Skipped, Task, read_table, read_truth, standard_tasks};

const USAGE: &str = "\
usage: bench_er [--data DIR] [--json OUT]
       bench_er --left FILE --right FILE --truth FILE --separator CHAR [--name NAME] [--json OUT]

Blocks and matches two record tables and scores them against the true pairs.

  --data DIR        folder that contains matching/raw_tables/{D2,D3,D4}
                    (default: $GOVERNANCE_DATA_DIR or ../shared/data)
  --left FILE       left table; first column is the record id
  --right FILE      right table, same format
  --truth FILE      matching pairs: left id, right id, after a header line
  --separator CHAR  field separator of all three files (default ',')
  --name NAME       name of the task in the output (default 'custom')
  --json OUT        also write the results as JSON to OUT";

#[derive(Debug, Default)]
struct Args {
    data: Option<PathBuf>,
    left: Option<PathBuf>,
    right: Option<PathBuf>,
    truth: Option<PathBuf>,
    separator: u8,
    name: String,
    json: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        separator: b',',
        name: "custom".into(),
        ..Args::default()
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--data" => args.data = Some(value()?.into()),
            "--left" => args.left = Some(value()?.into()),
            "--right" => args.right = Some(value()?.into()),
            "--truth" => args.truth = Some(value()?.into()),
            "--name" => args.name = value()?,
            "--json" => args.json = Some(value()?.into()),
            "--separator" => {
                let text = value()?;
                let bytes = text.as_bytes();
                if bytes.len() != 1 {
                    return Err(format!(
                        "--separator must be one ASCII character, got {text:?}"
                    ));
                }
                args.separator = bytes[0];
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

#[derive(Debug, Serialize)]
struct TaskResult {
    task: String,
    left_records: usize,
    right_records: usize,
    true_pairs: usize,
    truth_ids_not_found: u64,
    rows_with_wrong_field_count: usize,
    blocking: Vec<matcher::BlockingResult>,
    matching: Option<matcher::MatchingResult>,
}

fn run_task(task: &Task) -> Result<TaskResult, String> {
    let mut skipped = Skipped::default();
    let left = read_table(&task.left, task.separator, &mut skipped)?;
    let right = read_table(&task.right, task.separator, &mut skipped)?;
    for (file, line, reason) in &skipped.lines {
        eprintln!("  note: {file} line {line}: {reason}");
    }
    let (truth, unknown) = read_truth(&task.truth, task.separator, &left, &right)?;
    if unknown > 0 {
        eprintln!(
            "  note: {unknown} truth pairs name ids missing from the tables and are not scored"
        );
    }
    println!(
        "\n{}: {} x {} records, {} true pairs",
        task.name,
        left.len(),
        right.len(),
        truth.len()
    );
    let (blocking, union) = matcher::run_blockers(&left, &right, &truth)?;
    let matching = matcher::run_matcher(&left, &right, &union, &truth)?;
    Ok(TaskResult {
        task: task.name.clone(),
        left_records: left.len(),
        right_records: right.len(),
        true_pairs: truth.len(),
        truth_ids_not_found: unknown,
        rows_with_wrong_field_count: skipped.lines.len(),
        blocking,
        matching: Some(matching),
    })
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let tasks = match (&args.left, &args.right, &args.truth) {
        (Some(left), Some(right), Some(truth)) => vec![Task {
            name: args.name.clone(),
            left: left.clone(),
            right: right.clone(),
            truth: truth.clone(),
            separator: args.separator,
        }],
        (None, None, None) => {
            let root = args
                .data
                .clone()
                .or_else(|| std::env::var_os("GOVERNANCE_DATA_DIR").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("../shared/data"))
                .join("matching/raw_tables");
            if !root.is_dir() {
                eprintln!(
                    "data folder {} not found; pass --data DIR or the three files\n\n{USAGE}",
                    root.display()
                );
                std::process::exit(2);
            }
            standard_tasks(&root)
        }
        _ => {
            eprintln!("--left, --right and --truth go together\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let mut results = Vec::new();
    for task in &tasks {
        match run_task(task) {
            Ok(result) => results.push(result),
            Err(message) => {
                eprintln!("{}: {message}", task.name);
                std::process::exit(1);
            }
        }
    }
    if let Some(path) = &args.json {
        let text = match serde_json::to_string_pretty(&results) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("failed to encode the results: {err}");
                std::process::exit(1);
            }
        };
        if let Err(err) = std::fs::write(path, text) {
            eprintln!("failed to write {}: {err}", path.display());
            std::process::exit(1);
        }
    }
}
