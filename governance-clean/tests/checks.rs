//! The check suite as a user runs it: rules from JSON over governed batches, issues and
//! per-rule metrics, whole-table rules across batches, and hostile input.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{Field, Schema};
use governance_clean::checks::{CheckSuite, CustomRule, Failure, Suite, SuiteConfig, SuiteReport};
use governance_core::audit::AuditLog;
use governance_core::{
    Cleaner, GovernedBatch, Issue, IssueKind, Provenance, Result, RowIdAllocator, StageContext,
};

fn table(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("table")
}

fn governed(columns: Vec<(&str, ArrayRef)>, ids: &RowIdAllocator) -> GovernedBatch {
    let data = table(columns);
    let row_ids = ids.allocate(data.num_rows());
    GovernedBatch::try_new(data, row_ids, Provenance::new("test")).expect("governed")
}

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn floats(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn run(json: &str, batches: &[GovernedBatch]) -> SuiteReport {
    let config = SuiteConfig::from_json(json).expect("config");
    let mut suite = Suite::new(config).expect("suite");
    suite.check_all(batches).expect("checked")
}

fn issues_of<'a>(report: &'a SuiteReport, rule: &str) -> Vec<&'a Issue> {
    report
        .issues
        .iter()
        .filter(|issue| issue.message.starts_with(&format!("rule {rule:?}")))
        .collect()
}

#[test]
fn not_null_counts_null_and_blank_apart() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![(
            "name",
            text(&[Some("a"), None, Some(""), Some("  "), Some("b")]),
        )],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "n", "check": {"not_null": {"column": "name"}}}]}"#,
        &[batch],
    );
    let result = report.result("n").expect("result");
    assert!(!result.passed);
    assert_eq!(result.failing, 3);
    assert_eq!(result.metrics["null_count"], 1.0);
    assert_eq!(result.metrics["blank_count"], 2.0);
    assert!((result.failing_ratio - 0.6).abs() < 1e-9);
    let rows: Vec<u64> = report.issues.iter().map(|issue| issue.row_id).collect();
    assert_eq!(rows, vec![1, 2, 3]);
    assert!(
        report
            .issues
            .iter()
            .all(|issue| issue.kind == IssueKind::Missing)
    );
}

#[test]
fn completeness_passes_above_floor() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![("v", floats(&[Some(1.0), None, Some(2.0), Some(3.0)]))],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "c", "check": {"completeness": {"column": "v", "min_ratio": 0.7}}}]}"#,
        &[batch],
    );
    let result = report.result("c").expect("result");
    assert!(result.passed, "{}", result.detail);
    assert_eq!(result.metrics["completeness"], 0.75);
    assert_eq!(report.issues.len(), 1, "the missing cell is still logged");
}

#[test]
fn unique_compound_key_across_batches() {
    let ids = RowIdAllocator::default();
    let first = governed(
        vec![
            ("station", text(&[Some("A"), Some("A"), Some("B")])),
            ("hour", Arc::new(Int64Array::from(vec![1, 2, 1]))),
        ],
        &ids,
    );
    let second = governed(
        vec![
            ("station", text(&[Some("A"), Some("A"), Some("B"), None])),
            ("hour", Arc::new(Int64Array::from(vec![1, 1, 2, 3]))),
        ],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "k", "check": {"unique": {"columns": ["station", "hour"]}}}]}"#,
        &[first, second],
    );
    let result = report.result("k").expect("result");
    // (A, 1) occurs at rows 0, 3 and 4.
    assert_eq!(result.metrics["rows_with_duplicates"], 3.0);
    assert_eq!(result.metrics["extra_copies"], 2.0);
    assert_eq!(result.metrics["repeated_values"], 1.0);
    assert_eq!(result.metrics["null_keys"], 1.0);
    assert_eq!(result.evaluated, 6);
    let mut rows: Vec<u64> = issues_of(&report, "k")
        .iter()
        .map(|issue| issue.row_id)
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, vec![0, 3, 4]);
    assert!(issues_of(&report, "k")[0].message.contains("A, 1"));
}

