//! The chain on a cluster of separate `governance-cluster` processes on 127.0.0.1: one
//! scheduler and two executors. The output equals a plain DataFusion run, also when an
//! executor is killed while the job runs, and the executors' audit files give exactly one
//! record set per partition.

#![cfg(feature = "cluster")]
#![expect(
    clippy::print_stderr,
    reason = "the tests print their timings and attempt counts on stderr"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::{Array, RecordBatch};
use datafusion::prelude::SessionContext;
use governance_ballista::audit::{self, CollectedAudit};
use governance_ballista::{ChainInput, ColumnChain};
use governance_clean::{CanonicaliseConfig, RulesConfig};
use governance_collect::{SyntheticCity, SyntheticConfig};
use governance_core::audit::AuditLog;

use common::cluster::Cluster;
use common::{assert_same_rows, sorted_rows, write_parquet};

/// Writes every sensor batch of `city` to its own Parquet file in `dir` and returns the
/// number of rows written.
fn write_sensor_files(city: &SyntheticCity, dir: &Path) -> usize {
    std::fs::create_dir_all(dir).expect("input folder");
    let mut rows = 0;
    for index in 0..city.batch_count() {
        let batch = city.sensor_batch(index).expect("sensor batch");
        rows += batch.num_rows();
        write_parquet(
            &dir.join(format!("sensors-{index:03}.parquet")),
            &[batch.data().clone()],
        );
    }
    rows
}

fn sensor_chain(input: &Path, city: &SyntheticCity) -> ColumnChain {
    let rules: RulesConfig = serde_json::from_value(serde_json::json!({"rules": [
        {"column": "PM2.5", "check": {"range": {"min": 0, "max": 500}}},
        {"column": "station", "check": {"allowed": city.stations()}, "action": "correct"}
    ]}))
    .expect("rules parse");
    ColumnChain::new(ChainInput::Parquet(input.to_path_buf()))
        .canonicalise(&CanonicaliseConfig {
            numeric: vec!["PM2.5".into(), "PM10".into()],
            trim: vec!["station".into()],
            timestamp: Some(Default::default()),
            ..CanonicaliseConfig::default()
        })
        .expect("canonicalise step")
        .rules(&rules)
        .expect("rules step")
}

/// Returns the non-null cells of every issue column of `batches`.
fn issue_cells(batches: &[RecordBatch]) -> BTreeMap<String, u64> {
    let mut cells = BTreeMap::new();
    for batch in batches {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if field.name().starts_with("issues__") {
                *cells.entry(field.name().clone()).or_insert(0) +=
                    (column.len() - column.null_count()) as u64;
            }
        }
    }
    cells
}

async fn run(chain: &ColumnChain, ctx: &SessionContext) -> Vec<RecordBatch> {
    chain
        .plan(ctx)
        .await
        .expect("chain plans")
        .collect()
        .await
        .expect("chain runs")
}

/// Checks that the remote output equals the local one, rows and issue counts included, and
/// that the audit files hold one record set per partition with the same counts.
fn check_outputs(
    local: &[RecordBatch],
    remote: &[RecordBatch],
    input_rows: usize,
    collected: &CollectedAudit,
    partitions: usize,
) {
    let local_rows = sorted_rows(local);
    assert_eq!(local_rows.len(), input_rows, "local row count");
    assert_same_rows("cluster vs DataFusion", &local_rows, &sorted_rows(remote));

    let local_issues = issue_cells(local);
    assert!(
        local_issues.values().sum::<u64>() > 0,
        "the synthetic errors gave no issue: {local_issues:?}"
    );
    assert_eq!(issue_cells(remote), local_issues, "issue cells per column");

    let numbers: BTreeSet<usize> = collected
        .partitions
        .iter()
        .map(|partition| partition.partition)
        .collect();
    assert_eq!(
        numbers,
        (0..partitions).collect::<BTreeSet<usize>>(),
        "audited partitions"
    );
    assert_eq!(
        collected.partitions.len(),
        partitions,
        "record sets, one per partition"
    );
    assert_eq!(collected.rows(), input_rows as u64, "audited rows");
    assert_eq!(
        collected.issue_cells(),
        local_issues,
        "audited issue cells per column"
    );

    let mut log = AuditLog::in_memory();
    let appended = collected.append_to(&mut log).expect("records appended");
    assert_eq!(appended, partitions, "records appended to the client's log");
    assert_eq!(
        log.verify().expect("the client's log verifies"),
        partitions as u64
    );
}

