//! Helpers shared by the integration tests: writing inputs, formatting rows and building the
//! rows that the local stage code gives.

#![allow(dead_code, reason = "each test binary uses a different part")]

#[cfg(feature = "cluster")]
pub mod cluster;

use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float32Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::Issue;
use parquet::arrow::ArrowWriter;

/// Text of a null cell in formatted rows, distinct from an empty string.
const NULL: &str = "<null>";

/// Separator of cells in formatted rows.
const SEPARATOR: &str = " | ";

/// Writes `batches` to a Parquet file at `path`.
pub fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = File::create(path).expect("parquet file is created");
    let schema = batches.first().expect("at least one batch").schema();
    let mut writer = ArrowWriter::try_new(file, schema, None).expect("parquet writer starts");
    for batch in batches {
        writer.write(batch).expect("batch is written");
    }
    writer.close().expect("parquet file is closed");
}

/// Returns the column names of `batches`.
pub fn column_names(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .first()
        .map(|batch| {
            batch
                .schema()
                .fields()
                .iter()
                .map(|field| field.name().clone())
                .collect()
        })
        .unwrap_or_default()
}

fn format_cell(batch: &RecordBatch, column: usize, row: usize) -> String {
    let array = batch.column(column);
    if let DataType::List(item) = array.data_type()
        && matches!(item.data_type(), DataType::Struct(_))
    {
        return format_issue_cell(array.as_ref(), row);
    }
    let options = FormatOptions::default().with_null(NULL);
    let formatter = ArrayFormatter::try_new(array.as_ref(), &options).expect("formatter");
    formatter.value(row).to_string()
}

/// Formats one issue with every field that the plan's issue columns carry.
fn format_issue(
    kind: &str,
    severity: &str,
    confidence: f32,
    suggested: Option<&str>,
    message: &str,
) -> String {
    format!(
        "{kind} ({severity}, confidence {confidence}, suggested {}): {message}",
        suggested.unwrap_or(NULL)
    )
}

/// Formats a cell of an issue column (a list of issue structs) as [`format_issue`] does the
/// local issues, joined by `; `, or [`NULL`].
fn format_issue_cell(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return NULL.to_string();
    }
    let items = array.as_list::<i32>().value(row);
    let items = items.as_struct();
    let text = |name: &str| {
        items
            .column_by_name(name)
            .unwrap_or_else(|| panic!("issue struct lacks {name}"))
            .as_string::<i32>()
            .clone()
    };
    let (kind, severity, message, suggested) = (
        text("kind"),
        text("severity"),
        text("message"),
        text("suggested"),
    );
    let confidence = items
        .column_by_name("confidence")
        .expect("issue struct lacks confidence")
        .as_primitive::<Float32Type>();
    let issues: Vec<String> = (0..items.len())
        .map(|index| {
            format_issue(
                kind.value(index),
                severity.value(index),
                confidence.value(index),
                suggested.is_valid(index).then(|| suggested.value(index)),
                message.value(index),
            )
        })
        .collect();
    assert!(
        !issues.is_empty(),
        "an issue cell is an empty list, not null"
    );
    issues.join("; ")
}

/// Formats every row of `batches` as text, cells in column order, and sorts the rows, so
/// that results of engines that order rows differently compare equal. Types do not matter:
/// a Utf8View and a Utf8 cell with the same text format alike.
pub fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = (0..batch.num_columns())
                .map(|column| format_cell(batch, column, row))
                .collect();
            rows.push(cells.join(SEPARATOR));
        }
    }
    rows.sort();
    rows
}

/// Returns the local stage name and column of an issue column `issues__STAGE__COLUMN`.
fn issue_source(name: &str) -> Option<(&'static str, &str)> {
    let rest = name.strip_prefix("issues__")?;
    let (stage, column) = rest.split_once("__")?;
    let detector = if stage == "canonicalise" {
        "canonicalise"
    } else if stage.starts_with("rules_") {
        "rules"
    } else if stage.starts_with("checks_") {
        "checks"
    } else if stage == "guard" {
        "pii_guard"
    } else {
        return None;
    };
    Some((detector, column))
}

/// Formats the rows that the local chain gives, with the cells of `names`: data columns from
/// `data` (the governed batch) and issue columns from `issues`, in the plan's mapping.
/// `row_ids` are the ids of `data`'s rows, in order. Returns the rows sorted.
pub fn expected_rows(
    names: &[String],
    data: &RecordBatch,
    row_ids: &[u64],
    issues: &[Issue],
) -> Vec<String> {
    let mut rows = Vec::with_capacity(data.num_rows());
    for (row, row_id) in row_ids.iter().enumerate() {
        let mut cells = Vec::with_capacity(names.len());
        for name in names {
            if let Some((detector, column)) = issue_source(name) {
                let texts: Vec<String> = issues
                    .iter()
                    .filter(|issue| {
                        issue.row_id == *row_id
                            && issue.detector == detector
                            && issue.column.as_deref() == Some(column)
                    })
                    .map(|issue| {
                        format_issue(
                            issue.kind.as_str(),
                            issue.severity.as_str(),
                            issue.confidence,
                            issue.suggested.as_deref(),
                            &issue.message,
                        )
                    })
                    .collect();
                cells.push(if texts.is_empty() {
                    NULL.to_string()
                } else {
                    texts.join("; ")
                });
            } else {
                let index = data
                    .schema()
                    .index_of(name)
                    .unwrap_or_else(|_| panic!("local output lacks column {name}"));
                cells.push(format_cell(data, index, row));
            }
        }
        rows.push(cells.join(SEPARATOR));
    }
    rows.sort();
    rows
}

/// Asserts that two sorted row lists are equal, printing the first difference.
pub fn assert_same_rows(label: &str, expected: &[String], actual: &[String]) {
    assert_eq!(
        expected.len(),
        actual.len(),
        "{label}: {} expected rows, {} actual rows",
        expected.len(),
        actual.len()
    );
    if let Some((position, (expected, actual))) = expected
        .iter()
        .zip(actual)
        .enumerate()
        .find(|(_, (expected, actual))| expected != actual)
    {
        panic!("{label}: sorted row {position} differs\nexpected: {expected}\nactual:   {actual}");
    }
}
