//! Threshold alerts: per-row checks of numeric columns against fixed limits, while the
//! stream flows.

use arrow::array::{Array, BooleanArray, Float64Array, StringArray};
use arrow::compute::kernels::cmp::{gt, lt};
use arrow::compute::prep_null_mask_filter;
use governance_core::audit::AuditAction;
use governance_core::{
    Analyzer, Error, Finding, FindingKind, GovernedBatch, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::text::{text_at, to_float, to_text};

/// One threshold rule on a numeric column. At least one bound is required; with both, values
/// outside the band between them alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Rule name, used as the findings' name, such as `pm25_hourly_high`.
    pub name: String,
    /// Numeric column to check.
    pub column: String,
    /// Alert when a value is strictly greater than this.
    #[serde(default)]
    pub above: Option<f64>,
    /// Alert when a value is strictly less than this.
    #[serde(default)]
    pub below: Option<f64>,
    /// Severity of a crossing. Default warning.
    #[serde(default = "default_severity")]
    pub severity: Severity,
}

/// Configuration of [`ThresholdAlerts`].
///
/// ```
/// use governance_analyze::ThresholdAlertsConfig;
///
/// let config: ThresholdAlertsConfig = serde_json::from_str(r#"{
///     "rules": [{"name": "pm25_high", "column": "PM2.5", "above": 250.0, "severity": "error"}],
///     "subject_column": "station",
///     "time_column": "timestamp"
/// }"#)?;
/// assert_eq!(config.max_findings_per_rule, 1000);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdAlertsConfig {
    /// Stage name, unique within a chain. Default `threshold_alerts`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The rules, checked on every row.
    pub rules: Vec<ThresholdRule>,
    /// Column whose value names what a finding is about, such as `station`.
    #[serde(default)]
    pub subject_column: Option<String>,
    /// Column whose value, as text, is the finding's time, such as `timestamp`.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Most alert findings per rule and round; further crossings are counted into one summary
    /// finding at the end of the round. Default 1000.
    #[serde(default = "default_max_findings")]
    pub max_findings_per_rule: usize,
}

fn default_name() -> String {
    "threshold_alerts".to_string()
}

fn default_severity() -> Severity {
    Severity::Warning
}

fn default_max_findings() -> usize {
    1000
}

impl ThresholdAlertsConfig {
    /// Creates a config with the default name and limit and no subject or time column.
    pub fn new(rules: Vec<ThresholdRule>) -> Self {
        ThresholdAlertsConfig {
            name: default_name(),
            rules,
            subject_column: None,
            time_column: None,
            max_findings_per_rule: default_max_findings(),
        }
    }

