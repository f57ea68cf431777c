//! A chain that commits source positions: a folder of files into Parquet parts, stopped
//! half way by a failing applicator and run again, delivers every row exactly once.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, Int64Array, RecordBatch};
use governance_apply::{ParquetPartSink, PostgresSink, PostgresSinkConfig};
use governance_collect::{FolderCollector, FolderConfig};
use governance_core::{
    Applicator, Chain, Cleaner, Error, GovernedBatch, Result, Stage, StageContext,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn folder(dir: &Path) -> FolderCollector {
    FolderCollector::new(FolderConfig {
        dir: dir.to_path_buf(),
        batch_size: 3,
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(50),
        ..FolderConfig::default()
    })
    .expect("folder collector")
}

/// Fails the batch with 1-based number `fail_at` and counts every batch it receives.
struct FailAt {
    fail_at: Option<u64>,
    seen: Arc<AtomicU64>,
}

impl Stage for FailAt {
    fn name(&self) -> &str {
        "fail_at"
    }
}

impl Applicator for FailAt {
    fn apply(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        let number = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(number) {
            return Err(Error::Internal(format!(
                "scripted failure at batch {number}"
            )));
        }
        Ok(())
    }
}

/// Holds every batch back until `flush`, as a cross-batch deduplicator would.
struct HoldAll {
    held: Vec<GovernedBatch>,
}

impl Stage for HoldAll {
    fn name(&self) -> &str {
        "hold_all"
    }
}

impl Cleaner for HoldAll {
    fn clean(&mut self, batch: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        let empty = batch.filter(&arrow::array::BooleanArray::from(vec![
            false;
            batch.num_rows()
        ]))?;
        self.held.push(batch);
        Ok(empty)
    }

    fn held_rows(&self) -> u64 {
        self.held.iter().map(|batch| batch.num_rows() as u64).sum()
    }
}

/// Reads the `seq` column of every committed part, in part order.
fn committed_seq(dir: &Path) -> Vec<i64> {
    let sink = ParquetPartSink::open(dir).expect("reopen sink");
    let mut values = Vec::new();
    for path in sink.committed_parts().expect("parts") {
        let file = File::open(&path).expect("open part");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet reader")
            .build()
            .expect("reader");
        for batch in reader {
            let batch: RecordBatch = batch.expect("read batch");
            let column = batch.column_by_name("seq").expect("seq column");
            let seq = column
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("seq is Int64");
            values.extend((0..seq.len()).map(|row| seq.value(row)));
        }
    }
    values
}

fn write_inputs(dir: &Path) {
    let first: String = (1..=10).map(|seq| format!("{seq}\n")).collect();
    std::fs::write(dir.join("a.csv"), format!("seq\n{first}")).expect("write a.csv");
    let second: String = (11..=17)
        .map(|seq| format!("{{\"seq\": {seq}}}\n"))
        .collect();
    std::fs::write(dir.join("b.ndjson"), second).expect("write b.ndjson");
}

#[test]
fn chain_resumes_after_failed_batch() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    write_inputs(input.path());
    let seen = Arc::new(AtomicU64::new(0));

    // a.csv gives batches of 3, 3, 3 and 1 rows, so the fifth batch is the first of
    // b.ndjson. The sink commits it, and then the applicator after the sink fails it.
    let mut chain = Chain::builder()
        .collect(folder(input.path()))
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .apply(FailAt {
            fail_at: Some(5),
            seen: Arc::clone(&seen),
        })
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("the fifth batch fails");
    assert!(error.to_string().contains("scripted failure"), "{error}");
    let after_failure = committed_seq(output.path());
    assert_eq!(after_failure, (1..=13).collect::<Vec<i64>>());

    let mut chain = Chain::builder()
        .collect(folder(input.path()))
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .apply(FailAt {
            fail_at: None,
            seen: Arc::clone(&seen),
        })
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("second run");
    assert_eq!(summary.rows_delivered, 4, "rows 14 to 17 are new");
    assert_eq!(committed_seq(output.path()), (1..=17).collect::<Vec<i64>>());
}

#[test]
fn chain_second_round_reads_only_new_files() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    write_inputs(input.path());
    let mut chain = Chain::builder()
        .collect(folder(input.path()))
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .build()
        .expect("chain");
    let first = chain.run_blocking().expect("first round");
    assert_eq!(first.rows_delivered, 17);

    std::fs::write(input.path().join("c.csv"), "seq\n18\n19\n").expect("write c.csv");
    let second = chain.run_blocking().expect("second round");
    assert_eq!(second.rows_delivered, 2);
    assert_eq!(committed_seq(output.path()), (1..=19).collect::<Vec<i64>>());
}

#[test]
fn chain_rejects_round_commit_sink() {
    let input = tempfile::tempdir().expect("input folder");
    let config = PostgresSinkConfig::new("host=127.0.0.1 user=nobody", "readings", "pipeline");
    let sink = PostgresSink::new(config).expect("sink");
    let error = Chain::builder()
        .collect(folder(input.path()))
        .apply_checkpointed(sink)
        .build()
        .err()
        .expect("a sink that commits per round is rejected at build time");
    let message = error.to_string();
    assert!(message.contains("does not commit each batch"), "{message}");
    assert!(message.contains("commit = \"batch\""), "{message}");
}

#[test]
fn chain_rejects_two_checkpointing_sinks() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    let error = Chain::builder()
        .collect(folder(input.path()))
        .apply_checkpointed(ParquetPartSink::open(output.path().join("one")).expect("sink"))
        .apply_checkpointed(
            ParquetPartSink::open(output.path().join("two"))
                .expect("sink")
                .with_name("second"),
        )
        .build()
        .err()
        .expect("two checkpointing sinks are rejected");
    assert!(
        error.to_string().contains("two checkpointing sinks"),
        "{error}"
    );
}

#[test]
fn chain_rejects_stage_holding_rows() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    write_inputs(input.path());
    let mut chain = Chain::builder()
        .collect(folder(input.path()))
        .clean(HoldAll { held: Vec::new() })
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .build()
        .expect("chain");
    let error = chain
        .run_blocking()
        .expect_err("held rows cannot be committed");
    assert!(error.to_string().contains("holds 3 rows back"), "{error}");
    assert!(committed_seq(output.path()).is_empty());
}
