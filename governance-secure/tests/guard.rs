//! The guard stage: access decisions, projection, masking, issues and audit records.

use std::sync::Arc;

use arrow::array::{AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AuditAction, AuditLog, AuditRecord};
use governance_core::{
    AccessRequest, Applicator, Chain, Collector, Error, GovernedBatch, Guard, Issue, IssueKind,
    Provenance, Result, RowIdAllocator, Semantic, Sensitivity, Severity, Stage, StageContext,
};
use governance_secure::guard::PII_SEMANTIC_TYPE;
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{MaskConfig, MaskOperator, PiiGuard, PiiGuardConfig};

/// Raw personal values in the test tickets. None may appear in issues or audit records.
const RAW_VALUES: [&str; 5] = [
    "13812345678",
    "zhang.wei@example.com",
    "11010519491231002X",
    "010-12345678",
    "li@example.org",
];

fn tickets(ids: &RowIdAllocator) -> GovernedBatch {
    let district = Semantic {
        standard_name: Some("addressDistrict".into()),
        ..Semantic::default()
    }
    .annotate(Field::new("district", DataType::Utf8, true));
    let schema = Arc::new(Schema::new(vec![
        district,
        Field::new("note", DataType::Utf8, true),
        Field::new("reporter", DataType::Utf8, true),
        Field::new("hours", DataType::Float64, true),
    ]));
    let notes = StringArray::from(vec![
        Some("路灯不亮，电话13812345678谢谢"),
        Some("邮箱zhang.wei@example.com。身份证号11010519491231002X"),
        None,
        Some("井盖缺失"),
    ]);
    let reporters = StringArray::from(vec![
        Some("张伟 li@example.org"),
        Some("座机010-12345678"),
        Some("匿名"),
        None,
    ]);
    let data = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["朝阳", "海淀", "东城", "西城"])),
            Arc::new(notes),
            Arc::new(reporters),
            Arc::new(Float64Array::from(vec![1.5, 2.0, 0.5, 3.0])),
        ],
    )
    .expect("tickets batch");
    GovernedBatch::try_new(data, ids.allocate(4), Provenance::new("tickets.csv")).expect("governed")
}

fn policy() -> AccessPolicy {
    AccessPolicy::default()
        .with_role(
            "analyst",
            RolePolicy::columns(["district", "note", "hours", "satisfaction"]),
        )
        .with_role("auditor", RolePolicy::all_columns().with_masking(false))
}

fn guard() -> PiiGuard {
    PiiGuard::new(PiiGuardConfig {
        policy: policy(),
        ..PiiGuardConfig::default()
    })
    .expect("guard")
}

fn request(role: &str) -> AccessRequest {
    AccessRequest::new(role, "monthly service report")
}

fn context() -> StageContext {
    StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle())
}

fn audit_records(ctx: &StageContext) -> Vec<AuditRecord> {
    ctx.audit_handle()
        .lock()
        .expect("audit lock")
        .records()
        .to_vec()
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

fn assert_no_raw_values(text: &str) {
    for raw in RAW_VALUES {
        assert!(!text.contains(raw), "raw value {raw:?} in {text:?}");
    }
}

#[test]
fn unknown_role_is_denied_and_audited() {
    let mut ctx = context();
    let error = guard()
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("guest"),
            &mut ctx,
        )
        .expect_err("deny by default");
    match &error {
        Error::AccessDenied { role, reason } => {
            assert_eq!(role, "guest");
            assert!(
                reason.contains("known roles are: analyst, auditor"),
                "{reason}"
            );
        }
        other => panic!("expected access denied, got {other}"),
    }

    let records = audit_records(&ctx);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, AuditAction::Decision);
    assert_eq!(records[0].actor, "pii_guard");
    assert_eq!(records[0].subject, "tickets.csv");
    assert!(
        records[0].detail.starts_with("deny role=\"guest\""),
        "{}",
        records[0].detail
    );
    assert!(records[0].detail.contains("monthly service report"));
}

