//! Load throughput of the PostgreSQL sink against a bare binary COPY of the same rows.
//!
//! Starts a throwaway PostgreSQL cluster on 127.0.0.1 as the tests do, and skips with a
//! message when the server binaries are absent. It generates N rows of a typical air-quality
//! sensor schema and loads them three ways into fresh tables of the same layout:
//!
//! 1. bare COPY: `COPY ... FROM STDIN (FORMAT binary)` written row by row with
//!    `tokio_postgres::binary_copy::BinaryCopyInWriter` from plain Rust values;
//! 2. the sink's async core, `PostgresWriter`, from Arrow batches;
//! 3. `PostgresSink` as the applicator of a chain, from the same Arrow batches.
//!
//! Each load is one transaction and is timed to its commit; data generation is not timed.
//! The three loads run in turn, `--repeat` times (3 by default) into fresh tables, so that
//! load from other processes touches all three alike. It prints the median and the best
//! rows per second of each, and the ratio of the medians to bare COPY.
//!
//!     cargo bench -p governance-apply --bench postgres_sink -- --rows 1000000 --repeat 5

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark binary prints its figures and usage"
)]

#[path = "../tests/support/pg.rs"]
mod pg;

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use governance_apply::{PostgresSink, PostgresSinkConfig, PostgresWriter};
use governance_core::{
    Chain, Collector, GovernedBatch, Provenance, Result, RowIdAllocator, Stage, StageContext,
};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

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

/// 2013-03-01 00:00 UTC in microseconds since 1970-01-01.
const START_MICROS: i64 = 1_362_096_000_000_000;

struct Options {
    rows: usize,
    batch_rows: usize,
    repeat: usize,
}

fn parse_options() -> std::result::Result<Options, String> {
    let mut options = Options {
        rows: 1_000_000,
        batch_rows: 65_536,
        repeat: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> std::result::Result<usize, String> {
            let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
            value
                .parse::<usize>()
                .ok()
                .filter(|count| *count > 0)
                .ok_or_else(|| format!("{name} {value:?} is not a positive integer"))
        };
        match arg.as_str() {
            "--rows" => options.rows = number("--rows")?,
            "--batch-rows" => options.batch_rows = number("--batch-rows")?,
            "--repeat" => options.repeat = number("--repeat")?,
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "--help" | "-h" => {
                return Err("usage: postgres_sink [--rows N (default 1000000)] \
                            [--batch-rows N (default 65536)] [--repeat N (default 3)]"
                    .into());
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(options)
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("sensor_id", DataType::Int32, false),
        Field::new(
            "observed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("pm25", DataType::Float64, true),
        Field::new("pm10", DataType::Float64, true),
        Field::new("no2", DataType::Float64, true),
        Field::new("temperature", DataType::Float64, true),
        Field::new("humidity", DataType::Float64, true),
        Field::new("valid", DataType::Boolean, false),
    ]))
}

/// One generated reading; every value is a function of the row number.
struct Reading {
    station: &'static str,
    sensor_id: i32,
    observed_at_micros: i64,
    pm25: Option<f64>,
    pm10: f64,
    no2: f64,
    temperature: f64,
    humidity: f64,
    valid: bool,
}

fn reading(row: usize) -> Reading {
    let station = row % STATIONS.len();
    let hour = (row / STATIONS.len()) as i64;
    let wave = (row % 97) as f64;
    Reading {
        station: STATIONS[station],
        sensor_id: 1000 + station as i32,
        observed_at_micros: START_MICROS + hour * 3_600_000_000,
        // Every 50th reading is missing, as sensor gaps are.
        pm25: (!row.is_multiple_of(50)).then_some(20.0 + wave * 1.5),
        pm10: 40.0 + wave * 2.0,
        no2: 15.0 + (row % 31) as f64,
        temperature: -5.0 + (row % 400) as f64 / 10.0,
        humidity: 30.0 + (row % 60) as f64,
        valid: !row.is_multiple_of(1000),
    }
}

fn arrow_batches(options: &Options) -> Vec<GovernedBatch> {
    let ids = RowIdAllocator::default();
    let mut batches = Vec::new();
    let mut start = 0;
    while start < options.rows {
        let end = (start + options.batch_rows).min(options.rows);
        let readings: Vec<Reading> = (start..end).map(reading).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                readings.iter().map(|r| r.station),
            )),
            Arc::new(Int32Array::from_iter_values(
                readings.iter().map(|r| r.sensor_id),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    readings.iter().map(|r| r.observed_at_micros),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from_iter(readings.iter().map(|r| r.pm25))),
            Arc::new(Float64Array::from_iter_values(
                readings.iter().map(|r| r.pm10),
            )),
            Arc::new(Float64Array::from_iter_values(
                readings.iter().map(|r| r.no2),
            )),
            Arc::new(Float64Array::from_iter_values(
                readings.iter().map(|r| r.temperature),
            )),
            Arc::new(Float64Array::from_iter_values(
                readings.iter().map(|r| r.humidity),
            )),
            Arc::new(BooleanArray::from_iter(
                readings.iter().map(|r| Some(r.valid)),
            )),
        ];
        let data = RecordBatch::try_new(schema(), columns).expect("generated batch");
        let row_ids = ids.allocate(data.num_rows());
        batches.push(
            GovernedBatch::try_new(data, row_ids, Provenance::new("generated"))
                .expect("generated governed batch"),
        );
        start = end;
    }
    batches
}

