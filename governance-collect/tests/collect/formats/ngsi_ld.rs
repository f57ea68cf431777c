use arrow::array::{Array, Float64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimeUnit};
use governance_collect::formats::context::{CORE_CONTEXT_URL, TermMap};
use governance_collect::formats::ngsi_ld::{
    self, NgsiLdOptions, Representation, parse_temporal, to_temporal_entities,
};
use governance_collect::formats::{ATTRIBUTE_TYPE_KEY, DATASET_ID_KEY, ENCODING_KEY};
use governance_core::semantic::{SEMANTIC_TYPE_KEY, STANDARD_NAME_KEY, UNIT_KEY};
use serde_json::{Value, json};

use super::assert_same_items;

/// Returns two noise sensors, normalised: units, times, a relationship, a geometry, a
/// sub-property, and an attribute with a default and a dataset instance.
fn normalised_entities() -> Vec<Value> {
    vec![
        json!({
            "id": "urn:ngsi-ld:NoiseSensor:harbour-03",
            "type": "NoiseSensor",
            "@context": CORE_CONTEXT_URL,
            "laeq": {"type": "Property", "value": 61.4, "unitCode": "2N",
                     "observedAt": "2023-11-02T21:15:00Z"},
            "batteryLow": {"type": "Property", "value": false},
            "mountedOn": {"type": "Relationship", "object": "urn:ngsi-ld:Pole:quay-18"},
            "location": {"type": "GeoProperty",
                         "value": {"type": "Point", "coordinates": [4.4821, 51.9054]}},
            "peak": [
                {"type": "Property", "value": 77, "unitCode": "2N",
                 "observedAt": "2023-11-02T21:14:31.250Z"},
                {"type": "Property", "value": 74.5, "unitCode": "2N",
                 "datasetId": "urn:ngsi-ld:Dataset:a-weighted-slow",
                 "observedAt": "2023-11-02T21:14:32Z"}
            ]
        }),
        json!({
            "id": "urn:ngsi-ld:NoiseSensor:market-11",
            "type": "NoiseSensor",
            "@context": CORE_CONTEXT_URL,
            "laeq": {"type": "Property", "value": 55, "unitCode": "2N",
                     "observedAt": "2023-11-02T23:15:00+02:00",
                     "calibration": {"type": "Property", "value": "2023-06-30"}},
            "mountedOn": {"type": "Relationship", "object": "urn:ngsi-ld:Pole:market-2"},
            "peak": {"type": "Property", "value": 69.25, "unitCode": "2N",
                     "observedAt": "2023-11-02T21:14:50Z"}
        }),
    ]
}

fn to_text(items: &[Value]) -> String {
    Value::Array(items.to_vec()).to_string()
}

