//! Shared JSON helpers: splitting an input document into items so that one malformed item
//! does not stop the others, RFC 3339 timestamps, and reading Arrow cells back as JSON.

use arrow::array::{
    Array, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, TimeUnit};
use chrono::{DateTime, SecondsFormat};
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use super::{ENCODING_KEY, Encoding, QuarantinedItem};

/// One item of an input document: its text and where it sits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawItem<'a> {
    /// 0-based position among the items of the document.
    pub index: usize,
    /// 1-based line, for JSON Lines input.
    pub line: Option<u64>,
    /// The item's JSON text.
    pub text: &'a str,
}

/// The items of an input document plus the members of a collection envelope.
#[derive(Debug, Default)]
pub(crate) struct SplitInput<'a> {
    pub items: Vec<RawItem<'a>>,
    /// JSON Pointer prefix of the items, such as `/value` for a collection response.
    pub pointer_prefix: String,
    /// Members of a `{"value": [...], ...}` envelope other than `value`, parsed.
    pub envelope: Map<String, Value>,
    /// Envelope members or array tails that could not be split into items.
    pub quarantined: Vec<QuarantinedItem>,
}

/// Splits `text` into items. Accepted shapes: a JSON array of items, JSON Lines (one item
/// per non-empty line), a single object, and with `envelope` set a collection response
/// `{"value": [...], ...}`.
///
/// The split tracks only brackets and strings, so an item that is not valid JSON still has
/// clear bounds and is quarantined alone when it is parsed.
pub(crate) fn split_input(text: &str, envelope: bool) -> Result<SplitInput<'_>> {
    let start = skip_whitespace(text.as_bytes(), 0);
    match text.as_bytes().get(start) {
        None => Err(Error::InvalidInput(
            "input is empty: expected a JSON array, a JSON object or JSON Lines".into(),
        )),
        Some(b'[') => {
            let mut split = SplitInput::default();
            split_array(text, start, &mut split);
            Ok(split)
        }
        Some(b'{') => Ok(split_object_input(text, start, envelope)),
        Some(other) => Err(Error::InvalidInput(format!(
            "input starts with {:?}: expected '[' (an array of items), '{{' (an object) or \
             JSON Lines",
            char::from(*other)
        ))),
    }
}

fn split_object_input(text: &str, start: usize, envelope: bool) -> SplitInput<'_> {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
        if envelope && object.get("value").is_some_and(Value::is_array) {
            return split_envelope(text, start);
        }
        return SplitInput {
            items: vec![RawItem {
                index: 0,
                line: None,
                text: text.trim(),
            }],
            ..SplitInput::default()
        };
    }
    // Not one valid object: JSON Lines, an envelope with a malformed item, or one malformed
    // object. An envelope is recognised by a top-level `"value"` member holding an array.
    if envelope {
        let split = split_envelope(text, start);
        if !split.items.is_empty() || !split.envelope.is_empty() {
            return split;
        }
    }
    let mut split = SplitInput::default();
    let mut index = 0;
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        split.items.push(RawItem {
            index,
            line: Some(number as u64 + 1),
            text: line.trim(),
        });
        index += 1;
    }
    split
}

/// Splits the members of a top-level object; the array under `value` becomes the items.
fn split_envelope(text: &str, start: usize) -> SplitInput<'_> {
    let bytes = text.as_bytes();
    let mut split = SplitInput {
        pointer_prefix: "/value".into(),
        ..SplitInput::default()
    };
    let mut position = start + 1;
    let mut found_value = false;
    loop {
        position = skip_whitespace(bytes, position);
        match bytes.get(position) {
            Some(b'"') => {}
            _ => break,
        }
        let Some(key_end) = value_end(bytes, position) else {
            break;
        };
        let Ok(key) = serde_json::from_str::<String>(&text[position..key_end]) else {
            break;
        };
        position = skip_whitespace(bytes, key_end);
        if bytes.get(position) != Some(&b':') {
            break;
        }
        position = skip_whitespace(bytes, position + 1);
        if key == "value" && bytes.get(position) == Some(&b'[') {
            found_value = true;
            position = split_array(text, position, &mut split);
        } else {
            let Some(end) = value_end(bytes, position) else {
                break;
            };
            match serde_json::from_str::<Value>(&text[position..end]) {
                Ok(value) => {
                    split.envelope.insert(key, value);
                }
                Err(error) => split.quarantined.push(QuarantinedItem {
                    index: None,
                    line: None,
                    pointer: format!("/{}", escape_pointer(&key)),
                    reason: format!("envelope member {key:?} is not valid JSON: {error}"),
                    raw: text[position..end].to_string(),
                }),
            }
            position = end;
        }
        position = skip_whitespace(bytes, position);
        if bytes.get(position) == Some(&b',') {
            position += 1;
        } else {
            break;
        }
    }
    if !found_value {
        return SplitInput::default();
    }
    split
}

