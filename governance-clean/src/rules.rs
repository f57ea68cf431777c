//! The [`Rules`] cleaner: checks constraint rules (not null, numeric range, allowed set) and
//! logs every violation, keeping the row.
//!
//! A rule may also act on what it finds: `null_out` sets the violating cell to null, and
//! `correct` (allowed sets only) replaces a misspelt value by the closest allowed value when
//! that value is unambiguous and within `max_edit_distance` edits.
//!
//! ```
//! use governance_clean::{Rules, RulesConfig};
//!
//! let config: RulesConfig = serde_json::from_str(r#"{"rules": [
//!     {"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}},
//!     {"column": "station", "check": {"allowed": ["Dongsi", "Tiantan"]}, "action": "correct"}
//! ]}"#)?;
//! let rules = Rules::new(config)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, StringArray};
use arrow::compute::{cast, nullif};
use arrow::datatypes::DataType;
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::edit_distance::levenshtein_within;
use crate::support::{ChangeCounts, column_index, text_values};

/// Configuration of [`Rules`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rules, checked in order. A later rule checks the cells as an earlier one nulled or
    /// corrected them.
    pub rules: Vec<Rule>,
    /// Largest edit distance (Levenshtein, in characters) at which an allowed value is
    /// suggested for a value outside the set. Defaults to 2.
    #[serde(default = "default_max_edit_distance")]
    pub max_edit_distance: usize,
}

fn default_max_edit_distance() -> usize {
    2
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            rules: Vec::new(),
            max_edit_distance: default_max_edit_distance(),
        }
    }
}

/// One constraint on one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Column the rule checks.
    pub column: String,
    /// Check the rule applies.
    pub check: Check,
    /// Action on a violating cell besides logging it. Defaults to `flag`.
    #[serde(default)]
    pub action: RuleAction,
}

/// The kinds of check. In JSON or TOML: `"not_null"`, `{"range": {"min": 0, "max": 1000}}` or
/// `{"allowed": ["a", "b"]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The cell must hold a value. Violations are logged as `Missing`.
    NotNull,
    /// A numeric cell must lie within `[min, max]`; either bound may be left out. Null cells
    /// pass. Violations, and NaN, are logged as `OutOfRange`.
    Range {
        /// Smallest allowed value, inclusive.
        #[serde(default)]
        min: Option<f64>,
        /// Largest allowed value, inclusive.
        #[serde(default)]
        max: Option<f64>,
    },
    /// A text cell must equal one of these values exactly. Null cells pass. Violations are
    /// logged as `NotAllowed`, with the closest allowed value as a suggestion when there is one.
    Allowed(Vec<String>),
}

impl Check {
    fn kind_name(&self) -> &'static str {
        match self {
            Check::NotNull => "not_null",
            Check::Range { .. } => "range",
            Check::Allowed(_) => "allowed",
        }
    }

    /// Describes the rule for messages, such as `range min=0 max=1000`.
    fn describe(&self) -> String {
        match self {
            Check::NotNull => "not_null".into(),
            Check::Range { min, max } => {
                let mut text = "range".to_string();
                if let Some(min) = min {
                    text.push_str(&format!(" min={min}"));
                }
                if let Some(max) = max {
                    text.push_str(&format!(" max={max}"));
                }
                text
            }
            Check::Allowed(values) => format!("allowed set of {} values", values.len()),
        }
    }
}

/// Action a rule takes on a violating cell after logging it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Log only; the value stays.
    #[default]
    Flag,
    /// Log, then set the cell to null. Not valid for `not_null`.
    NullOut,
    /// Log, then replace the value by the suggested allowed value and log a `Canonicalised`
    /// issue with the old value. Values with no suggestion stay. Valid for `allowed` only.
    Correct,
}

/// A rule checked against batches, with its allowed set hashed once.
#[derive(Debug, Clone)]
struct CompiledRule {
    rule: Rule,
    allowed: HashSet<String>,
}

/// Checks constraint rules on every batch and logs violations; rows are never removed.
#[derive(Debug, Clone)]
pub struct Rules {
    name: String,
    config: RulesConfig,
    compiled: Vec<CompiledRule>,
}

