//! Schema drift within one stream: each batch's schema is compared with the stream's first
//! batch (the reference), and a [`DriftPolicy`] decides what happens to a batch that differs.
//!
//! A change is one of [`SchemaChange`]: a new column, a missing column, a renamed column or
//! a retyped column. A missing and a new column of compatible types count as a rename when
//! their values look alike and their score reaches [`DriftConfig::rename_min_score_percent`].
//! The score is 0.75 times the similarity of their value profiles (moments and range of
//! numbers, shared distinct values and length of text) plus 0.25 times the similarity of
//! their names (normalised Levenshtein, ignoring case, `_`, `-` and spaces).
//!
//! - [`DriftPolicy::Quarantine`] sends every row of a changed batch to the quarantine with a
//!   reason that names each change, and emits nothing for it.
//! - [`DriftPolicy::Alert`] passes the batch on unchanged, records one issue per change on
//!   the batch's first row (kind `inconsistent`, detector `schema_drift`) and an audit record.
//! - [`DriftPolicy::Adapt`] reshapes the batch to the union schema: the reference columns in
//!   their order and type, then every new column in the order it first appeared. A missing
//!   column becomes nulls, a renamed column takes its reference name, and a retyped column
//!   is cast to the union type. A row whose value would change in that cast (checked by
//!   casting back) goes to the quarantine, so no value is altered or dropped silently. The
//!   issues and audit record of `Alert` are written too.
//!
//! Under `Adapt`, the union grows when a column appears that the stream has not had before,
//! so later batches then carry more columns than earlier ones. The Parquet and CSV sinks of
//! `governance-apply` write such a stream with the union of the batches' columns, and the
//! Parquet part sink writes each batch's columns to its part. The PostgreSQL sink still
//! rejects a batch whose columns differ from the first batch's.
//!
//! # Restarts
//!
//! The folder and MQTT collectors store the guard's [`DriftState`] (reference schema, value
//! profiles, union schema) in the source position of every batch they emit, under
//! [`DRIFT_STATE_KEY`], and restore it in `resume`. A stream resumed from a checkpoint is
//! therefore compared with the reference it had before the restart, and under `Adapt` it
//! keeps the union's columns. A checkpoint written without a drift state (by an older
//! version, or with drift handling off) makes the first batch after the restart the
//! reference.

mod adapt;
mod profile;
mod state;

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::audit::AuditAction;
use governance_core::{
    GovernedBatch, Issue, IssueKind, QuarantinedRow, Result, Severity, StageContext,
};
use serde::{Deserialize, Serialize};

use self::profile::{ValueProfile, is_numeric, is_textual};
pub use self::state::{DRIFT_STATE_KEY, DriftState};
pub(crate) use self::state::{attach as attach_state, detach as detach_state};

/// Detector name of the issues that schema drift records.
pub const SCHEMA_DRIFT_DETECTOR: &str = "schema_drift";

/// Handling of a batch whose schema differs from the stream's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftPolicy {
    /// Every row of the batch goes to the quarantine with the changes as reason.
    #[default]
    Quarantine,
    /// The batch passes unchanged; issues and an audit record name the changes.
    Alert,
    /// The batch is reshaped to the union schema (see the [module docs](self)).
    Adapt,
}

/// Settings of schema drift handling. Unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftConfig {
    /// Handling of a changed batch. Default `quarantine`.
    pub policy: DriftPolicy,
    /// Looks for renamed columns by their values and names. Default true; when false a
    /// rename shows as a missing and a new column.
    pub detect_renames: bool,
    /// Lowest score, in percent, at which a missing and a new column count as one renamed
    /// column. Default 80.
    pub rename_min_score_percent: u8,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            policy: DriftPolicy::Quarantine,
            detect_renames: true,
            rename_min_score_percent: 80,
        }
    }
}

impl DriftConfig {
    /// Creates a config with `policy` and the default rename detection.
    pub fn new(policy: DriftPolicy) -> Self {
        DriftConfig {
            policy,
            ..DriftConfig::default()
        }
    }
}

