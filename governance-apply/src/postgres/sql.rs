//! SQL text built by the sink: quoted identifiers and literals, and the statements that
//! create tables, comment columns, load rows and write checkpoints.
//!
//! Every identifier is double-quoted, so names keep their case and may contain any
//! character but NUL. Values go as statement parameters or through binary COPY, never into
//! SQL text. The one exception is the text of `COMMENT ON`, a utility statement that takes
//! no parameters, which goes in as an escaped string literal.

use crate::ApplyError;

/// Maximum identifier length in bytes that PostgreSQL keeps (NAMEDATALEN - 1 in a default
/// build). The server truncates longer names, which could map two columns to one.
pub(crate) const MAX_IDENTIFIER_BYTES: usize = 63;

/// Checks that `name` can be used as a quoted identifier without the server changing it.
pub(crate) fn check_identifier(name: &str) -> Result<(), ApplyError> {
    let reason = if name.is_empty() {
        Some("the name is empty".to_string())
    } else if name.contains('\0') {
        Some("the name contains a NUL character; remove it".to_string())
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        Some(format!(
            "the name is {} bytes long and PostgreSQL keeps only {MAX_IDENTIFIER_BYTES} bytes; \
             rename it",
            name.len()
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ApplyError::InvalidIdentifier {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Quotes `name` as an identifier: `a"b` becomes `"a""b"`.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes `schema.name` as a qualified identifier.
pub(crate) fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_identifier(schema), quote_identifier(name))
}

/// Quotes `text` as an escape string literal (`E'...'`), which reads the same whatever the
/// server's `standard_conforming_strings` is. `text` must not contain NUL.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Joins quoted column names with commas.
pub(crate) fn column_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column to create: its name, its SQL type and whether it may hold nulls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnDefinition {
    pub(crate) name: String,
    pub(crate) sql_type: String,
    pub(crate) nullable: bool,
}

/// Builds `CREATE TABLE IF NOT EXISTS`, with `PRIMARY KEY (key)` when `key` is not empty.
pub(crate) fn create_table(table: &str, columns: &[ColumnDefinition], key: &[String]) -> String {
    let mut parts: Vec<String> = columns
        .iter()
        .map(|column| {
            let null = if column.nullable { "" } else { " NOT NULL" };
            format!(
                "{} {}{null}",
                quote_identifier(&column.name),
                column.sql_type
            )
        })
        .collect();
    if !key.is_empty() {
        parts.push(format!(
            "PRIMARY KEY ({})",
            column_list(key.iter().map(String::as_str))
        ));
    }
    format!("CREATE TABLE IF NOT EXISTS {table} ({})", parts.join(", "))
}

/// Builds `COMMENT ON COLUMN`.
pub(crate) fn comment_on_column(table: &str, column: &str, comment: &str) -> String {
    format!(
        "COMMENT ON COLUMN {table}.{} IS {}",
        quote_identifier(column),
        quote_literal(comment)
    )
}

/// Builds the binary COPY of `columns` into `table`.
pub(crate) fn copy_in(table: &str, columns: &[&str]) -> String {
    format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        column_list(columns.iter().copied())
    )
}

/// Builds the merge of a staging table into the target: the last staged row per key (by
/// `ordinal`) is inserted, or updates the row with that key.
pub(crate) fn upsert_from_staging(
    table: &str,
    staging: &str,
    columns: &[&str],
    key: &[String],
    ordinal: &str,
) -> String {
    let all = column_list(columns.iter().copied());
    let keys = column_list(key.iter().map(String::as_str));
    let updates: Vec<String> = columns
        .iter()
        .filter(|column| !key.iter().any(|k| k == *column))
        .map(|column| {
            let quoted = quote_identifier(column);
            format!("{quoted} = EXCLUDED.{quoted}")
        })
        .collect();
    let action = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    format!(
        "INSERT INTO {table} ({all}) SELECT DISTINCT ON ({keys}) {all} FROM {staging} \
         ORDER BY {keys}, {} DESC ON CONFLICT ({keys}) {action}",
        quote_identifier(ordinal)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_inner_quotes() {
        assert_eq!(quote_identifier("pm25"), "\"pm25\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier("Robert'); DROP"), "\"Robert'); DROP\"");
        assert_eq!(qualified("public", "T"), "\"public\".\"T\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("ug/m3"), "E'ug/m3'");
        assert_eq!(quote_literal("it's"), "E'it''s'");
        assert_eq!(quote_literal("a\\'b"), "E'a\\\\''b'");
    }

    #[test]
    fn identifier_rules() {
        assert!(check_identifier("PM2.5 (ug/m3)").is_ok());
        assert!(check_identifier(&"a".repeat(MAX_IDENTIFIER_BYTES)).is_ok());
        assert!(check_identifier("").is_err());
        assert!(check_identifier("a\0b").is_err());
        // 32 two-byte characters are 64 bytes.
        let error = check_identifier(&"é".repeat(32)).expect_err("64 bytes");
        assert!(error.to_string().contains("64 bytes"), "{error}");
    }

    #[test]
    fn create_table_lists_key_and_nulls() {
        let columns = vec![
            ColumnDefinition {
                name: "id".into(),
                sql_type: "bigint".into(),
                nullable: false,
            },
            ColumnDefinition {
                name: "v".into(),
                sql_type: "double precision".into(),
                nullable: true,
            },
        ];
        assert_eq!(
            create_table("\"s\".\"t\"", &columns, &["id".into()]),
            "CREATE TABLE IF NOT EXISTS \"s\".\"t\" (\"id\" bigint NOT NULL, \
             \"v\" double precision, PRIMARY KEY (\"id\"))"
        );
    }

    #[test]
    fn upsert_updates_non_key_columns() {
        let sql = upsert_from_staging("t", "s", &["k", "v"], &["k".into()], "o");
        assert!(sql.contains("DISTINCT ON (\"k\")"), "{sql}");
        assert!(sql.contains("ORDER BY \"k\", \"o\" DESC"), "{sql}");
        assert!(
            sql.ends_with("ON CONFLICT (\"k\") DO UPDATE SET \"v\" = EXCLUDED.\"v\""),
            "{sql}"
        );
        let only_key = upsert_from_staging("t", "s", &["k"], &["k".into()], "o");
        assert!(only_key.ends_with("DO NOTHING"), "{only_key}");
    }
}
