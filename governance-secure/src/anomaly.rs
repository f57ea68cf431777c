//! Detection of unusual data access, per subject, from the audit log or from access events.
//!
//! The [`AccessMonitor`] keeps a baseline per subject of three things: the volume read (rows
//! per access), the columns read, and the hour of day. A new access is scored against the
//! subject's baseline on each of the three, and each score is scaled so that 1.0 is the alert
//! threshold:
//!
//! - volume: the robust z-score of `ln(1 + rows)` against the median and MAD of the
//!   subject's recent accesses, divided by [`AccessMonitorConfig::volume_z`].
//! - columns: the share of the columns read that the subject never read before, divided by
//!   [`AccessMonitorConfig::new_column_share`].
//! - hour: how rare the hour is in the subject's history (with the neighbouring hours counted
//!   at half weight), against [`AccessMonitorConfig::rare_hour_share`].
//!
//! The alert's score is the highest of the three, and its reasons explain each score of 1.0
//! or more. Subjects with fewer than [`AccessMonitorConfig::min_history`] accesses are not
//! scored yet. Accesses that raise an alert do not enter the baseline, so an intruder cannot
//! teach the monitor that bulk reads are normal.
//!
//! [`AccessMonitor::tighten`] puts a subject on hold: [`AccessMonitor::restrict`] then adds a
//! deny rule for that subject's reads of sensitive and secret columns to a policy, until
//! [`AccessMonitor::release`] after a review. Both are written to the audit log.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use governance_core::audit::{AccessDetails, AuditAction, AuditDecision, AuditLog, AuditRecord};
use governance_core::{Error, Result, Sensitivity};
use serde::{Deserialize, Serialize};

use crate::policy::{AccessPolicy, PolicyRule};

/// Actor name of the monitor's audit records.
pub const MONITOR_ACTOR: &str = "access_monitor";

/// Prefix of the ids of the deny rules that hold a subject.
pub const HOLD_RULE_PREFIX: &str = "anomaly-hold:";

/// One access by one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// The subject's id.
    pub subject: String,
    /// Time of the access in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Data set read.
    pub dataset: String,
    /// Columns read.
    pub columns: Vec<String>,
    /// Rows read.
    pub rows: u64,
}

impl AccessEvent {
    /// Builds the event of a share record with access details, such as the guard writes for
    /// each batch it hands out. Returns `None` for other records.
    pub fn from_record(record: &AuditRecord) -> Option<Self> {
        let access = record.access.as_ref()?;
        if record.action != AuditAction::Share {
            return None;
        }
        Some(AccessEvent {
            subject: access.subject.clone(),
            time_ms: record.time_ms,
            dataset: access.dataset.clone(),
            columns: access.columns.clone(),
            rows: access.rows,
        })
    }
}

/// Settings of an [`AccessMonitor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessMonitorConfig {
    /// Accesses a subject needs before its accesses are scored. Default 20.
    pub min_history: usize,
    /// Recent accesses per subject kept for the volume baseline. Default 500.
    pub volume_window: usize,
    /// Robust z-score of the volume that raises an alert. Default 4.
    pub volume_z: f64,
    /// Share of never-read columns in one access that raises an alert. Default 0.5.
    pub new_column_share: f64,
    /// An hour whose share of the subject's history (neighbours at half weight) is below this
    /// raises an alert. Default 0.01.
    pub rare_hour_share: f64,
    /// Offset of local time from UTC in minutes, for the hour of day. Default 0.
    pub utc_offset_minutes: i32,
}

impl Default for AccessMonitorConfig {
    fn default() -> Self {
        AccessMonitorConfig {
            min_history: 20,
            volume_window: 500,
            volume_z: 4.0,
            new_column_share: 0.5,
            rare_hour_share: 0.01,
            utc_offset_minutes: 0,
        }
    }
}

