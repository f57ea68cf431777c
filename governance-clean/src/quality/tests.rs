use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use governance_core::{Issue, IssueKind, RowIdAllocator, Severity};

use super::*;
use crate::support::testing::{HOUR_MS, audit_details, batch, context, floats, texts};

fn assert_close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a score");
    assert!(
        (actual - expected).abs() < 1e-12,
        "expected {expected}, got {actual}"
    );
}

/// Four rows over `a` (Float64) and `b` (Utf8): row 0 clean, row 1 with a null `a`, row 2
/// with a blank `b` and an outlier flag of confidence 0.5 on `a`, row 3 with an out-of-range
/// error on `a`. An info-level canonicalisation on row 0 counts for nothing.
fn flagged_batch() -> GovernedBatch {
    let ids = RowIdAllocator::default();
    let mut input = batch(
        vec![
            (
                "a",
                Arc::new(Float64Array::from(vec![
                    Some(1.0),
                    None,
                    Some(3.0),
                    Some(4.0),
                ])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(StringArray::from(vec!["x", "y", " ", "z"])) as ArrayRef,
            ),
        ],
        &ids,
    );
    input.push_issue(Issue::cell(
        0,
        "b",
        IssueKind::Canonicalised,
        Severity::Info,
        "test",
        "trimmed",
    ));
    input.push_issue(
        Issue::cell(2, "a", IssueKind::Outlier, Severity::Warning, "test", "far")
            .with_confidence(0.5),
    );
    input.push_issue(Issue::cell(
        3,
        "a",
        IssueKind::OutOfRange,
        Severity::Error,
        "test",
        "above max",
    ));
    input
}

fn gate(min_tier: Tier, routing: Routing) -> QualityGate {
    QualityGate::new(QualityConfig {
        min_tier,
        routing,
        ..QualityConfig::default()
    })
    .expect("valid config")
}

#[test]
fn hand_built_batch_scores_exactly() {
    let mut stage = gate(Tier::BelowBronze, Routing::Row);
    let output = stage
        .clean(flagged_batch(), &mut context("quality"))
        .expect("clean");
    let quality = stage.last_quality().expect("scored");

    // Without timeliness the weights 0.3, 0.3 and 0.2 are divided by 0.8.
    let a = &quality.columns[0].scores;
    assert_eq!(quality.columns[0].column, "a");
    assert_close(a.completeness, 0.75);
    assert_close(a.accuracy, 1.0 - 1.5 / 3.0);
    assert_close(a.consistency, 0.75);
    assert_eq!(a.timeliness, None);
    assert_close(a.usability, 0.525 / 0.8);

    let b = &quality.columns[1].scores;
    assert_close(b.completeness, 0.75);
    assert_close(b.accuracy, 1.0);
    assert_close(b.consistency, 1.0);
    assert_close(b.usability, 0.725 / 0.8);

    assert_close(quality.batch.completeness, 0.75);
    assert_close(quality.batch.accuracy, 0.75);
    assert_close(quality.batch.consistency, 0.75);
    assert_close(quality.batch.usability, 0.75);

    let usability: Vec<Option<f64>> = quality.row_scores.iter().map(|s| s.usability).collect();
    assert_close(usability[0], 1.0);
    assert_close(usability[1], 0.8125);
    assert_close(usability[2], 0.625);
    assert_close(usability[3], 0.5625);
    assert_eq!(floats(&output, "quality_score"), usability);
    assert_eq!(
        texts(&output, "quality_tier"),
        vec![
            Some("gold".to_string()),
            Some("silver".to_string()),
            Some("bronze".to_string()),
            Some("bronze".to_string())
        ]
    );
}

#[test]
fn rows_below_min_tier_are_quarantined() {
    let mut stage = gate(Tier::Silver, Routing::Row);
    let mut ctx = context("quality");
    let output = stage.clean(flagged_batch(), &mut ctx).expect("clean");

    assert_eq!(output.row_ids().values().to_vec(), vec![0, 1]);
    assert_eq!(ctx.quarantined_len(), 2);
    assert_eq!(output.num_rows() + ctx.quarantined_len(), 4);
    assert_eq!(
        texts(&output, "quality_tier"),
        vec![Some("gold".to_string()), Some("silver".to_string())]
    );
    // Issues of quarantined rows leave with them.
    assert!(output.issues.issues().iter().all(|issue| issue.row_id < 2));

    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined[0].row_id, Some(2));
    assert!(
        quarantined[0]
            .reason
            .contains("quality tier bronze is below the minimum tier silver"),
        "{}",
        quarantined[0].reason
    );
    assert!(
        quarantined[0].reason.contains("usability=0.625"),
        "{}",
        quarantined[0].reason
    );
    assert!(
        quarantined[1].reason.contains("consistency=0.000"),
        "{}",
        quarantined[1].reason
    );
    assert_eq!(quarantined[1].raw, "a=4.0, b=z");

    assert_eq!(stage.tier_counts().get(&Tier::Bronze), Some(&2));
    let events = ctx.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "quality_scored");
    let parameters = &events[0].parameters;
    assert_eq!(parameters["rows"], 4);
    assert_eq!(parameters["quarantined"], 2);
    assert_eq!(parameters["tiers"]["bronze"], 2);
    assert_eq!(parameters["tiers"]["gold"], 1);
    let usability = parameters["scores"]["usability"]
        .as_f64()
        .expect("a number");
    assert!((usability - 0.75).abs() < 1e-9, "{usability}");
    assert_eq!(
        audit_details(&ctx),
        vec![
            "rows=4 quarantined=2 bronze=2 silver=1 gold=1 usability=0.750 completeness=0.750 \
             accuracy=0.750 consistency=0.750"
                .to_string()
        ]
    );
}

