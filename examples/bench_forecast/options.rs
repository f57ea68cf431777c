//! Command-line options of the forecasting benchmark.

use std::path::PathBuf;

use governance::llm::ForecasterConfig;
use governance::llm::forecaster::{DerivedCovariates, ValidationSplit};

pub const USAGE: &str = "\
usage: bench_forecast [--dataset beijing|i94] [--quick] [--json FILE] [OPTIONS] DIR

Trains the quantile forecaster on the years before the test start and scores it per series
against seasonal-naive and linear autoregressive baselines. Without options it runs the
configuration recorded in BENCHMARKS.md; the options below change one part for experiments.

  DIR                  the Beijing multi-site folder (PRSA_Data_*.csv) or, with --dataset
                       i94, the folder of Metro_Interstate_Traffic_Volume.csv
  --dataset NAME       beijing (PM2.5 per station, test from 2016-01-01) or i94 (traffic
                       volume, test from 2017-01-01); default beijing
  --quick              at most 30,000 training windows, 8 epochs and one network, for CI
  --json FILE          also write [{station, mae, seasonal_naive_mae, ar_mae, coverage,
                       nominal_coverage, ...}] to FILE
  --horizon HOURS      hours ahead to forecast; default 24
  --aux-horizons H,..  further horizons trained on, with the horizon as an input; default
                       none
  --seed N             seed of the weights, the held-out days and the shuffling; default 42
  --max-train-windows N  training windows sampled down to N; default 400000
  --lags HOURS         hours of history per window; default 48
  --learning-rate RATE Adam learning rate; default 0.0002
  --hidden W,W,...     hidden layer widths; default 64,32
  --epochs N           most epochs; default 30
  --patience N         epochs without improvement before stopping; default 4
  --cosine             learning rate falls along a half cosine to a twentieth
  --batch-size N       windows per step; default 256
  --weight-decay X     AdamW weight decay; default 0
  --input-dropout P    probability of zeroing each input feature in training; default 0
  --ensemble N         networks averaged, seeds 42, 43, ...; default 1
  --split NAME         held-out hours: tail or random-days; default random-days
  --validation-share X share of hours held out; default 0.25
  --summary-hours H,.. lag mean and maximum over these last hours; default none
  --change-hours H,..  covariate changes over these hours; default 3,12,24 (0 turns off)
  --change-columns C,.. covariates that get changes; default all
  --cross MODE         other series' targets as covariates: none, targets, mean or both;
                       default mean
  --cross-lags H,..    the cross-series columns also these hours before the origin
  --mean-hours H,..    covariate means over these last hours (of the --change-columns);
                       default none
  --day-means N        the station's mean target of each of the last N days; default 0
  --extra-weather      Beijing: add relative humidity (from TEMP and DEWP) and the
                       station's PM10, CO and NO2 at the origin
  --linear-target      model the target itself instead of ln(1 + y)
  --residual-target    predict the change from the last observed value
  --upwind             Beijing: add the mean PM2.5 of the stations upwind of each station
  --perfect-prognosis  use the observed weather at the forecast hour instead of the
                       origin (a stand-in for a perfect weather forecast; not a real
                       forecast, never the headline)";

/// Parsed options.
pub struct Options {
    pub dataset: String,
    pub quick: bool,
    pub json: Option<PathBuf>,
    pub extra_weather: bool,
    pub perfect_prognosis: bool,
    pub upwind: bool,
    pub config: ForecasterConfig,
    pub dir: PathBuf,
}

/// Returns the benchmark's forecaster configuration before options change it: the
/// library defaults plus held-out random days (a quarter of them), covariate changes over
/// 3, 12 and 24 hours and the mean target of all series, the best setting measured.
pub fn default_config() -> ForecasterConfig {
    ForecasterConfig {
        learning_rate: 0.0002,
        validation: ValidationSplit::RandomDays,
        validation_share: 0.25,
        derived: DerivedCovariates {
            change_hours: vec![3, 12, 24],
            cross_series_mean: true,
            ..DerivedCovariates::default()
        },
        ..ForecasterConfig::default()
    }
}

fn hours_list(flag: &str, value: Option<String>) -> Result<Vec<usize>, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a comma-separated list of hours"))?;
    if value == "0" || value == "none" {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|part| {
            part.trim()
                .parse()
                .map_err(|_| format!("{flag}: {part:?} is not a whole number of hours"))
        })
        .collect()
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag} {value:?} is not a valid number"))
}

