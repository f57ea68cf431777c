//! Per-batch checks, which need only the row itself: completeness, range, allowed sets,
//! patterns, formats, length, value types and foreign keys.

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};
use governance_core::{Error, GovernedBatch, IssueKind, Result};
use regex::Regex;

use super::config::{COMPONENT, ForeignKeyCheck, FormatKind, ValueType};
use super::keys::{any_null, key_text};
use super::{Evaluator, Failure, RuleStats, Scope};
use crate::rules::closest_allowed;
use crate::support::{column_index, text_values};

/// Largest edit distance at which an allowed value is suggested for a value outside the set.
const SUGGEST_MAX_EDITS: usize = 2;

/// Returns the column `name` of the batch, or a config error that names the rule and lists
/// the columns present.
pub(crate) fn rule_column<'a>(
    batch: &'a GovernedBatch,
    scope: &Scope<'_>,
    name: &str,
) -> Result<&'a ArrayRef> {
    let index = column_index(batch, COMPONENT, &format!("rule {:?}", scope.rule), name)?;
    Ok(batch.data().column(index))
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// `not_null` and `completeness`.
pub(crate) struct Completeness {
    column: String,
    blank_is_missing: bool,
    min_ratio: f64,
}

impl Completeness {
    pub fn new(column: &str, blank_is_missing: bool, min_ratio: f64) -> Self {
        Completeness {
            column: column.to_string(),
            blank_is_missing,
            min_ratio,
        }
    }
}

impl Evaluator for Completeness {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.column)?;
        let ids = batch.row_ids();
        stats.evaluated += column.len() as u64;
        let mut nulls = 0u64;
        let mut blanks = 0u64;
        let text = (self.blank_is_missing && is_text(column.data_type()))
            .then(|| text_values(column))
            .transpose()?;
        for row in 0..column.len() {
            if column.is_null(row) {
                nulls += 1;
                failures.push(Failure::cell(
                    ids.value(row),
                    &self.column,
                    None,
                    "is missing (null)",
                ));
            } else if let Some(text) = &text
                && text.value(row).trim().is_empty()
            {
                blanks += 1;
                failures.push(Failure::cell(
                    ids.value(row),
                    &self.column,
                    Some(text.value(row).to_string()),
                    "is missing (empty or blank text)",
                ));
            }
        }
        stats.failing += nulls + blanks;
        stats.add_metric("null_count", nulls as f64);
        stats.add_metric("blank_count", blanks as f64);
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let completeness = if stats.evaluated == 0 {
            1.0
        } else {
            1.0 - stats.failing as f64 / stats.evaluated as f64
        };
        stats.set_metric("completeness", completeness);
        stats.add_metric("null_count", 0.0);
        stats.add_metric("blank_count", 0.0);
        if self.min_ratio < 1.0 {
            stats.verdict = Some(completeness >= self.min_ratio);
            stats.detail = Some(format!(
                "completeness {completeness:.4} (minimum {}), {} missing of {}",
                self.min_ratio, stats.failing, stats.evaluated
            ));
        }
        Ok(())
    }
}

/// `range`. Text columns are parsed as numbers; a text value that is not a number fails as a
/// format issue.
pub(crate) struct Range {
    column: String,
    min: Option<f64>,
    max: Option<f64>,
}

impl Range {
    pub fn new(column: &str, min: Option<f64>, max: Option<f64>) -> Self {
        Range {
            column: column.to_string(),
            min,
            max,
        }
    }

    fn problem(&self, value: f64) -> Option<String> {
        if value.is_nan() {
            return Some("is not a number".into());
        }
        if let Some(min) = self.min.filter(|&min| value < min) {
            return Some(format!("is below the minimum {min}"));
        }
        self.max
            .filter(|&max| value > max)
            .map(|max| format!("is above the maximum {max}"))
    }
}

