//! k-anonymity report and the greedy generaliser.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray, TimestampSecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance_secure::kanon::{
    Hierarchy, KAnonymityConfig, QuasiIdentifier, anonymize, k_anonymity,
};

/// Twelve residents: ages, postcodes, visit times and a diagnosis that is not a
/// quasi-identifier.
fn residents() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("age", DataType::Int64, true),
        Field::new("postcode", DataType::Utf8, true),
        Field::new("visit", DataType::Timestamp(TimeUnit::Second, None), true),
        Field::new("diagnosis", DataType::Utf8, false),
    ]));
    let hour = 3_600;
    let base = 1_709_164_800; // 2024-02-29 00:00 UTC
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![
                23, 27, 29, 34, 36, 38, 41, 44, 47, 52, 58, 91,
            ])),
            Arc::new(StringArray::from(vec![
                "100080", "100081", "100083", "100084", "100085", "100086", "200030", "200031",
                "200032", "200033", "200034", "300001",
            ])),
            Arc::new(TimestampSecondArray::from(vec![
                base + hour,
                base + 2 * hour,
                base + 3 * hour,
                base + 4 * hour,
                base + 5 * hour,
                base + 6 * hour,
                base + 7 * hour,
                base + 8 * hour,
                base + 9 * hour,
                base + 10 * hour,
                base + 11 * hour,
                base + 400 * 24 * hour,
            ])),
            Arc::new(StringArray::from(vec!["flu"; 12])),
        ],
    )
    .expect("residents batch")
}

#[test]
fn report_counts_classes() {
    let batch = residents();
    let report = k_anonymity(&batch, &["diagnosis"]).expect("report");
    assert_eq!(report.k, Some(12));
    assert_eq!(report.classes, 1);
    let report = k_anonymity(&batch, &["age", "postcode"]).expect("report");
    assert_eq!(report.k, Some(1));
    assert_eq!(report.classes, 12);
    assert_eq!(report.class_sizes.get(&1), Some(&12));
    assert_eq!(report.rows_below(2), 12);
}

#[test]
fn generaliser_reaches_target_and_reports_loss() {
    let batch = residents();
    let config = KAnonymityConfig {
        max_suppressed_fraction: 0.1,
        ..KAnonymityConfig::new(
            3,
            vec![
                QuasiIdentifier::new("age", Hierarchy::numeric_bands(5.0)),
                QuasiIdentifier::new("postcode", Hierarchy::Prefix),
                QuasiIdentifier::new("visit", Hierarchy::Time),
            ],
        )
    };
    let result = anonymize(&batch, &config).expect("anonymizes");
    assert!(result.within_suppression_limit);
    assert!(
        result.report.k.expect("rows left") >= 3,
        "{:?}",
        result.report
    );

    // The 91-year-old from another postcode is alone in a class: one suppressed row is
    // within the 10% limit.
    assert_eq!(result.suppressed_rows, vec![11]);
    assert_eq!(result.released.num_rows(), 11);
    assert_eq!(result.loss.suppressed_rows, 1);

    // Check k again on the released rows, independently of the generaliser's own count.
    let recheck = k_anonymity(&result.released, &["age", "postcode", "visit"]).expect("report");
    assert_eq!(recheck.k, result.report.k);

    assert!(
        result.loss.ncp > 0.0 && result.loss.ncp < 1.0,
        "{:?}",
        result.loss
    );
    assert!(
        result.loss.columns.values().any(|column| column.level > 0),
        "{:?}",
        result.loss
    );
    for column in result.loss.columns.values() {
        assert!(column.level <= column.max_level);
        assert!((0.0..=1.0).contains(&column.ncp));
    }
    // Columns that are not quasi-identifiers are released unchanged.
    assert_eq!(result.released.column(3).as_string::<i32>().value(0), "flu");
}

#[test]
fn no_suppression_generalises_further() {
    let batch = residents();
    let config = KAnonymityConfig {
        max_suppressed_fraction: 0.0,
        ..KAnonymityConfig::new(
            2,
            vec![
                QuasiIdentifier::new("age", Hierarchy::numeric_bands(5.0)),
                QuasiIdentifier::new("postcode", Hierarchy::Prefix),
            ],
        )
    };
    let result = anonymize(&batch, &config).expect("anonymizes");
    assert!(result.suppressed_rows.is_empty());
    assert!(result.report.k.expect("rows") >= 2);
    assert_eq!(result.released.num_rows(), 12);
    let with_limit = anonymize(
        &batch,
        &KAnonymityConfig {
            max_suppressed_fraction: 0.1,
            ..config.clone()
        },
    )
    .expect("anonymizes");
    assert!(
        with_limit.loss.ncp <= result.loss.ncp + 1e-9 || !with_limit.suppressed_rows.is_empty()
    );
}

#[test]
fn table_smaller_than_k_is_suppressed() {
    let batch = residents().slice(0, 2);
    let config = KAnonymityConfig::new(
        5,
        vec![QuasiIdentifier::new("age", Hierarchy::numeric_bands(10.0))],
    );
    let result = anonymize(&batch, &config).expect("anonymizes");
    assert_eq!(result.suppressed_rows, vec![0, 1]);
    assert!(!result.within_suppression_limit);
    assert_eq!(result.released.num_rows(), 0);
    assert_eq!(result.report.k, None);
}

#[test]
fn nulls_form_their_own_class() {
    let schema = Arc::new(Schema::new(vec![Field::new("age", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from(vec![
            Some(30),
            None,
            None,
            Some(31),
        ]))],
    )
    .expect("batch");
    let config = KAnonymityConfig {
        max_suppressed_fraction: 0.0,
        ..KAnonymityConfig::new(
            2,
            vec![QuasiIdentifier::new("age", Hierarchy::numeric_bands(10.0))],
        )
    };
    let result = anonymize(&batch, &config).expect("anonymizes");
    assert_eq!(result.report.k, Some(2));
    let ages = result.released.column(0).as_string::<i32>();
    assert_eq!(ages.value(0), "[30, 40)");
    assert!(ages.is_null(1));
}

#[test]
fn bad_configs_are_rejected() {
    let batch = residents();
    let missing = KAnonymityConfig::new(2, vec![QuasiIdentifier::new("zip", Hierarchy::Prefix)]);
    let error = anonymize(&batch, &missing).expect_err("missing column");
    let message = error.to_string();
    assert!(message.contains("\"zip\""), "{message}");
    assert!(message.contains("postcode"), "{message}");

    let wrong_type = KAnonymityConfig::new(
        2,
        vec![QuasiIdentifier::new(
            "postcode",
            Hierarchy::numeric_bands(5.0),
        )],
    );
    assert!(anonymize(&batch, &wrong_type).is_err());

    let zero = KAnonymityConfig::new(0, vec![QuasiIdentifier::new("age", Hierarchy::Categorical)]);
    assert!(anonymize(&batch, &zero).is_err());

    let twice = KAnonymityConfig::new(
        2,
        vec![
            QuasiIdentifier::new("age", Hierarchy::Categorical),
            QuasiIdentifier::new("age", Hierarchy::Categorical),
        ],
    );
    assert!(anonymize(&batch, &twice).is_err());

    let parsed: Result<KAnonymityConfig, _> = serde_json::from_str(
        r#"{"k":2,"quasi_identifiers":[{"column":"age","hierarchy":"prefix"}],"extra":1}"#,
    );
    assert!(parsed.is_err());
}