/// Parses the command line.
pub fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        dataset: "beijing".into(),
        quick: false,
        json: None,
        extra_weather: false,
        perfect_prognosis: false,
        upwind: false,
        config: default_config(),
        dir: PathBuf::new(),
    };
    let config = &mut options.config;
    let mut dir = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dataset" => {
                options.dataset = args.next().ok_or("--dataset needs beijing or i94")?;
            }
            "--quick" => options.quick = true,
            "--json" => {
                options.json = Some(args.next().ok_or("--json needs a file path")?.into());
            }
            "--horizon" => config.horizon = number(&arg, args.next())?,
            "--aux-horizons" => config.auxiliary_horizons = hours_list(&arg, args.next())?,
            "--seed" => config.seed = number(&arg, args.next())?,
            "--max-train-windows" => config.max_train_windows = number(&arg, args.next())?,
            "--lags" => config.lags = number(&arg, args.next())?,
            "--learning-rate" => config.learning_rate = number(&arg, args.next())?,
            "--hidden" => config.hidden = hours_list(&arg, args.next())?,
            "--epochs" => config.epochs = number(&arg, args.next())?,
            "--patience" => config.patience = number(&arg, args.next())?,
            "--batch-size" => config.batch_size = number(&arg, args.next())?,
            "--weight-decay" => config.weight_decay = number(&arg, args.next())?,
            "--input-dropout" => config.input_dropout = number(&arg, args.next())?,
            "--ensemble" => config.ensemble_size = number(&arg, args.next())?,
            "--validation-share" => config.validation_share = number(&arg, args.next())?,
            "--split" => {
                config.validation = match args.next().as_deref() {
                    Some("tail") => ValidationSplit::Tail,
                    Some("random-days") => ValidationSplit::RandomDays,
                    other => {
                        return Err(format!(
                            "--split {other:?} is unknown; use tail or random-days"
                        ));
                    }
                };
            }
            "--summary-hours" => config.summary_hours = hours_list(&arg, args.next())?,
            "--change-hours" => config.derived.change_hours = hours_list(&arg, args.next())?,
            "--change-columns" => {
                let value = args.next().ok_or("--change-columns needs column names")?;
                config.derived.change_columns = value.split(',').map(String::from).collect();
            }
            "--cross" => {
                let (targets, mean) = match args.next().as_deref() {
                    Some("none") => (false, false),
                    Some("targets") => (true, false),
                    Some("mean") => (false, true),
                    Some("both") => (true, true),
                    other => {
                        return Err(format!(
                            "--cross {other:?} is unknown; use none, targets, mean or both"
                        ));
                    }
                };
                config.derived.cross_series_targets = targets;
                config.derived.cross_series_mean = mean;
            }
            "--cross-lags" => {
                config.derived.cross_series_lag_hours = hours_list(&arg, args.next())?;
            }
            "--mean-hours" => config.derived.mean_hours = hours_list(&arg, args.next())?,
            "--day-means" => config.derived.target_day_means = number(&arg, args.next())?,
            "--extra-weather" => options.extra_weather = true,
            "--cosine" => config.cosine_decay = true,
            "--linear-target" => config.log_transform = false,
            "--residual-target" => config.residual_target = true,
            "--upwind" => options.upwind = true,
            "--perfect-prognosis" => options.perfect_prognosis = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other if other.starts_with("--") => {
                return Err(format!("unknown option {other:?}\n\n{USAGE}"));
            }
            other => dir = Some(PathBuf::from(other)),
        }
    }
    options.dir = dir.ok_or_else(|| format!("missing DIR\n\n{USAGE}"))?;
    if !["beijing", "i94"].contains(&options.dataset.as_str()) {
        return Err(format!(
            "--dataset {:?} is unknown; use beijing or i94",
            options.dataset
        ));
    }
    if options.quick {
        options.config.max_train_windows = 30_000;
        options.config.epochs = options.config.epochs.min(8);
        options.config.patience = options.config.patience.min(3);
        options.config.ensemble_size = 1;
    }
    Ok(options)
}

/// Describes the derived covariates, for the report.
pub fn describe_derived(derived: &DerivedCovariates) -> String {
    if derived.is_empty() {
        return "none".into();
    }
    format!(
        "changes over {:?} h, cross-series targets {}, mean {}, lags {:?} h, upwind mean {}, \
         covariate means over {:?} h, daily target means {}",
        derived.change_hours,
        derived.cross_series_targets,
        derived.cross_series_mean,
        derived.cross_series_lag_hours,
        derived.upwind.is_some(),
        derived.mean_hours,
        derived.target_day_means
    )
}
