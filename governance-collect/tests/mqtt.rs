//! The MQTT collector against a real Mosquitto broker on 127.0.0.1: redelivery after a
//! crash before the commit, a broker restart in the middle of a stream, and quarantine of
//! malformed messages, and the schema drift policy on NGSI-LD entities that gain an
//! attribute, also across a restart. Each test skips when `mosquitto` is not installed.

#![allow(
    clippy::print_stderr,
    reason = "the broker test reports the redeliveries it saw"
)]

#[path = "support/mosquitto.rs"]
mod mosquitto;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use governance_collect::mqtt::{MessageKey, MqttCollector, MqttConfig, MqttPayload};
use governance_collect::{DriftConfig, DriftPolicy};
use governance_core::audit::AuditLog;
use governance_core::{Collector, QuarantinedRow, StageContext};
use mosquitto::{Broker, publish_all};

fn config(port: u16, client_id: &str, topic: &str) -> MqttConfig {
    MqttConfig {
        port,
        client_id: client_id.into(),
        topics: vec![topic.into()],
        key: MessageKey::Fields(vec!["/seq".into()]),
        max_messages: 40,
        max_wait_ms: 200,
        idle_end_ms: Some(1500),
        reconnect_min_ms: 50,
        reconnect_max_ms: 400,
        ..MqttConfig::default()
    }
}

fn context() -> StageContext {
    StageContext::new("mqtt", 1, AuditLog::in_memory().into_handle())
}

fn readings(range: std::ops::Range<i64>) -> Vec<Vec<u8>> {
    range
        .map(|seq| {
            format!(
                r#"{{"seq": {seq}, "station": "s{}", "pm25": {}.5}}"#,
                seq % 3,
                seq % 50
            )
            .into_bytes()
        })
        .collect()
}

/// Creates the persistent session and its subscription, so that later publishes queue for
/// the client even while no collector runs.
fn open_session(config: &MqttConfig) {
    let mut collector = MqttCollector::new(config.clone()).expect("collector");
    let mut ctx = context();
    assert!(
        collector
            .next_batch(&mut ctx)
            .expect("first poll")
            .is_none()
    );
}

/// Reads until the stream ends, committing every batch, and returns the `seq` values read
/// with how often each was read, plus the quarantined records.
fn drain(
    collector: &mut MqttCollector,
    progress: &AtomicU64,
) -> (BTreeMap<i64, u32>, Vec<QuarantinedRow>, u64) {
    let mut ctx = context();
    let mut seen = BTreeMap::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        let seq = batch
            .column("seq")
            .expect("seq column")
            .as_primitive::<Int64Type>();
        for value in seq.iter().flatten() {
            *seen.entry(value).or_insert(0) += 1;
        }
        progress.fetch_add(seq.len() as u64, Ordering::SeqCst);
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    (seen, ctx.take_quarantined(), ctx.rows_merged())
}

#[test]
fn uncommitted_batch_is_redelivered() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let config = config(broker.port(), "redelivery", "city/redelivery");
    open_session(&config);
    publish_all(broker.port(), "city/redelivery", &readings(0..10));

    // A collector that crashes after reading, before its sink committed.
    let mut crashed = MqttCollector::new(config.clone()).expect("collector");
    let mut ctx = context();
    let batch = crashed
        .next_batch(&mut ctx)
        .expect("read")
        .expect("a batch");
    assert_eq!(batch.num_rows(), 10);
    drop(crashed);

    let mut restarted = MqttCollector::new(config.clone()).expect("collector");
    restarted.resume(None).expect("resume from nothing");
    let (seen, _, _) = drain(&mut restarted, &AtomicU64::new(0));
    assert_eq!(
        seen.len(),
        10,
        "the broker must redeliver every unacknowledged message"
    );
    assert!(seen.values().all(|count| *count == 1));

    // Everything is acknowledged now, so a third collector receives nothing.
    let mut after = MqttCollector::new(config).expect("collector");
    let (seen, _, _) = drain(&mut after, &AtomicU64::new(0));
    assert!(seen.is_empty(), "acknowledged messages came back: {seen:?}");
}

#[test]
fn committed_keys_drop_redelivered_duplicates() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let config = config(broker.port(), "dedupe", "city/dedupe");
    open_session(&config);
    publish_all(broker.port(), "city/dedupe", &readings(0..10));

    // The sink committed this batch, but the process died before the acknowledgements.
    let mut crashed = MqttCollector::new(config.clone()).expect("collector");
    let mut ctx = context();
    let batch = crashed
        .next_batch(&mut ctx)
        .expect("read")
        .expect("a batch");
    let committed = batch.provenance.position.clone().expect("a position");
    drop(crashed);

    let mut restarted = MqttCollector::new(config).expect("collector");
    restarted.resume(Some(&committed)).expect("resume");
    let (seen, _, merged) = drain(&mut restarted, &AtomicU64::new(0));
    assert!(
        seen.is_empty(),
        "redelivered messages must be dropped: {seen:?}"
    );
    assert_eq!(merged, 10, "each redelivered message is counted as merged");
}

