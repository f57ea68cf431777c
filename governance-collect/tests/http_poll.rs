//! The HTTP poll collector against a scripted server on 127.0.0.1: retries, Retry-After,
//! timeouts, resume from the cursor, quarantine, adaptive interval, re-collection and batch
//! limits.

#[path = "support/http_server.rs"]
mod http_server;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use governance_collect::BatchLimits;
use governance_collect::http::{HttpPayload, HttpPollCollector, HttpPollConfig, RetryConfig};
use governance_core::audit::AuditLog;
use governance_core::{Chain, Collector, GovernedBatch, StageContext};
use http_server::{Reply, ScriptedServer};
use serde_json::{Value, json};

fn reading(minute: u32, pm25: f64) -> Value {
    json!({
        "sensor": "s1",
        "observedAt": format!("2024-05-01T10:{minute:02}:00Z"),
        "pm25": pm25,
    })
}

fn config(url: String) -> HttpPollConfig {
    HttpPollConfig {
        url,
        interval_ms: 20,
        alert_interval_ms: 5,
        timeout_ms: 2_000,
        retry: RetryConfig {
            max_attempts: 3,
            initial_backoff_ms: 10,
            max_backoff_ms: 50,
            jitter: 0.5,
        },
        max_polls: Some(1),
        ..HttpPollConfig::default()
    }
}

fn context() -> StageContext {
    StageContext::new("http_poll", 1, AuditLog::in_memory().into_handle())
}

fn drain(collector: &mut HttpPollCollector, ctx: &mut StageContext) -> Vec<GovernedBatch> {
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(ctx).expect("next batch") {
        batches.push(batch);
    }
    batches
}

fn rows(batches: &[GovernedBatch]) -> usize {
    batches.iter().map(GovernedBatch::num_rows).sum()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn server_error_is_retried() {
    let server = ScriptedServer::start(vec![
        Reply::json(500, "{\"error\":\"busy\"}"),
        Reply::items(&[reading(0, 3.5), reading(1, 4.0)]),
    ]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url))).expect("new");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);
    assert_eq!(rows(&batches), 2);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(ctx.rows_read(), 2);
}

/// Polls once through a server that replies `first` and then two items, with a backoff of
/// 10 ms and the given cap, and returns the time between the two requests.
fn delay_after(first: Reply, max_backoff_ms: u64) -> Duration {
    let server = ScriptedServer::start(vec![
        first,
        Reply::items(&[reading(0, 3.5), reading(1, 4.0)]),
    ]);
    let mut settings = config(format!("{}/readings", server.base_url));
    settings.retry.max_backoff_ms = max_backoff_ms;
    settings.retry.jitter = 0.0;
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);
    assert_eq!(rows(&batches), 2);
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2, "{:?}", server.requests());
    arrivals[1] - arrivals[0]
}

#[test]
fn retry_after_seconds_sets_delay() {
    let busy = Reply::with_header(429, "Retry-After", "1", "{\"error\":\"slow down\"}");
    let delay = delay_after(busy, 10_000);
    assert!(delay >= Duration::from_millis(1_000), "{delay:?}");
    assert!(delay < Duration::from_millis(3_000), "{delay:?}");
}

#[test]
fn retry_after_date_sets_delay() {
    // An HTTP date has whole seconds, so three seconds ahead waits more than two.
    let later = std::time::SystemTime::now() + Duration::from_secs(3);
    let date = httpdate::fmt_http_date(later);
    let unavailable = Reply::with_header(503, "Retry-After", &date, "{}");
    let delay = delay_after(unavailable, 10_000);
    assert!(
        delay >= Duration::from_millis(1_900),
        "{delay:?} for {date}"
    );
    assert!(delay < Duration::from_millis(5_000), "{delay:?} for {date}");
}

#[test]
fn retry_after_is_capped_by_max_backoff() {
    let busy = Reply::with_header(429, "Retry-After", "120", "{}");
    let delay = delay_after(busy, 300);
    assert!(delay >= Duration::from_millis(300), "{delay:?}");
    assert!(delay < Duration::from_millis(2_000), "{delay:?}");
}

