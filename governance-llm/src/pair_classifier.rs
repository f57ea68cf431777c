//! A perceptron that turns the comparison vector of a record pair into a match probability.
//!
//! The network is `Linear -> ReLU` per hidden layer and one output logit, trained with Adam in
//! mini-batches on binary cross-entropy plus an L2 penalty on the weights. Inputs are
//! standardised with statistics of the training rows. Matches are rare among candidate pairs,
//! so by default each class carries half of the loss whatever its size.
//!
//! Training stops early when the loss on validation rows (given by the caller, or a seeded
//! share of the training rows) has not improved for `patience` epochs, and the weights of the
//! best validation epoch are kept. Everything random (weights, shuffling, the validation split)
//! comes from ChaCha generators seeded by the config, so the same data and config give the
//! same model.

use std::path::Path;

use burn::module::Module;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{Device, DeviceConfig};
use crate::cell_classifier::{bce_with_logits, seeded_linear};
use crate::matrix::{FeatureMatrix, Standardization};
use crate::registry::{
    ModelCard, ModelMeta, ModelMetrics, RegisteredModel, card_json, load_module, save_module,
};
use crate::threshold::best_f1_threshold;
use crate::{Error, Result};

/// The `kind` of [`TrainedPairClassifier`] in the registry's `meta.json`.
pub const PAIR_CLASSIFIER_KIND: &str = "pair_mlp";

/// Rows predicted per forward pass, which bounds the memory of scoring many pairs.
const PREDICT_CHUNK_ROWS: usize = 8192;

/// Configuration of the pair classifier and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PairClassifierConfig {
    /// Widths of the hidden layers; empty makes the model logistic regression.
    pub hidden: Vec<usize>,
    /// Most passes over the training rows.
    pub epochs: usize,
    /// Rows per Adam step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Weight of the L2 penalty on the weights (not the biases), per training row.
    pub l2: f64,
    /// Epochs without a better validation loss before training stops.
    pub patience: usize,
    /// Share of the training rows held out for early stopping when the caller passes no
    /// validation rows; 0 trains for every epoch and keeps the last weights.
    pub validation_share: f64,
    /// Whether each class carries half of the loss; otherwise every row weighs the same.
    pub balance_classes: bool,
    /// Seed of the weights, the shuffling and the validation split.
    pub seed: u64,
    /// Device to train and predict on.
    pub device: DeviceConfig,
}

impl Default for PairClassifierConfig {
    fn default() -> Self {
        Self {
            hidden: vec![64, 32],
            epochs: 200,
            batch_size: 128,
            learning_rate: 0.003,
            l2: 1e-4,
            patience: 25,
            validation_share: 0.2,
            balance_classes: true,
            seed: 7,
            device: DeviceConfig::Cpu,
        }
    }
}

impl PairClassifierConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::Config("epochs is 0; it must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::Config(
                "batch_size is 0; use at least 1 row per step, such as 128".into(),
            ));
        }
        if self.hidden.contains(&0) {
            return Err(Error::Config(format!(
                "hidden is {:?}; every layer needs a width of at least 1",
                self.hidden
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.003",
                self.learning_rate
            )));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::Config(format!(
                "l2 is {}; it must be a finite number of at least 0",
                self.l2
            )));
        }
        if !(0.0..0.9).contains(&self.validation_share) {
            return Err(Error::Config(format!(
                "validation_share is {}; use a share from 0 to below 0.9, such as 0.2",
                self.validation_share
            )));
        }
        Ok(())
    }
}

/// The burn module: hidden ReLU layers and one output logit.
#[derive(Module, Debug)]
pub struct PairNetwork {
    layers: Vec<Linear>,
    output: Linear,
}

impl PairNetwork {
    /// Creates a network for `inputs` features with the given hidden widths, with weights
    /// drawn uniformly from `±1/sqrt(fan_in)` by a ChaCha RNG seeded with `seed`.
    pub fn new(inputs: usize, hidden: &[usize], seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(hidden.len());
        let mut width = inputs;
        for &next in hidden {
            layers.push(seeded_linear(width, next, &mut rng, device));
            width = next;
        }
        let output = seeded_linear(width, 1, &mut rng, device);
        Self { layers, output }
    }

