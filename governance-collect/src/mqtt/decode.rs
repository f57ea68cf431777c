//! Conversion of a batch of MQTT payloads to one record batch through the format parsers,
//! with every rejected message and its reason.

use arrow::array::RecordBatch;
use governance_core::Result;
use serde_json::Value;

use super::config::MqttPayload;
use crate::formats::{ngsi_ld, sensorthings};
use crate::json_rows::JsonRows;

/// The rows of a batch of messages and the messages rejected.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The rows; `None` when no message became a row.
    pub batch: Option<RecordBatch>,
    /// Index of each rejected message with the reason.
    pub rejected: Vec<(usize, String)>,
}

/// Decodes `payloads`, one item per message. `parsed` contains each payload's JSON, or
/// the parse error for one that is not JSON.
pub(crate) fn decode(
    format: MqttPayload,
    json: &mut JsonRows,
    parsed: &[std::result::Result<Value, String>],
) -> Result<Decoded> {
    let mut rejected = Vec::new();
    let mut valid: Vec<(usize, &Value)> = Vec::new();
    for (index, value) in parsed.iter().enumerate() {
        match value {
            Ok(value) => valid.push((index, value)),
            Err(reason) => {
                rejected.push((index, format!("the payload is not valid JSON: {reason}")))
            }
        }
    }
    if valid.is_empty() {
        return Ok(Decoded {
            batch: None,
            rejected,
        });
    }
    let batch = match format {
        MqttPayload::Json => {
            let values: Vec<&Value> = valid.iter().map(|(_, value)| *value).collect();
            let converted = json.convert(&values)?;
            rejected.extend(
                converted
                    .rejected
                    .into_iter()
                    .map(|(item, reason)| (valid[item].0, reason)),
            );
            converted.batch
        }
        MqttPayload::NgsiLd | MqttPayload::SensorThings => {
            // One compact JSON text per line, so the parser's line numbers name the message.
            let mut text = String::new();
            for (_, value) in &valid {
                text.push_str(&value.to_string());
                text.push('\n');
            }
            let parsed = if format == MqttPayload::NgsiLd {
                ngsi_ld::parse(&text, &ngsi_ld::NgsiLdOptions::default())?
            } else {
                sensorthings::parse_observations(&text)?
            };
            for issue in &parsed.issues {
                tracing::warn!(column = ?issue.column, item = ?issue.item, message = %issue.message, "format finding in an MQTT batch");
            }
            for item in parsed.quarantined {
                let message = item
                    .line
                    .and_then(|line| usize::try_from(line).ok())
                    .and_then(|line| line.checked_sub(1))
                    .or(item.index)
                    .and_then(|position| valid.get(position))
                    .map(|(index, _)| *index);
                let Some(message) = message else {
                    return Err(governance_core::Error::Internal(format!(
                        "the format parser rejected an item it could not place ({:?} at {:?}: {})",
                        item.line, item.pointer, item.reason
                    )));
                };
                rejected.push((message, format!("at {:?}: {}", item.pointer, item.reason)));
            }
            Some(parsed.batch)
        }
    };
    Ok(Decoded { batch, rejected })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sensorthings_without_result_is_rejected() {
        let parsed = vec![
            Ok(json!({"@iot.id": 1, "phenomenonTime": "2024-05-01T10:00:00Z", "result": 4.5})),
            Ok(json!({"@iot.id": 2, "phenomenonTime": "2024-05-01T10:05:00Z"})),
            Err("expected value at line 1 column 1".to_string()),
        ];
        let mut json_rows = JsonRows::default();
        let decoded = decode(MqttPayload::SensorThings, &mut json_rows, &parsed).expect("decode");
        assert_eq!(decoded.batch.expect("rows").num_rows(), 1);
        let indices: Vec<usize> = decoded.rejected.iter().map(|(index, _)| *index).collect();
        assert_eq!(indices, vec![2, 1]);
        assert!(
            decoded.rejected[1].1.contains("result"),
            "{}",
            decoded.rejected[1].1
        );
    }

    #[test]
    fn ngsi_ld_unknown_attribute_type_is_rejected() {
        let parsed = vec![
            Ok(json!({"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor",
                      "pm25": {"type": "Property", "value": 10.0}})),
            Ok(json!({"id": "urn:ngsi-ld:Sensor:2", "type": "Sensor",
                      "pm25": {"type": "Propperty", "value": 11.0}})),
        ];
        let mut json_rows = JsonRows::default();
        let decoded = decode(MqttPayload::NgsiLd, &mut json_rows, &parsed).expect("decode");
        assert_eq!(decoded.batch.expect("rows").num_rows(), 1);
        assert_eq!(decoded.rejected.len(), 1);
        assert_eq!(decoded.rejected[0].0, 1);
        assert!(
            decoded.rejected[0].1.contains("unknown type"),
            "{}",
            decoded.rejected[0].1
        );
    }
}
