//! A dense autoencoder over numeric sensor columns that scores how unusual each row is.
//!
//! The network maps the standardised columns through a narrow bottleneck and back:
//!
//! ```text
//! columns ─▶ Linear ─▶ tanh ─▶ Linear (bottleneck) ─▶ Linear ─▶ tanh ─▶ Linear ─▶ columns
//! ```
//!
//! Rows like the training data are reconstructed well; a row whose columns break the usual
//! relations between them is not. A row's score is its mean squared reconstruction error over
//! its observed columns, in standardised units, and each column's share of that sum is its
//! contribution, which explains the score. Missing cells are set to 0 after standardising and
//! masked out of the training loss and of the scores, so a gap never drives a flag.
//!
//! Training is deterministic for a seed. The weights are drawn from a ChaCha RNG seeded with
//! it, not from the backend's global RNG, because other models in the process share that one.
//! The same RNG samples and shuffles the rows.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{Device, DeviceConfig};
use crate::matrix::{FeatureMatrix, Standardization};
use crate::{Error, Result};

/// Rows scored per forward pass, which bounds the memory of scoring a large matrix.
const SCORE_CHUNK_ROWS: usize = 4096;

/// Configuration of the autoencoder and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoencoderConfig {
    /// Width of the hidden layer on each side of the bottleneck.
    pub hidden: usize,
    /// Width of the bottleneck; must be smaller than the number of columns, or the network
    /// could copy its input and would flag nothing.
    pub bottleneck: usize,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Rows per optimisation step.
    pub batch_size: usize,
    /// Seed of the weight initialisation, the row sample and the shuffling.
    pub seed: u64,
    /// Largest number of rows trained on; larger inputs are sampled down to it.
    pub max_train_rows: usize,
    /// Quantile of the training scores used as the anomaly threshold, in `(0, 1)`.
    pub threshold_quantile: f64,
    /// Number of columns named in each row's explanation, by descending contribution.
    pub top_columns: usize,
    /// Device to train and score on.
    pub device: DeviceConfig,
}

impl Default for AutoencoderConfig {
    fn default() -> Self {
        AutoencoderConfig {
            hidden: 8,
            bottleneck: 3,
            epochs: 30,
            learning_rate: 0.01,
            batch_size: 128,
            seed: 42,
            max_train_rows: 20_000,
            threshold_quantile: 0.995,
            top_columns: 3,
            device: DeviceConfig::Cpu,
        }
    }
}

impl AutoencoderConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("hidden", self.hidden),
            ("bottleneck", self.bottleneck),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("top_columns", self.top_columns),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(Error::Config(format!(
                    "{field} is 0; it must be at least 1"
                )));
            }
        }
        if self.max_train_rows < 2 {
            return Err(Error::Config(format!(
                "max_train_rows is {}; it must be at least 2",
                self.max_train_rows
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.01",
                self.learning_rate
            )));
        }
        if !(self.threshold_quantile > 0.0 && self.threshold_quantile < 1.0) {
            return Err(Error::Config(format!(
                "threshold_quantile is {}; it must lie strictly between 0 and 1, such as 0.995",
                self.threshold_quantile
            )));
        }
        Ok(())
    }
}

/// The burn module of the autoencoder: two layers down to the bottleneck, two layers up.
#[derive(Module, Debug)]
pub struct AutoencoderNetwork {
    encoder_hidden: Linear,
    encoder_code: Linear,
    decoder_hidden: Linear,
    decoder_output: Linear,
}

impl AutoencoderNetwork {
    /// Creates a network for `inputs` columns on `device`, with weights drawn uniformly from
    /// `±1/sqrt(fan_in)` (burn's default for linear layers) by a ChaCha RNG seeded with `seed`.
    pub fn new(
        inputs: usize,
        hidden: usize,
        bottleneck: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        AutoencoderNetwork {
            encoder_hidden: seeded_linear(inputs, hidden, &mut rng, device),
            encoder_code: seeded_linear(hidden, bottleneck, &mut rng, device),
            decoder_hidden: seeded_linear(bottleneck, hidden, &mut rng, device),
            decoder_output: seeded_linear(hidden, inputs, &mut rng, device),
        }
    }