/// Computes what a uniqueness rule must report over `batches` of integer keys, row by row in
/// arrival order with at most `max_keys` keys kept: the failing count, whether keys were
/// turned away, and each failing row id with its message.
fn expected_unique(batches: &[Vec<i64>], max_keys: usize) -> (u64, bool, Vec<(u64, String)>) {
    let mut seen: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let mut repeats = Vec::new();
    let mut incomplete = false;
    let mut row_id = 0u64;
    for batch in batches {
        for &key in batch {
            if let Some((_, count)) = seen.get_mut(&key) {
                *count += 1;
                repeats.push((key, row_id));
            } else if seen.len() < max_keys {
                seen.insert(key, (row_id, 1));
            } else {
                incomplete = true;
            }
            row_id += 1;
        }
    }
    let failing = seen
        .values()
        .filter(|(_, count)| *count > 1)
        .map(|(_, count)| count)
        .sum();
    let mut failures = Vec::new();
    let mut named = std::collections::BTreeSet::new();
    for (key, row) in repeats {
        let (first, count) = seen[&key];
        if named.insert(key) {
            failures.push((
                first,
                format!("is a key that {count} rows share; this is the first copy"),
            ));
        }
        failures.push((row, format!("repeats the key of row {first}")));
    }
    (failing, incomplete, failures)
}

#[test]
fn unique_matches_row_by_row_reference() {
    // Three batches of 3,000 keys: repeats inside a batch, across batches and of keys seen
    // only after the key limit was reached.
    let keys: Vec<Vec<i64>> = (0..3)
        .map(|batch| {
            (0..3_000)
                .map(|row| {
                    let position = batch * 3_000 + row;
                    match position % 97 {
                        5 => position - 5,
                        11 => position % 1_000,
                        _ => position,
                    }
                })
                .collect()
        })
        .collect();
    for max_keys in [20_000_000usize, 5_000, 2_500] {
        let ids = RowIdAllocator::default();
        let batches: Vec<GovernedBatch> = keys
            .iter()
            .map(|values| {
                let column: ArrayRef = Arc::new(Int64Array::from(values.clone()));
                governed(vec![("id", column)], &ids)
            })
            .collect();
        let json = format!(
            r#"{{"max_tracked_keys": {max_keys},
                "rules": [{{"name": "k", "check": {{"unique": {{"columns": ["id"]}}}}}}]}}"#
        );
        let report = run(&json, &batches);
        let result = report.result("k").expect("result");
        let (failing, incomplete, failures) = expected_unique(&keys, max_keys);
        assert_eq!(
            result.failing, failing,
            "failing rows with {max_keys} keys kept"
        );
        assert_eq!(
            result.incomplete, incomplete,
            "incomplete with {max_keys} keys kept"
        );
        let found: Vec<(u64, String)> = issues_of(&report, "k")
            .iter()
            .map(|issue| {
                let message = issue.message.split_once(": ").map_or("", |(_, text)| text);
                let text = message.split_once(" ").map_or("", |(_, text)| text);
                (issue.row_id, text.to_string())
            })
            .collect();
        let expected: Vec<(u64, String)> = failures;
        assert_eq!(
            found.len(),
            expected.len(),
            "issues with {max_keys} keys kept"
        );
        for (found, expected) in found.iter().zip(&expected) {
            assert_eq!(found.0, expected.0, "row id with {max_keys} keys kept");
            assert!(found.1.ends_with(&expected.1), "{found:?} vs {expected:?}");
        }
    }
}

#[test]
fn primary_key_rejects_null_parts() {
    let ids = RowIdAllocator::default();
    let batch = governed(vec![("id", text(&[Some("1"), None, Some("2")]))], &ids);
    let report = run(
        r#"{"rules": [{"name": "pk", "check": {"primary_key": {"columns": ["id"]}}}]}"#,
        &[batch],
    );
    let result = report.result("pk").expect("result");
    assert!(!result.passed);
    assert_eq!(result.failing, 1);
    assert_eq!(report.issues[0].kind, IssueKind::Missing);
    assert_eq!(report.issues[0].row_id, 1);
}

