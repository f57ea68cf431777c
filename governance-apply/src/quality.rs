//! Streaming per-column quality statistics: completeness (present values per row) and validity
//! (present values without an error-severity issue), accumulated batch by batch.
//!
//! A value is present when it is not null and, for a string column, not blank: an empty
//! string or one of only whitespace counts as missing, because sources write such values in
//! place of nulls.

use std::collections::{BTreeMap, HashMap, HashSet};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use governance_core::{GovernedBatch, IssueKind, Result, Severity};
use serde::{Deserialize, Serialize};

/// Quality figures of one column over the batches seen so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    /// Column name.
    pub name: String,
    /// Arrow data type of the column in the first batch that held it.
    pub data_type: String,
    /// Rows of the batches that held the column.
    pub rows: u64,
    /// Values that are not null.
    pub non_null: u64,
    /// Non-null strings that are empty or only whitespace; always 0 for other types.
    pub blank: u64,
    /// Values that are neither null nor blank.
    pub present: u64,
    /// Present values with at least one issue of severity error.
    pub invalid: u64,
    /// `present / rows`, or `None` when the column had no rows.
    pub completeness: Option<f64>,
    /// `1 - invalid / present`, or `None` when no value was present.
    pub validity: Option<f64>,
    /// Issues on this column's cells by kind, over all severities.
    pub issues_by_kind: BTreeMap<IssueKind, u64>,
}

#[derive(Debug, Clone, Default)]
struct ColumnCounts {
    data_type: String,
    rows: u64,
    non_null: u64,
    blank: u64,
    invalid: u64,
    issues_by_kind: BTreeMap<IssueKind, u64>,
}

/// Name of the tier column that the quality gate of `governance-clean` adds to passing rows.
pub const QUALITY_TIER_COLUMN: &str = "quality_tier";

/// Name of the usability-score column that the quality gate adds beside the tier.
pub const QUALITY_SCORE_COLUMN: &str = "quality_score";

/// Rows per quality tier over the batches seen, read from [`QUALITY_TIER_COLUMN`] and
/// [`QUALITY_SCORE_COLUMN`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    /// Rows per tier name (`gold`, `silver`, `bronze`, `below_bronze`); a null tier counts
    /// under `none`.
    pub rows_by_tier: BTreeMap<String, u64>,
    /// Mean of the non-null usability scores, or `None` without a score column or score.
    pub mean_score: Option<f64>,
}

/// Accumulates [`ColumnQuality`] over a stream of batches in one pass, keeping only counts.
#[derive(Debug, Clone, Default)]
pub struct QualityStats {
    rows: u64,
    batches: u64,
    order: Vec<String>,
    columns: HashMap<String, ColumnCounts>,
    row_issues_by_kind: BTreeMap<IssueKind, u64>,
    issues_by_severity: BTreeMap<Severity, u64>,
    tiers: Option<BTreeMap<String, u64>>,
    score_sum: f64,
    score_count: u64,
}

impl QualityStats {
    /// Creates empty statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one batch's values and issues. An issue that names a column absent from the data
    /// gets its own entry with no rows, so it still shows in the report.
    pub fn observe(&mut self, batch: &GovernedBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.batches += 1;
        let data = batch.data();
        let schema = data.schema();

        // Logical nulls, because dictionary, run-end and null arrays keep some or all of
        // their nulls outside the validity bitmap that `Array::nulls` returns.
        let mut null_masks = Vec::with_capacity(data.num_columns());
        let mut blank_masks = Vec::with_capacity(data.num_columns());
        for (field, column) in schema.fields().iter().zip(data.columns()) {
            let nulls = column.logical_nulls();
            let blank = blank_mask(column)?;
            let counts = self.entry(field.name(), field.data_type());
            counts.rows += column.len() as u64;
            counts.non_null +=
                (column.len() - nulls.as_ref().map_or(0, |mask| mask.null_count())) as u64;
            counts.blank += blank.as_ref().map_or(0, |mask| mask.true_count() as u64);
            null_masks.push(nulls);
            blank_masks.push(blank);
        }

        self.observe_tiers(batch);

        // Row ids are unique within a batch, so a cell with several error issues is
        // counted once.
        let mut invalid_cells: HashSet<(usize, usize)> = HashSet::new();
        let mut row_index: Option<HashMap<u64, usize>> = None;
        for issue in batch.issues.issues() {
            *self.issues_by_severity.entry(issue.severity).or_insert(0) += 1;
            let Some(column_name) = issue.column.as_deref() else {
                *self.row_issues_by_kind.entry(issue.kind).or_insert(0) += 1;
                continue;
            };
            let counts = self.entry(column_name, &DataType::Null);
            *counts.issues_by_kind.entry(issue.kind).or_insert(0) += 1;
            if issue.severity != Severity::Error {
                continue;
            }
            let Ok(column_index) = schema.index_of(column_name) else {
                continue;
            };
            let rows = row_index.get_or_insert_with(|| {
                batch
                    .row_ids()
                    .values()
                    .iter()
                    .enumerate()
                    .map(|(index, id)| (*id, index))
                    .collect()
            });
            let Some(&row) = rows.get(&issue.row_id) else {
                tracing::debug!(
                    row_id = issue.row_id,
                    column = column_name,
                    "issue names a row outside its batch"
                );
                continue;
            };
            let null = null_masks[column_index]
                .as_ref()
                .is_some_and(|mask| mask.is_null(row));
            let blank = blank_masks[column_index]
                .as_ref()
                .is_some_and(|mask| mask.value(row));
            if !null && !blank {
                invalid_cells.insert((column_index, row));
            }
        }
        for (column_index, _) in invalid_cells {
            let name = schema.field(column_index).name();
            if let Some(counts) = self.columns.get_mut(name) {
                counts.invalid += 1;
            }
        }
        Ok(())
    }

