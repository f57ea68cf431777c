//! The query policy: which tables and columns a question may read.

use arrow::datatypes::SchemaRef;
use datafusion::execution::context::SessionContext;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::QuestionError;

/// The entry of a table's column list that stands for every column.
pub const ALL_COLUMNS: &str = "*";

/// Tables and columns that generated SQL may read; everything else is denied. Unknown fields
/// are rejected.
///
/// Names are matched exactly as the tables are registered and as the columns appear in the
/// schema, so `"PM2.5"` and `"pm2.5"` differ.
///
/// # Mapping from the guard's access policies
///
/// `governance-secure`'s `AccessPolicy::decide` returns an `AccessDecision` per data set. For
/// each data set registered as a table, allow that table with the decision's
/// `visible_columns`. This policy has no row filters or masks, so apply the decision to the
/// batches (`apply_decision`) before registering them, and register the result.
///
/// ```
/// use governance_analyze::question::QueryPolicy;
///
/// let policy: QueryPolicy = serde_json::from_str(
///     r#"{ "tables": { "readings": ["*"], "stations": ["station", "district"] } }"#,
/// )?;
/// assert_eq!(policy, QueryPolicy::new().allow_all("readings").allow("stations", ["station", "district"]));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryPolicy {
    /// Readable columns by table name; `["*"]` allows every column of the table.
    pub tables: BTreeMap<String, Vec<String>>,
}

impl QueryPolicy {
    /// Creates a policy that allows nothing.
    pub fn new() -> Self {
        QueryPolicy::default()
    }

    /// Returns the policy that also allows `columns` of `table`.
    pub fn allow<I, S>(mut self, table: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tables
            .entry(table.into())
            .or_default()
            .extend(columns.into_iter().map(Into::into));
        self
    }

    /// Returns the policy that also allows every column of `table`.
    pub fn allow_all(self, table: impl Into<String>) -> Self {
        self.allow(table, [ALL_COLUMNS])
    }
}

/// An allowed table: its full schema and the allowed columns, in schema order.
#[derive(Debug, Clone)]
pub(crate) struct AllowedTable {
    pub(crate) name: String,
    pub(crate) schema: SchemaRef,
    pub(crate) columns: Vec<String>,
}

impl AllowedTable {
    /// Returns the schema's columns that the policy does not allow.
    pub(crate) fn forbidden_columns(&self) -> impl Iterator<Item = &str> {
        self.schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .filter(|name| !self.columns.iter().any(|allowed| allowed == name))
    }
}

/// Resolves the policy against the tables registered in `context`: every table and column it
/// names must exist.
pub(crate) async fn resolve(
    policy: &QueryPolicy,
    context: &SessionContext,
) -> Result<Vec<AllowedTable>, QuestionError> {
    if policy.tables.is_empty() {
        return Err(QuestionError::Config(
            "the query policy allows no table: add at least one table to `tables`".to_string(),
        ));
    }
    let mut tables = Vec::with_capacity(policy.tables.len());
    for (name, allowed) in &policy.tables {
        let provider = context.table_provider(name.as_str()).await.map_err(|_| {
            QuestionError::Config(format!(
                "table {name:?} of the query policy is not registered; registered tables: {}",
                registered_tables(context).join(", ")
            ))
        })?;
        let schema = provider.schema();
        let every_column = allowed.iter().any(|column| column == ALL_COLUMNS);
        for column in allowed {
            if column != ALL_COLUMNS && schema.field_with_name(column).is_err() {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(QuestionError::Config(format!(
                    "column {column:?} of table {name:?} in the query policy does not exist; the \
                     table has: {}",
                    names.join(", ")
                )));
            }
        }
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .filter(|field| every_column || allowed.contains(field))
            .collect();
        if columns.is_empty() {
            return Err(QuestionError::Config(format!(
                "the query policy allows no column of table {name:?}: list columns or \"*\""
            )));
        }
        tables.push(AllowedTable {
            name: name.clone(),
            schema,
            columns,
        });
    }
    Ok(tables)
}

/// Returns the names of the tables registered in the default schema of `context`.
pub(crate) fn registered_tables(context: &SessionContext) -> Vec<String> {
    let state = context.state();
    let options = state.config().options();
    let catalog = context.catalog(&options.catalog.default_catalog);
    let schema = catalog.and_then(|catalog| catalog.schema(&options.catalog.default_schema));
    let mut names = schema
        .map(|schema| schema.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

/// Builds a context that holds only the allowed tables, each as a view of its allowed
/// columns over the table in `source`, so planning there cannot see anything else.
pub(crate) async fn restricted_context(
    source: &SessionContext,
    tables: &[AllowedTable],
) -> Result<SessionContext, QuestionError> {
    let restricted = SessionContext::new();
    for table in tables {
        let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
        let frame = source
            .table(table.name.as_str())
            .await
            .and_then(|frame| frame.select_columns(&columns))
            .map_err(|error| {
                QuestionError::Config(format!(
                    "cannot build the view of the allowed columns of table {:?}: {}",
                    table.name,
                    error.strip_backtrace()
                ))
            })?;
        restricted
            .register_table(table.name.as_str(), frame.into_view())
            .map_err(|error| {
                QuestionError::Config(format!(
                    "cannot register the view of table {:?}: {}",
                    table.name,
                    error.strip_backtrace()
                ))
            })?;
    }
    Ok(restricted)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn source() -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("email", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["Li Wei"])),
                Arc::new(StringArray::from(vec!["li@example.invalid"])),
            ],
        )
        .expect("batch");
        let context = SessionContext::new();
        context
            .register_batch("residents", batch.clone())
            .expect("register");
        context.register_batch("permits", batch).expect("register");
        context
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn restricted_context_hides_the_rest() {
        runtime().block_on(async {
            let source = source();
            let policy = QueryPolicy::new().allow("residents", ["name"]);
            let tables = resolve(&policy, &source).await.expect("valid policy");
            assert_eq!(tables[0].forbidden_columns().collect::<Vec<_>>(), ["email"]);
            let restricted = restricted_context(&source, &tables).await.expect("views");

            let frame = restricted
                .sql("SELECT * FROM residents")
                .await
                .expect("plans");
            let names: Vec<String> = frame
                .schema()
                .fields()
                .iter()
                .map(|field| field.name().clone())
                .collect();
            assert_eq!(names, ["name"]);
            assert!(restricted.sql("SELECT email FROM residents").await.is_err());
            assert!(restricted.sql("SELECT name FROM permits").await.is_err());
            assert_eq!(registered_tables(&source), ["permits", "residents"]);
        });
    }

    #[test]
    fn empty_policy_rejected() {
        runtime().block_on(async {
            let error = resolve(&QueryPolicy::new(), &source())
                .await
                .expect_err("empty");
            assert!(error.to_string().contains("allows no table"), "{error}");
            let error = resolve(&QueryPolicy::new().allow_all("trips"), &source())
                .await
                .expect_err("no such table");
            assert!(error.to_string().contains("permits, residents"), "{error}");
        });
    }
}