    /// Maps standardised rows `[rows, features]` to logits `[rows, 1]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let mut hidden = input;
        for layer in &self.layers {
            hidden = burn::tensor::activation::relu(layer.forward(hidden));
        }
        self.output.forward(hidden)
    }

    /// Returns the sum of squared weights, the L2 penalty before its factor.
    fn weight_norm(&self) -> Tensor<1> {
        let mut norm = self.output.weight.val().square().sum();
        for layer in &self.layers {
            norm = norm + layer.weight.val().square().sum();
        }
        norm
    }
}

/// Losses and epochs recorded in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairTrainingMetrics {
    /// Weighted training loss before the first step, penalty excluded.
    pub initial_loss: f32,
    /// Weighted training loss of the kept weights, penalty excluded.
    pub final_loss: f32,
    /// Weighted validation loss of the kept weights; `None` without validation rows.
    pub validation_loss: Option<f32>,
    /// Epochs run before training stopped.
    pub epochs_run: usize,
    /// Epoch whose weights were kept, from 1.
    pub best_epoch: usize,
    /// Mean training loss of each epoch, as seen during the epoch.
    pub epoch_losses: Vec<f32>,
}

/// Validation rows for early stopping.
#[derive(Debug, Clone, Copy)]
pub struct Validation<'a> {
    /// Feature rows, with the training rows' columns.
    pub features: &'a FeatureMatrix,
    /// Whether each row is a match.
    pub labels: &'a [bool],
}

/// A trained pair classifier with its standardisation and decision threshold.
#[derive(Debug, Clone)]
pub struct TrainedPairClassifier {
    config: PairClassifierConfig,
    columns: Vec<String>,
    standardization: Standardization,
    network: PairNetwork,
    threshold: f32,
    metrics: PairTrainingMetrics,
    training_data_hash: String,
    training_rows: usize,
}

/// Standardised rows with their targets and loss weights.
struct Prepared {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    weights: Vec<f32>,
}

