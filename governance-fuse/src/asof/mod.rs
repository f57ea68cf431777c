//! The as-of join: attaches to each stream row the side row of the same key whose time is
//! nearest in a chosen direction, within a tolerance.
//!
//! The side source (weather readings, say) is loaded whole before the stream starts and
//! indexed once: per key, its rows sorted by time. Each stream row then costs one hash lookup
//! and one binary search, and the side columns are gathered with `arrow::compute::interleave`.
//! The join is a left join: every stream row leaves the stage, with nulls in the attached
//! columns where no side row lies within the tolerance.

mod columns;
mod config;
mod index;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::compute::interleave;
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use governance_core::audit::AuditAction;
use governance_core::{
    Error, Fuser, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};

use columns::{KeyKind, TimeKind, key_column, time_column};
pub use config::{AsOfDirection, AsOfJoinConfig};
use index::{RowPosition, SideIndex, SideIndexBuilder};

/// A batch that can be loaded as side data: a plain [`RecordBatch`] or a [`GovernedBatch`],
/// whose row ids are not needed on the side.
pub trait SideBatch {
    /// Returns the batch's data.
    fn into_record_batch(self) -> RecordBatch;
}

impl SideBatch for RecordBatch {
    fn into_record_batch(self) -> RecordBatch {
        self
    }
}

impl SideBatch for GovernedBatch {
    fn into_record_batch(self) -> RecordBatch {
        self.data().clone()
    }
}

/// One side column to attach: its side field and its array in every side batch, followed by
/// a one-row null array that unmatched stream rows point at.
#[derive(Debug)]
struct AttachedColumn {
    field: FieldRef,
    arrays: Vec<ArrayRef>,
}

/// An as-of join of the stream with one side source, as a [`Fuser`].
///
/// Rows out equal rows in, row ids and issues stay with their rows, and the stream's columns
/// come first, followed by the attached side columns (renamed with the configured suffix
/// where the stream already has the name). Attached columns are always nullable.
///
/// # Audit
///
/// Once per round, before the first batch: a `Read` of the side source with its row count.
/// Per batch: a `Change` with the rows matched and unmatched.
#[derive(Debug)]
pub struct AsOfJoin {
    config: AsOfJoinConfig,
    tolerance_ms: u64,
    side_key_kind: KeyKind,
    side_time_kind: TimeKind,
    attached: Vec<AttachedColumn>,
    /// Position of the one-row null arrays after the side batches, which unmatched rows take.
    null_position: RowPosition,
    index: SideIndex,
    side_rows: u64,
    round: Option<u32>,
    matched: u64,
    unmatched: u64,
}

impl AsOfJoin {
    /// Builds the join and indexes `side`, which may be in any order.
    ///
    /// Fails when the config is invalid or `side` is empty (an empty batch is enough to carry
    /// the schema). Fails too when a configured column is missing from the side, or when a
    /// side column has an unsupported type or differs in type between side batches.
    pub fn new<B: SideBatch>(
        config: AsOfJoinConfig,
        side: impl IntoIterator<Item = B>,
    ) -> Result<Self> {
        let tolerance_ms = validate(&config)?;
        let batches: Vec<RecordBatch> =
            side.into_iter().map(SideBatch::into_record_batch).collect();
        let Some(first) = batches.first() else {
            return Err(Error::config(
                &config.name,
                format!(
                    "side source {:?} has no batches: pass at least one batch (an empty batch \
                     is enough to carry the schema)",
                    config.source
                ),
            ));
        };
        let schema = first.schema();
        let owner = format!("side source {:?}", config.source);
        let side_key = config.side_key().to_string();
        let side_time = config.side_time().to_string();
        for (role, column) in [("side_key", &side_key), ("side_time", &side_time)] {
            if schema.index_of(column).is_err() {
                return Err(Error::config(
                    &config.name,
                    format!(
                        "{role} column {column:?} not found in {owner}; its columns are: {}",
                        column_list(&schema)
                    ),
                ));
            }
        }
        let attached_names = attached_names(&config, &schema, &side_key, &side_time)?;

        let mut builder = None;
        let mut side_key_kind = KeyKind::Utf8;
        let mut side_time_kind = TimeKind::EpochMillis;
        let mut attached: Vec<AttachedColumn> = attached_names
            .iter()
            .map(|name| {
                let field = schema
                    .field_with_name(name)
                    .map(|field| Arc::new(field.clone()));
                field.map(|field| AttachedColumn {
                    field,
                    arrays: Vec::with_capacity(batches.len() + 1),
                })
            })
            .collect::<std::result::Result<_, _>>()?;
        let mut side_rows = 0u64;
        for (number, batch) in batches.iter().enumerate() {
            let key_array = side_column(batch, number, &side_key, &schema, &owner)?;
            let time_array = side_column(batch, number, &side_time, &schema, &owner)?;
            let keys = key_column(&key_array, &side_key, &owner)?;
            let times = time_column(&time_array, &side_time, &owner)?;
            side_key_kind = keys.kind();
            side_time_kind = times.kind.clone();
            builder
                .get_or_insert_with(|| SideIndexBuilder::new(side_key_kind))
                .add(number, &keys, &times);
            for column in &mut attached {
                column.arrays.push(side_column(
                    batch,
                    number,
                    column.field.name(),
                    &schema,
                    &owner,
                )?);
            }
            side_rows += batch.num_rows() as u64;
        }
        for column in &mut attached {
            column
                .arrays
                .push(new_null_array(column.field.data_type(), 1));
        }
        let index = builder
            .map(SideIndexBuilder::build)
            .ok_or_else(|| Error::Internal("side index built without batches".into()))?;
        let counts = index.counts();
        if counts.duplicates > 0 || counts.null_key_or_time > 0 {
            tracing::warn!(
                stage = %config.name,
                source = %config.source,
                duplicates = counts.duplicates,
                null_key_or_time = counts.null_key_or_time,
                "side rows skipped: a repeated key and time keeps the first row, a null key or time never matches"
            );
        }
        Ok(AsOfJoin {
            null_position: (batches.len(), 0),
            config,
            tolerance_ms,
            side_key_kind,
            side_time_kind,
            attached,
            index,
            side_rows,
            round: None,
            matched: 0,
            unmatched: 0,
        })
    }