impl Evaluator for Range {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.column)?;
        let ids = batch.row_ids();
        stats.evaluated += (column.len() - column.null_count()) as u64;
        if is_text(column.data_type()) {
            let text = text_values(column)?;
            for row in (0..text.len()).filter(|&row| text.is_valid(row)) {
                let raw = text.value(row);
                let failure = match raw.trim().parse::<f64>() {
                    Ok(value) => self.problem(value).map(|problem| {
                        Failure::cell(ids.value(row), &self.column, Some(raw.into()), problem)
                    }),
                    Err(_) => Some(
                        Failure::cell(
                            ids.value(row),
                            &self.column,
                            Some(raw.into()),
                            "is not a number",
                        )
                        .with_kind(IssueKind::Format),
                    ),
                };
                if let Some(failure) = failure {
                    stats.failing += 1;
                    failures.push(failure);
                }
            }
            return Ok(());
        }
        if !column.data_type().is_numeric() {
            return Err(Error::config(
                COMPONENT,
                format!(
                    "rule {:?}: range needs a number or text column, but column {:?} is {}",
                    scope.rule,
                    self.column,
                    column.data_type()
                ),
            ));
        }
        let values = cast(column, &DataType::Float64)?;
        let values = values
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| Error::Internal("cast to Float64 did not return Float64".into()))?;
        let (min, max) = (
            self.min.unwrap_or(f64::NEG_INFINITY),
            self.max.unwrap_or(f64::INFINITY),
        );
        for (row, value) in values.values().iter().enumerate() {
            // The common case, a value inside the bounds, is decided by two comparisons.
            if (min..=max).contains(value) || values.is_null(row) {
                continue;
            }
            if let Some(problem) = self.problem(*value) {
                stats.failing += 1;
                failures.push(Failure::cell(
                    ids.value(row),
                    &self.column,
                    Some(value.to_string()),
                    problem,
                ));
            }
        }
        Ok(())
    }
}

/// `allowed`.
pub(crate) struct Allowed {
    column: String,
    values: Vec<String>,
    set: HashSet<String>,
}

impl Allowed {
    pub fn new(column: &str, values: &[String]) -> Self {
        Allowed {
            column: column.to_string(),
            values: values.to_vec(),
            set: values.iter().cloned().collect(),
        }
    }
}

impl Evaluator for Allowed {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.column)?;
        let text = text_values(column)?;
        let ids = batch.row_ids();
        stats.evaluated += (text.len() - text.null_count()) as u64;
        for row in (0..text.len()).filter(|&row| text.is_valid(row)) {
            let value = text.value(row);
            if self.set.contains(value) {
                continue;
            }
            stats.failing += 1;
            let mut failure = Failure::cell(
                ids.value(row),
                &self.column,
                Some(value.into()),
                format!("is not one of the {} allowed values", self.values.len()),
            );
            if let Some((closest, _)) = closest_allowed(value, &self.values, SUGGEST_MAX_EDITS) {
                failure = failure.with_suggested(closest);
            }
            failures.push(failure);
        }
        Ok(())
    }
}

enum TextMode {
    Pattern(Regex),
    Format {
        kind: FormatKind,
        pattern: Option<String>,
        regex: Option<Regex>,
    },
    Length {
        min: Option<usize>,
        max: Option<usize>,
    },
    Type(ValueType),
}

/// `pattern`, `format`, `length` and `type`: checks of one text value at a time.
pub(crate) struct TextCheck {
    column: String,
    mode: TextMode,
}

