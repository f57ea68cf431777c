//! Helpers the cleaners share: resolving configured columns, grouping rows by series,
//! selecting rows without losing issues about rows outside the batch, and per-batch audit
//! records.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray, UInt32Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use governance_core::audit::AuditAction;
use governance_core::{Error, GovernedBatch, Issue, IssueLog, Result, StageContext};

/// Returns the index of column `name`, or a config error for `stage` that names the setting
/// and lists the columns present.
pub(crate) fn column_index(
    batch: &GovernedBatch,
    stage: &str,
    setting: &str,
    name: &str,
) -> Result<usize> {
    batch.data().schema().index_of(name).map_err(|_| {
        Error::config(
            stage,
            format!(
                "{setting} names column {name:?}, which is not in the batch; columns are: {}",
                batch.column_names().join(", ")
            ),
        )
    })
}

/// Returns the Float64 column at `index`, or a config error naming its actual type.
pub(crate) fn float_column<'a>(
    batch: &'a GovernedBatch,
    stage: &str,
    index: usize,
) -> Result<&'a Float64Array> {
    let column = batch.data().column(index);
    column.as_any().downcast_ref::<Float64Array>().ok_or_else(|| {
        let field = batch.data().schema().field(index).clone();
        Error::config(
            stage,
            format!(
                "column {:?} is {}, but {stage} needs Float64; convert it with the canonicalise \
                 stage's `numeric` setting first",
                field.name(),
                field.data_type()
            ),
        )
    })
}

/// Resolves the value columns of a numeric stage: the configured names, or every Float64
/// column except `excluded` when none are configured.
pub(crate) fn value_columns(
    batch: &GovernedBatch,
    stage: &str,
    configured: Option<&[String]>,
    excluded: &[&str],
) -> Result<Vec<usize>> {
    match configured {
        Some(names) => names
            .iter()
            .map(|name| {
                let index = column_index(batch, stage, "columns", name)?;
                float_column(batch, stage, index)?;
                Ok(index)
            })
            .collect(),
        None => Ok(batch
            .data()
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| {
                field.data_type() == &DataType::Float64
                    && !excluded.contains(&field.name().as_str())
            })
            .map(|(index, _)| index)
            .collect()),
    }
}

/// Reads a column as text, one value per row; null stays `None`. Any type that Arrow can cast
/// to Utf8 is accepted, so a series may be named by a number or a dictionary.
pub(crate) fn text_values(column: &ArrayRef) -> Result<StringArray> {
    let text = cast(column, &DataType::Utf8)?;
    text.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| Error::Internal("cast to Utf8 did not return a StringArray".into()))
}

/// Reads a time column (any timestamp unit, date or integer) as Int64 in its own unit.
pub(crate) fn time_values(batch: &GovernedBatch, stage: &str, index: usize) -> Result<Int64Array> {
    let column = batch.data().column(index);
    let field = batch.data().schema().field(index).clone();
    let supported = matches!(
        field.data_type(),
        DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Int64
            | DataType::Int32
    );
    if !supported {
        return Err(Error::config(
            stage,
            format!(
                "time column {:?} is {}; expected a timestamp, date or integer column",
                field.name(),
                field.data_type()
            ),
        ));
    }
    let values = cast(column, &DataType::Int64)?;
    values
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .ok_or_else(|| Error::Internal("cast to Int64 did not return an Int64Array".into()))
}

/// Rows of one series, in batch order, under the series' name (`None` for a null name).
pub(crate) struct SeriesRows {
    /// The series name as text.
    pub name: Option<String>,
    /// Row positions in the batch.
    pub rows: Vec<usize>,
}

/// Groups the rows of a batch by the series column, keeping batch order within each series
/// and ordering series by first appearance. Without a series column, all rows form one series.
pub(crate) fn group_by_series(
    batch: &GovernedBatch,
    series: Option<usize>,
) -> Result<Vec<SeriesRows>> {
    let Some(index) = series else {
        return Ok(vec![SeriesRows {
            name: None,
            rows: (0..batch.num_rows()).collect(),
        }]);
    };
    let names = text_values(batch.data().column(index))?;
    let mut groups: Vec<SeriesRows> = Vec::new();
    let mut positions: HashMap<Option<&str>, usize> = HashMap::new();
    for row in 0..names.len() {
        let name = names.is_valid(row).then(|| names.value(row));
        let group = *positions.entry(name).or_insert_with(|| {
            groups.push(SeriesRows {
                name: name.map(str::to_string),
                rows: Vec::new(),
            });
            groups.len() - 1
        });
        groups[group].rows.push(row);
    }
    Ok(groups)
}

