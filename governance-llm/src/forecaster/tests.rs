use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::registry::ModelRegistry;

/// Three series of `days` days: a daily cycle whose amplitude differs per series, plus
/// independent noise, so the same hour a day earlier is a noisy forecast and the cycle itself
/// a better one. One covariate carries the cycle with noise.
fn daily_cycles(days: usize, seed: u64) -> SeriesSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let series = (0..3)
        .map(|index| {
            let hours = days * 24;
            let amplitude = 15.0 + 10.0 * index as f32;
            let mut values = Vec::with_capacity(hours);
            let mut covariate = Vec::with_capacity(hours);
            for hour in 0..hours {
                let phase = std::f32::consts::TAU * (hour % 24) as f32 / 24.0;
                let noise: f32 = rng.random_range(-8.0..8.0);
                values.push((60.0 + amplitude * phase.sin() + noise).max(0.0));
                covariate.push(phase.cos() + rng.random_range(-0.2..0.2));
            }
            // Gaps: one missing hour every 97 hours and a missing covariate every 50.
            for hour in (5..hours).step_by(97) {
                values[hour] = f32::NAN;
            }
            for hour in (7..hours).step_by(50) {
                covariate[hour] = f32::NAN;
            }
            HourlySeries {
                name: format!("station_{index}"),
                start_ms: 1_420_070_400_000,
                values,
                covariates: vec![covariate],
            }
        })
        .collect();
    SeriesSet {
        covariate_names: vec!["cycle_hint".into()],
        series,
    }
}

fn quick_config() -> ForecasterConfig {
    ForecasterConfig {
        lags: 24,
        horizon: 6,
        max_missing_lags: 3,
        hidden: vec![32],
        epochs: 25,
        patience: 5,
        batch_size: 128,
        learning_rate: 0.005,
        validation_share: 0.25,
        ..ForecasterConfig::default()
    }
}

/// Returns (model MAE, seasonal-naive MAE, interval coverage) on `data`, over the windows
/// whose target and naive value are known and whose lags are usable.
fn score(model: &TrainedForecaster, data: &SeriesSet) -> (f32, f32, f32) {
    let (lags, horizon) = (model.lags(), model.horizon());
    let mut windows = Vec::new();
    let mut truths = Vec::new();
    let mut naive = Vec::new();
    for series in &data.series {
        for origin in lags - 1..series.values.len() - horizon {
            let truth = series.values[origin + horizon];
            let seasonal = series.values[origin + horizon - 24];
            if truth.is_nan() || seasonal.is_nan() {
                continue;
            }
            windows.push(series.window(origin, lags).expect("window"));
            truths.push(truth);
            naive.push(seasonal);
        }
    }
    let forecasts = model.predict(&windows).expect("predict");
    let (mut model_error, mut naive_error, mut inside, mut count) = (0.0, 0.0, 0, 0);
    for ((forecast, truth), seasonal) in forecasts.iter().zip(&truths).zip(&naive) {
        let Some(forecast) = forecast else { continue };
        model_error += (forecast.median - truth).abs();
        naive_error += (seasonal - truth).abs();
        if (forecast.lower..=forecast.upper).contains(truth) {
            inside += 1;
        }
        count += 1;
    }
    let count_f = count as f32;
    (
        model_error / count_f,
        naive_error / count_f,
        inside as f32 / count_f,
    )
}

#[test]
fn forecaster_beats_seasonal_naive() {
    let model = TrainedForecaster::train(&quick_config(), &daily_cycles(60, 1)).expect("train");
    let test = daily_cycles(20, 2);
    let (mae, naive_mae, coverage) = score(&model, &test);
    // Noise uniform on ±8: the cycle alone has MAE 4, the same hour a day earlier about 5.3.
    assert!(
        mae < 0.85 * naive_mae,
        "model MAE {mae} vs seasonal naive {naive_mae}"
    );
    assert!(
        (0.7..=0.9).contains(&coverage),
        "coverage {coverage} of a nominal 0.8"
    );
}

#[test]
fn training_counts_skipped_windows() {
    let data = daily_cycles(30, 3);
    let model = TrainedForecaster::train(&quick_config(), &data).expect("train");
    let metrics = model.metrics();
    // Every missing hour is the target of exactly one window per series.
    assert!(metrics.skipped_missing_target > 0);
    assert_eq!(
        metrics.skipped_missing_lags, 0,
        "one gap in 24 lags is allowed"
    );
    assert!(metrics.best_epoch >= 1);
    assert!(metrics.best_epoch <= metrics.epochs_run);
    assert!(metrics.final_loss < metrics.initial_loss);

    let strict = ForecasterConfig {
        max_missing_lags: 0,
        ..quick_config()
    };
    let model = TrainedForecaster::train(&strict, &data).expect("train");
    assert!(model.metrics().skipped_missing_lags > 0);
}

