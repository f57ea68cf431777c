//! One plan over synthetic city files on a plain DataFusion context and on Ballista
//! standalone (scheduler and executor in this process, on localhost ports): both return
//! the same rows, and those rows equal what the local stages give on the same batches.

mod common;

use std::path::Path;

use arrow::array::{Array, RecordBatch};
use arrow::compute::concat_batches;
use datafusion::prelude::SessionContext;
use governance_ballista::{ChainInput, ColumnChain, KeySource, session};
use governance_clean::checks::{CheckSuite, Suite, SuiteConfig};
use governance_clean::{Canonicalise, CanonicaliseConfig, Rules, RulesConfig};
use governance_collect::{SyntheticCity, SyntheticConfig};
use governance_core::audit::AuditLog;
use governance_core::{
    AccessRequest, Cleaner, GovernedBatch, Guard, Issue, Severity, StageContext,
};
use governance_secure::fpe::FpeConfig;
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{
    ColumnGuardConfig, DetectorConfig, MaskConfig, MaskOperator, Masker, MaskerKeys, PiiGuard,
    PiiGuardConfig, PiiKind, SecretKey,
};

use common::{assert_same_rows, column_names, expected_rows, sorted_rows, write_parquet};

const KEY_HEX: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

fn city() -> SyntheticCity {
    SyntheticCity::new(SyntheticConfig {
        days: 14,
        ..SyntheticConfig::default()
    })
    .expect("synthetic city")
}

fn sensor_configs(city: &SyntheticCity) -> (CanonicaliseConfig, RulesConfig, SuiteConfig) {
    let canonicalise = CanonicaliseConfig {
        numeric: vec!["PM2.5".into(), "PM10".into()],
        trim: vec!["station".into()],
        timestamp: Some(Default::default()),
        ..CanonicaliseConfig::default()
    };
    let rules = RulesConfig {
        rules: vec![
            serde_json::from_value(serde_json::json!(
                {"column": "PM2.5", "check": {"range": {"min": 0, "max": 500}}}
            ))
            .expect("range rule"),
            serde_json::from_value(serde_json::json!(
                {"column": "station", "check": {"allowed": city.stations()}, "action": "correct"}
            ))
            .expect("allowed rule"),
        ],
        ..RulesConfig::default()
    };
    let checks =
        SuiteConfig::from_json(r#"{"rules": [{"check": {"not_null": {"column": "PM10"}}}]}"#)
            .expect("checks parse");
    (canonicalise, rules, checks)
}

fn sensor_chain(path: &Path, city: &SyntheticCity) -> ColumnChain {
    let (canonicalise, rules, checks) = sensor_configs(city);
    ColumnChain::new(ChainInput::Parquet(path.to_path_buf()))
        .canonicalise(&canonicalise)
        .expect("canonicalise step")
        .rules(&rules)
        .expect("rules step")
        .checks(&checks)
        .expect("checks step")
}

fn guard_config() -> PiiGuardConfig {
    PiiGuardConfig {
        text_columns: Some(vec!["text".into()]),
        detector: DetectorConfig::default(),
        mask: MaskConfig::default(),
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        classification: ColumnGuardConfig {
            enabled: false,
            ..ColumnGuardConfig::default()
        },
        rego: None,
    }
}

fn ticket_chain(path: &Path, key: &Path) -> ColumnChain {
    let config = guard_config();
    ColumnChain::new(ChainInput::Parquet(path.to_path_buf()))
        .mask_text("text", &config.detector, &config.mask, None)
        .expect("mask text step")
        .mask_value(
            "station",
            PiiKind::Place,
            MaskOperator::Pseudonym,
            Some(KeySource::file(key)),
        )
        .expect("pseudonym step")
}

fn context(stage: &str) -> StageContext {
    StageContext::new(stage, 1, AuditLog::in_memory().into_handle())
}

/// Runs the local sensor stages and returns the governed batch with its issues.
fn local_sensors(city: &SyntheticCity, batch: GovernedBatch) -> (GovernedBatch, Vec<Issue>) {
    let (canonicalise, rules, checks) = sensor_configs(city);
    let batch = Canonicalise::new(canonicalise)
        .expect("canonicalise")
        .clean(batch, &mut context("canonicalise"))
        .expect("canonicalise runs");
    let batch = Rules::new(rules)
        .expect("rules")
        .clean(batch, &mut context("rules"))
        .expect("rules runs");
    let mut suite = CheckSuite::new(Suite::new(checks).expect("suite"));
    let batch = suite
        .clean(batch, &mut context("checks"))
        .expect("checks run");
    let issues = batch.issues.issues().to_vec();
    (batch, issues)
}

/// Runs the local guard and the pseudonyms on a ticket batch.
fn local_tickets(batch: GovernedBatch, key: &SecretKey) -> (RecordBatch, Vec<Issue>) {
    let mut guard = PiiGuard::new(guard_config()).expect("guard");
    let request = AccessRequest::new("analyst", "monthly report");
    let guarded = guard
        .guard(batch, &request, &mut context("pii_guard"))
        .expect("guard runs");

    let masker = Masker::new(&MaskerKeys::from_master(key), FpeConfig::default()).expect("masker");
    let data = guarded.data().clone();
    let index = data.schema().index_of("station").expect("station column");
    let station = masker
        .mask_column(
            data.column(index).as_ref(),
            PiiKind::Place,
            MaskOperator::Pseudonym,
        )
        .expect("pseudonyms");
    let mut columns = data.columns().to_vec();
    columns[index] = station.array;

    let fields: Vec<arrow::datatypes::Field> = data
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(field, column)| {
            field
                .as_ref()
                .clone()
                .with_data_type(column.data_type().clone())
                .with_nullable(true)
        })
        .collect();
    let schema = arrow::datatypes::Schema::new(fields);
    let data = RecordBatch::try_new(std::sync::Arc::new(schema), columns).expect("batch");
    (data, guarded.issues.issues().to_vec())
}