#[test]
fn role_without_existing_columns_is_denied() {
    let mut guard = PiiGuard::new(PiiGuardConfig {
        policy: AccessPolicy::default().with_role("planner", RolePolicy::columns(["budget"])),
        ..PiiGuardConfig::default()
    })
    .expect("guard");
    let mut ctx = context();
    let error = guard
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("planner"),
            &mut ctx,
        )
        .expect_err("no visible column");
    assert!(
        error
            .to_string()
            .contains("none of the role's visible columns"),
        "{error}"
    );
    assert_eq!(audit_records(&ctx)[0].action, AuditAction::Decision);
}

#[test]
fn allowed_role_sees_only_visible_columns() {
    let mut ctx = context();
    let input = tickets(&RowIdAllocator::starting_at(100));
    let output = guard()
        .guard(input, &request("analyst"), &mut ctx)
        .expect("allowed");

    assert_eq!(output.column_names(), ["district", "note", "hours"]);
    assert_eq!(output.num_rows(), 4);
    assert_eq!(output.row_ids().values().to_vec(), vec![100, 101, 102, 103]);
    let district = output.data().schema().field(0).clone();
    assert_eq!(
        Semantic::from_field(&district).standard_name.as_deref(),
        Some("addressDistrict")
    );

    let decision = &audit_records(&ctx)[0];
    assert_eq!(decision.action, AuditAction::Decision);
    assert!(
        decision.detail.starts_with("allow role=\"analyst\""),
        "{}",
        decision.detail
    );
    assert!(
        decision
            .detail
            .contains("visible_columns=[district, note, hours]"),
        "{}",
        decision.detail
    );
}

#[test]
fn personal_data_is_masked_with_issues() {
    let mut ctx = context();
    let output = guard()
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("analyst"),
            &mut ctx,
        )
        .expect("allowed");

    assert_eq!(
        strings(&output, "note"),
        [
            Some("路灯不亮，电话138****5678谢谢".to_string()),
            Some("邮箱z***@example.com。身份证号110105********002X".to_string()),
            None,
            Some("井盖缺失".to_string()),
        ]
    );

    let issues = output.issues.issues();
    let personal: Vec<&Issue> = issues
        .iter()
        .filter(|issue| issue.kind == IssueKind::PersonalData)
        .collect();
    let masked: Vec<&Issue> = issues
        .iter()
        .filter(|issue| issue.kind == IssueKind::Masked)
        .collect();
    assert_eq!(personal.len(), 3);
    assert_eq!(masked.len(), 2);
    assert!(
        personal
            .iter()
            .all(|issue| issue.severity == Severity::Warning)
    );
    assert_eq!(personal[0].row_id, 0);
    assert_eq!(personal[0].column.as_deref(), Some("note"));
    assert_eq!(
        personal[0].message,
        "phone (cn_mobile) at characters 7..18, validated_with_context"
    );
    assert_eq!(
        personal[2].message,
        "resident_id (cn_resident_id) at characters 28..46, validated_with_context"
    );
    assert_eq!(masked[1].row_id, 1);
    assert_eq!(
        masked[1].message,
        "masked 2 value(s): email with partial, resident_id with partial"
    );
}