const EMAIL: &str = r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$";
const URL: &str = r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@]+(@[^\s/?#]+)?([/?#]\S*)?$";
const UUID: &str = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

impl TextCheck {
    pub fn pattern(column: &str, regex: Regex) -> Self {
        TextCheck {
            column: column.into(),
            mode: TextMode::Pattern(regex),
        }
    }

    pub fn format(column: &str, kind: FormatKind, pattern: Option<String>) -> Result<Self> {
        let source = match kind {
            FormatKind::Email => Some(EMAIL),
            FormatKind::Url => Some(URL),
            FormatKind::Uuid => Some(UUID),
            FormatKind::Date | FormatKind::Timestamp | FormatKind::Json => None,
        };
        let regex = source
            .map(Regex::new)
            .transpose()
            .map_err(|error| Error::Internal(format!("built-in format regex: {error}")))?;
        Ok(TextCheck {
            column: column.into(),
            mode: TextMode::Format {
                kind,
                pattern,
                regex,
            },
        })
    }

    pub fn length(column: &str, min: Option<usize>, max: Option<usize>) -> Self {
        TextCheck {
            column: column.into(),
            mode: TextMode::Length { min, max },
        }
    }

    pub fn value_type(column: &str, expected: ValueType) -> Self {
        TextCheck {
            column: column.into(),
            mode: TextMode::Type(expected),
        }
    }

    /// Returns why `value` fails, or `None` when it passes.
    fn problem(&self, value: &str) -> Option<String> {
        match &self.mode {
            TextMode::Pattern(regex) => (!regex.is_match(value))
                .then(|| format!("does not match the pattern {:?}", regex.as_str())),
            TextMode::Format {
                kind,
                pattern,
                regex,
            } => {
                let valid = match (kind, regex) {
                    (_, Some(regex)) => regex.is_match(value),
                    (FormatKind::Date, _) => parses_date(value, pattern.as_deref()),
                    (FormatKind::Timestamp, _) => parses_timestamp(value, pattern.as_deref()),
                    (FormatKind::Json, _) => {
                        serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok()
                    }
                    _ => true,
                };
                (!valid).then(|| match pattern {
                    Some(pattern) => format!("is not a valid {kind:?} in the form {pattern:?}"),
                    None => format!("is not a valid {}", format_name(*kind)),
                })
            }
            TextMode::Length { min, max } => {
                let length = value.chars().count();
                if let Some(min) = min.filter(|&min| length < min) {
                    Some(format!(
                        "has {length} characters, fewer than the minimum {min}"
                    ))
                } else {
                    max.filter(|&max| length > max)
                        .map(|max| format!("has {length} characters, more than the maximum {max}"))
                }
            }
            TextMode::Type(expected) => (!parses_as(value, *expected))
                .then(|| format!("is not of type {}", type_name(*expected))),
        }
    }

    /// Returns true when every value of a column of this Arrow type conforms without looking
    /// at the values.
    fn conforms_by_type(&self, data_type: &DataType) -> bool {
        let TextMode::Type(expected) = self.mode else {
            return false;
        };
        match expected {
            ValueType::Text => true,
            ValueType::Integer => data_type.is_integer(),
            ValueType::Decimal => data_type.is_integer() || data_type.is_decimal(),
            ValueType::Boolean => data_type == &DataType::Boolean,
            ValueType::Date => matches!(data_type, DataType::Date32 | DataType::Date64),
            ValueType::Timestamp => matches!(data_type, DataType::Timestamp(..)),
        }
    }
}

fn format_name(kind: FormatKind) -> &'static str {
    match kind {
        FormatKind::Date => "date (YYYY-MM-DD)",
        FormatKind::Timestamp => "timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS)",
        FormatKind::Email => "e-mail address",
        FormatKind::Url => "absolute URL",
        FormatKind::Json => "JSON document",
        FormatKind::Uuid => "hyphenated UUID",
    }
}

fn type_name(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::Integer => "integer",
        ValueType::Decimal => "decimal",
        ValueType::Boolean => "boolean",
        ValueType::Date => "date",
        ValueType::Timestamp => "timestamp",
        ValueType::Text => "text",
    }
}

fn parses_date(value: &str, pattern: Option<&str>) -> bool {
    chrono::NaiveDate::parse_from_str(value.trim(), pattern.unwrap_or("%Y-%m-%d")).is_ok()
}

fn parses_timestamp(value: &str, pattern: Option<&str>) -> bool {
    let value = value.trim();
    if let Some(pattern) = pattern {
        return chrono::NaiveDateTime::parse_from_str(value, pattern).is_ok()
            || chrono::DateTime::parse_from_str(value, pattern).is_ok();
    }
    chrono::DateTime::parse_from_rfc3339(value).is_ok()
        || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// Returns true when the text `value` parses as `expected`.
pub(crate) fn parses_as(value: &str, expected: ValueType) -> bool {
    let value = value.trim();
    match expected {
        ValueType::Integer => value.parse::<i64>().is_ok(),
        ValueType::Decimal => value.parse::<f64>().is_ok_and(f64::is_finite),
        ValueType::Boolean => {
            matches!(
                value.to_ascii_lowercase().as_str(),
                "true" | "false" | "1" | "0"
            )
        }
        ValueType::Date => parses_date(value, None),
        ValueType::Timestamp => parses_timestamp(value, None),
        ValueType::Text => true,
    }
}

impl Evaluator for TextCheck {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.column)?;
        stats.evaluated += (column.len() - column.null_count()) as u64;
        if self.conforms_by_type(column.data_type()) {
            return Ok(());
        }
        let ids = batch.row_ids();
        // Floats are checked as numbers: their text form (`2.0`) would fail an integer check.
        if let (
            TextMode::Type(expected),
            DataType::Float16 | DataType::Float32 | DataType::Float64,
        ) = (&self.mode, column.data_type())
        {
            let values = cast(column, &DataType::Float64)?;
            let values = values
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| Error::Internal("cast to Float64 did not return Float64".into()))?;
            for row in (0..values.len()).filter(|&row| values.is_valid(row)) {
                let value = values.value(row);
                let valid = match expected {
                    ValueType::Integer => value.fract() == 0.0 && value.abs() < 9.2e18,
                    ValueType::Decimal => value.is_finite(),
                    _ => false,
                };
                if !valid {
                    stats.failing += 1;
                    failures.push(Failure::cell(
                        ids.value(row),
                        &self.column,
                        Some(value.to_string()),
                        format!("is not of type {}", type_name(*expected)),
                    ));
                }
            }
            return Ok(());
        }
        let text: StringArray = text_values(column)?;
        for row in (0..text.len()).filter(|&row| text.is_valid(row)) {
            let value = text.value(row);
            if let Some(problem) = self.problem(value) {
                stats.failing += 1;
                failures.push(Failure::cell(
                    ids.value(row),
                    &self.column,
                    Some(value.into()),
                    problem,
                ));
            }
        }
        Ok(())
    }
}

