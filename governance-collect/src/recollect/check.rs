//! [`SourceChecker`]: finds gaps and impossible values in the batches of one source, with
//! the last time of each series kept across batches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::compute::kernels::cast::cast;
use arrow::datatypes::{DataType, Date32Type, Date64Type, TimeUnit};
use arrow::datatypes::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use governance_core::standard::StandardRegistry;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::config::{COMPONENT, ColumnRange, SourceValidationConfig};

/// Kind of problem found at the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceIssueKind {
    /// Two rows of a series are further apart than the expected interval allows.
    Gap,
    /// A value lies outside its column's valid range, or is NaN or infinite.
    ImpossibleValue,
}

/// A gap or impossible values of one series, with the time range to collect again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceIssue {
    /// Kind of problem.
    pub kind: SourceIssueKind,
    /// The series: each key column with its value as text; empty for a source of one series.
    pub key: BTreeMap<String, String>,
    /// Start of the range to collect again, inclusive.
    pub from: DateTime<Utc>,
    /// End of the range to collect again, exclusive.
    pub to: DateTime<Utc>,
    /// Column of the impossible values; `None` for a gap.
    pub column: Option<String>,
    /// Rows with an impossible value in the range; 0 for a gap.
    pub rows: u64,
    /// The first impossible value, for a reader of the report; `None` for a gap.
    pub value: Option<f64>,
    /// Description of the finding, for people.
    pub reason: String,
}

/// Result of checking one batch.
#[derive(Debug, Default)]
pub struct BatchCheck {
    /// Gaps and impossible values, each with its range.
    pub issues: Vec<SourceIssue>,
    /// Rows whose time is null or not a valid time; they take part in no gap check.
    pub rows_without_time: u64,
    /// Impossible values in rows without a time, which no range can cover.
    pub impossible_without_time: u64,
    /// Series dropped from the kept state to stay within `max_series`.
    pub series_dropped: u64,
}

/// The kept state of one series.
#[derive(Debug, Clone)]
struct Series {
    key: BTreeMap<String, String>,
    last: DateTime<Utc>,
    /// Number of the check that last saw the series, for dropping the least recent.
    touched: u64,
}

/// Checks the batches of one source (see the [module docs](super)).
#[derive(Debug)]
pub struct SourceChecker {
    config: SourceValidationConfig,
    /// Largest step between two rows of a series that is not a gap.
    max_step: Option<Duration>,
    /// Ranges of the standard model's attributes, by lowercase attribute name and alias.
    model_ranges: HashMap<String, ColumnRange>,
    series: HashMap<String, Series>,
    /// Series ids with the check that last touched them, oldest first.
    by_touch: BTreeSet<(u64, String)>,
    checks: u64,
}

impl SourceChecker {
    /// Creates a checker after validating `config`.
    pub fn new(config: SourceValidationConfig) -> Result<Self> {
        config.validate()?;
        let max_step = config.max_step_ms().map(|ms| {
            i64::try_from(ms)
                .ok()
                .and_then(Duration::try_milliseconds)
                .unwrap_or(Duration::MAX)
        });
        let model_ranges = match &config.standard_model {
            Some(name) => model_ranges(name)?,
            None => HashMap::new(),
        };
        Ok(SourceChecker {
            config,
            max_step,
            model_ranges,
            series: HashMap::new(),
            by_touch: BTreeSet::new(),
            checks: 0,
        })
    }

    /// Returns the config.
    pub fn config(&self) -> &SourceValidationConfig {
        &self.config
    }

    /// Forgets every series, for a source that starts again from its beginning.
    pub fn reset(&mut self) {
        self.series.clear();
        self.by_touch.clear();
    }

    /// Returns the number of series kept.
    pub fn series_len(&self) -> usize {
        self.series.len()
    }

    /// Checks one batch. Fails when a configured column is missing or has a type the check
    /// cannot read.
    pub fn check(&mut self, batch: &RecordBatch) -> Result<BatchCheck> {
        self.checks += 1;
        let mut result = BatchCheck::default();
        if batch.num_rows() == 0 {
            return Ok(result);
        }
        let time_column = required_column(batch, &self.config.time_column, "time_column")?;
        let (times, unit) = read_times(&self.config.time_column, time_column)?;
        result.rows_without_time = times.iter().filter(|time| time.is_none()).count() as u64;
        let series_ids = self.series_ids(batch)?;

        // Row indices per series, in batch order.
        let mut rows_by_series: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (row, id) in series_ids.iter().enumerate() {
            rows_by_series.entry(id.0.as_str()).or_default().push(row);
        }
        if let Some(max_step) = self.max_step {
            for (id, rows) in &rows_by_series {
                let key = &series_ids[rows[0]].1;
                self.check_gaps(id, key, rows, &times, unit, max_step, &mut result);
            }
        }
        for range in self.ranges_for(batch) {
            let values = numeric_values(batch, &range)?;
            for rows in rows_by_series.values() {
                let key = &series_ids[rows[0]].1;
                check_values(&range, key, rows, &values, &times, unit, &mut result);
            }
        }
        result.series_dropped = self.drop_least_recent();
        Ok(result)
    }

