//! [`SourceValidationConfig`]: what the source validator checks, read with serde.

use std::collections::HashSet;

use governance_core::standard::StandardRegistry;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Component name in configuration errors.
pub(crate) const COMPONENT: &str = "source validation";

/// Checks of the source validator on each batch (see the [module docs](super)).
///
/// ```
/// use governance_collect::recollect::SourceValidationConfig;
///
/// let config: SourceValidationConfig = serde_json::from_str(
///     r#"{"time_column": "observedAt", "key_columns": ["sensor"],
///         "expected_interval_ms": 60000,
///         "ranges": [{"column": "pm25", "min": 0.0, "max": 1000.0}]}"#,
/// )?;
/// config.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceValidationConfig {
    /// Column with each row's observation time: an Arrow timestamp or date, or RFC 3339
    /// text such as `2024-05-01T10:00:00Z`.
    pub time_column: String,
    /// Columns whose values name a series, such as a station id. Empty means that all rows
    /// form one series.
    pub key_columns: Vec<String>,
    /// Expected time between two rows of a series, in milliseconds. No gap check when
    /// absent.
    pub expected_interval_ms: Option<u64>,
    /// Time beyond the expected interval before a gap counts, in milliseconds; half the
    /// interval when absent.
    pub tolerance_ms: Option<u64>,
    /// Valid ranges of numeric columns. A value outside, NaN or infinite is impossible.
    pub ranges: Vec<ColumnRange>,
    /// Name of a model in the built-in standard registry, such as `AirQualityObserved`.
    /// A column named like one of its attributes or an alias (case-insensitive) is checked
    /// against that attribute's range, unless `ranges` names the column.
    pub standard_model: Option<String>,
    /// Series whose last time is kept; beyond it the least recently seen series is dropped.
    pub max_series: usize,
    /// Re-collection requests remembered, so that an issue found again after its range was
    /// requested is reported as unresolved and not requested again.
    pub max_remembered_requests: usize,
}

impl Default for SourceValidationConfig {
    fn default() -> Self {
        SourceValidationConfig {
            time_column: String::new(),
            key_columns: Vec::new(),
            expected_interval_ms: None,
            tolerance_ms: None,
            ranges: Vec::new(),
            standard_model: None,
            max_series: 100_000,
            max_remembered_requests: 10_000,
        }
    }
}

/// The valid range of one numeric column; either bound may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRange {
    /// Column name as it appears in the batches.
    pub column: String,
    /// Smallest valid value, inclusive.
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest valid value, inclusive.
    #[serde(default)]
    pub max: Option<f64>,
}

impl ColumnRange {
    /// Returns whether `value` is finite and within the bounds.
    pub fn contains(&self, value: f64) -> bool {
        value.is_finite()
            && self.min.is_none_or(|min| value >= min)
            && self.max.is_none_or(|max| value <= max)
    }
}

impl SourceValidationConfig {
    /// Checks the config; the error names the field and how to fix it.
    pub fn validate(&self) -> Result<()> {
        let fail = |message: String| Err(Error::config(COMPONENT, message));
        if self.time_column.trim().is_empty() {
            return fail(
                "`time_column` is empty: name the column with each row's observation time".into(),
            );
        }

        if self.expected_interval_ms.is_none()
            && self.ranges.is_empty()
            && self.standard_model.is_none()
        {
            return fail(
                "nothing to check: set `expected_interval_ms` for the gap check, or `ranges` or \
                 `standard_model` for impossible values"
                    .into(),
            );
        }

        if self.expected_interval_ms == Some(0) {
            return fail(
                "`expected_interval_ms` is 0: set the source's reporting interval in \
                 milliseconds, or leave it out to skip the gap check"
                    .into(),
            );
        }

        if self.tolerance_ms.is_some() && self.expected_interval_ms.is_none() {
            return fail(
                "`tolerance_ms` is set without `expected_interval_ms`: set the interval too, or \
                 remove the tolerance"
                    .into(),
            );
        }

        let mut keys = HashSet::new();
        for (index, key) in self.key_columns.iter().enumerate() {
            if key.trim().is_empty() {
                return fail(format!(
                    "`key_columns[{index}]` is empty: name a column, or remove the entry"
                ));
            }
            if !keys.insert(key.as_str()) {
                return fail(format!(
                    "`key_columns` names {key:?} twice: remove one of them"
                ));
            }
        }

        let mut columns = HashSet::new();
        for (index, range) in self.ranges.iter().enumerate() {
            validate_range(index, range)?;
            if !columns.insert(range.column.as_str()) {
                return fail(format!(
                    "`ranges` names column {:?} twice: merge the two ranges into one",
                    range.column
                ));
            }
        }

        if let Some(model) = &self.standard_model {
            let registry = StandardRegistry::builtin();
            if registry.get(model).is_err() {
                let known: Vec<&str> = registry.names().collect();
                return fail(format!(
                    "`standard_model` {model:?} is not in the built-in registry: use one of {}",
                    known.join(", ")
                ));
            }
        }

        if self.max_series == 0 {
            return fail(
                "`max_series` is 0: set how many series the gap check keeps, such as 100000".into(),
            );
        }

        if self.max_remembered_requests == 0 {
            return fail(
                "`max_remembered_requests` is 0: set how many requests to remember, such as 10000"
                    .into(),
            );
        }
        Ok(())
    }