impl TrainedPairClassifier {
    /// Trains on the rows of `features` with `labels` (true for a match).
    ///
    /// Early stopping uses `validation` when given, otherwise a seeded
    /// `config.validation_share` of the training rows (stratified by label).
    ///
    /// # Errors
    /// An invalid config, a label count that differs from the row count, a non-finite
    /// feature, validation columns that differ from the training columns, or a training set
    /// without both classes.
    pub fn train(
        config: &PairClassifierConfig,
        features: &FeatureMatrix,
        labels: &[bool],
        validation: Option<Validation<'_>>,
    ) -> Result<Self> {
        config.validate()?;
        check_rows(features, labels, "training")?;
        if let Some(validation) = validation {
            check_rows(validation.features, validation.labels, "validation")?;
            if validation.features.columns() != features.columns() {
                return Err(Error::InvalidInput(format!(
                    "validation columns [{}] differ from training columns [{}]",
                    validation.features.columns().join(", "),
                    features.columns().join(", ")
                )));
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);

        let (train_rows, held_out) = match validation {
            Some(_) => ((0..labels.len()).collect(), Vec::new()),
            None => split_rows(labels, config.validation_share, &mut rng),
        };
        let train_labels: Vec<bool> = train_rows.iter().map(|&row| labels[row]).collect();
        let positives = train_labels.iter().filter(|&&label| label).count();
        if positives == 0 || positives == train_labels.len() {
            return Err(Error::InvalidInput(format!(
                "the training rows have {positives} matches and {} non-matches; a classifier \
                 needs both classes, so label at least one of each",
                train_labels.len() - positives
            )));
        }
        let training = features.select_rows(&train_rows)?;
        let standardization = Standardization::fit(&training)?;
        let width = features.num_columns();
        let train = prepare(&standardization, &training, &train_labels, config)?;
        let validation_set = match validation {
            Some(validation) => Some(prepare(
                &standardization,
                validation.features,
                validation.labels,
                config,
            )?),
            None if !held_out.is_empty() => {
                let held_labels: Vec<bool> = held_out.iter().map(|&row| labels[row]).collect();
                let held = features.select_rows(&held_out)?;
                Some(prepare(&standardization, &held, &held_labels, config)?)
            }
            None => None,
        };

        let device = config.device.training_device();
        device.seed(config.seed);
        let inference = config.device.device();
        let mut network = PairNetwork::new(width, &config.hidden, config.seed, &device);
        let initial_loss = weighted_loss(&network.valid(), &train, width, &inference)?;
        let mut optimizer = AdamConfig::new().init();
        let mut order: Vec<usize> = (0..train.targets.len()).collect();
        let weight_sum: f32 = train.weights.iter().sum();
        let mut epoch_losses = Vec::new();
        let mut best: Option<(f32, usize, PairNetwork)> = None;
        let mut since_best = 0;
        let mut batch_inputs = Vec::with_capacity(config.batch_size * width);
        for epoch in 1..=config.epochs {
            order.shuffle(&mut rng);
            let mut loss_sum = 0.0f64;
            for batch in order.chunks(config.batch_size) {
                batch_inputs.clear();
                for &row in batch {
                    batch_inputs.extend_from_slice(&train.inputs[row * width..(row + 1) * width]);
                }
                let targets: Vec<f32> = batch.iter().map(|&row| train.targets[row]).collect();
                // Row weights sum to 1 over the whole set, so batch losses add up to the
                // epoch's loss and the penalty is spread over batches by their share.
                let weights: Vec<f32> = batch
                    .iter()
                    .map(|&row| train.weights[row] / weight_sum)
                    .collect();
                let share: f32 = weights.iter().sum();
                let rows = batch.len();
                let input = Tensor::<2>::from_data(
                    TensorData::new(batch_inputs.clone(), [rows, width]),
                    &device,
                );
                let target = Tensor::<2>::from_data(TensorData::new(targets, [rows, 1]), &device);
                let weight = Tensor::<2>::from_data(TensorData::new(weights, [rows, 1]), &device);
                let data_loss = (bce_with_logits(network.forward(input), target) * weight).sum();
                let loss = data_loss.clone()
                    + network
                        .weight_norm()
                        .mul_scalar(config.l2 * f64::from(share));
                let gradients = GradientsParams::from_grads(loss.backward(), &network);
                let value: f32 = data_loss.try_into_scalar().map_err(|error| {
                    Error::Internal(format!("reading the loss failed: {error:?}"))
                })?;
                loss_sum += f64::from(value);
                network = optimizer.step(config.learning_rate, network, gradients);
            }
            let epoch_loss = loss_sum as f32;
            if !epoch_loss.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "training diverged to a loss of {epoch_loss} in epoch {epoch}; lower \
                     learning_rate (now {})",
                    config.learning_rate
                )));
            }
            epoch_losses.push(epoch_loss);

            let Some(validation) = &validation_set else {
                continue;
            };
            let loss = weighted_loss(&network.valid(), validation, width, &inference)?;
            if best.as_ref().is_none_or(|(known, _, _)| loss < *known) {
                best = Some((loss, epoch, network.clone()));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= config.patience {
                    break;
                }
            }
        }

        let epochs_run = epoch_losses.len();
        let (validation_loss, best_epoch, network) = match best {
            Some((loss, epoch, kept)) => (Some(loss), epoch, kept.valid()),
            None => (None, epochs_run, network.valid()),
        };
        let final_loss = weighted_loss(&network, &train, width, &inference)?;
        tracing::debug!(
            rows = train.targets.len(),
            initial_loss,
            final_loss,
            ?validation_loss,
            epochs_run,
            best_epoch,
            "trained pair classifier"
        );
        Ok(Self {
            config: config.clone(),
            columns: features.columns().to_vec(),
            standardization,
            network,
            threshold: 0.5,
            metrics: PairTrainingMetrics {
                initial_loss,
                final_loss,
                validation_loss,
                epochs_run,
                best_epoch,
                epoch_losses,
            },
            training_data_hash: training.sha256(),
            training_rows: training.num_rows(),
        })
    }

    /// Returns the match probability of each row of `features`, whose columns must be the
    /// model's, in the same order.
    pub fn predict(&self, features: &FeatureMatrix) -> Result<Vec<f32>> {
        if features.columns() != self.columns.as_slice() {
            return Err(Error::InvalidInput(format!(
                "the rows have columns [{}] but the model was trained on [{}]; pass the same \
                 columns in the same order",
                features.columns().join(", "),
                self.columns.join(", ")
            )));
        }
        let width = self.columns.len();
        let device = self.config.device.device();
        let (inputs, _) = self.standardization.transform(features);
        let mut output = Vec::with_capacity(features.num_rows());
        for chunk in inputs.chunks(PREDICT_CHUNK_ROWS * width) {
            let rows = chunk.len() / width;
            let input =
                Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, width]), &device);
            let probabilities = burn::tensor::activation::sigmoid(self.network.forward(input));
            output.extend(read_vec(probabilities)?);
        }
        Ok(output)
    }

    /// Returns whether each row is a match: probability above the threshold.
    pub fn classify(&self, features: &FeatureMatrix) -> Result<Vec<bool>> {
        Ok(self
            .predict(features)?
            .into_iter()
            .map(|probability| probability > self.threshold)
            .collect())
    }

    /// Moves the threshold to the best F1 on labelled rows and returns that F1.
    pub fn tune_threshold(&mut self, features: &FeatureMatrix, labels: &[bool]) -> Result<f64> {
        check_rows(features, labels, "threshold")?;
        let scored: Vec<(f32, bool)> = self
            .predict(features)?
            .into_iter()
            .zip(labels.iter().copied())
            .collect();
        let (threshold, f1) = best_f1_threshold(&scored, self.threshold);
        self.threshold = threshold;
        Ok(f1)
    }

    /// Decision threshold on the match probability.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Sets the decision threshold.
    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }

    /// Feature names the model was trained on.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Returns the losses and epochs recorded in training.
    pub fn metrics(&self) -> &PairTrainingMetrics {
        &self.metrics
    }

    /// Configuration the model was trained with.
    pub fn config(&self) -> &PairClassifierConfig {
        &self.config
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        save_module(&self.network, path, PAIR_CLASSIFIER_KIND)
    }
}

