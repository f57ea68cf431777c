//! `govern`: the command-line tool of the `governance` SDK.
//!
//! ```text
//! govern run CHAIN.toml [--out DIR] [--report FILE]   run a chain written as TOML
//! govern demo [--out DIR] [--days N] [--rounds N] [--labels N]
//!                                                      run the synthetic city end to end
//! govern profile FILE [--json]                         profile a CSV or Parquet file
//! govern audit verify LOG                              verify a hash-chained audit log
//! govern lineage show RUN [--json]                     show the lineage records of a run
//! ```
//!
//! `run` and `demo` write into the output folder: `round-<n>/` with the sinks' files and the
//! quality report, `lineage.json` (every round's lineage records), `audit.jsonl` (the audit
//! log) and `report.html` (the HTML report with plots). The format of the chain file is
//! described in [`chain_file`].
//!
//! Exit codes: 0 success; 1 a data, run or verification failure (such as a tampered audit
//! log or a failed stage); 2 a usage or config error (a bad argument, an unknown key in the
//! chain file, a missing chain file); 3 an I/O or server error (a file that cannot be read or
//! written, a database that cannot be reached).

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool prints its results and errors on its terminal"
)]

mod chain_file;
mod demo;
mod detection;
mod error;
mod inspect;
mod labels;
mod progress;
mod runner;
mod source_check;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::chain_file::{ChainFile, SourceConfig};
use crate::detection::GroundTruthFeedback;
use crate::error::CliError;
use crate::labels::FileFeedback;
use crate::runner::{HTML_REPORT_FILE, RoundHook, RunOptions, RunOutcome};
use crate::table::Table;

const EXIT_CODES: &str = "Exit codes: 0 success; 1 data, run or verification failure; \
2 usage or config error; 3 I/O or server error.";

