//! A cluster of `governance-cluster` processes on 127.0.0.1 for the integration tests: one
//! scheduler and several executors, killed when the guard drops, even when a test fails.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ballista::prelude::SessionContextExt;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use governance_ballista::session;

/// How long a process may take to listen on its port.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Returns a port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// One `governance-cluster` child process and the file its output goes to.
struct Process {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    fn start(name: &str, args: &[String], log_dir: &Path) -> Process {
        let log = log_dir.join(format!("{name}.log"));
        let output = File::create(&log).expect("log file is created");
        let errors = output.try_clone().expect("log file is shared");
        let child = Command::new(env!("CARGO_BIN_EXE_governance-cluster"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .expect("governance-cluster starts");
        Process {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    /// Waits until the process accepts connections on `port`; fails when it exits first or
    /// when [`START_TIMEOUT`] passes.
    fn wait_for_port(&mut self, port: u16) {
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited with {status} before listening on port {port}; output:\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{} did not listen on 127.0.0.1:{port} within {START_TIMEOUT:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGKILL and reaps the process.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The process may have exited already; killing it then fails harmlessly.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A scheduler and executors, each a separate process; each is killed when dropped.
pub struct Cluster {
    // Executors come first, so that they are killed before the scheduler.
    executors: Vec<Process>,
    scheduler: Process,
    /// Port of the scheduler's gRPC service.
    pub scheduler_port: u16,
    /// Folder the executors write their audit files to.
    pub audit_dir: PathBuf,
}

impl Cluster {
    /// Starts a scheduler with `scheduler_options` and `executors` executors, each running
    /// `concurrent_tasks` tasks at once with `executor_options`, and waits until every one
    /// listens. Process output goes to files in `dir`, printed when a test fails.
    pub fn start(
        dir: &Path,
        executors: usize,
        concurrent_tasks: usize,
        scheduler_options: &[&str],
        executor_options: &[&str],
    ) -> Cluster {
        let audit_dir = dir.join("audit");
        let scheduler_port = free_port();
        let mut args = vec![
            "scheduler".to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            scheduler_port.to_string(),
        ];
        args.extend(scheduler_options.iter().map(|option| option.to_string()));
        let mut scheduler = Process::start("scheduler", &args, dir);
        scheduler.wait_for_port(scheduler_port);
        let mut cluster = Cluster {
            executors: Vec::new(),
            scheduler,
            scheduler_port,
            audit_dir: audit_dir.clone(),
        };

        for index in 0..executors {
            let flight_port = free_port();
            let grpc_port = free_port();
            let mut args = vec![
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
                concurrent_tasks.to_string(),
                "--audit-dir".into(),
                audit_dir.display().to_string(),
            ];
            args.extend(executor_options.iter().map(|option| option.to_string()));
            let executor = Process::start(&format!("executor-{index}"), &args, dir);
            cluster.executors.push(executor);
            let executor = cluster.executors.last_mut().expect("just pushed");
            executor.wait_for_port(flight_port);
            executor.wait_for_port(grpc_port);
        }
        cluster
    }

    /// Returns a client context for this cluster with `target_partitions` partitions per
    /// scan, made with `SessionContext::remote_with_state`.
    pub async fn client(&self, target_partitions: usize) -> SessionContext {
        let state = SessionStateBuilder::new()
            .with_config(session::ballista_config().with_target_partitions(target_partitions))
            .with_default_features()
            .build();
        SessionContext::remote_with_state(&format!("df://127.0.0.1:{}", self.scheduler_port), state)
            .await
            .expect("client connects to the scheduler")
    }

    /// Kills executor `index` with SIGKILL.
    pub fn kill_executor(&mut self, index: usize) {
        self.executors[index].kill();
    }
}

impl Drop for Cluster {
    #[expect(
        clippy::print_stderr,
        reason = "a failed test shows the processes' output on stderr"
    )]
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for process in self.executors.iter().chain([&self.scheduler]) {
            eprintln!("--- output of {} ---\n{}", process.name, process.output());
        }
    }
}
