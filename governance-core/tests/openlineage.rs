//! OpenLineage run events: field names, one run id per run, schema and column lineage
//! facets, and the masking flag on masked columns.

use std::collections::HashMap;

use arrow::datatypes::{DataType, Field, Schema};
use governance_core::openlineage::{DatasetSchema, LineageRun};
use governance_core::semantic::MASKING_KEY;
use governance_core::{LineageRecord, RunSummary};
use serde_json::Value;

fn summary() -> RunSummary {
    let record = LineageRecord {
        round: 1,
        stage: "pii_guard".into(),
        kind: "guard".into(),
        version: "1".into(),
        params_hash: "ab".repeat(32),
        rows_in: 4,
        rows_out: 3,
        rows_quarantined: 1,
        rows_merged: 0,
        seconds: 0.01,
        events: Vec::new(),
    };
    RunSummary {
        round: 1,
        lineage: vec![record],
        rows_delivered: 3,
        ..RunSummary::default()
    }
}

fn schemas() -> (Schema, Schema) {
    let input = Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        Field::new("phone", DataType::Int64, true),
    ]);
    let masked = Field::new("phone", DataType::Utf8, true).with_metadata(HashMap::from([(
        MASKING_KEY.to_string(),
        "pseudonym".to_string(),
    )]));
    let output = Schema::new(vec![Field::new("district", DataType::Utf8, true), masked]);
    (input, output)
}

fn complete_event(run: &LineageRun) -> Value {
    let (input, output) = schemas();
    let event = run.complete(
        &summary(),
        &DatasetSchema {
            namespace: "file",
            name: "tickets.csv",
            schema: &input,
        },
        &DatasetSchema {
            namespace: "file",
            name: "out/tickets.parquet",
            schema: &output,
        },
        1_709_546_400_000,
    );
    serde_json::to_value(event).expect("json")
}

#[test]
fn events_use_openlineage_field_names() {
    let run = LineageRun::new("city", "tickets_chain");
    let start = serde_json::to_value(run.start(1_709_546_400_000)).expect("json");
    let complete = complete_event(&run);
    let fail = serde_json::to_value(run.fail("stage outliers failed", 0)).expect("json");

    for (event, kind) in [(&start, "START"), (&complete, "COMPLETE"), (&fail, "FAIL")] {
        assert_eq!(event["eventType"], kind);
        assert_eq!(event["run"]["runId"], run.run_id());
        assert_eq!(event["job"]["namespace"], "city");
        assert_eq!(event["job"]["name"], "tickets_chain");
        assert!(event["producer"].is_string());
        assert!(
            event["schemaURL"]
                .as_str()
                .is_some_and(|url| url.contains("OpenLineage.json")),
            "{event}"
        );
        assert!(event["inputs"].is_array() && event["outputs"].is_array());
    }
    assert_eq!(start["eventTime"], "2024-03-04T10:00:00.000Z");
    assert_eq!(
        fail["run"]["facets"]["errorMessage"]["message"],
        "stage outliers failed"
    );
    let stages = &complete["run"]["facets"]["governance_stages"];
    assert_eq!(stages["stages"][0]["stage"], "pii_guard");
    assert_eq!(stages["rows_delivered"], 3);
}

#[test]
fn run_id_is_a_version_4_uuid() {
    let first = LineageRun::new("city", "job");
    let second = LineageRun::new("city", "job");
    assert_ne!(first.run_id(), second.run_id());
    let id = first.run_id();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.chars().nth(14), Some('4'), "{id}");
    assert_eq!(id.matches('-').count(), 4, "{id}");
}

#[test]
fn schema_and_column_lineage_facets() {
    let event = complete_event(&LineageRun::new("city", "job"));
    let input = &event["inputs"][0];
    assert_eq!(input["name"], "tickets.csv");
    let fields = &input["facets"]["schema"]["fields"];
    assert_eq!(fields[1]["name"], "phone");
    assert_eq!(fields[1]["type"], "Int64");
    assert!(input["facets"]["schema"]["_schemaURL"].is_string());
    assert!(input["facets"].get("columnLineage").is_none());

    let output = &event["outputs"][0];
    assert_eq!(output["facets"]["schema"]["fields"][1]["type"], "Utf8");
    let lineage = &output["facets"]["columnLineage"];
    assert!(lineage["_producer"].is_string());
    let phone = &lineage["fields"]["phone"]["inputFields"][0];
    assert_eq!(phone["namespace"], "file");
    assert_eq!(phone["name"], "tickets.csv");
    assert_eq!(phone["field"], "phone");
    let masked = &phone["transformations"][0];
    assert_eq!(masked["type"], "DIRECT");
    assert_eq!(masked["subtype"], "TRANSFORMATION");
    assert_eq!(masked["masking"], true);
    assert_eq!(masked["description"], "MASKED with pseudonym");

    let district = &lineage["fields"]["district"]["inputFields"][0]["transformations"][0];
    assert_eq!(district["subtype"], "IDENTITY");
    assert_eq!(district["masking"], false);
}
