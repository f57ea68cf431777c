//! [`DriftState`]: the reference and union schema of a [`SchemaDriftGuard`], stored in the
//! collector's source position, so that a resumed stream is compared with the reference
//! that the stream had before the restart.
//!
//! The state goes into the position's JSON under [`DRIFT_STATE_KEY`], beside the
//! collector's own fields, so it is committed in the same atomic write as the rows of the
//! batch that carries it. Schemas are stored as Arrow IPC schema messages (base64), the
//! format that Arrow implementations exchange schemas in, so every type and all field
//! metadata survive.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow_ipc::convert::try_schema_from_flatbuffer_bytes;
use arrow_ipc::writer::{DictionaryTracker, IpcDataGenerator, IpcWriteOptions};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use governance_core::{Error, Result, SourcePosition};
use serde::{Deserialize, Serialize};

use super::profile::ValueProfile;
use super::{DriftPolicy, Reference, SchemaDriftGuard, nullable};

/// Key of the [`DriftState`] in the JSON state of a collector's [`SourcePosition`].
pub const DRIFT_STATE_KEY: &str = "schema_drift";

/// The part of a [`SchemaDriftGuard`] that a restart must keep: the reference schema with
/// the value profiles of its columns, the union schema of [`DriftPolicy::Adapt`] and the
/// count of changed batches. The type is opaque. Its JSON layout may change between
/// versions, and a version that cannot read a stored layout fails with an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftState {
    reference: String,
    profiles: Vec<ValueProfile>,
    union: Option<String>,
    changed_batches: u64,
}

impl SchemaDriftGuard {
    /// Returns the state to store with the collector's position, or `None` before the
    /// first batch set the reference.
    pub fn state(&self) -> Option<DriftState> {
        let reference = self.reference.as_ref()?;
        Some(DriftState {
            reference: encode_schema(&reference.schema),
            profiles: reference.profiles.clone(),
            union: self.union.as_deref().map(encode_schema),
            changed_batches: self.changed_batches,
        })
    }

    /// Restores a state written by [`SchemaDriftGuard::state`]. `None` clears the reference,
    /// so the next batch becomes it. A state without a union gets the reference as its
    /// union when the policy is [`DriftPolicy::Adapt`], as a first batch would. Fails when
    /// the state cannot be read, naming `stage`.
    pub fn restore(&mut self, stage: &str, state: Option<&DriftState>) -> Result<()> {
        let Some(state) = state else {
            self.reference = None;
            self.union = None;
            self.changed_batches = 0;
            return Ok(());
        };
        let schema = decode_schema(stage, &state.reference)?;
        if state.profiles.len() != schema.fields().len() {
            return Err(Error::config(
                stage,
                format!(
                    "the checkpoint's schema drift state has {} value profiles for {} \
                     reference columns; remove the checkpoint to start over",
                    state.profiles.len(),
                    schema.fields().len()
                ),
            ));
        }
        let union = match &state.union {
            Some(union) => Some(decode_schema(stage, union)?),
            None => None,
        };
        self.union = match (self.config.policy, union) {
            (DriftPolicy::Adapt, Some(union)) => Some(union),
            (DriftPolicy::Adapt, None) => Some(nullable(&schema)),
            _ => None,
        };
        self.reference = Some(Reference {
            schema,
            profiles: state.profiles.clone(),
        });
        self.changed_batches = state.changed_batches;
        Ok(())
    }
}

/// Stores the state of `guard` under [`DRIFT_STATE_KEY`] in `position`'s JSON object. Does
/// nothing without a guard or before its reference is set.
pub(crate) fn attach(
    position: &mut SourcePosition,
    guard: Option<&SchemaDriftGuard>,
) -> Result<()> {
    let Some(state) = guard.and_then(SchemaDriftGuard::state) else {
        return Ok(());
    };
    let serde_json::Value::Object(object) = &mut position.state else {
        return Err(Error::Internal(format!(
            "a {:?} position is not a JSON object, so the schema drift state cannot join it",
            position.kind
        )));
    };
    let value = serde_json::to_value(state).map_err(|error| {
        Error::Internal(format!("cannot serialise the schema drift state: {error}"))
    })?;
    object.insert(DRIFT_STATE_KEY.to_string(), value);
    Ok(())
}

