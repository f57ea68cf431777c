//! Policy rules: who, which data, for what purpose and when a rule applies, and what it
//! allows or denies.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, FixedOffset, TimeZone, Timelike};
use governance_core::{AccessRequest, Error, Result, Sensitivity};
use serde::{Deserialize, Serialize};

use super::filter::RowPredicate;
use crate::mask::MaskOperator;

/// Component name in policy config errors.
pub(super) const COMPONENT: &str = "access policy";

/// Whether a rule grants or refuses access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Grants the listed columns, with the rule's masks and row filter.
    Allow,
    /// Refuses the whole request, or only the listed columns or matching rows. A deny beats
    /// every allow.
    Deny,
}

/// Subject attributes a rule applies to. Each list left empty matches every subject; a
/// subject must match every list that is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubjectMatch {
    /// Subject ids, compared with [`AccessRequest::subject_id`].
    pub ids: Vec<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Departments.
    pub departments: Vec<String>,
    /// Lowest clearance the subject must hold. A subject without a clearance does not match.
    pub min_clearance: Option<Sensitivity>,
}

impl SubjectMatch {
    fn matches(&self, request: &AccessRequest) -> bool {
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|value| list.iter().any(|item| item == value))
        };
        listed(&self.ids, request.subject_id.as_deref())
            && listed(&self.roles, Some(&request.role))
            && listed(&self.departments, request.department.as_deref())
            && self
                .min_clearance
                .is_none_or(|min| request.clearance.is_some_and(|held| held >= min))
    }
}

/// Day of the week, for [`TimeWindow::days`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[expect(missing_docs, reason = "the day names speak for themselves")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn from_chrono(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Day::Mon,
            chrono::Weekday::Tue => Day::Tue,
            chrono::Weekday::Wed => Day::Wed,
            chrono::Weekday::Thu => Day::Thu,
            chrono::Weekday::Fri => Day::Fri,
            chrono::Weekday::Sat => Day::Sat,
            chrono::Weekday::Sun => Day::Sun,
        }
    }
}

/// When a rule applies, in local time at a fixed offset from UTC.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeWindow {
    /// Days the rule applies on; empty means every day.
    pub days: Vec<Day>,
    /// Hours `[start, end)` the rule applies in, 0 to 24. A start after the end wraps past
    /// midnight, so `[22, 6]` is the night. `None` means all day.
    pub hours: Option<[u8; 2]>,
    /// Offset of local time from UTC in minutes, such as 480 for China Standard Time.
    /// Default 0.
    pub utc_offset_minutes: i32,
}

impl TimeWindow {
    fn validate(&self, rule: &str) -> Result<()> {
        if let Some([start, end]) = self.hours
            && (start > 24 || end > 24 || start == end)
        {
            return Err(rule_error(
                rule,
                "time.hours",
                format!(
                    "[{start}, {end}] is not a window; give [start, end) hours from 0 to 24 \
                     with start != end, such as [8, 18]"
                ),
            ));
        }
        if self.utc_offset_minutes.abs() >= 24 * 60 {
            return Err(rule_error(
                rule,
                "time.utc_offset_minutes",
                format!(
                    "{} is not an offset; give minutes between -1439 and 1439, such as 480",
                    self.utc_offset_minutes
                ),
            ));
        }
        Ok(())
    }

    /// Returns whether `time_ms` (milliseconds since the Unix epoch) falls in the window.
    pub fn contains(&self, time_ms: i64) -> bool {
        let Some(offset) = FixedOffset::east_opt(self.utc_offset_minutes * 60) else {
            return false;
        };
        let Some(local) = offset.timestamp_millis_opt(time_ms).single() else {
            return false;
        };
        if !self.days.is_empty() && !self.days.contains(&Day::from_chrono(local.weekday())) {
            return false;
        }
        let Some([start, end]) = self.hours else {
            return true;
        };
        let hour = local.hour() as u8;
        if start < end {
            (start..end).contains(&hour)
        } else {
            hour >= start || hour < end
        }
    }
}