#[test]
fn broker_restart_delivers_each_once() {
    let Some(mut broker) = Broker::start() else {
        return;
    };
    let port = broker.port();
    let mut config = config(port, "restart", "city/+/air");
    config.idle_end_ms = Some(4000);
    open_session(&config);
    publish_all(port, "city/north/air", &readings(0..200));

    let progress = Arc::new(AtomicU64::new(0));
    let consumer = {
        let progress = progress.clone();
        let config = config.clone();
        std::thread::spawn(move || {
            let mut collector = MqttCollector::new(config).expect("collector");
            collector.resume(None).expect("resume");
            let drained = drain(&mut collector, &progress);
            (drained, collector.connection_failures())
        })
    };
    while progress.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    broker.stop();
    std::thread::sleep(Duration::from_millis(700));
    broker.restart();
    publish_all(port, "city/south/air", &readings(200..400));

    let ((seen, quarantined, merged), failures) = consumer.join().expect("consumer thread");
    assert!(failures > 0, "the collector never noticed the broker stop");
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let missing: Vec<i64> = (0..400).filter(|seq| !seen.contains_key(seq)).collect();
    assert!(missing.is_empty(), "messages lost: {missing:?}");
    let repeated: Vec<(&i64, &u32)> = seen.iter().filter(|(_, count)| **count > 1).collect();
    assert!(
        repeated.is_empty(),
        "messages delivered twice: {repeated:?}"
    );
    assert_eq!(seen.len(), 400);
    eprintln!(
        "broker restart: {failures} connection failures, {merged} redelivered duplicates dropped"
    );
}

#[test]
fn malformed_json_is_quarantined() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut config = config(broker.port(), "malformed", "city/malformed");
    config.key = MessageKey::ContentHash;
    open_session(&config);
    let payloads: Vec<Vec<u8>> = [
        r#"{"seq": 1, "pm25": 3.5}"#,
        r#"{"seq": 2, "pm25": "#,
        r#"{"seq": 3, "pm25": "high"}"#,
        r#"[1, 2]"#,
        r#"{"seq": 5, "pm25": 7}"#,
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .collect();
    publish_all(broker.port(), "city/malformed", &payloads);

    let mut collector = MqttCollector::new(config).expect("collector");
    let (seen, quarantined, _) = drain(&mut collector, &AtomicU64::new(0));
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), vec![1, 5]);
    assert_eq!(quarantined.len(), 3, "{quarantined:?}");
    let reasons: Vec<&str> = quarantined.iter().map(|row| row.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|reason| reason.contains("not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|reason| reason.contains("expected float64")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|reason| reason.contains("expected an object")),
        "{reasons:?}"
    );
    assert!(quarantined.iter().all(|row| {
        row.source
            .as_deref()
            .is_some_and(|source| source.contains("city/malformed"))
    }));
}

#[test]
fn sensorthings_without_result_is_quarantined() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut config = config(broker.port(), "sta", "sta/observations");
    config.payload = MqttPayload::SensorThings;
    config.key = MessageKey::Fields(vec!["/@iot.id".into()]);
    open_session(&config);
    let payloads: Vec<Vec<u8>> = (1..=5)
        .map(|id| {
            if id == 3 {
                format!(r#"{{"@iot.id": {id}, "phenomenonTime": "2024-05-01T10:0{id}:00Z"}}"#)
            } else {
                format!(r#"{{"@iot.id": {id}, "phenomenonTime": "2024-05-01T10:0{id}:00Z", "result": {id}.5}}"#)
            }
            .into_bytes()
        })
        .collect();
    publish_all(broker.port(), "sta/observations", &payloads);

    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx = context();
    let mut rows = 0;
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        rows += batch.num_rows();
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    assert_eq!(rows, 4, "the stream must go on after the bad observation");
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("result"),
        "{}",
        quarantined[0].reason
    );
    assert!(
        quarantined[0].raw.contains("\"@iot.id\":3")
            || quarantined[0].raw.contains("\"@iot.id\": 3")
    );
}

#[test]
fn ngsi_ld_unknown_type_is_quarantined() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut config = config(broker.port(), "ngsi", "ngsi/entities");
    config.payload = MqttPayload::NgsiLd;
    config.key = MessageKey::Fields(vec!["/id".into(), "/pm25/observedAt".into()]);
    open_session(&config);
    let payloads: Vec<Vec<u8>> = (1..=4)
        .map(|id| {
            let kind = if id == 2 { "Propperty" } else { "Property" };
            format!(
                r#"{{"id": "urn:ngsi-ld:AirQualityObserved:{id}", "type": "AirQualityObserved",
                     "pm25": {{"type": "{kind}", "value": {id}.0, "observedAt": "2024-05-01T10:00:00Z"}}}}"#
            )
            .into_bytes()
        })
        .collect();
    publish_all(broker.port(), "ngsi/entities", &payloads);

    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx = context();
    let mut rows = 0;
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        rows += batch.num_rows();
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    assert_eq!(rows, 3);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("unknown type"),
        "{}",
        quarantined[0].reason
    );
}