    fn validate(&self) -> Result<()> {
        let component = self.name.as_str();
        if component.is_empty() {
            return Err(Error::config(
                "threshold_alerts",
                "name is empty: set a stage name",
            ));
        }
        if self.rules.is_empty() {
            return Err(Error::config(component, "no rules: add at least one"));
        }
        for (position, rule) in self.rules.iter().enumerate() {
            if rule.name.is_empty() || rule.column.is_empty() {
                return Err(Error::config(
                    component,
                    format!("rule {position} needs a name and a column"),
                ));
            }
            if self.rules[..position]
                .iter()
                .any(|other| other.name == rule.name)
            {
                return Err(Error::config(
                    component,
                    format!("two rules are named {:?}", rule.name),
                ));
            }
            if rule.above.is_none() && rule.below.is_none() {
                return Err(Error::config(
                    component,
                    format!("rule {:?} has neither above nor below: set one", rule.name),
                ));
            }
            for (bound, value) in [("above", rule.above), ("below", rule.below)] {
                if let Some(value) = value
                    && !value.is_finite()
                {
                    return Err(Error::config(
                        component,
                        format!(
                            "rule {:?} has {bound} = {value}: use a finite number",
                            rule.name
                        ),
                    ));
                }
            }
            if let (Some(above), Some(below)) = (rule.above, rule.below)
                && below >= above
            {
                return Err(Error::config(
                    component,
                    format!(
                        "rule {:?} has below = {below} not less than above = {above}, so every value would alert",
                        rule.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Counts of one rule in the current round.
#[derive(Debug, Clone, Copy, Default)]
struct RuleCounts {
    listed: u64,
    suppressed: u64,
}

/// Checks numeric columns row by row against fixed thresholds, as an [`Analyzer`].
///
/// Each crossing is a `FindingKind::Alert` finding with the row id, the value, the crossed
/// threshold, the subject and the time. NaN and null values never alert. Per rule and round,
/// at most `max_findings_per_rule` crossings are listed; `finish` adds one summary alert per
/// rule with the number left out as its value.
///
/// Each finding carries the rule's severity, which also leads the message, as in
/// `error: PM2.5 = 320 above 250`.
///
/// # Audit
///
/// At `finish`, a `Read` of the stream with the rows checked and the crossings found.
#[derive(Debug)]
pub struct ThresholdAlerts {
    config: ThresholdAlertsConfig,
    counts: Vec<RuleCounts>,
    rows: u64,
}

impl ThresholdAlerts {
    /// Creates the analyzer after checking the config.
    pub fn new(config: ThresholdAlertsConfig) -> Result<Self> {
        config.validate()?;
        Ok(ThresholdAlerts {
            counts: vec![RuleCounts::default(); config.rules.len()],
            config,
            rows: 0,
        })
    }

    /// Returns the config.
    pub fn config(&self) -> &ThresholdAlertsConfig {
        &self.config
    }

    /// Returns the text column named `column`, or `None` when none is configured.
    fn text_column(
        &self,
        batch: &GovernedBatch,
        column: Option<&str>,
        role: &str,
    ) -> Result<Option<StringArray>> {
        let Some(column) = column else {
            return Ok(None);
        };
        let array = batch.column(column)?;
        to_text(array, &format!("{role} {column:?}")).map(Some)
    }
}

/// Returns the rows where `mask` is true; null counts as false.
fn true_rows(mask: &BooleanArray) -> Vec<usize> {
    let mask = if mask.null_count() > 0 {
        prep_null_mask_filter(mask)
    } else {
        mask.clone()
    };
    mask.values().set_indices().collect()
}

impl Stage for ThresholdAlerts {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("threshold alerts, {} rules", self.config.rules.len())
    }
}

impl Analyzer for ThresholdAlerts {
    fn analyze(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<Vec<Finding>> {
        self.rows += batch.num_rows() as u64;
        let mut crossings: Vec<(usize, usize, f64, f64, &'static str)> = Vec::new();
        for (rule_index, rule) in self.config.rules.iter().enumerate() {
            let array = batch.data().column_by_name(&rule.column).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "rule {:?} checks column {:?}, which is not in the batch; the batch has: {}",
                    rule.name,
                    rule.column,
                    batch.column_names().join(", ")
                ))
            })?;
            let values: Float64Array = to_float(
                array,
                &format!("column {:?} of rule {:?}", rule.column, rule.name),
            )?;
            let mut rows: Vec<(usize, f64, &'static str)> = Vec::new();
            if let Some(above) = rule.above {
                let mask = gt(&values, &Float64Array::new_scalar(above))?;
                rows.extend(
                    true_rows(&mask)
                        .into_iter()
                        .map(|row| (row, above, "above")),
                );
            }
            if let Some(below) = rule.below {
                let mask = lt(&values, &Float64Array::new_scalar(below))?;
                rows.extend(
                    true_rows(&mask)
                        .into_iter()
                        .map(|row| (row, below, "below")),
                );
            }
            rows.sort_unstable_by_key(|&(row, _, _)| row);
            for (row, threshold, relation) in rows {
                let value = values.value(row);
                // Arrow orders NaN above every number, so the kernel flags it; it is no reading.
                if !value.is_nan() {
                    crossings.push((rule_index, row, value, threshold, relation));
                }
            }
        }
        if crossings.is_empty() {
            return Ok(Vec::new());
        }

        let subjects = self.text_column(
            batch,
            self.config.subject_column.as_deref(),
            "subject_column",
        )?;
        let times = self.text_column(batch, self.config.time_column.as_deref(), "time_column")?;
        let max = self.config.max_findings_per_rule as u64;
        let mut findings = Vec::new();
        for (rule_index, row, value, threshold, relation) in crossings {
            let counts = &mut self.counts[rule_index];
            if counts.listed >= max {
                counts.suppressed += 1;
                continue;
            }
            counts.listed += 1;
            let rule = &self.config.rules[rule_index];
            let subject = text_at(subjects.as_ref(), row);
            let time = text_at(times.as_ref(), row);
            let mut message = format!(
                "{}: {} = {value} {relation} {threshold}",
                rule.severity.as_str(),
                rule.column
            );
            if let Some(subject) = &subject {
                message.push_str(&format!(" for {subject}"));
            }
            if let Some(time) = &time {
                message.push_str(&format!(" at {time}"));
            }
            let mut finding =
                Finding::new(FindingKind::Alert, &rule.name, &self.config.name, message);
            finding.value = Some(value);
            finding.threshold = Some(threshold);
            finding.subject = subject;
            finding.time = time;
            finding.row_ids = vec![batch.row_ids().value(row)];
            finding.severity = Some(rule.severity);
            findings.push(finding);
        }
        Ok(findings)
    }

    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let counts = std::mem::replace(
            &mut self.counts,
            vec![RuleCounts::default(); self.config.rules.len()],
        );
        let rows = std::mem::take(&mut self.rows);
        let listed: u64 = counts.iter().map(|counts| counts.listed).sum();
        let suppressed: u64 = counts.iter().map(|counts| counts.suppressed).sum();
        ctx.audit(
            AuditAction::Read,
            "stream",
            &format!(
                "rows={rows} rules={} alerts={listed} not_listed={suppressed}",
                self.config.rules.len()
            ),
        )?;
        let findings = self
            .config
            .rules
            .iter()
            .zip(counts)
            .filter(|(_, counts)| counts.suppressed > 0)
            .map(|(rule, counts)| {
                let message = format!(
                    "{}: {} more crossings of rule {:?} not listed, beyond max_findings_per_rule = {}",
                    rule.severity.as_str(),
                    counts.suppressed,
                    rule.name,
                    self.config.max_findings_per_rule
                );
                let mut finding = Finding::new(FindingKind::Alert, &rule.name, &self.config.name, message);
                finding.value = Some(counts.suppressed as f64);
                finding.severity = Some(rule.severity);
                finding
            })
            .collect();
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(above: Option<f64>, below: Option<f64>) -> ThresholdRule {
        ThresholdRule {
            name: "r".into(),
            column: "v".into(),
            above,
            below,
            severity: Severity::Warning,
        }
    }

    #[test]
    fn rule_without_bound_is_rejected() {
        let error = ThresholdAlerts::new(ThresholdAlertsConfig::new(vec![rule(None, None)]))
            .expect_err("no bound");
        assert!(error.to_string().contains("neither above nor below"));
    }

    #[test]
    fn infinite_bound_is_rejected() {
        let error = ThresholdAlerts::new(ThresholdAlertsConfig::new(vec![rule(
            Some(f64::INFINITY),
            None,
        )]))
        .expect_err("infinite");
        assert!(error.to_string().contains("finite"));
    }

    #[test]
    fn empty_rules_are_rejected() {
        assert!(ThresholdAlerts::new(ThresholdAlertsConfig::new(Vec::new())).is_err());
    }

    #[test]
    fn null_mask_entries_count_as_false() {
        let mask = BooleanArray::from(vec![Some(true), None, Some(false), Some(true)]);
        assert_eq!(true_rows(&mask), vec![0, 3]);
    }
}
