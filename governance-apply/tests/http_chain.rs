//! An HTTP poll collector in a checkpointed chain: a round that fails half way and a
//! second round against a server that repeats the item at the cursor deliver every
//! reading exactly once.

#[path = "../../governance-collect/tests/support/http_server.rs"]
mod http_server;

use std::fs::File;
use std::path::Path;

use arrow::array::{Array, Float64Array};
use governance_apply::ParquetPartSink;
use governance_collect::BatchLimits;
use governance_collect::http::{HttpPollCollector, HttpPollConfig};
use governance_core::{Applicator, Chain, Error, GovernedBatch, Result, Stage, StageContext};
use http_server::{Reply, ScriptedServer};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

fn reading(minute: u32) -> Value {
    json!({
        "sensor": "s1",
        "observedAt": format!("2024-05-01T10:{minute:02}:00Z"),
        "pm25": f64::from(minute),
    })
}

fn collector(url: String) -> HttpPollCollector {
    HttpPollCollector::new(HttpPollConfig {
        url,
        max_polls: Some(1),
        limits: BatchLimits {
            max_rows: 2,
            max_bytes: 1 << 20,
        },
        ..HttpPollConfig::default()
    })
    .expect("collector")
}

/// Fails every batch from the 1-based number `fail_from` on.
struct FailFrom {
    fail_from: Option<u64>,
    seen: u64,
}

impl Stage for FailFrom {
    fn name(&self) -> &str {
        "fail_from"
    }
}

impl Applicator for FailFrom {
    fn apply(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.seen += 1;
        if self.fail_from.is_some_and(|first| self.seen >= first) {
            return Err(Error::Internal(format!(
                "scripted failure at batch {}",
                self.seen
            )));
        }
        Ok(())
    }
}

/// Reads the `pm25` column of every committed part, in part order.
fn committed_pm25(dir: &Path) -> Vec<f64> {
    let sink = ParquetPartSink::open(dir).expect("reopen sink");
    let mut values = Vec::new();
    for path in sink.committed_parts().expect("parts") {
        let file = File::open(&path).expect("open part");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet reader")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("read batch");
            let column = batch.column_by_name("pm25").expect("pm25 column");
            let pm25 = column
                .as_any()
                .downcast_ref::<Float64Array>()
                .expect("pm25 is Float64");
            values.extend((0..pm25.len()).map(|row| pm25.value(row)));
        }
    }
    values
}

#[test]
fn http_chain_resumes_without_duplicates() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading(0), reading(1), reading(2), reading(3)]),
        Reply::items(&[reading(1), reading(2), reading(3), reading(4)]),
    ]);
    let url = format!("{}/readings", server.base_url);
    let output = tempfile::tempdir().expect("output folder");

    // The applicator before the sink fails the second batch, so only minutes 0 and 1 commit.
    let mut chain = Chain::builder()
        .collect(collector(url.clone()))
        .apply(FailFrom {
            fail_from: Some(2),
            seen: 0,
        })
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("the second batch fails");
    assert!(error.to_string().contains("scripted failure"), "{error}");
    assert_eq!(committed_pm25(output.path()), vec![0.0, 1.0]);

    let mut chain = Chain::builder()
        .collect(collector(url))
        .apply(FailFrom {
            fail_from: None,
            seen: 0,
        })
        .apply_checkpointed(ParquetPartSink::open(output.path()).expect("sink"))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("second run");

    assert_eq!(summary.rows_delivered, 3, "minutes 2, 3 and 4 are new");
    assert_eq!(committed_pm25(output.path()), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    let requests = server.requests();
    assert!(
        requests[1].contains("since=2024-05-01T10%3A01%3A00Z"),
        "{requests:?}"
    );
}