impl AccessMonitorConfig {
    fn validate(&self) -> Result<()> {
        let positive = [
            ("volume_z", self.volume_z),
            ("new_column_share", self.new_column_share),
            ("rare_hour_share", self.rare_hour_share),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::config(
                    "access monitor",
                    format!("{name} is {value}; give a finite number above 0"),
                ));
            }
        }
        if self.volume_window < 2 {
            return Err(Error::config(
                "access monitor",
                format!(
                    "volume_window is {}; keep at least 2 accesses, such as 500",
                    self.volume_window
                ),
            ));
        }
        Ok(())
    }
}

/// An unusual access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessAlert {
    /// The subject's id.
    pub subject: String,
    /// Time of the access in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Data set read.
    pub dataset: String,
    /// Highest of the volume, column and hour scores; 1.0 or more.
    pub score: f64,
    /// One sentence per score of 1.0 or more.
    pub reasons: Vec<String>,
}

/// History of one subject.
#[derive(Debug, Clone, Default)]
struct Baseline {
    accesses: u64,
    log_rows: VecDeque<f64>,
    columns: BTreeSet<String>,
    hours: [u64; 24],
}

/// Per-subject baselines, alerts and holds. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct AccessMonitor {
    config: AccessMonitorConfig,
    baselines: BTreeMap<String, Baseline>,
    held: BTreeMap<String, String>,
}

impl AccessMonitor {
    /// Creates a monitor with no history. Fails when the config is invalid.
    pub fn new(config: AccessMonitorConfig) -> Result<Self> {
        config.validate()?;
        Ok(AccessMonitor {
            config,
            baselines: BTreeMap::new(),
            held: BTreeMap::new(),
        })
    }

    /// Scores `event` against its subject's baseline and returns an alert when it is unusual.
    /// The event joins the baseline only when it raises no alert.
    pub fn observe(&mut self, event: &AccessEvent) -> Option<AccessAlert> {
        let hour = self.local_hour(event.time_ms);
        let baseline = self.baselines.entry(event.subject.clone()).or_default();
        let alert = if baseline.accesses as usize >= self.config.min_history {
            score(&self.config, baseline, event, hour)
        } else {
            None
        };
        if alert.is_none() {
            baseline.accesses += 1;
            baseline.log_rows.push_back((event.rows as f64).ln_1p());
            if baseline.log_rows.len() > self.config.volume_window {
                baseline.log_rows.pop_front();
            }
            baseline.columns.extend(event.columns.iter().cloned());
            baseline.hours[hour] += 1;
        }
        alert
    }

    /// Observes every share record with access details in `records`, in order, and returns
    /// the alerts.
    pub fn scan(&mut self, records: &[AuditRecord]) -> Vec<AccessAlert> {
        records
            .iter()
            .filter_map(AccessEvent::from_record)
            .filter_map(|event| self.observe(&event))
            .collect()
    }

    /// Puts the alert's subject on hold until a review and records it in `audit`.
    pub fn tighten(&mut self, alert: &AccessAlert, audit: &mut AuditLog) -> Result<()> {
        let rule = hold_rule_id(&alert.subject);
        let detail = format!(
            "hold: deny reads of sensitive and secret columns until review; score={:.2}; {}",
            alert.score,
            alert.reasons.join("; ")
        );
        let access = AccessDetails {
            subject: alert.subject.clone(),
            dataset: alert.dataset.clone(),
            purpose: "access anomaly response".into(),
            decision: Some(AuditDecision::Deny),
            rules: vec![rule],
            ..AccessDetails::default()
        };
        audit.append_access(
            MONITOR_ACTOR,
            AuditAction::Decision,
            &alert.subject,
            &detail,
            access,
        )?;
        self.held.insert(alert.subject.clone(), detail);
        Ok(())
    }

    /// Lifts the hold on `subject` after a review by `reviewer`, and records it in `audit`.
    /// Returns false, and records nothing, when the subject was not held.
    pub fn release(&mut self, subject: &str, reviewer: &str, audit: &mut AuditLog) -> Result<bool> {
        if self.held.remove(subject).is_none() {
            return Ok(false);
        }
        let detail = format!("release: hold lifted after review by {reviewer:?}");
        let access = AccessDetails {
            subject: subject.to_string(),
            purpose: "access review".into(),
            decision: Some(AuditDecision::Allow),
            rules: vec![hold_rule_id(subject)],
            ..AccessDetails::default()
        };
        audit.append_access(
            MONITOR_ACTOR,
            AuditAction::Decision,
            subject,
            &detail,
            access,
        )?;
        Ok(true)
    }