/// Splits the array that starts at `start` into items and returns the position after it.
/// An unterminated tail is quarantined as one piece.
fn split_array<'a>(text: &'a str, start: usize, split: &mut SplitInput<'a>) -> usize {
    let bytes = text.as_bytes();
    let mut position = skip_whitespace(bytes, start + 1);
    if bytes.get(position) == Some(&b']') {
        return position + 1;
    }
    loop {
        let index = split.items.len();
        let Some(end) = value_end(bytes, position) else {
            split.quarantined.push(QuarantinedItem {
                index: Some(index),
                line: None,
                pointer: format!("{}/{index}", split.pointer_prefix),
                reason: "the array is not terminated: the item and everything after it are \
                         incomplete JSON"
                    .into(),
                raw: text[position..].trim().to_string(),
            });
            return bytes.len();
        };
        split.items.push(RawItem {
            index,
            line: None,
            text: text[position..end].trim(),
        });
        position = skip_whitespace(bytes, end);
        match bytes.get(position) {
            Some(b',') => position = skip_whitespace(bytes, position + 1),
            Some(b']') => return position + 1,
            // A missing closing bracket loses no item, so nothing is quarantined for it.
            None => return position,
            _ => {
                split.quarantined.push(QuarantinedItem {
                    index: Some(index + 1),
                    line: None,
                    pointer: format!("{}/{}", split.pointer_prefix, index + 1),
                    reason: "expected ',' or ']' after an array item: the rest of the array is \
                             not valid JSON"
                        .into(),
                    raw: text[position.min(bytes.len())..].trim().to_string(),
                });
                return bytes.len();
            }
        }
    }
}

/// Returns the end (exclusive) of the JSON value that starts at `start`, tracking brackets
/// and strings only. Returns `None` when the value is not closed before the end of input.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut position = start;
    let mut in_string = false;
    while let Some(&byte) = bytes.get(position) {
        if in_string {
            match byte {
                b'\\' => position += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(position + 1);
                    }
                }
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(position);
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(position + 1);
                    }
                }
                b',' if depth == 0 => return Some(position),
                _ => {}
            }
        }
        position += 1;
    }
    // A scalar at the end of input (no closing bracket) ends there.
    (depth == 0 && !in_string && position > start).then_some(position)
}

fn skip_whitespace(bytes: &[u8], mut position: usize) -> usize {
    while bytes.get(position).is_some_and(u8::is_ascii_whitespace) {
        position += 1;
    }
    position
}

/// Escapes a member name for use as a JSON Pointer segment (RFC 6901).
pub(crate) fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Parses an RFC 3339 date-time with an offset into milliseconds since the Unix epoch, UTC.
/// Digits below the millisecond are truncated.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp_millis())
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC with a `Z` suffix, with
/// milliseconds only when they are not zero.
pub(crate) fn format_timestamp(millis: i64) -> Option<String> {
    let time = DateTime::from_timestamp_millis(millis)?;
    let format = if millis.rem_euclid(1000) == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Millis
    };
    Some(time.to_rfc3339_opts(format, true))
}

/// Returns the encoding recorded in a field's metadata.
pub(crate) fn field_encoding(field: &Field) -> Encoding {
    match field.metadata().get(ENCODING_KEY).map(String::as_str) {
        Some("json") => Encoding::Json,
        Some("ngsi-ld-datetime") => Encoding::NgsiLdDateTime,
        _ => Encoding::Plain,
    }
}

