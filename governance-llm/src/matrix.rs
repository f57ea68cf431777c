//! [`FeatureMatrix`], the numeric input of the models, and [`Standardization`], the per-column
//! mean and standard deviation that put its columns on one scale.
//!
//! A missing value is `NaN`. Non-finite values (infinities) count as missing too, because they
//! cannot be standardised; range rules are the place to catch them.

use arrow::array::{Array, Float32Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A row-major matrix of `f32` features with named columns; `NaN` marks a missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    columns: Vec<String>,
    values: Vec<f32>,
}

impl FeatureMatrix {
    /// Creates a matrix from row-major `values`. Fails when there are no columns, when a column
    /// name repeats, or when `values` is not a whole number of rows.
    pub fn new(columns: Vec<String>, values: Vec<f32>) -> Result<Self> {
        if columns.is_empty() {
            return Err(Error::InvalidInput(
                "a feature matrix needs at least one column".into(),
            ));
        }
        for (index, name) in columns.iter().enumerate() {
            if columns[..index].contains(name) {
                return Err(Error::InvalidInput(format!(
                    "column {name:?} appears twice; every feature column needs a distinct name"
                )));
            }
        }
        if !values.len().is_multiple_of(columns.len()) {
            return Err(Error::InvalidInput(format!(
                "{} values do not fill whole rows of {} columns",
                values.len(),
                columns.len()
            )));
        }
        Ok(FeatureMatrix { columns, values })
    }

