//! Runs the sensor column chain (canonicalise, rules) on a running `governance-cluster`
//! and prints rows, issue cells and seconds.
//!
//! ```text
//! cargo run --release -p governance-ballista --example cluster_chain -- \
//!     --write-synthetic 4 --input /tmp/city --scheduler df://127.0.0.1:50050
//! ```
//!
//! `--write-synthetic SCALE` first writes the synthetic city at that scale (6 stations per
//! unit, 60 days) as one Parquet file per week and 6 stations into `--input`.
//! `--partitions N` (default 64) sets the client's target partitions; DataFusion does not
//! split files this small, so a folder of F files gives min(F, N) tasks.
//! `--audit-dir DIR` collects the executors' audit files of the job afterwards.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example reports its result on stdout and its errors on stderr"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use arrow::array::Array;
use ballista::prelude::SessionContextExt;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use governance_ballista::{ChainInput, ColumnChain, audit, session};
use governance_clean::{CanonicaliseConfig, RulesConfig};
use governance_collect::{SyntheticCity, SyntheticConfig};
use parquet::arrow::ArrowWriter;

struct Options {
    scheduler: String,
    input: PathBuf,
    partitions: usize,
    synthetic_scale: Option<u32>,
    audit_dir: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        scheduler: "df://127.0.0.1:50050".into(),
        input: PathBuf::new(),
        partitions: 64,
        synthetic_scale: None,
        audit_dir: None,
    };
    for pair in args.chunks(2) {
        let [option, value] = pair else {
            return Err(format!("option {:?} has no value", pair[0]));
        };
        match option.as_str() {
            "--scheduler" => options.scheduler = value.clone(),
            "--input" => options.input = value.into(),
            "--partitions" => {
                options.partitions = value
                    .parse()
                    .map_err(|_| format!("invalid --partitions {value:?}; pass a number"))?;
            }
            "--write-synthetic" => {
                options.synthetic_scale = Some(
                    value
                        .parse()
                        .map_err(|_| format!("invalid --write-synthetic {value:?}"))?,
                );
            }
            "--audit-dir" => options.audit_dir = Some(value.into()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if options.input.as_os_str().is_empty() {
        return Err("missing --input FOLDER".into());
    }
    Ok(options)
}

fn city(scale: u32) -> Result<SyntheticCity, String> {
    SyntheticCity::new(SyntheticConfig {
        scale,
        ..SyntheticConfig::default()
    })
    .map_err(|error| format!("synthetic city: {error}"))
}

fn write_synthetic(city: &SyntheticCity, dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut rows = 0;
    for index in 0..city.batch_count() {
        let batch = city
            .sensor_batch(index)
            .map_err(|error| format!("sensor batch {index}: {error}"))?;
        rows += batch.num_rows();
        let path = dir.join(format!("sensors-{index:05}.parquet"));
        let file =
            std::fs::File::create(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut writer = ArrowWriter::try_new(file, batch.data().schema(), None)
            .map_err(|error| error.to_string())?;
        writer
            .write(batch.data())
            .map_err(|error| error.to_string())?;
        writer.close().map_err(|error| error.to_string())?;
    }
    Ok(rows)
}

async fn run(options: Options) -> Result<(), String> {
    // The allowed-station rule lists the stations of the city at the `--write-synthetic`
    // scale, or at scale 1 without it.
    let stations = city(options.synthetic_scale.unwrap_or(1))?
        .stations()
        .to_vec();
    if let Some(scale) = options.synthetic_scale {
        let rows = write_synthetic(&city(scale)?, &options.input)?;
        println!("wrote {rows} rows to {}", options.input.display());
    }
    let rules: RulesConfig = serde_json::from_value(serde_json::json!({"rules": [
        {"column": "PM2.5", "check": {"range": {"min": 0, "max": 500}}},
        {"column": "station", "check": {"allowed": stations}, "action": "correct"}
    ]}))
    .map_err(|error| error.to_string())?;
    let chain = ColumnChain::new(ChainInput::Parquet(options.input.clone()))
        .canonicalise(&CanonicaliseConfig {
            numeric: vec!["PM2.5".into(), "PM10".into()],
            trim: vec!["station".into()],
            timestamp: Some(Default::default()),
            ..CanonicaliseConfig::default()
        })
        .and_then(|chain| chain.rules(&rules))
        .map_err(|error| error.to_string())?;

    let state = SessionStateBuilder::new()
        .with_config(session::ballista_config().with_target_partitions(options.partitions))
        .with_default_features()
        .build();
    let ctx = SessionContext::remote_with_state(&options.scheduler, state)
        .await
        .map_err(|error| format!("connecting to {} failed: {error}", options.scheduler))?;
    let jobs_before: BTreeSet<String> = match &options.audit_dir {
        Some(dir) => audit::job_ids(dir)
            .map_err(|error| error.to_string())?
            .into_iter()
            .collect(),
        None => BTreeSet::new(),
    };

    let started = Instant::now();
    let batches = chain
        .plan(&ctx)
        .await
        .map_err(|error| error.to_string())?
        .collect()
        .await
        .map_err(|error| error.to_string())?;
    let seconds = started.elapsed().as_secs_f64();

    let rows: usize = batches.iter().map(|batch| batch.num_rows()).sum();
    let mut issue_cells = 0;
    for batch in &batches {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if field.name().starts_with("issues__") {
                issue_cells += column.len() - column.null_count();
            }
        }
    }
    println!(
        "{rows} rows, {issue_cells} issue cells, {seconds:.3} s, {:.0} rows/s",
        rows as f64 / seconds
    );

    if let Some(dir) = &options.audit_dir {
        let jobs = audit::job_ids(dir).map_err(|error| error.to_string())?;
        for job in jobs.iter().filter(|job| !jobs_before.contains(*job)) {
            let collected = audit::collect(dir, Some(job)).map_err(|error| error.to_string())?;
            println!(
                "job {job}: {} partitions audited, {} rows, {} repeated attempts",
                collected.partitions.len(),
                collected.rows(),
                collected.repeated_attempts
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "error: {message}\nusage: cluster_chain --input FOLDER [--scheduler df://HOST:PORT] \
                 [--partitions N] [--write-synthetic SCALE] [--audit-dir DIR]"
            );
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
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
