//! A throwaway Mosquitto broker for tests and benchmarks, and a QoS 1 publisher.
//!
//! [`Broker::start`] writes a config into a temporary folder and runs `mosquitto` listening
//! only on 127.0.0.1, on a free port, with persistence into that folder, so that persistent
//! sessions and their queued QoS 1 messages survive [`Broker::stop`] and
//! [`Broker::restart`]. The in-flight and queue limits are off, because the collector keeps
//! a whole batch unacknowledged. QoS 0 messages queue for offline sessions too, so that a
//! test may publish them before the collector runs. [`Broker::start_with_password`] admits only one user, from a
//! password file that `mosquitto_passwd` writes. When `mosquitto` is not installed, `start`
//! prints why and returns `None`, so callers skip.

#![allow(
    dead_code,
    reason = "the tests and the benchmark use different parts of the helper"
)]
#![allow(
    clippy::print_stderr,
    reason = "a skipped test or benchmark says why on stderr"
)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use tempfile::TempDir;

/// A running broker, stopped and its folder deleted on drop.
pub struct Broker {
    dir: TempDir,
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    /// Starts a broker, or returns `None` after printing why when `mosquitto` is missing.
    pub fn start() -> Option<Broker> {
        Broker::start_with(None)
    }

    /// Starts a broker that admits only `user` with `password`, or returns `None` after
    /// printing why when `mosquitto` or `mosquitto_passwd` is missing.
    pub fn start_with_password(user: &str, password: &str) -> Option<Broker> {
        Broker::start_with(Some((user, password)))
    }

    fn start_with(credentials: Option<(&str, &str)>) -> Option<Broker> {
        let Some(binary) = find_mosquitto() else {
            eprintln!(
                "skipped: mosquitto not found on PATH or in /usr/sbin; install the mosquitto \
                 package (apt-get install mosquitto)"
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("governance-mosquitto-")
            .tempdir()
            .expect("create a folder for the broker");
        let port = free_port();
        let access = match credentials {
            None => "allow_anonymous true\n".to_string(),
            Some((user, password)) => {
                let file = dir.path().join("passwords");
                let Some(tool) = find_tool("mosquitto_passwd") else {
                    eprintln!(
                        "skipped: mosquitto_passwd not found on PATH or in /usr/sbin; install \
                         the mosquitto package (apt-get install mosquitto)"
                    );
                    return None;
                };
                let status = Command::new(tool)
                    .args(["-b", "-c"])
                    .arg(&file)
                    .args([user, password])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("run mosquitto_passwd");
                assert!(status.success(), "mosquitto_passwd failed: {status}");
                format!("allow_anonymous false\npassword_file {}\n", file.display())
            }
        };
        let mut config = format!(
            "listener {port} 127.0.0.1\n{access}persistence true\n\
             persistence_location {}/\nautosave_interval 1\nmax_inflight_messages 0\n\
             max_queued_messages 0\nqueue_qos0_messages true\nlog_dest file {}\n",
            dir.path().display(),
            dir.path().join("mosquitto.log").display()
        );
        if is_root() {
            // Mosquitto otherwise drops to the mosquitto user, which cannot write the folder.
            config.push_str("user root\n");
        }
        std::fs::write(dir.path().join("mosquitto.conf"), config).expect("write the broker config");
        let mut broker = Broker {
            dir,
            binary,
            port,
            child: None,
        };
        broker.launch();
        Some(broker)
    }

    /// Returns the broker's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the broker's log file.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    fn launch(&mut self) {
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on port {} within 10 s; log:\n{}",
                self.port,
                std::fs::read_to_string(self.log()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker with SIGTERM, which makes it save its persistent state.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM mosquitto failed");
        child.wait().expect("wait for mosquitto");
    }

    /// Starts the broker again on the same port with the same persistent state.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn find_mosquitto() -> Option<PathBuf> {
    find_tool("mosquitto")
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect()
        })
        .unwrap_or_default();
    candidates.push(PathBuf::from("/usr/sbin").join(name));
    candidates.push(PathBuf::from("/usr/bin").join(name));
    candidates.into_iter().find(|path| path.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free port on 127.0.0.1")
}

/// Publishes `payloads` to `topic` with QoS 1 and returns once the broker acknowledged
/// every one. Panics after 30 s.
pub fn publish_all(port: u16, topic: &str, payloads: &[Vec<u8>]) {
    publish_all_as(port, None, QoS::AtLeastOnce, topic, payloads);
}

/// Publishes `payloads` to `topic` with `qos`, logged in as `credentials` (user, password)
/// when given, and returns once the client sent every QoS 0 message or the broker completed
/// every QoS 1 (PUBACK) or QoS 2 (PUBCOMP) one. Panics after 30 s.
pub fn publish_all_as(
    port: u16,
    credentials: Option<(&str, &str)>,
    qos: QoS,
    topic: &str,
    payloads: &[Vec<u8>],
) {
    let client_id = format!("publisher-{}-{}", std::process::id(), unique());
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    if let Some((user, password)) = credentials {
        options.set_credentials(user, password);
    }
    options.set_keep_alive(Duration::from_secs(30));
    options.set_inflight(100);
    let (client, mut connection) = Client::new(options, payloads.len() + 10);
    for payload in payloads {
        client
            .publish(topic, qos, false, payload.clone())
            .expect("queue a publish");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut acknowledged = 0;
    while acknowledged < payloads.len() {
        assert!(
            Instant::now() < deadline,
            "the broker acknowledged {acknowledged} of {} publishes in 30 s",
            payloads.len()
        );
        match connection.recv_timeout(Duration::from_secs(1)) {
            Ok(Ok(Event::Outgoing(Outgoing::Publish(_)))) if qos == QoS::AtMostOnce => {
                acknowledged += 1
            }
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) if qos == QoS::AtLeastOnce => {
                acknowledged += 1
            }
            Ok(Ok(Event::Incoming(Packet::PubComp(_)))) if qos == QoS::ExactlyOnce => {
                acknowledged += 1
            }
            Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => break,
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(error)) => panic!("publisher connection failed: {error}"),
        }
    }
    client.disconnect().expect("queue a disconnect");
    for _ in 0..20 {
        match connection.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(_)) => {}
        }
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

/// Returns the folder the broker keeps its state in.
pub fn state_dir(broker: &Broker) -> &Path {
    broker.dir.path()
}
