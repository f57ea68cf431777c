//! CSV collector: malformed rows, headers, encodings, types and row accounting.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use governance_collect::{ColumnSpec, CsvCollector, CsvConfig, CsvType};
use governance_core::audit::AuditAction;
use governance_core::{Chain, Error};
use tempfile::TempDir;

use super::{audit_records, context, drain, row_count};

fn write(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write csv");
    path
}

fn collector(paths: &[&Path]) -> CsvCollector {
    CsvCollector::new(CsvConfig::from_paths(paths.iter().copied())).expect("config")
}

/// Returns a collector that parses column `column` as Float64, so that text there is a type
/// failure rather than a reason to infer Utf8.
fn float_collector(config: CsvConfig, column: &str) -> CsvCollector {
    let config = CsvConfig {
        schema: Some(vec![ColumnSpec::new(column, CsvType::Float64)]),
        ..config
    };
    CsvCollector::new(config).expect("config")
}

#[test]
fn type_failure_goes_to_quarantine_with_line() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "readings.csv", "station,pm25\na,1.5\nb,abc\nc,3\n");
    let mut csv = float_collector(CsvConfig::from_paths([&path]), "pm25");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(row_count(&batches), 2);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    let row = &quarantined[0];
    assert_eq!(row.line, Some(3));
    assert_eq!(
        row.source.as_deref(),
        Some(path.display().to_string().as_str())
    );
    assert_eq!(
        row.reason,
        r#"value "abc" in column "pm25" is not a valid float64"#
    );
    assert_eq!(row.raw, "b,abc");
    assert_eq!(row.stage, "csv");
    assert_eq!(row.row_id, None);
}

#[test]
fn ragged_rows_are_quarantined_by_line() {
    let dir = TempDir::new().expect("temp dir");
    let contents = "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n11,12\n13,14,15\n";
    let path = write(&dir, "ragged.csv", contents);
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(row_count(&batches), 3);
    let first = batches[0]
        .column("a")
        .expect("a")
        .as_primitive::<Int64Type>();
    assert_eq!(first.values().to_vec(), vec![1, 8, 13]);
    let quarantined = ctx.take_quarantined();
    let lines: Vec<Option<u64>> = quarantined.iter().map(|row| row.line).collect();
    assert_eq!(lines, vec![Some(3), Some(5)]);
    assert_eq!(quarantined[0].reason, "row has 4 fields, expected 3");
    assert_eq!(quarantined[0].raw, "4,5,6,7");
    assert_eq!(quarantined[1].reason, "row has 2 fields, expected 3");
}

#[test]
fn bom_before_quoted_header_is_stripped() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "bom.csv",
        "\u{feff}\"station_id\",\"pm25\"\n\"A1\",12\n",
    );
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(batches[0].column_names(), vec!["station_id", "pm25"]);
    let station = batches[0]
        .column("station_id")
        .expect("column")
        .as_string::<i32>();
    assert_eq!(station.value(0), "A1");
}

#[test]
fn non_utf8_row_is_quarantined_with_line() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "latin1.csv", b"name,value\nok,1\ncaf\xe9,2\nx,3\n");
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(row_count(&batches), 2);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].line, Some(3));
    assert!(
        quarantined[0].reason.contains("not valid UTF-8"),
        "{}",
        quarantined[0].reason
    );
    assert!(
        quarantined[0].reason.contains("\"name\""),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[0].raw, "caf\u{fffd},2");
}

#[test]
fn empty_file_error_names_file() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "empty.csv", "");
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let error = drain(&mut csv, &mut ctx).expect_err("empty file");

    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains("is empty: expected a header line"),
        "{message}"
    );
}