#[test]
fn invalid_retry_after_falls_back_to_backoff() {
    let busy = Reply::with_header(503, "Retry-After", "soon", "{}");
    let delay = delay_after(busy, 50);
    assert!(delay < Duration::from_millis(1_000), "{delay:?}");
}

#[test]
fn retry_after_ignored_on_other_errors() {
    // Only 429 and 503 carry a Retry-After that the collector honours.
    let failed = Reply::with_header(500, "Retry-After", "30", "{}");
    let delay = delay_after(failed, 50);
    assert!(delay < Duration::from_millis(1_000), "{delay:?}");
}

#[test]
fn hanging_response_times_out() {
    let server = ScriptedServer::start(vec![
        Reply::Hang(Duration::from_secs(10)),
        Reply::Hang(Duration::from_secs(10)),
    ]);
    let mut settings = config(format!("{}/readings?token=s3cret", server.base_url));
    settings.timeout_ms = 200;
    settings.retry.max_attempts = 2;
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let started = Instant::now();
    let error = collector
        .next_batch(&mut context())
        .expect_err("every attempt hangs");
    let message = error_chain(&error);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(message.contains("timed out after 200 ms"), "{message}");
    assert!(message.contains("2 attempt"), "{message}");
    assert!(message.contains("/readings?token=REDACTED"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn exhausted_retries_name_status() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, "{}"),
        Reply::json(503, "{}"),
        Reply::json(503, "{}"),
    ]);
    let url = server.base_url.replace("http://", "http://admin:hunter2@");
    let mut collector = HttpPollCollector::new(config(format!("{url}/readings"))).expect("new");
    let error = collector
        .next_batch(&mut context())
        .expect_err("every attempt fails");
    let message = error_chain(&error);
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(message.contains("3 attempt"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("admin"), "{message}");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn client_error_is_not_retried() {
    let server = ScriptedServer::start(vec![Reply::json(404, "{}")]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/missing", server.base_url))).expect("new");
    let error = collector.next_batch(&mut context()).expect_err("not found");
    assert!(error_chain(&error).contains("HTTP 404"), "{error}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn resume_from_cursor_skips_committed() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading(0, 1.0), reading(1, 2.0)]),
        // A server that treats `since` as inclusive sends the item at the cursor again.
        Reply::items(&[reading(1, 2.0), reading(2, 3.0)]),
    ]);
    let url = format!("{}/readings", server.base_url);
    let mut first = HttpPollCollector::new(config(url.clone())).expect("new");
    let batches = drain(&mut first, &mut context());
    assert_eq!(rows(&batches), 2);
    let position = batches[0].provenance.position.clone().expect("position");

    let mut second = HttpPollCollector::new(config(url)).expect("new");
    second.resume(Some(&position)).expect("resume");
    let mut ctx = context();
    let batches = drain(&mut second, &mut ctx);
    assert_eq!(rows(&batches), 1, "only the reading at 10:02 is new");
    assert_eq!(second.skipped(), 1);
    assert_eq!(ctx.rows_read(), 1);
    let ids = batches[0].row_ids().values().to_vec();
    assert_eq!(ids, vec![2], "row ids continue after the committed ones");
    let requests = server.requests();
    assert!(
        requests[1].contains("since=2024-05-01T10%3A01%3A00Z"),
        "{requests:?}"
    );
}

#[test]
fn malformed_items_are_quarantined() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, "not json at all"),
        Reply::items(&[
            reading(0, 1.0),
            json!({"sensor": "s2", "pm25": 2.0}),
            json!({"sensor": "s3", "observedAt": "yesterday", "pm25": 2.0}),
            json!({"sensor": "s4", "observedAt": "2024-05-01T10:03:00Z", "pm25": "high"}),
            reading(4, 5.0),
        ]),
    ]);
    let mut settings = config(format!("{}/readings", server.base_url));
    settings.max_polls = Some(2);
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);
    assert_eq!(rows(&batches), 2);
    let quarantined = ctx.take_quarantined();
    let reasons: Vec<&str> = quarantined.iter().map(|row| row.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("not valid JSON"), "{reasons:?}");
    assert!(reasons[1].contains("/observedAt"), "{reasons:?}");
    assert!(reasons[2].contains("\"yesterday\""), "{reasons:?}");
    assert!(reasons[3].contains("pm25"), "{reasons:?}");
    assert_eq!(ctx.rows_read(), 6);
}

