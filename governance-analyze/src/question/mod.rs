//! Questions in natural language, answered with SQL that a chat model writes and that is
//! checked before it runs.
//!
//! [`QuestionAnswerer::ask`] sends the question and the schema of the allowed tables and
//! columns (nothing else) to a [`ChatModel`], extracts the SQL from the reply (a fenced
//! ```` ```sql ```` block, any fenced block, or the whole reply), and checks it:
//!
//! 1. It parses with DataFusion's SQL parser and is exactly one statement.
//! 2. That statement is a read-only query (`SELECT`, `WITH`, `VALUES`, set operations). DDL,
//!    DML, `COPY`, `SET`, `EXPLAIN` (with or without `ANALYZE`), `SELECT INTO` and every
//!    other statement are rejected.
//! 3. Every table it reads is allowed by the [`QueryPolicy`] (or is a CTE of the query), and
//!    no identifier names a column the policy hides.
//! 4. It plans against a second context that holds only the allowed tables, each as a view
//!    of its allowed columns, so a reference that the syntax checks miss still fails.
//!
//! `SELECT *` is not rejected: in that second context the wildcard expands to the allowed
//! columns only, the same as naming them. A LIMIT larger than `max_rows`, or none, is
//! replaced by `LIMIT max_rows`, and the query is cancelled after `timeout_ms`. The
//! [`Answer`] carries the SQL that ran, after those changes.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use datafusion::prelude::SessionContext;
//! use governance_analyze::question::{QueryPolicy, QuestionAnswerer, QuestionConfig};
//! use governance_core::chat::{ChatFuture, ChatMessage, ChatModel};
//!
//! /// A stand-in for a real model, which would be `governance_llm::chat::ChatClient`.
//! struct Canned;
//! impl ChatModel for Canned {
//!     fn complete<'a>(&'a self, _messages: &'a [ChatMessage]) -> ChatFuture<'a> {
//!         Box::pin(async { Ok("```sql\nSELECT station, pm25 FROM readings ORDER BY pm25 DESC\n```".to_string()) })
//!     }
//!     fn describe(&self) -> String {
//!         "canned".to_string()
//!     }
//! }
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("station", DataType::Utf8, false),
//!     Field::new("pm25", DataType::Float64, true),
//! ]));
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["Dongsi", "Tiantan"])),
//!     Arc::new(Float64Array::from(vec![80.0, 35.0])),
//! ])?;
//! let context = SessionContext::new();
//! context.register_batch("readings", batch)?;
//!
//! let answerer = QuestionAnswerer::new(
//!     context,
//!     QueryPolicy::new().allow_all("readings"),
//!     Arc::new(Canned),
//!     QuestionConfig { max_rows: 1, ..QuestionConfig::default() },
//! );
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let answer = runtime.block_on(answerer.ask("Which station has the highest PM2.5?"))?;
//! assert_eq!(answer.sql, "SELECT station, pm25 FROM readings ORDER BY pm25 DESC LIMIT 1");
//! assert_eq!(answer.rows(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod guard;
mod policy;
mod prompt;

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use datafusion::execution::context::{SQLOptions, SessionContext};
use governance_core::chat::ChatModel;
use serde::{Deserialize, Serialize};

pub use error::QuestionError;
pub use guard::CheckedSql;
pub use policy::{ALL_COLUMNS, QueryPolicy};

/// Limits of question answering. Unknown fields are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionConfig {
    /// Maximum rows returned: a larger or missing LIMIT is replaced by this one. Default 1,000.
    #[serde(default = "default_max_rows")]
    pub max_rows: u64,
    /// Maximum time of planning and running the query, in milliseconds. Default 30,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_max_rows() -> u64 {
    1_000
}

fn default_timeout_ms() -> u64 {
    30_000
}

