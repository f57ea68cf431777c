//! The checkpointed stream driver: a folder of files into Parquet parts, resumed after a
//! stop, and a sink that commits later is rejected.

use governance_apply::{
    ParquetPartSink, PostgresSink, PostgresSinkConfig, StreamOptions, run_checkpointed,
};
use governance_collect::{FolderCollector, FolderConfig};
use governance_core::audit::AuditLog;

fn folder(dir: &std::path::Path) -> FolderCollector {
    FolderCollector::new(FolderConfig {
        dir: dir.to_path_buf(),
        batch_size: 2,
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(50),
        ..FolderConfig::default()
    })
    .expect("folder collector")
}

#[test]
fn stream_resumes_after_stop() {
    let input = tempfile::tempdir().expect("input folder");
    let output = tempfile::tempdir().expect("output folder");
    std::fs::write(input.path().join("a.csv"), "seq\n1\n2\n3\n4\n5\n").expect("write");
    let audit = AuditLog::in_memory().into_handle();

    let mut sink = ParquetPartSink::open(output.path()).expect("sink");
    let first = StreamOptions {
        max_batches: Some(2),
        ..StreamOptions::default()
    };
    let stats = run_checkpointed(&mut folder(input.path()), &mut sink, audit.clone(), &first)
        .expect("first run");
    assert_eq!(stats.rows, 4);

    std::fs::write(
        input.path().join("b.ndjson"),
        "{\"seq\": 6}\n{\"seq\": oops}\n",
    )
    .expect("write");
    let quarantine = output.path().join("quarantine.jsonl");
    let second = StreamOptions {
        quarantine_file: Some(quarantine.clone()),
        ..StreamOptions::default()
    };
    let mut sink = ParquetPartSink::open(output.path()).expect("reopen");
    let stats =
        run_checkpointed(&mut folder(input.path()), &mut sink, audit, &second).expect("second run");
    assert_eq!(
        stats.rows, 2,
        "only row 5 of a.csv and row 6 of b.ndjson are new"
    );
    assert_eq!(stats.quarantined, 1);
    assert_eq!(sink.checkpoint().rows, 6);
    let lines = std::fs::read_to_string(&quarantine).expect("quarantine file");
    assert_eq!(lines.lines().count(), 1);
    assert!(lines.contains("not valid JSON"), "{lines}");
}

#[test]
fn round_commit_sink_is_rejected() {
    let input = tempfile::tempdir().expect("input folder");
    let config = PostgresSinkConfig::new("host=127.0.0.1 user=nobody", "readings", "pipeline");
    let mut sink = PostgresSink::new(config).expect("sink");
    let error = run_checkpointed(
        &mut folder(input.path()),
        &mut sink,
        AuditLog::in_memory().into_handle(),
        &StreamOptions::default(),
    )
    .expect_err("a sink that commits per round");
    assert!(error.to_string().contains("commit = \"batch\""), "{error}");
}
