//! PostgresSink and PostgresWriter against a real PostgreSQL server on 127.0.0.1: type
//! mapping, column comments, upserts, checkpoints across a crash, and clear errors.
//!
//! Every test that needs a server starts its own throwaway cluster and skips, with a
//! message, when the PostgreSQL server binaries are not installed.

mod common;
#[path = "support/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float16Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    ListArray, RecordBatch, StringArray, StringViewArray, Time64MicrosecondArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
    UInt16Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Float16Type, Int32Type, Schema, SchemaRef, TimeUnit,
};
use common::{FailAt, LINES, LineCollector};
use governance_apply::postgres::ROW_ID_COMMENT;
use governance_apply::{
    ApplyError, CommitMode, PostgresSink, PostgresSinkConfig, PostgresWriter, WriteMode,
};
use governance_core::semantic::{SEMANTIC_TYPE_KEY, SENSITIVITY_KEY, STANDARD_NAME_KEY, UNIT_KEY};
use governance_core::{
    Chain, Collector, Error, GovernedBatch, Provenance, ROW_ID_COLUMN, Result, RowIdAllocator,
    Stage, StageContext,
};
use pg::PgServer;

/// Arrow's half-precision float, which arrow does not re-export by name.
type F16 = <Float16Type as ArrowPrimitiveType>::Native;

/// Yields fixed record batches with fresh row ids, the same batches every round.
struct BatchCollector {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
}

impl BatchCollector {
    fn new(batches: Vec<RecordBatch>) -> Self {
        BatchCollector {
            batches,
            next: 0,
            ids: RowIdAllocator::default(),
        }
    }
}

impl Stage for BatchCollector {
    fn name(&self) -> &str {
        "batches"
    }
}

impl Collector for BatchCollector {
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
        GovernedBatch::try_new(data, ids, Provenance::new("fixed")).map(Some)
    }
}

fn run_chain(sink: PostgresSink, batches: Vec<RecordBatch>) -> Result<()> {
    let mut chain = Chain::builder()
        .collect(BatchCollector::new(batches))
        .apply(sink)
        .build()?;
    chain.run_blocking().map(|_| ())
}

fn sink(server: &PgServer, table: &str) -> PostgresSink {
    let config = PostgresSinkConfig::new(server.connection_string(), table, "test");
    PostgresSink::new(config).expect("valid sink config")
}

/// Joins an error with all its sources, as a log line would show them.
fn full_message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn apply_error(error: &Error) -> &ApplyError {
    error
        .source()
        .and_then(|source| source.downcast_ref::<ApplyError>())
        .unwrap_or_else(|| panic!("expected an ApplyError, got {error:?}"))
}

fn count(server: &PgServer, table: &str) -> i64 {
    server
        .scalar(&format!("SELECT count(*) FROM {table}"))
        .and_then(|text| text.parse().ok())
        .expect("a count")
}

fn table_exists(server: &PgServer, table: &str) -> bool {
    server.scalar(&format!("SELECT to_regclass('{table}') IS NOT NULL")) == Some("t".into())
}

