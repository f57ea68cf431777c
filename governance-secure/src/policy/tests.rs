use arrow::datatypes::{DataType, Field};

use super::*;

fn schema(names: &[&str]) -> Schema {
    Schema::new(
        names
            .iter()
            .map(|name| Field::new(*name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    )
}

fn classified(columns: &[(&str, Sensitivity)]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|(name, level)| {
                Semantic {
                    sensitivity: Some(*level),
                    ..Semantic::default()
                }
                .annotate(Field::new(*name, DataType::Utf8, true))
            })
            .collect::<Vec<_>>(),
    )
}

fn roles() -> AccessPolicy {
    AccessPolicy::default()
        .with_role(
            "analyst",
            RolePolicy::columns(["district", "note", "budget"]),
        )
        .with_role("auditor", RolePolicy::all_columns().with_masking(false))
}

fn request(role: &str) -> AccessRequest {
    AccessRequest::new(role, "report")
}

#[test]
fn unknown_role_is_denied_with_known_roles() {
    let error = roles()
        .decide(&request("guest"), "tickets", &schema(&["note"]), 0)
        .expect_err("unknown role");
    let message = error.to_string();
    assert!(matches!(error, Error::AccessDenied { ref role, .. } if role == "guest"));
    assert!(
        message.contains("known roles are: analyst, auditor"),
        "{message}"
    );
}

#[test]
fn empty_policy_denies_everyone() {
    let error = AccessPolicy::default()
        .decide(&request("admin"), "tickets", &schema(&["note"]), 0)
        .expect_err("deny by default");
    assert!(error.to_string().contains("names no roles"), "{error}");
}

#[test]
fn visible_columns_follow_data_order() {
    let decision = roles()
        .decide(
            &request("analyst"),
            "tickets",
            &schema(&["note", "phone", "district"]),
            0,
        )
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["note", "district"]);
    assert_eq!(decision.missing_columns, ["budget"]);
    assert_eq!(decision.rules, ["role:analyst"]);
    assert!(decision.mask_personal_data);
}

#[test]
fn star_shows_every_column() {
    let decision = roles()
        .decide(
            &request("auditor"),
            "tickets",
            &schema(&["note", "phone"]),
            0,
        )
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["note", "phone"]);
    assert!(!decision.mask_personal_data);
}

#[test]
fn no_existing_visible_column_is_denied() {
    let error = roles()
        .decide(
            &request("analyst"),
            "tickets",
            &schema(&["phone", "name"]),
            0,
        )
        .expect_err("nothing visible");
    let message = error.to_string();
    assert!(
        message.contains("none of the role's visible columns"),
        "{message}"
    );
    assert!(message.contains("columns are: phone, name"), "{message}");
}

#[test]
fn subject_without_matching_rule_sees_nothing() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("planners", ["*"]).for_roles(["planner"]));
    let error = policy
        .decide(&request("analyst"), "tickets", &schema(&["note"]), 0)
        .expect_err("no rule");
    assert!(error.to_string().contains("deny by default"), "{error}");
}

#[test]
fn deny_beats_allow() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("everyone-reads", ["*"]))
        .with_rule(PolicyRule::deny("no-contractors").for_roles(["contractor"]));
    let columns = schema(&["note"]);
    let error = policy
        .decide(&request("contractor"), "tickets", &columns, 0)
        .expect_err("denied");
    assert!(
        error
            .to_string()
            .contains("denied by rule(s) no-contractors"),
        "{error}"
    );
    let decision = policy
        .decide(&request("analyst"), "tickets", &columns, 0)
        .expect("allowed");
    assert_eq!(decision.rules, ["everyone-reads"]);
}

#[test]
fn column_deny_removes_only_its_columns() {
    let mut deny_secret = PolicyRule::deny("no-secret");
    deny_secret.min_sensitivity = Some(Sensitivity::Secret);
    let mut deny_phone = PolicyRule::deny("no-phone");
    deny_phone.columns = vec!["phone".into()];
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("all", ["*"]))
        .with_rule(deny_secret)
        .with_rule(deny_phone);
    let columns = classified(&[
        ("district", Sensitivity::Public),
        ("phone", Sensitivity::Sensitive),
        ("id_number", Sensitivity::Secret),
    ]);
    let decision = policy
        .decide(&request("analyst"), "tickets", &columns, 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district"]);
    assert_eq!(decision.rules, ["all", "no-secret", "no-phone"]);
}