#[test]
fn alert_shortens_interval() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading(0, 1.0)]),
        Reply::items(&[reading(1, 2.0)]),
        Reply::items(&[reading(2, 3.0)]),
    ]);
    let mut settings = config(format!("{}/readings", server.base_url));
    settings.interval_ms = 400;
    settings.alert_interval_ms = 10;
    settings.max_polls = Some(3);
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let control = collector.control();
    let mut ctx = context();

    collector
        .next_batch(&mut ctx)
        .expect("first poll")
        .expect("batch");
    control.set_alert(true);
    let started = Instant::now();
    collector
        .next_batch(&mut ctx)
        .expect("second poll")
        .expect("batch");
    let alert_wait = started.elapsed();
    control.set_alert(false);
    let started = Instant::now();
    collector
        .next_batch(&mut ctx)
        .expect("third poll")
        .expect("batch");
    let normal_wait = started.elapsed();

    assert!(alert_wait < Duration::from_millis(300), "{alert_wait:?}");
    assert!(normal_wait >= Duration::from_millis(350), "{normal_wait:?}");
    assert_eq!(collector.interval_ms(), 400);
    let events = ctx.take_events();
    let changes: Vec<(u64, u64)> = events
        .iter()
        .filter(|event| event.kind == "poll_interval_changed")
        .map(|event| {
            (
                event.parameters["from_ms"].as_u64().expect("from"),
                event.parameters["to_ms"].as_u64().expect("to"),
            )
        })
        .collect();
    assert_eq!(changes, vec![(400, 10), (10, 400)]);
}

#[test]
fn recollection_is_recorded_in_lineage() {
    let server = ScriptedServer::start(vec![
        Reply::items(&[reading(10, 1.0), reading(11, 2.0)]),
        Reply::items(&[reading(30, 3.0)]),
    ]);
    let collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url))).expect("new");
    let control = collector.control();
    control
        .request_recollection(
            time("2024-05-01T10:10:00Z"),
            time("2024-05-01T10:20:00Z"),
            "gap in pm25 readings",
        )
        .expect("request");
    let mut chain = Chain::builder().collect(collector).build().expect("chain");
    let summary = chain.run_blocking().expect("run");
    assert_eq!(summary.rows_delivered, 3);

    let requests = server.requests();
    assert!(
        requests[0].contains("since=2024-05-01T10%3A10%3A00Z"),
        "{requests:?}"
    );
    assert!(
        requests[0].contains("until=2024-05-01T10%3A20%3A00Z"),
        "{requests:?}"
    );
    let events = &summary.lineage[0].events;
    let recollection = events
        .iter()
        .find(|event| event.kind == "recollection")
        .expect("a recollection event");
    assert_eq!(recollection.parameters["rows"], json!(2));
    assert_eq!(
        recollection.parameters["request"]["reason"],
        json!("gap in pm25 readings")
    );
    assert_eq!(recollection.parameters["error"], Value::Null);
}

#[test]
fn failed_recollection_keeps_polling() {
    let server = ScriptedServer::start(vec![
        Reply::json(400, "{\"error\":\"range too long\"}"),
        Reply::items(&[reading(30, 3.0)]),
    ]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/readings", server.base_url))).expect("new");
    collector
        .control()
        .request_recollection(
            time("2024-05-01T00:00:00Z"),
            time("2024-05-02T00:00:00Z"),
            "day missing",
        )
        .expect("request");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);
    assert_eq!(rows(&batches), 1);
    let outcome = &collector.recollections()[0];
    let error = outcome.error.as_deref().expect("an error");
    assert!(error.contains("HTTP 400"), "{error}");
}