fn all_types_batch() -> RecordBatch {
    let fields = vec![
        Field::new("i8", DataType::Int8, true),
        Field::new("i16", DataType::Int16, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("u8", DataType::UInt8, true),
        Field::new("u16", DataType::UInt16, true),
        Field::new("u32", DataType::UInt32, true),
        Field::new("u64", DataType::UInt64, true),
        Field::new("f16", DataType::Float16, true),
        Field::new("f32", DataType::Float32, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("amount", DataType::Decimal128(12, 3), true),
        Field::new("name", DataType::Utf8, true),
        Field::new("large", DataType::LargeUtf8, true),
        Field::new("view", DataType::Utf8View, true),
        Field::new("blob", DataType::Binary, true),
        Field::new("ok", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new("clock", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new(
            "local",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new(
            "instant",
            DataType::Timestamp(TimeUnit::Microsecond, Some("+08:00".into())),
            true,
        ),
        Field::new(
            "nanos",
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        ),
        Field::new("Mixed Case \"quoted\"", DataType::Int32, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int8Array::from(vec![Some(-128), None])),
        Arc::new(Int16Array::from(vec![Some(-32_768), None])),
        Arc::new(Int32Array::from(vec![Some(i32::MIN), None])),
        Arc::new(Int64Array::from(vec![Some(i64::MAX), None])),
        Arc::new(UInt8Array::from(vec![Some(255), None])),
        Arc::new(UInt16Array::from(vec![Some(65_535), None])),
        Arc::new(UInt32Array::from(vec![Some(u32::MAX), None])),
        Arc::new(UInt64Array::from(vec![Some(i64::MAX as u64), None])),
        Arc::new(Float16Array::from(vec![Some(F16::from_f32(1.5)), None])),
        Arc::new(Float32Array::from(vec![Some(-2.25), None])),
        Arc::new(Float64Array::from(vec![Some(35.125), None])),
        Arc::new(
            Decimal128Array::from(vec![Some(-1_234_567_890), None])
                .with_precision_and_scale(12, 3)
                .expect("decimal type"),
        ),
        Arc::new(StringArray::from(vec![Some("Dongsi 东四 'x' \\"), None])),
        Arc::new(LargeStringArray::from(vec![Some("large"), None])),
        Arc::new(StringViewArray::from(vec![
            Some("a view longer than twelve bytes"),
            None,
        ])),
        Arc::new(BinaryArray::from(vec![Some(&[0u8, 1, 255][..]), None])),
        Arc::new(BooleanArray::from(vec![Some(true), None])),
        // 2024-02-29 is 19782 days after 1970-01-01.
        Arc::new(Date32Array::from(vec![Some(19_782), None])),
        // 13:45:30.25
        Arc::new(Time64MicrosecondArray::from(vec![
            Some(49_530_250_000),
            None,
        ])),
        // 2024-02-29 13:45:30.123
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_709_214_330_123),
            None,
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![Some(1_709_214_330_123_456), None])
                .with_timezone("+08:00"),
        ),
        // 1969-12-31 23:59:59.999999, after truncating -1 ns towards negative infinity.
        Arc::new(TimestampNanosecondArray::from(vec![Some(-1), None])),
        Arc::new(Int32Array::from(vec![Some(7), None])),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch of every type")
}

#[test]
fn types_map_and_round_trip() {
    let Some(server) = PgServer::start() else {
        return;
    };
    run_chain(sink(&server, "every_type"), vec![all_types_batch()]).expect("run");

    let types: HashMap<String, String> = server
        .query(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'every_type'::regclass AND attnum > 0",
        )
        .into_iter()
        .map(|row| (row[0].clone().expect("name"), row[1].clone().expect("type")))
        .collect();
    let expected_types = [
        (ROW_ID_COLUMN, "bigint"),
        ("i8", "smallint"),
        ("i16", "smallint"),
        ("i32", "integer"),
        ("i64", "bigint"),
        ("u8", "smallint"),
        ("u16", "integer"),
        ("u32", "bigint"),
        ("u64", "bigint"),
        ("f16", "real"),
        ("f32", "real"),
        ("f64", "double precision"),
        ("amount", "numeric(12,3)"),
        ("name", "text"),
        ("large", "text"),
        ("view", "text"),
        ("blob", "bytea"),
        ("ok", "boolean"),
        ("day", "date"),
        ("clock", "time without time zone"),
        ("local", "timestamp without time zone"),
        ("instant", "timestamp with time zone"),
        ("nanos", "timestamp without time zone"),
        ("Mixed Case \"quoted\"", "integer"),
    ];
    for (column, expected) in expected_types {
        assert_eq!(
            types.get(column).map(String::as_str),
            Some(expected),
            "type of column {column:?}"
        );
    }
    assert_eq!(types.len(), expected_types.len());

    let values = server.query(
        "SET TIME ZONE 'UTC'; SELECT __row_id::text, i8::text, i16::text, i32::text, \
         i64::text, u8::text, u16::text, u32::text, u64::text, f16::text, f32::text, \
         f64::text, amount::text, name, large, view, blob::text, ok::text, day::text, \
         clock::text, local::text, instant::text, nanos::text, \"Mixed Case \"\"quoted\"\"\"::text \
         FROM every_type ORDER BY __row_id",
    );
    assert_eq!(values.len(), 2);
    let expected_values = [
        "0",
        "-128",
        "-32768",
        "-2147483648",
        "9223372036854775807",
        "255",
        "65535",
        "4294967295",
        "9223372036854775807",
        "1.5",
        "-2.25",
        "35.125",
        "-1234567.890",
        "Dongsi 东四 'x' \\",
        "large",
        "a view longer than twelve bytes",
        "\\x0001ff",
        "true",
        "2024-02-29",
        "13:45:30.25",
        "2024-02-29 13:45:30.123",
        "2024-02-29 13:45:30.123456+00",
        "1969-12-31 23:59:59.999999",
        "7",
    ];
    for (index, expected) in expected_values.iter().enumerate() {
        assert_eq!(
            values[0][index].as_deref(),
            Some(*expected),
            "value of column {index} in row 0"
        );
    }
    assert_eq!(values[1][0].as_deref(), Some("1"), "row id of row 1");
    for (index, value) in values[1].iter().enumerate().skip(1) {
        assert_eq!(value, &None, "column {index} of row 1 must be null");
    }
}

#[test]
fn decimals_round_trip_exactly() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let cases: Vec<(u8, i8, Vec<i128>)> = vec![
        (38, 0, vec![i128::from(i64::MAX) * 1000, -1, 0, 10_000]),
        (
            38,
            38,
            vec![1, -99_999_999_999_999_999_999_999_999_999_999_999_999],
        ),
        (9, 5, vec![1, 100_000, 123_456_789, -50]),
        (4, 4, vec![1, 9_999, 0]),
    ];
    for (index, (precision, scale, values)) in cases.into_iter().enumerate() {
        let array = Decimal128Array::from(values)
            .with_precision_and_scale(precision, scale)
            .expect("decimal type");
        let expected: Vec<String> = (0..array.len())
            .map(|row| array.value_as_string(row))
            .collect();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::Decimal128(precision, scale),
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(array)]).expect("batch");
        let table = format!("decimals_{index}");
        run_chain(sink(&server, &table), vec![batch]).expect("run");
        let stored: Vec<String> = server
            .query(&format!("SELECT d::text FROM {table} ORDER BY __row_id"))
            .into_iter()
            .map(|row| row[0].clone().expect("value"))
            .collect();
        assert_eq!(stored, expected, "numeric({precision},{scale})");
    }
}