/// Selects rows at `indices` with [`GovernedBatch::take`]. That keeps the issues about rows
/// outside `batch` (such as a row emitted with an earlier batch); with `keep_foreign_issues`
/// false they are left out, so a batch split in two carries them only once.
pub(crate) fn take_rows(
    batch: &GovernedBatch,
    indices: &[usize],
    keep_foreign_issues: bool,
) -> Result<GovernedBatch> {
    let positions = indices
        .iter()
        .map(|&index| {
            u32::try_from(index).map_err(|_| {
                Error::InvalidInput(format!(
                    "batch row {index} is beyond u32 indexing; split the batch into smaller batches"
                ))
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    let mut selected = batch.take(&UInt32Array::from(positions))?;
    if !keep_foreign_issues {
        let ids: std::collections::HashSet<u64> =
            batch.row_ids().values().iter().copied().collect();
        let mut own = IssueLog::new();
        own.extend(
            selected
                .issues
                .issues()
                .iter()
                .filter(|issue| ids.contains(&issue.row_id))
                .cloned(),
        );
        selected.issues = own;
    }
    Ok(selected)
}

/// Builds an issue about a whole row rather than one cell.
pub(crate) fn row_issue(
    row_id: u64,
    kind: governance_core::IssueKind,
    severity: governance_core::Severity,
    detector: &str,
    message: String,
) -> Issue {
    Issue {
        row_id,
        column: None,
        kind,
        severity,
        detector: detector.to_string(),
        message,
        suggested: None,
        confidence: 1.0,
    }
}

/// Change counts of one batch per subject (a column or an action), written as a single audit
/// record when something changed. The record contains counts, never values.
#[derive(Debug, Default)]
pub(crate) struct ChangeCounts {
    counts: BTreeMap<String, u64>,
}

impl ChangeCounts {
    /// Adds `count` changes under `subject`.
    pub fn add(&mut self, subject: &str, count: u64) {
        if count > 0 {
            *self.counts.entry(subject.to_string()).or_insert(0) += count;
        }
    }

    /// Returns the total over all subjects.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Writes one `Change` audit record with the total and the per-subject counts, such as
    /// `count=12 PM2.5=10 PM10=2`, when the total is not zero.
    pub fn audit(&self, ctx: &StageContext) -> Result<()> {
        if self.total() == 0 {
            return Ok(());
        }
        let mut detail = format!("count={}", self.total());
        for (subject, count) in &self.counts {
            detail.push_str(&format!(" {subject}={count}"));
        }
        ctx.audit(AuditAction::Change, ctx.stage(), &detail)
    }
}

/// Formats one row as `column=value` pairs, for a quarantined row's raw text.
pub(crate) fn row_text(data: &arrow::array::RecordBatch, row: usize) -> String {
    let schema = data.schema();
    schema
        .fields()
        .iter()
        .zip(data.columns())
        .map(|(field, array)| {
            let value = arrow::util::display::array_value_to_string(array, row)
                .unwrap_or_else(|error| format!("<unprintable: {error}>"));
            format!("{}={value}", field.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rebuilds the batch data with `columns` replacing the old ones, keeping the schema.
pub(crate) fn with_columns(batch: &mut GovernedBatch, columns: Vec<ArrayRef>) -> Result<()> {
    let data = arrow::array::RecordBatch::try_new(batch.data().schema(), columns)?;
    batch.replace_data(data)
}

/// Returns the factor `(multiply, divide)` that turns one unit of a timestamp or date column
/// into milliseconds, or `None` for another type.
pub(crate) fn millis_per_unit(data_type: &DataType) -> Option<(i128, i128)> {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, _) => Some((1000, 1)),
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => Some((1, 1)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some((1, 1000)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some((1, 1_000_000)),
        DataType::Date32 => Some((86_400_000, 1)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders of small governed batches for unit tests.

    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    };
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use governance_core::audit::AuditLog;
    use governance_core::{GovernedBatch, Provenance, RowIdAllocator, StageContext};

    /// One hour in milliseconds.
    pub const HOUR_MS: i64 = 3_600_000;

    /// Builds a governed batch from named columns, with ids from `ids`.
    pub fn batch(columns: Vec<(&str, ArrayRef)>, ids: &RowIdAllocator) -> GovernedBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        let arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, array)| array).collect();
        let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("test batch");
        let row_ids = ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, row_ids, Provenance::new("test")).expect("governed batch")
    }

    /// Builds a station/timestamp/value batch of hourly readings.
    pub fn series_batch(
        stations: &[&str],
        hours: &[i64],
        values: &[Option<f64>],
        ids: &RowIdAllocator,
    ) -> GovernedBatch {
        batch(
            vec![
                (
                    "station",
                    Arc::new(StringArray::from(stations.to_vec())) as ArrayRef,
                ),
                (
                    "timestamp",
                    Arc::new(TimestampMillisecondArray::from(
                        hours.iter().map(|hour| hour * HOUR_MS).collect::<Vec<_>>(),
                    )),
                ),
                ("value", Arc::new(Float64Array::from(values.to_vec()))),
            ],
            ids,
        )
    }

    /// Returns a context with an in-memory audit log.
    pub fn context(stage: &str) -> StageContext {
        StageContext::new(stage, 1, AuditLog::in_memory().into_handle())
    }

    /// Returns the audit details the context's log holds, in order.
    pub fn audit_details(ctx: &StageContext) -> Vec<String> {
        ctx.audit_handle()
            .lock()
            .expect("audit lock")
            .records()
            .iter()
            .map(|record| record.detail.clone())
            .collect()
    }

    /// Returns the Float64 column `name` of a batch as options.
    pub fn floats(batch: &GovernedBatch, name: &str) -> Vec<Option<f64>> {
        batch
            .column(name)
            .expect("column")
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("Float64 column")
            .iter()
            .collect()
    }

    /// Returns the Utf8 column `name` of a batch as options.
    pub fn texts(batch: &GovernedBatch, name: &str) -> Vec<Option<String>> {
        batch
            .column(name)
            .expect("column")
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("Utf8 column")
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    /// Declares a Timestamp(Millisecond) type for tests that compare types.
    pub fn timestamp_type() -> DataType {
        DataType::Timestamp(TimeUnit::Millisecond, None)
    }
}
