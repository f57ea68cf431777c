use arrow::array::{Array, TimestampMillisecondArray};
use arrow::datatypes::DataType;
use governance_collect::formats::sensorthings::{
    parse_observations, parse_observations_of, to_datastreams, to_observations,
};
use governance_core::semantic::{STANDARD_NAME_KEY, UNIT_KEY};
use serde_json::{Value, json};

use super::assert_same_items;

/// Returns a river-level datastream with its Thing and ObservedProperty expanded and its
/// Sensor linked.
fn river_datastream() -> Value {
    json!({
        "@iot.id": 31,
        "name": "Weir 4 water level",
        "description": "Radar gauge above the east sluice",
        "observationType":
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        "unitOfMeasurement": {"name": "centimetre", "symbol": "cm",
                              "definition": "http://qudt.org/vocab/unit/CentiM"},
        "Thing": {"@iot.id": 8, "name": "Weir 4", "properties": {"operator": "water board"}},
        "ObservedProperty": {"@iot.id": 2, "name": "water level",
                             "definition": "http://example.org/hydro#waterLevel"},
        "Sensor@iot.navigationLink": "http://127.0.0.1:8080/v1.1/Datastreams(31)/Sensor"
    })
}

fn river_observations() -> Vec<Value> {
    vec![
        json!({"@iot.id": 9001, "phenomenonTime": "2024-04-18T05:00:00Z",
               "resultTime": "2024-04-18T05:00:04Z", "result": 142.5}),
        json!({"@iot.id": 9002,
               "phenomenonTime": "2024-04-18T05:10:00Z/2024-04-18T05:15:00Z",
               "resultTime": null, "result": 143,
               "resultQuality": {"flag": "estimated"},
               "parameters": {"echoCount": 3}}),
        json!({"@iot.id": 9003, "phenomenonTime": "2024-04-18T05:20:00Z",
               "result": 141.75,
               "validTime": "2024-04-18T05:20:00Z/2024-04-18T06:20:00Z",
               "@iot.selfLink": "http://127.0.0.1:8080/v1.1/Observations(9003)"}),
    ]
}

fn with_datastream(observations: &[Value], datastream: &Value) -> Vec<Value> {
    observations
        .iter()
        .map(|observation| {
            let mut observation = observation.clone();
            observation["Datastream"] = datastream.clone();
            observation
        })
        .collect()
}

#[test]
fn expanded_observations_round_trip() {
    let observations = with_datastream(&river_observations(), &river_datastream());
    let text = Value::Array(observations.clone()).to_string();
    let parsed = parse_observations(&text).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    assert_eq!(parsed.batch.num_rows(), 3);
    let back = to_observations(&parsed.batch).expect("write");
    // A null resultTime is written back as absent.
    let mut expected = observations;
    if let Some(object) = expected[1].as_object_mut() {
        object.remove("resultTime");
    }
    assert_same_items(&back, &expected);
}

#[test]
fn datastream_with_observations_round_trip() {
    let mut datastream = river_datastream();
    datastream["Observations"] = Value::Array(river_observations()[..1].to_vec());
    let mut second = json!({
        "@iot.id": "air-7", "name": "Kiosk PM10",
        "unitOfMeasurement": {"name": "microgram per cubic metre", "symbol": "ug/m3",
                              "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3"},
        "observationType":
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
    });
    second["Observations"] = json!([
        {"@iot.id": "o-1", "phenomenonTime": "2024-04-18T05:00:00+01:00", "result": 18},
        {"@iot.id": "o-2", "phenomenonTime": "2024-04-18T06:00:00+01:00", "result": 22}
    ]);
    let text = json!({"value": [datastream.clone(), second.clone()]}).to_string();
    let parsed = parse_observations(&text).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    assert_eq!(parsed.batch.num_rows(), 3);
    let back = to_datastreams(&parsed.batch).expect("write");
    assert_same_items(&back, &[datastream, second]);
}

