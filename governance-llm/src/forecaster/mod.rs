//! A global quantile forecaster for hourly series, such as PM2.5 at many stations or traffic
//! volume on a road.
//!
//! One network serves every series. Its input is a window of the last `lags` hours of the
//! target plus calendar, covariate and series features (see [`series`] for the layout). Its
//! output is the median and a central prediction interval of the value `horizon` hours after
//! the window. It is trained with the pinball (quantile) loss, with early stopping on
//! held-out hours chosen by [`ValidationSplit`].
//!
//! # Interval calibration
//!
//! Raw quantile networks often cover less than their nominal level out of sample. With
//! `calibrate` on, the interval is widened or narrowed by split conformal prediction in its
//! quantile-regression form (Romano, Patterson and Candès, "Conformalized Quantile
//! Regression", 2019): on calibration windows that training never saw, each window's score is
//! how far its value lies outside the raw interval (negative inside), and the interval is
//! moved outwards by the `ceil((n + 1) * level) / n` empirical quantile of those scores, in
//! model units. The held-out days are split between calibration and early stopping (see
//! [`ValidationSplit`]), so no window is used for both.
//!
//! NOTE: the guarantee of split conformal prediction assumes exchangeable windows; hourly
//! series are autocorrelated and drift by season, so the coverage on later years is an
//! estimate that the benchmark measures, not a guarantee.
//!
//! # Missing values
//!
//! A training window is skipped when its target value is missing or when it has more than
//! `max_missing_lags` missing lags; [`ForecastTrainingMetrics`] counts both. Shorter gaps are
//! filled and marked (see [`series`]), and a missing covariate is imputed with its mean and
//! marked by a mask feature.

mod derived;
mod network;
mod quantiles;
pub mod series;
mod split;
mod train;
mod upwind;

use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::backend::DeviceConfig;
use crate::registry::{ModelCard, ModelMeta, ModelMetrics, RegisteredModel, save_module};
use crate::{Error, Result};

pub use derived::DerivedCovariates;
pub use network::{ForecastEnsemble, ForecastNetwork};
pub use quantiles::QuantileForecast;
pub use series::{ForecastWindow, HOUR_MS, HourlySeries, SeriesSet, TargetTransform};
pub use split::ValidationSplit;
pub use upwind::{SeriesPosition, UpwindMean};

use series::FeatureLayout;

/// The `kind` of [`TrainedForecaster`] in `meta.json`.
pub const FORECASTER_KIND: &str = "quantile_forecaster";

/// Windows predicted per forward pass, which bounds the memory of large predictions.
const PREDICT_CHUNK_ROWS: usize = 8192;

