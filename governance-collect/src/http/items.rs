//! The items of a response body, their observation times and their keys.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::config::{HttpPayload, HttpPollConfig};

/// One item of a response with its compact JSON text, whose length is the item's size.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub value: Value,
    pub text: String,
}

/// The content of one response body.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub items: Vec<Item>,
    pub next_link: Option<String>,
    /// Reason the body as a whole could not be read, such as invalid JSON.
    pub body_error: Option<String>,
}

/// Splits a response body into items and the next-page link.
pub(crate) fn read_page(body: &[u8], config: &HttpPollConfig) -> Page {
    let document: Value = match serde_json::from_slice(body) {
        Ok(document) => document,
        Err(error) => {
            return Page {
                body_error: Some(format!("the response body is not valid JSON: {error}")),
                ..Page::default()
            };
        }
    };
    let next_link = config
        .next_link_pointer
        .as_deref()
        .and_then(|pointer| document.pointer(pointer))
        .and_then(Value::as_str)
        .map(str::to_string);
    let items = match &config.items_pointer {
        Some(pointer) => match document.pointer(pointer) {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                return Page {
                    next_link,
                    body_error: Some(format!(
                        "items_pointer {pointer:?} names a {} in the response, expected an array",
                        json_kind(other)
                    )),
                    ..Page::default()
                };
            }
            None => {
                return Page {
                    next_link,
                    body_error: Some(format!(
                        "the response has nothing at items_pointer {pointer:?}"
                    )),
                    ..Page::default()
                };
            }
        },
        None => match document {
            Value::Array(items) => items,
            Value::Object(mut object) => match object.remove("value") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    object.insert("value".into(), other);
                    vec![Value::Object(object)]
                }
                None => vec![Value::Object(object)],
            },
            other => {
                return Page {
                    body_error: Some(format!(
                        "the response body is a JSON {}, expected an array or an object",
                        json_kind(&other)
                    )),
                    ..Page::default()
                };
            }
        },
    };
    let items = items
        .into_iter()
        .map(|value| Item {
            text: value.to_string(),
            value,
        })
        .collect();
    Page {
        items,
        next_link,
        body_error: None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Returns the item's observation time, or the reason it has none.
pub(crate) fn item_time(
    value: &Value,
    payload: HttpPayload,
    pointer: Option<&str>,
) -> Result<DateTime<Utc>, String> {
    let pointer = pointer.or(payload.default_time_pointer());
    match pointer {
        Some(pointer) => {
            let text = value
                .pointer(pointer)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("the item has no observation time text at {pointer:?}"))?;
            parse_time(text).map_err(|error| format!("{error} at {pointer:?}"))
        }
        None => latest_observed_at(value),
    }
}

/// Returns the latest `observedAt` of an NGSI-LD entity, over the entity and its attributes.
fn latest_observed_at(value: &Value) -> Result<DateTime<Utc>, String> {
    let Some(entity) = value.as_object() else {
        return Err("the item is not a JSON object".into());
    };
    let mut latest: Option<DateTime<Utc>> = None;
    let top = entity.get("observedAt").into_iter();
    let attributes = entity
        .values()
        .filter_map(|attribute| attribute.get("observedAt"));
    for observed in top.chain(attributes) {
        let text = observed
            .as_str()
            .ok_or_else(|| format!("an observedAt is not text: {observed}"))?;
        let time = parse_time(text)?;
        latest = Some(latest.map_or(time, |latest| latest.max(time)));
    }
    latest.ok_or_else(|| "the entity has no observedAt on any attribute".into())
}

/// Parses an RFC 3339 date-time, or the end of an ISO 8601 interval `start/end`.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let end = text.rsplit('/').next().unwrap_or(text);
    DateTime::parse_from_rfc3339(end)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| format!("{text:?} is not an RFC 3339 date-time ({error})"))
}

/// Returns the key of an item, to recognise an item seen before. The key is a hash of the
/// JSON value written with object keys sorted, so the same item with its keys in another
/// order gets the same key, whatever serde_json's `preserve_order` feature is.
pub(crate) fn item_key(value: &Value) -> u64 {
    let mut canonical = String::new();
    write_canonical(value, &mut canonical);
    xxhash_rust::xxh3::xxh3_64(canonical.as_bytes())
}

/// Writes `value` as compact JSON with the keys of every object in sorted order.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|left, right| left.0.cmp(right.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn item_key_ignores_key_order() {
        let first: Value = serde_json::from_str(
            r#"{"sensor": "s1", "nested": {"b": 1, "a": [2, {"y": 0, "x": 1}]}}"#,
        )
        .expect("json");
        let reordered: Value = serde_json::from_str(
            r#"{"nested": {"a": [2, {"x": 1, "y": 0}], "b": 1}, "sensor": "s1"}"#,
        )
        .expect("json");
        assert_eq!(item_key(&first), item_key(&reordered));

        let other: Value = serde_json::from_str(
            r#"{"sensor": "s2", "nested": {"b": 1, "a": [2, {"y": 0, "x": 1}]}}"#,
        )
        .expect("json");
        assert_ne!(item_key(&first), item_key(&other));
        let reordered_array: Value = serde_json::from_str(
            r#"{"sensor": "s1", "nested": {"b": 1, "a": [{"y": 0, "x": 1}, 2]}}"#,
        )
        .expect("json");
        assert_ne!(
            item_key(&first),
            item_key(&reordered_array),
            "array order counts"
        );
    }

    #[test]
    fn sensorthings_page_has_items_and_next_link() {
        let body = json!({
            "value": [{"phenomenonTime": "2024-05-01T10:00:00Z", "result": 1.0}],
            "@iot.nextLink": "http://127.0.0.1:1/Observations?$skip=1"
        });
        let config = HttpPollConfig::default();
        let page = read_page(body.to_string().as_bytes(), &config);
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            page.next_link.as_deref(),
            Some("http://127.0.0.1:1/Observations?$skip=1")
        );
    }

    #[test]
    fn interval_time_counts_by_its_end() {
        let item = json!({"phenomenonTime": "2024-05-01T10:00:00Z/2024-05-01T11:00:00+01:00"});
        let time = item_time(&item, HttpPayload::SensorThings, None).expect("time");
        assert_eq!(time.to_rfc3339(), "2024-05-01T10:00:00+00:00");
    }

    #[test]
    fn ngsi_ld_time_is_latest_observed_at() {
        let item = json!({
            "id": "urn:ngsi-ld:Sensor:1", "type": "Sensor",
            "pm25": {"type": "Property", "value": 3, "observedAt": "2024-05-01T10:00:00Z"},
            "no2": {"type": "Property", "value": 4, "observedAt": "2024-05-01T10:05:00Z"}
        });
        let time = item_time(&item, HttpPayload::NgsiLd, None).expect("time");
        assert_eq!(time.to_rfc3339(), "2024-05-01T10:05:00+00:00");
    }

    #[test]
    fn missing_time_names_the_pointer() {
        let item = json!({"value": 3});
        let reason = item_time(&item, HttpPayload::Json, None).expect_err("no time");
        assert!(reason.contains("/observedAt"), "{reason}");
    }

    #[test]
    fn scalar_body_is_rejected() {
        let page = read_page(b"42", &HttpPollConfig::default());
        assert!(page.items.is_empty());
        assert!(
            page.body_error
                .as_deref()
                .is_some_and(|error| error.contains("number")),
            "{:?}",
            page.body_error
        );
    }
}
