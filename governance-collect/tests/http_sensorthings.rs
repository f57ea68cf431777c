//! The HTTP poll collector on SensorThings Observations against a scripted server on
//! 127.0.0.1: the cursor as an OData `$filter` with `$orderby`, a caller's filter joined to
//! it by `and`, percent-encoding of the query, re-collection ranges and config errors.

#[path = "support/http_server.rs"]
mod http_server;

use chrono::{DateTime, Utc};
use governance_collect::http::{HttpPayload, HttpPollCollector, HttpPollConfig, TimeQuery};
use governance_core::audit::AuditLog;
use governance_core::{Collector, GovernedBatch, StageContext};
use http_server::{Reply, ScriptedServer};
use serde_json::{Value, json};

/// A filter with characters that a query must encode: spaces, quotes, `&`, `+`, `/`, `@`
/// and a non-ASCII letter.
const FILTER: &str = "Datastream/name eq 'Luft & Lärm+1' or Datastream/@iot.id eq 7";

fn observations(minutes: &[u32]) -> Reply {
    let value: Vec<Value> = minutes
        .iter()
        .map(|minute| {
            json!({
                "@iot.id": minute,
                "phenomenonTime": format!("2024-05-01T10:{minute:02}:00Z"),
                "result": f64::from(*minute) + 0.5,
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }).to_string())
}

fn config(url: String) -> HttpPollConfig {
    HttpPollConfig {
        url,
        payload: HttpPayload::SensorThings,
        interval_ms: 10,
        timeout_ms: 2_000,
        max_polls: Some(2),
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

/// Returns the raw query of a request line such as `GET /v1.1/Observations?... HTTP/1.1`.
fn raw_query(request: &str) -> &str {
    let target = request.split(' ').nth(1).unwrap_or_default();
    target.split_once('?').map_or("", |(_, query)| query)
}

/// Returns the decoded value of query parameter `name` of a request line.
fn parameter(request: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://127.0.0.1/?{}", raw_query(request)))
        .expect("request query");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn filter_is_joined_to_the_cursor() {
    let server = ScriptedServer::start(vec![observations(&[0, 1]), observations(&[1, 2])]);
    let mut settings = config(format!("{}/v1.1/Observations", server.base_url));
    settings.filter = Some(FILTER.into());
    let mut collector = HttpPollCollector::new(settings).expect("new");
    let batches = drain(&mut collector);

    let rows: usize = batches.iter().map(GovernedBatch::num_rows).sum();
    assert_eq!(rows, 3, "the item at the cursor comes once");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");

    // Before any item there is no cursor: the caller's filter goes alone.
    assert_eq!(parameter(&requests[0], "$filter").as_deref(), Some(FILTER));
    assert_eq!(
        parameter(&requests[0], "$orderby").as_deref(),
        Some("phenomenonTime asc")
    );
    assert_eq!(
        parameter(&requests[1], "$filter").as_deref(),
        Some(
            "(Datastream/name eq 'Luft & Lärm+1' or Datastream/@iot.id eq 7) and \
             phenomenonTime ge 2024-05-01T10:01:00Z"
        )
    );
    assert_eq!(parameter(&requests[1], "since"), None, "{requests:?}");

    // Spaces are %20 and the reserved characters of the filter are escaped, so that the
    // server reads back exactly the expression.
    let query = raw_query(&requests[1]);
    assert!(
        query.starts_with("$filter=%28Datastream%2Fname%20eq%20%27Luft%20%26%20L%C3%A4rm%2B1%27"),
        "{query}"
    );
    assert!(!query.contains('+'), "{query}");
    assert!(!query.contains(' '), "{query}");
    assert!(query.contains("%40iot.id"), "{query}");
    assert!(query.ends_with("&$orderby=phenomenonTime%20asc"), "{query}");
}

#[test]
fn cursor_filter_without_own_filter() {
    let server = ScriptedServer::start(vec![observations(&[3]), observations(&[])]);
    let mut collector =
        HttpPollCollector::new(config(format!("{}/Observations", server.base_url))).expect("new");
    drain(&mut collector);

    let requests = server.requests();
    assert_eq!(parameter(&requests[0], "$filter"), None, "{requests:?}");
    assert_eq!(
        parameter(&requests[1], "$filter").as_deref(),
        Some("phenomenonTime ge 2024-05-01T10:03:00Z")
    );
}

#[test]
fn recollection_filters_the_range() {
    let server = ScriptedServer::start(vec![observations(&[12]), observations(&[])]);
    let mut settings = config(format!("{}/Observations", server.base_url));
    settings.filter = Some("Datastream/id eq 7".into());
    settings.time_query = Some(TimeQuery::ODataFilter {
        property: "resultTime".into(),
    });
    settings.time_pointer = Some("/phenomenonTime".into());
    settings.max_polls = Some(1);
    let mut collector = HttpPollCollector::new(settings).expect("new");
    collector
        .control()
        .request_recollection(
            time("2024-05-01T10:10:00Z"),
            time("2024-05-01T10:20:00Z"),
            "gap in the readings",
        )
        .expect("request");
    drain(&mut collector);

    let requests = server.requests();
    assert_eq!(
        parameter(&requests[0], "$filter").as_deref(),
        Some(
            "(Datastream/id eq 7) and resultTime ge 2024-05-01T10:10:00Z and resultTime lt \
             2024-05-01T10:20:00Z"
        )
    );
    assert_eq!(
        parameter(&requests[0], "$orderby").as_deref(),
        Some("resultTime asc")
    );
    assert_eq!(parameter(&requests[0], "until"), None, "{requests:?}");
}

#[test]
fn params_time_query_keeps_since() {
    let server = ScriptedServer::start(vec![observations(&[4]), observations(&[])]);
    let mut settings = config(format!("{}/Observations", server.base_url));
    settings.time_query = Some(TimeQuery::Params);
    let mut collector = HttpPollCollector::new(settings).expect("new");
    drain(&mut collector);

    let requests = server.requests();
    assert_eq!(
        parameter(&requests[1], "since").as_deref(),
        Some("2024-05-01T10:04:00Z")
    );
    assert_eq!(parameter(&requests[1], "$filter"), None, "{requests:?}");
    assert_eq!(parameter(&requests[1], "$orderby"), None, "{requests:?}");
}

#[test]
fn invalid_filter_settings_are_rejected() {
    let base = "http://127.0.0.1:9/Observations".to_string();
    let json_payload = HttpPollConfig {
        payload: HttpPayload::Json,
        filter: Some("result gt 3".into()),
        ..config(base.clone())
    };
    let empty = HttpPollConfig {
        filter: Some("  ".into()),
        ..config(base.clone())
    };
    let own_filter = config(format!("{base}?$filter=result%20gt%203"));
    let own_order = config(format!("{base}?%24orderby=id"));
    let bad_property = HttpPollConfig {
        time_query: Some(TimeQuery::ODataFilter {
            property: "phenomenon Time".into(),
        }),
        ..config(base)
    };
    let cases = [
        (json_payload, "set time_query to odata_filter"),
        (empty, "filter is empty"),
        (own_filter, "already has a $filter"),
        (own_order, "already has a $orderby"),
        (bad_property, "not an OData property path"),
    ];
    for (settings, expected) in cases {
        let message = HttpPollCollector::new(settings)
            .expect_err("invalid settings")
            .to_string();
        assert!(
            message.contains(expected),
            "{expected:?} missing: {message}"
        );
    }
}
