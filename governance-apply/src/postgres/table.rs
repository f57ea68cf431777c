//! The layout of the target table, planned from the first batch's Arrow schema: columns and
//! their types, column comments from the semantic annotations, and the checks against a
//! table that already exists.

use std::collections::BTreeMap;

use arrow::datatypes::{Field, SchemaRef};
use governance_core::{Error, ROW_ID_COLUMN, Result};
use tokio_postgres::types::Type;

use super::config::{PostgresSinkConfig, SchemaEvolution, WriteMode};
use super::sql::{self, ColumnDefinition, check_identifier, qualified};
use super::types::{PgType, pg_type_for};
use crate::ApplyError;

/// Prefix of the field metadata keys that the semantic annotations use.
const GOVERNANCE_KEY_PREFIX: &str = "governance.";

/// Comment the PostgreSQL sink puts on the row-id column.
pub const ROW_ID_COMMENT: &str =
    "governance row id: the stable id the chain assigned to the row at collection";

/// Column of the upsert staging table that keeps each row's position in its batch, so that
/// the last of several rows with one key wins.
pub(crate) const ORDINAL_COLUMN: &str = "__governance_ordinal";

/// A column of the target table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedColumn {
    pub(crate) name: String,
    pub(crate) pg_type: PgType,
    pub(crate) nullable: bool,
    /// Comment from the field's `governance.*` metadata, as a JSON object.
    pub(crate) comment: Option<String>,
}

/// The target table of one sink: the row-id column, then one column per data field.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    /// Schema of the first batch's data, without the row-id column.
    pub(crate) data_schema: SchemaRef,
    pub(crate) columns: Vec<PlannedColumn>,
    /// Qualified, quoted table name.
    pub(crate) table: String,
    /// Key columns in upsert mode; empty in append mode.
    pub(crate) key: Vec<String>,
}

impl TablePlan {
    /// Plans the table for data with `data_schema`. Fails on a type without a mapping, a
    /// name PostgreSQL would change, a reserved column name or a key column not in the data.
    pub(crate) fn new(
        stage: &str,
        config: &PostgresSinkConfig,
        data_schema: SchemaRef,
    ) -> Result<Self> {
        let key = match &config.mode {
            WriteMode::Append => Vec::new(),
            WriteMode::Upsert { key } => key.clone(),
        };
        // Under add_columns a later batch may lack any data column, which is then NULL.
        let evolving = config.schema_evolution == SchemaEvolution::AddColumns;
        let mut columns = vec![PlannedColumn {
            name: ROW_ID_COLUMN.to_string(),
            pg_type: PgType::BigInt,
            nullable: false,
            comment: Some(ROW_ID_COMMENT.to_string()),
        }];
        for field in data_schema.fields() {
            let name = field.name();
            if name == ROW_ID_COLUMN || (!key.is_empty() && name == ORDINAL_COLUMN) {
                return Err(Error::stage(
                    stage,
                    ApplyError::ReservedColumn {
                        column: name.clone(),
                    },
                ));
            }
            check_identifier(name).map_err(|error| Error::stage(stage, error))?;
            let pg_type = pg_type_for(field).map_err(|error| Error::stage(stage, error))?;
            columns.push(PlannedColumn {
                name: name.clone(),
                pg_type,
                nullable: (field.is_nullable() || evolving) && !key.contains(name),
                comment: semantic_comment(field),
            });
        }
        for key_column in &key {
            if !columns.iter().any(|column| &column.name == key_column) {
                let names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
                return Err(Error::config(
                    stage,
                    format!(
                        "upsert key column {key_column:?} is not in the data; the columns are \
                         {names:?}"
                    ),
                ));
            }
        }
        Ok(TablePlan {
            data_schema,
            columns,
            table: qualified(&config.schema, &config.table),
            key,
        })
    }

