//! The checks and statements of [`SchemaEvolution::AddColumns`](super::SchemaEvolution):
//! the table's current columns, a retyped column, a missing column that cannot be NULL, and
//! `ALTER TABLE ... ADD COLUMN` for a new one.

use arrow::datatypes::Schema;
use governance_core::ROW_ID_COLUMN;

use super::sql::{comment_on_column, quote_identifier};
use super::table::{PlannedColumn, TablePlan};
use crate::ApplyError;
use crate::error::RetypedColumn;

/// A column of an existing table, as the server's catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableColumn {
    pub(crate) name: String,
    /// The type as `format_type` prints it, comparable with [`super::types::PgType::sql_name`].
    pub(crate) sql_type: String,
    pub(crate) not_null: bool,
}

/// Returns the error for the first column of `batch_plan` whose type differs from the
/// table's column of that name, or `None` when every shared column keeps its type.
pub(crate) fn retyped_column(
    batch_plan: &TablePlan,
    data: &Schema,
    existing: &[TableColumn],
    batch: u64,
) -> Option<ApplyError> {
    for column in &batch_plan.columns {
        let Some(known) = existing.iter().find(|known| known.name == column.name) else {
            continue;
        };
        let batch_type = column.pg_type.sql_name();
        if known.sql_type == batch_type {
            continue;
        }
        let data_type = data
            .field_with_name(&column.name)
            .map(|field| field.data_type().clone())
            .ok()?;
        return Some(ApplyError::ColumnRetyped(Box::new(RetypedColumn {
            table: batch_plan.table.clone(),
            column: column.name.clone(),
            table_type: known.sql_type.clone(),
            data_type,
            batch_type,
            batch,
        })));
    }
    None
}

/// Returns the error for the first column of `written` that the batch lacks, so that it
/// would be written as NULL, but that is NOT NULL in the table.
pub(crate) fn missing_not_null(
    written: &TablePlan,
    data: &Schema,
    existing: &[TableColumn],
    batch: u64,
) -> Option<ApplyError> {
    written
        .columns
        .iter()
        .filter(|column| column.name != ROW_ID_COLUMN && data.index_of(&column.name).is_err())
        .find(|column| {
            existing
                .iter()
                .any(|known| known.name == column.name && known.not_null)
        })
        .map(|column| ApplyError::MissingNotNullColumn {
            table: written.table.clone(),
            column: column.name.clone(),
            batch,
        })
}

/// Returns the statements that add `column` to `table`, which must run inside the data
/// transaction. The column is always nullable, because the rows already in the table have
/// no value for it. `IF NOT EXISTS` keeps a column that another writer added meanwhile.
pub(crate) fn add_column_statements(table: &str, column: &PlannedColumn) -> Vec<String> {
    let mut statements = vec![format!(
        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {} {}",
        quote_identifier(&column.name),
        column.pg_type.sql_name()
    )];
    if let Some(comment) = &column.comment {
        statements.push(comment_on_column(table, &column.name, comment));
    }
    statements
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field};

    use super::*;
    use crate::postgres::config::{PostgresSinkConfig, SchemaEvolution};

    fn plan(fields: Vec<Field>) -> (TablePlan, Schema) {
        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "air", "p");
        config.schema_evolution = SchemaEvolution::AddColumns;
        let schema = Schema::new(fields);
        let plan = TablePlan::new("sink", &config, Arc::new(schema.clone())).expect("plan");
        (plan, schema)
    }

    fn column(name: &str, sql_type: &str, not_null: bool) -> TableColumn {
        TableColumn {
            name: name.into(),
            sql_type: sql_type.into(),
            not_null,
        }
    }

    #[test]
    fn retype_names_both_types() {
        let (plan, schema) = plan(vec![Field::new("pm25", DataType::Utf8, true)]);
        let existing = vec![
            column(ROW_ID_COLUMN, "bigint", true),
            column("pm25", "double precision", false),
        ];
        let error = retyped_column(&plan, &schema, &existing, 3).expect("retyped");
        let message = error.to_string();
        assert!(message.contains("\"pm25\""), "{message}");
        assert!(message.contains("is double precision"), "{message}");
        assert!(message.contains("as Utf8, which maps to text"), "{message}");
        assert!(message.contains("batch 3"), "{message}");
        assert!(message.contains("ALTER COLUMN"), "{message}");
    }

    #[test]
    fn same_type_is_not_retyped() {
        let (plan, schema) = plan(vec![Field::new("pm25", DataType::Float64, true)]);
        let existing = vec![column("pm25", "double precision", false)];
        assert!(retyped_column(&plan, &schema, &existing, 1).is_none());
    }

    #[test]
    fn missing_not_null_column_is_named() {
        let (written, _) = plan(vec![
            Field::new("station", DataType::Utf8, true),
            Field::new("pm25", DataType::Float64, true),
        ]);
        let data = Schema::new(vec![Field::new("pm25", DataType::Float64, true)]);
        let existing = vec![
            column(ROW_ID_COLUMN, "bigint", true),
            column("station", "text", true),
            column("pm25", "double precision", false),
        ];
        let error = missing_not_null(&written, &data, &existing, 2).expect("not null");
        assert!(error.to_string().contains("\"station\""), "{error}");

        let nullable = vec![column("station", "text", false)];
        assert!(missing_not_null(&written, &data, &nullable, 2).is_none());
    }

    #[test]
    fn add_column_quotes_name() {
        let (plan, _) = plan(vec![Field::new("NO2 \"raw\"", DataType::Int32, false)]);
        let statements = add_column_statements(&plan.table, &plan.columns[1]);
        assert_eq!(
            statements,
            vec![
                "ALTER TABLE \"public\".\"air\" ADD COLUMN IF NOT EXISTS \"NO2 \"\"raw\"\"\" \
                 integer"
            ]
        );
    }
}
