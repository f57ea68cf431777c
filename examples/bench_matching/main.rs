//! Benchmark of entity matching on labelled record pairs, beside published F1 figures.
//!
//! ```text
//! cargo run --release --example bench_matching -- [--modes train,active,unsupervised]
//!     [--quick] [--json OUT] [--show-model] [--embedding-vectors DIM] DIR...
//! ```
//!
//! Each DIR contains `train.txt`, `valid.txt` and `test.txt` in the Magellan/DeepMatcher format
//! (see `dataset.rs`), such as DBLP-ACM, Amazon-Google and Abt-Buy. Every mode is scored by
//! precision, recall and F1 of the match class on `test.txt`:
//!
//! - `train`: the pair classifier trained on `train.txt`, with early stopping and the
//!   decision threshold chosen on `valid.txt`.
//! - `active`: the pair classifier trained on at most 100 labels that active learning requests from
//!   an oracle reading the labels of `train.txt`, starting from Fellegi-Sunter scores.
//! - `unsupervised`: the Fellegi-Sunter model trained by EM on the pairs of all three files
//!   without their labels, with `u` from random record pairs; a pair matches when its
//!   posterior is above 0.5.
//!
//! Features and the Fellegi-Sunter comparisons are fitted on the records of the two tables
//! only, never on labels. `--embedding-vectors DIM` adds the product and difference of the
//! two records' hashed n-gram embeddings, projected to DIM dimensions, to the pair features.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod dataset;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use governance::fuse::er::active::{ActiveLearningConfig, MatchOracle, learn_actively};
use governance::fuse::er::assign::one_to_one;
use governance::fuse::er::features::vectors::EmbeddingVectorConfig;
use governance::fuse::er::features::{PairFeatureConfig, PairFeaturizer};
use governance::fuse::er::fellegi_sunter::{
    FellegiSunterConfig, FellegiSunterModel, LevelMatrix, random_pairs,
};
use governance::fuse::er::{CandidatePair, ErError, LinkMode};
use governance::llm::threshold::best_f1_threshold;
use governance::llm::{FeatureMatrix, PairClassifierConfig, TrainedPairClassifier, Validation};
use governance::{Feedback, FeedbackTarget, Label};
use serde::Serialize;

use crate::dataset::{Dataset, Split};

const USAGE: &str = "\
usage: bench_matching [--modes LIST] [--quick] [--json OUT] [--show-model]
                      [--embedding-vectors DIM] DIR...

Scores entity matching on labelled pairs (train.txt, valid.txt, test.txt per DIR).

  DIR           folder with train.txt, valid.txt and test.txt, lines of
                `COL <attr> VAL <value> ... <TAB> COL ... <TAB> <0|1>`
  --modes LIST  comma-separated modes among train, active, unsupervised
                (default: all three)
  --quick       fewer training epochs, for CI; still deterministic
  --json OUT    also write [{dataset, mode, precision, recall, f1, seconds}] to OUT
  --show-model  print the trained Fellegi-Sunter m, u and weights
  --embedding-vectors DIM
                add the product and difference of the records' embeddings,
                projected to DIM dimensions, to the pair features (default 0: off)";

/// Label budget of the active mode.
const LABEL_BUDGET: usize = 100;
/// Random record pairs from which `u` is estimated.
const RANDOM_PAIRS: usize = 20_000;
const SEED: u64 = 7;

/// Published F1 on the test split, in percent: Ditto (Li et al., VLDB 2021), DeepMatcher
/// (Mudgal et al., SIGMOD 2018) and a TF-IDF cosine with one threshold, as quoted beside them.
const PUBLISHED: [Published; 3] = [
    Published {
        dataset: "DBLP-ACM",
        ditto: Some(99.0),
        deepmatcher: None,
        tfidf: Some(93.1),
    },
    Published {
        dataset: "Amazon-Google",
        ditto: Some(75.6),
        deepmatcher: Some(69.3),
        tfidf: Some(56.2),
    },
    Published {
        dataset: "Abt-Buy",
        ditto: Some(89.3),
        deepmatcher: Some(62.8),
        tfidf: Some(58.1),
    },
];

