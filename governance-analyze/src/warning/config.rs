//! Configuration of the early-warning analyzer.

use governance_core::{Error, Result, Severity};
use serde::{Deserialize, Serialize};

/// Forecast value compared with the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningTrigger {
    /// The median: warn when a crossing is more likely than not.
    Median,
    /// The upper end of the prediction interval: warn when a crossing is plausible, which
    /// warns earlier and more often.
    #[default]
    Upper,
}

/// Configuration of [`crate::EarlyWarning`].
///
/// ```
/// use governance_analyze::{EarlyWarningConfig, WarningTrigger};
///
/// let config: EarlyWarningConfig = serde_json::from_str(r#"{
///     "rule": "pm25_above_75",
///     "column": "PM2.5",
///     "limit": 75.0,
///     "subject_column": "station",
///     "trigger": "median"
/// }"#)?;
/// assert_eq!(config.time_column, "timestamp");
/// assert_eq!(config.trigger, WarningTrigger::Median);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarningConfig {
    /// Stage name, unique within a chain. Default `early_warning`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Rule name, used as the findings' name, such as `pm25_above_75`.
    pub rule: String,
    /// Numeric column that is forecast, such as `PM2.5`.
    pub column: String,
    /// A warning is raised when the forecast is strictly above this, in the column's unit.
    pub limit: f64,
    /// Column that names the series, such as `station`; `None` treats the stream as one
    /// series named after `column`.
    #[serde(default)]
    pub subject_column: Option<String>,
    /// Time column: a millisecond timestamp or integer milliseconds of a naive local clock,
    /// on whole hours. Default `timestamp`.
    #[serde(default = "default_time_column")]
    pub time_column: String,
    /// Forecast value compared with the limit. Default `upper`.
    #[serde(default)]
    pub trigger: WarningTrigger,
    /// Severity of a warning. Default warning.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Whether a forecast finding is emitted per series and horizon besides the warnings.
    /// Default true.
    #[serde(default = "default_true")]
    pub emit_forecasts: bool,
}

fn default_name() -> String {
    "early_warning".into()
}

fn default_time_column() -> String {
    "timestamp".into()
}

fn default_severity() -> Severity {
    Severity::Warning
}

fn default_true() -> bool {
    true
}

impl EarlyWarningConfig {
    /// Creates a config with the default name, time column, trigger and severity.
    pub fn new(rule: impl Into<String>, column: impl Into<String>, limit: f64) -> Self {
        EarlyWarningConfig {
            name: default_name(),
            rule: rule.into(),
            column: column.into(),
            limit,
            subject_column: None,
            time_column: default_time_column(),
            trigger: WarningTrigger::default(),
            severity: default_severity(),
            emit_forecasts: true,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let component = if self.name.is_empty() {
            "early_warning"
        } else {
            self.name.as_str()
        };
        for (field, value) in [
            ("name", &self.name),
            ("rule", &self.rule),
            ("column", &self.column),
            ("time_column", &self.time_column),
        ] {
            if value.is_empty() {
                return Err(Error::config(
                    component,
                    format!("{field} is empty: set it"),
                ));
            }
        }
        if !self.limit.is_finite() {
            return Err(Error::config(
                component,
                format!("limit is {}: use a finite number", self.limit),
            ));
        }
        Ok(())
    }
}