/// Configuration of the forecaster and of its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForecasterConfig {
    /// Hours of the target in each input window.
    pub lags: usize,
    /// Hours from the last hour of a window to the forecast time.
    pub horizon: usize,
    /// Further horizons whose windows join the training windows only, with the horizon as an
    /// input feature; early stopping, calibration and prediction use `horizon` alone. Empty:
    /// the network has no horizon input.
    pub auxiliary_horizons: Vec<usize>,
    /// Nominal coverage of the prediction interval, in `(0, 1)`; 0.8 trains the 0.1 and 0.9
    /// quantiles.
    pub interval_level: f64,
    /// Whether the target goes through `ln(1 + y)` before standardising; suits skewed,
    /// non-negative values such as concentrations and counts.
    pub log_transform: bool,
    /// Most missing lags a window may have; windows with more are skipped in training and
    /// get no forecast.
    pub max_missing_lags: usize,
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Largest number of passes over the training windows.
    pub epochs: usize,
    /// Epochs without a better validation loss before training stops.
    pub patience: usize,
    /// Windows per optimisation step.
    pub batch_size: usize,
    /// Adam learning rate (of the first epoch, under `cosine_decay`).
    pub learning_rate: f64,
    /// Whether the learning rate falls along a half cosine over `epochs`, from
    /// `learning_rate` to a twentieth of it in the last epoch.
    pub cosine_decay: bool,
    /// Seed of the weight initialisation, the window sample and the shuffling.
    pub seed: u64,
    /// Largest number of training windows; more are sampled down to it.
    pub max_train_windows: usize,
    /// Share of the hours held out for early stopping and calibration. `validation` chooses
    /// the hours.
    pub validation_share: f64,
    /// Scheme that chooses the hours held out for early stopping and calibration.
    pub validation: ValidationSplit,
    /// Window lengths, in hours, over which the mean and maximum of the last lags enter as
    /// features; each at most `lags`. Empty: none.
    pub summary_hours: Vec<usize>,
    /// Covariate columns derived from the series set before training; a trained model
    /// derives the same ones in [`TrainedForecaster::prepare`].
    pub derived: DerivedCovariates,
    /// Networks trained with seeds `seed`, `seed + 1`, ...; the forecast averages their
    /// outputs in model units.
    pub ensemble_size: usize,
    /// Decoupled weight decay of the AdamW optimiser; 0 makes it plain Adam.
    pub weight_decay: f64,
    /// Probability, in `[0, 1)`, that a training step sets an input feature of a window to 0,
    /// which for the standardised lags and covariates is about their mean. Kept features are
    /// scaled by `1 / (1 - p)`, and forecasts use every feature. 0: off.
    pub input_dropout: f64,
    /// Whether the interval is calibrated by split conformal prediction; see the module docs.
    pub calibrate: bool,
    /// Whether the network predicts the change from the last lag of the window (filled, in
    /// model units) instead of the value itself. The forecast adds the last lag back.
    pub residual_target: bool,
    /// Device to train and predict on.
    pub device: DeviceConfig,
}

impl Default for ForecasterConfig {
    fn default() -> Self {
        ForecasterConfig {
            lags: 48,
            horizon: 24,
            auxiliary_horizons: Vec::new(),
            interval_level: 0.8,
            log_transform: true,
            max_missing_lags: 6,
            hidden: vec![64, 32],
            epochs: 30,
            patience: 4,
            batch_size: 256,
            learning_rate: 0.002,
            cosine_decay: false,
            seed: 42,
            max_train_windows: 400_000,
            validation_share: 0.15,
            validation: ValidationSplit::RandomDays,
            summary_hours: Vec::new(),
            derived: DerivedCovariates::default(),
            ensemble_size: 1,
            weight_decay: 0.0,
            input_dropout: 0.0,
            calibrate: true,
            residual_target: false,
            device: DeviceConfig::Cpu,
        }
    }
}

impl ForecasterConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("lags", self.lags),
            ("horizon", self.horizon),
            ("epochs", self.epochs),
            ("patience", self.patience),
            ("batch_size", self.batch_size),
            ("max_train_windows", self.max_train_windows),
            ("ensemble_size", self.ensemble_size),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(Error::Config(format!(
                    "{field} is 0; it must be at least 1"
                )));
            }
        }
        if let Some(hours) = self
            .auxiliary_horizons
            .iter()
            .find(|&&hours| hours == 0 || hours == self.horizon)
        {
            return Err(Error::Config(format!(
                "auxiliary_horizons contains {hours}; each must be at least 1 and differ from \
                 horizon ({})",
                self.horizon
            )));
        }
        if self.hidden.contains(&0) {
            return Err(Error::Config(format!(
                "hidden is {:?}; every layer width must be at least 1",
                self.hidden
            )));
        }
        if self.max_missing_lags >= self.lags {
            return Err(Error::Config(format!(
                "max_missing_lags is {} but lags is {}; allow fewer missing lags than lags",
                self.max_missing_lags, self.lags
            )));
        }
        if !(self.interval_level > 0.0 && self.interval_level < 1.0) {
            return Err(Error::Config(format!(
                "interval_level is {}; it must lie strictly between 0 and 1, such as 0.8",
                self.interval_level
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning_rate is {}; it must be a positive number such as 0.002",
                self.learning_rate
            )));
        }
        if let Some(hours) = self
            .summary_hours
            .iter()
            .find(|&&hours| hours == 0 || hours > self.lags)
        {
            return Err(Error::Config(format!(
                "summary_hours contains {hours}, but each must lie between 1 and lags ({})",
                self.lags
            )));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::Config(format!(
                "weight_decay is {}; it must be 0 or a positive number such as 0.0001",
                self.weight_decay
            )));
        }
        if !(0.0..1.0).contains(&self.input_dropout) {
            return Err(Error::Config(format!(
                "input_dropout is {}; it must be at least 0 and below 1, such as 0.1",
                self.input_dropout
            )));
        }
        if !(self.validation_share > 0.0 && self.validation_share < 0.5) {
            return Err(Error::Config(format!(
                "validation_share is {}; it must lie strictly between 0 and 0.5, such as 0.15",
                self.validation_share
            )));
        }
        Ok(())
    }

    /// Returns the quantile levels of the lower end, the median and the upper end.
    pub fn quantile_levels(&self) -> [f64; 3] {
        let tail = (1.0 - self.interval_level) / 2.0;
        [tail, 0.5, 1.0 - tail]
    }
}

