//! A Ballista scheduler and executor with the governance codecs, for a cluster that clients
//! reach through [`crate::session::remote_context`].
//!
//! Both sides of a remote plan must decode the governance UDFs, so the scheduler and every
//! executor run the codecs of [`crate::codec`]. Neither needs a function registered by name.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::error::{BallistaError, Result};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::codec::{GovernanceLogicalCodec, GovernancePhysicalCodec};

/// Address and port of the scheduler's gRPC service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// Address the scheduler listens on, such as `127.0.0.1`.
    pub host: String,
    /// Port of the gRPC service that clients and executors connect to.
    pub port: u16,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            host: "127.0.0.1".into(),
            port: 50050,
        }
    }
}

/// Addresses and ports of an executor and of the scheduler it registers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorSettings {
    /// Address the executor listens on and advertises to the scheduler.
    pub host: String,
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
}

impl Default for ExecutorSettings {
    fn default() -> Self {
        ExecutorSettings {
            host: "127.0.0.1".into(),
            flight_port: 50051,
            grpc_port: 50052,
            scheduler_host: "127.0.0.1".into(),
            scheduler_port: 50050,
            concurrent_tasks: 0,
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
        override_logical_codec: Some(Arc::new(GovernanceLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(GovernancePhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await
}

/// Runs an executor with the governance codecs until the process ends.
pub async fn run_executor(settings: &ExecutorSettings) -> Result<()> {
    let concurrent_tasks = if settings.concurrent_tasks == 0 {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    } else {
        settings.concurrent_tasks
    };
    let config = ExecutorProcessConfig {
        bind_host: settings.host.clone(),
        external_host: Some(settings.host.clone()),
        port: settings.flight_port,
        grpc_port: settings.grpc_port,
        scheduler_host: settings.scheduler_host.clone(),
        scheduler_port: settings.scheduler_port,
        vcores: concurrent_tasks,
        override_logical_codec: Some(Arc::new(GovernanceLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(GovernancePhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await
}