    /// Creates a matrix from rows. Fails when a row's length differs from the column count.
    pub fn from_rows(columns: Vec<String>, rows: &[Vec<f32>]) -> Result<Self> {
        let mut values = Vec::with_capacity(rows.len() * columns.len());
        for (index, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(Error::InvalidInput(format!(
                    "row {index} has {} values for {} columns",
                    row.len(),
                    columns.len()
                )));
            }
            values.extend_from_slice(row);
        }
        Self::new(columns, values)
    }

    /// Reads `columns` of an Arrow batch, cast to `Float32`, with nulls as `NaN`. Fails when a
    /// column is absent or not numeric.
    pub fn from_record_batch(batch: &RecordBatch, columns: &[String]) -> Result<Self> {
        let schema = batch.schema();
        let mut arrays = Vec::with_capacity(columns.len());
        for name in columns {
            let index = schema.index_of(name).map_err(|_| {
                let present: Vec<&str> = schema
                    .fields()
                    .iter()
                    .map(|field| field.name().as_str())
                    .collect();
                Error::InvalidInput(format!(
                    "column {name:?} not found; columns are: {}",
                    present.join(", ")
                ))
            })?;
            let data_type = schema.field(index).data_type();
            if !data_type.is_numeric() {
                return Err(Error::InvalidInput(format!(
                    "column {name:?} is {data_type}, but the model needs a numeric column; \
                     convert it to numbers first"
                )));
            }
            let array = cast(batch.column(index), &DataType::Float32).map_err(|error| {
                Error::InvalidInput(format!(
                    "column {name:?} cannot be cast to Float32: {error}"
                ))
            })?;
            let array = array
                .as_any()
                .downcast_ref::<Float32Array>()
                .ok_or_else(|| Error::Internal("cast to Float32 returned another type".into()))?
                .clone();
            arrays.push(array);
        }
        let rows = batch.num_rows();
        let mut values = Vec::with_capacity(rows * columns.len());
        for row in 0..rows {
            for array in &arrays {
                values.push(if array.is_null(row) {
                    f32::NAN
                } else {
                    array.value(row)
                });
            }
        }
        Self::new(columns.to_vec(), values)
    }

    /// Returns the column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Returns the number of columns.
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// Returns the number of rows.
    pub fn num_rows(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// Returns the values in row-major order.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Returns row `index`.
    ///
    /// # Panics
    ///
    /// Panics when `index` is not below [`FeatureMatrix::num_rows`].
    pub fn row(&self, index: usize) -> &[f32] {
        let width = self.columns.len();
        &self.values[index * width..(index + 1) * width]
    }

    /// Returns the rows at `indices`, in that order. Fails when an index is out of range.
    pub fn select_rows(&self, indices: &[usize]) -> Result<FeatureMatrix> {
        let rows = self.num_rows();
        let mut values = Vec::with_capacity(indices.len() * self.columns.len());
        for &index in indices {
            if index >= rows {
                return Err(Error::InvalidInput(format!(
                    "row index {index} is out of range for a matrix of {rows} rows"
                )));
            }
            values.extend_from_slice(self.row(index));
        }
        Ok(FeatureMatrix {
            columns: self.columns.clone(),
            values,
        })
    }

    /// Returns the hex SHA-256 of the matrix: the row and column counts as little-endian
    /// `u64`, then every value's little-endian `f32` bytes in row-major order. Column names are
    /// not part of it.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update((self.num_rows() as u64).to_le_bytes());
        hasher.update((self.num_columns() as u64).to_le_bytes());
        for value in &self.values {
            hasher.update(value.to_le_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

/// Per-column mean and standard deviation, computed on training data over observed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardization {
    /// Mean of each column.
    pub mean: Vec<f32>,
    /// Standard deviation of each column (population form). A column without spread gets 1,
    /// so its deviations are measured in its own units.
    pub std: Vec<f32>,
}

impl Standardization {
    /// Computes the statistics of each column of `data`. Fails when a column has no observed
    /// value, because the model could then learn nothing about it.
    pub fn fit(data: &FeatureMatrix) -> Result<Self> {
        let width = data.num_columns();
        let mut count = vec![0u64; width];
        let mut sum = vec![0f64; width];
        let mut sum_squares = vec![0f64; width];
        for row in data.values.chunks_exact(width) {
            for (column, &value) in row.iter().enumerate() {
                if value.is_finite() {
                    let value = f64::from(value);
                    count[column] += 1;
                    sum[column] += value;
                    sum_squares[column] += value * value;
                }
            }
        }
        let mut mean = Vec::with_capacity(width);
        let mut std = Vec::with_capacity(width);
        for column in 0..width {
            if count[column] == 0 {
                return Err(Error::InvalidInput(format!(
                    "column {:?} has no values in the {} training rows; remove it from the \
                     model's columns or train on rows where it is observed",
                    data.columns[column],
                    data.num_rows()
                )));
            }
            let n = count[column] as f64;
            let column_mean = sum[column] / n;
            let variance = (sum_squares[column] / n - column_mean * column_mean).max(0.0);
            let column_std = variance.sqrt();
            mean.push(column_mean as f32);
            std.push(if column_std > 1e-12 {
                column_std as f32
            } else {
                1.0
            });
        }
        Ok(Standardization { mean, std })
    }

    /// Returns the number of columns the statistics cover.
    pub fn num_columns(&self) -> usize {
        self.mean.len()
    }

    /// Standardises `data` into model input and a mask: each observed value becomes
    /// `(value - mean) / std` with mask 1, each missing value becomes 0 with mask 0.
    pub(crate) fn transform(&self, data: &FeatureMatrix) -> (Vec<f32>, Vec<f32>) {
        let width = self.num_columns();
        let mut inputs = Vec::with_capacity(data.values.len());
        let mut mask = Vec::with_capacity(data.values.len());
        for row in data.values.chunks_exact(width) {
            for (column, &value) in row.iter().enumerate() {
                if value.is_finite() {
                    inputs.push((value - self.mean[column]) / self.std[column]);
                    mask.push(1.0);
                } else {
                    inputs.push(0.0);
                    mask.push(0.0);
                }
            }
        }
        (inputs, mask)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn names(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn ragged_values_are_rejected() {
        let error = FeatureMatrix::new(names(&["a", "b"]), vec![1.0, 2.0, 3.0])
            .expect_err("three values for two columns");
        assert!(error.to_string().contains("3 values"));
    }

    #[test]
    fn repeated_column_is_rejected() {
        let error = FeatureMatrix::new(names(&["a", "a"]), vec![]).expect_err("duplicate name");
        assert!(error.to_string().contains("\"a\" appears twice"));
    }

    #[test]
    fn record_batch_nulls_become_nan() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("pm25", DataType::Float64, true),
            Field::new("hour", DataType::Int32, true),
            Field::new("station", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![Some(1.5), None])),
                Arc::new(Int32Array::from(vec![Some(3), Some(4)])),
                Arc::new(StringArray::from(vec!["a", "b"])),
            ],
        )
        .expect("batch");
        let matrix = FeatureMatrix::from_record_batch(&batch, &names(&["hour", "pm25"]))
            .expect("numeric columns");
        assert_eq!(matrix.row(0), &[3.0, 1.5]);
        assert_eq!(matrix.row(1)[0], 4.0);
        assert!(matrix.row(1)[1].is_nan());

        let error = FeatureMatrix::from_record_batch(&batch, &names(&["station"]))
            .expect_err("text column");
        assert!(error.to_string().contains("\"station\" is Utf8"));
        let error =
            FeatureMatrix::from_record_batch(&batch, &names(&["PM2.5"])).expect_err("absent");
        assert!(
            error
                .to_string()
                .contains("columns are: pm25, hour, station")
        );
    }

    #[test]
    fn standardization_skips_missing_values() {
        let matrix = FeatureMatrix::from_rows(
            names(&["a", "b"]),
            &[vec![1.0, 5.0], vec![3.0, f32::NAN], vec![f32::NAN, 5.0]],
        )
        .expect("matrix");
        let stats = Standardization::fit(&matrix).expect("stats");
        assert_eq!(stats.mean, vec![2.0, 5.0]);
        assert_eq!(stats.std, vec![1.0, 1.0]);

        let (inputs, mask) = stats.transform(&matrix);
        assert_eq!(inputs, vec![-1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(mask, vec![1.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn unobserved_column_is_rejected() {
        let matrix =
            FeatureMatrix::from_rows(names(&["a", "b"]), &[vec![1.0, f32::NAN]]).expect("matrix");
        let error = Standardization::fit(&matrix).expect_err("b is never observed");
        assert!(error.to_string().contains("column \"b\" has no values"));
    }

    #[test]
    fn hash_depends_on_shape_and_values() {
        let flat = FeatureMatrix::new(names(&["a", "b"]), vec![1.0, 2.0]).expect("one row");
        let tall = FeatureMatrix::new(names(&["a"]), vec![1.0, 2.0]).expect("two rows");
        let changed = FeatureMatrix::new(names(&["a", "b"]), vec![1.0, 2.5]).expect("one row");
        assert_eq!(flat.sha256().len(), 64);
        assert_ne!(flat.sha256(), tall.sha256());
        assert_ne!(flat.sha256(), changed.sha256());
    }
}