/// Returns the audit files of the one job in the cluster's audit folder.
fn collect_job_audit(cluster: &Cluster) -> CollectedAudit {
    let jobs = audit::job_ids(&cluster.audit_dir).expect("audit folder readable");
    assert_eq!(jobs.len(), 1, "jobs with audit files: {jobs:?}");
    audit::collect(&cluster.audit_dir, Some(&jobs[0])).expect("audit files collect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_processes_match_plain_context() {
    let city = SyntheticCity::new(SyntheticConfig {
        days: 56,
        ..SyntheticConfig::default()
    })
    .expect("synthetic city");
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("input");
    let input_rows = write_sensor_files(&city, &input);
    // DataFusion does not split files this small, so each file is one partition.
    let partitions = city.batch_count() as usize;
    assert_eq!(partitions, 8, "sensor files");

    let cluster = Cluster::start(dir.path(), 2, 2, &[], &[]);
    let chain = sensor_chain(&input, &city);
    let local = run(&chain, &SessionContext::new()).await;
    let started = Instant::now();
    let remote = run(&chain, &cluster.client(partitions).await).await;
    eprintln!(
        "{input_rows} rows in {} files on 2 executor processes: {:?}",
        city.batch_count(),
        started.elapsed()
    );

    let collected = collect_job_audit(&cluster);
    check_outputs(&local, &remote, input_rows, &collected, partitions);
    assert_eq!(
        collected.repeated_attempts, 0,
        "no task ran twice without a failure"
    );
    let executors: BTreeSet<&str> = collected
        .partitions
        .iter()
        .map(|partition| partition.executor_id.as_str())
        .collect();
    assert_eq!(
        executors.len(),
        2,
        "executors that ran tasks: {executors:?}"
    );
}

/// Executor 1 is killed with SIGKILL after both executors finished at least one partition,
/// so output held by the killed process is lost while the job still runs. The scheduler
/// removes it when a task launch on it fails, or at the latest after 4 seconds without a
/// heartbeat, and runs its work again on the other executor.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_executor_job_completes() {
    let city = SyntheticCity::new(SyntheticConfig {
        scale: 4,
        days: 56,
        ..SyntheticConfig::default()
    })
    .expect("synthetic city");
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("input");
    let input_rows = write_sensor_files(&city, &input);
    let partitions = city.batch_count() as usize;
    assert_eq!(partitions, 32, "sensor files");

    let mut cluster = Cluster::start(
        dir.path(),
        2,
        1,
        &[
            "--executor-timeout-seconds",
            "4",
            "--expire-dead-executor-interval-seconds",
            "1",
        ],
        &["--heartbeat-interval-seconds", "1"],
    );
    let chain = sensor_chain(&input, &city);
    let local = run(&chain, &SessionContext::new()).await;

    let client = cluster.client(partitions).await;
    let started = Instant::now();
    let job = tokio::spawn({
        let chain = chain.clone();
        async move { run(&chain, &client).await }
    });

    // Wait until both executors have finished a partition, then kill one.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            !job.is_finished(),
            "the job finished before both executors finished a partition; raise the scale"
        );
        assert!(
            Instant::now() < deadline,
            "the executors did not both finish a partition within 120 seconds"
        );
        let written = audit::collect(&cluster.audit_dir, None).expect("audit files collect");
        let executors: BTreeSet<&str> = written
            .partitions
            .iter()
            .map(|partition| partition.executor_id.as_str())
            .collect();
        if executors.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.kill_executor(1);
    let killed_at = started.elapsed();
    assert!(!job.is_finished(), "the job finished before the kill");

    let remote = tokio::time::timeout(Duration::from_secs(300), job)
        .await
        .expect("the job completes within 300 seconds after the kill")
        .expect("the job task did not panic");
    eprintln!(
        "{input_rows} rows in {} files; executor killed after {killed_at:?}, job done after {:?}",
        city.batch_count(),
        started.elapsed()
    );

    let collected = collect_job_audit(&cluster);
    eprintln!(
        "audit: {} partitions, {} repeated attempts",
        collected.partitions.len(),
        collected.repeated_attempts
    );
    check_outputs(&local, &remote, input_rows, &collected, partitions);
    // The killed executor had finished a partition whose output it held, so that partition
    // ran again and left a second complete audit file, which the collection dropped.
    assert!(
        collected.repeated_attempts >= 1,
        "no partition ran twice after the kill"
    );
}
