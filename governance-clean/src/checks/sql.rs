//! `sql`: a boolean SQL expression per row, planned by DataFusion once per schema and
//! evaluated as a physical expression on each batch, with no query or table around it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::SchemaRef;
use datafusion::common::DFSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;
use governance_core::{Error, GovernedBatch, Result};

use super::config::COMPONENT;
use super::keys::key_text;
use super::{Evaluator, Failure, RuleStats, Scope};

struct Compiled {
    schema: SchemaRef,
    expression: Arc<dyn PhysicalExpr>,
    /// Column positions the expression reads, quoted in failure messages.
    referenced: Vec<usize>,
}

pub(crate) struct SqlPredicate {
    expression: String,
    compiled: Option<Compiled>,
}

impl SqlPredicate {
    pub fn new(expression: &str) -> Self {
        SqlPredicate {
            expression: expression.to_string(),
            compiled: None,
        }
    }

    fn compile(&mut self, schema: &SchemaRef, scope: &Scope<'_>) -> Result<()> {
        if self
            .compiled
            .as_ref()
            .is_some_and(|compiled| &compiled.schema == schema)
        {
            return Ok(());
        }
        let invalid = |error: String| {
            let columns: Vec<&str> = schema
                .fields()
                .iter()
                .map(|field| field.name().as_str())
                .collect();
            Error::config(
                COMPONENT,
                format!(
                    "rule {:?}: field `expression` {:?} is not a valid SQL expression for this \
                     table: {error}; columns are: {} (quote names with capitals or dots, as \
                     \"PM2.5\")",
                    scope.rule,
                    self.expression,
                    columns.join(", ")
                ),
            )
        };
        let df_schema = DFSchema::try_from(schema.as_ref().clone())
            .map_err(|error| invalid(error.to_string()))?;
        let context = SessionContext::new();
        let logical = context
            .parse_sql_expr(&self.expression, &df_schema)
            .map_err(|error| invalid(error.to_string()))?;
        let mut referenced: Vec<usize> = logical
            .column_refs()
            .iter()
            .filter_map(|column| schema.index_of(&column.name).ok())
            .collect();
        referenced.sort_unstable();
        let expression = context
            .create_physical_expr(logical, &df_schema)
            .map_err(|error| invalid(error.to_string()))?;
        self.compiled = Some(Compiled {
            schema: Arc::clone(schema),
            expression,
            referenced,
        });
        Ok(())
    }
}

impl Evaluator for SqlPredicate {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let data = batch.data();
        self.compile(&data.schema(), scope)?;
        let Some(compiled) = &self.compiled else {
            return Err(Error::Internal("SQL predicate was not compiled".into()));
        };
        let value = compiled
            .expression
            .evaluate(data)
            .and_then(|value| value.into_array(data.num_rows()))
            .map_err(|error| {
                Error::InvalidInput(format!(
                    "rule {:?}: SQL expression {:?} failed on a batch: {error}",
                    scope.rule, self.expression
                ))
            })?;
        let Some(verdicts) = value.as_any().downcast_ref::<BooleanArray>() else {
            return Err(Error::config(
                COMPONENT,
                format!(
                    "rule {:?}: field `expression` {:?} returns {}, not a boolean; write a \
                     comparison such as \"a <= b\"",
                    scope.rule,
                    self.expression,
                    value.data_type()
                ),
            ));
        };
        stats.evaluated += data.num_rows() as u64;
        stats.add_metric("unknown_count", verdicts.null_count() as f64);
        let columns: Vec<ArrayRef> = compiled
            .referenced
            .iter()
            .map(|&index| Arc::clone(data.column(index)))
            .collect();
        let schema = data.schema();
        let names: Vec<&str> = compiled
            .referenced
            .iter()
            .map(|&index| schema.field(index).name().as_str())
            .collect();
        let ids = batch.row_ids();
        for row in 0..verdicts.len() {
            // Null (unknown, as SQL has it for a comparison with null) passes.
            if verdicts.is_null(row) || verdicts.value(row) {
                continue;
            }
            stats.failing += 1;
            let observed = format!("({}) = ({})", names.join(", "), key_text(&columns, row)?);
            failures.push(Failure {
                row_id: ids.value(row),
                column: names.first().map(|name| name.to_string()),
                observed: Some(observed),
                message: format!("breaks the condition {}", self.expression),
                suggested: None,
                kind: None,
            });
        }
        Ok(())
    }
}