/// One access rule. See the [module docs](super) for how rules combine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// Unique id, named in decisions, errors and audit records.
    pub id: String,
    /// Allow or deny.
    pub effect: Effect,
    /// Subjects the rule applies to. Default: every subject.
    #[serde(default)]
    pub subjects: SubjectMatch,
    /// Data sets (the batch's provenance source) the rule applies to; empty means every data
    /// set. An entry ending in `*` matches by prefix.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// Purposes the rule applies to; empty means every purpose.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// When the rule applies. Default: always.
    #[serde(default)]
    pub time: Option<TimeWindow>,
    /// For allow: the columns granted, or `["*"]` for every column; required. For deny: the
    /// columns refused; empty refuses the whole request unless `min_sensitivity` or
    /// `row_filter` narrows it.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Allow only: grant only columns at or below this sensitivity.
    #[serde(default)]
    pub max_sensitivity: Option<Sensitivity>,
    /// Deny only: refuse columns at or above this sensitivity.
    #[serde(default)]
    pub min_sensitivity: Option<Sensitivity>,
    /// Allow only: mask operator per column, applied to every value of the column.
    #[serde(default)]
    pub column_masks: BTreeMap<String, MaskOperator>,
    /// For allow: a row is shown only when it matches every predicate. For deny: rows that
    /// match every predicate are withheld.
    #[serde(default)]
    pub row_filter: Vec<RowPredicate>,
    /// Allow only: whether personal data found in visible text columns is masked. Default
    /// true.
    #[serde(default = "default_true")]
    pub mask_personal_data: bool,
}

fn default_true() -> bool {
    true
}

/// Builds a config error that names the rule and the field.
pub(super) fn rule_error(rule: &str, field: &str, message: impl std::fmt::Display) -> Error {
    Error::config(
        COMPONENT,
        format!("rule {rule:?}, field {field}: {message}"),
    )
}

impl PolicyRule {
    /// Creates an allow rule that grants `columns` to every subject.
    pub fn allow<I, S>(id: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PolicyRule {
            id: id.into(),
            effect: Effect::Allow,
            subjects: SubjectMatch::default(),
            datasets: Vec::new(),
            purposes: Vec::new(),
            time: None,
            columns: columns.into_iter().map(Into::into).collect(),
            max_sensitivity: None,
            min_sensitivity: None,
            column_masks: BTreeMap::new(),
            row_filter: Vec::new(),
            mask_personal_data: true,
        }
    }

    /// Creates a deny rule for every subject that refuses the whole request.
    pub fn deny(id: impl Into<String>) -> Self {
        PolicyRule {
            effect: Effect::Deny,
            ..PolicyRule::allow(id, Vec::<String>::new())
        }
    }

    /// Returns the rule limited to subjects with one of `roles`.
    pub fn for_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subjects.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Returns the rule with `column` masked by `operator`.
    pub fn with_mask(mut self, column: impl Into<String>, operator: MaskOperator) -> Self {
        self.column_masks.insert(column.into(), operator);
        self
    }

    /// Returns the rule with one more row predicate.
    pub fn with_row_filter(mut self, predicate: RowPredicate) -> Self {
        self.row_filter.push(predicate);
        self
    }

    /// Returns the rule applied only in `window`.
    pub fn during(mut self, window: TimeWindow) -> Self {
        self.time = Some(window);
        self
    }

    /// Returns whether the rule refuses the whole request when it applies.
    pub fn denies_everything(&self) -> bool {
        self.effect == Effect::Deny
            && self.columns.is_empty()
            && self.min_sensitivity.is_none()
            && self.row_filter.is_empty()
    }

