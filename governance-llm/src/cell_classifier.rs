//! A small classifier that turns the detector features of a cell into the probability that the
//! cell is an error.
//!
//! The network is logistic regression when `hidden` is 0 and a one-hidden-layer perceptron
//! (`Linear -> tanh -> Linear`) otherwise, trained full-batch with Adam on a weighted binary
//! cross-entropy plus an L2 penalty on the weights. Training sets are small (the labelled and
//! propagated cells of one column, a few thousand rows at most), so one step sees every row.
//!
//! The positive and negative classes are weighted so that each contributes half of the loss,
//! because an error detector usually sees far fewer errors than clean cells, and an unweighted
//! loss would learn to call every cell clean. Per-row weights on top of that let a caller count
//! a cell labelled by a person more than one whose label was propagated to it.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{Device, DeviceConfig};
use crate::registry::{
    ModelCard, ModelMeta, ModelMetrics, RegisteredModel, card_json, load_module, save_module,
    sha256_of_floats,
};
use crate::{Error, Result};

/// The `kind` of [`TrainedCellClassifier`] in the registry's `meta.json`.
pub const CELL_CLASSIFIER_KIND: &str = "cell_classifier";

/// Configuration of the cell classifier and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CellClassifierConfig {
    /// Width of the hidden layer; 0 makes the model logistic regression.
    pub hidden: usize,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Weight of the L2 penalty on the weights (not the biases).
    pub l2: f64,
    /// Seed of the weight initialisation.
    pub seed: u64,
    /// Device to train and predict on.
    pub device: DeviceConfig,
}

impl Default for CellClassifierConfig {
    fn default() -> Self {
        CellClassifierConfig {
            hidden: 0,
            epochs: 150,
            learning_rate: 0.05,
            l2: 0.001,
            seed: 7,
            device: DeviceConfig::Cpu,
        }
    }
}

impl CellClassifierConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::Config("epochs is 0; it must be at least 1".into()));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.05",
                self.learning_rate
            )));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::Config(format!(
                "l2 is {}; it must be a finite number of at least 0",
                self.l2
            )));
        }
        Ok(())
    }
}

/// The burn module: an optional hidden layer and one output logit.
#[derive(Module, Debug)]
pub struct CellNetwork {
    hidden: Option<Linear>,
    output: Linear,
}

impl CellNetwork {
    /// Creates a network for `inputs` features, with weights drawn uniformly from
    /// `±1/sqrt(fan_in)` by a ChaCha RNG seeded with `seed`.
    pub fn new(inputs: usize, hidden: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        if hidden == 0 {
            return CellNetwork {
                hidden: None,
                output: seeded_linear(inputs, 1, &mut rng, device),
            };
        }
        CellNetwork {
            hidden: Some(seeded_linear(inputs, hidden, &mut rng, device)),
            output: seeded_linear(hidden, 1, &mut rng, device),
        }
    }

    /// Maps feature rows `[rows, features]` to logits `[rows, 1]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        match &self.hidden {
            Some(layer) => self.output.forward(layer.forward(input).tanh()),
            None => self.output.forward(input),
        }
    }

    /// Returns the sum of squared weights, the L2 penalty before its factor.
    fn weight_norm(&self) -> Tensor<1> {
        let output = self.output.weight.val().square().sum();
        match &self.hidden {
            Some(layer) => output + layer.weight.val().square().sum(),
            None => output,
        }
    }
}

pub(crate) fn seeded_linear(
    inputs: usize,
    outputs: usize,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Linear {
    let bound = 1.0 / (inputs.max(1) as f32).sqrt();
    let weight: Vec<f32> = (0..inputs * outputs)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    // burn's row layout stores the weight as [inputs, outputs]; biases start at 0.
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [inputs, outputs]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.0f32; outputs], [outputs]),
            device,
        ))),
    }
}

/// A trained cell classifier.
#[derive(Debug, Clone)]
pub struct TrainedCellClassifier {
    config: CellClassifierConfig,
    width: usize,
    network: CellNetwork,
    initial_loss: f32,
    final_loss: f32,
    /// Hex SHA-256 of the features, labels and weights trained on.
    training_data_hash: String,
    training_rows: usize,
}

/// The training record of a saved cell classifier.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CellTrainingRecord {
    initial_loss: f32,
    final_loss: f32,
}