#[test]
fn per_cell_rules_name_row_column_and_value() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![
            (
                "pm25",
                floats(&[Some(10.0), Some(-2.0), Some(1200.0), None]),
            ),
            (
                "mode",
                text(&[Some("bus"), Some("buss"), Some("tram"), Some("ferry")]),
            ),
            (
                "plate",
                text(&[Some("AB-123"), Some("ab-123"), None, Some("XY-9")]),
            ),
            (
                "mail",
                text(&[Some("a@b.org"), Some("nope"), Some("c@d.net"), None]),
            ),
            (
                "site",
                text(&[Some("https://x.org/a"), Some("x.org"), None, None]),
            ),
            (
                "doc",
                text(&[Some("{\"a\": 1}"), Some("{a:1}"), None, Some("[]")]),
            ),
            (
                "day",
                text(&[Some("2024-02-29"), Some("2023-02-29"), None, None]),
            ),
            (
                "note",
                text(&[Some("ok"), Some("far too long"), None, Some("")]),
            ),
            ("count", text(&[Some("12"), Some("1.5"), Some("x"), None])),
        ],
        &ids,
    );
    let report = run(
        r#"{"rules": [
            {"name": "range", "check": {"range": {"column": "pm25", "min": 0, "max": 1000}}},
            {"name": "allowed", "check": {"allowed": {"column": "mode", "values": ["bus", "tram"]}}},
            {"name": "pattern", "check": {"pattern": {"column": "plate", "regex": "^[A-Z]+-[0-9]+$"}}},
            {"name": "email", "check": {"format": {"column": "mail", "format": "email"}}},
            {"name": "url", "check": {"format": {"column": "site", "format": "url"}}},
            {"name": "json", "check": {"format": {"column": "doc", "format": "json"}}},
            {"name": "date", "check": {"format": {"column": "day", "format": "date"}}},
            {"name": "length", "check": {"length": {"column": "note", "min": 1, "max": 5}}},
            {"name": "type", "check": {"type": {"column": "count", "expected": "integer"}}}
        ]}"#,
        &[batch],
    );
    let expected_rows: BTreeMap<&str, Vec<u64>> = [
        ("range", vec![1, 2]),
        ("allowed", vec![1, 3]),
        ("pattern", vec![1]),
        ("email", vec![1]),
        ("url", vec![1]),
        ("json", vec![1]),
        ("date", vec![1]),
        ("length", vec![1, 3]),
        ("type", vec![1, 2]),
    ]
    .into();
    for (rule, rows) in expected_rows {
        let found: Vec<u64> = issues_of(&report, rule)
            .iter()
            .map(|issue| issue.row_id)
            .collect();
        assert_eq!(found, rows, "rule {rule}");
        assert!(!report.result(rule).expect("result").passed, "rule {rule}");
    }
    let allowed = issues_of(&report, "allowed");
    assert_eq!(allowed[0].suggested.as_deref(), Some("bus"));
    assert!(
        allowed[0].message.contains("\"buss\""),
        "{}",
        allowed[0].message
    );
    assert_eq!(allowed[0].column.as_deref(), Some("mode"));
    assert_eq!(allowed[0].kind, IssueKind::NotAllowed);
    assert_eq!(issues_of(&report, "range")[0].kind, IssueKind::OutOfRange);
    assert!(
        issues_of(&report, "length")[0]
            .message
            .contains("12 characters")
    );
}

#[test]
fn row_count_and_freshness_report_at_finish() {
    let ids = RowIdAllocator::default();
    let day_ms = 86_400_000;
    let times: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![day_ms, 3 * day_ms]));
    let batch = governed(vec![("time", times)], &ids);
    let json = format!(
        r#"{{"rules": [
            {{"name": "rows", "check": {{"row_count": {{"min": 5}}}}}},
            {{"name": "fresh", "check": {{"freshness": {{"column": "time", "max_age_seconds": 3600, "now_ms": {}}}}}}},
            {{"name": "stale", "check": {{"freshness": {{"column": "time", "max_age_seconds": 3600, "now_ms": {}}}}}}}
        ]}}"#,
        3 * day_ms + 1000,
        5 * day_ms
    );
    let report = run(&json, &[batch]);
    let rows = report.result("rows").expect("rows");
    assert!(!rows.passed);
    assert_eq!(rows.metrics["row_count"], 2.0);
    assert!(report.result("fresh").expect("fresh").passed);
    let stale = report.result("stale").expect("stale");
    assert!(!stale.passed);
    assert_eq!(stale.metrics["age_seconds"], 2.0 * 86_400.0);
    assert_eq!(
        issues_of(&report, "stale")[0].row_id,
        1,
        "the newest row is named"
    );
}

