//! Configuration of [`SqlIndicators`](crate::SqlIndicators): the table the stream is
//! registered as, the columns it keeps, and the indicator queries.

use serde::{Deserialize, Serialize};

use governance_core::{Error, Result};

/// Configuration of [`SqlIndicators`](crate::SqlIndicators).
///
/// ```
/// use governance_analyze::SqlIndicatorsConfig;
///
/// let config: SqlIndicatorsConfig = serde_json::from_str(r#"{
///     "columns": ["station", "NO2"],
///     "indicators": [{
///         "name": "no2_mean",
///         "sql": "SELECT station, avg(\"NO2\") AS value FROM governed GROUP BY station",
///         "value_column": "value",
///         "subject_column": "station",
///         "alert": {"above": 40.0, "message": "mean NO2 above 40 ug/m3"}
///     }]
/// }"#)?;
/// assert_eq!(config.table, "governed");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlIndicatorsConfig {
    /// Stage name, unique within a chain. Default `sql_indicators`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Name the stream is registered under for the queries: lowercase letters, digits and
    /// underscores, starting with a letter or underscore. Default `governed`.
    #[serde(default = "default_table")]
    pub table: String,
    /// Columns kept for the queries. Only these are held in memory until the end of the
    /// stream; empty keeps every column.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The indicators, computed in order.
    pub indicators: Vec<IndicatorSql>,
}

/// One indicator: a SQL query whose every result row becomes a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSql {
    /// Indicator name, used as the findings' name.
    pub name: String,
    /// A read-only query (one SELECT, possibly with a WITH clause) over the table.
    pub sql: String,
    /// Numeric result column holding the indicator value.
    pub value_column: String,
    /// Result column naming what the value is about, such as a station.
    #[serde(default)]
    pub subject_column: Option<String>,
    /// Result column holding the time the value refers to, such as a day.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Rule that turns a value into an additional alert finding.
    #[serde(default)]
    pub alert: Option<AlertRule>,
}

/// When an indicator value raises an alert. At least one bound is required; both bounds
/// together alert outside the band between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Alert when the value is strictly greater than this.
    #[serde(default)]
    pub above: Option<f64>,
    /// Alert when the value is strictly less than this.
    #[serde(default)]
    pub below: Option<f64>,
    /// Meaning of the alert for people, such as the limit and the standard it comes from.
    pub message: String,
}

impl AlertRule {
    /// Returns the bound that `value` crosses, if any. NaN crosses nothing.
    pub fn crossed(&self, value: f64) -> Option<f64> {
        if let Some(above) = self.above
            && value > above
        {
            return Some(above);
        }
        if let Some(below) = self.below
            && value < below
        {
            return Some(below);
        }
        None
    }

    fn validate(&self, component: &str, owner: &str) -> Result<()> {
        if self.above.is_none() && self.below.is_none() {
            return Err(Error::config(
                component,
                format!("alert of {owner} has neither above nor below: set one"),
            ));
        }
        for (bound, value) in [("above", self.above), ("below", self.below)] {
            if let Some(value) = value
                && !value.is_finite()
            {
                return Err(Error::config(
                    component,
                    format!("alert of {owner} has {bound} = {value}: use a finite number"),
                ));
            }
        }
        if let (Some(above), Some(below)) = (self.above, self.below)
            && below >= above
        {
            return Err(Error::config(
                component,
                format!(
                    "alert of {owner} has below = {below} not less than above = {above}, so every value would alert"
                ),
            ));
        }
        Ok(())
    }
}

fn default_name() -> String {
    "sql_indicators".to_string()
}

fn default_table() -> String {
    "governed".to_string()
}

impl SqlIndicatorsConfig {
    /// Creates a config with the default name and table, keeping `columns`.
    pub fn new(columns: Vec<String>, indicators: Vec<IndicatorSql>) -> Self {
        SqlIndicatorsConfig {
            name: default_name(),
            table: default_table(),
            columns,
            indicators,
        }
    }

