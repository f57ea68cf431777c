//! [`BatchLimits`]: the maximum rows and payload bytes a collector puts in one batch, and
//! the split of a run of items into batches under them.
//!
//! Collectors of typed files (CSV, Parquet) have no payload per item once a batch is
//! decoded, so they bound a batch's Arrow memory instead (`split_by_memory`).

use arrow::array::{Array, RecordBatch};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Maximum rows and payload bytes of one output batch.
///
/// The byte limit counts the items' payload bytes as received (the JSON text of an item),
/// not the Arrow memory of the batch, because it must be checked before conversion. An item
/// larger than `max_bytes` on its own is quarantined with its size instead of being cut.
///
/// [`CsvConfig::with_limits`](crate::CsvConfig::with_limits) and
/// [`ParquetConfig::with_limits`](crate::ParquetConfig::with_limits) apply the
/// limits to decoded batches instead: there `max_bytes` bounds the Arrow memory of a batch,
/// and a row above it is emitted alone, because a decoded row has no payload size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchLimits {
    /// Rows per batch, at least 1.
    pub max_rows: usize,
    /// Payload bytes per batch, at least 1.
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_rows: 8192,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Items split by [`BatchLimits::split`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitItems {
    /// Indices of the items of each batch, in input order.
    pub batches: Vec<Vec<usize>>,
    /// Indices of the items larger than `max_bytes` on their own, with their size.
    pub oversized: Vec<(usize, usize)>,
}

impl BatchLimits {
    /// Checks that both limits are above 0; `stage` names the collector in the error.
    pub fn validate(&self, stage: &str) -> Result<()> {
        if self.max_rows == 0 || self.max_bytes == 0 {
            return Err(Error::config(
                stage,
                format!(
                    "limits.max_rows ({}) and limits.max_bytes ({}) must be above 0",
                    self.max_rows, self.max_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Splits items of the given byte sizes into consecutive batches of at most `max_rows`
    /// items and `max_bytes` bytes. An item above `max_bytes` goes to
    /// [`SplitItems::oversized`] and closes no batch.
    pub fn split(&self, sizes: &[usize]) -> SplitItems {
        let mut split = SplitItems::default();
        let mut current: Vec<usize> = Vec::new();
        let mut bytes = 0usize;
        for (index, &size) in sizes.iter().enumerate() {
            if size > self.max_bytes {
                split.oversized.push((index, size));
                continue;
            }
            let full = current.len() >= self.max_rows || bytes + size > self.max_bytes;
            if full && !current.is_empty() {
                split.batches.push(std::mem::take(&mut current));
                bytes = 0;
            }
            current.push(index);
            bytes += size;
        }
        if !current.is_empty() {
            split.batches.push(current);
        }
        split
    }

    /// Returns the reason a quarantined item of `size` bytes was rejected.
    pub fn oversized_reason(&self, size: usize) -> String {
        format!(
            "the item is {size} bytes, above the batch limit of {} bytes (limits.max_bytes); \
             raise the limit to accept it",
            self.max_bytes
        )
    }
}

/// Returns the bytes of Arrow memory that the rows of `batch` occupy. Unlike
/// `RecordBatch::get_array_memory_size`, a slice counts only its own rows, not the whole
/// buffers it shares and not the spare capacity of a builder.
pub(crate) fn memory_of(batch: &RecordBatch) -> Result<usize> {
    let mut total = 0usize;
    for column in batch.columns() {
        total += column.to_data().get_slice_memory_size()?;
    }
    Ok(total)
}

/// Cuts `batch` into consecutive slices of at most `max_bytes` of Arrow memory each (see
/// [`memory_of`]), in row order, by halving a slice until it fits. A slice of one row is
/// kept whatever its size, because a row is never cut and a decoded row is not dropped.
pub(crate) fn split_by_memory(batch: RecordBatch, max_bytes: usize) -> Result<Vec<RecordBatch>> {
    let mut done = Vec::new();
    let mut pending = vec![batch];
    // `pending` is a stack whose top is the earliest slice, so output keeps row order.
    while let Some(slice) = pending.pop() {
        if slice.num_rows() <= 1 || memory_of(&slice)? <= max_bytes {
            done.push(slice);
            continue;
        }
        let half = slice.num_rows() / 2;
        pending.push(slice.slice(half, slice.num_rows() - half));
        pending.push(slice.slice(0, half));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn numbers(count: i64) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
        ]);
        let values: Vec<String> = (0..count).map(|value| "x".repeat(value as usize)).collect();
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from((0..count).collect::<Vec<_>>())),
                Arc::new(StringArray::from(values)),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn memory_split_keeps_rows_in_order() {
        let batch = numbers(100);
        let whole = memory_of(&batch).expect("size");
        let slices = split_by_memory(batch, whole / 5).expect("split");
        assert!(slices.len() >= 5, "{}", slices.len());
        let mut seen = Vec::new();
        for slice in &slices {
            assert!(memory_of(slice).expect("size") <= whole / 5 || slice.num_rows() == 1);
            let column = slice
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("n");
            seen.extend(column.values().iter().copied());
        }
        assert_eq!(seen, (0..100).collect::<Vec<i64>>());
    }

    #[test]
    fn memory_split_keeps_oversized_row_whole() {
        let slices = split_by_memory(numbers(3), 1).expect("split");
        assert_eq!(
            slices.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn slice_counts_only_its_rows() {
        let batch = numbers(1000);
        let slice = batch.slice(0, 10);
        assert!(memory_of(&slice).expect("size") * 10 < memory_of(&batch).expect("size"));
    }

    #[test]
    fn split_by_row_count() {
        let limits = BatchLimits {
            max_rows: 2,
            max_bytes: 1000,
        };
        let split = limits.split(&[10, 10, 10, 10, 10]);
        assert_eq!(split.batches, vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert!(split.oversized.is_empty());
    }

    #[test]
    fn split_by_bytes() {
        let limits = BatchLimits {
            max_rows: 100,
            max_bytes: 25,
        };
        let split = limits.split(&[10, 10, 10, 25, 5]);
        assert_eq!(split.batches, vec![vec![0, 1], vec![2], vec![3], vec![4]]);
    }

    #[test]
    fn oversized_item_is_set_apart() {
        let limits = BatchLimits {
            max_rows: 100,
            max_bytes: 20,
        };
        let split = limits.split(&[5, 21, 5]);
        assert_eq!(split.batches, vec![vec![0, 2]]);
        assert_eq!(split.oversized, vec![(1, 21)]);
        assert!(limits.oversized_reason(21).contains("21 bytes"));
    }

    #[test]
    fn zero_limit_is_rejected() {
        let limits = BatchLimits {
            max_rows: 0,
            max_bytes: 10,
        };
        let error = limits.validate("poll").expect_err("zero rows");
        assert!(error.to_string().contains("max_rows (0)"), "{error}");
    }
}