    /// Counts the rows per tier and sums the scores, when the batch has a Utf8 tier column.
    fn observe_tiers(&mut self, batch: &GovernedBatch) {
        let Ok(tiers) = batch.column(QUALITY_TIER_COLUMN) else {
            return;
        };
        let Some(tiers) = tiers.as_string_opt::<i32>() else {
            tracing::debug!(
                column = QUALITY_TIER_COLUMN,
                data_type = %tiers.data_type(),
                "tier column is not Utf8; tiers are not counted"
            );
            return;
        };
        let counts = self.tiers.get_or_insert_with(BTreeMap::new);
        for tier in tiers.iter() {
            *counts
                .entry(tier.unwrap_or("none").to_string())
                .or_insert(0) += 1;
        }
        if let Ok(scores) = batch.column(QUALITY_SCORE_COLUMN)
            && let Some(scores) = scores.as_primitive_opt::<arrow::datatypes::Float64Type>()
        {
            for score in scores.iter().flatten() {
                self.score_sum += score;
                self.score_count += 1;
            }
        }
    }

    /// Returns the rows per quality tier, or `None` when no batch had a tier column.
    pub fn tier_summary(&self) -> Option<TierSummary> {
        let rows_by_tier = self.tiers.clone()?;
        Some(TierSummary {
            rows_by_tier,
            mean_score: (self.score_count > 0).then(|| self.score_sum / self.score_count as f64),
        })
    }

    fn entry(&mut self, name: &str, data_type: &DataType) -> &mut ColumnCounts {
        if !self.columns.contains_key(name) {
            self.order.push(name.to_string());
        }
        let counts = self.columns.entry(name.to_string()).or_default();
        if counts.data_type.is_empty() && *data_type != DataType::Null {
            counts.data_type = data_type.to_string();
        }
        counts
    }

    /// Returns the rows seen.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Returns the batches seen.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// Returns row-level issues (those naming no column) by kind.
    pub fn row_issues_by_kind(&self) -> &BTreeMap<IssueKind, u64> {
        &self.row_issues_by_kind
    }

    /// Returns all issues seen, by severity.
    pub fn issues_by_severity(&self) -> &BTreeMap<Severity, u64> {
        &self.issues_by_severity
    }

