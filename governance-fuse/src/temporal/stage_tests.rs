use arrow::array::{Float64Array, Int64Array, TimestampSecondArray};
use arrow::datatypes::{Float64Type, TimeUnit, TimestampSecondType};
use governance_core::audit::AuditLog;
use governance_core::{IssueKind, Provenance, RowIdAllocator, Severity};

use super::*;
use crate::temporal::Aggregate;

const MINUTE: i64 = 60;

fn batch(
    stations: &[&str],
    minutes: &[Option<i64>],
    values: &[f64],
    first_id: u64,
) -> GovernedBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, true),
        Field::new("t", DataType::Timestamp(TimeUnit::Second, None), true),
        Field::new("pm25", DataType::Float64, true),
        Field::new("lane", DataType::Int64, true),
    ]));
    let times: Vec<Option<i64>> = minutes.iter().map(|m| m.map(|m| m * MINUTE)).collect();
    let data = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(stations.to_vec())),
            Arc::new(TimestampSecondArray::from(times)),
            Arc::new(Float64Array::from(values.to_vec())),
            Arc::new(Int64Array::from(vec![1; stations.len()])),
        ],
    )
    .expect("batch");
    let ids = RowIdAllocator::starting_at(first_id).allocate(data.num_rows());
    GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
}

fn stage(keys: &[&str]) -> Resample {
    let mut config = ResampleStageConfig::new("t", Interval::minutes(15));
    config.keys = keys.iter().map(|key| key.to_string()).collect();
    config.columns = vec![
        AggregateColumn::new("pm25", Aggregate::Mean),
        AggregateColumn::new("pm25", Aggregate::Max),
    ];
    Resample::new(config).expect("stage")
}

fn context() -> StageContext {
    StageContext::new("resample", 1, AuditLog::in_memory().into_handle())
}