/// The rows of the bare COPY, as a client without Arrow would hold them.
struct PlainRow {
    row_id: i64,
    station: String,
    sensor_id: i32,
    observed_at: SystemTime,
    pm25: Option<f64>,
    pm10: f64,
    no2: f64,
    temperature: f64,
    humidity: f64,
    valid: bool,
}

fn plain_rows(options: &Options) -> Vec<PlainRow> {
    (0..options.rows)
        .map(|row| {
            let reading = reading(row);
            PlainRow {
                row_id: row as i64,
                station: reading.station.to_string(),
                sensor_id: reading.sensor_id,
                observed_at: UNIX_EPOCH + Duration::from_micros(reading.observed_at_micros as u64),
                pm25: reading.pm25,
                pm10: reading.pm10,
                no2: reading.no2,
                temperature: reading.temperature,
                humidity: reading.humidity,
                valid: reading.valid,
            }
        })
        .collect()
}

/// Creates the bare COPY's table with the layout that the sink creates for [`schema`].
fn bare_table_ddl(table: &str) -> String {
    format!(
        "CREATE TABLE {table} (__row_id bigint NOT NULL, station text NOT NULL, \
         sensor_id integer NOT NULL, observed_at timestamp with time zone NOT NULL, \
         pm25 double precision, pm10 double precision, no2 double precision, \
         temperature double precision, humidity double precision, valid boolean NOT NULL)"
    )
}

async fn bare_copy(connection: &str, table: &str, rows: &[PlainRow]) -> Duration {
    let (mut client, connection) = tokio_postgres::connect(connection, tokio_postgres::NoTls)
        .await
        .expect("connect for the bare COPY");
    tokio::spawn(connection);
    client
        .batch_execute(&bare_table_ddl(table))
        .await
        .expect("create the bare COPY table");
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::INT4,
        Type::TIMESTAMPTZ,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::BOOL,
    ];

    let clock = Instant::now();
    let transaction = client.transaction().await.expect("begin");
    let sink = transaction
        .copy_in(&format!(
            "COPY {table} (__row_id, station, sensor_id, observed_at, pm25, pm10, no2, \
             temperature, humidity, valid) FROM STDIN (FORMAT binary)"
        ))
        .await
        .expect("start COPY");
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for row in rows {
        let values: [&(dyn ToSql + Sync); 10] = [
            &row.row_id,
            &row.station,
            &row.sensor_id,
            &row.observed_at,
            &row.pm25,
            &row.pm10,
            &row.no2,
            &row.temperature,
            &row.humidity,
            &row.valid,
        ];
        writer.as_mut().write(&values).await.expect("write a row");
    }
    writer.as_mut().finish().await.expect("finish COPY");
    transaction.commit().await.expect("commit");
    clock.elapsed()
}

