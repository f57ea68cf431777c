//! Benchmark of imputation on the Beijing multi-site air-quality data: the cross-column model
//! (`ModelImpute`), linear interpolation in time (`FillGaps`) and interpolation along the
//! daily profile (`SeasonalFill`), against the column mean, on known values hidden at random.
//!
//! ```text
//! cargo run --example bench_imputation -- [--mask 0.1 | --gap-hours L] [--seed 7]
//!     [--max-gap 24] [--columns TEMP,PRES,DEWP,PM10] [--train-rows 20000] [--epochs 30] DIR
//! ```
//!
//! DIR contains the station CSV files (`No, year, month, day, hour, PM2.5, ..., wd, WSPM,
//! station`). By default the benchmark hides the given share of each target column's known
//! values, chosen one by one by a seeded RNG. With `--gap-hours L` it hides runs of L hours
//! instead, one at a random place in every block of 10 L hours of a station. Each method runs
//! on the whole table, and the mean absolute error is reported over the hidden cells that the
//! method filled and over the cells that every method filled. The interpolations fill only gaps
//! of at most `--max-gap` hours (at least L) with a known value on both sides within a station.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod data;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use arrow::array::Float64Array;
use governance::audit::AuditLog;
use governance::clean::{
    FillGaps, FillGapsConfig, ModelImpute, ModelImputeConfig, SeasonalFill, SeasonalFillConfig,
};
use governance::llm::ImputerConfig;
use governance::{Cleaner, GovernedBatch, StageContext};

use crate::data::{Masked, load, mask_runs, mask_values};

const USAGE: &str = "\
usage: bench_imputation [--mask SHARE | --gap-hours L] [--seed N] [--max-gap HOURS]
                        [--columns A,B,...] [--train-rows N] [--epochs N] DIR

Hides known values of the Beijing air-quality data and scores four ways to fill them.

  DIR               folder of the PRSA_Data_*.csv station files
  --mask SHARE      share of each target's known values hidden one by one (default 0.1)
  --gap-hours L     hide runs of L hours instead, about a tenth of the rows
  --seed N          seed of the hidden cells and of the model (default 7)
  --max-gap HOURS   longest gap linear interpolation fills (default 24)
  --columns A,B     target columns (default TEMP,PRES,DEWP,PM10)
  --train-rows N    complete rows each model trains on at most (default 20000)
  --epochs N        passes over the training rows (default 30)";

