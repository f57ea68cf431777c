//! Column profiles for the dataset graph: type kind, counts and a MinHash signature of the
//! distinct values.
//!
//! Values are compared by their display text (Arrow's `ArrayFormatter` with default options),
//! so the integer `42` and the string `"42"` are the same value, as are equal timestamps of
//! different units. Text is taken as it is: no trimming or case folding.

use std::collections::HashSet;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::{Error, ROW_ID_COLUMN, Result};
use serde::{Deserialize, Serialize};

use crate::sketch::{MinHashSignature, MinHasher, hash_value};

/// Broad type of a column, for deciding which columns may join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Strings, and dictionaries of strings.
    Text,
    /// Signed and unsigned integers.
    Integer,
    /// Decimals.
    Decimal,
    /// Floating-point numbers; measurements, never join keys here.
    Float,
    /// Timestamps, dates and times of day.
    Temporal,
    /// Booleans; two values, never join keys here.
    Boolean,
    /// Anything else (lists, structs, binary).
    Other,
}

impl ColumnKind {
    /// Returns the kind of an Arrow type.
    pub fn of(data_type: &DataType) -> Self {
        match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnKind::Text,
            DataType::Dictionary(_, value) => match ColumnKind::of(value) {
                ColumnKind::Text => ColumnKind::Text,
                _ => ColumnKind::Other,
            },
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ColumnKind::Integer,
            DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => ColumnKind::Decimal,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => ColumnKind::Float,
            DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_) => ColumnKind::Temporal,
            DataType::Boolean => ColumnKind::Boolean,
            _ => ColumnKind::Other,
        }
    }

    /// Returns true when columns of this kind get a sketch and can join.
    pub fn is_sketched(self) -> bool {
        matches!(
            self,
            ColumnKind::Text | ColumnKind::Integer | ColumnKind::Decimal | ColumnKind::Temporal
        )
    }

    /// Returns true when a column of this kind may join a column of `other`: the same
    /// sketched kind, or text with integers (codes are often stored as either).
    pub fn joins_with(self, other: ColumnKind) -> bool {
        let codes = |kind| matches!(kind, ColumnKind::Text | ColumnKind::Integer);
        (self == other && self.is_sketched()) || (codes(self) && codes(other))
    }
}

/// Profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Arrow type, as text.
    pub data_type: String,
    /// Broad type.
    pub kind: ColumnKind,
    /// Rows seen.
    pub rows: u64,
    /// Null values.
    pub nulls: u64,
    /// Distinct non-null values (exact count of distinct 64-bit value hashes); 0 for kind
    /// `Other`, whose values are not read.
    pub distinct: u64,
    /// MinHash signature of the distinct values; `None` for kinds that are not sketched.
    pub signature: Option<MinHashSignature>,
}

impl ColumnProfile {
    /// Returns distinct values over non-null rows: 1 for a column of unique values.
    pub fn uniqueness(&self) -> f64 {
        let present = self.rows - self.nulls;
        if present == 0 {
            0.0
        } else {
            self.distinct as f64 / present as f64
        }
    }
}

/// Profile of one data set: its name, rows and column profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    /// Data set name, unique within a graph.
    pub name: String,
    /// Rows over all batches.
    pub rows: u64,
    /// One profile per column, in schema order.
    pub columns: Vec<ColumnProfile>,
}

impl DatasetProfile {
    /// Profiles `batches`, which must share a schema, as data set `name`. The row-id column
    /// `__row_id` is left out.
    ///
    /// Fails when `batches` is empty (no schema) or a batch has another schema.
    pub fn from_batches(name: &str, batches: &[RecordBatch], hasher: &MinHasher) -> Result<Self> {
        let Some(first) = batches.first() else {
            return Err(Error::InvalidInput(format!(
                "data set {name:?} has no batches: pass at least one batch (an empty batch is \
                 enough to carry the schema)"
            )));
        };
        let schema = first.schema();
        for (number, batch) in batches.iter().enumerate() {
            if batch.schema().fields() != schema.fields() {
                return Err(Error::InvalidInput(format!(
                    "batch {number} of data set {name:?} has schema {} but its first batch has \
                     {}: cast the batches to one schema",
                    batch.schema(),
                    schema
                )));
            }
        }
        let options = FormatOptions::default();
        let mut columns = Vec::new();
        for (index, field) in schema.fields().iter().enumerate() {
            if field.name() == ROW_ID_COLUMN {
                continue;
            }
            let kind = ColumnKind::of(field.data_type());
            let mut rows = 0u64;
            let mut nulls = 0u64;
            let mut hashes: HashSet<u64> = HashSet::new();
            for batch in batches {
                let array = batch.column(index);
                rows += array.len() as u64;
                nulls += array.null_count() as u64;
                if kind == ColumnKind::Other {
                    continue;
                }
                let formatter = ArrayFormatter::try_new(array.as_ref(), &options)?;
                let mut text = String::new();
                for row in 0..array.len() {
                    if array.is_null(row) {
                        continue;
                    }
                    text.clear();
                    formatter.value(row).write(&mut text)?;
                    hashes.insert(hash_value(text.as_bytes()));
                }
            }
            let signature = kind
                .is_sketched()
                .then(|| hasher.signature_of_hashes(hashes.iter().copied()));
            columns.push(ColumnProfile {
                name: field.name().clone(),
                data_type: field.data_type().to_string(),
                kind,
                rows,
                nulls,
                distinct: hashes.len() as u64,
                signature,
            });
        }
        Ok(DatasetProfile {
            name: name.to_string(),
            rows: batches.iter().map(|batch| batch.num_rows() as u64).sum(),
            columns,
        })
    }

    /// Returns the profile of column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|column| column.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    fn hasher() -> MinHasher {
        MinHasher::new(64, 9).expect("hasher")
    }

    #[test]
    fn counts_rows_nulls_and_distinct() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(ROW_ID_COLUMN, DataType::UInt64, false),
            Field::new("code", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(arrow::array::UInt64Array::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("b"),
                    Some("a"),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])),
            ],
        )
        .expect("batch");
        let profile = DatasetProfile::from_batches("d", &[batch], &hasher()).expect("profile");
        assert_eq!(profile.columns.len(), 2, "row ids are left out");
        let code = profile.column("code").expect("code");
        assert_eq!((code.rows, code.nulls, code.distinct), (4, 1, 2));
        assert!(code.signature.is_some());
        let value = profile.column("value").expect("value");
        assert_eq!(value.kind, ColumnKind::Float);
        assert_eq!(value.distinct, 4);
        assert!(value.signature.is_none());
    }

    #[test]
    fn integers_and_their_text_share_a_signature() {
        let numbers = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(vec![7, 42, 1000]))],
        )
        .expect("batch");
        let text = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)])),
            vec![Arc::new(StringArray::from(vec!["1000", "7", "42"]))],
        )
        .expect("batch");
        let hasher = hasher();
        let left = DatasetProfile::from_batches("a", &[numbers], &hasher).expect("profile");
        let right = DatasetProfile::from_batches("b", &[text], &hasher).expect("profile");
        assert_eq!(left.columns[0].signature, right.columns[0].signature);
        assert!(ColumnKind::Integer.joins_with(ColumnKind::Text));
        assert!(!ColumnKind::Float.joins_with(ColumnKind::Float));
    }

    #[test]
    fn no_batches_is_rejected() {
        let error = DatasetProfile::from_batches("d", &[], &hasher()).expect_err("empty");
        assert!(error.to_string().contains("\"d\""), "{error}");
    }
}
