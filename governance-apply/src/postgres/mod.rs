//! A PostgreSQL sink: [`PostgresSink`] for the chain and [`PostgresWriter`] for async code.
//!
//! Rows go to the server by binary `COPY ... FROM STDIN (FORMAT binary)` through
//! `tokio-postgres`, the maintained async client of the rust-postgres project. Binary COPY is
//! PostgreSQL's bulk-load path, and the binary format spares the server from parsing text. In upsert mode
//! the rows are copied into a session-local staging table and merged with
//! `INSERT ... ON CONFLICT (key) DO UPDATE`. Rows and the pipeline's checkpoint commit in one
//! transaction, so after a crash the last checkpoint names exactly the rows that are in the
//! table.
//!
//! The table is created from the first batch's schema when absent: the row-id column
//! `__row_id bigint NOT NULL` first, then one column per field. The fields' `governance.*`
//! metadata (standard name, unit, semantic type, sensitivity, masking) becomes the column's
//! comment, as a JSON object. An existing table must have every column with the same type;
//! extra columns are left to their defaults.
//!
//! By default ([`SchemaEvolution::Strict`]) every batch must have the first batch's columns.
//! With [`SchemaEvolution::AddColumns`] the table follows a stream whose columns change: a
//! batch's new column is added by `ALTER TABLE ... ADD COLUMN` with the mapped type, in the
//! same transaction as the batch's rows and the checkpoint, so a crash before the commit
//! leaves neither the column nor the rows. A column the batch lacks is written as NULL, and
//! a column whose type differs from the table's fails with an error that names both types.
//! In this mode the data columns that the sink creates are nullable, except upsert keys.
//!
//! | Arrow type | PostgreSQL type |
//! |---|---|
//! | Int8, Int16, UInt8 | `smallint` |
//! | Int32, UInt16 | `integer` |
//! | Int64, UInt32, UInt64 (values above 2^63 - 1 are rejected) | `bigint` |
//! | Float16, Float32 | `real` |
//! | Float64 | `double precision` |
//! | Decimal32, Decimal64, Decimal128 (p, s) with 0 <= s <= p | `numeric(p,s)` |
//! | Utf8, LargeUtf8, Utf8View (NUL characters are rejected) | `text` |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | `bytea` |
//! | Boolean | `boolean` |
//! | Date32, Date64 (whole days only) | `date` |
//! | Time32, Time64 | `time` |
//! | Timestamp without time zone | `timestamp` |
//! | Timestamp with a time zone | `timestamptz` |
//!
//! PostgreSQL keeps microseconds, so nanosecond times and timestamps lose their last three
//! digits. Other types (dictionaries, lists, structs, durations, Decimal256) fail with an
//! error that names the column, its type and the cast to apply first.
//!
//! Identifiers are always double-quoted, so names keep their case; a name longer than 63
//! bytes is rejected because the server would truncate it. The connection string is never
//! logged with its password: `Debug`, lineage parameters and errors show host, port, user
//! and database only.
//!
//! TLS is off by default. [`SslMode::Require`] and [`SslMode::VerifyFull`] connect over TLS
//! with rustls, and `ssl_root_cert` adds the certificate authority of a private server. No
//! mode falls back to plain TCP: when the server rejects TLS or its certificate fails the
//! check, connecting fails with [`ApplyError::PostgresTls`](crate::ApplyError), which names
//! the server, the reason and the fix.
//!
//! `ssl_client_cert` and `ssl_client_key` name the PEM files of a client certificate and its
//! key, for a server whose pg_hba.conf authenticates clients by certificate (method `cert`,
//! or `clientcert=verify-full`). Both or neither must be set, only with TLS, and
//! [`PostgresSinkConfig::validate`] checks that the key belongs to the certificate. The
//! server compares the certificate's common name with the user name. When the server rejects
//! the authentication (SQLSTATE 28000, for example because the certificate is missing),
//! connecting fails with [`ApplyError::PostgresAuthentication`](crate::ApplyError), with the
//! server's message and the fix. The key's contents never appear in logs or errors.

mod client_cert;
mod config;
mod encode;
mod evolve;
mod sink;
mod sql;
mod table;
mod tls;
mod types;
mod writer;

pub use config::{
    CommitMode, ConnectionString, PostgresSinkConfig, SchemaEvolution, SslMode, WriteMode,
};
pub use sink::PostgresSink;
pub use table::ROW_ID_COMMENT;
pub use writer::{Checkpoint, PostgresWriter};

/// Default stage name of a [`PostgresSink`].
pub const POSTGRES_SINK_NAME: &str = "postgres_sink";