#[test]
fn foreign_key_checks_reference_table() {
    let ids = RowIdAllocator::default();
    let zones = table(vec![("zone_id", text(&[Some("Z1"), Some("Z2")]))]);
    let batch = governed(vec![("zone", text(&[Some("Z1"), Some("Z9"), None]))], &ids);
    let config = SuiteConfig::from_json(
        r#"{"rules": [{"name": "fk", "check": {"foreign_key": {"columns": ["zone"], "reference": "zones", "reference_columns": ["zone_id"]}}}]}"#,
    )
    .expect("config");
    let mut suite = Suite::new(config.clone())
        .expect("suite")
        .with_reference("zones", zones);
    let report = suite.check_all([&batch]).expect("checked");
    let result = report.result("fk").expect("fk");
    assert_eq!((result.evaluated, result.failing), (2, 1));
    assert_eq!(report.issues[0].row_id, 1);
    assert!(report.issues[0].message.contains("\"Z9\""));

    let mut unregistered = Suite::new(config).expect("suite");
    let error = unregistered.check_batch(&batch).expect_err("no reference");
    assert!(error.to_string().contains("not registered"), "{error}");
}

#[test]
fn functional_dependency_flags_minority_values() {
    let ids = RowIdAllocator::default();
    let first = governed(
        vec![
            ("zip", text(&[Some("100"), Some("100"), Some("200")])),
            (
                "city",
                text(&[Some("Beijing"), Some("Beijing"), Some("Tianjin")]),
            ),
        ],
        &ids,
    );
    let second = governed(
        vec![
            ("zip", text(&[Some("100"), Some("200"), Some("100")])),
            (
                "city",
                text(&[Some("Bejing"), Some("Tianjin"), Some("Beijing")]),
            ),
        ],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "fd", "check": {"functional_dependency": {"determinant": ["zip"], "dependent": ["city"]}}}]}"#,
        &[first, second],
    );
    let result = report.result("fd").expect("fd");
    assert!(!result.passed);
    assert_eq!(result.failing, 1);
    assert!((result.metrics["g3_error"] - 1.0 / 6.0).abs() < 1e-9);
    let issues = issues_of(&report, "fd");
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].row_id, 3);
    assert_eq!(issues[0].suggested.as_deref(), Some("Beijing"));
    assert_eq!(issues[0].kind, IssueKind::Inconsistent);
}

#[test]
fn conditional_dependency_with_constant() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![
            ("country", text(&[Some("CN"), Some("CN"), Some("FR")])),
            ("currency", text(&[Some("CNY"), Some("EUR"), Some("EUR")])),
        ],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "cfd", "check": {"functional_dependency": {"determinant": ["country"], "dependent": ["currency"], "when": {"country": "CN"}, "then": {"currency": "CNY"}}}}]}"#,
        &[batch],
    );
    let result = report.result("cfd").expect("cfd");
    assert_eq!((result.evaluated, result.failing), (2, 1));
    assert_eq!(report.issues[0].row_id, 1);
    assert_eq!(report.issues[0].suggested.as_deref(), Some("CNY"));
}

#[test]
fn sql_predicate_compares_columns() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![
            (
                "start",
                Arc::new(Int64Array::from(vec![1, 5, 3])) as ArrayRef,
            ),
            (
                "end",
                Arc::new(Int64Array::from(vec![Some(2), Some(4), None])),
            ),
        ],
        &ids,
    );
    let report = run(
        r#"{"rules": [{"name": "order", "check": {"sql": {"expression": "\"end\" >= start"}}}]}"#,
        &[batch],
    );
    let result = report.result("order").expect("order");
    assert_eq!((result.evaluated, result.failing), (3, 1));
    assert_eq!(result.metrics["unknown_count"], 1.0);
    assert_eq!(report.issues[0].row_id, 1);
    assert!(
        report.issues[0].message.contains("(start, end) = (5, 4)"),
        "{}",
        report.issues[0].message
    );
}