    /// Returns each row's series id and key.
    fn series_ids(&self, batch: &RecordBatch) -> Result<Vec<(String, BTreeMap<String, String>)>> {
        let options = FormatOptions::default().with_null("null");
        let mut formatters = Vec::new();
        for (index, name) in self.config.key_columns.iter().enumerate() {
            let field = format!("key_columns[{index}]");
            let column = required_column(batch, name, &field)?;
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options).map_err(|error| {
                Error::config(
                    COMPONENT,
                    format!("key column {name:?} cannot be shown as text ({error}): use a column of text or numbers"),
                )
            })?;
            formatters.push((name, formatter));
        }
        let mut ids = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let mut key = BTreeMap::new();
            let mut values = Vec::with_capacity(formatters.len());
            for (name, formatter) in &formatters {
                let value = formatter.value(row).to_string();
                values.push(value.clone());
                key.insert((*name).clone(), value);
            }
            // A JSON array keeps apart values that plain joining would run together.
            let id = serde_json::to_string(&values).map_err(|error| {
                Error::Internal(format!("cannot serialise a series key: {error}"))
            })?;
            ids.push((id, key));
        }
        Ok(ids)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_gaps(
        &mut self,
        id: &str,
        key: &BTreeMap<String, String>,
        rows: &[usize],
        times: &[Option<DateTime<Utc>>],
        unit: Duration,
        max_step: Duration,
        result: &mut BatchCheck,
    ) {
        let mut series_times: Vec<DateTime<Utc>> =
            rows.iter().filter_map(|&row| times[row]).collect();
        if series_times.is_empty() {
            return;
        }
        series_times.sort();
        let mut last = self.series.get(id).map(|series| series.last);
        for time in series_times {
            match last {
                // A row at or before the last time (a duplicate, a late row or a
                // re-collected one) leaves the series' state as it is.
                Some(previous) if time <= previous => continue,
                Some(previous) if time - previous > max_step => {
                    result.issues.push(SourceIssue {
                        kind: SourceIssueKind::Gap,
                        key: key.clone(),
                        from: previous + unit,
                        to: time,
                        column: None,
                        rows: 0,
                        value: None,
                        reason: format!(
                            "no row between {previous} and {time}: {} ms apart, more than the \
                             {} ms allowed",
                            (time - previous).num_milliseconds(),
                            max_step.num_milliseconds()
                        ),
                    });
                }
                _ => {}
            }
            last = Some(time);
        }
        if let Some(last) = last {
            self.touch(id, key, last);
        }
    }

    fn touch(&mut self, id: &str, key: &BTreeMap<String, String>, last: DateTime<Utc>) {
        let checks = self.checks;
        if let Some(series) = self.series.get_mut(id) {
            if series.touched != checks {
                self.by_touch.remove(&(series.touched, id.to_string()));
                self.by_touch.insert((checks, id.to_string()));
            }
            series.last = last;
            series.touched = checks;
            return;
        }
        self.series.insert(
            id.to_string(),
            Series {
                key: key.clone(),
                last,
                touched: checks,
            },
        );
        self.by_touch.insert((checks, id.to_string()));
    }

    /// Drops the least recently seen series beyond `max_series`; returns how many.
    fn drop_least_recent(&mut self) -> u64 {
        let mut dropped = 0;
        while self.series.len() > self.config.max_series {
            let Some((_, id)) = self.by_touch.pop_first() else {
                break;
            };
            if let Some(series) = self.series.remove(&id) {
                tracing::debug!(key = ?series.key, last = %series.last, "series dropped from the gap check");
            }
            dropped += 1;
        }
        dropped
    }

    /// Returns the ranges that apply to the columns of `batch`: the configured ones, then
    /// the standard model's for numeric columns the config does not name.
    fn ranges_for(&self, batch: &RecordBatch) -> Vec<ColumnRange> {
        let mut ranges = self.config.ranges.clone();
        if self.model_ranges.is_empty() {
            return ranges;
        }
        for field in batch.schema().fields() {
            let name = field.name();
            if ranges.iter().any(|range| &range.column == name) || !field.data_type().is_numeric() {
                continue;
            }
            if let Some(range) = self.model_ranges.get(&name.to_lowercase()) {
                ranges.push(ColumnRange {
                    column: name.clone(),
                    ..range.clone()
                });
            }
        }
        ranges
    }
}

