//! [`GovernedBatch`]: an Arrow record batch with the row ids, issues and provenance that
//! governance needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array, UInt64Array};
use arrow::compute::{filter, filter_record_batch, take, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::{Error, Issue, IssueLog, Result};

/// Name of the row-id column added by [`GovernedBatch::with_row_id_column`].
pub const ROW_ID_COLUMN: &str = "__row_id";

/// Origin of a batch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// Source name, such as a file path or a generator name.
    pub source: String,
    /// Collection time in milliseconds since the Unix epoch.
    pub collected_at_ms: i64,
    /// Names of the stages applied so far, in order.
    pub stages: Vec<String>,
    /// Position of the source after this batch's last record, for collectors that can resume.
    /// A checkpointing sink commits it with the rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<crate::SourcePosition>,
}

impl Provenance {
    /// Creates provenance for `source`, collected now.
    pub fn new(source: impl Into<String>) -> Self {
        let collected_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as i64)
            .unwrap_or(0);
        Provenance {
            source: source.into(),
            collected_at_ms,
            stages: Vec::new(),
            position: None,
        }
    }
}

/// Hands out stable row ids. Ids are unique for the allocator's lifetime; a collector keeps
/// one allocator so that ids never repeat across its batches.
#[derive(Debug, Default)]
pub struct RowIdAllocator {
    next: AtomicU64,
}

impl RowIdAllocator {
    /// Creates an allocator whose first id is `first`.
    pub fn starting_at(first: u64) -> Self {
        RowIdAllocator {
            next: AtomicU64::new(first),
        }
    }

    /// Reserves `count` consecutive ids and returns them as an array.
    pub fn allocate(&self, count: usize) -> UInt64Array {
        let first = self.next.fetch_add(count as u64, Ordering::Relaxed);
        UInt64Array::from_iter_values(first..first + count as u64)
    }
}

/// A record batch under governance: data, one stable row id per row, the cell-level issue log
/// and provenance.
///
/// Row ids are kept beside the data rather than inside it, so the data schema stays the
/// user's. Every method that selects rows keeps ids and rows aligned.
#[derive(Debug, Clone)]
pub struct GovernedBatch {
    data: RecordBatch,
    row_ids: UInt64Array,
    /// Issues found on this batch's rows.
    pub issues: IssueLog,
    /// Origin of the batch and the stages applied to it.
    pub provenance: Provenance,
}

impl GovernedBatch {
    /// Creates a governed batch. Fails when the number of row ids differs from the number of
    /// rows or when ids contain nulls.
    pub fn try_new(
        data: RecordBatch,
        row_ids: UInt64Array,
        provenance: Provenance,
    ) -> Result<Self> {
        if row_ids.len() != data.num_rows() {
            return Err(Error::InvalidInput(format!(
                "{} row ids for {} rows: every row needs exactly one id",
                row_ids.len(),
                data.num_rows()
            )));
        }
        if row_ids.null_count() > 0 {
            return Err(Error::InvalidInput(
                "row ids contain nulls: every row needs an id".into(),
            ));
        }
        Ok(GovernedBatch {
            data,
            row_ids,
            issues: IssueLog::new(),
            provenance,
        })
    }

    /// Returns the data.
    pub fn data(&self) -> &RecordBatch {
        &self.data
    }

    /// Returns the row ids, aligned with the rows of [`GovernedBatch::data`].
    pub fn row_ids(&self) -> &UInt64Array {
        &self.row_ids
    }

    /// Returns the number of rows.
    pub fn num_rows(&self) -> usize {
        self.data.num_rows()
    }

    /// Returns the column named `name`, or an error that lists the columns present.
    pub fn column(&self, name: &str) -> Result<&ArrayRef> {
        match self.data.schema().index_of(name) {
            Ok(index) => Ok(self.data.column(index)),
            Err(_) => Err(Error::InvalidInput(format!(
                "column {name:?} not found; columns are: {}",
                self.column_names().join(", ")
            ))),
        }
    }

    /// Returns the column names in order.
    pub fn column_names(&self) -> Vec<String> {
        self.data
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect()
    }

    /// Replaces the data with a batch of the same row count; row ids stay as they are.
    pub fn replace_data(&mut self, data: RecordBatch) -> Result<()> {
        if data.num_rows() != self.data.num_rows() {
            return Err(Error::Internal(format!(
                "replace_data changed the row count from {} to {}; use filter or take",
                self.data.num_rows(),
                data.num_rows()
            )));
        }
        self.data = data;
        Ok(())
    }

    /// Keeps the rows where `mask` is true, with their ids and their issues. Issues of removed
    /// rows leave with them: a stage that removes rows reports them through quarantine or
    /// merge, so no history is lost.
    pub fn filter(&self, mask: &BooleanArray) -> Result<GovernedBatch> {
        let data = filter_record_batch(&self.data, mask)?;
        let ids = filter(&self.row_ids, mask)?;
        self.with_selected(data, ids)
    }

