//! Benchmark of the cleaning chain against the same transforms written as one bare Polars
//! query, and of the runner's peak memory as the input grows.
//!
//! ```text
//! cargo bench --bench chain --features polars
//! cargo bench --profile dev --bench chain --features polars   # quicker to build
//! ```
//!
//! Part 1 loads the Beijing multi-site air-quality CSV files (folder
//! `city/beijing_multisite_aq` under `GOVERNANCE_DATA_DIR`, by default `../shared/data` beside
//! the workspace) into memory once. It then times, as the median of three runs each:
//!
//! - the cleaners Canonicalise, Rules, Dedupe, FillGaps and RobustOutliers, run by
//!   [`governance::Chain`] from an in-memory replay collector to a counting applicator;
//! - the same transforms as one Polars lazy query over one data frame of the same rows.
//!
//! The two do not do identical work. The Polars query keeps no issue log, audit log or
//! quarantine, and it neither trims nor corrects station names. It fills null runs of any
//! length, where the chain fills at most three rows, and it takes the median and MAD over each
//! whole series, where the chain uses a sliding sample of recent values. The ratio of the two
//! times is therefore a guide to the chain's overhead, not an equal-work comparison. The
//! per-stage times of the chain overlap, because its stages run concurrently.
//!
//! Part 2 runs each workload in a child process of this binary, so that each peak resident set
//! size (`VmHWM` from `/proc/self/status`, Linux only) belongs to one workload. The workloads
//! are the Beijing chain reading the CSV files as it goes, the synthetic city at scale 1 and 10
//! over 60 days, and the synthetic city at scale 1 over 600 days. Scale multiplies the stations, and with them the state
//! that the cleaners keep per station. The longer run multiplies the rows by time instead.
//! With `CHAIN_BENCH_RSS_DETAIL` set, a child also prints its final `RssAnon` and `RssFile`
//! lines, to tell heap growth from the mapped binary.
//!
//! Every figure is one line of text; the last line holds all figures as one JSON object.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench binary reports its figures on stdout and its failures on stderr"
)]

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governance::audit::AuditLog;
use governance::clean::{Canonicalise, Dedupe, FillGaps, RobustOutliers, Rules};
use governance::collect::{
    ColumnSpec, CsvCollector, CsvConfig, CsvType, SyntheticCity, SyntheticConfig,
};
use governance::{Applicator, Chain, Collector, GovernedBatch, RunSummary, Stage, StageContext};
use polars::prelude::{
    DataFrame, DataType, Expr, InterpolationMethod, IntoLazy, LazyFrame, PolarsResult,
    UniqueKeepStrategy, col, cols, lit, when,
};
use serde_json::{Value, json};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Timed runs per measurement, of which the median is reported.
const RUNS: usize = 3;

/// Pollutant columns of the Beijing layout, in µg/m³ (CO too, as the source publishes it).
const POLLUTANTS: [&str; 6] = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3"];

/// Plausible range of each pollutant in µg/m³: the rules stage and the Polars query check the
/// same bounds.
const RANGES: [(&str, f64, f64); 6] = [
    ("PM2.5", 0.0, 1000.0),
    ("PM10", 0.0, 2000.0),
    ("SO2", 0.0, 1000.0),
    ("NO2", 0.0, 500.0),
    ("CO", 0.0, 20000.0),
    ("O3", 0.0, 1500.0),
];

/// Station names of the Beijing multi-site air-quality data.
const BEIJING_STATIONS: [&str; 12] = [
    "Aotizhongxin",
    "Changping",
    "Dingling",
    "Dongsi",
    "Guanyuan",
    "Gucheng",
    "Huairou",
    "Nongzhanguan",
    "Shunyi",
    "Tiantan",
    "Wanliu",
    "Wanshouxigong",
];

/// Makes the MAD a consistent estimator of the standard deviation for normal data.
const MAD_SCALE: f64 = 1.4826;

/// Robust z-score above which a value is flagged, the outlier stage's default.
const OUTLIER_THRESHOLD: f64 = 5.0;

/// Prefix of the line in which a child process reports its figures to the parent.
const CHILD_REPORT: &str = "child-report";

const USAGE: &str = "usage: chain [--child beijing|synthetic-SCALE|synthetic-SCALE-DAYSd]";

