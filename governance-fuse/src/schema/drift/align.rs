//! Row alignment on a key column and value agreement of column pairs over aligned rows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arrow::array::{Array, RecordBatch};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::schema::profile::{comparable_numbers, comparable_text};
use crate::schema::time::epoch_millis;

/// A key value: epoch milliseconds for time columns, text otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Time(i64),
    Text(String),
}

/// Rows of the reference and the new batch that share a key.
#[derive(Debug, Clone)]
pub(crate) struct Alignment {
    /// (reference row, new row) pairs.
    pub pairs: Vec<(usize, usize)>,
    /// Reference rows whose key repeats an earlier row's and were left out.
    pub duplicate_keys: usize,
}

fn keys(array: &dyn Array) -> Option<Vec<Option<Key>>> {
    if let Some(times) = epoch_millis(array) {
        return Some(times.into_iter().map(|time| time.map(Key::Time)).collect());
    }
    comparable_text(array).map(|values| values.into_iter().map(|v| v.map(Key::Text)).collect())
}

/// Returns the index of `name` in `batch`, or an error that lists the columns.
pub(crate) fn column_index(batch: &RecordBatch, name: &str, which: &str) -> Result<usize> {
    batch.schema().index_of(name).map_err(|_| {
        let columns: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect();
        Error::InvalidInput(format!(
            "key column {name:?} not found in the {which} batch: its columns are {columns:?}"
        ))
    })
}

/// Aligns the rows of two batches on their key columns. The first reference row of each key
/// is used; rows with a null or unparseable key are left out.
pub(crate) fn align(
    reference: &RecordBatch,
    reference_key: usize,
    new: &RecordBatch,
    new_key: usize,
) -> Result<Alignment> {
    let describe = |batch: &RecordBatch, index: usize| batch.schema().field(index).name().clone();
    let reference_keys = keys(reference.column(reference_key).as_ref()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "key column {:?} of the reference batch cannot be read as time or text",
            describe(reference, reference_key)
        ))
    })?;
    let new_keys = keys(new.column(new_key).as_ref()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "key column {:?} of the new batch cannot be read as time or text",
            describe(new, new_key)
        ))
    })?;

    let mut by_key: HashMap<Key, usize> = HashMap::with_capacity(reference_keys.len());
    let mut duplicate_keys = 0;
    for (row, key) in reference_keys.into_iter().enumerate() {
        let Some(key) = key else { continue };
        match by_key.entry(key) {
            Entry::Occupied(_) => duplicate_keys += 1,
            Entry::Vacant(slot) => {
                slot.insert(row);
            }
        }
    }
    let pairs = new_keys
        .into_iter()
        .enumerate()
        .filter_map(|(new_row, key)| {
            key.and_then(|key| {
                by_key
                    .get(&key)
                    .map(|&reference_row| (reference_row, new_row))
            })
        })
        .collect();
    Ok(Alignment {
        pairs,
        duplicate_keys,
    })
}

/// Agreement of two columns over aligned rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEvidence {
    /// Aligned rows where both values are present.
    pub rows: usize,
    /// Share of those rows with equal values.
    pub equal_share: f64,
    /// Pearson correlation, for numeric columns with varying values.
    pub correlation: Option<f64>,
}

impl PairEvidence {
    /// Returns the agreement in [0, 1]: the equal share or the correlation, whichever is
    /// larger (a negative correlation counts as none).
    pub fn agreement(&self) -> f64 {
        self.equal_share
            .max(self.correlation.unwrap_or(0.0))
            .clamp(0.0, 1.0)
    }
}

