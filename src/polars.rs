//! Conversion between [`GovernedBatch`] and a Polars [`DataFrame`] through the Arrow C data
//! interface, so columns cross between arrow-rs and Polars' own Arrow implementation without
//! a copy of their buffers.
//!
//! Row ids travel as the column [`ROW_ID_COLUMN`], so a frame filtered or reordered in Polars
//! still names its rows. Polars keeps no field metadata: pass the original schema to
//! [`from_dataframe`] to restore the semantic annotations.

// The C data interface is the one place where the two Arrow implementations meet, and it is
// unsafe by nature: each side trusts the other's structs to follow the specification.
#![expect(
    unsafe_code,
    reason = "exchanging arrays through the Arrow C data interface"
)]

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, UInt64Array, make_array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use polars::prelude::{Column, CompatLevel, DataFrame, PlSmallStr, Series};
use polars_arrow::ffi as polars_ffi;

use crate::{Error, GovernedBatch, Provenance, ROW_ID_COLUMN, Result};

// The two crates declare the same `#[repr(C)]` structs of the C data interface. Moving one
// into the other is sound only while their sizes agree, so these checks pin that at compile time.
const _: () = assert!(size_of::<FFI_ArrowArray>() == size_of::<polars_ffi::ArrowArray>());
const _: () = assert!(size_of::<FFI_ArrowSchema>() == size_of::<polars_ffi::ArrowSchema>());

fn polars_error(context: &str, error: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("{context}: {error}"))
}

/// Converts a governed batch to a Polars frame whose first column is [`ROW_ID_COLUMN`].
pub fn to_dataframe(batch: &GovernedBatch) -> Result<DataFrame> {
    let data = batch.with_row_id_column()?;
    let mut columns = Vec::with_capacity(data.num_columns());
    for (field, array) in data.schema().fields().iter().zip(data.columns()) {
        columns.push(Column::from(export_to_polars(field.name(), array)?));
    }
    DataFrame::new(data.num_rows(), columns)
        .map_err(|error| polars_error("building the data frame failed", error))
}

fn export_to_polars(name: &str, array: &ArrayRef) -> Result<Series> {
    let (ffi_array, ffi_schema) = arrow::ffi::to_ffi(&array.to_data())?;
    // SAFETY: both types are the `ArrowArray` and `ArrowSchema` structs of the C data
    // interface, with equal size (checked above) and layout. Ownership moves to Polars with
    // the release callback, which Polars calls exactly once on drop.
    let (polars_array, polars_schema) = unsafe {
        (
            std::mem::transmute::<FFI_ArrowArray, polars_ffi::ArrowArray>(ffi_array),
            std::mem::transmute::<FFI_ArrowSchema, polars_ffi::ArrowSchema>(ffi_schema),
        )
    };
    // SAFETY: the structs were just exported by arrow-rs from a valid array.
    let field = unsafe { polars_ffi::import_field_from_c(&polars_schema) }.map_err(|error| {
        polars_error(
            &format!("column {name:?} has a type Polars cannot import"),
            error,
        )
    })?;
    // SAFETY: as above; the data type comes from the matching schema.
    let imported = unsafe { polars_ffi::import_array_from_c(polars_array, field.dtype().clone()) }
        .map_err(|error| polars_error(&format!("column {name:?} could not be imported"), error))?;
    Series::try_from((PlSmallStr::from(name), imported))
        .map_err(|error| polars_error(&format!("column {name:?} could not become a series"), error))
}

fn import_from_polars(column: &Column) -> Result<ArrayRef> {
    let name = column.name().to_string();
    let series = column.as_materialized_series().rechunk();
    // The oldest compatibility level exports strings as LargeUtf8, which arrow-rs reads
    // everywhere; the newest would use string views.
    let array = series.to_arrow(0, CompatLevel::oldest());
    let field = polars_arrow::datatypes::Field::new(
        PlSmallStr::from(name.as_str()),
        array.dtype().clone(),
        true,
    );
    let polars_array = polars_ffi::export_array_to_c(array);
    let polars_schema = polars_ffi::export_field_to_c(&field);
    // SAFETY: the same struct pair as in `export_to_polars`, moved in the other direction;
    // arrow-rs takes ownership and calls the release callback once.
    let (ffi_array, ffi_schema) = unsafe {
        (
            std::mem::transmute::<polars_ffi::ArrowArray, FFI_ArrowArray>(polars_array),
            std::mem::transmute::<polars_ffi::ArrowSchema, FFI_ArrowSchema>(polars_schema),
        )
    };
    // SAFETY: the structs were just exported by Polars from a valid array.
    let data = unsafe { arrow::ffi::from_ffi(ffi_array, &ffi_schema) }?;
    let array = make_array(data);
    // Restore the plain string and binary types the rest of the SDK uses.
    let target = match array.data_type() {
        DataType::LargeUtf8 => Some(DataType::Utf8),
        DataType::LargeBinary => Some(DataType::Binary),
        _ => None,
    };
    match target {
        Some(target) => Ok(arrow::compute::cast(&array, &target)?),
        None => Ok(array),
    }
}