#[test]
fn columns_carry_datastream_and_unit() {
    let observations = with_datastream(&river_observations(), &river_datastream());
    let parsed = parse_observations(&Value::Array(observations).to_string()).expect("parse");
    let schema = parsed.batch.schema();
    let result = schema.field_with_name("result").expect("result");
    assert_eq!(result.data_type(), &DataType::Float64);
    assert_eq!(
        result.metadata().get(UNIT_KEY).map(String::as_str),
        Some("cm")
    );
    assert_eq!(
        result.metadata().get(STANDARD_NAME_KEY).map(String::as_str),
        Some("http://example.org/hydro#waterLevel")
    );
    for name in [
        "datastream_id",
        "datastream_name",
        "unit_symbol",
        "thing_name",
        "sensor_link",
        "observed_property_definition",
    ] {
        assert!(
            schema.field_with_name(name).is_ok(),
            "missing column {name}"
        );
    }
    let ends = parsed
        .batch
        .column_by_name("phenomenon_time_end")
        .and_then(|column| column.as_any().downcast_ref::<TimestampMillisecondArray>())
        .expect("interval ends");
    assert!(ends.is_null(0), "an instant has no end");
    assert!(ends.is_valid(1));
}

#[test]
fn observations_of_given_datastream() {
    let text = json!({
        "value": river_observations(),
        "@iot.nextLink": "http://127.0.0.1:8080/v1.1/Datastreams(31)/Observations?$skip=3"
    })
    .to_string();
    let parsed = parse_observations_of(&text, &river_datastream()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 3);
    assert_eq!(
        parsed.next_link.as_deref(),
        Some("http://127.0.0.1:8080/v1.1/Datastreams(31)/Observations?$skip=3")
    );
    let names = parsed
        .batch
        .column_by_name("datastream_name")
        .expect("name");
    assert_eq!(names.null_count(), 0);
}

#[test]
fn bad_observations_are_quarantined() {
    let text = r#"{"value": [
        {"@iot.id": 1, "phenomenonTime": "2024-04-18T05:00:00Z", "result": 1.5},
        {"@iot.id": 2, "phenomenonTime": "2024-04-18T05:10:00Z"},
        {"@iot.id": 3, "phenomenonTime": "about five", "result": 1.75},
        {"@iot.id": 4, "phenomenonTime": "2024-04-18T05:30:00Z", "result": },
        {"@iot.id": 5, "phenomenonTime": "2024-04-18T05:40:00Z", "result": 2.0}
    ], "@iot.nextLink": "http://127.0.0.1:8080/v1.1/Observations?$skip=5"}"#;
    let parsed = parse_observations(text).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 2);
    let pointers: Vec<&str> = parsed
        .quarantined
        .iter()
        .map(|item| item.pointer.as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/value/1", "/value/2/phenomenonTime", "/value/3"]
    );
    assert!(parsed.quarantined[0].reason.contains("no `result`"));
    assert!(parsed.quarantined[2].reason.contains("not valid JSON"));
    assert!(
        parsed.next_link.is_some(),
        "the envelope survives a bad item"
    );
}

#[test]
fn nested_observation_pointer() {
    let mut datastream = river_datastream();
    datastream["Observations"] = json!([
        {"phenomenonTime": "2024-04-18T05:00:00Z", "result": 140},
        {"phenomenonTime": "2024-04-18T05:10:00Z"}
    ]);
    let parsed = parse_observations(&json!([datastream]).to_string()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 1);
    assert_eq!(parsed.quarantined[0].pointer, "/0/Observations/1");
}

#[test]
fn datastream_without_observations_is_reported() {
    let parsed = parse_observations(&json!([river_datastream()]).to_string()).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 0);
    assert_eq!(parsed.issues.len(), 1);
    assert!(parsed.issues[0].message.contains("$expand=Observations"));
}
