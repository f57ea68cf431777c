//! End-to-end MQTT ingest benchmark: messages/s from a local Mosquitto broker through the
//! MQTT collector into committed Parquet parts.
//!
//! It starts a throwaway `mosquitto` on 127.0.0.1, opens the collector's persistent session,
//! publishes `--messages` JSON readings with QoS 1, and then times the pipeline from its
//! start to the commit of the last batch: receive, dedupe check, JSON decoding, Parquet
//! write, checkpoint rename with fsync, and the acknowledgements.
//!
//!     cargo run --release -p governance-apply --example bench_mqtt -- --messages 100000 --batch 1000

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark prints its figures"
)]

#[path = "../../governance-collect/tests/support/mosquitto.rs"]
mod mosquitto;

use std::time::Instant;

use governance_apply::ParquetPartSink;
use governance_collect::mqtt::{MessageKey, MqttCollector, MqttConfig};
use governance_core::audit::AuditLog;
use governance_core::{Applicator, Collector, StageContext};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut messages: usize = 100_000;
    let mut batch: usize = 1000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--messages" => messages = value.parse()?,
            "--batch" => batch = value.parse()?,
            other => {
                return Err(format!("unknown option {other}; use --messages N --batch N").into());
            }
        }
    }
    let Some(broker) = mosquitto::Broker::start() else {
        return Ok(());
    };
    let config = MqttConfig {
        port: broker.port(),
        client_id: "bench".into(),
        topics: vec!["bench/+/air".into()],
        key: MessageKey::Fields(vec!["/seq".into()]),
        max_messages: batch,
        max_wait_ms: 200,
        idle_end_ms: Some(1000),
        dedupe_window: batch.max(10_000),
        ..MqttConfig::default()
    };
    let audit = AuditLog::in_memory().into_handle();
    {
        let mut session = MqttCollector::new(MqttConfig {
            idle_end_ms: Some(100),
            ..config.clone()
        })?;
        let mut ctx = StageContext::new("mqtt", 1, audit.clone());
        session.next_batch(&mut ctx)?;
    }

    let payloads: Vec<Vec<u8>> = (0..messages)
        .map(|seq| {
            format!(
                r#"{{"seq": {seq}, "station": "station-{}", "pm25": {:.1}, "no2": {}, "observed_at": "2024-05-01T10:{:02}:00Z"}}"#,
                seq % 35,
                (seq % 400) as f64 / 3.0,
                seq % 120,
                seq % 60
            )
            .into_bytes()
        })
        .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    let published = Instant::now();
    mosquitto::publish_all(broker.port(), "bench/north/air", &payloads);
    let publish_seconds = published.elapsed().as_secs_f64();

    let out = tempfile::tempdir()?;
    let mut sink = ParquetPartSink::open(out.path())?;
    let mut collector = MqttCollector::new(config)?;
    let mut collect_ctx = StageContext::new("mqtt", 1, audit.clone());
    let mut sink_ctx = StageContext::new("parquet_part_sink", 1, audit);
    let started = Instant::now();
    let mut rows = 0usize;
    let mut batches = 0usize;
    let mut last_commit = started;
    while let Some(governed) = collector.next_batch(&mut collect_ctx)? {
        sink.apply(&governed, &mut sink_ctx)?;
        if let Some(position) = &governed.provenance.position {
            collector.committed(position)?;
        }
        rows += governed.num_rows();
        batches += 1;
        last_commit = Instant::now();
    }
    let seconds = last_commit.duration_since(started).as_secs_f64();
    if rows != messages {
        return Err(format!("ingested {rows} rows of {messages} messages").into());
    }
    println!("messages          {messages}");
    println!("payload bytes     {bytes}");
    println!("batch size        {batch}");
    println!("batches           {batches}");
    println!(
        "publish (QoS 1)   {:.2} s, {:.0} messages/s",
        publish_seconds,
        messages as f64 / publish_seconds
    );
    println!(
        "ingest to Parquet {:.2} s, {:.0} messages/s",
        seconds,
        messages as f64 / seconds
    );
    Ok(())
}
