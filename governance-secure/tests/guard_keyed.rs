//! The guard with keyed masking operators: pseudonyms that join across tables, and the
//! type-tag fallback when the caller gave no key.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::AuditLog;
use governance_core::{
    AccessRequest, GovernedBatch, Guard, IssueKind, Provenance, RowIdAllocator, Severity,
    StageContext,
};
use governance_secure::fpe::FpeConfig;
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{
    MaskConfig, MaskOperator, Masker, MaskerKeys, PiiGuard, PiiGuardConfig, PiiKind, SecretKey,
};

fn notes(texts: &[&str]) -> GovernedBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("note", DataType::Utf8, true)]));
    let data = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(texts.to_vec()))])
        .expect("batch");
    let ids = RowIdAllocator::default().allocate(texts.len());
    GovernedBatch::try_new(data, ids, Provenance::new("notes")).expect("governed")
}

fn pseudonym_config() -> PiiGuardConfig {
    PiiGuardConfig {
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        mask: MaskConfig::all(MaskOperator::Partial).with(PiiKind::Phone, MaskOperator::Pseudonym),
        ..PiiGuardConfig::default()
    }
}

fn masker(key_byte: u8) -> Masker {
    let key = SecretKey::from_bytes(&[key_byte; 32]).expect("key");
    Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default()).expect("masker")
}

fn guard_notes(guard: &mut PiiGuard, texts: &[&str]) -> (Vec<String>, GovernedBatch) {
    let mut ctx = StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle());
    let request = AccessRequest::new("analyst", "service report");
    let guarded = guard
        .guard(notes(texts), &request, &mut ctx)
        .expect("guard");
    let values = guarded
        .column("note")
        .expect("note column")
        .as_string::<i32>()
        .iter()
        .map(|value| value.unwrap_or_default().to_string())
        .collect();
    (values, guarded)
}

/// Returns the pseudonym token in a masked note: the word that starts with `phone_`.
fn token(masked: &str) -> &str {
    let start = masked.find("phone_").expect("a phone pseudonym");
    let end = masked[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(masked.len(), |offset| start + offset);
    &masked[start..end]
}

#[test]
fn pseudonyms_join_across_tables() {
    let mut housing = PiiGuard::new(pseudonym_config())
        .expect("guard")
        .with_masker(masker(7));
    let mut transport = PiiGuard::new(pseudonym_config())
        .expect("guard")
        .with_masker(masker(7));
    let (first, _) = guard_notes(&mut housing, &["租户电话13812345678"]);
    let (second, _) = guard_notes(&mut transport, &["call +86 138 1234 5678 back"]);

    assert!(!first[0].contains("13812345678"), "{}", first[0]);
    assert!(!second[0].contains("5678"), "{}", second[0]);
    assert_eq!(token(&first[0]), token(&second[0]));
}

#[test]
fn pseudonyms_differ_across_keys() {
    let mut one = PiiGuard::new(pseudonym_config())
        .expect("guard")
        .with_masker(masker(7));
    let mut other = PiiGuard::new(pseudonym_config())
        .expect("guard")
        .with_masker(masker(8));
    let (first, _) = guard_notes(&mut one, &["电话13812345678"]);
    let (second, _) = guard_notes(&mut other, &["电话13812345678"]);
    assert_ne!(token(&first[0]), token(&second[0]));
}

#[test]
fn missing_key_falls_back_to_type_tag() {
    let mut guard = PiiGuard::new(pseudonym_config()).expect("guard");
    let (values, guarded) = guard_notes(&mut guard, &["电话13812345678"]);
    assert_eq!(values[0], "电话<PHONE>");

    let warnings: Vec<_> = guarded
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::Masked && issue.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("pseudonym"),
        "{}",
        warnings[0].message
    );
    assert!(!warnings[0].message.contains("13812345678"));
}

#[test]
fn suppressed_text_becomes_null() {
    let config = PiiGuardConfig {
        mask: MaskConfig::all(MaskOperator::Partial)
            .with(PiiKind::ResidentId, MaskOperator::Suppress),
        ..pseudonym_config()
    };
    let mut guard = PiiGuard::new(config).expect("guard");
    let mut ctx = StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle());
    let request = AccessRequest::new("analyst", "service report");
    let batch = notes(&["身份证11010519491231002X", "井盖缺失"]);
    let guarded = guard.guard(batch, &request, &mut ctx).expect("guard");
    let column = guarded
        .column("note")
        .expect("note")
        .as_string::<i32>()
        .clone();
    assert!(column.is_null(0));
    assert_eq!(column.value(1), "井盖缺失");
}