#[test]
fn missing_folder_error_names_path() {
    let dir = TempDir::new().expect("temp dir");
    let missing = dir.path().join("no-such-folder");
    let mut csv = CsvCollector::new(CsvConfig::from_dir(&missing)).expect("config");
    let mut ctx = context("csv");

    let error = drain(&mut csv, &mut ctx).expect_err("missing folder");

    match &error {
        Error::Io { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(error.to_string().contains("no-such-folder"));
}

#[test]
fn missing_file_error_names_path() {
    let dir = TempDir::new().expect("temp dir");
    let missing = dir.path().join("absent.csv");
    let mut csv = collector(&[&missing]);
    let mut ctx = context("csv");

    let error = drain(&mut csv, &mut ctx).expect_err("missing file");

    assert!(
        matches!(&error, Error::Io { path, .. } if path == &missing),
        "{error:?}"
    );
}

#[test]
fn schema_columns_missing_from_header_are_listed() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "other.csv", "a,b\n1,2\n");
    let config = CsvConfig {
        schema: Some(vec![
            ColumnSpec::new("station", CsvType::Utf8),
            ColumnSpec::new("pm25", CsvType::Float64),
        ]),
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let error = drain(&mut csv, &mut ctx).expect_err("header mismatch");

    let message = error.to_string();
    assert!(
        message.contains("expected columns [station, pm25]"),
        "{message}"
    );
    assert!(message.contains("found [a, b]"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn explicit_schema_overrides_inference() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "typed.csv", "code,pm25\n001,12\n002,13\n");
    let config = CsvConfig {
        schema: Some(vec![ColumnSpec::new("code", CsvType::Utf8)]),
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    let schema = batches[0].data().schema();
    assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);
    let code = batches[0].column("code").expect("code").as_string::<i32>();
    assert_eq!(code.value(0), "001");
}

#[test]
fn na_tokens_become_nulls() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "na.csv",
        "pm25,station\n1.5,a\nNA,b\n,c\n-,d\nnull,e\nN/A,f\nNaN,g\n 2 ,h\n",
    );
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(ctx.quarantined_len(), 0);
    let pm25 = batches[0]
        .column("pm25")
        .expect("pm25")
        .as_primitive::<Float64Type>();
    assert_eq!(pm25.len(), 8);
    assert_eq!(pm25.null_count(), 6);
    assert_eq!(pm25.value(0), 1.5);
    assert_eq!(pm25.value(7), 2.0);
}

#[test]
fn custom_na_tokens_replace_defaults() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "na.csv", "pm25\n-999\n4\n");
    let config = CsvConfig {
        na_tokens: vec!["-999".into()],
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    let pm25 = batches[0]
        .column("pm25")
        .expect("pm25")
        .as_primitive::<Int64Type>();
    assert!(pm25.is_null(0));
    assert_eq!(pm25.value(1), 4);
}

#[test]
fn rows_read_equal_rows_out_plus_quarantined() {
    let dir = TempDir::new().expect("temp dir");
    let first = write(
        &dir,
        "a.csv",
        "id,v\n1,1.0\n2,x\n3,3.0\n4,4.0,extra\n5,5.0\n",
    );
    let second = write(&dir, "b.csv", "id,v\n6,6.0\n7\n8,8.0\n");
    let config = CsvConfig {
        batch_size: 2,
        ..CsvConfig::from_dir(dir.path())
    };
    let mut csv = float_collector(config, "v");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    let rows_out = row_count(&batches) as u64;
    let quarantined = ctx.quarantined_len() as u64;
    assert_eq!(ctx.rows_read(), 8);
    assert_eq!(rows_out, 5);
    assert_eq!(quarantined, 3);
    assert_eq!(ctx.rows_read(), rows_out + quarantined);
    assert!(batches.iter().all(|batch| batch.num_rows() <= 2));
    let sources: Vec<&str> = batches
        .iter()
        .map(|batch| batch.provenance.source.as_str())
        .collect();
    assert_eq!(sources.first(), Some(&first.display().to_string().as_str()));
    assert_eq!(sources.last(), Some(&second.display().to_string().as_str()));
}

#[test]
fn chain_reports_collector_counts() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "id,v\n1,1.0\n2,x\n3,3.0\n");
    let csv = float_collector(CsvConfig::from_paths([&path]), "v");
    let mut chain = Chain::builder().collect(csv).build().expect("chain");

    let summary = chain.run_blocking().expect("run");

    let report = &summary.stages[0];
    assert_eq!(report.rows_in, 3);
    assert_eq!(report.rows_out, 2);
    assert_eq!(report.rows_quarantined, 1);
    assert_eq!(summary.quarantine[0].line, Some(3));
}