fn annotated_schema() -> SchemaRef {
    let metadata = HashMap::from([
        (STANDARD_NAME_KEY.to_string(), "pm25".to_string()),
        (UNIT_KEY.to_string(), "ug/m3".to_string()),
        (SEMANTIC_TYPE_KEY.to_string(), "pm2_5".to_string()),
        (SENSITIVITY_KEY.to_string(), "public".to_string()),
        ("unrelated".to_string(), "left out".to_string()),
    ]);
    let owner = HashMap::from([(SENSITIVITY_KEY.to_string(), "sensitive".to_string())]);
    Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("pm25", DataType::Float64, true).with_metadata(metadata),
        Field::new("owner's name", DataType::Utf8, true).with_metadata(owner),
    ]))
}

#[test]
fn semantics_become_column_comments() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let batch = RecordBatch::try_new(
        annotated_schema(),
        vec![
            Arc::new(StringArray::from(vec!["Dongsi"])),
            Arc::new(Float64Array::from(vec![Some(35.0)])),
            Arc::new(StringArray::from(vec![Some("Li Wei")])),
        ],
    )
    .expect("batch");
    run_chain(sink(&server, "annotated"), vec![batch]).expect("run");

    let comments: HashMap<String, Option<String>> = server
        .query(
            "SELECT a.attname, d.description FROM pg_attribute a \
             LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum \
             AND d.classoid = 'pg_class'::regclass \
             WHERE a.attrelid = 'annotated'::regclass AND a.attnum > 0",
        )
        .into_iter()
        .map(|row| (row[0].clone().expect("name"), row[1].clone()))
        .collect();
    let pm25: serde_json::Value =
        serde_json::from_str(comments["pm25"].as_deref().expect("pm25 has a comment"))
            .expect("comment is JSON");
    assert_eq!(pm25[UNIT_KEY], "ug/m3");
    assert_eq!(pm25[STANDARD_NAME_KEY], "pm25");
    assert_eq!(pm25[SEMANTIC_TYPE_KEY], "pm2_5");
    assert_eq!(pm25[SENSITIVITY_KEY], "public");
    assert_eq!(pm25.as_object().map(|object| object.len()), Some(4));
    assert_eq!(
        comments["owner's name"].as_deref(),
        Some(r#"{"governance.sensitivity":"sensitive"}"#)
    );
    assert_eq!(comments["station"], None);
    assert_eq!(comments[ROW_ID_COLUMN].as_deref(), Some(ROW_ID_COMMENT));
}