    /// Maps standardised rows `[rows, columns]` to their codes `[rows, bottleneck]`.
    pub fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        self.encoder_code
            .forward(self.encoder_hidden.forward(input).tanh())
    }

    /// Reconstructs standardised rows: `[rows, columns]` to `[rows, columns]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let code = self.encode(input);
        self.decoder_output
            .forward(self.decoder_hidden.forward(code).tanh())
    }
}

fn seeded_linear(inputs: usize, outputs: usize, rng: &mut ChaCha8Rng, device: &Device) -> Linear {
    let bound = 1.0 / (inputs as f32).sqrt();
    let weight: Vec<f32> = (0..inputs * outputs)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    let bias: Vec<f32> = (0..outputs)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    // burn's row layout stores the weight as [inputs, outputs].
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [inputs, outputs]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [outputs]),
            device,
        ))),
    }
}

/// Losses and threshold recorded when a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingMetrics {
    /// Masked mean squared error over the training rows before the first step.
    pub initial_loss: f32,
    /// Masked mean squared error over the training rows after the last epoch.
    pub final_loss: f32,
    /// Mean training loss of each epoch, as seen during the epoch.
    pub epoch_losses: Vec<f32>,
    /// The configured quantile of the training rows' scores.
    pub quantile_threshold: f32,
}

/// One column's share of a row's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColumnContribution {
    /// Index of the column in [`TrainedAutoencoder::columns`].
    pub column: usize,
    /// The column's squared standardised reconstruction error divided by the row's observed
    /// column count; the contributions of a row sum to its score.
    pub contribution: f32,
}

/// The anomaly score of one row and its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowScore {
    /// Mean squared standardised reconstruction error over the observed columns; 0 for a row
    /// with no observed column.
    pub score: f32,
    /// True when the score is above the model's threshold.
    pub is_anomaly: bool,
    /// Number of observed columns.
    pub observed: usize,
    /// The columns with the largest contributions, largest first, at most
    /// [`AutoencoderConfig::top_columns`] of them; columns contributing nothing are left out.
    pub top_columns: Vec<ColumnContribution>,
}

/// A trained autoencoder with its standardisation and anomaly threshold.
#[derive(Debug, Clone)]
pub struct TrainedAutoencoder {
    config: AutoencoderConfig,
    columns: Vec<String>,
    standardization: Standardization,
    network: AutoencoderNetwork,
    threshold: f32,
    metrics: TrainingMetrics,
    training_data_hash: String,
    training_rows: usize,
}