#[test]
fn no_issue_or_audit_record_holds_raw_values() {
    let mut ctx = context();
    let mut input = tickets(&RowIdAllocator::default());
    // An earlier stage wrote raw values into its issues, one of them on a hidden column.
    input.push_issue(
        Issue::cell(
            0,
            "note",
            IssueKind::Format,
            Severity::Warning,
            "format",
            "phone 13812345678 has no area code",
        )
        .with_suggested("+86 13812345678"),
    );
    input.push_issue(
        Issue::cell(
            1,
            "reporter",
            IssueKind::Canonicalised,
            Severity::Info,
            "canon",
            "rewrote 座机010-12345678",
        )
        .with_suggested("010-12345678 (张伟)"),
    );
    let output = guard()
        .guard(input, &request("analyst"), &mut ctx)
        .expect("allowed");

    let issues = output.issues.issues();
    assert_eq!(issues.len(), 7, "the two earlier issues are kept");
    for issue in issues {
        assert_no_raw_values(&issue.message);
        if let Some(suggested) = &issue.suggested {
            assert_no_raw_values(suggested);
        }
    }
    assert_eq!(issues[0].message, "phone 138****5678 has no area code");
    assert_eq!(issues[0].suggested.as_deref(), Some("+86 138****5678"));
    assert_eq!(
        issues[1].suggested, None,
        "hidden column loses its suggestion"
    );
    for record in audit_records(&ctx) {
        assert_no_raw_values(&record.detail);
        assert_no_raw_values(&record.subject);
    }
}

#[test]
fn masked_columns_are_annotated_sensitive() {
    let output = guard()
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("analyst"),
            &mut context(),
        )
        .expect("allowed");
    let schema = output.data().schema();
    let note = Semantic::from_field(schema.field_with_name("note").expect("note"));
    assert_eq!(note.sensitivity, Some(Sensitivity::Sensitive));
    assert_eq!(note.semantic_type.as_deref(), Some(PII_SEMANTIC_TYPE));
    let district = Semantic::from_field(schema.field_with_name("district").expect("district"));
    assert_eq!(district.sensitivity, None);
}

#[test]
fn change_and_share_are_audited_with_counts() {
    let mut ctx = context();
    guard()
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("analyst"),
            &mut ctx,
        )
        .expect("allowed");
    let records = audit_records(&ctx);
    let actions: Vec<AuditAction> = records.iter().map(|record| record.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Decision,
            AuditAction::Change,
            AuditAction::Share
        ]
    );
    assert_eq!(
        records[1].detail,
        "masked_cells=2 email=1 phone=1 resident_id=1 columns=[note] scrubbed_issues=0"
    );
    assert!(
        records[2].detail.contains("rows=4 columns=3"),
        "{}",
        records[2].detail
    );
}

#[test]
fn unmasked_role_sees_values_but_issues_are_logged() {
    let mut ctx = context();
    let output = guard()
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("auditor"),
            &mut ctx,
        )
        .expect("allowed");
    assert_eq!(
        output.column_names(),
        ["district", "note", "reporter", "hours"]
    );
    assert_eq!(
        strings(&output, "reporter")[1].as_deref(),
        Some("座机010-12345678")
    );
    let kinds = output.issues.count_by_kind();
    assert_eq!(kinds.get(&IssueKind::PersonalData), Some(&5));
    assert_eq!(kinds.get(&IssueKind::Masked), None);
    let reporter = output
        .data()
        .schema()
        .field_with_name("reporter")
        .expect("reporter")
        .clone();
    assert_eq!(
        Semantic::from_field(&reporter).sensitivity,
        Some(Sensitivity::Sensitive)
    );

    let records = audit_records(&ctx);
    let actions: Vec<AuditAction> = records.iter().map(|record| record.action).collect();
    assert_eq!(actions, [AuditAction::Decision, AuditAction::Share]);
    assert!(
        records[1].detail.contains("personal_data_unmasked=5"),
        "{}",
        records[1].detail
    );
}

#[test]
fn listed_text_columns_limit_the_scan() {
    let mut guard = PiiGuard::new(PiiGuardConfig {
        text_columns: Some(vec!["reporter".into(), "comment".into()]),
        mask: MaskConfig::all(MaskOperator::TypeTag),
        policy: policy(),
        ..PiiGuardConfig::default()
    })
    .expect("guard");
    let output = guard
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("auditor"),
            &mut context(),
        )
        .expect("allowed");
    // The auditor sees unmasked data, and the unlisted note column is not scanned.
    assert!(
        output
            .issues
            .issues()
            .iter()
            .all(|issue| issue.column.as_deref() == Some("reporter"))
    );
    assert_eq!(output.issues.len(), 2);
}

