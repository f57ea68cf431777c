//! OGC SensorThings API (version 1.1) observations to Arrow and back, one row per
//! observation, each row carrying its datastream.
//!
//! The input is a list of Observations (with the `Datastream` expanded, or with the
//! datastream passed by the caller), a list of Datastreams with `Observations` expanded, or a
//! collection response `{"value": [...], "@iot.nextLink": ...}` of either. The next link is
//! returned in [`Parsed::next_link`].
//!
//! | SensorThings | Arrow column | type |
//! |---|---|---|
//! | Observation `@iot.id` | `observation_id` | inferred (`Int64` or `Utf8`) |
//! | `phenomenonTime` instant, or interval `start/end` | `phenomenon_time`, `phenomenon_time_end` (null for an instant) | `Timestamp(ms, UTC)` |
//! | `resultTime`, `validTime` | `result_time`, `valid_time`, `valid_time_end` | `Timestamp(ms, UTC)` |
//! | `result` | `result` | inferred; objects and arrays as JSON text. [`UNIT_KEY`] when all rows share a unit symbol |
//! | `resultQuality`, `parameters` | `result_quality`, `parameters` | inferred; objects as JSON text |
//! | Datastream `@iot.id`, `name`, `description`, `observationType` | `datastream_id`, `datastream_name`, `datastream_description`, `observation_type` | inferred |
//! | `unitOfMeasurement` `name`, `symbol`, `definition` | `unit_name`, `unit_symbol`, `unit_definition` | `Utf8` |
//! | expanded `Thing`, `Sensor`, `ObservedProperty`, `FeatureOfInterest` | `thing_id`, `thing_name`, `sensor_id`, ... `observed_property_definition` | inferred |
//! | a navigation link such as `Thing@iot.navigationLink` | `thing_link` | `Utf8` |
//! | any other member of an entity | `observation_extra`, `datastream_extra`, `thing_extra`, ... | JSON text of an object of those members |
//!
//! An observation without `result`, or without a valid `phenomenonTime`, is quarantined.
//! A `result` of JSON null is kept as a null cell.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::Schema;
use governance_core::semantic::{SEMANTIC_TYPE_KEY, STANDARD_NAME_KEY, UNIT_KEY};
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use super::columns::{ColumnKey, ColumnSet, Hint};
use super::groups::{check_format, plan, row_members, set_path};
use super::json::{RawItem, parse_timestamp, split_input};
use super::{FORMAT_KEY, FormatIssue, Parsed, QuarantinedItem, json_type, parse_item, quarantine};

/// A member of an entity that gets its own column: member name, column suffix, hint.
type Known = (&'static str, &'static str, Hint);

