//! Training time and size on disk of every model the registry stores.
//!
//! ```text
//! cargo run --release -p governance-llm --example model_costs -- [--json FILE] [--tagger]
//! ```
//!
//! Each model trains once with its default config on generated data of the size the chain
//! gives it (the `data` column) and is saved to a registry in a temporary folder. The report
//! gives its wall-clock training seconds, its parameter count and the bytes of its
//! `model.safetensors`. The parameter count is read back from the saved file, so it counts
//! what is stored. The tagger trains for minutes, so by default its row comes from the
//! committed weights and the training time recorded in their metadata. `--tagger` trains it
//! here instead, with its default config.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use governance_llm::{
    AutoencoderConfig, CellClassifierConfig, ColumnValues, FeatureMatrix, ForecasterConfig,
    HourlySeries, ImputationTable, ImputerConfig, ModelRegistry, PairClassifierConfig,
    RegisteredModel, SeriesSet, TableColumn, Tagger, TaggerConfig, TrainedAutoencoder,
    TrainedCellClassifier, TrainedForecaster, TrainedImputer, TrainedPairClassifier,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: model_costs [--json FILE] [--tagger]";

/// One row of the report.
struct Cost {
    model: &'static str,
    data: String,
    seconds: f64,
    /// Source of the seconds: `measured` by this run, or `recorded` in saved metadata.
    timing: &'static str,
    parameters: u64,
    bytes: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("model_costs: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> BenchResult<()> {
    let mut json_path: Option<PathBuf> = None;
    let mut train_tagger = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--json" => {
                let path = args.next().ok_or(format!("--json needs a file\n{USAGE}"))?;
                json_path = Some(PathBuf::from(path));
            }
            "--tagger" => train_tagger = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }

    let dir = tempfile::tempdir()?;
    let registry = ModelRegistry::open(dir.path())?;
    let mut costs = vec![
        autoencoder(&registry)?,
        cell_classifier(&registry)?,
        pair_classifier(&registry)?,
        imputer(&registry)?,
        forecaster(&registry)?,
    ];
    costs.push(tagger(dir.path(), train_tagger)?);

    println!(
        "| model | data | training seconds | parameters | model.safetensors |\n|---|---|---|---|---|"
    );
    for cost in &costs {
        println!(
            "| {} | {} | {:.2} ({}) | {} | {:.1} KiB |",
            cost.model,
            cost.data,
            cost.seconds,
            cost.timing,
            cost.parameters,
            cost.bytes as f64 / 1024.0
        );
    }
    if let Some(path) = json_path {
        let rows: Vec<Value> = costs
            .iter()
            .map(|cost| {
                json!({
                    "model": cost.model,
                    "data": cost.data,
                    "training_seconds": cost.seconds,
                    "timing": cost.timing,
                    "parameters": cost.parameters,
                    "bytes": cost.bytes,
                })
            })
            .collect();
        std::fs::write(&path, serde_json::to_string_pretty(&rows)?)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}

/// Saves `model` under `name` and returns its parameter count and file size.
fn saved_size<M: RegisteredModel>(
    registry: &ModelRegistry,
    name: &str,
    model: &M,
) -> BenchResult<(u64, u64)> {
    let meta = registry.save(name, model, None)?;
    let weights = registry
        .root()
        .join(name)
        .join(meta.version.to_string())
        .join("model.safetensors");
    file_size(&weights)
}

/// Returns the parameter count stored in a safetensors file and its size in bytes.
fn file_size(path: &Path) -> BenchResult<(u64, u64)> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let tensors = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|error| format!("{} is not a safetensors file: {error}", path.display()))?;
    let parameters = tensors
        .tensors()
        .iter()
        .map(|(_, view)| view.shape().iter().product::<usize>() as u64)
        .sum();
    Ok((parameters, bytes.len() as u64))
}

/// Returns `rows` rows of `columns` values driven by three hidden factors plus noise, like
/// the pollutant and weather columns of an air-quality station.
fn correlated(rows: usize, columns: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut values = Vec::with_capacity(rows * columns);
    for _ in 0..rows {
        let factors: [f32; 3] = [
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        ];
        for column in 0..columns {
            let mix = factors[column % 3] + 0.5 * factors[(column + 1) % 3];
            values.push(50.0 + 20.0 * mix + rng.random_range(-2.0..2.0));
        }
    }
    values
}

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|index| format!("{prefix}_{index}"))
        .collect()
}

fn autoencoder(registry: &ModelRegistry) -> BenchResult<Cost> {
    let (rows, columns) = (20_000, 11);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data = FeatureMatrix::new(
        names("sensor", columns),
        correlated(rows, columns, &mut rng),
    )?;
    let started = Instant::now();
    let model = TrainedAutoencoder::train(&AutoencoderConfig::default(), &data)?;
    let seconds = started.elapsed().as_secs_f64();
    let (parameters, bytes) = saved_size(registry, "autoencoder", &model)?;
    Ok(Cost {
        model: "autoencoder",
        data: format!("{rows} rows x {columns} columns"),
        seconds,
        timing: "measured",
        parameters,
        bytes,
    })
}

fn cell_classifier(registry: &ModelRegistry) -> BenchResult<Cost> {
    let (rows, width) = (5_000, 16);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut features = Vec::with_capacity(rows * width);
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let error = rng.random_bool(0.1);
        for feature in 0..width {
            let signal = if error && feature < 4 { 0.7 } else { 0.2 };
            features.push(signal + rng.random_range(-0.2..0.2));
        }
        labels.push(error);
    }
    let weights = vec![1.0; rows];
    let started = Instant::now();
    let model = TrainedCellClassifier::train(
        &CellClassifierConfig::default(),
        &features,
        width,
        &labels,
        &weights,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let (parameters, bytes) = saved_size(registry, "cell_classifier", &model)?;
    Ok(Cost {
        model: "cell classifier",
        data: format!("{rows} cells x {width} detector features"),
        seconds,
        timing: "measured",
        parameters,
        bytes,
    })
}

