//! The PostgreSQL sink under schema drift, against a real PostgreSQL server on 127.0.0.1.
//! With `schema_evolution = add_columns` the sink adds new columns inside the data
//! transaction and writes missing ones as NULL, also across restarts. A retyped column, and
//! any change under the strict default, fail with errors that name the column.
//!
//! Every test starts its own throwaway cluster and skips, with a message, when the
//! PostgreSQL server binaries are not installed.

#[path = "support/pg.rs"]
mod pg;

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use governance_apply::{
    ApplyError, PostgresSink, PostgresSinkConfig, PostgresWriter, SchemaEvolution, WriteMode,
};
use governance_core::{
    Chain, Collector, Error, GovernedBatch, Provenance, Result, RowIdAllocator, Stage, StageContext,
};
use pg::PgServer;

/// Yields fixed record batches with fresh row ids.
struct BatchCollector {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
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

fn run_chain(config: PostgresSinkConfig, batches: Vec<RecordBatch>) -> Result<()> {
    let collector = BatchCollector {
        batches,
        next: 0,
        ids: RowIdAllocator::default(),
    };
    let mut chain = Chain::builder()
        .collect(collector)
        .apply(PostgresSink::new(config)?)
        .build()?;
    chain.run_blocking().map(|_| ())
}

fn evolving(server: &PgServer, table: &str, pipeline: &str) -> PostgresSinkConfig {
    let mut config = PostgresSinkConfig::new(server.connection_string(), table, pipeline);
    config.schema_evolution = SchemaEvolution::AddColumns;
    config
}

/// Builds a batch from (name, column) pairs, with every column nullable.
fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch")
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn floats(values: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn ints(values: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(values.to_vec()))
}

fn apply_error(error: &Error) -> &ApplyError {
    error
        .source()
        .and_then(|source| source.downcast_ref::<ApplyError>())
        .unwrap_or_else(|| panic!("expected an ApplyError, got {error:?}"))
}

fn column_type(server: &PgServer, table: &str, column: &str) -> Option<String> {
    server.scalar(&format!(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = '{table}'::regclass AND attname = '{column}' AND NOT attisdropped"
    ))
}

fn count(server: &PgServer, table: &str) -> i64 {
    server
        .scalar(&format!("SELECT count(*) FROM {table}"))
        .and_then(|text| text.parse().ok())
        .expect("a count")
}

/// Returns the next source batch that the committed checkpoint names, 0 without one.
async fn next_batch(writer: &PostgresWriter) -> u64 {
    let checkpoint = writer.last_checkpoint().await.expect("read checkpoint");
    checkpoint.map_or(0, |checkpoint| {
        checkpoint.position["next"].as_u64().expect("position")
    })
}

#[test]
fn added_column_survives_restarts() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config = evolving(&server, "drifting", "drift-stream");
    // Each process gets a runtime of its own. Dropping it drops the connection task and so
    // closes the socket, as the death of a process would, and the server rolls back. Dropping
    // only the writer would leave the socket open on a runtime that no thread polls.
    let process = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    // Three source batches of two rows. The checkpoint position is the next batch to read.
    // Batch 1 adds no2, batch 2 lacks pm25.
    let source = |index: u64| {
        let data = match index {
            0 => batch(vec![
                ("station", text(&["a", "b"])),
                ("pm25", floats(&[1.0, 2.0])),
            ]),
            1 => batch(vec![
                ("station", text(&["c", "d"])),
                ("pm25", floats(&[3.0, 4.0])),
                ("no2", ints(&[30, 40])),
            ]),
            _ => batch(vec![
                ("station", text(&["e", "f"])),
                ("no2", ints(&[50, 60])),
            ]),
        };
        let ids = UInt64Array::from(vec![2 * index, 2 * index + 1]);
        GovernedBatch::try_new(data, ids, Provenance::new("drift")).expect("batch")
    };