/// A related entity, expanded or linked: member name, column prefix, members with columns.
type Related = (&'static str, &'static str, &'static [Known]);

const NAME: Known = ("name", "name", Hint::Text);
const ID: Known = ("@iot.id", "id", Hint::Text);

const THING: Related = ("Thing", "thing", &[ID, NAME]);
const SENSOR: Related = ("Sensor", "sensor", &[ID, NAME]);
const OBSERVED_PROPERTY: Related = (
    "ObservedProperty",
    "observed_property",
    &[ID, NAME, ("definition", "definition", Hint::Text)],
);
const FEATURE: Related = ("FeatureOfInterest", "feature_of_interest", &[ID, NAME]);

/// Members of a Datastream with columns, and the related entities of a Datastream.
const DATASTREAM_MEMBERS: &[Known] = &[
    ("@iot.id", "datastream_id", Hint::Text),
    ("name", "datastream_name", Hint::Text),
    ("description", "datastream_description", Hint::Text),
    ("observationType", "observation_type", Hint::Text),
];
const DATASTREAM_RELATED: &[Related] = &[THING, SENSOR, OBSERVED_PROPERTY];
const UNIT_MEMBERS: &[(&str, &str)] = &[
    ("name", "unit_name"),
    ("symbol", "unit_symbol"),
    ("definition", "unit_definition"),
];

/// Observation members with columns; the two time intervals are handled apart.
const OBSERVATION_MEMBERS: &[Known] = &[
    ("@iot.id", "observation_id", Hint::Text),
    ("resultTime", "result_time", Hint::Time),
    ("resultQuality", "result_quality", Hint::Text),
    ("parameters", "parameters", Hint::Text),
];

/// Interval members: an instant or `start/end`, split into two columns.
const INTERVALS: &[(&str, &str)] = &[
    ("phenomenonTime", "phenomenon_time"),
    ("validTime", "valid_time"),
];

/// Converts SensorThings Observations or Datastreams to one row per observation.
pub fn parse_observations(text: &str) -> Result<Parsed> {
    parse_with(text, None)
}

/// Converts Observations of one datastream, such as the response of
/// `Datastreams(7)/Observations`, with `datastream` (the Datastream entity) on every row
/// whose observation does not expand its own.
pub fn parse_observations_of(text: &str, datastream: &Value) -> Result<Parsed> {
    if !datastream.is_object() {
        return Err(Error::InvalidInput(format!(
            "the datastream is {}, expected a Datastream object",
            json_type(datastream)
        )));
    }
    parse_with(text, Some(datastream))
}

fn parse_with(text: &str, datastream: Option<&Value>) -> Result<Parsed> {
    let split = split_input(text, true)?;
    let prefix = split.pointer_prefix.clone();
    let mut quarantined = split.quarantined;
    let mut issues = Vec::new();
    let mut columns = ColumnSet::default();
    for item in &split.items {
        let Some(value) = parse_item(item, &prefix, &mut quarantined) else {
            continue;
        };
        let Value::Object(object) = value else {
            let reason = format!(
                "item is {}, expected an Observation or a Datastream object",
                json_type(&value)
            );
            quarantined.push(quarantine(item, &prefix, &[], reason));
            continue;
        };
        if object.contains_key("result") || !is_datastream(&object) {
            if let Err((path, reason)) =
                write_observation(&mut columns, object, datastream.and_then(Value::as_object))
            {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                quarantined.push(quarantine(item, &prefix, &path, reason));
            }
            continue;
        }
        write_datastream_item(
            &mut columns,
            object,
            item,
            &prefix,
            &mut quarantined,
            &mut issues,
        );
    }

    annotate_result(&mut columns);
    let next_link = split
        .envelope
        .get("@iot.nextLink")
        .and_then(Value::as_str)
        .map(str::to_string);
    let rows = columns.rows();
    let (fields, arrays, column_issues) = columns.build()?;
    issues.extend(column_issues);
    let metadata = HashMap::from([(FORMAT_KEY.to_string(), "sensorthings".to_string())]);
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let batch = if arrays.is_empty() {
        RecordBatch::new_empty(schema)
    } else {
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(schema, arrays, &options)?
    };
    Ok(Parsed {
        batch,
        quarantined,
        issues,
        next_link,
    })
}

/// Writes the expanded Observations of a Datastream item, one row each.
fn write_datastream_item(
    columns: &mut ColumnSet,
    mut object: Map<String, Value>,
    item: &RawItem<'_>,
    prefix: &str,
    quarantined: &mut Vec<QuarantinedItem>,
    issues: &mut Vec<FormatIssue>,
) {
    let observations = match object.remove("Observations") {
        Some(Value::Array(observations)) => observations,
        Some(other) => {
            let reason = format!(
                "`Observations` is {}, expected an array of Observations",
                json_type(&other)
            );
            quarantined.push(quarantine(item, prefix, &["Observations"], reason));
            return;
        }
        None => Vec::new(),
    };
    if observations.is_empty() {
        issues.push(FormatIssue {
            item: Some(item.index),
            column: None,
            message: "the Datastream has no expanded Observations, so it adds no rows: \
                      request it with $expand=Observations"
                .into(),
        });
    }
    if let Some(link) = object
        .get("Observations@iot.nextLink")
        .and_then(Value::as_str)
    {
        issues.push(FormatIssue {
            item: Some(item.index),
            column: None,
            message: format!("the Datastream has more Observations at {link}"),
        });
    }
    for (position, observation) in observations.into_iter().enumerate() {
        let path = ["Observations".to_string(), position.to_string()];
        let result = match observation {
            Value::Object(observation) => write_observation(columns, observation, Some(&object)),
            other => Err((
                Vec::new(),
                format!("observation is {}, expected an object", json_type(&other)),
            )),
        };
        if let Err((inner, reason)) = result {
            let full: Vec<&str> = path
                .iter()
                .chain(inner.iter())
                .map(String::as_str)
                .collect();
            quarantined.push(quarantine(item, prefix, &full, reason));
        }
    }
}

fn is_datastream(object: &Map<String, Value>) -> bool {
    object.contains_key("Observations") || object.contains_key("unitOfMeasurement")
}

type Rejection = (Vec<String>, String);

/// One row's cells: member path, column name, value, hint.
type Cells = Vec<(String, String, Value, Hint)>;

/// Validates an observation and writes it, with its datastream, as one row.
fn write_observation(
    columns: &mut ColumnSet,
    mut observation: Map<String, Value>,
    datastream: Option<&Map<String, Value>>,
) -> std::result::Result<(), Rejection> {
    let mut cells: Cells = Vec::new();
    match observation.remove("result") {
        Some(result) => cells.push(("result".into(), "result".into(), result, Hint::Text)),
        None => {
            return Err((
                Vec::new(),
                "observation has no `result`: every Observation needs one".into(),
            ));
        }
    }
    if !observation.contains_key("phenomenonTime") {
        return Err((
            Vec::new(),
            "observation has no `phenomenonTime`: every Observation needs one".into(),
        ));
    }
    for (member, column) in INTERVALS {
        let Some(value) = observation.remove(*member) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let (start, end) = split_interval(&value)
            .ok_or_else(|| (vec![(*member).to_string()], interval_reason(member, &value)))?;
        cells.push((
            format!("{member}.start"),
            (*column).into(),
            start,
            Hint::Time,
        ));
        if let Some(end) = end {
            cells.push((
                format!("{member}.end"),
                format!("{column}_end"),
                end,
                Hint::Time,
            ));
        }
    }
    if let Some(time) = observation.get("resultTime").filter(|time| !time.is_null())
        && time.as_str().and_then(parse_timestamp).is_none()
    {
        return Err((
            vec!["resultTime".into()],
            format!("`resultTime` {time} is not an ISO 8601 date-time with an offset"),
        ));
    }
    let own_datastream = observation.remove("Datastream");
    let observation_columns = Columns {
        known: OBSERVATION_MEMBERS,
        prefix: None,
        extra: "observation_extra",
    };
    flatten_entity(
        &mut cells,
        "",
        observation,
        &observation_columns,
        &[FEATURE],
    );
    match (own_datastream, datastream) {
        (Some(Value::Object(own)), _) => flatten_datastream(&mut cells, own),
        (Some(other), _) => {
            return Err((
                vec!["Datastream".into()],
                format!("`Datastream` is {}, expected an object", json_type(&other)),
            ));
        }
        (None, Some(shared)) => {
            let mut shared = shared.clone();
            shared.remove("Observations");
            flatten_datastream(&mut cells, shared);
        }
        (None, None) => {}
    }
    let row = columns.push_row();
    for (member, name, value, hint) in cells {
        let key = ColumnKey::item(&member);
        let semantic = match member.as_str() {
            "phenomenonTime.start" => Some("phenomenon_time"),
            "resultTime" => Some("result_time"),
            _ => None,
        };
        columns.set(row, &key, value, hint, || {
            let metadata = semantic
                .map(|kind| vec![(SEMANTIC_TYPE_KEY, kind.to_string())])
                .unwrap_or_default();
            (name, metadata)
        });
    }
    Ok(())
}

fn flatten_datastream(cells: &mut Cells, mut datastream: Map<String, Value>) {
    match datastream.remove("unitOfMeasurement") {
        Some(Value::Object(mut unit)) => {
            for (member, column) in UNIT_MEMBERS {
                if let Some(value) = unit.remove(*member) {
                    let path = format!("Datastream/unitOfMeasurement/{member}");
                    cells.push((path, (*column).into(), value, Hint::Text));
                }
            }
            if !unit.is_empty() {
                let path = "Datastream/unitOfMeasurement/*".to_string();
                cells.push((path, "unit_extra".into(), Value::Object(unit), Hint::Text));
            }
        }
        Some(other) => {
            datastream.insert("unitOfMeasurement".into(), other);
        }
        None => {}
    }
    let datastream_columns = Columns {
        known: DATASTREAM_MEMBERS,
        prefix: None,
        extra: "datastream_extra",
    };
    flatten_entity(
        cells,
        "Datastream/",
        datastream,
        &datastream_columns,
        DATASTREAM_RELATED,
    );
}

/// The mapping of an entity's members to columns.
struct Columns<'a> {
    known: &'a [Known],
    /// Prefix of the known members' column names; `None` when they are full names.
    prefix: Option<&'a str>,
    /// Name of the column of other members.
    extra: &'a str,
}

