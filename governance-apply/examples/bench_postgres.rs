//! Benchmark of the TLS cost of the PostgreSQL sink: the same rows written with TLS off, with
//! TLS, and with TLS and a client certificate.
//!
//! It starts a throwaway PostgreSQL cluster on a free port of 127.0.0.1 in a temporary folder,
//! with `ssl = on`, a server certificate and a client certificate issued by an authority that
//! rcgen generates, and this pg_hba.conf:
//!
//! ```text
//! hostssl all bench_cert 127.0.0.1/32 scram-sha-256 clientcert=verify-full
//! host    all all        127.0.0.1/32 scram-sha-256
//! ```
//!
//! Each mode writes the same generated governed batches through a `PostgresSink` with
//! `commit = batch`, so every `apply` call is one transaction: binary COPY of the batch, the
//! checkpoint row, and COMMIT. The modes:
//!
//! - `plain`: `ssl_mode = disable`, user `governance`, matched by the `host` rule;
//! - `tls`: `ssl_mode = verify_full` with the generated authority, same user and rule;
//! - `tls_cert`: like `tls`, plus the client certificate of user `bench_cert`, matched by the
//!   `hostssl` rule.
//!
//! The modes run in turn, `--repeat` times, each into a fresh table, and the order rotates
//! with every repetition so that load from other processes touches all modes alike. After
//! each run it checks, through `pg_stat_ssl`, that the sink's connection used TLS as the mode
//! demands, and that the table contains exactly `--rows` rows. It prints, per mode, the median
//! rows/s and MB/s, the median connect time and the median of the per-batch latencies (one
//! `apply` call, timed to its COMMIT), and the ratios of TLS to plain. Data generation and
//! connecting are outside the timed loop.
//!
//! MB/s counts the in-memory size of the Arrow batches (data columns and row ids), not the
//! bytes on the wire. The cluster runs with `fsync = off`, so COMMIT does not wait for the
//! disk and the TLS share is larger than on a server that syncs.
//!
//!     cargo run -p governance-apply --example bench_postgres -- --rows 200000 --batch-rows 5000 --repeat 5 --json figures.json
//!
//! NOTE: the server stops when the program returns or panics, but not when a signal such as
//! Ctrl-C kills it. Then stop it with `pg_ctl stop -D <folder>/data`, using the
//! `governance-pg-*` folder under the temporary directory.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark prints its figures"
)]

#[path = "../tests/support/authority.rs"]
mod authority;
#[path = "../tests/support/pg.rs"]
mod pg;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    Array, ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use authority::Authority;
use governance_apply::{CommitMode, PostgresSink, PostgresSinkConfig, SslMode};
use governance_core::audit::AuditLog;
use governance_core::{Applicator, GovernedBatch, Provenance, RowIdAllocator, StageContext};
use serde_json::json;

type BoxError = Box<dyn std::error::Error>;

/// Role that authenticates with the client certificate, and the certificate's common name.
const CERT_USER: &str = "bench_cert";

/// Stations of the generated readings.
const STATIONS: usize = 40;

/// 2024-01-01 00:00 UTC in microseconds since 1970-01-01.
const START_MICROS: i64 = 1_704_067_200_000_000;

struct Options {
    rows: usize,
    batch_rows: usize,
    repeat: usize,
    json: Option<PathBuf>,
}

const USAGE: &str = "usage: bench_postgres [--rows N (rows per run, default 200000)] \
                     [--batch-rows N (rows per batch and transaction, default 5000)] \
                     [--repeat N (runs per mode, default 5)] [--json FILE (writes the figures)]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        rows: 200_000,
        batch_rows: 5_000,
        repeat: 5,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Err(USAGE.into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{arg} needs a value; {USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|count| *count > 0)
                .ok_or_else(|| format!("{arg} {value:?} is not a positive integer"))
        };
        match arg.as_str() {
            "--rows" => options.rows = number()?,
            "--batch-rows" => options.batch_rows = number()?,
            "--repeat" => options.repeat = number()?,
            "--json" => options.json = Some(PathBuf::from(&value)),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    Ok(options)
}

fn schema() -> SchemaRef {
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        Field::new(
            "observed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("station", DataType::Utf8, false),
        float("pm25"),
        float("pm10"),
        float("no2"),
        float("o3"),
        float("temperature"),
        float("humidity"),
        Field::new("issue_count", DataType::Int32, false),
    ]))
}

