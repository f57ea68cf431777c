//! The NGSI-LD temporal representation: one row per entity and `observedAt`; see the
//! [module docs](super) for why.

use std::collections::HashMap;

use arrow::array::RecordBatch;
use governance_core::Result;
use governance_core::semantic::SEMANTIC_TYPE_KEY;
use serde_json::{Map, Value};

use super::super::columns::{ColumnKey, Hint};
use super::super::groups::{check_format, group_members, plan, row_members};
use super::super::json::split_input;
use super::super::{parse_item, quarantine};
use super::entity::{Entity, read_entity};
use super::write::{batch_context, check_identity, instance};
use super::{BatchState, NgsiLdOptions, Representation};

/// Name and member of the row-level time column.
const OBSERVED_AT: &str = "observedAt";

/// Converts entities in the temporal representation (each attribute an array of instances
/// with `observedAt`) to one row per entity and `observedAt`.
///
/// NOTE: the simplified temporal form (`options=temporalValues`, attributes with a `values`
/// list of `[value, time]` pairs) is not read yet.
///
/// Only the normalised temporal form is read; `options.representation` must be
/// [`Representation::Normalized`]. An entity without any instance still gets one row, with a
/// null `observedAt`, so that it is not lost.
pub fn parse_temporal(text: &str, options: &NgsiLdOptions) -> Result<super::super::Parsed> {
    if options.representation != Representation::Normalized {
        return Err(governance_core::Error::InvalidInput(
            "the temporal parser reads the normalised temporal form only: set \
             `representation` to Normalized"
                .into(),
        ));
    }
    let split = split_input(text, false)?;
    let mut state = BatchState::new(options);
    let mut quarantined = split.quarantined;
    let observed_key = ColumnKey::item(OBSERVED_AT);
    for item in &split.items {
        let Some(value) = parse_item(item, "", &mut quarantined) else {
            continue;
        };
        let (entity, rejected) = match read_temporal_entity(value) {
            Ok(parts) => parts,
            Err((path, reason)) => {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                quarantined.push(quarantine(item, "", &path, reason));
                continue;
            }
        };
        for (path, reason) in rejected {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            quarantined.push(quarantine(item, "", &path, reason));
        }
        if let Err(rejected) = state.check(item, &entity) {
            quarantined.push(rejected);
            continue;
        }
        // Rows of this entity by observedAt in milliseconds.
        let mut rows: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut first_row = None;
        for instance in &entity.instances {
            let Some((millis, time)) = &instance.observed_at else {
                continue;
            };
            let value_key = ColumnKey::attribute(
                &instance.attribute,
                instance.dataset_id.as_deref(),
                instance.value_member,
            );
            let candidates = rows.entry(*millis).or_default();
            let free = candidates
                .iter()
                .copied()
                .find(|&row| !state.columns.is_set(row, &value_key));
            let row = match free {
                Some(row) => row,
                None => {
                    let row = state.columns.push_row();
                    state.write_entity_members(row, &entity);
                    state.columns.set(
                        row,
                        &observed_key,
                        Value::from(time.as_str()),
                        Hint::Time,
                        || {
                            (
                                OBSERVED_AT.into(),
                                vec![(SEMANTIC_TYPE_KEY, "observed_at".into())],
                            )
                        },
                    );
                    candidates.push(row);
                    row
                }
            };
            first_row.get_or_insert(row);
            state.write_instance(row, instance, false);
        }
        if first_row.is_none() {
            let row = state.columns.push_row();
            state.write_entity_members(row, &entity);
        }
    }
    state.finish("ngsi-ld-temporal", quarantined)
}

/// A rejection: JSON Pointer segments below the item and the reason.
type Rejection = (Vec<String>, String);

