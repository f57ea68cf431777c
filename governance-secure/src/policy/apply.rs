//! Applying an [`AccessDecision`] to a record batch: the row filters, the projection to the
//! visible columns, and the column masks, which run through a [`Masker`] so that the keyed
//! operators (pseudonym, format-preserving, encrypt) work as column masks.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, new_null_array};
use arrow::compute::kernels::boolean;
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::{Error, Result, Semantic};

use super::{AccessDecision, Effect};
use crate::detect::PiiKind;
use crate::mask::MaskOperator;
use crate::masker::{MaskFallback, Masker};

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
    /// Cells of masked columns set to null because their operator failed, as (column, row
    /// index in `data`, reason).
    pub fallbacks: Vec<ColumnMaskFallback>,
}

/// A cell of a policy-masked column whose operator failed and that was set to null.
#[derive(Debug, Clone)]
pub struct ColumnMaskFallback {
    /// Column name.
    pub column: String,
    /// Row index in the masked batch.
    pub row: usize,
    /// The failed operator and why. Never holds the value or a key.
    pub fallback: MaskFallback,
}

/// Applies `decision` to `batch`: keeps the rows its filters allow, then the visible columns,
/// then masks columns. Personal data in free text is left to the guard's detector.
///
/// Masks use a keyless [`Masker`], so the keyed operators set every cell to null with a
/// fallback; [`apply_decision_with`] takes the caller's masker.
pub fn apply_decision(decision: &AccessDecision, batch: &RecordBatch) -> Result<AppliedPolicy> {
    apply_decision_with(decision, batch, &Masker::keyless(), &BTreeMap::new())
}

/// Applies `decision` as [`apply_decision`] does, masking with `masker`. `kinds` names the
/// kind of personal data of columns whose semantic type and name do not, for example from
/// a [`ColumnClassifier`](crate::detect::ColumnClassifier).
pub fn apply_decision_with(
    decision: &AccessDecision,
    batch: &RecordBatch,
    masker: &Masker,
    kinds: &BTreeMap<String, PiiKind>,
) -> Result<AppliedPolicy> {
    let selection = select_rows(decision, batch)?;
    let filtered = filter_record_batch(batch, &selection.keep)?;
    let (data, fallbacks) = project_and_mask(decision, &filtered, masker, kinds)?;
    Ok(AppliedPolicy {
        data,
        withheld_rows: selection.withheld.len(),
        fallbacks,
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
/// the decision masks. Returns the cells set to null because their operator failed.
pub(crate) fn project_and_mask(
    decision: &AccessDecision,
    batch: &RecordBatch,
    masker: &Masker,
    kinds: &BTreeMap<String, PiiKind>,
) -> Result<(RecordBatch, Vec<ColumnMaskFallback>)> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(decision.visible_columns.len());
    let mut columns = Vec::with_capacity(decision.visible_columns.len());
    let mut fallbacks = Vec::new();
    for name in &decision.visible_columns {
        let index = schema.index_of(name)?;
        let field = schema.field(index);
        let array = batch.column(index);
        match decision.column_masks.get(name) {
            Some(operator) => {
                let kind = kinds.get(name).copied();
                let masked = mask_column(field, array, *operator, masker, kind)?;
                fallbacks.extend(masked.fallbacks.into_iter().map(|(row, fallback)| {
                    ColumnMaskFallback {
                        column: name.clone(),
                        row,
                        fallback,
                    }
                }));
                fields.push(masked.field);
                columns.push(masked.array);
            }
            None => {
                fields.push(field.clone());
                columns.push(Arc::clone(array));
            }
        }
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    Ok((RecordBatch::try_new(Arc::new(schema), columns)?, fallbacks))
}

/// One column after its policy mask.
struct MaskedField {
    field: Field,
    array: ArrayRef,
    fallbacks: Vec<(usize, MaskFallback)>,
}

/// Masks every value of one column with `operator`, through `masker`.
///
/// Redact and suppress work on every type and leave only nulls. The other operators mask by
/// the kind of personal data named in the column's semantic type, or failing that in its
/// name (`phone`, `email`, `resident_id`), or failing that by `classified`. A column of
/// another type than text is cast to Utf8 first and stays Utf8. A type tag without a known
/// kind uses the column name as the tag. A cell whose operator fails (a keyed operator
/// without its key, a value too short for a format-preserving token) becomes null and is
/// returned as a fallback.
fn mask_column(
    field: &Field,
    array: &ArrayRef,
    operator: MaskOperator,
    masker: &Masker,
    classified: Option<PiiKind>,
) -> Result<MaskedField> {
    let name = field.name();
    if matches!(operator, MaskOperator::Redact | MaskOperator::Suppress) {
        return Ok(MaskedField {
            field: field.clone().with_nullable(true),
            array: new_null_array(array.data_type(), array.len()),
            fallbacks: Vec::new(),
        });
    }
    let semantic_type = Semantic::from_field(field).semantic_type;
    let kind = [semantic_type.as_deref(), Some(name.as_str())]
        .into_iter()
        .flatten()
        .find_map(|text| serde_json::from_value::<PiiKind>(serde_json::json!(text)).ok())
        .or(classified);
    let is_text = matches!(
        array.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let Some(kind) = kind else {
        if operator == MaskOperator::TypeTag && is_text {
            let tag = format!("<{}>", name.to_uppercase());
            let tags: ArrayRef = Arc::new(StringArray::from_iter(
                (0..array.len()).map(|row| array.is_valid(row).then_some(tag.as_str())),
            ));
            return Ok(MaskedField {
                field: field.clone(),
                array: cast(&tags, array.data_type())?,
                fallbacks: Vec::new(),
            });
        }
        return Err(Error::config(
            "access policy",
            format!(
                "column mask {} on column {name:?} needs the kind of personal data the \
                 column holds; set its semantic type to email, phone or resident_id, or \
                 mask it with redact or type_tag",
                operator.as_str()
            ),
        ));
    };
    let text = if is_text {
        Arc::clone(array)
    } else {
        cast(array, &DataType::Utf8).map_err(|error| {
            Error::config(
                "access policy",
                format!(
                    "column mask {} on column {name:?} of type {} needs values that read as \
                     text ({error}); mask it with redact instead",
                    operator.as_str(),
                    array.data_type()
                ),
            )
        })?
    };
    let masked = masker.mask_column(text.as_ref(), kind, operator)?;
    let (data_type, array) = if is_text {
        (
            array.data_type().clone(),
            cast(&masked.array, array.data_type())?,
        )
    } else {
        (DataType::Utf8, masked.array)
    };
    Ok(MaskedField {
        field: field.clone().with_data_type(data_type).with_nullable(true),
        array,
        fallbacks: masked.fallbacks,
    })
}