    /// Returns the config.
    pub fn config(&self) -> &AsOfJoinConfig {
        &self.config
    }

    /// Returns the side column names that the join attaches, before any renaming.
    pub fn attached_columns(&self) -> Vec<&str> {
        self.attached
            .iter()
            .map(|column| column.field.name().as_str())
            .collect()
    }

    /// Returns the number of side rows loaded.
    pub fn side_rows(&self) -> u64 {
        self.side_rows
    }

    /// Returns the stream rows matched in the current round.
    pub fn matched_rows(&self) -> u64 {
        self.matched
    }

    /// Returns the stream rows without a side row within the tolerance in the current round.
    pub fn unmatched_rows(&self) -> u64 {
        self.unmatched
    }

    /// Writes the side source's `Read` record once per round and resets the round's counts.
    fn start_round(&mut self, ctx: &StageContext) -> Result<()> {
        if self.round == Some(ctx.round()) {
            return Ok(());
        }
        let counts = self.index.counts();
        ctx.audit(
            AuditAction::Read,
            &self.config.source,
            &format!(
                "rows={} keys={} indexed={} duplicates={} null_key_or_time={} columns={}",
                self.side_rows,
                self.index.keys(),
                counts.indexed,
                counts.duplicates,
                counts.null_key_or_time,
                self.attached_columns().join(",")
            ),
        )?;
        self.round = Some(ctx.round());
        self.matched = 0;
        self.unmatched = 0;
        Ok(())
    }

    /// Returns the output fields of the attached columns for a stream with `schema`.
    fn attached_fields(&self, schema: &Schema) -> Result<Vec<FieldRef>> {
        let mut fields: Vec<FieldRef> = Vec::with_capacity(self.attached.len());
        for column in &self.attached {
            let side_name = column.field.name();
            let name = if schema.index_of(side_name).is_ok() {
                format!("{side_name}{}", self.config.suffix)
            } else {
                side_name.clone()
            };
            let name_in_use =
                schema.index_of(&name).is_ok() || fields.iter().any(|field| field.name() == &name);
            if name_in_use {
                return Err(Error::config(
                    &self.config.name,
                    format!(
                        "attached column {side_name:?} would be named {name:?}, which is already \
                         a column of the output: set another suffix than {:?}",
                        self.config.suffix
                    ),
                ));
            }
            fields.push(Arc::new(
                Field::clone(&column.field)
                    .with_name(name)
                    .with_nullable(true),
            ));
        }
        Ok(fields)
    }
}

/// Checks the config and returns the tolerance in milliseconds.
fn validate(config: &AsOfJoinConfig) -> Result<u64> {
    for (field, value) in [
        ("source", &config.source),
        ("key", &config.key),
        ("time", &config.time),
        ("suffix", &config.suffix),
    ] {
        if value.is_empty() {
            return Err(Error::config(
                &config.name,
                format!("{field} is empty: set it to a non-empty name"),
            ));
        }
    }
    config.tolerance_seconds.checked_mul(1000).ok_or_else(|| {
        Error::config(
            &config.name,
            format!(
                "tolerance_seconds {} is too large: use at most {}",
                config.tolerance_seconds,
                u64::MAX / 1000
            ),
        )
    })
}

