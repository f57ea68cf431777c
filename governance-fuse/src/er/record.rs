//! Record tables: the text view of a source that entity resolution compares.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::ErError;

/// Records of one source as optional text values, stored column by column.
///
/// Blocking keys and comparators work on text, so every attribute is kept as its string form.
/// Nulls, empty strings and strings of only whitespace are all absent values (`None`), because
/// matching treats "no value" the same whichever way a source wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTable {
    name: String,
    attributes: Vec<String>,
    ids: Vec<String>,
    columns: Vec<Vec<Option<String>>>,
}

impl RecordTable {
    /// Creates an empty table named `name` with the given attributes.
    ///
    /// # Errors
    /// [`ErError::DuplicateAttribute`] when an attribute name repeats.
    pub fn new(name: impl Into<String>, attributes: Vec<String>) -> Result<Self, ErError> {
        for (index, attribute) in attributes.iter().enumerate() {
            if attributes[..index].contains(attribute) {
                return Err(ErError::DuplicateAttribute(attribute.clone()));
            }
        }
        let columns = vec![Vec::new(); attributes.len()];
        Ok(Self {
            name: name.into(),
            attributes,
            ids: Vec::new(),
            columns,
        })
    }

    /// Appends one record. Values follow the order of [`RecordTable::attributes`].
    ///
    /// # Errors
    /// [`ErError::WrongArity`] when the number of values differs from the number of attributes.
    pub fn push(
        &mut self,
        id: impl Into<String>,
        values: Vec<Option<String>>,
    ) -> Result<(), ErError> {
        let id = id.into();
        if values.len() != self.attributes.len() {
            return Err(ErError::WrongArity {
                table: self.name.clone(),
                id,
                expected: self.attributes.len(),
                found: values.len(),
            });
        }
        for (column, value) in self.columns.iter_mut().zip(values) {
            column.push(value.and_then(present));
        }
        self.ids.push(id);
        Ok(())
    }

    /// Builds a table from an Arrow batch, casting every chosen column to text.
    ///
    /// `id_column` names the column that contains source record ids; without it the ids are row
    /// numbers from 0. `attributes` selects and orders the compared columns; without it every
    /// column except the id column is used.
    ///
    /// # Errors
    /// [`ErError::UnknownAttribute`] for a column the batch lacks (the message lists the
    /// columns it has), and [`ErError::Arrow`] when a column has no text form.
    pub fn from_batch(
        name: impl Into<String>,
        batch: &RecordBatch,
        id_column: Option<&str>,
        attributes: Option<&[&str]>,
    ) -> Result<Self, ErError> {
        let name = name.into();
        let schema = batch.schema();
        let available = || {
            schema
                .fields()
                .iter()
                .map(|field| field.name().clone())
                .collect()
        };
        let index_of = |column: &str| {
            schema
                .index_of(column)
                .map_err(|_| ErError::UnknownAttribute {
                    table: name.clone(),
                    attribute: column.to_owned(),
                    available: available(),
                })
        };

        let id_index = id_column.map(index_of).transpose()?;
        let chosen: Vec<usize> = match attributes {
            Some(names) => names
                .iter()
                .map(|column| index_of(column))
                .collect::<Result<_, _>>()?,
            None => (0..schema.fields().len())
                .filter(|index| Some(*index) != id_index)
                .collect(),
        };

        let ids = match id_index {
            Some(index) => text_column(batch.column(index))?
                .into_iter()
                .enumerate()
                .map(|(row, id)| id.unwrap_or_else(|| format!("row-{row}")))
                .collect(),
            None => (0..batch.num_rows()).map(|row| row.to_string()).collect(),
        };
        let columns = chosen
            .iter()
            .map(|&index| text_column(batch.column(index)))
            .collect::<Result<Vec<_>, _>>()?;
        let attributes = chosen
            .iter()
            .map(|&index| schema.field(index).name().clone())
            .collect();
        Ok(Self {
            name,
            attributes,
            ids,
            columns,
        })
    }

    /// Name of the source, used in messages and provenance.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Attribute names in column order.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table has no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Source id of record `row`.
    pub fn id(&self, row: usize) -> Option<&str> {
        self.ids.get(row).map(String::as_str)
    }

    /// Source ids in row order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Position of an attribute.
    ///
    /// # Errors
    /// [`ErError::UnknownAttribute`], listing the attributes the table has.
    pub fn attribute_index(&self, attribute: &str) -> Result<usize, ErError> {
        self.attributes
            .iter()
            .position(|name| name == attribute)
            .ok_or_else(|| ErError::UnknownAttribute {
                table: self.name.clone(),
                attribute: attribute.to_owned(),
                available: self.attributes.clone(),
            })
    }

    /// All values of the attribute at `index`, in row order.
    pub fn column(&self, index: usize) -> Option<&[Option<String>]> {
        self.columns.get(index).map(Vec::as_slice)
    }

    /// Value of attribute `index` in record `row`; `None` when absent or out of range.
    pub fn value(&self, row: usize, index: usize) -> Option<&str> {
        self.columns.get(index)?.get(row)?.as_deref()
    }

