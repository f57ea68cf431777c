//! Applying an [`AccessDecision`] to a record batch: the row filters, the projection to the
//! visible columns, and the column masks.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, LargeStringArray, RecordBatch, StringArray,
    StringViewArray, new_null_array,
};
use arrow::compute::filter_record_batch;
use arrow::compute::kernels::boolean;
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::{Error, Result, Semantic};

use super::{AccessDecision, Effect};
use crate::detect::PiiKind;
use crate::mask::{MaskOperator, mask_value};

/// Rows kept by a decision's row filters, and why each other row was withheld.
#[derive(Debug, Clone)]
pub(crate) struct RowSelection {
    /// True for each row the subject may see.
    pub(crate) keep: BooleanArray,
    /// For each withheld row, its index and the id of the first rule that withheld it.
    pub(crate) withheld: Vec<(usize, String)>,
}

/// A batch after an access decision was applied.
#[derive(Debug, Clone)]
pub struct AppliedPolicy {
    /// The visible rows and columns, with column masks applied.
    pub data: RecordBatch,
    /// Number of rows the row filters withheld.
    pub withheld_rows: usize,
}

/// Applies `decision` to `batch`: keeps the rows its filters allow, then the visible columns,
/// then masks columns. Personal data in free text is left to the guard's detector.
pub fn apply_decision(decision: &AccessDecision, batch: &RecordBatch) -> Result<AppliedPolicy> {
    let selection = select_rows(decision, batch)?;
    let filtered = filter_record_batch(batch, &selection.keep)?;
    Ok(AppliedPolicy {
        data: project_and_mask(decision, &filtered)?,
        withheld_rows: selection.withheld.len(),
    })
}

/// Evaluates the decision's row filters over `batch`, which must still hold every column the
/// filters name.
pub(crate) fn select_rows(decision: &AccessDecision, batch: &RecordBatch) -> Result<RowSelection> {
    let rows = batch.num_rows();
    let mut keep = BooleanArray::from(vec![true; rows]);
    let mut reasons: Vec<Option<&str>> = vec![None; rows];
    for filter in &decision.row_filters {
        let mut matches = BooleanArray::from(vec![true; rows]);
        for predicate in &filter.predicates {
            matches = boolean::and(&matches, &predicate.evaluate(batch, &filter.rule)?)?;
        }
        let passes = match filter.effect {
            Effect::Allow => matches,
            Effect::Deny => boolean::not(&matches)?,
        };
        for (row, pass) in passes.values().iter().enumerate() {
            if !pass && reasons[row].is_none() {
                reasons[row] = Some(&filter.rule);
            }
        }
        keep = boolean::and(&keep, &passes)?;
    }
    let withheld = reasons
        .iter()
        .enumerate()
        .filter_map(|(row, rule)| rule.map(|rule| (row, rule.to_string())))
        .collect();
    Ok(RowSelection { keep, withheld })
}

/// Keeps the visible columns of `batch`, with their field metadata, and masks the columns
/// the decision masks.
pub(crate) fn project_and_mask(
    decision: &AccessDecision,
    batch: &RecordBatch,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(decision.visible_columns.len());
    let mut columns = Vec::with_capacity(decision.visible_columns.len());
    for name in &decision.visible_columns {
        let index = schema.index_of(name)?;
        let field = schema.field(index);
        let array = batch.column(index);
        match decision.column_masks.get(name) {
            Some(operator) => {
                let (field, array) = mask_column(field, array, *operator)?;
                fields.push(field);
                columns.push(array);
            }
            None => {
                fields.push(field.clone());
                columns.push(Arc::clone(array));
            }
        }
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Masks every value of one column with `operator`.
///
/// Redact works on every type and leaves nulls. The other operators need a text column. They
/// mask by the kind of personal data named in the column's semantic type, or failing that in
/// its name (`phone`, `email`, `resident_id`). A type tag without a known kind uses the column
/// name as the tag.
fn mask_column(
    field: &Field,
    array: &ArrayRef,
    operator: MaskOperator,
) -> Result<(Field, ArrayRef)> {
    let name = field.name();
    if operator == MaskOperator::Redact {
        let field = field.clone().with_nullable(true);
        return Ok((field, new_null_array(array.data_type(), array.len())));
    }
    let semantic_type = Semantic::from_field(field).semantic_type;
    let kind = [semantic_type.as_deref(), Some(name.as_str())]
        .into_iter()
        .flatten()
        .find_map(|text| serde_json::from_value::<PiiKind>(serde_json::json!(text)).ok());
    let mask = |value: &str| -> Result<String> {
        match kind {
            Some(kind) => Ok(mask_value(kind, value, operator)),
            None if operator == MaskOperator::TypeTag => Ok(format!("<{}>", name.to_uppercase())),
            None => Err(Error::config(
                "access policy",
                format!(
                    "column mask {} on column {name:?} needs the kind of personal data the \
                     column holds; set its semantic type to email, phone or resident_id, or \
                     mask it with redact or type_tag",
                    operator.as_str()
                ),
            )),
        }
    };
    let masked: ArrayRef = match array.data_type() {
        DataType::Utf8 => Arc::new(
            array
                .as_string::<i32>()
                .iter()
                .map(|value| value.map(mask).transpose())
                .collect::<Result<StringArray>>()?,
        ),
        DataType::LargeUtf8 => Arc::new(
            array
                .as_string::<i64>()
                .iter()
                .map(|value| value.map(mask).transpose())
                .collect::<Result<LargeStringArray>>()?,
        ),
        DataType::Utf8View => Arc::new(
            array
                .as_string_view()
                .iter()
                .map(|value| value.map(mask).transpose())
                .collect::<Result<StringViewArray>>()?,
        ),
        other => {
            return Err(Error::config(
                "access policy",
                format!(
                    "column mask {} on column {name:?} of type {other} needs a text column; \
                     mask it with redact instead",
                    operator.as_str()
                ),
            ));
        }
    };
    Ok((field.clone(), masked))
}