#[test]
fn one_audit_read_per_file() {
    let dir = TempDir::new().expect("temp dir");
    write(&dir, "a.csv", "v\n1\n2\n");
    write(&dir, "b.csv", "v\n3\nx\n");
    let mut csv = float_collector(CsvConfig::from_dir(dir.path()), "v");
    let mut ctx = context("csv");

    drain(&mut csv, &mut ctx).expect("read");

    let records = audit_records(&ctx);
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|record| record.action == AuditAction::Read)
    );
    assert!(records[0].subject.ends_with("a.csv"));
    assert_eq!(records[0].detail, "rows=2 quarantined=0");
    assert_eq!(records[1].detail, "rows=2 quarantined=1");
}

#[test]
fn different_header_names_file_and_columns() {
    let dir = TempDir::new().expect("temp dir");
    write(&dir, "a.csv", "station,pm25\nx,1\n");
    let odd = write(&dir, "b.csv", "station,pm10\nx,1\n");
    let mut csv = CsvCollector::new(CsvConfig::from_dir(dir.path())).expect("config");
    let mut ctx = context("csv");

    let error = drain(&mut csv, &mut ctx).expect_err("header differs");

    let message = error.to_string();
    assert!(message.contains(&odd.display().to_string()), "{message}");
    assert!(
        message.contains("expected columns [station, pm25], found [station, pm10]"),
        "{message}"
    );
}

#[test]
fn rounds_repeat_rows_and_ids() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "v\n1\n2\n3\n");
    let config = CsvConfig {
        row_id_offset: 100,
        batch_size: 2,
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let ids = |csv: &mut CsvCollector| -> Vec<u64> {
        let mut ctx = context("csv");
        drain(csv, &mut ctx)
            .expect("read")
            .iter()
            .flat_map(|batch| batch.row_ids().values().to_vec())
            .collect()
    };

    let first = ids(&mut csv);
    let second = ids(&mut csv);

    assert_eq!(first, vec![100, 101, 102]);
    assert_eq!(first, second);
}

#[test]
fn projection_keeps_requested_order() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "a,b,c\n1,x,2.5\n");
    let config = CsvConfig {
        columns: Some(vec!["c".into(), "a".into()]),
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(batches[0].column_names(), vec!["c", "a"]);
}

#[test]
fn unknown_projected_column_lists_columns() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "a,b\n1,2\n");
    let config = CsvConfig {
        columns: Some(vec!["z".into()]),
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");

    let error = drain(&mut csv, &mut context("csv")).expect_err("unknown column");

    assert!(error.to_string().contains(r#"column "z""#));
    assert!(error.to_string().contains("columns are: a, b"));
}

#[test]
fn quoted_newline_keeps_physical_lines() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "multi.csv", "note,v\n\"two\nlines\",1\nbad,x\n");
    let mut csv = float_collector(CsvConfig::from_paths([&path]), "v");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    let note = batches[0].column("note").expect("note").as_string::<i32>();
    assert_eq!(note.value(0), "two\nlines");
    assert_eq!(ctx.take_quarantined()[0].line, Some(4));
}

#[test]
fn integers_and_decimals_infer_float() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "v,flag,name\n1,true,x\n2.5,false,y\nNA,,z\n");
    let mut csv = collector(&[&path]);
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    let schema = batches[0].data().schema();
    assert_eq!(schema.field(0).data_type(), &DataType::Float64);
    assert_eq!(schema.field(1).data_type(), &DataType::Boolean);
    assert_eq!(schema.field(2).data_type(), &DataType::Utf8);
}

