//! The [`Canonicalise`] cleaner: brings columns to one canonical type and form, so that later
//! stages can rely on Float64 readings, trimmed text and a real timestamp column.
//!
//! Values that cannot be read become null and get a `Format` issue with the raw text; the row
//! is always kept. Only conversions that changed more than whitespace (a thousands separator,
//! a unit) get a `Canonicalised` issue, so the issue log stays small on clean data.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, RecordBatch, StringArray,
    TimestampMillisecondBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::NaiveDate;
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::numeric_text::{NumberReader, ParsedNumber};
use crate::support::{ChangeCounts, column_index, text_values};

/// Configuration of [`Canonicalise`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CanonicaliseConfig {
    /// Columns converted to Float64. Text is parsed (see `na_tokens` and `units`), integers,
    /// decimals and Float32 are cast, and Float64 columns are left as they are.
    pub numeric: Vec<String>,
    /// Text columns whose values lose leading and trailing whitespace.
    pub trim: Vec<String>,
    /// Text read as "no value" in numeric columns, compared with the trimmed cell ignoring
    /// ASCII case. Such cells become null without an issue.
    pub na_tokens: Vec<String>,
    /// Unit suffixes dropped after a number in numeric columns, such as `ug/m3`, compared
    /// ignoring ASCII case. A number followed by any other text is a format error.
    pub units: Vec<String>,
    /// How to build a timestamp column from date parts; `None` builds none.
    pub timestamp: Option<TimestampConfig>,
}

impl Default for CanonicaliseConfig {
    fn default() -> Self {
        let strings = |values: &[&str]| values.iter().map(|value| value.to_string()).collect();
        CanonicaliseConfig {
            numeric: Vec::new(),
            trim: Vec::new(),
            na_tokens: strings(&["", "NA", "N/A", "NaN", "null", "none", "-", "--"]),
            units: strings(&[
                "ug/m3", "µg/m3", "μg/m3", "µg/m³", "mg/m3", "ppm", "ppb", "hPa", "mm", "m/s",
                "°C", "degC", "%",
            ]),
            timestamp: None,
        }
    }
}

impl CanonicaliseConfig {
    /// Returns the settings for hourly air-quality station files: pollutant and weather
    /// readings as Float64, `station` and `wd` trimmed, and a `timestamp` column built from
    /// `year`, `month`, `day` and `hour`.
    pub fn hourly_air_quality() -> Self {
        let strings = |values: &[&str]| values.iter().map(|value| value.to_string()).collect();
        CanonicaliseConfig {
            numeric: strings(&[
                "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "WSPM",
            ]),
            trim: strings(&["station", "wd"]),
            timestamp: Some(TimestampConfig::default()),
            ..CanonicaliseConfig::default()
        }
    }
}

/// Settings of the timestamp that [`Canonicalise`] builds from date-part columns.
///
/// The result is a `Timestamp(Millisecond, None)`: naive local time, with no time zone
/// attached. Parts may be integer, float (with no fraction) or text columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimestampConfig {
    /// Column holding the year, such as 2013.
    pub year: String,
    /// Column holding the month, 1 to 12.
    pub month: String,
    /// Column holding the day of the month, from 1.
    pub day: String,
    /// Column holding the hour, 0 to 23; `None` means midnight.
    pub hour: Option<String>,
    /// Name of the output column. An existing column of that name is replaced in place;
    /// otherwise the column is appended.
    pub output: String,
}

impl Default for TimestampConfig {
    fn default() -> Self {
        TimestampConfig {
            year: "year".into(),
            month: "month".into(),
            day: "day".into(),
            hour: Some("hour".into()),
            output: "timestamp".into(),
        }
    }
}

/// Converts configured columns to canonical types: text and integers to Float64, trimmed text,
/// and a timestamp built from date parts. Never removes a row.
#[derive(Debug, Clone)]
pub struct Canonicalise {
    name: String,
    config: CanonicaliseConfig,
    reader: NumberReader,
}

