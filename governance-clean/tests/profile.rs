//! Profiling, rule suggestion and dependency discovery as a user runs them, plus the bad
//! inputs every part must survive: empty tables, all-null columns, mixed types, very long
//! cells, Chinese text, emoji and right-to-left text.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_clean::checks::{RuleCheck, Suite, SuiteConfig};
use governance_clean::profile::{
    DependencyConfig, ProfileConfig, Profiler, SemanticType, SuggestConfig, discover_dependencies,
    profile_batches, suggest_rules,
};
use governance_core::{GovernedBatch, Provenance, RowIdAllocator};

fn table(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("table")
}

fn text(values: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn city_table(rows: usize) -> RecordBatch {
    let stations = ["Dongsi", "Tiantan", "Wanliu"];
    table(vec![
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..rows as i64)) as ArrayRef,
        ),
        (
            "station",
            text(
                (0..rows)
                    .map(|i| Some(stations[i % 3].to_string()))
                    .collect(),
            ),
        ),
        (
            "district",
            text((0..rows).map(|i| Some(format!("D{}", i % 3))).collect()),
        ),
        (
            "pm25",
            Arc::new(Float64Array::from_iter(
                (0..rows).map(|i| (i % 7 != 0).then_some((i % 100) as f64)),
            )),
        ),
        (
            "mail",
            text(
                (0..rows)
                    .map(|i| Some(format!("user{i}@example.org")))
                    .collect(),
            ),
        ),
        (
            "code",
            text((0..rows).map(|i| Some(format!("AB-{}", 100 + i))).collect()),
        ),
    ])
}

#[test]
fn profile_reports_column_figures() {
    let data = city_table(1000);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    assert_eq!(profile.rows, 1000);

    let id = profile.column("id").expect("id");
    assert_eq!(id.semantic_type, SemanticType::Identifier);
    assert_eq!(id.distinct_count, 1000);

    let station = profile.column("station").expect("station");
    assert_eq!(station.semantic_type, SemanticType::Categorical);
    assert_eq!(station.distinct_count, 3);
    assert_eq!(station.top_values[0].count, 334);
    assert_eq!(station.patterns[0].value, "Aa");

    let pm25 = profile.column("pm25").expect("pm25");
    assert_eq!(pm25.null_count, 143);
    assert!((pm25.null_rate - 0.143).abs() < 1e-9);
    let numeric = pm25.numeric.as_ref().expect("numeric");
    assert_eq!((numeric.min, numeric.max), (0.0, 99.0));
    assert!(
        (numeric.quantiles[50] - 50.0).abs() < 3.0,
        "{}",
        numeric.quantiles[50]
    );

    assert_eq!(
        profile.column("mail").expect("mail").semantic_type,
        SemanticType::Email
    );
    let code = profile.column("code").expect("code");
    assert_eq!(code.patterns.len(), 1);
    assert_eq!(code.patterns[0].value, "A-9");
}

#[test]
fn distinct_count_is_estimated_beyond_tracking() {
    let values: Vec<Option<String>> = (0..50_000).map(|i| Some(format!("v{i}"))).collect();
    let data = table(vec![("v", text(values))]);
    let config = ProfileConfig {
        max_tracked_values: 1000,
        ..ProfileConfig::default()
    };
    let profile = profile_batches([&data], config).expect("profile");
    let column = &profile.columns[0];
    assert!(!column.distinct_is_exact);
    let error = (column.distinct_count as f64 - 50_000.0).abs() / 50_000.0;
    assert!(
        error < 0.03,
        "estimate {} is {error} off",
        column.distinct_count
    );
}

#[test]
fn suggested_rules_pass_on_profiled_data() {
    let data = city_table(600);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    let (suggestions, suite) = suggest_rules(&profile, &SuggestConfig::default());
    let kinds: Vec<(String, &str)> = suggestions
        .iter()
        .map(|suggestion| {
            (
                suggestion.rule.display_name(),
                suggestion.rule.check.kind_name(),
            )
        })
        .collect();
    let has = |name: &str| kinds.iter().any(|(rule, _)| rule == name);
    assert!(has("not_null(station)"), "{kinds:?}");
    assert!(has("allowed(station)"), "{kinds:?}");
    assert!(has("completeness(pm25)"), "{kinds:?}");
    assert!(has("range(pm25)"), "{kinds:?}");
    assert!(has("format(mail)"), "{kinds:?}");
    assert!(has("pattern(code)"), "{kinds:?}");
    assert!(has("unique(id)"), "{kinds:?}");
    assert!(!has("unique(station)"), "{kinds:?}");

    // The config round-trips through JSON and passes on the data it came from.
    let json = serde_json::to_string(&suite).expect("json");
    let config = SuiteConfig::from_json(&json).expect("parses");
    let ids = RowIdAllocator::default();
    let batch = GovernedBatch::try_new(
        data.clone(),
        ids.allocate(data.num_rows()),
        Provenance::new("t"),
    )
    .expect("governed");
    let report = Suite::new(config)
        .expect("suite")
        .check_all([&batch])
        .expect("checked");
    assert!(report.passed, "{:?}", report.failed());
}

