//! Plans with every kernel kind survive serialisation through the codecs, with no cluster.
//! The logical and the physical plan go to bytes and back into a context that has no
//! governance function registered, and the decoded plans must return the same rows.

mod common;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float32Type;
use datafusion::logical_expr::{col, ident, lit};
use datafusion::prelude::SessionContext;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use governance_ballista::{
    AggregateKernel, ChainInput, ColumnChain, GovernanceLogicalCodec, GovernancePhysicalCodec,
    KernelOutput, KeySource, ScalarKernel, aggregate,
};
use governance_clean::checks::SuiteConfig;
use governance_clean::{CanonicaliseConfig, RulesConfig, TimestampConfig};
use governance_fuse::er::block::KeyFunction;
use governance_fuse::er::compare::Comparator;
use governance_secure::{DetectorConfig, MaskConfig, MaskOperator, PiiKind, SecretKey};

use common::{assert_same_rows, sorted_rows};

/// A key written as hex; its bytes must never appear in a serialised plan.
const KEY_HEX: &str = "5f1e0c9a7d3b2e4f60718293a4b5c6d7e8f9011223344556677889900aabbccd";

const CSV: &str = "\
id,pm25,station,year,month,day,hour,note,phone,name_a,name_b
1,\"1,234 ug/m3\",Dongsi ,2013,3,1,0,call me at 13812345678,13812345678,Zhang Wei,Zhang Wey
2,NA,Dongsii,2013,2,30,1,路灯不亮,,Li Na,Li Na
3,abc,Tiantan,2013,3,1,2,mail a.person@example.com now,+86 138 1234 5678,,Wang
4,35,Tiantan,2013,3,1,3,,139-0000-1111,Chen Jie,Chen Jia
5,-4 ug/m3,Guanyuan,2013,3,1,4,ok,12,Zhou,Zhou
";

struct Fixture {
    _dir: tempfile::TempDir,
    csv: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("readings.csv");
    std::fs::write(&csv, CSV).expect("csv written");
    let key = dir.path().join("pseudonym.key");
    std::fs::write(&key, KEY_HEX).expect("key written");
    Fixture {
        _dir: dir,
        csv,
        key,
    }
}

fn chain(fixture: &Fixture) -> ColumnChain {
    let key_id = SecretKey::from_hex(KEY_HEX).expect("valid key").key_id();
    let rules: RulesConfig = serde_json::from_str(
        r#"{"rules": [
            {"column": "pm25", "check": {"range": {"min": 0, "max": 1000}}},
            {"column": "station", "check": {"allowed": ["Dongsi", "Tiantan", "Guanyuan"]},
             "action": "correct"}
        ]}"#,
    )
    .expect("rules parse");
    let checks: SuiteConfig = SuiteConfig::from_json(
        r#"{"rules": [
            {"check": {"pattern": {"column": "station", "regex": "^[A-Z][a-z]+$"}}},
            {"check": {"length": {"column": "note", "min": 3}}}
        ]}"#,
    )
    .expect("checks parse");
    ColumnChain::new(ChainInput::Csv(fixture.csv.clone()))
        .canonicalise(&CanonicaliseConfig {
            numeric: vec!["pm25".into()],
            trim: vec!["station".into()],
            timestamp: Some(TimestampConfig::default()),
            ..CanonicaliseConfig::default()
        })
        .expect("canonicalise step")
        .rules(&rules)
        .expect("rules step")
        .checks(&checks)
        .expect("checks step")
        .pii_kinds("note", &DetectorConfig::default())
        .expect("pii kinds step")
        .mask_text(
            "note",
            &DetectorConfig::default(),
            &MaskConfig::default(),
            None,
        )
        .expect("mask text step")
        .mask_value(
            "phone",
            PiiKind::Phone,
            MaskOperator::Pseudonym,
            Some(KeySource::file(&fixture.key).with_key_id(key_id)),
        )
        .expect("pseudonym step")
        .blocking_key("name_key", &["name_a"], KeyFunction::Soundex)
        .expect("blocking key step")
        .similarity(
            "name_similarity",
            "name_a",
            "name_b",
            Comparator::JaroWinkler,
        )
        .expect("similarity step")
}

