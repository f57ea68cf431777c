//! A cross-column imputer: a small perceptron that predicts one column of a table from the
//! others, by regression for a numeric column and by classification for a categorical one.
//!
//! ```text
//! standardised numbers + one-hot categories ─▶ Linear ─▶ ReLU ─▶ Linear ─▶ ReLU ─▶ Linear
//!     ─▶ one standardised number (regression) or one logit per class (classification)
//! ```
//!
//! The model trains on the complete rows of the table: rows where the target and every
//! predictor are present. A tenth of them (at most 2,000) are held out to measure the model.
//! That measure gives the confidence of a numeric imputation, `1 - rmse / std` of the target
//! on the held-out rows clamped to [0, 1], so a model no better than the mean has confidence
//! 0. A categorical imputation's confidence is the probability of the predicted
//! class. Training uses mini-batch Adam on the mean squared error or the cross-entropy and is
//! deterministic for a seed: the weights, the row sample, the split and the shuffling all
//! come from one ChaCha RNG.
//!
//! A numeric predictor becomes two features, its standardised value and a missing flag; a
//! missing value is 0 (the mean) with the flag set. A categorical predictor becomes a one-hot
//! block with no bit set when the label is missing or unknown. Rows that need imputation
//! often miss other columns too, so training hides each predictor of a row with probability
//! `predictor_dropout` in every step, and the network learns to predict without it.
//! The held-out rows are also scored with each predictor hidden alone and with two or more
//! hidden at random, up to all of them. A numeric imputation gets the confidence of the error
//! measured with the predictors its row misses ([`sparse`]).

mod explain;
mod saved;
mod sparse;
mod table;

use burn::module::Module;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use saved::IMPUTER_KIND;
pub use table::{ColumnValues, ImputationTable, TableColumn};

use crate::backend::{Device, DeviceConfig};
use crate::cell_classifier::seeded_linear;
use crate::registry::sha256_of_floats;
use crate::{Error, Result};
use table::ColumnEncoding;

/// Rows per forward pass at prediction time, which bounds memory on large tables.
const PREDICT_CHUNK_ROWS: usize = 8192;

/// Largest number of held-out rows.
const MAX_HELD_OUT: usize = 2000;

/// Configuration of the imputer and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImputerConfig {
    /// Width of each of the two hidden layers.
    pub hidden: usize,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Rows per optimisation step.
    pub batch_size: usize,
    /// Largest number of complete rows used; larger tables are sampled down to it.
    pub max_train_rows: usize,
    /// Minimum number of complete rows a target needs before a model is trained for it.
    pub min_train_rows: usize,
    /// Maximum number of categories kept per categorical column, the most frequent first. A
    /// rarer label of a predictor encodes as no category, and training leaves out rows whose
    /// target label is rarer.
    pub max_categories: usize,
    /// Probability, in [0, 1), that training hides a predictor of a row in a step, so that
    /// the network learns to predict when predictors are missing, as they often are in the
    /// rows that need imputation.
    pub predictor_dropout: f64,
    /// Seed of the weights, the row sample, the held-out split, the shuffling and the hidden
    /// predictors.
    pub seed: u64,
    /// Device to train and predict on.
    pub device: DeviceConfig,
}

impl Default for ImputerConfig {
    fn default() -> Self {
        ImputerConfig {
            hidden: 64,
            epochs: 30,
            learning_rate: 0.003,
            batch_size: 128,
            max_train_rows: 20_000,
            min_train_rows: 30,
            max_categories: 32,
            predictor_dropout: 0.15,
            seed: 17,
            device: DeviceConfig::Cpu,
        }
    }
}

impl ImputerConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("hidden", self.hidden),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("max_categories", self.max_categories),
        ] {
            if value == 0 {
                return Err(Error::Config(format!(
                    "{field} is 0; it must be at least 1"
                )));
            }
        }
        if self.min_train_rows < 10 {
            return Err(Error::Config(format!(
                "min_train_rows is {}; it must be at least 10 so that rows can be held out",
                self.min_train_rows
            )));
        }
        if self.max_train_rows < self.min_train_rows {
            return Err(Error::Config(format!(
                "max_train_rows ({}) is below min_train_rows ({}); raise max_train_rows",
                self.max_train_rows, self.min_train_rows
            )));
        }
        if !(0.0..1.0).contains(&self.predictor_dropout) {
            return Err(Error::Config(format!(
                "predictor_dropout is {}; it must lie in [0, 1), such as 0.15",
                self.predictor_dropout
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.003",
                self.learning_rate
            )));
        }
        Ok(())
    }
}

