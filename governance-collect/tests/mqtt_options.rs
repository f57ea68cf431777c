//! MQTT collector settings against a real Mosquitto broker on 127.0.0.1: each quality of
//! service level, the end of a stream after a message count, and credentials. Each test
//! skips when `mosquitto` is not installed.

#[path = "support/mosquitto.rs"]
mod mosquitto;

use std::time::{Duration, Instant};

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use governance_collect::mqtt::{MessageKey, MqttCollector, MqttConfig, MqttQos};
use governance_core::audit::AuditLog;
use governance_core::{Collector, Stage, StageContext};
use mosquitto::{Broker, publish_all, publish_all_as};
use rumqttc::QoS;

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
        .map(|seq| format!(r#"{{"seq": {seq}, "pm25": {}.5}}"#, seq % 50).into_bytes())
        .collect()
}

/// Creates the persistent session and its subscription, so that later publishes queue for
/// the client even while no collector runs.
fn open_session(config: &MqttConfig) {
    let mut collector = MqttCollector::new(config.clone()).expect("collector");
    assert!(
        collector
            .next_batch(&mut context())
            .expect("first poll")
            .is_none()
    );
}

/// Reads until the stream ends, committing every batch, and returns the batch sizes and
/// the `seq` values in the order read.
fn drain(collector: &mut MqttCollector) -> (Vec<usize>, Vec<i64>) {
    let mut ctx = context();
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        sizes.push(batch.num_rows());
        let seq = batch
            .column("seq")
            .expect("seq column")
            .as_primitive::<Int64Type>();
        seen.extend(seq.iter().flatten());
        let position = batch.provenance.position.clone().expect("a position");
        collector.committed(&position).expect("commit");
    }
    (sizes, seen)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[test]
fn each_qos_level_delivers_every_message() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let levels = [
        (MqttQos::AtMostOnce, QoS::AtMostOnce),
        (MqttQos::AtLeastOnce, QoS::AtLeastOnce),
        (MqttQos::ExactlyOnce, QoS::ExactlyOnce),
    ];
    for (level, publish_qos) in levels {
        let number = u8::from(level);
        let topic = format!("city/qos{number}");
        let mut config = config(broker.port(), &format!("qos{number}"), &topic);
        config.qos = level;
        open_session(&config);
        publish_all_as(broker.port(), None, publish_qos, &topic, &readings(0..12));

        let mut collector = MqttCollector::new(config.clone()).expect("collector");
        assert!(
            collector.describe().contains(&format!("QoS {number}")),
            "{}",
            collector.describe()
        );
        let (_, seen) = drain(&mut collector);
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..12).collect::<Vec<_>>(),
            "QoS {number}: {seen:?}"
        );
        drop(collector);

        // QoS 1 and 2 messages were acknowledged after the commit, QoS 0 ones need none, so
        // a later session of the same client gets nothing back.
        let mut after = MqttCollector::new(config).expect("collector");
        let (_, again) = drain(&mut after);
        assert!(
            again.is_empty(),
            "QoS {number}: messages came back: {again:?}"
        );
    }
}

#[test]
fn end_after_messages_ends_the_stream() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let mut config = config(broker.port(), "counted", "city/counted");
    config.max_messages = 4;
    config.dedupe_window = 100;
    open_session(&config);
    config.end_after_messages = Some(10);
    // The count, not the idle time, must end this stream.
    config.idle_end_ms = Some(30_000);
    publish_all(broker.port(), "city/counted", &readings(0..25));

    let started = Instant::now();
    let mut collector = MqttCollector::new(config.clone()).expect("collector");
    let (sizes, seen) = drain(&mut collector);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the stream waited for idle_end_ms: {:?}",
        started.elapsed()
    );
    assert_eq!(sizes, vec![4, 4, 2]);
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    drop(collector);

    // The next run of the same client continues where the first one stopped.
    let mut next = MqttCollector::new(config).expect("collector");
    let (_, rest) = drain(&mut next);
    assert_eq!(rest, (10..20).collect::<Vec<_>>());
}

#[test]
fn zero_end_after_messages_is_rejected() {
    let mut config = config(1883, "zero", "city/zero");
    config.end_after_messages = Some(0);
    let message = MqttCollector::new(config)
        .expect_err("zero is invalid")
        .to_string();
    assert!(message.contains("end_after_messages"), "{message}");
}

#[test]
fn unknown_qos_is_rejected() {
    let error = serde_json::from_value::<MqttConfig>(serde_json::json!({
        "topics": ["city/#"],
        "qos": 3,
    }))
    .expect_err("qos 3 is invalid");
    let message = error.to_string();
    assert!(message.contains("qos 3 is invalid"), "{message}");
    assert!(message.contains("0 (at most once)"), "{message}");
}

#[test]
fn unset_password_variable_is_named() {
    let variable = format!("GOVERNANCE_TEST_UNSET_MQTT_PASSWORD_{}", std::process::id());
    let mut config = config(1883, "secret", "city/secret");
    config.username = Some("ingest".into());
    config.password_env = Some(variable.clone());
    let message = MqttCollector::new(config)
        .expect_err("the variable is unset")
        .to_string();
    assert!(message.contains(&variable), "{message}");
    assert!(message.contains("is not set"), "{message}");
    assert!(message.contains("\"ingest\""), "{message}");
}

#[test]
fn password_without_username_is_rejected() {
    let mut config = config(1883, "secret", "city/secret");
    config.password_env = Some("MQTT_PASSWORD".into());
    let message = MqttCollector::new(config)
        .expect_err("a user name is required")
        .to_string();
    assert!(message.contains("set username"), "{message}");
}

#[test]
fn rejected_credentials_end_with_an_error() {
    let Some(broker) = Broker::start_with_password("ingest", "right-password") else {
        return;
    };
    // Anonymous: the broker admits only the user.
    let config = config(broker.port(), "anonymous", "city/closed");
    let mut collector = MqttCollector::new(config).expect("collector");
    let started = Instant::now();
    let error = collector
        .next_batch(&mut context())
        .expect_err("the broker rejects an anonymous client");
    let message = error_chain(&error);
    assert!(message.contains("rejected the connection"), "{message}");
    assert!(message.contains("anonymous"), "{message}");
    assert!(message.contains("password_env"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
