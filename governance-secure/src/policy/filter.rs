//! Typed row predicates of policy rules, evaluated with Arrow compute kernels.
//!
//! A literal is cast to the column's Arrow type with Arrow's cast kernel before comparing, so
//! `"2024-01-01T00:00:00"` compares with a timestamp column and `"5"` or `5` with an integer
//! column. A literal that does not cast is an error that names the rule, column and type.

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, Scalar, StringArray};
use arrow::compute::cast;
use arrow::compute::kernels::{boolean, cmp};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::rule::rule_error;

/// Returns `mask` with null entries turned to false. Arrow's `prep_null_mask_filter` expects
/// a mask that has nulls, so masks without nulls are returned as they are.
fn nulls_to_false(mask: &BooleanArray) -> BooleanArray {
    if mask.null_count() == 0 {
        mask.clone()
    } else {
        arrow::compute::prep_null_mask_filter(mask)
    }
}

/// Comparison of a [`RowPredicate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    /// Equal to `value`.
    Eq,
    /// Not equal to `value`.
    Ne,
    /// Less than `value`.
    Lt,
    /// Less than or equal to `value`.
    Le,
    /// Greater than `value`.
    Gt,
    /// Greater than or equal to `value`.
    Ge,
    /// Equal to one of `values`.
    In,
    /// Equal to none of `values`.
    NotIn,
    /// Null.
    IsNull,
    /// Not null.
    IsNotNull,
}

impl CompareOp {
    fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::In => "in",
            CompareOp::NotIn => "not_in",
            CompareOp::IsNull => "is_null",
            CompareOp::IsNotNull => "is_not_null",
        }
    }
}

/// A literal in a predicate: a string, integer, float or boolean, as written in TOML or JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text, also used for dates and timestamps such as `"2024-01-01T08:00:00"`.
    Text(String),
}

// Floats in policies come from config files and are never NaN after parsing, so equality is
// total for the values this type holds.
impl Eq for Literal {}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Int(value) => write!(f, "{value}"),
            Literal::Float(value) => write!(f, "{value}"),
            Literal::Text(value) => f.write_str(value),
        }
    }
}

/// A typed condition on one column, such as `district in ["朝阳", "海淀"]`:
///
/// ```toml
/// row_filter = [
///     { column = "district", op = "in", values = ["朝阳", "海淀"] },
///     { column = "reported_at", op = "ge", value = "2024-01-01T00:00:00" },
/// ]
/// ```
///
/// A null cell matches no comparison; use `is_null` to select nulls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowPredicate {
    /// Column compared.
    pub column: String,
    /// Comparison.
    pub op: CompareOp,
    /// Operand of `eq`, `ne`, `lt`, `le`, `gt` and `ge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Literal>,
    /// Operands of `in` and `not_in`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Literal>,
}

impl RowPredicate {
    /// Creates `column op value` for a comparison operator.
    pub fn compare(column: impl Into<String>, op: CompareOp, value: Literal) -> Self {
        RowPredicate {
            column: column.into(),
            op,
            value: Some(value),
            values: Vec::new(),
        }
    }

    /// Creates `column in values`.
    pub fn is_in<I, S>(column: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RowPredicate {
            column: column.into(),
            op: CompareOp::In,
            value: None,
            values: values
                .into_iter()
                .map(|v| Literal::Text(v.into()))
                .collect(),
        }
    }