#[test]
fn late_decimal_needs_wider_inference() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.csv", "v\n1\n2\n3\n4.5\n");
    let narrow = CsvConfig {
        infer_rows: 2,
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(narrow.clone()).expect("config");
    let mut ctx = context("csv");
    drain(&mut csv, &mut ctx).expect("read");
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(quarantined[0].reason.contains("not a valid int64"));

    let whole = CsvConfig {
        infer_rows: 0,
        ..narrow
    };
    let mut csv = CsvCollector::new(whole).expect("config");
    let mut ctx = context("csv");
    let batches = drain(&mut csv, &mut ctx).expect("read");
    assert_eq!(ctx.quarantined_len(), 0);
    assert_eq!(
        batches[0].data().schema().field(0).data_type(),
        &DataType::Float64
    );
}

#[test]
fn headerless_file_uses_schema_names() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "a.tsv", "x;1\ny;2\n");
    let config = CsvConfig {
        has_header: false,
        delimiter: ';',
        schema: Some(vec![
            ColumnSpec::new("station", CsvType::Utf8),
            ColumnSpec::new("count", CsvType::Int64),
        ]),
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(batches[0].column_names(), vec!["station", "count"]);
    assert_eq!(batches[0].num_rows(), 2);
}

#[test]
fn config_rejects_unknown_fields() {
    let error = serde_json::from_str::<CsvConfig>(r#"{"paths":["a.csv"],"batchsize":10}"#)
        .expect_err("unknown field");
    assert!(error.to_string().contains("batchsize"));
}

#[test]
fn zero_batch_size_is_rejected() {
    let config = CsvConfig {
        batch_size: 0,
        ..CsvConfig::from_paths(["a.csv"])
    };
    let error = CsvCollector::new(config).expect_err("batch size 0");
    assert!(error.to_string().contains("`batch_size` is 0"));
}

/// Returns the Arrow memory of the rows of `batch`, counting only its own slice.
fn slice_bytes(batch: &governance_core::GovernedBatch) -> usize {
    batch
        .data()
        .columns()
        .iter()
        .map(|column| column.to_data().get_slice_memory_size().expect("size"))
        .sum()
}

#[test]
fn batches_split_by_rows_and_bytes() {
    let dir = TempDir::new().expect("temp dir");
    let mut text = String::from("id,note\n");
    for id in 0..200 {
        text.push_str(&format!("{id},{}\n", "x".repeat(id % 40)));
    }
    // One row far above the byte limit, which must pass whole.
    text.push_str(&format!("200,{}\n", "y".repeat(5000)));
    let path = write(&dir, "notes.csv", text);
    let config = CsvConfig::from_paths([&path]).with_limits(governance_collect::BatchLimits {
        max_rows: 64,
        max_bytes: 1024,
    });
    assert_eq!(config.batch_size, 64);
    assert_eq!(config.max_bytes, Some(1024));
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("csv");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert!(batches.len() > 201 / 64 + 1, "{} batches", batches.len());
    for batch in &batches {
        assert!(batch.num_rows() <= 64, "{} rows", batch.num_rows());
        assert!(
            slice_bytes(batch) <= 1024 || batch.num_rows() == 1,
            "{} bytes in {} rows",
            slice_bytes(batch),
            batch.num_rows()
        );
    }
    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.row_ids().values().to_vec())
        .collect();
    assert_eq!(ids, (0..201).collect::<Vec<u64>>());
    let values: Vec<i64> = batches
        .iter()
        .flat_map(|batch| {
            batch
                .column("id")
                .expect("id")
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(values, (0..201).collect::<Vec<i64>>());
    let last = batches.last().expect("batches");
    assert_eq!(last.num_rows(), 1);
    let note = last.column("note").expect("note").as_string::<i32>();
    assert_eq!(note.value(0).len(), 5000, "the long row is not truncated");
    assert!(ctx.take_quarantined().is_empty());
    assert_eq!(ctx.rows_read(), 201);
}

#[test]
fn zero_max_bytes_is_rejected() {
    let config = CsvConfig {
        max_bytes: Some(0),
        ..CsvConfig::from_paths(["a.csv"])
    };
    let error = CsvCollector::new(config).expect_err("zero bytes");
    assert!(error.to_string().contains("max_bytes"), "{error}");
}
