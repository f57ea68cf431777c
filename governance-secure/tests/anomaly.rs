//! Access-anomaly detection on synthetic access histories.

use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AuditAction, AuditDecision, AuditLog};
use governance_core::{AccessRequest, Semantic, Sensitivity};
use governance_secure::policy::PolicyRule;
use governance_secure::{AccessEvent, AccessMonitor, AccessMonitorConfig, AccessPolicy};

/// 2024-03-04 00:00 UTC, a Monday.
const MONDAY_MS: i64 = 1_709_510_400_000;
const HOUR_MS: i64 = 3_600_000;

fn event(subject: &str, day: i64, hour: i64, rows: u64, columns: &[&str]) -> AccessEvent {
    AccessEvent {
        subject: subject.into(),
        time_ms: MONDAY_MS + day * 24 * HOUR_MS + hour * HOUR_MS,
        dataset: "tickets".into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// Sixty office-hour reads of about a thousand rows of two columns.
fn trained_monitor() -> AccessMonitor {
    let mut monitor = AccessMonitor::new(AccessMonitorConfig::default()).expect("monitor");
    for day in 0..60 {
        let hour = 9 + day % 8;
        let rows = 800 + (day as u64 * 37) % 400;
        let alert = monitor.observe(&event("u-7", day, hour, rows, &["district", "note"]));
        assert!(
            alert.is_none(),
            "normal access on day {day} raised {alert:?}"
        );
    }
    monitor
}

#[test]
fn usual_access_raises_no_alert() {
    let mut monitor = trained_monitor();
    let alert = monitor.observe(&event("u-7", 61, 11, 1_050, &["note", "district"]));
    assert!(alert.is_none(), "{alert:?}");
}

#[test]
fn bulk_read_raises_volume_alert() {
    let mut monitor = trained_monitor();
    let alert = monitor
        .observe(&event("u-7", 61, 11, 250_000, &["district", "note"]))
        .expect("bulk read");
    assert!(alert.score >= 1.0);
    assert_eq!(alert.reasons.len(), 1, "{:?}", alert.reasons);
    assert!(
        alert.reasons[0].contains("250000 rows"),
        "{:?}",
        alert.reasons
    );
}

#[test]
fn new_columns_raise_alert_naming_them() {
    let mut monitor = trained_monitor();
    let alert = monitor
        .observe(&event(
            "u-7",
            61,
            10,
            900,
            &["district", "phone", "id_number"],
        ))
        .expect("new columns");
    assert!(
        alert.reasons[0].contains("phone, id_number"),
        "{:?}",
        alert.reasons
    );
}

#[test]
fn night_access_raises_hour_alert() {
    let mut monitor = trained_monitor();
    let alert = monitor
        .observe(&event("u-7", 61, 3, 900, &["district", "note"]))
        .expect("night access");
    assert!(alert.reasons[0].contains("hour 03"), "{:?}", alert.reasons);
}

#[test]
fn baselines_are_per_subject() {
    let mut monitor = trained_monitor();
    // A new subject has no history yet, so nothing it does is scored.
    assert!(
        monitor
            .observe(&event("u-9", 61, 3, 250_000, &["phone"]))
            .is_none()
    );
}

#[test]
fn alerts_do_not_enter_the_baseline() {
    let mut monitor = trained_monitor();
    for day in 61..90 {
        let alert = monitor.observe(&event("u-7", day, 11, 250_000, &["district", "note"]));
        assert!(
            alert.is_some(),
            "repeated bulk read on day {day} was learned"
        );
    }
}

#[test]
fn scan_reads_share_records_of_audit_log() {
    let mut log = AuditLog::in_memory();
    let mut monitor = trained_monitor();
    let access = governance_core::audit::AccessDetails {
        subject: "u-7".into(),
        dataset: "tickets".into(),
        columns: vec!["district".into(), "note".into()],
        rows: 300_000,
        purpose: "report".into(),
        decision: Some(AuditDecision::Allow),
        ..Default::default()
    };
    log.append_access(
        "pii_guard",
        AuditAction::Share,
        "tickets",
        "",
        access.clone(),
    )
    .expect("append");
    // A decision record with the same details is not a read.
    log.append_access("pii_guard", AuditAction::Decision, "tickets", "", access)
        .expect("append");
    let alerts = monitor.scan(log.records());
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].subject, "u-7");
}

fn tickets_schema() -> Schema {
    let sensitive = Semantic {
        sensitivity: Some(Sensitivity::Sensitive),
        ..Semantic::default()
    };
    Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        sensitive.annotate(Field::new("phone", DataType::Utf8, true)),
    ])
}

#[test]
fn tightening_holds_sensitive_columns_until_review() {
    let mut monitor = trained_monitor();
    let mut log = AuditLog::in_memory();
    let alert = monitor
        .observe(&event("u-7", 61, 11, 250_000, &["district", "note"]))
        .expect("alert");
    monitor.tighten(&alert, &mut log).expect("tighten");
    assert_eq!(monitor.held().collect::<Vec<_>>(), ["u-7"]);

    let policy = AccessPolicy::default().with_rule(PolicyRule::allow("all", ["*"]));
    let held = monitor.restrict(&policy);
    let schema = tickets_schema();
    let request = AccessRequest::new("analyst", "report").with_subject_id("u-7");
    let decision = held
        .decide(&request, "tickets", &schema, 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district"]);
    assert!(decision.rules.contains(&"anomaly-hold:u-7".to_string()));
    let other = AccessRequest::new("analyst", "report").with_subject_id("u-8");
    let decision = held.decide(&other, "tickets", &schema, 0).expect("allowed");
    assert_eq!(decision.visible_columns, ["district", "phone"]);

    let hold = &log.records()[0];
    assert_eq!(hold.action, AuditAction::Decision);
    assert!(hold.detail.starts_with("hold:"), "{}", hold.detail);
    let details = hold.access.as_ref().expect("access details");
    assert_eq!(details.decision, Some(AuditDecision::Deny));

    assert!(
        monitor
            .release("u-7", "officer-2", &mut log)
            .expect("release")
    );
    assert!(
        !monitor
            .release("u-7", "officer-2", &mut log)
            .expect("second release")
    );
    assert_eq!(monitor.held().count(), 0);
    assert_eq!(log.records().len(), 2);
    assert!(log.records()[1].detail.contains("officer-2"));
    assert_eq!(log.verify().expect("chain"), 2);
    let unrestricted = monitor.restrict(&policy);
    let decision = unrestricted
        .decide(&request, "tickets", &schema, 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district", "phone"]);
}

#[test]
fn invalid_monitor_config_names_the_field() {
    let config = AccessMonitorConfig {
        volume_z: 0.0,
        ..AccessMonitorConfig::default()
    };
    let error = AccessMonitor::new(config).expect_err("zero threshold");
    assert!(error.to_string().contains("volume_z is 0"), "{error}");
}
