//! A Ballista scheduler and executor with the governance codecs, for a cluster that clients
//! reach through [`crate::session::remote_context`].
//!
//! Both sides of a remote plan must decode the governance UDFs, so the scheduler and every
//! executor run the codecs of [`crate::codec`]. Neither needs a function registered by name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::error::{BallistaError, Result};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::audit::AuditingEngine;
use crate::codec::{GovernanceLogicalCodec, GovernancePhysicalCodec};

/// Address and port of the scheduler's gRPC service, and how fast it gives up on a lost
/// executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// Address the scheduler listens on, such as `127.0.0.1`.
    pub host: String,
    /// Port of the gRPC service that clients and executors connect to.
    pub port: u16,
    /// Seconds without a heartbeat after which an executor counts as dead and its tasks,
    /// and the shuffle output it held, are scheduled again. Keep it above two executor
    /// heartbeat intervals. Ballista's default is 180.
    pub executor_timeout_seconds: u64,
    /// Seconds between the scheduler's checks for dead executors. Ballista's default is 15.
    pub expire_dead_executor_interval_seconds: u64,
    /// Attempts of one task before its job fails. Ballista's default is 4.
    pub task_max_failures: usize,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            host: "127.0.0.1".into(),
            port: 50050,
            executor_timeout_seconds: 180,
            expire_dead_executor_interval_seconds: 15,
            task_max_failures: 4,
        }
    }
}

/// Addresses and ports of an executor and of the scheduler it registers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorSettings {
    /// Address the executor listens on, such as `127.0.0.1`, or `0.0.0.0` for every
    /// interface.
    pub host: String,
    /// Address the executor advertises to the scheduler and to clients, which fetch results
    /// from it; `None` advertises `host`. Set it when `host` is `0.0.0.0`, such as to the
    /// pod IP in Kubernetes.
    pub external_host: Option<String>,
    /// Port of the Arrow Flight service that serves shuffle data.
    pub flight_port: u16,
    /// Port of the gRPC service that receives tasks.
    pub grpc_port: u16,
    /// Address of the scheduler.
    pub scheduler_host: String,
    /// Port of the scheduler's gRPC service.
    pub scheduler_port: u16,
    /// Tasks run at once; 0 uses the number of CPU cores.
    pub concurrent_tasks: usize,
    /// Seconds between heartbeats to the scheduler. Ballista's default is 60.
    pub heartbeat_interval_seconds: u64,
    /// Folder, shared with the clients, where the executor writes one audit file per task
    /// partition (see [`crate::audit`]); `None` writes no audit files.
    pub audit_dir: Option<PathBuf>,
}

impl Default for ExecutorSettings {
    fn default() -> Self {
        ExecutorSettings {
            host: "127.0.0.1".into(),
            external_host: None,
            flight_port: 50051,
            grpc_port: 50052,
            scheduler_host: "127.0.0.1".into(),
            scheduler_port: 50050,
            concurrent_tasks: 0,
            heartbeat_interval_seconds: 60,
            audit_dir: None,
        }
    }
}

/// Runs a scheduler with the governance codecs until the process ends.
pub async fn run_scheduler(settings: &SchedulerSettings) -> Result<()> {
    let address: SocketAddr = format!("{}:{}", settings.host, settings.port)
        .parse()
        .map_err(|error| {
            BallistaError::General(format!(
                "invalid scheduler address {}:{}: {error}; pass an IP address such as 127.0.0.1",
                settings.host, settings.port
            ))
        })?;
    let config = SchedulerConfig {
        bind_host: settings.host.clone(),
        bind_port: settings.port,
        external_host: settings.host.clone(),
        executor_timeout_seconds: settings.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: settings.expire_dead_executor_interval_seconds,
        task_max_failures: settings.task_max_failures,
        override_logical_codec: Some(Arc::new(GovernanceLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(GovernancePhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await
}

/// Runs an executor with the governance codecs until the process ends. With an audit
/// folder, every task that outputs issue columns writes its audit file there.
pub async fn run_executor(settings: &ExecutorSettings) -> Result<()> {
    let concurrent_tasks = if settings.concurrent_tasks == 0 {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    } else {
        settings.concurrent_tasks
    };
    let mut config = ExecutorProcessConfig {
        bind_host: settings.host.clone(),
        external_host: Some(
            settings
                .external_host
                .clone()
                .unwrap_or_else(|| settings.host.clone()),
        ),
        port: settings.flight_port,
        grpc_port: settings.grpc_port,
        scheduler_host: settings.scheduler_host.clone(),
        scheduler_port: settings.scheduler_port,
        vcores: concurrent_tasks,
        executor_heartbeat_interval_seconds: settings.heartbeat_interval_seconds,
        override_logical_codec: Some(Arc::new(GovernanceLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(GovernancePhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    if let Some(dir) = &settings.audit_dir {
        std::fs::create_dir_all(dir).map_err(|error| {
            BallistaError::General(format!(
                "audit folder {} could not be created: {error}; pass a writable folder",
                dir.display()
            ))
        })?;
        let engine = AuditingEngine::new(dir.clone(), config.executor_id.clone());
        config.override_execution_engine = Some(Arc::new(engine));
    }
    start_executor_process(Arc::new(config)).await
}