/// Training record: losses, epochs, window counts and the calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastTrainingMetrics {
    /// Mean pinball loss on the training windows before the first step, in model units.
    pub initial_loss: f32,
    /// Mean pinball loss on the training windows with the kept weights.
    pub final_loss: f32,
    /// Mean pinball loss on the early-stopping windows with the kept weights of the whole
    /// ensemble.
    pub validation_loss: f32,
    /// Epochs run before training of the first network stopped.
    pub epochs_run: usize,
    /// Epoch whose weights were kept, from 1, for the first network of the ensemble.
    pub best_epoch: usize,
    /// Epoch whose weights were kept, for each network of the ensemble.
    #[serde(default)]
    pub best_epochs: Vec<usize>,
    /// Mean training loss of each epoch of the first network, as seen during the epoch.
    pub epoch_losses: Vec<f32>,
    /// Training windows used, after sampling.
    pub train_windows: usize,
    /// Training windows available before sampling.
    pub train_windows_available: usize,
    /// Early-stopping windows.
    pub validation_windows: usize,
    /// Calibration windows.
    pub calibration_windows: usize,
    /// Windows skipped because the value to forecast is missing.
    pub skipped_missing_target: usize,
    /// Windows skipped because more than `max_missing_lags` lags are missing.
    pub skipped_missing_lags: usize,
    /// Share of calibration windows inside the raw interval.
    pub raw_calibration_coverage: f32,
    /// Amount, in model units, by which each end of the interval moves outwards (negative:
    /// inwards); 0 without calibration.
    pub conformal_correction: f32,
}

/// The parts of a trained forecaster besides its weights, stored in `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForecasterState {
    layout: FeatureLayout,
    metrics: ForecastTrainingMetrics,
}

/// A trained global quantile forecaster.
#[derive(Debug, Clone)]
pub struct TrainedForecaster {
    config: ForecasterConfig,
    layout: FeatureLayout,
    network: ForecastEnsemble,
    metrics: ForecastTrainingMetrics,
    training_data_hash: String,
}

impl TrainedForecaster {
    /// Trains a forecaster on every series of `data`; see the module docs for the windows,
    /// the split and the calibration.
    ///
    /// # Errors
    /// An invalid config, invalid series (see [`SeriesSet`]), or too few usable windows for
    /// training, early stopping or calibration.
    pub fn train(config: &ForecasterConfig, data: &SeriesSet) -> Result<Self> {
        train::train(config, data)
    }