#[test]
fn gold_minimum_keeps_only_clean_row() {
    let mut ctx = context("quality");
    let output = gate(Tier::Gold, Routing::Row)
        .clean(flagged_batch(), &mut ctx)
        .expect("clean");
    assert_eq!(output.row_ids().values().to_vec(), vec![0]);
    assert_eq!(ctx.quarantined_len(), 3);
}

#[test]
fn batch_routing_moves_whole_batch() {
    // The batch's usability is 0.75: silver.
    let mut ctx = context("quality");
    let output = gate(Tier::Gold, Routing::Batch)
        .clean(flagged_batch(), &mut ctx)
        .expect("clean");
    assert_eq!(output.num_rows(), 0);
    assert_eq!(ctx.quarantined_len(), 4);

    let mut ctx = context("quality");
    let output = gate(Tier::Silver, Routing::Batch)
        .clean(flagged_batch(), &mut ctx)
        .expect("clean");
    assert_eq!(output.num_rows(), 4);
    assert_eq!(ctx.quarantined_len(), 0);
    for score in floats(&output, "quality_score") {
        assert_close(score, 0.75);
    }
    assert_eq!(
        texts(&output, "quality_tier"),
        vec![Some("silver".to_string()); 4]
    );
}

#[test]
fn empty_batch_has_no_scores() {
    let ids = RowIdAllocator::default();
    let input = batch(
        vec![(
            "a",
            Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef,
        )],
        &ids,
    );
    let mut stage = gate(Tier::Gold, Routing::Row);
    let mut ctx = context("quality");
    let output = stage.clean(input, &mut ctx).expect("clean");
    let quality = stage.last_quality().expect("scored");

    assert_eq!(output.num_rows(), 0);
    assert_eq!(ctx.quarantined_len(), 0);
    assert_eq!(quality.batch, Scores::default());
    assert_eq!(quality.columns[0].scores, Scores::default());
    assert!(output.column("quality_tier").is_ok());
}

#[test]
fn all_null_column_has_no_accuracy() {
    let ids = RowIdAllocator::default();
    let input = batch(
        vec![(
            "empty",
            Arc::new(Float64Array::from(vec![None, None, None])) as ArrayRef,
        )],
        &ids,
    );
    let mut stage = gate(Tier::BelowBronze, Routing::Row);
    let output = stage.clean(input, &mut context("quality")).expect("clean");
    let scores = stage.last_quality().expect("scored").columns[0].scores;

    assert_close(scores.completeness, 0.0);
    assert_eq!(scores.accuracy, None);
    assert_close(scores.consistency, 1.0);
    // Accuracy drops out: (0.3 * 0 + 0.2 * 1) / 0.5.
    assert_close(scores.usability, 0.4);
    assert_eq!(
        texts(&output, "quality_tier"),
        vec![Some("below_bronze".to_string()); 3]
    );
}

#[test]
fn unicode_columns_and_blank_text() {
    let ids = RowIdAllocator::default();
    let mut input = batch(
        vec![
            (
                "温度",
                Arc::new(Float64Array::from(vec![Some(21.5), Some(80.0)])) as ArrayRef,
            ),
            (
                "站点名",
                // An ideographic space (U+3000) is blank.
                Arc::new(StringArray::from(vec!["东四", "\u{3000}"])) as ArrayRef,
            ),
        ],
        &ids,
    );
    input.push_issue(Issue::cell(
        1,
        "温度",
        IssueKind::OutOfRange,
        Severity::Error,
        "test",
        "above 60",
    ));
    let mut stage = gate(Tier::Bronze, Routing::Row);
    let mut ctx = context("quality");
    let output = stage.clean(input, &mut ctx).expect("clean");
    let quality = stage.last_quality().expect("scored");

    assert_eq!(quality.columns[0].column, "温度");
    assert_close(quality.columns[0].scores.accuracy, 0.5);
    assert_close(quality.columns[1].scores.completeness, 0.5);
    // Row 1: completeness 0.5, accuracy 0, consistency 0 gives 0.1875.
    assert_close(quality.row_scores[1].usability, 0.15 / 0.8);
    assert_eq!(output.row_ids().values().to_vec(), vec![0]);
    let quarantined = ctx.take_quarantined();
    assert!(
        quarantined[0].raw.contains("站点名=\u{3000}"),
        "{}",
        quarantined[0].raw
    );
}