impl TrainedAutoencoder {
    /// Trains a model on the rows of `data`, sampled down to `max_train_rows`. Rows with no
    /// observed value are skipped. Fails on an invalid config, a bottleneck not smaller than
    /// the column count, fewer than two usable rows, or a column never observed.
    pub fn train(config: &AutoencoderConfig, data: &FeatureMatrix) -> Result<Self> {
        config.validate()?;
        let width = data.num_columns();
        if config.bottleneck >= width {
            return Err(Error::Config(format!(
                "bottleneck {} is not smaller than the {width} columns, so the network could \
                 copy its input and would flag nothing; lower bottleneck below {width}",
                config.bottleneck
            )));
        }

        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let usable: Vec<usize> = (0..data.num_rows())
            .filter(|&row| data.row(row).iter().any(|value| value.is_finite()))
            .collect();
        if usable.len() < 2 {
            return Err(Error::InvalidInput(format!(
                "{} of {} rows have an observed value; training needs at least 2",
                usable.len(),
                data.num_rows()
            )));
        }
        let selected = if usable.len() > config.max_train_rows {
            let mut picked: Vec<usize> =
                rand::seq::index::sample(&mut rng, usable.len(), config.max_train_rows)
                    .into_iter()
                    .map(|position| usable[position])
                    .collect();
            picked.sort_unstable();
            picked
        } else {
            usable
        };
        let training = data.select_rows(&selected)?;
        let standardization = Standardization::fit(&training)?;
        let (inputs, mask) = standardization.transform(&training);

        let device = config.device.training_device();
        // The weights come from our own RNG; seeding the backend as well keeps any random
        // operation a backend might add reproducible.
        device.seed(config.seed);
        let network = AutoencoderNetwork::new(
            width,
            config.hidden,
            config.bottleneck,
            config.seed,
            &device,
        );
        let inference_device = config.device.device();
        let initial_loss = masked_loss(&network.valid(), &inputs, &mask, width, &inference_device)?;

        let (network, epoch_losses) =
            fit_network(config, network, &inputs, &mask, width, &mut rng, &device)?;
        let network = network.valid();
        let final_loss = masked_loss(&network, &inputs, &mask, width, &inference_device)?;
        if !final_loss.is_finite() {
            return Err(Error::InvalidInput(format!(
                "training diverged to a loss of {final_loss}; lower learning_rate (now {})",
                config.learning_rate
            )));
        }

        let mut model = TrainedAutoencoder {
            config: config.clone(),
            columns: data.columns().to_vec(),
            standardization,
            network,
            threshold: f32::INFINITY,
            metrics: TrainingMetrics {
                initial_loss,
                final_loss,
                epoch_losses,
                quantile_threshold: f32::INFINITY,
            },
            training_data_hash: training.sha256(),
            training_rows: training.num_rows(),
        };
        let mut scores: Vec<f32> = model
            .score_rows(&training)?
            .into_iter()
            .map(|row| row.score)
            .collect();
        let threshold = quantile(&mut scores, config.threshold_quantile);
        model.threshold = threshold;
        model.metrics.quantile_threshold = threshold;
        tracing::debug!(
            rows = model.training_rows,
            initial_loss,
            final_loss,
            threshold,
            "trained autoencoder"
        );
        Ok(model)
    }

    /// Rebuilds a model from its saved parts and the safetensors file of its weights.
    pub(crate) fn from_saved(
        parts: SavedParts,
        weights: &std::path::Path,
    ) -> Result<TrainedAutoencoder> {
        parts.config.validate()?;
        let width = parts.columns.len();
        if parts.standardization.num_columns() != width || parts.standardization.std.len() != width
        {
            return Err(Error::InvalidInput(format!(
                "the saved standardisation covers {} columns but the model has {width}",
                parts.standardization.num_columns()
            )));
        }
        let device = parts.config.device.device();
        let mut network = AutoencoderNetwork::new(
            width,
            parts.config.hidden,
            parts.config.bottleneck,
            parts.config.seed,
            &device,
        );
        let mut store = SafetensorsStore::from_file(weights);
        network
            .load_from(&mut store)
            .map_err(|error| Error::Weights {
                action: "load",
                path: weights.to_path_buf(),
                message: error.to_string(),
            })?;
        Ok(TrainedAutoencoder {
            config: parts.config,
            columns: parts.columns,
            standardization: parts.standardization,
            network: network.valid(),
            threshold: parts.threshold,
            metrics: parts.metrics,
            training_data_hash: parts.training_data_hash,
            training_rows: parts.training_rows,
        })
    }

    /// Writes the network's weights to a safetensors file, replacing any file there.
    pub(crate) fn save_weights(&self, path: &std::path::Path) -> Result<()> {
        let mut store = SafetensorsStore::from_file(path)
            .overwrite(true)
            .metadata("model_kind", crate::registry::AUTOENCODER_KIND);
        self.network
            .save_into(&mut store)
            .map_err(|error| Error::Weights {
                action: "save",
                path: path.to_path_buf(),
                message: error.to_string(),
            })
    }

