//! Training of the forecaster: windows, the split, the fit with early stopping and the
//! conformal calibration.

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::network::{ForecastEnsemble, ForecastNetwork, pinball_loss};
use super::series::{
    CovariateScaling, FeatureLayout, HOUR_MS, HourlySeries, SeriesSet, TargetTransform, mean_std,
};
use super::split::{Part, Splitter};
use super::{ForecastTrainingMetrics, ForecasterConfig, TrainedForecaster, forward_rows};
use crate::{Error, Result};

/// Feature rows and their targets in model units.
#[derive(Debug, Default)]
struct Windows {
    rows: Vec<f32>,
    targets: Vec<f32>,
}

impl Windows {
    fn len(&self) -> usize {
        self.targets.len()
    }
}

/// The windows of a series set, split by time.
#[derive(Debug, Default)]
struct SplitWindows {
    train: Windows,
    validation: Windows,
    calibration: Windows,
    skipped_missing_target: usize,
    skipped_missing_lags: usize,
}

pub(super) fn train(config: &ForecasterConfig, data: &SeriesSet) -> Result<TrainedForecaster> {
    config.validate()?;
    data.validate(config.log_transform)?;
    let series_names: Vec<String> = data.series.iter().map(|one| one.name.clone()).collect();
    let prepared = config
        .derived
        .apply(data, &series_names, config.log_transform)?;
    let mut layout = fit_layout(config, &prepared);
    layout.input_covariate_names = data.covariate_names.clone();
    let width = layout.width();
    let mut windows = cut_windows(config, &prepared, &layout);
    let available = windows.train.len();
    for (set, what) in [
        (&windows.train, "training"),
        (&windows.validation, "early-stopping"),
        (&windows.calibration, "calibration"),
    ] {
        if set.len() == 0 {
            return Err(Error::InvalidInput(format!(
                "no {what} windows: the series are too short or too gappy for lags = {}, \
                 horizon = {}, validation = {:?} and validation_share = {} ({} windows \
                 skipped for a missing target, {} for missing lags); pass longer series, or \
                 for a few weeks of data raise validation_share or use the tail split",
                config.lags,
                config.horizon,
                config.validation,
                config.validation_share,
                windows.skipped_missing_target,
                windows.skipped_missing_lags
            )));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    if available > config.max_train_windows {
        windows.train = sample(&windows.train, width, config.max_train_windows, &mut rng);
    }
    tracing::info!(
        train = windows.train.len(),
        available,
        validation = windows.validation.len(),
        calibration = windows.calibration.len(),
        skipped_missing_target = windows.skipped_missing_target,
        skipped_missing_lags = windows.skipped_missing_lags,
        features = width,
        "forecaster windows"
    );

    let levels = config.quantile_levels();
    let inference = config.device.device();
    let mut members = Vec::with_capacity(config.ensemble_size);
    let mut fits = Vec::with_capacity(config.ensemble_size);
    for member in 0..config.ensemble_size {
        let seed = config.seed.wrapping_add(member as u64);
        let (network, fit) = fit_network(config, seed, member, &windows, width)?;
        members.push(network);
        fits.push(fit);
    }
    let network = ForecastEnsemble::from_members(members);
    let ensemble_forward = |input| network.forward(input);
    let final_loss = mean_loss(&ensemble_forward, &windows.train, width, levels, &inference)?;
    let validation_loss = mean_loss(
        &ensemble_forward,
        &windows.validation,
        width,
        levels,
        &inference,
    )?;
    let (raw_calibration_coverage, conformal_correction) = calibrate(
        &ensemble_forward,
        &windows.calibration,
        width,
        config,
        &inference,
    )?;
    let first = fits.first().cloned().unwrap_or_default();
    tracing::info!(
        best_epochs = ?fits.iter().map(|fit| fit.best_epoch).collect::<Vec<_>>(),
        validation_loss,
        raw_calibration_coverage,
        conformal_correction,
        "trained forecaster"
    );
    let metrics = ForecastTrainingMetrics {
        initial_loss: first.initial_loss,
        final_loss,
        validation_loss,
        epochs_run: first.epoch_losses.len(),
        best_epoch: first.best_epoch,
        best_epochs: fits.iter().map(|fit| fit.best_epoch).collect(),
        epoch_losses: first.epoch_losses,
        train_windows: windows.train.len(),
        train_windows_available: available,
        validation_windows: windows.validation.len(),
        calibration_windows: windows.calibration.len(),
        skipped_missing_target: windows.skipped_missing_target,
        skipped_missing_lags: windows.skipped_missing_lags,
        raw_calibration_coverage,
        conformal_correction: if config.calibrate {
            conformal_correction
        } else {
            0.0
        },
    };
    Ok(TrainedForecaster {
        config: config.clone(),
        training_data_hash: hash_windows(&windows.train),
        layout,
        network,
        metrics,
    })
}

/// Record of fitting one network of the ensemble.
#[derive(Debug, Clone, Default)]
struct NetworkFit {
    initial_loss: f32,
    best_epoch: usize,
    epoch_losses: Vec<f32>,
}

/// Trains one network with its own seed and keeps the weights of the epoch with the lowest
/// early-stopping loss.
fn fit_network(
    config: &ForecasterConfig,
    seed: u64,
    member: usize,
    windows: &SplitWindows,
    width: usize,
) -> Result<(ForecastNetwork, NetworkFit)> {
    let levels = config.quantile_levels();
    let inference = config.device.device();
    let device = config.device.training_device();
    device.seed(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5E_ED0F_0AD3);
    let mut network = ForecastNetwork::new(width, &config.hidden, seed, &device);
    let initial_loss = {
        let valid = network.valid();
        mean_loss(
            &|input| valid.forward(input),
            &windows.train,
            width,
            levels,
            &inference,
        )?
    };
    let mut optimizer = AdamWConfig::new()
        .with_weight_decay(config.weight_decay as f32)
        .init();
    let mut order: Vec<usize> = (0..windows.train.len()).collect();
    let mut epoch_losses = Vec::new();
    let mut best: Option<(f32, usize, ForecastNetwork)> = None;
    let mut since_best = 0;
    let mut batch_rows = Vec::with_capacity(config.batch_size * width);
    for epoch in 1..=config.epochs {
        let learning_rate = epoch_learning_rate(config, epoch);
        order.shuffle(&mut rng);
        let (mut loss_sum, mut rows_seen) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size) {
            batch_rows.clear();
            for &row in batch {
                batch_rows.extend_from_slice(&windows.train.rows[row * width..(row + 1) * width]);
            }
            drop_inputs(&mut batch_rows, config.input_dropout, &mut rng);
            let targets: Vec<f32> = batch
                .iter()
                .map(|&row| windows.train.targets[row])
                .collect();
            let input = Tensor::<2>::from_data(
                TensorData::new(batch_rows.clone(), [batch.len(), width]),
                &device,
            );
            let target =
                Tensor::<2>::from_data(TensorData::new(targets, [batch.len(), 1]), &device);
            let loss = pinball_loss(network.forward(input), target, levels);
            let gradients = GradientsParams::from_grads(loss.backward(), &network);
            let value: f32 = loss
                .try_into_scalar()
                .map_err(|error| Error::Internal(format!("reading the loss failed: {error:?}")))?;
            loss_sum += f64::from(value) * batch.len() as f64;
            rows_seen += batch.len();
            network = optimizer.step(learning_rate, network, gradients);
        }
        let epoch_loss = (loss_sum / rows_seen.max(1) as f64) as f32;
        if !epoch_loss.is_finite() {
            return Err(Error::InvalidInput(format!(
                "training diverged to a loss of {epoch_loss} in epoch {epoch}; lower \
                 learning_rate (now {})",
                config.learning_rate
            )));
        }
        epoch_losses.push(epoch_loss);
        let valid = network.valid();
        let validation_loss = mean_loss(
            &|input| valid.forward(input),
            &windows.validation,
            width,
            levels,
            &inference,
        )?;
        tracing::info!(
            member,
            epoch,
            train_loss = epoch_loss,
            validation_loss,
            "forecaster epoch"
        );
        if best
            .as_ref()
            .is_none_or(|(known, _, _)| validation_loss < *known)
        {
            best = Some((validation_loss, epoch, network.clone()));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= config.patience {
                break;
            }
        }
    }
    match best {
        Some((_, best_epoch, kept)) => Ok((
            kept.valid(),
            NetworkFit {
                initial_loss,
                best_epoch,
                epoch_losses,
            },
        )),
        None => Err(Error::Internal(
            "training ran no epoch although epochs is at least 1".into(),
        )),
    }
}

/// Sets each value of `rows` to 0 with probability `probability` and scales the others by
/// `1 / (1 - probability)`, so a feature's expected value is unchanged; see
/// [`ForecasterConfig::input_dropout`].
pub(super) fn drop_inputs(rows: &mut [f32], probability: f64, rng: &mut ChaCha8Rng) {
    if probability <= 0.0 {
        return;
    }
    let scale = (1.0 / (1.0 - probability)) as f32;
    for value in rows {
        *value = if rng.random_bool(probability) {
            0.0
        } else {
            *value * scale
        };
    }
}

/// Returns the learning rate of `epoch` (from 1); see [`ForecasterConfig::cosine_decay`].
pub(super) fn epoch_learning_rate(config: &ForecasterConfig, epoch: usize) -> f64 {
    if !config.cosine_decay || config.epochs < 2 {
        return config.learning_rate;
    }
    let progress = (epoch - 1) as f64 / (config.epochs - 1) as f64;
    let floor = 0.05;
    let share = floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    config.learning_rate * share
}

/// Fits the target transform and the covariate scaling on the hours that may fit them (see
/// [`Splitter::fits_scaling`]).
fn fit_layout(config: &ForecasterConfig, data: &SeriesSet) -> FeatureLayout {
    let splitter = |series: &HourlySeries| {
        Splitter::new(
            config.validation,
            config.validation_share,
            config.seed,
            series.values.len(),
        )
    };
    let warp = |value: f32| {
        if config.log_transform {
            value.ln_1p()
        } else {
            value
        }
    };
    let (mean, std) = mean_std(data.series.iter().flat_map(|series| {
        let splitter = splitter(series);
        series
            .values
            .iter()
            .enumerate()
            .filter(move |(hour, _)| splitter.fits_scaling(*hour))
            .map(move |(_, &value)| warp(value))
    }));
    let mut covariates = CovariateScaling {
        mean: Vec::new(),
        std: Vec::new(),
    };
    for column in 0..data.covariate_names.len() {
        let (mean, std) = mean_std(data.series.iter().flat_map(|series| {
            let splitter = splitter(series);
            series.covariates[column]
                .iter()
                .enumerate()
                .filter(move |(hour, _)| splitter.fits_scaling(*hour))
                .map(|(_, &value)| value)
        }));
        covariates.mean.push(mean);
        covariates.std.push(std);
    }
    FeatureLayout {
        lags: config.lags,
        horizon: config.horizon,
        max_missing_lags: config.max_missing_lags,
        target: TargetTransform {
            log: config.log_transform,
            mean,
            std,
        },
        covariate_names: data.covariate_names.clone(),
        covariates,
        series_names: data
            .series
            .iter()
            .map(|series| series.name.clone())
            .collect(),
        summary_hours: config.summary_hours.clone(),
        input_covariate_names: Vec::new(),
        residual: config.residual_target,
        horizon_input: !config.auxiliary_horizons.is_empty(),
    }
}

/// Cuts every window of every series and assigns it to training, early stopping or
/// calibration by the configured [`ValidationSplit`](super::ValidationSplit).
fn cut_windows(
    config: &ForecasterConfig,
    data: &SeriesSet,
    layout: &FeatureLayout,
) -> SplitWindows {
    let mut split = SplitWindows::default();
    for series in &data.series {
        let hours = series.values.len();
        if hours < config.lags + config.horizon {
            continue;
        }
        let splitter = Splitter::new(
            config.validation,
            config.validation_share,
            config.seed,
            hours,
        );
        for origin in config.lags - 1..hours - config.horizon {
            let target_hour = origin + config.horizon;
            let target_ms = series.start_ms + target_hour as i64 * HOUR_MS;
            let set = match splitter.part(origin, target_hour, target_ms) {
                Part::Excluded => continue,
                Part::Train => &mut split.train,
                Part::EarlyStopping => &mut split.validation,
                Part::Calibration => &mut split.calibration,
            };
            let value = series.values[target_hour];
            if value.is_nan() {
                split.skipped_missing_target += 1;
                continue;
            }
            let Some(window) = series.window(origin, config.lags) else {
                continue;
            };
            let start = set.rows.len();
            if layout.encode(&window, &mut set.rows) {
                let base = layout.target_base(&set.rows[start..]);
                set.targets.push(layout.target.forward(value) - base);
            } else {
                split.skipped_missing_lags += 1;
            }
        }
        for &horizon in &config.auxiliary_horizons {
            cut_auxiliary(config, series, layout, &splitter, horizon, &mut split.train);
        }
    }
    split
}

/// Appends the training windows of `series` for an auxiliary `horizon`. A window whose
/// forecast hour is held out is left out, so held-out values never become training targets.
fn cut_auxiliary(
    config: &ForecasterConfig,
    series: &HourlySeries,
    layout: &FeatureLayout,
    splitter: &Splitter,
    horizon: usize,
    train: &mut Windows,
) {
    let hours = series.values.len();
    if hours < config.lags + horizon {
        return;
    }
    for origin in config.lags - 1..hours - horizon {
        let target_hour = origin + horizon;
        let target_ms = series.start_ms + target_hour as i64 * HOUR_MS;
        if splitter.part(origin, target_hour, target_ms) != Part::Train {
            continue;
        }
        let value = series.values[target_hour];
        if value.is_nan() {
            continue;
        }
        let Some(window) = series.window(origin, config.lags) else {
            continue;
        };
        let start = train.rows.len();
        if layout.encode_at(&window, horizon, &mut train.rows) {
            let base = layout.target_base(&train.rows[start..]);
            train.targets.push(layout.target.forward(value) - base);
        }
    }
}

/// Returns `count` windows of `windows` drawn without replacement, in their original order.
fn sample(windows: &Windows, width: usize, count: usize, rng: &mut ChaCha8Rng) -> Windows {
    let mut picked: Vec<usize> = rand::seq::index::sample(rng, windows.len(), count).into_vec();
    picked.sort_unstable();
    let mut sampled = Windows {
        rows: Vec::with_capacity(count * width),
        targets: Vec::with_capacity(count),
    };
    for row in picked {
        sampled
            .rows
            .extend_from_slice(&windows.rows[row * width..(row + 1) * width]);
        sampled.targets.push(windows.targets[row]);
    }
    sampled
}

/// Returns the mean pinball loss, summed over the three levels, of `network` on `windows`.
fn mean_loss(
    network: &dyn Fn(Tensor<2>) -> Tensor<2>,
    windows: &Windows,
    width: usize,
    levels: [f64; 3],
    device: &burn::tensor::Device,
) -> Result<f32> {
    let outputs = forward_rows(network, &windows.rows, width, device)?;
    let mut total = 0.0f64;
    for (values, &target) in outputs.chunks_exact(3).zip(&windows.targets) {
        for (value, level) in values.iter().zip(levels) {
            let residual = f64::from(target - value);
            total += (level * residual).max((level - 1.0) * residual);
        }
    }
    Ok((total / windows.len().max(1) as f64) as f32)
}

/// Returns the raw interval's coverage on the calibration windows and the conformal
/// correction: the `ceil((n + 1) * level) / n` empirical quantile of how far each value lies
/// outside the raw interval.
fn calibrate(
    network: &dyn Fn(Tensor<2>) -> Tensor<2>,
    windows: &Windows,
    width: usize,
    config: &ForecasterConfig,
    device: &burn::tensor::Device,
) -> Result<(f32, f32)> {
    let outputs = forward_rows(network, &windows.rows, width, device)?;
    let mut scores = Vec::with_capacity(windows.len());
    let mut inside = 0usize;
    for (values, &target) in outputs.chunks_exact(3).zip(&windows.targets) {
        let (lower, upper) = (values[0], values[2]);
        if (lower..=upper).contains(&target) {
            inside += 1;
        }
        scores.push((lower - target).max(target - upper));
    }
    if scores.is_empty() {
        return Ok((0.0, 0.0));
    }
    scores.sort_by(f32::total_cmp);
    let count = scores.len();
    let rank = ((count as f64 + 1.0) * config.interval_level).ceil() as usize;
    let correction = scores[rank.clamp(1, count) - 1];
    Ok((inside as f32 / count as f32, correction))
}

/// Returns the hex SHA-256 of the training rows and targets.
fn hash_windows(windows: &Windows) -> String {
    let mut hasher = Sha256::new();
    for value in windows.rows.iter().chain(&windows.targets) {
        hasher.update(value.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}