fn row_ids(batch: &GovernedBatch) -> Vec<u64> {
    batch.row_ids().values().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_and_standalone_agree_with_local_stages() {
    let city = city();
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("pseudonym.key");
    std::fs::write(&key_path, KEY_HEX).expect("key written");
    let key = SecretKey::from_hex(KEY_HEX).expect("key");

    let sensors: Vec<GovernedBatch> = (0..2)
        .map(|index| city.sensor_batch(index).expect("sensor batch"))
        .collect();
    let tickets: Vec<GovernedBatch> = (0..2)
        .map(|index| city.ticket_batch(index).expect("ticket batch"))
        .collect();
    let sensor_path = dir.path().join("sensors.parquet");
    let ticket_path = dir.path().join("tickets.parquet");
    write_parquet(
        &sensor_path,
        &sensors
            .iter()
            .map(|batch| batch.data().clone())
            .collect::<Vec<_>>(),
    );
    write_parquet(
        &ticket_path,
        &tickets
            .iter()
            .map(|batch| batch.data().clone())
            .collect::<Vec<_>>(),
    );

    let plain = SessionContext::new();
    let standalone = session::standalone_context()
        .await
        .expect("standalone Ballista starts");

    // Sensors: canonicalise, rules, checks.
    let chain = sensor_chain(&sensor_path, &city);
    let plain_batches = chain
        .plan(&plain)
        .await
        .expect("plans on DataFusion")
        .collect()
        .await
        .expect("runs on DataFusion");
    let ballista_batches = chain
        .plan(&standalone)
        .await
        .expect("plans on Ballista")
        .collect()
        .await
        .expect("runs on Ballista");
    let plain_rows = sorted_rows(&plain_batches);
    let input_rows: usize = sensors.iter().map(GovernedBatch::num_rows).sum();
    assert_eq!(plain_rows.len(), input_rows, "row count on DataFusion");
    assert_same_rows(
        "sensors, Ballista vs DataFusion",
        &plain_rows,
        &sorted_rows(&ballista_batches),
    );

    let names = column_names(&plain_batches);
    let mut expected = Vec::new();
    let mut issue_count = 0;
    let mut local_issues = Vec::new();
    for batch in sensors {
        let ids = row_ids(&batch);
        let (governed, issues) = local_sensors(&city, batch);
        issue_count += issues.len();
        expected.extend(expected_rows(&names, governed.data(), &ids, &issues));
        local_issues.extend(issues);
    }
    expected.sort();
    assert!(issue_count > 0, "the synthetic errors gave no issue");
    // The comparison covers severity, suggestion and confidence only if the local issues
    // vary in them.
    assert!(
        local_issues
            .iter()
            .any(|issue| issue.severity == Severity::Info),
        "no info issue in the local log"
    );
    assert!(
        local_issues
            .iter()
            .any(|issue| issue.severity == Severity::Error),
        "no error issue in the local log"
    );
    assert!(
        local_issues.iter().any(|issue| issue.confidence < 1.0),
        "no issue with confidence below 1 in the local log"
    );
    assert!(
        local_issues.iter().any(|issue| issue.suggested.is_some()),
        "no suggested value in the local log"
    );
    assert_same_rows(
        "sensors, DataFusion vs local stages",
        &expected,
        &plain_rows,
    );

    // Tickets: masking of free text as the guard does it, and keyed pseudonyms.
    let chain = ticket_chain(&ticket_path, &key_path);
    let plain_batches = chain
        .plan(&plain)
        .await
        .expect("plans on DataFusion")
        .collect()
        .await
        .expect("runs on DataFusion");
    let ballista_batches = chain
        .plan(&standalone)
        .await
        .expect("plans on Ballista")
        .collect()
        .await
        .expect("runs on Ballista");
    let plain_rows = sorted_rows(&plain_batches);
    assert_same_rows(
        "tickets, Ballista vs DataFusion",
        &plain_rows,
        &sorted_rows(&ballista_batches),
    );

    let names = column_names(&plain_batches);
    let mut expected = Vec::new();
    for batch in tickets {
        let ids = row_ids(&batch);
        let (data, issues) = local_tickets(batch, &key);
        expected.extend(expected_rows(&names, &data, &ids, &issues));
    }
    expected.sort();
    assert_same_rows("tickets, DataFusion vs local guard", &expected, &plain_rows);

    let masked = concat_batches(&plain_batches[0].schema(), &plain_batches).expect("concat");
    let issues = masked
        .column_by_name("issues__guard__text")
        .expect("guard issue column");
    assert!(
        issues.len() > issues.null_count(),
        "the synthetic tickets gave no personal data"
    );
}
