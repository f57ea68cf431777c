//! Fixed-width time buckets: the interval type and the kernel that maps each timestamp to the
//! start of its bucket.
//!
//! Buckets are fixed spans of absolute time, `origin + k * interval` for integer `k`, computed
//! on the UTC instants that Arrow stores. A column's time zone is kept on the output but does
//! not move the bucket edges: to start day buckets at local midnight in UTC+8, set the origin
//! to 1970-01-01T00:00+08:00, which is `-28_800_000` ms. Under daylight saving time a local day
//! is not 24 hours, so day buckets then follow the origin's offset all year.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::datatypes::{
    ArrowTimestampType, DataType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Unit of an [`Interval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    /// 60 seconds.
    Minutes,
    /// 3,600 seconds.
    Hours,
    /// 86,400 seconds (a fixed day, with no daylight-saving shift).
    Days,
}

impl IntervalUnit {
    fn millis(self) -> i64 {
        match self {
            IntervalUnit::Minutes => 60_000,
            IntervalUnit::Hours => 3_600_000,
            IntervalUnit::Days => 86_400_000,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            IntervalUnit::Minutes => "minutes",
            IntervalUnit::Hours => "hours",
            IntervalUnit::Days => "days",
        }
    }
}

/// Width of a time bucket, such as 15 minutes or 1 day.
///
/// As JSON: `{"every": 15, "unit": "minutes"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// Number of units per bucket, at least 1.
    pub every: u32,
    /// Unit of `every`.
    pub unit: IntervalUnit,
}

impl Interval {
    /// Creates an interval of `every` minutes.
    pub fn minutes(every: u32) -> Self {
        Interval {
            every,
            unit: IntervalUnit::Minutes,
        }
    }

    /// Creates an interval of `every` hours.
    pub fn hours(every: u32) -> Self {
        Interval {
            every,
            unit: IntervalUnit::Hours,
        }
    }

    /// Creates an interval of `every` days.
    pub fn days(every: u32) -> Self {
        Interval {
            every,
            unit: IntervalUnit::Days,
        }
    }

    /// Returns the width in milliseconds, or an error when `every` is 0.
    pub fn millis(&self) -> Result<i64> {
        if self.every == 0 {
            return Err(Error::InvalidInput(format!(
                "interval of 0 {}: set `every` to at least 1",
                self.unit.as_str()
            )));
        }
        // At most u32::MAX days, about 3.7e17 ms, which fits in i64.
        Ok(i64::from(self.every) * self.unit.millis())
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}", self.every, self.unit.as_str())
    }
}

/// Timestamp ticks per millisecond, as a multiplier (ms, µs, ns) or a divisor (s).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TicksPerMilli {
    /// Ticks = ms / 1000 (second timestamps).
    Divide(i64),
    /// Ticks = ms * n.
    Multiply(i64),
}

/// Returns how a timestamp unit relates to milliseconds.
pub(crate) fn ticks_per_milli(unit: TimeUnit) -> TicksPerMilli {
    match unit {
        TimeUnit::Second => TicksPerMilli::Divide(1000),
        TimeUnit::Millisecond => TicksPerMilli::Multiply(1),
        TimeUnit::Microsecond => TicksPerMilli::Multiply(1000),
        TimeUnit::Nanosecond => TicksPerMilli::Multiply(1_000_000),
    }
}

/// Converts `millis` to ticks of `unit`; fails when the value is not whole in that unit or
/// overflows.
pub(crate) fn millis_to_ticks(millis: i64, unit: TimeUnit, label: &str) -> Result<i64> {
    match ticks_per_milli(unit) {
        TicksPerMilli::Divide(divisor) => {
            if millis % divisor != 0 {
                return Err(Error::InvalidInput(format!(
                    "{label} of {millis} ms is not a whole number of seconds, the unit of the \
                     time column: use a multiple of 1000 ms"
                )));
            }
            Ok(millis / divisor)
        }
        TicksPerMilli::Multiply(factor) => millis.checked_mul(factor).ok_or_else(|| {
            Error::InvalidInput(format!(
                "{label} of {millis} ms overflows a {unit:?} timestamp: use a smaller value"
            ))
        }),
    }
}

/// Time types the temporal kernels accept, for error messages.
pub(crate) const TIME_TYPES: &str = "Timestamp (any unit, with or without a time zone)";