struct Options {
    dir: PathBuf,
    mask: f64,
    gap_hours: Option<usize>,
    seed: u64,
    max_gap: usize,
    columns: Vec<String>,
    train_rows: usize,
    epochs: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        dir: PathBuf::new(),
        mask: 0.1,
        gap_hours: None,
        seed: 7,
        max_gap: 24,
        columns: ["TEMP", "PRES", "DEWP", "PM10"].map(String::from).to_vec(),
        train_rows: 20_000,
        epochs: 30,
    };
    let mut dir = None;
    let number = |flag: &str, value: Option<String>| -> Result<usize, String> {
        let value = value.ok_or_else(|| format!("{flag} needs a whole number"))?;
        value
            .parse()
            .map_err(|_| format!("{flag} {value:?} is not a whole number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mask" => {
                let value = args.next().ok_or("--mask needs a share such as 0.1")?;
                options.mask = value
                    .parse()
                    .ok()
                    .filter(|share: &f64| *share > 0.0 && *share < 1.0)
                    .ok_or_else(|| format!("--mask {value:?} is not a share between 0 and 1"))?;
            }
            "--gap-hours" => options.gap_hours = Some(number("--gap-hours", args.next())?),
            "--seed" => options.seed = number("--seed", args.next())? as u64,
            "--max-gap" => options.max_gap = number("--max-gap", args.next())?,
            "--train-rows" => options.train_rows = number("--train-rows", args.next())?,
            "--epochs" => options.epochs = number("--epochs", args.next())?,
            "--columns" => {
                let value = args
                    .next()
                    .ok_or("--columns needs a list such as TEMP,PM10")?;
                options.columns = value
                    .split(',')
                    .map(|name| name.trim().to_string())
                    .collect();
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other if other.starts_with("--") => {
                return Err(format!("unknown option {other:?}\n\n{USAGE}"));
            }
            other => dir = Some(PathBuf::from(other)),
        }
    }
    options.dir = dir.ok_or_else(|| format!("missing DIR\n\n{USAGE}"))?;
    if options.gap_hours == Some(0) {
        return Err("--gap-hours must be at least 1".into());
    }
    if let Some(length) = options.gap_hours {
        options.max_gap = options.max_gap.max(length);
    }
    Ok(options)
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if !options.dir.is_dir() {
        eprintln!(
            "skipping: {} is not a folder; pass the folder of the Beijing station CSV files",
            options.dir.display()
        );
        return;
    }
    if let Err(error) = run(&options) {
        eprintln!("bench_imputation failed: {error}");
        let mut source = std::error::Error::source(error.as_ref());
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        std::process::exit(1);
    }
}

/// Errors of one method on the hidden cells of one column.
#[derive(Default)]
struct Errors {
    sum: f64,
    count: usize,
}

impl Errors {
    fn add(&mut self, error: f64) {
        self.sum += error;
        self.count += 1;
    }

    fn mae(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Filled values of one method, by row id and column.
type Fills = HashMap<(u64, String), f64>;

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let batch = load(&options.dir)?;
    let rows = batch.num_rows();
    let (batch, hidden) = match options.gap_hours {
        Some(length) => mask_runs(batch, &options.columns, length, options.seed)?,
        None => mask_values(batch, &options.columns, options.mask, options.seed)?,
    };
    let masking = match options.gap_hours {
        Some(length) => format!("runs of {length} hours"),
        None => format!(
            "{:.0}% of the known values, one by one",
            options.mask * 100.0
        ),
    };
    println!(
        "read {rows} rows in {:.1} s; hid {masking} of {}",
        started.elapsed().as_secs_f64(),
        options.columns.join(", ")
    );

    let mut methods: Vec<(&str, Fills, f64)> = Vec::new();
    let started = Instant::now();
    let means = column_means(&batch, &hidden)?;
    methods.push(("column mean", means, started.elapsed().as_secs_f64()));
    let started = Instant::now();
    let linear = issue_fills(&run_fill_gaps(&batch, options)?);
    methods.push(("linear (FillGaps)", linear, started.elapsed().as_secs_f64()));
    let started = Instant::now();
    let seasonal = issue_fills(&run_seasonal(&batch, options)?);
    methods.push((
        "seasonal (SeasonalFill)",
        seasonal,
        started.elapsed().as_secs_f64(),
    ));
    let started = Instant::now();
    let model_output = run_model(&batch, options)?;
    let model = issue_fills(std::slice::from_ref(&model_output));
    let confidences = issue_confidences(&model_output);
    methods.push((
        "model (ModelImpute)",
        model,
        started.elapsed().as_secs_f64(),
    ));

    println!();
    println!("| column | method | hidden cells filled | MAE | MAE on cells every method filled |");
    println!("|---|---|---|---|---|");
    for masked in &hidden {
        print_rows(masked, &methods);
    }
    println!();
    for (name, _, seconds) in &methods {
        println!("{name}: {seconds:.1} s for all columns");
    }
    if let Some((_, model, _)) = methods.last() {
        print_confidence(&hidden, model, &confidences);
    }
    Ok(())
}

/// Prints the model's MAE on the hidden cells by quarter of its stated confidence, lowest
/// first: a confidence that means something falls with the error.
fn print_confidence(hidden: &[Masked], fills: &Fills, confidences: &Fills) {
    println!();
    println!("| column | confidence quarter | confidence range | cells | MAE |");
    println!("|---|---|---|---|---|");
    for masked in hidden {
        let mut scored: Vec<(f64, f64)> = masked
            .cells
            .iter()
            .filter_map(|&(row_id, truth)| {
                let key = (row_id, masked.column.clone());
                Some((*confidences.get(&key)?, (fills.get(&key)? - truth).abs()))
            })
            .collect();
        scored.sort_by(|left, right| left.0.total_cmp(&right.0));
        let quarter = scored.len().div_ceil(4).max(1);
        for (index, chunk) in scored.chunks(quarter).enumerate() {
            let mut errors = Errors::default();
            for &(_, error) in chunk {
                errors.add(error);
            }
            let (low, high) = (chunk[0].0, chunk[chunk.len() - 1].0);
            println!(
                "| {} | {} | {low:.3} to {high:.3} | {} | {:.3} |",
                masked.column,
                index + 1,
                chunk.len(),
                errors.mae()
            );
        }
    }
}

/// Collects the confidence of each `Imputed` issue, by row id and column.
fn issue_confidences(output: &GovernedBatch) -> Fills {
    output
        .issues
        .issues()
        .iter()
        .filter_map(|issue| {
            let column = issue.column.as_ref()?;
            Some(((issue.row_id, column.clone()), f64::from(issue.confidence)))
        })
        .collect()
}

fn print_rows(masked: &Masked, methods: &[(&str, Fills, f64)]) {
    let column = &masked.column;
    let value = |fills: &Fills, row_id: u64| fills.get(&(row_id, column.clone())).copied();
    let common: Vec<&(u64, f64)> = masked
        .cells
        .iter()
        .filter(|(row_id, _)| {
            methods
                .iter()
                .all(|(_, fills, _)| value(fills, *row_id).is_some())
        })
        .collect();
    for (name, fills, _) in methods {
        let (mut all, mut shared) = (Errors::default(), Errors::default());
        for &(row_id, truth) in &masked.cells {
            if let Some(filled) = value(fills, row_id) {
                all.add((filled - truth).abs());
            }
        }
        for &&(row_id, truth) in &common {
            if let Some(filled) = value(fills, row_id) {
                shared.add((filled - truth).abs());
            }
        }
        let cells = masked.cells.len().max(1);
        println!(
            "| {column} | {name} | {:.1}% of {} | {:.3} | {:.3} ({} cells) |",
            100.0 * all.count as f64 / cells as f64,
            masked.cells.len(),
            all.mae(),
            shared.mae(),
            common.len()
        );
    }
}

/// Returns the mean of each target's remaining known values for every hidden cell.
fn column_means(
    batch: &GovernedBatch,
    hidden: &[Masked],
) -> Result<Fills, Box<dyn std::error::Error>> {
    let mut fills = Fills::new();
    for masked in hidden {
        let known = float_column(batch, &masked.column)?;
        let (sum, count) = known
            .iter()
            .flatten()
            .fold((0.0, 0usize), |(sum, count), value| {
                (sum + value, count + 1)
            });
        let mean = sum / count.max(1) as f64;
        for &(row_id, _) in &masked.cells {
            fills.insert((row_id, masked.column.clone()), mean);
        }
    }
    Ok(fills)
}

/// Collects the values that `Imputed` issues record, by row id and column.
fn issue_fills(outputs: &[GovernedBatch]) -> Fills {
    let mut fills = Fills::new();
    for output in outputs {
        for issue in output.issues.issues() {
            let (Some(column), Some(value)) = (&issue.column, &issue.suggested) else {
                continue;
            };
            if let Ok(value) = value.parse() {
                fills.insert((issue.row_id, column.clone()), value);
            }
        }
    }
    fills
}

/// Runs `FillGaps` per station over the hour index, flushing the rows it holds back.
fn run_fill_gaps(
    batch: &GovernedBatch,
    options: &Options,
) -> Result<Vec<GovernedBatch>, Box<dyn std::error::Error>> {
    let mut stage = FillGaps::new(FillGapsConfig {
        series: Some("station".into()),
        time: "No".into(),
        columns: Some(options.columns.clone()),
        max_gap: options.max_gap,
    })?;
    let mut ctx = StageContext::new("fill_gaps", 1, AuditLog::in_memory().into_handle());
    let mut outputs = vec![stage.clean(batch.clone(), &mut ctx)?];
    outputs.extend(stage.flush(&mut ctx)?);
    Ok(outputs)
}

/// Runs `SeasonalFill` per station with hourly buckets of a day, flushing the rows it holds
/// back.
fn run_seasonal(
    batch: &GovernedBatch,
    options: &Options,
) -> Result<Vec<GovernedBatch>, Box<dyn std::error::Error>> {
    let mut stage = SeasonalFill::new(SeasonalFillConfig {
        columns: Some(options.columns.clone()),
        max_gap: options.max_gap,
        ..SeasonalFillConfig::default()
    })?;
    let mut ctx = StageContext::new("seasonal_fill", 1, AuditLog::in_memory().into_handle());
    let mut outputs = vec![stage.clean(batch.clone(), &mut ctx)?];
    outputs.extend(stage.flush(&mut ctx)?);
    Ok(outputs)
}

/// Runs `ModelImpute` on every target with the month, hour, the other measurements, the wind
/// direction and the station as predictors.
fn run_model(
    batch: &GovernedBatch,
    options: &Options,
) -> Result<GovernedBatch, Box<dyn std::error::Error>> {
    let mut columns: Vec<String> = ["month", "hour"].map(String::from).to_vec();
    columns.extend(data::MEASUREMENTS.iter().map(|name| name.to_string()));
    columns.extend(["wd", "station"].map(String::from));
    let mut stage = ModelImpute::new(ModelImputeConfig {
        targets: options.columns.clone(),
        columns: Some(columns),
        min_confidence: 0.0,
        model: ImputerConfig {
            max_train_rows: options.train_rows,
            epochs: options.epochs,
            seed: options.seed,
            ..ImputerConfig::default()
        },
    })?;
    let mut ctx = StageContext::new("model_impute", 1, AuditLog::in_memory().into_handle());
    Ok(stage.clean(batch.clone(), &mut ctx)?)
}

fn float_column<'a>(
    batch: &'a GovernedBatch,
    column: &str,
) -> Result<&'a Float64Array, Box<dyn std::error::Error>> {
    batch
        .column(column)?
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| format!("column {column:?} is not Float64").into())
}
