//! End-to-end entity-resolution benchmark: blocking, unsupervised Fellegi-Sunter matching and
//! a pair classifier trained by active learning, on two record tables, scored against the
//! true matching pairs.
//!
//! ```text
//! cargo run --release --example bench_er -- [--data DIR] [--label-budget N] [--json OUT]
//!     [--term-frequency off|exact|near-exact] [--embedding-vectors DIM] [--minilm]
//! cargo run --release --example bench_er -- --left A.csv --right B.csv --truth gt.csv \
//!     --separator '|' [--name NAME] [--label-budget N] [--json OUT]
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
//! one-to-one assignment (clustering with at most two records per cluster). With
//! `--term-frequency`, the text comparisons get the term-frequency adjustment of
//! governance-fuse on their `exact` level (and with `near-exact` on their highest threshold
//! level too), and the adjusted weights of the most common values are printed.
//!
//! The trained matcher computes the pair features of governance-fuse for the same
//! candidates. Active learning starts from the Fellegi-Sunter probabilities and requests
//! labels for at most `--label-budget` pairs (default 100) from an oracle that looks them up
//! in the truth file. The pair classifier trained on those labels scores every candidate,
//! and the same two metrics are reported for it. A budget of 0 skips the trained matcher.
//! `--embedding-vectors DIM` adds the product and difference of the two records' embeddings,
//! projected to DIM dimensions, to the pair features. `--minilm` takes those embeddings (and
//! the embedding cosines) from the pretrained MiniLM encoder in `$GOVERNANCE_MINILM_DIR` or
//! `$HOME/.cache/governance-models/all-minilm-l6-v2` instead of hashed character n-grams.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod data;
mod matcher;
mod trained;

use std::path::PathBuf;

use serde::Serialize;

use crate::data::{Skipped, Task, read_table, read_truth, standard_tasks};
use crate::matcher::TermFrequencyMode;
use crate::trained::TrainedOptions;

const USAGE: &str = "\
usage: bench_er [--data DIR] [--label-budget N] [--json OUT]
       bench_er --left FILE --right FILE --truth FILE --separator CHAR [--name NAME]
                [--label-budget N] [--json OUT]

Blocks and matches two record tables and scores them against the true pairs.

  --data DIR        folder that contains matching/raw_tables/{D2,D3,D4}
                    (default: $GOVERNANCE_DATA_DIR or ../shared/data)
  --left FILE       left table; first column is the record id
  --right FILE      right table, same format
  --truth FILE      matching pairs: left id, right id, after a header line
  --separator CHAR  field separator of all three files (default ',')
  --name NAME       name of the task in the output (default 'custom')
  --label-budget N  most candidate pairs that active learning labels from the truth file
                    to train the pair classifier (default 100; 0 skips the classifier)
  --json OUT        also write the results as JSON to OUT
  --term-frequency MODE
                    term-frequency adjustment of the Fellegi-Sunter text comparisons:
                    off (default), exact, or near-exact (exact and the highest
                    threshold level)
  --embedding-vectors DIM
                    add the product and difference of the records' embeddings,
                    projected to DIM dimensions, to the pair features (default 0: off)
  --minilm          embed with the MiniLM encoder in $GOVERNANCE_MINILM_DIR or
                    $HOME/.cache/governance-models/all-minilm-l6-v2
  --hidden LIST     hidden-layer widths of the pair classifier, comma-separated, or
                    none for logistic regression (default 32)";

#[derive(Debug, Default)]
struct Args {
    data: Option<PathBuf>,
    left: Option<PathBuf>,
    right: Option<PathBuf>,
    truth: Option<PathBuf>,
    separator: u8,
    name: String,
    json: Option<PathBuf>,
    term_frequency: TermFrequencyMode,
    trained: TrainedOptions,
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
            "--label-budget" => {
                let text = value()?;
                args.trained.label_budget = text.parse().map_err(|_| {
                    format!("--label-budget must be a whole number of labels, got {text:?}")
                })?;
                if args.trained.label_budget == 1 {
                    return Err(
                        "--label-budget is 1; use at least 2, so that both classes can be \
                         labelled, or 0 to skip the trained matcher"
                            .into(),
                    );
                }
            }
            "--term-frequency" => {
                let text = value()?;
                args.term_frequency = match text.as_str() {
                    "off" => TermFrequencyMode::Off,
                    "exact" => TermFrequencyMode::Exact,
                    "near-exact" => TermFrequencyMode::NearExact,
                    _ => {
                        return Err(format!(
                            "--term-frequency must be off, exact or near-exact, got {text:?}"
                        ));
                    }
                };
            }
            "--embedding-vectors" => {
                let text = value()?;
                args.trained.embedding_vectors = text.parse().map_err(|_| {
                    format!(
                        "--embedding-vectors must be a whole number of dimensions, got {text:?}"
                    )
                })?;
            }
            "--minilm" => args.trained.minilm = true,
            "--hidden" => {
                let text = value()?;
                args.trained.hidden = if text == "none" {
                    Vec::new()
                } else {
                    text.split(',')
                        .map(|width| match width.trim().parse::<usize>() {
                            Ok(width) if width > 0 => Ok(width),
                            _ => Err(format!(
                                "--hidden must list positive layer widths such as 32 or 64,16, \
                                 or be none, got {text:?}"
                            )),
                        })
                        .collect::<Result<_, _>>()?
                };
            }
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
    trained: Option<trained::TrainedResult>,
}

fn run_task(task: &Task, args: &Args) -> Result<TaskResult, String> {
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
    let (matching, probabilities) =
        matcher::run_matcher(&left, &right, &union, &truth, args.term_frequency)?;
    let trained = if args.trained.label_budget > 0 {
        let source = task.truth.display().to_string();
        Some(trained::run_trained(
            &left,
            &right,
            &union,
            &probabilities,
            &truth,
            &source,
            &args.trained,
        )?)
    } else {
        None
    };
    Ok(TaskResult {
        task: task.name.clone(),
        left_records: left.len(),
        right_records: right.len(),
        true_pairs: truth.len(),
        truth_ids_not_found: unknown,
        rows_with_wrong_field_count: skipped.lines.len(),
        blocking,
        matching: Some(matching),
        trained,
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
        match run_task(task, &args) {
            Ok(result) => results.push(result),
            Err(message) => {
                eprintln!("{}: {message}", task.name);
                std::process::exit(1);
            }
        }
    }
    print_summary(&results);
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

/// Prints the matching metrics of every task and matcher as one Markdown table.
fn print_summary(results: &[TaskResult]) {
    println!("\n| task | matcher | precision | recall | F1 |");
    println!("|---|---|---:|---:|---:|");
    for result in results {
        let mut rows = Vec::new();
        if let Some(matching) = &result.matching {
            rows.push(("Fellegi-Sunter, p >= 0.5", &matching.threshold));
            rows.push(("Fellegi-Sunter, one-to-one", &matching.one_to_one));
        }
        if let Some(trained) = &result.trained {
            rows.push(("trained, p >= 0.5", &trained.threshold));
            rows.push(("trained, one-to-one", &trained.one_to_one));
        }
        for (matcher, metrics) in rows {
            println!(
                "| {} | {matcher} | {:.4} | {:.4} | {:.4} |",
                result.task, metrics.precision, metrics.recall, metrics.f1
            );
        }
    }
}
