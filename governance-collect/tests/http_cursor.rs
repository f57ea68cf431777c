//! The HTTP poll collector's cursor against a scripted server on 127.0.0.1 that treats
//! `since` as inclusive. Items that share the cursor's time must be neither lost nor
//! repeated at a poll boundary, at a batch boundary inside a page, across pages or after a
//! restart.

#[path = "support/http_server.rs"]
mod http_server;

use arrow::array::{Array, StringArray};
use governance_collect::BatchLimits;
use governance_collect::http::{HttpPollCollector, HttpPollConfig, RetryConfig};
use governance_core::audit::AuditLog;
use governance_core::{Collector, GovernedBatch, StageContext};
use http_server::{Reply, ScriptedServer};
use serde_json::{Value, json};

/// Builds a reading of `sensor` at 10:`minute`.
fn reading(sensor: &str, minute: u32) -> Value {
    json!({
        "sensor": sensor,
        "observedAt": format!("2024-05-01T10:{minute:02}:00Z"),
        "pm25": 1.5,
    })
}

fn config(url: String, max_polls: u64, max_rows: usize) -> HttpPollConfig {
    HttpPollConfig {
        url,
        interval_ms: 5,
        timeout_ms: 2_000,
        retry: RetryConfig {
            max_attempts: 1,
            initial_backoff_ms: 10,
            max_backoff_ms: 10,
            jitter: 0.0,
        },
        max_polls: Some(max_polls),
        limits: BatchLimits {
            max_rows,
            max_bytes: 1 << 20,
        },
        ..HttpPollConfig::default()
    }
}

fn context() -> StageContext {
    StageContext::new("http_poll", 1, AuditLog::in_memory().into_handle())
}

fn drain(collector: &mut HttpPollCollector) -> Vec<GovernedBatch> {
    let mut ctx = context();
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx).expect("next batch") {
        batches.push(batch);
    }
    batches
}

/// Returns the sensors of every row of `batches`, in order.
fn sensors(batches: &[GovernedBatch]) -> Vec<String> {
    let mut names = Vec::new();
    for batch in batches {
        let column = batch.column("sensor").expect("sensor column");
        let column = column
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("sensor is text");
        names.extend((0..column.len()).map(|row| column.value(row).to_string()));
    }
    names
}

#[test]
fn equal_time_at_poll_boundary() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading("a", 0), reading("b", 1)]),
        // c arrived at the server after the first poll with b's time; b comes again because
        // `since` is inclusive.
        Reply::items(&[reading("b", 1), reading("c", 1), reading("d", 2)]),
        Reply::items(&[reading("d", 2)]),
    ]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url), 3, 100))
            .expect("new");
    let batches = drain(&mut collector);
    assert_eq!(sensors(&batches), vec!["a", "b", "c", "d"]);
    assert_eq!(collector.skipped(), 2, "b and d were sent twice");
    let requests = server.requests();
    assert!(
        requests[1].contains("since=2024-05-01T10%3A01%3A00Z"),
        "{requests:?}"
    );
    assert!(
        requests[2].contains("since=2024-05-01T10%3A02%3A00Z"),
        "{requests:?}"
    );
}

#[test]
fn restart_inside_equal_time_run() {
    // Four items, three of them at 10:01, in batches of two: the batch boundary falls
    // between b and c, which share a time.
    let page = [
        reading("a", 0),
        reading("b", 1),
        reading("c", 1),
        reading("d", 1),
    ];
    let server = ScriptedServer::start(vec![
        Reply::items(&page),
        // After the restart the collector requests the items from 10:01 again.
        Reply::items(&page[1..]),
    ]);
    let url = format!("{}/readings", server.base_url);
    let mut first = HttpPollCollector::new(config(url.clone(), 1, 2)).expect("new");
    let batches = drain(&mut first);
    assert_eq!(sensors(&batches), vec!["a", "b", "c", "d"]);
    // Only the first batch committed before the crash.
    let committed = batches[0].provenance.position.clone().expect("position");
    assert_eq!(sensors(&batches[..1]), vec!["a", "b"]);

    let mut second = HttpPollCollector::new(config(url, 1, 2)).expect("new");
    second.resume(Some(&committed)).expect("resume");
    let resumed = drain(&mut second);
    assert_eq!(
        sensors(&resumed),
        vec!["c", "d"],
        "neither lost nor repeated"
    );
    assert_eq!(second.skipped(), 1, "b was committed");
    let ids: Vec<u64> = resumed
        .iter()
        .flat_map(|batch| batch.row_ids().values().to_vec())
        .collect();
    assert_eq!(ids, vec![2, 3], "row ids continue after the committed ones");
    let requests = server.requests();
    assert!(
        requests[1].contains("since=2024-05-01T10%3A01%3A00Z"),
        "{requests:?}"
    );
}

#[test]
fn restart_after_poll_with_equal_time() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading("a", 0), reading("b", 1)]),
        Reply::items(&[reading("b", 1), reading("c", 1)]),
    ]);
    let url = format!("{}/readings", server.base_url);
    let mut first = HttpPollCollector::new(config(url.clone(), 1, 100)).expect("new");
    let batches = drain(&mut first);
    let committed = batches
        .last()
        .and_then(|batch| batch.provenance.position.clone())
        .expect("position");

    let mut second = HttpPollCollector::new(config(url, 1, 100)).expect("new");
    second.resume(Some(&committed)).expect("resume");
    assert_eq!(sensors(&drain(&mut second)), vec!["c"]);
}

#[test]
fn reordered_keys_are_the_same_item() {
    // The second response writes b with its keys in another order.
    let reordered = r#"[{"pm25": 1.5, "observedAt": "2024-05-01T10:01:00Z", "sensor": "b"},
                        {"sensor": "c", "observedAt": "2024-05-01T10:01:00Z", "pm25": 1.5}]"#;
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading("a", 0), reading("b", 1)]),
        Reply::json(200, reordered),
    ]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url), 2, 100))
            .expect("new");
    assert_eq!(sensors(&drain(&mut collector)), vec!["a", "b", "c"]);
}

#[test]
fn repeated_item_in_one_response() {
    let server = ScriptedServer::start(vec![Reply::items(&[
        reading("a", 0),
        reading("b", 1),
        reading("b", 1),
    ])]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url), 1, 100))
            .expect("new");
    assert_eq!(sensors(&drain(&mut collector)), vec!["a", "b"]);
    assert_eq!(collector.skipped(), 1);
}

#[test]
fn equal_time_across_pages() {
    let server = ScriptedServer::start_with(|base| {
        let page = |items: Vec<Value>, next: Option<String>| {
            let mut body = json!({ "value": items });
            if let Some(next) = next {
                body["next"] = json!(next);
            }
            Reply::json(200, body.to_string())
        };
        vec![
            page(
                vec![reading("a", 0), reading("b", 1)],
                Some(format!("{base}/readings?page=2")),
            ),
            page(vec![reading("c", 1), reading("d", 2)], None),
        ]
    });
    let mut settings = config(format!("{}/readings", server.base_url), 2, 100);
    settings.items_pointer = Some("/value".into());
    settings.next_link_pointer = Some("/next".into());
    let mut collector = HttpPollCollector::new(settings).expect("new");
    assert_eq!(sensors(&drain(&mut collector)), vec!["a", "b", "c", "d"]);
    let requests = server.requests();
    assert!(requests[1].contains("page=2"), "{requests:?}");
}