/// The burn module: two ReLU hidden layers and a linear output.
#[derive(Module, Debug)]
pub struct ImputerNetwork {
    first: Linear,
    second: Linear,
    output: Linear,
}

impl ImputerNetwork {
    /// Creates a network with weights drawn by a ChaCha RNG seeded with `seed`.
    pub fn new(inputs: usize, hidden: usize, outputs: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        ImputerNetwork {
            first: seeded_linear(inputs, hidden, &mut rng, device),
            second: seeded_linear(hidden, hidden, &mut rng, device),
            output: seeded_linear(hidden, outputs, &mut rng, device),
        }
    }

    /// Maps feature rows `[rows, inputs]` to outputs `[rows, outputs]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let hidden = relu(self.first.forward(input));
        let hidden = relu(self.second.forward(hidden));
        self.output.forward(hidden)
    }
}

/// A value the imputer predicted.
#[derive(Debug, Clone, PartialEq)]
pub enum ImputedValue {
    /// A number, in the target's own units.
    Number(f64),
    /// A category label.
    Category(String),
}

/// One predicted cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Imputation {
    /// Row in the table.
    pub row: usize,
    /// The predicted value.
    pub value: ImputedValue,
    /// Confidence in [0, 1]; see the module docs.
    pub confidence: f32,
}

/// Measures of a trained imputer on its held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImputerMetrics {
    /// Complete rows trained on, after sampling and without the held-out ones.
    pub training_rows: usize,
    /// Held-out rows.
    pub held_out_rows: usize,
    /// Root mean squared error on the held-out rows, in the target's units (regression only).
    pub rmse: Option<f64>,
    /// The same error with each predictor hidden alone, in predictor order (regression only;
    /// empty in models saved before it was measured).
    #[serde(default)]
    pub rmse_without: Vec<f64>,
    /// The same error with `k` predictors of each held-out row hidden at random, at index
    /// `k - 2`, for `k` from 2 to the number of predictors (regression only). With more than
    /// 17 predictors only 16 counts, spread evenly, are measured, and the others are `None`.
    /// Models saved before this was measured have no entries, and models saved before it
    /// covered every count have those for 2 and 3 only.
    #[serde(default)]
    pub rmse_missing: Vec<Option<f64>>,
    /// Standard deviation of the target over the training rows (regression only).
    pub target_std: Option<f64>,
    /// Share of held-out rows whose class was predicted right (classification only).
    pub accuracy: Option<f64>,
    /// Mean batch loss of the first training epoch, on standardised targets (squared error)
    /// or classes (cross-entropy).
    #[serde(default)]
    pub first_epoch_loss: f32,
    /// Mean batch loss of the last training epoch, in the units of `first_epoch_loss`.
    #[serde(default)]
    pub last_epoch_loss: f32,
}

/// An imputer trained for one target column.
#[derive(Debug, Clone)]
pub struct TrainedImputer {
    config: ImputerConfig,
    target: String,
    target_encoding: ColumnEncoding,
    /// Predictor names with their encodings, in table order.
    predictors: Vec<(String, ColumnEncoding)>,
    network: ImputerNetwork,
    metrics: ImputerMetrics,
    /// Hex SHA-256 of the encoded training inputs and targets.
    training_data_hash: String,
}