#[test]
fn batches_split_by_row_count() {
    let items: Vec<Value> = (0..5).map(|minute| reading(minute, 1.0)).collect();
    let server = ScriptedServer::start(vec![Reply::items(&items)]);
    let mut settings = config(format!("{}/readings", server.base_url));
    settings.limits = BatchLimits {
        max_rows: 2,
        max_bytes: 1 << 20,
    };
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let batches = drain(&mut collector, &mut context());
    let sizes: Vec<usize> = batches.iter().map(GovernedBatch::num_rows).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
}

#[test]
fn oversized_item_is_quarantined() {
    let mut big = reading(2, 1.0);
    big["note"] = json!("x".repeat(500));
    let server = ScriptedServer::start(vec![Reply::items(&[
        reading(0, 1.0),
        reading(1, 2.0),
        big,
        reading(3, 4.0),
    ])]);
    let item_bytes = reading(0, 1.0).to_string().len();

    let mut settings = config(format!("{}/readings", server.base_url));
    settings.columns = None;
    settings.limits = BatchLimits {
        max_rows: 100,
        max_bytes: item_bytes * 2,
    };
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);

    let sizes: Vec<usize> = batches.iter().map(GovernedBatch::num_rows).collect();
    assert_eq!(sizes, vec![2, 1]);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("above the batch limit"),
        "{}",
        quarantined[0].reason
    );
    assert!(quarantined[0].raw.contains(&"x".repeat(500)));
    let cursor = collector.position().cursor.expect("cursor");
    assert_eq!(cursor, time("2024-05-01T10:03:00Z"));
}

#[test]
fn sensorthings_follows_next_link() {
    let page = |minutes: &[u32], next: Option<String>| {
        let value: Vec<Value> = minutes
            .iter()
            .map(|minute| {
                json!({
                    "@iot.id": minute,
                    "phenomenonTime": format!("2024-05-01T10:{minute:02}:00Z"),
                    "result": f64::from(*minute),
                })
            })
            .collect();
        let mut body = json!({"value": value});
        if let Some(next) = next {
            body["@iot.nextLink"] = json!(next);
        }
        Reply::json(200, body.to_string())
    };

    // The first page's link points at the server itself, so the script needs its address.
    let server = ScriptedServer::start_with(move |base| {
        vec![
            page(&[0, 1], Some(format!("{base}/Observations?$skip=2"))),
            page(&[2], None),
        ]
    });

    let mut settings = config(format!("{}/Observations", server.base_url));
    settings.payload = HttpPayload::SensorThings;
    settings.max_polls = Some(2);
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let batches = drain(&mut collector, &mut context());

    assert_eq!(rows(&batches), 3);
    let requests = server.requests();
    assert!(requests[1].contains("$skip=2"), "{requests:?}");
    assert!(collector.position().next_link.is_none());
}

#[test]
fn ngsi_ld_entities_become_rows() {
    let entity = |id: u32, kind: &str, minute: u32| {
        json!({
            "id": format!("urn:ngsi-ld:AirQualityObserved:{id}"),
            "type": "AirQualityObserved",
            "pm25": {
                "type": kind,
                "value": f64::from(id),
                "observedAt": format!("2024-05-01T10:{minute:02}:00Z"),
            },
        })
    };
    let server = ScriptedServer::start(vec![Reply::items(&[
        entity(1, "Property", 0),
        entity(2, "Propperty", 1),
        entity(3, "Property", 2),
    ])]);
    let mut settings = config(format!("{}/ngsi-ld/v1/entities", server.base_url));
    settings.payload = HttpPayload::NgsiLd;
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);

    assert_eq!(rows(&batches), 2);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].raw.contains("Propperty"),
        "{}",
        quarantined[0].raw
    );
    let cursor = collector.position().cursor.expect("cursor");
    assert_eq!(cursor, time("2024-05-01T10:02:00Z"));
}
