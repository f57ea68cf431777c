use std::sync::Arc;

use arrow::array::TimestampMillisecondArray;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use governance_core::audit::AuditLog;
use governance_core::semantic::{STANDARD_NAME_KEY, UNIT_KEY};
use governance_core::{Error, Fuser, GovernedBatch, Provenance, RowIdAllocator, StageContext};

use super::*;

const HOUR: i64 = 3_600_000;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

fn governed(data: RecordBatch) -> GovernedBatch {
    let ids = RowIdAllocator::default().allocate(data.num_rows());
    GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed batch")
}

fn hours(count: usize) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from(
        (0..count as i64).map(|i| i * HOUR).collect::<Vec<_>>(),
    ))
}

/// Builds a positive series that differs per seed, in the plausible range of a pollutant.
fn series(count: usize, base: f64, seed: f64) -> ArrayRef {
    Arc::new(Float64Array::from(
        (0..count)
            .map(|i| base + 20.0 * ((i as f64) * 0.37 * seed).sin() + (i % 7) as f64 * seed)
            .collect::<Vec<_>>(),
    ))
}

fn context() -> StageContext {
    StageContext::new("schema_map", 1, AuditLog::in_memory().into_handle())
}

fn event_columns(ctx: &mut StageContext, kind: &str) -> Vec<String> {
    ctx.take_events()
        .into_iter()
        .filter(|event| event.kind == kind)
        .filter_map(|event| event.parameters["column"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn renames_converts_and_keeps_every_column() {
    let n = 30;
    let data = batch(vec![
        ("timestamp", hours(n)),
        ("PM2.5", series(n, 60.0, 1.0)),
        // Carbon monoxide in µg/m³, where the model expects mg/m³.
        ("CO", series(n, 900.0, 2.0)),
        ("station", Arc::new(StringArray::from(vec!["Harbour"; n]))),
        ("zz_flag", Arc::new(StringArray::from(vec!["q"; n]))),
    ]);
    let co_in = data.column(2).as_primitive::<Float64Type>().value(0);
    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.skip = vec!["station".into()];
    let mut stage = SchemaMap::new(config, Vec::new()).expect("stage");
    let mut ctx = context();
    let out = stage.fuse(governed(data), &mut ctx).expect("fuse");

    assert_eq!(out.num_rows(), n);
    let names = out.column_names();
    assert_eq!(names, ["dateObserved", "pm25", "co", "station", "zz_flag"]);
    let co = out.column("co").expect("co").as_primitive::<Float64Type>();
    assert!(
        (co.value(0) - co_in / 1000.0).abs() < 1e-9,
        "{}",
        co.value(0)
    );
    let schema = out.data().schema();
    let co_field = schema.field_with_name("co").expect("co field");
    assert_eq!(
        co_field.metadata().get(UNIT_KEY).map(String::as_str),
        Some("GP")
    );
    assert_eq!(
        co_field
            .metadata()
            .get(STANDARD_NAME_KEY)
            .map(String::as_str),
        Some("co")
    );
    let unmapped = event_columns(&mut ctx, "schema_unmapped");
    assert_eq!(unmapped, ["zz_flag"]);
}

#[test]
fn low_confidence_column_is_reported_not_renamed() {
    let n = 20;
    // Text under a pollutant's name: the values veto the name.
    let data = batch(vec![(
        "no2",
        Arc::new(StringArray::from(vec!["high"; n])) as ArrayRef,
    )]);
    let mut stage =
        SchemaMap::new(SchemaMapConfig::new("AirQualityObserved"), Vec::new()).expect("stage");
    let mut ctx = context();
    let out = stage.fuse(governed(data), &mut ctx).expect("fuse");
    assert_eq!(out.column_names(), ["no2"]);
    let events = ctx.take_events();
    let unmapped = events
        .iter()
        .find(|event| event.kind == "schema_unmapped")
        .expect("unmapped event");
    assert_eq!(unmapped.parameters["best_attribute"], "no2");
    let confidence = unmapped.parameters["best_confidence"]
        .as_f64()
        .expect("number");
    assert!(confidence < 0.5, "{confidence}");
}

fn reference_and_swapped(n: usize) -> (RecordBatch, RecordBatch) {
    let (pm25, no2, o3) = (
        series(n, 60.0, 1.0),
        series(n, 40.0, 2.3),
        series(n, 45.0, 3.1),
    );
    let reference = batch(vec![
        ("timestamp", hours(n)),
        ("pm25", pm25.clone()),
        ("no2", no2.clone()),
        ("o3", o3.clone()),
    ]);
    // The new feed swaps the NO2 and O3 values and renames PM2.5 to an opaque name.
    let new = batch(vec![
        ("timestamp", hours(n)),
        ("sensor_7", pm25),
        ("no2", o3),
        ("o3", no2),
    ]);
    (reference, new)
}

#[test]
fn swapped_columns_are_reported_and_left_unmapped() {
    let (reference, new) = reference_and_swapped(48);
    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.reference = Some("reference".into());
    let mut stage = SchemaMap::new(config, vec![reference]).expect("stage");
    assert_eq!(stage.sources(), ["reference"]);
    let mut ctx = context();
    let out = stage.fuse(governed(new), &mut ctx).expect("fuse");

    assert_eq!(out.column_names(), ["dateObserved", "pm25", "no2", "o3"]);
    let events = ctx.take_events();
    let swapped: Vec<&str> = events
        .iter()
        .filter(|event| event.kind == "schema_swapped")
        .filter_map(|event| event.parameters["column"].as_str())
        .collect();
    assert_eq!(swapped, ["no2", "o3"]);
    let mapped: Vec<&str> = events
        .iter()
        .filter(|event| event.kind == "schema_mapped")
        .filter_map(|event| event.parameters["column"].as_str())
        .collect();
    assert!(!mapped.contains(&"no2"), "{mapped:?}");
    assert!(!mapped.contains(&"o3"), "{mapped:?}");
    assert!(mapped.contains(&"sensor_7"), "{mapped:?}");
    let schema = out.data().schema();
    let no2 = schema.field_with_name("no2").expect("no2 kept");
    assert!(no2.metadata().get(STANDARD_NAME_KEY).is_none());
}

#[test]
fn swapped_columns_follow_their_values() {
    let (reference, new) = reference_and_swapped(48);
    let o3_values = new.column(2).clone();
    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.reference = Some("reference".into());
    config.on_swap = SwapPolicy::FollowValues;
    let mut stage = SchemaMap::new(config, vec![reference]).expect("stage");
    let mut ctx = context();
    let out = stage.fuse(governed(new), &mut ctx).expect("fuse");
    // The column named no2 carries O3 values, so it becomes o3, and the other way round.
    assert_eq!(out.column_names(), ["dateObserved", "pm25", "o3", "no2"]);
    assert_eq!(out.column("o3").expect("o3").as_ref(), o3_values.as_ref());
}

#[test]
fn plan_is_reused_and_reported_each_round() {
    let n = 10;
    let make = || batch(vec![("PM10", series(n, 80.0, 1.5))]);
    let mut stage =
        SchemaMap::new(SchemaMapConfig::new("AirQualityObserved"), Vec::new()).expect("stage");
    let mut first = context();
    stage
        .fuse(governed(make()), &mut first)
        .expect("first batch");
    assert_eq!(event_columns(&mut first, "schema_mapped"), ["PM10"]);
    stage
        .fuse(governed(make()), &mut first)
        .expect("second batch");
    assert!(
        first.take_events().is_empty(),
        "events repeat within a round"
    );

    let mut second = StageContext::new("schema_map", 2, AuditLog::in_memory().into_handle());
    let out = stage
        .fuse(governed(make()), &mut second)
        .expect("next round");
    assert_eq!(out.column_names(), ["pm10"]);
    assert_eq!(event_columns(&mut second, "schema_mapped"), ["PM10"]);

    let other = batch(vec![("SO2", series(n, 10.0, 0.7))]);
    let out = stage
        .fuse(governed(other), &mut second)
        .expect("new schema");
    assert_eq!(out.column_names(), ["so2"]);
    let kinds: Vec<String> = second.take_events().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"schema_replanned".to_string()), "{kinds:?}");
}

#[test]
fn rename_off_keeps_names_and_annotates() {
    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.rename = false;
    let mut stage = SchemaMap::new(config, Vec::new()).expect("stage");
    let data = batch(vec![("PM10", series(12, 80.0, 1.5))]);
    let out = stage.fuse(governed(data), &mut context()).expect("fuse");
    let schema = out.data().schema();
    let field = schema.field(0);
    assert_eq!(field.name(), "PM10");
    assert_eq!(field.data_type(), &DataType::Float64);
    assert_eq!(
        field.metadata().get(STANDARD_NAME_KEY).map(String::as_str),
        Some("pm10")
    );
}

#[test]
fn bad_config_is_rejected() {
    let error =
        SchemaMap::new(SchemaMapConfig::new("AirQuality"), Vec::new()).expect_err("unknown model");
    assert!(matches!(error, Error::Config { .. }), "{error}");
    assert!(error.to_string().contains("AirQualityObserved"), "{error}");

    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.min_confidence = 1.5;
    let error = SchemaMap::new(config, Vec::new()).expect_err("confidence above 1");
    assert!(error.to_string().contains("1.5"), "{error}");

    let mut config = SchemaMapConfig::new("AirQualityObserved");
    config.reference = Some("reference".into());
    let error = SchemaMap::new(config, Vec::new()).expect_err("reference without rows");
    assert!(error.to_string().contains("no rows"), "{error}");
}

#[test]
fn timestamp_type_is_kept() {
    let data = batch(vec![("timestamp", hours(3))]);
    let mut stage =
        SchemaMap::new(SchemaMapConfig::new("AirQualityObserved"), Vec::new()).expect("stage");
    let out = stage.fuse(governed(data), &mut context()).expect("fuse");
    let column = out.data().column(0);
    assert_eq!(
        column.data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, None)
    );
    assert_eq!(column.len(), 3);
}