#[test]
fn profile_reference_feeds_drift_rule() {
    let data = city_table(1000);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    let reference = profile
        .column("pm25")
        .expect("pm25")
        .reference()
        .expect("numeric");
    let station_reference = profile
        .column("station")
        .expect("station")
        .reference()
        .expect("categorical");
    let rules = serde_json::json!({"rules": [
        {"name": "pm", "check": {"drift": {"column": "pm25", "reference": reference}}},
        {"name": "st", "check": {"drift": {"column": "station", "reference": station_reference}}}
    ]});
    let config = SuiteConfig::from_json(&rules.to_string()).expect("config");
    let ids = RowIdAllocator::default();
    let batch = GovernedBatch::try_new(data.clone(), ids.allocate(1000), Provenance::new("t"))
        .expect("governed");
    let report = Suite::new(config)
        .expect("suite")
        .check_all([&batch])
        .expect("checked");
    assert!(report.passed, "{:?}", report.failed());
}

#[test]
fn discovery_finds_planted_dependency() {
    let data = city_table(3000);
    let found = discover_dependencies(&data, &DependencyConfig::default()).expect("discovery");
    let pairs: Vec<(String, String)> = found
        .iter()
        .map(|dependency| {
            (
                dependency.determinant.join(","),
                dependency.dependent.clone(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("station".into(), "district".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("district".into(), "station".into())),
        "{pairs:?}"
    );
    assert!(
        !pairs.iter().any(|(determinant, _)| determinant == "id"),
        "keys are skipped"
    );
    let dependency = found
        .iter()
        .find(|dependency| dependency.dependent == "district")
        .expect("district");
    assert_eq!(dependency.error, 0.0);
    assert_eq!(dependency.support, 1.0);
    assert!(matches!(
        dependency.rule.check,
        RuleCheck::FunctionalDependency(_)
    ));
}

#[test]
fn discovery_tolerates_noise_within_threshold() {
    let rows = 2000;
    let zone: Vec<Option<String>> = (0..rows).map(|i| Some(format!("z{}", i % 10))).collect();
    // One row in 200 breaks zone -> city.
    let city: Vec<Option<String>> = (0..rows)
        .map(|i| {
            Some(if i % 200 == 7 {
                "wrong".into()
            } else {
                format!("c{}", i % 10 / 2)
            })
        })
        .collect();
    let data = table(vec![("zone", text(zone)), ("city", text(city))]);
    let found = discover_dependencies(&data, &DependencyConfig::default()).expect("discovery");
    let dependency = found
        .iter()
        .find(|dependency| dependency.dependent == "city")
        .expect("zone -> city within 1%");
    assert!(
        (dependency.error - 0.005).abs() < 1e-9,
        "{}",
        dependency.error
    );
    assert_eq!(dependency.rule.max_failing_ratio, dependency.error);
}

// Bad input: each case goes through the profiler and a suite of rules, and every row must
// come back accounted for.

fn hostile_suite() -> Suite {
    let config = SuiteConfig::from_json(
        r#"{"rules": [
            {"check": {"not_null": {"column": "v"}}},
            {"check": {"unique": {"columns": ["v"]}}},
            {"check": {"length": {"column": "v", "max": 20}}},
            {"check": {"pattern": {"column": "v", "regex": "^\\p{L}+$"}}},
            {"check": {"range": {"column": "v", "min": 0}}},
            {"check": {"type": {"column": "v", "expected": "integer"}}},
            {"check": {"functional_dependency": {"determinant": ["v"], "dependent": ["v"]}}},
            {"check": {"row_count": {"min": 0}}}
        ]}"#,
    )
    .expect("config");
    Suite::new(config).expect("suite")
}

fn survive(values: Vec<Option<String>>) -> (GovernedBatch, Vec<governance_core::Issue>) {
    let data = table(vec![("v", text(values))]);
    let rows = data.num_rows();
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    assert_eq!(profile.rows, rows as u64);
    discover_dependencies(&data, &DependencyConfig::default()).expect("discovery");
    let ids = RowIdAllocator::default();
    let batch =
        GovernedBatch::try_new(data, ids.allocate(rows), Provenance::new("t")).expect("governed");
    let report = hostile_suite().check_all([&batch]).expect("checked");
    assert_eq!(report.rows, rows as u64, "no row lost");
    (batch, report.issues)
}

#[test]
fn empty_table_passes_through() {
    let (batch, issues) = survive(Vec::new());
    assert_eq!(batch.num_rows(), 0);
    assert!(issues.is_empty());
    let profile = profile_batches([batch.data()], ProfileConfig::default()).expect("profile");
    assert_eq!(profile.columns[0].semantic_type, SemanticType::Unknown);
    let (suggestions, _) = suggest_rules(&profile, &SuggestConfig::default());
    assert!(suggestions.is_empty());
}

#[test]
fn all_null_column_is_all_missing() {
    let (_, issues) = survive(vec![None; 5]);
    let missing = issues
        .iter()
        .filter(|issue| issue.kind == governance_core::IssueKind::Missing)
        .count();
    assert_eq!(missing, 5);
    let data = table(vec![(
        "v",
        Arc::new(StringArray::from(vec![None::<&str>; 5])) as ArrayRef,
    )]);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    assert_eq!(profile.columns[0].null_rate, 1.0);
    assert_eq!(profile.columns[0].distinct_count, 0);
}

#[test]
fn mixed_types_in_text_column() {
    let values = ["12", "twelve", "3.5", "-4", "十二"];
    let (_, issues) = survive(values.iter().map(|value| Some(value.to_string())).collect());
    let range_words: Vec<u64> = issues
        .iter()
        .filter(|issue| {
            issue.message.contains("range(v)") && issue.message.contains("not a number")
        })
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(range_words, vec![1, 4]);
    let below: Vec<u64> = issues
        .iter()
        .filter(|issue| issue.message.contains("below the minimum"))
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(below, vec![3]);
    let data = table(vec![(
        "v",
        text(values.iter().map(|value| Some(value.to_string())).collect()),
    )]);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    assert!(
        profile.columns[0].numeric.is_none(),
        "words make it non-numeric"
    );
}

#[test]
fn very_long_cells_are_quoted_short() {
    let long = "长".repeat(10_000);
    let (_, issues) = survive(vec![Some(long.clone()), Some("x".into())]);
    let length = issues
        .iter()
        .find(|issue| issue.message.contains("length(v)"))
        .expect("too long");
    assert!(
        length
            .message
            .contains("10000 characters, more than the maximum 20"),
        "{}",
        length.message
    );
    assert!(
        length.message.chars().count() < 400,
        "value is cut in the message"
    );
    let data = table(vec![("v", text(vec![Some(long)]))]);
    let profile = profile_batches([&data], ProfileConfig::default()).expect("profile");
    assert_eq!(profile.columns[0].max_length, Some(10_000));
}

#[test]
fn chinese_emoji_and_right_to_left_text() {
    let values = ["北京市朝阳区", "🚌🚋", "مرحبا", "שלום", "北京市朝阳区"];
    let (_, issues) = survive(values.iter().map(|value| Some(value.to_string())).collect());
    let duplicates: Vec<u64> = issues
        .iter()
        .filter(|issue| issue.kind == governance_core::IssueKind::Duplicate)
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(duplicates, vec![0, 4]);
    let pattern: Vec<u64> = issues
        .iter()
        .filter(|issue| issue.message.contains("pattern(v)"))
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(
        pattern,
        vec![1],
        "letters of every script match \\p{{L}}; emoji do not"
    );
    let data = table(vec![(
        "v",
        text(values.iter().map(|value| Some(value.to_string())).collect()),
    )]);
    let mut profiler = Profiler::default();
    profiler.update(&data).expect("update");
    let profile = profiler.finish();
    let column = &profile.columns[0];
    assert_eq!(column.distinct_count, 4);
    assert_eq!(column.min_length, Some(2));
    let patterns: Vec<&str> = column
        .patterns
        .iter()
        .map(|pattern| pattern.value.as_str())
        .collect();
    assert!(patterns.contains(&"a"), "{patterns:?}");
    assert!(patterns.contains(&"🚌🚋"), "{patterns:?}");
}

#[test]
fn profiler_rejects_changed_columns() {
    let mut profiler = Profiler::default();
    profiler
        .update(&table(vec![("a", text(vec![Some("x".into())]))]))
        .expect("first");
    let error = profiler
        .update(&table(vec![("b", text(vec![Some("x".into())]))]))
        .expect_err("changed");
    assert!(
        error
            .to_string()
            .contains("differ from the profiled columns [a]"),
        "{error}"
    );
    assert_eq!(DataType::Utf8.to_string(), "Utf8");
}