#[test]
fn timeliness_decays_over_window() {
    let ids = RowIdAllocator::default();
    let hours = [Some(10), Some(5), Some(0), None, Some(12)];
    let input = batch(
        vec![
            (
                "timestamp",
                Arc::new(TimestampMillisecondArray::from(
                    hours
                        .iter()
                        .map(|hour| hour.map(|h| h * HOUR_MS))
                        .collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
            (
                "value",
                Arc::new(Float64Array::from(vec![1.0; 5])) as ArrayRef,
            ),
        ],
        &ids,
    );
    let config = QualityConfig {
        timeliness: Some(TimelinessConfig {
            column: "timestamp".into(),
            window_seconds: 10.0 * 3600.0,
            reference_ms: Some(10 * HOUR_MS),
        }),
        columns: Some(vec!["value".into()]),
        min_tier: Tier::BelowBronze,
        ..QualityConfig::default()
    };
    let mut stage = QualityGate::new(config).expect("valid");
    stage.clean(input, &mut context("quality")).expect("clean");
    let quality = stage.last_quality().expect("scored");

    let timeliness: Vec<Option<f64>> = quality.row_scores.iter().map(|s| s.timeliness).collect();
    assert_eq!(
        timeliness,
        vec![Some(1.0), Some(0.5), Some(0.0), Some(0.0), Some(1.0)]
    );
    assert_close(quality.batch.timeliness, 0.5);
    assert_close(quality.columns[0].scores.timeliness, 0.5);
    // Row 2: (0.3 + 0.3 + 0.2 + 0.2 * 0) / 1.
    assert_close(quality.row_scores[2].usability, 0.8);
}

#[test]
fn second_pass_replaces_output_columns() {
    let mut first = gate(Tier::BelowBronze, Routing::Row);
    let once = first
        .clean(flagged_batch(), &mut context("quality"))
        .expect("first pass");
    let mut second = gate(Tier::BelowBronze, Routing::Row);
    let twice = second
        .clean(once, &mut context("quality"))
        .expect("second pass");

    assert_eq!(
        twice.column_names(),
        vec!["a", "b", "quality_score", "quality_tier"]
    );
    let quality = second.last_quality().expect("scored");
    assert_eq!(quality.columns.len(), 2);
    assert_close(quality.batch.usability, 0.75);
}

#[test]
fn missing_columns_are_named() {
    let config = QualityConfig {
        columns: Some(vec!["PM2.5".into()]),
        ..QualityConfig::default()
    };
    let error = QualityGate::new(config)
        .expect("valid")
        .clean(flagged_batch(), &mut context("quality"))
        .expect_err("absent column");
    let message = error.to_string();
    assert!(message.contains("\"PM2.5\""), "{message}");
    assert!(message.contains("columns are: a, b"), "{message}");

    let config = QualityConfig {
        timeliness: Some(TimelinessConfig {
            column: "b".into(),
            window_seconds: 60.0,
            reference_ms: None,
        }),
        ..QualityConfig::default()
    };
    let error = QualityGate::new(config)
        .expect("valid")
        .clean(flagged_batch(), &mut context("quality"))
        .expect_err("text time column");
    assert!(
        error.to_string().contains("time column \"b\" is Utf8"),
        "{error}"
    );
}

#[test]
fn config_reads_from_toml_like_json() {
    let config: QualityConfig = serde_json::from_str(
        r#"{"min_tier": "silver", "routing": "batch",
            "tiers": {"gold": 0.95, "silver": 0.8, "bronze": 0.6},
            "accuracy_kinds": ["outlier"], "min_severity": "error"}"#,
    )
    .expect("parses");
    assert_eq!(config.min_tier, Tier::Silver);
    assert_eq!(config.routing, Routing::Batch);
    assert_eq!(config.accuracy_kinds, vec![IssueKind::Outlier]);
    assert_eq!(config.min_severity, Severity::Error);
    assert!(QualityGate::new(config).is_ok());
}

#[test]
fn min_severity_ignores_warnings() {
    let config = QualityConfig {
        min_severity: Severity::Error,
        min_tier: Tier::BelowBronze,
        ..QualityConfig::default()
    };
    let mut stage = QualityGate::new(config).expect("valid");
    stage
        .clean(flagged_batch(), &mut context("quality"))
        .expect("clean");
    // The warning-level outlier on row 2 no longer counts: only row 3's error flags `a`.
    let a = stage.last_quality().expect("scored").columns[0].scores;
    assert_close(a.accuracy, 1.0 - 1.0 / 3.0);
}