/// One difference between a batch's schema and the reference.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SchemaChange {
    /// A column the reference does not have.
    Added {
        /// Column name in the batch.
        column: String,
        /// Its type.
        data_type: DataType,
    },
    /// A reference column the batch lacks.
    Missing {
        /// Column name in the reference.
        column: String,
        /// Its reference type.
        data_type: DataType,
    },
    /// A reference column that the batch has under another name.
    Renamed {
        /// Name in the reference.
        from: String,
        /// Name in the batch.
        to: String,
        /// Score of the match, from 0 to 1.
        score: f64,
    },
    /// A column whose type differs from the reference; for a renamed column, `column` is the
    /// reference name.
    Retyped {
        /// Column name in the reference.
        column: String,
        /// Reference type.
        from: DataType,
        /// Type in the batch.
        to: DataType,
    },
}

impl SchemaChange {
    /// Returns the column the change is about, as the batch names it where it has it.
    pub fn column(&self) -> &str {
        match self {
            SchemaChange::Added { column, .. }
            | SchemaChange::Missing { column, .. }
            | SchemaChange::Retyped { column, .. } => column,
            SchemaChange::Renamed { to, .. } => to,
        }
    }
}

impl fmt::Display for SchemaChange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaChange::Added { column, data_type } => {
                write!(formatter, "new column {column:?} ({data_type})")
            }
            SchemaChange::Missing { column, data_type } => {
                write!(formatter, "missing column {column:?} ({data_type})")
            }
            SchemaChange::Renamed { from, to, score } => write!(
                formatter,
                "column {from:?} renamed to {to:?} (score {score:.2})"
            ),
            SchemaChange::Retyped { column, from, to } => {
                write!(formatter, "column {column:?} retyped from {from} to {to}")
            }
        }
    }
}

/// Compares each batch of a stream with the first and applies a [`DriftPolicy`]; collectors
/// hold one when their config names a [`DriftConfig`].
#[derive(Debug, Clone)]
pub struct SchemaDriftGuard {
    config: DriftConfig,
    reference: Option<Reference>,
    /// The union schema of [`DriftPolicy::Adapt`]; starts as the reference.
    union: Option<SchemaRef>,
    changed_batches: u64,
}

#[derive(Debug, Clone)]
struct Reference {
    schema: SchemaRef,
    profiles: Vec<ValueProfile>,
}

impl SchemaDriftGuard {
    /// Creates a guard with no reference. The first batch it checks becomes the reference.
    pub fn new(config: DriftConfig) -> Self {
        SchemaDriftGuard {
            config,
            reference: None,
            union: None,
            changed_batches: 0,
        }
    }

    /// Returns the config.
    pub fn config(&self) -> &DriftConfig {
        &self.config
    }

    /// Returns the reference schema, once a batch was seen.
    pub fn reference(&self) -> Option<&SchemaRef> {
        self.reference.as_ref().map(|reference| &reference.schema)
    }

    /// Returns the number of batches that differed from the reference so far.
    pub fn changed_batches(&self) -> u64 {
        self.changed_batches
    }

    /// Lists how `data`'s schema differs from the reference; empty before the first batch.
    pub fn compare(&self, data: &RecordBatch) -> Vec<SchemaChange> {
        let Some(reference) = &self.reference else {
            return Vec::new();
        };
        let schema = data.schema();
        let mut changes = Vec::new();
        let mut missing = Vec::new();
        for (index, field) in reference.schema.fields().iter().enumerate() {
            match schema.field_with_name(field.name()) {
                Ok(found) if found.data_type() != field.data_type() => {
                    changes.push(SchemaChange::Retyped {
                        column: field.name().clone(),
                        from: field.data_type().clone(),
                        to: found.data_type().clone(),
                    });
                }
                Ok(_) => {}
                Err(_) => missing.push(index),
            }
        }
        let mut added: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| reference.schema.field_with_name(field.name()).is_err())
            .map(|(index, _)| index)
            .collect();

