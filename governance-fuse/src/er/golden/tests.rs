use arrow::array::{Int64Array, StringArray};
use governance_core::audit::AuditLog;
use governance_core::{Provenance, RowIdAllocator};

use super::*;

fn batch(clusters: Vec<Option<&str>>) -> GovernedBatch {
    let rows = clusters.len();
    let column = |values: Vec<Option<&str>>| Arc::new(StringArray::from(values)) as ArrayRef;
    let data = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("cluster", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("phone", DataType::Utf8, true),
            Field::new("source", DataType::Utf8, true),
            Field::new("updated", DataType::Int64, true),
        ])),
        vec![
            column(clusters),
            column(
                [
                    Some("Li Wei"),
                    Some("Wei Li"),
                    Some("Li Wei"),
                    Some("Ann"),
                    Some("Bo"),
                ][..rows]
                    .to_vec(),
            ),
            column([None, Some("555-0101"), Some("+1 555 0101"), None, Some("9")][..rows].to_vec()),
            column(
                [
                    Some("crm"),
                    Some("registry"),
                    Some("crm"),
                    Some("crm"),
                    Some("crm"),
                ][..rows]
                    .to_vec(),
            ),
            Arc::new(Int64Array::from(
                [Some(3), Some(9), Some(5), None, Some(1)][..rows].to_vec(),
            )),
        ],
    )
    .expect("valid batch");
    let ids = RowIdAllocator::starting_at(100).allocate(rows);
    GovernedBatch::try_new(data, ids, Provenance::new("people")).expect("aligned ids")
}

fn context() -> StageContext {
    StageContext::new("golden", 1, AuditLog::in_memory().into_handle())
}

fn text(batch: &GovernedBatch, column: &str, row: usize) -> Option<String> {
    let values = text_values(batch.column(column).expect("column")).expect("text");
    values[row].clone()
}

#[test]
fn survivorship_rules_choose_fields() {
    let config = GoldenConfig::new("golden", "cluster")
        .with_rule("name", Survivorship::MostFrequent)
        .with_rule(
            "phone",
            Survivorship::MostRecent {
                timestamp: "updated".into(),
            },
        )
        .with_rule("source", Survivorship::Longest);
    let mut fuser = GoldenRecords::new(config);
    let mut ctx = context();
    let input = batch(vec![Some("a"), Some("a"), Some("a"), Some("b"), Some("c")]);
    let golden = fuser.fuse(input, &mut ctx).expect("fuses");

    assert_eq!(golden.num_rows(), 3);
    assert_eq!(golden.row_ids().values().to_vec(), [100, 103, 104]);
    assert_eq!(text(&golden, "name", 0).as_deref(), Some("Li Wei"));
    // Row 101 has the latest update among records with a phone.
    assert_eq!(text(&golden, "phone", 0).as_deref(), Some("555-0101"));
    assert_eq!(text(&golden, "source", 0).as_deref(), Some("registry"));
    assert_eq!(text(&golden, "phone", 1), None);
    assert_eq!(ctx.rows_merged(), 2);
    assert_eq!(ctx.quarantined_len(), 0);
    assert_eq!(5, golden.num_rows() as u64 + ctx.rows_merged());

    let phone = fuser
        .provenance()
        .iter()
        .find(|entry| entry.golden_row_id == 100 && entry.attribute == "phone")
        .expect("provenance of the phone");
    assert_eq!(phone.source_row_id, Some(101));
    assert_eq!(phone.candidates, 3);
    let missing = fuser
        .provenance()
        .iter()
        .find(|entry| entry.golden_row_id == 103 && entry.attribute == "phone")
        .expect("provenance of a missing phone");
    assert_eq!(missing.source_row_id, None);
    let messages: Vec<&str> = golden
        .issues
        .issues()
        .iter()
        .map(|issue| issue.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("merged rows 101, 102")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("merged row 101 (most recent by updated")),
        "{messages:?}"
    );
    let written = provenance_batch(fuser.provenance()).expect("batch");
    assert_eq!(written.num_rows(), 3 * 5);
}

#[test]
fn preferred_source_and_first_non_null() {
    let config = GoldenConfig::new("golden", "cluster").with_rule(
        "name",
        Survivorship::PreferredSource {
            source: "source".into(),
            order: vec!["registry".into(), "crm".into()],
        },
    );
    let mut fuser = GoldenRecords::new(config);
    let mut ctx = context();
    let golden = fuser
        .fuse(batch(vec![Some("a"), Some("a"), Some("a")]), &mut ctx)
        .expect("fuses");
    assert_eq!(text(&golden, "name", 0).as_deref(), Some("Wei Li"));
    // The first record lacks a phone, so the first present one survives.
    assert_eq!(text(&golden, "phone", 0).as_deref(), Some("555-0101"));
}

#[test]
fn rows_without_cluster_quarantined() {
    let mut fuser = GoldenRecords::new(GoldenConfig::new("golden", "cluster"));
    let mut ctx = context();
    let input = batch(vec![Some("a"), None, Some("a"), Some("b"), None]);
    let rows_in = input.num_rows() as u64;
    let golden = fuser.fuse(input, &mut ctx).expect("fuses");
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2);
    assert!(
        quarantined[0].reason.contains("no cluster id"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[0].row_id, Some(101));
    assert_eq!(
        rows_in,
        golden.num_rows() as u64 + quarantined.len() as u64 + ctx.rows_merged()
    );
}

#[test]
fn missing_columns_named() {
    let config = GoldenConfig::new("golden", "entity");
    let err = GoldenRecords::new(config)
        .fuse(batch(vec![Some("a")]), &mut context())
        .expect_err("no entity column");
    assert!(err.to_string().contains("'entity' not found"), "{err}");
    let config = GoldenConfig::new("golden", "cluster").with_rule(
        "name",
        Survivorship::MostRecent {
            timestamp: "modified".into(),
        },
    );
    let err = GoldenRecords::new(config)
        .fuse(batch(vec![Some("a")]), &mut context())
        .expect_err("no modified column");
    assert!(err.to_string().contains("'modified'"), "{err}");
}

#[test]
fn config_round_trips_and_rejects_unknown() {
    let config = GoldenConfig::new("golden", "cluster").with_rule("name", Survivorship::Longest);
    let json = serde_json::to_string(&config).expect("serialises");
    let back: GoldenConfig = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, config);
    let err = serde_json::from_str::<GoldenConfig>(
        r#"{"name": "g", "cluster_column": "c", "rule": "longest"}"#,
    )
    .expect_err("unknown field");
    assert!(err.to_string().contains("rule"), "{err}");
}
