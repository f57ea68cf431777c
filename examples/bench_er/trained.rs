//! The trained matcher of the benchmark: the pair classifier of governance-llm, trained on at
//! most a budget of candidate pairs that active learning picks, with the truth file as the
//! oracle, then applied to every candidate.

use std::collections::HashSet;
use std::time::Instant;

use governance::fuse::er::active::{ActiveLearningConfig, MatchOracle, learn_actively};
use governance::fuse::er::features::{PairFeatureConfig, PairFeaturizer};
use governance::fuse::er::metrics::PairMetrics;
use governance::fuse::er::{CandidatePair, ErError, RecordTable};
use governance::llm::FeatureMatrix;
use governance::{Feedback, FeedbackTarget, Label};
use serde::Serialize;

use crate::matcher::{print_metrics, score_probabilities};

#[derive(Debug, Serialize)]
pub struct TrainedResult {
    pub label_budget: usize,
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
/// most `budget` of them from the truth file, starting from the Fellegi-Sunter probabilities
/// `prior`. Then scores the trained classifier's probabilities on all candidates.
pub fn run_trained(
    left: &RecordTable,
    right: &RecordTable,
    candidates: &[CandidatePair],
    prior: &[f64],
    truth: &[CandidatePair],
    budget: usize,
    truth_source: &str,
) -> Result<TrainedResult, String> {
    let started = Instant::now();
    let err = |err: ErError| err.to_string();
    let featurizer =
        PairFeaturizer::fit(left, right, &PairFeatureConfig::default()).map_err(err)?;
    let values = featurizer.features(candidates).map_err(err)?;
    let features = FeatureMatrix::new(featurizer.names().to_vec(), values)
        .map_err(|err| format!("failed to build the feature matrix: {err}"))?;
    let feature_seconds = started.elapsed().as_secs_f64();

    let mut oracle = TruthOracle {
        truth: truth.iter().copied().collect(),
        source: truth_source,
        reviewed: 0,
    };
    let config = ActiveLearningConfig {
        budget,
        ..ActiveLearningConfig::default()
    };
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
        label_budget: budget,
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
