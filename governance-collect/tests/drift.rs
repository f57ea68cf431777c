//! Schema drift policies on the folder collector: CSV files whose inferred schemas differ
//! (a renamed, a retyped, a new and a missing column) under quarantine, alert and adapt,
//! and the reference kept across a restart from a checkpoint.

use std::path::Path;
use std::time::{Duration, SystemTime};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use governance_collect::{
    DRIFT_STATE_KEY, DriftConfig, DriftPolicy, FolderCollector, FolderConfig,
};
use governance_core::audit::AuditLog;
use governance_core::{Collector, GovernedBatch, IssueKind, SourcePosition, StageContext};

/// Writes `name` with modification time `seconds` after a fixed instant, so files are read
/// in that order.
fn write(dir: &Path, name: &str, text: &str, seconds: u64) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a file");
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds);
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(time).expect("set mtime");
}

/// Four files: the reference, a rename, a retype with a new column, a missing column.
fn fill(dir: &Path) {
    write(
        dir,
        "1.csv",
        "station,pm25\nnorth,12.5\nsouth,14.5\neast,13.5\n",
        10,
    );
    write(
        dir,
        "2.csv",
        "station,pm2_5\nnorth,12.0\nsouth,14.0\neast,13.0\n",
        20,
    );
    write(
        dir,
        "3.csv",
        "station,pm25,no2\nnorth,bad,30\nsouth,15.5,31\n",
        30,
    );
    write(dir, "4.csv", "station\nwest\n", 40);
}

fn collector(dir: &Path, policy: DriftPolicy) -> FolderCollector {
    FolderCollector::new(FolderConfig {
        dir: dir.to_path_buf(),
        batch_size: 100,
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(100),
        schema_drift: Some(DriftConfig::new(policy)),
        ..FolderConfig::default()
    })
    .expect("collector")
}

fn context() -> StageContext {
    StageContext::new("folder", 1, AuditLog::in_memory().into_handle())
}

fn drain(collector: &mut FolderCollector, ctx: &mut StageContext) -> Vec<GovernedBatch> {
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(ctx).expect("next batch") {
        batches.push(batch);
    }
    batches
}

fn names(batch: &GovernedBatch) -> Vec<String> {
    batch.column_names()
}

fn pm25(batch: &GovernedBatch) -> Vec<Option<f64>> {
    batch
        .column("pm25")
        .expect("pm25")
        .as_primitive::<Float64Type>()
        .iter()
        .collect()
}

#[test]
fn quarantine_policy_holds_changed_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    let mut collector = collector(dir.path(), DriftPolicy::Quarantine);
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);

    assert_eq!(batches.len(), 1, "only the reference batch passes");
    assert_eq!(batches[0].num_rows(), 3);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 6, "every row of the three changed files");
    assert_eq!(ctx.rows_read(), 9);

    let reasons: Vec<&str> = quarantined.iter().map(|row| row.reason.as_str()).collect();
    assert!(
        reasons[0].contains("column \"pm25\" renamed to \"pm2_5\""),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[3].contains("column \"pm25\" retyped from Float64 to Utf8"),
        "{}",
        reasons[3]
    );
    assert!(reasons[3].contains("new column \"no2\""), "{}", reasons[3]);
    assert!(
        reasons[5].contains("missing column \"pm25\""),
        "{}",
        reasons[5]
    );
    let raw: serde_json::Value = serde_json::from_str(&quarantined[0].raw).expect("raw is JSON");
    assert_eq!(raw["station"], "north");
    let value = raw["pm2_5"].as_str().expect("pm2_5 kept as text");
    assert!(value.starts_with("12"), "{value}");
    assert!(quarantined[0].row_id.is_some());
    assert!(
        quarantined[0]
            .source
            .as_deref()
            .is_some_and(|source| source.ends_with("2.csv"))
    );
}

#[test]
fn alert_policy_passes_batches_with_issues() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    let mut collector = collector(dir.path(), DriftPolicy::Alert);
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);

    assert_eq!(batches.len(), 4);
    assert!(ctx.take_quarantined().is_empty());
    assert!(batches[0].issues.is_empty());
    assert_eq!(names(&batches[1]), vec!["station", "pm2_5"]);

    let renamed = batches[1].issues.issues();
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0].kind, IssueKind::Inconsistent);
    assert_eq!(renamed[0].detector, "schema_drift");
    assert_eq!(renamed[0].column.as_deref(), Some("pm2_5"));
    assert!(
        renamed[0].message.contains("renamed"),
        "{}",
        renamed[0].message
    );

    let third: Vec<String> = batches[2]
        .issues
        .issues()
        .iter()
        .map(|issue| issue.message.clone())
        .collect();
    assert_eq!(third.len(), 2, "{third:?}");
    assert!(third.iter().any(|message| message.contains("retyped")));
    assert!(third.iter().any(|message| message.contains("new column")));
    assert_eq!(batches[3].issues.issues().len(), 1);
}

