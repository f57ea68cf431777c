//! CsvSink end to end: content, delimiter and header settings, failed rounds.

mod common;

use std::path::Path;

use common::{FailAt, LINES, LineCollector, RangeCheck, TextAfterFirst, files_under};
use governance_apply::{ApplyError, CsvSink, CsvSinkConfig, GOVERNED_CSV_FILE};
use governance_core::{Chain, ChainBuilder};

fn chain_with(sink: CsvSink) -> ChainBuilder {
    Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(RangeCheck { limit: 500.0 })
        .apply(sink)
}

fn sink(dir: &Path) -> CsvSink {
    CsvSink::new(CsvSinkConfig::new(dir)).expect("sink")
}

#[test]
fn governed_csv_has_ids_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path())).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    assert_eq!(summary.rows_delivered, 4);

    let text = std::fs::read_to_string(dir.path().join("round-1").join(GOVERNED_CSV_FILE))
        .expect("read csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], "__row_id,name,pm25");
    assert_eq!(lines[1], "0,north,12.5");
    // The null pm25 of "west" is written as an empty field.
    assert!(lines.iter().any(|line| line.ends_with(",west,")), "{text}");
}

#[test]
fn delimiter_and_header_follow_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = CsvSinkConfig::new(dir.path());
    config.delimiter = ';';
    config.header = false;
    config.null = "NA".into();
    config.per_round_subdir = false;
    let mut chain = chain_with(CsvSink::new(config).expect("sink"))
        .build()
        .expect("chain");
    chain.run_blocking().expect("run");

    let text = std::fs::read_to_string(dir.path().join(GOVERNED_CSV_FILE)).expect("read csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "0;north;12.5");
    assert!(
        lines.iter().any(|line| line.ends_with(";west;NA")),
        "{text}"
    );
}

#[test]
fn failed_round_leaves_no_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failing = FailAt {
        fail_at: 2,
        rounds: vec![1],
        seen: 0,
    };
    let mut chain = chain_with(sink(dir.path()))
        .clean(failing)
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("second batch fails");

    let final_path = dir.path().join("round-1").join(GOVERNED_CSV_FILE);
    assert!(!final_path.exists(), "{}", final_path.display());
    // The first batch went to a temporary file, which dropping the sink deletes.
    drop(chain);
    let left = files_under(dir.path());
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn round_after_failure_writes_whole_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failing = FailAt {
        fail_at: 2,
        rounds: vec![1],
        seen: 0,
    };
    let mut chain = chain_with(sink(dir.path()))
        .clean(failing)
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("round 1 fails");
    chain.run_blocking().expect("round 2 succeeds");

    let text = std::fs::read_to_string(dir.path().join("round-2").join(GOVERNED_CSV_FILE))
        .expect("read csv");
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(!dir.path().join("round-1").join(GOVERNED_CSV_FILE).exists());
}

#[test]
fn schema_change_fails_without_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = chain_with(sink(dir.path()))
        .clean(TextAfterFirst { seen: 0 })
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("schema changes");
    let source = std::error::Error::source(&error).expect("stage error has a source");
    let apply_error = source.downcast_ref::<ApplyError>().expect("an ApplyError");
    assert!(
        matches!(apply_error, ApplyError::SchemaChanged { batch: 2, .. }),
        "{apply_error:?}"
    );
    assert!(!dir.path().join("round-1").join(GOVERNED_CSV_FILE).exists());
}