    /// Checks that the operands fit the operator.
    pub(super) fn validate(&self, rule: &str) -> Result<()> {
        let field = format!("row_filter ({} {})", self.column, self.op.as_str());
        match self.op {
            CompareOp::In | CompareOp::NotIn => {
                if self.values.is_empty() || self.value.is_some() {
                    return Err(rule_error(
                        rule,
                        &field,
                        "in and not_in take a non-empty list in values, and no value",
                    ));
                }
            }
            CompareOp::IsNull | CompareOp::IsNotNull => {
                if self.value.is_some() || !self.values.is_empty() {
                    return Err(rule_error(
                        rule,
                        &field,
                        "is_null and is_not_null take no value or values",
                    ));
                }
            }
            _ => {
                if self.value.is_none() || !self.values.is_empty() {
                    return Err(rule_error(
                        rule,
                        &field,
                        "eq, ne, lt, le, gt and ge take one value, and no values",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Evaluates the predicate over `batch`. Null results count as false.
    pub(super) fn evaluate(&self, batch: &RecordBatch, rule: &str) -> Result<BooleanArray> {
        let Some(array) = batch.column_by_name(&self.column) else {
            return Err(super::missing_column_error(rule, &self.column, batch));
        };
        let result = match self.op {
            CompareOp::IsNull => arrow::compute::is_null(array)?,
            CompareOp::IsNotNull => arrow::compute::is_not_null(array)?,
            CompareOp::In | CompareOp::NotIn => {
                let mut any = BooleanArray::from(vec![false; array.len()]);
                for value in &self.values {
                    let scalar = self.scalar(array, value, rule)?;
                    let equal = nulls_to_false(&cmp::eq(array, &scalar)?);
                    any = boolean::or(&any, &equal)?;
                }
                if self.op == CompareOp::NotIn {
                    // A null cell is in no list and must not pass `not_in` either.
                    let present = arrow::compute::is_not_null(array)?;
                    boolean::and(&boolean::not(&any)?, &present)?
                } else {
                    any
                }
            }
            op => {
                let Some(value) = &self.value else {
                    return Err(Error::Internal(format!(
                        "row predicate {op:?} on {} has no value after validation",
                        self.column
                    )));
                };
                let scalar = self.scalar(array, value, rule)?;
                match op {
                    CompareOp::Eq => cmp::eq(array, &scalar)?,
                    CompareOp::Ne => cmp::neq(array, &scalar)?,
                    CompareOp::Lt => cmp::lt(array, &scalar)?,
                    CompareOp::Le => cmp::lt_eq(array, &scalar)?,
                    CompareOp::Gt => cmp::gt(array, &scalar)?,
                    _ => cmp::gt_eq(array, &scalar)?,
                }
            }
        };
        Ok(nulls_to_false(&result))
    }

    /// Casts `value` to the type of `array` as a one-element scalar.
    fn scalar(&self, array: &ArrayRef, value: &Literal, rule: &str) -> Result<Scalar<ArrayRef>> {
        let text: ArrayRef = std::sync::Arc::new(StringArray::from(vec![value.to_string()]));
        let target = array.data_type();
        let failed = || {
            rule_error(
                rule,
                &format!("row_filter ({} {})", self.column, self.op.as_str()),
                format!(
                    "value {value:?} cannot be read as the column's type {target}; write it \
                     in a form Arrow casts from text, such as 2024-01-01T00:00:00 for a \
                     timestamp"
                ),
            )
        };
        let cast = cast(&text, target).map_err(|_| failed())?;
        if cast.is_null(0) {
            return Err(failed());
        }
        Ok(Scalar::new(cast))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("district", DataType::Utf8, true),
            Field::new("count", DataType::Int64, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("朝阳"), Some("海淀"), None])),
                Arc::new(Int64Array::from(vec![Some(3), None, Some(9)])),
                // 2024-01-01T00:00:00Z, one hour later, one day later.
                Arc::new(TimestampMillisecondArray::from(vec![
                    1_704_067_200_000,
                    1_704_070_800_000,
                    1_704_153_600_000,
                ])),
            ],
        )
        .expect("batch")
    }

    fn evaluate(predicate: RowPredicate) -> Vec<bool> {
        predicate
            .evaluate(&batch(), "test")
            .expect("evaluates")
            .iter()
            .map(|value| value.unwrap_or(false))
            .collect()
    }

    #[test]
    fn in_and_not_in_skip_nulls() {
        assert_eq!(
            evaluate(RowPredicate::is_in("district", ["朝阳", "东城"])),
            [true, false, false]
        );
        let mut not_in = RowPredicate::is_in("district", ["朝阳"]);
        not_in.op = CompareOp::NotIn;
        assert_eq!(evaluate(not_in), [false, true, false]);
    }

    #[test]
    fn comparisons_cast_literals_to_column_type() {
        let at_least_five = RowPredicate::compare("count", CompareOp::Ge, Literal::Int(5));
        assert_eq!(evaluate(at_least_five), [false, false, true]);
        let since = RowPredicate::compare(
            "ts",
            CompareOp::Ge,
            Literal::Text("2024-01-01T01:00:00".into()),
        );
        assert_eq!(evaluate(since), [false, true, true]);
        let missing = RowPredicate {
            column: "count".into(),
            op: CompareOp::IsNull,
            value: None,
            values: Vec::new(),
        };
        assert_eq!(evaluate(missing), [false, true, false]);
    }

    #[test]
    fn uncastable_literal_names_rule_and_type() {
        let predicate = RowPredicate::compare("count", CompareOp::Eq, Literal::Text("many".into()));
        let message = predicate
            .evaluate(&batch(), "counts")
            .expect_err("not an integer")
            .to_string();
        assert!(message.contains("rule \"counts\""), "{message}");
        assert!(message.contains("type Int64"), "{message}");
    }

    #[test]
    fn operands_must_fit_operator() {
        let predicate = RowPredicate {
            column: "district".into(),
            op: CompareOp::In,
            value: Some(Literal::Text("朝阳".into())),
            values: Vec::new(),
        };
        let message = predicate
            .validate("r1")
            .expect_err("in with value")
            .to_string();
        assert!(message.contains("non-empty list in values"), "{message}");
    }
}
