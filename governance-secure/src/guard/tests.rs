//! Unit tests of the guard stage.

use super::*;
use crate::policy::RolePolicy;
use governance_core::audit::AuditLog;
use governance_core::{Provenance, RowIdAllocator, Semantic};

fn batch(notes: Vec<Option<&str>>, data_type: DataType) -> GovernedBatch {
    let array: ArrayRef = match data_type {
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(notes)),
        DataType::Utf8View => Arc::new(StringViewArray::from(notes)),
        _ => Arc::new(StringArray::from(notes)),
    };
    let rows = array.len();
    let schema = Arc::new(Schema::new(vec![Field::new("note", data_type, true)]));
    let data = RecordBatch::try_new(schema, vec![array]).expect("batch");
    let ids = RowIdAllocator::default().allocate(rows);
    GovernedBatch::try_new(data, ids, Provenance::new("tickets")).expect("governed")
}

fn guard() -> PiiGuard {
    let config = PiiGuardConfig {
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        ..PiiGuardConfig::default()
    };
    PiiGuard::new(config).expect("guard")
}

fn request() -> AccessRequest {
    AccessRequest::new("analyst", "service quality report")
}

fn context() -> StageContext {
    StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle())
}

#[test]
fn every_string_type_is_masked_in_kind() {
    for data_type in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
        let input = batch(vec![Some("电话13812345678"), None], data_type.clone());
        let output = guard()
            .guard(input, &request(), &mut context())
            .expect("guarded");
        let column = output.column("note").expect("note");
        assert_eq!(column.data_type(), &data_type);
        let values = string_values(column).expect("strings");
        assert_eq!(values, [Some("电话138****5678"), None], "{data_type}");
    }
}

#[test]
fn large_batch_is_scanned_in_parallel_in_order() {
    let texts: Vec<String> = (0..PARALLEL_MIN_ROWS + 10)
        .map(|row| format!("row {row} 手机1381234{:04}", row % 10_000))
        .collect();
    let input = batch(
        texts.iter().map(|text| Some(text.as_str())).collect(),
        DataType::Utf8,
    );
    let output = guard()
        .guard(input, &request(), &mut context())
        .expect("guarded");
    let values = string_values(output.column("note").expect("note")).expect("strings");
    for (row, value) in values.iter().enumerate() {
        let expected = format!("row {row} 手机138****{:04}", row % 10_000);
        assert_eq!(value.expect("not null"), expected);
    }
}

#[test]
fn non_text_listed_column_is_config_error() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::Int32,
        true,
    )]));
    let data = RecordBatch::try_new(
        schema,
        vec![Arc::new(arrow::array::Int32Array::from(vec![1]))],
    )
    .expect("batch");
    let input = GovernedBatch::try_new(
        data,
        RowIdAllocator::default().allocate(1),
        Provenance::new("x"),
    )
    .expect("governed");
    let mut guard = PiiGuard::new(PiiGuardConfig {
        text_columns: Some(vec!["count".into()]),
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        ..PiiGuardConfig::default()
    })
    .expect("guard");
    let error = guard
        .guard(input, &request(), &mut context())
        .expect_err("int column");
    assert!(error.to_string().contains("invalid config"), "{error}");
}

#[test]
fn existing_sensitivity_is_not_lowered() {
    let field = Semantic {
        sensitivity: Some(Sensitivity::Secret),
        ..Semantic::default()
    }
    .annotate(Field::new("note", DataType::Utf8, true));
    let annotated = Semantic::from_field(&annotate_field(
        &field,
        PII_SEMANTIC_TYPE,
        Sensitivity::Sensitive,
        None,
    ));
    assert_eq!(annotated.sensitivity, Some(Sensitivity::Secret));
    assert_eq!(annotated.semantic_type.as_deref(), Some(PII_SEMANTIC_TYPE));
}

#[test]
fn params_round_trip_to_config() {
    let guard = guard();
    let config: PiiGuardConfig =
        serde_json::from_value(guard.params()).expect("params are a config");
    assert_eq!(&config, guard.config());
}
