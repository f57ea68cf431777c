use arrow::datatypes::{DataType, TimeUnit};
use governance_collect::formats::ngsi_v2::{self, Representation};
use governance_collect::formats::{ATTRIBUTE_TYPE_KEY, ngsi_ld};
use governance_core::semantic::UNIT_KEY;
use serde_json::{Value, json};

use super::assert_same_items;

/// Returns three street-light controllers in the shape an Orion broker returns.
fn normalised_entities() -> Vec<Value> {
    vec![
        json!({
            "id": "Streetlight:elm-road-12", "type": "Streetlight",
            "powerDraw": {"type": "Number", "value": 38.5, "metadata": {
                "unitCode": {"type": "Text", "value": "WTT"},
                "dateObserved": {"type": "DateTime", "value": "2024-09-14T19:40:00.000Z"}
            }},
            "status": {"type": "Text", "value": "on", "metadata": {}},
            "dimmed": {"type": "Boolean", "value": false, "metadata": {}},
            "location": {"type": "geo:json",
                         "value": {"type": "Point", "coordinates": [-3.7012, 40.4189]},
                         "metadata": {}},
            "lastService": {"type": "DateTime", "value": "2024-03-02T08:00:00.000Z",
                            "metadata": {}}
        }),
        json!({
            "id": "Streetlight:elm-road-14", "type": "Streetlight",
            "powerDraw": {"type": "Number", "value": 0, "metadata": {
                "unitCode": {"type": "Text", "value": "WTT"},
                "dateObserved": {"type": "DateTime", "value": "2024-09-14T19:41:00.000Z"}
            }},
            "status": {"type": "Text", "value": "off", "metadata": {}},
            "lastService": {"type": "DateTime", "value": null, "metadata": {}}
        }),
        json!({
            "id": "Streetlight:mill-lane-2", "type": "Streetlight",
            "powerDraw": {"type": "Number", "value": 41.25, "metadata": {
                "unitCode": {"type": "Text", "value": "KWT"}
            }},
            "status": {"type": "Text", "value": "on", "metadata": {}}
        }),
    ]
}

fn to_text(items: &[Value]) -> String {
    Value::Array(items.to_vec()).to_string()
}