/// Generates rows `start..end` of hourly readings of [`STATIONS`] stations. Every value is a
/// function of the row number, and about one reading in 50 lacks PM2.5, as sensor gaps do.
fn generate_batch(
    start: usize,
    end: usize,
    ids: &RowIdAllocator,
) -> Result<GovernedBatch, BoxError> {
    let rows = start..end;
    let wave = |row: usize, period: usize| (row % period) as f64;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(
                rows.clone()
                    .map(|row| START_MICROS + (row / STATIONS) as i64 * 3_600_000_000),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            rows.clone()
                .map(|row| format!("station-{:02}", row % STATIONS)),
        )),
        Arc::new(Float64Array::from_iter(rows.clone().map(|row| {
            (!row.is_multiple_of(50)).then_some(8.0 + wave(row, 97) * 1.5)
        }))),
        Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|row| 20.0 + wave(row, 89) * 2.0),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|row| 10.0 + wave(row, 31)),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|row| 30.0 + wave(row, 53) * 0.8),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|row| -5.0 + wave(row, 400) / 10.0),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|row| 25.0 + wave(row, 70)),
        )),
        Arc::new(Int32Array::from_iter_values(rows.clone().map(|row| {
            i32::from(row.is_multiple_of(50)) + i32::from(row.is_multiple_of(7))
        }))),
    ];
    let data = RecordBatch::try_new(schema(), columns)?;
    let row_ids = ids.allocate(data.num_rows());
    Ok(GovernedBatch::try_new(
        data,
        row_ids,
        Provenance::new("generated readings"),
    )?)
}

fn generate(options: &Options) -> Result<Vec<GovernedBatch>, BoxError> {
    let ids = RowIdAllocator::default();
    let mut batches = Vec::new();
    let mut start = 0;
    while start < options.rows {
        let end = (start + options.batch_rows).min(options.rows);
        batches.push(generate_batch(start, end, &ids)?);
        start = end;
    }
    Ok(batches)
}

/// In-memory size of the batches' Arrow buffers, data columns and row ids, in bytes.
fn arrow_bytes(batches: &[GovernedBatch]) -> usize {
    batches
        .iter()
        .map(|batch| batch.data().get_array_memory_size() + batch.row_ids().get_array_memory_size())
        .sum()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Tls,
    TlsCert,
}

const MODES: [Mode; 3] = [Mode::Plain, Mode::Tls, Mode::TlsCert];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Tls => "tls",
            Mode::TlsCert => "tls_cert",
        }
    }
}

/// The generated certificate files and the running server.
struct Setup {
    server: pg::PgServer,
    root_cert: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    /// Keeps the PEM files until the benchmark ends.
    _files: tempfile::TempDir,
}

/// Generates the certificates and starts the server. Returns `None` when the server binaries
/// are absent, after the helper printed why.
fn start_server() -> Result<Option<Setup>, BoxError> {
    let authority = Authority::generate("bench_postgres CA");
    let files = tempfile::Builder::new()
        .prefix("governance-bench-certs-")
        .tempdir()?;
    let root_cert = authority.write_pem(files.path(), "ca.pem");
    let (certificate, key) = authority.issue_client(CERT_USER);
    let client_cert = files.path().join("client.crt");
    let client_key = files.path().join("client.key");
    std::fs::write(&client_cert, certificate)?;
    std::fs::write(&client_key, key)?;

    let (server_certificate, server_key) = authority.issue(&["127.0.0.1", "localhost"]);
    let rules =
        format!("hostssl all {CERT_USER} 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n");
    let Some(server) = pg::PgServer::start_with_tls_rules(
        &server_certificate,
        &server_key,
        &authority.pem(),
        &rules,
    ) else {
        return Ok(None);
    };
    // A superuser like the plain and TLS runs' user, so that every mode has the same rights.
    // The password is generated by the helper and contains no quote.
    server.query(&format!(
        "CREATE ROLE {CERT_USER} LOGIN SUPERUSER PASSWORD '{}'",
        server.password()
    ));
    Ok(Some(Setup {
        server,
        root_cert,
        client_cert,
        client_key,
        _files: files,
    }))
}

/// Builds the sink's config for `mode`, writing into `table`. The application name lets the
/// benchmark find the sink's connection in `pg_stat_activity`.
fn sink_config(setup: &Setup, mode: Mode, table: &str) -> PostgresSinkConfig {
    let user = if mode == Mode::TlsCert {
        CERT_USER
    } else {
        pg::USER
    };
    let connection = format!(
        "host=127.0.0.1 port={} user={user} password={} dbname=postgres application_name={table}",
        setup.server.port(),
        setup.server.password()
    );
    let mut config = PostgresSinkConfig::new(connection, table, table);
    config.commit = CommitMode::Batch;
    if mode != Mode::Plain {
        config.ssl_mode = SslMode::VerifyFull;
        config.ssl_root_cert = Some(setup.root_cert.clone());
    }
    if mode == Mode::TlsCert {
        config.ssl_client_cert = Some(setup.client_cert.clone());
        config.ssl_client_key = Some(setup.client_key.clone());
    }
    config
}