#[test]
fn clearance_and_max_sensitivity_limit_columns() {
    let mut public_only = PolicyRule::allow("public", ["*"]);
    public_only.max_sensitivity = Some(Sensitivity::Internal);
    let columns = classified(&[
        ("district", Sensitivity::Public),
        ("phone", Sensitivity::Sensitive),
    ]);
    let policy = AccessPolicy::default().with_rule(public_only);
    let decision = policy
        .decide(&request("analyst"), "tickets", &columns, 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district"]);

    let policy = AccessPolicy::default().with_rule(PolicyRule::allow("all", ["*"]));
    let cleared = request("analyst").with_clearance(Sensitivity::Internal);
    let decision = policy
        .decide(&cleared, "tickets", &columns, 0)
        .expect("allowed");
    assert_eq!(decision.visible_columns, ["district"]);
}

#[test]
fn time_window_limits_rule() {
    // 2024-03-04 was a Monday; 09:30 and 20:30 UTC.
    let morning = 1_709_544_600_000;
    let evening = morning + 11 * 3_600_000;
    let policy =
        AccessPolicy::default().with_rule(PolicyRule::allow("office", ["*"]).during(TimeWindow {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            hours: Some([8, 18]),
            utc_offset_minutes: 0,
        }));
    let columns = schema(&["note"]);
    assert!(policy.decide(&request("a"), "t", &columns, morning).is_ok());
    assert!(
        policy
            .decide(&request("a"), "t", &columns, evening)
            .is_err()
    );
    // The request's own time wins over the time passed in.
    let late = request("a").at(evening);
    assert!(policy.decide(&late, "t", &columns, morning).is_err());
}

#[test]
fn strictest_column_mask_wins() {
    let policy = AccessPolicy::default()
        .with_rule(PolicyRule::allow("a", ["*"]).with_mask("phone", MaskOperator::Partial))
        .with_rule(PolicyRule::allow("b", ["phone"]).with_mask("phone", MaskOperator::Redact));
    let decision = policy
        .decide(&request("x"), "t", &schema(&["phone"]), 0)
        .expect("allowed");
    assert_eq!(decision.column_masks["phone"], MaskOperator::Redact);
}

#[test]
fn rule_naming_missing_column_lists_existing() {
    let policy = AccessPolicy::default().with_rule(PolicyRule::allow("r1", ["distrct"]));
    let error = policy
        .decide(&request("x"), "tickets", &schema(&["district", "note"]), 0)
        .expect_err("typo");
    let message = error.to_string();
    assert!(message.contains("rule \"r1\", field columns"), "{message}");
    assert!(message.contains("columns are: district, note"), "{message}");
}

#[test]
fn toml_and_json_policies_load() {
    let toml = r#"
        [roles.auditor]
        visible_columns = ["*"]
        mask_personal_data = false

        [[rules]]
        id = "night-deny"
        effect = "deny"
        time = { hours = [22, 6], utc_offset_minutes = 480 }

        [[rules]]
        id = "recent"
        effect = "allow"
        subjects = { departments = ["transport"], min_clearance = "internal" }
        purposes = ["planning"]
        columns = ["*"]
        row_filter = [{ column = "ts", op = "ge", value = "2024-01-01T00:00:00" }]
    "#;
    let policy = AccessPolicy::from_toml_str(toml).expect("valid TOML");
    assert_eq!(policy.rules.len(), 2);
    assert!(!policy.roles["auditor"].mask_personal_data);
    let json = serde_json::to_string(&policy).expect("to JSON");
    assert_eq!(
        AccessPolicy::from_json_str(&json).expect("valid JSON"),
        policy
    );
}

#[test]
fn unknown_field_names_valid_options() {
    let error = AccessPolicy::from_toml_str(
        "[[rules]]\nid = \"r1\"\neffect = \"allow\"\ncolums = [\"*\"]\n",
    )
    .expect_err("unknown field");
    let message = error.to_string();
    assert!(message.contains("unknown field `colums`"), "{message}");
    assert!(message.contains("columns"), "{message}");
    let error = AccessPolicy::from_json_str(
        r#"{"roles":{"analyst":{"visible_columns":["note"],"unmasked":["phone"]}}}"#,
    )
    .expect_err("unknown field");
    assert!(error.to_string().contains("unknown field"), "{error}");
    let error = AccessPolicy::from_toml_str("[[rules]]\nid = \"r1\"\neffect = \"permit\"\n")
        .expect_err("unknown effect");
    assert!(error.to_string().contains("allow"), "{error}");
}

#[test]
fn invalid_rules_name_rule_and_field() {
    let cases = [
        (
            "[[rules]]\nid = \"r1\"\neffect = \"allow\"\n",
            "rule \"r1\", field columns",
        ),
        (
            "[[rules]]\nid = \"d1\"\neffect = \"deny\"\ncolumn_masks = { phone = \"redact\" }\n",
            "rule \"d1\", field column_masks",
        ),
        (
            "[[rules]]\nid = \"a\"\neffect = \"deny\"\n[[rules]]\nid = \"a\"\neffect = \"deny\"\n",
            "rule \"a\", field id",
        ),
    ];
    for (text, expected) in cases {
        let message = AccessPolicy::from_toml_str(text)
            .expect_err(expected)
            .to_string();
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn policy_file_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        "[[rules]]\nid = \"r1\"\neffect = \"allow\"\nextra = 1\n",
    )
    .expect("write");
    let message = AccessPolicy::from_path(&path)
        .expect_err("unknown field")
        .to_string();
    assert!(message.contains("policy.toml"), "{message}");
}
