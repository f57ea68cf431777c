//! Tests of the format converters: NGSI-LD, NGSI-v2 and SensorThings to Arrow and back.

mod ngsi_ld;
mod ngsi_v2;
mod sensorthings;

use serde_json::{Map, Value};

/// Normalises JSON for round-trip comparison. Numbers become floats, because an integer read
/// back from a float column is the same value. Date-times become UTC with milliseconds.
/// Arrays of objects are sorted by `observedAt` and `datasetId`, because the order of
/// attribute instances carries no meaning.
pub(crate) fn normalise(value: &Value) -> Value {
    match value {
        Value::Number(number) => number
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::String(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(time) => Value::String(
                time.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            Err(_) => value.clone(),
        },
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalise).collect();
            if items.iter().all(Value::is_object) {
                items.sort_by_key(instance_order);
            }
            Value::Array(items)
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), normalise(value)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

fn instance_order(value: &Value) -> (String, String) {
    let text = |member: &str| value.get(member).map(Value::to_string).unwrap_or_default();
    (text("observedAt"), text("datasetId"))
}

/// Asserts that two lists of items are equal after [`normalise`], printing both on failure.
pub(crate) fn assert_same_items(actual: &[Value], expected: &[Value]) {
    let actual: Vec<Value> = actual.iter().map(normalise).collect();
    let expected: Vec<Value> = expected.iter().map(normalise).collect();
    assert_eq!(
        actual.len(),
        expected.len(),
        "item count differs\nactual: {actual:#?}\nexpected: {expected:#?}"
    );
    for (index, (actual, expected)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(
            actual, expected,
            "item {index} differs\nactual:\n{actual:#}\nexpected:\n{expected:#}"
        );
    }
}
