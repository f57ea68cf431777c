//! Column-level classification in the guard: annotation, audit, whole-value masking of
//! classified columns through the keyed masker, and coordinate pairs moved to grid cells.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use governance_core::audit::{AuditAction, AuditHandle, AuditLog, AuditRecord};
use governance_core::semantic::MASKING_KEY;
use governance_core::{
    AccessRequest, GovernedBatch, Guard, IssueKind, Provenance, RowIdAllocator, Semantic,
    Sensitivity, Severity, StageContext,
};
use governance_secure::fpe::FpeConfig;
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{
    MaskConfig, MaskOperator, Masker, MaskerKeys, PiiGuard, PiiGuardConfig, PiiKind, SecretKey,
};

const PHONES: [&str; 3] = ["13812345678", "13987654321", "13812345678"];
const EMAILS: [&str; 3] = [
    "wang.fang@example.com",
    "li.na@example.org",
    "zhao@example.net",
];
const LATITUDES: [f64; 3] = [39.904_211, 31.230_416, 22.543_099];
const LONGITUDES: [f64; 3] = [116.407_395, 121.473_701, 114.057_868];

fn residents(ids: &RowIdAllocator) -> GovernedBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("手机号", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, true),
        Field::new("contact_phone", DataType::Int64, true),
        Field::new("district", DataType::Utf8, true),
        Field::new("lat", DataType::Float64, true),
        Field::new("lon", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(PHONES.to_vec())),
        Arc::new(StringArray::from(EMAILS.to_vec())),
        Arc::new(Int64Array::from(vec![
            13_812_345_678,
            13_700_000_001,
            13_600_000_002,
        ])),
        Arc::new(StringArray::from(vec!["朝阳", "黄浦", "福田"])),
        Arc::new(Float64Array::from(LATITUDES.to_vec())),
        Arc::new(Float64Array::from(LONGITUDES.to_vec())),
    ];
    let data = RecordBatch::try_new(schema, columns).expect("batch");
    GovernedBatch::try_new(data, ids.allocate(3), Provenance::new("residents")).expect("governed")
}

fn config() -> PiiGuardConfig {
    let mut config = PiiGuardConfig {
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        mask: MaskConfig::all(MaskOperator::Partial).with(PiiKind::Phone, MaskOperator::Pseudonym),
        ..PiiGuardConfig::default()
    };
    config.classification.coordinate_cell_m = Some(1000.0);
    config
}

fn keyed_guard(config: PiiGuardConfig) -> PiiGuard {
    let key = SecretKey::from_bytes(&[5u8; 32]).expect("key");
    let masker = Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default()).expect("masker");
    PiiGuard::new(config).expect("guard").with_masker(masker)
}

fn run(guard: &mut PiiGuard, batch: GovernedBatch, audit: &AuditHandle) -> GovernedBatch {
    let mut ctx = StageContext::new("pii_guard", 1, audit.clone());
    let request = AccessRequest::new("analyst", "service planning");
    guard.guard(batch, &request, &mut ctx).expect("guarded")
}

fn records(audit: &AuditHandle) -> Vec<AuditRecord> {
    audit.lock().expect("audit lock").records().to_vec()
}

fn strings(batch: &GovernedBatch, column: &str) -> Vec<Option<String>> {
    batch
        .column(column)
        .expect("column")
        .as_string::<i32>()
        .iter()
        .map(|value| value.map(str::to_string))
        .collect()
}

fn field_semantic(batch: &GovernedBatch, column: &str) -> (Semantic, Option<String>) {
    let schema = batch.data().schema();
    let field = schema.field_with_name(column).expect("field");
    (
        Semantic::from_field(field),
        field.metadata().get(MASKING_KEY).cloned(),
    )
}