/// Serialises the DataFrame's logical and physical plans, decodes both in a fresh context
/// and checks that they return `expected`.
async fn assert_round_trip(label: &str, df: datafusion::dataframe::DataFrame) -> Vec<RecordBatch> {
    let logical_codec = GovernanceLogicalCodec::default();
    let physical_codec = GovernancePhysicalCodec::default();
    let expected = sorted_rows(&df.clone().collect().await.expect("plan runs"));
    let fresh = SessionContext::new();

    let bytes = logical_plan_to_bytes_with_extension_codec(df.logical_plan(), &logical_codec)
        .expect("logical plan encodes");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("governance-u"),
        "{label}: no kernel config in the logical plan"
    );
    assert!(
        !text.contains(KEY_HEX),
        "{label}: the key leaked into the logical plan"
    );
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &fresh.task_ctx(), &logical_codec)
            .expect("logical plan decodes");
    let batches = fresh
        .execute_logical_plan(decoded)
        .await
        .expect("decoded logical plan plans")
        .collect()
        .await
        .expect("decoded logical plan runs");
    assert_same_rows(
        &format!("{label} logical"),
        &expected,
        &sorted_rows(&batches),
    );

    let physical = df
        .clone()
        .create_physical_plan()
        .await
        .expect("physical plan");
    let bytes = physical_plan_to_bytes_with_extension_codec(physical, &physical_codec)
        .expect("physical plan encodes");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("governance-u"),
        "{label}: no kernel config in the physical plan"
    );
    assert!(
        !text.contains(KEY_HEX),
        "{label}: the key leaked into the physical plan"
    );
    let decoded =
        physical_plan_from_bytes_with_extension_codec(&bytes, &fresh.task_ctx(), &physical_codec)
            .expect("physical plan decodes");
    let batches = datafusion::physical_plan::collect(decoded, fresh.task_ctx())
        .await
        .expect("decoded physical plan runs");
    assert_same_rows(
        &format!("{label} physical"),
        &expected,
        &sorted_rows(&batches),
    );
    batches
}

#[tokio::test]
async fn scalar_kernels_round_trip() {
    let fixture = fixture();
    let ctx = SessionContext::new();
    let df = chain(&fixture).plan(&ctx).await.expect("chain plans");
    let batches = assert_round_trip("scalar kernels", df).await;

    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 5);
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches)
        .expect("batches concatenate");
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("output lacks {name}"))
            .clone()
    };
    let notes = column("note");
    let notes = arrow::compute::cast(&notes, &arrow::datatypes::DataType::Utf8).expect("text");
    for note in notes.as_string::<i32>().iter().flatten() {
        assert!(!note.contains("13812345678"), "phone left in {note:?}");
        assert!(
            !note.contains("a.person@example.com"),
            "e-mail left in {note:?}"
        );
    }
    let phones = column("phone");
    let phones = arrow::compute::cast(&phones, &arrow::datatypes::DataType::Utf8).expect("text");
    let pseudonyms: Vec<&str> = phones.as_string::<i32>().iter().flatten().collect();
    assert!(
        pseudonyms.iter().any(|value| value.starts_with("phone_")),
        "{pseudonyms:?}"
    );
    let stations = column("station");
    let stations =
        arrow::compute::cast(&stations, &arrow::datatypes::DataType::Utf8).expect("text");
    let stations: Vec<&str> = stations.as_string::<i32>().iter().flatten().collect();
    assert!(
        !stations.contains(&"Dongsii"),
        "typo not corrected: {stations:?}"
    );
    assert!(
        !stations.contains(&"Dongsi "),
        "space not trimmed: {stations:?}"
    );

    // The correction of "Dongsii" keeps its severity, suggestion and confidence through the
    // decoded plan: one edit in seven letters.
    let corrections = column("issues__rules_1__station");
    let corrections = corrections.as_list::<i32>();
    let corrected: Vec<usize> = (0..corrections.len())
        .filter(|row| corrections.is_valid(*row))
        .collect();
    assert_eq!(corrected.len(), 1, "one station is corrected");
    let issues = corrections.value(corrected[0]);
    let issues = issues.as_struct();
    let text = |name: &str, index: usize| {
        issues
            .column_by_name(name)
            .unwrap_or_else(|| panic!("issue struct lacks {name}"))
            .as_string::<i32>()
            .value(index)
            .to_string()
    };
    let kinds: Vec<String> = (0..issues.len()).map(|index| text("kind", index)).collect();
    assert_eq!(kinds, ["not_allowed", "canonicalised"]);
    assert_eq!(text("severity", 0), "error");
    assert_eq!(text("severity", 1), "info");
    assert_eq!(text("suggested", 1), "Dongsi");
    let confidence = issues
        .column_by_name("confidence")
        .expect("confidence field")
        .as_primitive::<Float32Type>();
    assert_eq!(confidence.value(0), 1.0);
    assert!(
        (confidence.value(1) - 6.0 / 7.0).abs() < 1e-6,
        "confidence {}",
        confidence.value(1)
    );
}