/// Reads an entity whose attributes are instance arrays. Instances that fail validation are
/// returned as rejections and left out; entity-level failures reject the whole entity.
fn read_temporal_entity(item: Value) -> std::result::Result<(Entity, Vec<Rejection>), Rejection> {
    let Value::Object(mut object) = item else {
        return read_entity(item, false).map(|entity| (entity, Vec::new()));
    };
    // Pull the attributes out so that the entity-level checks run on the rest alone.
    let mut attributes = Vec::new();
    let names: Vec<String> = object
        .keys()
        .filter(|name| !is_entity_member(name))
        .cloned()
        .collect();
    for name in names {
        if let Some(value) = object.remove(&name) {
            attributes.push((name, value));
        }
    }
    let mut entity = read_entity(Value::Object(object), false)?;
    let mut rejected = Vec::new();
    for (name, value) in attributes {
        let items = match value {
            Value::Array(items) => items,
            single => vec![single],
        };
        for (position, item) in items.into_iter().enumerate() {
            let path = vec![name.clone(), position.to_string()];
            match super::entity::read_instance(&name, item) {
                Ok(instance) if instance.observed_at.is_none() => rejected.push((
                    path,
                    format!(
                        "instance {position} of {name:?} has no `observedAt`: the temporal \
                         form needs one per instance"
                    ),
                )),
                Ok(instance) => entity.instances.push(instance),
                Err(reason) => rejected.push((path, reason)),
            }
        }
    }
    Ok((entity, rejected))
}

fn is_entity_member(name: &str) -> bool {
    matches!(name, "id" | "type" | "@context") || super::entity::ENTITY_MEMBERS.contains(&name)
}

/// Converts a batch from [`parse_temporal`] back to entities in the temporal representation:
/// one entity per distinct `id` (in order of first row), each attribute an array of
/// instances with `observedAt` from the row, in row order.
pub fn to_temporal_entities(batch: &RecordBatch) -> Result<Vec<Value>> {
    check_format(
        batch.schema_ref(),
        &["ngsi-ld-temporal"],
        "ngsi_ld::to_temporal_entities",
    )?;
    let context = batch_context(batch)?;
    let plan = plan(batch.schema_ref(), "value");
    let mut order: Vec<String> = Vec::new();
    let mut entities: HashMap<String, Map<String, Value>> = HashMap::new();
    for row in 0..batch.num_rows() {
        let mut members = Map::new();
        let mut observed_at = None;
        for (member, value) in row_members(batch, &plan, row)? {
            if member == OBSERVED_AT {
                observed_at = Some(value);
            } else {
                members.insert(member, value);
            }
        }
        check_identity(&members, row)?;
        let id = members
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let entity = entities.entry(id.clone()).or_insert_with(|| {
            order.push(id);
            let mut entity = members;
            if let Some(context) = &context {
                entity.insert("@context".into(), context.clone());
            }
            entity
        });
        for group in &plan.groups {
            let Some(group_values) = group_members(batch, group, row)? else {
                continue;
            };
            let mut instance = instance(group, group_values);
            if let Some(time) = &observed_at {
                instance.insert(OBSERVED_AT.into(), time.clone());
            }
            let slot = entity
                .entry(group.attribute.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(instances) = slot {
                instances.push(Value::Object(instance));
            }
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|id| entities.remove(&id).map(Value::Object))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_without_time_is_rejected_alone() {
        let entity = serde_json::json!({"id": "urn:a", "type": "T", "speed": [
            {"type": "Property", "value": 3, "observedAt": "2024-01-01T00:00:00Z"},
            {"type": "Property", "value": 4}
        ]});
        let (entity, rejected) = read_temporal_entity(entity).expect("entity");
        assert_eq!(entity.instances.len(), 1);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, ["speed", "1"]);
    }

    #[test]
    fn entity_without_id_is_rejected_whole() {
        let entity = serde_json::json!({"type": "T", "speed": []});
        let (_, reason) = read_temporal_entity(entity).expect_err("no id");
        assert!(reason.contains("no `id`"), "{reason}");
    }
}