fn readings(stations: &[&str], values: &[f64]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("pm25", DataType::Float64, true),
        ])),
        vec![
            Arc::new(StringArray::from(stations.to_vec())),
            Arc::new(Float64Array::from(values.to_vec())),
        ],
    )
    .expect("readings batch")
}

#[test]
fn upsert_updates_existing_keys() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut config = PostgresSinkConfig::new(server.connection_string(), "latest", "upsert");
    config.mode = WriteMode::Upsert {
        key: vec!["station".into()],
    };
    let first = readings(&["Dongsi", "Tiantan"], &[10.0, 20.0]);
    run_chain(
        PostgresSink::new(config.clone()).expect("sink"),
        vec![first],
    )
    .expect("first run");
    assert_eq!(count(&server, "latest"), 2);

    // Dongsi twice in one batch: the later row wins. Guanyuan is new.
    let second = readings(&["Dongsi", "Guanyuan", "Dongsi"], &[11.0, 30.0, 12.0]);
    let third = readings(&["Tiantan"], &[21.0]);
    run_chain(
        PostgresSink::new(config).expect("sink"),
        vec![second, third],
    )
    .expect("second run");

    let rows =
        server.query("SELECT station, pm25::text, __row_id::text FROM latest ORDER BY station");
    let stored: Vec<(String, String)> = rows
        .iter()
        .map(|row| {
            (
                row[0].clone().expect("station"),
                row[1].clone().expect("pm25"),
            )
        })
        .collect();
    assert_eq!(
        stored,
        vec![
            ("Dongsi".to_string(), "12".to_string()),
            ("Guanyuan".to_string(), "30".to_string()),
            ("Tiantan".to_string(), "21".to_string()),
        ]
    );
    // The second run's collector starts its row ids at 0 again: Dongsi's last row was id 2.
    assert_eq!(rows[0][2].as_deref(), Some("2"));
    let key = server.scalar(
        "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a \
         ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = 'latest'::regclass AND i.indisprimary",
    );
    assert_eq!(key.as_deref(), Some("station"));
}

#[test]
fn upsert_rejects_null_key() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut config = PostgresSinkConfig::new(server.connection_string(), "keyed", "nulls");
    config.mode = WriteMode::Upsert {
        key: vec!["station".into()],
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "station",
        DataType::Utf8,
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec![Some("Dongsi"), None]))],
    )
    .expect("batch");
    let error =
        run_chain(PostgresSink::new(config).expect("sink"), vec![batch]).expect_err("null key");
    let message = full_message(&error);
    assert!(message.contains("\"station\""), "{message}");
    assert!(message.contains("row id 1"), "{message}");
    assert!(message.contains("key is null"), "{message}");
    assert_eq!(count(&server, "keyed"), 0);
}