/// Returns `position` without the drift state, and the state it contained, if any.
pub(crate) fn detach(
    stage: &str,
    position: &SourcePosition,
) -> Result<(SourcePosition, Option<DriftState>)> {
    let mut position = position.clone();
    let serde_json::Value::Object(object) = &mut position.state else {
        return Ok((position, None));
    };
    let Some(value) = object.remove(DRIFT_STATE_KEY) else {
        return Ok((position, None));
    };
    let state = serde_json::from_value(value).map_err(|error| {
        Error::config(
            stage,
            format!(
                "the checkpoint's schema drift state is invalid ({error}); remove the \
                 checkpoint to start over"
            ),
        )
    })?;
    Ok((position, Some(state)))
}

/// Encodes `schema` as an Arrow IPC message whose header is the schema, in base64.
fn encode_schema(schema: &Schema) -> String {
    let encoded = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
        schema,
        &mut DictionaryTracker::new(false),
        &IpcWriteOptions::default(),
    );
    STANDARD.encode(encoded.ipc_message)
}

fn decode_schema(stage: &str, text: &str) -> Result<SchemaRef> {
    let invalid = |reason: String| {
        Error::config(
            stage,
            format!(
                "the checkpoint's schema drift state holds an invalid schema ({reason}); \
                 remove the checkpoint to start over"
            ),
        )
    };
    let bytes = STANDARD
        .decode(text)
        .map_err(|error| invalid(error.to_string()))?;
    let schema =
        try_schema_from_flatbuffer_bytes(&bytes).map_err(|error| invalid(error.to_string()))?;
    Ok(Arc::new(schema))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, TimeUnit};
    use governance_core::audit::AuditLog;
    use governance_core::{GovernedBatch, Provenance, RowIdAllocator, StageContext};

    use super::*;
    use crate::drift::DriftConfig;

    fn governed(schema: Schema, columns: Vec<ArrayRef>) -> GovernedBatch {
        let data = RecordBatch::try_new(Arc::new(schema), columns).expect("batch");
        let ids = RowIdAllocator::default().allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
    }

    #[test]
    fn schema_round_trips_with_metadata() {
        let unit = HashMap::from([("governance.unit".to_string(), "ug/m3".to_string())]);
        let schema = Schema::new(vec![
            Field::new("pm25", DataType::Float64, true).with_metadata(unit),
            Field::new(
                "observed",
                DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())),
                false,
            ),
        ]);
        let decoded = decode_schema("test", &encode_schema(&schema)).expect("decode");
        assert_eq!(decoded.as_ref(), &schema);
    }

    #[test]
    fn restored_guard_keeps_reference_and_union() {
        let mut guard = SchemaDriftGuard::new(DriftConfig::new(DriftPolicy::Adapt));
        let mut ctx = StageContext::new("drift", 1, AuditLog::in_memory().into_handle());
        let first = governed(
            Schema::new(vec![Field::new("pm25", DataType::Float64, true)]),
            vec![Arc::new(Float64Array::from(vec![12.0, 14.0]))],
        );
        guard.check("test", first, &mut ctx).expect("reference");
        let second = governed(
            Schema::new(vec![
                Field::new("pm25", DataType::Float64, true),
                Field::new("station", DataType::Utf8, true),
            ]),
            vec![
                Arc::new(Float64Array::from(vec![13.0])),
                Arc::new(StringArray::from(vec!["north"])),
            ],
        );
        guard.check("test", second, &mut ctx).expect("adapt");

        let mut position = SourcePosition::new("folder", serde_json::json!({"next_row_id": 3}));
        attach(&mut position, Some(&guard)).expect("attach");
        let text = serde_json::to_string(&position).expect("serialise");
        let read: SourcePosition = serde_json::from_str(&text).expect("deserialise");
        let (plain, state) = detach("test", &read).expect("detach");
        assert_eq!(plain.state, serde_json::json!({"next_row_id": 3}));

        let mut restored = SchemaDriftGuard::new(DriftConfig::new(DriftPolicy::Adapt));
        restored.restore("test", state.as_ref()).expect("restore");
        assert_eq!(restored.reference(), guard.reference());
        assert_eq!(restored.union, guard.union);
        assert_eq!(restored.changed_batches(), 1);
        assert_eq!(restored.state(), guard.state());
    }

    #[test]
    fn invalid_state_names_the_fix() {
        let position = SourcePosition::new(
            "folder",
            serde_json::json!({DRIFT_STATE_KEY: {"reference": "!!", "profiles": [], "union": null, "changed_batches": 0}}),
        );
        let (_, state) = detach("test", &position).expect("the layout is valid");
        let mut guard = SchemaDriftGuard::new(DriftConfig::default());
        let error = guard
            .restore("test", state.as_ref())
            .expect_err("not base64");
        assert!(
            error.to_string().contains("remove the checkpoint"),
            "{error}"
        );
    }
}
