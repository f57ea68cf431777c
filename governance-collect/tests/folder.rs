//! The incremental folder collector: new files in modification-time order, a restart from a
//! committed position without re-reading, and a changed file reported instead of re-read.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arrow::array::{AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use governance_collect::csv::{ColumnSpec, CsvType};
use governance_collect::{FolderCollector, FolderConfig};
use governance_core::audit::AuditLog;
use governance_core::{Collector, GovernedBatch, StageContext};

fn config(dir: &Path) -> FolderConfig {
    FolderConfig {
        dir: dir.to_path_buf(),
        batch_size: 2,
        schema: Some(vec![
            ColumnSpec::new("seq", CsvType::Int64),
            ColumnSpec::new("station", CsvType::Utf8),
        ]),
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(100),
        ..FolderConfig::default()
    }
}

fn context() -> StageContext {
    StageContext::new("folder", 1, AuditLog::in_memory().into_handle())
}

/// Writes `name` with modification time `seconds` after an arbitrary fixed instant.
fn write(dir: &Path, name: &str, bytes: &[u8], seconds: u64) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a file");
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds);
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(time).expect("set mtime");
}

fn write_parquet(dir: &Path, name: &str, seqs: Vec<i64>, seconds: u64) {
    let schema = Arc::new(Schema::new(vec![Field::new("seq", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(seqs))])
        .expect("batch");
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    write(dir, name, &bytes, seconds);
}

fn seqs(batch: &GovernedBatch) -> Vec<i64> {
    batch
        .column("seq")
        .expect("seq")
        .as_primitive::<Int64Type>()
        .iter()
        .flatten()
        .collect()
}

fn drain(collector: &mut FolderCollector, ctx: &mut StageContext) -> Vec<GovernedBatch> {
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(ctx).expect("next batch") {
        batches.push(batch);
    }
    batches
}

fn fill(dir: &Path) {
    // Written out of name order: b.csv is older than a.ndjson.
    write(dir, "b.csv", b"seq,station\n1,A\n2,B\n3,C\n", 10);
    write(dir, "a.ndjson", b"{\"seq\": 4, \"station\": \"D\"}\nnot json\n{\"seq\": \"five\", \"station\": \"E\"}\n{\"seq\": 6}\n", 20);
    write_parquet(dir, "c.parquet", vec![7, 8, 9], 30);
    write(dir, "notes.txt", b"ignored", 5);
}

#[test]
fn files_read_in_mtime_order_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    fill(dir.path());
    let mut collector = FolderCollector::new(config(dir.path())).expect("collector");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);
    let all: Vec<i64> = batches.iter().flat_map(seqs).collect();
    assert_eq!(all, vec![1, 2, 3, 4, 6, 7, 8, 9]);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(
        quarantined[0].reason.contains("not valid JSON"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[0].line, Some(2));
    assert!(
        quarantined[1].reason.contains("expected int64"),
        "{}",
        quarantined[1].reason
    );
    assert_eq!(quarantined[1].line, Some(3));
    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.row_ids().values().to_vec())
        .collect();
    assert_eq!(ids, (0..8).collect::<Vec<u64>>());
    assert!(collector.position().completed.contains_key("c.parquet"));
    assert!(!collector.position().completed.contains_key("notes.txt"));
}

#[test]
fn restart_resumes_after_committed_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    fill(dir.path());
    let mut first = FolderCollector::new(config(dir.path())).expect("collector");
    let mut ctx = context();
    let mut read = Vec::new();
    // Commit the first two batches: all of b.csv, cut inside it after two rows.
    let mut committed = None;
    for _ in 0..2 {
        let batch = first.next_batch(&mut ctx).expect("next").expect("a batch");
        read.extend(seqs(&batch));
        committed = batch.provenance.position.clone();
    }
    drop(first);

    let mut second = FolderCollector::new(config(dir.path())).expect("collector");
    second.resume(committed.as_ref()).expect("resume");
    let mut ctx = context();
    let rest = drain(&mut second, &mut ctx);
    read.extend(rest.iter().flat_map(seqs));
    assert_eq!(
        read,
        vec![1, 2, 3, 4, 6, 7, 8, 9],
        "no row may be read twice or skipped"
    );
    assert_eq!(
        rest[0].row_ids().value(0),
        3,
        "row ids continue after the committed ones"
    );
}

