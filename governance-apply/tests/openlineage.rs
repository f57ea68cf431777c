//! OpenLineageWriter end to end: one START and one COMPLETE event per round, or START and FAIL
//! for a failed round, with the spec's field names and masked columns flagged.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};
use common::{LINES, LineCollector};
use governance_apply::{OpenLineageWriter, OpenLineageWriterConfig};
use governance_core::semantic::MASKING_KEY;
use governance_core::{Chain, Cleaner, Error, GovernedBatch, Result, Stage, StageContext};
use serde_json::Value;

/// Marks the `name` column as masked, as the guard does after masking it.
struct MarkNameMasked;

impl Stage for MarkNameMasked {
    fn name(&self) -> &str {
        "mark_masked"
    }
}

impl Cleaner for MarkNameMasked {
    fn clean(
        &mut self,
        mut batch: GovernedBatch,
        _ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        let schema = batch.data().schema();
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|field| {
                if field.name() == "name" {
                    let metadata =
                        HashMap::from([(MASKING_KEY.to_string(), "partial".to_string())]);
                    field.as_ref().clone().with_metadata(metadata)
                } else {
                    field.as_ref().clone()
                }
            })
            .collect();
        let data = RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            batch.data().columns().to_vec(),
        )?;
        batch.replace_data(data)?;
        Ok(batch)
    }
}

fn config(path: std::path::PathBuf) -> OpenLineageWriterConfig {
    OpenLineageWriterConfig {
        path,
        namespace: "test-city".into(),
        job: "air_quality".into(),
        input: "lines.csv".into(),
        output: "governed.parquet".into(),
    }
}

fn events(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("events file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect()
}

#[test]
fn each_round_writes_start_and_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lineage/openlineage.jsonl");
    let writer = OpenLineageWriter::new(config(path.clone()))
        .expect("writer")
        .with_input_schema(LineCollector::schema());
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(MarkNameMasked)
        .apply(writer)
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");

    let events = events(&path);
    assert_eq!(events.len(), 4);
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["eventType"].as_str().expect("eventType"))
        .collect();
    assert_eq!(types, ["START", "COMPLETE", "START", "COMPLETE"]);
    assert_eq!(events[0]["run"]["runId"], events[1]["run"]["runId"]);
    assert_ne!(events[1]["run"]["runId"], events[3]["run"]["runId"]);
    assert_eq!(events[1]["job"]["namespace"], "test-city");
    assert_eq!(events[1]["job"]["name"], "air_quality");
    assert!(events[1]["eventTime"].is_string());
    assert_eq!(events[1]["inputs"][0]["name"], "lines.csv");
    assert_eq!(events[1]["outputs"][0]["name"], "governed.parquet");
}

/// Fails on its second batch, as a stage meeting a broken input would.
struct FailSecondBatch {
    seen: usize,
}

impl Stage for FailSecondBatch {
    fn name(&self) -> &str {
        "fail_second_batch"
    }
}

impl Cleaner for FailSecondBatch {
    fn clean(&mut self, batch: GovernedBatch, _ctx: &mut StageContext) -> Result<GovernedBatch> {
        self.seen += 1;
        if self.seen == 2 {
            return Err(Error::config("fail_second_batch", "sensor offline"));
        }
        Ok(batch)
    }
}

#[test]
fn failed_round_start_and_fail_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("openlineage.jsonl");
    let writer = OpenLineageWriter::new(config(path.clone())).expect("writer");
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(FailSecondBatch { seen: 0 })
        .apply(writer)
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("the round fails");
    assert!(error.to_string().contains("sensor offline"), "{error}");

    let events = events(&path);
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["eventType"].as_str().expect("eventType"))
        .collect();
    assert_eq!(types, ["START", "FAIL"]);
    assert_eq!(events[0]["run"]["runId"], events[1]["run"]["runId"]);
    let message = events[1]["run"]["facets"]["errorMessage"]["message"]
        .as_str()
        .expect("error message facet");
    assert!(message.contains("sensor offline"), "{message}");
}

#[test]
fn masked_column_is_flagged_in_column_lineage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("openlineage.jsonl");
    let writer = OpenLineageWriter::new(config(path.clone())).expect("writer");
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(MarkNameMasked)
        .apply(writer)
        .build()
        .expect("chain");
    chain.run_blocking().expect("round");

    let complete = &events(&path)[1];
    let fields = &complete["outputs"][0]["facets"]["columnLineage"]["fields"];
    let name = serde_json::to_string(&fields["name"]).expect("name lineage");
    let pm25 = serde_json::to_string(&fields["pm25"]).expect("pm25 lineage");
    assert!(name.contains("\"masking\":true"), "{name}");
    assert!(pm25.contains("\"masking\":false"), "{pm25}");
    let schema_fields = &complete["outputs"][0]["facets"]["schema"]["fields"];
    assert_eq!(schema_fields.as_array().map(Vec::len), Some(2));
}

#[test]
fn empty_name_is_rejected() {
    let mut bad = config("x.jsonl".into());
    bad.job = " ".into();
    let error = OpenLineageWriter::new(bad).expect_err("empty job");
    assert!(
        error.to_string().contains("job is empty") || format!("{error:?}").contains("job is empty")
    );
}
