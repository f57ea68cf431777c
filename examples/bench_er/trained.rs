//! The trained matcher of the benchmark: the pair classifier of governance-llm, trained on at
//! most a budget of candidate pairs that active learning picks, with the truth file as the
//! oracle, then applied to every candidate.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use governance::fuse::embed::HashedNgramEmbedder;
use governance::fuse::er::active::{ActiveLearningConfig, MatchOracle, learn_actively};
use governance::fuse::er::features::vectors::EmbeddingVectorConfig;
use governance::fuse::er::features::{PairFeatureConfig, PairFeaturizer};
use governance::fuse::er::metrics::PairMetrics;
use governance::fuse::er::{CandidatePair, ErError, RecordTable};
use governance::llm::{FeatureMatrix, SentenceEncoder, TextEmbedder};
use governance::{Feedback, FeedbackTarget, Label};
use serde::Serialize;

use crate::matcher::{print_metrics, score_probabilities};

/// Label budget, pair-feature and classifier settings of the trained matcher.
#[derive(Debug, Clone, Serialize)]
pub struct TrainedOptions {
    /// Most candidate pairs that active learning labels; 0 skips the trained matcher.
    pub label_budget: usize,
    /// Dimensions of the projected embedding vectors; 0 leaves them out.
    pub embedding_vectors: usize,
    /// Whether the MiniLM encoder replaces the hashed n-gram embedder.
    pub minilm: bool,
    /// Hidden-layer widths of the pair classifier; empty for logistic regression.
    pub hidden: Vec<usize>,
}

impl Default for TrainedOptions {
    /// Returns the library's defaults: its label budget of 100, no embedding vectors, hashed
    /// n-grams, and the hidden layers of [`ActiveLearningConfig::default`].
    fn default() -> Self {
        let active = ActiveLearningConfig::default();
        Self {
            label_budget: active.budget,
            embedding_vectors: 0,
            minilm: false,
            hidden: active.classifier.hidden,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TrainedResult {
    pub options: TrainedOptions,
    pub labels: usize,
    pub labelled_matches: usize,
    pub rounds: usize,
    pub features: usize,
    pub candidates: u64,
    pub threshold: PairMetrics,
    pub one_to_one: PairMetrics,
    pub feature_seconds: f64,
    pub seconds: f64,
}

/// Oracle that labels a pair a match when the truth file lists it, and counts the pairs it
/// reviewed.
struct TruthOracle<'a> {
    truth: HashSet<CandidatePair>,
    source: &'a str,
    reviewed: usize,
}

impl MatchOracle for TruthOracle<'_> {
    fn review(&mut self, pairs: &[CandidatePair]) -> Result<Vec<Feedback>, ErError> {
        self.reviewed += pairs.len();
        Ok(pairs
            .iter()
            .map(|pair| Feedback {
                target: FeedbackTarget::Match {
                    left: u64::from(pair.left),
                    right: u64::from(pair.right),
                },
                label: if self.truth.contains(pair) {
                    Label::Confirmed
                } else {
                    Label::Rejected
                },
                source: self.source.to_owned(),
            })
            .collect())
    }
}

/// Computes pair features of every candidate and lets active learning request labels for at
/// most `options.label_budget` of them from the truth file, starting from the Fellegi-Sunter
/// probabilities `prior`. Then scores the trained classifier's probabilities on all
/// candidates.
pub fn run_trained(
    left: &RecordTable,
    right: &RecordTable,
    candidates: &[CandidatePair],
    prior: &[f64],
    truth: &[CandidatePair],
    truth_source: &str,
    options: &TrainedOptions,
) -> Result<TrainedResult, String> {
    let budget = options.label_budget;
    let started = Instant::now();
    let err = |err: ErError| err.to_string();
    let feature_config = PairFeatureConfig {
        embedding_vectors: (options.embedding_vectors > 0).then(|| EmbeddingVectorConfig {
            dim: options.embedding_vectors,
            ..EmbeddingVectorConfig::default()
        }),
        ..PairFeatureConfig::default()
    };
    let embedder: Box<dyn TextEmbedder> = if options.minilm {
        Box::new(load_minilm()?)
    } else {
        Box::new(HashedNgramEmbedder::new(
            feature_config.embedding_dim,
            &[2, 3, 4],
        ))
    };
    let featurizer =
        PairFeaturizer::fit_with_embedder(left, right, &feature_config, embedder.as_ref())
            .map_err(err)?;
    let values = featurizer.features(candidates).map_err(err)?;
    let features = FeatureMatrix::new(featurizer.names().to_vec(), values)
        .map_err(|err| format!("failed to build the feature matrix: {err}"))?;
    let feature_seconds = started.elapsed().as_secs_f64();

    let mut oracle = TruthOracle {
        truth: truth.iter().copied().collect(),
        source: truth_source,
        reviewed: 0,
    };
    let mut config = ActiveLearningConfig {
        budget,
        ..ActiveLearningConfig::default()
    };
    config.classifier.hidden.clone_from(&options.hidden);
    let outcome = learn_actively(&config, &features, candidates, prior, &mut oracle)
        .map_err(|err| error_chain(&err))?;
    let probabilities: Vec<f64> = outcome
        .classifier
        .predict(&features)
        .map_err(|err| format!("the pair classifier failed to predict: {err}"))?
        .into_iter()
        .map(f64::from)
        .collect();
    let scores = score_probabilities(left, right, candidates, &probabilities, truth)?;
    let seconds = started.elapsed().as_secs_f64();

    let labelled_matches = outcome.labelled.iter().filter(|(_, label)| *label).count();
    println!(
        "  pair classifier ({} features, {} labels requested from {}, {labelled_matches} matches, \
         {} rounds of uncertainty sampling)",
        featurizer.width(),
        oracle.reviewed,
        truth_source,
        outcome.rounds
    );
    print_metrics("trained p >= 0.5", &scores.threshold);
    print_metrics("trained one-to-one", &scores.one_to_one);
    println!("  features took {feature_seconds:.2} s, training and scoring {seconds:.2} s in all");
    Ok(TrainedResult {
        options: options.clone(),
        labels: outcome.labelled.len(),
        labelled_matches,
        rounds: outcome.rounds,
        features: featurizer.width(),
        candidates: candidates.len() as u64,
        threshold: scores.threshold,
        one_to_one: scores.one_to_one,
        feature_seconds,
        seconds,
    })
}

/// Loads the MiniLM encoder from `$GOVERNANCE_MINILM_DIR`, or else from
/// `$HOME/.cache/governance-models/all-minilm-l6-v2`.
fn load_minilm() -> Result<SentenceEncoder, String> {
    let dir = match std::env::var_os("GOVERNANCE_MINILM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/governance-models/all-minilm-l6-v2"),
    };
    if !dir.join("model.safetensors").is_file() {
        return Err(format!(
            "--minilm: no MiniLM weights (model.safetensors) in {}; set \
             GOVERNANCE_MINILM_DIR to the model folder or run .ci/fetch_minilm.sh",
            dir.display()
        ));
    }
    SentenceEncoder::load(&dir).map_err(|err| {
        format!(
            "--minilm: failed to load the encoder in {}: {err}",
            dir.display()
        )
    })
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
