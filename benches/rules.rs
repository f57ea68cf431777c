//! Throughput of a check suite of 10 typical rules against the same checks written as one
//! hand-written Polars lazy query, on generated rows.
//!
//! ```text
//! cargo bench --profile dev --bench rules --features polars
//! RULES_BENCH_ROWS=10000000 cargo bench --profile dev --bench rules --features polars
//! ```
//!
//! The rows (1,000,000 by default, `RULES_BENCH_ROWS` to change) are generated in memory in
//! batches of 65,536, then converted once to one Polars data frame; neither side's timing
//! includes generation or conversion. Both sides compute the failing count of every rule, and
//! the bench stops with an error when any count differs, so the two do equal counting work.
//! The suite also builds an issue (row id, column, message) for every failing cell; Polars
//! returns counts only.
//!
//! The bench prints the median of three runs of each side, the ratio, and a JSON line, then
//! runs criterion on both for its own statistics. With `RULES_BENCH_PER_RULE=1` it first
//! times each rule alone, as a suite of one rule on the same batches (median of three), to
//! show where the suite spends its time.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench binary reports its figures on stdout and its failures on stderr"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use criterion::{Criterion, Throughput};
use governance::clean::checks::{Suite, SuiteConfig};
use governance::{GovernedBatch, Provenance, RowIdAllocator};
use polars::prelude::{DataFrame, Expr, IntoLazy, LazyFrame, NamedFrom, Series, col, lit};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const BATCH_ROWS: usize = 65_536;
const DEFAULT_ROWS: usize = 1_000_000;
const RUNS: usize = 3;

const STATIONS: [&str; 12] = [
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

/// The ten rules, in the order of the Polars expressions in [`polars_query`].
const RULES: &str = r#"{"rules": [
    {"name": "pm25 not null", "check": {"not_null": {"column": "pm25"}}},
    {"name": "pm25 range", "check": {"range": {"column": "pm25", "min": 0, "max": 1000}}},
    {"name": "hour range", "check": {"range": {"column": "hour", "min": 0, "max": 23}}},
    {"name": "station allowed", "check": {"allowed": {"column": "station", "values": [
        "Aotizhongxin", "Changping", "Dingling", "Dongsi", "Guanyuan", "Gucheng", "Huairou",
        "Nongzhanguan", "Shunyi", "Tiantan", "Wanliu", "Wanshouxigong"]}}},
    {"name": "code pattern", "check": {"pattern": {"column": "code", "regex": "^[A-Z]{2}-[0-9]{4}$"}}},
    {"name": "mail length", "check": {"length": {"column": "mail", "min": 5, "max": 40}}},
    {"name": "id unique", "check": {"unique": {"columns": ["id"]}}},
    {"name": "station not null", "check": {"not_null": {"column": "station", "blank_is_missing": false}}},
    {"name": "station sql", "check": {"sql": {"expression": "pm10 >= pm25"}}},
    {"name": "row count", "check": {"row_count": {"min": 1}}}
]}"#;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Generates row `i`'s values: about 1 in 97 PM2.5 readings is missing, 1 in 101 negative,
/// 1 in 89 hours is 24, 1 in 211 station names misspelt, 1 in 307 codes lower case, 1 in
/// 401 ids repeat an earlier one, and 1 in 131 rows has PM10 below PM2.5.
fn generate(rows: usize) -> BenchResult<Vec<GovernedBatch>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("station", DataType::Utf8, true),
        Field::new("hour", DataType::Int64, true),
        Field::new("pm25", DataType::Float64, true),
        Field::new("pm10", DataType::Float64, true),
        Field::new("code", DataType::Utf8, true),
        Field::new("mail", DataType::Utf8, true),
    ]));
    let ids = RowIdAllocator::default();
    let mut batches = Vec::new();
    let mut start = 0;
    while start < rows {
        let end = (start + BATCH_ROWS).min(rows);
        let range = start..end;
        let id = Int64Array::from_iter_values(range.clone().map(|i| {
            if i % 401 == 400 {
                (i - 7) as i64
            } else {
                i as i64
            }
        }));
        let station = StringArray::from_iter_values(range.clone().map(|i| {
            if i % 211 == 5 {
                "Dongsii".to_string()
            } else {
                STATIONS[i % 12].to_string()
            }
        }));
        let hour = Int64Array::from_iter_values(
            range
                .clone()
                .map(|i| if i % 89 == 3 { 24 } else { (i % 24) as i64 }),
        );
        let pm25 = Float64Array::from_iter(range.clone().map(|i| {
            if i % 97 == 1 {
                None
            } else if i % 101 == 2 {
                Some(-1.0)
            } else {
                Some((i % 500) as f64 * 0.7)
            }
        }));
        let pm10 = Float64Array::from_iter(range.clone().map(|i| {
            let pm25 = (i % 500) as f64 * 0.7;
            Some(if i % 131 == 4 {
                pm25 - 5.0
            } else {
                pm25 * 1.4 + 3.0
            })
        }));
        let code = StringArray::from_iter_values(range.clone().map(|i| {
            if i % 307 == 6 {
                format!("ab-{:04}", i % 10_000)
            } else {
                format!("AB-{:04}", i % 10_000)
            }
        }));
        let mail = StringArray::from_iter_values(range.map(|i| format!("user{i}@city.example")));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id),
            Arc::new(station),
            Arc::new(hour),
            Arc::new(pm25),
            Arc::new(pm10),
            Arc::new(code),
            Arc::new(mail),
        ];
        let data = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        let row_ids = ids.allocate(data.num_rows());
        batches.push(GovernedBatch::try_new(
            data,
            row_ids,
            Provenance::new("bench"),
        )?);
        start = end;
    }
    Ok(batches)
}