fn means(batch: &GovernedBatch) -> Vec<f64> {
    batch
        .column("pm25_mean")
        .expect("mean column")
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

#[test]
fn buckets_merge_rows_and_count_them() {
    let mut stage = stage(&["station"]);
    let mut ctx = context();
    let input = batch(
        &["north", "north", "south", "north", "north"],
        &[Some(0), Some(5), Some(3), Some(14), Some(20)],
        &[10.0, 20.0, 7.0, 30.0, 8.0],
        100,
    );
    let out = stage.clean(input, &mut ctx).expect("clean");
    // north 00:00-00:15 is complete (a later north bucket arrived); north 00:15 and south
    // 00:00 are the latest buckets of their keys and are held back.
    assert_eq!(out.num_rows(), 1);
    assert_eq!(
        out.column_names(),
        ["station", "t", "rows", "pm25_mean", "pm25_max"]
    );
    assert_eq!(means(&out), [20.0]);
    assert_eq!(out.row_ids().values().to_vec(), [100]);
    assert_eq!(ctx.rows_merged(), 2);
    assert_eq!(stage.held_rows(), 2);

    let rest = stage.flush(&mut ctx).expect("flush").expect("held rows");
    assert_eq!(rest.num_rows(), 2);
    assert_eq!(stage.held_rows(), 0);
    assert_eq!(ctx.rows_merged(), 2);
    let starts = rest
        .column("t")
        .expect("t")
        .as_primitive::<TimestampSecondType>();
    assert_eq!(starts.values().to_vec(), [0, 15 * MINUTE]);
    // 5 rows in = 3 rows out + 2 merged.
    assert_eq!(
        out.num_rows() + rest.num_rows() + ctx.rows_merged() as usize,
        5
    );
}

#[test]
fn bucket_spanning_batches_is_one_row() {
    let mut stage = stage(&[]);
    let mut ctx = context();
    let first = stage
        .clean(
            batch(&["a", "b"], &[Some(1), Some(2)], &[4.0, 6.0], 0),
            &mut ctx,
        )
        .expect("first");
    assert_eq!(first.num_rows(), 0);
    assert_eq!(first.column_names(), ["t", "rows", "pm25_mean", "pm25_max"]);
    let second = stage
        .clean(
            batch(&["c", "d"], &[Some(9), Some(31)], &[8.0, 1.0], 2),
            &mut ctx,
        )
        .expect("second");
    assert_eq!(means(&second), [6.0]);
    let rows = second
        .column("rows")
        .expect("rows")
        .as_primitive::<UInt64Type>();
    assert_eq!(rows.value(0), 3);
    assert_eq!(ctx.rows_merged(), 2);
    assert_eq!(stage.held_rows(), 1);
}

#[test]
fn null_and_late_rows_are_quarantined() {
    let mut stage = stage(&["station"]);
    let mut ctx = context();
    stage
        .clean(
            batch(&["north", "north"], &[Some(0), Some(40)], &[1.0, 2.0], 0),
            &mut ctx,
        )
        .expect("first");
    let out = stage
        .clean(
            batch(&["north", "north"], &[None, Some(3)], &[5.0, 6.0], 2),
            &mut ctx,
        )
        .expect("second");
    assert_eq!(out.num_rows(), 0);
    let quarantined = ctx.take_quarantined();
    assert_eq!(quarantined.len(), 2);
    assert_eq!(quarantined[0].row_id, Some(2));
    assert!(
        quarantined[0].reason.contains("null"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[1].row_id, Some(3));
    assert!(
        quarantined[1].reason.contains("after its"),
        "{}",
        quarantined[1].reason
    );
    assert!(
        quarantined[1].raw.contains("pm25=6"),
        "{}",
        quarantined[1].raw
    );
}

#[test]
fn two_key_columns_keep_their_types() {
    let mut stage = stage(&["station", "lane"]);
    let mut ctx = context();
    stage
        .clean(
            batch(&["north", "south"], &[Some(0), Some(0)], &[1.0, 3.0], 0),
            &mut ctx,
        )
        .expect("clean");
    let out = stage.flush(&mut ctx).expect("flush").expect("rows");
    assert_eq!(out.num_rows(), 2);
    let schema = out.data().schema();
    assert_eq!(schema.field(1).name(), "lane");
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);
}

#[test]
fn issues_follow_the_kept_row() {
    let mut stage = stage(&[]);
    let mut ctx = context();
    let mut input = batch(
        &["a", "b", "c"],
        &[Some(0), Some(1), Some(20)],
        &[1.0, 2.0, 3.0],
        0,
    );
    for row_id in [0, 1] {
        input.push_issue(governance_core::Issue::cell(
            row_id,
            "pm25",
            IssueKind::Outlier,
            Severity::Warning,
            "test",
            "suspicious",
        ));
    }
    let out = stage.clean(input, &mut ctx).expect("clean");
    assert_eq!(out.row_ids().values().to_vec(), [0]);
    let ids: Vec<u64> = out
        .issues
        .issues()
        .iter()
        .map(|issue| issue.row_id)
        .collect();
    assert_eq!(ids, [0]);
}

#[test]
fn bad_config_is_rejected() {
    let config = ResampleStageConfig::new("t", Interval::minutes(15));
    let error = Resample::new(config).expect_err("no columns");
    assert!(error.to_string().contains("columns is empty"), "{error}");

    let mut config = ResampleStageConfig::new("t", Interval::minutes(0));
    config.columns = vec![AggregateColumn::new("pm25", Aggregate::Sum)];
    assert!(Resample::new(config).is_err());

    let mut config = ResampleStageConfig::new("t", Interval::minutes(5));
    config.columns = vec![AggregateColumn::new("pm25", Aggregate::Sum)];
    config.count_column = "t".into();
    let error = Resample::new(config).expect_err("repeated name");
    assert!(error.to_string().contains("\"t\""), "{error}");
}

#[test]
fn missing_key_column_is_named() {
    let mut stage = stage(&["road"]);
    let error = stage
        .clean(batch(&["a"], &[Some(0)], &[1.0], 0), &mut context())
        .expect_err("missing key");
    let message = error.to_string();
    assert!(message.contains("\"road\""), "{message}");
    assert!(message.contains("station"), "{message}");
}

#[test]
fn next_round_after_flush_starts_fresh() {
    let mut stage = stage(&["station"]);
    for round in 1..=2 {
        let mut ctx = StageContext::new("resample", round, AuditLog::in_memory().into_handle());
        let out = stage
            .clean(
                batch(&["north", "north"], &[Some(0), Some(20)], &[1.0, 2.0], 0),
                &mut ctx,
            )
            .expect("clean");
        assert_eq!(out.num_rows(), 1, "round {round}");
        let rest = stage.flush(&mut ctx).expect("flush").expect("held rows");
        assert_eq!(rest.num_rows(), 1, "round {round}");
        assert_eq!(ctx.quarantined_len(), 0, "round {round}");
    }
}
