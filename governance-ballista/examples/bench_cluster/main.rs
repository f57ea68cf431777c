//! Measures the clean and guard column stages over the synthetic city's sensor readings,
//! about 20 million rows by default. They run on a plain DataFusion context and on Ballista
//! clusters of one and of two executors, each a separate `governance-cluster` process on
//! 127.0.0.1.
//!
//! ```text
//! cargo build -p governance-ballista --bin governance-cluster --example bench_cluster
//! target/debug/examples/bench_cluster --json bench.json
//! ```
//!
//! Every engine runs the same plan with the same session options. The plan is the chain
//! (canonical numbers, trimming, timestamp, a range rule, an allowed-values rule that
//! corrects typos, and keyed pseudonyms of the station), followed by a count of the
//! non-null cells of every output column. The counts make every kernel run on every row,
//! but only one row comes back to the client, so the figures measure the governance work
//! and Ballista's task overhead rather than the transfer of 20 million rows into one
//! process. The counts of
//! every engine must agree, or the run fails.
//!
//! Run with `--help` for the options.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example reports its result on stdout and its errors on stderr"
)]

mod data;
mod processes;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use ballista::prelude::SessionContextExt;
use datafusion::execution::SessionStateBuilder;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::ident;
use datafusion::prelude::{SessionConfig, SessionContext};
use governance_ballista::{ChainInput, ColumnChain, KeySource, session};
use governance_clean::{CanonicaliseConfig, RulesConfig};
use governance_secure::{MaskOperator, PiiKind};
use serde::Serialize;

const USAGE: &str = "usage: bench_cluster [--data DIR] [--scale N] [--days N] [--files N]
                     [--partitions N] [--runs N] [--task-slots N] [--executors LIST]
                     [--cluster-bin PATH] [--json FILE] [--keep]
--data DIR        folder for the input files (default: governance-bench-city in the system
                  temp folder); an input with the same --scale, --days and --files is reused
--scale N         synthetic city scale, 6 stations per unit (default 100)
--days N          days of hourly readings (default 1400); the defaults give 20,255,737
                  rows, about 0.2 GB of Parquet
--files N         Parquet files the input is split into (default 32)
--partitions N    target partitions of every engine, so tasks per Ballista job (default 16)
--runs N          timed runs per engine; the median is reported (default 3)
--task-slots N    task slots of each cluster in total, split evenly between its executors
                  (default: the number of CPU cores)
--executors LIST  cluster sizes to measure, comma-separated (default 1,2); 0 measures only
                  the local context
--cluster-bin P   the governance-cluster binary (default: the one next to the examples
                  folder of this program's build)
--json FILE       also writes the figures as JSON to FILE
--keep            keeps the input files and the cluster logs in the --data folder (default:
                  deletes them at the end)";

struct Options {
    data: PathBuf,
    scale: u32,
    days: u32,
    files: usize,
    partitions: usize,
    runs: usize,
    task_slots: usize,
    executors: Vec<usize>,
    cluster_bin: Option<PathBuf>,
    json: Option<PathBuf>,
    keep: bool,
}

fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("invalid value {value:?} for {option}; pass a whole number"))
}

