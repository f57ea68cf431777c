//! Training the tagger on generated sentences, and scoring it on held-out ones.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::generate::{GeneratedSentence, SentenceGenerator, Split};
use super::labels::{EntityLabel, EntitySpan, tags_from_spans};
use super::model::{EncodedSentence, NetworkShape, TaggerNetwork, batch, encode};
use super::tokenize::tokenize;
use crate::backend::DeviceConfig;
use crate::{Error, Result};

/// Configuration of the tagger and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaggerConfig {
    /// Sizes of the network.
    pub network: NetworkShape,
    /// Generated sentences trained on, from the training templates.
    pub train_sentences: usize,
    /// Generated sentences scored after training, from the held-out templates, once with
    /// the training word-list entries and once with the held-out ones.
    pub held_out_sentences: usize,
    /// Passes over the training sentences.
    pub epochs: usize,
    /// Sentences per optimisation step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Chance, in `[0, 1)`, that a training token's word is replaced by the unknown word, so
    /// that the model also learns from spelling, shape and context.
    pub word_dropout: f64,
    /// Share of English sentences, in `[0, 1]`; the rest are Chinese.
    pub english_share: f64,
    /// Seed of the generator, the weights, the shuffling and the word dropout.
    pub seed: u64,
    /// Device to train and tag on.
    pub device: DeviceConfig,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        TaggerConfig {
            network: NetworkShape::default(),
            train_sentences: 60_000,
            held_out_sentences: 2_000,
            epochs: 2,
            batch_size: 32,
            learning_rate: 0.003,
            word_dropout: 0.3,
            english_share: 0.6,
            seed: 7,
            device: DeviceConfig::Cpu,
        }
    }
}

impl TaggerConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        self.network.validate()?;
        for (field, value) in [
            ("train_sentences", self.train_sentences),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ] {
            if value == 0 {
                return Err(Error::Config(format!(
                    "{field} is 0; it must be at least 1"
                )));
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.003",
                self.learning_rate
            )));
        }
        if !(0.0..1.0).contains(&self.word_dropout) {
            return Err(Error::Config(format!(
                "word_dropout is {}; it must be at least 0 and below 1, such as 0.15",
                self.word_dropout
            )));
        }
        if !(0.0..=1.0).contains(&self.english_share) {
            return Err(Error::Config(format!(
                "english_share is {}; it must lie between 0 and 1",
                self.english_share
            )));
        }
        Ok(())
    }
}

/// Precision, recall and F1 of one label, or of all labels together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpanScore {
    /// Correct predicted spans over predicted spans; 0 when nothing was predicted.
    pub precision: f64,
    /// Correct predicted spans over gold spans; 0 when there is no gold span.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Number of gold spans.
    pub gold: usize,
}

impl SpanScore {
    fn from_counts(correct: usize, predicted: usize, gold: usize) -> Self {
        let ratio = |part: usize, whole: usize| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        let precision = ratio(correct, predicted);
        let recall = ratio(correct, gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        SpanScore {
            precision,
            recall,
            f1,
            gold,
        }
    }
}

/// Exact-match span scores: a predicted span is correct when its byte range and label equal
/// a gold span's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanScores {
    /// Micro-averaged over all labels.
    pub overall: SpanScore,
    /// Per label, keyed by [`EntityLabel::as_str`].
    pub per_label: BTreeMap<String, SpanScore>,
    /// Sentences scored.
    pub sentences: usize,
}

/// Scores predicted spans against gold spans, sentence by sentence.
pub fn score_spans(predicted: &[Vec<EntitySpan>], gold: &[GeneratedSentence]) -> SpanScores {
    let mut counts: BTreeMap<EntityLabel, (usize, usize, usize)> = BTreeMap::new();
    for (spans, sentence) in predicted.iter().zip(gold) {
        for span in spans {
            let entry = counts.entry(span.label).or_default();
            entry.1 += 1;
            if sentence
                .entities
                .iter()
                .any(|(range, label)| *range == span.range() && *label == span.label)
            {
                entry.0 += 1;
            }
        }
        for (_, label) in &sentence.entities {
            counts.entry(*label).or_default().2 += 1;
        }
    }
    let (mut correct, mut predicted_total, mut gold_total) = (0, 0, 0);
    let mut per_label = BTreeMap::new();
    for (label, (right, predicted, gold)) in counts {
        correct += right;
        predicted_total += predicted;
        gold_total += gold;
        per_label.insert(
            label.as_str().to_string(),
            SpanScore::from_counts(right, predicted, gold),
        );
    }
    SpanScores {
        overall: SpanScore::from_counts(correct, predicted_total, gold_total),
        per_label,
        sentences: gold.len(),
    }
}

/// The record of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggerTrainingReport {
    /// Mean loss over the first training batch before any step.
    pub initial_loss: f32,
    /// Mean training loss of each epoch, as seen during the epoch.
    pub epoch_losses: Vec<f32>,
    /// Hex SHA-256 of the configuration and the generated training sentences.
    pub training_data_hash: String,
    /// Sentences trained on.
    pub training_sentences: usize,
    /// Exact-match scores on sentences from the held-out templates with the training
    /// word-list entries; `None` when `held_out_sentences` is 0.
    pub held_out_templates: Option<SpanScores>,
    /// Exact-match scores on sentences from the held-out templates and the held-out
    /// word-list entries; `None` when `held_out_sentences` is 0.
    pub held_out: Option<SpanScores>,
    /// Wall-clock seconds of training, without scoring.
    pub training_seconds: f64,
}

