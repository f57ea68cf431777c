//! SQL indicators: the stream is gathered into a table and, after the last batch, each
//! indicator's query runs over it in DataFusion.
//!
//! Queries that need the whole stream (a daily mean, a count of days over a limit) cannot be
//! computed batch by batch, so the analyzer keeps the configured columns of every batch and
//! runs the queries in [`Analyzer::finish`](governance_core::Analyzer::finish).

mod config;
mod findings;

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use governance_core::audit::AuditAction;
use governance_core::{Analyzer, Error, Finding, GovernedBatch, Result, Stage, StageContext};

pub use config::{AlertRule, IndicatorSql, SqlIndicatorsConfig};

use crate::AnalyzeError;
use crate::runtime::block_on;

/// Computes indicators with SQL over the whole stream, as an [`Analyzer`].
///
/// Every result row of an indicator's query becomes a `FindingKind::Indicator` finding with
/// the value, subject and time read from the configured result columns. A row whose value
/// crosses the indicator's alert rule adds a `FindingKind::Alert` finding with the threshold.
/// Queries run read-only: DDL, DML and statements such as `SET` are rejected.
///
/// # Memory
///
/// The configured columns of every batch stay in memory until [`Analyzer::finish`] (about 8
/// bytes per row for each Float64 or timestamp column, plus the text of string columns), so
/// keep `columns` to what the queries read.
///
/// # Audit
///
/// At `finish`, a `Read` of the table with its row and column counts.
#[derive(Debug)]
pub struct SqlIndicators {
    config: SqlIndicatorsConfig,
    /// Schema of the table, set by the first batch; every field is nullable.
    schema: Option<SchemaRef>,
    // NOTE: the projection of the whole stream is held here until `finish`; memory grows
    // with the stream, unlike the rest of the chain.
    batches: Vec<RecordBatch>,
    rows: u64,
}

impl SqlIndicators {
    /// Creates the analyzer after checking the config.
    pub fn new(config: SqlIndicatorsConfig) -> Result<Self> {
        config.validate()?;
        Ok(SqlIndicators {
            config,
            schema: None,
            batches: Vec::new(),
            rows: 0,
        })
    }

    /// Creates the analyzer from a config that tests have validated, such as a preset.
    pub(crate) fn from_valid(config: SqlIndicatorsConfig) -> Self {
        debug_assert!(config.validate().is_ok(), "preset config must validate");
        SqlIndicators {
            config,
            schema: None,
            batches: Vec::new(),
            rows: 0,
        }
    }

    /// Returns the config.
    pub fn config(&self) -> &SqlIndicatorsConfig {
        &self.config
    }

    /// Returns the rows gathered so far in this round.
    pub fn rows_gathered(&self) -> u64 {
        self.rows
    }

    /// Returns the batch's configured columns as a batch of the table's schema, setting that
    /// schema from the first batch.
    fn project(&mut self, batch: &GovernedBatch) -> Result<RecordBatch> {
        // Once the table has a schema, later batches must supply its columns, even when
        // `columns` is empty and a later batch has more or fewer columns than the first.
        let names = match (&self.schema, self.config.columns.is_empty()) {
            (Some(schema), _) => schema
                .fields()
                .iter()
                .map(|field| field.name().clone())
                .collect(),
            (None, true) => batch.column_names(),
            (None, false) => self.config.columns.clone(),
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(names.len());
        for name in &names {
            let array = batch.data().column_by_name(name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "column {name:?} of table {:?} is not in the batch; the batch has: {}",
                    self.config.table,
                    batch.column_names().join(", ")
                ))
            })?;
            columns.push(Arc::clone(array));
        }
        let schema = match &self.schema {
            Some(schema) => {
                for (field, array) in schema.fields().iter().zip(&columns) {
                    if field.data_type() != array.data_type() {
                        return Err(Error::InvalidInput(format!(
                            "column {:?} has type {} in this batch but {} in the first batch: \
                             cast it to one type before the analyzer",
                            field.name(),
                            array.data_type(),
                            field.data_type()
                        )));
                    }
                }
                Arc::clone(schema)
            }
            None => {
                let fields: Vec<Field> = names
                    .iter()
                    .zip(&columns)
                    .map(|(name, array)| Field::new(name, array.data_type().clone(), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                self.schema = Some(Arc::clone(&schema));
                schema
            }
        };
        Ok(RecordBatch::try_new(schema, columns)?)
    }

    /// Registers the gathered batches as the table and runs every indicator's query.
    async fn run_queries(
        &self,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<Finding>> {
        let stage = self.config.name.as_str();
        // The runtime is single-threaded, so more than one partition would only add work.
        let session =
            SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        let table = MemTable::try_new(schema, vec![batches]).map_err(|error| {
            Error::Internal(format!(
                "gathered batches do not fit their table schema: {error}"
            ))
        })?;
        session
            .register_table(self.config.table.as_str(), Arc::new(table))
            .map_err(|error| {
                Error::Internal(format!(
                    "cannot register table {:?}: {error}",
                    self.config.table
                ))
            })?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);

        let mut all = Vec::new();
        for indicator in &self.config.indicators {
            let frame = session
                .sql_with_options(&indicator.sql, read_only)
                .await
                .map_err(|error| {
                    Error::config(
                        stage,
                        format!(
                            "invalid sql in indicator {:?}: {}",
                            indicator.name,
                            error.strip_backtrace()
                        ),
                    )
                })?;
            let results = frame.collect().await.map_err(|source| {
                Error::stage(
                    stage,
                    AnalyzeError::Query {
                        indicator: indicator.name.clone(),
                        source,
                    },
                )
            })?;
            let before = all.len();
            for result in &results {
                all.extend(findings::findings_from_result(indicator, stage, result)?);
            }
            tracing::debug!(stage, indicator = %indicator.name, findings = all.len() - before, "indicator computed");
        }
        Ok(all)
    }
}

impl Stage for SqlIndicators {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self
            .config
            .indicators
            .iter()
            .map(|indicator| indicator.name.as_str())
            .collect();
        format!(
            "sql indicators over {}: {}",
            self.config.table,
            names.join(", ")
        )
    }
}

impl Analyzer for SqlIndicators {
    fn analyze(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let projected = self.project(batch)?;
        if projected.num_rows() > 0 {
            self.rows += projected.num_rows() as u64;
            self.batches.push(projected);
        }
        Ok(Vec::new())
    }

    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        // Take the round's data out first, so the next round starts empty even after an error.
        let batches = std::mem::take(&mut self.batches);
        let rows = std::mem::take(&mut self.rows);
        let schema = self.schema.take();
        let columns = schema.as_ref().map_or(0, |schema| schema.fields().len());
        ctx.audit(
            AuditAction::Read,
            &self.config.table,
            &format!(
                "rows={rows} columns={columns} indicators={}",
                self.config.indicators.len()
            ),
        )?;
        let Some(schema) = schema else {
            tracing::warn!(stage = %self.config.name, "no batch reached the analyzer, so no indicator was computed");
            return Ok(Vec::new());
        };
        block_on(&self.config.name, self.run_queries(schema, batches))?
    }
}