    // Process 1 commits batch 0, then dies after writing batch 1 but before its commit.
    process().block_on(async {
        let mut writer = PostgresWriter::connect(config.clone())
            .await
            .expect("connect");
        assert_eq!(next_batch(&writer).await, 0);
        writer.write(&source(0)).await.expect("write batch 0");
        writer
            .commit(&serde_json::json!({"next": 1}))
            .await
            .expect("commit batch 0");
        writer.write(&source(1)).await.expect("write batch 1");
        drop(writer);
    });
    assert_eq!(
        column_type(&server, "drifting", "no2"),
        None,
        "the column added by the uncommitted batch is rolled back with its rows"
    );
    assert_eq!(count(&server, "drifting"), 2);

    // Process 2 resumes at batch 1, commits it and stops.
    process().block_on(async {
        let mut writer = PostgresWriter::connect(config.clone())
            .await
            .expect("reconnect");
        let next = next_batch(&writer).await;
        assert_eq!(next, 1);
        writer.write(&source(next)).await.expect("write batch 1");
        writer
            .commit(&serde_json::json!({"next": next + 1}))
            .await
            .expect("commit batch 1");
    });

    // Process 3 resumes at batch 2, whose first batch lacks pm25.
    process().block_on(async {
        let mut writer = PostgresWriter::connect(config.clone())
            .await
            .expect("reconnect");
        let next = next_batch(&writer).await;
        assert_eq!(next, 2);
        writer.write(&source(next)).await.expect("write batch 2");
        writer
            .commit(&serde_json::json!({"next": next + 1}))
            .await
            .expect("commit batch 2");
    });

    assert_eq!(
        column_type(&server, "drifting", "no2").as_deref(),
        Some("integer")
    );
    let rows = server.query(
        "SELECT __row_id::text, station, pm25::text, no2::text FROM drifting ORDER BY __row_id",
    );
    let expected = [
        ["0", "a", "1", ""],
        ["1", "b", "2", ""],
        ["2", "c", "3", "30"],
        ["3", "d", "4", "40"],
        ["4", "e", "", "50"],
        ["5", "f", "", "60"],
    ];
    assert_eq!(
        rows.len(),
        expected.len(),
        "each row exactly once: {rows:?}"
    );
    for (row, wanted) in rows.iter().zip(expected) {
        let found: Vec<String> = row
            .iter()
            .map(|cell| cell.clone().unwrap_or_default())
            .collect();
        assert_eq!(found, wanted);
    }
    assert_eq!(
        server.scalar("SELECT count(*) FROM drifting WHERE pm25 IS NULL AND station IN ('e', 'f')"),
        Some("2".into()),
        "the missing column is NULL, not empty text"
    );
    assert_eq!(
        server
            .scalar("SELECT position->>'next' FROM checkpoints WHERE pipeline_id = 'drift-stream'"),
        Some("3".into())
    );
}

#[test]
fn upsert_follows_added_columns() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut config = evolving(&server, "latest", "latest");
    config.mode = WriteMode::Upsert {
        key: vec!["station".into()],
    };
    let batches = vec![
        batch(vec![
            ("station", text(&["a", "b"])),
            ("pm25", floats(&[1.0, 2.0])),
        ]),
        batch(vec![
            ("station", text(&["b", "c"])),
            ("pm25", floats(&[3.0, 4.0])),
            ("no2", ints(&[30, 40])),
        ]),
        // The missing pm25 is written as NULL, also over the stored value of c.
        batch(vec![("station", text(&["c"])), ("no2", ints(&[41]))]),
    ];
    run_chain(config, batches).expect("run");
    let rows = server.query("SELECT station, pm25::text, no2::text FROM latest ORDER BY station");
    assert_eq!(
        rows,
        vec![
            vec![Some("a".into()), Some("1".into()), None],
            vec![Some("b".into()), Some("3".into()), Some("30".into())],
            vec![Some("c".into()), None, Some("41".into())],
        ]
    );
}

