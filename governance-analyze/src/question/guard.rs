//! Checks of generated SQL before anything runs: one read-only query over allowed tables and
//! columns, with its LIMIT capped.
//!
//! These checks walk the syntax tree. The answerer then plans the checked SQL against a
//! context that holds only the allowed columns, so a reference these checks miss still fails.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, LimitClause, ObjectName, Query, SetExpr, Statement, Value, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use super::QuestionError;
use super::policy::AllowedTable;

/// SQL that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSql {
    /// The SQL to run, with the LIMIT capped.
    pub sql: String,
    /// Whether the LIMIT was added or lowered to the row limit.
    pub limit_capped: bool,
}

/// Checks `sql` and caps its LIMIT at `max_rows`.
///
/// `tables` are the allowed tables; `registered` are the names of every registered table,
/// used to reject a CTE that hides one.
pub(crate) fn check_sql(
    sql: &str,
    tables: &[AllowedTable],
    registered: &[String],
    max_rows: u64,
) -> Result<CheckedSql, QuestionError> {
    let mut statements =
        DFParser::parse_sql_with_dialect(sql, &GenericDialect {}).map_err(|error| {
            QuestionError::Parse {
                sql: sql.to_string(),
                message: error.strip_backtrace(),
            }
        })?;
    if statements.len() != 1 {
        return Err(QuestionError::MultipleStatements {
            count: statements.len(),
            sql: sql.to_string(),
        });
    }
    let Some(statement) = statements.pop_front() else {
        return Err(QuestionError::MultipleStatements {
            count: 0,
            sql: sql.to_string(),
        });
    };
    let mut query = read_only_query(statement)?;

    let mut references = References::default();
    // The visitor never breaks, so the control flow carries nothing.
    let _ = query.visit(&mut references);
    check_references(&references, tables, registered)?;

    let limit_capped = cap_limit(&mut query, max_rows)?;
    Ok(CheckedSql {
        sql: query.to_string(),
        limit_capped,
    })
}

/// Returns the query of a read-only statement, or the reason it is not one.
fn read_only_query(statement: DfStatement) -> Result<Box<Query>, QuestionError> {
    let statement = match statement {
        DfStatement::Statement(statement) => *statement,
        DfStatement::CreateExternalTable(_) => return Err(not_read_only("CREATE EXTERNAL TABLE")),
        DfStatement::CopyTo(_) => return Err(not_read_only("COPY")),
        DfStatement::Explain(_) => return Err(not_read_only("EXPLAIN")),
        DfStatement::Reset(_) => return Err(not_read_only("RESET")),
    };
    let Statement::Query(query) = statement else {
        return Err(not_read_only(&statement_kind(&statement)));
    };
    let mut into = false;
    let _ = query.visit(&mut SelectIntoFinder { found: &mut into });
    if into {
        return Err(not_read_only("SELECT INTO, which creates a table"));
    }
    Ok(query)
}

fn not_read_only(kind: &str) -> QuestionError {
    QuestionError::NotReadOnly {
        kind: kind.to_string(),
    }
}

/// Names a statement by its leading keywords, such as `DROP TABLE` or `INSERT`.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [first, second]
            if ["CREATE", "DROP", "ALTER", "TRUNCATE"].contains(first)
                && second.chars().all(|c| c.is_ascii_uppercase()) =>
        {
            format!("{first} {second}")
        }
        [first, ..] => (*first).to_string(),
        [] => "an empty statement".to_string(),
    }
}

/// Finds `SELECT ... INTO` anywhere in a query.
struct SelectIntoFinder<'a> {
    found: &'a mut bool,
}

impl Visitor for SelectIntoFinder<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_ref()
            && select.into.is_some()
        {
            *self.found = true;
        }
        ControlFlow::Continue(())
    }
}

/// Tables, CTE names and column identifiers that a query references.
#[derive(Debug, Default)]
struct References {
    relations: Vec<ObjectName>,
    ctes: BTreeSet<String>,
    identifiers: Vec<Ident>,
}

impl Visitor for References {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(normalize(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.relations.push(relation.clone());
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => self.identifiers.push(ident.clone()),
            Expr::CompoundIdentifier(parts) => {
                if let Some(column) = parts.last() {
                    self.identifiers.push(column.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Returns an identifier as DataFusion resolves it: unquoted ones are lowercased.
fn normalize(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// Rejects a relation that is not an allowed table or a CTE, and an identifier that names a
/// column the policy hides.
fn check_references(
    references: &References,
    tables: &[AllowedTable],
    registered: &[String],
) -> Result<(), QuestionError> {
    let allowed_names = || {
        tables
            .iter()
            .map(|table| table.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for relation in &references.relations {
        let Some(last) = relation.0.last().and_then(|part| part.as_ident()) else {
            return Err(QuestionError::TableNotAllowed {
                table: relation.to_string(),
                allowed: allowed_names(),
            });
        };
        let name = normalize(last);
        let is_allowed = tables.iter().any(|table| table.name == name);
        // A CTE may not take the name of a registered table that the policy hides, so that
        // no reading of the query can reach that table.
        let hides_registered = registered
            .iter()
            .any(|table| table.eq_ignore_ascii_case(&name))
            && !is_allowed;
        let is_cte = references.ctes.contains(&name) && !hides_registered;
        if !is_allowed && !is_cte {
            return Err(QuestionError::TableNotAllowed {
                table: relation.to_string(),
                allowed: allowed_names(),
            });
        }
    }
    // Case is ignored here, so `Email` and `"EMAIL"` are both caught for a column `email`.
    // NOTE: an alias that shares a forbidden column's name is rejected too, which is safe.
    for ident in &references.identifiers {
        for table in tables {
            if let Some(column) = table
                .forbidden_columns()
                .find(|column| column.eq_ignore_ascii_case(&ident.value))
            {
                return Err(QuestionError::ColumnNotAllowed {
                    table: table.name.clone(),
                    column: column.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Adds `LIMIT max_rows`, or lowers a larger literal LIMIT to it. Returns whether it did.
fn cap_limit(query: &mut Query, max_rows: u64) -> Result<bool, QuestionError> {
    let cap = Expr::value(Value::Number(max_rows.to_string(), false));
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(cap),
                offset: None,
                limit_by: Vec::new(),
            });
            Ok(true)
        }
        Some(LimitClause::LimitOffset { limit, .. }) => match limit {
            None => {
                *limit = Some(cap);
                Ok(true)
            }
            Some(expr) => cap_literal(expr, cap, max_rows),
        },
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => cap_literal(limit, cap, max_rows),
    }
}

fn cap_literal(limit: &mut Expr, cap: Expr, max_rows: u64) -> Result<bool, QuestionError> {
    let value = match &*limit {
        Expr::Value(value) => match &value.value {
            Value::Number(number, _) => number.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match value {
        Some(rows) if rows <= max_rows => Ok(false),
        Some(_) => {
            *limit = cap;
            Ok(true)
        }
        None => Err(QuestionError::Limit {
            limit: limit.to_string(),
        }),
    }
}
