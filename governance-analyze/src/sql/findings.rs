//! Turns the result rows of an indicator query into findings.

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use governance_core::{Error, Finding, FindingKind, Result};

use super::config::IndicatorSql;
use crate::text::{text_at, to_float, to_text};

/// Returns one indicator finding per result row and one alert finding per row whose value
/// crosses the indicator's alert rule. `analyzer` is the stage name.
pub(crate) fn findings_from_result(
    indicator: &IndicatorSql,
    analyzer: &str,
    result: &RecordBatch,
) -> Result<Vec<Finding>> {
    let values = result_column(
        indicator,
        analyzer,
        result,
        &indicator.value_column,
        "value_column",
    )?;
    let values = to_float(
        values,
        &format!(
            "value_column {:?} of indicator {:?}",
            indicator.value_column, indicator.name
        ),
    )?;
    let subjects = optional_text(
        indicator,
        analyzer,
        result,
        indicator.subject_column.as_deref(),
        "subject_column",
    )?;
    let times = optional_text(
        indicator,
        analyzer,
        result,
        indicator.time_column.as_deref(),
        "time_column",
    )?;

    let mut findings = Vec::with_capacity(result.num_rows());
    for row in 0..result.num_rows() {
        let value = values.is_valid(row).then(|| values.value(row));
        let subject = text_at(subjects.as_ref(), row);
        let time = text_at(times.as_ref(), row);
        let place = place_text(subject.as_deref(), time.as_deref());

        let message = match value {
            Some(value) => format!("{} = {value}{place}", indicator.name),
            None => format!("{} has no value{place}", indicator.name),
        };
        let mut finding = Finding::new(FindingKind::Indicator, &indicator.name, analyzer, message);
        finding.value = value;
        finding.subject.clone_from(&subject);
        finding.time.clone_from(&time);

        let crossed = indicator
            .alert
            .as_ref()
            .zip(value)
            .and_then(|(rule, value)| {
                rule.crossed(value)
                    .map(|threshold| (rule, value, threshold))
            });
        findings.push(finding);
        if let Some((rule, value, threshold)) = crossed {
            let relation = if value > threshold { "above" } else { "below" };
            let message = format!(
                "{}: {} = {value} {relation} {threshold}{place}",
                rule.message, indicator.name
            );
            let mut alert = Finding::new(FindingKind::Alert, &indicator.name, analyzer, message);
            alert.value = Some(value);
            alert.threshold = Some(threshold);
            alert.subject = subject;
            alert.time = time;
            findings.push(alert);
        }
    }
    Ok(findings)
}

/// Returns ` for SUBJECT on TIME`, with the parts that are present.
fn place_text(subject: Option<&str>, time: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(subject) = subject {
        text.push_str(" for ");
        text.push_str(subject);
    }
    if let Some(time) = time {
        text.push_str(" at ");
        text.push_str(time);
    }
    text
}

fn optional_text(
    indicator: &IndicatorSql,
    analyzer: &str,
    result: &RecordBatch,
    column: Option<&str>,
    role: &str,
) -> Result<Option<StringArray>> {
    let Some(column) = column else {
        return Ok(None);
    };
    let array = result_column(indicator, analyzer, result, column, role)?;
    to_text(
        array,
        &format!("{role} {column:?} of indicator {:?}", indicator.name),
    )
    .map(Some)
}

fn result_column<'a>(
    indicator: &IndicatorSql,
    analyzer: &str,
    result: &'a RecordBatch,
    column: &str,
    role: &str,
) -> Result<&'a ArrayRef> {
    result.column_by_name(column).ok_or_else(|| {
        let names: Vec<&str> = result
            .schema_ref()
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        Error::config(
            analyzer,
            format!(
                "{role} {column:?} of indicator {:?} is not a column of its query result; the \
                 result columns are: {} (name the column with AS in the query)",
                indicator.name,
                names.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    use crate::sql::config::AlertRule;

    fn indicator(alert: Option<AlertRule>) -> IndicatorSql {
        IndicatorSql {
            name: "pm25".into(),
            sql: String::new(),
            value_column: "value".into(),
            subject_column: Some("station".into()),
            time_column: None,
            alert,
        }
    }

    fn result() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("station", DataType::Int64, true),
            Field::new("value", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![Some(80.0), Some(20.0), None])),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn each_row_becomes_a_finding() {
        let findings = findings_from_result(&indicator(None), "sql", &result()).expect("findings");
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0].subject.as_deref(), Some("1"));
        assert_eq!(findings[1].value, Some(20.0));
        assert_eq!(findings[2].value, None);
        assert!(
            findings
                .iter()
                .all(|finding| finding.kind == FindingKind::Indicator)
        );
    }

    #[test]
    fn crossing_row_adds_an_alert() {
        let rule = AlertRule {
            above: Some(75.0),
            below: None,
            message: "over the limit".into(),
        };
        let findings =
            findings_from_result(&indicator(Some(rule)), "sql", &result()).expect("findings");
        let alerts: Vec<&Finding> = findings
            .iter()
            .filter(|finding| finding.kind == FindingKind::Alert)
            .collect();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].threshold, Some(75.0));
        assert_eq!(alerts[0].subject.as_deref(), Some("1"));
        assert!(
            alerts[0].message.starts_with("over the limit"),
            "{}",
            alerts[0].message
        );
    }

    #[test]
    fn missing_value_column_lists_result_columns() {
        let mut entry = indicator(None);
        entry.value_column = "mean".into();
        let error = findings_from_result(&entry, "sql", &result()).expect_err("no mean column");
        let message = error.to_string();
        assert!(message.contains("\"mean\""), "{message}");
        assert!(message.contains("station, value"), "{message}");
    }
}