/// Published F1 of one data set; `None` where the source gives no figure.
struct Published {
    dataset: &'static str,
    ditto: Option<f64>,
    deepmatcher: Option<f64>,
    tfidf: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Train,
    Active,
    Unsupervised,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Active => "active",
            Mode::Unsupervised => "unsupervised",
        }
    }
}

struct Options {
    dirs: Vec<PathBuf>,
    modes: Vec<Mode>,
    quick: bool,
    json: Option<PathBuf>,
    show_model: bool,
    /// Dimensions of the projected embedding vectors; 0 leaves them out.
    embedding_vectors: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        dirs: Vec::new(),
        modes: vec![Mode::Train, Mode::Active, Mode::Unsupervised],
        quick: false,
        json: None,
        show_model: false,
        embedding_vectors: 0,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--modes" => {
                let list = args
                    .next()
                    .ok_or_else(|| format!("option --modes needs a value\n\n{USAGE}"))?;
                options.modes = list
                    .split(',')
                    .map(|name| match name.trim() {
                        "train" => Ok(Mode::Train),
                        "active" => Ok(Mode::Active),
                        "unsupervised" => Ok(Mode::Unsupervised),
                        other => Err(format!(
                            "unknown mode {other:?}; use train, active or unsupervised\n\n{USAGE}"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--quick" => options.quick = true,
            "--show-model" => options.show_model = true,
            "--json" => {
                let path = args
                    .next()
                    .ok_or_else(|| format!("option --json needs a file\n\n{USAGE}"))?;
                options.json = Some(PathBuf::from(path));
            }
            "--embedding-vectors" => {
                let text = args.next().ok_or_else(|| {
                    format!("option --embedding-vectors needs a value\n\n{USAGE}")
                })?;
                options.embedding_vectors = text.parse().map_err(|_| {
                    format!(
                        "--embedding-vectors must be a whole number of dimensions, got {text:?}"
                    )
                })?;
            }
            "--help" | "-h" => return Ok(None),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n\n{USAGE}"));
            }
            _ => options.dirs.push(PathBuf::from(arg)),
        }
    }
    if options.dirs.is_empty() {
        return Err(format!(
            "no data set given: pass at least one DIR\n\n{USAGE}"
        ));
    }
    Ok(Some(options))
}

/// One line of the `--json` output.
#[derive(Debug, Clone, Serialize)]
struct Figures {
    dataset: String,
    mode: String,
    precision: f64,
    recall: f64,
    f1: f64,
    seconds: f64,
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
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), String> {
    let mut results = Vec::new();
    for dir in &options.dirs {
        let dataset = dataset::load(dir)?;
        println!(
            "{}: {} left and {} right records; {} / {} / {} train / valid / test pairs",
            dataset.name,
            dataset.left.len(),
            dataset.right.len(),
            dataset.train.pairs.len(),
            dataset.valid.pairs.len(),
            dataset.test.pairs.len()
        );
        results.extend(
            run_dataset(&dataset, options)
                .map_err(|error| format!("{}: {}", dataset.name, error_chain(&error)))?,
        );
    }
    print_table(&results);
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&results)
            .map_err(|error| format!("cannot serialise the figures: {error}"))?;
        std::fs::write(path, text)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}

/// Pair features of every split, fitted on the records alone.
struct Prepared {
    featurizer: PairFeaturizer,
    train: FeatureMatrix,
    valid: FeatureMatrix,
    test: FeatureMatrix,
    /// The pairs of all splits and each record's nearest neighbours, without repeats: the
    /// population that the Fellegi-Sunter model and the one-to-one assignment see.
    candidates: Vec<CandidatePair>,
    candidate_features: FeatureMatrix,
    seconds: f64,
}

