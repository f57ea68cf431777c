//! Reads Arrow cells and encodes them in PostgreSQL's binary format for COPY.
//!
//! A [`ColumnReader`] wraps one typed Arrow array and returns a [`Cell`] per row. The cell
//! contains the value in PostgreSQL's representation (day and microsecond counts from
//! 2000-01-01, base-10000 numeric digits). Values that do not fit fail here, with their
//! column and row id, before they reach the server.

use std::error::Error as StdError;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BooleanArray, FixedSizeBinaryArray,
    GenericBinaryArray, GenericStringArray, PrimitiveArray, StringViewArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Date64Type, Decimal32Type, Decimal64Type,
    Decimal128Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// Days from 1970-01-01 (the Arrow epoch) to 2000-01-01 (the PostgreSQL epoch).
const PG_EPOCH_DAYS: i64 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * MICROS_PER_DAY;
const MICROS_PER_DAY: i64 = 86_400_000_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// One value in PostgreSQL's terms, ready for binary COPY.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Bool(bool),
    Text(&'a str),
    Bytes(&'a [u8]),
    /// Days since 2000-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 2000-01-01 00:00 (UTC for `timestamptz`).
    Timestamp(i64),
    /// An unscaled decimal and its scale.
    Numeric(i128, u8),
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Cell::Null => return Ok(IsNull::Yes),
            Cell::Int16(value) => out.extend_from_slice(&value.to_be_bytes()),
            Cell::Int32(value) | Cell::Date(value) => out.extend_from_slice(&value.to_be_bytes()),
            Cell::Int64(value) | Cell::Time(value) | Cell::Timestamp(value) => {
                out.extend_from_slice(&value.to_be_bytes());
            }
            Cell::Float32(value) => out.extend_from_slice(&value.to_be_bytes()),
            Cell::Float64(value) => out.extend_from_slice(&value.to_be_bytes()),
            Cell::Bool(value) => out.extend_from_slice(&[u8::from(value)]),
            Cell::Text(value) => out.extend_from_slice(value.as_bytes()),
            Cell::Bytes(value) => out.extend_from_slice(value),
            Cell::Numeric(value, scale) => encode_numeric(value, scale, out),
        }
        Ok(IsNull::No)
    }

    /// Accepts every type, because the sink declares each COPY column's type from the same
    /// mapping that chose the [`Cell`] variant.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Writes a numeric in the binary format: digit count, weight of the first base-10000 digit,
/// sign, display scale, then the digits.
fn encode_numeric(value: i128, scale: u8, out: &mut BytesMut) {
    let (digits, weight) = numeric_digits(value, scale);
    let sign: u16 = if value < 0 && !digits.is_empty() {
        0x4000
    } else {
        0
    };
    // At most 10 integer and 10 fraction digits of base 10000 for 38 decimal digits, so the
    // count fits an i16.
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&i16::from(scale).to_be_bytes());
    for digit in digits {
        out.extend_from_slice(&digit.to_be_bytes());
    }
}

/// Splits `|value| / 10^scale` into base-10000 digits aligned on the decimal point, without
/// leading or trailing zero digits, and returns them with the weight of the first one.
fn numeric_digits(value: i128, scale: u8) -> (Vec<i16>, i16) {
    let magnitude = value.unsigned_abs();
    let divisor = 10u128.pow(u32::from(scale));
    let mut integer = magnitude / divisor;
    let fraction = magnitude % divisor;

    let mut digits = Vec::new();
    while integer > 0 {
        digits.push((integer % 10_000) as i16);
        integer /= 10_000;
    }
    digits.reverse();
    let mut weight = digits.len() as i16 - 1;

    if scale > 0 {
        // Pad the fraction on the right to whole groups of four decimal digits.
        let mut text = format!("{fraction:0width$}", width = usize::from(scale));
        while text.len() % 4 != 0 {
            text.push('0');
        }
        for group in text.as_bytes().chunks(4) {
            let digit = group
                .iter()
                .fold(0i16, |acc, byte| acc * 10 + i16::from(byte - b'0'));
            digits.push(digit);
        }
    }

    let leading = digits.iter().take_while(|digit| **digit == 0).count();
    digits.drain(..leading);
    weight -= leading as i16;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    (digits, weight)
}

/// A typed view of one Arrow column that yields [`Cell`]s.
pub(crate) struct ColumnReader<'a> {
    /// The validity bitmap, kept apart from the array so the per-cell check is inlined.
    nulls: Option<NullBuffer>,
    values: Values<'a>,
}

