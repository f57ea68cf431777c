//! Benchmark of error detection and correction from 20 labelled tuples, scored cell by cell.
//!
//! ```text
//! cargo run --release --example bench_cleaning -- [--seeds N] [--quick] [--labels N]
//!                                                [--json OUT] [--show-errors] DIR...
//! ```
//!
//! Each DIR contains `dirty.csv` and `clean.csv` with the same rows in the same order. Columns
//! are compared by position, and a cell is an error when its dirty value differs from its
//! clean value. For each seed the error cleaner picks the tuples to label, every cell of those
//! tuples is answered from `clean.csv` through the feedback API, and then detection and
//! correction run on the whole table. Detection is scored on the flagged cells, correction end
//! to end on the cells whose value changed.
//!
//! Figures are given twice: on the raw text (the definition the published figures use, and
//! the one compared with them and written to JSON) and after format canonicalisation, which
//! trims, lower-cases, writes numbers without trailing zeros and reads missing-value tokens as
//! empty before comparing, so a cell whose dirty and clean values differ only in format is
//! not an error there.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod data;
mod score;

use std::path::PathBuf;
use std::time::Instant;

use governance::audit::AuditLog;
use governance::clean::{ErrorCleaner, ErrorCleanerConfig};
use governance::{Cleaner, Feedback, Label, Stage, StageContext};
use serde::Serialize;

use crate::data::Dataset;
use crate::score::{Outcome, Summary, score};

const USAGE: &str = "\
usage: bench_cleaning [--seeds N] [--quick] [--labels N] [--json OUT] [--show-errors] DIR...

Scores error detection and correction on folders holding dirty.csv and clean.csv.

  DIR         folder with dirty.csv and clean.csv of the same shape
  --seeds N   number of seeds of the label sampling (default 5)
  --quick     one seed
  --labels N  tuples labelled per run (default 20)
  --json OUT  also write the mean figures as JSON to OUT
  --show-errors  list the false positives of the first seed per column";

/// Published cell-level figures with 20 labelled tuples: Raha's detection and Raha+Baran's
/// end-to-end correction, as precision, recall, F1 (Mahdavi et al., SIGMOD 2019 and
/// VLDB 2020).
const PUBLISHED: [(&str, [f64; 3], [f64; 3]); 3] = [
    ("hospital", [0.94, 0.59, 0.72], [0.89, 0.52, 0.66]),
    ("flights", [0.82, 0.81, 0.81], [0.88, 0.53, 0.66]),
    ("beers", [0.99, 0.99, 0.99], [0.93, 0.87, 0.90]),
];

struct Options {
    dirs: Vec<PathBuf>,
    seeds: u64,
    labels: usize,
    json: Option<PathBuf>,
    show_errors: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        dirs: Vec::new(),
        seeds: 5,
        labels: 20,
        json: None,
        show_errors: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => {
                let value = args.next().ok_or("--seeds needs a number")?;
                options.seeds = value
                    .parse()
                    .map_err(|_| format!("--seeds {value:?} is not a whole number"))?;
            }
            "--labels" => {
                let value = args.next().ok_or("--labels needs a number")?;
                options.labels = value
                    .parse()
                    .map_err(|_| format!("--labels {value:?} is not a whole number"))?;
            }
            "--quick" => options.seeds = 1,
            "--show-errors" => options.show_errors = true,
            "--json" => options.json = Some(args.next().ok_or("--json needs a file")?.into()),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"));
            }
            dir => options.dirs.push(dir.into()),
        }
    }
    if options.dirs.is_empty() {
        return Err(format!("no DIR given\n{USAGE}"));
    }
    if options.seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    Ok(options)
}

#[derive(Serialize)]
struct Figures {
    precision: f64,
    recall: f64,
    f1: f64,
}

#[derive(Serialize)]
struct Record {
    dataset: String,
    detection: Figures,
    correction: Figures,
    seconds: f64,
    peak_rss_mb: f64,
}