    /// Scores every row of `data`, whose columns must be the model's, in the same order.
    pub fn score_rows(&self, data: &FeatureMatrix) -> Result<Vec<RowScore>> {
        if data.columns() != self.columns.as_slice() {
            return Err(Error::InvalidInput(format!(
                "the rows have columns [{}] but the model was trained on [{}]; pass the same \
                 columns in the same order",
                data.columns().join(", "),
                self.columns.join(", ")
            )));
        }
        let width = self.columns.len();
        let device = self.config.device.device();
        let mut scores = Vec::with_capacity(data.num_rows());
        let (inputs, mask) = self.standardization.transform(data);
        for (chunk_inputs, chunk_mask) in inputs
            .chunks(SCORE_CHUNK_ROWS * width)
            .zip(mask.chunks(SCORE_CHUNK_ROWS * width))
        {
            let rows = chunk_inputs.len() / width;
            let input = Tensor::<2>::from_data(
                TensorData::new(chunk_inputs.to_vec(), [rows, width]),
                &device,
            );
            let reconstruction = read_values(self.network.forward(input))?;
            for row in 0..rows {
                let span = row * width..(row + 1) * width;
                scores.push(self.score_row(
                    &chunk_inputs[span.clone()],
                    &chunk_mask[span.clone()],
                    &reconstruction[span],
                ));
            }
        }
        Ok(scores)
    }

    fn score_row(&self, inputs: &[f32], mask: &[f32], reconstruction: &[f32]) -> RowScore {
        let observed = mask.iter().filter(|&&weight| weight > 0.0).count();
        if observed == 0 {
            return RowScore {
                score: 0.0,
                is_anomaly: false,
                observed,
                top_columns: Vec::new(),
            };
        }
        let mut contributions: Vec<ColumnContribution> = (0..inputs.len())
            .map(|column| {
                let error = reconstruction[column] - inputs[column];
                ColumnContribution {
                    column,
                    contribution: mask[column] * error * error / observed as f32,
                }
            })
            .collect();
        let score: f32 = contributions.iter().map(|part| part.contribution).sum();
        contributions.sort_by(|left, right| right.contribution.total_cmp(&left.contribution));
        contributions.retain(|part| part.contribution > 0.0);
        contributions.truncate(self.config.top_columns);
        RowScore {
            score,
            is_anomaly: score > self.threshold,
            observed,
            top_columns: contributions,
        }
    }

    /// Returns the column names, in input order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Returns the configuration the model was trained with.
    pub fn config(&self) -> &AutoencoderConfig {
        &self.config
    }

    /// Returns the per-column mean and standard deviation of the training rows.
    pub fn standardization(&self) -> &Standardization {
        &self.standardization
    }

    /// Returns the score above which a row is an anomaly.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Sets the score above which a row is an anomaly. Fails unless it is finite and not
    /// negative.
    pub fn set_threshold(&mut self, threshold: f32) -> Result<()> {
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "threshold {threshold} must be a finite number of at least 0"
            )));
        }
        self.threshold = threshold;
        Ok(())
    }

    /// Returns the losses and the quantile threshold of training.
    pub fn metrics(&self) -> &TrainingMetrics {
        &self.metrics
    }

    /// Returns the hex SHA-256 of the matrix the model was trained on, after sampling; see
    /// [`FeatureMatrix::sha256`].
    pub fn training_data_hash(&self) -> &str {
        &self.training_data_hash
    }

    /// Returns the number of rows the model was trained on.
    pub fn training_rows(&self) -> usize {
        self.training_rows
    }

    /// Returns the burn network, for inspection or reuse.
    pub fn network(&self) -> &AutoencoderNetwork {
        &self.network
    }
}