/// The encoded keys of a reference table, with the converter and column types that encoded
/// them.
type ReferenceKeys = (RowConverter, Vec<DataType>, HashSet<Box<[u8]>>);

/// `foreign_key`: the reference keys are encoded once, at the first batch.
pub(crate) struct ForeignKey {
    check: ForeignKeyCheck,
    reference: Option<ReferenceKeys>,
}

impl ForeignKey {
    pub fn new(check: ForeignKeyCheck) -> Self {
        ForeignKey {
            check,
            reference: None,
        }
    }

    fn load_reference(&mut self, scope: &Scope<'_>) -> Result<()> {
        if self.reference.is_some() {
            return Ok(());
        }
        let Some(table) = scope.references.get(&self.check.reference) else {
            let known: Vec<&str> = scope.references.keys().map(String::as_str).collect();
            return Err(Error::config(
                COMPONENT,
                format!(
                    "rule {:?}: reference table {:?} is not registered; registered tables are: \
                     [{}]; add it with Suite::with_reference",
                    scope.rule,
                    self.check.reference,
                    known.join(", ")
                ),
            ));
        };
        let names = self
            .check
            .reference_columns
            .clone()
            .unwrap_or_else(|| self.check.columns.clone());
        let schema = table.schema();
        let mut columns = Vec::with_capacity(names.len());
        for name in &names {
            let index = schema.index_of(name).map_err(|_| {
                let present: Vec<&str> = schema
                    .fields()
                    .iter()
                    .map(|field| field.name().as_str())
                    .collect();
                Error::config(
                    COMPONENT,
                    format!(
                        "rule {:?}: reference table {:?} has no column {name:?}; its columns \
                         are: {}",
                        scope.rule,
                        self.check.reference,
                        present.join(", ")
                    ),
                )
            })?;
            columns.push(table.column(index).clone());
        }
        let types: Vec<DataType> = columns
            .iter()
            .map(|column| column.data_type().clone())
            .collect();
        let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
        let rows = converter.convert_columns(&columns)?;
        let mut keys = HashSet::with_capacity(rows.num_rows());
        for row in 0..rows.num_rows() {
            if !any_null(&columns, row) {
                keys.insert(Box::from(rows.row(row).as_ref()));
            }
        }
        self.reference = Some((converter, types, keys));
        Ok(())
    }
}

impl Evaluator for ForeignKey {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        self.load_reference(scope)?;
        let Some((converter, types, keys)) = &self.reference else {
            return Err(Error::Internal(
                "foreign key reference was not loaded".into(),
            ));
        };
        let mut columns = Vec::with_capacity(types.len());
        for (name, data_type) in self.check.columns.iter().zip(types) {
            let column = rule_column(batch, scope, name)?;
            let column = cast(column, data_type).map_err(|error| {
                Error::config(
                    COMPONENT,
                    format!(
                        "rule {:?}: column {name:?} is {} and cannot be compared with the \
                         reference column of type {data_type}: {error}",
                        scope.rule,
                        column.data_type()
                    ),
                )
            })?;
            columns.push(column);
        }
        let rows = converter.convert_columns(&columns)?;
        let ids = batch.row_ids();
        for row in 0..batch.num_rows() {
            if any_null(&columns, row) {
                continue;
            }
            stats.evaluated += 1;
            if !keys.contains(rows.row(row).as_ref()) {
                stats.failing += 1;
                failures.push(Failure::cell(
                    ids.value(row),
                    &self.check.columns[0],
                    Some(key_text(&columns, row)?),
                    format!("is not a key of reference table {:?}", self.check.reference),
                ));
            }
        }
        Ok(())
    }
}
