//! NGSI-v2 entities (FIWARE Orion) to Arrow and back, in the normalised form and the
//! key-value form (`options=keyValues`).
//!
//! | NGSI-v2 | Arrow column | type and metadata |
//! |---|---|---|
//! | `id`, `type` | `id`, `type` | `Utf8` |
//! | attribute `temperature`: `value` | `temperature` | inferred; a `DateTime` attribute becomes `Timestamp(ms, UTC)` |
//! | attribute `type` (`Number`, `Text`, `geo:json`, ...) | [`ATTRIBUTE_TYPE_KEY`] of `temperature`, or a column `temperature.type` when types differ | `Utf8` |
//! | metadata `unitCode` | [`UNIT_KEY`] of `temperature`, or a column `temperature.unitCode` when units differ | `Utf8` |
//! | other metadata `dateObserved` | `temperature.dateObserved` (its type in metadata or `temperature.dateObserved.type`) | inferred; `DateTime` metadata become timestamps |
//!
//! NGSI-v2 attribute types are free text, so any type is accepted. An attribute whose
//! `value` is null stays present on the way back, because its `type` column (kept for that
//! reason) is not null.
//!
//! [`UNIT_KEY`]: governance_core::semantic::UNIT_KEY

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Schema};
use governance_core::semantic::{SEMANTIC_TYPE_KEY, UNIT_KEY};
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use super::columns::{ColumnKey, ColumnSet, Hint};
use super::groups::{check_format, group_members, plan, row_members};
use super::json::split_input;
pub use super::ngsi_ld::Representation;
use super::{ATTRIBUTE_TYPE_KEY, FORMAT_KEY, Parsed, json_type, parse_item, quarantine};

/// One attribute of an entity, validated.
struct Attribute {
    name: String,
    attribute_type: Option<Value>,
    value: Value,
    /// Metadata name, type and value.
    metadata: Vec<(String, Option<Value>, Value)>,
}

/// Converts NGSI-v2 entities to one record batch with one row per entity.
pub fn parse(text: &str, representation: Representation) -> Result<Parsed> {
    let split = split_input(text, false)?;
    let mut columns = ColumnSet::default();
    let mut quarantined = split.quarantined;
    let mut metadata_names: Vec<String> = Vec::new();
    for item in &split.items {
        let Some(value) = parse_item(item, "", &mut quarantined) else {
            continue;
        };
        let (id, entity_type, attributes) = match read_entity(value, representation) {
            Ok(parts) => parts,
            Err((path, reason)) => {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                quarantined.push(quarantine(item, "", &path, reason));
                continue;
            }
        };
        let row = columns.push_row();
        columns.set(
            row,
            &ColumnKey::item("id"),
            Value::from(id),
            Hint::Text,
            || ("id".into(), Vec::new()),
        );
        if let Some(entity_type) = entity_type {
            columns.set(
                row,
                &ColumnKey::item("type"),
                entity_type,
                Hint::Text,
                || ("type".into(), Vec::new()),
            );
        }
        for attribute in attributes {
            for (name, _, _) in &attribute.metadata {
                if !metadata_names.contains(name) {
                    metadata_names.push(name.clone());
                }
            }
            write_attribute(&mut columns, row, attribute);
        }
    }
    // The unit folds before the metadata types, so that a unit's type stays a column when
    // the unit's value column is folded away.
    columns.fold_constant("type", "value", Some(ATTRIBUTE_TYPE_KEY));
    columns.fold_constant("metadata/unitCode/value", "value", Some(UNIT_KEY));
    for name in &metadata_names {
        let member = format!("metadata/{name}/type");
        columns.fold_constant(&member, &format!("metadata/{name}/value"), None);
    }
    let rows = columns.rows();
    let (fields, arrays, issues) = columns.build()?;
    let metadata = HashMap::from([(FORMAT_KEY.to_string(), "ngsi-v2".to_string())]);
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
        next_link: None,
    })
}

type Rejection = (Vec<String>, String);

fn read_entity(
    item: Value,
    representation: Representation,
) -> std::result::Result<(String, Option<Value>, Vec<Attribute>), Rejection> {
    let Value::Object(mut object) = item else {
        return Err((
            Vec::new(),
            format!("item is {}, expected an entity object", json_type(&item)),
        ));
    };
    let id = match object.remove("id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(other) => {
            return Err((
                vec!["id".into()],
                format!(
                    "entity `id` is {}, expected a non-empty string",
                    json_type(&other)
                ),
            ));
        }
        None => {
            return Err((
                Vec::new(),
                "entity has no `id`: every NGSI-v2 entity needs one".into(),
            ));
        }
    };
    let entity_type = match object.remove("type") {
        None => None,
        Some(Value::String(name)) => Some(Value::String(name)),
        Some(other) => {
            return Err((
                vec!["type".into()],
                format!(
                    "entity {id:?} has `type` {}, expected a string",
                    json_type(&other)
                ),
            ));
        }
    };
    let mut attributes = Vec::with_capacity(object.len());
    for (name, value) in object {
        let attribute = match representation {
            Representation::KeyValues => Attribute {
                name,
                attribute_type: None,
                value,
                metadata: Vec::new(),
            },
            Representation::Normalized => read_attribute(name, value)?,
        };
        attributes.push(attribute);
    }
    Ok((id, entity_type, attributes))
}