fn run_dataset(dataset: &Dataset, options: &Options) -> Result<Vec<Figures>, ErError> {
    let started = Instant::now();
    let config = PairFeatureConfig {
        embedding_vectors: (options.embedding_vectors > 0).then(|| EmbeddingVectorConfig {
            dim: options.embedding_vectors,
            ..EmbeddingVectorConfig::default()
        }),
        ..PairFeatureConfig::default()
    };
    let featurizer = PairFeaturizer::fit(&dataset.left, &dataset.right, &config)?;
    let matrix = |split: &Split| -> Result<FeatureMatrix, ErError> {
        let values = featurizer.features(&split.pairs)?;
        Ok(FeatureMatrix::new(featurizer.names().to_vec(), values)?)
    };
    let mut candidates = featurizer.neighbour_pairs();
    candidates.extend_from_slice(&dataset.train.pairs);
    candidates.extend_from_slice(&dataset.valid.pairs);
    candidates.extend_from_slice(&dataset.test.pairs);
    candidates.sort_unstable();
    candidates.dedup();
    let candidate_features = FeatureMatrix::new(
        featurizer.names().to_vec(),
        featurizer.features(&candidates)?,
    )?;
    let prepared = Prepared {
        train: matrix(&dataset.train)?,
        valid: matrix(&dataset.valid)?,
        test: matrix(&dataset.test)?,
        candidates,
        candidate_features,
        seconds: 0.0,
        featurizer,
    };
    let prepared = Prepared {
        seconds: started.elapsed().as_secs_f64(),
        ..prepared
    };
    println!(
        "  {} features per pair in {:.1} s",
        prepared.featurizer.width(),
        prepared.seconds
    );

    let mut figures = Vec::new();
    for &mode in &options.modes {
        let started = Instant::now();
        let predicted = match mode {
            Mode::Train => train_mode(&prepared, dataset, options.quick)?,
            Mode::Active => active_mode(&prepared, dataset, options)?,
            Mode::Unsupervised => unsupervised_mode(&prepared, dataset, options)?,
        };
        let seconds = prepared.seconds + started.elapsed().as_secs_f64();
        let (precision, recall, f1) = score(&predicted, &dataset.test.labels);
        println!(
            "  {:<13} precision {:.3}  recall {:.3}  F1 {:.3}  ({seconds:.1} s)",
            mode.name(),
            precision,
            recall,
            f1
        );
        figures.push(Figures {
            dataset: dataset.name.clone(),
            mode: mode.name().into(),
            precision,
            recall,
            f1,
            seconds,
        });
    }
    Ok(figures)
}

fn classifier_config(quick: bool) -> PairClassifierConfig {
    let base = PairClassifierConfig::default();
    if quick {
        PairClassifierConfig {
            epochs: 40,
            patience: 8,
            ..base
        }
    } else {
        base
    }
}

/// Trains on train.txt with early stopping on valid.txt, then chooses on valid.txt between
/// plain thresholding and thresholding after the one-to-one assignment, each with its best
/// threshold.
fn train_mode(prepared: &Prepared, dataset: &Dataset, quick: bool) -> Result<Vec<bool>, ErError> {
    let validation = Validation {
        features: &prepared.valid,
        labels: &dataset.valid.labels,
    };
    let model = TrainedPairClassifier::train(
        &classifier_config(quick),
        &prepared.train,
        &dataset.train.labels,
        Some(validation),
    )?;
    let candidate_scores: Vec<f64> = model
        .predict(&prepared.candidate_features)?
        .into_iter()
        .map(f64::from)
        .collect();
    let assigned = assignment(&prepared.candidates, &candidate_scores);
    let valid = model.predict(&prepared.valid)?;
    let valid_masked = masked(&valid, &dataset.valid.pairs, &assigned);
    let labelled = |scores: &[f32]| -> Vec<(f32, bool)> {
        scores
            .iter()
            .copied()
            .zip(dataset.valid.labels.iter().copied())
            .collect()
    };
    let (plain_threshold, plain_f1) = best_f1_threshold(&labelled(&valid), 0.5);
    let (assigned_threshold, assigned_f1) = best_f1_threshold(&labelled(&valid_masked), 0.5);
    let use_assignment = assigned_f1 > plain_f1;
    println!(
        "  train: valid F1 {plain_f1:.3} plain, {assigned_f1:.3} one-to-one; using {}",
        if use_assignment {
            "one-to-one"
        } else {
            "plain"
        }
    );
    let test = model.predict(&prepared.test)?;
    Ok(if use_assignment {
        masked(&test, &dataset.test.pairs, &assigned)
            .into_iter()
            .map(|p| p > assigned_threshold)
            .collect()
    } else {
        test.into_iter().map(|p| p > plain_threshold).collect()
    })
}