fn pair_classifier(registry: &ModelRegistry) -> BenchResult<Cost> {
    let (rows, width) = (20_000, 8);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut values = Vec::with_capacity(rows * width);
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let matched = rng.random_bool(0.2);
        for _ in 0..width {
            let centre = if matched { 0.85 } else { 0.35 };
            values.push((centre + rng.random_range(-0.3..0.3f32)).clamp(0.0, 1.0));
        }
        labels.push(matched);
    }
    let features = FeatureMatrix::new(names("comparison", width), values)?;
    let started = Instant::now();
    let model =
        TrainedPairClassifier::train(&PairClassifierConfig::default(), &features, &labels, None)?;
    let seconds = started.elapsed().as_secs_f64();
    let (parameters, bytes) = saved_size(registry, "pair_classifier", &model)?;
    Ok(Cost {
        model: "pair classifier",
        data: format!("{rows} pairs x {width} comparisons"),
        seconds,
        timing: "measured",
        parameters,
        bytes,
    })
}

fn imputer(registry: &ModelRegistry) -> BenchResult<Cost> {
    let (rows, numeric) = (20_000, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let values = correlated(rows, numeric, &mut rng);
    let mut columns: Vec<TableColumn> = (0..numeric)
        .map(|column| TableColumn {
            name: format!("sensor_{column}"),
            values: ColumnValues::Numeric(
                (0..rows)
                    .map(|row| {
                        // Every 20th value is missing, as in a real feed.
                        (row % 20 != column).then(|| f64::from(values[row * numeric + column]))
                    })
                    .collect(),
            ),
        })
        .collect();
    columns.push(TableColumn {
        name: "station".into(),
        values: ColumnValues::Categorical(
            (0..rows)
                .map(|row| Some(format!("station_{}", row % 12)))
                .collect(),
        ),
    });
    let table = ImputationTable::new(columns)?;
    let started = Instant::now();
    let model = TrainedImputer::train(&ImputerConfig::default(), &table, "sensor_0")?;
    let seconds = started.elapsed().as_secs_f64();
    let (parameters, bytes) = saved_size(registry, "imputer", &model)?;
    Ok(Cost {
        model: "imputer",
        data: format!("{rows} rows x {} columns", numeric + 1),
        seconds,
        timing: "measured",
        parameters,
        bytes,
    })
}

fn forecaster(registry: &ModelRegistry) -> BenchResult<Cost> {
    let (stations, hours) = (12, 2 * 365 * 24);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let covariate_names = vec!["temperature".to_string(), "wind".to_string()];
    let series = (0..stations)
        .map(|station| {
            let mut values = Vec::with_capacity(hours);
            let mut temperature = Vec::with_capacity(hours);
            let mut wind = Vec::with_capacity(hours);
            let mut level = 60.0f32;
            for hour in 0..hours {
                let day = std::f32::consts::TAU * (hour % 24) as f32 / 24.0;
                let year = std::f32::consts::TAU * (hour % 8760) as f32 / 8760.0;
                let gust: f32 = rng.random_range(0.0..6.0);
                level = (0.95 * level + 3.0 + rng.random_range(-4.0..4.0) - gust).max(1.0);
                values.push(level + 10.0 * (1.0 + day.sin()) + station as f32);
                temperature.push(12.0 - 15.0 * year.cos() + 4.0 * day.sin());
                wind.push(gust);
            }
            HourlySeries {
                name: format!("station_{station}"),
                start_ms: 1_420_070_400_000,
                values,
                covariates: vec![temperature, wind],
            }
        })
        .collect();
    let data = SeriesSet {
        covariate_names,
        series,
    };
    let started = Instant::now();
    let model = TrainedForecaster::train(&ForecasterConfig::default(), &data)?;
    let seconds = started.elapsed().as_secs_f64();
    let (parameters, bytes) = saved_size(registry, "forecaster", &model)?;
    Ok(Cost {
        model: "forecaster",
        data: format!("{stations} series x {hours} hours, 2 covariates"),
        seconds,
        timing: "measured",
        parameters,
        bytes,
    })
}

/// Trains the tagger here when `train` is set. Otherwise reads the committed weights and the
/// training time their metadata recorded.
fn tagger(scratch: &Path, train: bool) -> BenchResult<Cost> {
    let config = TaggerConfig::default();
    let data = format!("{} generated sentences", config.train_sentences);
    if train {
        let started = Instant::now();
        let tagger = Tagger::train(&config)?;
        let seconds = started.elapsed().as_secs_f64();
        let dir = scratch.join("tagger");
        tagger.save(&dir)?;
        let (parameters, bytes) = file_size(&dir.join("tagger.safetensors"))?;
        return Ok(Cost {
            model: "token tagger",
            data,
            seconds,
            timing: "measured",
            parameters,
            bytes,
        });
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tagger");
    let metadata: Value = serde_json::from_slice(
        &std::fs::read(dir.join("tagger.json"))
            .map_err(|error| format!("cannot read the committed tagger metadata: {error}"))?,
    )?;
    let seconds = metadata["training"]["training_seconds"]
        .as_f64()
        .ok_or("the committed tagger.json records no training.training_seconds")?;
    let (parameters, bytes) = file_size(&dir.join("tagger.safetensors"))?;
    Ok(Cost {
        model: "token tagger",
        data,
        seconds,
        timing: "recorded",
        parameters,
        bytes,
    })
}
