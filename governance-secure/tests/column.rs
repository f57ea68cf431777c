//! Column classification as a user sees it: names in English and Chinese, value hit rates,
//! coordinate pairs and schema annotation.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::{Semantic, Sensitivity};
use governance_secure::detect::{
    ColumnClassifier, ColumnClassifierConfig, CoordinateAxis, DetectorConfig, PiiKind,
};

fn classifier() -> ColumnClassifier {
    ColumnClassifier::with_defaults().expect("classifier")
}

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch")
}

#[test]
fn named_columns_with_valid_values() {
    let phones = ["13812345678", "13912345678", "15012345678"];
    let ids = [
        "11010519491231002X",
        "440524188001010014",
        "11010519491231002x",
    ];
    for (name, values, kind) in [
        ("手机号", &phones[..], PiiKind::Phone),
        ("mobile", &phones[..], PiiKind::Phone),
        ("身份证号", &ids[..], PiiKind::ResidentId),
        ("id_card", &ids[..], PiiKind::ResidentId),
        (
            "email",
            &["a@example.com", "b@example.org"][..],
            PiiKind::Email,
        ),
    ] {
        let found = classifier()
            .classify_column(name, values)
            .unwrap_or_else(|| panic!("{name} not classified"));
        assert_eq!(found.kind, kind, "{name}");
        assert!(found.name_matched, "{name}");
        assert_eq!(found.hits, values.len(), "{name}");
        assert!((found.confidence - 1.0).abs() < 1e-6, "{name}");
        assert!(found.explanation.contains(name), "{}", found.explanation);
    }
}

#[test]
fn values_alone_classify_an_unnamed_column() {
    let found = classifier()
        .classify_column(
            "col_7",
            &["4111111111111111", "5555555555554444", "378282246310005"],
        )
        .expect("classified");
    assert_eq!(found.kind, PiiKind::PaymentCard);
    assert!(!found.name_matched);
    assert!(found.confidence > 0.85 && found.confidence <= 0.9);
}

#[test]
fn low_hit_rate_without_name_is_not_reported() {
    let values = ["13812345678", "hello", "world", "n/a", "ok"];
    assert!(classifier().classify_column("remark", &values).is_none());
}

#[test]
fn name_alone_still_reports_masked_column() {
    let found = classifier()
        .classify_column("手机号", &["138****5678", "139****5678"])
        .expect("classified");
    assert_eq!(found.kind, PiiKind::Phone);
    assert_eq!(found.hits, 0);
    assert!((found.confidence - 0.5).abs() < 1e-6);
}

#[test]
fn plain_dates_are_birth_dates_only_by_name() {
    let dates = ["1990-01-31", "1985-07-04", "2001-12-25"];
    assert!(classifier().classify_column("event_day", &dates).is_none());
    let found = classifier()
        .classify_column("birth_date", &dates)
        .expect("classified");
    assert_eq!(found.kind, PiiKind::DateOfBirth);
    assert_eq!(found.hits, 3);
}

#[test]
fn coordinate_columns_pair_up() {
    let table = batch(vec![
        (
            "pickup_lat",
            Arc::new(Float64Array::from(vec![39.9042, 31.2304])),
        ),
        (
            "pickup_lon",
            Arc::new(Float64Array::from(vec![116.4074, 121.4737])),
        ),
        (
            "dropoff_lat",
            Arc::new(Float64Array::from(vec![39.91, 31.22])),
        ),
        (
            "dropoff_lng",
            Arc::new(Float64Array::from(vec![116.40, 121.47])),
        ),
        ("fare", Arc::new(Float64Array::from(vec![23.5, 41.0]))),
    ]);
    let result = classifier().classify_batch(&table);
    assert_eq!(result.columns.len(), 4);
    assert!(
        result
            .columns
            .iter()
            .all(|c| c.kind == PiiKind::GpsCoordinate)
    );
    let pairs: Vec<(&str, &str)> = result
        .coordinate_pairs
        .iter()
        .map(|p| (p.latitude.as_str(), p.longitude.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("pickup_lat", "pickup_lon"), ("dropoff_lat", "dropoff_lng")]
    );
}

#[test]
fn chinese_coordinate_names_pair_up() {
    let table = batch(vec![
        ("纬度", Arc::new(Float64Array::from(vec![39.9042]))),
        ("经度", Arc::new(Float64Array::from(vec![116.4074]))),
    ]);
    let result = classifier().classify_batch(&table);
    assert_eq!(result.coordinate_pairs.len(), 1);
    assert_eq!(result.columns[0].axis, Some(CoordinateAxis::Latitude));
}

#[test]
fn out_of_range_latitudes_are_not_coordinates() {
    let table = batch(vec![
        (
            "lat",
            Arc::new(Float64Array::from(vec![139.9, 131.2, 120.0])),
        ),
        (
            "lon",
            Arc::new(Float64Array::from(vec![116.4, 121.4, 100.0])),
        ),
    ]);
    let result = classifier().classify_batch(&table);
    assert!(result.coordinate_pairs.is_empty());
}

#[test]
fn annotate_writes_semantic_type_and_sensitivity() {
    let table = batch(vec![
        ("手机号", strings(&["13812345678"])),
        ("身份证号", strings(&["11010519491231002X"])),
        ("comment", strings(&["路灯不亮"])),
    ]);
    let result = classifier().classify_batch(&table);
    let schema = result.annotate(&table.schema());
    let phone = Semantic::from_field(schema.field(0));
    assert_eq!(phone.semantic_type.as_deref(), Some("phone"));
    assert_eq!(phone.sensitivity, Some(Sensitivity::Sensitive));
    let id = Semantic::from_field(schema.field(1));
    assert_eq!(id.sensitivity, Some(Sensitivity::Secret));
    assert_eq!(Semantic::from_field(schema.field(2)), Semantic::default());
}

#[test]
fn invalid_settings_are_rejected() {
    let zero = ColumnClassifierConfig {
        sample_size: 0,
        ..ColumnClassifierConfig::default()
    };
    let error = ColumnClassifier::new(DetectorConfig::default(), zero).expect_err("zero sample");
    assert!(error.to_string().contains("sample_size"), "{error}");
    let above_one = ColumnClassifierConfig {
        min_confidence: 1.5,
        ..ColumnClassifierConfig::default()
    };
    let error =
        ColumnClassifier::new(DetectorConfig::default(), above_one).expect_err("confidence");
    assert!(error.to_string().contains("1.5"), "{error}");
}

#[test]
fn column_types_that_do_not_cast_use_the_name() {
    let table = batch(vec![(
        "phone",
        Arc::new(arrow::array::NullArray::new(2)) as ArrayRef,
    )]);
    let result = classifier().classify_batch(&table);
    assert_eq!(result.columns.len(), 1);
    assert_eq!(result.columns[0].sampled, 0);
    let _ = DataType::Null;
}
