//! The union schema of one round of a file sink, for streams whose columns change between
//! batches (such as a collector's schema drift policy `adapt`).
//!
//! The union starts as the first batch's schema. A later batch may lack columns, which are
//! then written as nulls, and may bring new columns, which are appended in the order they
//! first appear. A column must keep the data type and field metadata it had in the batch that
//! introduced it: a value cannot change type silently, and a changed unit or sensitivity in
//! the metadata would make earlier values wrong.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use governance_core::{ROW_ID_COLUMN, Result};

/// The change that [`RoundSchema::admit`] made to the union.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct UnionChange {
    /// The batch brought columns the union did not have.
    pub(crate) added: bool,
    /// A non-nullable column became nullable, because the batch lacks it or has nulls in it.
    pub(crate) widened: bool,
}

impl UnionChange {
    /// Returns whether the union schema differs from the one before the batch.
    pub(crate) fn any(self) -> bool {
        self.added || self.widened
    }
}

/// The union of the data schemas of the batches of one round (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct RoundSchema {
    fields: Vec<FieldRef>,
    /// The 1-based number of the batch that introduced each field.
    introduced: Vec<u64>,
    metadata: HashMap<String, String>,
}

impl RoundSchema {
    /// Starts the union with the schema of batch 1.
    pub(crate) fn new(first: &Schema) -> Self {
        RoundSchema {
            fields: first.fields().iter().cloned().collect(),
            introduced: vec![1; first.fields().len()],
            metadata: first.metadata().clone(),
        }
    }

    /// Returns the schema of a file: the row-id column, then the union's columns.
    pub(crate) fn file_schema(&self) -> SchemaRef {
        let mut fields = vec![Arc::new(Field::new(ROW_ID_COLUMN, DataType::UInt64, false))];
        fields.extend(self.fields.iter().cloned());
        Arc::new(Schema::new_with_metadata(fields, self.metadata.clone()))
    }

    /// Returns the schema of the data columns, without the row-id column.
    pub(crate) fn data_schema(&self) -> SchemaRef {
        Arc::new(Schema::new_with_metadata(
            self.fields.clone(),
            self.metadata.clone(),
        ))
    }

    /// Returns the number of data columns.
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// Returns the column names, in union order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|field| field.name().as_str())
    }

    /// Adds batch number `batch` to the union. Fails, changing nothing, with one entry per
    /// column whose type or metadata differs from the batch that introduced it.
    pub(crate) fn admit(
        &mut self,
        batch: u64,
        data: &RecordBatch,
    ) -> std::result::Result<UnionChange, Vec<String>> {
        let schema = data.schema();
        let mut differences = Vec::new();
        for field in schema.fields() {
            let Some(index) = self.position(field.name()) else {
                continue;
            };
            let known = &self.fields[index];
            let first = self.introduced[index];
            if known.data_type() != field.data_type() {
                differences.push(format!(
                    "field {:?} is {} in batch {first} and {} here",
                    field.name(),
                    known.data_type(),
                    field.data_type()
                ));
            }
            if known.metadata() != field.metadata() {
                differences.push(format!(
                    "field {:?} has metadata {:?} in batch {first} and {:?} here",
                    field.name(),
                    sorted(known),
                    sorted(field)
                ));
            }
        }
        if !differences.is_empty() {
            return Err(differences);
        }

        let mut change = UnionChange::default();
        for index in 0..self.fields.len() {
            if self.fields[index].is_nullable() {
                continue;
            }
            let needs_nulls = match schema.index_of(self.fields[index].name()) {
                Ok(column) => data.column(column).null_count() > 0,
                Err(_) => data.num_rows() > 0,
            };
            if needs_nulls {
                self.fields[index] =
                    Arc::new(self.fields[index].as_ref().clone().with_nullable(true));
                change.widened = true;
            }
        }
        for field in schema.fields() {
            if self.position(field.name()).is_none() {
                // The earlier rows of the round have no value here, so the column is nullable.
                self.fields
                    .push(Arc::new(field.as_ref().clone().with_nullable(true)));
                self.introduced.push(batch);
                change.added = true;
            }
        }
        Ok(change)
    }

    /// Returns `data`'s columns in union order, with a column of nulls for each union
    /// column the batch lacks. Columns are matched by name.
    pub(crate) fn conform(&self, data: &RecordBatch) -> Result<Vec<ArrayRef>> {
        conform_columns(&self.fields, data)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|field| field.name() == name)
    }
}