/// Reads the cell at `row` of `array` back as JSON; `None` for a null cell.
pub(crate) fn cell_value(array: &dyn Array, field: &Field, row: usize) -> Result<Option<Value>> {
    if array.is_null(row) {
        return Ok(None);
    }
    let encoding = field_encoding(field);
    let value = match array.data_type() {
        DataType::Boolean => Value::Bool(downcast::<BooleanArray>(array, field)?.value(row)),
        DataType::Int64 => Value::from(downcast::<Int64Array>(array, field)?.value(row)),
        DataType::Float64 => {
            let number = downcast::<Float64Array>(array, field)?.value(row);
            serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
        }
        DataType::Utf8 => {
            let text = downcast::<StringArray>(array, field)?.value(row);
            if encoding == Encoding::Json {
                serde_json::from_str(text).map_err(|error| {
                    Error::InvalidInput(format!(
                        "column {:?} row {row} is marked as JSON text but does not parse: \
                         {error}",
                        field.name()
                    ))
                })?
            } else {
                Value::String(text.to_string())
            }
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            let millis = downcast::<TimestampMillisecondArray>(array, field)?.value(row);
            let text = format_timestamp(millis).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "column {:?} row {row} contains {millis} ms, outside the range of dates",
                    field.name()
                ))
            })?;
            if encoding == Encoding::NgsiLdDateTime {
                let mut object = Map::new();
                object.insert("@type".into(), Value::from("DateTime"));
                object.insert("@value".into(), Value::String(text));
                Value::Object(object)
            } else {
                Value::String(text)
            }
        }
        other => {
            return Err(Error::InvalidInput(format!(
                "column {:?} has type {other}, which has no JSON form here: cast it to \
                 Boolean, Int64, Float64, Utf8 or Timestamp(Millisecond) first",
                field.name()
            )));
        }
    };
    Ok(Some(value))
}

fn downcast<'a, T: 'static>(array: &'a dyn Array, field: &Field) -> Result<&'a T> {
    array.as_any().downcast_ref::<T>().ok_or_else(|| {
        Error::Internal(format!(
            "column {:?} has an array that does not match its type {}",
            field.name(),
            field.data_type()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(split: &SplitInput<'_>) -> Vec<String> {
        split
            .items
            .iter()
            .map(|item| item.text.to_string())
            .collect()
    }

    #[test]
    fn array_items_keep_their_bounds() {
        let split = split_input(r#"[{"a": "x,]"}, {"b": [1, 2]}, 3]"#, true).expect("split");
        assert_eq!(texts(&split), [r#"{"a": "x,]"}"#, r#"{"b": [1, 2]}"#, "3"]);
        assert!(split.quarantined.is_empty());
    }

    #[test]
    fn malformed_item_is_split_alone() {
        let split = split_input(r#"[{"a": 1}, {"b": 2,}, {"c": 3}]"#, true).expect("split");
        assert_eq!(split.items.len(), 3);
        assert_eq!(split.items[1].text, r#"{"b": 2,}"#);
    }

    #[test]
    fn unterminated_array_quarantines_tail() {
        let split = split_input(r#"[{"a": 1}, {"b": "#, true).expect("split");
        assert_eq!(split.items.len(), 1);
        assert_eq!(split.quarantined.len(), 1);
        assert_eq!(split.quarantined[0].index, Some(1));
    }

    #[test]
    fn envelope_members_are_parsed() {
        let text = r#"{"@iot.count": 2, "value": [{"x": 1}, {"x": 2}], "@iot.nextLink": "n"}"#;
        let split = split_input(text, true).expect("split");
        assert_eq!(split.items.len(), 2);
        assert_eq!(split.pointer_prefix, "/value");
        assert_eq!(split.envelope.get("@iot.nextLink"), Some(&Value::from("n")));
        assert_eq!(split.envelope.get("@iot.count"), Some(&Value::from(2)));
    }

    #[test]
    fn envelope_with_malformed_item_still_splits() {
        let split = split_input(r#"{"value": [{"x": 1}, {"x": }]}"#, true).expect("split");
        assert_eq!(split.items.len(), 2);
    }

    #[test]
    fn json_lines_record_line_numbers() {
        let split = split_input("{\"a\": 1}\n\n{\"b\": 2\n{\"c\": 3}\n", true).expect("split");
        let lines: Vec<Option<u64>> = split.items.iter().map(|item| item.line).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(4)]);
    }

    #[test]
    fn leading_scalar_is_rejected() {
        let error = split_input("42", true).expect_err("scalar");
        assert!(error.to_string().contains("starts with '4'"));
    }

    #[test]
    fn timestamps_convert_offsets_to_utc() {
        assert_eq!(
            parse_timestamp("2024-03-05T12:00:00+02:00"),
            parse_timestamp("2024-03-05T10:00:00Z")
        );
        assert_eq!(parse_timestamp("2024-03-05T10:00:00"), None);
        let millis = parse_timestamp("2024-03-05T10:00:00.250Z").expect("parse");
        assert_eq!(
            format_timestamp(millis).as_deref(),
            Some("2024-03-05T10:00:00.250Z")
        );
        assert_eq!(
            format_timestamp(millis - 250).as_deref(),
            Some("2024-03-05T10:00:00Z")
        );
    }
}