    /// Attributes both tables have, in this table's order.
    ///
    /// # Errors
    /// [`ErError::NoCommonAttribute`] when the tables share no attribute name.
    pub fn common_attributes(&self, other: &Self) -> Result<Vec<String>, ErError> {
        let common: Vec<String> = self
            .attributes
            .iter()
            .filter(|attribute| other.attributes.contains(attribute))
            .cloned()
            .collect();
        if common.is_empty() {
            return Err(ErError::NoCommonAttribute {
                left: self.name.clone(),
                left_attributes: self.attributes.clone(),
                right: other.name.clone(),
                right_attributes: other.attributes.clone(),
            });
        }
        Ok(common)
    }

    /// Checks that the table has records, naming the side for the message.
    ///
    /// # Errors
    /// [`ErError::EmptyInput`] when the table has no records.
    pub fn require_records(&self) -> Result<(), ErError> {
        if self.is_empty() {
            return Err(ErError::EmptyInput {
                table: self.name.clone(),
            });
        }
        Ok(())
    }

    /// Checks that an attribute has at least one value.
    ///
    /// # Errors
    /// [`ErError::UnknownAttribute`] for a missing attribute and [`ErError::AllNull`] when
    /// every record lacks a value for it.
    pub fn require_values(&self, attribute: &str) -> Result<(), ErError> {
        let index = self.attribute_index(attribute)?;
        if self.columns[index].iter().all(Option::is_none) {
            return Err(ErError::AllNull {
                table: self.name.clone(),
                attribute: attribute.to_owned(),
            });
        }
        Ok(())
    }
}

/// Trims a value and drops it when nothing is left.
fn present(value: String) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == value.len() {
        Some(value)
    } else {
        Some(trimmed.to_owned())
    }
}

/// Casts an Arrow column to text values, with nulls and blank strings as `None`.
fn text_column(array: &dyn Array) -> Result<Vec<Option<String>>, ErError> {
    let text = cast(array, &DataType::Utf8)?;
    let strings = text.as_string::<i32>();
    Ok(strings
        .iter()
        .map(|value| value.and_then(|value| present(value.to_owned())))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Utf8, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("year", DataType::Int64, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec![Some("a1"), None, Some("a3")])),
                Arc::new(StringArray::from(vec![
                    Some(" Ada Lovelace "),
                    Some("  "),
                    None,
                ])),
                Arc::new(Int64Array::from(vec![Some(1815), Some(1906), None])),
            ],
        )
        .expect("valid batch")
    }

    #[test]
    fn from_batch_casts_and_trims() {
        let table = RecordTable::from_batch("people", &batch(), Some("id"), None).expect("valid");
        assert_eq!(table.attributes(), ["name", "year"]);
        assert_eq!(table.ids(), ["a1", "row-1", "a3"]);
        assert_eq!(table.value(0, 0), Some("Ada Lovelace"));
        assert_eq!(table.value(1, 0), None);
        assert_eq!(table.value(1, 1), Some("1906"));
        assert_eq!(table.value(2, 1), None);
    }

    #[test]
    fn unknown_column_lists_available() {
        let err = RecordTable::from_batch("people", &batch(), None, Some(&["surname"]))
            .expect_err("no such column");
        let message = err.to_string();
        assert!(message.contains("surname"), "{message}");
        assert!(message.contains("name, year"), "{message}");
    }

    #[test]
    fn push_checks_arity() {
        let mut table =
            RecordTable::new("t", vec!["a".into(), "b".into()]).expect("distinct names");
        table
            .push("1", vec![Some("x".into()), None])
            .expect("two values");
        let err = table
            .push("2", vec![Some("x".into())])
            .expect_err("one value");
        assert!(matches!(
            err,
            ErError::WrongArity {
                expected: 2,
                found: 1,
                ..
            }
        ));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn common_attributes_and_errors() {
        let left = RecordTable::new("l", vec!["title".into(), "price".into()]).expect("valid");
        let right = RecordTable::new("r", vec!["price".into(), "name".into()]).expect("valid");
        assert_eq!(
            left.common_attributes(&right).expect("price shared"),
            ["price"]
        );
        let other = RecordTable::new("o", vec!["x".into()]).expect("valid");
        let err = left.common_attributes(&other).expect_err("nothing shared");
        assert!(err.to_string().contains("no common attribute"), "{err}");
        assert!(matches!(
            left.require_records(),
            Err(ErError::EmptyInput { .. })
        ));
        assert!(matches!(
            RecordTable::new("d", vec!["x".into(), "x".into()]),
            Err(ErError::DuplicateAttribute(_))
        ));
    }

    #[test]
    fn all_null_attribute_rejected() {
        let mut table = RecordTable::new("t", vec!["key".into()]).expect("valid");
        table.push("1", vec![None]).expect("arity");
        table.push("2", vec![Some(" ".into())]).expect("arity");
        let err = table.require_values("key").expect_err("all null");
        assert!(err.to_string().contains("every record"), "{err}");
    }
}