impl TrainedCellClassifier {
    /// Trains on row-major `features` (`labels.len()` rows of `width` values), with `labels`
    /// 1 for an error and 0 for a clean cell and `weights` the weight of each row. Fails on an
    /// invalid config, mismatched lengths, a non-finite feature, or a training set without
    /// both classes.
    pub fn train(
        config: &CellClassifierConfig,
        features: &[f32],
        width: usize,
        labels: &[bool],
        weights: &[f32],
    ) -> Result<Self> {
        config.validate()?;
        let rows = labels.len();
        check_shape(features, width, rows)?;
        if weights.len() != rows {
            return Err(Error::InvalidInput(format!(
                "{} weights for {rows} labelled rows; pass one weight per row",
                weights.len()
            )));
        }
        let positive: f32 = labels
            .iter()
            .zip(weights)
            .filter(|(label, _)| **label)
            .map(|(_, weight)| weight.max(0.0))
            .sum();
        let negative: f32 = labels
            .iter()
            .zip(weights)
            .filter(|(label, _)| !**label)
            .map(|(_, weight)| weight.max(0.0))
            .sum();
        if positive <= 0.0 || negative <= 0.0 {
            return Err(Error::InvalidInput(format!(
                "the training set has weight {positive} on errors and {negative} on clean \
                 cells; a classifier needs both classes, so label at least one of each"
            )));
        }
        // Each class carries half of the loss, whatever its size.
        let row_weights: Vec<f32> = labels
            .iter()
            .zip(weights)
            .map(|(&label, &weight)| {
                let class = if label { positive } else { negative };
                weight.max(0.0) / (2.0 * class)
            })
            .collect();
        let targets: Vec<f32> = labels
            .iter()
            .map(|&label| f32::from(u8::from(label)))
            .collect();
        let training_data_hash = sha256_of_floats(&[features, &targets, weights]);

        let device = config.device.training_device();
        device.seed(config.seed);
        let mut network = CellNetwork::new(width, config.hidden, config.seed, &device);
        let input =
            Tensor::<2>::from_data(TensorData::new(features.to_vec(), [rows, width]), &device);
        let target = Tensor::<2>::from_data(TensorData::new(targets, [rows, 1]), &device);
        let weight = Tensor::<2>::from_data(TensorData::new(row_weights, [rows, 1]), &device);
        let mut optimizer = AdamConfig::new().init();
        let mut initial_loss = f32::NAN;
        let mut final_loss = f32::NAN;
        for epoch in 0..config.epochs {
            let logits = network.forward(input.clone());
            let loss = (bce_with_logits(logits, target.clone()) * weight.clone()).sum()
                + network.weight_norm().mul_scalar(config.l2);
            let gradients = GradientsParams::from_grads(loss.backward(), &network);
            final_loss = loss
                .try_into_scalar()
                .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
            if epoch == 0 {
                initial_loss = final_loss;
            }
            network = optimizer.step(config.learning_rate, network, gradients);
        }
        if !final_loss.is_finite() {
            return Err(Error::InvalidInput(format!(
                "training diverged to a loss of {final_loss}; lower learning_rate (now {})",
                config.learning_rate
            )));
        }
        Ok(TrainedCellClassifier {
            config: config.clone(),
            width,
            network: network.valid(),
            initial_loss,
            final_loss,
            training_data_hash,
            training_rows: rows,
        })
    }

    /// Returns the error probability of each row of row-major `features`.
    pub fn predict(&self, features: &[f32]) -> Result<Vec<f32>> {
        if self.width == 0 {
            return Err(Error::Internal("classifier with no features".into()));
        }
        let rows = features.len() / self.width;
        check_shape(features, self.width, rows)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let device = self.config.device.device();
        let input = Tensor::<2>::from_data(
            TensorData::new(features.to_vec(), [rows, self.width]),
            &device,
        );
        let probabilities = burn::tensor::activation::sigmoid(self.network.forward(input));
        probabilities
            .try_into_data()
            .map_err(|error| Error::Internal(format!("reading predictions failed: {error:?}")))?
            .try_into_vec::<f32>()
            .map_err(|error| Error::Internal(format!("predictions are not f32: {error:?}")))
    }

