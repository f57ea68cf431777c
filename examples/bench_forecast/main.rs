//! Benchmark of the quantile forecaster against a seasonal-naive and a linear autoregressive
//! baseline, on hourly city data.
//!
//! ```text
//! cargo run --release --features polars --example bench_forecast -- \
//!     [--dataset beijing|i94] [--quick] [--json FILE] [OPTIONS] DIR
//! ```
//!
//! The forecaster trains on the hours before the test start (2016-01-01 for Beijing,
//! 2017-01-01 for I-94) and forecasts every later hour `horizon` hours ahead. All methods are
//! scored on the same windows: those whose value is known, whose seasonal-naive values
//! (24 h and 168 h before the forecast hour) are known, and whose lag window is usable by the
//! forecaster (at most `max_missing_lags` missing). The seasonal-naive forecast of an hour is
//! the value 24 h earlier, which for a 24 h horizon is the last observed value. `--help`
//! lists the options that change the forecaster's configuration.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod baseline;
mod data;
mod options;

use std::time::Instant;

use governance::llm::{ForecasterConfig, SeriesSet, TrainedForecaster};
use serde::Serialize;

use crate::baseline::LinearAr;
use crate::data::Dataset;
use crate::options::{Options, parse_args};

/// Per-series figures written by `--json`.
#[derive(Debug, Serialize)]
struct SeriesScore {
    station: String,
    mae: f64,
    seasonal_naive_mae: f64,
    weekly_naive_mae: f64,
    ar_mae: f64,
    coverage: f64,
    nominal_coverage: f64,
    windows: usize,
}

fn main() {
    tracing_subscriber_init();
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(&options) {
        eprintln!("bench_forecast failed: {error}");
        let mut source = std::error::Error::source(&*error);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        std::process::exit(1);
    }
}

