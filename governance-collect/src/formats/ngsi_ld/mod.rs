//! NGSI-LD entities to Arrow and back, in the normalised form, the key-value form
//! (`options=keyValues`) and the temporal representation.
//!
//! | NGSI-LD | Arrow column | type and metadata |
//! |---|---|---|
//! | `id`, `type` | `id`, `type` | `Utf8` |
//! | `scope`, `createdAt`, `modifiedAt`, `deletedAt` of the entity | same name | inferred; timestamps for the times |
//! | Property `temperature`: `value` | `temperature` | inferred; [`STANDARD_NAME_KEY`] is the expanded IRI |
//! | Relationship `refDevice`: `object` | `refDevice` | `Utf8`; semantic type `relationship` |
//! | GeoProperty `location`: `value` | `location` | `Utf8` GeoJSON text; semantic type `geojson` |
//! | LanguageProperty, VocabProperty, JsonProperty, ListProperty, ListRelationship | the attribute name | their `languageMap`, `vocab`, `json`, `valueList`, `objectList` |
//! | `observedAt` of an instance | `temperature.observedAt` | `Timestamp(ms, UTC)`; semantic type `observed_at` |
//! | `unitCode` | [`UNIT_KEY`] of `temperature`, or a column `temperature.unitCode` when units differ | `Utf8` |
//! | other members of an instance (sub-properties, `createdAt`) | `temperature.<member>` | inferred; objects as JSON text |
//! | instance with `datasetId` `urn:x` | `temperature[urn:x]`, `temperature[urn:x].observedAt`, ... | [`DATASET_ID_KEY`] |
//!
//! Attribute names stay column names; the metadata, not the name, drives the way back, so a
//! renamed column still converts. A column without the metadata (added by a later stage)
//! is written back as a Property of the column's name.
//!
//! Each attribute must keep one type (Property, Relationship, ...) across the batch, because
//! the columns of one attribute describe one kind of thing: an entity that uses another type
//! for an attribute is quarantined with both types named.
//!
//! All entities of a batch must share one `@context` (or all have none), because the same
//! term may mean different things under different contexts. An entity with another context is
//! quarantined. Terms expand to IRIs offline, through [`TermMap`].
//!
//! # Temporal representation
//!
//! [`parse_temporal`] reads entities whose attributes are arrays of instances, each with its
//! `observedAt`, and writes **one row per entity and `observedAt`**, with a row-level
//! `observedAt` column and one column per attribute. Instances of different attributes
//! observed at the same time share a row. That is the shape of a sensor table, which the
//! cleaning stages expect (gap filling and outlier detection run down one column per entity),
//! whereas one row per instance would leave every row with one non-null attribute. Two
//! instances of the same attribute and dataset at the same time (a correction, say) go to
//! two rows with the same time, so none is lost. An instance without `observedAt` is
//! quarantined on its own; the rest of the entity stays.
//!
//! [`STANDARD_NAME_KEY`]: governance_core::semantic::STANDARD_NAME_KEY
//! [`UNIT_KEY`]: governance_core::semantic::UNIT_KEY
//! [`DATASET_ID_KEY`]: super::DATASET_ID_KEY

mod entity;
mod temporal;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use governance_core::Result;
use governance_core::semantic::{SEMANTIC_TYPE_KEY, STANDARD_NAME_KEY, UNIT_KEY};
use serde_json::Value;

use self::entity::{ATTRIBUTE_TYPES, Entity, Instance, TIME_MEMBERS, read_entity};
pub use self::temporal::{parse_temporal, to_temporal_entities};
pub use self::write::to_entities;
use super::columns::{ColumnKey, ColumnSet, Hint};
use super::context::TermMap;
use super::json::{RawItem, split_input};
use super::{
    ATTRIBUTE_TYPE_KEY, CONTEXT_KEY, FORMAT_KEY, Parsed, QuarantinedItem, parse_item, quarantine,
};

/// The form of attributes: full instances or plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Representation {
    /// Each attribute is an object with `type`, `value` (or `object`) and its members.
    #[default]
    Normalized,
    /// Each attribute is its value only (`options=keyValues`).
    KeyValues,
}

