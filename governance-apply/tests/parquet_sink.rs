//! ParquetSink end to end: files, row ids, metadata, rounds, failures and schema changes.

mod common;

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, UInt64Type};
use common::{AlertOnMax, FailAt, LINES, LineCollector, RangeCheck, TextAfterFirst, files_under};
use governance_apply::{ApplyError, GOVERNED_FILE, ISSUES_FILE, ParquetSink, ParquetSinkConfig};
use governance_core::audit::AuditAction;
use governance_core::semantic::UNIT_KEY;
use governance_core::{Chain, ChainBuilder, ROW_ID_COLUMN, Semantic};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read_parquet(path: &Path) -> (arrow::datatypes::SchemaRef, Vec<RecordBatch>) {
    let file = File::open(path).expect("open parquet file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet reader");
    let schema = builder.schema().clone();
    let batches = builder
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("read batches");
    (schema, batches)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn chain_with(sink: ParquetSink, lines: &[&str]) -> ChainBuilder {
    Chain::builder()
        .collect(LineCollector::new(lines, 2))
        .clean(RangeCheck { limit: 500.0 })
        .apply(sink)
}

fn sink(dir: &Path) -> ParquetSink {
    ParquetSink::new(ParquetSinkConfig::new(dir)).expect("sink")
}

#[test]
fn governed_file_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    assert_eq!(summary.rows_delivered, 4);

    let (schema, batches) = read_parquet(&dir.path().join("round-1").join(GOVERNED_FILE));
    assert_eq!(rows(&batches), 4);
    assert_eq!(schema.field(0).name(), ROW_ID_COLUMN);
    assert_eq!(schema.field(0).data_type(), &DataType::UInt64);
    let names: Vec<&String> = schema.fields().iter().map(|field| field.name()).collect();
    assert_eq!(names, vec![ROW_ID_COLUMN, "name", "pm25"]);

    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|batch| {
            batch
                .column(0)
                .as_primitive::<UInt64Type>()
                .values()
                .to_vec()
        })
        .collect();
    // The malformed line got no id and the rejected row left with its id: four unique ids remain.
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 4);
    let stations: Vec<String> = batches
        .iter()
        .flat_map(|batch| {
            let names = batch.column(1).as_string::<i32>();
            (0..names.len())
                .map(|row| names.value(row).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(stations, vec!["north", "south", "west", "centre"]);
}

#[test]
fn field_metadata_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES).build().expect("chain");
    chain.run_blocking().expect("run");

    let (schema, _) = read_parquet(&dir.path().join("round-1").join(GOVERNED_FILE));
    let pm25 = schema.field_with_name("pm25").expect("pm25 field");
    assert_eq!(
        pm25.metadata().get(UNIT_KEY).map(String::as_str),
        Some("ug/m3")
    );
    let expected = Semantic::from_field(LineCollector::schema().field(1));
    assert_eq!(Semantic::from_field(pm25), expected);
}

#[test]
fn issues_file_holds_delivered_issues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    let delivered: u64 = summary.issues_by_kind.values().sum();
    assert_eq!(delivered, 2);

    let (schema, batches) = read_parquet(&dir.path().join("round-1").join(ISSUES_FILE));
    assert_eq!(schema, governance_core::IssueLog::schema());
    assert_eq!(rows(&batches) as u64, delivered);
    let kinds: Vec<String> = batches
        .iter()
        .flat_map(|batch| {
            let kinds = batch.column(2).as_string::<i32>();
            (0..kinds.len())
                .map(|row| kinds.value(row).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(kinds, vec!["out_of_range", "missing"]);
}

#[test]
fn rounds_go_to_own_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES).build().expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");

    for round in ["round-1", "round-2"] {
        let (_, batches) = read_parquet(&dir.path().join(round).join(GOVERNED_FILE));
        assert_eq!(rows(&batches), 4, "{round}");
    }
    assert!(!dir.path().join(GOVERNED_FILE).exists());
}

#[test]
fn flat_layout_replaces_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ParquetSinkConfig::new(dir.path());
    config.per_round_subdir = false;
    let mut chain = chain_with(ParquetSink::new(config).expect("sink"), LINES)
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");

    let files = files_under(dir.path());
    assert_eq!(
        files,
        vec![Path::new(GOVERNED_FILE), Path::new(ISSUES_FILE)]
    );
    let (_, batches) = read_parquet(&dir.path().join(GOVERNED_FILE));
    assert_eq!(rows(&batches), 4);
}

