//! The resampling kernel: per key, aggregates a series into a regular grid of time buckets and
//! fills the empty ones by the configured policy.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array, UInt64Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::row::{RowConverter, SortField};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::bucket::{BucketGrid, timestamp_array, timestamp_ticks, timestamp_type};
use super::config::{Aggregate, FillPolicy, GridExtent, ResampleConfig};

/// Counts of one resampling, for reports and checks.
///
/// `rows_in = rows_without_time + sum of the count column`: every input row is either in
/// one bucket or counted here because its time is null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResampleReport {
    /// Input rows.
    pub rows_in: u64,
    /// Input rows with a null time, which belong to no bucket.
    pub rows_without_time: u64,
    /// Distinct keys (1 without a key column, 0 when no row has a time).
    pub keys: u64,
    /// Output rows: buckets over all keys.
    pub buckets: u64,
    /// Buckets without any input row of their key.
    pub empty_buckets: u64,
    /// Empty buckets where the fill policy set at least one value.
    pub filled_buckets: u64,
    /// Per output column, the number of values set by the fill policy.
    pub filled_values: BTreeMap<String, u64>,
}

/// Output of [`resample`]: one row per key and bucket, and the counts.
#[derive(Debug, Clone)]
pub struct Resampled {
    /// Columns: the key (when configured), the time (bucket starts, the input's type), the
    /// row count per bucket, then one column per aggregation (Float64, or UInt64 for
    /// `count`). Keys come in order of first appearance and buckets in time order.
    pub data: RecordBatch,
    /// Counts of the run.
    pub report: ResampleReport,
}

/// One series: its first input row (for the key value) and its rows with their bucket index,
/// time in ticks and input position.
struct Series {
    first_row: usize,
    rows: Vec<(i64, i64, usize)>,
}

