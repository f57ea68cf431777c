//! File sinks behind a folder collector whose files change columns mid-stream. Under the
//! schema drift policies `adapt` and `alert`, every row and every value reaches the Parquet,
//! CSV and Parquet part files, also across a failed batch and a resumed run.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_apply::{
    CsvSink, CsvSinkConfig, GOVERNED_CSV_FILE, GOVERNED_FILE, ParquetPartSink, ParquetSink,
    ParquetSinkConfig,
};
use governance_collect::{DriftConfig, DriftPolicy, FolderCollector, FolderConfig};
use governance_core::{
    Applicator, Chain, Error, GovernedBatch, ROW_ID_COLUMN, Result, Stage, StageContext,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// One row as text per column, keyed by station; `None` is a null.
type Rows = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// Writes `name` with modification time `seconds` after a fixed instant, so files are read
/// in that order.
fn write(dir: &Path, name: &str, text: &str, seconds: u64) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a file");
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds);
    let file = File::options().write(true).open(&path).expect("open");
    file.set_modified(time).expect("set mtime");
}

/// Three files: the reference; one without `pm25` but with the new `no2` and `o3`; one with
/// `pm25` and `no2` in another order.
fn fill(dir: &Path) {
    write(dir, "1.csv", "station,pm25\nnorth,12.5\nsouth,14.5\n", 10);
    write(dir, "2.csv", "station,no2,o3\nwest,31,40\neast,,41\n", 20);
    write(dir, "3.csv", "no2,station,pm25\n20,centre,9.5\n", 30);
}

/// The values every sink must hold after reading the files of [`fill`].
fn expected() -> Rows {
    let row = |pm25: Option<&str>, no2: Option<&str>, o3: Option<&str>| {
        BTreeMap::from([
            ("pm25".to_string(), pm25.map(str::to_string)),
            ("no2".to_string(), no2.map(str::to_string)),
            ("o3".to_string(), o3.map(str::to_string)),
        ])
    };
    BTreeMap::from([
        ("north".to_string(), row(Some("12.5"), None, None)),
        ("south".to_string(), row(Some("14.5"), None, None)),
        ("west".to_string(), row(None, Some("31"), Some("40"))),
        ("east".to_string(), row(None, None, Some("41"))),
        ("centre".to_string(), row(Some("9.5"), Some("20"), None)),
    ])
}

fn folder(dir: &Path, policy: DriftPolicy, batch_size: usize) -> FolderCollector {
    let mut drift = DriftConfig::new(policy);
    // The test is about new and missing columns, not about a missing and a new column that
    // happen to look alike.
    drift.detect_renames = false;
    FolderCollector::new(FolderConfig {
        dir: dir.to_path_buf(),
        batch_size,
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(50),
        schema_drift: Some(drift),
        ..FolderConfig::default()
    })
    .expect("folder collector")
}

fn read_parquet(path: &Path) -> (SchemaRef, Vec<RecordBatch>) {
    let file = File::open(path).expect("open parquet file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet reader");
    let schema = builder.schema().clone();
    let batches = builder
        .build()
        .expect("reader")
        .collect::<std::result::Result<Vec<_>, _>>()
        .expect("read batches");
    (schema, batches)
}

