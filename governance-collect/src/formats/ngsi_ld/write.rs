//! Record batches back to NGSI-LD entities.

use arrow::array::RecordBatch;
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use super::super::groups::{Group, check_format, group_members, plan, row_members};
use super::super::{CONTEXT_KEY, json_type};
use super::Representation;
use super::entity::value_member;

/// Converts a batch from [`parse`](super::parse) (or any batch with `id` and `type` columns)
/// back to NGSI-LD entities, one per row.
///
/// A unit comes from the value column's [`UNIT_KEY`](governance_core::semantic::UNIT_KEY)
/// when set, so a stage that converts values and updates the unit is reflected. In the
/// key-value form an attribute with several instances writes the instance without
/// `datasetId`, or else the first one.
pub fn to_entities(batch: &RecordBatch, representation: Representation) -> Result<Vec<Value>> {
    check_format(batch.schema_ref(), &["ngsi-ld"], "ngsi_ld::to_entities")?;
    let context = batch_context(batch)?;
    let plan = plan(batch.schema_ref(), "value");
    let mut entities = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut entity = Map::new();
        if let Some(context) = &context {
            entity.insert("@context".into(), context.clone());
        }
        for (member, value) in row_members(batch, &plan, row)? {
            entity.insert(member, value);
        }
        check_identity(&entity, row)?;
        for group in &plan.groups {
            let Some(members) = group_members(batch, group, row)? else {
                continue;
            };
            let instance = instance(group, members);
            add_instance(&mut entity, group, instance, representation);
        }
        entities.push(Value::Object(entity));
    }
    Ok(entities)
}

/// Returns the batch's `@context` from the schema metadata.
pub(super) fn batch_context(batch: &RecordBatch) -> Result<Option<Value>> {
    batch
        .schema_ref()
        .metadata()
        .get(CONTEXT_KEY)
        .map(|text| {
            serde_json::from_str(text).map_err(|error| {
                Error::InvalidInput(format!(
                    "schema metadata {CONTEXT_KEY:?} is not valid JSON: {error}"
                ))
            })
        })
        .transpose()
}

/// Checks that a rebuilt entity has a string `id` and `type`.
pub(super) fn check_identity(entity: &Map<String, Value>, row: usize) -> Result<()> {
    for member in ["id", "type"] {
        match entity.get(member) {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "row {row}: `{member}` is {}, expected a string",
                    json_type(other)
                )));
            }
            None => {
                return Err(Error::InvalidInput(format!(
                    "row {row} has no `{member}`: an NGSI-LD entity needs a non-null `{member}` \
                     column"
                )));
            }
        }
    }
    Ok(())
}

/// Builds a normalised instance from the group's members in one row.
pub(super) fn instance(group: &Group, mut members: Map<String, Value>) -> Map<String, Value> {
    let kind = if group.foreign {
        "Property".to_string()
    } else {
        group.kind.clone().unwrap_or_else(|| "Property".into())
    };
    if let Some(unit) = &group.unit {
        members.insert("unitCode".into(), Value::from(unit.as_str()));
    }
    if let Some(dataset_id) = &group.dataset_id {
        members.insert("datasetId".into(), Value::from(dataset_id.as_str()));
    }
    members.insert("type".into(), Value::from(kind));
    members
}

fn add_instance(
    entity: &mut Map<String, Value>,
    group: &Group,
    instance: Map<String, Value>,
    representation: Representation,
) {
    let attribute = group.attribute.clone();
    if representation == Representation::KeyValues {
        let member = instance
            .get("type")
            .and_then(Value::as_str)
            .and_then(value_member)
            .unwrap_or("value");
        let value = instance.get(member).cloned().unwrap_or(Value::Null);
        // The default instance replaces another; a dataset instance fills only a gap.
        if group.dataset_id.is_none() || !entity.contains_key(&attribute) {
            entity.insert(attribute, value);
        }
        return;
    }
    let instance = Value::Object(instance);
    match entity.remove(&attribute) {
        None => {
            entity.insert(attribute, instance);
        }
        Some(Value::Array(mut instances)) => {
            instances.push(instance);
            entity.insert(attribute, Value::Array(instances));
        }
        Some(first) => {
            entity.insert(attribute, Value::Array(vec![first, instance]));
        }
    }
}