impl Rules {
    /// Creates the stage. Fails on a range whose bounds are not finite or cross, an empty
    /// allowed set, or an action that cannot apply to its check.
    pub fn new(config: RulesConfig) -> Result<Self> {
        const NAME: &str = "rules";
        let mut compiled = Vec::with_capacity(config.rules.len());
        for (position, rule) in config.rules.iter().enumerate() {
            let fail = |message: String| {
                Error::config(
                    NAME,
                    format!("rule {position} (column {:?}): {message}", rule.column),
                )
            };
            match &rule.check {
                Check::Range { min, max } => {
                    if min.is_some_and(|min| !min.is_finite())
                        || max.is_some_and(|max| !max.is_finite())
                    {
                        return Err(fail("range bounds must be finite numbers".into()));
                    }
                    if let (Some(min), Some(max)) = (min, max)
                        && min > max
                    {
                        return Err(fail(format!(
                            "range min {min} is above max {max}; swap them"
                        )));
                    }
                }
                Check::Allowed(values) if values.is_empty() => {
                    return Err(fail(
                        "the allowed set is empty; list at least one value".into(),
                    ));
                }
                Check::Allowed(_) | Check::NotNull => {}
            }
            match (rule.action, &rule.check) {
                (RuleAction::NullOut, Check::NotNull) => {
                    return Err(fail(
                        "action null_out cannot apply to a not_null check; use flag".into(),
                    ));
                }
                (RuleAction::Correct, check) if !matches!(check, Check::Allowed(_)) => {
                    return Err(fail(format!(
                        "action correct applies to allowed checks only, not {}; use flag or \
                         null_out",
                        check.kind_name()
                    )));
                }
                _ => {}
            }
            let allowed = match &rule.check {
                Check::Allowed(values) => values.iter().cloned().collect(),
                _ => HashSet::new(),
            };
            compiled.push(CompiledRule {
                rule: rule.clone(),
                allowed,
            });
        }
        Ok(Rules {
            name: NAME.into(),
            config,
            compiled,
        })
    }