/// Resamples `batch` to a regular grid per key; see [`ResampleConfig`] for the options.
///
/// Rows need not be sorted. Fails, naming the column and its type, when the time column is
/// not a timestamp or an aggregated column is not numeric. Fails too when a column is missing,
/// two output columns share a name, or the grid would exceed `max_buckets`.
pub fn resample(batch: &RecordBatch, config: &ResampleConfig) -> Result<Resampled> {
    let schema = batch.schema();
    let time_array = column(batch, &config.time, "time")?;
    let (unit, zone) = timestamp_type(time_array.as_ref(), &config.time)?;
    let grid = BucketGrid::new(config.interval, config.origin_ms, unit)?;
    let values = value_columns(batch, config)?;
    check_output_names(config)?;

    let ticks = timestamp_ticks(time_array.as_ref(), &config.time)?;
    let (series, key_array) = group_series(batch, config, &ticks, grid)?;
    let mut report = ResampleReport {
        rows_in: batch.num_rows() as u64,
        rows_without_time: ticks.iter().filter(|value| value.is_none()).count() as u64,
        keys: series.len() as u64,
        ..ResampleReport::default()
    };

    let ranges = bucket_ranges(&series, config.extent);
    let total: u64 = ranges
        .iter()
        .map(|(first, last)| (last - first + 1) as u64)
        .sum();
    if total > config.max_buckets {
        return Err(Error::InvalidInput(format!(
            "resampling column {:?} by {} gives {total} buckets over {} keys, more than \
             max_buckets {}: check for stray timestamps, use a wider interval or raise max_buckets",
            config.time,
            config.interval,
            series.len(),
            config.max_buckets
        )));
    }

    let mut key_rows: Vec<u32> = Vec::new();
    let mut starts: Vec<Option<i64>> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    let mut outputs: Vec<Vec<Option<f64>>> = vec![Vec::new(); config.columns.len()];
    let mut filled_values = vec![0u64; config.columns.len()];
    for (key_series, &(first, last)) in series.iter().zip(&ranges) {
        let width = (last - first + 1) as usize;
        let mut rows_per_bucket: Vec<Vec<usize>> = vec![Vec::new(); width];
        for &(bucket, _, row) in &key_series.rows {
            rows_per_bucket[(bucket - first) as usize].push(row);
        }
        let mut filled_here = vec![false; width];
        for (position, aggregate) in config.columns.iter().enumerate() {
            let mut column: Vec<Option<f64>> = rows_per_bucket
                .iter()
                .map(|rows| aggregate_rows(aggregate.aggregate, &values[position], rows))
                .collect();
            if aggregate.aggregate != Aggregate::Count {
                let empty: Vec<bool> = rows_per_bucket.iter().map(Vec::is_empty).collect();
                let filled = fill(&mut column, &empty, config.fill);
                for bucket in filled {
                    filled_here[bucket] = true;
                    filled_values[position] += 1;
                }
            }
            outputs[position].extend(column);
        }
        for (offset, rows) in rows_per_bucket.iter().enumerate() {
            let index = first + offset as i64;
            let start = grid.start(index).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "bucket {index} of column {:?} starts outside the range of its type: use a \
                     later origin",
                    config.time
                ))
            })?;
            starts.push(Some(start));
            counts.push(rows.len() as u64);
            key_rows.push(u32::try_from(key_series.first_row).map_err(|_| {
                Error::InvalidInput("batch has more than u32::MAX rows: split it".into())
            })?);
            if rows.is_empty() {
                report.empty_buckets += 1;
            }
        }
        report.filled_buckets += filled_here.iter().filter(|&&filled| filled).count() as u64;
    }
    report.buckets = starts.len() as u64;
    for (aggregate, filled) in config.columns.iter().zip(&filled_values) {
        if aggregate.aggregate != Aggregate::Count {
            report
                .filled_values
                .insert(aggregate.output_name(), *filled);
        }
    }

    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    if let (Some(key), Some(key_array)) = (&config.key, key_array) {
        let field = schema.field_with_name(key)?;
        fields.push(Field::clone(field));
        columns.push(take(
            key_array.as_ref(),
            &UInt32Array::from(key_rows),
            None,
        )?);
    }
    let time_field = schema.field_with_name(&config.time)?;
    fields.push(Field::clone(time_field).with_nullable(false));
    columns.push(timestamp_array(starts, unit, zone));
    fields.push(Field::new(&config.count_column, DataType::UInt64, false));
    columns.push(Arc::new(UInt64Array::from(counts)));
    for (aggregate, output) in config.columns.iter().zip(outputs) {
        let name = aggregate.output_name();
        if aggregate.aggregate == Aggregate::Count {
            let counts: Vec<u64> = output
                .into_iter()
                .map(|value| value.unwrap_or(0.0) as u64)
                .collect();
            fields.push(Field::new(name, DataType::UInt64, false));
            columns.push(Arc::new(UInt64Array::from(counts)));
        } else {
            fields.push(Field::new(name, DataType::Float64, true));
            columns.push(Arc::new(arrow::array::Float64Array::from(output)));
        }
    }
    let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    tracing::debug!(
        time = %config.time,
        interval = %config.interval,
        rows_in = report.rows_in,
        buckets = report.buckets,
        empty_buckets = report.empty_buckets,
        filled_buckets = report.filled_buckets,
        "resampled"
    );
    Ok(Resampled { data, report })
}

fn column(batch: &RecordBatch, name: &str, role: &str) -> Result<ArrayRef> {
    batch.column_by_name(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        Error::InvalidInput(format!(
            "{role} column {name:?} not found; columns are: {}",
            names.join(", ")
        ))
    })
}

/// Returns the aggregated input columns as Float64 values, checking that each is numeric.
fn value_columns(batch: &RecordBatch, config: &ResampleConfig) -> Result<Vec<Vec<Option<f64>>>> {
    let mut values = Vec::with_capacity(config.columns.len());
    for aggregate in &config.columns {
        let array = column(batch, &aggregate.column, "aggregated")?;
        if !array.data_type().is_numeric() {
            return Err(Error::InvalidInput(format!(
                "aggregated column {:?} has type {}; expected a numeric type: cast or parse it, \
                 or drop it from columns",
                aggregate.column,
                array.data_type()
            )));
        }
        let floats = cast(array.as_ref(), &DataType::Float64)?;
        values.push(floats.as_primitive::<Float64Type>().iter().collect());
    }
    Ok(values)
}