        if self.config.detect_renames {
            for (from, to, score) in self.renames(reference, data, &missing, &added) {
                let reference_field = reference.schema.field(from);
                let batch_field = schema.field(to);
                changes.push(SchemaChange::Renamed {
                    from: reference_field.name().clone(),
                    to: batch_field.name().clone(),
                    score,
                });
                if reference_field.data_type() != batch_field.data_type() {
                    changes.push(SchemaChange::Retyped {
                        column: reference_field.name().clone(),
                        from: reference_field.data_type().clone(),
                        to: batch_field.data_type().clone(),
                    });
                }
                missing.retain(|index| *index != from);
                added.retain(|index| *index != to);
            }
        }
        for index in missing {
            let field = reference.schema.field(index);
            changes.push(SchemaChange::Missing {
                column: field.name().clone(),
                data_type: field.data_type().clone(),
            });
        }
        for index in added {
            let field = schema.field(index);
            changes.push(SchemaChange::Added {
                column: field.name().clone(),
                data_type: field.data_type().clone(),
            });
        }
        changes
    }

    /// Pairs missing reference columns with new batch columns whose score reaches the
    /// threshold, best score first; returns (reference index, batch index, score).
    fn renames(
        &self,
        reference: &Reference,
        data: &RecordBatch,
        missing: &[usize],
        added: &[usize],
    ) -> Vec<(usize, usize, f64)> {
        let threshold = f64::from(self.config.rename_min_score_percent) / 100.0;
        let schema = data.schema();
        let mut candidates = Vec::new();
        for &from in missing {
            let reference_field = reference.schema.field(from);
            for &to in added {
                let batch_field = schema.field(to);
                if !compatible(reference_field.data_type(), batch_field.data_type()) {
                    continue;
                }
                let values =
                    reference.profiles[from].similarity(&ValueProfile::of(data.column(to)));
                let names = name_similarity(reference_field.name(), batch_field.name());
                let score = 0.75 * values + 0.25 * names;
                if score >= threshold {
                    candidates.push((from, to, score));
                }
            }
        }
        candidates.sort_by(|left, right| right.2.total_cmp(&left.2));
        let mut chosen: Vec<(usize, usize, f64)> = Vec::new();
        for (from, to, score) in candidates {
            if chosen
                .iter()
                .all(|(taken_from, taken_to, _)| *taken_from != from && *taken_to != to)
            {
                chosen.push((from, to, score));
            }
        }
        chosen
    }

    /// Checks one batch of `stage`: the first batch becomes the reference and passes; a
    /// later batch that differs is handled by the policy. Returns `None` when the whole batch
    /// went to the quarantine.
    pub fn check(
        &mut self,
        stage: &str,
        batch: GovernedBatch,
        ctx: &mut StageContext,
    ) -> Result<Option<GovernedBatch>> {
        if self.reference.is_none() {
            let data = batch.data();
            let profiles = data.columns().iter().map(ValueProfile::of).collect();
            let reference = Reference {
                schema: data.schema(),
                profiles,
            };
            if self.config.policy == DriftPolicy::Adapt {
                self.union = Some(nullable(&reference.schema));
            }
            self.reference = Some(reference);
            return self.adapt_if_needed(stage, batch, &[], ctx);
        }

        let changes = self.compare(batch.data());
        if changes.is_empty() {
            return self.adapt_if_needed(stage, batch, &changes, ctx);
        }
        self.changed_batches += 1;
        let described = describe(&changes);
        let source = batch.provenance.source.clone();
        tracing::warn!(
            stage,
            source = %source,
            policy = ?self.config.policy,
            changes = %described,
            "schema drift"
        );
        ctx.audit(
            AuditAction::Read,
            &source,
            &format!("schema drift, policy {:?}: {described}", self.config.policy),
        )?;

        match self.config.policy {
            DriftPolicy::Quarantine => {
                let reason = format!(
                    "schema drift: {described}; the batch differs from the stream's first \
                     batch, so its rows are held here (set the drift policy to adapt or \
                     alert to let such batches through)"
                );
                quarantine_rows(&batch, &reason, ctx)?;
                Ok(None)
            }
            DriftPolicy::Alert => {
                let mut batch = batch;
                record_issues(&mut batch, &changes);
                Ok(Some(batch))
            }
            DriftPolicy::Adapt => self.adapt_if_needed(stage, batch, &changes, ctx),
        }
    }

    fn adapt_if_needed(
        &mut self,
        stage: &str,
        batch: GovernedBatch,
        changes: &[SchemaChange],
        ctx: &mut StageContext,
    ) -> Result<Option<GovernedBatch>> {
        if self.config.policy != DriftPolicy::Adapt {
            return Ok(Some(batch));
        }
        let Some(union) = self.union.clone() else {
            return Ok(Some(batch));
        };
        let (union, adapted) = adapt::to_union(stage, &union, batch, changes, ctx)?;
        self.union = Some(union);
        let Some(mut adapted) = adapted else {
            return Ok(None);
        };
        record_issues(&mut adapted, changes);
        Ok(Some(adapted))
    }
}