/// Collects the rows of `batches` as text, keyed by station, with the value of every
/// column other than the row id. Fails on a station seen twice.
fn rows_of(batches: &[RecordBatch], rows: &mut Rows) {
    let options = FormatOptions::default();
    for batch in batches {
        let schema = batch.schema();
        let station = schema.index_of("station").expect("station column");
        for row in 0..batch.num_rows() {
            let mut values = BTreeMap::new();
            let mut key = String::new();
            for (index, field) in schema.fields().iter().enumerate() {
                let column = batch.column(index);
                let formatter = ArrayFormatter::try_new(column.as_ref(), &options).expect("fmt");
                let value = column
                    .is_valid(row)
                    .then(|| formatter.value(row).to_string());
                if index == station {
                    key = value.clone().expect("station is set");
                } else if field.name() != ROW_ID_COLUMN {
                    values.insert(field.name().clone(), value);
                }
            }
            assert!(rows.insert(key.clone(), values).is_none(), "{key} twice");
        }
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Rows) {
    let mut reader = csv::Reader::from_path(path).expect("open csv");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Rows::new();
    for record in reader.records() {
        let record = record.expect("csv record");
        assert_eq!(record.len(), header.len(), "{record:?}");
        let mut values = BTreeMap::new();
        let mut key = String::new();
        for (name, value) in header.iter().zip(record.iter()) {
            let value = (!value.is_empty()).then(|| value.to_string());
            match name.as_str() {
                "station" => key = value.expect("station is set"),
                ROW_ID_COLUMN => {}
                _ => {
                    values.insert(name.clone(), value);
                }
            }
        }
        assert!(rows.insert(key.clone(), values).is_none(), "{key} twice");
    }
    (header, rows)
}

fn run_file_sinks(policy: DriftPolicy, batch_size: usize) {
    let input = tempfile::tempdir().expect("input");
    let output = tempfile::tempdir().expect("output");
    fill(input.path());
    let parquet_dir = output.path().join("parquet");
    let csv_dir = output.path().join("csv");
    let mut config = ParquetSinkConfig::new(&parquet_dir);
    // Small row groups, so the merge of the segments reads several of them.
    config.max_row_group_rows = 1;
    let mut chain = Chain::builder()
        .collect(folder(input.path(), policy, batch_size))
        .apply(ParquetSink::new(config).expect("parquet sink"))
        .apply(CsvSink::new(CsvSinkConfig::new(&csv_dir)).expect("csv sink"))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");
    assert_eq!(summary.rows_delivered, 5, "{policy:?}");

    let (schema, batches) = read_parquet(&parquet_dir.join("round-1").join(GOVERNED_FILE));
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    assert_eq!(
        names,
        vec![ROW_ID_COLUMN, "station", "pm25", "no2", "o3"],
        "{policy:?}"
    );
    assert_eq!(schema.field(2).data_type(), &DataType::Float64);
    assert_eq!(schema.field(3).data_type(), &DataType::Int64);
    let mut parquet_rows = Rows::new();
    rows_of(&batches, &mut parquet_rows);
    assert_eq!(parquet_rows, expected(), "parquet, {policy:?}");

    let (header, csv_rows) = read_csv(&csv_dir.join("round-1").join(GOVERNED_CSV_FILE));
    assert_eq!(
        header,
        vec![ROW_ID_COLUMN, "station", "pm25", "no2", "o3"],
        "{policy:?}"
    );
    assert_eq!(csv_rows, expected(), "csv, {policy:?}");

    for dir in [&parquet_dir, &csv_dir] {
        let left: Vec<_> = std::fs::read_dir(dir.join("round-1"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "segments must be deleted: {left:?}");
    }
}

#[test]
fn adapt_stream_keeps_every_value() {
    run_file_sinks(DriftPolicy::Adapt, 100);
}

#[test]
fn alert_stream_keeps_every_value() {
    run_file_sinks(DriftPolicy::Alert, 100);
}

#[test]
fn one_row_batches_keep_every_value() {
    run_file_sinks(DriftPolicy::Adapt, 1);
    run_file_sinks(DriftPolicy::Alert, 1);
}

/// Fails the batch with 1-based number `fail_at`, after the sink before it committed it.
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

#[test]
fn part_sink_resumes_across_schema_change() {
    let input = tempfile::tempdir().expect("input");
    let output = tempfile::tempdir().expect("output");
    fill(input.path());
    let seen = Arc::new(AtomicU64::new(0));

    // One row per batch: the fourth batch is the second row of 2.csv, after the switch to
    // the new columns. The sink commits it and the applicator after it fails the run.
    let mut chain = Chain::builder()
        .collect(folder(input.path(), DriftPolicy::Adapt, 1))
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .apply(FailAt {
            fail_at: Some(4),
            seen: Arc::clone(&seen),
        })
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("scripted failure");
    let sink = ParquetPartSink::open(output.path()).expect("reopen");
    assert_eq!(sink.checkpoint().rows, 4);

    let mut chain = Chain::builder()
        .collect(folder(input.path(), DriftPolicy::Adapt, 1))
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("resumed run");
    assert_eq!(summary.rows_delivered, 1, "only centre was left");

    let sink = ParquetPartSink::open(output.path()).expect("reopen");
    let schema = sink
        .committed_schema()
        .expect("merged schema")
        .expect("parts were committed");
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    assert_eq!(names, vec![ROW_ID_COLUMN, "station", "pm25", "no2", "o3"]);
    // The collector restored the drift union from the checkpoint, so the batch read after
    // the restart has the union's columns in the union's order.
    let parts = sink.committed_parts().expect("parts");
    let (last_schema, _) = read_parquet(parts.last().expect("a part"));
    let last_names: Vec<&str> = last_schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    assert_eq!(
        last_names,
        vec![ROW_ID_COLUMN, "station", "pm25", "no2", "o3"]
    );

    let mut rows = Rows::new();
    for path in parts {
        let (_, batches) = read_parquet(&path);
        let mut part = Rows::new();
        rows_of(&batches, &mut part);
        // A part lacks the columns that appeared after it; they are null for its rows.
        for (station, mut values) in part {
            for name in ["pm25", "no2", "o3"] {
                values.entry(name.to_string()).or_insert(None);
            }
            assert!(rows.insert(station.clone(), values).is_none(), "{station}");
        }
    }
    assert_eq!(rows, expected());
}