/// Returns the unit and time zone of a timestamp column, or an error naming the column and
/// its type.
pub(crate) fn timestamp_type(
    array: &dyn Array,
    column: &str,
) -> Result<(TimeUnit, Option<Arc<str>>)> {
    match array.data_type() {
        DataType::Timestamp(unit, zone) => Ok((*unit, zone.clone())),
        other => Err(Error::InvalidInput(format!(
            "time column {column:?} has type {other}; expected {TIME_TYPES}: parse or cast the \
             column to a timestamp first"
        ))),
    }
}

/// Returns the timestamps of a column as raw ticks of its own unit, with nulls kept.
pub(crate) fn timestamp_ticks(array: &dyn Array, column: &str) -> Result<Vec<Option<i64>>> {
    fn ticks<T: ArrowTimestampType>(array: &dyn Array) -> Vec<Option<i64>> {
        array.as_primitive::<T>().iter().collect()
    }
    let (unit, _) = timestamp_type(array, column)?;
    Ok(match unit {
        TimeUnit::Second => ticks::<TimestampSecondType>(array),
        TimeUnit::Millisecond => ticks::<TimestampMillisecondType>(array),
        TimeUnit::Microsecond => ticks::<TimestampMicrosecondType>(array),
        TimeUnit::Nanosecond => ticks::<TimestampNanosecondType>(array),
    })
}

/// Builds a timestamp array of `unit` and `zone` from raw ticks.
pub(crate) fn timestamp_array(
    ticks: Vec<Option<i64>>,
    unit: TimeUnit,
    zone: Option<Arc<str>>,
) -> ArrayRef {
    fn build<T: ArrowTimestampType>(ticks: Vec<Option<i64>>, zone: Option<Arc<str>>) -> ArrayRef {
        Arc::new(
            ticks
                .into_iter()
                .collect::<PrimitiveArray<T>>()
                .with_timezone_opt(zone),
        )
    }
    match unit {
        TimeUnit::Second => build::<TimestampSecondType>(ticks, zone),
        TimeUnit::Millisecond => build::<TimestampMillisecondType>(ticks, zone),
        TimeUnit::Microsecond => build::<TimestampMicrosecondType>(ticks, zone),
        TimeUnit::Nanosecond => build::<TimestampNanosecondType>(ticks, zone),
    }
}

/// Bucket edges in the ticks of one timestamp unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketGrid {
    /// Bucket width in ticks.
    pub(crate) width: i64,
    /// Origin in ticks.
    pub(crate) origin: i64,
}

impl BucketGrid {
    /// Converts an interval and an origin in milliseconds to ticks of `unit`.
    pub(crate) fn new(interval: Interval, origin_ms: i64, unit: TimeUnit) -> Result<Self> {
        let width = millis_to_ticks(interval.millis()?, unit, "the interval")?;
        let origin = millis_to_ticks(origin_ms, unit, "the origin")?;
        Ok(BucketGrid { width, origin })
    }

    /// Returns the index of the bucket holding `ticks` (negative before the origin).
    pub(crate) fn index(&self, ticks: i64) -> i64 {
        // i128 so that a timestamp far from the origin cannot overflow the difference.
        let offset = i128::from(ticks) - i128::from(self.origin);
        // The difference is below 2^64 and the width is at least 60 ticks (one minute in
        // seconds), so the quotient fits in i64.
        offset.div_euclid(i128::from(self.width)) as i64
    }

    /// Returns the start of bucket `index` in ticks, or `None` when it is out of range.
    pub(crate) fn start(&self, index: i64) -> Option<i64> {
        let start = i128::from(self.origin) + i128::from(index) * i128::from(self.width);
        i64::try_from(start).ok()
    }
}