impl TrainedImputer {
    /// Trains a model that predicts `target` from every other column of `table`. Fails on an
    /// invalid config, an unknown target, a table with no other column, or fewer complete
    /// rows than `min_train_rows`.
    pub fn train(config: &ImputerConfig, table: &ImputationTable, target: &str) -> Result<Self> {
        config.validate()?;
        let target_column = table.column(target)?;
        let predictor_columns: Vec<&TableColumn> = table
            .columns()
            .iter()
            .filter(|column| column.name != target)
            .collect();
        if predictor_columns.is_empty() {
            return Err(Error::InvalidInput(format!(
                "the table contains only the target {target:?}; add at least one predictor column"
            )));
        }

        let complete: Vec<usize> = (0..table.num_rows())
            .filter(|&row| {
                target_column.values.is_present(row)
                    && predictor_columns.iter().all(|c| c.values.is_present(row))
            })
            .collect();
        if complete.len() < config.min_train_rows {
            return Err(Error::InvalidInput(format!(
                "{target:?} has {} complete rows of {}; training needs at least {} \
                 (min_train_rows)",
                complete.len(),
                table.num_rows(),
                config.min_train_rows
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut selected = complete;
        selected.shuffle(&mut rng);
        selected.truncate(config.max_train_rows);
        let held_count = (selected.len() / 10).clamp(1, MAX_HELD_OUT);
        let held_out = selected.split_off(selected.len() - held_count);
        let training = selected;

        let target_encoding =
            ColumnEncoding::fit(&target_column.values, &training, config.max_categories);
        let predictors: Vec<(String, ColumnEncoding)> = predictor_columns
            .iter()
            .map(|column| {
                let encoding =
                    ColumnEncoding::fit(&column.values, &training, config.max_categories);
                (column.name.clone(), encoding)
            })
            .collect();
        let width: usize = predictors
            .iter()
            .map(|(_, encoding)| encoding.width())
            .sum();
        if width == 0 {
            return Err(Error::InvalidInput(format!(
                "the predictors of {target:?} encode to no feature; add a numeric column or a \
                 categorical one with labels"
            )));
        }

        let outputs = output_width(&target_encoding);
        let (rows, targets) = training_targets(&target_encoding, &target_column.values, &training);
        if rows.len() < config.min_train_rows {
            return Err(Error::InvalidInput(format!(
                "{target:?} has {} training rows among its {} most frequent categories; \
                 training needs at least {} (min_train_rows)",
                rows.len(),
                config.max_categories,
                config.min_train_rows
            )));
        }
        let inputs = encode_rows(&predictors, table, &rows);
        let training_data_hash = sha256_of_floats(&[&inputs, &targets]);
        let classify = matches!(target_encoding, ColumnEncoding::Categorical { .. });
        let (network, epoch_losses) = fit_network(
            config,
            &Targets {
                values: &targets,
                outputs,
                classify,
            },
            &inputs,
            &feature_spans(&predictors),
            &mut rng,
        )?;
        let mut model = TrainedImputer {
            config: config.clone(),
            target: target.to_string(),
            target_encoding,
            predictors,
            network,
            metrics: ImputerMetrics {
                training_rows: rows.len(),
                held_out_rows: held_out.len(),
                rmse: None,
                rmse_without: Vec::new(),
                rmse_missing: Vec::new(),
                target_std: None,
                accuracy: None,
                first_epoch_loss: epoch_losses.first().copied().unwrap_or(f32::NAN),
                last_epoch_loss: epoch_losses.last().copied().unwrap_or(f32::NAN),
            },
            training_data_hash,
        };
        model.measure(table, &held_out)?;
        tracing::debug!(
            target,
            rows = model.metrics.training_rows,
            rmse = model.metrics.rmse,
            accuracy = model.metrics.accuracy,
            "trained imputer"
        );
        Ok(model)
    }

    /// Predicts every missing value of the target column in `table`, which must hold the
    /// predictor columns the model was trained with (other columns are ignored).
    pub fn impute(&self, table: &ImputationTable) -> Result<Vec<Imputation>> {
        let target = table.column(&self.target)?;
        let rows: Vec<usize> = (0..table.num_rows())
            .filter(|&row| !target.values.is_present(row))
            .collect();
        self.predict_rows(table, &rows)
    }

    /// Predicts the target for the rows at `rows`, whether or not the target is present there.
    pub fn predict_rows(&self, table: &ImputationTable, rows: &[usize]) -> Result<Vec<Imputation>> {
        for (name, _) in &self.predictors {
            table.column(name)?;
        }
        if let Some(&row) = rows.iter().find(|&&row| row >= table.num_rows()) {
            return Err(Error::InvalidInput(format!(
                "row {row} is beyond the table's {} rows",
                table.num_rows()
            )));
        }
        let device = self.config.device.device();
        let width = self.width();
        let spans = feature_spans(&self.predictors);
        let mut imputations = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(PREDICT_CHUNK_ROWS) {
            let inputs = encode_rows(&self.predictors, table, chunk);
            let missing: Vec<Vec<usize>> = inputs
                .chunks(width)
                .map(|row| sparse::missing_predictors(row, &spans))
                .collect();
            let input =
                Tensor::<2>::from_data(TensorData::new(inputs, [chunk.len(), width]), &device);
            let output = self.network.forward(input);
            match &self.target_encoding {
                ColumnEncoding::Numeric { mean, std } => {
                    let values = read_values(output)?;
                    for ((&row, value), missing) in chunk.iter().zip(values).zip(&missing) {
                        imputations.push(Imputation {
                            row,
                            value: ImputedValue::Number(f64::from(value) * std + mean),
                            confidence: self.regression_confidence(missing),
                        });
                    }
                }
                ColumnEncoding::Categorical { categories } => {
                    let probabilities = read_values(softmax(output, 1))?;
                    for (&row, row_probabilities) in
                        chunk.iter().zip(probabilities.chunks(categories.len()))
                    {
                        let (class, probability) = argmax(row_probabilities);
                        imputations.push(Imputation {
                            row,
                            value: ImputedValue::Category(categories[class].clone()),
                            confidence: probability,
                        });
                    }
                }
            }
        }
        Ok(imputations)
    }

    /// Returns the target column's name.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Returns the predictor columns' names, in table order.
    pub fn predictors(&self) -> Vec<&str> {
        self.predictors
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Returns the hex SHA-256 of the encoded training inputs and targets, which identifies
    /// the model together with its config.
    pub fn training_data_hash(&self) -> &str {
        &self.training_data_hash
    }

    /// Returns the held-out measures.
    pub fn metrics(&self) -> &ImputerMetrics {
        &self.metrics
    }

    fn width(&self) -> usize {
        self.predictors
            .iter()
            .map(|(_, encoding)| encoding.width())
            .sum()
    }

    /// Returns the confidence of a numeric imputation whose row misses the predictors at
    /// `missing`: `1 - rmse / std` with the error measured with that predictor hidden, or
    /// with that many hidden at random ([`sparse::error_with_missing`]), or with none for a
    /// model saved without those errors.
    fn regression_confidence(&self, missing: &[usize]) -> f32 {
        let measured = match missing {
            [] => None,
            [only] => self.metrics.rmse_without.get(*only).copied(),
            more => sparse::error_with_missing(&self.metrics.rmse_missing, more.len()),
        };
        match (measured.or(self.metrics.rmse), self.metrics.target_std) {
            (Some(rmse), Some(std)) if std > 0.0 => (1.0 - rmse / std).clamp(0.0, 1.0) as f32,
            _ => 0.0,
        }
    }

    /// Measures the model on the held-out rows and stores the figures in `metrics`.
    fn measure(&mut self, table: &ImputationTable, held_out: &[usize]) -> Result<()> {
        let values = &table.column(&self.target)?.values;
        let predictions = self.predict_rows(table, held_out)?;
        match (&self.target_encoding, values) {
            (ColumnEncoding::Numeric { std, .. }, ColumnValues::Numeric(numbers)) => {
                let squared: f64 = predictions
                    .iter()
                    .filter_map(|prediction| match prediction.value {
                        ImputedValue::Number(value) => {
                            numbers[prediction.row].map(|actual| (value - actual).powi(2))
                        }
                        ImputedValue::Category(_) => None,
                    })
                    .sum();
                self.metrics.rmse = Some((squared / predictions.len().max(1) as f64).sqrt());
                self.metrics.target_std = Some(*std);
                self.measure_missing(table, held_out, numbers, *std)?;
            }
            (ColumnEncoding::Categorical { .. }, ColumnValues::Categorical(labels)) => {
                let right = predictions
                    .iter()
                    .filter(|prediction| match &prediction.value {
                        ImputedValue::Category(label) => {
                            labels[prediction.row].as_ref() == Some(label)
                        }
                        ImputedValue::Number(_) => false,
                    })
                    .count();
                self.metrics.accuracy = Some(right as f64 / predictions.len().max(1) as f64);
            }
            _ => {
                return Err(Error::Internal(
                    "target encoding does not match the target column's kind".into(),
                ));
            }
        }
        Ok(())
    }
}

impl TrainedImputer {
    /// Measures the error on the held-out rows with each predictor hidden alone and with the
    /// counts of [`sparse::measured_counts`] hidden at random, into `metrics`.
    fn measure_missing(
        &mut self,
        table: &ImputationTable,
        held_out: &[usize],
        numbers: &[Option<f64>],
        std: f64,
    ) -> Result<()> {
        let ColumnEncoding::Numeric { mean, .. } = &self.target_encoding else {
            return Ok(());
        };
        let rows: Vec<usize> = held_out
            .iter()
            .copied()
            .filter(|&row| numbers[row].is_some())
            .collect();
        let actual: Vec<f32> = rows
            .iter()
            .filter_map(|&row| numbers[row].map(|value| ((value - mean) / std) as f32))
            .collect();
        let inputs = encode_rows(&self.predictors, table, &rows);
        let spans = feature_spans(&self.predictors);
        let device = self.config.device.device();
        let score = |hidden: sparse::Hidden| {
            sparse::rmse_with_hidden(&self.network, &device, &inputs, &actual, &spans, hidden)
                .map(|standardised| standardised * std)
        };
        self.metrics.rmse_without = (0..spans.len())
            .map(|index| score(sparse::Hidden::One(index)))
            .collect::<Result<_>>()?;
        let mut measured = vec![None; spans.len().saturating_sub(1)];
        for count in sparse::measured_counts(spans.len()) {
            let seed = self.config.seed.wrapping_add(count as u64);
            measured[count - 2] = Some(score(sparse::Hidden::Random { count, seed })?);
        }
        self.metrics.rmse_missing = measured;
        Ok(())
    }
}

/// The training targets of a network: row-major values, `outputs` per row.
struct Targets<'a> {
    values: &'a [f32],
    outputs: usize,
    /// Whether the values are one-hot classes (cross-entropy) rather than numbers (squared error).
    classify: bool,
}

/// The features of one predictor column: where they start, how many, and whether the column
/// is numeric (value and missing flag) rather than a one-hot block.
struct FeatureSpan {
    start: usize,
    width: usize,
    numeric: bool,
}

fn feature_spans(predictors: &[(String, ColumnEncoding)]) -> Vec<FeatureSpan> {
    let mut start = 0;
    predictors
        .iter()
        .map(|(_, encoding)| {
            let span = FeatureSpan {
                start,
                width: encoding.width(),
                numeric: matches!(encoding, ColumnEncoding::Numeric { .. }),
            };
            start += span.width;
            span
        })
        .collect()
}

/// Hides each predictor of each row of row-major `inputs` with probability `dropout`, encoding
/// it as missing.
fn hide_predictors(
    inputs: &mut [f32],
    width: usize,
    spans: &[FeatureSpan],
    dropout: f64,
    rng: &mut ChaCha8Rng,
) {
    if dropout <= 0.0 {
        return;
    }
    for row in inputs.chunks_mut(width) {
        for span in spans {
            if !rng.random_bool(dropout) {
                continue;
            }
            row[span.start..span.start + span.width].fill(0.0);
            if span.numeric {
                row[span.start + 1] = 1.0;
            }
        }
    }
}

/// Returns the number of network outputs for a target encoding.
fn output_width(encoding: &ColumnEncoding) -> usize {
    match encoding {
        ColumnEncoding::Numeric { .. } => 1,
        ColumnEncoding::Categorical { categories } => categories.len(),
    }
}

/// Encodes the predictors of `rows` as row-major features; an absent predictor column
/// encodes as zeros.
fn encode_rows(
    predictors: &[(String, ColumnEncoding)],
    table: &ImputationTable,
    rows: &[usize],
) -> Vec<f32> {
    let columns: Vec<Option<&TableColumn>> = predictors
        .iter()
        .map(|(name, _)| table.column(name).ok())
        .collect();
    let width: usize = predictors
        .iter()
        .map(|(_, encoding)| encoding.width())
        .sum();
    let mut out = Vec::with_capacity(rows.len() * width);
    for &row in rows {
        for ((_, encoding), column) in predictors.iter().zip(&columns) {
            match column {
                Some(column) => encoding.encode(&column.values, row, &mut out),
                None => out.resize(out.len() + encoding.width(), 0.0),
            }
        }
    }
    out
}

/// Returns the training rows that have an encodable target (a categorical target may be
/// rarer than the kept categories), with the targets as row-major values: a standardised
/// number or a one-hot class.
fn training_targets(
    encoding: &ColumnEncoding,
    values: &ColumnValues,
    training: &[usize],
) -> (Vec<usize>, Vec<f32>) {
    let mut rows = Vec::with_capacity(training.len());
    let mut targets = Vec::with_capacity(training.len() * output_width(encoding));
    for &row in training {
        let encodable = match encoding {
            ColumnEncoding::Numeric { .. } => true,
            ColumnEncoding::Categorical { .. } => encoding.class_of(values, row).is_some(),
        };
        if encodable {
            rows.push(row);
            encoding.encode_target(values, row, &mut targets);
        }
    }
    (rows, targets)
}

/// Runs mini-batch Adam and returns the trained network with the mean batch loss of each
/// epoch.
fn fit_network(
    config: &ImputerConfig,
    targets: &Targets<'_>,
    inputs: &[f32],
    spans: &[FeatureSpan],
    rng: &mut ChaCha8Rng,
) -> Result<(ImputerNetwork, Vec<f32>)> {
    let width: usize = spans.iter().map(|span| span.width).sum();
    let outputs = targets.outputs;
    let rows = inputs.len() / width;

    let device = config.device.training_device();
    // The weights come from our own RNG; seeding the backend as well keeps any random
    // operation a backend might add reproducible.
    device.seed(config.seed);
    let mut network = ImputerNetwork::new(width, config.hidden, outputs, config.seed, &device);
    let mut optimizer = AdamConfig::new().init();
    let mut order: Vec<usize> = (0..rows).collect();
    let mut last_loss = 0.0f32;
    let mut epoch_losses = Vec::with_capacity(config.epochs);

    for _ in 0..config.epochs {
        order.shuffle(rng);
        let mut loss_sum = 0.0f32;
        let mut batches = 0usize;
        for batch in order.chunks(config.batch_size) {
            let mut batch_inputs = Vec::with_capacity(batch.len() * width);
            let mut batch_targets = Vec::with_capacity(batch.len() * outputs);
            for &row in batch {
                batch_inputs.extend_from_slice(&inputs[row * width..(row + 1) * width]);
                batch_targets
                    .extend_from_slice(&targets.values[row * outputs..(row + 1) * outputs]);
            }
            hide_predictors(
                &mut batch_inputs,
                width,
                spans,
                config.predictor_dropout,
                rng,
            );

            let input = Tensor::<2>::from_data(
                TensorData::new(batch_inputs, [batch.len(), width]),
                &device,
            );
            let target = Tensor::<2>::from_data(
                TensorData::new(batch_targets, [batch.len(), outputs]),
                &device,
            );
            let output = network.forward(input);
            let loss = if targets.classify {
                (log_softmax(output, 1) * target)
                    .sum()
                    .neg()
                    .div_scalar(batch.len() as f32)
            } else {
                (output - target).square().mean()
            };

            let gradients = GradientsParams::from_grads(loss.backward(), &network);
            last_loss = loss
                .try_into_scalar()
                .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
            loss_sum += last_loss;
            batches += 1;
            network = optimizer.step(config.learning_rate, network, gradients);
        }
        epoch_losses.push(loss_sum / batches.max(1) as f32);
    }

    if !last_loss.is_finite() {
        return Err(Error::InvalidInput(format!(
            "training diverged to a loss of {last_loss}; lower learning_rate (now {})",
            config.learning_rate
        )));
    }
    Ok((network.valid(), epoch_losses))
}

fn read_values(tensor: Tensor<2>) -> Result<Vec<f32>> {
    tensor
        .try_into_data()
        .map_err(|error| Error::Internal(format!("reading predictions failed: {error:?}")))?
        .try_into_vec::<f32>()
        .map_err(|error| Error::Internal(format!("predictions are not f32: {error:?}")))
}

/// Returns the index and value of the largest entry; the first on ties.
fn argmax(values: &[f32]) -> (usize, f32) {
    values
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (index, value)| {
            if value > best.1 { (index, value) } else { best }
        })
}

#[cfg(test)]
mod tests;