impl Canonicalise {
    /// Creates the stage. Fails when a column is configured for both `numeric` and `trim`, or
    /// when the timestamp output would overwrite one of its own parts.
    pub fn new(config: CanonicaliseConfig) -> Result<Self> {
        const NAME: &str = "canonicalise";
        if let Some(column) = config
            .numeric
            .iter()
            .find(|column| config.trim.contains(column))
        {
            return Err(Error::config(
                NAME,
                format!(
                    "column {column:?} is listed in both `numeric` and `trim`; numeric parsing \
                     already ignores surrounding whitespace, so list it in `numeric` only"
                ),
            ));
        }
        if let Some(timestamp) = &config.timestamp {
            let parts = timestamp_parts(timestamp);
            if parts.contains(&timestamp.output) {
                return Err(Error::config(
                    NAME,
                    format!(
                        "timestamp output {:?} is also one of its date parts; choose another \
                         output name",
                        timestamp.output
                    ),
                ));
            }
        }
        let reader = NumberReader::new(&config.na_tokens, &config.units);
        Ok(Canonicalise {
            name: NAME.into(),
            config,
            reader,
        })
    }

    /// Renames the stage, for chains that hold more than one canonicaliser.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &CanonicaliseConfig {
        &self.config
    }

    /// Converts one column to Float64; text is parsed and logged per cell.
    fn to_numeric(
        &self,
        batch: &GovernedBatch,
        index: usize,
        issues: &mut Vec<Issue>,
        changes: &mut ChangeCounts,
    ) -> Result<ArrayRef> {
        let column = batch.data().column(index);
        let name = batch.data().schema().field(index).name().clone();
        match column.data_type() {
            DataType::Float64 => Ok(Arc::clone(column)),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let text = text_values(column)?;
                Ok(Arc::new(
                    self.parse_text(batch, &name, &text, issues, changes),
                ))
            }
            data_type if data_type.is_numeric() => {
                changes.add(&name, (column.len() - column.null_count()) as u64);
                Ok(cast(column, &DataType::Float64)?)
            }
            other => Err(Error::config(
                &self.name,
                format!(
                    "column {name:?} is {other}; `numeric` accepts text or number columns only, \
                     so remove it from `numeric`"
                ),
            )),
        }
    }

    fn parse_text(
        &self,
        batch: &GovernedBatch,
        column: &str,
        text: &StringArray,
        issues: &mut Vec<Issue>,
        changes: &mut ChangeCounts,
    ) -> Float64Array {
        let mut values = Float64Builder::with_capacity(text.len());
        let mut parsed = 0u64;
        for row in 0..text.len() {
            if text.is_null(row) {
                values.append_null();
                continue;
            }
            let raw = text.value(row);
            let row_id = batch.row_ids().value(row);
            match self.reader.parse(raw) {
                ParsedNumber::Missing => values.append_null(),
                ParsedNumber::Plain(value) => {
                    parsed += 1;
                    values.append_value(value);
                }
                ParsedNumber::Rewritten(value, what) => {
                    parsed += 1;
                    values.append_value(value);
                    issues.push(
                        Issue::cell(
                            row_id,
                            column,
                            IssueKind::Canonicalised,
                            Severity::Info,
                            &self.name,
                            format!("{raw:?} read as {value} ({what})"),
                        )
                        .with_suggested(value.to_string()),
                    );
                }
                ParsedNumber::Invalid => {
                    values.append_null();
                    issues.push(Issue::cell(
                        row_id,
                        column,
                        IssueKind::Format,
                        Severity::Error,
                        &self.name,
                        format!(
                            "{raw:?} is not a number; expected digits with an optional \
                             thousands separator and unit, so the cell was set to null"
                        ),
                    ));
                }
            }
        }
        changes.add(column, parsed);
        values.finish()
    }

    fn trim(
        &self,
        batch: &GovernedBatch,
        index: usize,
        changes: &mut ChangeCounts,
    ) -> Result<ArrayRef> {
        let column = batch.data().column(index);
        let name = batch.data().schema().field(index).name().clone();
        if !matches!(
            column.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Err(Error::config(
                &self.name,
                format!(
                    "column {name:?} is {}; `trim` accepts text columns only, so remove it from \
                     `trim`",
                    column.data_type()
                ),
            ));
        }
        let text = text_values(column)?;
        let mut trimmed_count = 0u64;
        let trimmed: StringArray = text
            .iter()
            .map(|value| {
                value.map(|value| {
                    let trimmed = value.trim();
                    if trimmed.len() != value.len() {
                        trimmed_count += 1;
                    }
                    trimmed
                })
            })
            .collect();
        changes.add(&name, trimmed_count);
        if column.data_type() == &DataType::Utf8 {
            Ok(Arc::new(trimmed))
        } else {
            Ok(cast(&trimmed, column.data_type())?)
        }
    }

    /// Builds the timestamp column; invalid or missing parts give null and a `Format` issue.
    fn timestamp(
        &self,
        batch: &GovernedBatch,
        config: &TimestampConfig,
        issues: &mut Vec<Issue>,
        changes: &mut ChangeCounts,
    ) -> Result<ArrayRef> {
        let names = timestamp_parts(config);
        let mut parts = Vec::with_capacity(names.len());
        for name in &names {
            let index = column_index(batch, &self.name, "timestamp", name)?;
            let column = batch.data().column(index);
            let readable = column.data_type().is_numeric()
                || matches!(
                    column.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                );
            if !readable {
                return Err(Error::config(
                    &self.name,
                    format!(
                        "timestamp part {name:?} is {}; date parts must be number or text columns",
                        column.data_type()
                    ),
                ));
            }
            let values = cast(column, &DataType::Float64)?;
            let values = values
                .as_any()
                .downcast_ref::<Float64Array>()
                .cloned()
                .ok_or_else(|| Error::Internal("cast to Float64 did not return Float64".into()))?;
            parts.push(values);
        }

        let mut output = TimestampMillisecondBuilder::with_capacity(batch.num_rows());
        let mut built = 0u64;
        for row in 0..batch.num_rows() {
            let values: Vec<Option<f64>> = parts
                .iter()
                .map(|part| part.is_valid(row).then(|| part.value(row)))
                .collect();
            match timestamp_millis(&values) {
                Ok(millis) => {
                    built += 1;
                    output.append_value(millis);
                }
                Err(problem) => {
                    output.append_null();
                    let message = match problem {
                        DatePartProblem::Missing(position) => format!(
                            "timestamp not built because date part {:?} is missing",
                            names[position]
                        ),
                        DatePartProblem::Invalid => format!(
                            "timestamp not built because {} is not a valid date and hour",
                            describe_parts(&names, &values)
                        ),
                    };
                    issues.push(Issue::cell(
                        batch.row_ids().value(row),
                        &config.output,
                        IssueKind::Format,
                        Severity::Error,
                        &self.name,
                        message,
                    ));
                }
            }
        }
        changes.add(&config.output, built);
        Ok(Arc::new(output.finish()))
    }
}

