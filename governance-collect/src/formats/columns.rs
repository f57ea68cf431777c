//! Columns collected from JSON items. Values are gathered per column as JSON, and each
//! column's Arrow type is inferred from all of its values at the end. The schema is thus the
//! union over every item, and no early item fixes a type that a later one breaks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, TimeUnit};
use governance_core::{Error, Result};
use serde_json::Value;

use super::json::parse_timestamp;
use super::{
    ATTRIBUTE_KEY, CONSTANT_KEY_PREFIX, DATASET_ID_KEY, ENCODING_KEY, FormatIssue, MEMBER_KEY,
};

/// The source of a column's values: a member path inside an attribute instance (attribute
/// name and dataset id), or an item-level member when `attribute` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ColumnKey {
    pub attribute: Option<String>,
    pub dataset_id: Option<String>,
    /// Member path inside the attribute or item, segments joined by `/`.
    pub member: String,
}

impl ColumnKey {
    pub(crate) fn item(member: &str) -> Self {
        ColumnKey {
            attribute: None,
            dataset_id: None,
            member: member.to_string(),
        }
    }

    pub(crate) fn attribute(attribute: &str, dataset_id: Option<&str>, member: &str) -> Self {
        ColumnKey {
            attribute: Some(attribute.to_string()),
            dataset_id: dataset_id.map(str::to_string),
            member: member.to_string(),
        }
    }

    /// Reads the key back from a field written by [`ColumnSet::build`].
    pub(crate) fn from_field(field: &Field) -> Option<Self> {
        let metadata = field.metadata();
        Some(ColumnKey {
            attribute: metadata.get(ATTRIBUTE_KEY).cloned(),
            dataset_id: metadata.get(DATASET_ID_KEY).cloned(),
            member: metadata.get(MEMBER_KEY)?.clone(),
        })
    }
}

/// The reading of a column's string values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Strings stay strings.
    Text,
    /// Strings are RFC 3339 date-times with an offset. The column becomes a UTC timestamp
    /// when every value parses, and otherwise stays text with a recorded issue.
    Time,
}

#[derive(Debug)]
struct Column {
    key: ColumnKey,
    name: String,
    values: Vec<Option<Value>>,
    hint: Hint,
    metadata: HashMap<String, String>,
}

/// The columns of one batch under construction.
#[derive(Debug, Default)]
pub(crate) struct ColumnSet {
    columns: Vec<Column>,
    index: HashMap<ColumnKey, usize>,
    names: HashSet<String>,
    rows: usize,
    issues: Vec<FormatIssue>,
}