fn check_output_names(config: &ResampleConfig) -> Result<()> {
    let mut names: Vec<String> = config.key.iter().cloned().collect();
    names.push(config.time.clone());
    names.push(config.count_column.clone());
    for aggregate in &config.columns {
        let name = aggregate.output_name();
        if names.contains(&name) {
            return Err(Error::InvalidInput(format!(
                "output column {name:?} appears twice in the resampled batch: give the \
                 aggregation of {:?} another name",
                aggregate.column
            )));
        }
        names.push(name);
    }
    if config.key.as_ref() == Some(&config.time) || config.count_column == config.time {
        return Err(Error::InvalidInput(format!(
            "time column {:?} is also the key or the count column: use distinct names",
            config.time
        )));
    }
    Ok(())
}

/// Groups rows with a time by key, in order of first appearance, and sorts each series by
/// time and then input position.
fn group_series(
    batch: &RecordBatch,
    config: &ResampleConfig,
    ticks: &[Option<i64>],
    grid: BucketGrid,
) -> Result<(Vec<Series>, Option<ArrayRef>)> {
    let mut series: Vec<Series> = Vec::new();
    let key_array = match &config.key {
        Some(key) => Some(column(batch, key, "key")?),
        None => None,
    };
    match &key_array {
        Some(keys) => {
            let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
            let rows = converter.convert_columns(std::slice::from_ref(keys))?;
            let mut positions: HashMap<&[u8], usize> = HashMap::new();
            for (row, time) in ticks.iter().enumerate() {
                let Some(time) = *time else { continue };
                let key = rows.row(row);
                let position = *positions.entry(key.data()).or_insert_with(|| {
                    series.push(Series {
                        first_row: row,
                        rows: Vec::new(),
                    });
                    series.len() - 1
                });
                series[position].rows.push((grid.index(time), time, row));
            }
        }
        None => {
            let mut whole = Series {
                first_row: 0,
                rows: Vec::new(),
            };
            for (row, time) in ticks.iter().enumerate() {
                if let Some(time) = *time {
                    whole.rows.push((grid.index(time), time, row));
                }
            }
            if !whole.rows.is_empty() {
                series.push(whole);
            }
        }
    }
    for key_series in &mut series {
        key_series
            .rows
            .sort_unstable_by_key(|&(_, time, row)| (time, row));
    }
    Ok((series, key_array))
}

/// Returns the first and last bucket index of each series.
fn bucket_ranges(series: &[Series], extent: GridExtent) -> Vec<(i64, i64)> {
    let own: Vec<(i64, i64)> = series
        .iter()
        .map(|key_series| {
            // Rows are sorted by time, so bucket indices rise too.
            let first = key_series.rows.first().map_or(0, |row| row.0);
            let last = key_series.rows.last().map_or(0, |row| row.0);
            (first, last)
        })
        .collect();
    match extent {
        GridExtent::PerKey => own,
        GridExtent::Shared => {
            let first = own.iter().map(|range| range.0).min().unwrap_or(0);
            let last = own.iter().map(|range| range.1).max().unwrap_or(0);
            vec![(first, last); own.len()]
        }
    }
}

/// Aggregates the values of `rows`, which are in time order. Returns `None` for an empty
/// bucket and for a bucket whose values are all null, except that `Count` returns 0.
fn aggregate_rows(aggregate: Aggregate, values: &[Option<f64>], rows: &[usize]) -> Option<f64> {
    let mut present = rows.iter().filter_map(|&row| values[row]);
    match aggregate {
        Aggregate::Count => Some(present.count() as f64),
        Aggregate::First => present.next(),
        Aggregate::Last => present.next_back(),
        Aggregate::Sum => present.reduce(|sum, value| sum + value),
        Aggregate::Min => present.reduce(f64::min),
        Aggregate::Max => present.reduce(f64::max),
        Aggregate::Mean => {
            let (sum, count) =
                present.fold((0.0, 0u64), |(sum, count), value| (sum + value, count + 1));
            (count > 0).then(|| sum / count as f64)
        }
    }
}

