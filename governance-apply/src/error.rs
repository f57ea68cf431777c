//! Errors of the applicators, carried as the `source()` of [`governance_core::Error::Stage`].

use std::path::PathBuf;

use arrow::datatypes::DataType;

/// A column whose PostgreSQL type differs between the table and a batch, in
/// [`ApplyError::ColumnRetyped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetypedColumn {
    /// The qualified table name.
    pub table: String,
    /// The column.
    pub column: String,
    /// Its type in the table, as `format_type` prints it.
    pub table_type: String,
    /// Its Arrow type in the batch.
    pub data_type: DataType,
    /// The PostgreSQL type that the Arrow type maps to.
    pub batch_type: String,
    /// 1-based number of the batch since the writer connected.
    pub batch: u64,
}

/// Errors of the applicators in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A batch arrived whose schema the sink cannot write with the earlier batches. A file
    /// sink rejects a column whose type or field metadata changed, and the PostgreSQL sink
    /// rejects any schema other than the first batch's.
    #[error(
        "batch {batch} of the round does not fit the schema of the earlier batches: {}; \
         align the columns before this stage (cast a retyped column, or set the collector's \
         schema drift policy to adapt)",
        .differences.join("; ")
    )]
    SchemaChanged {
        /// 1-based position of the batch in the round.
        batch: u64,
        /// One entry per differing field, naming the field and both versions of it.
        differences: Vec<String>,
    },

    /// A batch for the PostgreSQL sink in strict mode has other columns than its first batch.
    #[error(
        "batch {batch} does not fit table {table}, which the sink planned from the first \
         batch: {}; set the sink's schema_evolution to add_columns to add new columns and \
         write missing ones as NULL, or align the columns before this stage",
        .differences.join("; ")
    )]
    TableSchemaChanged {
        /// The qualified table name.
        table: String,
        /// 1-based number of the batch since the writer connected.
        batch: u64,
        /// One entry per differing field, naming the field and both versions of it.
        differences: Vec<String>,
    },

    /// A batch has a column whose PostgreSQL type differs from the table's column. The
    /// details are boxed to keep every `Result<_, ApplyError>` small.
    #[error(
        "column {:?} of table {} is {}, but batch {} has it as {}, which maps to {}; the sink \
         adds columns but never changes a column's type: cast the column to an Arrow type \
         that maps to {} before this stage, or migrate the table first (ALTER TABLE {} ALTER \
         COLUMN ... TYPE {})",
        .0.column, .0.table, .0.table_type, .0.batch, .0.data_type, .0.batch_type,
        .0.table_type, .0.table, .0.batch_type
    )]
    ColumnRetyped(Box<RetypedColumn>),

    /// A batch lacks a column that is NOT NULL in the table, so it cannot be written as NULL.
    #[error(
        "batch {batch} lacks column {column:?}, which is NOT NULL in table {table}; send the \
         column in every batch, or allow nulls (ALTER TABLE {table} ALTER COLUMN ... DROP NOT \
         NULL)"
    )]
    MissingNotNullColumn {
        /// The qualified table name.
        table: String,
        /// The column.
        column: String,
        /// 1-based number of the batch since the writer connected.
        batch: u64,
    },

    /// The data contains a column with the name reserved for row ids.
    #[error(
        "the data has a column named {column:?}, which is reserved for row ids in the output; \
         rename that column before this stage"
    )]
    ReservedColumn {
        /// The reserved name.
        column: String,
    },

    /// Writing a Parquet file failed.
    #[error("failed to write Parquet file {path}")]
    Parquet {
        /// The file being written (its final name, not the temporary one).
        path: PathBuf,
        /// The Parquet writer's error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Writing a CSV file failed.
    #[error("failed to write CSV file {path}")]
    Csv {
        /// The file being written (its final name, not the temporary one).
        path: PathBuf,
        /// The CSV writer's error.
        #[source]
        source: csv::Error,
    },

    /// A column's Arrow type has no PostgreSQL column type in the sink's mapping.
    #[error(
        "column {column:?} has Arrow type {data_type}, which the PostgreSQL sink cannot store; \
         {hint}"
    )]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: DataType,
        /// The cast or change that makes the column storable.
        hint: String,
    },

    /// A value cannot be stored in its PostgreSQL column.
    #[error("invalid value in column {column:?} at row id {row_id}: {message}")]
    InvalidValue {
        /// The column.
        column: String,
        /// Row id of the row that contains the value.
        row_id: u64,
        /// The value, the problem and the fix.
        message: String,
    },

    /// A name cannot be used as a PostgreSQL identifier.
    #[error("invalid PostgreSQL identifier {name:?}: {reason}")]
    InvalidIdentifier {
        /// The name, such as a column, table or schema name.
        name: String,
        /// Rule it breaks and the fix.
        reason: String,
    },

    /// The target table exists with columns that do not match the data.
    #[error(
        "table {table} exists but does not match the data: {}; migrate the table or set \
         another table name",
        .differences.join("; ")
    )]
    TableMismatch {
        /// The qualified table name.
        table: String,
        /// One entry per column that is missing or has another type.
        differences: Vec<String>,
    },

    /// Connecting to the PostgreSQL server failed.
    #[error(
        "failed to connect to PostgreSQL at {server}; check that the server is running there \
         and that the connection string is right"
    )]
    PostgresConnect {
        /// Host, port, user and database, without the password.
        server: String,
        /// The client's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A TLS connection to the PostgreSQL server failed: the server rejected TLS, its
    /// certificate failed the check that `ssl_mode` sets, or it rejected the client
    /// certificate during the handshake. The sink does not fall back to plain TCP.
    #[error("TLS connection to PostgreSQL at {server} failed: {reason}; {fix}")]
    PostgresTls {
        /// Host, port, user and database, without the password.
        server: String,
        /// The failure, in words.
        reason: String,
        /// The change that fixes it.
        fix: String,
        /// The client's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The PostgreSQL server rejected the sink's authentication with SQLSTATE 28000
    /// (invalid_authorization_specification): pg_hba.conf has no rule for the connection,
    /// a rule demands a client certificate that the sink did not send, or the certificate's
    /// common name does not match the user.
    #[error("PostgreSQL at {server} rejected the connection: {reason}; {fix}")]
    PostgresAuthentication {
        /// Host, port, user and database, without the password.
        server: String,
        /// The failure, with the server's message.
        reason: String,
        /// The change that fixes it.
        fix: String,
        /// The client's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A PostgreSQL statement waited longer than the session's `lock_timeout` for a lock that
    /// another session holds, and the server cancelled it.
    #[error(
        "PostgreSQL failed to {operation}: timed out after {} waiting for a lock that another \
         session holds; end that session's transaction (find it in pg_locks and \
         pg_stat_activity), or raise lock_timeout_ms",
        lock_limit(*.lock_timeout_ms)
    )]
    LockTimeout {
        /// The step that failed, with the table it worked on.
        operation: String,
        /// The sink's `lock_timeout_ms`; `None` when the server's own setting applied.
        lock_timeout_ms: Option<u64>,
        /// The client's error, SQLSTATE 55P03 (lock_not_available).
        #[source]
        source: tokio_postgres::Error,
    },

    /// A PostgreSQL statement failed.
    #[error("PostgreSQL failed to {operation}")]
    Postgres {
        /// The step that failed, with the table it worked on.
        operation: String,
        /// The client's error, which carries the server's message.
        #[source]
        source: tokio_postgres::Error,
    },
}

/// Describes the lock wait limit of [`ApplyError::LockTimeout`].
fn lock_limit(lock_timeout_ms: Option<u64>) -> String {
    match lock_timeout_ms {
        Some(timeout) => format!("lock_timeout_ms = {timeout}"),
        None => "the server's lock_timeout".to_string(),
    }
}