fn parse(args: &[String]) -> Result<Options, String> {
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let mut options = Options {
        data: std::env::temp_dir().join("governance-bench-city"),
        scale: 100,
        days: 1400,
        files: 32,
        partitions: 16,
        runs: 3,
        task_slots: cores,
        executors: vec![1, 2],
        cluster_bin: None,
        json: None,
        keep: false,
    };
    let mut args = args.iter();
    while let Some(option) = args.next() {
        if option == "--keep" {
            options.keep = true;
            continue;
        }
        let Some(value) = args.next() else {
            return Err(format!("option {option:?} has no value"));
        };
        match option.as_str() {
            "--data" => options.data = value.into(),
            "--scale" => options.scale = number(option, value)?,
            "--days" => options.days = number(option, value)?,
            "--files" => options.files = number(option, value)?,
            "--partitions" => options.partitions = number(option, value)?,
            "--runs" => options.runs = number(option, value)?,
            "--task-slots" => options.task_slots = number(option, value)?,
            "--executors" => {
                options.executors = value
                    .split(',')
                    .map(|count| number(option, count.trim()))
                    .collect::<Result<Vec<usize>, String>>()?;
            }
            "--cluster-bin" => options.cluster_bin = Some(value.into()),
            "--json" => options.json = Some(value.into()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    for (name, value) in [
        ("--files", options.files),
        ("--partitions", options.partitions),
        ("--runs", options.runs),
        ("--task-slots", options.task_slots),
    ] {
        if value == 0 {
            return Err(format!("{name} is 0; pass at least 1"));
        }
    }
    options.executors.retain(|count| *count > 0);
    if let Some(count) = options
        .executors
        .iter()
        .find(|count| **count > options.task_slots)
    {
        return Err(format!(
            "{count} executors need at least {count} task slots but --task-slots is {}; raise \
             --task-slots",
            options.task_slots
        ));
    }
    Ok(options)
}

/// Builds the clean and guard stages over the sensor files.
fn chain(sensors: &Path, key_file: &Path, stations: Vec<String>) -> Result<ColumnChain, String> {
    let rules: RulesConfig = serde_json::from_value(serde_json::json!({"rules": [
        {"column": "PM2.5", "check": {"range": {"min": 0, "max": 500}}},
        {"column": "station", "check": {"allowed": stations}, "action": "correct"}
    ]}))
    .map_err(|error| format!("invalid rules: {error}"))?;
    let canonicalise = CanonicaliseConfig {
        numeric: vec!["PM2.5".into(), "PM10".into()],
        trim: vec!["station".into()],
        timestamp: Some(Default::default()),
        ..CanonicaliseConfig::default()
    };
    ColumnChain::new(ChainInput::Parquet(sensors.to_path_buf()))
        .canonicalise(&canonicalise)
        .and_then(|chain| chain.rules(&rules))
        .and_then(|chain| {
            chain.mask_value(
                "station",
                PiiKind::Place,
                MaskOperator::Pseudonym,
                Some(KeySource::file(key_file)),
            )
        })
        .map_err(|error| format!("the chain does not plan: {error}"))
}

/// Rows and non-null cells per output column of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Counts {
    rows: i64,
    non_null: Vec<(String, i64)>,
}

fn counts(batches: &[RecordBatch]) -> Result<Counts, String> {
    let batch = batches
        .iter()
        .find(|batch| batch.num_rows() > 0)
        .ok_or("the count query returned no row")?;
    let mut rows = None;
    let mut non_null = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let values = column
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| format!("count {} is not Int64", field.name()))?;
        if values.is_null(0) {
            return Err(format!("count {} is null", field.name()));
        }
        if field.name() == ROWS {
            rows = Some(values.value(0));
        } else {
            non_null.push((field.name().clone(), values.value(0)));
        }
    }
    Ok(Counts {
        rows: rows.ok_or("the count query lost its row count")?,
        non_null,
    })
}

/// Alias of the row count in the count query.
const ROWS: &str = "__rows";

/// Runs the chain and its count query once and returns the counts and the seconds.
async fn run_once(ctx: &SessionContext, chain: &ColumnChain) -> Result<(Counts, f64), String> {
    let started = Instant::now();
    let governed = chain
        .plan(ctx)
        .await
        .map_err(|error| format!("planning failed: {error}"))?;
    let mut aggregates = vec![count_all().alias(ROWS)];
    for field in governed.schema().fields() {
        aggregates.push(count(ident(field.name())).alias(field.name()));
    }
    let batches = governed
        .aggregate(Vec::new(), aggregates)
        .map_err(|error| format!("the count query does not plan: {error}"))?
        .collect()
        .await
        .map_err(|error| format!("the run failed: {error}"))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok((counts(&batches)?, seconds))
}

/// Figures of one engine.
#[derive(Debug, Clone, Serialize)]
struct Measurement {
    engine: String,
    executors: usize,
    task_slots_per_executor: Vec<usize>,
    seconds: Vec<f64>,
    median_seconds: f64,
    rows: i64,
    rows_per_second: f64,
    /// Median seconds divided by the local median; 1 for the local context.
    ratio_to_local: f64,
    #[serde(skip)]
    counts: Counts,
}

/// An engine under test: a context, and the cluster behind it for Ballista.
struct Engine {
    name: String,
    executors: usize,
    slots: Vec<usize>,
    ctx: SessionContext,
    /// Cluster processes, stopped when the engine is dropped.
    _cluster: Option<processes::Cluster>,
    seconds: Vec<f64>,
    counts: Option<Counts>,
}

