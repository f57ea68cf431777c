//! A scheduler and executors of `governance-cluster`, each a separate process on 127.0.0.1,
//! stopped when the [`Cluster`] is dropped.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to listen on its port.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Returns a port that was free a moment ago on 127.0.0.1.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|error| format!("no free port on 127.0.0.1: {error}"))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("no local address: {error}"))?;
    Ok(address.port())
}

/// Returns the `governance-cluster` binary that Cargo builds next to the examples folder.
pub fn default_binary() -> Result<PathBuf, String> {
    let example = std::env::current_exe()
        .map_err(|error| format!("the path of this program is unknown: {error}"))?;
    let profile_dir = example
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} has no profile folder", example.display()))?;
    Ok(profile_dir.join(format!(
        "governance-cluster{}",
        std::env::consts::EXE_SUFFIX
    )))
}

struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(binary: &Path, name: &str, args: &[String], log_dir: &Path) -> Result<Self, String> {
        let log = log_dir.join(format!("{name}.log"));
        let output = File::create(&log)
            .map_err(|error| format!("creating {} failed: {error}", log.display()))?;
        let errors = output
            .try_clone()
            .map_err(|error| format!("{}: {error}", log.display()))?;
        let child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|error| {
                format!(
                    "starting {} failed: {error}; build it with `cargo build -p \
                     governance-ballista --bin governance-cluster` in the same profile, or \
                     pass --cluster-bin PATH",
                    binary.display()
                )
            })?;
        Ok(Process {
            name: name.to_string(),
            child,
            log,
        })
    }

    /// Waits until the process accepts connections on `port`.
    fn wait_for_port(&mut self, port: u16) -> Result<(), String> {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before listening on port {port}; its output is in {}",
                    self.name,
                    self.log.display()
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "{} did not listen on 127.0.0.1:{port} within {} s; its output is in {}",
                    self.name,
                    START_TIMEOUT.as_secs(),
                    self.log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The process may have exited already, and then killing it fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scheduler and its executors.
pub struct Cluster {
    // Executors come first so that they stop before the scheduler.
    executors: Vec<Process>,
    _scheduler: Process,
    /// Port of the scheduler's gRPC service.
    pub scheduler_port: u16,
}

impl Cluster {
    /// Starts a scheduler and one executor per entry of `slots`, with that many task slots,
    /// and waits until each listens. Process output goes to files in `log_dir`.
    pub fn start(binary: &Path, slots: &[usize], log_dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(log_dir)
            .map_err(|error| format!("creating {} failed: {error}", log_dir.display()))?;
        let scheduler_port = free_port()?;
        let args = [
            "scheduler".to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            scheduler_port.to_string(),
        ];
        let mut scheduler = Process::start(binary, "scheduler", &args, log_dir)?;
        scheduler.wait_for_port(scheduler_port)?;
        let mut cluster = Cluster {
            executors: Vec::new(),
            _scheduler: scheduler,
            scheduler_port,
        };
        for (index, slots) in slots.iter().enumerate() {
            let flight_port = free_port()?;
            let grpc_port = free_port()?;
            let args = [
                "executor".to_string(),
                "--host".into(),
                "127.0.0.1".into(),
                "--flight-port".into(),
                flight_port.to_string(),
                "--grpc-port".into(),
                grpc_port.to_string(),
                "--scheduler-host".into(),
                "127.0.0.1".into(),
                "--scheduler-port".into(),
                scheduler_port.to_string(),
                "--concurrent-tasks".into(),
                slots.to_string(),
            ];
            let name = format!("executor-{index}");
            let mut executor = Process::start(binary, &name, &args, log_dir)?;
            executor.wait_for_port(flight_port)?;
            executor.wait_for_port(grpc_port)?;
            cluster.executors.push(executor);
        }
        Ok(cluster)
    }
}