#[test]
fn training_is_deterministic() {
    let data = daily_cycles(20, 4);
    let config = ForecasterConfig {
        epochs: 3,
        ..quick_config()
    };
    let first = TrainedForecaster::train(&config, &data).expect("train");
    let second = TrainedForecaster::train(&config, &data).expect("train");
    assert_eq!(first.metrics(), second.metrics());
}

#[test]
fn registry_round_trip() {
    let data = daily_cycles(20, 5);
    let config = ForecasterConfig {
        epochs: 2,
        ..quick_config()
    };
    let model = TrainedForecaster::train(&config, &data).expect("train");
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    let meta = registry.save("pm25_24h", &model, None).expect("save");
    assert_eq!(meta.kind, FORECASTER_KIND);
    assert_eq!(meta.card.columns.len(), model.feature_names().len());
    let (_, loaded) = registry
        .load_latest::<TrainedForecaster>("pm25_24h")
        .expect("load")
        .expect("a version");
    let window = data.series[1].window(100, 24).expect("window");
    let before = model
        .predict(std::slice::from_ref(&window))
        .expect("predict");
    let after = loaded.predict(&[window]).expect("predict");
    assert_eq!(before, after);
    assert_eq!(loaded.metrics(), model.metrics());
}

#[test]
fn bad_inputs_are_rejected() {
    let mut data = daily_cycles(20, 6);
    data.series[0].values[3] = -1.0;
    let error = TrainedForecaster::train(&quick_config(), &data).expect_err("negative");
    assert!(error.to_string().contains("no logarithm"), "{error}");

    let mut data = daily_cycles(20, 6);
    data.series[1].covariates[0].pop();
    let error = TrainedForecaster::train(&quick_config(), &data).expect_err("short column");
    assert!(error.to_string().contains("one value per hour"), "{error}");

    let config = ForecasterConfig {
        max_missing_lags: 24,
        ..quick_config()
    };
    let error = config.validate().expect_err("too many missing lags");
    assert!(error.to_string().contains("max_missing_lags"), "{error}");

    let short = daily_cycles(1, 7);
    let error = TrainedForecaster::train(&quick_config(), &short).expect_err("too short");
    assert!(error.to_string().contains("no training windows"), "{error}");
}

#[test]
fn predict_skips_gappy_windows_and_checks_shape() {
    let data = daily_cycles(20, 8);
    let config = ForecasterConfig {
        epochs: 2,
        ..quick_config()
    };
    let model = TrainedForecaster::train(&config, &data).expect("train");
    let mut gappy = data.series[0].window(200, 24).expect("window");
    for lag in gappy.lags.iter_mut().take(4) {
        *lag = f32::NAN;
    }
    let forecasts = model.predict(&[gappy]).expect("predict");
    assert_eq!(forecasts, vec![None]);

    let mut short = data.series[0].window(200, 24).expect("window");
    short.lags.pop();
    let error = model.predict(&[short]).expect_err("wrong lag count");
    assert!(error.to_string().contains("has 23 lags"), "{error}");
}

/// A config with every new feature family on: summaries, derived covariates, random
/// held-out days, weight decay and an ensemble of two.
fn rich_config() -> ForecasterConfig {
    ForecasterConfig {
        epochs: 3,
        summary_hours: vec![6, 24],
        derived: DerivedCovariates {
            change_hours: vec![3],
            change_columns: Vec::new(),
            cross_series_targets: true,
            cross_series_mean: true,
            cross_series_lag_hours: vec![2],
            upwind: None,
            mean_hours: vec![6],
            target_day_means: 2,
        },
        validation: ValidationSplit::RandomDays,
        ensemble_size: 2,
        weight_decay: 1e-4,
        input_dropout: 0.1,
        ..quick_config()
    }
}

#[test]
fn rich_model_round_trips_registry() {
    let data = daily_cycles(30, 9);
    let model = TrainedForecaster::train(&rich_config(), &data).expect("train");
    // 1 input covariate, 1 change, 3 series targets and their mean at 0 and 2 hours back,
    // 1 trailing mean and 2 daily target means.
    assert_eq!(model.covariate_names().len(), 1 + 1 + 2 * 4 + 1 + 2);
    assert!(model.covariate_names().ends_with(&[
        "cycle_hint_mean_6h".into(),
        "target_day_1".into(),
        "target_day_2".into()
    ]));
    assert_eq!(model.metrics().best_epochs.len(), 2);
    assert!(model.metrics().calibration_windows > 0);

    let prepared = model.prepare(&data).expect("prepare");
    let window = prepared.series[2].window(300, 24).expect("window");
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    registry.save("rich", &model, None).expect("save");
    let (_, loaded) = registry
        .load_latest::<TrainedForecaster>("rich")
        .expect("load")
        .expect("a version");
    let before = model
        .predict(std::slice::from_ref(&window))
        .expect("predict");
    let after = loaded.predict(&[window]).expect("predict");
    assert!(before[0].is_some());
    assert_eq!(before, after);
}

#[test]
fn rich_training_is_deterministic() {
    let data = daily_cycles(20, 10);
    let first = TrainedForecaster::train(&rich_config(), &data).expect("train");
    let second = TrainedForecaster::train(&rich_config(), &data).expect("train");
    assert_eq!(first.metrics(), second.metrics());
}