    /// Forecasts each window. A window with more than `max_missing_lags` missing lags gets
    /// `None`.
    ///
    /// # Errors
    /// A window whose lag or covariate count differs from the model's, or with an infinite
    /// value or, under a log transform, a negative lag.
    pub fn predict(&self, windows: &[ForecastWindow]) -> Result<Vec<Option<QuantileForecast>>> {
        let width = self.layout.width();
        let mut rows = Vec::new();
        let mut encoded = Vec::with_capacity(windows.len());
        for window in windows {
            self.check_window(window)?;
            let before = rows.len();
            let kept = self.layout.encode(window, &mut rows);
            debug_assert!(!kept || rows.len() == before + width);
            encoded.push(kept);
        }
        let raw = self.forward_rows(&rows)?;
        let level = self.config.interval_level as f32;
        let correction = self.metrics.conformal_correction;
        let mut outputs = raw.chunks_exact(3).zip(rows.chunks_exact(width));
        let mut forecasts = Vec::with_capacity(windows.len());
        for kept in encoded {
            if !kept {
                forecasts.push(None);
                continue;
            }
            let (values, row) = outputs.next().ok_or_else(|| {
                Error::Internal("the network returned fewer rows than it was given".into())
            })?;
            let base = self.layout.target_base(row);
            let target = &self.layout.target;
            forecasts.push(Some(QuantileForecast {
                lower: target.inverse(base + (values[0] - correction).min(values[1])),
                median: target.inverse(base + values[1]),
                upper: target.inverse(base + (values[2] + correction).max(values[1])),
                level,
            }));
        }
        Ok(forecasts)
    }

    /// Returns `data` with the covariate columns the model derives (see
    /// [`DerivedCovariates`]) appended; windows for [`TrainedForecaster::predict`] are cut
    /// from the result with [`HourlySeries::window`]. Without derived covariates this is a
    /// copy of `data`. Cross-series columns need the other series over the same hours.
    ///
    /// # Errors
    /// Covariate names that differ from those the model was trained on.
    pub fn prepare(&self, data: &SeriesSet) -> Result<SeriesSet> {
        let expected = if self.layout.input_covariate_names.is_empty() {
            &self.layout.covariate_names
        } else {
            &self.layout.input_covariate_names
        };
        if data.covariate_names != *expected {
            return Err(Error::InvalidInput(format!(
                "the series have covariates [{}] but the model was trained on [{}]; pass the \
                 same columns in the same order",
                data.covariate_names.join(", "),
                expected.join(", ")
            )));
        }
        self.config
            .derived
            .apply(data, &self.layout.series_names, self.layout.target.log)
    }

    /// Returns the estimated probability that the forecast value is above `limit`; see
    /// [`QuantileForecast::exceedance_probability`].
    pub fn exceedance_probability(&self, forecast: &QuantileForecast, limit: f32) -> f64 {
        forecast.exceedance_probability(limit, &self.layout.target)
    }

    fn check_window(&self, window: &ForecastWindow) -> Result<()> {
        if window.lags.len() != self.layout.lags {
            return Err(Error::InvalidInput(format!(
                "window of series {:?} has {} lags but the model takes {}",
                window.series,
                window.lags.len(),
                self.layout.lags
            )));
        }
        if window.covariates.len() != self.layout.covariate_names.len() {
            return Err(Error::InvalidInput(format!(
                "window of series {:?} has {} covariates but the model takes [{}]; cut windows \
                 from the output of TrainedForecaster::prepare",
                window.series,
                window.covariates.len(),
                self.layout.covariate_names.join(", ")
            )));
        }
        if let Some(value) = window.covariates.iter().find(|value| value.is_infinite()) {
            return Err(Error::InvalidInput(format!(
                "window of series {:?} has covariate value {value}; use NaN for a missing value",
                window.series
            )));
        }
        series::check_target(&window.series, &window.lags, self.layout.target.log)
    }

    /// Runs the network over feature rows and returns three values per row, in model units.
    pub(crate) fn forward_rows(&self, rows: &[f32]) -> Result<Vec<f32>> {
        forward_rows(
            &|input| self.network.forward(input),
            rows,
            self.layout.width(),
            &self.config.device.device(),
        )
    }

    /// Returns the configuration the model was trained with.
    pub fn config(&self) -> &ForecasterConfig {
        &self.config
    }

