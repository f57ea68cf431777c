//! Runs `govern run` with a `[source.mqtt]` against a real Mosquitto broker that the test
//! starts on 127.0.0.1 with a password file. Checks that every published message reaches
//! the CSV sink, that a malformed one goes to the quarantine with its reason, and that the
//! password, read from an environment variable, appears in no output. Each test that needs
//! the broker skips when `mosquitto` is not installed.

#[path = "../../governance-collect/tests/support/mosquitto.rs"]
mod mosquitto;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mosquitto::{Broker, publish_all_as};
use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");
const USER: &str = "ingest";
const PASSWORD: &str = "s3cret-Broker-Pass";
const PASSWORD_VARIABLE: &str = "GOVERN_TEST_MQTT_PASSWORD";
const TOPIC: &str = "city/north/air";
const CLIENT_ID: &str = "govern-cli-test";

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn chain_text(port: u16, end_after: u64) -> String {
    format!(
        r#"
name = "mqtt_air"

[source.mqtt]
port = {port}
topics = ["city/+/air"]
qos = 1
client_id = "{CLIENT_ID}"
payload = "json"
max_messages = 8
max_wait_ms = 300
end_after_messages = {end_after}
idle_end_ms = 10000
username = "{USER}"
password_env = "{PASSWORD_VARIABLE}"

[sinks.csv]
"#
    )
}

/// Writes the chain file into `dir` and runs it with the password variable set to
/// `password`, or unset when `None`.
fn run(dir: &Path, text: &str, password: Option<&str>) -> Output {
    let chain = dir.join("CHAIN.toml");
    std::fs::write(&chain, text).expect("chain file");
    let out = dir.join("out");
    let mut command = Command::new(GOVERN);
    command.args(["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"]);
    match password {
        Some(password) => command.env(PASSWORD_VARIABLE, password),
        None => command.env_remove(PASSWORD_VARIABLE),
    };
    command.output().expect("the govern binary starts")
}

/// Creates the persistent session of the chain's client id with its subscription, so that
/// the broker queues the messages published before `govern` runs.
fn open_session(port: u16) {
    let mut options = MqttOptions::new(CLIENT_ID, "127.0.0.1", port);
    options.set_clean_session(false);
    options.set_credentials(USER, PASSWORD);
    let (client, mut connection) = Client::new(options, 10);
    client
        .subscribe("city/+/air", QoS::AtLeastOnce)
        .expect("queue the subscription");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no SUBACK within 10 s");
        match connection.recv_timeout(Duration::from_millis(500)) {
            Ok(Ok(Event::Incoming(Incoming::SubAck(_)))) => break,
            Ok(Err(error)) => panic!("the session client failed: {error}"),
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    client.disconnect().expect("queue a disconnect");
    while let Ok(Ok(_)) = connection.recv_timeout(Duration::from_millis(500)) {}
}

fn readings(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|seq| format!(r#"{{"seq": {seq}, "station": "north", "pm25": {seq}.5}}"#).into_bytes())
        .collect()
}

/// Returns the text of every file under `dir`.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read output folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                text.push_str(&String::from_utf8_lossy(
                    &std::fs::read(&path).expect("read output file"),
                ));
            }
        }
    }
    text
}

#[test]
fn every_message_reaches_the_sink() {
    let Some(broker) = Broker::start_with_password(USER, PASSWORD) else {
        return;
    };
    open_session(broker.port());
    let mut payloads = readings(20);
    payloads.insert(7, br#"{"seq": 99, "pm25": "#.to_vec());
    publish_all_as(
        broker.port(),
        Some((USER, PASSWORD)),
        QoS::AtLeastOnce,
        TOPIC,
        &payloads,
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = run(dir.path(), &chain_text(broker.port(), 21), Some(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the run waited for idle_end_ms instead of ending after 21 messages: {:?}",
        started.elapsed()
    );

    let governed =
        std::fs::read_to_string(dir.path().join("out/round-1/governed.csv")).expect("governed.csv");
    let mut lines = governed.lines();
    // The schema is inferred from the first message, with the keys in sorted order.
    assert_eq!(lines.next(), Some("__row_id,pm25,seq,station"));
    let mut seqs: Vec<u32> = lines
        .map(|line| {
            line.split(',')
                .nth(2)
                .and_then(|seq| seq.parse().ok())
                .unwrap_or_else(|| panic!("no seq in {line:?}"))
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..20).collect::<Vec<u32>>(), "{governed}");

    let quarantine = std::fs::read_to_string(dir.path().join("out/round-1/quarantine.jsonl"))
        .expect("quarantine.jsonl");
    assert_eq!(quarantine.lines().count(), 1, "{quarantine}");
    assert!(
        quarantine.contains("the payload is not valid JSON"),
        "{quarantine}"
    );
    assert!(quarantine.contains(TOPIC), "{quarantine}");

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(PASSWORD), "{stdout}");
    assert!(!stderr(&output).contains(PASSWORD));
    let written = all_text(&dir.path().join("out"));
    assert!(
        !written.contains(PASSWORD),
        "the password leaked into an output file"
    );

    // The CSV sink does not checkpoint, so the chain acknowledged the messages once the
    // round's output was finished: the next session of the same client gets none again.
    let again = tempfile::tempdir().expect("tempdir");
    let idle_chain =
        chain_text(broker.port(), 1000).replace("idle_end_ms = 10000", "idle_end_ms = 1500");
    let output = run(again.path(), &idle_chain, Some(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));
    let redelivered =
        std::fs::read_to_string(again.path().join("out/round-1/governed.csv")).unwrap_or_default();
    assert!(
        redelivered.lines().count() <= 1,
        "the broker delivered acknowledged messages again: {redelivered}"
    );
}

#[test]
fn unset_password_variable_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(dir.path(), &chain_text(1883, 5), None);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains(PASSWORD_VARIABLE), "{message}");
    assert!(message.contains("is not set"), "{message}");
}

#[test]
fn wrong_password_is_reported() {
    let Some(broker) = Broker::start_with_password(USER, PASSWORD) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let wrong = "not-the-Password-1";
    let output = run(dir.path(), &chain_text(broker.port(), 5), Some(wrong));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("rejected the connection"), "{message}");
    assert!(message.contains(PASSWORD_VARIABLE), "{message}");
    assert!(!message.contains(wrong), "{message}");
}

#[test]
fn unknown_mqtt_key_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "[source.mqtt]\ntopics = [\"city/#\"]\nend_after = 10\n";
    let output = run(dir.path(), text, None);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("end_after"), "{message}");
    for key in ["end_after_messages", "idle_end_ms", "password_env", "qos"] {
        assert!(message.contains(key), "{key} missing: {message}");
    }
}