/// Prints the forecaster's progress (windows, epochs) on standard error; the library only
/// emits `tracing` events.
fn tracing_subscriber_init() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (dataset, test_start) = match options.dataset.as_str() {
        "i94" => (data::i94(&options.dir)?, "2017-01-01"),
        _ => (
            data::beijing(&options.dir, options.extra_weather)?,
            "2016-01-01",
        ),
    };
    let mut dataset = dataset;
    if options.perfect_prognosis {
        shift_covariates(&mut dataset, options.config.horizon);
        println!(
            "PERFECT PROGNOSIS: covariates are the observed weather {} h after the origin, \
             which no real forecast knows",
            options.config.horizon
        );
    }
    let test_start_ms = chrono::NaiveDate::parse_from_str(test_start, "%Y-%m-%d")?
        .and_hms_opt(0, 0, 0)
        .ok_or("invalid test start")?
        .and_utc()
        .timestamp_millis();
    println!(
        "{}: {} series of {} loaded in {:.1} s",
        options.dataset,
        dataset.series.len(),
        dataset.target,
        started.elapsed().as_secs_f64()
    );
    for note in &dataset.notes {
        println!("  {note}");
    }

    let mut config = options.config.clone();
    if options.upwind {
        if options.dataset != "beijing" {
            return Err(
                "--upwind needs station positions, which only the beijing data set has".into(),
            );
        }
        config.derived.upwind = Some(data::beijing_upwind());
    }
    println!(
        "config: lags {}, hidden {:?}, learning rate {} (cosine decay {}), epochs {}, \
         patience {}, batch {}, \
         weight decay {}, input dropout {}, ensemble {}, split {:?} ({}), summaries {:?} h, residual target {}, \
         derived: {}",
        config.lags,
        config.hidden,
        config.learning_rate,
        config.cosine_decay,
        config.epochs,
        config.patience,
        config.batch_size,
        config.weight_decay,
        config.input_dropout,
        config.ensemble_size,
        config.validation,
        config.validation_share,
        config.summary_hours,
        config.residual_target,
        options::describe_derived(&config.derived)
    );
    let training = training_part(&dataset, test_start_ms);
    let train_started = Instant::now();
    let model = TrainedForecaster::train(&config, &training)?;
    let metrics = model.metrics();
    println!(
        "trained in {:.1} s: {} windows (of {}), {} epochs, best {:?}; skipped {} windows for a \
         missing target and {} for missing lags; calibration: raw coverage {:.3}, interval \
         moved by {:+.3} model units",
        train_started.elapsed().as_secs_f64(),
        metrics.train_windows,
        metrics.train_windows_available,
        metrics.epochs_run,
        metrics.best_epochs,
        metrics.skipped_missing_target,
        metrics.skipped_missing_lags,
        metrics.raw_calibration_coverage,
        metrics.conformal_correction
    );

    let scores = evaluate(&dataset, &model, &config, test_start_ms)?;
    print_scores(&scores, &dataset.target, &config);
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_string_pretty(&scores)?)?;
        println!("wrote {}", path.display());
    }
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Replaces each covariate value at hour `t` by the one at `t + hours` (missing past the
/// end), for the perfect-prognosis variant.
fn shift_covariates(dataset: &mut Dataset, hours: usize) {
    for series in &mut dataset.series {
        for column in &mut series.covariates {
            let length = column.len();
            for hour in 0..length {
                column[hour] = column.get(hour + hours).copied().unwrap_or(f32::NAN);
            }
        }
    }
}

/// Returns the series cut before `test_start_ms`; series that start later are left out.
fn training_part(dataset: &Dataset, test_start_ms: i64) -> SeriesSet {
    let series = dataset
        .series
        .iter()
        .filter_map(|series| {
            let hours = hours_before(series.start_ms, test_start_ms).min(series.values.len());
            (hours > 0).then(|| governance::llm::HourlySeries {
                name: series.name.clone(),
                start_ms: series.start_ms,
                values: series.values[..hours].to_vec(),
                covariates: series
                    .covariates
                    .iter()
                    .map(|column| column[..hours].to_vec())
                    .collect(),
            })
        })
        .collect();
    SeriesSet {
        covariate_names: dataset.covariate_names.clone(),
        series,
    }
}

/// Returns the number of whole hours from `start_ms` to `end_ms`, 0 when `end_ms` is earlier.
fn hours_before(start_ms: i64, end_ms: i64) -> usize {
    usize::try_from((end_ms - start_ms).div_euclid(governance::llm::forecaster::HOUR_MS))
        .unwrap_or(0)
}

/// Scores the forecaster and the baselines per series on the test windows.
fn evaluate(
    dataset: &Dataset,
    model: &TrainedForecaster,
    config: &ForecasterConfig,
    test_start_ms: i64,
) -> Result<Vec<SeriesScore>, Box<dyn std::error::Error>> {
    let (lags, horizon) = (config.lags, config.horizon);
    let prepared = model.prepare(&SeriesSet {
        covariate_names: dataset.covariate_names.clone(),
        series: dataset.series.clone(),
    })?;
    let mut scores = Vec::new();
    for (series, prepared) in dataset.series.iter().zip(&prepared.series) {
        let first_test = hours_before(series.start_ms, test_start_ms);
        let Some(ar) = LinearAr::fit(
            series,
            lags,
            horizon,
            first_test,
            config.log_transform,
            config.max_missing_lags,
        ) else {
            println!(
                "{}: too few training windows for the AR baseline; skipped",
                series.name
            );
            continue;
        };
        let mut windows = Vec::new();
        let mut truths = Vec::new();
        let (mut missing_truth, mut missing_naive) = (0usize, 0usize);
        let first_target = first_test.max(lags - 1 + horizon).max(168);
        for target in first_target..series.values.len() {
            let truth = series.values[target];
            let daily = series.values[target - 24];
            let weekly = series.values[target - 168];
            if truth.is_nan() {
                missing_truth += 1;
                continue;
            }
            if daily.is_nan() || weekly.is_nan() {
                missing_naive += 1;
                continue;
            }
            let Some(window) = prepared.window(target - horizon, lags) else {
                continue;
            };
            windows.push(window);
            truths.push((truth, daily, weekly));
        }
        let forecasts = model.predict(&windows)?;
        let mut sums = [0.0f64; 4];
        let (mut inside, mut count, mut no_forecast) = (0usize, 0usize, 0usize);
        for ((window, forecast), &(truth, daily, weekly)) in
            windows.iter().zip(&forecasts).zip(&truths)
        {
            let (Some(forecast), Some(linear)) = (forecast, ar.predict(&window.lags)) else {
                no_forecast += 1;
                continue;
            };
            sums[0] += f64::from((forecast.median - truth).abs());
            sums[1] += f64::from((daily - truth).abs());
            sums[2] += f64::from((weekly - truth).abs());
            sums[3] += f64::from((linear - truth).abs());
            if (forecast.lower..=forecast.upper).contains(&truth) {
                inside += 1;
            }
            count += 1;
        }
        if count == 0 {
            println!("{}: no test window; skipped", series.name);
            continue;
        }
        println!(
            "  {}: {count} test windows; left out {missing_truth} with a missing value, \
             {missing_naive} with a missing naive value, {no_forecast} with too many missing lags",
            series.name
        );
        let mean = |sum: f64| sum / count as f64;
        scores.push(SeriesScore {
            station: series.name.clone(),
            mae: mean(sums[0]),
            seasonal_naive_mae: mean(sums[1]),
            weekly_naive_mae: mean(sums[2]),
            ar_mae: mean(sums[3]),
            coverage: inside as f64 / count as f64,
            nominal_coverage: config.interval_level,
            windows: count,
        });
    }
    Ok(scores)
}

fn print_scores(scores: &[SeriesScore], target: &str, config: &ForecasterConfig) {
    println!(
        "\n{target}, {} h ahead, MAE per series (coverage of the nominal {:.0}% interval)",
        config.horizon,
        scores
            .first()
            .map_or(0.0, |score| score.nominal_coverage * 100.0)
    );
    println!(
        "{:<16} {:>8} {:>10} {:>10} {:>8} {:>9} {:>9}",
        "series", "model", "naive 24h", "naive 168h", "AR", "vs naive", "coverage"
    );
    let mut improvement_sum = 0.0;
    for score in scores {
        let improvement = 1.0 - score.mae / score.seasonal_naive_mae;
        improvement_sum += improvement;
        println!(
            "{:<16} {:>8.2} {:>10.2} {:>10.2} {:>8.2} {:>8.1}% {:>9.3}",
            score.station,
            score.mae,
            score.seasonal_naive_mae,
            score.weekly_naive_mae,
            score.ar_mae,
            100.0 * improvement,
            score.coverage
        );
    }
    if !scores.is_empty() {
        let count = scores.len() as f64;
        let mean = |value: fn(&SeriesScore) -> f64| scores.iter().map(value).sum::<f64>() / count;
        println!(
            "{:<16} {:>8.2} {:>10.2} {:>10.2} {:>8.2} {:>8.1}% {:>9.3}",
            "mean",
            mean(|score| score.mae),
            mean(|score| score.seasonal_naive_mae),
            mean(|score| score.weekly_naive_mae),
            mean(|score| score.ar_mae),
            100.0 * improvement_sum / count,
            mean(|score| score.coverage)
        );
    }
}