    /// Checks names, queries and alert rules.
    pub fn validate(&self) -> Result<()> {
        let component = self.name.as_str();
        if component.is_empty() {
            return Err(Error::config(
                "sql_indicators",
                "name is empty: set a stage name",
            ));
        }
        let mut chars = self.table.chars();
        let table_ok = chars
            .next()
            .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !table_ok {
            return Err(Error::config(
                component,
                format!(
                    "table {:?} is not a plain SQL name: use lowercase letters, digits and \
                     underscores, starting with a letter or underscore",
                    self.table
                ),
            ));
        }
        for (position, column) in self.columns.iter().enumerate() {
            if self.columns[..position].contains(column) {
                return Err(Error::config(
                    component,
                    format!("column {column:?} is listed twice in columns"),
                ));
            }
        }
        if self.indicators.is_empty() {
            return Err(Error::config(component, "no indicators: add at least one"));
        }
        for (position, indicator) in self.indicators.iter().enumerate() {
            let owner = format!("indicator {:?}", indicator.name);
            if indicator.name.is_empty() {
                return Err(Error::config(
                    component,
                    format!("indicator {position} has an empty name"),
                ));
            }
            if self.indicators[..position]
                .iter()
                .any(|other| other.name == indicator.name)
            {
                return Err(Error::config(
                    component,
                    format!("two indicators are named {:?}", indicator.name),
                ));
            }
            if indicator.sql.trim().is_empty() {
                return Err(Error::config(component, format!("{owner} has no sql")));
            }
            if indicator.value_column.is_empty() {
                return Err(Error::config(
                    component,
                    format!("{owner} has an empty value_column"),
                ));
            }
            if let Some(alert) = &indicator.alert {
                alert.validate(component, &owner)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(name: &str) -> IndicatorSql {
        IndicatorSql {
            name: name.into(),
            sql: "SELECT 1 AS v".into(),
            value_column: "v".into(),
            subject_column: None,
            time_column: None,
            alert: None,
        }
    }

    #[test]
    fn repeated_indicator_name_is_rejected() {
        let config = SqlIndicatorsConfig::new(Vec::new(), vec![indicator("a"), indicator("a")]);
        let error = config.validate().expect_err("two named a");
        assert!(error.to_string().contains("two indicators are named \"a\""));
    }

    #[test]
    fn quoted_table_name_is_rejected() {
        let mut config = SqlIndicatorsConfig::new(Vec::new(), vec![indicator("a")]);
        config.table = "Governed".into();
        assert!(
            config
                .validate()
                .expect_err("uppercase")
                .to_string()
                .contains("\"Governed\"")
        );
    }

    #[test]
    fn alert_needs_a_bound() {
        let mut entry = indicator("a");
        entry.alert = Some(AlertRule {
            above: None,
            below: None,
            message: "x".into(),
        });
        let config = SqlIndicatorsConfig::new(Vec::new(), vec![entry]);
        assert!(
            config
                .validate()
                .expect_err("no bound")
                .to_string()
                .contains("neither above nor below")
        );
    }

    #[test]
    fn inverted_band_is_rejected() {
        let mut entry = indicator("a");
        entry.alert = Some(AlertRule {
            above: Some(1.0),
            below: Some(5.0),
            message: "x".into(),
        });
        let config = SqlIndicatorsConfig::new(Vec::new(), vec![entry]);
        assert!(config.validate().is_err());
    }

    #[test]
    fn alert_bounds_are_strict() {
        let rule = AlertRule {
            above: Some(75.0),
            below: Some(0.0),
            message: "x".into(),
        };
        assert_eq!(rule.crossed(75.0), None);
        assert_eq!(rule.crossed(75.1), Some(75.0));
        assert_eq!(rule.crossed(-0.1), Some(0.0));
        assert_eq!(rule.crossed(f64::NAN), None);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error =
            serde_json::from_str::<SqlIndicatorsConfig>(r#"{"indicators": [], "tables": "x"}"#)
                .expect_err("unknown field");
        assert!(error.to_string().contains("tables"));
    }
}
