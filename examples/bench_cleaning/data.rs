//! Reading a benchmark folder: `dirty.csv` and `clean.csv` as text tables of the same shape.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance::{GovernedBatch, Provenance, RowIdAllocator};

/// The dirty and clean tables of one data set, row by row.
pub struct Dataset {
    /// The folder's name, such as `hospital`.
    pub name: String,
    /// Column names of `dirty.csv`.
    pub names: Vec<String>,
    pub dirty: Vec<Vec<String>>,
    pub clean: Vec<Vec<String>>,
}

impl Dataset {
    /// Reads both files. Fails when one is missing or unreadable, or when their shapes differ.
    pub fn read(dir: &Path) -> Result<Dataset, String> {
        let (names, dirty) = read_csv(&dir.join("dirty.csv"))?;
        let (_, clean) = read_csv(&dir.join("clean.csv"))?;
        if dirty.len() != clean.len() {
            return Err(format!(
                "{}: dirty.csv has {} rows but clean.csv has {}; both must hold the same rows \
                 in the same order",
                dir.display(),
                dirty.len(),
                clean.len()
            ));
        }
        for (row, (left, right)) in dirty.iter().zip(&clean).enumerate() {
            if left.len() != names.len() || right.len() != names.len() {
                return Err(format!(
                    "{}: data row {} has {} dirty and {} clean fields for {} columns",
                    dir.display(),
                    row + 1,
                    left.len(),
                    right.len(),
                    names.len()
                ));
            }
        }
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(Dataset {
            name,
            names,
            dirty,
            clean,
        })
    }

    /// Builds the dirty table as a governed batch of text columns, with row ids from 0.
    pub fn batch(&self) -> governance::Result<GovernedBatch> {
        let fields: Vec<Field> = self
            .names
            .iter()
            .enumerate()
            // Positions keep repeated or empty header names distinct.
            .map(|(index, name)| Field::new(format!("{index}:{name}"), DataType::Utf8, true))
            .collect();
        let columns: Vec<ArrayRef> = (0..self.names.len())
            .map(|column| {
                Arc::new(StringArray::from_iter_values(
                    self.dirty.iter().map(|row| row[column].as_str()),
                )) as ArrayRef
            })
            .collect();
        let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        let ids = RowIdAllocator::default().allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new(self.name.clone()))
    }

    /// Returns the batch column name of column `index`.
    pub fn field_name(&self, index: usize) -> String {
        format!("{index}:{}", self.names[index])
    }

    /// Counts the erroneous cells, raw or after canonicalisation.
    pub fn errors(&self, canonical: bool) -> usize {
        self.dirty
            .iter()
            .zip(&self.clean)
            .map(|(dirty, clean)| {
                dirty
                    .iter()
                    .zip(clean)
                    .filter(|(left, right)| !same(left, right, canonical))
                    .count()
            })
            .sum()
    }
}

/// Compares two values as text, or after format canonicalisation.
pub fn same(left: &str, right: &str, canonical: bool) -> bool {
    if canonical {
        canonicalise(left) == canonicalise(right)
    } else {
        left == right
    }
}

/// Trims, lower-cases, writes a number without trailing zeros and reads a missing-value token
/// as empty.
fn canonicalise(value: &str) -> String {
    let trimmed = value.trim();
    let lower = trimmed.to_lowercase();
    if matches!(
        lower.as_str(),
        "" | "n/a" | "na" | "nan" | "null" | "none" | "-"
    ) {
        return String::new();
    }
    match trimmed.parse::<f64>() {
        Ok(number) if number.is_finite() => format!("{number}"),
        _ => lower,
    }
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|error| format!("failed to open {}: {error}", path.display()))?;
    let names = reader
        .headers()
        .map_err(|error| format!("failed to read the header of {}: {error}", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            format!(
                "failed to read row {} of {}: {error}",
                index + 1,
                path.display()
            )
        })?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok((names, rows))
}
