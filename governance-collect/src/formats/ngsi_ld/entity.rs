//! Validation of one NGSI-LD entity and extraction of its attribute instances, before any of
//! it is written to columns, so that a rejected entity leaves no partial row.

use serde_json::Value;

use super::super::json::parse_timestamp;
use super::super::json_type;

/// Entity members that are not attributes.
pub(super) const ENTITY_MEMBERS: &[&str] = &["scope", "createdAt", "modifiedAt", "deletedAt"];

/// Members that hold date-times, in an entity or an attribute instance.
pub(super) const TIME_MEMBERS: &[&str] = &["createdAt", "modifiedAt", "deletedAt", "observedAt"];

/// NGSI-LD attribute types and the member that contains each one's value.
pub(super) const ATTRIBUTE_TYPES: &[(&str, &str)] = &[
    ("Property", "value"),
    ("Relationship", "object"),
    ("GeoProperty", "value"),
    ("LanguageProperty", "languageMap"),
    ("VocabProperty", "vocab"),
    ("JsonProperty", "json"),
    ("ListProperty", "valueList"),
    ("ListRelationship", "objectList"),
];

/// Returns the value member of an attribute type, or `None` for an unknown type.
pub(super) fn value_member(kind: &str) -> Option<&'static str> {
    ATTRIBUTE_TYPES
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, member)| *member)
}

/// A rejection: the JSON Pointer segments below the item and the reason.
pub(super) type Rejection = (Vec<String>, String);

/// One attribute instance, validated.
#[derive(Debug)]
pub(super) struct Instance {
    pub attribute: String,
    pub kind: &'static str,
    pub dataset_id: Option<String>,
    pub value_member: &'static str,
    pub value: Value,
    /// `observedAt` in milliseconds, with its original text.
    pub observed_at: Option<(i64, String)>,
    /// Other members (`unitCode`, sub-properties, system members), in name order.
    pub members: Vec<(String, Value)>,
}

/// An entity with its instances, validated.
#[derive(Debug)]
pub(super) struct Entity {
    pub id: String,
    pub entity_type: String,
    pub context: Option<Value>,
    pub members: Vec<(String, Value)>,
    pub instances: Vec<Instance>,
}

/// Validates an entity in the normalised (`key_values` false) or key-value form.
pub(super) fn read_entity(item: Value, key_values: bool) -> Result<Entity, Rejection> {
    let Value::Object(mut object) = item else {
        return Err((
            Vec::new(),
            format!("item is {}, expected an entity object", json_type(&item)),
        ));
    };
    let id = match object.remove("id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(Value::String(_)) => return Err(rejection("id", "entity `id` is empty".into())),
        Some(other) => {
            return Err(rejection(
                "id",
                format!(
                    "entity `id` is {}, expected a URI string",
                    json_type(&other)
                ),
            ));
        }
        None => {
            return Err((
                Vec::new(),
                "entity has no `id`: every NGSI-LD entity needs a URI `id`".into(),
            ));
        }
    };
    let entity_type = match object.remove("type") {
        Some(Value::String(name)) if !name.is_empty() => name,
        Some(Value::Array(names)) => {
            return Err(rejection(
                "type",
                format!(
                    "entity {id:?} has {} types: entities with several types are not \
                     supported, split them by type",
                    names.len()
                ),
            ));
        }
        Some(other) => {
            return Err(rejection(
                "type",
                format!(
                    "entity {id:?} has `type` {}, expected a non-empty string",
                    json_type(&other)
                ),
            ));
        }
        None => {
            return Err((
                Vec::new(),
                format!("entity {id:?} has no `type`: every NGSI-LD entity needs a type"),
            ));
        }
    };
    let context = object.remove("@context");
    let mut members = Vec::new();
    for name in ENTITY_MEMBERS {
        if let Some(value) = object.remove(*name) {
            if TIME_MEMBERS.contains(name) {
                check_time(&value).map_err(|reason| rejection(name, reason))?;
            }
            members.push(((*name).to_string(), value));
        }
    }
    let mut instances = Vec::new();
    for (name, value) in object {
        if key_values {
            instances.push(key_value_instance(name, value));
        } else {
            read_instances(&name, value, &mut instances)?;
        }
    }
    Ok(Entity {
        id,
        entity_type,
        context,
        members,
        instances,
    })
}

/// Reads one attribute in the normalised form: one instance object or an array of them.
/// Two instances with the same `datasetId` are rejected, because a row has room for one.
pub(super) fn read_instances(
    name: &str,
    value: Value,
    instances: &mut Vec<Instance>,
) -> Result<(), Rejection> {
    let first = instances.len();
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(rejection(
                    name,
                    format!("attribute {name:?} is an empty array: expected one or more instances"),
                ));
            }
            for (position, item) in items.into_iter().enumerate() {
                let instance = read_instance(name, item)
                    .map_err(|reason| (vec![name.to_string(), position.to_string()], reason))?;
                instances.push(instance);
            }
        }
        item => {
            let instance = read_instance(name, item).map_err(|reason| rejection(name, reason))?;
            instances.push(instance);
        }
    }
    for later in first + 1..instances.len() {
        if instances[first..later]
            .iter()
            .any(|earlier| earlier.dataset_id == instances[later].dataset_id)
        {
            let dataset = instances[later]
                .dataset_id
                .as_deref()
                .map_or("the default dataset".to_string(), |id| {
                    format!("datasetId {id:?}")
                });
            return Err(rejection(
                name,
                format!(
                    "attribute {name:?} has two instances of {dataset}: each instance needs a \
                     distinct datasetId"
                ),
            ));
        }
    }
    Ok(())
}

