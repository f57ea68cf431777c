//! As-of join behaviour: directions, tolerance, unmatched rows, side order, renaming, types,
//! audit records and a chain run.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use governance_core::audit::{AuditAction, AuditLog};
use governance_core::{
    Chain, Collector, Fuser, GovernedBatch, IssueKind, Provenance, Result, RowIdAllocator, Stage,
    StageContext,
};
use governance_fuse::{AsOfDirection, AsOfJoin, AsOfJoinConfig};

const HOUR: i64 = 3_600_000;

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

/// Builds a batch of `station`, `timestamp` and one Float64 column named `value_name`.
fn readings(
    value_name: &str,
    stations: &[&str],
    times: &[i64],
    values: &[Option<f64>],
) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, true),
        Field::new("timestamp", timestamp_type(), true),
        Field::new(value_name, DataType::Float64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(stations.to_vec())),
            Arc::new(TimestampMillisecondArray::from(times.to_vec())),
            Arc::new(Float64Array::from(values.to_vec())),
        ],
    )
    .expect("readings batch")
}

fn governed(data: RecordBatch) -> GovernedBatch {
    let ids = RowIdAllocator::starting_at(100).allocate(data.num_rows());
    GovernedBatch::try_new(data, ids, Provenance::new("stream")).expect("governed batch")
}

fn context() -> StageContext {
    StageContext::new("asof_join", 1, AuditLog::in_memory().into_handle())
}

fn config(direction: AsOfDirection, tolerance_seconds: u64) -> AsOfJoinConfig {
    let mut config = AsOfJoinConfig::new("weather", "station", "timestamp");
    config.direction = direction;
    config.tolerance_seconds = tolerance_seconds;
    config
}

/// Weather of station A at 0 h (TEMP 1) and 3 h (TEMP 2).
fn weather() -> RecordBatch {
    readings("TEMP", &["A", "A"], &[0, 3 * HOUR], &[Some(1.0), Some(2.0)])
}

fn temps(batch: &GovernedBatch, column: &str) -> Vec<Option<f64>> {
    let array = batch.column(column).expect("attached column");
    array.as_primitive::<Float64Type>().iter().collect()
}

fn join_stream(
    config: AsOfJoinConfig,
    side: Vec<RecordBatch>,
    stream: RecordBatch,
) -> (AsOfJoin, GovernedBatch) {
    let mut join = AsOfJoin::new(config, side).expect("join");
    let joined = join.fuse(governed(stream), &mut context()).expect("fuse");
    (join, joined)
}

fn stream_at(times: &[i64]) -> RecordBatch {
    let stations = vec!["A"; times.len()];
    let values = vec![Some(10.0); times.len()];
    readings("PM2.5", &stations, times, &values)
}

#[test]
fn backward_takes_earlier_reading() {
    let (_, joined) = join_stream(
        config(AsOfDirection::Backward, 3 * 3600),
        vec![weather()],
        stream_at(&[HOUR, 2 * HOUR, 3 * HOUR]),
    );
    assert_eq!(
        temps(&joined, "TEMP"),
        vec![Some(1.0), Some(1.0), Some(2.0)]
    );
}

#[test]
fn forward_takes_later_reading() {
    let (_, joined) = join_stream(
        config(AsOfDirection::Forward, 3 * 3600),
        vec![weather()],
        stream_at(&[0, HOUR, 2 * HOUR]),
    );
    assert_eq!(
        temps(&joined, "TEMP"),
        vec![Some(1.0), Some(2.0), Some(2.0)]
    );
}

#[test]
fn nearest_takes_closer_reading() {
    let times = [HOUR, 2 * HOUR, 3 * HOUR / 2, 4 * HOUR];
    let (_, joined) = join_stream(
        config(AsOfDirection::Nearest, 3 * 3600),
        vec![weather()],
        stream_at(&times),
    );
    // 1.5 h is equally far from both readings: the earlier one wins.
    assert_eq!(
        temps(&joined, "TEMP"),
        vec![Some(1.0), Some(2.0), Some(1.0), Some(2.0)]
    );
}