    /// Returns the losses, window counts and calibration of training.
    pub fn metrics(&self) -> &ForecastTrainingMetrics {
        &self.metrics
    }

    /// Returns the lags per window.
    pub fn lags(&self) -> usize {
        self.layout.lags
    }

    /// Returns the hours from a window's last hour to its forecast time.
    pub fn horizon(&self) -> usize {
        self.layout.horizon
    }

    /// Returns the covariate names, in the order windows give them.
    pub fn covariate_names(&self) -> &[String] {
        &self.layout.covariate_names
    }

    /// Returns the names of the series the model was trained on.
    pub fn series_names(&self) -> &[String] {
        &self.layout.series_names
    }

    /// Returns the transform of target values into model units.
    pub fn target_transform(&self) -> &TargetTransform {
        &self.layout.target
    }

    /// Returns the feature names, in input order.
    pub fn feature_names(&self) -> Vec<String> {
        self.layout.feature_names()
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        save_module(&self.network, path, FORECASTER_KIND)
    }
}

/// Runs `network` over feature rows of `width` features, in chunks, and returns three values
/// per row.
pub(crate) fn forward_rows(
    network: &dyn Fn(Tensor<2>) -> Tensor<2>,
    rows: &[f32],
    width: usize,
    device: &burn::tensor::Device,
) -> Result<Vec<f32>> {
    let mut values = Vec::with_capacity(rows.len() / width.max(1) * 3);
    for chunk in rows.chunks(PREDICT_CHUNK_ROWS * width) {
        let count = chunk.len() / width;
        let input = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [count, width]), device);
        let output = network(input)
            .try_into_data()
            .map_err(|error| Error::Internal(format!("reading forecasts failed: {error:?}")))?
            .try_into_vec::<f32>()
            .map_err(|error| Error::Internal(format!("forecasts are not f32: {error:?}")))?;
        values.extend(output);
    }
    Ok(values)
}

impl RegisteredModel for TrainedForecaster {
    const KIND: &'static str = FORECASTER_KIND;

    fn card(&self) -> Result<ModelCard> {
        let to_json = |value: serde_json::Result<serde_json::Value>| {
            value
                .map_err(|error| Error::Internal(format!("model record not serialisable: {error}")))
        };
        let state = ForecasterState {
            layout: self.layout.clone(),
            metrics: self.metrics.clone(),
        };
        Ok(ModelCard {
            training_data_hash: self.training_data_hash.clone(),
            training_rows: self.metrics.train_windows,
            columns: self.layout.feature_names(),
            standardization: None,
            metrics: ModelMetrics {
                final_loss: self.metrics.final_loss,
                threshold: None,
            },
            config: to_json(serde_json::to_value(&self.config))?,
            training: to_json(serde_json::to_value(&state))?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        TrainedForecaster::save_weights(self, path)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let context =
            |what: &str| format!("model {:?} version {}: {what}", meta.name, meta.version);
        let config: ForecasterConfig = serde_json::from_value(meta.card.config.clone())
            .map_err(|error| Error::InvalidInput(context(&format!("invalid config: {error}"))))?;
        config.validate()?;
        let state: ForecasterState =
            serde_json::from_value(meta.card.training.clone()).map_err(|error| {
                Error::InvalidInput(context(&format!("invalid training record: {error}")))
            })?;
        let layout = state.layout;
        if layout.covariates.mean.len() != layout.covariate_names.len()
            || layout.covariates.std.len() != layout.covariate_names.len()
        {
            return Err(Error::InvalidInput(context(
                "the covariate scaling does not match the covariate names",
            )));
        }
        let device = config.device.device();
        let mut network = ForecastEnsemble::new(
            layout.width(),
            &config.hidden,
            config.ensemble_size,
            config.seed,
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
        Ok(TrainedForecaster {
            config,
            layout,
            network,
            metrics: state.metrics,
            training_data_hash: meta.card.training_data_hash.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