    /// Checks the fields that the type system cannot.
    pub(super) fn validate(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::config(
                COMPONENT,
                "a rule has an empty id; give every rule a unique id",
            ));
        }
        let only_for = |field: &str, set: bool, effect: &str| -> Result<()> {
            if set {
                Err(rule_error(
                    &self.id,
                    field,
                    format!("is only valid on {effect} rules; remove it or change effect"),
                ))
            } else {
                Ok(())
            }
        };
        match self.effect {
            Effect::Allow => {
                if self.columns.is_empty() {
                    return Err(rule_error(
                        &self.id,
                        "columns",
                        "an allow rule must list the columns it grants, or [\"*\"] for all",
                    ));
                }
                only_for("min_sensitivity", self.min_sensitivity.is_some(), "deny")?;
            }
            Effect::Deny => {
                only_for("max_sensitivity", self.max_sensitivity.is_some(), "allow")?;
                only_for("column_masks", !self.column_masks.is_empty(), "allow")?;
                only_for("mask_personal_data", !self.mask_personal_data, "allow")?;
            }
        }
        if let Some(time) = &self.time {
            time.validate(&self.id)?;
        }
        for predicate in &self.row_filter {
            predicate.validate(&self.id)?;
        }
        Ok(())
    }

    /// Returns whether the rule applies to `request` on `dataset` at `time_ms`.
    pub(super) fn applies(&self, request: &AccessRequest, dataset: &str, time_ms: i64) -> bool {
        let dataset_matches = self.datasets.is_empty()
            || self
                .datasets
                .iter()
                .any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => dataset.starts_with(prefix),
                    None => pattern == dataset,
                });
        let purpose_matches = self.purposes.is_empty() || self.purposes.contains(&request.purpose);
        self.subjects.matches(request)
            && dataset_matches
            && purpose_matches
            && self.time.as_ref().is_none_or(|time| time.contains(time_ms))
    }

    /// Returns every column name the rule refers to, other than `*`.
    pub(super) fn named_columns(&self) -> BTreeSet<&str> {
        self.columns
            .iter()
            .map(String::as_str)
            .filter(|name| *name != super::ALL_COLUMNS)
            .chain(self.column_masks.keys().map(String::as_str))
            .chain(self.row_filter.iter().map(|p| p.column.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-04 was a Monday; this is 09:30 UTC that day.
    const MONDAY_0930_UTC: i64 = 1_709_544_600_000;

    #[test]
    fn window_checks_day_and_hour() {
        let office = TimeWindow {
            days: vec![Day::Mon, Day::Tue],
            hours: Some([9, 17]),
            utc_offset_minutes: 0,
        };
        assert!(office.contains(MONDAY_0930_UTC));
        assert!(!office.contains(MONDAY_0930_UTC - 3_600_000));
        assert!(!office.contains(MONDAY_0930_UTC + 8 * 3_600_000));
        assert!(!office.contains(MONDAY_0930_UTC - 24 * 3_600_000));
    }

    #[test]
    fn window_wraps_past_midnight_in_local_time() {
        let night = TimeWindow {
            days: Vec::new(),
            hours: Some([22, 6]),
            utc_offset_minutes: 480,
        };
        // 09:30 UTC is 17:30 in UTC+8; 17:30 UTC is 01:30 the next day.
        assert!(!night.contains(MONDAY_0930_UTC));
        assert!(night.contains(MONDAY_0930_UTC + 8 * 3_600_000));
    }

    #[test]
    fn invalid_hours_name_rule_and_field() {
        let rule = PolicyRule::allow("day-shift", ["*"]).during(TimeWindow {
            hours: Some([9, 25]),
            ..TimeWindow::default()
        });
        let message = rule.validate().expect_err("hour 25").to_string();
        assert!(
            message.contains("rule \"day-shift\", field time.hours"),
            "{message}"
        );
    }

    #[test]
    fn subject_needs_every_listed_attribute() {
        let subjects = SubjectMatch {
            roles: vec!["analyst".into()],
            departments: vec!["transport".into()],
            min_clearance: Some(Sensitivity::Sensitive),
            ..SubjectMatch::default()
        };
        let base = AccessRequest::new("analyst", "report").with_department("transport");
        assert!(!subjects.matches(&base));
        assert!(subjects.matches(&base.clone().with_clearance(Sensitivity::Secret)));
        assert!(!subjects.matches(&base.with_clearance(Sensitivity::Internal)));
    }
}
