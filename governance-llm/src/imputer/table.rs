//! The input of the imputer ([`ImputationTable`]) and the encoding of its columns into the
//! network's features: standardised numbers and one-hot categories.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The values of one column: numbers or category labels, `None` for a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// A numeric column; a non-finite number counts as missing.
    Numeric(Vec<Option<f64>>),
    /// A categorical column of text labels.
    Categorical(Vec<Option<String>>),
}

impl ColumnValues {
    fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(values) => values.len(),
            ColumnValues::Categorical(values) => values.len(),
        }
    }

    /// Returns whether the value at `row` is present.
    pub fn is_present(&self, row: usize) -> bool {
        match self {
            ColumnValues::Numeric(values) => values[row].is_some_and(f64::is_finite),
            ColumnValues::Categorical(values) => values[row].is_some(),
        }
    }
}

/// One named column of an [`ImputationTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    /// Column name.
    pub name: String,
    /// The column's values, one per row.
    pub values: ColumnValues,
}

/// Columns of equal length, numeric or categorical, that the imputer trains and predicts on.
#[derive(Debug, Clone, PartialEq)]
pub struct ImputationTable {
    columns: Vec<TableColumn>,
    rows: usize,
}

impl ImputationTable {
    /// Creates a table. Fails when there are no columns, a name repeats or the lengths differ.
    pub fn new(columns: Vec<TableColumn>) -> Result<Self> {
        let Some(first) = columns.first() else {
            return Err(Error::InvalidInput(
                "an imputation table needs at least one column".into(),
            ));
        };
        let rows = first.values.len();
        for (index, column) in columns.iter().enumerate() {
            if columns[..index]
                .iter()
                .any(|other| other.name == column.name)
            {
                return Err(Error::InvalidInput(format!(
                    "column {:?} appears twice; every column needs a distinct name",
                    column.name
                )));
            }
            if column.values.len() != rows {
                return Err(Error::InvalidInput(format!(
                    "column {:?} has {} values but column {:?} has {rows}; every column needs \
                     one value per row",
                    column.name,
                    column.values.len(),
                    first.name
                )));
            }
        }
        Ok(ImputationTable { columns, rows })
    }

    /// Returns the number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// Returns the columns.
    pub fn columns(&self) -> &[TableColumn] {
        &self.columns
    }

    /// Returns the column named `name`, or an error that lists the columns.
    pub fn column(&self, name: &str) -> Result<&TableColumn> {
        self.columns
            .iter()
            .find(|column| column.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
                Error::InvalidInput(format!(
                    "column {name:?} not found; columns are: {}",
                    names.join(", ")
                ))
            })
    }
}

/// Encoding of one column as features: a standardised number or a one-hot block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum ColumnEncoding {
    /// Two features: `(value - mean) / std` and a missing flag. A missing value becomes 0
    /// (the mean) with the flag set to 1.
    Numeric { mean: f64, std: f64 },
    /// One feature per known category; an unknown or missing label sets none of them.
    Categorical { categories: Vec<String> },
}

impl ColumnEncoding {
    /// Fits the encoding of `values` on the rows at `rows`, keeping at most `max_categories`
    /// labels, the most frequent first and ties by name.
    pub fn fit(values: &ColumnValues, rows: &[usize], max_categories: usize) -> Self {
        match values {
            ColumnValues::Numeric(numbers) => {
                let present: Vec<f64> = rows
                    .iter()
                    .filter_map(|&row| numbers[row].filter(|value| value.is_finite()))
                    .collect();
                let count = present.len().max(1) as f64;
                let mean = present.iter().sum::<f64>() / count;
                let variance = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
                // A constant column would divide by 0; a std of 1 keeps it at 0 after centring.
                let std = if variance > 0.0 { variance.sqrt() } else { 1.0 };
                ColumnEncoding::Numeric { mean, std }
            }
            ColumnValues::Categorical(labels) => {
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for &row in rows {
                    if let Some(label) = &labels[row] {
                        *counts.entry(label.as_str()).or_insert(0) += 1;
                    }
                }
                let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                ranked.truncate(max_categories);
                ColumnEncoding::Categorical {
                    categories: ranked
                        .into_iter()
                        .map(|(label, _)| label.to_string())
                        .collect(),
                }
            }
        }
    }