/// Maps every timestamp of `array` to the start of its bucket.
///
/// The output has the input's type (unit and time zone); nulls stay null. `column` names the
/// column in errors. Fails when the column is not a timestamp, the interval is 0, the origin
/// is not whole in the column's unit (a sub-second origin for second timestamps), or a bucket
/// start lies outside the range of the timestamp type.
pub fn bucket_timestamps(
    array: &dyn Array,
    column: &str,
    interval: Interval,
    origin_ms: i64,
) -> Result<ArrayRef> {
    let (unit, zone) = timestamp_type(array, column)?;
    let grid = BucketGrid::new(interval, origin_ms, unit)?;
    let ticks = timestamp_ticks(array, column)?;
    let mut starts = Vec::with_capacity(ticks.len());
    for value in ticks {
        let start = match value {
            Some(ticks) => Some(grid.start(grid.index(ticks)).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "timestamp {ticks} ({unit:?}) in column {column:?} has a bucket start \
                     outside the range of the type: use a later origin"
                ))
            })?),
            None => None,
        };
        starts.push(start);
    }
    Ok(timestamp_array(starts, unit, zone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        Float64Array, TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
    };

    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn fifteen_minute_buckets_floor() {
        let array = TimestampMillisecondArray::from(vec![
            Some(0),
            Some(14 * MINUTE + 59_999),
            Some(15 * MINUTE),
            None,
            Some(-1),
        ]);
        let buckets = bucket_timestamps(&array, "t", Interval::minutes(15), 0).expect("buckets");
        let buckets = buckets.as_primitive::<TimestampMillisecondType>();
        assert_eq!(buckets.value(0), 0);
        assert_eq!(buckets.value(1), 0);
        assert_eq!(buckets.value(2), 15 * MINUTE);
        assert!(buckets.is_null(3));
        assert_eq!(
            buckets.value(4),
            -15 * MINUTE,
            "before the origin floors down"
        );
    }

    #[test]
    fn origin_shifts_day_edges_and_zone_is_kept() {
        // 1970-01-01T20:00Z is 04:00 on 2 January in UTC+8.
        let array = TimestampMillisecondArray::from(vec![20 * HOUR]).with_timezone("+08:00");
        let buckets =
            bucket_timestamps(&array, "t", Interval::days(1), -8 * HOUR).expect("buckets");
        assert_eq!(
            buckets.data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into()))
        );
        // Local midnight of 2 January in UTC+8 is 16:00Z on 1 January.
        assert_eq!(
            buckets.as_primitive::<TimestampMillisecondType>().value(0),
            16 * HOUR
        );
    }

    #[test]
    fn nanosecond_and_second_units_keep_their_unit() {
        let nanos = TimestampNanosecondArray::from(vec![90 * MINUTE * 1_000_000 + 7]);
        let buckets = bucket_timestamps(&nanos, "t", Interval::hours(1), 0).expect("ns");
        assert_eq!(
            buckets.as_primitive::<TimestampNanosecondType>().value(0),
            HOUR * 1_000_000
        );
        let seconds = TimestampSecondArray::from(vec![7_199]);
        let buckets = bucket_timestamps(&seconds, "t", Interval::hours(1), 0).expect("s");
        assert_eq!(
            buckets.as_primitive::<TimestampSecondType>().value(0),
            3_600
        );
    }

    #[test]
    fn float_column_is_rejected_with_its_type() {
        let array = Float64Array::from(vec![1.0]);
        let error = bucket_timestamps(&array, "observed_at", Interval::hours(1), 0)
            .expect_err("not a timestamp");
        let message = error.to_string();
        assert!(message.contains("\"observed_at\""), "{message}");
        assert!(message.contains("Float64"), "{message}");
        assert!(message.contains("Timestamp"), "{message}");
    }

    #[test]
    fn zero_interval_is_rejected() {
        let array = TimestampMillisecondArray::from(vec![0]);
        let error = bucket_timestamps(&array, "t", Interval::minutes(0), 0).expect_err("zero");
        assert!(error.to_string().contains("at least 1"), "{error}");
    }

    #[test]
    fn sub_second_origin_for_seconds_is_rejected() {
        let array = TimestampSecondArray::from(vec![0]);
        let error =
            bucket_timestamps(&array, "t", Interval::minutes(1), 1_500).expect_err("origin");
        assert!(error.to_string().contains("1500 ms"), "{error}");
    }

    #[test]
    fn extreme_timestamp_reports_overflow() {
        let array = TimestampNanosecondArray::from(vec![i64::MIN + 1]);
        let error = bucket_timestamps(&array, "t", Interval::days(1), 0).expect_err("out of range");
        assert!(error.to_string().contains("outside the range"), "{error}");
    }

    #[test]
    fn interval_json_rejects_unknown_fields() {
        let interval: Interval =
            serde_json::from_str(r#"{"every": 15, "unit": "minutes"}"#).expect("interval");
        assert_eq!(interval, Interval::minutes(15));
        assert!(serde_json::from_str::<Interval>(r#"{"every": 1, "unit": "weeks"}"#).is_err());
        assert!(
            serde_json::from_str::<Interval>(r#"{"every": 1, "unit": "days", "x": 1}"#).is_err()
        );
    }
}
