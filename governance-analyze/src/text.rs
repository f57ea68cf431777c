//! Conversion of result and batch columns to the text and numbers that findings carry.

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
use arrow::compute::{can_cast_types, cast};
use arrow::datatypes::{DataType, Float64Type};
use governance_core::{Error, Result};

/// Returns `array` as text: dates as `2013-03-01`, timestamps as `2013-03-01T08:00:00`,
/// numbers in their shortest form. `label` names the column in errors.
pub(crate) fn to_text(array: &ArrayRef, label: &str) -> Result<StringArray> {
    if !can_cast_types(array.data_type(), &DataType::Utf8) {
        return Err(Error::InvalidInput(format!(
            "{label} has type {}, which cannot be shown as text: select a scalar column",
            array.data_type()
        )));
    }
    Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// Returns `array` as Float64. `label` names the column in errors.
pub(crate) fn to_float(array: &ArrayRef, label: &str) -> Result<Float64Array> {
    if !array.data_type().is_numeric() {
        return Err(Error::InvalidInput(format!(
            "{label} has type {}; expected a numeric type: cast it to DOUBLE first",
            array.data_type()
        )));
    }
    Ok(cast(array, &DataType::Float64)?
        .as_primitive::<Float64Type>()
        .clone())
}

/// Returns the value at `row` of an optional text column.
pub(crate) fn text_at(column: Option<&StringArray>, row: usize) -> Option<String> {
    column.and_then(|column| column.is_valid(row).then(|| column.value(row).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array, TimestampMillisecondArray};
    use std::sync::Arc;

    #[test]
    fn dates_and_timestamps_become_iso_text() {
        let date: ArrayRef = Arc::new(Date32Array::from(vec![15765]));
        assert_eq!(to_text(&date, "day").expect("date").value(0), "2013-03-01");
        let time: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_362_096_000_000]));
        assert_eq!(
            to_text(&time, "time").expect("timestamp").value(0),
            "2013-03-01T00:00:00"
        );
    }

    #[test]
    fn integers_become_floats() {
        let counts: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), None]));
        let values = to_float(&counts, "count").expect("numeric");
        assert_eq!(values.value(0), 3.0);
        assert!(values.is_null(1));
    }

    #[test]
    fn text_is_not_a_number() {
        let text: ArrayRef = Arc::new(StringArray::from(vec!["3"]));
        let error = to_float(&text, "column \"station\"").expect_err("text");
        assert!(
            error
                .to_string()
                .contains("column \"station\" has type Utf8")
        );
    }
}