#[test]
fn classified_columns_masked_whole() {
    let audit = AuditLog::in_memory().into_handle();
    let ids = RowIdAllocator::default();
    let mut guard = keyed_guard(config());
    let output = run(&mut guard, residents(&ids), &audit);

    let phones = strings(&output, "手机号");
    for phone in phones.iter().flatten() {
        assert!(phone.starts_with("phone_"), "{phone}");
    }
    assert_eq!(phones[0], phones[2], "equal phones get equal pseudonyms");
    assert_ne!(phones[0], phones[1]);
    let emails = strings(&output, "email");
    assert_eq!(emails[0].as_deref(), Some("w***@example.com"));

    let contact = output.column("contact_phone").expect("contact_phone");
    assert_eq!(
        contact.data_type(),
        &DataType::Utf8,
        "masked numbers become text"
    );
    assert!(
        contact
            .as_string::<i32>()
            .iter()
            .flatten()
            .all(|value| value.starts_with("phone_")),
        "{contact:?}"
    );
    assert_eq!(strings(&output, "district")[0].as_deref(), Some("朝阳"));

    let (semantic, masking) = field_semantic(&output, "手机号");
    assert_eq!(semantic.semantic_type.as_deref(), Some("phone"));
    assert_eq!(semantic.sensitivity, Some(Sensitivity::Sensitive));
    assert_eq!(masking.as_deref(), Some("pseudonym"));
    let (semantic, masking) = field_semantic(&output, "district");
    assert_eq!(semantic.semantic_type, None);
    assert_eq!(masking, None);
}

#[test]
fn coordinate_pair_moves_to_cell_centre() {
    let audit = AuditLog::in_memory().into_handle();
    let mut guard = keyed_guard(config());
    let output = run(&mut guard, residents(&RowIdAllocator::default()), &audit);

    for (column, raw) in [("lat", LATITUDES), ("lon", LONGITUDES)] {
        let values = output.column(column).expect(column);
        let values = values.as_primitive::<Float64Type>();
        for (row, value) in values.iter().enumerate() {
            let value = value.expect("a position");
            assert_ne!(value, raw[row], "{column} row {row} kept its raw value");
            // 1 km cells move a point by at most about 0.71 km, under 0.01 degrees here.
            assert!(
                (value - raw[row]).abs() < 0.01,
                "{column} row {row}: {value}"
            );
        }
        let (semantic, masking) = field_semantic(&output, column);
        let expected = if column == "lat" {
            "latitude"
        } else {
            "longitude"
        };
        assert_eq!(semantic.semantic_type.as_deref(), Some(expected));
        assert_eq!(masking.as_deref(), Some("grid_cell"));
    }
}

#[test]
fn classification_audited_once_without_values() {
    let audit = AuditLog::in_memory().into_handle();
    let ids = RowIdAllocator::default();
    let mut guard = keyed_guard(config());
    let first = run(&mut guard, residents(&ids), &audit);
    let second = run(&mut guard, residents(&ids), &audit);

    let classified: Vec<AuditRecord> = records(&audit)
        .into_iter()
        .filter(|record| {
            record.action == AuditAction::Decision && record.detail.starts_with("classified")
        })
        .collect();
    let columns: Vec<&str> = classified
        .iter()
        .filter_map(|record| record.detail.split('"').nth(1))
        .collect();
    assert_eq!(
        columns,
        ["手机号", "email", "contact_phone", "lat", "lon"],
        "each column is classified once, on the first batch"
    );
    assert!(
        classified[0].detail.contains("kind=phone"),
        "{}",
        classified[0].detail
    );
    assert!(
        classified[0].detail.contains("confidence="),
        "{}",
        classified[0].detail
    );

    let issues: Vec<_> = first
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.message.starts_with("column classified"))
        .collect();
    assert_eq!(issues.len(), 5);
    assert!(
        issues
            .iter()
            .all(|issue| issue.kind == IssueKind::PersonalData)
    );
    assert!(
        issues
            .iter()
            .all(|issue| issue.row_id == first.row_ids().value(0))
    );
    assert!(
        second
            .issues
            .issues()
            .iter()
            .all(|issue| !issue.message.starts_with("column classified")),
        "the second batch repeats no classification"
    );
    assert_eq!(strings(&second, "手机号"), strings(&first, "手机号"));

    let change = records(&audit)
        .into_iter()
        .find(|record| record.action == AuditAction::Change)
        .expect("a change record");
    assert!(
        change.detail.contains("手机号:pseudonym=3"),
        "{}",
        change.detail
    );
    assert!(
        change.detail.contains("lat+lon:grid_cell_1000m=3"),
        "{}",
        change.detail
    );

    let mut written: Vec<String> = records(&audit)
        .iter()
        .map(|record| serde_json::to_string(record).expect("json"))
        .collect();
    for batch in [&first, &second] {
        written.extend(
            batch
                .issues
                .issues()
                .iter()
                .map(|issue| format!("{issue:?}")),
        );
    }
    let raw_numbers: Vec<String> = LATITUDES
        .iter()
        .chain(&LONGITUDES)
        .map(|degrees| degrees.to_string())
        .collect();
    for text in &written {
        for raw in PHONES.iter().chain(&EMAILS) {
            assert!(!text.contains(raw), "{raw} leaked into {text}");
        }
        for raw in &raw_numbers {
            assert!(!text.contains(raw.as_str()), "{raw} leaked into {text}");
        }
    }
}