/// Starts a cluster of `slots.len()` executors and connects a client to it.
async fn ballista_engine(
    data_dir: &Path,
    cluster_bin: &Path,
    slots: Vec<usize>,
    config: SessionConfig,
) -> Result<Engine, String> {
    let executors = slots.len();
    let log_dir = data::log_dir(data_dir, executors);
    let cluster = processes::Cluster::start(cluster_bin, &slots, &log_dir)?;
    let url = format!("df://127.0.0.1:{}", cluster.scheduler_port);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let ctx = SessionContext::remote_with_state(&url, state)
        .await
        .map_err(|error| format!("connecting to {url} failed: {error}"))?;
    // One small job first, so that executor registration is not timed.
    ctx.sql("SELECT 1")
        .await
        .map_err(|error| error.to_string())?
        .collect()
        .await
        .map_err(|error| format!("the first job on the cluster failed: {error}"))?;
    Ok(Engine {
        name: format!("ballista, {executors} executor(s)"),
        executors,
        slots,
        ctx,
        _cluster: Some(cluster),
        seconds: Vec::new(),
        counts: None,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

/// Splits `total` task slots evenly between `executors`, the first ones taking the rest.
fn split_slots(total: usize, executors: usize) -> Vec<usize> {
    (0..executors)
        .map(|index| total / executors + usize::from(index < total % executors))
        .collect()
}

/// Reads every input file once, so that no engine pays for the first read from disk.
fn warm_page_cache(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("reading {} failed: {error}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        let mut file = std::fs::File::open(&path)
            .map_err(|error| format!("opening {} failed: {error}", path.display()))?;
        std::io::copy(&mut file, &mut std::io::sink())
            .map_err(|error| format!("reading {} failed: {error}", path.display()))?;
    }
    Ok(())
}

/// Returns the 1, 5 and 15 minute load averages of Linux, because other processes on the
/// machine change the figures; `None` elsewhere.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[derive(Serialize)]
struct Report<'a> {
    profile: &'static str,
    cpu_cores: usize,
    /// The first three fields of `/proc/loadavg` before and after the runs, where it exists.
    load_average_before: Option<String>,
    load_average_after: Option<String>,
    input: &'a data::Manifest,
    input_write_seconds: Option<f64>,
    partitions: usize,
    runs: usize,
    output: &'static str,
    measurements: &'a [Measurement],
    goal_max_ratio_one_executor: f64,
    goal_met: Option<bool>,
}

/// The largest Ballista/local ratio with one executor that the benchmark accepts.
const GOAL_RATIO: f64 = 1.5;

async fn run(options: Options) -> Result<(), String> {
    let cluster_bin = match &options.cluster_bin {
        Some(path) => path.clone(),
        None => processes::default_binary()?,
    };
    if !options.executors.is_empty() && !cluster_bin.is_file() {
        return Err(format!(
            "{} is not a file; build it with `cargo build -p governance-ballista --bin \
             governance-cluster` in the profile of this example, or pass --cluster-bin PATH",
            cluster_bin.display()
        ));
    }

    println!(
        "input: synthetic city scale {}, {} days, {} files in {}",
        options.scale,
        options.days,
        options.files,
        options.data.display()
    );
    let input = data::prepare(&options.data, options.scale, options.days, options.files)?;
    match input.write_seconds {
        Some(seconds) => println!(
            "  wrote {} rows, {:.1} MB, in {seconds:.1} s",
            input.manifest.rows,
            input.manifest.bytes as f64 / 1e6
        ),
        None => println!(
            "  reused {} rows, {:.1} MB",
            input.manifest.rows,
            input.manifest.bytes as f64 / 1e6
        ),
    }
    warm_page_cache(&input.sensors)?;
    let chain = chain(
        &input.sensors,
        &input.key_file,
        data::stations(options.scale, options.days)?,
    )?;
    let config = || session::ballista_config().with_target_partitions(options.partitions);

    let load_before = load_average();
    if let Some(load) = &load_before {
        println!("load average before the runs (1, 5, 15 minutes): {load}");
    }
    println!(
        "local: plain DataFusion context, {} partitions",
        options.partitions
    );
    let mut engines = vec![Engine {
        name: "local".into(),
        executors: 0,
        slots: Vec::new(),
        ctx: SessionContext::new_with_config(config()),
        _cluster: None,
        seconds: Vec::new(),
        counts: None,
    }];
    for &executors in &options.executors {
        let slots = split_slots(options.task_slots, executors);
        println!("ballista: {executors} executor(s) with task slots {slots:?}");
        engines.push(ballista_engine(&options.data, &cluster_bin, slots, config()).await?);
    }

    // Runs go round the engines, so that a change in the machine's load while the benchmark
    // runs falls on every engine alike.
    for run in 1..=options.runs {
        for engine in &mut engines {
            let (counts, elapsed) = run_once(&engine.ctx, &chain).await?;
            println!(
                "  run {run}, {}: {} rows in {elapsed:.2} s",
                engine.name, counts.rows
            );
            if let Some(first) = &engine.counts
                && first != &counts
            {
                return Err(format!(
                    "{} counted {counts:?} in run {run} but {first:?} in run 1",
                    engine.name
                ));
            }
            engine.counts = Some(counts);
            engine.seconds.push(elapsed);
        }
    }

    let mut measurements = Vec::new();
    for engine in &engines {
        let counts = engine.counts.clone().ok_or("no run was made")?;
        let median_seconds = median(&engine.seconds);
        measurements.push(Measurement {
            engine: engine.name.clone(),
            executors: engine.executors,
            task_slots_per_executor: engine.slots.clone(),
            seconds: engine.seconds.clone(),
            median_seconds,
            rows: counts.rows,
            rows_per_second: counts.rows as f64 / median_seconds,
            ratio_to_local: 1.0,
            counts,
        });
    }
    drop(engines);
    let (local, clusters) = measurements
        .split_first_mut()
        .ok_or("no engine was measured")?;
    for measurement in clusters.iter_mut() {
        if measurement.counts != local.counts {
            return Err(format!(
                "{} counted {:?}, the local context {:?}",
                measurement.engine, measurement.counts, local.counts
            ));
        }
        measurement.ratio_to_local = measurement.median_seconds / local.median_seconds;
    }
    let expected = local.counts.clone();

    println!();
    println!(
        "{:<26} {:>12} {:>10} {:>14} {:>14}",
        "engine", "rows", "seconds", "rows/s", "vs local"
    );
    for measurement in &measurements {
        println!(
            "{:<26} {:>12} {:>10.2} {:>14.0} {:>13.2}x",
            measurement.engine,
            measurement.rows,
            measurement.median_seconds,
            measurement.rows_per_second,
            measurement.ratio_to_local
        );
    }
    let load_after = load_average();
    if let Some(load) = &load_after {
        println!("load average after the runs (1, 5, 15 minutes): {load}");
    }
    let goal_met = measurements
        .iter()
        .find(|measurement| measurement.executors == 1)
        .map(|measurement| measurement.ratio_to_local <= GOAL_RATIO);
    match goal_met {
        Some(true) => println!("goal met: one executor within {GOAL_RATIO}x of local"),
        Some(false) => println!("goal missed: one executor above {GOAL_RATIO}x of local"),
        None => println!("no one-executor run, so the goal was not checked"),
    }
    println!(
        "non-null cells: {}",
        expected
            .non_null
            .iter()
            .map(|(name, count)| format!("{name}={count}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    if let Some(path) = &options.json {
        let report = Report {
            profile: if cfg!(debug_assertions) {
                "dev"
            } else {
                "release"
            },
            cpu_cores: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1),
            load_average_before: load_before,
            load_average_after: load_after,
            input: &input.manifest,
            input_write_seconds: input.write_seconds,
            partitions: options.partitions,
            runs: options.runs,
            output: "count of the non-null cells of every output column",
            measurements: &measurements,
            goal_max_ratio_one_executor: GOAL_RATIO,
            goal_met,
        };
        let text = serde_json::to_string_pretty(&report).map_err(|error| error.to_string())?;
        std::fs::write(path, text)
            .map_err(|error| format!("writing {} failed: {error}", path.display()))?;
        println!("figures written to {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: the async runtime failed to start: {error}");
            return ExitCode::from(1);
        }
    };
    let data = options.data.clone();
    let keep = options.keep;
    let result = runtime.block_on(run(options));
    // The input is deleted also when a run failed, unless --keep is given.
    let removed = if keep { Ok(()) } else { data::remove(&data) };
    match result.and(removed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
