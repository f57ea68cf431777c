//! A checkpointed chain with the anomaly stage, through the SDK that `govern` is built on: a
//! watched folder through the autoencoder into Parquet parts that commit each batch's source
//! position. While the stage warms up it keeps rows back, and the chain rejects that before
//! it commits anything, so no row is lost. Once the registry has a model the stage holds
//! nothing, and a run stopped half way and run again delivers every row exactly once.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, Int64Array, RecordBatch};
use governance::apply::ParquetPartSink;
use governance::clean::anomaly::{AnomalyDetector, AnomalyDetectorConfig};
use governance::collect::{FolderCollector, FolderConfig};
use governance::llm::AutoencoderConfig;
use governance::{Applicator, Chain, Error, GovernedBatch, Result, Stage, StageContext};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Stage name of the anomaly detector, as it appears in errors and stage reports.
const ANOMALY: &str = "anomaly_detector";

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

fn anomaly(registry: &Path, warmup_rows: usize) -> AnomalyDetector {
    AnomalyDetector::new(AnomalyDetectorConfig {
        columns: vec!["flow".to_string(), "pressure".to_string()],
        warmup_rows,
        autoencoder: AutoencoderConfig {
            bottleneck: 1,
            epochs: 10,
            ..AutoencoderConfig::default()
        },
        registry_dir: Some(registry.to_path_buf()),
        ..AnomalyDetectorConfig::default()
    })
    .expect("anomaly detector")
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

/// Writes `seq` values `range` as a CSV file of water-network readings, in which the
/// pressure follows the flow.
fn write_readings(path: &Path, range: std::ops::RangeInclusive<i64>) {
    let mut text = String::from("seq,flow,pressure\n");
    for seq in range {
        let flow = 20.0 + (seq % 9) as f64 * 1.5;
        let pressure = 3.0 + flow * 0.1;
        text.push_str(&format!("{seq},{flow:.2},{pressure:.3}\n"));
    }
    std::fs::write(path, text).expect("write readings");
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

fn checkpointed_chain(input: &Path, output: &Path, stage: AnomalyDetector, fail: FailAt) -> Chain {
    Chain::builder()
        .collect(folder(input))
        .clean(stage)
        .apply_checkpointed(ParquetPartSink::open(output).expect("sink"))
        .apply(fail)
        .build()
        .expect("chain")
}

#[test]
fn anomaly_chain_restarts_without_loss_or_duplicates() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    let registry = tempfile::tempdir().expect("registry folder");
    let history = tempfile::tempdir().expect("history folder");
    // a.csv gives batches of 3, 3, 3 and 1 rows, b.csv of 3, 3 and 1.
    write_readings(&input.path().join("a.csv"), 1..=10);
    write_readings(&input.path().join("b.csv"), 11..=17);
    let seen = Arc::new(AtomicU64::new(0));

    // Without a model the stage keeps its first batch back for warm-up, and the chain stops
    // before any batch's position is committed.
    let mut chain = checkpointed_chain(
        input.path(),
        output.path(),
        anomaly(registry.path(), 8),
        FailAt {
            fail_at: None,
            seen: Arc::clone(&seen),
        },
    );
    let error = chain
        .run_blocking()
        .expect_err("warm-up holds rows back in a checkpointed chain");
    let message = error.to_string();
    assert!(message.contains(ANOMALY), "{message}");
    assert!(message.contains("holds 3 rows back"), "{message}");
    assert!(committed_seq(output.path()).is_empty(), "nothing committed");

    // Train the first model on history, outside the checkpointed chain.
    write_readings(&history.path().join("history.csv"), 100..=159);
    let mut training = Chain::builder()
        .collect(folder(history.path()))
        .clean(anomaly(registry.path(), 40))
        .apply(FailAt {
            fail_at: None,
            seen: Arc::new(AtomicU64::new(0)),
        })
        .build()
        .expect("training chain");
    let trained = training.run_blocking().expect("training run");
    assert_eq!(trained.rows_delivered, 60);

    // With the saved model the stage keeps nothing back. The sink commits the fifth batch, and
    // the applicator after it fails that batch.
    let mut chain = checkpointed_chain(
        input.path(),
        output.path(),
        anomaly(registry.path(), 8),
        FailAt {
            fail_at: Some(seen.load(Ordering::SeqCst) + 5),
            seen: Arc::clone(&seen),
        },
    );
    let error = chain.run_blocking().expect_err("the fifth batch fails");
    assert!(error.to_string().contains("scripted failure"), "{error}");
    assert_eq!(committed_seq(output.path()), (1..=13).collect::<Vec<i64>>());

    let mut chain = checkpointed_chain(
        input.path(),
        output.path(),
        anomaly(registry.path(), 8),
        FailAt {
            fail_at: None,
            seen: Arc::clone(&seen),
        },
    );
    let summary = chain.run_blocking().expect("restarted run");
    assert_eq!(summary.rows_delivered, 4, "rows 14 to 17 are new");
    let scored = summary
        .stages
        .iter()
        .find(|stage| stage.name == ANOMALY)
        .expect("the anomaly stage's report");
    assert_eq!(scored.rows_in, 4);
    assert_eq!(scored.rows_out, 4);
    assert_eq!(committed_seq(output.path()), (1..=17).collect::<Vec<i64>>());
}
