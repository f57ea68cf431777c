//! Access decisions written in Rego: deny by default, deny over allow, row filters with
//! column masks, clearance, data documents, policy errors, and the guard's audit records.

use std::sync::Arc;

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AuditDecision, AuditLog, AuditRecord};
use governance_core::{
    AccessRequest, Error, GovernedBatch, Guard, Provenance, RowIdAllocator, Semantic, Sensitivity,
    StageContext,
};
use governance_secure::policy::{AccessPolicy, PolicyRule, RegoPolicy};
use governance_secure::{PiiGuard, PiiGuardConfig};

/// Desk staff see the tickets of their own district with the contact partly masked, but
/// never for a purpose named in the data document's blocked list. Interns see nothing.
const DESK_POLICY: &str = r#"
package governance.access

import rego.v1

default allow := false

allow if {
    input.subject.role == "desk"
    input.dataset == "tickets"
}

deny contains "interns may not read tickets" if input.subject.role == "intern"

deny contains sprintf("purpose %q is blocked", [input.purpose]) if {
    input.purpose in data.city.blocked_purposes
}

columns := ["district", "contact", "note"] if allow

column_masks := {"contact": "partial"}

row_filter := [{"column": "district", "op": "in", "values": [input.subject.department]}]

rules contains "desk-reads-own-district" if allow
"#;

fn tickets_schema() -> Schema {
    let secret = Semantic {
        sensitivity: Some(Sensitivity::Secret),
        ..Semantic::default()
    };
    Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        secret.annotate(Field::new("contact", DataType::Utf8, true)),
        Field::new("note", DataType::Utf8, true),
        Field::new("priority", DataType::Int64, true),
    ])
}

fn tickets() -> GovernedBatch {
    let data = RecordBatch::try_new(
        Arc::new(tickets_schema()),
        vec![
            Arc::new(StringArray::from(vec!["朝阳", "海淀", "朝阳"])),
            Arc::new(StringArray::from(vec![
                "13812345678",
                "13987654321",
                "13700001111",
            ])),
            Arc::new(StringArray::from(vec!["路灯不亮", "井盖缺失", "噪音"])),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        ],
    )
    .expect("tickets");
    GovernedBatch::try_new(
        data,
        RowIdAllocator::default().allocate(3),
        Provenance::new("tickets"),
    )
    .expect("governed")
}