fn main() -> ExitCode {
    // `cargo bench` passes `--bench` to a bench binary without the libtest harness.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let outcome = match args.as_slice() {
        [] => run_parent(),
        [flag, workload] if flag == "--child" => run_child(workload),
        _ => {
            eprintln!(
                "invalid arguments {args:?}: expected none, or --child and a workload\n{USAGE}"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stages

fn beijing_dir() -> PathBuf {
    let root = std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")));
    root.join("city").join("beijing_multisite_aq")
}

/// Builds a collector of the Beijing sensor columns. Every measurement is declared Float64,
/// because type inference from the first rows would take integer-looking values for Int64
/// and quarantine later decimals.
fn beijing_collector() -> BenchResult<CsvCollector> {
    let mut columns = vec!["year", "month", "day", "hour"];
    columns.extend(POLLUTANTS);
    columns.push("station");

    let spec = |name: &str, data_type| ColumnSpec {
        name: name.to_string(),
        data_type,
    };
    let mut schema = vec![spec("No", CsvType::Int64)];
    for part in ["year", "month", "day", "hour"] {
        schema.push(spec(part, CsvType::Int64));
    }
    for column in POLLUTANTS.iter().chain(&["TEMP", "PRES", "DEWP", "RAIN"]) {
        schema.push(spec(column, CsvType::Float64));
    }
    schema.push(spec("wd", CsvType::Utf8));
    schema.push(spec("WSPM", CsvType::Float64));
    schema.push(spec("station", CsvType::Utf8));

    let mut config = CsvConfig::from_dir(beijing_dir());
    config.name = "csv_sensors".into();
    config.columns = Some(columns.iter().map(|column| column.to_string()).collect());
    config.schema = Some(schema);
    Ok(CsvCollector::new(config)?)
}

/// Builds the chain of the five cleaners, configured as in the `closed_loop` example, between
/// `collector` and `sink`.
fn cleaning_chain(
    collector: impl Collector + 'static,
    stations: &[String],
    sink: CountingSink,
) -> BenchResult<Chain> {
    let canonicalise = Canonicalise::new(serde_json::from_value(json!({
        "numeric": POLLUTANTS,
        "trim": ["station"],
        "timestamp": {"year": "year", "month": "month", "day": "day", "hour": "hour", "output": "timestamp"}
    }))?)?;

    let mut rules = vec![
        json!({"column": "station", "check": "not_null"}),
        json!({"column": "timestamp", "check": "not_null"}),
        json!({"column": "station", "check": {"allowed": stations}, "action": "correct"}),
    ];
    for (column, min, max) in RANGES {
        rules.push(json!({"column": column, "check": {"range": {"min": min, "max": max}}}));
    }
    let rules = Rules::new(serde_json::from_value(json!({ "rules": rules }))?)?;

    let dedupe = Dedupe::new(serde_json::from_value(
        json!({"key": ["station", "timestamp"], "series": "station"}),
    )?)?;
    let fill_gaps = FillGaps::new(serde_json::from_value(json!({
        "series": "station",
        "time": "timestamp",
        "columns": POLLUTANTS,
        "max_gap": 3
    }))?)?;
    let outliers = RobustOutliers::new(serde_json::from_value(json!({
        "series": "station",
        "columns": POLLUTANTS,
        "threshold": OUTLIER_THRESHOLD,
        "swap_pairs": [["PM2.5", "PM10"]]
    }))?)?;

    Ok(Chain::builder()
        .collect(collector)
        .clean(canonicalise)
        .clean(rules)
        .clean(dedupe)
        .clean(fill_gaps)
        .clean(outliers)
        .apply(sink)
        .build()?)
}

/// Replays batches held in memory, so that a timed run excludes reading and parsing files.
struct ReplayCollector {
    batches: Arc<Vec<GovernedBatch>>,
    next: usize,
}

impl ReplayCollector {
    fn new(batches: Arc<Vec<GovernedBatch>>) -> Self {
        ReplayCollector { batches, next: 0 }
    }
}

impl Stage for ReplayCollector {
    fn name(&self) -> &str {
        "replay"
    }
}

impl Collector for ReplayCollector {
    fn start(&mut self, _ctx: &mut StageContext) -> governance::Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> governance::Result<Option<GovernedBatch>> {
        let Some(batch) = self.batches.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        ctx.record_read(batch.num_rows() as u64);
        // A clone shares the Arrow buffers, so replaying copies no column data.
        Ok(Some(batch.clone()))
    }
}

/// Counts the rows and issues that reach the end of the chain and keeps no batch, so that the
/// sink adds next to no time or memory.
#[derive(Clone, Default)]
struct CountingSink {
    rows: Arc<AtomicU64>,
    issues: Arc<AtomicU64>,
}

impl CountingSink {
    fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    fn issues(&self) -> u64 {
        self.issues.load(Ordering::Relaxed)
    }
}

impl Stage for CountingSink {
    fn name(&self) -> &str {
        "counting_sink"
    }
}

impl Applicator for CountingSink {
    fn apply(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> governance::Result<()> {
        self.rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        self.issues
            .fetch_add(batch.issues.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The bare Polars query

/// Divides a non-negative Int64 expression by a positive constant, rounding down. Polars'
/// integer floor division needs its `round_series` feature. Without it, the Float64 quotient,
/// exact enough at these magnitudes, truncated by the cast back to Int64 gives the same result
/// for non-negative values.
fn floor_div(value: Expr, divisor: f64) -> Expr {
    (value.cast(DataType::Float64) / lit(divisor)).cast(DataType::Int64)
}

/// Builds the Int64 timestamp in milliseconds since 1970 from the year, month, day and hour
/// columns with integer arithmetic. Days are counted in 400-year eras of the proleptic
/// Gregorian calendar, with years starting on 1 March so that a leap day ends its year. Valid
/// for years 1 and later, where every quotient below is non-negative.
fn timestamp_ms() -> Expr {
    let month = || col("month");
    let year = col("year")
        - when(month().lt_eq(lit(2i64)))
            .then(lit(1i64))
            .otherwise(lit(0i64));
    let era = floor_div(year.clone(), 400.0);
    let year_of_era = year - era.clone() * lit(400i64);
    let month_from_march = when(month().gt(lit(2i64)))
        .then(month() - lit(3i64))
        .otherwise(month() + lit(9i64));
    let day_of_year =
        floor_div(lit(153i64) * month_from_march + lit(2i64), 5.0) + col("day") - lit(1i64);
    let day_of_era = year_of_era.clone() * lit(365i64) + floor_div(year_of_era.clone(), 4.0)
        - floor_div(year_of_era, 100.0)
        + day_of_year;
    // 719_468 days separate 0000-03-01, where eras start, from 1970-01-01.
    let days = era * lit(146_097i64) + day_of_era - lit(719_468i64);
    (days * lit(24i64) + col("hour")) * lit(3_600_000i64)
}

/// Returns the expressions of the robust z-score screen `|x - median| / (1.4826 * MAD)` per
/// station in three steps: the median, the MAD around it, and the flag of values whose score
/// is above the threshold. Each step reads the columns that the previous one added, while the
/// expressions within a step are independent, so Polars may run them in parallel.
fn robust_outlier_steps() -> PolarsResult<[Vec<Expr>; 3]> {
    let mut medians = Vec::new();
    let mut mads = Vec::new();
    let mut flags = Vec::new();
    for column in POLLUTANTS {
        let median = format!("{column}_median");
        let mad = format!("{column}_mad");
        let deviation = || (col(column) - col(median.as_str())).abs();
        medians.push(
            col(column)
                .median()
                .over([col("station")])?
                .alias(median.as_str()),
        );
        mads.push(
            deviation()
                .median()
                .over([col("station")])?
                .alias(mad.as_str()),
        );
        let score = deviation() / (lit(MAD_SCALE) * col(mad.as_str()));
        flags.push(
            score
                .gt(lit(OUTLIER_THRESHOLD))
                .alias(format!("{column}_outlier")),
        );
    }
    Ok([medians, mads, flags])
}

/// Builds the transforms of the cleaning chain as one lazy query: timestamp, rule flags,
/// de-duplication on (station, timestamp) keeping the first row, linear interpolation per
/// station, robust outlier and swap flags.
fn polars_query(frame: DataFrame, stations: &[String]) -> PolarsResult<LazyFrame> {
    let allowed = stations
        .iter()
        .map(|station| col("station").eq(lit(station.as_str())))
        .reduce(Expr::or)
        .unwrap_or_else(|| lit(false));
    let mut rule_flags = vec![
        col("station").is_null().alias("station_missing"),
        col("timestamp").is_null().alias("timestamp_missing"),
        allowed.not().alias("station_not_allowed"),
    ];
    for (column, min, max) in RANGES {
        let outside = col(column).lt(lit(min)).or(col(column).gt(lit(max)));
        rule_flags.push(outside.alias(format!("{column}_out_of_range")));
    }

    let filled = POLLUTANTS
        .iter()
        .map(|column| {
            col(*column)
                .interpolate(InterpolationMethod::Linear)
                .over([col("station")])
        })
        .collect::<PolarsResult<Vec<Expr>>>()?;

    let [medians, mads, mut screens] = robust_outlier_steps()?;
    screens.push(col("PM2.5").gt(col("PM10")).alias("PM2.5_PM10_swapped"));
    let helpers = POLLUTANTS
        .iter()
        .flat_map(|column| [format!("{column}_median"), format!("{column}_mad")]);

    Ok(frame
        .lazy()
        .with_column(timestamp_ms().alias("timestamp"))
        .with_columns(rule_flags)
        .unique_stable(
            Some(cols(["station", "timestamp"])),
            UniqueKeepStrategy::First,
        )
        .with_columns(filled)
        .with_columns(medians)
        .with_columns(mads)
        .with_columns(screens)
        .drop(cols(helpers)))
}

/// Returns the number of true values in the Boolean columns whose names end in `suffix`.
fn count_flags(frame: &DataFrame, suffix: &str) -> BenchResult<usize> {
    let mut total = 0;
    for column in frame.columns() {
        if column.name().ends_with(suffix) {
            total += column.as_materialized_series().bool()?.num_trues();
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// Part 1: chain against Polars on the Beijing data held in memory

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

fn seconds_list(runs: &[Duration]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .map(|run| format!("{:.3}", run.as_secs_f64()))
        .collect();
    parts.join(", ")
}

/// Reads every batch of `collector` into memory. Returns the batches and the number of
/// quarantined rows.
fn load_batches(collector: &mut impl Collector) -> BenchResult<(Vec<GovernedBatch>, usize)> {
    let mut ctx = StageContext::new(collector.name(), 1, AuditLog::in_memory().into_handle());
    collector.start(&mut ctx)?;
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx)? {
        batches.push(batch);
    }
    Ok((batches, ctx.quarantined_len()))
}

fn to_frame(batches: &[GovernedBatch]) -> BenchResult<DataFrame> {
    let mut frames = batches.iter().map(governance::polars::to_dataframe);
    let mut frame = frames
        .next()
        .ok_or("no batches were read: the input folder holds no rows")??;
    for next in frames {
        frame.vstack_mut_owned(next?)?;
    }
    // One contiguous chunk per column, as a frame read by Polars itself would have.
    frame.rechunk_mut();
    Ok(frame)
}

fn issue_counts(summary: &RunSummary) -> String {
    let parts: Vec<String> = summary
        .issues_by_kind
        .iter()
        .map(|(kind, count)| format!("{}={count}", kind.as_str()))
        .collect();
    parts.join(" ")
}

fn bench_chain(
    batches: &Arc<Vec<GovernedBatch>>,
    stations: &[String],
    rows: u64,
) -> BenchResult<Duration> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        // A fresh chain per run, so that no stage starts with state from an earlier run.
        let sink = CountingSink::default();
        let mut chain = cleaning_chain(
            ReplayCollector::new(Arc::clone(batches)),
            stations,
            sink.clone(),
        )?;
        let started = Instant::now();
        let summary = runtime.block_on(chain.run())?;
        runs.push(started.elapsed());
        last = Some((summary, sink));
    }
    let time = median(runs.clone());
    println!(
        "beijing chain time: {:.3} s median of {RUNS} (runs {} s), {:.0} rows/s",
        time.as_secs_f64(),
        seconds_list(&runs),
        rows as f64 / time.as_secs_f64()
    );
    if let Some((summary, sink)) = last {
        let quarantined = summary.quarantine.len();
        let merged: u64 = summary.stages.iter().map(|stage| stage.rows_merged).sum();
        println!(
            "beijing chain output: {} rows out, {merged} merged, {quarantined} quarantined, {} issues ({})",
            sink.rows(),
            sink.issues(),
            issue_counts(&summary)
        );
        for stage in summary
            .stages
            .iter()
            .filter(|stage| stage.kind == "cleaner")
        {
            println!(
                "beijing chain stage {}: {:.3} s inside the stage",
                stage.name, stage.seconds
            );
        }
    }
    Ok(time)
}

fn bench_polars(frame: &DataFrame, stations: &[String], rows: u64) -> BenchResult<Duration> {
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        // Cloning a frame shares its buffers, so only the query runs inside the timing.
        let input = frame.clone();
        let started = Instant::now();
        let output = polars_query(input, stations)?.collect()?;
        runs.push(started.elapsed());
        last = Some(output);
    }
    let time = median(runs.clone());
    println!(
        "beijing polars time: {:.3} s median of {RUNS} (runs {} s), {:.0} rows/s",
        time.as_secs_f64(),
        seconds_list(&runs),
        rows as f64 / time.as_secs_f64()
    );
    if let Some(output) = last {
        println!(
            "beijing polars output: {} rows out, {} out-of-range flags, {} outlier flags, {} swap flags",
            output.height(),
            count_flags(&output, "_out_of_range")?,
            count_flags(&output, "_outlier")?,
            count_flags(&output, "_swapped")?
        );
    }
    Ok(time)
}

fn part_one(figures: &mut serde_json::Map<String, Value>) -> BenchResult<()> {
    let started = Instant::now();
    let mut collector = beijing_collector()?;
    let (batches, quarantined) = load_batches(&mut collector)?;
    let rows: u64 = batches.iter().map(|batch| batch.num_rows() as u64).sum();
    println!(
        "beijing input: {rows} rows in {} batches from {} files, {quarantined} rows quarantined while reading, loaded in {:.2} s",
        batches.len(),
        collector.files().len(),
        started.elapsed().as_secs_f64()
    );
    let stations: Vec<String> = BEIJING_STATIONS
        .iter()
        .map(|station| station.to_string())
        .collect();

    let frame = to_frame(&batches)?;
    let batches = Arc::new(batches);
    let chain_time = bench_chain(&batches, &stations, rows)?;
    let polars_time = bench_polars(&frame, &stations, rows)?;
    let ratio = chain_time.as_secs_f64() / polars_time.as_secs_f64();
    println!("beijing chain/polars time ratio: {ratio:.2} (goal: at most 2.00)");

    figures.insert("beijing_rows".into(), json!(rows));
    figures.insert("chain_seconds".into(), json!(chain_time.as_secs_f64()));
    figures.insert(
        "chain_rows_per_second".into(),
        json!(rows as f64 / chain_time.as_secs_f64()),
    );
    figures.insert("polars_seconds".into(), json!(polars_time.as_secs_f64()));
    figures.insert(
        "polars_rows_per_second".into(),
        json!(rows as f64 / polars_time.as_secs_f64()),
    );
    figures.insert("chain_polars_ratio".into(), json!(ratio));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Part 2: peak memory of one workload per child process

/// Runs one workload in this process and prints its figures for the parent.
fn run_child(workload: &str) -> BenchResult<()> {
    let started = Instant::now();
    let sink = CountingSink::default();
    let mut chain = if workload == "beijing" {
        let stations: Vec<String> = BEIJING_STATIONS
            .iter()
            .map(|station| station.to_string())
            .collect();
        cleaning_chain(beijing_collector()?, &stations, sink.clone())?
    } else if let Some(spec) = workload.strip_prefix("synthetic-") {
        let city = synthetic_city(spec)?;
        cleaning_chain(city.sensor_collector(), city.stations(), sink.clone())?
    } else {
        return Err(format!(
            "unknown workload {workload:?}: expected beijing, synthetic-SCALE or \
             synthetic-SCALE-DAYSd\n{USAGE}"
        )
        .into());
    };
    chain.run_blocking()?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib()?;
    println!(
        "{CHILD_REPORT} peak_rss_kib={peak} rows={} seconds={seconds:.3}",
        sink.rows()
    );
    if std::env::var_os("CHAIN_BENCH_RSS_DETAIL").is_some() {
        let status = std::fs::read_to_string("/proc/self/status")?;
        for line in status.lines().filter(|line| line.starts_with("Rss")) {
            println!("{line}");
        }
    }
    Ok(())
}

/// Builds the synthetic city of a workload named `synthetic-SCALE` (60 days) or
/// `synthetic-SCALE-DAYSd`. The `spec` is the part after `synthetic-`.
fn synthetic_city(spec: &str) -> BenchResult<SyntheticCity> {
    let invalid = || {
        format!(
            "invalid synthetic workload {spec:?}: expected SCALE or SCALE-DAYSd with positive \
             integers, such as 10 or 1-600d"
        )
    };
    let (scale, days) = match spec.split_once('-') {
        Some((scale, days)) => (scale, Some(days.strip_suffix('d').ok_or_else(invalid)?)),
        None => (spec, None),
    };
    let defaults = SyntheticConfig::default();
    let days = match days {
        Some(days) => days.parse().map_err(|_| invalid())?,
        None => defaults.days,
    };
    let config = SyntheticConfig {
        scale: scale.parse().map_err(|_| invalid())?,
        days,
        ..defaults
    };
    Ok(SyntheticCity::new(config)?)
}

/// Returns this process's peak resident set size in KiB.
fn peak_rss_kib() -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|error| {
        format!("cannot read /proc/self/status ({error}): peak memory is measured on Linux only")
    })?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .ok_or("/proc/self/status has no VmHWM line: peak memory is measured on Linux only")?;
    let kib = line.trim().trim_end_matches("kB").trim();
    Ok(kib
        .parse()
        .map_err(|_| format!("invalid VmHWM value {kib:?} in /proc/self/status"))?)
}

/// Figures a child process reported.
struct ChildFigures {
    peak_rss_kib: u64,
    rows: u64,
    seconds: f64,
}

fn report_value<'a>(line: &'a str, key: &str) -> BenchResult<&'a str> {
    line.split_whitespace()
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        .ok_or_else(|| format!("child report {line:?} has no {key}").into())
}

/// Runs `workload` in a child process of this binary and parses its report.
fn measure_child(workload: &str) -> BenchResult<ChildFigures> {
    let exe = std::env::current_exe()?;
    let output = Command::new(&exe).args(["--child", workload]).output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "child {workload:?} failed with {}: {}",
            output.status,
            stderr.trim()
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with(CHILD_REPORT))
        .ok_or_else(|| format!("child {workload:?} printed no {CHILD_REPORT} line: {stdout:?}"))?;
    Ok(ChildFigures {
        peak_rss_kib: report_value(line, "peak_rss_kib")?.parse()?,
        rows: report_value(line, "rows")?.parse()?,
        seconds: report_value(line, "seconds")?.parse()?,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn part_two(beijing: bool, figures: &mut serde_json::Map<String, Value>) -> BenchResult<()> {
    let mut workloads = Vec::new();
    if beijing {
        workloads.push(("beijing", "beijing chain reading the csv files"));
    }
    workloads.push(("synthetic-1", "synthetic city scale 1, 60 days"));
    workloads.push(("synthetic-10", "synthetic city scale 10, 60 days"));
    // Ten times the rows of scale 1, by time instead of by stations, so that the number of
    // stations, and with it the state the cleaners keep per station, stays the same.
    workloads.push(("synthetic-1-600d", "synthetic city scale 1, 600 days"));

    let mut peaks = std::collections::HashMap::new();
    for (workload, label) in workloads {
        let child = measure_child(workload)?;
        println!(
            "peak rss {label}: {:.1} MiB ({} rows delivered in {:.2} s)",
            mib(child.peak_rss_kib),
            child.rows,
            child.seconds
        );
        let key = workload.replace('-', "_");
        figures.insert(format!("peak_rss_kib_{key}"), json!(child.peak_rss_kib));
        figures.insert(format!("rows_{key}"), json!(child.rows));
        peaks.insert(workload, child.peak_rss_kib as f64);
    }
    let ratios = [
        (
            "synthetic-10",
            "scale 10 / scale 1",
            "peak_rss_ratio_synthetic_10_1",
            " (goal: at most 1.20)",
        ),
        (
            "synthetic-1-600d",
            "600 days / 60 days at scale 1",
            "peak_rss_ratio_synthetic_600d_60d",
            "",
        ),
    ];
    for (workload, label, key, goal) in ratios {
        if let (Some(small), Some(large)) = (peaks.get("synthetic-1"), peaks.get(workload)) {
            let ratio = large / small;
            println!("peak rss ratio synthetic {label}: {ratio:.3}{goal}");
            figures.insert(key.into(), json!(ratio));
        }
    }
    Ok(())
}

fn run_parent() -> BenchResult<()> {
    let mut figures = serde_json::Map::new();
    figures.insert("bench".into(), json!("chain"));
    figures.insert("debug_assertions".into(), json!(cfg!(debug_assertions)));

    let dir = beijing_dir();
    let beijing = dir.is_dir();
    if beijing {
        part_one(&mut figures)?;
    } else {
        println!(
            "skipped: no Beijing data at {}; set GOVERNANCE_DATA_DIR to the folder that holds city/beijing_multisite_aq",
            dir.display()
        );
    }
    part_two(beijing, &mut figures)?;
    println!("{}", Value::Object(figures));
    Ok(())
}
