//! Trains the token tagger on generated sentences and saves it to a folder.
//!
//! ```text
//! cargo run -p governance-llm --example train_tagger -- --out DIR [--seed N]
//!     [--sentences N] [--epochs N] [--held-out N]
//! ```
//!
//! Training is deterministic for a seed. The folder receives `tagger.safetensors` and
//! `tagger.json`; the scores on held-out templates are printed and stored in the JSON.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use governance_llm::{Tagger, TaggerConfig};

const USAGE: &str = "usage: train_tagger --out DIR [--seed N] [--sentences N] [--epochs N] \
                     [--held-out N]";

fn main() -> ExitCode {
    let mut config = TaggerConfig::default();
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::FAILURE;
        };
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} must be a whole number, not {value:?}"))
        };
        let parsed = match flag.as_str() {
            "--out" => {
                out = Some(PathBuf::from(&value));
                Ok(())
            }
            "--seed" => number().map(|seed| config.seed = seed as u64),
            "--sentences" => number().map(|count| config.train_sentences = count),
            "--epochs" => number().map(|count| config.epochs = count),
            "--held-out" => number().map(|count| config.held_out_sentences = count),
            other => Err(format!("unknown option {other:?}")),
        };
        if let Err(message) = parsed {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    }
    let Some(out) = out else {
        eprintln!("--out is required\n{USAGE}");
        return ExitCode::FAILURE;
    };

    println!(
        "training on {} sentences for {} epochs (seed {})",
        config.train_sentences, config.epochs, config.seed
    );
    let tagger = match Tagger::train(&config) {
        Ok(tagger) => tagger,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = &tagger.metadata().training;
    println!(
        "trained in {:.0} s; loss {:.4} at the start, per epoch {:?}",
        report.training_seconds, report.initial_loss, report.epoch_losses
    );
    let held_out = [
        (
            "held-out templates, training names",
            &report.held_out_templates,
        ),
        ("held-out templates and names", &report.held_out),
    ];
    for (title, scores) in held_out {
        let Some(scores) = scores else { continue };
        println!(
            "{title} ({} sentences), exact spans: precision {:.3} recall {:.3} F1 {:.3}",
            scores.sentences, scores.overall.precision, scores.overall.recall, scores.overall.f1
        );
        for (label, score) in &scores.per_label {
            println!(
                "  {label:<13} precision {:.3} recall {:.3} F1 {:.3} ({} gold)",
                score.precision, score.recall, score.f1, score.gold
            );
        }
    }
    if let Err(error) = tagger.save(&out) {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    println!("saved to {}", out.display());
    ExitCode::SUCCESS
}
