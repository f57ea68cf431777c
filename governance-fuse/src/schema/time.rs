//! Parsing of timestamp columns, for value profiles and for aligning rows by time.
//!
//! A text column's format is chosen once, as the candidate that parses most of a sample of
//! its values, and then applied to every value. Times without an offset are read as UTC.
//! Month-first dates (`03/10/2012`, the US order) are tried before day-first ones, so a
//! column of ambiguous dates is read month first.

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Date-time formats tried for text columns, most specific first.
const DATE_TIME_FORMATS: [&str; 14] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
];

/// Date-only formats tried for text columns.
const DATE_FORMATS: [&str; 4] = ["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d"];

/// How many leading non-null values choose a text column's format.
const FORMAT_SAMPLE: usize = 64;

/// A way of reading one text value as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextFormat {
    Rfc3339,
    DateTime(&'static str),
    Date(&'static str),
}

impl TextFormat {
    fn parse(self, text: &str) -> Option<i64> {
        let text = text.trim();
        match self {
            TextFormat::Rfc3339 => DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.timestamp_millis()),
            TextFormat::DateTime(format) => NaiveDateTime::parse_from_str(text, format)
                .ok()
                .map(|time| time.and_utc().timestamp_millis()),
            TextFormat::Date(format) => NaiveDate::parse_from_str(text, format)
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|time| time.and_utc().timestamp_millis()),
        }
    }
}

fn candidate_formats() -> impl Iterator<Item = TextFormat> {
    std::iter::once(TextFormat::Rfc3339)
        .chain(DATE_TIME_FORMATS.into_iter().map(TextFormat::DateTime))
        .chain(DATE_FORMATS.into_iter().map(TextFormat::Date))
}

/// Chooses the format that parses the most of the sample; `None` when none parses any.
fn choose_format<'a>(sample: impl Iterator<Item = &'a str> + Clone) -> Option<TextFormat> {
    let mut best: Option<(TextFormat, usize)> = None;
    for format in candidate_formats() {
        let parsed = sample
            .clone()
            .filter(|text| format.parse(text).is_some())
            .count();
        if parsed > 0 && best.is_none_or(|(_, count)| parsed > count) {
            best = Some((format, parsed));
        }
    }
    best.map(|(format, _)| format)
}

/// Reads a column as epoch milliseconds: timestamp and date columns directly, text columns
/// through the best-fitting format. Returns `None` for other types or text with no
/// parseable value; unparseable values of a text column become `None` entries.
pub(crate) fn epoch_millis(array: &dyn Array) -> Option<Vec<Option<i64>>> {
    match array.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
            let target = DataType::Timestamp(TimeUnit::Millisecond, None);
            let cast = cast(array, &target).ok()?;
            let times = cast.as_primitive_opt::<arrow::datatypes::TimestampMillisecondType>()?;
            Some(times.iter().collect())
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(array, &DataType::Utf8).ok()?;
            let strings = text.as_string_opt::<i32>()?;
            let sample = strings.iter().flatten().take(FORMAT_SAMPLE);
            let format = choose_format(sample)?;
            Some(
                strings
                    .iter()
                    .map(|value| value.and_then(|text| format.parse(text)))
                    .collect(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringArray, TimestampSecondArray};

    #[test]
    fn reads_us_export_format() {
        let column = StringArray::from(vec![
            Some("10/03/2012 12:00:00 AM"),
            Some("10/03/2012 01:00:00 PM"),
            None,
            Some("not a time"),
        ]);
        let millis = epoch_millis(&column).expect("parseable column");
        assert_eq!(millis[0], Some(1_349_222_400_000));
        assert_eq!(millis[1], Some(1_349_222_400_000 + 13 * 3_600_000));
        assert_eq!(millis[2], None);
        assert_eq!(millis[3], None);
    }

    #[test]
    fn reads_iso_and_rfc3339() {
        let column = StringArray::from(vec!["2012-10-03T00:00:00", "2012-10-03 01:00"]);
        let millis = epoch_millis(&column).expect("parseable column");
        assert_eq!(millis[0], Some(1_349_222_400_000));
        assert_eq!(millis[1], None, "one format per column");
        let column = StringArray::from(vec!["2012-10-03T02:00:00+02:00"]);
        let millis = epoch_millis(&column).expect("parseable column");
        assert_eq!(millis[0], Some(1_349_222_400_000));
    }

    #[test]
    fn reads_timestamp_columns_and_rejects_others() {
        let column = TimestampSecondArray::from(vec![Some(60), None]);
        let millis = epoch_millis(&column).expect("timestamp column");
        assert_eq!(millis, vec![Some(60_000), None]);
        assert!(epoch_millis(&StringArray::from(vec!["abc", "12.5"])).is_none());
        assert!(epoch_millis(&arrow::array::Int64Array::from(vec![1])).is_none());
    }
}
