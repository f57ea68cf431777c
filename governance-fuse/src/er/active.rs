//! Active learning of a pair classifier from a small label budget.
//!
//! Labelling starts where the unsupervised Fellegi-Sunter scores are most confident: the
//! best-scored pairs (likely matches) and a seeded sample of pairs it scores as non-matches.
//! Then, batch by batch, a classifier trained on the labels so far scores the pool and the
//! oracle is asked about the pairs it is least sure of (probability closest to 0.5), until the
//! budget is spent. The final classifier is trained on those labels only.
//!
//! The oracle replies with the feedback type of the chain ([`Feedback`] on a
//! [`FeedbackTarget::Match`]), so the same loop runs with a person reviewing pairs or, in a
//! benchmark, with a file of known labels. The target's `left` and `right` are the pair's row
//! positions in its tables.

use governance_core::{Feedback, FeedbackTarget, Label};
use governance_llm::{FeatureMatrix, PairClassifierConfig, TrainedPairClassifier};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{CandidatePair, ErError};

/// A source of match labels: a reviewer, or a file of known labels in a benchmark.
pub trait MatchOracle {
    /// Returns one piece of feedback per pair, in order, each on the target
    /// `FeedbackTarget::Match { left, right }` of its pair and labelled `Confirmed` (a
    /// match) or `Rejected`.
    fn review(&mut self, pairs: &[CandidatePair]) -> Result<Vec<Feedback>, ErError>;
}

/// Settings of active learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActiveLearningConfig {
    /// Most labels asked of the oracle.
    pub budget: usize,
    /// Pairs with the best Fellegi-Sunter scores asked first.
    pub initial_positives: usize,
    /// Pairs scored as non-matches (posterior below 0.5) asked first, sampled at random.
    pub initial_negatives: usize,
    /// Pairs asked per round of uncertainty sampling.
    pub batch_size: usize,
    /// The classifier trained each round and at the end.
    pub classifier: PairClassifierConfig,
    /// Seed of the negative sample.
    pub seed: u64,
}

impl Default for ActiveLearningConfig {
    fn default() -> Self {
        Self {
            budget: 100,
            initial_positives: 10,
            initial_negatives: 10,
            batch_size: 10,
            classifier: PairClassifierConfig {
                hidden: vec![32],
                epochs: 150,
                batch_size: 32,
                learning_rate: 0.005,
                l2: 1e-3,
                validation_share: 0.0,
                ..PairClassifierConfig::default()
            },
            seed: 7,
        }
    }
}

/// Result of active learning: the labels asked and the final classifier.
#[derive(Debug, Clone)]
pub struct ActiveLearningOutcome {
    /// Pool rows labelled, in the order they were asked, with their labels.
    pub labelled: Vec<(usize, bool)>,
    /// The oracle's feedback, in the same order.
    pub feedback: Vec<Feedback>,
    /// Rounds of uncertainty sampling after the initial labels.
    pub rounds: usize,
    /// The classifier trained on every label.
    pub classifier: TrainedPairClassifier,
}

