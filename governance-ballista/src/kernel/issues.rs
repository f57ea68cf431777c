//! The issue output of the kernels: per row, the list of issues a stage logged on one cell,
//! with the fields of the local issue log.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBufferBuilder, Float32Builder, ListArray, StringBuilder, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::Result;
use governance_core::Issue;

/// Returns the fields of one issue: `kind`, `severity`, `message`, `suggested` (nullable)
/// and `confidence`. They have the names and types of the same columns of
/// [`governance_core::IssueLog::schema`]. The row id, the column and the stage are not
/// fields, because the row and the column name of the issue column give them.
pub fn issue_fields() -> Fields {
    Fields::from(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
        Field::new("suggested", DataType::Utf8, true),
        Field::new("confidence", DataType::Float32, false),
    ])
}

fn item_field() -> FieldRef {
    Arc::new(Field::new("item", DataType::Struct(issue_fields()), false))
}

/// Returns the type of an issue column: a list of [`issue_fields`] structs, null for a row
/// without issues.
pub fn issue_list_type() -> DataType {
    DataType::List(item_field())
}

/// Builds an issue column of `rows` rows from the issues that pass `keep`, in log order per
/// row. Row ids are row positions, and rows without issues are null.
pub(crate) fn issue_list(
    rows: usize,
    issues: &[Issue],
    keep: impl Fn(&Issue) -> bool,
) -> Result<ArrayRef> {
    let mut by_row: BTreeMap<u64, Vec<&Issue>> = BTreeMap::new();
    for issue in issues.iter().filter(|issue| keep(issue)) {
        by_row.entry(issue.row_id).or_default().push(issue);
    }

    let count: usize = by_row.values().map(Vec::len).sum();
    let mut kind = StringBuilder::with_capacity(count, count * 8);
    let mut severity = StringBuilder::with_capacity(count, count * 5);
    let mut message = StringBuilder::with_capacity(count, count * 32);
    let mut suggested = StringBuilder::with_capacity(count, count * 8);
    let mut confidence = Float32Builder::with_capacity(count);
    let mut lengths = Vec::with_capacity(rows);
    let mut valid = BooleanBufferBuilder::new(rows);
    for row in 0..rows as u64 {
        let row_issues = by_row.get(&row).map(Vec::as_slice).unwrap_or_default();
        lengths.push(row_issues.len());
        valid.append(!row_issues.is_empty());
        for issue in row_issues {
            kind.append_value(issue.kind.as_str());
            severity.append_value(issue.severity.as_str());
            message.append_value(&issue.message);
            suggested.append_option(issue.suggested.as_deref());
            confidence.append_value(issue.confidence);
        }
    }

    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind.finish()),
        Arc::new(severity.finish()),
        Arc::new(message.finish()),
        Arc::new(suggested.finish()),
        Arc::new(confidence.finish()),
    ];
    let values = StructArray::try_new(issue_fields(), columns, None)?;
    let list = ListArray::try_new(
        item_field(),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(values),
        Some(NullBuffer::new(valid.finish())),
    )?;
    Ok(Arc::new(list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float32Type;
    use governance_core::{IssueKind, Severity};

    #[test]
    fn issue_list_keeps_fields_and_order() {
        let issues = vec![
            Issue::cell(
                2,
                "a",
                IssueKind::NotAllowed,
                Severity::Error,
                "rules",
                "first",
            ),
            Issue::cell(
                0,
                "b",
                IssueKind::Missing,
                Severity::Error,
                "rules",
                "other column",
            ),
            Issue::cell(
                2,
                "a",
                IssueKind::Canonicalised,
                Severity::Info,
                "rules",
                "second",
            )
            .with_suggested("fixed")
            .with_confidence(0.75),
        ];
        let column = issue_list(3, &issues, |issue| issue.column.as_deref() == Some("a"))
            .expect("column builds");
        assert_eq!(column.data_type(), &issue_list_type());
        assert_eq!(column.len(), 3);
        assert!(
            column.is_null(0),
            "row 0 has only an issue of another column"
        );
        assert!(column.is_null(1));

        let list = column.as_list::<i32>();
        let row = list.value(2);
        let row = row.as_struct();
        assert_eq!(row.len(), 2);
        let text = |name: &str, index: usize| {
            let values = row.column_by_name(name).expect("field").as_string::<i32>();
            values
                .is_valid(index)
                .then(|| values.value(index).to_string())
        };
        assert_eq!(text("kind", 0).as_deref(), Some("not_allowed"));
        assert_eq!(text("kind", 1).as_deref(), Some("canonicalised"));
        assert_eq!(text("severity", 0).as_deref(), Some("error"));
        assert_eq!(text("severity", 1).as_deref(), Some("info"));
        assert_eq!(text("message", 1).as_deref(), Some("second"));
        assert_eq!(text("suggested", 0), None);
        assert_eq!(text("suggested", 1).as_deref(), Some("fixed"));
        let confidence = row
            .column_by_name("confidence")
            .expect("confidence field")
            .as_primitive::<Float32Type>();
        assert_eq!(confidence.value(0), 1.0);
        assert_eq!(confidence.value(1), 0.75);
    }

    #[test]
    fn issue_list_without_issues_is_all_null() {
        let column = issue_list(4, &[], |_| true).expect("column builds");
        assert_eq!(column.len(), 4);
        assert_eq!(column.null_count(), 4);
    }
}