#[test]
fn adapt_policy_unifies_to_union_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    let mut collector = collector(dir.path(), DriftPolicy::Adapt);
    let mut ctx = context();
    let batches = drain(&mut collector, &mut ctx);

    assert_eq!(batches.len(), 4);
    assert_eq!(names(&batches[0]), vec!["station", "pm25"]);
    assert_eq!(names(&batches[1]), vec!["station", "pm25"]);
    assert_eq!(pm25(&batches[1]), vec![Some(12.0), Some(14.0), Some(13.0)]);

    // The new column joins the union; "bad" cannot become a Float64 and goes to quarantine.
    assert_eq!(names(&batches[2]), vec!["station", "pm25", "no2"]);
    assert_eq!(batches[2].num_rows(), 1);
    assert_eq!(pm25(&batches[2]), vec![Some(15.5)]);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0]
            .reason
            .contains("value \"bad\" of column \"pm25\""),
        "{}",
        quarantined[0].reason
    );

    // The missing column becomes nulls, and no2 stays in the union.
    assert_eq!(names(&batches[3]), vec!["station", "pm25", "no2"]);
    assert_eq!(pm25(&batches[3]), vec![None]);
    let no2 = batches[3].column("no2").expect("no2");
    assert_eq!(no2.data_type(), &DataType::Int64);
    assert_eq!(no2.null_count(), 1);

    // Rows in equal rows out plus quarantined.
    let rows_out: usize = batches.iter().map(GovernedBatch::num_rows).sum();
    assert_eq!(rows_out + quarantined.len(), ctx.rows_read() as usize);
}

#[test]
fn unrelated_columns_are_not_a_rename() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "1.csv",
        "station,pm25\nnorth,12.5\nsouth,14.5\n",
        10,
    );
    write(
        dir.path(),
        "2.csv",
        "station,pressure\nnorth,1012.5\nsouth,1009.0\n",
        20,
    );
    let mut collector = collector(dir.path(), DriftPolicy::Quarantine);
    let mut ctx = context();
    drain(&mut collector, &mut ctx);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2);
    let reason = &quarantined[0].reason;
    assert!(reason.contains("missing column \"pm25\""), "{reason}");
    assert!(reason.contains("new column \"pressure\""), "{reason}");
    assert!(!reason.contains("renamed"), "{reason}");
}

#[test]
fn drift_config_rejects_unknown_fields() {
    let error = serde_json::from_str::<DriftConfig>(r#"{"policy": "adapt", "rename": false}"#)
        .expect_err("typo must fail");
    assert!(error.to_string().contains("rename"), "{error}");
    let config: DriftConfig = serde_json::from_str(r#"{"policy": "alert"}"#).expect("defaults");
    assert_eq!(config, DriftConfig::new(DriftPolicy::Alert));
}

/// Reads the first `count` batches of `dir` with a fresh collector and returns the position
/// of the last one, as a sink would have committed it.
fn position_after(dir: &Path, policy: DriftPolicy, count: usize) -> SourcePosition {
    let mut collector = collector(dir, policy);
    let mut ctx = context();
    let mut position = None;
    for _ in 0..count {
        let batch = collector
            .next_batch(&mut ctx)
            .expect("next batch")
            .expect("a batch");
        position = batch.provenance.position.clone();
    }
    position.expect("batches carry positions")
}

#[test]
fn restart_keeps_reference_and_union() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    // The reference (station, pm25), the rename, then the file that adds no2.
    let position = position_after(dir.path(), DriftPolicy::Adapt, 3);
    assert!(
        position.state.get(DRIFT_STATE_KEY).is_some(),
        "{}",
        position.state
    );
    let text = serde_json::to_string(&position).expect("serialise position");
    let position: SourcePosition = serde_json::from_str(&text).expect("read position");

    let mut resumed = collector(dir.path(), DriftPolicy::Adapt);
    resumed.resume(Some(&position)).expect("resume");
    let mut ctx = context();
    let batches = drain(&mut resumed, &mut ctx);

    // Only 4.csv is left. It is compared with the reference from before the restart, so
    // it lacks pm25, and it is reshaped to the union that no2 joined before the restart.
    assert_eq!(batches.len(), 1);
    assert_eq!(names(&batches[0]), vec!["station", "pm25", "no2"]);
    assert_eq!(pm25(&batches[0]), vec![None]);
    let issues = batches[0].issues.issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].message.contains("missing column \"pm25\""),
        "{}",
        issues[0].message
    );
    let changed = resumed.schema_drift().map(|guard| guard.changed_batches());
    assert_eq!(
        changed,
        Some(3),
        "the count goes on from before the restart"
    );
}

#[test]
fn restart_still_quarantines_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    // Only the reference passes, so the first batch carries the committed position.
    let position = position_after(dir.path(), DriftPolicy::Quarantine, 1);

    let mut resumed = collector(dir.path(), DriftPolicy::Quarantine);
    resumed.resume(Some(&position)).expect("resume");
    let mut ctx = context();
    let batches = drain(&mut resumed, &mut ctx);

    // Without the stored reference, 2.csv would become the reference and pass.
    assert!(batches.is_empty(), "{} batches passed", batches.len());
    assert_eq!(ctx.take_quarantined().len(), 6);
}

#[test]
fn checkpoint_without_drift_state_resets_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    let mut position = position_after(dir.path(), DriftPolicy::Quarantine, 1);
    if let Some(state) = position.state.as_object_mut() {
        state.remove(DRIFT_STATE_KEY);
    }

    let mut resumed = collector(dir.path(), DriftPolicy::Quarantine);
    resumed.resume(Some(&position)).expect("resume");
    let mut ctx = context();
    let batches = drain(&mut resumed, &mut ctx);
    assert_eq!(batches.len(), 1, "2.csv becomes the reference");
    assert_eq!(names(&batches[0]), vec!["station", "pm2_5"]);
}
