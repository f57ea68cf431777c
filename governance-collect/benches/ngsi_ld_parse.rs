//! Measures NGSI-LD parse speed: generates normalised entities in memory and reports
//! entities per second for `ngsi_ld::parse` and, for scale, for `serde_json` alone.
//!
//! Run with `cargo bench -p governance-collect --bench ngsi_ld_parse`; pass a count to
//! change the number of entities (default 100000).

#![allow(clippy::print_stdout, reason = "a benchmark binary reports on stdout")]

use std::hint::black_box;
use std::time::Instant;

use governance_collect::formats::ngsi_ld::{self, NgsiLdOptions};
use serde_json::{Value, json};

/// Builds `count` air-quality entities with four attributes, units and times, a
/// relationship and a location, as one JSON array.
fn entities(count: usize) -> String {
    let items: Vec<Value> = (0..count)
        .map(|index| {
            let minute = index % 60;
            json!({
                "id": format!("urn:ngsi-ld:AirQualityObserved:station-{index}"),
                "type": "AirQualityObserved",
                "no2": {"type": "Property", "value": 20.0 + (index % 37) as f64 * 0.5,
                        "unitCode": "GQ", "observedAt": format!("2024-05-01T08:{minute:02}:00Z")},
                "pm10": {"type": "Property", "value": 10 + index % 23, "unitCode": "GQ",
                         "observedAt": format!("2024-05-01T08:{minute:02}:00Z")},
                "temperature": {"type": "Property", "value": 12.5 + (index % 11) as f64,
                                "unitCode": "CEL"},
                "refDevice": {"type": "Relationship",
                              "object": format!("urn:ngsi-ld:Device:{}", index % 500)},
                "location": {"type": "GeoProperty", "value": {"type": "Point",
                             "coordinates": [2.0 + (index % 100) as f64 * 0.001, 41.4]}}
            })
        })
        .collect();
    Value::Array(items).to_string()
}

fn main() {
    let count = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse::<usize>().ok())
        .unwrap_or(100_000);
    let text = entities(count);
    println!(
        "ngsi_ld_parse: {count} entities, {:.1} MiB of JSON",
        text.len() as f64 / (1024.0 * 1024.0)
    );
    let options = NgsiLdOptions::default();
    let mut best = f64::INFINITY;
    for run in 1..=3 {
        let start = Instant::now();
        let parsed = ngsi_ld::parse(black_box(&text), &options).expect("generated entities parse");
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(parsed.batch.num_rows(), count);
        assert!(parsed.quarantined.is_empty());
        best = best.min(seconds);
        println!(
            "  run {run}: {seconds:.3} s, {:.0} entities/s, {} columns",
            count as f64 / seconds,
            parsed.batch.num_columns()
        );
    }
    let start = Instant::now();
    let values: Value = serde_json::from_str(black_box(&text)).expect("valid JSON");
    let json_seconds = start.elapsed().as_secs_f64();
    black_box(values);
    println!(
        "ngsi_ld::parse best: {:.0} entities/s; serde_json::from_str alone: {:.0} entities/s",
        count as f64 / best,
        count as f64 / json_seconds
    );
}