enum Values<'a> {
    Int8(&'a PrimitiveArray<Int8Type>),
    Int16(&'a PrimitiveArray<Int16Type>),
    Int32(&'a PrimitiveArray<Int32Type>),
    Int64(&'a PrimitiveArray<Int64Type>),
    UInt8(&'a PrimitiveArray<UInt8Type>),
    UInt16(&'a PrimitiveArray<UInt16Type>),
    UInt32(&'a PrimitiveArray<UInt32Type>),
    UInt64(&'a PrimitiveArray<UInt64Type>),
    Float16(&'a PrimitiveArray<Float16Type>),
    Float32(&'a PrimitiveArray<Float32Type>),
    Float64(&'a PrimitiveArray<Float64Type>),
    Boolean(&'a BooleanArray),
    Utf8(&'a GenericStringArray<i32>),
    LargeUtf8(&'a GenericStringArray<i64>),
    Utf8View(&'a StringViewArray),
    Binary(&'a GenericBinaryArray<i32>),
    LargeBinary(&'a GenericBinaryArray<i64>),
    BinaryView(&'a BinaryViewArray),
    FixedSizeBinary(&'a FixedSizeBinaryArray),
    Date32(&'a PrimitiveArray<Date32Type>),
    Date64(&'a PrimitiveArray<Date64Type>),
    Time32Second(&'a PrimitiveArray<Time32SecondType>),
    Time32Millisecond(&'a PrimitiveArray<Time32MillisecondType>),
    Time64Microsecond(&'a PrimitiveArray<Time64MicrosecondType>),
    Time64Nanosecond(&'a PrimitiveArray<Time64NanosecondType>),
    TimestampSecond(&'a PrimitiveArray<TimestampSecondType>),
    TimestampMillisecond(&'a PrimitiveArray<TimestampMillisecondType>),
    TimestampMicrosecond(&'a PrimitiveArray<TimestampMicrosecondType>),
    TimestampNanosecond(&'a PrimitiveArray<TimestampNanosecondType>),
    Decimal32(&'a PrimitiveArray<Decimal32Type>, u8),
    Decimal64(&'a PrimitiveArray<Decimal64Type>, u8),
    Decimal128(&'a PrimitiveArray<Decimal128Type>, u8),
}

fn primitive<T: ArrowPrimitiveType>(array: &ArrayRef) -> Option<&PrimitiveArray<T>> {
    array.as_primitive_opt::<T>()
}

impl<'a> ColumnReader<'a> {
    /// Wraps `array`. Returns `None` for a type outside the mapping of
    /// [`pg_type_for`](super::types::pg_type_for), which rejects such columns first.
    pub(crate) fn new(array: &'a ArrayRef) -> Option<Self> {
        let values = match array.data_type() {
            DataType::Int8 => Values::Int8(primitive(array)?),
            DataType::Int16 => Values::Int16(primitive(array)?),
            DataType::Int32 => Values::Int32(primitive(array)?),
            DataType::Int64 => Values::Int64(primitive(array)?),
            DataType::UInt8 => Values::UInt8(primitive(array)?),
            DataType::UInt16 => Values::UInt16(primitive(array)?),
            DataType::UInt32 => Values::UInt32(primitive(array)?),
            DataType::UInt64 => Values::UInt64(primitive(array)?),
            DataType::Float16 => Values::Float16(primitive(array)?),
            DataType::Float32 => Values::Float32(primitive(array)?),
            DataType::Float64 => Values::Float64(primitive(array)?),
            DataType::Boolean => Values::Boolean(array.as_boolean_opt()?),
            DataType::Utf8 => Values::Utf8(array.as_string_opt::<i32>()?),
            DataType::LargeUtf8 => Values::LargeUtf8(array.as_string_opt::<i64>()?),
            DataType::Utf8View => Values::Utf8View(array.as_string_view_opt()?),
            DataType::Binary => Values::Binary(array.as_binary_opt::<i32>()?),
            DataType::LargeBinary => Values::LargeBinary(array.as_binary_opt::<i64>()?),
            DataType::BinaryView => Values::BinaryView(array.as_binary_view_opt()?),
            DataType::FixedSizeBinary(_) => {
                Values::FixedSizeBinary(array.as_fixed_size_binary_opt()?)
            }
            DataType::Date32 => Values::Date32(primitive(array)?),
            DataType::Date64 => Values::Date64(primitive(array)?),
            DataType::Time32(TimeUnit::Second) => Values::Time32Second(primitive(array)?),
            DataType::Time32(TimeUnit::Millisecond) => Values::Time32Millisecond(primitive(array)?),
            DataType::Time64(TimeUnit::Microsecond) => Values::Time64Microsecond(primitive(array)?),
            DataType::Time64(TimeUnit::Nanosecond) => Values::Time64Nanosecond(primitive(array)?),
            DataType::Timestamp(TimeUnit::Second, _) => Values::TimestampSecond(primitive(array)?),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                Values::TimestampMillisecond(primitive(array)?)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Values::TimestampMicrosecond(primitive(array)?)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Values::TimestampNanosecond(primitive(array)?)
            }
            DataType::Decimal32(_, scale) => {
                Values::Decimal32(primitive(array)?, u8::try_from(*scale).ok()?)
            }
            DataType::Decimal64(_, scale) => {
                Values::Decimal64(primitive(array)?, u8::try_from(*scale).ok()?)
            }
            DataType::Decimal128(_, scale) => {
                Values::Decimal128(primitive(array)?, u8::try_from(*scale).ok()?)
            }
            _ => return None,
        };
        Some(ColumnReader {
            nulls: array.logical_nulls(),
            values,
        })
    }

    /// Returns the cell at `row`, or a message saying why its value cannot be stored.
    #[inline]
    pub(crate) fn cell(&self, row: usize) -> Result<Cell<'a>, String> {
        if self.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row)) {
            return Ok(Cell::Null);
        }
        let cell = match &self.values {
            Values::Int8(array) => Cell::Int16(i16::from(array.value(row))),
            Values::Int16(array) => Cell::Int16(array.value(row)),
            Values::Int32(array) => Cell::Int32(array.value(row)),
            Values::Int64(array) => Cell::Int64(array.value(row)),
            Values::UInt8(array) => Cell::Int16(i16::from(array.value(row))),
            Values::UInt16(array) => Cell::Int32(i32::from(array.value(row))),
            Values::UInt32(array) => Cell::Int64(i64::from(array.value(row))),
            Values::UInt64(array) => {
                let value = array.value(row);
                let Ok(value) = i64::try_from(value) else {
                    return Err(format!(
                        "{value} is larger than the bigint maximum {}; cast the column to \
                         Decimal128(20, 0) to store it as numeric",
                        i64::MAX
                    ));
                };
                Cell::Int64(value)
            }
            Values::Float16(array) => Cell::Float32(array.value(row).to_f32()),
            Values::Float32(array) => Cell::Float32(array.value(row)),
            Values::Float64(array) => Cell::Float64(array.value(row)),
            Values::Boolean(array) => Cell::Bool(array.value(row)),
            Values::Utf8(array) => text(array.value(row))?,
            Values::LargeUtf8(array) => text(array.value(row))?,
            Values::Utf8View(array) => text(array.value(row))?,
            Values::Binary(array) => Cell::Bytes(array.value(row)),
            Values::LargeBinary(array) => Cell::Bytes(array.value(row)),
            Values::BinaryView(array) => Cell::Bytes(array.value(row)),
            Values::FixedSizeBinary(array) => Cell::Bytes(array.value(row)),
            Values::Date32(array) => date_from_days(i64::from(array.value(row)))?,
            Values::Date64(array) => {
                let millis = array.value(row);
                if millis % MILLIS_PER_DAY != 0 {
                    return Err(format!(
                        "Date64 value {millis} ms is not a whole number of days; cast the \
                         column to Timestamp(Millisecond) to keep the time of day"
                    ));
                }
                date_from_days(millis / MILLIS_PER_DAY)?
            }
            Values::Time32Second(array) => Cell::Time(i64::from(array.value(row)) * 1_000_000),
            Values::Time32Millisecond(array) => Cell::Time(i64::from(array.value(row)) * 1_000),
            Values::Time64Microsecond(array) => Cell::Time(array.value(row)),
            // NOTE: PostgreSQL stores microseconds, so nanosecond digits are truncated.
            Values::Time64Nanosecond(array) => Cell::Time(array.value(row).div_euclid(1_000)),
            Values::TimestampSecond(array) => timestamp(array.value(row), 1_000_000, 1)?,
            Values::TimestampMillisecond(array) => timestamp(array.value(row), 1_000, 1)?,
            Values::TimestampMicrosecond(array) => timestamp(array.value(row), 1, 1)?,
            // NOTE: PostgreSQL stores microseconds, so nanosecond digits are truncated
            // (rounded towards negative infinity).
            Values::TimestampNanosecond(array) => timestamp(array.value(row), 1, 1_000)?,
            Values::Decimal32(array, scale) => Cell::Numeric(i128::from(array.value(row)), *scale),
            Values::Decimal64(array, scale) => Cell::Numeric(i128::from(array.value(row)), *scale),
            Values::Decimal128(array, scale) => Cell::Numeric(array.value(row), *scale),
        };
        Ok(cell)
    }
}

fn text(value: &str) -> Result<Cell<'_>, String> {
    if value.contains('\0') {
        return Err(format!(
            "text {value:?} contains a NUL character, which PostgreSQL text cannot store; \
             remove it, or store the column as Binary"
        ));
    }
    Ok(Cell::Text(value))
}

fn date_from_days(days_since_1970: i64) -> Result<Cell<'static>, String> {
    i32::try_from(days_since_1970 - PG_EPOCH_DAYS)
        .map(Cell::Date)
        .map_err(|_| format!("date {days_since_1970} days from 1970-01-01 is out of range"))
}

/// Converts a count of seconds, milliseconds, microseconds or nanoseconds since 1970-01-01
/// to microseconds since 2000-01-01: `value` is divided by `divisor` (rounding down), then
/// multiplied by `multiplier`.
fn timestamp(value: i64, multiplier: i64, divisor: i64) -> Result<Cell<'static>, String> {
    value
        .div_euclid(divisor)
        .checked_mul(multiplier)
        .and_then(|micros| micros.checked_sub(PG_EPOCH_MICROS))
        .map(Cell::Timestamp)
        .ok_or_else(|| {
            format!(
                "timestamp {value} is out of the range PostgreSQL can store (4713 BC to \
                 294276 AD)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Date32Array, StringArray, TimestampSecondArray, UInt64Array};

    #[test]
    fn numeric_digits_align_on_decimal_point() {
        // 12345.678 at scale 3: 1 | 2345 . 6780
        assert_eq!(numeric_digits(12_345_678, 3), (vec![1, 2345, 6780], 1));
        // 0.0001 at scale 4: one digit of weight -1.
        assert_eq!(numeric_digits(1, 4), (vec![1], -1));
        // 0.00001 at scale 5: 0000 | 1000, the leading zero group is dropped.
        assert_eq!(numeric_digits(1, 5), (vec![1000], -2));
        // 100000000 at scale 0: 1 | 0000 | 0000, trailing zero groups are dropped.
        assert_eq!(numeric_digits(100_000_000, 0), (vec![1], 2));
        assert_eq!(numeric_digits(0, 2), (vec![], 0));
        assert_eq!(numeric_digits(-250, 2), (vec![2, 5000], 0));
    }

    #[test]
    fn numeric_handles_widest_decimal() {
        let (digits, weight) = numeric_digits(i128::MAX, 38);
        assert_eq!(weight, 0);
        assert_eq!(digits[0], 1);
        let (digits, weight) = numeric_digits(i128::MIN, 0);
        assert_eq!(weight, 9);
        assert_eq!(digits.len(), 10);
    }

    #[test]
    fn dates_and_timestamps_shift_epoch() {
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![10_957, 0]));
        let reader = ColumnReader::new(&dates).expect("date reader");
        assert_eq!(reader.cell(0), Ok(Cell::Date(0)));
        assert_eq!(reader.cell(1), Ok(Cell::Date(-10_957)));

        let stamps: ArrayRef = Arc::new(TimestampSecondArray::from(vec![946_684_801]));
        let reader = ColumnReader::new(&stamps).expect("timestamp reader");
        assert_eq!(reader.cell(0), Ok(Cell::Timestamp(1_000_000)));

        let overflow: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX]));
        let reader = ColumnReader::new(&overflow).expect("timestamp reader");
        let message = reader.cell(0).expect_err("overflow");
        assert!(message.contains("out of the range"), "{message}");
    }

    #[test]
    fn values_that_do_not_fit_are_explained() {
        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, 7]));
        let reader = ColumnReader::new(&big).expect("u64 reader");
        let message = reader.cell(0).expect_err("too large");
        assert!(message.contains("18446744073709551615"), "{message}");
        assert_eq!(reader.cell(1), Ok(Cell::Int64(7)));

        let texts: ArrayRef = Arc::new(StringArray::from(vec![Some("a\0b"), None]));
        let reader = ColumnReader::new(&texts).expect("text reader");
        let message = reader.cell(0).expect_err("NUL");
        assert!(message.contains("NUL"), "{message}");
        assert_eq!(reader.cell(1), Ok(Cell::Null));
    }
}
