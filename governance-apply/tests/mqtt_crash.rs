//! Process failure: an MQTT-to-sink pipeline runs as a child process, is killed with SIGKILL
//! in the middle of the stream and started again. The sink must then hold every message
//! exactly once, and its checkpoint must agree with its rows.
//!
//! This file has its own `main` (no libtest harness): started with `PIPELINE_CHILD` set,
//! the binary is the pipeline; otherwise it runs the tests, which start it as the child.
//! Each test skips when `mosquitto` (or, for the PostgreSQL test, the PostgreSQL server) is
//! not installed.

#![allow(clippy::print_stderr, reason = "test progress and skips go to stderr")]

#[path = "../../governance-collect/tests/support/mosquitto.rs"]
mod mosquitto;
#[path = "support/pg.rs"]
mod pg;

use std::collections::BTreeMap;
use std::fs::File;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use arrow::array::AsArray;
use arrow::datatypes::{Int64Type, UInt64Type};
use governance_apply::{
    CommitMode, ParquetPartSink, PostgresSink, PostgresSinkConfig, StreamOptions, run_checkpointed,
};
use governance_collect::mqtt::{MessageKey, MqttCollector, MqttConfig};
use governance_core::audit::AuditLog;
use governance_core::{CheckpointStore, ROW_ID_COLUMN};
use mosquitto::{Broker, publish_all};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const CHILD_ENV: &str = "PIPELINE_CHILD";
const MESSAGES: i64 = 3000;
const TOPIC: &str = "city/crash/air";

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        run_child(&spec);
        return;
    }
    let tests: [(&str, fn()); 2] = [
        (
            "sigkill_parquet_pipeline_exactly_once",
            sigkill_parquet_pipeline_exactly_once,
        ),
        (
            "sigkill_postgres_pipeline_exactly_once",
            sigkill_postgres_pipeline_exactly_once,
        ),
    ];
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    for (name, test) in tests {
        if filter
            .as_ref()
            .is_some_and(|filter| !name.contains(filter.as_str()))
        {
            continue;
        }
        eprintln!("test {name} ...");
        test();
        eprintln!("test {name} ... ok");
    }
}

/// Runs the pipeline as the child, from `<port> parquet <dir>` or `<port> postgres
/// <connection string>`.
fn run_child(spec: &str) {
    let parts: Vec<&str> = spec.splitn(3, ' ').collect();
    let [port, sink, target] = parts[..] else {
        panic!("{CHILD_ENV} must be '<port> <sink> <target>', got {spec:?}");
    };
    let mut collector =
        MqttCollector::new(collector_config(port.parse().expect("port"))).expect("collector");
    let audit = AuditLog::in_memory().into_handle();
    let options = StreamOptions::default();
    let stats = match sink {
        "parquet" => {
            let mut sink = ParquetPartSink::open(target).expect("open the part sink");
            run_checkpointed(&mut collector, &mut sink, audit, &options)
        }
        "postgres" => {
            let mut config = PostgresSinkConfig::new(target, "readings", "mqtt-crash");
            config.commit = CommitMode::Batch;
            let mut sink = PostgresSink::new(config).expect("PostgreSQL sink");
            run_checkpointed(&mut collector, &mut sink, audit, &options)
        }
        other => panic!("unknown sink {other:?}"),
    }
    .expect("pipeline");
    eprintln!(
        "child committed {} rows in {} batches",
        stats.rows, stats.batches
    );
}

fn collector_config(port: u16) -> MqttConfig {
    MqttConfig {
        port,
        client_id: "crash-pipeline".into(),
        topics: vec!["city/+/air".into()],
        key: MessageKey::Fields(vec!["/seq".into()]),
        max_messages: 50,
        max_wait_ms: 100,
        idle_end_ms: Some(2000),
        ..MqttConfig::default()
    }
}

fn payloads() -> Vec<Vec<u8>> {
    (0..MESSAGES)
        .map(|seq| {
            format!(
                r#"{{"seq": {seq}, "station": "s{}", "pm25": {}.25}}"#,
                seq % 7,
                seq % 90
            )
            .into_bytes()
        })
        .collect()
}

fn spawn_child(port: u16, sink: &str, target: &str, log: &std::path::Path) -> Child {
    let exe = std::env::current_exe().expect("path of the test binary");
    let log = File::create(log).expect("child log");
    Command::new(exe)
        .env(CHILD_ENV, format!("{port} {sink} {target}"))
        .stderr(log)
        .spawn()
        .expect("start the pipeline child")
}

