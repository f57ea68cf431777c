//! [`BatchLimits`]: the maximum rows and payload bytes a collector puts in one batch, and
//! the split of a run of items into batches under them.

use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Maximum rows and payload bytes of one output batch.
///
/// The byte limit counts the items' payload bytes as received (the JSON text of an item),
/// not the Arrow memory of the batch, because it must be checked before conversion. An item
/// larger than `max_bytes` on its own is quarantined with its size instead of being cut.
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

#[cfg(test)]
mod tests {
    use super::*;

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
