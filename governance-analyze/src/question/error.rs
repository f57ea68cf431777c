//! Errors of guarded question answering.

use datafusion::error::DataFusionError;
use governance_core::BoxError;

/// A question that could not be answered. Every variant from `NoSql` to `Plan` means the
/// generated SQL was rejected before anything ran.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuestionError {
    /// The policy or the limits are invalid; the message names the value and the fix.
    #[error("invalid question config: {0}")]
    Config(String),

    /// The chat model failed.
    #[error("chat {model} returned no reply")]
    Model {
        /// The model's description, such as its endpoint.
        model: String,
        /// The model's error.
        #[source]
        source: BoxError,
    },

    /// The reply contains no SQL.
    #[error("the model's reply holds no SQL: {excerpt:?}; rephrase the question")]
    NoSql {
        /// The start of the reply.
        excerpt: String,
    },

    /// The SQL does not parse.
    #[error("generated SQL does not parse ({message}): {sql:?}")]
    Parse {
        /// The SQL.
        sql: String,
        /// The parser's message.
        message: String,
    },

    /// The SQL contains more than one statement.
    #[error("generated SQL holds {count} statements, but only one query may run: {sql:?}")]
    MultipleStatements {
        /// Number of statements.
        count: usize,
        /// The SQL.
        sql: String,
    },

    /// The statement is not a read-only query.
    #[error("generated statement is {kind}, not a read-only query: only SELECT and WITH run")]
    NotReadOnly {
        /// Kind of statement, such as `DROP TABLE`.
        kind: String,
    },

    /// The SQL reads a table the policy does not allow.
    #[error("table {table:?} is not allowed by the query policy; allowed tables: {allowed}")]
    TableNotAllowed {
        /// The table as written in the SQL.
        table: String,
        /// The allowed tables, comma-separated.
        allowed: String,
    },

    /// The SQL reads a column the policy does not allow.
    #[error("column {column:?} of table {table:?} is not allowed by the query policy")]
    ColumnNotAllowed {
        /// The table.
        table: String,
        /// The column as written in the SQL.
        column: String,
    },

    /// The SQL has a LIMIT that is not an integer literal, so it cannot be capped.
    #[error("LIMIT {limit} is not an integer literal, so the row limit cannot be applied")]
    Limit {
        /// The LIMIT expression.
        limit: String,
    },

    /// Planning against the allowed tables and columns failed, such as on a column that the
    /// policy hides.
    #[error(
        "generated SQL does not plan against the allowed tables and columns ({message}): {sql:?}"
    )]
    Plan {
        /// The SQL.
        sql: String,
        /// DataFusion's message.
        message: String,
    },

    /// The query failed while it ran.
    #[error("query failed while running: {sql:?}")]
    Execution {
        /// The SQL that ran.
        sql: String,
        /// DataFusion's error.
        #[source]
        source: DataFusionError,
    },

    /// The query ran past the time limit and was cancelled.
    #[error(
        "query ran past the time limit of {timeout_ms} ms and was cancelled: {sql:?}; raise timeout_ms or ask a narrower question"
    )]
    Timeout {
        /// The limit in milliseconds.
        timeout_ms: u64,
        /// The SQL that ran.
        sql: String,
    },
}