#[test]
fn sql_error_names_rule_and_columns() {
    let ids = RowIdAllocator::default();
    let batch = governed(vec![("speed", floats(&[Some(1.0)]))], &ids);
    let config = SuiteConfig::from_json(
        r#"{"rules": [{"name": "fast", "check": {"sql": {"expression": "velocity < 100"}}}]}"#,
    )
    .expect("config");
    let error = Suite::new(config)
        .expect("suite")
        .check_batch(&batch)
        .expect_err("bad column");
    let message = error.to_string();
    assert!(message.contains("rule \"fast\""), "{message}");
    assert!(message.contains("columns are: speed"), "{message}");
}

#[test]
fn drift_detects_shifted_numbers_and_categories() {
    let ids = RowIdAllocator::default();
    let same: Vec<Option<f64>> = (0..2000).map(|i| Some(f64::from(i % 100))).collect();
    let shifted: Vec<Option<f64>> = (0..2000).map(|i| Some(40.0 + f64::from(i % 100))).collect();
    let modes: Vec<Option<&str>> = (0..2000)
        .map(|i| Some(if i % 5 == 0 { "tram" } else { "bus" }))
        .collect();
    let quantiles: Vec<String> = (0..=100)
        .map(|i| (f64::from(i) * 0.99).to_string())
        .collect();
    let json = format!(
        r#"{{"rules": [
            {{"name": "same", "check": {{"drift": {{"column": "same", "reference": {{"numeric": {{"quantiles": [{q}], "count": 5000}}}}}}}}}},
            {{"name": "shifted", "check": {{"drift": {{"column": "shifted", "reference": {{"numeric": {{"quantiles": [{q}], "count": 5000}}}}}}}}}},
            {{"name": "modes", "check": {{"drift": {{"column": "mode", "reference": {{"categorical": {{"counts": {{"bus": 500, "tram": 500}}}}}}}}}}}}
        ]}}"#,
        q = quantiles.join(",")
    );
    let batch = governed(
        vec![
            ("same", floats(&same)),
            ("shifted", floats(&shifted)),
            ("mode", text(&modes)),
        ],
        &ids,
    );
    let report = run(&json, &[batch]);
    let same = report.result("same").expect("same");
    assert!(same.passed, "{}", same.detail);
    let shifted = report.result("shifted").expect("shifted");
    assert!(!shifted.passed, "{}", shifted.detail);
    assert!(shifted.metrics["p_value"] < 1e-6);
    let modes = report.result("modes").expect("modes");
    assert!(!modes.passed, "{}", modes.detail);
}

struct EvenIds;

impl CustomRule for EvenIds {
    fn name(&self) -> &str {
        "even ids"
    }

    fn check_batch(&mut self, batch: &GovernedBatch) -> Result<Vec<Failure>> {
        Ok(batch
            .row_ids()
            .values()
            .iter()
            .filter(|id| *id % 2 == 1)
            .map(|&id| Failure::cell(id, "id", None, "has an odd row id"))
            .collect())
    }
}

#[test]
fn custom_rule_reports_through_suite() {
    let ids = RowIdAllocator::default();
    let batch = governed(
        vec![("v", floats(&[Some(1.0), Some(2.0), Some(3.0)]))],
        &ids,
    );
    let mut suite = Suite::new(SuiteConfig::default())
        .expect("suite")
        .with_custom(Box::new(EvenIds));
    let report = suite.check_all([&batch]).expect("checked");
    let result = report.result("even ids").expect("custom");
    assert_eq!((result.check.as_str(), result.failing), ("custom", 1));
    assert_eq!(report.issues[0].row_id, 1);
}

#[test]
fn missing_column_lists_columns() {
    let ids = RowIdAllocator::default();
    let batch = governed(vec![("pm25", floats(&[Some(1.0)]))], &ids);
    let config = SuiteConfig::from_json(
        r#"{"rules": [{"name": "r", "check": {"range": {"column": "PM2.5", "max": 5}}}]}"#,
    )
    .expect("config");
    let error = Suite::new(config)
        .expect("suite")
        .check_batch(&batch)
        .expect_err("missing");
    let message = error.to_string();
    assert!(message.contains("\"PM2.5\""), "{message}");
    assert!(message.contains("columns are: pm25"), "{message}");
}