/// Figures of one run of one mode.
struct Run {
    /// Position of the run in the whole benchmark, from 0.
    order: usize,
    connect: Duration,
    /// Time of the whole write loop, from the first `apply` to the last COMMIT.
    total: Duration,
    /// Time of each `apply` call, which ends with the batch's COMMIT.
    batches: Vec<Duration>,
    /// TLS version and cipher of the connection, as the server reports them.
    tls: Option<(String, String)>,
}

/// Writes `batches` into a fresh `table` in `mode` and checks the connection and the count.
fn run_mode(
    setup: &Setup,
    mode: Mode,
    table: &str,
    batches: &[GovernedBatch],
) -> Result<Run, BoxError> {
    let mut sink = PostgresSink::new(sink_config(setup, mode, table))?;
    let clock = Instant::now();
    sink.connect()?;
    let connect = clock.elapsed();

    let mut ctx = StageContext::new("postgres_sink", 1, AuditLog::in_memory().into_handle());
    let mut latencies = Vec::with_capacity(batches.len());
    let clock = Instant::now();
    for batch in batches {
        let started = Instant::now();
        sink.apply(batch, &mut ctx)?;
        latencies.push(started.elapsed());
    }
    let total = clock.elapsed();

    let tls = check_connection(setup, mode, table)?;
    drop(sink);
    let stored = setup
        .server
        .scalar(&format!("SELECT count(*) FROM {table}"));
    let expected: usize = batches.iter().map(GovernedBatch::num_rows).sum();
    if stored.as_deref() != Some(expected.to_string().as_str()) {
        let count = stored.as_deref().unwrap_or("an unknown number of");
        return Err(format!(
            "table {table} contains {count} rows after the {} run, expected {expected}",
            mode.name()
        )
        .into());
    }
    Ok(Run {
        order: 0,
        connect,
        total,
        batches: latencies,
        tls,
    })
}