#[test]
fn failed_operator_nulls_cell_with_warning() {
    let mut config = config();
    config.mask =
        MaskConfig::all(MaskOperator::Partial).with(PiiKind::Phone, MaskOperator::FormatPreserving);
    let mut guard = keyed_guard(config);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "mobile",
        DataType::Utf8,
        true,
    )]));
    let values = StringArray::from(vec![Some("13812345678"), Some("12"), None]);
    let data = RecordBatch::try_new(schema, vec![Arc::new(values)]).expect("batch");
    let ids = RowIdAllocator::default().allocate(3);
    let input = GovernedBatch::try_new(data, ids, Provenance::new("m")).expect("governed");
    let output = run(&mut guard, input, &AuditLog::in_memory().into_handle());

    let masked = strings(&output, "mobile");
    let token = masked[0].as_deref().expect("a token");
    assert_eq!(token.len(), 11);
    assert_ne!(token, "13812345678");
    assert_eq!(
        masked[1], None,
        "a value the operator cannot mask becomes null"
    );
    assert_eq!(masked[2], None);
    let warnings: Vec<_> = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.severity == Severity::Warning && issue.kind == IssueKind::Masked)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].row_id, output.row_ids().value(1));
    assert!(
        warnings[0]
            .message
            .contains("set to null because format_preserving failed"),
        "{}",
        warnings[0].message
    );
}

#[test]
fn classification_can_be_switched_off() {
    let mut config: PiiGuardConfig = serde_json::from_value(serde_json::json!({
        "policy": {"roles": {"analyst": {"visible_columns": ["*"], "mask_personal_data": true}}},
        "classification": {"enabled": false}
    }))
    .expect("config");
    config.mask = MaskConfig::all(MaskOperator::Partial);
    let mut guard = PiiGuard::new(config).expect("guard");
    let output = run(
        &mut guard,
        residents(&RowIdAllocator::default()),
        &AuditLog::in_memory().into_handle(),
    );
    // Free-text scanning still masks the phone numbers, as before classification existed.
    assert_eq!(
        strings(&output, "手机号")[0].as_deref(),
        Some("138****5678")
    );
    let (semantic, _) = field_semantic(&output, "手机号");
    assert_eq!(
        semantic.semantic_type.as_deref(),
        Some("free_text_with_pii")
    );
    let values = output.column("lat").expect("lat");
    assert_eq!(values.as_primitive::<Float64Type>().value(0), LATITUDES[0]);
}

#[test]
fn column_settings_are_checked() {
    let unknown = serde_json::from_value::<PiiGuardConfig>(serde_json::json!({
        "classification": {"enabeld": true}
    }));
    let error = unknown.expect_err("unknown field");
    assert!(error.to_string().contains("enabeld"), "{error}");

    let mut config = config();
    config.classification.coordinate_cell_m = Some(0.0);
    let error = PiiGuard::new(config).expect_err("zero cell size");
    assert!(error.to_string().contains("coordinate_cell_m"), "{error}");
}
