//! `governance-cluster`: a Ballista scheduler or executor that runs governance plans.
//!
//! ```text
//! governance-cluster scheduler [--host 127.0.0.1] [--port 50050]
//!                              [--executor-timeout-seconds 180]
//!                              [--expire-dead-executor-interval-seconds 15]
//!                              [--task-max-failures 4]
//! governance-cluster executor [--host 127.0.0.1] [--external-host HOST]
//!                             [--flight-port 50051] [--grpc-port 50052]
//!                             [--scheduler-host 127.0.0.1] [--scheduler-port 50050]
//!                             [--concurrent-tasks 0] [--heartbeat-interval-seconds 60]
//!                             [--audit-dir DIR]
//! ```
//!
//! Clients connect with `governance_ballista::session::remote_context("df://HOST:PORT")`.
//! The crate's README describes every option.

use std::process::ExitCode;

use governance_ballista::cluster::{
    ExecutorSettings, SchedulerSettings, run_executor, run_scheduler,
};

const USAGE: &str = "usage: governance-cluster scheduler [--host ADDRESS] [--port PORT]
                                   [--executor-timeout-seconds S]
                                   [--expire-dead-executor-interval-seconds S]
                                   [--task-max-failures N]
       governance-cluster executor [--host ADDRESS] [--external-host ADDRESS]
                                   [--flight-port PORT] [--grpc-port PORT]
                                   [--scheduler-host ADDRESS] [--scheduler-port PORT]
                                   [--concurrent-tasks N] [--heartbeat-interval-seconds S]
                                   [--audit-dir DIR]
Addresses default to 127.0.0.1, and an executor advertises --host unless --external-host
is given; ports default to 50050 (scheduler), 50051 (flight), 50052 (grpc).
An executor is dead after --executor-timeout-seconds (default 180) without a heartbeat,
checked every --expire-dead-executor-interval-seconds (default 15); executors send one
every --heartbeat-interval-seconds (default 60). A task is tried --task-max-failures times
(default 4). --concurrent-tasks 0 (the default) runs one task per CPU core. --audit-dir
makes the executor write one audit file per task partition into DIR (default: none).";

enum Command {
    Scheduler(SchedulerSettings),
    Executor(ExecutorSettings),
}

fn parse_number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("invalid value {value:?} for {option}; pass a whole number"))
}

fn parse(args: &[String]) -> Result<Command, String> {
    let Some((command, options)) = args.split_first() else {
        return Err("missing command: pass `scheduler` or `executor`".into());
    };
    if options.len() % 2 != 0 {
        return Err(format!(
            "option {:?} has no value; pass each option as `--name value`",
            options[options.len() - 1]
        ));
    }
    let pairs = options
        .chunks(2)
        .map(|pair| (pair[0].as_str(), pair[1].as_str()));
    match command.as_str() {
        "scheduler" => {
            let mut settings = SchedulerSettings::default();
            for (option, value) in pairs {
                match option {
                    "--host" => settings.host = value.to_string(),
                    "--port" => settings.port = parse_number(option, value)?,
                    "--executor-timeout-seconds" => {
                        settings.executor_timeout_seconds = parse_number(option, value)?;
                    }
                    "--expire-dead-executor-interval-seconds" => {
                        settings.expire_dead_executor_interval_seconds =
                            parse_number(option, value)?;
                    }
                    "--task-max-failures" => {
                        settings.task_max_failures = parse_number(option, value)?;
                    }
                    other => return Err(format!("unknown scheduler option {other:?}")),
                }
            }
            Ok(Command::Scheduler(settings))
        }
        "executor" => {
            let mut settings = ExecutorSettings::default();
            for (option, value) in pairs {
                match option {
                    "--host" => settings.host = value.to_string(),
                    "--external-host" => settings.external_host = Some(value.to_string()),
                    "--flight-port" => settings.flight_port = parse_number(option, value)?,
                    "--grpc-port" => settings.grpc_port = parse_number(option, value)?,
                    "--scheduler-host" => settings.scheduler_host = value.to_string(),
                    "--scheduler-port" => settings.scheduler_port = parse_number(option, value)?,
                    "--concurrent-tasks" => {
                        settings.concurrent_tasks = parse_number(option, value)?;
                    }
                    "--heartbeat-interval-seconds" => {
                        settings.heartbeat_interval_seconds = parse_number(option, value)?;
                    }
                    "--audit-dir" => settings.audit_dir = Some(value.into()),
                    other => return Err(format!("unknown executor option {other:?}")),
                }
            }
            Ok(Command::Executor(settings))
        }
        other => Err(format!(
            "unknown command {other:?}: pass `scheduler` or `executor`"
        )),
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a command-line tool reports usage and failures on stderr"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: the async runtime failed to start: {error}");
            return ExitCode::from(3);
        }
    };
    // Ballista logs through the `log` facade and this binary installs no logger, so the
    // start and the outcome are reported here.
    let result = runtime.block_on(async {
        match command {
            Command::Scheduler(settings) => {
                eprintln!(
                    "scheduler starting on {}:{} with the governance codecs (executor timeout \
                     {} s, checked every {} s, {} attempts per task)",
                    settings.host,
                    settings.port,
                    settings.executor_timeout_seconds,
                    settings.expire_dead_executor_interval_seconds,
                    settings.task_max_failures
                );
                run_scheduler(&settings).await
            }
            Command::Executor(settings) => {
                let audit = settings.audit_dir.as_ref().map_or_else(
                    || "no audit files".to_string(),
                    |dir| format!("audit files in {}", dir.display()),
                );
                let advertised = settings.external_host.as_ref().unwrap_or(&settings.host);
                eprintln!(
                    "executor starting on {} as {advertised} (flight port {}, grpc port {}), \
                     registering with the scheduler at {}:{}, {audit}",
                    settings.host,
                    settings.flight_port,
                    settings.grpc_port,
                    settings.scheduler_host,
                    settings.scheduler_port
                );
                run_executor(&settings).await
            }
        }
    });
    match result {
        Ok(()) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}