#[test]
fn tolerance_boundary_is_inclusive() {
    let times = [HOUR, HOUR + 1, 3 * HOUR - HOUR, 3 * HOUR - HOUR - 1];
    let (join, joined) = join_stream(
        config(AsOfDirection::Backward, 3600),
        vec![weather()],
        stream_at(&times),
    );
    // Backward: 1 h matches 0 h exactly at the limit; 1 h + 1 ms is past it; 2 h and
    // 2 h - 1 ms look back to 0 h too and are past it.
    assert_eq!(temps(&joined, "TEMP"), vec![Some(1.0), None, None, None]);
    assert_eq!(join.matched_rows(), 1);
    assert_eq!(join.unmatched_rows(), 3);

    let (_, forward) = join_stream(
        config(AsOfDirection::Forward, 3600),
        vec![weather()],
        stream_at(&times),
    );
    assert_eq!(temps(&forward, "TEMP"), vec![None, None, Some(2.0), None]);
}

#[test]
fn zero_tolerance_needs_exact_time() {
    let (_, joined) = join_stream(
        config(AsOfDirection::Nearest, 0),
        vec![weather()],
        stream_at(&[0, 1, 3 * HOUR]),
    );
    assert_eq!(temps(&joined, "TEMP"), vec![Some(1.0), None, Some(2.0)]);
}

#[test]
fn unmatched_rows_are_null_and_counted() {
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = StageContext::new("asof_join", 1, audit.clone());
    let mut join =
        AsOfJoin::new(config(AsOfDirection::Backward, 3600), vec![weather()]).expect("join");
    let joined = join
        .fuse(governed(stream_at(&[-HOUR, 0, 10 * HOUR])), &mut ctx)
        .expect("fuse");

    assert_eq!(temps(&joined, "TEMP"), vec![None, Some(1.0), None]);
    assert!(
        joined.issues.is_empty(),
        "unmatched rows log no issue unless report_unmatched is set"
    );
    let log = audit.lock().expect("audit lock");
    let change = log
        .records()
        .iter()
        .find(|record| record.action == AuditAction::Change)
        .expect("change record");
    assert_eq!(change.subject, "weather");
    assert!(
        change.detail.contains("rows=3 matched=1 unmatched=2"),
        "{}",
        change.detail
    );
}

#[test]
fn report_unmatched_logs_missing_issues() {
    let mut config = config(AsOfDirection::Backward, 3600);
    config.report_unmatched = true;
    let (_, joined) = join_stream(config, vec![weather()], stream_at(&[0, 10 * HOUR]));
    assert_eq!(joined.issues.len(), 1);
    let issue = &joined.issues.issues()[0];
    assert_eq!(issue.kind, IssueKind::Missing);
    assert_eq!(issue.row_id, 101);
    assert_eq!(issue.column, None);
}

#[test]
fn key_missing_in_side_gives_null() {
    let stream = readings("PM2.5", &["A", "B"], &[0, 0], &[Some(1.0), Some(2.0)]);
    let (join, joined) = join_stream(
        config(AsOfDirection::Nearest, 3600),
        vec![weather()],
        stream,
    );
    assert_eq!(temps(&joined, "TEMP"), vec![Some(1.0), None]);
    assert_eq!(join.unmatched_rows(), 1);
}

#[test]
fn null_stream_key_or_time_gives_null() {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, true),
        Field::new("timestamp", timestamp_type(), true),
    ]);
    let stream = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec![None, Some("A")])),
            Arc::new(TimestampMillisecondArray::from(vec![Some(0), None])),
        ],
    )
    .expect("stream");
    let (_, joined) = join_stream(
        config(AsOfDirection::Nearest, 3600),
        vec![weather()],
        stream,
    );
    assert_eq!(temps(&joined, "TEMP"), vec![None, None]);
}

#[test]
fn unsorted_side_matches_like_sorted() {
    let times = [0, 5 * HOUR, HOUR, 3 * HOUR, 2 * HOUR, 4 * HOUR];
    let values: Vec<Option<f64>> = times
        .iter()
        .map(|time| Some((time / HOUR) as f64))
        .collect();
    let stations = ["B", "A", "A", "B", "A", "A"];
    let first = readings("TEMP", &stations[..3], &times[..3], &values[..3]);
    let second = readings("TEMP", &stations[3..], &times[3..], &values[3..]);
    let stream = readings(
        "PM2.5",
        &["A", "A", "A", "B", "B"],
        &[HOUR + 10, 4 * HOUR + 10, 5 * HOUR + 10, HOUR, 3 * HOUR + 10],
        &[Some(1.0); 5],
    );
    let (join, joined) = join_stream(
        config(AsOfDirection::Backward, 3600),
        vec![second, first],
        stream,
    );
    // A has readings at 1, 2, 4 and 5 h; B at 0 and 3 h.
    assert_eq!(
        temps(&joined, "TEMP"),
        vec![Some(1.0), Some(4.0), Some(5.0), Some(0.0), Some(3.0)]
    );
    assert_eq!(join.side_rows(), 6);
}

