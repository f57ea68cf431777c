//! Reshaping a batch to the union schema for [`DriftPolicy::Adapt`](super::DriftPolicy).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, new_null_array,
};
use arrow::compute::kernels::cmp::not_distinct;
use arrow::compute::{can_cast_types, cast};
use arrow::datatypes::{Field, FieldRef, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::{GovernedBatch, Result, StageContext};

use super::{SchemaChange, describe, quarantine_selected};

/// Grows `union` by the batch's new columns and reshapes the batch to it. Returns the grown
/// union and the batch, or `None` when a column cannot be cast at all and the whole batch
/// went to the quarantine. Rows whose values a cast would change go to the quarantine and
/// leave the batch.
pub(super) fn to_union(
    stage: &str,
    union: &SchemaRef,
    batch: GovernedBatch,
    changes: &[SchemaChange],
    ctx: &mut StageContext,
) -> Result<(SchemaRef, Option<GovernedBatch>)> {
    let data = batch.data().clone();
    let schema = data.schema();
    let renamed: HashMap<&str, &str> = changes
        .iter()
        .filter_map(|change| match change {
            SchemaChange::Renamed { from, to, .. } => Some((to.as_str(), from.as_str())),
            _ => None,
        })
        .collect();
    let union_name = |field: &Field| -> String {
        renamed
            .get(field.name().as_str())
            .map_or_else(|| field.name().clone(), |name| name.to_string())
    };

    let mut fields: Vec<FieldRef> = union.fields().iter().cloned().collect();
    for field in schema.fields() {
        let name = union_name(field);
        if !fields.iter().any(|known| *known.name() == name) {
            tracing::info!(stage, column = %name, "schema drift: the union schema gains a column");
            fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
        }
    }
    let union: SchemaRef = Arc::new(Schema::new_with_metadata(fields, union.metadata().clone()));

    let rows = data.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(union.fields().len());
    let mut changed_rows: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for field in union.fields() {
        let source = schema
            .fields()
            .iter()
            .position(|candidate| union_name(candidate) == *field.name());
        let Some(source) = source else {
            columns.push(new_null_array(field.data_type(), rows));
            continue;
        };
        let column = data.column(source);
        if column.data_type() == field.data_type() {
            columns.push(Arc::clone(column));
            continue;
        }
        if !can_cast_types(column.data_type(), field.data_type()) {
            let reason = format!(
                "schema drift: {}; column {:?} of type {} cannot be cast to the stream's type {}, \
                 so the batch cannot join the union schema",
                describe(changes),
                schema.field(source).name(),
                column.data_type(),
                field.data_type()
            );
            quarantine_selected(&batch, None, &|_| reason.clone(), ctx)?;
            return Ok((union, None));
        }
        let converted = cast(column, field.data_type())?;
        for row in rows_changed_by_cast(column, &converted)? {
            let value = display_value(column, row)?;
            changed_rows.entry(row).or_default().push(format!(
                "value {value:?} of column {:?} ({}) cannot be stored as {} without change",
                schema.field(source).name(),
                column.data_type(),
                field.data_type()
            ));
        }
        columns.push(converted);
    }

    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    let adapted = RecordBatch::try_new_with_options(Arc::clone(&union), columns, &options)?;
    if !changed_rows.is_empty() {
        let selected: Vec<usize> = changed_rows.keys().copied().collect();
        let reason = |row: usize| {
            format!(
                "schema drift: {}; {}",
                describe(changes),
                changed_rows
                    .get(&row)
                    .map(|reasons| reasons.join("; "))
                    .unwrap_or_default()
            )
        };
        quarantine_selected(&batch, Some(&selected), &reason, ctx)?;
    }
    let mut batch = batch;
    batch.replace_data(adapted)?;
    if changed_rows.is_empty() {
        return Ok((union, Some(batch)));
    }
    let keep: BooleanArray = (0..rows)
        .map(|row| Some(!changed_rows.contains_key(&row)))
        .collect();
    Ok((union, Some(batch.filter(&keep)?)))
}

/// Returns the rows whose value `converted` does not keep: a non-null value that became
/// null, or one that does not cast back to itself.
fn rows_changed_by_cast(original: &ArrayRef, converted: &ArrayRef) -> Result<Vec<usize>> {
    let same: Option<BooleanArray> = if can_cast_types(converted.data_type(), original.data_type())
    {
        cast(converted, original.data_type())
            .ok()
            .and_then(|back| not_distinct(original, &back).ok())
    } else {
        None
    };
    let mut changed = Vec::new();
    for row in 0..original.len() {
        let lost = original.is_valid(row) && converted.is_null(row);
        let differs = same
            .as_ref()
            .is_some_and(|same| same.is_valid(row) && !same.value(row));
        if lost || differs {
            changed.push(row);
        }
    }
    Ok(changed)
}

fn display_value(column: &ArrayRef, row: usize) -> Result<String> {
    let options = FormatOptions::default().with_null("null");
    let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
    Ok(formatter.value(row).to_string())
}
