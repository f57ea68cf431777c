//! Training of the forecaster: windows, the split, the fit with early stopping and the
//! conformal calibration.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::network::{ForecastNetwork, pinball_loss};
use super::series::{
    CovariateScaling, FeatureLayout, HOUR_MS, SeriesSet, TargetTransform, mean_std,
};
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
    let layout = fit_layout(config, data);
    let width = layout.width();
    let mut windows = cut_windows(config, data, &layout);
    let available = windows.train.len();
    for (set, what) in [
        (&windows.train, "training"),
        (&windows.validation, "early-stopping"),
        (&windows.calibration, "calibration"),
    ] {
        if set.len() == 0 {
            return Err(Error::InvalidInput(format!(
                "no {what} windows: the series are too short or too gappy for lags = {}, \
                 horizon = {} and validation_share = {} ({} windows skipped for a missing \
                 target, {} for missing lags); pass longer series",
                config.lags,
                config.horizon,
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
    let device = config.device.training_device();
    device.seed(config.seed);
    let mut network = ForecastNetwork::new(width, &config.hidden, config.seed, &device);
    let initial_loss = mean_loss(&network.valid(), &windows.train, width, levels, &inference)?;
    let mut optimizer = AdamConfig::new().init();
    let mut order: Vec<usize> = (0..windows.train.len()).collect();
    let mut epoch_losses = Vec::new();
    let mut best: Option<(f32, usize, ForecastNetwork)> = None;
    let mut since_best = 0;
    let mut batch_rows = Vec::with_capacity(config.batch_size * width);
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        let (mut loss_sum, mut rows_seen) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size) {
            batch_rows.clear();
            for &row in batch {
                batch_rows.extend_from_slice(&windows.train.rows[row * width..(row + 1) * width]);
            }
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
            network = optimizer.step(config.learning_rate, network, gradients);
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
        let validation_loss = mean_loss(
            &network.valid(),
            &windows.validation,
            width,
            levels,
            &inference,
        )?;
        tracing::info!(
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
    let (validation_loss, best_epoch, network) = match best {
        Some((loss, epoch, kept)) => (loss, epoch, kept.valid()),
        None => {
            return Err(Error::Internal(
                "training ran no epoch although epochs is at least 1".into(),
            ));
        }
    };
    let final_loss = mean_loss(&network, &windows.train, width, levels, &inference)?;

    let (raw_calibration_coverage, conformal_correction) =
        calibrate(&network, &windows.calibration, width, config, &inference)?;
    tracing::info!(
        best_epoch,
        validation_loss,
        raw_calibration_coverage,
        conformal_correction,
        "trained forecaster"
    );
    let metrics = ForecastTrainingMetrics {
        initial_loss,
        final_loss,
        validation_loss,
        epochs_run: epoch_losses.len(),
        best_epoch,
        epoch_losses,
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

/// Returns the hour that starts the held-out tail of a series of `hours` hours.
fn split_hour(hours: usize, share: f64) -> usize {
    ((hours as f64) * (1.0 - share)).floor() as usize
}

/// Fits the target transform and the covariate scaling on the hours before each series'
/// held-out tail.
fn fit_layout(config: &ForecasterConfig, data: &SeriesSet) -> FeatureLayout {
    let train_part = |values: &[f32]| -> std::ops::Range<usize> {
        0..split_hour(values.len(), config.validation_share)
    };
    let warp = |value: f32| {
        if config.log_transform {
            value.ln_1p()
        } else {
            value
        }
    };
    let (mean, std) = mean_std(data.series.iter().flat_map(|series| {
        series.values[train_part(&series.values)]
            .iter()
            .map(move |&value| warp(value))
    }));
    let mut covariates = CovariateScaling {
        mean: Vec::new(),
        std: Vec::new(),
    };
    for column in 0..data.covariate_names.len() {
        let (mean, std) = mean_std(data.series.iter().flat_map(|series| {
            let values = &series.covariates[column];
            values[train_part(values)].iter().copied()
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
    }
}

/// Cuts every window of every series. A window whose forecast hour is before the series'
/// held-out tail goes to training. One whose origin is inside the tail goes to early stopping
/// (even days) or calibration (odd days). One that straddles the boundary is left out, so no
/// training target is a held-out value.
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
        let boundary = split_hour(hours, config.validation_share);
        for origin in config.lags - 1..hours - config.horizon {
            let target_hour = origin + config.horizon;
            let straddles = target_hour >= boundary && origin < boundary;
            if straddles {
                continue;
            }
            let value = series.values[target_hour];
            if value.is_nan() {
                split.skipped_missing_target += 1;
                continue;
            }
            let Some(window) = series.window(origin, config.lags) else {
                continue;
            };
            let set = if target_hour < boundary {
                &mut split.train
            } else if (window.origin_ms.div_euclid(HOUR_MS) / 24) % 2 == 0 {
                &mut split.validation
            } else {
                &mut split.calibration
            };
            if layout.encode(&window, &mut set.rows) {
                set.targets.push(layout.target.forward(value));
            } else {
                split.skipped_missing_lags += 1;
            }
        }
    }
    split
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
    network: &ForecastNetwork,
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
    network: &ForecastNetwork,
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