#[test]
fn repeated_side_time_keeps_first_loaded() {
    let first = readings("TEMP", &["A"], &[0], &[Some(1.0)]);
    let second = readings("TEMP", &["A"], &[0], &[Some(9.0)]);
    let (_, joined) = join_stream(
        config(AsOfDirection::Backward, 3600),
        vec![first, second],
        stream_at(&[HOUR]),
    );
    assert_eq!(temps(&joined, "TEMP"), vec![Some(1.0)]);
}

#[test]
fn name_clash_gets_suffix() {
    // The side carries PM2.5 too; the stream's column keeps its name.
    let side = readings("PM2.5", &["A"], &[0], &[Some(55.0)]);
    let (join, joined) = join_stream(
        config(AsOfDirection::Backward, 3600),
        vec![side],
        stream_at(&[0]),
    );
    assert_eq!(
        joined.column_names(),
        ["station", "timestamp", "PM2.5", "PM2.5_side"]
    );
    assert_eq!(temps(&joined, "PM2.5"), vec![Some(10.0)]);
    assert_eq!(temps(&joined, "PM2.5_side"), vec![Some(55.0)]);
    assert_eq!(join.attached_columns(), ["PM2.5"]);
}

#[test]
fn side_time_can_be_attached_with_suffix() {
    let mut config = config(AsOfDirection::Backward, 3600);
    config.columns = vec!["timestamp".into(), "TEMP".into()];
    config.suffix = "_weather".into();
    let (_, joined) = join_stream(config, vec![weather()], stream_at(&[HOUR]));
    assert_eq!(
        joined.column_names(),
        ["station", "timestamp", "PM2.5", "timestamp_weather", "TEMP"]
    );
    let matched_at = joined.column("timestamp_weather").expect("side time");
    assert_eq!(
        matched_at
            .as_primitive::<arrow::datatypes::TimestampMillisecondType>()
            .value(0),
        0
    );
}

#[test]
fn suffix_clash_is_rejected() {
    let side = readings("PM2.5", &["A"], &[0], &[Some(55.0)]);
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, true),
        Field::new("timestamp", timestamp_type(), true),
        Field::new("PM2.5", DataType::Float64, true),
        Field::new("PM2.5_side", DataType::Float64, true),
    ]);
    let stream = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["A"])),
            Arc::new(TimestampMillisecondArray::from(vec![0])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(Float64Array::from(vec![2.0])),
        ],
    )
    .expect("stream");
    let mut join = AsOfJoin::new(config(AsOfDirection::Backward, 3600), vec![side]).expect("join");
    let error = join
        .fuse(governed(stream), &mut context())
        .expect_err("suffix clash");
    let message = error.to_string();
    assert!(message.contains("\"PM2.5_side\""), "{message}");
    assert!(message.contains("suffix"), "{message}");
}

#[test]
fn rows_and_ids_are_kept() {
    let stream = stream_at(&[0, HOUR, 9 * HOUR, 2 * HOUR]);
    let mut batch = governed(stream);
    batch.push_issue(governance_core::Issue::cell(
        102,
        "PM2.5",
        IssueKind::Outlier,
        governance_core::Severity::Warning,
        "test",
        "earlier issue",
    ));
    let ids_before = batch.row_ids().values().to_vec();
    let mut join =
        AsOfJoin::new(config(AsOfDirection::Nearest, 3600), vec![weather()]).expect("join");
    let joined = join.fuse(batch, &mut context()).expect("fuse");
    assert_eq!(joined.num_rows(), 4);
    assert_eq!(joined.row_ids().values().to_vec(), ids_before);
    assert_eq!(
        joined.issues.len(),
        1,
        "earlier issues stay with their rows"
    );
    assert_eq!(join.matched_rows() + join.unmatched_rows(), 4);
    assert!(
        joined
            .data()
            .schema()
            .field_with_name("TEMP")
            .expect("TEMP")
            .is_nullable()
    );
}