impl RegisteredModel for TrainedPairClassifier {
    const KIND: &'static str = PAIR_CLASSIFIER_KIND;

    fn card(&self) -> Result<ModelCard> {
        Ok(ModelCard {
            training_data_hash: self.training_data_hash.clone(),
            training_rows: self.training_rows,
            columns: self.columns.clone(),
            standardization: Some(self.standardization.clone()),
            metrics: ModelMetrics {
                final_loss: self.metrics.final_loss,
                threshold: Some(self.threshold),
            },
            config: card_json(&self.config)?,
            training: card_json(&self.metrics)?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        TrainedPairClassifier::save_weights(self, path)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let context =
            |what: &str| format!("model {:?} version {}: {what}", meta.name, meta.version);
        let config: PairClassifierConfig = serde_json::from_value(meta.card.config.clone())
            .map_err(|error| Error::InvalidInput(context(&format!("invalid config: {error}"))))?;
        config.validate()?;
        let metrics: PairTrainingMetrics = serde_json::from_value(meta.card.training.clone())
            .map_err(|error| {
                Error::InvalidInput(context(&format!("invalid training record: {error}")))
            })?;
        let standardization = meta
            .card
            .standardization
            .clone()
            .ok_or_else(|| Error::InvalidInput(context("standardization is missing")))?;
        let threshold = meta
            .card
            .metrics
            .threshold
            .ok_or_else(|| Error::InvalidInput(context("metrics.threshold is missing")))?;
        let width = meta.card.columns.len();
        if standardization.num_columns() != width {
            return Err(Error::InvalidInput(context(&format!(
                "the standardisation covers {} columns but the model has {width}",
                standardization.num_columns()
            ))));
        }
        let device = config.device.device();
        let mut network = PairNetwork::new(width, &config.hidden, config.seed, &device);
        load_module(&mut network, weights)?;
        Ok(Self {
            config,
            columns: meta.card.columns.clone(),
            standardization,
            network,
            threshold,
            metrics,
            training_data_hash: meta.card.training_data_hash.clone(),
            training_rows: meta.card.training_rows,
        })
    }
}

fn check_rows(features: &FeatureMatrix, labels: &[bool], what: &str) -> Result<()> {
    if features.num_rows() != labels.len() {
        return Err(Error::InvalidInput(format!(
            "{} {what} rows but {} labels; pass one label per row",
            features.num_rows(),
            labels.len()
        )));
    }
    if let Some(position) = features
        .values()
        .iter()
        .position(|value| !value.is_finite())
    {
        let width = features.num_columns();
        return Err(Error::InvalidInput(format!(
            "feature {:?} of {what} row {} is {}; pair features must be finite numbers",
            features.columns()[position % width],
            position / width,
            features.values()[position]
        )));
    }
    Ok(())
}

/// Splits row indices into training and held-out rows, taking `share` of each class at random.
fn split_rows(labels: &[bool], share: f64, rng: &mut ChaCha8Rng) -> (Vec<usize>, Vec<usize>) {
    if share <= 0.0 {
        return ((0..labels.len()).collect(), Vec::new());
    }
    let mut train = Vec::new();
    let mut held = Vec::new();
    for class in [true, false] {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&row| labels[row] == class)
            .collect();
        rows.shuffle(rng);
        // Keep at least one row of the class for training.
        let count =
            ((rows.len() as f64 * share).round() as usize).min(rows.len().saturating_sub(1));
        held.extend_from_slice(&rows[..count]);
        train.extend_from_slice(&rows[count..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    (train, held)
}

fn prepare(
    standardization: &Standardization,
    features: &FeatureMatrix,
    labels: &[bool],
    config: &PairClassifierConfig,
) -> Result<Prepared> {
    let (inputs, _) = standardization.transform(features);
    let positives = labels.iter().filter(|&&label| label).count() as f32;
    let negatives = labels.len() as f32 - positives;
    let weights = labels
        .iter()
        .map(|&label| {
            if !config.balance_classes {
                1.0
            } else if label {
                0.5 * labels.len() as f32 / positives.max(1.0)
            } else {
                0.5 * labels.len() as f32 / negatives.max(1.0)
            }
        })
        .collect();
    let targets = labels
        .iter()
        .map(|&label| f32::from(u8::from(label)))
        .collect();
    Ok(Prepared {
        inputs,
        targets,
        weights,
    })
}

/// Returns the weighted mean cross-entropy of `network` on prepared rows, penalty excluded.
fn weighted_loss(
    network: &PairNetwork,
    data: &Prepared,
    width: usize,
    device: &Device,
) -> Result<f32> {
    let rows = data.targets.len();
    if rows == 0 {
        return Ok(0.0);
    }
    let input = Tensor::<2>::from_data(TensorData::new(data.inputs.clone(), [rows, width]), device);
    let target = Tensor::<2>::from_data(TensorData::new(data.targets.clone(), [rows, 1]), device);
    let weight = Tensor::<2>::from_data(TensorData::new(data.weights.clone(), [rows, 1]), device);
    let total: f32 = data.weights.iter().sum();
    let loss = (bce_with_logits(network.forward(input), target) * weight).sum();
    let value: f32 = loss
        .try_into_scalar()
        .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
    Ok(value / total.max(f32::MIN_POSITIVE))
}

fn read_vec(tensor: Tensor<2>) -> Result<Vec<f32>> {
    tensor
        .try_into_data()
        .map_err(|error| Error::Internal(format!("reading predictions failed: {error:?}")))?
        .try_into_vec::<f32>()
        .map_err(|error| Error::Internal(format!("predictions are not f32: {error:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ModelRegistry;

    /// Pairs where a match has a high first score and agreeing codes; the third column is noise.
    fn pairs(rows: usize, seed: u64) -> (FeatureMatrix, Vec<bool>) {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for index in 0..rows {
            let matched = index % 5 == 0;
            let score: f32 = if matched {
                rng.random_range(0.5..1.0)
            } else {
                rng.random_range(0.0..0.6)
            };
            let code = if matched || rng.random::<f32>() < 0.1 {
                1.0
            } else {
                0.0
            };
            values.extend([score, code, rng.random::<f32>()]);
            labels.push(matched);
        }
        let columns = vec!["score".into(), "code".into(), "noise".into()];
        (
            FeatureMatrix::new(columns, values).expect("whole rows"),
            labels,
        )
    }

    fn quick() -> PairClassifierConfig {
        PairClassifierConfig {
            hidden: vec![8],
            epochs: 60,
            batch_size: 64,
            learning_rate: 0.01,
            ..Default::default()
        }
    }

    #[test]
    fn training_lowers_loss_and_separates() {
        let (features, labels) = pairs(500, 1);
        let model = TrainedPairClassifier::train(&quick(), &features, &labels, None)
            .expect("training succeeds");
        let metrics = model.metrics();
        assert!(
            metrics.final_loss < 0.5 * metrics.initial_loss,
            "loss {} -> {}",
            metrics.initial_loss,
            metrics.final_loss
        );
        let (test, truth) = pairs(200, 2);
        let predicted = model.classify(&test).expect("predict");
        let correct = predicted.iter().zip(&truth).filter(|(a, b)| a == b).count();
        assert!(correct >= 190, "{correct} of 200 correct");
    }

    #[test]
    fn early_stopping_keeps_best_epoch() {
        let (features, labels) = pairs(300, 3);
        let (valid, valid_labels) = pairs(100, 4);
        let config = PairClassifierConfig {
            patience: 3,
            epochs: 400,
            ..quick()
        };
        let validation = Validation {
            features: &valid,
            labels: &valid_labels,
        };
        let model = TrainedPairClassifier::train(&config, &features, &labels, Some(validation))
            .expect("training succeeds");
        let metrics = model.metrics();
        assert!(metrics.validation_loss.is_some());
        assert!(
            metrics.epochs_run < 400,
            "ran {} epochs",
            metrics.epochs_run
        );
        assert_eq!(metrics.epochs_run, metrics.best_epoch + 3);
    }

    #[test]
    fn training_is_deterministic() {
        let (features, labels) = pairs(200, 5);
        let first = TrainedPairClassifier::train(&quick(), &features, &labels, None)
            .expect("training succeeds");
        let second = TrainedPairClassifier::train(&quick(), &features, &labels, None)
            .expect("training succeeds");
        assert_eq!(
            first.predict(&features).expect("predict"),
            second.predict(&features).expect("predict")
        );
        assert_eq!(first.metrics(), second.metrics());
    }

    #[test]
    fn registry_round_trip() {
        let (features, labels) = pairs(200, 6);
        let mut model = TrainedPairClassifier::train(&quick(), &features, &labels, None)
            .expect("training succeeds");
        model.tune_threshold(&features, &labels).expect("tunes");
        let dir = tempfile::tempdir().expect("temporary folder");
        let registry = ModelRegistry::open(dir.path()).expect("registry");
        let meta = registry.save("pairs", &model, None).expect("saves");
        assert_eq!(meta.kind, PAIR_CLASSIFIER_KIND);
        let loaded: TrainedPairClassifier = registry.load("pairs", 1).expect("loads");
        assert_eq!(loaded.threshold(), model.threshold());
        assert_eq!(
            loaded.predict(&features).expect("predict"),
            model.predict(&features).expect("predict")
        );
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let (features, labels) = pairs(20, 7);
        let error = TrainedPairClassifier::train(&quick(), &features, &labels[..5], None)
            .expect_err("label count");
        assert!(error.to_string().contains("5 labels"), "{error}");
        let one_class = vec![false; 20];
        let error = TrainedPairClassifier::train(&quick(), &features, &one_class, None)
            .expect_err("one class");
        assert!(error.to_string().contains("both classes"), "{error}");
        let nan = FeatureMatrix::new(vec!["a".into()], vec![f32::NAN, 1.0]).expect("matrix");
        let error = TrainedPairClassifier::train(&quick(), &nan, &[true, false], None)
            .expect_err("NaN feature");
        assert!(error.to_string().contains("NaN"), "{error}");
        let config = PairClassifierConfig {
            hidden: vec![0],
            ..quick()
        };
        assert!(config.validate().is_err());
    }
}