/// Runs the pipeline, kills it once `progress` reports at least `after` committed rows,
/// then runs it again to the end.
fn crash_and_rerun(
    port: u16,
    sink: &str,
    target: &str,
    log_dir: &std::path::Path,
    progress: impl Fn() -> u64,
) {
    let after = MESSAGES as u64 / 4;
    let mut child = spawn_child(port, sink, target, &log_dir.join("first.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while progress() < after {
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!(
                "the pipeline exited ({status}) before it was killed; log in {}",
                log_dir.display()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the pipeline committed {} rows in 60 s",
            progress()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // Command's kill sends SIGKILL: no destructor, flush or disconnect runs in the child.
    child.kill().expect("SIGKILL the pipeline");
    child.wait().expect("reap the pipeline");
    let at_kill = progress();
    assert!(
        at_kill < MESSAGES as u64,
        "the pipeline finished before the kill; raise MESSAGES"
    );
    eprintln!("killed the {sink} pipeline after {at_kill} committed rows");

    let mut rerun = spawn_child(port, sink, target, &log_dir.join("second.log"));
    let status = rerun.wait().expect("wait for the second run");
    let second = std::fs::read_to_string(log_dir.join("second.log")).unwrap_or_default();
    assert!(status.success(), "second run failed ({status}):\n{second}");
}

fn assert_each_once(seqs: &[i64]) {
    let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
    for seq in seqs {
        *counts.entry(*seq).or_insert(0) += 1;
    }
    let missing: Vec<i64> = (0..MESSAGES)
        .filter(|seq| !counts.contains_key(seq))
        .collect();
    assert!(
        missing.is_empty(),
        "{} messages missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let repeated: Vec<(i64, u32)> = counts.into_iter().filter(|(_, count)| *count > 1).collect();
    assert!(
        repeated.is_empty(),
        "{} messages stored twice, first {:?}",
        repeated.len(),
        &repeated[..repeated.len().min(10)]
    );
    assert_eq!(seqs.len() as i64, MESSAGES);
}

fn sigkill_parquet_pipeline_exactly_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let work = tempfile::tempdir().expect("temp dir");
    let out = work.path().join("parts");
    std::fs::create_dir_all(&out).expect("create the sink folder");
    let target = out.display().to_string();
    establish_session(broker.port());
    publish_all(broker.port(), TOPIC, &payloads());

    let checkpoint = out.join(governance_apply::PART_CHECKPOINT_FILE);
    crash_and_rerun(broker.port(), "parquet", &target, work.path(), || {
        std::fs::read_to_string(&checkpoint)
            .ok()
            .and_then(|text| serde_json::from_str::<governance_apply::PartCheckpoint>(&text).ok())
            .map_or(0, |checkpoint| checkpoint.rows)
    });

    let mut sink = ParquetPartSink::open(&out).expect("reopen the sink");
    let mut seqs = Vec::new();
    let mut row_ids = Vec::new();
    for part in sink.committed_parts().expect("parts") {
        let file = File::open(&part).expect("open a part");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("part reader")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("read a part");
            let seq = batch
                .column_by_name("seq")
                .expect("seq")
                .as_primitive::<Int64Type>();
            seqs.extend(seq.iter().flatten());
            let ids = batch
                .column_by_name(ROW_ID_COLUMN)
                .expect("row ids")
                .as_primitive::<UInt64Type>();
            row_ids.extend(ids.iter().flatten());
        }
    }
    assert_each_once(&seqs);
    assert_eq!(
        sink.checkpoint().rows,
        MESSAGES as u64,
        "the checkpoint's row count must match the parts"
    );
    row_ids.sort_unstable();
    assert_eq!(
        row_ids,
        (0..MESSAGES as u64).collect::<Vec<_>>(),
        "row ids must continue across the restart"
    );
    let position = sink.load_position().expect("load").expect("a position");
    assert_eq!(position.state["next_row_id"], serde_json::json!(MESSAGES));
}

fn sigkill_postgres_pipeline_exactly_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let Some(server) = pg::PgServer::start() else {
        return;
    };
    let work = tempfile::tempdir().expect("temp dir");
    establish_session(broker.port());
    publish_all(broker.port(), TOPIC, &payloads());

    let connection = server.connection_string();
    crash_and_rerun(broker.port(), "postgres", &connection, work.path(), || {
        // The table appears with the first commit.
        let exists = server.scalar("SELECT to_regclass('public.readings') IS NOT NULL");
        if exists.as_deref() != Some("t") {
            return 0;
        }
        server
            .scalar("SELECT count(*) FROM readings")
            .and_then(|count| count.parse().ok())
            .unwrap_or(0)
    });

    let seqs: Vec<i64> = server
        .query("SELECT seq FROM readings")
        .into_iter()
        .map(|row| {
            row[0]
                .as_deref()
                .expect("seq")
                .parse()
                .expect("integer seq")
        })
        .collect();
    assert_each_once(&seqs);
    let next_row_id = server
        .scalar(
            "SELECT position->'source_position'->'state'->>'next_row_id' FROM checkpoints \
             WHERE pipeline_id = 'mqtt-crash'",
        )
        .expect("a checkpoint row");
    assert_eq!(
        next_row_id,
        MESSAGES.to_string(),
        "the checkpoint must agree with the table"
    );
    let max_row_id = server
        .scalar("SELECT max(__row_id) + 1 FROM readings")
        .expect("row ids");
    assert_eq!(max_row_id, MESSAGES.to_string());
}

/// Creates the pipeline's persistent session, so that messages published before the child
/// starts are queued for it.
fn establish_session(port: u16) {
    let mut config = collector_config(port);
    config.idle_end_ms = Some(100);
    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx =
        governance_core::StageContext::new("mqtt", 1, AuditLog::in_memory().into_handle());
    use governance_core::Collector;
    assert!(
        collector
            .next_batch(&mut ctx)
            .expect("first poll")
            .is_none()
    );
}