/// Returns true when values of `left` can stand for values of `right` in a rename.
fn compatible(left: &DataType, right: &DataType) -> bool {
    left == right
        || (is_numeric(left) && is_numeric(right))
        || (is_textual(left) && is_textual(right))
}

fn name_similarity(left: &str, right: &str) -> f64 {
    let normalise = |name: &str| {
        name.chars()
            .filter(|character| !matches!(character, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    strsim::normalized_levenshtein(&normalise(left), &normalise(right))
}

fn nullable(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| field.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

pub(crate) fn describe(changes: &[SchemaChange]) -> String {
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn record_issues(batch: &mut GovernedBatch, changes: &[SchemaChange]) {
    if batch.num_rows() == 0 {
        return;
    }
    let first = batch.row_ids().value(0);
    for change in changes {
        batch.push_issue(Issue::cell(
            first,
            change.column(),
            IssueKind::Inconsistent,
            Severity::Warning,
            SCHEMA_DRIFT_DETECTOR,
            format!("schema drift in this batch: {change}"),
        ));
    }
}

/// Sends the rows at `rows` (every row when `None`) of `batch` to the quarantine, each with
/// its values as a JSON object of display strings.
pub(crate) fn quarantine_selected(
    batch: &GovernedBatch,
    rows: Option<&[usize]>,
    reason: &dyn Fn(usize) -> String,
    ctx: &mut StageContext,
) -> Result<()> {
    let data = batch.data();
    let schema = data.schema();
    let options = FormatOptions::default().with_null("null");
    let formatters = data
        .columns()
        .iter()
        .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let all: Vec<usize> = (0..data.num_rows()).collect();
    let source = batch.provenance.source.clone();
    for &row in rows.unwrap_or(&all) {
        let mut object = serde_json::Map::new();
        for (index, (field, formatter)) in schema.fields().iter().zip(&formatters).enumerate() {
            let value = if data.column(index).is_null(row) {
                serde_json::Value::Null
            } else {
                serde_json::Value::String(formatter.value(row).to_string())
            };
            object.insert(field.name().clone(), value);
        }
        ctx.quarantine(QuarantinedRow {
            stage: String::new(),
            row_id: Some(batch.row_ids().value(row)),
            source: Some(source.clone()),
            line: None,
            reason: reason(row),
            raw: serde_json::Value::Object(object).to_string(),
        });
    }
    Ok(())
}

fn quarantine_rows(batch: &GovernedBatch, reason: &str, ctx: &mut StageContext) -> Result<()> {
    quarantine_selected(batch, None, &|_| reason.to_string(), ctx)
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array};
    use arrow::datatypes::Int64Type;
    use governance_core::audit::AuditLog;
    use governance_core::{Provenance, RowIdAllocator};

    use super::*;

    fn governed(name: &str, column: ArrayRef, ids: &RowIdAllocator) -> GovernedBatch {
        let schema = Schema::new(vec![Field::new(name, column.data_type().clone(), true)]);
        let data = RecordBatch::try_new(Arc::new(schema), vec![column]).expect("batch");
        let row_ids = ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, row_ids, Provenance::new("test")).expect("governed")
    }

    fn context() -> StageContext {
        StageContext::new("drift", 1, AuditLog::in_memory().into_handle())
    }

    #[test]
    fn compare_is_empty_before_reference() {
        let guard = SchemaDriftGuard::new(DriftConfig::default());
        let ids = RowIdAllocator::default();
        let batch = governed("pm25", Arc::new(Float64Array::from(vec![1.0])), &ids);
        assert!(guard.compare(batch.data()).is_empty());
        assert!(guard.reference().is_none());
    }

    #[test]
    fn rename_with_new_type_reports_both() {
        let mut guard = SchemaDriftGuard::new(DriftConfig::new(DriftPolicy::Alert));
        let ids = RowIdAllocator::default();
        let mut ctx = context();
        let first = governed(
            "pm25",
            Arc::new(Float64Array::from(vec![12.0, 14.0, 13.0])),
            &ids,
        );
        guard.check("test", first, &mut ctx).expect("reference");

        let renamed = governed("pm2_5", Arc::new(Int64Array::from(vec![12, 14, 13])), &ids);
        let changes = guard.compare(renamed.data());
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(matches!(
            &changes[0],
            SchemaChange::Renamed { from, to, score } if from == "pm25" && to == "pm2_5" && *score > 0.99
        ));
        assert_eq!(
            changes[1],
            SchemaChange::Retyped {
                column: "pm25".into(),
                from: DataType::Float64,
                to: DataType::Int64,
            }
        );
    }

    #[test]
    fn renames_can_be_turned_off() {
        let mut config = DriftConfig::new(DriftPolicy::Alert);
        config.detect_renames = false;
        let mut guard = SchemaDriftGuard::new(config);
        let ids = RowIdAllocator::default();
        let mut ctx = context();
        let first = governed("pm25", Arc::new(Float64Array::from(vec![12.0, 14.0])), &ids);
        guard.check("test", first, &mut ctx).expect("reference");
        let renamed = governed(
            "pm2_5",
            Arc::new(Float64Array::from(vec![12.0, 14.0])),
            &ids,
        );
        let described = describe(&guard.compare(renamed.data()));
        assert_eq!(
            described,
            "missing column \"pm25\" (Float64); new column \"pm2_5\" (Float64)"
        );
    }

    #[test]
    fn adapt_quarantines_lossy_cast() {
        let mut guard = SchemaDriftGuard::new(DriftConfig::new(DriftPolicy::Adapt));
        let ids = RowIdAllocator::default();
        let mut ctx = context();
        let first = governed("count", Arc::new(Int64Array::from(vec![1, 2, 3])), &ids);
        guard.check("test", first, &mut ctx).expect("reference");

        let decimals = governed(
            "count",
            Arc::new(Float64Array::from(vec![Some(4.0), Some(5.5), None])),
            &ids,
        );
        let adapted = guard
            .check("test", decimals, &mut ctx)
            .expect("adapt")
            .expect("rows left");
        let counts: Vec<Option<i64>> = adapted
            .column("count")
            .expect("count")
            .as_primitive::<Int64Type>()
            .iter()
            .collect();
        assert_eq!(counts, vec![Some(4), None]);
        assert_eq!(adapted.row_ids().values().to_vec(), vec![3, 5]);

        let quarantined = ctx.take_quarantined();
        assert_eq!(quarantined.len(), 1);
        assert_eq!(quarantined[0].row_id, Some(4));
        assert!(
            quarantined[0]
                .reason
                .contains("value \"5.5\" of column \"count\" (Float64) cannot be stored as Int64"),
            "{}",
            quarantined[0].reason
        );
        assert_eq!(guard.changed_batches(), 1);
    }
}