/// Collects impossible values of one series and column into one issue over their times.
fn check_values(
    range: &ColumnRange,
    key: &BTreeMap<String, String>,
    rows: &[usize],
    values: &Float64Array,
    times: &[Option<DateTime<Utc>>],
    unit: Duration,
    result: &mut BatchCheck,
) {
    let mut first: Option<f64> = None;
    let mut count = 0_u64;
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for &row in rows {
        if values.is_null(row) {
            continue;
        }
        let value = values.value(row);
        if range.contains(value) {
            continue;
        }
        let Some(time) = times[row] else {
            result.impossible_without_time += 1;
            continue;
        };
        count += 1;
        first.get_or_insert(value);
        span = Some(match span {
            None => (time, time),
            Some((from, to)) => (from.min(time), to.max(time)),
        });
    }
    let (Some((from, last)), Some(value)) = (span, first) else {
        return;
    };
    let bounds = match (range.min, range.max) {
        (Some(min), Some(max)) => format!("[{min}, {max}]"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => "finite".to_string(),
    };
    result.issues.push(SourceIssue {
        kind: SourceIssueKind::ImpossibleValue,
        key: key.clone(),
        from,
        to: last + unit,
        column: Some(range.column.clone()),
        rows: count,
        value: Some(value),
        reason: format!(
            "{count} value(s) of {:?} outside the valid range {bounds}, first {value}",
            range.column
        ),
    });
}

fn required_column<'a>(batch: &'a RecordBatch, name: &str, field: &str) -> Result<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let available: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect();
        Error::config(
            COMPONENT,
            format!(
                "`{field}` names column {name:?}, which the batch lacks: use one of {}",
                available.join(", ")
            ),
        )
    })
}

/// Reads a column as f64 values for a range check.
fn numeric_values(batch: &RecordBatch, range: &ColumnRange) -> Result<Float64Array> {
    let column = required_column(batch, &range.column, "ranges")?;
    if !column.data_type().is_numeric() {
        return Err(Error::config(
            COMPONENT,
            format!(
                "`ranges` names column {:?}, which is {} and not numeric: remove its range, or \
                 declare the column as a number",
                range.column,
                column.data_type()
            ),
        ));
    }
    let cast = cast(column.as_ref(), &DataType::Float64).map_err(|error| {
        Error::config(
            COMPONENT,
            format!(
                "column {:?} cannot be read as numbers: {error}",
                range.column
            ),
        )
    })?;
    Ok(cast.as_primitive::<arrow::datatypes::Float64Type>().clone())
}

/// Reads the time column. Returns each row's time and the column's smallest step. A gap's
/// range starts one step after the last known row, so that row is not requested again.
fn read_times(name: &str, column: &ArrayRef) -> Result<(Vec<Option<DateTime<Utc>>>, Duration)> {
    let rows = column.len();
    let collect = |unit: Duration, at: &dyn Fn(usize) -> Option<DateTime<Utc>>| {
        let times = (0..rows)
            .map(|row| if column.is_null(row) { None } else { at(row) })
            .collect();
        (times, unit)
    };
    let result = match column.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            let values = column.as_primitive::<TimestampSecondType>();
            collect(Duration::seconds(1), &|row| {
                DateTime::from_timestamp(values.value(row), 0)
            })
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            let values = column.as_primitive::<TimestampMillisecondType>();
            collect(Duration::milliseconds(1), &|row| {
                DateTime::from_timestamp_millis(values.value(row))
            })
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let values = column.as_primitive::<TimestampMicrosecondType>();
            collect(Duration::microseconds(1), &|row| {
                DateTime::from_timestamp_micros(values.value(row))
            })
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            let values = column.as_primitive::<TimestampNanosecondType>();
            collect(Duration::nanoseconds(1), &|row| {
                Some(DateTime::from_timestamp_nanos(values.value(row)))
            })
        }
        DataType::Date32 => {
            let values = column.as_primitive::<Date32Type>();
            collect(Duration::days(1), &|row| {
                DateTime::from_timestamp(i64::from(values.value(row)) * 86_400, 0)
            })
        }
        DataType::Date64 => {
            let values = column.as_primitive::<Date64Type>();
            collect(Duration::milliseconds(1), &|row| {
                DateTime::from_timestamp_millis(values.value(row))
            })
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(column.as_ref(), &DataType::Utf8).map_err(|error| {
                Error::Internal(format!("cannot read time column {name:?} as text: {error}"))
            })?;
            let text = text.as_string::<i32>();
            // NOTE: text times carry no precision, so a gap's range starts 1 ms after the
            // last row. A source with finer times may send that row again.
            collect(Duration::milliseconds(1), &|row| {
                parse_time(text.value(row))
            })
        }
        other => {
            return Err(Error::config(
                COMPONENT,
                format!(
                    "`time_column` {name:?} is {other}: use a timestamp, date or RFC 3339 text \
                     column"
                ),
            ));
        }
    };
    Ok(result)
}

/// Parses RFC 3339, or `YYYY-MM-DD HH:MM:SS` with optional fraction read as UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|time| time.and_utc())
}

/// Returns the standard model's ranges by lowercase attribute name and alias.
fn model_ranges(name: &str) -> Result<HashMap<String, ColumnRange>> {
    let registry = StandardRegistry::builtin();
    let model = registry.get(name)?;
    let mut ranges = HashMap::new();
    for attribute in &model.attributes {
        let Some(range) = attribute.range else {
            continue;
        };
        let names = std::iter::once(&attribute.name).chain(attribute.aliases.iter());
        for alias in names {
            ranges
                .entry(alias.to_lowercase())
                .or_insert_with(|| ColumnRange {
                    column: attribute.name.clone(),
                    min: Some(range.min),
                    max: Some(range.max),
                });
        }
    }
    Ok(ranges)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