#[test]
fn normalised_round_trip() {
    let entities = normalised_entities();
    let parsed = ngsi_v2::parse(&to_text(&entities), Representation::Normalized).expect("parse");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    assert_eq!(parsed.batch.num_rows(), 3);
    let back = ngsi_v2::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn types_and_times_map_to_schema() {
    let parsed = ngsi_v2::parse(&to_text(&normalised_entities()), Representation::Normalized)
        .expect("parse");
    let schema = parsed.batch.schema();
    let status = schema.field_with_name("status").expect("status");
    assert_eq!(
        status
            .metadata()
            .get(ATTRIBUTE_TYPE_KEY)
            .map(String::as_str),
        Some("Text")
    );
    assert!(schema.field_with_name("status.type").is_err());
    let utc = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    assert_eq!(
        schema
            .field_with_name("lastService")
            .expect("lastService")
            .data_type(),
        &utc
    );
    assert_eq!(
        schema
            .field_with_name("powerDraw.dateObserved")
            .expect("dateObserved")
            .data_type(),
        &utc
    );
    // A null value keeps its type column, so the attribute is not lost on the way back.
    assert!(schema.field_with_name("lastService.type").is_ok());
}

#[test]
fn differing_units_stay_a_column() {
    let parsed = ngsi_v2::parse(&to_text(&normalised_entities()), Representation::Normalized)
        .expect("parse");
    let schema = parsed.batch.schema();
    assert!(schema.field_with_name("powerDraw.unitCode").is_ok());
    let shared = &normalised_entities()[..2];
    let parsed = ngsi_v2::parse(&to_text(shared), Representation::Normalized).expect("parse");
    let schema = parsed.batch.schema();
    assert!(schema.field_with_name("powerDraw.unitCode").is_err());
    assert_eq!(
        schema
            .field_with_name("powerDraw")
            .expect("powerDraw")
            .metadata()
            .get(UNIT_KEY)
            .map(String::as_str),
        Some("WTT")
    );
    let back = ngsi_v2::to_entities(&parsed.batch, Representation::Normalized).expect("write");
    assert_same_items(&back, shared);
}

#[test]
fn key_values_round_trip() {
    let entities = vec![
        json!({"id": "Bike:dock-3:17", "type": "Bike", "charge": 0.82, "locked": true,
               "station": "Dock:3"}),
        json!({"id": "Bike:dock-3:18", "type": "Bike", "charge": 1, "locked": false,
               "route": [[2.351, 48.857], [2.352, 48.858]]}),
    ];
    let parsed = ngsi_v2::parse(&to_text(&entities), Representation::KeyValues).expect("parse");
    assert!(parsed.quarantined.is_empty());
    let back = ngsi_v2::to_entities(&parsed.batch, Representation::KeyValues).expect("write");
    assert_same_items(&back, &entities);
}

#[test]
fn malformed_items_are_quarantined() {
    let text = r#"[
        {"id": "Bin:1", "type": "Bin", "fill": {"type": "Number", "value": 0.25}},
        {"type": "Bin", "fill": {"type": "Number", "value": 0.5}},
        {"id": "Bin:3", "type": "Bin", "fill": 0.75},
        {"id": "Bin:4", "type": "Bin", "fill": {"type": "Number", "value": 0.5, "unit": "%"}},
        {"id": "Bin:5", "type": "Bin", "fill": {"type": "Number", "value": 0.1}
    ]"#;
    let parsed = ngsi_v2::parse(text, Representation::Normalized).expect("parse");
    assert_eq!(parsed.batch.num_rows(), 1);
    let reasons: Vec<String> = parsed
        .quarantined
        .iter()
        .map(|item| format!("{:?}: {}", item.index, item.reason))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    assert!(reasons[0].starts_with("Some(1)"), "{}", reasons[0]);
    assert!(reasons[0].contains("no `id`"), "{}", reasons[0]);
    assert!(reasons[1].contains("key-value form"), "{}", reasons[1]);
    assert!(reasons[2].contains("\"unit\""), "{}", reasons[2]);
    assert!(reasons[3].starts_with("Some(4)"), "{}", reasons[3]);
}

#[test]
fn added_column_becomes_attribute() {
    use arrow::array::{Float64Array, RecordBatch};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    let entities = vec![json!({"id": "Tank:1", "type": "Tank",
        "level": {"type": "Number", "value": 2.5, "metadata": {}}})];
    let parsed = ngsi_v2::parse(&to_text(&entities), Representation::Normalized).expect("parse");
    let mut fields: Vec<Field> = parsed
        .batch
        .schema()
        .fields()
        .iter()
        .map(|field| field.as_ref().clone())
        .collect();
    fields.push(Field::new("levelScore", DataType::Float64, true));
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        parsed.batch.schema().metadata().clone(),
    ));
    let mut columns = parsed.batch.columns().to_vec();
    columns.push(Arc::new(Float64Array::from(vec![0.9])));
    let batch = RecordBatch::try_new(schema, columns).expect("batch");
    let back = ngsi_v2::to_entities(&batch, Representation::Normalized).expect("write");
    assert_eq!(
        back[0]["levelScore"],
        json!({"type": "Number", "value": 0.9, "metadata": {}})
    );
}

#[test]
fn ngsi_ld_writer_rejects_v2_batch() {
    let parsed = ngsi_v2::parse(&to_text(&normalised_entities()), Representation::Normalized)
        .expect("parse");
    let error = ngsi_ld::to_entities(&parsed.batch, ngsi_ld::Representation::Normalized)
        .expect_err("v2 batch");
    assert!(error.to_string().contains("ngsi-v2"), "{error}");
}