    /// Returns the largest step between two rows of a series that is not a gap, in
    /// milliseconds, or `None` when the gap check is off.
    pub fn max_step_ms(&self) -> Option<u64> {
        let interval = self.expected_interval_ms?;
        let tolerance = self.tolerance_ms.unwrap_or(interval / 2);
        Some(interval.saturating_add(tolerance))
    }
}

fn validate_range(index: usize, range: &ColumnRange) -> Result<()> {
    let fail = |message: String| Err(Error::config(COMPONENT, message));
    if range.column.trim().is_empty() {
        return fail(format!(
            "`ranges[{index}].column` is empty: name the column the range applies to"
        ));
    }
    if range.min.is_none() && range.max.is_none() {
        return fail(format!(
            "`ranges[{index}]` for {:?} has neither `min` nor `max`: set at least one bound",
            range.column
        ));
    }
    for (field, bound) in [("min", range.min), ("max", range.max)] {
        if let Some(value) = bound
            && !value.is_finite()
        {
            return fail(format!(
                "`ranges[{index}].{field}` for {:?} is {value}: use a finite number, or leave \
                 the bound out",
                range.column
            ));
        }
    }
    if let (Some(min), Some(max)) = (range.min, range.max)
        && min > max
    {
        return fail(format!(
            "`ranges[{index}]` for {:?} has `min` {min} above `max` {max}: swap the bounds",
            range.column
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SourceValidationConfig {
        SourceValidationConfig {
            time_column: "time".into(),
            expected_interval_ms: Some(60_000),
            ..SourceValidationConfig::default()
        }
    }

    fn message(config: &SourceValidationConfig) -> String {
        config.validate().expect_err("invalid config").to_string()
    }

    #[test]
    fn valid_config_passes() {
        base().validate().expect("valid");
    }

    #[test]
    fn empty_time_column_is_rejected() {
        let config = SourceValidationConfig {
            time_column: " ".into(),
            ..base()
        };
        assert!(message(&config).contains("`time_column` is empty"));
    }

    #[test]
    fn config_without_checks_is_rejected() {
        let config = SourceValidationConfig {
            expected_interval_ms: None,
            ..base()
        };
        assert!(message(&config).contains("nothing to check"));
    }

    #[test]
    fn zero_interval_is_rejected() {
        let config = SourceValidationConfig {
            expected_interval_ms: Some(0),
            ..base()
        };
        assert!(message(&config).contains("`expected_interval_ms` is 0"));
    }

    #[test]
    fn tolerance_without_interval_is_rejected() {
        let config = SourceValidationConfig {
            expected_interval_ms: None,
            tolerance_ms: Some(5),
            standard_model: Some("AirQualityObserved".into()),
            ..base()
        };
        assert!(message(&config).contains("`tolerance_ms` is set without"));
    }

    #[test]
    fn swapped_bounds_are_rejected() {
        let config = SourceValidationConfig {
            ranges: vec![ColumnRange {
                column: "pm25".into(),
                min: Some(10.0),
                max: Some(1.0),
            }],
            ..base()
        };
        let text = message(&config);
        assert!(text.contains("`ranges[0]`"), "{text}");
        assert!(text.contains("swap the bounds"), "{text}");
    }

    #[test]
    fn range_without_bounds_is_rejected() {
        let config = SourceValidationConfig {
            ranges: vec![ColumnRange {
                column: "pm25".into(),
                min: None,
                max: None,
            }],
            ..base()
        };
        assert!(message(&config).contains("neither `min` nor `max`"));
    }

    #[test]
    fn infinite_bound_is_rejected() {
        let config = SourceValidationConfig {
            ranges: vec![ColumnRange {
                column: "pm25".into(),
                min: Some(f64::NEG_INFINITY),
                max: None,
            }],
            ..base()
        };
        assert!(message(&config).contains("`ranges[0].min`"));
    }

    #[test]
    fn duplicate_range_column_is_rejected() {
        let range = ColumnRange {
            column: "pm25".into(),
            min: Some(0.0),
            max: None,
        };
        let config = SourceValidationConfig {
            ranges: vec![range.clone(), range],
            ..base()
        };
        assert!(message(&config).contains("twice"));
    }

    #[test]
    fn unknown_standard_model_is_rejected() {
        let config = SourceValidationConfig {
            standard_model: Some("NoSuchModel".into()),
            ..base()
        };
        let text = message(&config);
        assert!(text.contains("\"NoSuchModel\""), "{text}");
        assert!(text.contains("AirQualityObserved"), "{text}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = serde_json::from_str::<SourceValidationConfig>(
            r#"{"time_column": "t", "interval_ms": 5}"#,
        )
        .expect_err("unknown field");
        assert!(error.to_string().contains("interval_ms"), "{error}");
    }

    #[test]
    fn default_tolerance_is_half_interval() {
        assert_eq!(base().max_step_ms(), Some(90_000));
    }
}