/// Closed-loop governance of city data: run chains, profile data, verify audit logs and
/// show lineage.
#[derive(Debug, Parser)]
#[command(name = "govern", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the chain described by a TOML file and write its outputs.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// Chain file (TOML): source, stages, sinks, feedback labels and the consumer's
        /// request.
        chain: PathBuf,
        /// Output folder; overrides `out` of the chain file. Default: `out`.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Path of the HTML report. Default: `report.html` in the output folder.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Draw no progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Run the synthetic city through cleaning, the join with its weather, the anomaly
    /// model, analysis and the guard, with ground-truth labels as feedback between rounds,
    /// and write the outputs.
    #[command(after_help = EXIT_CODES)]
    Demo {
        /// Output folder. The anomaly model's versions are saved in its `models` folder, and a
        /// later demo into the same folder starts from the latest one.
        #[arg(long, value_name = "DIR", default_value = "out/demo")]
        out: PathBuf,
        /// Path of the HTML report. Default: `report.html` in the output folder.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Seed of the synthetic city; the same seed gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Length of the generated period, in days of hourly readings from 6 stations.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
        /// Rounds of the chain to run.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
        rounds: u32,
        /// Maximum number of flagged cells labelled from the city's ground truth after each
        /// round but the last and handed to the outlier screen and the anomaly model; 0 runs
        /// without feedback.
        #[arg(long, value_name = "N", default_value_t = 200)]
        labels: usize,
        /// Draw no progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Profile the columns of a CSV or Parquet file (chosen by the file's extension).
    #[command(after_help = EXIT_CODES)]
    Profile {
        /// File to profile, ending in `.csv` or `.parquet`.
        file: PathBuf,
        /// Print the full profile as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Work with audit logs.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Work with lineage records.
    #[command(subcommand)]
    Lineage(LineageCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify a hash-chained audit log (a file, or a folder of segments). Prints OK with the
    /// record count, or the first bad record and exits with 1.
    #[command(after_help = EXIT_CODES)]
    Verify {
        /// Audit log file, such as `out/audit.jsonl`, or a segmented log folder.
        log: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum LineageCommand {
    /// Show the lineage records of a run: stage, version, parameters hash, rows in and out,
    /// duration in seconds.
    #[command(after_help = EXIT_CODES)]
    Show {
        /// Output folder of `govern run` or `govern demo`.
        run: PathBuf,
        /// Print the records as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}

fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            chain,
            out,
            report,
            quiet,
        } => {
            let file = ChainFile::load(&chain)?;
            // The labels are read before the first round, so a bad file stops the run early.
            let mut feedback = match &file.feedback {
                Some(config) => Some(FileFeedback::load(config)?),
                None => None,
            };
            let out = out
                .or_else(|| file.out.clone())
                .unwrap_or_else(|| PathBuf::from("out"));
            let hook = feedback
                .as_mut()
                .map(|feedback| feedback as &mut dyn RoundHook);
            run_and_print(&file, out, report, quiet, hook)
        }
        Command::Demo {
            out,
            report,
            seed,
            days,
            rounds,
            labels,
            quiet,
        } => {
            let settings = demo::DemoSettings { seed, days, rounds };
            let file = demo::demo_chain(&settings, &out)?;
            println!("synthetic city: seed {seed}, {days} days, {rounds} rounds");
            let models = out.join(demo::MODELS_DIR);
            if models.is_dir() {
                println!(
                    "anomaly model: continuing from the latest version in {} (use a new --out \
                     folder to start fresh)",
                    models.display()
                );
            }
            let SourceConfig::Synthetic(city) = &file.source else {
                return Err(CliError::Data(
                    "the demo's source is not the synthetic city: this is a bug".into(),
                ));
            };
            let truth = governance::collect::SyntheticCity::new(city.clone())?.ground_truth()?;
            let mut feedback = GroundTruthFeedback::new(&truth, labels);
            run_and_print(&file, out, report, quiet, Some(&mut feedback))
        }
        Command::Profile { file, json } => {
            let (profile, skipped) = inspect::profile_file(&file)?;
            if json {
                println!("{}", to_json(&profile)?);
            } else {
                print!("{}", inspect::profile_table(&profile));
            }
            if skipped > 0 {
                eprintln!(
                    "note: {skipped} rows of {} could not be read and are not in the profile",
                    file.display()
                );
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { log }) => {
            let records = inspect::verify_audit(&log)?;
            println!("OK: {records} records verified in {}", log.display());
            Ok(())
        }
        Command::Lineage(LineageCommand::Show { run, json }) => {
            let records = inspect::read_lineage(&run)?;
            if json {
                println!("{}", to_json(&records)?);
            } else {
                print!("{}", inspect::lineage_table(&records));
            }
            Ok(())
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|error| CliError::Data(format!("cannot format the output as JSON: {error}")))
}

fn run_and_print(
    file: &ChainFile,
    out: PathBuf,
    report: Option<PathBuf>,
    quiet: bool,
    mut hook: Option<&mut dyn RoundHook>,
) -> Result<(), CliError> {
    let report = report.unwrap_or_else(|| out.join(HTML_REPORT_FILE));
    let options = RunOptions {
        out,
        report,
        progress: !quiet,
    };
    let reborrowed: Option<&mut dyn RoundHook> = match &mut hook {
        Some(hook) => Some(&mut **hook),
        None => None,
    };
    let outcome = runner::run_chain(file, &options, reborrowed)?;
    print_rounds(&outcome);
    if let Some(summary) = hook.and_then(|hook| hook.summary(&outcome)) {
        print!("{summary}");
    }
    for (round, adjustment) in &outcome.adjustments {
        println!(
            "adjusted after round {round}: {} version {} -> {}: {}",
            adjustment.stage,
            adjustment.from_version,
            adjustment.to_version,
            adjustment.description
        );
    }
    println!(
        "audit log verified: {} records in {}",
        outcome.audit_records,
        options.out.join(runner::AUDIT_FILE).display()
    );
    println!("report: {}", display(&options.report));
    println!("outputs in {}", display(&options.out));
    Ok(())
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn print_rounds(outcome: &RunOutcome) {
    let mut table = Table::new(&[
        "round",
        "rows read",
        "delivered",
        "quarantined",
        "issues",
        "findings",
        "seconds",
    ]);
    for summary in &outcome.rounds {
        let read = summary
            .stages
            .iter()
            .find(|stage| stage.kind == "collector")
            .map_or(0, |stage| stage.rows_in);
        let issues: u64 = summary.issues_by_kind.values().sum();
        table.push(vec![
            summary.round.to_string(),
            read.to_string(),
            summary.rows_delivered.to_string(),
            summary.quarantine.len().to_string(),
            issues.to_string(),
            summary.findings.len().to_string(),
            format!("{:.3}", summary.seconds),
        ]);
    }
    print!("{}", table.render());
}