/// Options of the NGSI-LD parsers.
#[derive(Debug, Clone, Default)]
pub struct NgsiLdOptions {
    /// The form of the input entities.
    pub representation: Representation,
    /// Terms for expanding attribute names to IRIs, offline.
    pub terms: TermMap,
}

impl NgsiLdOptions {
    /// Returns options for the key-value form.
    pub fn key_values() -> Self {
        NgsiLdOptions {
            representation: Representation::KeyValues,
            ..NgsiLdOptions::default()
        }
    }
}

/// Converts NGSI-LD entities to one record batch with one row per entity.
///
/// ```
/// use governance_collect::formats::ngsi_ld::{self, NgsiLdOptions, Representation};
///
/// let text = r#"[{"id": "urn:ngsi-ld:Meter:7", "type": "Meter",
///                 "flow": {"type": "Property", "value": 3.5, "unitCode": "G51"}}]"#;
/// let parsed = ngsi_ld::parse(text, &NgsiLdOptions::default())?;
/// assert_eq!(parsed.batch.num_rows(), 1);
/// let entities = ngsi_ld::to_entities(&parsed.batch, Representation::Normalized)?;
/// assert_eq!(entities[0]["flow"]["unitCode"], "G51");
/// # Ok::<(), governance_core::Error>(())
/// ```
pub fn parse(text: &str, options: &NgsiLdOptions) -> Result<Parsed> {
    let split = split_input(text, false)?;
    let mut state = BatchState::new(options);
    let mut quarantined = split.quarantined;
    for item in &split.items {
        let Some(value) = parse_item(item, "", &mut quarantined) else {
            continue;
        };
        let key_values = options.representation == Representation::KeyValues;
        let entity = match read_entity(value, key_values) {
            Ok(entity) => entity,
            Err((path, reason)) => {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                quarantined.push(quarantine(item, "", &path, reason));
                continue;
            }
        };
        if let Err(rejected) = state.check(item, &entity) {
            quarantined.push(rejected);
            continue;
        }
        let row = state.columns.push_row();
        state.write_entity_members(row, &entity);
        for instance in &entity.instances {
            state.write_instance(row, instance, true);
        }
    }
    state.finish("ngsi-ld", quarantined)
}

/// Shared state while entities are written to columns.
struct BatchState<'a> {
    columns: ColumnSet,
    options: &'a NgsiLdOptions,
    /// The batch's `@context`, fixed by the first accepted entity.
    context: Option<Option<Value>>,
    /// Attribute type per attribute name, fixed by the first entity that has the attribute.
    kinds: HashMap<String, (&'static str, usize)>,
}

impl<'a> BatchState<'a> {
    fn new(options: &'a NgsiLdOptions) -> Self {
        BatchState {
            columns: ColumnSet::default(),
            options,
            context: None,
            kinds: HashMap::new(),
        }
    }

    /// Checks the entity against the batch: the same `@context` and the same attribute types.
    fn check(
        &mut self,
        item: &RawItem<'_>,
        entity: &Entity,
    ) -> std::result::Result<(), QuarantinedItem> {
        match &self.context {
            Some(context) if *context != entity.context => {
                return Err(quarantine(
                    item,
                    "",
                    &["@context"],
                    format!(
                        "entity {:?} has @context {}, but the batch has {}: convert entities \
                         of each @context separately",
                        entity.id,
                        describe_context(entity.context.as_ref()),
                        describe_context(context.as_ref())
                    ),
                ));
            }
            _ => {}
        }
        for instance in &entity.instances {
            if let Some((kind, first)) = self.kinds.get(&instance.attribute)
                && *kind != instance.kind
            {
                return Err(quarantine(
                    item,
                    "",
                    &[&instance.attribute],
                    format!(
                        "attribute {:?} is a {} here but a {kind} in item {first}: an attribute \
                         keeps one type in a batch",
                        instance.attribute, instance.kind
                    ),
                ));
            }
        }
        if self.context.is_none() {
            self.context = Some(entity.context.clone());
        }
        for instance in &entity.instances {
            self.kinds
                .entry(instance.attribute.clone())
                .or_insert((instance.kind, item.index));
        }
        Ok(())
    }