async fn writer_load(config: PostgresSinkConfig, batches: &[GovernedBatch]) -> Duration {
    let mut writer = PostgresWriter::connect(config)
        .await
        .expect("connect the writer");
    let clock = Instant::now();
    for batch in batches {
        writer.write(batch).await.expect("write a batch");
    }
    writer
        .commit(&serde_json::json!({"rows": batches.len()}))
        .await
        .expect("commit");
    clock.elapsed()
}

/// Hands out the pre-generated batches, so the chain run times the sink, not generation.
struct Replay {
    batches: Vec<GovernedBatch>,
    next: usize,
}

impl Stage for Replay {
    fn name(&self) -> &str {
        "replay"
    }
}

impl Collector for Replay {
    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let batch = self.batches.get(self.next).cloned();
        self.next += 1;
        if let Some(batch) = &batch {
            ctx.record_read(batch.num_rows() as u64);
        }
        Ok(batch)
    }
}

fn chain_load(config: PostgresSinkConfig, batches: Vec<GovernedBatch>) -> Duration {
    let mut sink = PostgresSink::new(config).expect("sink config");
    sink.connect().expect("connect the sink");
    let mut chain = Chain::builder()
        .collect(Replay { batches, next: 0 })
        .apply(sink)
        .build()
        .expect("chain");
    let clock = Instant::now();
    chain.run_blocking().expect("chain run");
    clock.elapsed()
}

fn rate(rows: usize, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let Some(server) = pg::PgServer::start() else {
        eprintln!("postgres_sink benchmark skipped");
        return;
    };
    let version = server.scalar("SHOW server_version").unwrap_or_default();

    let batches = arrow_batches(&options);
    let rows = plain_rows(&options);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let connection = server.connection_string();

    let mut bare = Vec::new();
    let mut writer = Vec::new();
    let mut chain = Vec::new();
    for run in 0..options.repeat {
        let table = format!("bare_copy_{run}");
        bare.push(runtime.block_on(bare_copy(&connection, &table, &rows)));
        let table = format!("sink_writer_{run}");
        let config = PostgresSinkConfig::new(connection.clone(), &table, table.clone());
        writer.push(runtime.block_on(writer_load(config, &batches)));
        let table = format!("sink_chain_{run}");
        let config = PostgresSinkConfig::new(connection.clone(), &table, table.clone());
        chain.push(chain_load(config, batches.clone()));
        for prefix in ["bare_copy", "sink_writer", "sink_chain"] {
            let stored = server.scalar(&format!("SELECT count(*) FROM {prefix}_{run}"));
            assert_eq!(
                stored,
                Some(options.rows.to_string()),
                "rows in table {prefix}_{run}"
            );
        }
    }

    let bare_rate = rate(options.rows, median(&mut bare));
    println!(
        "{} rows of 10 columns in batches of {}, {} runs each, PostgreSQL {version} on \
         127.0.0.1 (throwaway cluster, fsync off)",
        options.rows, options.batch_rows, options.repeat
    );
    println!(
        "{:<44} {:>14} {:>13} {:>13} {:>8}",
        "load", "median seconds", "median rows/s", "best rows/s", "ratio"
    );
    for (name, times) in [
        ("bare COPY (BinaryCopyInWriter, Rust values)", &mut bare),
        ("PostgresWriter (sink core, Arrow batches)", &mut writer),
        ("PostgresSink in a chain", &mut chain),
    ] {
        let middle = median(times);
        let best = times[0];
        let median_rate = rate(options.rows, middle);
        println!(
            "{name:<44} {:>14.3} {:>13.0} {:>13.0} {:>7.2}x",
            middle.as_secs_f64(),
            median_rate,
            rate(options.rows, best),
            median_rate / bare_rate
        );
    }
}
