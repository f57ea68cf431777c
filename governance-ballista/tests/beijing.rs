//! The canonicalise and rules stages over two Beijing station files, on a plain DataFusion
//! context and on Ballista standalone, compared with the local stages on the same rows.
//! Skips with a message when the data is absent.

mod common;

use std::path::PathBuf;

use arrow::array::UInt64Array;
use datafusion::prelude::SessionContext;
use governance_ballista::{ChainInput, ColumnChain, session};
use governance_clean::{Canonicalise, CanonicaliseConfig, Rules, RulesConfig};
use governance_core::audit::AuditLog;
use governance_core::{Cleaner, GovernedBatch, Provenance, StageContext};

use common::{assert_same_rows, column_names, expected_rows, sorted_rows};

/// Station files used; two of twelve keep the test to seconds.
const FILES: [&str; 2] = [
    "PRSA_Data_Dongsi_20130301-20170228.csv",
    "PRSA_Data_Tiantan_20130301-20170228.csv",
];

#[expect(
    clippy::print_stderr,
    reason = "a skipped data test says why on stderr"
)]
fn station_folder() -> Option<PathBuf> {
    let root = std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let folder = root.join("city/beijing_multisite_aq");
    if FILES.iter().any(|file| !folder.join(file).is_file()) {
        eprintln!(
            "skipping: Beijing station files not found in {}; set GOVERNANCE_DATA_DIR to the \
             data folder",
            folder.display()
        );
        return None;
    }
    Some(folder)
}

fn rules() -> RulesConfig {
    serde_json::from_str(
        r#"{"rules": [
            {"column": "PM2.5", "check": {"range": {"min": 0, "max": 600}}},
            {"column": "wd", "check": {"allowed": ["N", "NNE", "NE", "ENE", "E", "ESE", "SE",
                "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]}},
            {"column": "TEMP", "check": "not_null"}
        ]}"#,
    )
    .expect("rules parse")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn beijing_files_agree_across_engines() {
    let Some(folder) = station_folder() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for file in FILES {
        std::fs::copy(folder.join(file), dir.path().join(file)).expect("station file copied");
    }
    let input = ChainInput::Csv(dir.path().to_path_buf());
    let chain = ColumnChain::new(input.clone())
        .canonicalise(&CanonicaliseConfig::hourly_air_quality())
        .expect("canonicalise step")
        .rules(&rules())
        .expect("rules step");

    let plain = SessionContext::new();
    let plain_batches = chain
        .plan(&plain)
        .await
        .expect("plans on DataFusion")
        .collect()
        .await
        .expect("runs on DataFusion");
    let plain_rows = sorted_rows(&plain_batches);

    let standalone = session::standalone_context()
        .await
        .expect("standalone Ballista starts");
    let ballista_batches = chain
        .plan(&standalone)
        .await
        .expect("plans on Ballista")
        .collect()
        .await
        .expect("runs on Ballista");
    assert_same_rows(
        "Ballista vs DataFusion",
        &plain_rows,
        &sorted_rows(&ballista_batches),
    );

    // The local stages on the rows as DataFusion reads them from the same files.
    let raw = input
        .read(&plain)
        .await
        .expect("raw read plans")
        .collect()
        .await
        .expect("raw read runs");
    let names = column_names(&plain_batches);
    let mut canonicalise =
        Canonicalise::new(CanonicaliseConfig::hourly_air_quality()).expect("canonicalise");
    let mut rules = Rules::new(rules()).expect("rules");
    let mut expected = Vec::new();
    let mut next_id = 0u64;
    let mut issue_count = 0usize;
    for data in raw {
        let ids: Vec<u64> = (next_id..next_id + data.num_rows() as u64).collect();
        next_id += data.num_rows() as u64;
        let batch = GovernedBatch::try_new(
            data,
            UInt64Array::from(ids.clone()),
            Provenance::new("beijing"),
        )
        .expect("governed batch");
        let mut context = StageContext::new("local", 1, AuditLog::in_memory().into_handle());
        let batch = canonicalise
            .clean(batch, &mut context)
            .expect("canonicalise runs");
        let batch = rules.clean(batch, &mut context).expect("rules run");
        issue_count += batch.issues.len();
        expected.extend(expected_rows(
            &names,
            batch.data(),
            &ids,
            batch.issues.issues(),
        ));
    }
    expected.sort();
    assert_eq!(plain_rows.len(), next_id as usize, "row count");
    assert!(issue_count > 0, "the station files gave no issue");
    assert_same_rows("DataFusion vs local stages", &expected, &plain_rows);
}