    /// Returns the number of features this column becomes as a predictor.
    pub fn width(&self) -> usize {
        match self {
            ColumnEncoding::Numeric { .. } => 2,
            ColumnEncoding::Categorical { categories } => categories.len(),
        }
    }

    /// Appends the predictor features of `values[row]` to `out`.
    pub fn encode(&self, values: &ColumnValues, row: usize, out: &mut Vec<f32>) {
        match (self, values) {
            (ColumnEncoding::Numeric { mean, std }, ColumnValues::Numeric(numbers)) => {
                match numbers[row].filter(|value| value.is_finite()) {
                    Some(value) => out.extend([((value - mean) / std) as f32, 0.0]),
                    None => out.extend([0.0, 1.0]),
                }
            }
            (ColumnEncoding::Categorical { categories }, ColumnValues::Categorical(labels)) => {
                let start = out.len();
                out.resize(start + categories.len(), 0.0);
                if let Some(label) = &labels[row]
                    && let Some(position) = categories.iter().position(|known| known == label)
                {
                    out[start + position] = 1.0;
                }
            }
            // A column whose kind changed since training sets all its features to 0.
            _ => out.resize(out.len() + self.width(), 0.0),
        }
    }

    /// Appends `values[row]` as a training target: one standardised number, or a one-hot
    /// class.
    pub fn encode_target(&self, values: &ColumnValues, row: usize, out: &mut Vec<f32>) {
        match (self, values) {
            (ColumnEncoding::Numeric { mean, std }, ColumnValues::Numeric(numbers)) => {
                let value = numbers[row].map_or(0.0, |value| (value - mean) / std);
                out.push(value as f32);
            }
            _ => self.encode(values, row, out),
        }
    }

    /// Returns the position of `values[row]` among the categories, for a categorical target.
    pub fn class_of(&self, values: &ColumnValues, row: usize) -> Option<usize> {
        match (self, values) {
            (ColumnEncoding::Categorical { categories }, ColumnValues::Categorical(labels)) => {
                let label = labels[row].as_ref()?;
                categories.iter().position(|known| known == label)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rejects_mismatched_lengths() {
        let error = ImputationTable::new(vec![
            TableColumn {
                name: "a".into(),
                values: ColumnValues::Numeric(vec![Some(1.0)]),
            },
            TableColumn {
                name: "b".into(),
                values: ColumnValues::Numeric(vec![Some(1.0), None]),
            },
        ])
        .expect_err("lengths differ");
        assert!(error.to_string().contains("\"b\" has 2 values"), "{error}");
    }

    #[test]
    fn numeric_encoding_standardises() {
        let values = ColumnValues::Numeric(vec![Some(1.0), Some(3.0), None]);
        let encoding = ColumnEncoding::fit(&values, &[0, 1, 2], 8);
        assert_eq!(
            encoding,
            ColumnEncoding::Numeric {
                mean: 2.0,
                std: 1.0
            }
        );
        let mut out = Vec::new();
        encoding.encode(&values, 1, &mut out);
        encoding.encode(&values, 2, &mut out);
        assert_eq!(out, vec![1.0, 0.0, 0.0, 1.0]);
        let mut target = Vec::new();
        encoding.encode_target(&values, 0, &mut target);
        assert_eq!(target, vec![-1.0]);
    }

    #[test]
    fn categories_rank_by_frequency() {
        let labels = ["N", "S", "N", "E", "S", "N"];
        let values =
            ColumnValues::Categorical(labels.iter().map(|label| Some(label.to_string())).collect());
        let encoding = ColumnEncoding::fit(&values, &[0, 1, 2, 3, 4, 5], 2);
        assert_eq!(
            encoding,
            ColumnEncoding::Categorical {
                categories: vec!["N".into(), "S".into()]
            }
        );
        let mut out = Vec::new();
        encoding.encode(&values, 3, &mut out);
        encoding.encode(&values, 1, &mut out);
        assert_eq!(out, vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(encoding.class_of(&values, 3), None);
        assert_eq!(encoding.class_of(&values, 4), Some(1));
    }
}