/// Runs active learning over a pool of candidate pairs.
///
/// `features` contains one row per pair of `pairs`, and `prior` the unsupervised match
/// probability of each (a Fellegi-Sunter posterior).
///
/// # Errors
/// [`ErError::InvalidConfig`] for a zero budget or batch, shapes that disagree, or a pool
/// whose labels within the budget never show both classes; [`ErError::Oracle`] when the
/// oracle's feedback does not fit the pairs it was asked about; [`ErError::Model`] when the
/// classifier fails.
pub fn learn_actively(
    config: &ActiveLearningConfig,
    features: &FeatureMatrix,
    pairs: &[CandidatePair],
    prior: &[f64],
    oracle: &mut dyn MatchOracle,
) -> Result<ActiveLearningOutcome, ErError> {
    if config.budget < 2 || config.batch_size == 0 {
        return Err(ErError::invalid_config(
            "budget and batch_size",
            format!("{} and {}", config.budget, config.batch_size),
            "use a budget of at least 2 and a batch of at least 1",
        ));
    }
    if features.num_rows() != pairs.len() || prior.len() != pairs.len() {
        return Err(ErError::invalid_config(
            "feature rows, pairs and prior scores",
            format!(
                "{}, {} and {}",
                features.num_rows(),
                pairs.len(),
                prior.len()
            ),
            "pass one feature row and one prior score per pair",
        ));
    }
    let mut session = Session {
        pairs,
        oracle,
        asked: vec![false; pairs.len()],
        labelled: Vec::new(),
        feedback: Vec::new(),
    };
    let budget = config.budget.min(pairs.len());

    let mut by_prior: Vec<usize> = (0..pairs.len()).collect();
    by_prior.sort_by(|&a, &b| prior[b].total_cmp(&prior[a]).then(a.cmp(&b)));
    let positives: Vec<usize> = by_prior
        .iter()
        .copied()
        .take(config.initial_positives.min(budget))
        .collect();
    session.ask(&positives)?;
    let mut unlikely: Vec<usize> = (0..pairs.len()).filter(|&row| prior[row] < 0.5).collect();
    unlikely.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed));
    let room = budget - session.labelled.len();
    let negatives: Vec<usize> = unlikely
        .into_iter()
        .filter(|&row| !session.asked[row])
        .take(config.initial_negatives.min(room))
        .collect();
    session.ask(&negatives)?;
    // Until both classes are seen, keep asking down the prior ranking.
    let mut next_by_prior = by_prior.into_iter();
    while !session.has_both_classes() && session.labelled.len() < budget {
        let batch: Vec<usize> = next_by_prior
            .by_ref()
            .filter(|&row| !session.asked[row])
            .take(config.batch_size.min(budget - session.labelled.len()))
            .collect();
        if batch.is_empty() {
            break;
        }
        session.ask(&batch)?;
    }
    if !session.has_both_classes() {
        let class = if session.labelled.first().is_some_and(|(_, label)| *label) {
            "match"
        } else {
            "non-match"
        };
        return Err(ErError::invalid_config(
            "labels",
            format!("{} labels, all {class}", session.labelled.len()),
            "raise the budget or add pairs of the other class to the pool",
        ));
    }

    let mut rounds = 0;
    while session.labelled.len() < budget {
        let classifier = session.train(config, features)?;
        let probabilities = classifier.predict(features)?;
        let mut open: Vec<usize> = (0..pairs.len())
            .filter(|&row| !session.asked[row])
            .collect();
        if open.is_empty() {
            break;
        }
        open.sort_by(|&a, &b| {
            let distance = |row: usize| (probabilities[row] - 0.5).abs();
            distance(a).total_cmp(&distance(b)).then(a.cmp(&b))
        });
        let take = config.batch_size.min(budget - session.labelled.len());
        session.ask(&open[..take.min(open.len())])?;
        rounds += 1;
    }

    let classifier = session.train(config, features)?;
    tracing::info!(
        labels = session.labelled.len(),
        rounds,
        "active learning finished"
    );
    Ok(ActiveLearningOutcome {
        labelled: session.labelled,
        feedback: session.feedback,
        rounds,
        classifier,
    })
}

struct Session<'a> {
    pairs: &'a [CandidatePair],
    oracle: &'a mut dyn MatchOracle,
    asked: Vec<bool>,
    labelled: Vec<(usize, bool)>,
    feedback: Vec<Feedback>,
}