    /// Writes `id`, `type` and the entity-level members.
    fn write_entity_members(&mut self, row: usize, entity: &Entity) {
        let id = ColumnKey::item("id");
        self.columns.set(
            row,
            &id,
            Value::from(entity.id.as_str()),
            Hint::Text,
            || ("id".into(), Vec::new()),
        );
        let entity_type = ColumnKey::item("type");
        self.columns.set(
            row,
            &entity_type,
            Value::from(entity.entity_type.as_str()),
            Hint::Text,
            || ("type".into(), Vec::new()),
        );
        for (name, value) in &entity.members {
            let hint = if TIME_MEMBERS.contains(&name.as_str()) {
                Hint::Time
            } else {
                Hint::Text
            };
            self.columns
                .set(row, &ColumnKey::item(name), value.clone(), hint, || {
                    (name.clone(), Vec::new())
                });
        }
    }

    /// Writes one instance into `row`; `with_time` also writes its `observedAt` column,
    /// which the temporal form keeps at row level instead.
    fn write_instance(&mut self, row: usize, instance: &Instance, with_time: bool) {
        let base = base_name(&instance.attribute, instance.dataset_id.as_deref());
        let dataset = instance.dataset_id.as_deref();
        let kind = instance.kind.to_string();
        let value_key = ColumnKey::attribute(&instance.attribute, dataset, instance.value_member);
        let standard_name = self.standard_name(&instance.attribute);
        self.columns
            .set(row, &value_key, instance.value.clone(), Hint::Text, || {
                let mut metadata = vec![(ATTRIBUTE_TYPE_KEY, kind.clone())];
                if let Some(iri) = standard_name {
                    metadata.push((STANDARD_NAME_KEY, iri));
                }
                match instance.kind {
                    "GeoProperty" => metadata.push((SEMANTIC_TYPE_KEY, "geojson".into())),
                    "Relationship" | "ListRelationship" => {
                        metadata.push((SEMANTIC_TYPE_KEY, "relationship".into()));
                    }
                    _ => {}
                }
                (base.clone(), metadata)
            });
        if with_time && let Some((_, text)) = &instance.observed_at {
            let key = ColumnKey::attribute(&instance.attribute, dataset, "observedAt");
            self.columns
                .set(row, &key, Value::from(text.as_str()), Hint::Time, || {
                    (
                        format!("{base}.observedAt"),
                        vec![
                            (ATTRIBUTE_TYPE_KEY, kind.clone()),
                            (SEMANTIC_TYPE_KEY, "observed_at".into()),
                        ],
                    )
                });
        }
        for (member, value) in &instance.members {
            let key = ColumnKey::attribute(&instance.attribute, dataset, member);
            let hint = if TIME_MEMBERS.contains(&member.as_str()) {
                Hint::Time
            } else {
                Hint::Text
            };
            self.columns.set(row, &key, value.clone(), hint, || {
                (
                    format!("{base}.{member}"),
                    vec![(ATTRIBUTE_TYPE_KEY, kind.clone())],
                )
            });
        }
    }

    fn standard_name(&self, attribute: &str) -> Option<String> {
        let context = self.context.as_ref().and_then(Option::as_ref);
        self.options.terms.expand(attribute, context)
    }

    /// Folds constant units into metadata and builds the batch.
    fn finish(mut self, format: &str, quarantined: Vec<QuarantinedItem>) -> Result<Parsed> {
        for (_, value_member) in ATTRIBUTE_TYPES {
            self.columns
                .fold_constant("unitCode", value_member, Some(UNIT_KEY));
        }
        let rows = self.columns.rows();
        let (fields, arrays, issues) = self.columns.build()?;
        let mut metadata = HashMap::from([(FORMAT_KEY.to_string(), format.to_string())]);
        if let Some(Some(context)) = &self.context {
            metadata.insert(CONTEXT_KEY.to_string(), context.to_string());
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(schema)
        } else {
            let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
            RecordBatch::try_new_with_options(schema, arrays, &options)?
        };
        Ok(Parsed {
            batch,
            quarantined,
            issues,
            next_link: None,
        })
    }
}

/// Returns the column name of an attribute instance.
fn base_name(attribute: &str, dataset_id: Option<&str>) -> String {
    match dataset_id {
        None => attribute.to_string(),
        Some(dataset_id) => format!("{attribute}[{dataset_id}]"),
    }
}

fn describe_context(context: Option<&Value>) -> String {
    context.map_or_else(|| "none".to_string(), Value::to_string)
}