/// Reason a timestamp could not be built from its parts.
enum DatePartProblem {
    /// The part at this position is null or not a number.
    Missing(usize),
    /// The parts do not form a real date and hour.
    Invalid,
}

/// Returns the part column names in order: year, month, day and, if set, hour.
fn timestamp_parts(config: &TimestampConfig) -> Vec<String> {
    let mut parts = vec![
        config.year.clone(),
        config.month.clone(),
        config.day.clone(),
    ];
    parts.extend(config.hour.clone());
    parts
}

/// Converts year, month, day and optional hour to milliseconds since 1970-01-01 00:00 of the
/// same naive clock.
fn timestamp_millis(parts: &[Option<f64>]) -> Result<i64, DatePartProblem> {
    let mut whole = Vec::with_capacity(parts.len());
    for (position, part) in parts.iter().enumerate() {
        let value = part.ok_or(DatePartProblem::Missing(position))?;
        if value.fract() != 0.0 || !(-1e6..=1e6).contains(&value) {
            return Err(DatePartProblem::Invalid);
        }
        whole.push(value as i64);
    }
    let year = i32::try_from(whole[0]).map_err(|_| DatePartProblem::Invalid)?;
    let month = u32::try_from(whole[1]).map_err(|_| DatePartProblem::Invalid)?;
    let day = u32::try_from(whole[2]).map_err(|_| DatePartProblem::Invalid)?;
    let hour = match whole.get(3) {
        Some(&hour) => u32::try_from(hour).map_err(|_| DatePartProblem::Invalid)?,
        None => 0,
    };
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(hour, 0, 0))
        .map(|time| time.and_utc().timestamp_millis())
        .ok_or(DatePartProblem::Invalid)
}