fn aggregates() -> Vec<datafusion::logical_expr::Expr> {
    let range_rule = ScalarKernel::Rule {
        rule: serde_json::from_str(r#"{"column": "pm25", "check": {"range": {"min": 0}}}"#)
            .expect("rule parses"),
        max_edit_distance: 2,
        output: KernelOutput::Issue,
    };
    vec![
        aggregate(AggregateKernel::NullRate, vec![col("pm25")])
            .expect("null rate")
            .alias("pm25_null_rate"),
        aggregate(AggregateKernel::DistinctEstimate, vec![col("station")])
            .expect("distinct estimate")
            .alias("station_distinct"),
        aggregate(
            AggregateKernel::FailingCount { kernel: range_rule },
            vec![col("pm25")],
        )
        .expect("failing count")
        .alias("pm25_failing"),
        aggregate(
            AggregateKernel::ColumnProfile {
                column: "pm25".into(),
                config: Default::default(),
            },
            vec![col("pm25")],
        )
        .expect("column profile")
        .alias("pm25_profile"),
    ]
}

#[tokio::test]
async fn aggregate_kernels_round_trip() {
    let fixture = fixture();
    let ctx = SessionContext::new();
    // A constant group key gives the plan a partial and a final aggregation step.
    let df = chain(&fixture)
        .plan(&ctx)
        .await
        .expect("chain plans")
        .with_column("bucket", lit(1))
        .expect("bucket column")
        .aggregate(vec![ident("bucket")], aggregates())
        .expect("aggregate plans");
    let batches = assert_round_trip("aggregate kernels", df).await;

    let batch = batches
        .iter()
        .find(|batch| batch.num_rows() > 0)
        .expect("one result row");
    let value = |name: &str| {
        let column = batch.column_by_name(name).expect("aggregate column");
        arrow::util::display::array_value_to_string(column, 0).expect("value formats")
    };
    // pm25 after canonicalisation: 1234, null (NA), null (abc), 35, -4.
    assert_eq!(value("pm25_null_rate"), "0.4");
    assert_eq!(value("station_distinct"), "3");
    assert_eq!(value("pm25_failing"), "1");
    let profile: serde_json::Value =
        serde_json::from_str(&value("pm25_profile")).expect("profile is JSON");
    assert_eq!(profile["rows"], 5);
    assert_eq!(profile["null_count"], 2);
    assert_eq!(profile["name"], "pm25");
    // The final step rebuilds these from the partial step's serialised profile state.
    assert_eq!(profile["distinct_count"], 3);
    assert_eq!(profile["min"], "-4");
    assert_eq!(profile["max"], "1234");
}