/// Converts a Polars frame back to a governed batch. The frame must hold a non-null UInt64
/// column [`ROW_ID_COLUMN`]. Fields named in `annotations` get that schema's field metadata
/// back (and its data type, where Polars changed it and a cast exists).
pub fn from_dataframe(
    frame: &DataFrame,
    annotations: Option<&Schema>,
    provenance: Provenance,
) -> Result<GovernedBatch> {
    let mut row_ids = None;
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for column in frame.columns() {
        let array = import_from_polars(column)?;
        let name = column.name().to_string();
        if name == ROW_ID_COLUMN {
            let ids = array
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "column {ROW_ID_COLUMN} has type {}: expected UInt64 row ids",
                        array.data_type()
                    ))
                })?;
            row_ids = Some(ids.clone());
            continue;
        }
        let original = annotations.and_then(|schema| schema.field_with_name(&name).ok());
        let (field, array) = match original {
            Some(original) if original.data_type() != array.data_type() => {
                let cast = arrow::compute::cast(&array, original.data_type())?;
                (original.clone(), cast)
            }
            Some(original) => (original.clone(), array),
            None => (Field::new(&name, array.data_type().clone(), true), array),
        };
        fields.push(field);
        arrays.push(array);
    }
    let row_ids = row_ids.ok_or_else(|| {
        Error::InvalidInput(format!(
            "the data frame has no {ROW_ID_COLUMN} column: keep the column from to_dataframe, \
             or give new rows ids with RowIdAllocator"
        ))
    })?;
    let metadata = annotations
        .map(|schema| schema.metadata().clone())
        .unwrap_or_default();
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let data = RecordBatch::try_new_with_options(
        schema,
        arrays,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(frame.height())),
    )?;
    GovernedBatch::try_new(data, row_ids, provenance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RowIdAllocator, Semantic, Sensitivity};
    use arrow::array::{Float64Array, StringArray, TimestampMillisecondArray};
    use polars::prelude::{IntoLazy, col, lit};

    fn sample() -> GovernedBatch {
        let pm25 = Semantic {
            standard_name: Some("pm25".into()),
            unit: Some("ug/m3".into()),
            semantic_type: None,
            sensitivity: Some(Sensitivity::Public),
        }
        .annotate(Field::new("PM2.5", DataType::Float64, true));
        let schema = Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, true),
            pm25,
            Field::new(
                "timestamp",
                DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None),
                true,
            ),
        ]));
        let data = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("Dongsi"), None, Some("东四")])),
                Arc::new(Float64Array::from(vec![Some(12.5), Some(80.0), None])),
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(0),
                    Some(3_600_000),
                    None,
                ])),
            ],
        )
        .expect("batch");
        let ids = RowIdAllocator::starting_at(40).allocate(3);
        GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
    }

    #[test]
    fn round_trip_keeps_values_ids_and_annotations() {
        let batch = sample();
        let frame = to_dataframe(&batch).expect("to polars");
        assert_eq!(frame.height(), 3);
        assert_eq!(frame.width(), 4);

        let back = from_dataframe(
            &frame,
            Some(&batch.data().schema()),
            Provenance::new("polars"),
        )
        .expect("from polars");
        assert_eq!(back.row_ids(), batch.row_ids());
        assert_eq!(back.data(), batch.data());
        let annotation = Semantic::from_field(back.data().schema().field(1));
        assert_eq!(annotation.unit.as_deref(), Some("ug/m3"));
    }

    #[test]
    fn lazy_filter_keeps_row_ids() {
        let frame = to_dataframe(&sample()).expect("to polars");
        let filtered = frame
            .lazy()
            .filter(col("PM2.5").gt(lit(50.0)))
            .collect()
            .expect("lazy filter");
        let back = from_dataframe(&filtered, None, Provenance::new("polars")).expect("from polars");
        assert_eq!(back.row_ids().values().to_vec(), vec![41]);
    }

    #[test]
    fn frame_without_row_ids_is_rejected() {
        let frame = to_dataframe(&sample())
            .expect("to polars")
            .drop(ROW_ID_COLUMN)
            .expect("drop");
        let error = from_dataframe(&frame, None, Provenance::new("polars")).expect_err("no ids");
        assert!(error.to_string().contains("RowIdAllocator"));
    }
}