/// Moves the members of `object` into cells: known members to their columns, related
/// entities (expanded or linked) to theirs, and the rest into one `*_extra` object.
fn flatten_entity(
    cells: &mut Cells,
    path: &str,
    mut object: Map<String, Value>,
    columns: &Columns<'_>,
    related: &[Related],
) {
    for (member, suffix, hint) in columns.known {
        if let Some(value) = object.remove(*member) {
            let column = match columns.prefix {
                Some(prefix) => format!("{prefix}_{suffix}"),
                None => (*suffix).to_string(),
            };
            cells.push((format!("{path}{member}"), column, value, *hint));
        }
    }
    for (member, related_prefix, related_known) in related {
        let link = format!("{member}@iot.navigationLink");
        if let Some(value) = object.remove(&link) {
            cells.push((
                format!("{path}{link}"),
                format!("{related_prefix}_link"),
                value,
                Hint::Text,
            ));
        }
        match object.remove(*member) {
            Some(Value::Object(entity)) => {
                let extra = format!("{related_prefix}_extra");
                let related_columns = Columns {
                    known: related_known,
                    prefix: Some(related_prefix),
                    extra: &extra,
                };
                flatten_entity(
                    cells,
                    &format!("{path}{member}/"),
                    entity,
                    &related_columns,
                    &[],
                );
            }
            Some(other) => {
                object.insert((*member).to_string(), other);
            }
            None => {}
        }
    }
    if !object.is_empty() {
        cells.push((
            format!("{path}*"),
            columns.extra.to_string(),
            Value::Object(object),
            Hint::Text,
        ));
    }
}