/// A training example: the features and the gold tag indices of one sentence.
struct Example {
    encoded: EncodedSentence,
    tags: Vec<i64>,
}

/// Generates the training sentences for `config`.
pub fn training_sentences(config: &TaggerConfig) -> Vec<GeneratedSentence> {
    SentenceGenerator::new(config.seed, Split::Train)
        .with_english_share(config.english_share)
        .sentences(config.train_sentences)
}

/// Generates the held-out sentences of `split` for `config`, from a seed apart from the
/// training one.
pub fn held_out_sentences(config: &TaggerConfig, split: Split) -> Vec<GeneratedSentence> {
    SentenceGenerator::new(config.seed.wrapping_add(0x9e37_79b9), split)
        .with_english_share(config.english_share)
        .sentences(config.held_out_sentences)
}

/// Returns the hex SHA-256 of the configuration and the sentences.
pub(crate) fn data_hash(config: &TaggerConfig, sentences: &[GeneratedSentence]) -> Result<String> {
    let mut hasher = Sha256::new();
    let config_json = serde_json::to_vec(config).map_err(|error| {
        Error::Internal(format!("serialising the tagger config failed: {error}"))
    })?;
    hasher.update(&config_json);
    for sentence in sentences {
        hasher.update((sentence.text.len() as u64).to_le_bytes());
        hasher.update(sentence.text.as_bytes());
        for (range, label) in &sentence.entities {
            hasher.update((range.start as u64).to_le_bytes());
            hasher.update((range.end as u64).to_le_bytes());
            hasher.update(label.as_str().as_bytes());
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Trains a network on `sentences` and returns it (on the inference device) with the
/// initial loss and the loss of each epoch.
pub(crate) fn fit(
    config: &TaggerConfig,
    sentences: &[GeneratedSentence],
) -> Result<(TaggerNetwork, f32, Vec<f32>, f64)> {
    let started = Instant::now();
    let shape = &config.network;
    let examples: Vec<Example> = sentences
        .iter()
        .filter_map(|sentence| {
            let tokens = tokenize(&sentence.text);
            if tokens.is_empty() {
                return None;
            }
            let tags = tags_from_spans(&tokens, &sentence.entities)
                .into_iter()
                .map(|tag| tag.index() as i64)
                .collect();
            Some(Example {
                encoded: encode(&sentence.text, &tokens, shape),
                tags,
            })
        })
        .collect();
    if examples.is_empty() {
        return Err(Error::InvalidInput(
            "no training sentence has a token; generate at least one non-empty sentence".into(),
        ));
    }

    let device = config.device.training_device();
    device.seed(config.seed);
    let mut network = TaggerNetwork::new(shape, config.seed, &device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(1));
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut initial_loss = None;
    let mut epoch_losses = Vec::with_capacity(config.epochs);
    for epoch in 0..config.epochs {
        order.shuffle(&mut rng);
        let (mut loss_sum, mut token_sum) = (0.0f64, 0.0f64);
        for chunk in order.chunks(config.batch_size) {
            let members: Vec<&Example> = chunk.iter().map(|&index| &examples[index]).collect();
            let dropped: Vec<Vec<bool>> = members
                .iter()
                .map(|example| {
                    (0..example.encoded.len())
                        .map(|_| rng.random_bool(config.word_dropout))
                        .collect()
                })
                .collect();
            let encoded: Vec<&EncodedSentence> =
                members.iter().map(|example| &example.encoded).collect();
            let inputs = batch(&encoded, shape, Some(&dropped), &device);
            let mut tags = vec![0i64; inputs.batch * inputs.length];
            for (row, example) in members.iter().enumerate() {
                tags[row * inputs.length..row * inputs.length + example.tags.len()]
                    .copy_from_slice(&example.tags);
            }
            let tags = Tensor::<2, Int>::from_data(
                TensorData::new(tags, [inputs.batch, inputs.length]),
                &device,
            );
            let loss = network.loss(&inputs, tags);
            let gradients = GradientsParams::from_grads(loss.backward(), &network);
            let value: f32 = loss
                .try_into_scalar()
                .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
            if !value.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "training diverged to a loss of {value} in epoch {epoch}; lower \
                     learning_rate (now {})",
                    config.learning_rate
                )));
            }
            initial_loss.get_or_insert(value);
            let tokens: usize = members.iter().map(|example| example.tags.len()).sum();
            loss_sum += f64::from(value) * tokens as f64;
            token_sum += tokens as f64;
            network = optimizer.step(config.learning_rate, network, gradients);
        }
        let epoch_loss = (loss_sum / token_sum.max(1.0)) as f32;
        tracing::info!(epoch, loss = epoch_loss, "tagger epoch finished");
        epoch_losses.push(epoch_loss);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        network.valid(),
        initial_loss.unwrap_or(f32::NAN),
        epoch_losses,
        seconds,
    ))
}
