//! Conversion of city-platform JSON formats to Arrow record batches and back: NGSI-LD
//! entities ([`ngsi_ld`]), NGSI-v2 entities ([`ngsi_v2`]) and OGC SensorThings observations
//! ([`sensorthings`]).
//!
//! Every parser returns a [`Parsed`]: one record batch, the items it could not convert in
//! [`Parsed::quarantined`] (with the item's index, a JSON Pointer and the reason) and
//! schema-level findings in [`Parsed::issues`]. An item that is not valid JSON, an entity
//! without `id`, an NGSI-LD attribute of unknown `type` or an observation without `result`
//! is quarantined and the other items still convert. Nothing is dropped without a record.
//!
//! # Schema
//!
//! The schema is the union over all items: an attribute that one entity lacks is null in
//! that entity's row. A column's Arrow type is inferred from all of its values:
//!
//! | values | Arrow type |
//! |---|---|
//! | all booleans | `Boolean` |
//! | all integers | `Int64` |
//! | numbers, some with a fraction | `Float64` |
//! | strings | `Utf8` |
//! | date-times in a time member (`observedAt`, `resultTime`, a v2 `DateTime`) | `Timestamp(Millisecond, "UTC")` |
//! | NGSI-LD `{"@type": "DateTime", "@value": ...}` | `Timestamp(Millisecond, "UTC")` |
//! | objects or arrays (GeoJSON, structured values) | `Utf8` holding JSON text |
//! | conflicting types across items, such as a number in one and a string in another | `Utf8` holding JSON text, plus a [`FormatIssue`] |
//!
//! Conflicting types keep every value as JSON text instead of failing the batch, because one
//! entity with a wrong type should not stop a city's whole feed and the value must not be
//! lost: a cleaning stage can cast the column and flag the odd cells. Only date-times with an
//! offset become timestamps, and sub-millisecond digits are truncated. A time member with a
//! value that has no offset stays text, with an issue.
//!
//! # Field metadata
//!
//! Every column records where it came from, so that [`ngsi_ld::to_entities`] and the other
//! writers rebuild items from the metadata alone, whatever the column names:
//!
//! | key | on | value |
//! |---|---|---|
//! | [`FORMAT_KEY`] | schema | `ngsi-ld`, `ngsi-ld-temporal`, `ngsi-v2` or `sensorthings` |
//! | [`CONTEXT_KEY`] | schema | the NGSI-LD `@context` of the entities, as JSON text |
//! | [`ATTRIBUTE_KEY`] | field | attribute name, absent for item-level members |
//! | [`DATASET_ID_KEY`] | field | NGSI-LD `datasetId` of the attribute instance |
//! | [`MEMBER_KEY`] | field | member path inside the attribute or item, such as `observedAt` |
//! | [`ATTRIBUTE_TYPE_KEY`] | field | NGSI-LD `Property`, `Relationship`, ...; NGSI-v2 type |
//! | [`ENCODING_KEY`] | field | `json` for JSON text, `ngsi-ld-datetime` for DateTime literals |
//! | `governance.constant.<member>` | value field | a member that is equal in every present instance, as JSON text |
//! | [`UNIT_KEY`](governance_core::semantic::UNIT_KEY) | value field | a unit shared by every instance |
//! | [`STANDARD_NAME_KEY`](governance_core::semantic::STANDARD_NAME_KEY) | value field | the attribute's IRI |
//! | [`SEMANTIC_TYPE_KEY`](governance_core::semantic::SEMANTIC_TYPE_KEY) | field | `observed_at`, `geojson`, `relationship`, `phenomenon_time`, `result_time` |
//!
//! A unit (`unitCode`, v2 `unitCode` metadata, SensorThings `unitOfMeasurement.symbol`) that
//! is the same for every instance of an attribute goes to the field metadata only. Units that
//! differ between entities stay a column, so nothing is lost either way.
//!
//! # Input shapes
//!
//! Each parser accepts a JSON array of items, JSON Lines (one item per line) or a single
//! object, and the SensorThings parser also a collection response `{"value": [...],
//! "@iot.nextLink": ...}`. Items are split before they are parsed, so one malformed item in
//! an array does not hide the items after it.

mod columns;
pub mod context;
mod groups;
mod json;
pub mod ngsi_ld;
pub mod ngsi_v2;
pub mod sensorthings;