/// The Fellegi-Sunter model with its candidate pairs and their match weights.
struct Unsupervised {
    model: FellegiSunterModel,
    /// Whether the one-to-one assignment by match weight keeps each candidate.
    assigned: HashMap<CandidatePair, bool>,
}

/// Trains the Fellegi-Sunter model without labels on the pairs of all splits and each
/// record's nearest neighbours, with `u` from random record pairs, then assigns candidates one
/// to one by match weight.
fn fellegi_sunter(
    prepared: &Prepared,
    dataset: &Dataset,
    show: bool,
) -> Result<Unsupervised, ErError> {
    let featurizer = &prepared.featurizer;
    let levels = levels(prepared, &prepared.candidate_features)?;
    let random = random_pairs(
        LinkMode::Link,
        dataset.left.len(),
        dataset.right.len(),
        RANDOM_PAIRS,
        SEED,
    );
    let random = featurizer.comparison_levels(&featurizer.features(&random)?)?;
    let config = FellegiSunterConfig {
        fix_u: std::env::var_os("FS_FIX_U").is_some(),
        ..FellegiSunterConfig::default()
    };
    let random = if std::env::var_os("FS_NO_RANDOM").is_some() {
        None
    } else {
        Some(&random)
    };
    let model = FellegiSunterModel::train(&config, &levels, random)?;
    if show {
        println!("{model}");
    }
    let weights = model.match_weights(&levels)?;
    let assigned = assignment(&prepared.candidates, &weights);
    Ok(Unsupervised { model, assigned })
}

/// Returns whether the greedy one-to-one assignment by `scores` keeps each candidate.
fn assignment(candidates: &[CandidatePair], scores: &[f64]) -> HashMap<CandidatePair, bool> {
    let kept = one_to_one(candidates, scores);
    candidates.iter().copied().zip(kept).collect()
}

/// Probabilities with every pair that the assignment drops set to 0.
fn masked(
    probabilities: &[f32],
    pairs: &[CandidatePair],
    assigned: &HashMap<CandidatePair, bool>,
) -> Vec<f32> {
    probabilities
        .iter()
        .zip(pairs)
        .map(|(&probability, pair)| {
            if assigned.get(pair).copied().unwrap_or(false) {
                probability
            } else {
                0.0
            }
        })
        .collect()
}

fn levels(prepared: &Prepared, features: &FeatureMatrix) -> Result<LevelMatrix, ErError> {
    prepared.featurizer.comparison_levels(features.values())
}

/// Matches: posterior above 0.5 and kept by the one-to-one assignment.
fn unsupervised_predict(
    unsupervised: &Unsupervised,
    prepared: &Prepared,
    features: &FeatureMatrix,
    pairs: &[CandidatePair],
) -> Result<Vec<bool>, ErError> {
    let posteriors = unsupervised.model.predict(&levels(prepared, features)?)?;
    Ok(posteriors
        .iter()
        .zip(pairs)
        .map(|(posterior, pair)| {
            *posterior > 0.5 && unsupervised.assigned.get(pair).copied().unwrap_or(false)
        })
        .collect())
}

fn unsupervised_mode(
    prepared: &Prepared,
    dataset: &Dataset,
    options: &Options,
) -> Result<Vec<bool>, ErError> {
    let unsupervised = fellegi_sunter(prepared, dataset, options.show_model)?;
    println!(
        "  unsupervised: {} candidate pairs, match probability {:.4}",
        prepared.candidates.len(),
        unsupervised.model.match_probability
    );
    unsupervised_predict(&unsupervised, prepared, &prepared.test, &dataset.test.pairs)
}

/// Oracle that looks up the labels of the train split.
struct FileOracle<'a> {
    split: &'a Split,
    index: std::collections::HashMap<CandidatePair, bool>,
}