fn read_attribute(name: String, value: Value) -> std::result::Result<Attribute, Rejection> {
    let path = vec![name.clone()];
    let Value::Object(mut object) = value else {
        return Err((
            path,
            format!(
                "attribute {name:?} is {}, expected an object with `value`; for plain values \
                 parse the key-value form",
                json_type(&value)
            ),
        ));
    };
    let attribute_type = object.remove("type");
    if let Some(other) = attribute_type.as_ref().filter(|value| !value.is_string()) {
        return Err((
            path,
            format!(
                "attribute {name:?} has `type` {}, expected a string",
                json_type(other)
            ),
        ));
    }
    let has_value = object.contains_key("value");
    let value = object.remove("value").unwrap_or(Value::Null);
    if !has_value && attribute_type.is_none() {
        return Err((
            path,
            format!("attribute {name:?} has neither `value` nor `type`"),
        ));
    }
    let mut metadata = Vec::new();
    match object.remove("metadata") {
        None => {}
        Some(Value::Object(items)) => {
            for (meta_name, item) in items {
                let Value::Object(mut item) = item else {
                    return Err((
                        vec![name.clone(), "metadata".into(), meta_name.clone()],
                        format!(
                            "metadata {meta_name:?} of {name:?} is {}, expected an object \
                             with `value`",
                            json_type(&item)
                        ),
                    ));
                };
                let meta_type = item.remove("type");
                let meta_value = item.remove("value").unwrap_or(Value::Null);
                metadata.push((meta_name, meta_type, meta_value));
            }
        }
        Some(other) => {
            return Err((
                vec![name.clone(), "metadata".into()],
                format!(
                    "`metadata` of {name:?} is {}, expected an object",
                    json_type(&other)
                ),
            ));
        }
    }
    if let Some(unexpected) = object.keys().next() {
        return Err((
            path,
            format!(
                "attribute {name:?} has member {unexpected:?}: NGSI-v2 attributes have only \
                 `type`, `value` and `metadata`"
            ),
        ));
    }
    Ok(Attribute {
        name,
        attribute_type,
        value,
        metadata,
    })
}

fn write_attribute(columns: &mut ColumnSet, row: usize, attribute: Attribute) {
    let name = attribute.name;
    let is_time =
        |value: &Option<Value>| value.as_ref().and_then(Value::as_str) == Some("DateTime");
    let value_key = ColumnKey::attribute(&name, None, "value");
    let value_hint = if is_time(&attribute.attribute_type) {
        Hint::Time
    } else {
        Hint::Text
    };
    let geo = attribute
        .attribute_type
        .as_ref()
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.starts_with("geo:"));
    columns.set(row, &value_key, attribute.value, value_hint, || {
        let metadata = if geo {
            vec![(SEMANTIC_TYPE_KEY, "geojson".to_string())]
        } else {
            Vec::new()
        };
        (name.clone(), metadata)
    });
    if value_hint == Hint::Time {
        columns.set_hint(&value_key, Hint::Time);
    }
    if let Some(attribute_type) = attribute.attribute_type {
        let key = ColumnKey::attribute(&name, None, "type");
        columns.set(row, &key, attribute_type, Hint::Text, || {
            (format!("{name}.type"), Vec::new())
        });
    }
    for (meta_name, meta_type, meta_value) in attribute.metadata {
        let hint = if is_time(&meta_type) {
            Hint::Time
        } else {
            Hint::Text
        };
        let key = ColumnKey::attribute(&name, None, &format!("metadata/{meta_name}/value"));
        columns.set(row, &key, meta_value, hint, || {
            (format!("{name}.{meta_name}"), Vec::new())
        });
        if hint == Hint::Time {
            columns.set_hint(&key, Hint::Time);
        }
        if let Some(meta_type) = meta_type {
            let key = ColumnKey::attribute(&name, None, &format!("metadata/{meta_name}/type"));
            columns.set(row, &key, meta_type, Hint::Text, || {
                (format!("{name}.{meta_name}.type"), Vec::new())
            });
        }
    }
}

/// Converts a batch from [`parse`] (or any batch with an `id` column) back to NGSI-v2
/// entities, one per row. A column without source metadata becomes an attribute of the
/// column's name, typed `Number`, `Boolean`, `DateTime` or `Text` after its Arrow type.
pub fn to_entities(batch: &RecordBatch, representation: Representation) -> Result<Vec<Value>> {
    check_format(batch.schema_ref(), &["ngsi-v2"], "ngsi_v2::to_entities")?;
    let plan = plan(batch.schema_ref(), "value");
    let mut entities = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut entity: Map<String, Value> = row_members(batch, &plan, row)?.into_iter().collect();
        if !entity.get("id").is_some_and(Value::is_string) {
            return Err(Error::InvalidInput(format!(
                "row {row} has no string `id`: an NGSI-v2 entity needs a non-null `id` column"
            )));
        }
        for group in &plan.groups {
            let Some(mut attribute) = group_members(batch, group, row)? else {
                continue;
            };
            if representation == Representation::KeyValues {
                let value = attribute.remove("value").unwrap_or(Value::Null);
                entity.insert(group.attribute.clone(), value);
                continue;
            }
            if group.foreign
                && let Some((_, column)) = group.columns.first()
            {
                let data_type = batch.schema_ref().field(*column).data_type().clone();
                attribute.insert("type".into(), Value::from(foreign_type(&data_type)));
            }
            if let Some(unit) = &group.unit
                && let Some(Value::Object(unit_code)) = attribute
                    .get_mut("metadata")
                    .and_then(|metadata| metadata.get_mut("unitCode"))
            {
                unit_code.insert("value".into(), Value::from(unit.as_str()));
            }
            attribute.entry("value").or_insert(Value::Null);
            attribute
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            entity.insert(group.attribute.clone(), Value::Object(attribute));
        }
        entities.push(Value::Object(entity));
    }
    Ok(entities)
}

fn foreign_type(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Boolean => "Boolean",
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => "DateTime",
        data_type if data_type.is_numeric() => "Number",
        _ => "Text",
    }
}