#[test]
fn unprepared_windows_are_rejected() {
    let data = daily_cycles(20, 11);
    let model = TrainedForecaster::train(&rich_config(), &data).expect("train");
    let raw = data.series[0].window(200, 24).expect("window");
    let error = model.predict(&[raw]).expect_err("covariates not derived");
    assert!(error.to_string().contains("prepare"), "{error}");

    let mut renamed = data.clone();
    renamed.covariate_names = vec!["other".into()];
    let error = model.prepare(&renamed).expect_err("other covariates");
    assert!(error.to_string().contains("cycle_hint"), "{error}");
}

#[test]
fn summary_hours_beyond_lags_are_rejected() {
    let config = ForecasterConfig {
        summary_hours: vec![48],
        ..quick_config()
    };
    let error = config.validate().expect_err("longer than lags");
    assert!(error.to_string().contains("summary_hours"), "{error}");
}

#[test]
fn input_dropout_zeroes_and_rescales() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut rows = vec![2.0f32; 10_000];
    train::drop_inputs(&mut rows, 0.25, &mut rng);
    let dropped = rows.iter().filter(|&&value| value == 0.0).count();
    assert!(
        (2_200..2_800).contains(&dropped),
        "dropped {dropped} of 10000"
    );
    let kept_value = 2.0 / 0.75;
    assert!(
        rows.iter()
            .all(|&value| value == 0.0 || (value - kept_value).abs() < 1e-5)
    );
    let mut untouched = vec![1.5f32; 100];
    train::drop_inputs(&mut untouched, 0.0, &mut rng);
    assert!(untouched.iter().all(|&value| value == 1.5));
}

#[test]
fn input_dropout_of_one_is_rejected() {
    let config = ForecasterConfig {
        input_dropout: 1.0,
        ..quick_config()
    };
    let error = config.validate().expect_err("drops every input");
    assert!(error.to_string().contains("input_dropout"), "{error}");
}

#[test]
fn cosine_decay_falls_to_a_twentieth() {
    let config = ForecasterConfig {
        epochs: 11,
        learning_rate: 0.01,
        cosine_decay: true,
        ..quick_config()
    };
    let rate = |epoch| train::epoch_learning_rate(&config, epoch);
    assert!((rate(1) - 0.01).abs() < 1e-12);
    assert!(
        (rate(6) - 0.01 * 0.525).abs() < 1e-12,
        "half way: {}",
        rate(6)
    );
    assert!((rate(11) - 0.0005).abs() < 1e-12);
    let constant = ForecasterConfig {
        cosine_decay: false,
        ..config
    };
    assert_eq!(train::epoch_learning_rate(&constant, 11), 0.01);
}

#[test]
fn residual_auxiliary_model_round_trips() {
    let data = daily_cycles(60, 12);
    let config = ForecasterConfig {
        residual_target: true,
        auxiliary_horizons: vec![3, 12],
        validation: ValidationSplit::Tail,
        ..quick_config()
    };
    let model = TrainedForecaster::train(&config, &data).expect("train");
    let plain = TrainedForecaster::train(
        &ForecasterConfig {
            validation: ValidationSplit::Tail,
            ..quick_config()
        },
        &data,
    )
    .expect("train");
    assert_eq!(
        model.feature_names().last().map(String::as_str),
        Some("horizon_days")
    );
    assert_eq!(model.feature_names().len(), plain.feature_names().len() + 1);
    assert!(
        model.metrics().train_windows > 2 * plain.metrics().train_windows,
        "auxiliary windows: {} vs {}",
        model.metrics().train_windows,
        plain.metrics().train_windows
    );
    assert_eq!(
        model.metrics().validation_windows,
        plain.metrics().validation_windows,
        "held-out windows use the main horizon only"
    );

    let (mae, naive_mae, _) = score(&model, &daily_cycles(20, 13));
    assert!(
        mae < 0.9 * naive_mae,
        "model MAE {mae} vs seasonal naive {naive_mae}"
    );

    let window = data.series[1].window(300, 24).expect("window");
    let dir = tempfile::tempdir().expect("temporary folder");
    let registry = ModelRegistry::open(dir.path()).expect("registry");
    registry.save("residual", &model, None).expect("save");
    let (_, loaded) = registry
        .load_latest::<TrainedForecaster>("residual")
        .expect("load")
        .expect("a version");
    let before = model
        .predict(std::slice::from_ref(&window))
        .expect("predict");
    assert!(before[0].is_some());
    assert_eq!(before, loaded.predict(&[window]).expect("predict"));
}

#[test]
fn auxiliary_horizon_equal_to_horizon_is_rejected() {
    let config = ForecasterConfig {
        auxiliary_horizons: vec![6],
        ..quick_config()
    };
    let error = config.validate().expect_err("same as horizon");
    assert!(error.to_string().contains("auxiliary_horizons"), "{error}");
}