impl MatchOracle for FileOracle<'_> {
    fn review(&mut self, pairs: &[CandidatePair]) -> Result<Vec<Feedback>, ErError> {
        pairs
            .iter()
            .map(|pair| {
                let matched = self.index.get(pair).copied().ok_or_else(|| {
                    ErError::Oracle(format!(
                        "pair ({}, {}) is not among the {} labelled train pairs",
                        pair.left,
                        pair.right,
                        self.split.pairs.len()
                    ))
                })?;
                Ok(Feedback {
                    target: FeedbackTarget::Match {
                        left: u64::from(pair.left),
                        right: u64::from(pair.right),
                    },
                    label: if matched {
                        Label::Confirmed
                    } else {
                        Label::Rejected
                    },
                    source: "train.txt".into(),
                })
            })
            .collect()
    }
}

fn active_mode(
    prepared: &Prepared,
    dataset: &Dataset,
    options: &Options,
) -> Result<Vec<bool>, ErError> {
    let unsupervised = fellegi_sunter(prepared, dataset, false)?;
    let prior = unsupervised
        .model
        .predict(&levels(prepared, &prepared.train)?)?;
    // A pair may appear twice in train.txt, so the oracle returns its first label.
    let mut index = std::collections::HashMap::new();
    for (pair, label) in dataset.train.pairs.iter().zip(&dataset.train.labels) {
        index.entry(*pair).or_insert(*label);
    }
    let mut oracle = FileOracle {
        split: &dataset.train,
        index,
    };
    let mut config = ActiveLearningConfig {
        budget: LABEL_BUDGET,
        ..ActiveLearningConfig::default()
    };
    if options.quick {
        config.classifier.epochs = 60;
    }
    let outcome = learn_actively(
        &config,
        &prepared.train,
        &dataset.train.pairs,
        &prior,
        &mut oracle,
    )?;
    let positives = outcome.labelled.iter().filter(|(_, label)| *label).count();
    println!(
        "  active: {} labels asked ({positives} matches) in {} rounds",
        outcome.labelled.len(),
        outcome.rounds
    );
    Ok(outcome.classifier.classify(&prepared.test)?)
}

/// Precision, recall and F1 of the match class.
fn score(predicted: &[bool], truth: &[bool]) -> (f64, f64, f64) {
    let mut counts = (0.0, 0.0, 0.0);
    for (&p, &t) in predicted.iter().zip(truth) {
        match (p, t) {
            (true, true) => counts.0 += 1.0,
            (true, false) => counts.1 += 1.0,
            (false, true) => counts.2 += 1.0,
            (false, false) => {}
        }
    }
    let (tp, fp, fn_) = counts;
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if tp > 0.0 {
        2.0 * tp / (2.0 * tp + fp + fn_)
    } else {
        0.0
    };
    (precision, recall, f1)
}

fn print_table(results: &[Figures]) {
    let published = |dataset: &str, column: usize| {
        PUBLISHED
            .iter()
            .find(|entry| entry.dataset == dataset)
            .and_then(|entry| match column {
                0 => entry.ditto,
                1 => entry.deepmatcher,
                _ => entry.tfidf,
            })
            .map_or_else(|| "—".to_string(), |value| format!("{value:.1}"))
    };
    println!();
    println!(
        "| data set | mode | precision | recall | F1 | Ditto F1 | DeepMatcher F1 | TF-IDF F1 | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for entry in results {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {:.1} |",
            entry.dataset,
            entry.mode,
            100.0 * entry.precision,
            100.0 * entry.recall,
            100.0 * entry.f1,
            published(&entry.dataset, 0),
            published(&entry.dataset, 1),
            published(&entry.dataset, 2),
            entry.seconds
        );
    }
}

/// Joins the error's message and the messages of each of its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_match_class() {
        let (precision, recall, f1) =
            score(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!(precision, 0.5);
        assert_eq!(recall, 0.5);
        assert_eq!(f1, 0.5);
    }

    #[test]
    fn modes_option_is_parsed() {
        let args = ["--modes", "train,unsupervised", "--quick", "dir"].map(String::from);
        let options = parse(args.into_iter()).expect("valid").expect("not help");
        assert_eq!(options.modes, [Mode::Train, Mode::Unsupervised]);
        assert!(options.quick);
        let args = ["--modes", "supervised", "dir"].map(String::from);
        let error = parse(args.into_iter()).err().expect("unknown mode");
        assert!(error.contains("unknown mode \"supervised\""), "{error}");
    }
}