#[test]
fn retyped_column_is_rejected() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config = evolving(&server, "typed", "typed");
    let first = batch(vec![("station", text(&["a"])), ("pm25", floats(&[1.0]))]);
    run_chain(config.clone(), vec![first]).expect("first run");

    let retyped = batch(vec![("station", text(&["b"])), ("pm25", text(&["high"]))]);
    let error = run_chain(config, vec![retyped]).expect_err("retyped column");
    let ApplyError::ColumnRetyped(retyped) = apply_error(&error) else {
        panic!("expected ColumnRetyped, got {error:?}");
    };
    assert_eq!(retyped.column, "pm25");
    assert_eq!(retyped.table, "\"public\".\"typed\"");
    assert_eq!(retyped.table_type, "double precision");
    assert_eq!(retyped.data_type, DataType::Utf8);
    assert_eq!(retyped.batch_type, "text");
    assert_eq!(retyped.batch, 1, "the first batch of the second run");
    let message = apply_error(&error).to_string();
    assert!(message.contains("cast the column"), "{message}");
    assert!(message.contains("ALTER TABLE"), "{message}");
    assert_eq!(
        count(&server, "typed"),
        1,
        "the rejected batch wrote nothing"
    );
}

#[test]
fn strict_default_rejects_new_column() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config = PostgresSinkConfig::new(server.connection_string(), "strict", "strict");
    assert_eq!(config.schema_evolution, SchemaEvolution::Strict);
    let batches = vec![
        batch(vec![("station", text(&["a"])), ("pm25", floats(&[1.0]))]),
        batch(vec![
            ("station", text(&["b"])),
            ("pm25", floats(&[2.0])),
            ("no2", ints(&[20])),
        ]),
    ];
    let error = run_chain(config, batches).expect_err("new column");
    let ApplyError::TableSchemaChanged {
        batch, differences, ..
    } = apply_error(&error)
    else {
        panic!("expected TableSchemaChanged, got {error:?}");
    };
    assert_eq!(*batch, 2);
    assert_eq!(
        differences,
        &vec!["field \"no2\" (Int32) is not in batch 1".to_string()]
    );
    let message = apply_error(&error).to_string();
    assert!(
        message.contains("schema_evolution to add_columns"),
        "{message}"
    );
    assert_eq!(count(&server, "strict"), 0, "the round is rolled back");
    assert_eq!(column_type(&server, "strict", "no2"), None);
}

#[test]
fn added_column_lock_timeout_fails_fast() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut config = evolving(&server, "locked", "locked-stream");
    config.lock_timeout_ms = Some(300);
    let first = || batch(vec![("station", text(&["a"]))]);
    let widened = || batch(vec![("station", text(&["b"])), ("pm25", floats(&[1.5]))]);
    run_chain(config.clone(), vec![first()]).expect("the first batch creates the table");

    // A reader in an open transaction holds ACCESS SHARE on the table, which blocks the
    // ACCESS EXCLUSIVE lock of ADD COLUMN until the reader ends. The server ends the reader
    // after 10 s idle, so a sink that ignored lock_timeout_ms would succeed late, not hang.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reader = runtime.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&server.connection_string(), tokio_postgres::NoTls)
                .await
                .expect("connect the reader");
        tokio::spawn(connection);
        client
            .batch_execute(
                "SET idle_in_transaction_session_timeout = 10000; \
                 BEGIN; SELECT count(*) FROM locked",
            )
            .await
            .expect("open the reading transaction");
        client
    });

    let started = Instant::now();
    let error = run_chain(config.clone(), vec![widened()])
        .expect_err("the reader's lock must stop the new column");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "the sink waited {waited:?} in place of failing after 300 ms"
    );
    let message = error.source().map(ToString::to_string).unwrap_or_default();
    match apply_error(&error) {
        ApplyError::LockTimeout {
            operation,
            lock_timeout_ms,
            ..
        } => {
            assert!(operation.contains("\"locked\""), "{operation}");
            assert!(operation.contains("pm25"), "{operation}");
            assert_eq!(*lock_timeout_ms, Some(300));
        }
        other => panic!("expected a lock timeout, got {other}"),
    }
    assert!(message.contains("lock_timeout_ms = 300"), "{message}");
    assert!(message.contains("pg_stat_activity"), "{message}");
    assert_eq!(column_type(&server, "locked", "pm25"), None);
    assert_eq!(count(&server, "locked"), 1);

    // Once the reader ends its transaction, the same batch goes through.
    runtime
        .block_on(reader.batch_execute("ROLLBACK"))
        .expect("end the reading transaction");
    run_chain(config, vec![widened()]).expect("the lock is free");
    assert_eq!(
        column_type(&server, "locked", "pm25").as_deref(),
        Some("double precision")
    );
    assert_eq!(count(&server, "locked"), 2);
}
