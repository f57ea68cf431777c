//! Plain JSON objects to Arrow rows, one row per object, under a schema that is declared or
//! inferred from the first object and then checked on every later one.
//!
//! A member becomes a column of the declared [`CsvType`]; an inferred column takes the type
//! of the first object's value: booleans Boolean, integers Int64, other numbers Float64 and
//! strings, nulls, objects and arrays Utf8 (objects and arrays as JSON text). An object with
//! a member the schema lacks, or a value of another type, is rejected with the member and
//! the reason. An integer is accepted in a Float64 column and any value in a Utf8 column.
//! A missing member is null.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{Field, Schema, SchemaRef};
use governance_core::{Error, Result};
use serde_json::{Map, Value};

use crate::csv::{ColumnSpec, CsvType};

/// Converts JSON objects to record batches of one fixed schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonRows {
    columns: Option<Vec<ColumnSpec>>,
    schema: Option<SchemaRef>,
}

/// The rows converted from some objects and the objects rejected.
#[derive(Debug)]
pub(crate) struct ConvertedRows {
    /// One row per accepted object; `None` when no object was accepted and no schema is
    /// known yet.
    pub batch: Option<RecordBatch>,
    /// Index of each rejected object with the reason.
    pub rejected: Vec<(usize, String)>,
}

impl JsonRows {
    /// Creates a converter with a declared schema, or one that infers it when `columns` is
    /// `None`.
    pub fn new(columns: Option<Vec<ColumnSpec>>) -> Result<Self> {
        let mut rows = JsonRows::default();
        if let Some(columns) = columns {
            if columns.is_empty() {
                return Err(Error::InvalidInput(
                    "the declared JSON schema has no columns: declare at least one, or leave it \
                     out to infer the schema"
                        .into(),
                ));
            }
            rows.set_columns(columns);
        }
        Ok(rows)
    }

    fn set_columns(&mut self, columns: Vec<ColumnSpec>) {
        let fields: Vec<Field> = columns
            .iter()
            .map(|column| Field::new(&column.name, column.data_type.arrow_type(), true))
            .collect();
        self.schema = Some(Arc::new(Schema::new(fields)));
        self.columns = Some(columns);
    }

    /// Converts `items`, one row per accepted object.
    pub fn convert(&mut self, items: &[&Value]) -> Result<ConvertedRows> {
        let mut rejected = Vec::new();
        let mut accepted = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let Value::Object(object) = item else {
                rejected.push((
                    index,
                    format!(
                        "the message is a JSON {}, expected an object",
                        json_type(item)
                    ),
                ));
                continue;
            };
            if self.columns.is_none() {
                self.set_columns(infer_columns(object));
            }
            match self.check(object) {
                Ok(()) => accepted.push(index),
                Err(reason) => rejected.push((index, reason)),
            }
        }
        let (Some(columns), Some(schema)) = (&self.columns, &self.schema) else {
            return Ok(ConvertedRows {
                batch: None,
                rejected,
            });
        };
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
        for column in columns {
            let values = accepted.iter().map(|&index| items[index].get(&column.name));
            arrays.push(build_column(column.data_type, values));
        }
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|error| {
            Error::Internal(format!("checked JSON rows failed to form a batch: {error}"))
        })?;
        Ok(ConvertedRows {
            batch: Some(batch),
            rejected,
        })
    }

    fn check(&self, object: &Map<String, Value>) -> std::result::Result<(), String> {
        let columns = self.columns.as_deref().unwrap_or_default();
        for (name, value) in object {
            let Some(column) = columns.iter().find(|column| &column.name == name) else {
                let names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
                return Err(format!(
                    "member {name:?} is not in the schema (columns: {})",
                    names.join(", ")
                ));
            };
            let fits = match column.data_type {
                CsvType::Utf8 => true,
                CsvType::Boolean => value.is_boolean() || value.is_null(),
                CsvType::Int64 => value.is_i64() || value.is_null(),
                CsvType::Float64 => value.is_number() || value.is_null(),
            };
            if !fits {
                return Err(format!(
                    "member {name:?} is a JSON {} ({value}), expected {}",
                    json_type(value),
                    column.data_type.as_str()
                ));
            }
        }
        Ok(())
    }
}

fn infer_columns(object: &Map<String, Value>) -> Vec<ColumnSpec> {
    object
        .iter()
        .map(|(name, value)| {
            let data_type = match value {
                Value::Bool(_) => CsvType::Boolean,
                Value::Number(number) if number.is_i64() => CsvType::Int64,
                Value::Number(_) => CsvType::Float64,
                _ => CsvType::Utf8,
            };
            ColumnSpec::new(name, data_type)
        })
        .collect()
}

fn build_column<'a>(
    data_type: CsvType,
    values: impl Iterator<Item = Option<&'a Value>>,
) -> ArrayRef {
    match data_type {
        CsvType::Boolean => {
            let mut builder = BooleanBuilder::new();
            values.for_each(|value| builder.append_option(value.and_then(Value::as_bool)));
            Arc::new(builder.finish())
        }
        CsvType::Int64 => {
            let mut builder = Int64Builder::new();
            values.for_each(|value| builder.append_option(value.and_then(Value::as_i64)));
            Arc::new(builder.finish())
        }
        CsvType::Float64 => {
            let mut builder = Float64Builder::new();
            values.for_each(|value| builder.append_option(value.and_then(Value::as_f64)));
            Arc::new(builder.finish())
        }
        CsvType::Utf8 => {
            let mut builder = StringBuilder::new();
            for value in values {
                match value {
                    None | Some(Value::Null) => builder.append_null(),
                    Some(Value::String(text)) => builder.append_value(text),
                    Some(other) => builder.append_value(other.to_string()),
                }
            }
            Arc::new(builder.finish())
        }
    }
}

/// Returns the JSON type name of `value`, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    use serde_json::json;

    use super::*;

    #[test]
    fn inferred_schema_rejects_later_mismatch() {
        let mut rows = JsonRows::new(None).expect("converter");
        let items = [
            json!({"station": "A", "pm25": 12.5}),
            json!({"station": "B", "pm25": "high"}),
            json!({"station": "C", "pm25": 3}),
            json!({"station": "D", "extra": 1}),
            json!([1, 2]),
        ];
        let refs: Vec<&Value> = items.iter().collect();
        let converted = rows.convert(&refs).expect("convert");
        let batch = converted.batch.expect("a batch");
        assert_eq!(batch.num_rows(), 2);
        let pm25 = batch.column(0).as_primitive::<Float64Type>();
        assert_eq!(pm25.value(1), 3.0);
        let reasons: Vec<usize> = converted.rejected.iter().map(|(index, _)| *index).collect();
        assert_eq!(reasons, vec![1, 3, 4]);
        assert!(
            converted.rejected[0].1.contains("expected float64"),
            "{}",
            converted.rejected[0].1
        );
        assert!(
            converted.rejected[1].1.contains("\"extra\""),
            "{}",
            converted.rejected[1].1
        );
    }

    #[test]
    fn declared_schema_fills_missing_with_null() {
        let columns = vec![
            ColumnSpec::new("id", CsvType::Utf8),
            ColumnSpec::new("ok", CsvType::Boolean),
        ];
        let mut rows = JsonRows::new(Some(columns)).expect("converter");
        let item = json!({"id": "x"});
        let converted = rows.convert(&[&item]).expect("convert");
        let batch = converted.batch.expect("a batch");
        assert_eq!(batch.num_rows(), 1);
        assert!(batch.column(1).is_null(0));
    }
}
