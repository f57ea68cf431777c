//! Arrow column builders that CSV rows are appended to, one per output column.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder,
};
use arrow::datatypes::SchemaRef;
use governance_core::{Error, Result};

use super::schema::{Cell, CsvType};

/// A builder for one output column.
pub(crate) enum ColumnBuilder {
    Int64(Int64Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Utf8(StringBuilder),
}

impl ColumnBuilder {
    pub(crate) fn new(data_type: CsvType, capacity: usize) -> Self {
        match data_type {
            CsvType::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            CsvType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            CsvType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            // 16 bytes per value is a guess at typical text width; builders grow as needed.
            CsvType::Utf8 => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 16))
            }
        }
    }

    /// Appends a cell that [`super::schema::parse_cell`] produced for this column's type.
    pub(crate) fn append(&mut self, cell: Cell<'_>) -> Result<()> {
        match (self, cell) {
            (ColumnBuilder::Int64(builder), Cell::Null) => builder.append_null(),
            (ColumnBuilder::Float64(builder), Cell::Null) => builder.append_null(),
            (ColumnBuilder::Boolean(builder), Cell::Null) => builder.append_null(),
            (ColumnBuilder::Utf8(builder), Cell::Null) => builder.append_null(),
            (ColumnBuilder::Int64(builder), Cell::Int(value)) => builder.append_value(value),
            (ColumnBuilder::Float64(builder), Cell::Float(value)) => builder.append_value(value),
            (ColumnBuilder::Boolean(builder), Cell::Bool(value)) => builder.append_value(value),
            (ColumnBuilder::Utf8(builder), Cell::Text(value)) => builder.append_value(value),
            (_, cell) => {
                return Err(Error::Internal(format!(
                    "csv cell {cell:?} does not match its column builder"
                )));
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match self {
            ColumnBuilder::Int64(builder) => builder.len(),
            ColumnBuilder::Float64(builder) => builder.len(),
            ColumnBuilder::Boolean(builder) => builder.len(),
            ColumnBuilder::Utf8(builder) => builder.len(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Int64(builder) => Arc::new(builder.finish()),
            ColumnBuilder::Float64(builder) => Arc::new(builder.finish()),
            ColumnBuilder::Boolean(builder) => Arc::new(builder.finish()),
            ColumnBuilder::Utf8(builder) => Arc::new(builder.finish()),
        }
    }
}

/// The builders of one batch, in output column order.
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl BatchBuilder {
    pub(crate) fn new(schema: SchemaRef, types: &[CsvType], capacity: usize) -> Self {
        let columns = types
            .iter()
            .map(|data_type| ColumnBuilder::new(*data_type, capacity))
            .collect();
        BatchBuilder {
            schema,
            columns,
            rows: 0,
        }
    }

    /// Appends one row of cells, one per output column.
    pub(crate) fn append_row(&mut self, cells: &[Cell<'_>]) -> Result<()> {
        for (builder, cell) in self.columns.iter_mut().zip(cells) {
            builder.append(*cell)?;
        }
        self.rows += 1;
        Ok(())
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Finishes the rows appended so far into a record batch and empties the builders.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch> {
        if let Some(column) = self.columns.iter().find(|column| column.len() != self.rows) {
            return Err(Error::Internal(format!(
                "csv column builder has {} values for {} rows",
                column.len(),
                self.rows
            )));
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?)
    }
}
