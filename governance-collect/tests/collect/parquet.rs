//! Parquet collector: round trip through files written with the parquet crate's ArrowWriter.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use governance_collect::{ParquetCollector, ParquetConfig};
use governance_core::audit::AuditAction;
use parquet::arrow::ArrowWriter;
use tempfile::TempDir;

use super::{audit_records, context, drain, row_count};

fn readings(stations: &[&str], pm25: &[f64]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("pm25", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(stations.to_vec())),
        Arc::new(Float64Array::from(pm25.to_vec())),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

fn write(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(batch).expect("write batch");
    writer.close().expect("close writer");
}

fn two_files(dir: &TempDir) -> (PathBuf, PathBuf) {
    let first = dir.path().join("a.parquet");
    let second = dir.path().join("b.parquet");
    write(&first, &readings(&["x", "y", "z"], &[1.0, 2.0, 3.0]));
    write(&second, &readings(&["w"], &[4.0]));
    (first, second)
}

#[test]
fn round_trip_keeps_values_and_assigns_ids() {
    let dir = TempDir::new().expect("temp dir");
    let (first, _) = two_files(&dir);
    let config = ParquetConfig {
        batch_size: 2,
        row_id_offset: 10,
        ..ParquetConfig::from_dir(dir.path())
    };
    let mut collector = ParquetCollector::new(config).expect("config");
    let mut ctx = context("parquet");

    let batches = drain(&mut collector, &mut ctx).expect("read");

    assert_eq!(row_count(&batches), 4);
    assert_eq!(ctx.rows_read(), 4);
    assert!(batches.iter().all(|batch| batch.num_rows() <= 2));
    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.row_ids().values().to_vec())
        .collect();
    assert_eq!(ids, vec![10, 11, 12, 13]);
    let values: Vec<f64> = batches
        .iter()
        .flat_map(|batch| {
            batch
                .column("pm25")
                .expect("pm25")
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(batches[0].provenance.source, first.display().to_string());
}

#[test]
fn one_audit_read_per_file() {
    let dir = TempDir::new().expect("temp dir");
    two_files(&dir);
    let mut collector = ParquetCollector::new(ParquetConfig::from_dir(dir.path())).expect("config");
    let mut ctx = context("parquet");

    drain(&mut collector, &mut ctx).expect("read");

    let records = audit_records(&ctx);
    let details: Vec<&str> = records
        .iter()
        .map(|record| record.detail.as_str())
        .collect();
    assert_eq!(details, vec!["rows=3", "rows=1"]);
    assert!(
        records
            .iter()
            .all(|record| record.action == AuditAction::Read)
    );
}

#[test]
fn projection_follows_requested_order() {
    let dir = TempDir::new().expect("temp dir");
    two_files(&dir);
    let config = ParquetConfig {
        columns: Some(vec!["pm25".into(), "station".into()]),
        ..ParquetConfig::from_dir(dir.path())
    };
    let mut collector = ParquetCollector::new(config).expect("config");
    let mut ctx = context("parquet");

    let batches = drain(&mut collector, &mut ctx).expect("read");

    assert_eq!(batches[0].column_names(), vec!["pm25", "station"]);
    let station = batches[0]
        .column("station")
        .expect("station")
        .as_string::<i32>();
    assert_eq!(station.value(0), "x");
}

#[test]
fn rounds_repeat_ids() {
    let dir = TempDir::new().expect("temp dir");
    two_files(&dir);
    let mut collector = ParquetCollector::new(ParquetConfig::from_dir(dir.path())).expect("config");
    let ids = |collector: &mut ParquetCollector| -> Vec<u64> {
        drain(collector, &mut context("parquet"))
            .expect("read")
            .iter()
            .flat_map(|batch| batch.row_ids().values().to_vec())
            .collect()
    };

    assert_eq!(ids(&mut collector), ids(&mut collector));
}

#[test]
fn schema_mismatch_names_file() {
    let dir = TempDir::new().expect("temp dir");
    write(&dir.path().join("a.parquet"), &readings(&["x"], &[1.0]));
    let other = dir.path().join("b.parquet");
    let schema = Arc::new(Schema::new(vec![Field::new(
        "station",
        DataType::Utf8,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec!["y"])) as ArrayRef],
    )
    .expect("batch");
    write(&other, &batch);
    let mut collector = ParquetCollector::new(ParquetConfig::from_dir(dir.path())).expect("config");

    let error = drain(&mut collector, &mut context("parquet")).expect_err("schema differs");

    let message = error.to_string();
    assert!(message.contains(&other.display().to_string()), "{message}");
    assert!(
        message.contains("expected [station: Utf8, pm25: Float64], found [station: Utf8]"),
        "{message}"
    );
}

#[test]
fn corrupt_file_error_names_file() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("broken.parquet");
    std::fs::write(&path, b"not a parquet file").expect("write");
    let mut collector = ParquetCollector::new(ParquetConfig::from_paths([&path])).expect("config");

    let error = drain(&mut collector, &mut context("parquet")).expect_err("corrupt file");

    assert!(error.to_string().contains("broken.parquet"), "{error}");
}

#[test]
fn unknown_column_lists_columns() {
    let dir = TempDir::new().expect("temp dir");
    two_files(&dir);
    let config = ParquetConfig {
        columns: Some(vec!["no2".into()]),
        ..ParquetConfig::from_dir(dir.path())
    };
    let mut collector = ParquetCollector::new(config).expect("config");

    let error = drain(&mut collector, &mut context("parquet")).expect_err("unknown column");

    let message = error.to_string();
    assert!(message.contains(r#"column "no2""#), "{message}");
    assert!(message.contains("columns are: station, pm25"), "{message}");
}

#[test]
fn batches_split_by_rows_and_bytes() {
    let dir = TempDir::new().expect("temp dir");
    let stations: Vec<String> = (0..300).map(|index| format!("s{index:04}")).collect();
    let station_refs: Vec<&str> = stations.iter().map(String::as_str).collect();
    let pm25: Vec<f64> = (0..300).map(f64::from).collect();
    let path = dir.path().join("a.parquet");
    write(&path, &readings(&station_refs, &pm25));
    let config = ParquetConfig::from_paths([&path]).with_limits(governance_collect::BatchLimits {
        max_rows: 100,
        max_bytes: 600,
    });
    let mut collector = ParquetCollector::new(config).expect("config");
    let mut ctx = context("parquet");

    let batches = drain(&mut collector, &mut ctx).expect("read");

    assert!(batches.len() > 3, "{} batches", batches.len());
    for batch in &batches {
        let bytes: usize = batch
            .data()
            .columns()
            .iter()
            .map(|column| column.to_data().get_slice_memory_size().expect("size"))
            .sum();
        assert!(batch.num_rows() <= 100, "{} rows", batch.num_rows());
        assert!(bytes <= 600, "{bytes} bytes in {} rows", batch.num_rows());
    }
    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.row_ids().values().to_vec())
        .collect();
    assert_eq!(ids, (0..300).collect::<Vec<u64>>());
    let values: Vec<f64> = batches
        .iter()
        .flat_map(|batch| {
            batch
                .column("pm25")
                .expect("pm25")
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(values, pm25);
    assert_eq!(ctx.rows_read(), 300);
}