/// Runs the suite and returns the failing count of each rule.
fn run_suite(batches: &[GovernedBatch]) -> BenchResult<Vec<u64>> {
    run_rules(batches, RULES)
}

/// Runs a suite configured by `rules` (suite JSON) and returns the failing count of each rule.
fn run_rules(batches: &[GovernedBatch], rules: &str) -> BenchResult<Vec<u64>> {
    let mut suite = Suite::new(SuiteConfig::from_json(rules)?)?;
    let mut issues = 0usize;
    for batch in batches {
        issues += suite.check_batch(batch)?.len();
    }
    let report = suite.finish()?;
    std::hint::black_box(issues);
    Ok(report.results.iter().map(|result| result.failing).collect())
}

fn out_of(column: &str, min: f64, max: f64) -> Expr {
    col(column)
        .lt(lit(min))
        .or(col(column).gt(lit(max)))
        .cast(polars::prelude::DataType::UInt64)
        .sum()
}

/// The same ten checks as one lazy query of failing counts. Row count has no failing rows,
/// so its column is the count of rows below the minimum of 1: zero here.
fn polars_query(frame: LazyFrame) -> LazyFrame {
    let stations = Series::new("stations".into(), STATIONS.to_vec());
    let count = |expr: Expr| expr.cast(polars::prelude::DataType::UInt64).sum();
    let mail_length = col("mail").str().len_chars();
    frame.select([
        col("pm25")
            .null_count()
            .cast(polars::prelude::DataType::UInt64)
            .alias("r0"),
        out_of("pm25", 0.0, 1000.0).alias("r1"),
        out_of("hour", 0.0, 23.0).alias("r2"),
        count(
            col("station")
                .is_in(lit(stations).implode(true), false)
                .not(),
        )
        .alias("r3"),
        count(
            col("code")
                .str()
                .contains(lit("^[A-Z]{2}-[0-9]{4}$"), true)
                .not(),
        )
        .alias("r4"),
        count(mail_length.clone().lt(lit(5)).or(mail_length.gt(lit(40)))).alias("r5"),
        count(col("id").is_duplicated()).alias("r6"),
        col("station")
            .null_count()
            .cast(polars::prelude::DataType::UInt64)
            .alias("r7"),
        count(col("pm10").lt(col("pm25"))).alias("r8"),
        count(col("id").count().lt(lit(1u32))).alias("r9"),
    ])
}

