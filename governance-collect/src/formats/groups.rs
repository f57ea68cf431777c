//! Reading a converted batch back: columns grouped by attribute instance through their field
//! metadata, and cells gathered per row into JSON members.

use std::collections::BTreeMap;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::Schema;
use governance_core::semantic::UNIT_KEY;
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use super::columns::ColumnKey;
use super::json::cell_value;
use super::{ATTRIBUTE_TYPE_KEY, CONSTANT_KEY_PREFIX, FORMAT_KEY};

/// The columns of one attribute instance.
#[derive(Debug)]
pub(crate) struct Group {
    pub attribute: String,
    pub dataset_id: Option<String>,
    /// The attribute type recorded in the metadata, if any.
    pub kind: Option<String>,
    /// Member path and column index.
    pub columns: Vec<(String, usize)>,
    /// Members folded into metadata: member path, value, and the column whose non-null
    /// cells the member accompanies.
    pub constants: Vec<(String, Value, usize)>,
    /// The unit recorded under [`UNIT_KEY`] on any column of the group.
    pub unit: Option<String>,
    /// Whether the columns carry no source metadata (added after conversion).
    pub foreign: bool,
}

/// The columns of a batch, grouped.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Item-level members: member path and column index.
    pub members: Vec<(String, usize)>,
    pub groups: Vec<Group>,
}

/// Checks that the batch was converted from `expected` (one of `accepted`).
pub(crate) fn check_format(schema: &Schema, accepted: &[&str], writer: &str) -> Result<()> {
    match schema.metadata().get(FORMAT_KEY) {
        Some(format) if accepted.contains(&format.as_str()) => Ok(()),
        Some(format) => Err(Error::InvalidInput(format!(
            "the batch was converted from {format}, but {writer} writes {}: use the writer of \
             {format}",
            accepted.join(" or ")
        ))),
        None => Ok(()),
    }
}

/// Groups the columns of `schema`. A column without source metadata becomes its own group
/// under its name, with member `default_member`.
pub(crate) fn plan(schema: &Schema, default_member: &str) -> Plan {
    let mut members = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for (column, field) in schema.fields().iter().enumerate() {
        let (key, foreign) = match ColumnKey::from_field(field) {
            Some(key) => (key, false),
            None => (
                ColumnKey::attribute(field.name(), None, default_member),
                true,
            ),
        };
        let Some(attribute) = key.attribute else {
            members.push((key.member, column));
            continue;
        };
        let slot = (attribute.clone(), key.dataset_id.clone());
        let position = *index.entry(slot).or_insert_with(|| {
            groups.push(Group {
                attribute,
                dataset_id: key.dataset_id.clone(),
                kind: None,
                columns: Vec::new(),
                constants: Vec::new(),
                unit: None,
                foreign,
            });
            groups.len() - 1
        });
        let group = &mut groups[position];
        let metadata = field.metadata();
        if group.kind.is_none() {
            group.kind = metadata.get(ATTRIBUTE_TYPE_KEY).cloned();
        }
        if group.unit.is_none() {
            group.unit = metadata.get(UNIT_KEY).cloned();
        }
        for (metadata_key, text) in metadata {
            if let Some(member) = metadata_key.strip_prefix(CONSTANT_KEY_PREFIX) {
                let value = serde_json::from_str(text).unwrap_or(Value::String(text.clone()));
                group.constants.push((member.to_string(), value, column));
            }
        }
        group.constants.sort_by(|a, b| a.0.cmp(&b.0));
        group.columns.push((key.member, column));
    }
    Plan { members, groups }
}

/// Returns the non-null item-level members of `row`.
pub(crate) fn row_members(
    batch: &RecordBatch,
    plan: &Plan,
    row: usize,
) -> Result<Vec<(String, Value)>> {
    let mut values = Vec::new();
    for (member, column) in &plan.members {
        let field = batch.schema_ref().field(*column);
        if let Some(value) = cell_value(batch.column(*column), field, row)? {
            values.push((member.clone(), value));
        }
    }
    Ok(values)
}

/// Returns the members of `group` in `row` as an object, or `None` when the instance is
/// absent from the row (every column null). A folded constant is added where the column it
/// was folded into is not null.
pub(crate) fn group_members(
    batch: &RecordBatch,
    group: &Group,
    row: usize,
) -> Result<Option<Map<String, Value>>> {
    let mut object = Map::new();
    for (member, column) in &group.columns {
        let field = batch.schema_ref().field(*column);
        if let Some(value) = cell_value(batch.column(*column), field, row)? {
            set_path(&mut object, member, value);
        }
    }
    if object.is_empty() {
        return Ok(None);
    }
    for (member, value, column) in &group.constants {
        if batch.column(*column).is_valid(row) {
            set_path(&mut object, member, value.clone());
        }
    }
    Ok(Some(object))
}

/// Sets `value` at the `/`-separated `path` inside `object`, creating objects on the way.
pub(crate) fn set_path(object: &mut Map<String, Value>, path: &str, value: Value) {
    let mut target = object;
    let mut segments = path.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            target.insert(segment.to_string(), value);
            return;
        }
        let entry = target
            .entry(segment.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        target = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_creates_nested_objects() {
        let mut object = Map::new();
        set_path(&mut object, "metadata/unitCode/value", Value::from("CEL"));
        set_path(&mut object, "metadata/unitCode/type", Value::from("Text"));
        set_path(&mut object, "value", Value::from(2));
        assert_eq!(
            Value::Object(object),
            serde_json::json!({"value": 2, "metadata": {"unitCode": {"value": "CEL", "type": "Text"}}})
        );
    }
}
