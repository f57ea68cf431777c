//! [`PostgresWriter`]: the async core of the sink. It creates the table, loads batches by
//! binary COPY inside a transaction and commits them together with a checkpoint.

use std::fmt;
use std::pin::pin;
use std::sync::Arc;
use std::time::SystemTime;

use arrow::array::{Array, ArrayRef};
use governance_core::{Error, GovernedBatch, ROW_ID_COLUMN, Result};
use tokio_postgres::Client;
use tokio_postgres::binary_copy::BinaryCopyInWriter;

use super::POSTGRES_SINK_NAME;
use super::config::{PostgresSinkConfig, SchemaEvolution, SslMode};
use super::encode::{Cell, ColumnReader};
use super::evolve::{self, TableColumn};
use super::sql::{self, qualified, quote_identifier};
use super::table::{ORDINAL_COLUMN, TablePlan};
use super::tls;
use crate::ApplyError;
use crate::parquet_sink::schema_differences;
use crate::round_schema::RoundSchema;

/// Session-local table that upserts are copied into before the merge.
const STAGING_TABLE: &str = "governance_upsert_staging";

/// The last committed checkpoint of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The pipeline the checkpoint belongs to.
    pub pipeline_id: String,
    /// Source position committed with the rows, as the writer received it.
    pub position: serde_json::Value,
    /// Server time of the commit.
    pub updated_at: SystemTime,
}

/// Writes governed batches to one PostgreSQL table over one connection.
///
/// The first [`write`](Self::write) creates the table from the batch's schema if it does not
/// exist (in a transaction of its own) and opens the data transaction. Later writes join
/// that transaction. [`commit`](Self::commit) writes the checkpoint into the checkpoint table
/// and commits it together with the rows, so the rows and the position they came from
/// become visible at once or not at all. A writer dropped before `commit` closes its
/// connection, and the server rolls the transaction back.
///
/// With [`SchemaEvolution::Strict`] (the default) every batch must share the first batch's
/// schema, field metadata included, because the table and its column comments are planned
/// from it. With [`SchemaEvolution::AddColumns`] the columns written are the union of the
/// batches' columns since the writer connected: a new column is added to the table inside the
/// data transaction, and a column the batch lacks is written as NULL.
pub struct PostgresWriter {
    name: String,
    config: PostgresSinkConfig,
    client: Client,
    checkpoint_table: String,
    plan: Option<TablePlan>,
    /// Under add_columns, the union of the data columns of the batches written so far.
    union: Option<RoundSchema>,
    /// Under add_columns, the table's columns in the open transaction. They are read again
    /// after a rollback, which undoes the columns that the transaction added.
    layout: Option<Vec<TableColumn>>,
    in_transaction: bool,
    /// Batches passed to `write` since the connection opened, for error messages.
    batches: u64,
}

impl fmt::Debug for PostgresWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresWriter")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("in_transaction", &self.in_transaction)
            .finish_non_exhaustive()
    }
}

impl PostgresWriter {
    /// Connects, creates the schema and the checkpoint table if absent, and checks the
    /// checkpoint table's layout. Must run inside a tokio runtime with IO enabled, which
    /// drives the connection from a spawned task. Errors name the stage
    /// [`POSTGRES_SINK_NAME`].
    pub async fn connect(config: PostgresSinkConfig) -> Result<Self> {
        Self::connect_as(POSTGRES_SINK_NAME, config).await
    }