/// Runs one seed: pick tuples, label them from the clean table, detect and correct.
fn run_once(dataset: &Dataset, labels: usize, seed: u64) -> Result<(Outcome, f64), String> {
    let started = Instant::now();
    let config = ErrorCleanerConfig {
        label_budget: labels,
        ..Default::default()
    };
    let mut cleaner = ErrorCleaner::new(config).map_err(|error| error.to_string())?;
    let batch = dataset.batch().map_err(|error| error.to_string())?;
    let tuples = cleaner
        .pick_tuples(&batch, seed)
        .map_err(|error| error.to_string())?;
    let mut feedback = Vec::new();
    for &row_id in &tuples {
        let row = row_id as usize;
        for column in 0..dataset.names.len() {
            let (dirty, clean) = (&dataset.dirty[row][column], &dataset.clean[row][column]);
            let label = if dirty == clean {
                Label::Rejected
            } else {
                Label::Corrected {
                    value: clean.clone(),
                }
            };
            feedback.push(Feedback::cell(
                row_id,
                dataset.field_name(column),
                label,
                "clean.csv",
            ));
        }
    }
    cleaner
        .learn(&feedback)
        .map_err(|error| error.to_string())?;
    let mut ctx = StageContext::new(cleaner.name(), 1, AuditLog::in_memory().into_handle());
    let output = cleaner
        .clean(batch, &mut ctx)
        .map_err(|error| error.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok((score(dataset, &output, cleaner.name()), seconds))
}

/// Returns the peak resident set size of this process in MiB, from `VmHWM`.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let mut records = Vec::new();
    let mut failed = false;
    for dir in &options.dirs {
        let dataset = match Dataset::read(dir) {
            Ok(dataset) => dataset,
            Err(message) => {
                eprintln!("{message}");
                failed = true;
                continue;
            }
        };
        let mut outcomes = Vec::new();
        let mut times = Vec::new();
        for seed in 0..options.seeds {
            match run_once(&dataset, options.labels, seed) {
                Ok((outcome, seconds)) => {
                    outcomes.push(outcome);
                    times.push(seconds);
                }
                Err(message) => {
                    eprintln!("{}: seed {seed} failed: {message}", dataset.name);
                    failed = true;
                }
            }
        }
        if outcomes.is_empty() {
            continue;
        }
        if options.show_errors {
            print_false_positives(&dataset, &outcomes[0]);
            print_missed_errors(&dataset, &outcomes[0]);
        }
        let summary = Summary::of(&outcomes);
        let seconds = times.iter().sum::<f64>() / times.len() as f64;
        let peak = peak_rss_mb();
        print_dataset(&dataset, &summary, seconds, peak, outcomes.len());
        records.push(Record {
            dataset: dataset.name.clone(),
            detection: summary.raw_detection.figures(),
            correction: summary.raw_correction.figures(),
            seconds,
            peak_rss_mb: peak,
        });
    }
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&records).unwrap_or_default();
        if let Err(error) = std::fs::write(path, text) {
            eprintln!("failed to write {}: {error}", path.display());
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// Prints, per column, how many right cells were flagged and the most common of their values.
fn print_false_positives(dataset: &Dataset, outcome: &Outcome) {
    println!("\n{}: false positives of the first seed", dataset.name);
    for (column, values) in outcome.false_positives.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for value in values {
            *counts.entry(value.as_str()).or_default() += 1;
        }
        let mut common: Vec<(&str, usize)> = counts.into_iter().collect();
        common.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(right.0)));
        let examples: Vec<String> = common
            .iter()
            .take(6)
            .map(|(value, count)| format!("{value:?} x{count}"))
            .collect();
        println!(
            "  {:<20} {:>5}  {}",
            dataset.names[column],
            values.len(),
            examples.join(", ")
        );
    }
}

/// Prints, per column, raw detection figures and the most common errors left unflagged, as
/// dirty -> clean.
fn print_missed_errors(dataset: &Dataset, outcome: &Outcome) {
    println!(
        "\n{}: raw detection per column and missed errors of the first seed",
        dataset.name
    );
    println!(
        "  {:<20} {:>6} {:>6} {:>6} {:>6} {:>6}  missed",
        "column", "errors", "missed", "P", "R", "F1"
    );
    for (column, counts) in outcome.column_detection.iter().enumerate() {
        let missed = &outcome.false_negatives[column];
        let mut common: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
        for (dirty, clean) in missed {
            *common.entry((dirty.as_str(), clean.as_str())).or_default() += 1;
        }
        let mut common: Vec<((&str, &str), usize)> = common.into_iter().collect();
        common.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
        let examples: Vec<String> = common
            .iter()
            .take(4)
            .map(|((dirty, clean), count)| format!("{dirty:?}->{clean:?} x{count}"))
            .collect();
        println!(
            "  {:<20} {:>6} {:>6} {:>6.3} {:>6.3} {:>6.3}  {}",
            dataset.names[column],
            counts.errors,
            missed.len(),
            counts.precision(),
            counts.recall(),
            counts.f1(),
            examples.join(", ")
        );
    }
}

fn print_dataset(dataset: &Dataset, summary: &Summary, seconds: f64, peak: f64, seeds: usize) {
    println!(
        "\n{} ({} rows x {} columns, {} erroneous cells raw, {} after canonicalisation; {seeds} seeds)",
        dataset.name,
        dataset.dirty.len(),
        dataset.names.len(),
        dataset.errors(false),
        dataset.errors(true),
    );
    println!(
        "  {:<34} {:>13} {:>13} {:>13}",
        "", "precision", "recall", "F1"
    );
    let rows = [
        ("detection, raw (compared)", &summary.raw_detection),
        (
            "correction end to end, raw (compared)",
            &summary.raw_correction,
        ),
        ("detection, canonicalised", &summary.canonical_detection),
        ("correction, canonicalised", &summary.canonical_correction),
    ];
    for (label, figures) in rows {
        println!("  {label:<34} {}", figures.describe());
    }
    if let Some((_, detection, correction)) =
        PUBLISHED.iter().find(|(name, _, _)| dataset.name == *name)
    {
        println!(
            "  published Raha detection          {:>13.2} {:>13.2} {:>13.2}",
            detection[0], detection[1], detection[2]
        );
        println!(
            "  published Raha+Baran end to end   {:>13.2} {:>13.2} {:>13.2}",
            correction[0], correction[1], correction[2]
        );
    }
    println!("  wall time per seed {seconds:.2} s, peak RSS {peak:.1} MiB");
}
