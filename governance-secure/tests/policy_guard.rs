//! The guard applying attribute-based rules: deny by default, deny over allow, row filters
//! with column masks, time windows, and the audit records of each decision.

use std::sync::Arc;

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AuditAction, AuditDecision, AuditLog, AuditRecord};
use governance_core::semantic::MASKING_KEY;
use governance_core::{
    AccessRequest, Error, GovernedBatch, Guard, Provenance, RowIdAllocator, Semantic, Severity,
    StageContext,
};
use governance_secure::fpe::FpeConfig;
use governance_secure::policy::{
    AccessPolicy, CompareOp, Day, Literal, PolicyRule, RowPredicate, TimeWindow,
};
use governance_secure::{MaskOperator, Masker, MaskerKeys, PiiGuard, PiiGuardConfig, SecretKey};

/// 2024-03-04 was a Monday; 10:00 UTC that day.
const MONDAY_10_UTC: i64 = 1_709_546_400_000;
const HOUR_MS: i64 = 3_600_000;

fn tickets() -> GovernedBatch {
    let phone = Semantic {
        semantic_type: Some("phone".into()),
        ..Semantic::default()
    }
    .annotate(Field::new("contact", DataType::Utf8, true));
    let schema = Arc::new(Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        phone,
        Field::new("note", DataType::Utf8, true),
        Field::new("priority", DataType::Int64, true),
    ]));
    let data = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["朝阳", "海淀", "朝阳", "东城"])),
            Arc::new(StringArray::from(vec![
                "13812345678",
                "13987654321",
                "13700001111",
                "13600002222",
            ])),
            Arc::new(StringArray::from(vec![
                "路灯不亮",
                "井盖缺失",
                "噪音",
                "请回电13812345678",
            ])),
            Arc::new(Int64Array::from(vec![1, 2, 3, 1])),
        ],
    )
    .expect("tickets");
    GovernedBatch::try_new(
        data,
        RowIdAllocator::default().allocate(4),
        Provenance::new("tickets"),
    )
    .expect("governed")
}

fn guard(policy: AccessPolicy) -> PiiGuard {
    PiiGuard::new(PiiGuardConfig {
        policy,
        ..PiiGuardConfig::default()
    })
    .expect("guard")
}

fn context() -> StageContext {
    StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle())
}

fn records(ctx: &StageContext) -> Vec<AuditRecord> {
    ctx.audit_handle()
        .lock()
        .expect("audit lock")
        .records()
        .to_vec()
}

fn strings(batch: &GovernedBatch, column: &str) -> Vec<String> {
    batch
        .column(column)
        .expect("column")
        .as_string::<i32>()
        .iter()
        .map(|value| value.unwrap_or("<null>").to_string())
        .collect()
}

fn request(role: &str) -> AccessRequest {
    AccessRequest::new(role, "district report").at(MONDAY_10_UTC)
}

#[test]
fn subject_without_matching_rule_sees_nothing() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("planners-read", ["*"]).for_roles(["planner"]));
    let mut ctx = context();
    let error = guard(policy)
        .guard(tickets(), &request("analyst"), &mut ctx)
        .expect_err("no rule applies");
    assert!(matches!(error, Error::AccessDenied { .. }), "{error}");
    let records = records(&ctx);
    assert_eq!(records.len(), 1);
    let access = records[0].access.as_ref().expect("access details");
    assert_eq!(access.decision, Some(AuditDecision::Deny));
    assert!(access.columns.is_empty());
    assert_eq!(access.rows, 4);
    assert_eq!(access.purpose, "district report");
}

#[test]
fn deny_beats_allow_and_names_rule() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("everyone-reads", ["*"]))
        .with_rule(PolicyRule::deny("no-interns").for_roles(["intern"]));
    let mut ctx = context();
    let error = guard(policy)
        .guard(tickets(), &request("intern"), &mut ctx)
        .expect_err("denied");
    assert!(error.to_string().contains("no-interns"), "{error}");
    let access = records(&ctx)[0].access.clone().expect("access details");
    assert_eq!(access.rules, ["no-interns"]);
}

#[test]
fn row_filter_and_column_mask_apply_together() {
    let rule = PolicyRule::allow("chaoyang-desk", ["district", "contact", "note"])
        .for_roles(["desk"])
        .with_mask("contact", MaskOperator::Partial)
        .with_row_filter(RowPredicate::is_in("district", ["朝阳"]));
    let mut urgent_only = PolicyRule::deny("hide-low-priority");
    urgent_only.row_filter = vec![RowPredicate::compare(
        "priority",
        CompareOp::Ge,
        Literal::Int(3),
    )];
    let policy = AccessPolicy::default()
        .with_rule(rule)
        .with_rule(urgent_only);
    let mut ctx = context();
    let output = guard(policy)
        .guard(tickets(), &request("desk"), &mut ctx)
        .expect("allowed");

    assert_eq!(output.column_names(), ["district", "contact", "note"]);
    assert_eq!(strings(&output, "district"), ["朝阳"]);
    assert_eq!(strings(&output, "contact"), ["138****5678"]);
    assert_eq!(output.row_ids().values().to_vec(), [0]);

    let quarantined = ctx.take_quarantined();
    let reasons: Vec<(Option<u64>, &str)> = quarantined
        .iter()
        .map(|row| (row.row_id, row.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].1.contains("chaoyang-desk"), "{reasons:?}");
    assert!(reasons[1].1.contains("hide-low-priority"), "{reasons:?}");
    assert!(quarantined.iter().all(|row| row.raw.is_empty()));

    let records = records(&ctx);
    let decision = &records[0];
    assert!(
        decision.detail.contains("withheld_rows=3"),
        "{}",
        decision.detail
    );
    let access = decision.access.as_ref().expect("access details");
    assert_eq!(access.rules, ["chaoyang-desk", "hide-low-priority"]);
    let share = records
        .iter()
        .find(|record| record.action == AuditAction::Share)
        .expect("share record");
    let shared = share.access.as_ref().expect("access details");
    assert_eq!(shared.rows, 1);
    assert_eq!(shared.columns, ["district", "contact", "note"]);
}