#[test]
fn failed_round_leaves_no_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failing = FailAt {
        fail_at: 2,
        rounds: vec![1],
        seen: 0,
    };
    let mut chain = chain_with(sink(dir.path()), LINES)
        .clean(failing)
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("second batch fails");
    assert!(error.to_string().contains("fails"), "{error}");

    let final_names: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "parquet")
        })
        .collect();
    assert!(final_names.is_empty(), "{final_names:?}");

    // Dropping the sink deletes the temporary files of the failed round.
    drop(chain);
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[test]
fn round_after_failure_writes_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failing = FailAt {
        fail_at: 2,
        rounds: vec![1],
        seen: 0,
    };
    let mut chain = chain_with(sink(dir.path()), LINES)
        .clean(failing)
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("round 1 fails");
    chain.run_blocking().expect("round 2 succeeds");

    let (_, batches) = read_parquet(&dir.path().join("round-2").join(GOVERNED_FILE));
    assert_eq!(rows(&batches), 4);
    let files = files_under(dir.path());
    assert_eq!(
        files,
        vec![
            Path::new("round-2").join(GOVERNED_FILE),
            Path::new("round-2").join(ISSUES_FILE)
        ],
        "round 1's temporary files must be gone"
    );
}

#[test]
fn schema_change_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES)
        .clean(TextAfterFirst { seen: 0 })
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("schema changes");
    let source = std::error::Error::source(&error).expect("stage error has a source");
    let apply_error = source.downcast_ref::<ApplyError>().expect("an ApplyError");
    let ApplyError::SchemaChanged { batch, differences } = apply_error else {
        panic!("expected SchemaChanged, got {apply_error:?}");
    };
    assert_eq!(*batch, 2);
    assert_eq!(differences.len(), 2, "{differences:?}");
    assert!(
        differences[0].contains("\"pm25\" is Float64 in batch 1 and Utf8 here"),
        "{}",
        differences[0]
    );
    assert!(differences[1].contains("metadata"), "{}", differences[1]);
    assert!(
        apply_error.to_string().contains("align the columns"),
        "{apply_error}"
    );
    assert!(!dir.path().join("round-1").join(GOVERNED_FILE).exists());
}

#[test]
fn reserved_column_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(RenameTo(ROW_ID_COLUMN))
        .apply(sink(dir.path()))
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("reserved name");
    let source = std::error::Error::source(&error).expect("source");
    assert!(
        source.to_string().contains("reserved for row ids"),
        "{source}"
    );
}

#[test]
fn empty_round_writes_row_id_only_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), &[]).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    assert_eq!(summary.rows_delivered, 0);

    let (schema, batches) = read_parquet(&dir.path().join("round-1").join(GOVERNED_FILE));
    assert_eq!(schema.fields().len(), 1);
    assert_eq!(schema.field(0).name(), ROW_ID_COLUMN);
    assert_eq!(rows(&batches), 0);
    let (_, issues) = read_parquet(&dir.path().join("round-1").join(ISSUES_FILE));
    assert_eq!(rows(&issues), 0);
}

#[test]
fn share_is_audited_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()), LINES)
        .analyze(AlertOnMax {
            threshold: 100.0,
            max: f64::MIN,
        })
        .build()
        .expect("chain");
    chain.run_blocking().expect("run");

    let log = chain.audit().lock().expect("audit lock");
    let shares: Vec<_> = log
        .records()
        .iter()
        .filter(|record| record.actor == "parquet_sink" && record.action == AuditAction::Share)
        .collect();
    assert_eq!(shares.len(), 1);
    assert!(
        shares[0].subject.ends_with(GOVERNED_FILE),
        "{}",
        shares[0].subject
    );
    assert!(
        shares[0].detail.starts_with("rows=4 columns=3 issues=2"),
        "{}",
        shares[0].detail
    );
}

#[test]
fn small_row_groups_keep_all_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ParquetSinkConfig::new(dir.path());
    config.max_row_group_rows = 1;
    let mut chain = chain_with(ParquetSink::new(config).expect("sink"), LINES)
        .build()
        .expect("chain");
    chain.run_blocking().expect("run");

    let file = File::open(dir.path().join("round-1").join(GOVERNED_FILE)).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("reader");
    assert_eq!(builder.metadata().num_row_groups(), 4);
}

/// Renames the first column, to collide with the row-id column name.
struct RenameTo(&'static str);

impl governance_core::Stage for RenameTo {
    fn name(&self) -> &str {
        "rename"
    }
}

impl governance_core::Cleaner for RenameTo {
    fn clean(
        &mut self,
        mut batch: governance_core::GovernedBatch,
        _: &mut governance_core::StageContext,
    ) -> governance_core::Result<governance_core::GovernedBatch> {
        let data = batch.data();
        let mut fields: Vec<arrow::datatypes::Field> = data
            .schema()
            .fields()
            .iter()
            .map(|field| field.as_ref().clone())
            .collect();
        fields[0] = fields[0].clone().with_name(self.0);
        let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
        let renamed = RecordBatch::try_new(schema, data.columns().to_vec())?;
        batch.replace_data(renamed)?;
        Ok(batch)
    }
}