impl Default for QuestionConfig {
    fn default() -> Self {
        QuestionConfig {
            max_rows: default_max_rows(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

/// The answer to a question.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The SQL as the model wrote it, extracted from the reply.
    pub generated_sql: String,
    /// The SQL that ran, with the LIMIT capped.
    pub sql: String,
    /// Whether the LIMIT was added or lowered, so that more rows may exist.
    pub limit_capped: bool,
    /// The result.
    pub batches: Vec<RecordBatch>,
}

impl Answer {
    /// Returns the number of result rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Answers questions about the tables of a DataFusion context with SQL from a chat model,
/// reading only what a [`QueryPolicy`] allows. The module docs list the checks.
pub struct QuestionAnswerer {
    context: SessionContext,
    policy: QueryPolicy,
    model: Arc<dyn ChatModel>,
    config: QuestionConfig,
}

impl std::fmt::Debug for QuestionAnswerer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("QuestionAnswerer")
            .field("policy", &self.policy)
            .field("model", &self.model.describe())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl QuestionAnswerer {
    /// Creates an answerer over the tables registered in `context`. The policy is checked
    /// against those tables at each question, so tables may be registered later.
    pub fn new(
        context: SessionContext,
        policy: QueryPolicy,
        model: Arc<dyn ChatModel>,
        config: QuestionConfig,
    ) -> Self {
        QuestionAnswerer {
            context,
            policy,
            model,
            config,
        }
    }

    /// Requests SQL for `question` from the model, checks it, and runs it.
    pub async fn ask(&self, question: &str) -> Result<Answer, QuestionError> {
        let tables = self.allowed_tables().await?;
        let messages = prompt::build_messages(question, &tables, self.config.max_rows);
        let reply =
            self.model
                .complete(&messages)
                .await
                .map_err(|source| QuestionError::Model {
                    model: self.model.describe(),
                    source,
                })?;
        let Some(generated_sql) = prompt::extract_sql(&reply) else {
            return Err(QuestionError::NoSql {
                excerpt: reply.chars().take(200).collect(),
            });
        };
        let checked = self
            .check_with(&generated_sql, &tables)
            .inspect_err(|error| {
                tracing::warn!(model = %self.model.describe(), %error, "generated SQL rejected");
            })?;
        let batches = self.run_with(&checked.sql, &tables).await?;
        Ok(Answer {
            generated_sql,
            sql: checked.sql,
            limit_capped: checked.limit_capped,
            batches,
        })
    }

    /// Checks `sql` as [`ask`](Self::ask) checks generated SQL, without running it: parse,
    /// read-only, policy and LIMIT. Planning against the allowed columns happens only when
    /// the query runs.
    pub async fn check(&self, sql: &str) -> Result<CheckedSql, QuestionError> {
        let tables = self.allowed_tables().await?;
        self.check_with(sql, &tables)
    }

    async fn allowed_tables(&self) -> Result<Vec<policy::AllowedTable>, QuestionError> {
        if self.config.max_rows == 0 || self.config.timeout_ms == 0 {
            return Err(QuestionError::Config(format!(
                "max_rows ({}) and timeout_ms ({}) must be above 0",
                self.config.max_rows, self.config.timeout_ms
            )));
        }
        policy::resolve(&self.policy, &self.context).await
    }

    fn check_with(
        &self,
        sql: &str,
        tables: &[policy::AllowedTable],
    ) -> Result<CheckedSql, QuestionError> {
        let registered = policy::registered_tables(&self.context);
        guard::check_sql(sql, tables, &registered, self.config.max_rows)
    }

    /// Plans `sql` against the allowed views and runs it within the time limit.
    async fn run_with(
        &self,
        sql: &str,
        tables: &[policy::AllowedTable],
    ) -> Result<Vec<RecordBatch>, QuestionError> {
        let restricted = policy::restricted_context(&self.context, tables).await?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let timeout_ms = self.config.timeout_ms;
        let run = async {
            let frame = restricted
                .sql_with_options(sql, read_only)
                .await
                .map_err(|error| QuestionError::Plan {
                    sql: sql.to_string(),
                    message: error.strip_backtrace(),
                })?;
            frame
                .collect()
                .await
                .map_err(|source| QuestionError::Execution {
                    sql: sql.to_string(),
                    source,
                })
        };
        let batches = tokio::time::timeout(Duration::from_millis(timeout_ms), run)
            .await
            .map_err(|_| QuestionError::Timeout {
                timeout_ms,
                sql: sql.to_string(),
            })??;
        tracing::debug!(
            sql,
            rows = batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
            "question answered"
        );
        Ok(batches)
    }
}