#[test]
fn normalised_round_trip() {
    let entities = normalised_entities();
    let parsed = ngsi_ld::parse(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    assert_eq!(parsed.batch.num_rows(), 2);
    let back = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn schema_is_union_of_attributes() {
    let parsed =
        ngsi_ld::parse(&to_text(&normalised_entities()), &NgsiLdOptions::default()).expect("parse");
    let batch = &parsed.batch;
    let battery = batch
        .column_by_name("batteryLow")
        .expect("batteryLow column");
    assert_eq!(battery.data_type(), &DataType::Boolean);
    assert!(battery.is_null(1), "second entity has no batteryLow");
    let location = batch.column_by_name("location").expect("location column");
    assert!(location.is_null(1));
}

#[test]
fn units_and_times_go_to_metadata() {
    let parsed =
        ngsi_ld::parse(&to_text(&normalised_entities()), &NgsiLdOptions::default()).expect("parse");
    let schema = parsed.batch.schema();
    let laeq = schema.field_with_name("laeq").expect("laeq");
    assert_eq!(laeq.data_type(), &DataType::Float64);
    assert_eq!(
        laeq.metadata().get(UNIT_KEY).map(String::as_str),
        Some("2N")
    );
    assert_eq!(
        laeq.metadata().get(STANDARD_NAME_KEY).map(String::as_str),
        Some("https://uri.etsi.org/ngsi-ld/default-context/laeq")
    );
    assert!(
        schema.field_with_name("laeq.unitCode").is_err(),
        "a shared unit needs no column"
    );
    let observed = schema
        .field_with_name("laeq.observedAt")
        .expect("observedAt");
    assert_eq!(
        observed.data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(
        observed
            .metadata()
            .get(SEMANTIC_TYPE_KEY)
            .map(String::as_str),
        Some("observed_at")
    );
    let times = parsed
        .batch
        .column_by_name("laeq.observedAt")
        .and_then(|column| column.as_any().downcast_ref::<TimestampMillisecondArray>())
        .expect("timestamps");
    // 23:15 at +02:00 is 21:15 UTC, the same instant as the first sensor's.
    assert_eq!(times.value(0), times.value(1));
}

#[test]
fn dataset_instances_get_own_columns() {
    let parsed =
        ngsi_ld::parse(&to_text(&normalised_entities()), &NgsiLdOptions::default()).expect("parse");
    let schema = parsed.batch.schema();
    let name = "peak[urn:ngsi-ld:Dataset:a-weighted-slow]";
    let field = schema.field_with_name(name).expect("dataset column");
    assert_eq!(
        field.metadata().get(DATASET_ID_KEY).map(String::as_str),
        Some("urn:ngsi-ld:Dataset:a-weighted-slow")
    );
    let values = parsed
        .batch
        .column_by_name(name)
        .and_then(|column| column.as_any().downcast_ref::<Float64Array>())
        .expect("floats");
    assert_eq!(values.value(0), 74.5);
    assert!(values.is_null(1));
}

#[test]
fn relationship_and_geometry_columns() {
    let parsed =
        ngsi_ld::parse(&to_text(&normalised_entities()), &NgsiLdOptions::default()).expect("parse");
    let schema = parsed.batch.schema();
    let mounted = schema.field_with_name("mountedOn").expect("relationship");
    assert_eq!(
        mounted
            .metadata()
            .get(ATTRIBUTE_TYPE_KEY)
            .map(String::as_str),
        Some("Relationship")
    );
    let location = schema.field_with_name("location").expect("geometry");
    assert_eq!(
        location.metadata().get(ENCODING_KEY).map(String::as_str),
        Some("json")
    );
    let text = parsed
        .batch
        .column_by_name("location")
        .and_then(|column| column.as_any().downcast_ref::<StringArray>())
        .expect("text")
        .value(0)
        .to_string();
    let geometry: Value = serde_json::from_str(&text).expect("GeoJSON");
    assert_eq!(geometry["type"], "Point");
}

#[test]
fn differing_units_keep_a_column() {
    let entities = vec![
        json!({"id": "urn:x:1", "type": "Pump",
               "flow": {"type": "Property", "value": 12.5, "unitCode": "G51"}}),
        json!({"id": "urn:x:2", "type": "Pump",
               "flow": {"type": "Property", "value": 3.25, "unitCode": "MQH"}}),
        json!({"id": "urn:x:3", "type": "Pump"}),
    ];
    let parsed = ngsi_ld::parse(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    let schema = parsed.batch.schema();
    assert!(schema.field_with_name("flow.unitCode").is_ok());
    assert!(
        schema
            .field_with_name("flow")
            .expect("flow")
            .metadata()
            .get(UNIT_KEY)
            .is_none()
    );
    let back = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn key_values_round_trip() {
    let entities = vec![
        json!({"id": "urn:ngsi-ld:ParkingSpot:dock-4", "type": "ParkingSpot",
               "status": "occupied", "width": 2.4, "charger": true,
               "location": {"type": "Point", "coordinates": [13.3889, 52.517]},
               "tariffs": [1.5, 2.0]}),
        json!({"id": "urn:ngsi-ld:ParkingSpot:dock-5", "type": "ParkingSpot",
               "status": "free", "width": 2, "charger": false}),
    ];
    let options = NgsiLdOptions::key_values();
    let parsed = ngsi_ld::parse(&to_text(&entities), &options).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    let schema = parsed.batch.schema();
    assert_eq!(
        schema
            .field_with_name("location")
            .expect("location")
            .metadata()
            .get(ATTRIBUTE_TYPE_KEY)
            .map(String::as_str),
        Some("GeoProperty")
    );
    let back = ngsi_ld::to_entities(&parsed.batch, Representation::KeyValues).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn normalised_batch_writes_key_values() {
    let parsed =
        ngsi_ld::parse(&to_text(&normalised_entities()), &NgsiLdOptions::default()).expect("parse");
    let simple = ngsi_ld::to_entities(&parsed.batch, Representation::KeyValues).expect("write");
    assert_eq!(simple[0]["laeq"], json!(61.4));
    assert_eq!(simple[0]["mountedOn"], json!("urn:ngsi-ld:Pole:quay-18"));
    // The default instance wins over the dataset instance.
    assert_eq!(simple[0]["peak"], json!(77.0));
}

#[test]
fn conflicting_value_types_become_json_text() {
    let entities = vec![
        json!({"id": "urn:x:1", "type": "Bin", "fill": {"type": "Property", "value": 0.8}}),
        json!({"id": "urn:x:2", "type": "Bin", "fill": {"type": "Property", "value": "full"}}),
    ];
    let parsed = ngsi_ld::parse(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 2);
    assert_eq!(parsed.issues.len(), 1);
    assert_eq!(parsed.issues[0].column.as_deref(), Some("fill"));
    let back = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn malformed_items_are_quarantined() {
    let text = r#"[
        {"id": "urn:x:1", "type": "Bin", "fill": {"type": "Property", "value": 0.5}},
        {"id": "urn:x:2", "type": "Bin", "fill": {"type": "Property", "value": 0.6,}},
        {"type": "Bin", "fill": {"type": "Property", "value": 0.7}},
        {"id": "urn:x:4", "type": "Bin", "fill": {"type": "Propety", "value": 0.8}},
        {"id": "urn:x:5", "type": "Bin", "fill": {"type": "Relationship", "object": "urn:y"}},
        {"id": "urn:x:6", "type": "Bin", "fill": {"type": "Property", "value": 0.9}}
    ]"#;
    let parsed = ngsi_ld::parse(text, &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 2, "entities 0 and 5 convert");
    let indices: Vec<Option<usize>> = parsed.quarantined.iter().map(|item| item.index).collect();
    assert_eq!(indices, [Some(1), Some(2), Some(3), Some(4)]);
    let reasons: Vec<&str> = parsed
        .quarantined
        .iter()
        .map(|item| item.reason.as_str())
        .collect();
    assert!(reasons[0].contains("not valid JSON"), "{}", reasons[0]);
    assert!(reasons[1].contains("no `id`"), "{}", reasons[1]);
    assert!(
        reasons[2].contains("unknown type \"Propety\""),
        "{}",
        reasons[2]
    );
    assert!(reasons[3].contains("keeps one type"), "{}", reasons[3]);
    assert_eq!(parsed.quarantined[2].pointer, "/3/fill");
}

#[test]
fn other_context_is_quarantined() {
    let entities = vec![
        json!({"id": "urn:x:1", "type": "Bin", "@context": CORE_CONTEXT_URL}),
        json!({"id": "urn:x:2", "type": "Bin",
               "@context": ["https://example.org/waste.jsonld", CORE_CONTEXT_URL]}),
    ];
    let parsed = ngsi_ld::parse(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 1);
    assert_eq!(parsed.quarantined.len(), 1);
    assert_eq!(parsed.quarantined[0].pointer, "/1/@context");
}

#[test]
fn caller_terms_set_standard_names() {
    let entities = vec![json!({"id": "urn:x:1", "type": "Bin",
        "@context": ["https://example.org/waste.jsonld", CORE_CONTEXT_URL],
        "fill": {"type": "Property", "value": 0.5},
        "odour": {"type": "Property", "value": 2}})];
    let options = NgsiLdOptions {
        terms: TermMap::core().with_term("fill", "https://example.org/waste#fillLevel"),
        ..NgsiLdOptions::default()
    };
    let parsed = ngsi_ld::parse(&to_text(&entities), &options).expect("parse");
    let schema = parsed.batch.schema();
    let standard = |name: &str| {
        schema
            .field_with_name(name)
            .expect("field")
            .metadata()
            .get(STANDARD_NAME_KEY)
            .cloned()
    };
    assert_eq!(
        standard("fill").as_deref(),
        Some("https://example.org/waste#fillLevel")
    );
    assert_eq!(
        standard("odour"),
        None,
        "an unknown context may define odour"
    );
}

#[test]
fn json_lines_quarantine_by_line() {
    let text = "{\"id\": \"urn:x:1\", \"type\": \"Bin\"}\n{\"id\": 7, \"type\": \"Bin\"}\n";
    let parsed = ngsi_ld::parse(text, &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 1);
    assert_eq!(parsed.quarantined[0].line, Some(2));
    let row = parsed.quarantined[0]
        .clone()
        .into_row("ngsi-ld", Some("bins.jsonl".into()));
    assert!(row.reason.starts_with("line 2"), "{}", row.reason);
}

/// Returns a temporal query result: two attributes with instances at shared and distinct
/// times.
fn temporal_entities() -> Vec<Value> {
    vec![
        json!({
            "id": "urn:ngsi-ld:WaterQuality:canal-2",
            "type": "WaterQuality",
            "ph": [
                {"type": "Property", "value": 7.25, "observedAt": "2024-02-10T06:00:00Z"},
                {"type": "Property", "value": 7.5, "observedAt": "2024-02-10T07:00:00Z"},
                {"type": "Property", "value": 7.0, "observedAt": "2024-02-10T08:00:00Z"}
            ],
            "turbidity": [
                {"type": "Property", "value": 3.5, "unitCode": "NTU",
                 "observedAt": "2024-02-10T06:00:00Z"},
                {"type": "Property", "value": 4.25, "unitCode": "NTU",
                 "observedAt": "2024-02-10T08:00:00Z"}
            ]
        }),
        json!({
            "id": "urn:ngsi-ld:WaterQuality:lock-5",
            "type": "WaterQuality",
            "ph": [
                {"type": "Property", "value": 6.75, "observedAt": "2024-02-10T06:30:00Z"},
                {"type": "Property", "value": 6.5, "observedAt": "2024-02-10T06:30:00Z",
                 "datasetId": "urn:ngsi-ld:Dataset:lab"}
            ]
        }),
    ]
}

#[test]
fn temporal_rows_per_observed_at() {
    let parsed =
        parse_temporal(&to_text(&temporal_entities()), &NgsiLdOptions::default()).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    // canal-2 has three distinct times, lock-5 one time with two datasets in one row.
    assert_eq!(parsed.batch.num_rows(), 4);
    let turbidity = parsed.batch.column_by_name("turbidity").expect("turbidity");
    assert_eq!(turbidity.null_count(), 2);
    let schema = parsed.batch.schema();
    assert_eq!(
        schema
            .field_with_name("turbidity")
            .expect("turbidity")
            .metadata()
            .get(UNIT_KEY)
            .map(String::as_str),
        Some("NTU")
    );
}

#[test]
fn temporal_round_trip() {
    let entities = temporal_entities();
    let parsed = parse_temporal(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    let back = to_temporal_entities(&parsed.batch).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn temporal_same_time_twice_keeps_both() {
    let entities = vec![json!({"id": "urn:x:1", "type": "Gauge", "level": [
        {"type": "Property", "value": 1.5, "observedAt": "2024-02-10T06:00:00Z"},
        {"type": "Property", "value": 1.75, "observedAt": "2024-02-10T06:00:00Z"}
    ]})];
    let parsed = parse_temporal(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 2);
    let back = to_temporal_entities(&parsed.batch).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn temporal_instance_without_time_is_quarantined() {
    let entities = vec![json!({"id": "urn:x:1", "type": "Gauge", "level": [
        {"type": "Property", "value": 1.5, "observedAt": "2024-02-10T06:00:00Z"},
        {"type": "Property", "value": 1.25}
    ]})];
    let parsed = parse_temporal(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 1);
    assert_eq!(parsed.quarantined.len(), 1);
    assert_eq!(parsed.quarantined[0].pointer, "/0/level/1");
}

#[test]
fn wrong_writer_is_rejected() {
    let parsed =
        parse_temporal(&to_text(&temporal_entities()), &NgsiLdOptions::default()).expect("parse");
    let error = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized)
        .expect_err("temporal batch");
    assert!(error.to_string().contains("ngsi-ld-temporal"), "{error}");
}

#[test]
fn datetime_literal_becomes_timestamp() {
    let entities = vec![json!({"id": "urn:x:1", "type": "Permit",
        "validUntil": {"type": "Property",
                       "value": {"@type": "DateTime", "@value": "2025-01-31T23:00:00Z"}}})];
    let parsed = ngsi_ld::parse(&to_text(&entities), &NgsiLdOptions::default()).expect("parse");
    let field = parsed
        .batch
        .schema()
        .field_with_name("validUntil")
        .cloned()
        .expect("field");
    assert!(matches!(field.data_type(), DataType::Timestamp(..)));
    let back = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, &entities);
}