#[test]
fn type_tag_config_masks_every_value() {
    let mut guard = PiiGuard::new(PiiGuardConfig {
        mask: MaskConfig::all(MaskOperator::TypeTag),
        policy: policy(),
        ..PiiGuardConfig::default()
    })
    .expect("guard");
    let output = guard
        .guard(
            tickets(&RowIdAllocator::default()),
            &request("analyst"),
            &mut context(),
        )
        .expect("allowed");
    assert_eq!(
        strings(&output, "note")[1].as_deref(),
        Some("邮箱<EMAIL>。身份证号<RESIDENT_ID>")
    );
}

#[test]
fn config_reads_from_json_and_rejects_unknown_fields() {
    let config: PiiGuardConfig = serde_json::from_str(
        r#"{
            "text_columns": ["note"],
            "mask": {"default": "type_tag"},
            "policy": {"roles": {"analyst": {"visible_columns": ["*"], "mask_personal_data": true}}}
        }"#,
    )
    .expect("valid config");
    assert_eq!(
        config.text_columns.as_deref(),
        Some(&["note".to_string()][..])
    );
    let error = serde_json::from_str::<PiiGuardConfig>(r#"{"columns": ["note"]}"#)
        .expect_err("unknown field");
    assert!(error.to_string().contains("unknown field"), "{error}");
}

/// Emits the ticket batch twice.
struct Tickets {
    emitted: usize,
    ids: RowIdAllocator,
}

impl Stage for Tickets {
    fn name(&self) -> &str {
        "tickets"
    }
}

impl Collector for Tickets {
    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.emitted == 2 {
            return Ok(None);
        }
        self.emitted += 1;
        let batch = tickets(&self.ids);
        ctx.record_read(batch.num_rows() as u64);
        Ok(Some(batch))
    }
}

/// Collects what reaches the end of the chain.
struct Sink {
    seen: Arc<std::sync::Mutex<Vec<GovernedBatch>>>,
}

impl Stage for Sink {
    fn name(&self) -> &str {
        "sink"
    }
}

impl Applicator for Sink {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.seen.lock().expect("sink lock").push(batch.clone());
        Ok(())
    }
}

#[test]
fn chain_delivers_masked_rows() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut chain = Chain::builder()
        .collect(Tickets {
            emitted: 0,
            ids: RowIdAllocator::default(),
        })
        .guard(guard())
        .apply(Sink {
            seen: Arc::clone(&seen),
        })
        .request(request("analyst"))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("round");

    assert_eq!(summary.rows_delivered, 8);
    assert!(summary.audit_verified);
    let report = &summary.stages[1];
    assert_eq!(report.name, "pii_guard");
    assert_eq!(report.rows_in, report.rows_out);
    let delivered = seen.lock().expect("sink lock");
    for batch in delivered.iter() {
        assert_eq!(batch.column_names(), ["district", "note", "hours"]);
        for value in strings(batch, "note").into_iter().flatten() {
            assert_no_raw_values(&value);
        }
    }
}

#[test]
fn chain_denies_anonymous_requests() {
    let mut chain = Chain::builder()
        .collect(Tickets {
            emitted: 0,
            ids: RowIdAllocator::default(),
        })
        .guard(guard())
        .apply(Sink {
            seen: Arc::default(),
        })
        .build()
        .expect("chain");
    let error = chain
        .run_blocking()
        .expect_err("anonymous is not in the policy");
    assert!(
        matches!(error, Error::AccessDenied { ref role, .. } if role == "anonymous"),
        "{error}"
    );
    let log = chain.audit().lock().expect("audit lock");
    assert!(
        log.records()
            .iter()
            .any(|record| record.action == AuditAction::Decision
                && record.detail.starts_with("deny role=\"anonymous\""))
    );
}