#[test]
fn empty_stream_batch_passes() {
    let (_, joined) = join_stream(
        config(AsOfDirection::Nearest, 3600),
        vec![weather()],
        stream_at(&[]),
    );
    assert_eq!(joined.num_rows(), 0);
    assert_eq!(joined.column_names().len(), 4);
}

#[test]
fn int64_keys_and_epoch_times_join() {
    let batch = |name: &str, keys: Vec<i64>, times: Vec<i64>, values: Vec<f64>| {
        let schema = Schema::new(vec![
            Field::new("sensor", DataType::Int64, false),
            Field::new("t", DataType::Int64, false),
            Field::new(name, DataType::Float64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(keys)),
            Arc::new(Int64Array::from(times)),
            Arc::new(Float64Array::from(values)),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
    };
    let side = batch("rain", vec![7, 8], vec![1_000, 1_000], vec![0.5, 3.0]);
    let stream = batch(
        "flow",
        vec![8, 7, 9],
        vec![1_500, 2_000, 1_000],
        vec![1.0, 2.0, 3.0],
    );
    let mut config = AsOfJoinConfig::new("rain_gauges", "sensor", "t");
    config.tolerance_seconds = 1;
    let (_, joined) = join_stream(config, vec![side], stream);
    assert_eq!(temps(&joined, "rain"), vec![Some(3.0), Some(0.5), None]);
}

#[test]
fn float_key_error_names_column_and_types() {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Float64, false),
        Field::new("timestamp", timestamp_type(), false),
    ]);
    let stream = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(TimestampMillisecondArray::from(vec![0])),
        ],
    )
    .expect("stream");
    let mut join =
        AsOfJoin::new(config(AsOfDirection::Nearest, 3600), vec![weather()]).expect("join");
    let message = join
        .fuse(governed(stream), &mut context())
        .expect_err("float key")
        .to_string();
    assert!(message.contains("\"station\""), "{message}");
    assert!(message.contains("Float64"), "{message}");
    assert!(message.contains("Utf8"), "{message}");
    assert!(message.contains("Int64"), "{message}");
}

#[test]
fn key_kind_mismatch_is_rejected() {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Int64, false),
        Field::new("timestamp", timestamp_type(), false),
    ]);
    let stream = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(TimestampMillisecondArray::from(vec![0])),
        ],
    )
    .expect("stream");
    let mut join =
        AsOfJoin::new(config(AsOfDirection::Nearest, 3600), vec![weather()]).expect("join");
    let message = join
        .fuse(governed(stream), &mut context())
        .expect_err("int vs text key")
        .to_string();
    assert!(message.contains("type Int64"), "{message}");
    assert!(message.contains("type Utf8"), "{message}");
}

#[test]
fn text_time_in_side_is_rejected() {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("timestamp", DataType::Utf8, false),
        Field::new("TEMP", DataType::Float64, false),
    ]);
    let side = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["A"])),
            Arc::new(StringArray::from(vec!["2013-03-01 00:00"])),
            Arc::new(Float64Array::from(vec![1.0])),
        ],
    )
    .expect("side");
    let message = AsOfJoin::new(config(AsOfDirection::Nearest, 3600), vec![side])
        .expect_err("text time")
        .to_string();
    assert!(message.contains("side source \"weather\""), "{message}");
    assert!(message.contains("Utf8"), "{message}");
    assert!(message.contains("Timestamp"), "{message}");
}

#[test]
fn empty_side_is_rejected() {
    let message = AsOfJoin::new(
        config(AsOfDirection::Nearest, 3600),
        Vec::<RecordBatch>::new(),
    )
    .expect_err("no side batches")
    .to_string();
    assert!(message.contains("no batches"), "{message}");
}

#[test]
fn unknown_side_column_lists_columns() {
    let mut config = config(AsOfDirection::Nearest, 3600);
    config.columns = vec!["WSPM".into()];
    let message = AsOfJoin::new(config, vec![weather()])
        .expect_err("no WSPM")
        .to_string();
    assert!(message.contains("\"WSPM\""), "{message}");
    assert!(message.contains("station, timestamp, TEMP"), "{message}");
}