#[test]
fn time_window_is_respected() {
    let office = TimeWindow {
        days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
        hours: Some([9, 18]),
        utc_offset_minutes: 0,
    };
    let policy =
        AccessPolicy::default().with_rule(PolicyRule::allow("office", ["*"]).during(office));
    let mut guard = guard(policy);
    let inside = request("analyst");
    assert!(guard.guard(tickets(), &inside, &mut context()).is_ok());
    let evening = AccessRequest::new("analyst", "district report").at(MONDAY_10_UTC + 10 * HOUR_MS);
    assert!(guard.guard(tickets(), &evening, &mut context()).is_err());
    let saturday =
        AccessRequest::new("analyst", "district report").at(MONDAY_10_UTC + 5 * 24 * HOUR_MS);
    assert!(guard.guard(tickets(), &saturday, &mut context()).is_err());
}

#[test]
fn rule_with_missing_column_is_clear_error() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("r1", ["district"]).with_mask("phone", MaskOperator::Redact));
    let error = guard(policy)
        .guard(tickets(), &request("analyst"), &mut context())
        .expect_err("missing column");
    let message = error.to_string();
    assert!(
        message.contains("\"phone\" is not in data set \"tickets\""),
        "{message}"
    );
    assert!(
        message.contains("district, contact, note, priority"),
        "{message}"
    );
}

#[test]
fn redact_mask_nulls_integer_column() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("r1", ["*"]).with_mask("priority", MaskOperator::Redact));
    let output = guard(policy)
        .guard(tickets(), &request("analyst"), &mut context())
        .expect("allowed");
    let priority = output.column("priority").expect("priority");
    assert_eq!(priority.null_count(), 4);
    assert_eq!(strings(&output, "note")[3], "请回电138****5678");
}

fn keyed_guard(policy: AccessPolicy, key_byte: u8) -> PiiGuard {
    let key = SecretKey::from_bytes(&[key_byte; 32]).expect("key");
    let masker = Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default()).expect("masker");
    guard(policy).with_masker(masker)
}

fn masked_contacts(operator: MaskOperator, key_byte: Option<u8>) -> GovernedBatch {
    let rule = PolicyRule::allow("desk", ["district", "contact"])
        .for_roles(["desk"])
        .with_mask("contact", operator);
    let policy = AccessPolicy::default().with_rule(rule);
    let mut guard = match key_byte {
        Some(byte) => keyed_guard(policy, byte),
        None => guard(policy),
    };
    guard
        .guard(tickets(), &request("desk"), &mut context())
        .expect("allowed")
}

#[test]
fn pseudonym_column_mask_joins_across_tables() {
    let first = strings(
        &masked_contacts(MaskOperator::Pseudonym, Some(3)),
        "contact",
    );
    let second = strings(
        &masked_contacts(MaskOperator::Pseudonym, Some(3)),
        "contact",
    );
    let other_key = strings(
        &masked_contacts(MaskOperator::Pseudonym, Some(4)),
        "contact",
    );
    assert_eq!(first, second, "one key gives equal tokens in both tables");
    assert_ne!(first, other_key);
    for token in &first {
        assert!(token.starts_with("phone_"), "{token}");
    }
    let distinct: std::collections::BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), 4);

    let output = masked_contacts(MaskOperator::Pseudonym, Some(3));
    let schema = output.data().schema();
    let field = schema.field_with_name("contact").expect("contact");
    assert_eq!(
        field.metadata().get(MASKING_KEY).map(String::as_str),
        Some("pseudonym")
    );
}

#[test]
fn encrypt_column_mask_without_key_nulls_cells() {
    let output = masked_contacts(MaskOperator::Encrypt, None);
    assert_eq!(strings(&output, "contact"), ["<null>"; 4]);
    let warnings: Vec<_> = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert!(
        warnings[0].message.contains("encrypt failed") && warnings[0].message.contains("key"),
        "{}",
        warnings[0].message
    );
}

#[test]
fn classifier_supplies_kind_for_column_mask() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "caller",
        DataType::Utf8,
        true,
    )]));
    let callers = StringArray::from(vec!["13812345678", "13987654321", "13700001111"]);
    let data = RecordBatch::try_new(schema, vec![Arc::new(callers)]).expect("batch");
    let input = GovernedBatch::try_new(
        data,
        RowIdAllocator::default().allocate(3),
        Provenance::new("calls"),
    )
    .expect("governed");
    let rule = PolicyRule::allow("desk", ["caller"])
        .for_roles(["desk"])
        .with_mask("caller", MaskOperator::FormatPreserving);
    let output = keyed_guard(AccessPolicy::default().with_rule(rule), 7)
        .guard(input, &request("desk"), &mut context())
        .expect("allowed");
    let tokens = strings(&output, "caller");
    assert_eq!(tokens.len(), 3);
    for (token, raw) in tokens
        .iter()
        .zip(["13812345678", "13987654321", "13700001111"])
    {
        assert_eq!(token.len(), raw.len(), "{token}");
        assert!(token.chars().all(|c| c.is_ascii_digit()), "{token}");
        assert_ne!(token, raw);
    }
}