/// Splits an instant or `start/end` interval into its parts.
fn split_interval(value: &Value) -> Option<(Value, Option<Value>)> {
    let text = value.as_str()?;
    match text.split_once('/') {
        Some((start, end)) => {
            parse_timestamp(start)?;
            parse_timestamp(end)?;
            Some((Value::from(start), Some(Value::from(end))))
        }
        None => {
            parse_timestamp(text)?;
            Some((value.clone(), None))
        }
    }
}

fn interval_reason(member: &str, value: &Value) -> String {
    format!(
        "`{member}` {value} is not an ISO 8601 instant or `start/end` interval with offsets, \
         such as \"2024-05-01T08:00:00Z/2024-05-01T09:00:00Z\""
    )
}

/// Sets the unit and observed property of `result` when every row shares them.
fn annotate_result(columns: &mut ColumnSet) {
    let result = ColumnKey::item("result");
    let mut entries = Vec::new();
    if let Some(symbol) =
        columns.uniform_text(&ColumnKey::item("Datastream/unitOfMeasurement/symbol"))
    {
        entries.push((UNIT_KEY, symbol));
    }
    if let Some(definition) =
        columns.uniform_text(&ColumnKey::item("Datastream/ObservedProperty/definition"))
    {
        entries.push((STANDARD_NAME_KEY, definition));
    }
    columns.annotate(&result, &entries);
}