/// Fills empty buckets of one column by `policy`; returns the positions it filled.
fn fill(column: &mut [Option<f64>], empty: &[bool], policy: FillPolicy) -> Vec<usize> {
    let mut filled = Vec::new();
    if policy == FillPolicy::Null {
        return filled;
    }
    let mut position = 0;
    while position < column.len() {
        if !empty[position] {
            position += 1;
            continue;
        }
        let run_start = position;
        while position < column.len() && empty[position] {
            position += 1;
        }
        let run_end = position; // exclusive
        let run_length = (run_end - run_start) as u64;
        let before = run_start.checked_sub(1).and_then(|at| column[at]);
        let after = column.get(run_end).copied().flatten();
        match policy {
            FillPolicy::Null => {}
            FillPolicy::ForwardFill { limit } => {
                if let Some(value) = before {
                    let count = limit.map_or(run_length, |limit| run_length.min(u64::from(limit)));
                    let end = run_start + count as usize;
                    for (at, slot) in column[run_start..end].iter_mut().enumerate() {
                        *slot = Some(value);
                        filled.push(run_start + at);
                    }
                }
            }
            FillPolicy::Linear { limit } => {
                let within_limit = limit.is_none_or(|limit| run_length <= u64::from(limit));
                if let (Some(from), Some(to), true) = (before, after, within_limit) {
                    let span = (run_end - run_start + 1) as f64;
                    for (at, slot) in column[run_start..run_end].iter_mut().enumerate() {
                        let step = (at + 1) as f64;
                        *slot = Some(from + (to - from) * step / span);
                        filled.push(run_start + at);
                    }
                }
            }
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temporal::Interval;
    use arrow::array::{
        Float64Array, Int32Array, StringArray, TimestampMillisecondArray, TimestampSecondArray,
    };
    use arrow::datatypes::{TimeUnit, TimestampMillisecondType};

    const HOUR: i64 = 3_600_000;

    /// Station A: hours 0, 0:30, 1, 4 (2 and 3 empty); station B: hour 1 only.
    fn readings() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, true),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())),
                true,
            ),
            Field::new("pm", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["A", "A", "B", "A", "A", "A"])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![
                        Some(HOUR / 2),
                        Some(0),
                        Some(HOUR),
                        Some(HOUR),
                        Some(4 * HOUR),
                        None,
                    ])
                    .with_timezone("+08:00"),
                ),
                Arc::new(Float64Array::from(vec![
                    Some(20.0),
                    Some(10.0),
                    Some(5.0),
                    None,
                    Some(40.0),
                    Some(99.0),
                ])),
            ],
        )
        .expect("batch")
    }

    fn floats(data: &RecordBatch, name: &str) -> Vec<Option<f64>> {
        data.column_by_name(name)
            .expect("column")
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    }

    fn config() -> ResampleConfig {
        ResampleConfig::new("t", Interval::hours(1)).with_key("station")
    }

    #[test]
    fn aggregates_per_key_and_bucket() {
        let mut config = config();
        for aggregate in [
            Aggregate::Mean,
            Aggregate::Sum,
            Aggregate::Min,
            Aggregate::Max,
            Aggregate::Count,
            Aggregate::First,
            Aggregate::Last,
        ] {
            config = config.aggregate("pm", aggregate);
        }
        let out = resample(&readings(), &config).expect("resample");
        let data = &out.data;
        // A has buckets 0..=4, B has bucket 1.
        assert_eq!(data.num_rows(), 6);
        let stations: Vec<&str> = data
            .column(0)
            .as_string::<i32>()
            .iter()
            .map(|value| value.expect("key"))
            .collect();
        assert_eq!(stations, vec!["A", "A", "A", "A", "A", "B"]);
        let times = data.column(1).as_primitive::<TimestampMillisecondType>();
        assert_eq!(times.value(4), 4 * HOUR);
        assert_eq!(
            data.schema().field(1).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into()))
        );
        assert_eq!(floats(data, "pm_mean")[0], Some(15.0));
        assert_eq!(floats(data, "pm_sum")[0], Some(30.0));
        assert_eq!(floats(data, "pm_min")[0], Some(10.0));
        assert_eq!(floats(data, "pm_max")[0], Some(20.0));
        assert_eq!(
            floats(data, "pm_first")[0],
            Some(10.0),
            "earliest time, not input order"
        );
        assert_eq!(floats(data, "pm_last")[0], Some(20.0));
        // Bucket 1 of A has one row whose value is null: not empty, but no value.
        assert_eq!(floats(data, "pm_mean")[1], None);
        let counts = data
            .column_by_name("pm_count")
            .expect("count")
            .as_primitive::<arrow::datatypes::UInt64Type>();
        assert_eq!(counts.values().to_vec(), vec![2, 0, 0, 0, 1, 1]);
        let rows = data
            .column_by_name("rows")
            .expect("rows")
            .as_primitive::<arrow::datatypes::UInt64Type>();
        assert_eq!(rows.values().to_vec(), vec![2, 1, 0, 0, 1, 1]);
    }

    #[test]
    fn report_accounts_for_every_row() {
        let out =
            resample(&readings(), &config().aggregate("pm", Aggregate::Mean)).expect("resample");
        let report = &out.report;
        assert_eq!(report.rows_in, 6);
        assert_eq!(report.rows_without_time, 1);
        assert_eq!(report.keys, 2);
        assert_eq!(report.buckets, 6);
        assert_eq!(report.empty_buckets, 2);
        assert_eq!(report.filled_buckets, 0);
        let rows = out
            .data
            .column_by_name("rows")
            .expect("rows")
            .as_primitive::<arrow::datatypes::UInt64Type>();
        let placed: u64 = rows.values().iter().sum();
        assert_eq!(placed + report.rows_without_time, report.rows_in);
    }

    #[test]
    fn forward_fill_respects_limit() {
        let config = config()
            .aggregate("pm", Aggregate::Max)
            .with_fill(FillPolicy::ForwardFill { limit: Some(1) });
        let out = resample(&readings(), &config).expect("resample");
        // Bucket 1 has a null value, so the run at 2..=3 has nothing to carry forward.
        assert_eq!(
            floats(&out.data, "pm_max")[..5],
            [Some(20.0), None, None, None, Some(40.0)]
        );
        assert_eq!(out.report.filled_buckets, 0);
    }

    #[test]
    fn forward_fill_fills_first_buckets_of_run() {
        let batch = series(&[0, 4], &[1.0, 5.0]);
        let config = ResampleConfig::new("t", Interval::hours(1))
            .aggregate("v", Aggregate::Mean)
            .with_fill(FillPolicy::ForwardFill { limit: Some(2) });
        let out = resample(&batch, &config).expect("resample");
        assert_eq!(
            floats(&out.data, "v_mean"),
            vec![Some(1.0), Some(1.0), Some(1.0), None, Some(5.0)]
        );
        assert_eq!(out.report.empty_buckets, 3);
        assert_eq!(out.report.filled_buckets, 2);
        assert_eq!(out.report.filled_values["v_mean"], 2);
    }

    #[test]
    fn linear_interpolates_short_runs_only() {
        let batch = series(&[0, 4, 5, 9], &[1.0, 5.0, 0.0, 4.0]);
        let config = ResampleConfig::new("t", Interval::hours(1))
            .aggregate("v", Aggregate::Mean)
            .with_fill(FillPolicy::Linear { limit: Some(3) });
        let out = resample(&batch, &config).expect("resample");
        let values = floats(&out.data, "v_mean");
        assert_eq!(
            values[..6],
            [
                Some(1.0),
                Some(2.0),
                Some(3.0),
                Some(4.0),
                Some(5.0),
                Some(0.0)
            ]
        );
        // The run 6..=8 has length 3, within the limit; with limit 2 it stays null.
        assert_eq!(values[6..], [Some(1.0), Some(2.0), Some(3.0), Some(4.0)]);
        let tight = resample(
            &batch,
            &config
                .clone()
                .with_fill(FillPolicy::Linear { limit: Some(2) }),
        )
        .expect("resample");
        assert_eq!(floats(&tight.data, "v_mean")[1], None);
        assert_eq!(tight.report.filled_buckets, 0);
        assert_eq!(out.report.filled_buckets, 6);
    }

    #[test]
    fn count_stays_zero_when_filling() {
        let batch = series(&[0, 2], &[1.0, 3.0]);
        let config = ResampleConfig::new("t", Interval::hours(1))
            .aggregate("v", Aggregate::Count)
            .with_fill(FillPolicy::Linear { limit: None });
        let out = resample(&batch, &config).expect("resample");
        let counts = out
            .data
            .column(2)
            .as_primitive::<arrow::datatypes::UInt64Type>();
        assert_eq!(counts.values().to_vec(), vec![1, 0, 1]);
        assert!(out.report.filled_values.is_empty());
        assert_eq!(out.report.filled_buckets, 0);
    }

    #[test]
    fn shared_extent_aligns_keys() {
        let mut config = config().aggregate("pm", Aggregate::Mean);
        config.extent = GridExtent::Shared;
        let out = resample(&readings(), &config).expect("resample");
        assert_eq!(out.data.num_rows(), 10, "5 buckets for each of 2 stations");
        assert_eq!(out.report.empty_buckets, 2 + 4);
    }

    #[test]
    fn integer_values_and_second_timestamps_work() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Second, None), false),
            Field::new("n", DataType::Int32, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampSecondArray::from(vec![0, 59, 60])),
                Arc::new(Int32Array::from(vec![1, 2, 3])),
            ],
        )
        .expect("batch");
        let config = ResampleConfig::new("t", Interval::minutes(1)).aggregate("n", Aggregate::Sum);
        let out = resample(&batch, &config).expect("resample");
        assert_eq!(floats(&out.data, "n_sum"), vec![Some(3.0), Some(3.0)]);
    }

    #[test]
    fn text_value_column_is_rejected() {
        let config = config().aggregate("station", Aggregate::Mean);
        let error = resample(&readings(), &config).expect_err("text column");
        let message = error.to_string();
        assert!(message.contains("\"station\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
    }

    #[test]
    fn text_time_column_is_rejected() {
        let config = ResampleConfig::new("station", Interval::hours(1));
        let error = resample(&readings(), &config).expect_err("text time");
        let message = error.to_string();
        assert!(message.contains("\"station\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
    }

    #[test]
    fn missing_column_lists_columns() {
        let config = config().aggregate("PM10", Aggregate::Mean);
        let error = resample(&readings(), &config).expect_err("missing");
        assert!(error.to_string().contains("station, t, pm"), "{error}");
    }

    #[test]
    fn clashing_output_name_is_rejected() {
        let mut config = config().aggregate("pm", Aggregate::Mean);
        config.columns[0].name = Some("rows".into());
        let error = resample(&readings(), &config).expect_err("clash");
        assert!(error.to_string().contains("\"rows\""), "{error}");
    }

    #[test]
    fn stray_timestamp_hits_bucket_limit() {
        let batch = series(&[0, 1_000_000], &[1.0, 2.0]);
        let mut config =
            ResampleConfig::new("t", Interval::minutes(1)).aggregate("v", Aggregate::Mean);
        config.max_buckets = 1000;
        let error = resample(&batch, &config).expect_err("too many buckets");
        assert!(error.to_string().contains("max_buckets 1000"), "{error}");
    }

    #[test]
    fn empty_batch_gives_empty_output() {
        let batch = series(&[], &[]);
        let config = ResampleConfig::new("t", Interval::hours(1)).aggregate("v", Aggregate::Mean);
        let out = resample(&batch, &config).expect("resample");
        assert_eq!(out.data.num_rows(), 0);
        assert_eq!(out.report.keys, 0);
    }

    /// Builds one series with a value at each of the given hours.
    fn series(hours: &[i64], values: &[f64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), false),
            Field::new("v", DataType::Float64, true),
        ]));
        let times: Vec<i64> = hours.iter().map(|hour| hour * HOUR).collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampMillisecondArray::from(times)),
                Arc::new(Float64Array::from(values.to_vec())),
            ],
        )
        .expect("batch")
    }
}