#[test]
fn checkpoint_survives_crash_before_commit() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config = PostgresSinkConfig::new(server.connection_string(), "stream", "air-stream");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Six source lines in three batches of two; the position is the next line to read.
    let batch = |first_line: u64| {
        let stations = ["a", "b", "c", "d", "e", "f"];
        let start = first_line as usize;
        let data = readings(
            &stations[start..start + 2],
            &[first_line as f64, first_line as f64 + 1.0],
        );
        let ids = UInt64Array::from(vec![first_line, first_line + 1]);
        GovernedBatch::try_new(data, ids, Provenance::new("lines")).expect("batch")
    };

    runtime.block_on(async {
        let mut writer = PostgresWriter::connect(config.clone())
            .await
            .expect("connect");
        assert_eq!(writer.last_checkpoint().await.expect("read"), None);
        writer.write(&batch(0)).await.expect("write batch 1");
        writer
            .commit(&serde_json::json!({"next_line": 2}))
            .await
            .expect("commit batch 1");
        writer.write(&batch(2)).await.expect("write batch 2");
        assert!(writer.in_transaction());
        // Crash: the process dies before the commit of batch 2.
        drop(writer);
    });

    runtime.block_on(async {
        let mut writer = PostgresWriter::connect(config.clone())
            .await
            .expect("reconnect");
        let checkpoint = writer
            .last_checkpoint()
            .await
            .expect("read")
            .expect("a committed checkpoint");
        assert_eq!(checkpoint.pipeline_id, "air-stream");
        assert_eq!(checkpoint.position, serde_json::json!({"next_line": 2}));
        let mut next_line = checkpoint.position["next_line"].as_u64().expect("position");
        while next_line < 6 {
            writer.write(&batch(next_line)).await.expect("write");
            next_line += 2;
            writer
                .commit(&serde_json::json!({ "next_line": next_line }))
                .await
                .expect("commit");
        }
    });

    let ids: Vec<String> = server
        .query("SELECT __row_id::text FROM stream ORDER BY __row_id")
        .into_iter()
        .map(|row| row[0].clone().expect("id"))
        .collect();
    assert_eq!(
        ids,
        vec!["0", "1", "2", "3", "4", "5"],
        "each row exactly once"
    );
    assert_eq!(
        server.scalar(
            "SELECT position->>'next_line' FROM checkpoints WHERE pipeline_id = 'air-stream'"
        ),
        Some("6".into())
    );
}

#[test]
fn failed_round_commits_nothing() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config = PostgresSinkConfig::new(server.connection_string(), "rounds", "rounds");
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .clean(FailAt {
            fail_at: 2,
            rounds: vec![2],
            seen: 0,
        })
        .apply(PostgresSink::new(config.clone()).expect("sink"))
        .build()
        .expect("chain");
    let first = chain.run_blocking().expect("round 1");
    let rows_after_first = count(&server, "rounds");
    assert_eq!(rows_after_first, first.rows_delivered as i64);
    let checkpoint =
        server.scalar("SELECT position::text FROM checkpoints WHERE pipeline_id = 'rounds'");
    let position: serde_json::Value =
        serde_json::from_str(checkpoint.as_deref().expect("checkpoint")).expect("JSON");
    assert_eq!(position["round"], 1);
    assert_eq!(position["rows"], first.rows_delivered);
    assert_eq!(position["source"], common::SOURCE);

    // Round 2 fails at its second batch, after the sink wrote the first one.
    chain.run_blocking().expect_err("round 2 fails");
    assert_eq!(count(&server, "rounds"), rows_after_first);
    // Round 3 succeeds; round 2's open transaction was rolled back first.
    chain.run_blocking().expect("round 3");
    assert_eq!(count(&server, "rounds"), 2 * rows_after_first);
    let mut sink = PostgresSink::new(config).expect("sink");
    let checkpoint = sink.last_checkpoint().expect("read").expect("checkpoint");
    assert_eq!(checkpoint.position["round"], 3);
}

#[test]
fn batch_commit_advances_checkpoint() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut config = PostgresSinkConfig::new(server.connection_string(), "per_batch", "batches");
    config.commit = CommitMode::Batch;
    let batches = vec![readings(&["a", "b"], &[1.0, 2.0]), readings(&["c"], &[3.0])];
    run_chain(PostgresSink::new(config.clone()).expect("sink"), batches).expect("run");
    assert_eq!(count(&server, "per_batch"), 3);
    let mut sink = PostgresSink::new(config).expect("sink");
    let checkpoint = sink.last_checkpoint().expect("read").expect("checkpoint");
    assert_eq!(checkpoint.position["last_row_id"], 2);
    assert_eq!(
        checkpoint.position["rows"], 1,
        "rows of the last transaction"
    );
}

