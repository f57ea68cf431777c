//! Runs `govern run` on a watched folder whose files drift (a later file adds a column),
//! with each schema drift policy, alerts to a webhook on 127.0.0.1 and a work-order store,
//! and checks the files and requests at the places that the chain file names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

/// The first file; one PM2.5 value is above the alert threshold.
const FIRST: &str = "\
station,pm25
north,12.5
south,310.0
east,22.0
";

/// The second file adds the column no2; one PM2.5 value is above the threshold.
const SECOND: &str = "\
station,pm25,no2
north,14.0,31
south,320.0,44
east,20.0,27
";

fn govern(args: &[&str]) -> Output {
    Command::new(GOVERN)
        .args(args)
        .output()
        .expect("the govern binary starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A webhook receiver on 127.0.0.1 that replies 200 to every request and stores the bodies.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let url = format!(
            "http://{}/alerts",
            listener.local_addr().expect("receiver address")
        );
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_ok() {
                    received
                        .lock()
                        .expect("bodies lock")
                        .push(String::from_utf8_lossy(&body).into_owned());
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Receiver { url, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("bodies lock").clone()
    }
}

fn chain_text(policy: &str, webhook: &str) -> String {
    format!(
        r#"
name = "drifting"

[source.folder]
dir = "incoming"
min_age_ms = 0
poll_ms = 20
idle_end_ms = 300
schema_drift = {{ policy = "{policy}" }}

[[stages]]
kind = "threshold_alerts"
rules = [{{ name = "pm25_high", column = "pm25", above = 250.0, severity = "error" }}]
subject_column = "station"

[sinks.csv]

[alerts]
dead_letter = "state/alerts_dead_letter.jsonl"
webhooks = [{{ name = "ops", url = "{webhook}", max_attempts = 1 }}]

[work_orders]
store = "state/work_orders.jsonl"
min_severity = "error"
"#
    )
}

/// Writes the two files and the chain file into `dir`, runs it and returns the output.
fn run(dir: &Path, policy: &str, webhook: &str) -> Output {
    let incoming = dir.join("incoming");
    std::fs::create_dir_all(&incoming).expect("incoming folder");
    std::fs::write(incoming.join("1-first.csv"), FIRST).expect("first file");
    std::fs::write(incoming.join("2-second.csv"), SECOND).expect("second file");
    let chain = dir.join("CHAIN.toml");
    std::fs::write(&chain, chain_text(policy, webhook)).expect("chain file");
    let out = dir.join("out");
    govern(&["run", path_arg(&chain), "--out", path_arg(&out), "--quiet"])
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

#[test]
fn drift_policies_route_rows_alerts_and_orders() {
    // (policy, header of the governed CSV, quarantined rows, alerts for high PM2.5)
    let cases = [
        ("quarantine", "__row_id,station,pm25", 3, 1),
        ("alert", "__row_id,station,pm25,no2", 0, 2),
        ("adapt", "__row_id,station,pm25,no2", 0, 2),
    ];
    for (policy, header, quarantined, high) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let receiver = Receiver::start();
        let output = run(dir.path(), policy, &receiver.url);
        assert!(output.status.success(), "{policy}: {}", stderr(&output));

        let governed = read(&dir.path().join("out/round-1/governed.csv"));
        assert_eq!(
            governed.lines().next(),
            Some(header),
            "{policy}: {governed}"
        );
        let rows = governed.lines().count() - 1;
        assert_eq!(rows, 6 - quarantined, "{policy}: {governed}");

        let quarantine_path = dir.path().join("out/round-1/quarantine.jsonl");
        let quarantine = std::fs::read_to_string(&quarantine_path).unwrap_or_default();
        assert_eq!(
            quarantine.lines().count(),
            quarantined,
            "{policy}: {quarantine}"
        );
        if quarantined > 0 {
            assert!(quarantine.contains("no2"), "{policy}: {quarantine}");
        }

        let alerts: Vec<String> = receiver
            .bodies()
            .into_iter()
            .filter(|body| body.contains("pm25_high"))
            .collect();
        assert_eq!(alerts.len(), high, "{policy}: {alerts:?}");
        assert!(
            !dir.path().join("state/alerts_dead_letter.jsonl").exists(),
            "{policy}: every alert reached the webhook"
        );

        let orders = read(&dir.path().join("state/work_orders.jsonl"));
        let order_lines: Vec<&str> = orders
            .lines()
            .filter(|line| line.contains("pm25_high"))
            .collect();
        assert!(!order_lines.is_empty(), "{policy}: {orders}");
        assert!(orders.contains("\"south\""), "{policy}: {orders}");
    }
}

#[test]
fn unreachable_webhook_fills_dead_letter() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port that was free a moment ago; nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("probe port")
        .port();
    let output = run(
        dir.path(),
        "adapt",
        &format!("http://127.0.0.1:{port}/alerts"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let dead = read(&dir.path().join("state/alerts_dead_letter.jsonl"));
    assert!(dead.contains("pm25_high"), "{dead}");
}

#[test]
fn unknown_drift_policy_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(dir.path(), "adopt", "http://127.0.0.1:9/alerts");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("adopt"), "{message}");
    for policy in ["`quarantine`", "`alert`", "`adapt`"] {
        assert!(message.contains(policy), "{policy} missing: {message}");
    }
}

#[test]
fn unknown_alert_key_exits_with_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = dir.path().join("CHAIN.toml");
    let text = "[source.folder]\ndir = \"in\"\n\
                [alerts]\ndead_letter = \"dead.jsonl\"\nwebhooks = []\nseverity = \"error\"\n";
    std::fs::write(&chain, text).expect("chain file");
    let output = govern(&["run", path_arg(&chain), "--quiet"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("severity"), "{message}");
    assert!(message.contains("min_severity"), "{message}");
    assert!(message.contains("dead_letter"), "{message}");
}
