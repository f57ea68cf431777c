//! Parity and speed of the pretrained sentence encoder against an independent numpy
//! implementation of the same model.
//!
//! ```text
//! cargo build --release --example bench_encoder
//! target/release/examples/bench_encoder [--model DIR] [--python PATH] [--json OUT]
//! ```
//!
//! The program embeds 100 sentences (English, Chinese and mixed, six of them longer than the
//! 256-token limit) with `governance_llm::SentenceEncoder`. Then it runs
//! `benches/encoder/reference.py` on the same sentences and the same model folder. It
//! reports the smallest cosine between the two embeddings of a sentence, and the sentences
//! per second of each. Each speed covers tokenisation and the forward passes, not loading.
//! The Rust encoder embeds the sentences once untimed before the timed run, so one-time
//! allocation is not counted.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod sentences;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use governance::llm::{SentenceEncoder, cosine};
use serde::{Deserialize, Serialize};

const USAGE: &str = "\
usage: bench_encoder [--model DIR] [--python PATH] [--json OUT]

Embeds 100 sentences with the Rust encoder and with the numpy reference, and compares them.

  --model DIR    model folder with model.safetensors, tokenizer.json and config.json
                 (default: $GOVERNANCE_MINILM_DIR or ~/.cache/governance-models/all-minilm-l6-v2)
  --python PATH  Python of the reference environment made by benches/encoder/setup_reference.sh
                 (default: $ENCODER_VENV/bin/python or ~/.cache/encoder-venv/bin/python)
  --json OUT     also write the figures as JSON to OUT";

#[derive(Debug)]
struct Args {
    model: PathBuf,
    python: PathBuf,
    json: Option<PathBuf>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: std::env::var_os("GOVERNANCE_MINILM_DIR").map_or_else(
            || home().join(".cache/governance-models/all-minilm-l6-v2"),
            PathBuf::from,
        ),
        python: std::env::var_os("ENCODER_VENV")
            .map_or_else(|| home().join(".cache/encoder-venv"), PathBuf::from)
            .join("bin/python"),
        json: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--model" => args.model = value()?.into(),
            "--python" => args.python = value()?.into(),
            "--json" => args.json = Some(value()?.into()),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The figures written with `--json`.
#[derive(Debug, Serialize)]
struct Figures {
    sentences: usize,
    min_cosine: f32,
    mean_cosine: f32,
    sentences_per_second: f64,
    reference_sentences_per_second: f64,
    truncated_sentences: usize,
    max_length: usize,
}

/// The output file of `reference.py`.
#[derive(Debug, Deserialize)]
struct Reference {
    embeddings: Vec<Vec<f32>>,
    sentences_per_second: f64,
    max_length: usize,
}

fn run_reference(args: &Args, texts: &[String], max_length: usize) -> Result<Reference, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/encoder/reference.py");
    let work = tempfile::tempdir().map_err(|error| format!("cannot create a temp dir: {error}"))?;
    let input = work.path().join("sentences.json");
    let output = work.path().join("embeddings.json");
    let json = serde_json::to_string(texts).map_err(|error| error.to_string())?;
    std::fs::write(&input, json)
        .map_err(|error| format!("cannot write {}: {error}", input.display()))?;

    let status = Command::new(&args.python)
        .arg(&script)
        .arg("--model")
        .arg(&args.model)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--max-length")
        .arg(max_length.to_string())
        .status()
        .map_err(|error| {
            format!(
                "cannot run {} ({error}); run benches/encoder/setup_reference.sh or pass --python",
                args.python.display()
            )
        })?;
    if !status.success() {
        return Err(format!(
            "{} {} failed with {status}",
            args.python.display(),
            script.display()
        ));
    }
    let text = std::fs::read_to_string(&output)
        .map_err(|error| format!("cannot read {}: {error}", output.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("invalid reference output: {error}"))
}

fn run(args: &Args) -> Result<Figures, String> {
    let texts = sentences::sentences();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    let encoder = SentenceEncoder::load(&args.model).map_err(|error| error.to_string())?;
    let max_length = encoder.max_length();
    let tokens = encoder.tokenize(&refs).map_err(|error| error.to_string())?;
    let truncated = tokens
        .iter()
        .filter(|text| text.ids.len() == max_length)
        .count();

    encoder
        .embed_batch(&refs)
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    let ours = encoder
        .embed_batch(&refs)
        .map_err(|error| error.to_string())?;
    let seconds = started.elapsed().as_secs_f64();

    let reference = run_reference(args, &texts, max_length)?;
    if reference.embeddings.len() != texts.len() || reference.max_length != max_length {
        return Err(format!(
            "the reference returned {} embeddings at max length {}; expected {} at {max_length}",
            reference.embeddings.len(),
            reference.max_length,
            texts.len()
        ));
    }

    let cosines: Vec<f32> = ours
        .iter()
        .zip(&reference.embeddings)
        .map(|(a, b)| cosine(a, b))
        .collect();
    let (worst, min_cosine) =
        cosines
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::INFINITY), |best, (index, value)| {
                if value < best.1 { (index, value) } else { best }
            });
    let mean_cosine = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let preview: String = texts[worst].chars().take(40).collect();
    println!("lowest cosine on sentence {worst}: {preview:?}");

    Ok(Figures {
        sentences: texts.len(),
        min_cosine,
        mean_cosine,
        sentences_per_second: texts.len() as f64 / seconds,
        reference_sentences_per_second: reference.sentences_per_second,
        truncated_sentences: truncated,
        max_length,
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
    let figures = match run(&args) {
        Ok(figures) => figures,
        Err(message) => {
            eprintln!("bench_encoder: {message}");
            std::process::exit(1);
        }
    };
    println!(
        "{} sentences ({} cut to {} tokens)",
        figures.sentences, figures.truncated_sentences, figures.max_length
    );
    println!(
        "cosine to the numpy reference: min {:.6}, mean {:.6}",
        figures.min_cosine, figures.mean_cosine
    );
    println!(
        "sentences per second: Rust (burn, ndarray) {:.1}, numpy reference {:.1}",
        figures.sentences_per_second, figures.reference_sentences_per_second
    );
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&figures).unwrap_or_default();
        if let Err(error) = std::fs::write(path, json) {
            eprintln!("bench_encoder: cannot write {}: {error}", path.display());
            std::process::exit(1);
        }
    }
}