/// A column's values prepared for comparison.
pub(crate) enum Values {
    Numbers(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Unreadable,
}

impl Values {
    pub(crate) fn of(array: &dyn Array) -> Values {
        if let Some(numbers) = comparable_numbers(array) {
            return Values::Numbers(numbers);
        }
        match comparable_text(array) {
            Some(text) => Values::Text(text),
            None => Values::Unreadable,
        }
    }
}

fn numbers_equal(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Compares a reference column with a new column over the aligned rows.
pub(crate) fn compare(reference: &Values, new: &Values, pairs: &[(usize, usize)]) -> PairEvidence {
    match (reference, new) {
        (Values::Numbers(a), Values::Numbers(b)) => {
            let present: Vec<(f64, f64)> = pairs
                .iter()
                .filter_map(|&(i, j)| Some((a[i]?, b[j]?)))
                .collect();
            let equal = present
                .iter()
                .filter(|(x, y)| numbers_equal(*x, *y))
                .count();
            PairEvidence {
                rows: present.len(),
                equal_share: share(equal, present.len()),
                correlation: pearson(&present),
            }
        }
        (Values::Text(a), Values::Text(b)) => {
            let present: Vec<(&String, &String)> = pairs
                .iter()
                .filter_map(|&(i, j)| Some((a[i].as_ref()?, b[j].as_ref()?)))
                .collect();
            let equal = present.iter().filter(|(x, y)| x == y).count();
            PairEvidence {
                rows: present.len(),
                equal_share: share(equal, present.len()),
                correlation: None,
            }
        }
        _ => PairEvidence {
            rows: 0,
            equal_share: 0.0,
            correlation: None,
        },
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut cov, mut var_x, mut var_y) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        cov += (x - mean_x) * (y - mean_y);
        var_x += (x - mean_x).powi(2);
        var_y += (y - mean_y).powi(2);
    }
    if var_x == 0.0 || var_y == 0.0 {
        return None;
    }
    Some(cov / (var_x.sqrt() * var_y.sqrt()))
}

/// Finds two other numeric columns whose sum equals `target` in at least 99 % of the rows
/// where all three are present, and returns their indexes and that share.
pub(crate) fn sum_of_two(columns: &[Values], target: usize) -> Option<(usize, usize, f64)> {
    let Values::Numbers(total) = &columns[target] else {
        return None;
    };
    let numeric: Vec<usize> = (0..columns.len())
        .filter(|&index| index != target && matches!(columns[index], Values::Numbers(_)))
        .collect();
    for (position, &a) in numeric.iter().enumerate() {
        for &b in &numeric[position + 1..] {
            let (Values::Numbers(x), Values::Numbers(y)) = (&columns[a], &columns[b]) else {
                continue;
            };
            let mut rows = 0;
            let mut equal = 0;
            for ((t, x), y) in total.iter().zip(x).zip(y) {
                if let (Some(t), Some(x), Some(y)) = (t, x, y) {
                    rows += 1;
                    if numbers_equal(*t, x + y) {
                        equal += 1;
                    }
                }
            }
            let equal_share = share(equal, rows);
            if rows > 0 && equal_share >= 0.99 {
                return Some((a, b, equal_share));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(times: Vec<&str>, values: Vec<Option<f64>>) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("time", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(times)),
                Arc::new(Float64Array::from(values)),
            ],
        )
        .expect("valid batch")
    }

    #[test]
    fn aligns_rows_across_time_formats() {
        let reference = batch(
            vec![
                "10/03/2012 12:00:00 AM",
                "10/03/2012 01:00:00 AM",
                "10/03/2012 01:00:00 AM",
            ],
            vec![Some(1.0), Some(2.0), Some(9.0)],
        );
        let new = batch(
            vec!["2012-10-03T01:00:00", "2012-10-03T05:00:00"],
            vec![Some(2.0), Some(3.0)],
        );
        let alignment = align(&reference, 0, &new, 0).expect("alignable keys");
        assert_eq!(alignment.pairs, vec![(1, 0)]);
        assert_eq!(alignment.duplicate_keys, 1);
    }

    #[test]
    fn compares_numbers_and_text() {
        let a = Values::of(&Int64Array::from(vec![1, 2, 3, 4]));
        let b = Values::of(&StringArray::from(vec!["1", "2", "3", "5"]));
        let pairs = [(0, 0), (1, 1), (2, 2), (3, 3)];
        let evidence = compare(&a, &b, &pairs);
        assert_eq!(evidence.rows, 4);
        assert_eq!(evidence.equal_share, 0.75);
        assert!(evidence.correlation.is_some_and(|r| r > 0.9));

        let c = Values::of(&StringArray::from(vec!["x", "y", "z", "w"]));
        let evidence = compare(&c, &c, &pairs);
        assert_eq!(evidence.equal_share, 1.0);
        assert_eq!(compare(&a, &c, &pairs).rows, 0);
    }

    #[test]
    fn finds_a_sum_column() {
        let columns = vec![
            Values::of(&Int64Array::from(vec![3, 5, 7])),
            Values::of(&Int64Array::from(vec![1, 2, 3])),
            Values::of(&Int64Array::from(vec![2, 3, 4])),
        ];
        assert_eq!(sum_of_two(&columns, 0), Some((1, 2, 1.0)));
        assert_eq!(sum_of_two(&columns, 1), None);
    }
}