fn policy() -> RegoPolicy {
    RegoPolicy::from_rego("desk.rego", DESK_POLICY)
        .expect("policy parses")
        .with_data_json(r#"{"city": {"blocked_purposes": ["marketing"]}}"#)
        .expect("data document")
}

fn desk(purpose: &str) -> AccessRequest {
    let mut request = AccessRequest::new("desk", purpose);
    request.department = Some("朝阳".into());
    request
}

fn guard() -> PiiGuard {
    PiiGuard::new(PiiGuardConfig::default())
        .expect("guard")
        .with_rego_policy(policy())
        .expect("config policy is empty")
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

#[test]
fn decision_lists_columns_masks_and_rules() {
    let decision = policy()
        .decide(&desk("daily queue"), "tickets", &tickets_schema(), 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district", "contact", "note"]);
    assert_eq!(decision.column_masks.len(), 1);
    assert_eq!(decision.row_filters.len(), 1);
    assert!(decision.mask_personal_data);
    assert_eq!(
        decision.rules,
        ["rego:governance.access", "desk-reads-own-district"]
    );
}

#[test]
fn unmatched_subject_is_denied() {
    let error = policy()
        .decide(
            &AccessRequest::new("analyst", "report"),
            "tickets",
            &tickets_schema(),
            0,
        )
        .expect_err("no rule allows analysts");
    assert!(matches!(error, Error::AccessDenied { .. }), "{error}");
    assert!(error.to_string().contains("deny by default"), "{error}");
}

#[test]
fn deny_reason_beats_allow() {
    let error = policy()
        .decide(&desk("marketing"), "tickets", &tickets_schema(), 0)
        .expect_err("blocked purpose");
    assert!(
        error
            .to_string()
            .contains("purpose \"marketing\" is blocked"),
        "{error}"
    );
}

#[test]
fn clearance_removes_secret_columns() {
    let mut request = desk("daily queue");
    request.clearance = Some(Sensitivity::Internal);
    let decision = policy()
        .decide(&request, "tickets", &tickets_schema(), 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district", "note"]);
    assert!(decision.column_masks.is_empty());
}

#[test]
fn allow_without_columns_is_denied() {
    let mut policy = RegoPolicy::from_rego(
        "open.rego",
        "package governance.access\nimport rego.v1\nallow := true\n",
    )
    .expect("parses");
    let error = policy
        .decide(&desk("x"), "tickets", &tickets_schema(), 0)
        .expect_err("no columns listed");
    assert!(
        error.to_string().contains("columns is undefined"),
        "{error}"
    );
}

#[test]
fn missing_column_is_config_error() {
    let mut policy = RegoPolicy::from_rego(
        "typo.rego",
        "package governance.access\nimport rego.v1\nallow := true\ncolumns := [\"distrcit\"]\n",
    )
    .expect("parses");
    let error = policy
        .decide(&desk("x"), "tickets", &tickets_schema(), 0)
        .expect_err("unknown column");
    let message = error.to_string();
    assert!(matches!(error, Error::Config { .. }), "{message}");
    assert!(message.contains("\"distrcit\""), "{message}");
    assert!(
        message.contains("district, contact, note, priority"),
        "{message}"
    );
}

#[test]
fn wrong_rule_type_is_config_error() {
    let mut policy = RegoPolicy::from_rego(
        "types.rego",
        "package governance.access\nimport rego.v1\nallow := \"yes\"\n",
    )
    .expect("parses");
    let error = policy
        .decide(&desk("x"), "tickets", &tickets_schema(), 0)
        .expect_err("allow is a string");
    assert!(matches!(error, Error::Config { .. }), "{error}");
    assert!(error.to_string().contains("allow"), "{error}");
}

#[test]
fn unparsable_module_names_file() {
    let error = RegoPolicy::from_rego("broken.rego", "package governance.access\nallow if {")
        .expect_err("syntax error");
    assert!(error.to_string().contains("broken.rego"), "{error}");
}

#[test]
fn other_package_without_rules_is_denied() {
    let mut policy = policy().with_package("governance.nothing_here");
    let error = policy
        .decide(&desk("daily queue"), "tickets", &tickets_schema(), 0)
        .expect_err("the package defines nothing");
    assert!(matches!(error, Error::AccessDenied { .. }), "{error}");
}

#[test]
fn guard_applies_rego_decision_and_audits_it() {
    let mut ctx = context();
    let output = guard()
        .guard(tickets(), &desk("daily queue"), &mut ctx)
        .expect("allowed");
    assert_eq!(output.column_names(), ["district", "contact", "note"]);
    assert_eq!(strings(&output, "district"), ["朝阳", "朝阳"]);
    assert_eq!(strings(&output, "contact"), ["138****5678", "137****1111"]);

    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("rego:governance.access"),
        "{}",
        quarantined[0].reason
    );
    let access = records(&ctx)[0].access.clone().expect("access details");
    assert_eq!(access.decision, Some(AuditDecision::Allow));
    assert_eq!(
        access.rules,
        ["rego:governance.access", "desk-reads-own-district"]
    );
}

#[test]
fn guard_denial_is_audited() {
    let mut request = AccessRequest::new("intern", "daily queue");
    request.department = Some("朝阳".into());
    let mut ctx = context();
    let error = guard()
        .guard(tickets(), &request, &mut ctx)
        .expect_err("interns are denied");
    assert!(
        error.to_string().contains("interns may not read tickets"),
        "{error}"
    );
    let access = records(&ctx)[0].access.clone().expect("access details");
    assert_eq!(access.decision, Some(AuditDecision::Deny));
}

#[test]
fn guard_rejects_two_policies() {
    let config = PiiGuardConfig {
        policy: AccessPolicy::default().with_rule(PolicyRule::allow("all", ["*"])),
        ..PiiGuardConfig::default()
    };
    let error = PiiGuard::new(config)
        .expect("guard")
        .with_rego_policy(policy())
        .expect_err("two policies");
    assert!(error.to_string().contains("empty it"), "{error}");
}