/// The fields the registry stores beside the weights to rebuild a [`TrainedAutoencoder`].
#[derive(Debug, Clone)]
pub(crate) struct SavedParts {
    pub(crate) config: AutoencoderConfig,
    pub(crate) columns: Vec<String>,
    pub(crate) standardization: Standardization,
    pub(crate) threshold: f32,
    pub(crate) metrics: TrainingMetrics,
    pub(crate) training_data_hash: String,
    pub(crate) training_rows: usize,
}

/// Runs the epochs of Adam on the masked squared error and returns the trained network with
/// the mean loss of each epoch.
fn fit_network(
    config: &AutoencoderConfig,
    mut network: AutoencoderNetwork,
    inputs: &[f32],
    mask: &[f32],
    width: usize,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<(AutoencoderNetwork, Vec<f32>)> {
    let rows = inputs.len() / width;
    let mut optimizer = AdamConfig::new().init();
    let mut order: Vec<usize> = (0..rows).collect();
    let mut epoch_losses = Vec::with_capacity(config.epochs);
    let mut batch_inputs = Vec::with_capacity(config.batch_size * width);
    let mut batch_mask = Vec::with_capacity(config.batch_size * width);
    for _ in 0..config.epochs {
        order.shuffle(rng);
        let (mut loss_sum, mut observed_sum) = (0.0f64, 0.0f64);
        for batch in order.chunks(config.batch_size) {
            batch_inputs.clear();
            batch_mask.clear();
            for &row in batch {
                batch_inputs.extend_from_slice(&inputs[row * width..(row + 1) * width]);
                batch_mask.extend_from_slice(&mask[row * width..(row + 1) * width]);
            }
            let observed: f32 = batch_mask.iter().sum();
            if observed == 0.0 {
                continue;
            }
            let input = Tensor::<2>::from_data(
                TensorData::new(batch_inputs.clone(), [batch.len(), width]),
                device,
            );
            let weights = Tensor::<2>::from_data(
                TensorData::new(batch_mask.clone(), [batch.len(), width]),
                device,
            );
            let error = network.forward(input.clone()) - input;
            let loss = (error.square() * weights).sum().div_scalar(observed);
            let gradients = GradientsParams::from_grads(loss.backward(), &network);
            let loss: f32 = loss
                .try_into_scalar()
                .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
            loss_sum += f64::from(loss) * f64::from(observed);
            observed_sum += f64::from(observed);
            network = optimizer.step(config.learning_rate, network, gradients);
        }
        epoch_losses.push((loss_sum / observed_sum.max(1.0)) as f32);
    }
    Ok((network, epoch_losses))
}

/// Returns the masked mean squared reconstruction error of `network` over all rows.
fn masked_loss(
    network: &AutoencoderNetwork,
    inputs: &[f32],
    mask: &[f32],
    width: usize,
    device: &Device,
) -> Result<f32> {
    let (mut total, mut observed) = (0.0f64, 0.0f64);
    for (chunk_inputs, chunk_mask) in inputs
        .chunks(SCORE_CHUNK_ROWS * width)
        .zip(mask.chunks(SCORE_CHUNK_ROWS * width))
    {
        let rows = chunk_inputs.len() / width;
        let input = Tensor::<2>::from_data(
            TensorData::new(chunk_inputs.to_vec(), [rows, width]),
            device,
        );
        let reconstruction = read_values(network.forward(input))?;
        for ((&value, &weight), &rebuilt) in
            chunk_inputs.iter().zip(chunk_mask).zip(&reconstruction)
        {
            let error = f64::from(rebuilt - value);
            total += f64::from(weight) * error * error;
            observed += f64::from(weight);
        }
    }
    Ok((total / observed.max(1.0)) as f32)
}

fn read_values(tensor: Tensor<2>) -> Result<Vec<f32>> {
    let data = tensor
        .try_into_data()
        .map_err(|error| Error::Internal(format!("reading model output failed: {error:?}")))?;
    data.try_into_vec::<f32>()
        .map_err(|error| Error::Internal(format!("model output is not f32: {error:?}")))
}

/// Returns the `q` quantile of `values` by linear interpolation between closest ranks,
/// reordering `values`. `values` must not be empty.
fn quantile(values: &mut [f32], q: f64) -> f32 {
    values.sort_by(f32::total_cmp);
    let position = q * (values.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = (position - lower as f64) as f32;
    values[lower] + (values[upper] - values[lower]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu_device;

    #[test]
    fn forward_keeps_row_and_column_counts() {
        let device = cpu_device();
        let network = AutoencoderNetwork::new(5, 4, 2, 7, &device);
        let input = Tensor::<2>::zeros([6, 5], &device);
        assert_eq!(network.encode(input.clone()).dims(), [6, 2]);
        assert_eq!(network.forward(input).dims(), [6, 5]);
    }

    #[test]
    fn same_seed_gives_same_weights() {
        let device = cpu_device();
        let first = AutoencoderNetwork::new(3, 4, 2, 11, &device);
        let second = AutoencoderNetwork::new(3, 4, 2, 11, &device);
        let third = AutoencoderNetwork::new(3, 4, 2, 12, &device);
        let input = Tensor::<2>::ones([1, 3], &device);
        let first = read_values(first.forward(input.clone())).expect("first");
        assert_eq!(
            first,
            read_values(second.forward(input.clone())).expect("second")
        );
        assert_ne!(first, read_values(third.forward(input)).expect("third"));
    }

    #[test]
    fn quantile_interpolates_between_ranks() {
        let mut values = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(quantile(&mut values, 0.5), 3.0);
        assert_eq!(quantile(&mut values, 0.875), 4.5);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let config = AutoencoderConfig {
            threshold_quantile: 1.0,
            ..Default::default()
        };
        let error = config.validate().expect_err("quantile 1");
        assert!(error.to_string().contains("threshold_quantile is 1"));
        let config = AutoencoderConfig {
            epochs: 0,
            ..Default::default()
        };
        assert!(
            config
                .validate()
                .expect_err("no epochs")
                .to_string()
                .contains("epochs is 0")
        );
    }

    #[test]
    fn wide_bottleneck_is_rejected() {
        let data = FeatureMatrix::from_rows(
            vec!["a".into(), "b".into()],
            &[vec![1.0, 2.0], vec![2.0, 3.0]],
        )
        .expect("matrix");
        let error = TrainedAutoencoder::train(&AutoencoderConfig::default(), &data)
            .expect_err("bottleneck 3 for 2 columns");
        assert!(
            error
                .to_string()
                .contains("bottleneck 3 is not smaller than the 2 columns")
        );
    }

    #[test]
    fn missing_cells_do_not_score() {
        let columns: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|name| name.to_string())
            .collect();
        let rows: Vec<Vec<f32>> = (0..200)
            .map(|index| {
                let x = (index % 17) as f32;
                vec![x, 2.0 * x + 1.0, 10.0 - x, 0.5 * x]
            })
            .collect();
        let data = FeatureMatrix::from_rows(columns.clone(), &rows).expect("matrix");
        let config = AutoencoderConfig {
            bottleneck: 2,
            epochs: 5,
            ..Default::default()
        };
        let model = TrainedAutoencoder::train(&config, &data).expect("training");

        let probe = FeatureMatrix::from_rows(
            columns,
            &[vec![f32::NAN; 4], vec![3.0, f32::NAN, 7.0, f32::NAN]],
        )
        .expect("probe");
        let scores = model.score_rows(&probe).expect("scores");
        assert_eq!(scores[0].score, 0.0);
        assert!(!scores[0].is_anomaly);
        assert_eq!(scores[1].observed, 2);
        assert!(
            scores[1]
                .top_columns
                .iter()
                .all(|part| part.column == 0 || part.column == 2)
        );
    }
}
