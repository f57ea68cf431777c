//! Typed views of the key and time columns on both sides of the join, with the type checks
//! that name the column, the type found and the types accepted.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMillisecondType};
use governance_core::{Error, Result};

/// Key types an as-of join accepts, for error messages.
const KEY_TYPES: &str = "Utf8 (or LargeUtf8, Utf8View) or Int64";

/// Time types an as-of join accepts, for error messages.
const TIME_TYPES: &str = "Timestamp (any unit) or Int64 milliseconds since the epoch";

/// A key column as one of the two supported physical types.
#[derive(Debug)]
pub(crate) enum KeyColumn {
    /// String keys; LargeUtf8 and Utf8View are cast to Utf8.
    Utf8(StringArray),
    /// Integer keys.
    Int64(Int64Array),
}

impl KeyColumn {
    /// Returns the key kind, for comparing the two sides.
    pub(crate) fn kind(&self) -> KeyKind {
        match self {
            KeyColumn::Utf8(_) => KeyKind::Utf8,
            KeyColumn::Int64(_) => KeyKind::Int64,
        }
    }
}

/// The physical kind of a key column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// String keys.
    Utf8,
    /// Integer keys.
    Int64,
}

impl KeyKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyKind::Utf8 => "Utf8",
            KeyKind::Int64 => "Int64",
        }
    }
}

/// Time encoding of a time column. Timestamps carry an optional time zone, which must agree
/// on both sides. Plain Int64 milliseconds are taken to be in the other side's frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimeKind {
    /// A Timestamp column with its time zone (`None` for naive local time).
    Timestamp(Option<Arc<str>>),
    /// Int64 milliseconds since the epoch.
    EpochMillis,
}

impl TimeKind {
    /// Checks that stream and side times can be compared; naive and zoned timestamps, or two
    /// different zones, cannot.
    pub(crate) fn check_compatible(
        &self,
        side: &TimeKind,
        stream_column: &str,
        source: &str,
    ) -> Result<()> {
        if let (TimeKind::Timestamp(stream_zone), TimeKind::Timestamp(side_zone)) = (self, side)
            && stream_zone != side_zone
        {
            return Err(Error::InvalidInput(format!(
                "time column {stream_column:?} of the stream has time zone {} but the time column \
                 of side source {source:?} has time zone {}: cast both to the same time zone first",
                zone_text(stream_zone),
                zone_text(side_zone)
            )));
        }
        Ok(())
    }
}

fn zone_text(zone: &Option<Arc<str>>) -> String {
    zone.as_ref().map_or_else(
        || "none (naive local time)".to_string(),
        |zone| format!("{zone:?}"),
    )
}

/// A time column as milliseconds since the epoch.
#[derive(Debug)]
pub(crate) struct TimeColumn {
    /// Milliseconds; nulls where the time is null.
    pub(crate) millis: Int64Array,
    /// Time encoding of the source column.
    pub(crate) kind: TimeKind,
}

/// Returns the key column as Utf8 or Int64. `owner` names the side of the join in errors,
/// such as `the stream` or `side source "weather"`.
pub(crate) fn key_column(array: &ArrayRef, column: &str, owner: &str) -> Result<KeyColumn> {
    match array.data_type() {
        DataType::Utf8 => Ok(KeyColumn::Utf8(array.as_string::<i32>().clone())),
        DataType::LargeUtf8 | DataType::Utf8View => {
            let utf8 = cast(array, &DataType::Utf8)?;
            Ok(KeyColumn::Utf8(utf8.as_string::<i32>().clone()))
        }
        DataType::Int64 => Ok(KeyColumn::Int64(array.as_primitive::<Int64Type>().clone())),
        other => Err(Error::InvalidInput(format!(
            "key column {column:?} of {owner} has type {other}; expected {KEY_TYPES}: cast the \
             column before the join"
        ))),
    }
}

/// Returns the time column as epoch milliseconds. Second, microsecond and nanosecond
/// timestamps are converted to milliseconds (sub-millisecond parts are truncated).
pub(crate) fn time_column(array: &ArrayRef, column: &str, owner: &str) -> Result<TimeColumn> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, zone) => Ok(TimeColumn {
            millis: array
                .as_primitive::<TimestampMillisecondType>()
                .reinterpret_cast::<Int64Type>(),
            kind: TimeKind::Timestamp(zone.clone()),
        }),
        DataType::Timestamp(_, zone) => {
            let millis = cast(
                array,
                &DataType::Timestamp(TimeUnit::Millisecond, zone.clone()),
            )?;
            Ok(TimeColumn {
                millis: millis
                    .as_primitive::<TimestampMillisecondType>()
                    .reinterpret_cast::<Int64Type>(),
                kind: TimeKind::Timestamp(zone.clone()),
            })
        }
        DataType::Int64 => Ok(TimeColumn {
            millis: array.as_primitive::<Int64Type>().clone(),
            kind: TimeKind::EpochMillis,
        }),
        other => Err(Error::InvalidInput(format!(
            "time column {column:?} of {owner} has type {other}; expected {TIME_TYPES}: parse or \
             cast the column before the join"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, LargeStringArray, TimestampSecondArray};

    #[test]
    fn float_key_names_column_and_types() {
        let array: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
        let error = key_column(&array, "station", "the stream").expect_err("float key");
        let message = error.to_string();
        assert!(message.contains("\"station\""), "{message}");
        assert!(message.contains("Float64"), "{message}");
        assert!(message.contains("Utf8"), "{message}");
        assert!(message.contains("Int64"), "{message}");
    }

    #[test]
    fn large_utf8_key_becomes_utf8() {
        let array: ArrayRef = Arc::new(LargeStringArray::from(vec!["a", "b"]));
        let key = key_column(&array, "station", "the stream").expect("large utf8");
        assert_eq!(key.kind(), KeyKind::Utf8);
    }

    #[test]
    fn second_timestamps_become_millis() {
        let array: ArrayRef = Arc::new(TimestampSecondArray::from(vec![Some(2), None]));
        let time = time_column(&array, "timestamp", "the stream").expect("seconds");
        assert_eq!(time.millis.value(0), 2000);
        assert!(time.millis.is_null(1));
        assert_eq!(time.kind, TimeKind::Timestamp(None));
    }

    #[test]
    fn text_time_is_rejected() {
        let array: ArrayRef = Arc::new(StringArray::from(vec!["2013-03-01 00:00"]));
        let error = time_column(&array, "timestamp", "side source \"weather\"").expect_err("text");
        let message = error.to_string();
        assert!(message.contains("\"timestamp\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
        assert!(message.contains("Timestamp"), "{message}");
    }

    #[test]
    fn different_zones_are_incompatible() {
        let stream = TimeKind::Timestamp(Some("+08:00".into()));
        let error = stream
            .check_compatible(&TimeKind::Timestamp(None), "timestamp", "weather")
            .expect_err("zones differ");
        assert!(error.to_string().contains("+08:00"));
        assert!(
            stream
                .check_compatible(&TimeKind::EpochMillis, "timestamp", "weather")
                .is_ok()
        );
    }
}