    /// Returns the subjects on hold.
    pub fn held(&self) -> impl Iterator<Item = &str> {
        self.held.keys().map(String::as_str)
    }

    /// Returns `policy` with one deny rule per held subject that refuses that subject's reads
    /// of columns marked sensitive or secret.
    pub fn restrict(&self, policy: &AccessPolicy) -> AccessPolicy {
        let mut restricted = policy.clone();
        for subject in self.held.keys() {
            let mut rule = PolicyRule::deny(hold_rule_id(subject));
            rule.subjects.ids = vec![subject.clone()];
            rule.min_sensitivity = Some(Sensitivity::Sensitive);
            restricted.rules.push(rule);
        }
        restricted
    }

    fn local_hour(&self, time_ms: i64) -> usize {
        let local_ms = time_ms + i64::from(self.config.utc_offset_minutes) * 60_000;
        local_ms.div_euclid(3_600_000).rem_euclid(24) as usize
    }
}

fn hold_rule_id(subject: &str) -> String {
    format!("{HOLD_RULE_PREFIX}{subject}")
}

/// Scores one event; returns an alert when a score reaches 1.0.
fn score(
    config: &AccessMonitorConfig,
    baseline: &Baseline,
    event: &AccessEvent,
    hour: usize,
) -> Option<AccessAlert> {
    let mut scores = Vec::new();

    let mut volumes: Vec<f64> = baseline.log_rows.iter().copied().collect();
    let median = median_of(&mut volumes);
    let mut deviations: Vec<f64> = volumes.iter().map(|v| (v - median).abs()).collect();
    // 1.4826 makes the MAD estimate the standard deviation of normal data. A floor of 0.1
    // (about 10% in rows) keeps a subject that always reads the same count from alerting
    // on every small change.
    let spread = (1.4826 * median_of(&mut deviations)).max(0.1);
    let z = ((event.rows as f64).ln_1p() - median) / spread;
    let volume_score = z / config.volume_z;
    if volume_score >= 1.0 {
        scores.push((
            volume_score,
            format!(
                "read {} rows, a robust z-score of {z:.1} against a typical {:.0} rows",
                event.rows,
                median.exp_m1()
            ),
        ));
    }

    let new_columns: Vec<&str> = event
        .columns
        .iter()
        .filter(|column| !baseline.columns.contains(*column))
        .map(String::as_str)
        .collect();
    if !event.columns.is_empty() {
        let share = new_columns.len() as f64 / event.columns.len() as f64;
        let column_score = share / config.new_column_share;
        if column_score >= 1.0 {
            scores.push((
                column_score,
                format!(
                    "read {} column(s) never read before: {}",
                    new_columns.len(),
                    new_columns.join(", ")
                ),
            ));
        }
    }

    let total: u64 = baseline.hours.iter().sum();
    let near = baseline.hours[hour] as f64
        + 0.5 * (baseline.hours[(hour + 23) % 24] + baseline.hours[(hour + 1) % 24]) as f64;
    let share = near / total.max(1) as f64;
    if share < config.rare_hour_share {
        let hour_score = 1.0 + (config.rare_hour_share - share) / config.rare_hour_share;
        scores.push((
            hour_score,
            format!(
                "accessed at hour {hour:02}, where {:.1}% of {total} earlier accesses fell",
                100.0 * share
            ),
        ));
    }

    if scores.is_empty() {
        return None;
    }
    let score = scores.iter().map(|(score, _)| *score).fold(0.0, f64::max);
    Some(AccessAlert {
        subject: event.subject.clone(),
        time_ms: event.time_ms,
        dataset: event.dataset.clone(),
        score,
        reasons: scores.into_iter().map(|(_, reason)| reason).collect(),
    })
}

fn median_of(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}