    /// Connects like [`connect`](Self::connect), naming `stage` in errors.
    pub async fn connect_as(stage: impl Into<String>, config: PostgresSinkConfig) -> Result<Self> {
        let name = stage.into();
        config.validate()?;
        let mut pg_config = config.connection.parse()?;
        // Never tokio-postgres's default `prefer`, which falls back to plain TCP.
        pg_config.ssl_mode(match config.ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        if config.ssl_mode == SslMode::Require && config.ssl_root_cert.is_none() {
            tracing::warn!(
                stage = %name,
                server = %config.connection.redacted(),
                "TLS without a certificate check: ssl_mode is require and ssl_root_cert is \
                 unset, so an active man in the middle goes unnoticed; set ssl_mode to \
                 verify_full"
            );
        }
        let connector = tls::connector(&config)?;
        let (client, connection) = match pg_config.connect(connector).await {
            Ok(connected) => connected,
            Err(source) => {
                let error = tls::connect_error(source, &pg_config, &config).await;
                return Err(Error::stage(&name, error));
            }
        };
        let task_stage = name.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(stage = %task_stage, %error, "PostgreSQL connection closed with an error");
            }
        });
        let checkpoint_table = qualified(&config.schema, &config.checkpoint_table);
        let mut writer = PostgresWriter {
            name,
            config,
            client,
            checkpoint_table,
            plan: None,
            union: None,
            layout: None,
            in_transaction: false,
            batches: 0,
        };
        if let Some(timeout) = writer.config.lock_timeout_ms {
            // A plain integer is read as milliseconds. It was checked to fit an int.
            writer
                .execute_batch(&format!("SET lock_timeout = {timeout}"), || {
                    "set lock_timeout".into()
                })
                .await?;
        }
        writer.create_checkpoint_table().await?;
        tracing::debug!(
            stage = %writer.name,
            server = %writer.config.connection.redacted(),
            ssl_mode = %writer.config.ssl_mode,
            "connected to PostgreSQL"
        );
        Ok(writer)
    }

    /// Returns the config.
    pub fn config(&self) -> &PostgresSinkConfig {
        &self.config
    }

    /// Returns whether a data transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    fn postgres_error(&self, operation: String, source: tokio_postgres::Error) -> Error {
        // The sink takes no lock with NOWAIT or SKIP LOCKED, so this code means lock_timeout.
        if source.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            let lock_timeout_ms = self.config.lock_timeout_ms;
            return Error::stage(
                &self.name,
                ApplyError::LockTimeout {
                    operation,
                    lock_timeout_ms,
                    source,
                },
            );
        }
        Error::stage(&self.name, ApplyError::Postgres { operation, source })
    }

    async fn execute_batch(&self, statements: &str, operation: impl Fn() -> String) -> Result<()> {
        self.client
            .batch_execute(statements)
            .await
            .map_err(|source| self.postgres_error(operation(), source))
    }

    async fn create_checkpoint_table(&mut self) -> Result<()> {
        let mut statements = Vec::new();
        if self.config.schema != "public" {
            statements.push(format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_identifier(&self.config.schema)
            ));
        }
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {} (pipeline_id text PRIMARY KEY, position jsonb NOT NULL, \
             updated_at timestamp with time zone NOT NULL DEFAULT now())",
            self.checkpoint_table
        ));
        let script = statements.join("; ");
        self.execute_batch(&script, || {
            format!("create the checkpoint table {}", self.checkpoint_table)
        })
        .await?;

        let existing = self.table_layout(&self.config.checkpoint_table).await?;
        let expected = [
            ("pipeline_id", "text"),
            ("position", "jsonb"),
            ("updated_at", "timestamp with time zone"),
        ];
        let differences: Vec<String> = expected
            .iter()
            .filter(|(name, sql_type)| {
                !existing
                    .iter()
                    .any(|(column, actual)| column == name && actual == sql_type)
            })
            .map(|(name, sql_type)| format!("column {name:?} ({sql_type}) is missing"))
            .collect();
        if !differences.is_empty() {
            return Err(Error::stage(
                &self.name,
                ApplyError::TableMismatch {
                    table: self.checkpoint_table.clone(),
                    differences,
                },
            ));
        }
        Ok(())
    }

    /// Returns (column name, type) of each column of `table` in the configured schema, in
    /// table order; empty when the table does not exist.
    async fn table_layout(&self, table: &str) -> Result<Vec<(String, String)>> {
        let columns = self.table_columns(table).await?;
        Ok(columns
            .into_iter()
            .map(|column| (column.name, column.sql_type))
            .collect())
    }

    /// Returns name, type and nullability of each column of `table` in the configured
    /// schema, in table order; empty when the table does not exist.
    async fn table_columns(&self, table: &str) -> Result<Vec<TableColumn>> {
        let rows = self
            .client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull \
                 FROM pg_catalog.pg_attribute a \
                 JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 \
                 AND NOT a.attisdropped ORDER BY a.attnum",
                &[&self.config.schema, &table],
            )
            .await
            .map_err(|source| {
                self.postgres_error(
                    format!(
                        "read the columns of {}",
                        qualified(&self.config.schema, table)
                    ),
                    source,
                )
            })?;
        let mut columns = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row
                .try_get(0)
                .map_err(|source| self.postgres_error("read a column name".into(), source))?;
            let sql_type: String = row
                .try_get(1)
                .map_err(|source| self.postgres_error("read a column type".into(), source))?;
            let not_null: bool = row.try_get(2).map_err(|source| {
                self.postgres_error("read a column's nullability".into(), source)
            })?;
            columns.push(TableColumn {
                name,
                sql_type,
                not_null,
            });
        }
        Ok(columns)
    }

    /// Returns the last committed checkpoint of the configured pipeline, or `None` when it
    /// has none. Call it at startup to find where the source should resume.
    pub async fn last_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let statement = format!(
            "SELECT position::text, updated_at FROM {} WHERE pipeline_id = $1",
            self.checkpoint_table
        );
        let operation = || format!("read the checkpoint from {}", self.checkpoint_table);
        let row = self
            .client
            .query_opt(&statement, &[&self.config.pipeline_id])
            .await
            .map_err(|source| self.postgres_error(operation(), source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let position: String = row
            .try_get(0)
            .map_err(|source| self.postgres_error(operation(), source))?;
        let updated_at: SystemTime = row
            .try_get(1)
            .map_err(|source| self.postgres_error(operation(), source))?;
        let position = serde_json::from_str(&position).map_err(|error| {
            Error::Internal(format!(
                "the server returned checkpoint position {position:?}, which is not JSON: {error}"
            ))
        })?;
        Ok(Some(Checkpoint {
            pipeline_id: self.config.pipeline_id.clone(),
            position,
            updated_at,
        }))
    }

    /// Writes `batch` into the open transaction, opening one first if needed, and returns the
    /// number of rows written. On failure the transaction is rolled back, so no row of it is
    /// committed.
    pub async fn write(&mut self, batch: &GovernedBatch) -> Result<u64> {
        self.batches += 1;
        if self.plan.is_none() {
            let plan = TablePlan::new(&self.name, &self.config, batch.data().schema())?;
            self.create_table(&plan).await?;
            self.plan = Some(plan);
        }
        if !self.in_transaction {
            self.execute_batch("BEGIN", || "begin a transaction".into())
                .await?;
            self.in_transaction = true;
        }
        let written = match self.config.schema_evolution {
            SchemaEvolution::Strict => self.write_in_transaction(batch).await,
            SchemaEvolution::AddColumns => self.write_evolving(batch).await,
        };
        if written.is_err() {
            self.rollback().await?;
        }
        written
    }

    async fn create_table(&self, plan: &TablePlan) -> Result<()> {
        let script = format!("BEGIN; {}; COMMIT", plan.create_statements().join("; "));
        let created = self
            .execute_batch(&script, || format!("create the table {}", plan.table))
            .await;
        if let Err(error) = created {
            // A failed statement leaves the transaction open and aborted.
            if let Err(rollback) = self.client.batch_execute("ROLLBACK").await {
                tracing::warn!(stage = %self.name, error = %rollback, "failed to roll back the table creation");
            }
            return Err(error);
        }
        if self.config.schema_evolution == SchemaEvolution::AddColumns {
            // Each batch's columns are checked and added in its own transaction.
            return Ok(());
        }
        let existing = self.table_layout(&self.config.table).await?;
        let differences = plan.layout_differences(&existing);
        if !differences.is_empty() {
            return Err(Error::stage(
                &self.name,
                ApplyError::TableMismatch {
                    table: plan.table.clone(),
                    differences,
                },
            ));
        }
        Ok(())
    }

    async fn write_in_transaction(&self, batch: &GovernedBatch) -> Result<u64> {
        let Some(plan) = &self.plan else {
            return Err(Error::Internal(
                "the PostgreSQL writer wrote before planning its table".into(),
            ));
        };
        let differences = schema_differences(&plan.data_schema, batch.data());
        if !differences.is_empty() {
            return Err(Error::stage(
                &self.name,
                ApplyError::TableSchemaChanged {
                    table: plan.table.clone(),
                    batch: self.batches,
                    differences,
                },
            ));
        }
        self.load(plan, batch, batch.data().columns(), false).await
    }

    /// Writes `batch` under [`SchemaEvolution::AddColumns`]: rejects a retyped column, adds
    /// the new columns to the table and copies the rows with NULL for the missing columns.
    async fn write_evolving(&mut self, batch: &GovernedBatch) -> Result<u64> {
        let data = batch.data();
        let schema = data.schema();
        // Checks names and types of the batch's own columns before the union takes them.
        let batch_plan = TablePlan::new(&self.name, &self.config, schema.clone())?;
        let mut existing = match self.layout.take() {
            Some(existing) => existing,
            None => self.table_columns(&self.config.table).await?,
        };
        if let Some(error) = evolve::retyped_column(&batch_plan, &schema, &existing, self.batches) {
            return Err(Error::stage(&self.name, error));
        }
        let union = match &mut self.union {
            Some(union) => {
                union.admit(self.batches, data).map_err(|differences| {
                    Error::stage(
                        &self.name,
                        ApplyError::SchemaChanged {
                            batch: self.batches,
                            differences,
                        },
                    )
                })?;
                union
            }
            None => self.union.insert(RoundSchema::new(&schema)),
        };
        let written = TablePlan::new(&self.name, &self.config, union.data_schema())?;
        let columns = union.conform(data)?;
        if let Some(error) = evolve::missing_not_null(&written, &schema, &existing, self.batches) {
            return Err(Error::stage(&self.name, error));
        }

        let mut statements = Vec::new();
        let mut added = Vec::new();
        for column in &written.columns {
            if existing.iter().any(|known| known.name == column.name) {
                continue;
            }
            statements.extend(evolve::add_column_statements(&written.table, column));
            added.push(column.name.clone());
            existing.push(TableColumn {
                name: column.name.clone(),
                sql_type: column.pg_type.sql_name(),
                not_null: false,
            });
        }
        if !statements.is_empty() {
            tracing::info!(stage = %self.name, table = %written.table, batch = self.batches, columns = ?added, "adding columns to the table");
            self.execute_batch(&statements.join("; "), || {
                format!("add columns {added:?} to {}", written.table)
            })
            .await?;
        }
        let rows = self.load(&written, batch, &columns, true).await?;
        self.layout = Some(existing);
        Ok(rows)
    }

    /// Loads the rows of `batch`, whose data columns are `data` in the order of `plan`, by
    /// COPY, or in upsert mode by COPY into the staging table and a merge. `new_staging`
    /// recreates the staging table, whose columns may have changed since the last batch.
    async fn load(
        &self,
        plan: &TablePlan,
        batch: &GovernedBatch,
        data: &[ArrayRef],
        new_staging: bool,
    ) -> Result<u64> {
        if plan.key.is_empty() {
            return self.copy_rows(plan, batch, data, &plan.table, false).await;
        }

        self.check_keys(plan, batch)?;
        let staging = quote_identifier(STAGING_TABLE);
        self.execute_batch(&plan.create_staging(&staging, new_staging), || {
            "create the upsert staging table".into()
        })
        .await?;
        self.copy_rows(plan, batch, data, &staging, true).await?;
        let merge = sql::upsert_from_staging(
            &plan.table,
            &staging,
            &plan.column_names(),
            &plan.key,
            ORDINAL_COLUMN,
        );
        let merged =
            self.client.execute(&merge, &[]).await.map_err(|source| {
                self.postgres_error(format!("upsert into {}", plan.table), source)
            })?;
        self.execute_batch(&format!("TRUNCATE {staging}"), || {
            "empty the upsert staging table".into()
        })
        .await?;
        Ok(merged)
    }

    fn check_keys(&self, plan: &TablePlan, batch: &GovernedBatch) -> Result<()> {
        for key in &plan.key {
            if key == ROW_ID_COLUMN {
                continue;
            }
            let column = batch.column(key)?;
            if column.null_count() == 0 {
                continue;
            }
            let row = (0..column.len())
                .find(|row| column.is_null(*row))
                .unwrap_or(0);
            return Err(Error::stage(
                &self.name,
                ApplyError::InvalidValue {
                    column: key.clone(),
                    row_id: batch.row_ids().value(row),
                    message: "the upsert key is null; fill or quarantine rows without a key \
                              before this stage"
                        .into(),
                },
            ));
        }
        Ok(())
    }

    /// Streams the batch's rows, row id first and then the columns `data` in plan order, by
    /// binary COPY into `target`. With `ordinal`, each row also carries its position in the
    /// batch.
    async fn copy_rows(
        &self,
        plan: &TablePlan,
        batch: &GovernedBatch,
        data: &[ArrayRef],
        target: &str,
        ordinal: bool,
    ) -> Result<u64> {
        let mut columns = plan.column_names();
        let mut types = plan.wire_types();
        if ordinal {
            columns.push(ORDINAL_COLUMN);
            types.push(tokio_postgres::types::Type::INT8);
        }
        let operation = || format!("copy rows into {target}");
        let sink = self
            .client
            .copy_in(&sql::copy_in(target, &columns))
            .await
            .map_err(|source| self.postgres_error(operation(), source))?;
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));

        let row_ids: Arc<dyn Array> = Arc::new(batch.row_ids().clone());
        let mut arrays = vec![&row_ids];
        arrays.extend(data);
        if arrays.len() != plan.columns.len() {
            return Err(Error::Internal(format!(
                "the PostgreSQL writer has {} arrays for the {} columns of {}",
                arrays.len(),
                plan.columns.len(),
                plan.table
            )));
        }
        let mut readers = Vec::with_capacity(arrays.len());
        for (array, column) in arrays.into_iter().zip(&plan.columns) {
            let reader = ColumnReader::new(array).ok_or_else(|| {
                Error::Internal(format!(
                    "column {:?} of type {} passed the type mapping but has no reader",
                    column.name,
                    array.data_type()
                ))
            })?;
            readers.push(reader);
        }

        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(types.len());
        for row in 0..batch.num_rows() {
            cells.clear();
            for (reader, column) in readers.iter().zip(&plan.columns) {
                let cell = reader.cell(row).map_err(|message| {
                    Error::stage(
                        &self.name,
                        ApplyError::InvalidValue {
                            column: column.name.clone(),
                            row_id: batch.row_ids().value(row),
                            message,
                        },
                    )
                })?;
                cells.push(cell);
            }
            if ordinal {
                cells.push(Cell::Int64(row as i64));
            }
            writer
                .as_mut()
                .write_raw(cells.iter())
                .await
                .map_err(|source| self.postgres_error(operation(), source))?;
        }
        writer
            .as_mut()
            .finish()
            .await
            .map_err(|source| self.postgres_error(operation(), source))
    }

    /// Writes `position` as the pipeline's checkpoint and commits it with every row written
    /// since the transaction began. Without an open transaction it commits the checkpoint
    /// alone.
    pub async fn commit(&mut self, position: &serde_json::Value) -> Result<()> {
        if !self.in_transaction {
            self.execute_batch("BEGIN", || "begin a transaction".into())
                .await?;
            self.in_transaction = true;
        }
        let statement = format!(
            "INSERT INTO {} (pipeline_id, position, updated_at) VALUES ($1, $2::text::jsonb, now()) \
             ON CONFLICT (pipeline_id) DO UPDATE SET position = EXCLUDED.position, \
             updated_at = EXCLUDED.updated_at",
            self.checkpoint_table
        );
        let position_text = position.to_string();
        let written = self
            .client
            .execute(&statement, &[&self.config.pipeline_id, &position_text])
            .await
            .map_err(|source| {
                self.postgres_error(
                    format!("write the checkpoint into {}", self.checkpoint_table),
                    source,
                )
            });
        if let Err(error) = written {
            self.rollback().await?;
            return Err(error);
        }
        let committed = self
            .execute_batch("COMMIT", || "commit the transaction".into())
            .await;
        // After COMMIT, successful or not, the session has no open transaction.
        self.in_transaction = false;
        if committed.is_err() {
            // The server rolled back, and with it the columns that the transaction added.
            self.layout = None;
        }
        committed
    }

    /// Rolls back the open transaction, if any, discarding its rows and checkpoint.
    pub async fn rollback(&mut self) -> Result<()> {
        if !self.in_transaction {
            return Ok(());
        }
        self.in_transaction = false;
        self.layout = None;
        self.execute_batch("ROLLBACK", || "roll back the transaction".into())
            .await
    }

    /// Returns the client, for queries of the caller's own on the same connection.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