    /// Returns each feature's contribution to each row's logit, row-major like `features`:
    /// the row's logit minus its logit with that feature set to 0, the value of a detector
    /// that did not fire. For logistic regression (`hidden` 0) this is exactly the weight
    /// times the feature. With a hidden layer it is an occlusion estimate, and the
    /// contributions need not add up to the logit.
    pub fn contributions(&self, features: &[f32]) -> Result<Vec<f32>> {
        if self.width == 0 {
            return Err(Error::Internal("classifier with no features".into()));
        }
        let rows = features.len() / self.width;
        check_shape(features, self.width, rows)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        // Per row: the row itself, then one copy per feature with that feature at 0.
        let variants = self.width + 1;
        let mut input = Vec::with_capacity(rows * variants * self.width);
        for row in features.chunks(self.width) {
            input.extend_from_slice(row);
            for feature in 0..self.width {
                input.extend_from_slice(row);
                let end = input.len();
                input[end - self.width + feature] = 0.0;
            }
        }
        let device = self.config.device.device();
        let logits = self
            .network
            .forward(Tensor::<2>::from_data(
                TensorData::new(input, [rows * variants, self.width]),
                &device,
            ))
            .try_into_data()
            .map_err(|error| Error::Internal(format!("reading logits failed: {error:?}")))?
            .try_into_vec::<f32>()
            .map_err(|error| Error::Internal(format!("logits are not f32: {error:?}")))?;
        let mut contributions = Vec::with_capacity(rows * self.width);
        for row in logits.chunks(variants) {
            contributions.extend(row[1..].iter().map(|without| row[0] - without));
        }
        Ok(contributions)
    }

    /// Returns the number of input features.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Returns the training loss at the initial weights, before the first step, penalty
    /// included; compare it with [`Self::final_loss`] to see whether training made progress.
    pub fn initial_loss(&self) -> f32 {
        self.initial_loss
    }

    /// Returns the training loss after the last step, penalty included.
    pub fn final_loss(&self) -> f32 {
        self.final_loss
    }

    /// Returns the hex SHA-256 of the features, labels and weights trained on, which
    /// identifies the model together with its config.
    pub fn training_data_hash(&self) -> &str {
        &self.training_data_hash
    }

    /// Returns the configuration the model was trained with.
    pub fn config(&self) -> &CellClassifierConfig {
        &self.config
    }
}

/// The features of a cell classifier have no names, so the registry lists them as
/// `feature_0`, `feature_1`, and so on. Their count is the model's width.
impl RegisteredModel for TrainedCellClassifier {
    const KIND: &'static str = CELL_CLASSIFIER_KIND;