    /// Renames the stage, for chains that hold more than one rule set.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &RulesConfig {
        &self.config
    }

    fn check_not_null(
        &self,
        batch: &GovernedBatch,
        column: &ArrayRef,
        rule: &Rule,
        issues: &mut Vec<Issue>,
    ) {
        for row in (0..column.len()).filter(|&row| column.is_null(row)) {
            issues.push(Issue::cell(
                batch.row_ids().value(row),
                &rule.column,
                IssueKind::Missing,
                Severity::Error,
                &self.name,
                format!("value is missing (rule: {})", rule.check.describe()),
            ));
        }
    }

    /// Checks a range rule and returns the mask of violating cells.
    fn check_range(
        &self,
        batch: &GovernedBatch,
        column: &ArrayRef,
        rule: &Rule,
        bounds: (Option<f64>, Option<f64>),
        issues: &mut Vec<Issue>,
    ) -> Result<BooleanArray> {
        if !column.data_type().is_numeric() {
            return Err(Error::config(
                &self.name,
                format!(
                    "range rule on column {:?} needs a number column, found {}; convert it with \
                     the canonicalise stage first",
                    rule.column,
                    column.data_type()
                ),
            ));
        }
        let values = cast(column, &DataType::Float64)?;
        let values = values
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| Error::Internal("cast to Float64 did not return Float64".into()))?;
        let (min, max) = bounds;
        let mut violations = Vec::with_capacity(values.len());
        for row in 0..values.len() {
            if values.is_null(row) {
                violations.push(false);
                continue;
            }
            let value = values.value(row);
            let problem = if value.is_nan() {
                Some("is not a number".to_string())
            } else if let Some(min) = min.filter(|&min| value < min) {
                Some(format!("is below the minimum {min}"))
            } else {
                max.filter(|&max| value > max)
                    .map(|max| format!("is above the maximum {max}"))
            };
            violations.push(problem.is_some());
            if let Some(problem) = problem {
                issues.push(Issue::cell(
                    batch.row_ids().value(row),
                    &rule.column,
                    IssueKind::OutOfRange,
                    Severity::Error,
                    &self.name,
                    format!("value {value} {problem} (rule: {})", rule.check.describe()),
                ));
            }
        }
        Ok(BooleanArray::from(violations))
    }

    /// Checks an allowed-set rule. Returns the mask of violating cells and, for `correct`, the
    /// corrected column with the number of cells it changed.
    fn check_allowed(
        &self,
        batch: &GovernedBatch,
        column: &ArrayRef,
        compiled: &CompiledRule,
        issues: &mut Vec<Issue>,
    ) -> Result<(BooleanArray, Option<(ArrayRef, u64)>)> {
        let rule = &compiled.rule;
        if !matches!(
            column.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
        ) {
            return Err(Error::config(
                &self.name,
                format!(
                    "allowed rule on column {:?} needs a text column, found {}",
                    rule.column,
                    column.data_type()
                ),
            ));
        }
        let text = text_values(column)?;
        let allowed: &[String] = match &rule.check {
            Check::Allowed(values) => values,
            _ => &[],
        };
        let mut suggestions: HashMap<&str, Option<(&str, usize)>> = HashMap::new();
        let mut violations = Vec::with_capacity(text.len());
        let mut corrected: Vec<Option<&str>> = Vec::new();
        let correcting = rule.action == RuleAction::Correct;
        let mut corrected_count = 0u64;

        for row in 0..text.len() {
            let value = text.is_valid(row).then(|| text.value(row));
            let Some(value) = value.filter(|value| !compiled.allowed.contains(*value)) else {
                violations.push(false);
                if correcting {
                    corrected.push(value);
                }
                continue;
            };
            violations.push(true);
            let suggestion = *suggestions
                .entry(value)
                .or_insert_with(|| closest_allowed(value, allowed, self.config.max_edit_distance));
            let row_id = batch.row_ids().value(row);
            let mut message = format!(
                "value {value:?} is not allowed (rule: {})",
                rule.check.describe()
            );
            if let Some((closest, distance)) = suggestion {
                message.push_str(&format!(
                    "; closest allowed value is {closest:?} at edit distance {distance}"
                ));
            }
            let mut issue = Issue::cell(
                row_id,
                &rule.column,
                IssueKind::NotAllowed,
                Severity::Error,
                &self.name,
                message,
            );
            if let Some((closest, _)) = suggestion {
                issue = issue.with_suggested(closest);
            }
            issues.push(issue);

            if !correcting {
                continue;
            }
            match suggestion {
                Some((closest, distance)) => {
                    corrected_count += 1;
                    corrected.push(Some(closest));
                    let length = value.chars().count().max(closest.chars().count()).max(1);
                    issues.push(
                        Issue::cell(
                            row_id,
                            &rule.column,
                            IssueKind::Canonicalised,
                            Severity::Info,
                            &self.name,
                            format!("replaced {value:?} with allowed value {closest:?} (edit distance {distance})"),
                        )
                        .with_suggested(closest)
                        .with_confidence(1.0 - distance as f32 / length as f32),
                    );
                }
                None => corrected.push(Some(value)),
            }
        }

        let replacement = if corrected_count > 0 {
            let corrected: ArrayRef = Arc::new(StringArray::from(corrected));
            Some((cast(&corrected, column.data_type())?, corrected_count))
        } else {
            None
        };
        Ok((BooleanArray::from(violations), replacement))
    }
}