fn run_polars(frame: &DataFrame) -> BenchResult<Vec<u64>> {
    let result = polars_query(frame.clone().lazy()).collect()?;
    let mut counts = Vec::with_capacity(10);
    for index in 0..10 {
        let column = result.column(&format!("r{index}"))?;
        let value = column.get(0)?.extract::<u64>().unwrap_or(0);
        counts.push(value);
    }
    Ok(counts)
}

fn median_seconds(mut work: impl FnMut() -> BenchResult<Vec<u64>>) -> BenchResult<(f64, Vec<u64>)> {
    let mut times = Vec::with_capacity(RUNS);
    let mut counts = Vec::new();
    for _ in 0..RUNS {
        let clock = Instant::now();
        counts = work()?;
        times.push(clock.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[RUNS / 2], counts))
}

/// Prints the median time of each rule run alone as a suite of one rule.
fn time_each_rule(batches: &[GovernedBatch], rows: usize) -> BenchResult<()> {
    let config: serde_json::Value = serde_json::from_str(RULES)?;
    let rules = config["rules"]
        .as_array()
        .ok_or("the bench's RULES JSON has no \"rules\" array")?;
    println!("each rule alone, median of {RUNS}:");
    for rule in rules {
        let single = serde_json::json!({ "rules": [rule] }).to_string();
        let (seconds, _) = median_seconds(|| run_rules(batches, &single))?;
        println!(
            "  {:<18} {seconds:.3} s ({:.2} M rows/s)",
            rule["name"].as_str().unwrap_or("?"),
            rows as f64 / seconds / 1e6
        );
    }
    Ok(())
}

fn run() -> BenchResult<()> {
    let rows = match std::env::var("RULES_BENCH_ROWS") {
        Ok(text) => text.parse::<usize>().map_err(|error| {
            format!("RULES_BENCH_ROWS={text:?} is not a row count ({error}); use a whole number such as 10000000")
        })?,
        Err(_) => DEFAULT_ROWS,
    };
    let batches = generate(rows)?;
    let whole = GovernedBatch::concat(&batches)?
        .ok_or("no rows generated; set RULES_BENCH_ROWS above 0")?;
    let frame = governance::polars::to_dataframe(&whole)?;
    drop(whole);
    if std::env::var("RULES_BENCH_PER_RULE").is_ok_and(|value| value == "1") {
        time_each_rule(&batches, rows)?;
    }

    let (suite_seconds, suite_counts) = median_seconds(|| run_suite(&batches))?;
    let (polars_seconds, polars_counts) = median_seconds(|| run_polars(&frame))?;
    if suite_counts != polars_counts {
        return Err(format!(
            "failing counts differ: suite {suite_counts:?}, Polars {polars_counts:?}"
        )
        .into());
    }
    let ratio = suite_seconds / polars_seconds;
    println!("rows: {rows}, failing counts per rule: {suite_counts:?}");
    println!(
        "suite of 10 rules, median of {RUNS}: {suite_seconds:.3} s ({:.2} M rows/s)",
        rows as f64 / suite_seconds / 1e6
    );
    println!(
        "Polars lazy query, median of {RUNS}: {polars_seconds:.3} s ({:.2} M rows/s)",
        rows as f64 / polars_seconds / 1e6
    );
    println!("suite / Polars: {ratio:.2} (goal: at most 2)");
    println!(
        "{}",
        serde_json::json!({
            "rows": rows,
            "suite_seconds": suite_seconds,
            "polars_seconds": polars_seconds,
            "ratio": ratio,
            "failing": suite_counts,
        })
    );

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = criterion.benchmark_group("rules");
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("suite", |bencher| {
        bencher.iter(|| run_suite(&batches).map_err(|error| error.to_string()))
    });
    group.bench_function("polars", |bencher| {
        bencher.iter(|| run_polars(&frame).map_err(|error| error.to_string()))
    });
    group.finish();
    criterion.final_summary();
    Ok(())
}