/// Resolves the side columns to attach: the configured ones, or every column but key and time.
fn attached_names(
    config: &AsOfJoinConfig,
    schema: &Schema,
    side_key: &str,
    side_time: &str,
) -> Result<Vec<String>> {
    let names: Vec<String> = if config.columns.is_empty() {
        schema
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .filter(|name| name != side_key && name != side_time)
            .collect()
    } else {
        config.columns.clone()
    };
    for (position, name) in names.iter().enumerate() {
        if schema.index_of(name).is_err() {
            return Err(Error::config(
                &config.name,
                format!(
                    "column {name:?} not found in side source {:?}; its columns are: {}",
                    config.source,
                    column_list(schema)
                ),
            ));
        }
        if names[..position].contains(name) {
            return Err(Error::config(
                &config.name,
                format!("column {name:?} is listed twice in columns"),
            ));
        }
    }
    if names.is_empty() {
        return Err(Error::config(
            &config.name,
            format!(
                "side source {:?} has no columns besides its key and time: nothing to attach",
                config.source
            ),
        ));
    }
    Ok(names)
}

/// Returns column `name` of side batch `number`, checking its type against the first batch.
fn side_column(
    batch: &RecordBatch,
    number: usize,
    name: &str,
    first: &SchemaRef,
    owner: &str,
) -> Result<ArrayRef> {
    let expected: &DataType = first.field_with_name(name)?.data_type();
    let Some(array) = batch.column_by_name(name) else {
        return Err(Error::InvalidInput(format!(
            "side batch {number} of {owner} has no column {name:?}; its columns are: {}",
            column_list(&batch.schema())
        )));
    };
    if array.data_type() != expected {
        return Err(Error::InvalidInput(format!(
            "column {name:?} has type {} in side batch {number} of {owner} but {expected} in its \
             first batch: cast the side batches to one schema",
            array.data_type()
        )));
    }
    Ok(Arc::clone(array))
}

fn column_list(schema: &Schema) -> String {
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    names.join(", ")
}

impl Stage for AsOfJoin {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "as-of join ({}) with {} on {} within {} s",
            self.config.direction.as_str(),
            self.config.source,
            self.config.key,
            self.config.tolerance_seconds
        )
    }
}

impl Fuser for AsOfJoin {
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        self.start_round(ctx)?;
        let stream = "the stream";
        let keys = key_column(batch.column(&self.config.key)?, &self.config.key, stream)?;
        if keys.kind() != self.side_key_kind {
            return Err(Error::InvalidInput(format!(
                "key column {:?} of the stream has type {} but key column {:?} of side source {:?} \
                 has type {}: cast one of them so both match",
                self.config.key,
                keys.kind().as_str(),
                self.config.side_key(),
                self.config.source,
                self.side_key_kind.as_str()
            )));
        }
        let times = time_column(batch.column(&self.config.time)?, &self.config.time, stream)?;
        times.kind.check_compatible(
            &self.side_time_kind,
            &self.config.time,
            &self.config.source,
        )?;

        let rows = batch.num_rows();
        let mut positions = Vec::with_capacity(rows);
        let mut unmatched_rows = Vec::new();
        for row in 0..rows {
            let found = if times.millis.is_valid(row) {
                self.index.series(&keys, row).and_then(|series| {
                    series.find(
                        times.millis.value(row),
                        self.config.direction,
                        self.tolerance_ms,
                    )
                })
            } else {
                None
            };
            match found {
                Some(position) => positions.push(position),
                None => {
                    positions.push(self.null_position);
                    unmatched_rows.push(row);
                }
            }
        }

        let stream_schema = batch.data().schema();
        let mut fields: Vec<FieldRef> = stream_schema.fields().iter().cloned().collect();
        fields.extend(self.attached_fields(&stream_schema)?);
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        for column in &self.attached {
            let sources: Vec<&dyn Array> =
                column.arrays.iter().map(|array| array.as_ref()).collect();
            columns.push(interleave(&sources, &positions)?);
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            stream_schema.metadata().clone(),
        ));
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let data = RecordBatch::try_new_with_options(schema, columns, &options)?;

        let mut joined = batch;
        joined.replace_data(data)?;
        if self.config.report_unmatched {
            for &row in &unmatched_rows {
                joined.push_issue(Issue {
                    row_id: joined.row_ids().value(row),
                    column: None,
                    kind: IssueKind::Missing,
                    severity: Severity::Warning,
                    detector: self.config.name.clone(),
                    message: format!(
                        "no row of side source {:?} with this {} within {} s ({})",
                        self.config.source,
                        self.config.key,
                        self.config.tolerance_seconds,
                        self.config.direction.as_str()
                    ),
                    suggested: None,
                    confidence: 1.0,
                });
            }
        }

        let unmatched = unmatched_rows.len() as u64;
        let matched = rows as u64 - unmatched;
        self.matched += matched;
        self.unmatched += unmatched;
        ctx.audit(
            AuditAction::Change,
            &self.config.source,
            &format!(
                "rows={rows} matched={matched} unmatched={unmatched} columns_attached={}",
                self.attached.len()
            ),
        )?;
        tracing::debug!(stage = %self.config.name, rows, matched, unmatched, "as-of join batch");
        Ok(joined)
    }

    fn sources(&self) -> Vec<String> {
        vec![self.config.source.clone()]
    }
}
