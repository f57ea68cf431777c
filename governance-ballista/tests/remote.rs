//! The chain on a Ballista cluster reached through `remote_with_state`: a scheduler and an
//! executor with the governance codecs run in this process on 127.0.0.1 ports, and the plan
//! returns the same rows as on a plain DataFusion context.

#![cfg(feature = "cluster")]

mod common;

use std::net::TcpListener;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use governance_ballista::cluster::{
    ExecutorSettings, SchedulerSettings, run_executor, run_scheduler,
};
use governance_ballista::{ChainInput, ColumnChain, session};
use governance_clean::{CanonicaliseConfig, RulesConfig};
use governance_collect::{SyntheticCity, SyntheticConfig};

use common::{assert_same_rows, sorted_rows, write_parquet};

/// Returns a port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Waits until something accepts connections on `port` of 127.0.0.1.
async fn wait_for(port: u16, what: &str) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {what} did not listen on 127.0.0.1:{port} within 10 seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_cluster_matches_plain_context() {
    let city = SyntheticCity::new(SyntheticConfig {
        days: 7,
        ..SyntheticConfig::default()
    })
    .expect("synthetic city");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sensors.parquet");
    let batch = city.sensor_batch(0).expect("sensor batch");
    write_parquet(&path, &[batch.data().clone()]);

    let scheduler = SchedulerSettings {
        host: "127.0.0.1".into(),
        port: free_port(),
        ..SchedulerSettings::default()
    };
    let executor = ExecutorSettings {
        host: "127.0.0.1".into(),
        flight_port: free_port(),
        grpc_port: free_port(),
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: scheduler.port,
        concurrent_tasks: 2,
        ..ExecutorSettings::default()
    };
    let scheduler_task = {
        let settings = scheduler.clone();
        tokio::spawn(async move { run_scheduler(&settings).await })
    };
    wait_for(scheduler.port, "scheduler").await;
    let executor_task = {
        let settings = executor.clone();
        tokio::spawn(async move { run_executor(&settings).await })
    };
    wait_for(executor.flight_port, "executor").await;

    let rules: RulesConfig = serde_json::from_value(serde_json::json!({"rules": [
        {"column": "PM2.5", "check": {"range": {"min": 0, "max": 500}}},
        {"column": "station", "check": {"allowed": city.stations()}, "action": "correct"}
    ]}))
    .expect("rules parse");
    let chain = ColumnChain::new(ChainInput::Parquet(path))
        .canonicalise(&CanonicaliseConfig {
            trim: vec!["station".into()],
            timestamp: Some(Default::default()),
            ..CanonicaliseConfig::default()
        })
        .expect("canonicalise step")
        .rules(&rules)
        .expect("rules step");

    let plain = chain
        .plan(&SessionContext::new())
        .await
        .expect("plans on DataFusion")
        .collect()
        .await
        .expect("runs on DataFusion");
    let remote = session::remote_context(&format!("df://127.0.0.1:{}", scheduler.port))
        .await
        .expect("client connects to the scheduler");
    let remote_batches = chain
        .plan(&remote)
        .await
        .expect("plans on the cluster")
        .collect()
        .await
        .expect("runs on the cluster");

    let plain_rows = sorted_rows(&plain);
    assert_eq!(plain_rows.len(), batch.num_rows(), "row count");
    assert_same_rows(
        "cluster vs DataFusion",
        &plain_rows,
        &sorted_rows(&remote_batches),
    );

    executor_task.abort();
    scheduler_task.abort();
}