#[test]
fn first_failing_rule_names_error() {
    let ids = RowIdAllocator::default();
    let batch = governed(vec![("pm25", floats(&[Some(1.0)]))], &ids);
    let config = SuiteConfig::from_json(
        r#"{"rules": [
            {"name": "fine", "check": {"range": {"column": "pm25", "max": 5}}},
            {"name": "first", "check": {"range": {"column": "pm10", "max": 5}}},
            {"name": "second", "check": {"range": {"column": "no2", "max": 5}}}
        ]}"#,
    )
    .expect("config");
    let mut suite = Suite::new(config).expect("suite");
    for _ in 0..20 {
        let message = suite.check_batch(&batch).expect_err("missing").to_string();
        assert!(message.contains("\"pm10\""), "{message}");
        assert!(!message.contains("no2"), "{message}");
    }
}

#[test]
fn invalid_settings_name_rule_and_field() {
    let cases = [
        (
            r#"{"check": {"range": {"column": "v", "min": 5, "max": 1}}}"#,
            "`min`",
        ),
        (
            r#"{"check": {"allowed": {"column": "v", "values": []}}}"#,
            "`values`",
        ),
        (
            r#"{"check": {"pattern": {"column": "v", "regex": "(["}}}"#,
            "`regex`",
        ),
        (
            r#"{"check": {"length": {"column": "v", "min": 9, "max": 2}}}"#,
            "`min`",
        ),
        (r#"{"check": {"unique": {"columns": []}}}"#, "`columns`"),
        (
            r#"{"check": {"not_null": {"column": "v"}}, "max_failing_ratio": 2}"#,
            "`max_failing_ratio`",
        ),
        (
            r#"{"check": {"functional_dependency": {"determinant": ["a"], "dependent": ["b"], "then": {"c": "x"}}}}"#,
            "`then`",
        ),
    ];
    for (rule, field) in cases {
        let json = format!(r#"{{"rules": [{rule}]}}"#);
        let config = SuiteConfig::from_json(&json).expect("parses");
        let error = Suite::new(config).expect_err(rule);
        let message = error.to_string();
        assert!(message.contains("rule 0"), "{message}");
        assert!(message.contains(field), "{message}");
    }
}

#[test]
fn check_suite_stage_carries_table_issues_at_flush() {
    let ids = RowIdAllocator::default();
    let config = SuiteConfig::from_json(
        r#"{"rules": [
            {"check": {"unique": {"columns": ["id"]}}},
            {"check": {"range": {"column": "v", "min": 0}}}
        ]}"#,
    )
    .expect("config");
    let mut stage = CheckSuite::new(Suite::new(config).expect("suite"));
    let report = stage.report_handle();
    let mut ctx = StageContext::new("checks", 1, AuditLog::in_memory().into_handle());
    let first = governed(
        vec![
            ("id", text(&[Some("a"), Some("b")])),
            ("v", floats(&[Some(1.0), Some(-1.0)])),
        ],
        &ids,
    );
    let second = governed(
        vec![("id", text(&[Some("a")])), ("v", floats(&[Some(2.0)]))],
        &ids,
    );

    let out = stage.clean(first, &mut ctx).expect("first");
    assert_eq!(out.num_rows(), 2);
    assert_eq!(out.issues.len(), 1);
    let out = stage.clean(second, &mut ctx).expect("second");
    assert_eq!((out.num_rows(), out.issues.len()), (1, 0));

    let carrier = stage.flush(&mut ctx).expect("flush").expect("issues");
    assert_eq!(carrier.num_rows(), 0);
    let rows: Vec<u64> = carrier
        .issues
        .issues()
        .iter()
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(rows, vec![0, 2]);
    let report = report.lock().expect("lock").clone().expect("report");
    assert_eq!(report.rows, 3);
    assert_eq!(report.failed().len(), 2);
}