    /// Keeps the rows at `indices`, in that order, with their ids and issues.
    pub fn take(&self, indices: &UInt32Array) -> Result<GovernedBatch> {
        let data = take_record_batch(&self.data, indices)?;
        let ids = take(&self.row_ids, indices, None)?;
        self.with_selected(data, ids)
    }

    fn with_selected(&self, data: RecordBatch, ids: ArrayRef) -> Result<GovernedBatch> {
        let row_ids = ids
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| Error::Internal("row-id selection lost its UInt64 type".into()))?
            .clone();
        let mut issues = IssueLog::new();
        if !self.issues.is_empty() {
            // Issues about rows outside this batch (a duplicate merged in an earlier batch)
            // stay; issues about rows of this batch follow their rows.
            let kept: std::collections::HashSet<u64> = row_ids.values().iter().copied().collect();
            let source: std::collections::HashSet<u64> =
                self.row_ids.values().iter().copied().collect();
            issues.extend(
                self.issues
                    .issues()
                    .iter()
                    .filter(|issue| kept.contains(&issue.row_id) || !source.contains(&issue.row_id))
                    .cloned(),
            );
        }
        Ok(GovernedBatch {
            data,
            row_ids,
            issues,
            provenance: self.provenance.clone(),
        })
    }

    /// Returns the data with the row ids prepended as column [`ROW_ID_COLUMN`], for engines
    /// such as DataFusion that must carry ids through a query.
    pub fn with_row_id_column(&self) -> Result<RecordBatch> {
        let mut fields = vec![Arc::new(Field::new(ROW_ID_COLUMN, DataType::UInt64, false))];
        fields.extend(self.data.schema().fields().iter().cloned());
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.row_ids.clone())];
        columns.extend(self.data.columns().iter().cloned());
        let schema = Schema::new_with_metadata(fields, self.data.schema().metadata().clone());
        Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
    }

    /// Appends one issue to the log.
    pub fn push_issue(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// Concatenates batches that share a schema, keeping ids, issues and the first batch's
    /// provenance. Returns `None` for an empty list.
    pub fn concat(batches: &[GovernedBatch]) -> Result<Option<GovernedBatch>> {
        let Some(first) = batches.first() else {
            return Ok(None);
        };
        let data = arrow::compute::concat_batches(
            &first.data.schema(),
            batches.iter().map(|batch| &batch.data),
        )?;
        let ids: Vec<&dyn Array> = batches
            .iter()
            .map(|batch| &batch.row_ids as &dyn Array)
            .collect();
        let ids = arrow::compute::concat(&ids)?;
        let mut merged = first.with_selected(data, ids)?;
        merged.issues = IssueLog::new();
        for batch in batches {
            merged.issues.extend(batch.issues.issues().iter().cloned());
        }
        Ok(Some(merged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    fn sample() -> GovernedBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, true)]));
        let data = RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 2, 3]))])
            .expect("batch");
        let ids = RowIdAllocator::starting_at(100).allocate(3);
        GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
    }

    #[test]
    fn filter_keeps_ids_aligned() {
        let batch = sample();
        let kept = batch
            .filter(&BooleanArray::from(vec![true, false, true]))
            .expect("filter");
        assert_eq!(kept.row_ids().values().to_vec(), vec![100, 102]);
        assert_eq!(kept.num_rows(), 2);
    }

    #[test]
    fn filter_keeps_issues_once() {
        let mut batch = sample();
        let issue = |row_id| {
            crate::Issue::cell(
                row_id,
                "v",
                crate::IssueKind::Duplicate,
                crate::Severity::Info,
                "test",
                "x",
            )
        };
        batch.push_issue(issue(100));
        batch.push_issue(issue(101));
        // Row 7 is not in this batch, like a row emitted with an earlier batch.
        batch.push_issue(issue(7));

        let kept = batch
            .filter(&BooleanArray::from(vec![true, false, true]))
            .expect("filter");
        let rows: Vec<u64> = kept
            .issues
            .issues()
            .iter()
            .map(|issue| issue.row_id)
            .collect();
        assert_eq!(rows, vec![100, 7]);
    }

    #[test]
    fn mismatched_ids_are_rejected() {
        let batch = sample();
        let error = GovernedBatch::try_new(
            batch.data().clone(),
            UInt64Array::from(vec![1]),
            Provenance::default(),
        )
        .expect_err("must reject");
        assert!(error.to_string().contains("1 row ids for 3 rows"));
    }

    #[test]
    fn missing_column_lists_existing() {
        let error = sample().column("pm25").expect_err("absent");
        assert!(error.to_string().contains("columns are: v"));
    }

    #[test]
    fn row_id_column_is_prepended() {
        let with_ids = sample().with_row_id_column().expect("ids");
        assert_eq!(with_ids.schema().field(0).name(), ROW_ID_COLUMN);
        assert_eq!(with_ids.num_columns(), 2);
    }
}