#[test]
fn changed_file_is_reported_not_reread() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "b.csv", b"seq,station\n1,A\n", 10);
    let mut collector = FolderCollector::new(config(dir.path())).expect("collector");
    let mut ctx = context();
    assert_eq!(
        drain(&mut collector, &mut ctx)
            .iter()
            .flat_map(seqs)
            .collect::<Vec<_>>(),
        vec![1]
    );

    write(dir.path(), "b.csv", b"seq,station\n1,A\n2,B\n", 40);
    write(dir.path(), "d.csv", b"seq,station\n10,E\n", 50);
    let again = drain(&mut collector, &mut ctx);
    assert_eq!(
        again.iter().flat_map(seqs).collect::<Vec<_>>(),
        vec![10],
        "only the new file is read"
    );
    assert_eq!(collector.changed_files(), &[dir.path().join("b.csv")]);
}

#[test]
fn position_of_other_collector_is_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut collector = FolderCollector::new(config(dir.path())).expect("collector");
    let position = governance_core::SourcePosition::new("mqtt", serde_json::json!({}));
    let error = collector.resume(Some(&position)).expect_err("other kind");
    assert!(error.to_string().contains("\"mqtt\""), "{error}");
}

#[test]
fn ndjson_batches_split_by_bytes() {
    let dir = tempfile::tempdir().expect("folder");
    let line = |seq: i64| format!("{{\"seq\": {seq}, \"station\": \"s\"}}");
    let line_bytes = line(1).len();
    let long = format!(
        "{{\"seq\": 3, \"station\": \"{}\"}}",
        "x".repeat(line_bytes * 3)
    );
    let text = format!(
        "{}\n{}\n{long}\n{}\n{}\n",
        line(1),
        line(2),
        line(4),
        line(5)
    );
    write(dir.path(), "a.ndjson", text.as_bytes(), 1);
    let mut settings = config(dir.path());
    settings.batch_size = 10;
    settings.max_bytes = Some(line_bytes * 2);
    let mut collector = FolderCollector::new(settings).expect("collector");
    let mut ctx = context();
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        batches.push(seqs(&batch));
    }
    assert_eq!(batches, vec![vec![1, 2], vec![4, 5]]);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].line, Some(3));
    assert!(
        quarantined[0].reason.contains("above the batch limit"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(ctx.rows_read(), 5);
}

#[test]
fn parquet_batches_split_by_memory() {
    let dir = tempfile::tempdir().expect("folder");
    write_parquet(dir.path(), "a.parquet", (0..1000).collect(), 1);
    let mut settings = config(dir.path());
    settings.schema = None;
    settings.batch_size = 1000;
    settings.max_bytes = Some(2048);
    let mut collector = FolderCollector::new(settings).expect("collector");
    let mut ctx = context();
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        sizes.push(batch.num_rows());
        all.extend(seqs(&batch));
    }
    assert!(sizes.len() > 1, "{sizes:?}");
    assert!(sizes.iter().all(|rows| rows * 8 <= 2048), "{sizes:?}");
    assert_eq!(all, (0..1000).collect::<Vec<i64>>());
}

#[test]
fn split_batches_resume_exactly() {
    let dir = tempfile::tempdir().expect("folder");
    write_parquet(dir.path(), "a.parquet", (0..1000).collect(), 1);
    let settings = FolderConfig {
        schema: None,
        batch_size: 1000,
        max_bytes: Some(2048),
        ..config(dir.path())
    };
    let mut first = FolderCollector::new(settings.clone()).expect("collector");
    let mut ctx = context();
    let batch = first.next_batch(&mut ctx).expect("first").expect("a batch");
    let position = batch.provenance.position.clone().expect("position");
    let emitted = seqs(&batch);

    let mut second = FolderCollector::new(settings).expect("collector");
    second.resume(Some(&position)).expect("resume");
    let mut rest = Vec::new();
    while let Some(batch) = second.next_batch(&mut context()).expect("next batch") {
        rest.extend(seqs(&batch));
    }
    let mut all = emitted;
    all.extend(rest);
    assert_eq!(all, (0..1000).collect::<Vec<i64>>());
}