impl Session<'_> {
    fn ask(&mut self, rows: &[usize]) -> Result<(), ErError> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch: Vec<CandidatePair> = rows.iter().map(|&row| self.pairs[row]).collect();
        let answers = self.oracle.review(&batch)?;
        if answers.len() != batch.len() {
            return Err(ErError::Oracle(format!(
                "requested labels for {} pairs but received {}; return one feedback per pair, in order",
                batch.len(),
                answers.len()
            )));
        }
        for ((&row, pair), answer) in rows.iter().zip(&batch).zip(answers) {
            let expected = FeedbackTarget::Match {
                left: u64::from(pair.left),
                right: u64::from(pair.right),
            };
            if answer.target != expected {
                return Err(ErError::Oracle(format!(
                    "feedback for pair ({}, {}) has target {:?}; return the pair's own \
                     match target",
                    pair.left, pair.right, answer.target
                )));
            }
            let matched = match answer.label {
                Label::Confirmed => true,
                Label::Rejected => false,
                ref other => {
                    return Err(ErError::Oracle(format!(
                        "feedback for pair ({}, {}) is {other:?}; label a pair Confirmed or \
                         Rejected",
                        pair.left, pair.right
                    )));
                }
            };
            self.asked[row] = true;
            self.labelled.push((row, matched));
            self.feedback.push(answer);
        }
        Ok(())
    }

    fn has_both_classes(&self) -> bool {
        self.labelled.iter().any(|(_, label)| *label)
            && self.labelled.iter().any(|(_, label)| !*label)
    }

    fn train(
        &self,
        config: &ActiveLearningConfig,
        features: &FeatureMatrix,
    ) -> Result<TrainedPairClassifier, ErError> {
        let rows: Vec<usize> = self.labelled.iter().map(|(row, _)| *row).collect();
        let labels: Vec<bool> = self.labelled.iter().map(|(_, label)| *label).collect();
        let training = features.select_rows(&rows)?;
        Ok(TrainedPairClassifier::train(
            &config.classifier,
            &training,
            &labels,
            None,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    /// Labels pairs by a hidden rule and counts what it was asked.
    struct RuleOracle {
        truth: Vec<bool>,
        asked: usize,
    }

    impl MatchOracle for RuleOracle {
        fn review(&mut self, pairs: &[CandidatePair]) -> Result<Vec<Feedback>, ErError> {
            self.asked += pairs.len();
            Ok(pairs
                .iter()
                .map(|pair| Feedback {
                    target: FeedbackTarget::Match {
                        left: u64::from(pair.left),
                        right: u64::from(pair.right),
                    },
                    label: if self.truth[pair.left as usize] {
                        Label::Confirmed
                    } else {
                        Label::Rejected
                    },
                    source: "rule".into(),
                })
                .collect())
        }
    }

    /// A pool where pair `i` is `(i, i)`; matches have a high first feature.
    fn pool(rows: usize) -> (FeatureMatrix, Vec<CandidatePair>, Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut values = Vec::new();
        let mut prior = Vec::new();
        let mut truth = Vec::new();
        for index in 0..rows {
            let matched = index % 7 == 0;
            let score: f32 = if matched {
                rng.random_range(0.45..1.0)
            } else {
                rng.random_range(0.0..0.55)
            };
            values.extend([score, rng.random::<f32>()]);
            prior.push(f64::from(score));
            truth.push(matched);
        }
        let pairs = (0..rows as u32)
            .map(|row| CandidatePair::new(row, row))
            .collect();
        let features =
            FeatureMatrix::new(vec!["score".into(), "noise".into()], values).expect("matrix");
        (features, pairs, prior, truth)
    }

    #[test]
    fn asks_at_most_the_budget() {
        let (features, pairs, prior, truth) = pool(700);
        let mut oracle = RuleOracle { truth, asked: 0 };
        let config = ActiveLearningConfig {
            budget: 40,
            classifier: PairClassifierConfig {
                epochs: 40,
                ..ActiveLearningConfig::default().classifier
            },
            ..Default::default()
        };
        let outcome =
            learn_actively(&config, &features, &pairs, &prior, &mut oracle).expect("learns");
        assert_eq!(oracle.asked, 40);
        assert_eq!(outcome.labelled.len(), 40);
        assert_eq!(outcome.feedback.len(), 40);
        assert_eq!(outcome.rounds, 2);
        let mut rows: Vec<usize> = outcome.labelled.iter().map(|(row, _)| *row).collect();
        rows.sort_unstable();
        rows.dedup();
        assert_eq!(rows.len(), 40, "a pair was asked twice");

        let probabilities = outcome.classifier.predict(&features).expect("predict");
        let correct = probabilities
            .iter()
            .zip(&oracle.truth)
            .filter(|(p, t)| (**p > 0.5) == **t)
            .count();
        assert!(correct > 600, "{correct} of 700 correct");
    }

    #[test]
    fn wrong_target_is_rejected() {
        struct Liar;
        impl MatchOracle for Liar {
            fn review(&mut self, pairs: &[CandidatePair]) -> Result<Vec<Feedback>, ErError> {
                Ok(pairs
                    .iter()
                    .map(|_| Feedback {
                        target: FeedbackTarget::Match {
                            left: 99,
                            right: 99,
                        },
                        label: Label::Confirmed,
                        source: "liar".into(),
                    })
                    .collect())
            }
        }
        let (features, pairs, prior, _) = pool(30);
        let error = learn_actively(
            &ActiveLearningConfig::default(),
            &features,
            &pairs,
            &prior,
            &mut Liar,
        )
        .expect_err("targets do not fit");
        assert!(error.to_string().contains("target"), "{error}");
    }
}