    /// Returns the column names in table order.
    pub(crate) fn column_names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(|column| column.name.as_str())
            .collect()
    }

    /// Returns the COPY wire types in table order.
    pub(crate) fn wire_types(&self) -> Vec<Type> {
        self.columns
            .iter()
            .map(|column| column.pg_type.wire_type())
            .collect()
    }

    /// Returns the statements that create the table if absent and comment its columns.
    pub(crate) fn create_statements(&self) -> Vec<String> {
        let definitions: Vec<ColumnDefinition> = self
            .columns
            .iter()
            .map(|column| ColumnDefinition {
                name: column.name.clone(),
                sql_type: column.pg_type.sql_name(),
                nullable: column.nullable,
            })
            .collect();
        let mut statements = vec![sql::create_table(&self.table, &definitions, &self.key)];
        for column in &self.columns {
            if let Some(comment) = &column.comment {
                statements.push(sql::comment_on_column(&self.table, &column.name, comment));
            }
        }
        statements
    }

    /// Returns the statement that creates the session's staging table for upserts, with the
    /// table's columns (no constraints) and the ordinal column. With `replace` it drops an
    /// earlier staging table first, whose columns may differ.
    pub(crate) fn create_staging(&self, staging: &str, replace: bool) -> String {
        let mut definitions: Vec<String> = self
            .columns
            .iter()
            .map(|column| {
                format!(
                    "{} {}",
                    sql::quote_identifier(&column.name),
                    column.pg_type.sql_name()
                )
            })
            .collect();
        definitions.push(format!("{} bigint", sql::quote_identifier(ORDINAL_COLUMN)));
        let create = format!(
            "CREATE TEMP TABLE IF NOT EXISTS {staging} ({}) ON COMMIT DELETE ROWS",
            definitions.join(", ")
        );
        if replace {
            format!("DROP TABLE IF EXISTS {staging}; {create}")
        } else {
            create
        }
    }

    /// Compares the planned columns with those of the existing table, given as (name, type as
    /// `format_type` prints it). Extra columns in the table are allowed: COPY leaves them at
    /// their defaults.
    pub(crate) fn layout_differences(&self, existing: &[(String, String)]) -> Vec<String> {
        let mut differences = Vec::new();
        for column in &self.columns {
            let expected = column.pg_type.sql_name();
            match existing.iter().find(|(name, _)| name == &column.name) {
                None => {
                    differences.push(format!("column {:?} ({expected}) is missing", column.name))
                }
                Some((_, actual)) if actual != &expected => differences.push(format!(
                    "column {:?} is {actual} in the table and {expected} in the data",
                    column.name
                )),
                Some(_) => {}
            }
        }
        differences
    }
}

/// Returns the field's `governance.*` metadata as a JSON object with sorted keys, or `None`
/// when it has none.
fn semantic_comment(field: &Field) -> Option<String> {
    let entries: BTreeMap<&String, &String> = field
        .metadata()
        .iter()
        .filter(|(key, _)| key.starts_with(GOVERNANCE_KEY_PREFIX))
        .collect();
    if entries.is_empty() {
        return None;
    }
    serde_json::to_string(&entries).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Schema};
    use governance_core::semantic::{SENSITIVITY_KEY, UNIT_KEY};

    fn schema() -> SchemaRef {
        let metadata = HashMap::from([
            (UNIT_KEY.to_string(), "ug/m3".to_string()),
            (SENSITIVITY_KEY.to_string(), "public".to_string()),
            ("other.key".to_string(), "ignored".to_string()),
        ]);
        Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("pm25", DataType::Float64, true).with_metadata(metadata),
        ]))
    }

    fn config(mode: WriteMode) -> PostgresSinkConfig {
        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "air", "p");
        config.mode = mode;
        config
    }

    #[test]
    fn plan_puts_row_id_first_with_comments() {
        let plan = TablePlan::new("sink", &config(WriteMode::Append), schema()).expect("plan");
        assert_eq!(plan.column_names(), vec![ROW_ID_COLUMN, "station", "pm25"]);
        assert_eq!(plan.table, "\"public\".\"air\"");
        assert_eq!(
            plan.columns[2].comment.as_deref(),
            Some(r#"{"governance.sensitivity":"public","governance.unit":"ug/m3"}"#)
        );
        assert_eq!(plan.columns[1].comment, None);
        let statements = plan.create_statements();
        assert_eq!(statements.len(), 3);
        assert!(
            statements[0].contains("\"station\" text NOT NULL"),
            "{}",
            statements[0]
        );
    }

    #[test]
    fn upsert_key_must_be_in_data() {
        let mode = WriteMode::Upsert {
            key: vec!["sensor".into()],
        };
        let error = TablePlan::new("sink", &config(mode), schema()).expect_err("unknown key");
        assert!(error.to_string().contains("\"sensor\""), "{error}");

        let mode = WriteMode::Upsert {
            key: vec!["pm25".into()],
        };
        let plan = TablePlan::new("sink", &config(mode), schema()).expect("plan");
        assert!(!plan.columns[2].nullable, "key columns are NOT NULL");
    }

    #[test]
    fn evolving_plan_makes_data_columns_nullable() {
        let mut evolving = config(WriteMode::Upsert {
            key: vec!["pm25".into()],
        });
        evolving.schema_evolution = SchemaEvolution::AddColumns;
        let plan = TablePlan::new("sink", &evolving, schema()).expect("plan");
        assert!(plan.columns[1].nullable, "station may be missing later");
        assert!(!plan.columns[2].nullable, "key columns stay NOT NULL");

        let strict = TablePlan::new("sink", &config(WriteMode::Append), schema()).expect("plan");
        assert!(
            !strict.columns[1].nullable,
            "strict keeps the field's nullability"
        );
    }

    #[test]
    fn layout_differences_name_columns() {
        let plan = TablePlan::new("sink", &config(WriteMode::Append), schema()).expect("plan");
        let existing = vec![
            (ROW_ID_COLUMN.to_string(), "bigint".to_string()),
            ("station".to_string(), "character varying(20)".to_string()),
            ("extra".to_string(), "integer".to_string()),
        ];
        assert_eq!(
            plan.layout_differences(&existing),
            vec![
                "column \"station\" is character varying(20) in the table and text in the data",
                "column \"pm25\" (double precision) is missing",
            ]
        );
    }
}