/// Checks through `pg_stat_ssl` that the sink's open connection uses TLS, and the client
/// certificate, exactly when `mode` demands them. Returns the TLS version and cipher.
fn check_connection(
    setup: &Setup,
    mode: Mode,
    table: &str,
) -> Result<Option<(String, String)>, BoxError> {
    let rows = setup.server.query(&format!(
        "SELECT s.ssl, s.version, s.cipher, s.client_dn FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '{table}'"
    ));
    let [row] = rows.as_slice() else {
        return Err(format!(
            "expected one server connection named {table} for the {} run, found {}",
            mode.name(),
            rows.len()
        )
        .into());
    };
    let encrypted = row[0].as_deref() == Some("t");
    let client_dn = row[3].clone().unwrap_or_default();
    if encrypted != (mode != Mode::Plain) || client_dn.is_empty() != (mode != Mode::TlsCert) {
        return Err(format!(
            "the {} run's connection has ssl={encrypted} and client DN {client_dn:?}, which the \
             mode does not demand",
            mode.name()
        )
        .into());
    }
    Ok(encrypted.then(|| {
        (
            row[1].clone().unwrap_or_default(),
            row[2].clone().unwrap_or_default(),
        )
    }))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// Medians of one mode over its runs.
struct Summary {
    rows_per_s: f64,
    mb_per_s: f64,
    connect_ms: f64,
    batch_ms: f64,
}

fn summarize(runs: &[Run], rows: usize, bytes: usize) -> Summary {
    let seconds = |run: &Run| run.total.as_secs_f64();
    let mut rates: Vec<f64> = runs.iter().map(|run| rows as f64 / seconds(run)).collect();
    let mut throughput: Vec<f64> = runs
        .iter()
        .map(|run| bytes as f64 / 1e6 / seconds(run))
        .collect();
    let mut connects: Vec<f64> = runs
        .iter()
        .map(|run| run.connect.as_secs_f64() * 1e3)
        .collect();
    // One median over the batches of all runs.
    let mut latencies: Vec<f64> = runs
        .iter()
        .flat_map(|run| {
            run.batches
                .iter()
                .map(|latency| latency.as_secs_f64() * 1e3)
        })
        .collect();
    Summary {
        rows_per_s: median(&mut rates),
        mb_per_s: median(&mut throughput),
        connect_ms: median(&mut connects),
        batch_ms: median(&mut latencies),
    }
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    // `run` owns the server, so it has stopped by the time an error is printed.
    if let Err(error) = run(&options) {
        eprintln!("bench_postgres failed: {error}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), BoxError> {
    let Some(setup) = start_server()? else {
        eprintln!("bench_postgres skipped: no PostgreSQL server to benchmark against");
        return Ok(());
    };
    let version = setup
        .server
        .scalar("SHOW server_version")
        .unwrap_or_default();
    let batches = generate(options)?;
    let bytes = arrow_bytes(&batches);

    let mut runs: Vec<Vec<Run>> = MODES.iter().map(|_| Vec::new()).collect();
    let mut tls_details = None;
    for repetition in 0..options.repeat {
        for offset in 0..MODES.len() {
            let index = (repetition + offset) % MODES.len();
            let mode = MODES[index];
            let table = format!("bench_{}_{repetition}", mode.name());
            let mut run = run_mode(&setup, mode, &table, &batches)?;
            run.order = repetition * MODES.len() + offset;
            eprintln!(
                "run {}/{} {:<8} {:>7.3} s",
                repetition + 1,
                options.repeat,
                mode.name(),
                run.total.as_secs_f64()
            );
            tls_details = tls_details.or_else(|| run.tls.clone());
            runs[index].push(run);
        }
    }

    let summaries: Vec<Summary> = runs
        .iter()
        .map(|mode_runs| summarize(mode_runs, options.rows, bytes))
        .collect();
    let (tls_version, cipher) = tls_details.unwrap_or_default();
    print_figures(options, &version, bytes, &tls_version, &cipher, &summaries);
    if let Some(path) = &options.json {
        let figures = figures_json(
            options,
            &version,
            bytes,
            &tls_version,
            &cipher,
            &summaries,
            &runs,
        );
        std::fs::write(path, serde_json::to_string_pretty(&figures)? + "\n")
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}

fn print_figures(
    options: &Options,
    version: &str,
    bytes: usize,
    tls_version: &str,
    cipher: &str,
    summaries: &[Summary],
) {
    println!(
        "{} rows ({:.1} MB of Arrow) in batches of {}, one transaction per batch, {} runs per \
         mode, PostgreSQL {version} on 127.0.0.1 (throwaway cluster, fsync off), TLS {tls_version} {cipher}",
        options.rows,
        bytes as f64 / 1e6,
        options.batch_rows,
        options.repeat
    );
    println!(
        "{:<10} {:>10} {:>8} {:>11} {:>16} {:>13} {:>14}",
        "mode", "rows/s", "MB/s", "connect ms", "batch commit ms", "rows/s ratio", "latency ratio"
    );
    let plain = &summaries[0];
    for (mode, summary) in MODES.iter().zip(summaries) {
        println!(
            "{:<10} {:>10.0} {:>8.1} {:>11.2} {:>16.2} {:>12.3}x {:>13.3}x",
            mode.name(),
            summary.rows_per_s,
            summary.mb_per_s,
            summary.connect_ms,
            summary.batch_ms,
            summary.rows_per_s / plain.rows_per_s,
            summary.batch_ms / plain.batch_ms
        );
    }
    println!(
        "Medians over the runs. Batch commit ms is the median, over all batches, of one apply \
         call (COPY, checkpoint row, COMMIT). Ratios are to plain."
    );
}

/// Returns every run in the order it ran, with its mode and figures.
fn runs_json(runs: &[Vec<Run>]) -> Vec<serde_json::Value> {
    let mut listed: Vec<(usize, serde_json::Value)> = Vec::new();
    for (mode, mode_runs) in MODES.iter().zip(runs) {
        for run in mode_runs {
            let mut latencies: Vec<f64> = run
                .batches
                .iter()
                .map(|latency| latency.as_secs_f64() * 1e3)
                .collect();
            listed.push((
                run.order,
                json!({
                    "mode": mode.name(),
                    "seconds": run.total.as_secs_f64(),
                    "connect_ms": run.connect.as_secs_f64() * 1e3,
                    "median_batch_commit_ms": median(&mut latencies),
                }),
            ));
        }
    }
    listed.sort_by_key(|(order, _)| *order);
    listed.into_iter().map(|(_, run)| run).collect()
}

fn figures_json(
    options: &Options,
    version: &str,
    bytes: usize,
    tls_version: &str,
    cipher: &str,
    summaries: &[Summary],
    runs: &[Vec<Run>],
) -> serde_json::Value {
    let plain = &summaries[0];
    let modes: serde_json::Map<String, serde_json::Value> = MODES
        .iter()
        .zip(summaries)
        .map(|(mode, summary)| {
            (
                mode.name().to_string(),
                json!({
                    "median_rows_per_s": summary.rows_per_s,
                    "median_arrow_mb_per_s": summary.mb_per_s,
                    "median_connect_ms": summary.connect_ms,
                    "median_batch_commit_ms": summary.batch_ms,
                    "rows_per_s_ratio_to_plain": summary.rows_per_s / plain.rows_per_s,
                    "batch_commit_ms_ratio_to_plain": summary.batch_ms / plain.batch_ms,
                }),
            )
        })
        .collect();
    json!({
        "rows": options.rows,
        "batch_rows": options.batch_rows,
        "repeat": options.repeat,
        "arrow_bytes": bytes,
        "server_version": version,
        "tls_version": tls_version,
        "tls_cipher": cipher,
        "fsync": false,
        "modes": modes,
        "runs": runs_json(runs),
    })
}