/// Validates one normalised attribute instance.
pub(super) fn read_instance(name: &str, item: Value) -> Result<Instance, String> {
    let Value::Object(mut object) = item else {
        return Err(format!(
            "attribute {name:?} is {}, expected an object with `type`; for plain values parse \
             the key-value form",
            json_type(&item)
        ));
    };
    let kind = match object.remove("type") {
        Some(Value::String(kind)) => kind,
        Some(other) => {
            return Err(format!(
                "attribute {name:?} has `type` {}, expected a string such as \"Property\"",
                json_type(&other)
            ));
        }
        None => return Err(format!("attribute {name:?} has no `type`")),
    };
    let Some((kind, value_member)) = ATTRIBUTE_TYPES
        .iter()
        .find(|(known, _)| *known == kind)
        .copied()
    else {
        let known: Vec<&str> = ATTRIBUTE_TYPES.iter().map(|(known, _)| *known).collect();
        return Err(format!(
            "attribute {name:?} has unknown type {kind:?}: expected one of {}",
            known.join(", ")
        ));
    };
    let value = match object.remove(value_member) {
        Some(Value::Null) | None => {
            return Err(format!(
                "{kind} {name:?} has no `{value_member}`: a {kind} needs one"
            ));
        }
        Some(value) => value,
    };
    let dataset_id = match object.remove("datasetId") {
        None => None,
        Some(Value::String(id)) => Some(id),
        Some(other) => {
            return Err(format!(
                "attribute {name:?} has `datasetId` {}, expected a URI string",
                json_type(&other)
            ));
        }
    };
    let observed_at = match object.remove("observedAt") {
        None => None,
        Some(value) => {
            let millis = check_time(&value).map_err(|reason| format!("{name:?}: {reason}"))?;
            let text = value.as_str().unwrap_or_default().to_string();
            Some((millis, text))
        }
    };
    for member in TIME_MEMBERS {
        if let Some(value) = object.get(*member) {
            check_time(value).map_err(|reason| format!("{name:?}: {reason}"))?;
        }
    }
    Ok(Instance {
        attribute: name.to_string(),
        kind,
        dataset_id,
        value_member,
        value,
        observed_at,
        members: object.into_iter().collect(),
    })
}

fn key_value_instance(name: String, value: Value) -> Instance {
    // NOTE: the key-value form drops attribute types, so a Relationship arrives as a plain
    // URI string and is recorded as a Property.
    let kind = if is_geojson(&value) {
        "GeoProperty"
    } else {
        "Property"
    };
    Instance {
        attribute: name,
        kind,
        dataset_id: None,
        value_member: "value",
        value,
        observed_at: None,
        members: Vec::new(),
    }
}

/// Returns whether `value` is a GeoJSON geometry (RFC 7946).
pub(super) fn is_geojson(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    let geometry = matches!(
        object.get("type").and_then(Value::as_str),
        Some(
            "Point"
                | "MultiPoint"
                | "LineString"
                | "MultiLineString"
                | "Polygon"
                | "MultiPolygon"
                | "GeometryCollection"
        )
    );
    geometry && (object.contains_key("coordinates") || object.contains_key("geometries"))
}

/// Checks that a time member is an RFC 3339 date-time with an offset.
fn check_time(value: &Value) -> Result<i64, String> {
    value.as_str().and_then(parse_timestamp).ok_or_else(|| {
        format!(
            "{value} is not an RFC 3339 date-time with an offset, such as \
             \"2024-05-01T08:00:00Z\""
        )
    })
}

fn rejection(segment: &str, reason: String) -> Rejection {
    (vec![segment.to_string()], reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_attribute_type_is_rejected() {
        let entity =
            json!({"id": "urn:a", "type": "T", "speed": {"type": "Propperty", "value": 3}});
        let (path, reason) = read_entity(entity, false).expect_err("unknown type");
        assert_eq!(path, ["speed"]);
        assert!(reason.contains("unknown type \"Propperty\""), "{reason}");
    }

    #[test]
    fn duplicate_dataset_is_rejected() {
        let entity = json!({"id": "urn:a", "type": "T", "speed": [
            {"type": "Property", "value": 3},
            {"type": "Property", "value": 4}
        ]});
        let (_, reason) = read_entity(entity, false).expect_err("duplicate");
        assert!(reason.contains("default dataset"), "{reason}");
    }

    #[test]
    fn bad_observed_at_names_the_value() {
        let entity = json!({"id": "urn:a", "type": "T",
            "speed": {"type": "Property", "value": 3, "observedAt": "noon"}});
        let (_, reason) = read_entity(entity, false).expect_err("bad time");
        assert!(reason.contains("\"noon\""), "{reason}");
    }

    #[test]
    fn key_values_detect_geometry() {
        let entity = json!({"id": "urn:a", "type": "T",
            "where": {"type": "Point", "coordinates": [1.0, 2.0]}, "name": "x"});
        let entity = read_entity(entity, true).expect("valid");
        let kinds: Vec<&str> = entity
            .instances
            .iter()
            .map(|instance| instance.kind)
            .collect();
        assert_eq!(kinds, ["Property", "GeoProperty"]);
    }
}