    fn card(&self) -> Result<ModelCard> {
        let record = CellTrainingRecord {
            initial_loss: self.initial_loss,
            final_loss: self.final_loss,
        };
        Ok(ModelCard {
            training_data_hash: self.training_data_hash.clone(),
            training_rows: self.training_rows,
            columns: (0..self.width)
                .map(|index| format!("feature_{index}"))
                .collect(),
            standardization: None,
            metrics: ModelMetrics {
                final_loss: self.final_loss,
                threshold: None,
            },
            config: card_json(&self.config)?,
            training: card_json(&record)?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        save_module(&self.network, path, CELL_CLASSIFIER_KIND)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let context =
            |what: &str| format!("model {:?} version {}: {what}", meta.name, meta.version);
        let config: CellClassifierConfig = serde_json::from_value(meta.card.config.clone())
            .map_err(|error| Error::InvalidInput(context(&format!("invalid config: {error}"))))?;
        config.validate()?;
        let record: CellTrainingRecord = serde_json::from_value(meta.card.training.clone())
            .map_err(|error| {
                Error::InvalidInput(context(&format!("invalid training record: {error}")))
            })?;
        let width = meta.card.columns.len();
        if width == 0 {
            return Err(Error::InvalidInput(context(
                "the model lists no features; save it again from a trained classifier",
            )));
        }
        let device = config.device.device();
        let mut network = CellNetwork::new(width, config.hidden, config.seed, &device);
        load_module(&mut network, weights)?;
        Ok(TrainedCellClassifier {
            config,
            width,
            network,
            initial_loss: record.initial_loss,
            final_loss: record.final_loss,
            training_data_hash: meta.card.training_data_hash.clone(),
            training_rows: meta.card.training_rows,
        })
    }
}

/// Binary cross-entropy on logits, per row, in the stable form
/// `max(x, 0) - x * y + ln(1 + exp(-|x|))`.
pub(crate) fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
    let positive_part = logits.clone().clamp_min(0.0);
    let softplus = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    positive_part - logits * targets + softplus
}

fn check_shape(features: &[f32], width: usize, rows: usize) -> Result<()> {
    if width == 0 {
        return Err(Error::InvalidInput(
            "a cell classifier needs at least one feature".into(),
        ));
    }
    if features.len() != width * rows {
        return Err(Error::InvalidInput(format!(
            "{} feature values do not make {rows} rows of {width} features",
            features.len()
        )));
    }
    if let Some(position) = features.iter().position(|value| !value.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "feature {} of row {} is {}; features must be finite numbers",
            position % width,
            position / width,
            features[position]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows where feature 0 decides the class and feature 1 is noise.
    fn separable() -> (Vec<f32>, Vec<bool>) {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for index in 0..60 {
            let error = index % 6 == 0;
            features.push(if error { 1.0 } else { 0.0 });
            features.push((index % 5) as f32 / 5.0);
            labels.push(error);
        }
        (features, labels)
    }

    #[test]
    fn logistic_regression_separates_classes() {
        let (features, labels) = separable();
        let weights = vec![1.0; labels.len()];
        let model = TrainedCellClassifier::train(
            &CellClassifierConfig::default(),
            &features,
            2,
            &labels,
            &weights,
        )
        .expect("training succeeds");
        let scores = model.predict(&[1.0, 0.4, 0.0, 0.4]).expect("predict");
        assert!(scores[0] > 0.5, "error row scored {}", scores[0]);
        assert!(scores[1] < 0.5, "clean row scored {}", scores[1]);
    }

    #[test]
    fn hidden_layer_learns_xor() {
        let features = vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let labels = vec![false, true, true, false];
        let config = CellClassifierConfig {
            hidden: 8,
            epochs: 600,
            l2: 0.0,
            ..Default::default()
        };
        let model = TrainedCellClassifier::train(&config, &features, 2, &labels, &[1.0; 4])
            .expect("training succeeds");
        let scores = model.predict(&features).expect("predict");
        for (score, label) in scores.iter().zip(&labels) {
            assert_eq!(*score > 0.5, *label, "scores {scores:?}");
        }
    }

    #[test]
    fn logistic_contributions_are_weight_times_feature() {
        let (features, labels) = separable();
        let weights = vec![1.0; labels.len()];
        let model = TrainedCellClassifier::train(
            &CellClassifierConfig::default(),
            &features,
            2,
            &labels,
            &weights,
        )
        .expect("training");
        let probe = [0.9f32, 0.1, 0.2, 0.8];
        let contributions = model.contributions(&probe).expect("contributions");
        assert_eq!(contributions.len(), probe.len());

        // Zeroing both features leaves the bias, so the two contributions of a row add up
        // to its logit minus the bias.
        let zero = model.contributions(&[0.0, 0.0]).expect("contributions");
        assert_eq!(zero, vec![0.0, 0.0]);
        let logit = |p: f32| (p / (1.0 - p)).ln();
        let bias = logit(model.predict(&[0.0, 0.0]).expect("predict")[0]);
        let first = logit(model.predict(&probe[..2]).expect("predict")[0]);
        assert!((contributions[0] + contributions[1] - (first - bias)).abs() < 1e-3);
        // Feature 0 decides the class in the training data, so it dominates.
        assert!(contributions[0].abs() > contributions[1].abs());
    }

    #[test]
    fn one_class_is_rejected() {
        let error = TrainedCellClassifier::train(
            &CellClassifierConfig::default(),
            &[0.0, 1.0],
            1,
            &[false, false],
            &[1.0, 1.0],
        )
        .expect_err("one class cannot train");
        assert!(error.to_string().contains("both classes"));
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let config = CellClassifierConfig::default();
        let short = TrainedCellClassifier::train(&config, &[0.0], 2, &[true], &[1.0]);
        assert!(short.is_err());
        let infinite =
            TrainedCellClassifier::train(&config, &[f32::NAN, 1.0], 1, &[true, false], &[1.0, 1.0])
                .expect_err("NaN is rejected");
        assert!(infinite.to_string().contains("NaN"));
    }
}