use arrow::array::RecordBatch;
use governance_core::QuarantinedRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::json::{RawItem, escape_pointer};

/// Schema metadata key of the format a batch was converted from.
pub const FORMAT_KEY: &str = "governance.format";
/// Schema metadata key of the NGSI-LD `@context` shared by the batch's entities.
pub const CONTEXT_KEY: &str = "governance.ngsi_ld.context";
/// Field metadata key of the source attribute name.
pub const ATTRIBUTE_KEY: &str = "governance.attribute";
/// Field metadata key of the source attribute type (NGSI-LD `Property`, NGSI-v2 `Number`).
pub const ATTRIBUTE_TYPE_KEY: &str = "governance.attribute_type";
/// Field metadata key of the NGSI-LD `datasetId` of the attribute instance.
pub const DATASET_ID_KEY: &str = "governance.dataset_id";
/// Field metadata key of the member path inside the attribute or item, segments joined
/// by `/`.
pub const MEMBER_KEY: &str = "governance.member";
/// Field metadata key of how a column's text is read back: `json` or `ngsi-ld-datetime`.
pub const ENCODING_KEY: &str = "governance.encoding";
/// Prefix of field metadata keys that store a member folded out of its column.
pub const CONSTANT_KEY_PREFIX: &str = "governance.constant.";

/// The JSON form of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Plain,
    Json,
    NgsiLdDateTime,
}

/// The result of converting one input document.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The converted items, one row per entity, instance time or observation.
    pub batch: RecordBatch,
    /// Items that could not be converted, with the reason.
    pub quarantined: Vec<QuarantinedItem>,
    /// Findings about the batch as a whole, such as a column of conflicting types.
    pub issues: Vec<FormatIssue>,
    /// The `@iot.nextLink` of a SensorThings collection response: the next page to fetch.
    pub next_link: Option<String>,
}

/// An input item that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedItem {
    /// 0-based index of the item in the input (in the `value` array of a collection
    /// response); `None` for a member of the collection envelope.
    pub index: Option<usize>,
    /// 1-based line of the item, for JSON Lines input.
    pub line: Option<u64>,
    /// JSON Pointer (RFC 6901) of the rejected part, such as `/3` or `/3/temperature/1`.
    pub pointer: String,
    /// The reason for the rejection.
    pub reason: String,
    /// The rejected item's JSON text.
    pub raw: String,
}

impl QuarantinedItem {
    /// Converts the item into a quarantine record of the chain, for a collector that hands
    /// it to `StageContext::quarantine`.
    pub fn into_row(self, stage: &str, source: Option<String>) -> QuarantinedRow {
        let position = match (self.index, self.line) {
            (_, Some(line)) => format!("line {line}"),
            (Some(index), None) => format!("item {index}"),
            (None, None) => "envelope".to_string(),
        };
        QuarantinedRow {
            stage: stage.to_string(),
            row_id: None,
            source,
            line: self.line,
            reason: format!("{position} at {:?}: {}", self.pointer, self.reason),
            raw: self.raw,
        }
    }
}

/// A finding about the converted batch that rejects no item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatIssue {
    /// Index of the item concerned, when one item is.
    pub item: Option<usize>,
    /// Output column concerned, when one column is.
    pub column: Option<String>,
    /// The finding and its meaning for the data.
    pub message: String,
}

/// Parses one split item, quarantining it when it is not valid JSON.
pub(crate) fn parse_item(
    item: &RawItem<'_>,
    prefix: &str,
    quarantined: &mut Vec<QuarantinedItem>,
) -> Option<Value> {
    match serde_json::from_str(item.text) {
        Ok(value) => Some(value),
        Err(error) => {
            quarantined.push(quarantine(
                item,
                prefix,
                &[],
                format!("item is not valid JSON: {error}"),
            ));
            None
        }
    }
}

/// Builds a quarantine record for `item`, pointing at `path` inside it.
pub(crate) fn quarantine(
    item: &RawItem<'_>,
    prefix: &str,
    path: &[&str],
    reason: String,
) -> QuarantinedItem {
    let mut pointer = format!("{prefix}/{}", item.index);
    for segment in path {
        pointer.push('/');
        pointer.push_str(&escape_pointer(segment));
    }
    QuarantinedItem {
        index: Some(item.index),
        line: item.line,
        pointer,
        reason,
        raw: item.text.to_string(),
    }
}

/// Returns a short name of a JSON value's type for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