fn describe_parts(names: &[String], values: &[Option<f64>]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(name, value)| match value {
            Some(value) => format!("{name}={value}"),
            None => format!("{name}=null"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Stage for Canonicalise {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "canonicalise {} numeric and {} trimmed columns{}",
            self.config.numeric.len(),
            self.config.trim.len(),
            if self.config.timestamp.is_some() {
                ", build a timestamp"
            } else {
                ""
            }
        )
    }
}

impl Cleaner for Canonicalise {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let schema = batch.data().schema();
        let mut fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|field| field.as_ref().clone())
            .collect();
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        let mut issues = Vec::new();
        let mut changes = ChangeCounts::default();

        for name in &self.config.numeric {
            let index = column_index(&batch, &self.name, "numeric", name)?;
            columns[index] = self.to_numeric(&batch, index, &mut issues, &mut changes)?;
            fields[index] = fields[index]
                .clone()
                .with_data_type(DataType::Float64)
                .with_nullable(true);
        }
        for name in &self.config.trim {
            let index = column_index(&batch, &self.name, "trim", name)?;
            columns[index] = self.trim(&batch, index, &mut changes)?;
        }
        if let Some(config) = &self.config.timestamp {
            let timestamps = self.timestamp(&batch, config, &mut issues, &mut changes)?;
            let field = Field::new(
                &config.output,
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            );
            match schema.index_of(&config.output) {
                Ok(index) => {
                    fields[index] = field.with_metadata(fields[index].metadata().clone());
                    columns[index] = timestamps;
                }
                Err(_) => {
                    fields.push(field);
                    columns.push(timestamps);
                }
            }
        }

        let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
        let data = RecordBatch::try_new(Arc::new(schema), columns)?;
        batch.replace_data(data)?;
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        changes.audit(ctx)?;
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, TimestampMillisecondArray};
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{audit_details, batch, context, floats, texts, timestamp_type};

    fn text(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn ints(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    fn numeric_config(columns: &[&str]) -> CanonicaliseConfig {
        CanonicaliseConfig {
            numeric: columns.iter().map(|column| column.to_string()).collect(),
            ..CanonicaliseConfig::default()
        }
    }

    #[test]
    fn text_numbers_become_float() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![(
                "PM2.5",
                text(&[
                    Some("12"),
                    Some(" 13 "),
                    Some("1,234.5"),
                    Some("12 ug/m3"),
                    Some("NA"),
                    None,
                ]),
            )],
            &ids,
        );
        let mut stage = Canonicalise::new(numeric_config(&["PM2.5"])).expect("stage");
        let mut ctx = context("canonicalise");
        let output = stage.clean(input, &mut ctx).expect("clean");

        assert_eq!(
            floats(&output, "PM2.5"),
            vec![Some(12.0), Some(13.0), Some(1234.5), Some(12.0), None, None]
        );
        assert_eq!(
            output.data().schema().field(0).data_type(),
            &DataType::Float64
        );
        // Only the separator and the unit changed the text meaningfully.
        let logged: Vec<(u64, IssueKind)> = output
            .issues
            .issues()
            .iter()
            .map(|issue| (issue.row_id, issue.kind))
            .collect();
        assert_eq!(
            logged,
            vec![(2, IssueKind::Canonicalised), (3, IssueKind::Canonicalised)]
        );
        assert_eq!(
            output.issues.issues()[0].suggested.as_deref(),
            Some("1234.5")
        );
        assert_eq!(audit_details(&ctx), vec!["count=4 PM2.5=4".to_string()]);
    }

    #[test]
    fn unreadable_text_is_nulled_and_kept() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![("CO", text(&[Some("300"), Some("12,5"), Some("lots")]))],
            &ids,
        );
        let mut stage = Canonicalise::new(numeric_config(&["CO"])).expect("stage");
        let output = stage
            .clean(input, &mut context("canonicalise"))
            .expect("clean");

        assert_eq!(output.num_rows(), 3);
        assert_eq!(floats(&output, "CO"), vec![Some(300.0), None, None]);
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|issue| issue.kind == IssueKind::Format));
        assert!(
            issues[0].message.contains("\"12,5\""),
            "{}",
            issues[0].message
        );
        assert!(
            issues[1].message.contains("\"lots\""),
            "{}",
            issues[1].message
        );
    }

    #[test]
    fn integers_are_cast_without_issues() {
        let ids = RowIdAllocator::default();
        let input = batch(vec![("No", ints(&[Some(1), None, Some(3)]))], &ids);
        let mut stage = Canonicalise::new(numeric_config(&["No"])).expect("stage");
        let output = stage
            .clean(input, &mut context("canonicalise"))
            .expect("clean");

        assert_eq!(floats(&output, "No"), vec![Some(1.0), None, Some(3.0)]);
        assert!(output.issues.is_empty());
    }

    #[test]
    fn trim_strips_whitespace_only() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![("station", text(&[Some(" Dongsi "), Some("Tiantan"), None]))],
            &ids,
        );
        let config = CanonicaliseConfig {
            trim: vec!["station".into()],
            ..CanonicaliseConfig::default()
        };
        let mut stage = Canonicalise::new(config).expect("stage");
        let mut ctx = context("canonicalise");
        let output = stage.clean(input, &mut ctx).expect("clean");

        assert_eq!(
            texts(&output, "station"),
            vec![Some("Dongsi".into()), Some("Tiantan".into()), None]
        );
        assert!(output.issues.is_empty());
        assert_eq!(audit_details(&ctx), vec!["count=1 station=1".to_string()]);
    }

    #[test]
    fn timestamp_is_built_from_parts() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![
                (
                    "year",
                    ints(&[Some(2013), Some(2013), Some(2013), Some(2016), Some(2013)]),
                ),
                ("month", ints(&[Some(3), Some(13), Some(4), Some(2), None])),
                (
                    "day",
                    ints(&[Some(1), Some(1), Some(31), Some(29), Some(1)]),
                ),
                (
                    "hour",
                    ints(&[Some(5), Some(0), Some(0), Some(23), Some(0)]),
                ),
            ],
            &ids,
        );
        let config = CanonicaliseConfig {
            timestamp: Some(TimestampConfig::default()),
            ..CanonicaliseConfig::default()
        };
        let mut stage = Canonicalise::new(config).expect("stage");
        let output = stage
            .clean(input, &mut context("canonicalise"))
            .expect("clean");

        let schema = output.data().schema();
        let field = schema
            .field_with_name("timestamp")
            .expect("timestamp field");
        assert_eq!(field.data_type(), &timestamp_type());
        let stamps = output
            .column("timestamp")
            .expect("column")
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .expect("timestamp array")
            .clone();
        // 2013-03-01 05:00 and 2016-02-29 23:00 (a leap day) as naive milliseconds.
        assert_eq!(stamps.value(0), 1_362_114_000_000);
        assert_eq!(stamps.value(3), 1_456_786_800_000);
        for row in [1, 2, 4] {
            assert!(stamps.is_null(row), "row {row} has an invalid date");
        }

        let issues = output.issues.issues();
        assert_eq!(issues.len(), 3);
        assert!(
            issues.iter().all(|issue| issue.kind == IssueKind::Format
                && issue.column.as_deref() == Some("timestamp"))
        );
        assert!(
            issues[0].message.contains("month=13"),
            "{}",
            issues[0].message
        );
        assert!(
            issues[1].message.contains("day=31"),
            "{}",
            issues[1].message
        );
        assert!(
            issues[2].message.contains("\"month\" is missing"),
            "{}",
            issues[2].message
        );
    }

    #[test]
    fn missing_column_lists_columns() {
        let ids = RowIdAllocator::default();
        let input = batch(vec![("PM10", text(&[Some("1")]))], &ids);
        let mut stage = Canonicalise::new(numeric_config(&["PM2.5"])).expect("stage");
        let error = stage
            .clean(input, &mut context("canonicalise"))
            .expect_err("missing column");
        let message = error.to_string();
        assert!(message.contains("\"PM2.5\""), "{message}");
        assert!(message.contains("columns are: PM10"), "{message}");
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let error = serde_json::from_str::<CanonicaliseConfig>(r#"{"numerics": ["PM2.5"]}"#)
            .expect_err("unknown field");
        assert!(error.to_string().contains("numerics"), "{error}");
        let config: CanonicaliseConfig =
            serde_json::from_str(r#"{"numeric": ["PM2.5"], "timestamp": {"hour": null}}"#)
                .expect("valid config");
        assert_eq!(config.timestamp.expect("timestamp").year, "year");
    }

    #[test]
    fn conflicting_settings_are_rejected() {
        let config = CanonicaliseConfig {
            numeric: vec!["CO".into()],
            trim: vec!["CO".into()],
            ..CanonicaliseConfig::default()
        };
        assert!(Canonicalise::new(config).is_err());
        let config = CanonicaliseConfig {
            timestamp: Some(TimestampConfig {
                output: "hour".into(),
                ..TimestampConfig::default()
            }),
            ..CanonicaliseConfig::default()
        };
        assert!(Canonicalise::new(config).is_err());
    }
}