/// Returns the allowed value closest to `value` and its distance, when it is within
/// `max_distance` and no other allowed value is as close.
pub(crate) fn closest_allowed<'a>(
    value: &str,
    allowed: &'a [String],
    max_distance: usize,
) -> Option<(&'a str, usize)> {
    let mut best: Option<(&str, usize)> = None;
    let mut tied = false;
    for candidate in allowed {
        let Some(distance) = levenshtein_within(value, candidate, max_distance) else {
            continue;
        };
        match best {
            Some((_, best_distance)) if distance > best_distance => {}
            Some((_, best_distance)) if distance == best_distance => tied = true,
            _ => {
                best = Some((candidate, distance));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied)
}

impl Stage for Rules {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("check {} constraint rules", self.config.rules.len())
    }
}

impl Cleaner for Rules {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let indices = self
            .compiled
            .iter()
            .enumerate()
            .map(|(position, compiled)| {
                column_index(
                    &batch,
                    &self.name,
                    &format!("rule {position}"),
                    &compiled.rule.column,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        let mut issues = Vec::new();
        let mut changes = ChangeCounts::default();

        for (compiled, &index) in self.compiled.iter().zip(&indices) {
            let rule = &compiled.rule;
            let column = Arc::clone(&columns[index]);
            let (violations, replacement) = match &rule.check {
                Check::NotNull => {
                    self.check_not_null(&batch, &column, rule, &mut issues);
                    continue;
                }
                Check::Range { min, max } => (
                    self.check_range(&batch, &column, rule, (*min, *max), &mut issues)?,
                    None,
                ),
                Check::Allowed(_) => self.check_allowed(&batch, &column, compiled, &mut issues)?,
            };
            match rule.action {
                RuleAction::Flag => {}
                RuleAction::NullOut => {
                    changes.add(&rule.column, violations.true_count() as u64);
                    columns[index] = nullif(&column, &violations)?;
                }
                RuleAction::Correct => {
                    if let Some((replacement, corrected)) = replacement {
                        changes.add(&rule.column, corrected);
                        columns[index] = replacement;
                    }
                }
            }
        }

        if changes.total() > 0 {
            crate::support::with_columns(&mut batch, columns)?;
        }
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        changes.audit(ctx)?;
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array};
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{audit_details, batch, context, floats, texts};

    fn rules(json: &str) -> Rules {
        let config: RulesConfig = serde_json::from_str(json).expect("rules config");
        Rules::new(config).expect("rules")
    }

    fn readings(ids: &RowIdAllocator) -> GovernedBatch {
        batch(
            vec![
                (
                    "PM2.5",
                    Arc::new(Float64Array::from(vec![
                        Some(12.0),
                        Some(-1.0),
                        None,
                        Some(1500.0),
                    ])) as ArrayRef,
                ),
                (
                    "station",
                    Arc::new(StringArray::from(vec![
                        Some("Dongsi"),
                        Some("Dongsii"),
                        Some("Xyz"),
                        None,
                    ])),
                ),
            ],
            ids,
        )
    }

    #[test]
    fn range_violations_are_flagged() {
        let mut stage = rules(
            r#"{"rules": [{"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}}]}"#,
        );
        let mut ctx = context("rules");
        let output = stage
            .clean(readings(&RowIdAllocator::default()), &mut ctx)
            .expect("clean");

        assert_eq!(output.num_rows(), 4);
        assert_eq!(
            floats(&output, "PM2.5"),
            vec![Some(12.0), Some(-1.0), None, Some(1500.0)]
        );
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 2);
        assert_eq!(
            (issues[0].row_id, issues[0].kind, issues[0].severity),
            (1, IssueKind::OutOfRange, Severity::Error)
        );
        assert_eq!(
            issues[0].message,
            "value -1 is below the minimum 0 (rule: range min=0 max=1000)"
        );
        assert_eq!(
            issues[1].message,
            "value 1500 is above the maximum 1000 (rule: range min=0 max=1000)"
        );
        assert!(audit_details(&ctx).is_empty(), "flagging changes nothing");
        assert_eq!(stage.params()["rules"][0]["column"], "PM2.5");
        assert_eq!(stage.params()["max_edit_distance"], 2);
    }

    #[test]
    fn one_sided_range_and_null_out() {
        let mut stage = rules(
            r#"{"rules": [{"column": "PM2.5", "check": {"range": {"min": 0}}, "action": "null_out"}]}"#,
        );
        let mut ctx = context("rules");
        let output = stage
            .clean(readings(&RowIdAllocator::default()), &mut ctx)
            .expect("clean");

        assert_eq!(
            floats(&output, "PM2.5"),
            vec![Some(12.0), None, None, Some(1500.0)]
        );
        assert_eq!(output.issues.len(), 1);
        assert_eq!(output.issues.issues()[0].suggested, None);
        assert_eq!(audit_details(&ctx), vec!["count=1 PM2.5=1".to_string()]);
    }

    #[test]
    fn range_accepts_integer_columns() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![(
                "hour",
                Arc::new(Int64Array::from(vec![0, 23, 24])) as ArrayRef,
            )],
            &ids,
        );
        let mut stage = rules(
            r#"{"rules": [{"column": "hour", "check": {"range": {"min": 0, "max": 23}}, "action": "null_out"}]}"#,
        );
        let output = stage.clean(input, &mut context("rules")).expect("clean");
        let hours = output
            .column("hour")
            .expect("hour")
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("Int64 kept")
            .clone();
        assert_eq!(
            hours.iter().collect::<Vec<_>>(),
            vec![Some(0), Some(23), None]
        );
    }

    #[test]
    fn not_null_logs_missing() {
        let mut stage = rules(r#"{"rules": [{"column": "PM2.5", "check": "not_null"}]}"#);
        let output = stage
            .clean(readings(&RowIdAllocator::default()), &mut context("rules"))
            .expect("clean");
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].row_id, issues[0].kind), (2, IssueKind::Missing));
    }

    #[test]
    fn allowed_set_suggests_close_values() {
        let mut stage = rules(
            r#"{"rules": [{"column": "station", "check": {"allowed": ["Dongsi", "Tiantan"]}}]}"#,
        );
        let output = stage
            .clean(readings(&RowIdAllocator::default()), &mut context("rules"))
            .expect("clean");

        let issues = output.issues.issues();
        assert_eq!(issues.len(), 2, "null stations pass");
        assert_eq!(
            (issues[0].row_id, issues[0].kind),
            (1, IssueKind::NotAllowed)
        );
        assert_eq!(issues[0].suggested.as_deref(), Some("Dongsi"));
        assert!(
            issues[0].message.contains("\"Dongsii\""),
            "{}",
            issues[0].message
        );
        assert_eq!(
            issues[1].suggested, None,
            "\"Xyz\" is more than 2 edits from every value"
        );
        assert_eq!(
            texts(&output, "station")[1].as_deref(),
            Some("Dongsii"),
            "flag keeps the value"
        );
    }

    #[test]
    fn correct_replaces_with_suggestion() {
        let mut stage = rules(
            r#"{"rules": [{"column": "station", "check": {"allowed": ["Dongsi", "Tiantan"]}, "action": "correct"}]}"#,
        );
        let mut ctx = context("rules");
        let output = stage
            .clean(readings(&RowIdAllocator::default()), &mut ctx)
            .expect("clean");

        assert_eq!(
            texts(&output, "station"),
            vec![
                Some("Dongsi".into()),
                Some("Dongsi".into()),
                Some("Xyz".into()),
                None
            ]
        );
        let kinds: Vec<IssueKind> = output
            .issues
            .issues()
            .iter()
            .map(|issue| issue.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                IssueKind::NotAllowed,
                IssueKind::Canonicalised,
                IssueKind::NotAllowed
            ]
        );
        assert!(
            output.issues.issues()[1]
                .message
                .contains("replaced \"Dongsii\"")
        );
        assert_eq!(audit_details(&ctx), vec!["count=1 station=1".to_string()]);
    }

    #[test]
    fn tied_suggestions_are_withheld() {
        assert_eq!(
            closest_allowed("Dongsa", &["Dongsi".into(), "Dongso".into()], 2),
            None
        );
        assert_eq!(
            closest_allowed("Dongsa", &["Dongsi".into(), "Dongsaaa".into()], 2),
            Some(("Dongsi", 1))
        );
    }

    #[test]
    fn missing_column_lists_columns() {
        let mut stage = rules(r#"{"rules": [{"column": "PM25", "check": "not_null"}]}"#);
        let error = stage
            .clean(readings(&RowIdAllocator::default()), &mut context("rules"))
            .expect_err("missing");
        let message = error.to_string();
        assert!(message.contains("\"PM25\""), "{message}");
        assert!(message.contains("columns are: PM2.5, station"), "{message}");
    }

    #[test]
    fn unknown_check_lists_valid_kinds() {
        let error = serde_json::from_str::<RulesConfig>(
            r#"{"rules": [{"column": "x", "check": {"between": [1, 2]}}]}"#,
        )
        .expect_err("unknown check");
        let message = error.to_string();
        assert!(message.contains("between"), "{message}");
        assert!(
            message.contains("not_null")
                && message.contains("range")
                && message.contains("allowed"),
            "{message}"
        );
    }

    #[test]
    fn invalid_rules_are_rejected() {
        let cases = [
            r#"{"rules": [{"column": "x", "check": {"range": {"min": 5, "max": 1}}}]}"#,
            r#"{"rules": [{"column": "x", "check": {"allowed": []}}]}"#,
            r#"{"rules": [{"column": "x", "check": "not_null", "action": "null_out"}]}"#,
            r#"{"rules": [{"column": "x", "check": {"range": {"min": 0}}, "action": "correct"}]}"#,
        ];
        for json in cases {
            let config: RulesConfig = serde_json::from_str(json).expect("parses");
            let error = Rules::new(config).expect_err(json);
            assert!(
                error.to_string().contains("rule 0 (column \"x\")"),
                "{error}"
            );
        }
    }

    #[test]
    fn range_on_text_column_is_rejected() {
        let mut stage =
            rules(r#"{"rules": [{"column": "station", "check": {"range": {"max": 1}}}]}"#);
        let error = stage
            .clean(readings(&RowIdAllocator::default()), &mut context("rules"))
            .expect_err("text");
        assert!(
            error
                .to_string()
                .contains("needs a number column, found Utf8"),
            "{error}"
        );
    }
}