    /// Returns the quality of each column, in the order the columns first appeared.
    pub fn columns(&self) -> Vec<ColumnQuality> {
        self.order
            .iter()
            .filter_map(|name| self.columns.get(name).map(|counts| (name, counts)))
            .map(|(name, counts)| {
                let present = counts.non_null - counts.blank;
                ColumnQuality {
                    name: name.clone(),
                    data_type: counts.data_type.clone(),
                    rows: counts.rows,
                    non_null: counts.non_null,
                    blank: counts.blank,
                    present,
                    invalid: counts.invalid,
                    completeness: ratio(present, counts.rows),
                    validity: ratio(counts.invalid, present).map(|share| 1.0 - share),
                    issues_by_kind: counts.issues_by_kind.clone(),
                }
            })
            .collect()
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Marks the blank strings of a string column (true = empty or only whitespace, null =
/// false), or returns `None` for a column of another type.
fn blank_mask(array: &ArrayRef) -> Result<Option<BooleanArray>> {
    let mask = match array.data_type() {
        DataType::Utf8 => blanks(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => blanks(array.as_string::<i64>().iter()),
        DataType::Utf8View => blanks(array.as_string_view().iter()),
        DataType::Dictionary(_, values)
            if matches!(
                values.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let decoded = arrow::compute::cast(array, &DataType::Utf8)?;
            blanks(decoded.as_string::<i32>().iter())
        }
        _ => return Ok(None),
    };
    Ok(Some(mask))
}

fn blanks<'a>(values: impl Iterator<Item = Option<&'a str>>) -> BooleanArray {
    values
        .map(|value| Some(value.is_some_and(|text| text.trim().is_empty())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{Field, Int32Type, Schema};
    use governance_core::{Issue, Provenance, RowIdAllocator};

    fn governed(columns: Vec<(&str, ArrayRef)>) -> GovernedBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        let arrays = columns.into_iter().map(|(_, array)| array).collect();
        let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
        let ids = RowIdAllocator::default().allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
    }

    #[test]
    fn blank_strings_count_as_missing() {
        let names: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some(""),
            Some("  "),
            None,
        ]));
        let mut stats = QualityStats::new();
        stats
            .observe(&governed(vec![("name", names)]))
            .expect("observe");
        let column = &stats.columns()[0];
        assert_eq!(column.rows, 4);
        assert_eq!(column.non_null, 3);
        assert_eq!(column.blank, 2);
        assert_eq!(column.present, 1);
        assert_eq!(column.completeness, Some(0.25));
    }

    #[test]
    fn dictionary_strings_are_checked_for_blanks() {
        let keys: DictionaryArray<Int32Type> =
            vec![Some("x"), Some("\t"), None].into_iter().collect();
        let mut stats = QualityStats::new();
        stats
            .observe(&governed(vec![("zone", Arc::new(keys))]))
            .expect("observe");
        let column = &stats.columns()[0];
        assert_eq!(column.blank, 1);
        assert_eq!(column.present, 1);
    }

    #[test]
    fn error_issues_count_once_per_present_cell() {
        let values: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(900.0),
            None,
            Some(4.0),
        ]));
        let mut batch = governed(vec![("pm25", values)]);
        let ids: Vec<u64> = batch.row_ids().values().to_vec();
        let error = |row: u64, kind| Issue::cell(row, "pm25", kind, Severity::Error, "test", "bad");
        batch.push_issue(error(ids[1], IssueKind::OutOfRange));
        batch.push_issue(error(ids[1], IssueKind::Outlier));
        // The null cell is already missing, so its error does not count against validity.
        batch.push_issue(error(ids[2], IssueKind::Missing));
        batch.push_issue(Issue::cell(
            ids[3],
            "pm25",
            IssueKind::Outlier,
            Severity::Warning,
            "test",
            "odd",
        ));

        let mut stats = QualityStats::new();
        stats.observe(&batch).expect("observe");
        let column = &stats.columns()[0];
        assert_eq!(column.present, 3);
        assert_eq!(column.invalid, 1);
        let validity = column.validity.expect("values present");
        assert!((validity - 2.0 / 3.0).abs() < 1e-12, "{validity}");
        assert_eq!(column.issues_by_kind[&IssueKind::Outlier], 2);
        assert_eq!(column.issues_by_kind[&IssueKind::Missing], 1);
        assert_eq!(stats.issues_by_severity()[&Severity::Error], 3);
    }

    #[test]
    fn statistics_add_up_across_batches() {
        let mut stats = QualityStats::new();
        let first: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
        let second: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), Some("c")]));
        stats
            .observe(&governed(vec![("name", first)]))
            .expect("first");
        stats
            .observe(&governed(vec![("name", second)]))
            .expect("second");
        let column = &stats.columns()[0];
        assert_eq!(stats.rows(), 4);
        assert_eq!(stats.batches(), 2);
        assert_eq!(column.present, 3);
        assert_eq!(column.completeness, Some(0.75));
    }

    #[test]
    fn empty_column_has_no_ratios() {
        let empty: ArrayRef = Arc::new(Float64Array::from(Vec::<f64>::new()));
        let mut stats = QualityStats::new();
        stats
            .observe(&governed(vec![("v", empty)]))
            .expect("observe");
        let column = &stats.columns()[0];
        assert_eq!(column.completeness, None);
        assert_eq!(column.validity, None);
    }

    #[test]
    fn tier_column_is_counted() {
        let mut stats = QualityStats::new();
        assert_eq!(stats.tier_summary(), None);
        let tiers: ArrayRef = Arc::new(StringArray::from(vec![Some("gold"), Some("bronze"), None]));
        let scores: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), Some(0.5), None]));
        stats
            .observe(&governed(vec![
                (QUALITY_TIER_COLUMN, tiers),
                (QUALITY_SCORE_COLUMN, scores),
            ]))
            .expect("observe");
        let summary = stats.tier_summary().expect("tiers seen");
        assert_eq!(summary.rows_by_tier.get("gold"), Some(&1));
        assert_eq!(summary.rows_by_tier.get("bronze"), Some(&1));
        assert_eq!(summary.rows_by_tier.get("none"), Some(&1));
        assert_eq!(summary.mean_score, Some(0.75));
    }
}