#[test]
fn unsupported_type_names_column() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "samples",
        list.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(list)]).expect("batch");
    let error = run_chain(sink(&server, "lists"), vec![batch]).expect_err("unsupported");
    match apply_error(&error) {
        ApplyError::UnsupportedType { column, .. } => assert_eq!(column, "samples"),
        other => panic!("expected UnsupportedType, got {other:?}"),
    }
    let message = full_message(&error);
    assert!(message.contains("List("), "{message}");
    assert!(message.contains("flatten"), "{message}");
    assert!(
        !table_exists(&server, "lists"),
        "no table for rejected data"
    );
}

#[test]
fn value_out_of_range_rolls_back() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]));
    let fits = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(vec![1, 2]))],
    )
    .expect("batch");
    let too_big =
        RecordBatch::try_new(schema, vec![Arc::new(UInt64Array::from(vec![3, u64::MAX]))])
            .expect("batch");
    let error = run_chain(sink(&server, "counts"), vec![fits, too_big]).expect_err("overflow");
    match apply_error(&error) {
        ApplyError::InvalidValue { column, row_id, .. } => {
            assert_eq!(column, "count");
            assert_eq!(*row_id, 3);
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    assert!(full_message(&error).contains("18446744073709551615"));
    assert_eq!(
        count(&server, "counts"),
        0,
        "the round's first batch is rolled back"
    );
}

#[test]
fn existing_table_mismatch_is_named() {
    let Some(server) = PgServer::start() else {
        return;
    };
    server.query("CREATE TABLE legacy (__row_id bigint, station varchar(8), pm25 integer)");
    let error =
        run_chain(sink(&server, "legacy"), vec![readings(&["a"], &[1.0])]).expect_err("mismatch");
    let message = full_message(&error);
    assert!(
        message.contains("column \"station\" is character varying(8) in the table and text"),
        "{message}"
    );
    assert!(message.contains("column \"pm25\" is integer"), "{message}");
}

#[test]
fn refused_connection_is_explained() {
    let secret = "not-logged-pw";
    // A port that was just free on 127.0.0.1 and has no listener. Another test's server may
    // take it between the probe and the connection (the connection is then reset, not
    // refused), so a few probe ports are tried.
    let mut attempts = Vec::new();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("probe port")
            .port();
        let connection =
            format!("host=127.0.0.1 port={port} user=city password={secret} dbname=city");
        let mut sink = PostgresSink::new(PostgresSinkConfig::new(connection, "t", "p"))
            .expect("config is valid");
        let error = sink.connect().expect_err("nothing listens there");
        let message = full_message(&error);
        assert!(
            message.contains(&format!(
                "failed to connect to PostgreSQL at host=127.0.0.1 port={port}"
            )),
            "{message}"
        );
        assert!(!message.contains(secret), "{message}");
        assert!(!format!("{error:?}").contains(secret));
        assert!(!format!("{sink:?}").contains(secret));
        assert!(!sink.params().to_string().contains(secret));
        if message.to_lowercase().contains("refused") {
            return;
        }
        attempts.push(message);
    }
    panic!("no attempt was refused: {attempts:#?}");
}

#[test]
fn wrong_password_is_rejected() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let connection = format!(
        "host=127.0.0.1 port={} user={} password=wrong dbname=postgres",
        server.port(),
        pg::USER
    );
    let mut sink = PostgresSink::new(PostgresSinkConfig::new(connection, "t", "p")).expect("sink");
    let message = full_message(&sink.connect().expect_err("bad password"));
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
}

#[test]
fn sink_runs_on_shared_runtime() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let config = PostgresSinkConfig::new(server.connection_string(), "shared", "shared");
    let sink = PostgresSink::with_runtime(config.clone(), runtime.handle().clone()).expect("sink");
    run_chain(sink, vec![readings(&["a", "b"], &[1.0, 2.0])]).expect("run");
    assert_eq!(count(&server, "shared"), 2);

    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let error = PostgresSink::with_runtime(config, current.handle().clone())
        .expect_err("current-thread runtime");
    assert!(error.to_string().contains("multi-thread"), "{error}");
}
