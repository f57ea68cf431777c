//! [`PollAlertAnalyzer`], a wrapper around an analyzer that keeps an HTTP poll collector's
//! alert active while findings of chosen kinds keep coming. The poll rate therefore rises
//! during an early warning, anomaly or threshold alert, and falls back after a quiet period.

use std::time::Duration;

use governance_core::{
    Adjustment, Analyzer, Error, Feedback, Finding, FindingKind, GovernedBatch, Result, Severity,
    Stage, StageContext,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::PollControl;

/// Findings shown by name in a `poll_alert_raised` lineage event at most.
const MAX_NAMED_FINDINGS: usize = 10;

/// Settings of a [`PollAlertAnalyzer`]: the findings that raise the alert and how long it
/// stays after the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollAlertConfig {
    /// Finding kinds that raise the alert.
    pub kinds: Vec<FindingKind>,
    /// Lowest severity that raises the alert; a finding without a severity counts as
    /// passing. Every severity counts when absent.
    pub min_severity: Option<Severity>,
    /// Time after the last raising finding until the alert clears, in milliseconds.
    pub quiet_period_ms: u64,
}

impl Default for PollAlertConfig {
    fn default() -> Self {
        PollAlertConfig {
            kinds: vec![
                FindingKind::Alert,
                FindingKind::Anomaly,
                FindingKind::Warning,
            ],
            min_severity: None,
            quiet_period_ms: 15 * 60 * 1000,
        }
    }
}

impl PollAlertConfig {
    /// Checks the config; the error names the field and how to fix it.
    pub fn validate(&self, stage: &str) -> Result<()> {
        if self.kinds.is_empty() {
            return Err(Error::config(
                stage,
                "poll alert: `kinds` is empty: list the finding kinds that raise the alert, such \
                 as [\"alert\", \"anomaly\", \"warning\"]",
            ));
        }
        if self.quiet_period_ms == 0 {
            return Err(Error::config(
                stage,
                "poll alert: `quiet_period_ms` is 0: set how long the alert stays after the last \
                 finding, in milliseconds",
            ));
        }
        Ok(())
    }

    /// Returns whether `finding` raises the alert.
    pub fn raises(&self, finding: &Finding) -> bool {
        self.kinds.contains(&finding.kind)
            && match (self.min_severity, finding.severity) {
                (Some(min), Some(severity)) => severity >= min,
                _ => true,
            }
    }
}

/// An analyzer that passes its inner analyzer's findings on unchanged and keeps the alert
/// of a [`PollControl`] active for the quiet period after each raising finding.
///
/// The HTTP collector switches its interval when the alert is raised or cleared, and
/// records each switch as a `poll_interval_changed` lineage event. This analyzer records a
/// `poll_alert_raised` event when its findings raise an alert that was not active.
///
/// NOTE: the alert is held from the time the analyzer sees a finding, not from the
/// finding's own time, so a replay of old data raises it as well.
#[derive(Debug)]
pub struct PollAlertAnalyzer<A> {
    inner: A,
    control: PollControl,
    config: PollAlertConfig,
    raised: u64,
}

impl<A: Analyzer> PollAlertAnalyzer<A> {
    /// Wraps `inner`; fails when `config` is invalid.
    pub fn new(inner: A, control: PollControl, config: PollAlertConfig) -> Result<Self> {
        config.validate(inner.name())?;
        Ok(PollAlertAnalyzer {
            inner,
            control,
            config,
            raised: 0,
        })
    }

    /// Returns the wrapped analyzer.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Returns how many times the findings raised an inactive alert.
    pub fn raised(&self) -> u64 {
        self.raised
    }

    fn observe(&mut self, findings: &[Finding], ctx: &mut StageContext) -> Result<()> {
        let raising: Vec<&Finding> = findings
            .iter()
            .filter(|finding| self.config.raises(finding))
            .collect();
        if raising.is_empty() {
            return Ok(());
        }
        let was_active = self.control.alert_active();
        self.control
            .hold_alert(Duration::from_millis(self.config.quiet_period_ms))?;
        if was_active {
            return Ok(());
        }
        self.raised += 1;
        let named: Vec<Value> = raising
            .iter()
            .take(MAX_NAMED_FINDINGS)
            .map(|finding| {
                json!({
                    "kind": finding.kind,
                    "name": finding.name,
                    "subject": finding.subject,
                    "time": finding.time,
                })
            })
            .collect();
        tracing::info!(stage = %self.inner.name(), findings = raising.len(), quiet_period_ms = self.config.quiet_period_ms, "poll alert raised");
        ctx.record_event(
            "poll_alert_raised",
            json!({
                "findings": raising.len(),
                "first_findings": named,
                "quiet_period_ms": self.config.quiet_period_ms,
            }),
        );
        Ok(())
    }
}

impl<A: Analyzer> Stage for PollAlertAnalyzer<A> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn version(&self) -> String {
        self.inner.version()
    }

    fn params(&self) -> Value {
        json!({"analyzer": self.inner.params(), "poll_alert": self.config})
    }

    fn describe(&self) -> String {
        format!(
            "{}, raising the poll alert for {} ms after each finding",
            self.inner.describe(),
            self.config.quiet_period_ms
        )
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        self.inner.learn(feedback)
    }
}

impl<A: Analyzer> Analyzer for PollAlertAnalyzer<A> {
    fn analyze(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let findings = self.inner.analyze(batch, ctx)?;
        self.observe(&findings, ctx)?;
        Ok(findings)
    }

    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let findings = self.inner.finish(ctx)?;
        self.observe(&findings, ctx)?;
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, severity: Option<Severity>) -> Finding {
        let mut finding = Finding::new(kind, "pm25", "threshold", "above the limit");
        finding.severity = severity;
        finding
    }

    #[test]
    fn indicator_does_not_raise() {
        let config = PollAlertConfig::default();
        assert!(!config.raises(&finding(FindingKind::Indicator, None)));
        assert!(config.raises(&finding(FindingKind::Warning, None)));
    }

    #[test]
    fn low_severity_does_not_raise() {
        let config = PollAlertConfig {
            min_severity: Some(Severity::Error),
            ..PollAlertConfig::default()
        };
        assert!(!config.raises(&finding(FindingKind::Alert, Some(Severity::Warning))));
        assert!(config.raises(&finding(FindingKind::Alert, Some(Severity::Error))));
    }

    #[test]
    fn empty_kinds_are_rejected() {
        let config = PollAlertConfig {
            kinds: Vec::new(),
            ..PollAlertConfig::default()
        };
        let error = config.validate("alerts").expect_err("empty kinds");
        assert!(error.to_string().contains("`kinds` is empty"), "{error}");
    }

    #[test]
    fn zero_quiet_period_is_rejected() {
        let config = PollAlertConfig {
            quiet_period_ms: 0,
            ..PollAlertConfig::default()
        };
        let error = config.validate("alerts").expect_err("zero quiet period");
        assert!(
            error.to_string().contains("`quiet_period_ms` is 0"),
            "{error}"
        );
    }
}