/// Returns `data`'s columns in the order of `fields`, matched by name, with nulls for a
/// missing column. A column of another type is cast, which only happens for types that a
/// Parquet round trip represents differently.
pub(crate) fn conform_columns(fields: &[FieldRef], data: &RecordBatch) -> Result<Vec<ArrayRef>> {
    let schema = data.schema();
    let mut columns = Vec::with_capacity(fields.len());
    for field in fields {
        let column = match schema.index_of(field.name()) {
            Ok(index) => {
                let column = data.column(index);
                if column.data_type() == field.data_type() {
                    Arc::clone(column)
                } else {
                    cast(column, field.data_type())?
                }
            }
            Err(_) => new_null_array(field.data_type(), data.num_rows()),
        };
        columns.push(column);
    }
    Ok(columns)
}

fn sorted(field: &Field) -> std::collections::BTreeMap<&String, &String> {
    field.metadata().iter().collect()
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float64Array, Int64Array, StringArray};

    use super::*;

    fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> RecordBatch {
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
    }

    #[test]
    fn new_and_missing_columns_join_union() {
        let first = batch(
            vec![
                Field::new("a", DataType::Int64, false),
                Field::new("b", DataType::Float64, true),
            ],
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(Float64Array::from(vec![1.5])),
            ],
        );
        let mut union = RoundSchema::new(&first.schema());
        let second = batch(
            vec![
                Field::new("c", DataType::Utf8, false),
                Field::new("b", DataType::Float64, true),
            ],
            vec![
                Arc::new(StringArray::from(vec!["x"])),
                Arc::new(Float64Array::from(vec![2.5])),
            ],
        );
        let change = union.admit(2, &second).expect("compatible");
        assert!(change.added);
        assert!(change.widened, "a is missing, so it becomes nullable");
        assert_eq!(union.names().collect::<Vec<_>>(), vec!["a", "b", "c"]);
        let schema = union.file_schema();
        assert!(!schema.field(0).is_nullable(), "row ids are never null");
        assert!(schema.field(1).is_nullable());
        assert!(schema.field(3).is_nullable());

        let columns = union.conform(&second).expect("conform");
        assert_eq!(columns[0].null_count(), 1);
        assert_eq!(columns[1].data_type(), &DataType::Float64);
        assert_eq!(columns[2].data_type(), &DataType::Utf8);
    }

    #[test]
    fn same_columns_change_nothing() {
        let first = batch(
            vec![Field::new("a", DataType::Int64, true)],
            vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
        );
        let mut union = RoundSchema::new(&first.schema());
        let change = union.admit(2, &first).expect("same schema");
        assert!(!change.any());
    }

    #[test]
    fn retyped_column_names_first_batch() {
        let first = batch(
            vec![Field::new("a", DataType::Int64, true)],
            vec![Arc::new(Int64Array::from(vec![1]))],
        );
        let mut union = RoundSchema::new(&first.schema());
        let added = batch(
            vec![Field::new("b", DataType::Int64, true)],
            vec![Arc::new(Int64Array::from(vec![1]))],
        );
        union.admit(2, &added).expect("new column");
        let retyped = batch(
            vec![Field::new("b", DataType::Utf8, true)],
            vec![Arc::new(StringArray::from(vec!["1"]))],
        );
        let differences = union.admit(3, &retyped).expect_err("type changed");
        assert_eq!(
            differences,
            vec!["field \"b\" is Int64 in batch 2 and Utf8 here"]
        );
        assert_eq!(union.len(), 2, "a failed batch leaves the union as it was");
    }
}