impl ColumnSet {
    /// Starts a new row and returns its index.
    pub(crate) fn push_row(&mut self) -> usize {
        self.rows += 1;
        self.rows - 1
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Sets the cell of `key` at `row`, creating the column on first use. A JSON null leaves
    /// the cell null. `name` and `metadata` are used only when the column is created.
    pub(crate) fn set(
        &mut self,
        row: usize,
        key: &ColumnKey,
        value: Value,
        hint: Hint,
        describe: impl FnOnce() -> (String, Vec<(&'static str, String)>),
    ) {
        if value.is_null() {
            return;
        }
        let position = match self.index.get(key) {
            Some(&position) => position,
            None => self.create(key, hint, describe),
        };
        let values = &mut self.columns[position].values;
        if values.len() <= row {
            values.resize(row + 1, None);
        }
        values[row] = Some(value);
    }

    /// Returns whether the cell of `key` at `row` is set.
    pub(crate) fn is_set(&self, row: usize, key: &ColumnKey) -> bool {
        self.index
            .get(key)
            .and_then(|&position| self.columns[position].values.get(row))
            .is_some_and(Option::is_some)
    }

    fn create(
        &mut self,
        key: &ColumnKey,
        hint: Hint,
        describe: impl FnOnce() -> (String, Vec<(&'static str, String)>),
    ) -> usize {
        let (wanted, extra) = describe();

        let mut name = wanted.clone();
        let mut suffix = 2;
        while self.names.contains(&name) {
            name = format!("{wanted}~{suffix}");
            suffix += 1;
        }
        if name != wanted {
            self.issues.push(FormatIssue {
                item: None,
                column: Some(name.clone()),
                message: format!(
                    "two different members map to the column name {wanted:?}: the second is \
                     named {name:?}"
                ),
            });
        }

        let mut metadata = HashMap::new();
        metadata.insert(MEMBER_KEY.to_string(), key.member.clone());
        if let Some(attribute) = &key.attribute {
            metadata.insert(ATTRIBUTE_KEY.to_string(), attribute.clone());
        }
        if let Some(dataset_id) = &key.dataset_id {
            metadata.insert(DATASET_ID_KEY.to_string(), dataset_id.clone());
        }
        for (metadata_key, value) in extra {
            metadata.insert(metadata_key.to_string(), value);
        }
        self.names.insert(name.clone());
        self.columns.push(Column {
            key: key.clone(),
            name,
            values: Vec::new(),
            hint,
            metadata,
        });
        self.index.insert(key.clone(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    /// Adds `entries` to the metadata of the column of `key`, if it exists.
    pub(crate) fn annotate(&mut self, key: &ColumnKey, entries: &[(&str, String)]) {
        if let Some(&position) = self.index.get(key) {
            let metadata = &mut self.columns[position].metadata;
            for (metadata_key, value) in entries {
                metadata.insert((*metadata_key).to_string(), value.clone());
            }
        }
    }

    /// Returns the string that every row contains in the column of `key`, if there is one.
    pub(crate) fn uniform_text(&self, key: &ColumnKey) -> Option<String> {
        let values = &self.columns[*self.index.get(key)?].values;
        if values.len() < self.rows {
            return None;
        }
        let first = values.first()?.as_ref()?.as_str()?;
        values
            .iter()
            .all(|value| value.as_ref().and_then(Value::as_str) == Some(first))
            .then(|| first.to_string())
    }

    /// Sets the hint of the column of `key`, if it exists.
    pub(crate) fn set_hint(&mut self, key: &ColumnKey, hint: Hint) {
        if let Some(&position) = self.index.get(key) {
            self.columns[position].hint = hint;
        }
    }

    /// Folds the member column of `member` into the metadata of the value column of
    /// `value_member` in the same attribute instance, when the member is one constant
    /// exactly where the value is present. The constant goes under the `governance.constant.`
    /// key of the member, and a string constant also under `also` (such as [`UNIT_KEY`](governance_core::semantic::UNIT_KEY)).
    /// Readers restore the member on every present instance, so the fold loses nothing.
    pub(crate) fn fold_constant(&mut self, member: &str, value_member: &str, also: Option<&str>) {
        let candidates: Vec<ColumnKey> = self
            .columns
            .iter()
            .filter(|column| column.key.member == member)
            .map(|column| column.key.clone())
            .collect();
        for key in candidates {
            let target = ColumnKey {
                member: value_member.to_string(),
                ..key.clone()
            };
            let (Some(&source), Some(&target)) = (self.index.get(&key), self.index.get(&target))
            else {
                continue;
            };
            let Some(constant) = uniform_where_present(
                &self.columns[source].values,
                &self.columns[target].values,
                self.rows,
            ) else {
                continue;
            };
            let constant = constant.clone();
            let metadata = &mut self.columns[target].metadata;
            if let (Some(also), Value::String(text)) = (also, &constant) {
                metadata.insert(also.to_string(), text.clone());
            }
            metadata.insert(
                format!("{CONSTANT_KEY_PREFIX}{member}"),
                constant.to_string(),
            );
            self.remove(&key);
        }
    }

    fn remove(&mut self, key: &ColumnKey) {
        let Some(position) = self.index.remove(key) else {
            return;
        };
        let column = self.columns.remove(position);
        self.names.remove(&column.name);
        for slot in self.index.values_mut() {
            if *slot > position {
                *slot -= 1;
            }
        }
    }

    /// Builds the Arrow fields and arrays, inferring each column's type from its values.
    pub(crate) fn build(self) -> Result<(Vec<Field>, Vec<ArrayRef>, Vec<FormatIssue>)> {
        let mut issues = self.issues;
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            let (field, array) = build_column(column, self.rows, &mut issues)?;
            fields.push(field);
            arrays.push(array);
        }
        Ok((fields, arrays, issues))
    }
}

/// Returns the constant that `member` holds in every row where `value` is present, if the
/// member is also absent wherever the value is absent.
fn uniform_where_present<'a>(
    member: &'a [Option<Value>],
    value: &[Option<Value>],
    rows: usize,
) -> Option<&'a Value> {
    let mut constant: Option<&Value> = None;
    for row in 0..rows {
        let present = value.get(row).is_some_and(Option::is_some);
        let cell = member.get(row).and_then(Option::as_ref);
        match (present, cell) {
            (true, Some(cell)) => match constant {
                None => constant = Some(cell),
                Some(seen) if seen == cell => {}
                Some(_) => return None,
            },
            (false, None) => {}
            _ => return None,
        }
    }
    constant
}

/// The Arrow type chosen for a column from the kinds of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Boolean,
    Int64,
    Float64,
    Utf8,
    Timestamp,
    /// NGSI-LD `{"@type": "DateTime", "@value": ...}` literals, as a UTC timestamp.
    DateTimeLiteral,
    /// JSON text in a Utf8 column.
    Json,
}

fn infer_kind(column: &Column, issues: &mut Vec<FormatIssue>) -> Kind {
    let (mut booleans, mut integers, mut floats, mut strings, mut literals, mut structured) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for value in column.values.iter().flatten() {
        match value {
            Value::Bool(_) => booleans += 1,
            Value::Number(number) if number.is_i64() => integers += 1,
            Value::Number(_) => floats += 1,
            Value::String(_) => strings += 1,
            Value::Object(object) if datetime_literal(object).is_some() => literals += 1,
            _ => structured += 1,
        }
    }
    let total = booleans + integers + floats + strings + literals + structured;
    let scalar_kinds = [booleans, integers + floats, strings + literals]
        .iter()
        .filter(|&&count| count > 0)
        .count();
    match () {
        _ if total == 0 => Kind::Utf8,
        _ if booleans == total => Kind::Boolean,
        _ if integers == total => Kind::Int64,
        // NOTE: integers beyond 2^53 lose precision when a column mixes them with fractions.
        _ if integers + floats == total => Kind::Float64,
        _ if literals == total => {
            let all_parse = column
                .values
                .iter()
                .flatten()
                .all(|value| value.as_object().and_then(datetime_literal).is_some());
            if all_parse {
                Kind::DateTimeLiteral
            } else {
                Kind::Json
            }
        }
        _ if strings == total && column.hint == Hint::Time => {
            let failed = column
                .values
                .iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|text| parse_timestamp(text).is_none());
            match failed {
                None => Kind::Timestamp,
                Some(text) => {
                    issues.push(FormatIssue {
                        item: None,
                        column: Some(column.name.clone()),
                        message: format!(
                            "value {text:?} is not an RFC 3339 date-time with an offset, so the \
                             column stays text: give every value an offset such as Z"
                        ),
                    });
                    Kind::Utf8
                }
            }
        }
        _ if strings == total => Kind::Utf8,
        _ => {
            if scalar_kinds > 1 || (structured > 0 && scalar_kinds > 0) {
                issues.push(FormatIssue {
                    item: None,
                    column: Some(column.name.clone()),
                    message: format!(
                        "values of conflicting types ({}): the column holds each value as JSON \
                         text, so nothing is lost, and a cleaning stage can cast it",
                        describe_counts(booleans, integers + floats, strings, structured)
                    ),
                });
            }
            Kind::Json
        }
    }
}

fn describe_counts(booleans: usize, numbers: usize, strings: usize, structured: usize) -> String {
    [
        (booleans, "boolean"),
        (numbers, "number"),
        (strings, "string"),
        (structured, "object or array"),
    ]
    .iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, kind)| format!("{count} {kind}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Returns the milliseconds of an NGSI-LD DateTime literal `{"@type": "DateTime",
/// "@value": "..."}` with no other members.
pub(crate) fn datetime_literal(object: &serde_json::Map<String, Value>) -> Option<i64> {
    if object.len() != 2 || object.get("@type").and_then(Value::as_str) != Some("DateTime") {
        return None;
    }
    object
        .get("@value")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
}

fn build_column(
    column: Column,
    rows: usize,
    issues: &mut Vec<FormatIssue>,
) -> Result<(Field, ArrayRef)> {
    let kind = infer_kind(&column, issues);
    let mut metadata = column.metadata;
    let cells = (0..rows).map(|row| column.values.get(row).and_then(Option::as_ref));
    let (data_type, array): (DataType, ArrayRef) = match kind {
        Kind::Boolean => {
            let mut builder = BooleanBuilder::with_capacity(rows);
            cells.for_each(|cell| builder.append_option(cell.and_then(Value::as_bool)));
            (DataType::Boolean, Arc::new(builder.finish()))
        }
        Kind::Int64 => {
            let mut builder = Int64Builder::with_capacity(rows);
            cells.for_each(|cell| builder.append_option(cell.and_then(Value::as_i64)));
            (DataType::Int64, Arc::new(builder.finish()))
        }
        Kind::Float64 => {
            let mut builder = Float64Builder::with_capacity(rows);
            cells.for_each(|cell| builder.append_option(cell.and_then(Value::as_f64)));
            (DataType::Float64, Arc::new(builder.finish()))
        }
        Kind::Utf8 => {
            let mut builder = StringBuilder::with_capacity(rows, rows * 16);
            cells.for_each(|cell| builder.append_option(cell.and_then(Value::as_str)));
            (DataType::Utf8, Arc::new(builder.finish()))
        }
        Kind::Json => {
            metadata.insert(ENCODING_KEY.to_string(), "json".into());
            let mut builder = StringBuilder::with_capacity(rows, rows * 32);
            cells.for_each(|cell| builder.append_option(cell.map(Value::to_string)));
            (DataType::Utf8, Arc::new(builder.finish()))
        }
        Kind::Timestamp | Kind::DateTimeLiteral => {
            if kind == Kind::DateTimeLiteral {
                metadata.insert(ENCODING_KEY.to_string(), "ngsi-ld-datetime".into());
            }
            let mut builder = TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC");
            for cell in cells {
                let millis = match cell {
                    Some(Value::String(text)) => parse_timestamp(text),
                    Some(Value::Object(object)) => datetime_literal(object),
                    _ => None,
                };
                if cell.is_some() && millis.is_none() {
                    return Err(Error::Internal(format!(
                        "column {:?} was inferred as a timestamp but contains {cell:?}",
                        column.name
                    )));
                }
                builder.append_option(millis);
            }
            (
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                Arc::new(builder.finish()),
            )
        }
    };
    let field = Field::new(column.name, data_type, true).with_metadata(metadata);
    Ok((field, array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;
    use governance_core::semantic::UNIT_KEY;

    fn describe(name: &str) -> impl FnOnce() -> (String, Vec<(&'static str, String)>) + '_ {
        move || (name.to_string(), Vec::new())
    }

    fn build_one(values: Vec<Value>, hint: Hint) -> (Field, ArrayRef, Vec<FormatIssue>) {
        let mut set = ColumnSet::default();
        let key = ColumnKey::item("x");
        for value in values {
            let row = set.push_row();
            set.set(row, &key, value, hint, describe("x"));
        }
        let (mut fields, mut arrays, issues) = set.build().expect("build");
        (fields.remove(0), arrays.remove(0), issues)
    }

    #[test]
    fn integers_and_floats_widen_to_float() {
        let (field, array, issues) = build_one(vec![Value::from(2), Value::from(2.5)], Hint::Text);
        assert_eq!(field.data_type(), &DataType::Float64);
        assert_eq!(array.len(), 2);
        assert!(issues.is_empty());
    }

    #[test]
    fn mixed_scalars_become_json_with_issue() {
        let (field, _, issues) = build_one(vec![Value::from(2), Value::from("two")], Hint::Text);
        assert_eq!(field.data_type(), &DataType::Utf8);
        assert_eq!(
            field.metadata().get(ENCODING_KEY).map(String::as_str),
            Some("json")
        );
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("1 number, 1 string"));
    }

    #[test]
    fn time_hint_falls_back_to_text() {
        let values = vec![
            Value::from("2024-01-01T00:00:00Z"),
            Value::from("yesterday"),
        ];
        let (field, _, issues) = build_one(values, Hint::Time);
        assert_eq!(field.data_type(), &DataType::Utf8);
        assert!(issues[0].message.contains("\"yesterday\""));
    }

    #[test]
    fn missing_cells_are_null() {
        let mut set = ColumnSet::default();
        let key = ColumnKey::item("x");
        set.push_row();
        let row = set.push_row();
        set.set(row, &key, Value::from(true), Hint::Text, describe("x"));
        set.push_row();
        let (_, arrays, _) = set.build().expect("build");
        assert_eq!(arrays[0].len(), 3);
        assert_eq!(arrays[0].null_count(), 2);
    }

    #[test]
    fn constant_unit_folds_into_metadata() {
        let mut set = ColumnSet::default();
        let value = ColumnKey::attribute("t", None, "value");
        let unit = ColumnKey::attribute("t", None, "unitCode");
        for number in [1.5, 2.5] {
            let row = set.push_row();
            set.set(row, &value, Value::from(number), Hint::Text, describe("t"));
            set.set(
                row,
                &unit,
                Value::from("CEL"),
                Hint::Text,
                describe("t.unitCode"),
            );
        }
        set.push_row();
        set.fold_constant("unitCode", "value", Some(UNIT_KEY));
        let (fields, _, _) = set.build().expect("build");
        assert_eq!(fields.len(), 1);
        assert_eq!(
            fields[0].metadata().get(UNIT_KEY).map(String::as_str),
            Some("CEL")
        );
    }

    #[test]
    fn differing_units_stay_a_column() {
        let mut set = ColumnSet::default();
        let value = ColumnKey::attribute("t", None, "value");
        let unit = ColumnKey::attribute("t", None, "unitCode");
        for code in ["CEL", "FAH"] {
            let row = set.push_row();
            set.set(row, &value, Value::from(1.0), Hint::Text, describe("t"));
            set.set(
                row,
                &unit,
                Value::from(code),
                Hint::Text,
                describe("t.unitCode"),
            );
        }
        set.fold_constant("unitCode", "value", Some(UNIT_KEY));
        let (fields, _, _) = set.build().expect("build");
        assert_eq!(fields.len(), 2);
    }
}