#[test]
fn invalid_topic_filter_is_rejected() {
    let config = MqttConfig {
        topics: vec!["city/#/air".into()],
        ..MqttConfig::default()
    };
    let error = MqttCollector::new(config).expect_err("invalid filter");
    assert!(error.to_string().contains("city/#/air"), "{error}");
}

#[test]
fn batches_close_at_byte_limit() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut config = config(broker.port(), "bytes", "city/bytes");
    config.max_bytes = 150;
    config.max_wait_ms = 2000;
    open_session(&config);
    let payloads = readings(0..12);
    let size = payloads[0].len();
    publish_all(broker.port(), "city/bytes", &payloads);

    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx = context();
    let mut sizes = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        sizes.push(batch.num_rows());
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    // A batch closes at the first message that reaches the limit.
    let per_batch = 150_usize.div_ceil(size);
    assert_eq!(sizes.iter().sum::<usize>(), 12);
    assert!(
        sizes.iter().all(|rows| *rows <= per_batch),
        "batch sizes {sizes:?}, {size} bytes a message"
    );
    assert!(sizes.len() >= 12 / per_batch, "batch sizes {sizes:?}");
}

/// Publishes two NGSI-LD entities with pm25 only, then two that also carry no2.
fn publish_growing_entities(port: u16, topic: &str) {
    let payloads: Vec<Vec<u8>> = (1..=4)
        .map(|id| {
            let no2 = if id > 2 {
                format!(r#", "no2": {{"type": "Property", "value": {id}0.0}}"#)
            } else {
                String::new()
            };
            format!(
                r#"{{"id": "urn:ngsi-ld:AirQualityObserved:{id}", "type": "AirQualityObserved",
                     "pm25": {{"type": "Property", "value": {id}.5}}{no2}}}"#
            )
            .into_bytes()
        })
        .collect();
    publish_all(port, topic, &payloads);
}

fn drift_config(port: u16, client_id: &str, topic: &str, policy: DriftPolicy) -> MqttConfig {
    let mut config = config(port, client_id, topic);
    config.payload = MqttPayload::NgsiLd;
    config.key = MessageKey::Fields(vec!["/id".into()]);
    config.max_messages = 2;
    config.schema_drift = Some(DriftConfig::new(policy));
    config
}

#[test]
fn drift_quarantines_new_ngsi_attribute() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let config = drift_config(
        broker.port(),
        "drift-quarantine",
        "ngsi/drift-q",
        DriftPolicy::Quarantine,
    );
    open_session(&config);
    publish_growing_entities(broker.port(), "ngsi/drift-q");

    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx = context();
    let mut rows = 0;
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        rows += batch.num_rows();
        assert!(batch.column("no2").is_err(), "no2 must not pass");
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    assert_eq!(rows, 2);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(
        quarantined[0].reason.contains("new column \"no2\""),
        "{}",
        quarantined[0].reason
    );
}

#[test]
fn drift_adapts_new_ngsi_attribute() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let config = drift_config(
        broker.port(),
        "drift-adapt",
        "ngsi/drift-a",
        DriftPolicy::Adapt,
    );
    open_session(&config);
    publish_growing_entities(broker.port(), "ngsi/drift-a");

    let mut collector = MqttCollector::new(config).expect("collector");
    let mut ctx = context();
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
        batches.push(batch);
    }
    assert_eq!(batches.len(), 2);
    assert!(batches[0].column("no2").is_err());
    let no2 = batches[1].column("no2").expect("no2 joins the union");
    assert_eq!(no2.null_count(), 0);
    assert!(ctx.take_quarantined().is_empty());
}

#[test]
fn drift_reference_survives_restart() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let config = drift_config(
        broker.port(),
        "drift-restart",
        "ngsi/drift-r",
        DriftPolicy::Quarantine,
    );
    open_session(&config);
    publish_growing_entities(broker.port(), "ngsi/drift-r");

    // The first process reads and commits the reference batch (pm25 only), then stops.
    let mut first = MqttCollector::new(config.clone()).expect("collector");
    let mut ctx = context();
    let batch = first
        .next_batch(&mut ctx)
        .expect("read")
        .expect("the reference batch");
    assert!(batch.column("no2").is_err());
    let position = batch.provenance.position.clone().expect("a position");
    first.committed(&position).expect("commit");
    drop(first);

    // The restarted collector compares the redelivered entities with that reference, so
    // the ones that gained no2 are quarantined instead of becoming the new reference.
    let mut restarted = MqttCollector::new(config).expect("collector");
    restarted.resume(Some(&position)).expect("resume");
    let mut ctx = context();
    let mut rows = 0;
    while let Some(batch) = restarted.next_batch(&mut ctx).expect("next batch") {
        rows += batch.num_rows();
    }
    assert_eq!(rows, 0);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(
        quarantined[0].reason.contains("new column \"no2\""),
        "{}",
        quarantined[0].reason
    );
}