#[test]
fn side_batches_with_different_types_are_rejected() {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("timestamp", timestamp_type(), false),
        Field::new("TEMP", DataType::Int64, false),
    ]);
    let odd = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["A"])),
            Arc::new(TimestampMillisecondArray::from(vec![0])),
            Arc::new(Int64Array::from(vec![1])),
        ],
    )
    .expect("side");
    let message = AsOfJoin::new(config(AsOfDirection::Nearest, 3600), vec![weather(), odd])
        .expect_err("TEMP types differ")
        .to_string();
    assert!(message.contains("\"TEMP\""), "{message}");
    assert!(message.contains("side batch 1"), "{message}");
}

#[test]
fn side_from_governed_batches() {
    let side = vec![governed(weather())];
    let mut join = AsOfJoin::new(config(AsOfDirection::Backward, 3600), side).expect("join");
    assert_eq!(join.sources(), ["weather"]);
    let joined = join
        .fuse(governed(stream_at(&[0])), &mut context())
        .expect("fuse");
    assert_eq!(temps(&joined, "TEMP"), vec![Some(1.0)]);
}

#[test]
fn params_round_trip_config() {
    let config = config(AsOfDirection::Forward, 120);
    let join = AsOfJoin::new(config.clone(), vec![weather()]).expect("join");
    let params: AsOfJoinConfig =
        serde_json::from_value(join.params()).expect("params are the config");
    assert_eq!(params, config);
}

/// Emits fixed batches of readings.
struct Readings {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
}

impl Stage for Readings {
    fn name(&self) -> &str {
        "readings"
    }
}

impl Collector for Readings {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let Some(data) = self.batches.get(self.next).cloned() else {
            return Ok(None);
        };
        self.next += 1;
        ctx.record_read(data.num_rows() as u64);
        let ids = self.ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("readings")).map(Some)
    }
}

#[test]
fn chain_run_keeps_rows_and_audits() {
    let collector = Readings {
        batches: vec![
            stream_at(&[0, HOUR, 5 * HOUR]),
            stream_at(&[3 * HOUR, 4 * HOUR]),
        ],
        next: 0,
        ids: RowIdAllocator::default(),
    };
    let join = AsOfJoin::new(config(AsOfDirection::Backward, 3600), vec![weather()]).expect("join");
    let mut chain = Chain::builder()
        .collect(collector)
        .fuse(join)
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");

    let fuser = &summary.stages[1];
    assert_eq!(fuser.kind, "fuser");
    assert_eq!(fuser.rows_in, 5);
    assert_eq!(fuser.rows_out, 5);
    assert_eq!(summary.rows_delivered, 5);
    assert!(summary.audit_verified);

    let log = chain.audit().lock().expect("audit lock");
    let by_join: Vec<_> = log
        .records()
        .iter()
        .filter(|record| record.actor == "asof_join")
        .collect();
    assert_eq!(
        by_join.len(),
        3,
        "one read of the side and one change per batch"
    );
    assert_eq!(by_join[0].action, AuditAction::Read);
    assert!(
        by_join[0].detail.starts_with("rows=2 "),
        "{}",
        by_join[0].detail
    );
    // Batch 1: 0 h and 1 h match 0 h; 5 h is 2 h after 3 h. Batch 2: 3 h and 4 h match 3 h.
    assert!(
        by_join[1].detail.contains("matched=2 unmatched=1"),
        "{}",
        by_join[1].detail
    );
    assert!(
        by_join[2].detail.contains("matched=2 unmatched=0"),
        "{}",
        by_join[2].detail
    );
}

#[test]
fn second_round_reads_side_again() {
    let collector = Readings {
        batches: vec![stream_at(&[0])],
        next: 0,
        ids: RowIdAllocator::default(),
    };
    let join = AsOfJoin::new(config(AsOfDirection::Backward, 3600), vec![weather()]).expect("join");
    let mut chain = Chain::builder()
        .collect(collector)
        .fuse(join)
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");
    chain.run_blocking().expect("round 2");
    let log = chain.audit().lock().expect("audit lock");
    let reads = log
        .records()
        .iter()
        .filter(|record| record.actor == "asof_join" && record.action == AuditAction::Read)
        .count();
    assert_eq!(reads, 2);
}