/// Converts a batch from [`parse_observations`] back to Observations, each with its
/// `Datastream` expanded (when the row has one).
pub fn to_observations(batch: &RecordBatch) -> Result<Vec<Value>> {
    check_format(
        batch.schema_ref(),
        &["sensorthings"],
        "sensorthings::to_observations",
    )?;
    let plan = plan(batch.schema_ref(), "result");
    if let Some(group) = plan.groups.first() {
        return Err(Error::InvalidInput(format!(
            "column {:?} has no SensorThings member metadata: drop it or convert it before \
             writing observations",
            group.attribute
        )));
    }
    let mut observations = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut observation = Map::new();
        let mut intervals: HashMap<&str, (Option<Value>, Option<Value>)> = HashMap::new();
        for (member, value) in row_members(batch, &plan, row)? {
            if let Some((interval, part)) = member.split_once('.')
                && let Some((name, _)) = INTERVALS.iter().find(|(name, _)| *name == interval)
            {
                let slot = intervals.entry(name).or_default();
                if part == "end" {
                    slot.1 = Some(value);
                } else {
                    slot.0 = Some(value);
                }
                continue;
            }
            match member.strip_suffix('*') {
                Some(parent) => merge_at(&mut observation, parent.trim_end_matches('/'), value),
                None => set_path(&mut observation, &member, value),
            }
        }
        for (name, (start, end)) in intervals {
            let value = match (start, end) {
                (Some(Value::String(start)), Some(Value::String(end))) => {
                    Value::from(format!("{start}/{end}"))
                }
                (Some(start), _) => start,
                (None, _) => continue,
            };
            observation.insert(name.to_string(), value);
        }
        observation.entry("result").or_insert(Value::Null);
        observations.push(Value::Object(observation));
    }
    Ok(observations)
}

/// Converts a batch from [`parse_observations`] back to Datastreams with their
/// Observations expanded, grouping rows with equal datastream columns in order of first
/// row. Every row needs a datastream.
pub fn to_datastreams(batch: &RecordBatch) -> Result<Vec<Value>> {
    let observations = to_observations(batch)?;
    let mut order: Vec<String> = Vec::new();
    let mut datastreams: HashMap<String, (Value, Vec<Value>)> = HashMap::new();
    for (row, mut observation) in observations.into_iter().enumerate() {
        let datastream = observation
            .as_object_mut()
            .and_then(|object| object.remove("Datastream"))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "row {row} has no datastream columns: write it with to_observations"
                ))
            })?;
        let key = datastream.to_string();
        let entry = datastreams.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (datastream, Vec::new())
        });
        entry.1.push(observation);
    }
    Ok(order
        .into_iter()
        .filter_map(|key| datastreams.remove(&key))
        .map(|(mut datastream, observations)| {
            if let Value::Object(object) = &mut datastream {
                object.insert("Observations".into(), Value::Array(observations));
            }
            datastream
        })
        .collect())
}

/// Merges the members of `value` (an object) into the object at `path`.
fn merge_at(object: &mut Map<String, Value>, path: &str, value: Value) {
    let Value::Object(members) = value else {
        return;
    };
    for (member, member_value) in members {
        let full = if path.is_empty() {
            member
        } else {
            format!("{path}/{member}")
        };
        set_path(object, &full, member_value);
    }
}
