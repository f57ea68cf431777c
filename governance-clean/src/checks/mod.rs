//! A declarative rule engine: a [`Suite`] of checks over Arrow batches, configured by
//! [`SuiteConfig`], that logs each failing cell and reports per-rule metrics.
//!
//! | check | scope | issue kind |
//! |---|---|---|
//! | `not_null`, `completeness` | per batch | `Missing` |
//! | `range` | per batch | `OutOfRange` |
//! | `allowed` | per batch | `NotAllowed` |
//! | `pattern`, `format`, `length`, `type` | per batch | `Format` |
//! | `foreign_key`, `sql`, `functional_dependency` with `then` | per batch | `Inconsistent` |
//! | `unique`, `primary_key` | whole table | `Duplicate` (and `Missing` for null key parts) |
//! | `functional_dependency` | whole table | `Inconsistent` |
//! | `row_count`, `freshness`, `drift` | whole table | none or one row-level issue |
//!
//! # Streaming
//!
//! [`Suite::check_batch`] checks one batch and returns the issues of per-batch checks at
//! once. Whole-table checks keep state across batches and report from [`Suite::finish`]: key
//! checks and functional dependencies keep one 64-bit hash per distinct key (at most
//! [`SuiteConfig::max_tracked_keys`]), drift keeps a reservoir sample of 10,000 numbers or at
//! most 10,000 category counts, and row count and freshness keep one number. `finish` returns
//! a [`SuiteReport`] and resets the state for the next round. The [`CheckSuite`] cleaner wraps
//! a suite for a chain.
//!
//! NOTE: key checks compare 64-bit hashes of the keys' Arrow row encoding, so two different
//! keys collide with a probability of about n²/2⁶⁵ for n distinct keys (3e-6 at 10 million).
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_clean::checks::{Suite, SuiteConfig};
//! use governance_core::{GovernedBatch, Provenance, RowIdAllocator};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("sensor", DataType::Utf8, true),
//!     Field::new("pm25", DataType::Float64, true),
//! ]));
//! let data = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["a1", "a1", "b2"])),
//!     Arc::new(Float64Array::from(vec![Some(12.0), Some(-3.0), None])),
//! ])?;
//! let batch = GovernedBatch::try_new(data, RowIdAllocator::default().allocate(3),
//!     Provenance::new("example"))?;
//!
//! let config = SuiteConfig::from_json(r#"{"rules": [
//!     {"check": {"range": {"column": "pm25", "min": 0}}},
//!     {"check": {"unique": {"columns": ["sensor"]}}}
//! ]}"#)?;
//! let mut suite = Suite::new(config)?;
//! let issues = suite.check_batch(&batch)?;
//! assert_eq!(issues.len(), 1, "-3 is below the minimum");
//! let report = suite.finish()?;
//! assert!(!report.passed);
//! assert_eq!(report.results[1].metrics["extra_copies"], 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cell;
mod config;
pub mod drift;
mod keys;
mod sql;
mod stage;
mod unique;

use std::collections::BTreeMap;

use governance_core::{Error, GovernedBatch, Issue, IssueKind, Result, Severity};
use serde::{Deserialize, Serialize};

pub use config::{
    AllowedCheck, CompletenessCheck, DriftCheck, ForeignKeyCheck, FormatCheck, FormatKind,
    FreshnessCheck, FunctionalDependencyCheck, KeyCheck, LengthCheck, NotNullCheck, PatternCheck,
    RangeCheck, RowCountCheck, RuleCheck, RuleConfig, SqlCheck, SuiteConfig, TypeCheck, ValueType,
};
pub use stage::CheckSuite;

use config::COMPONENT;

/// Longest observed value, in characters, quoted in an issue message.
const MAX_QUOTED_CHARS: usize = 80;

/// A failing cell or row that a rule found.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Row id of the failing row.
    pub row_id: u64,
    /// Failing column, or `None` for a row-level failure.
    pub column: Option<String>,
    /// Observed value as text, if the failure concerns one.
    pub observed: Option<String>,
    /// Description of the failure, without the rule name (the suite prefixes it).
    pub message: String,
    /// A value that would pass, when the rule has one.
    pub suggested: Option<String>,
    /// Issue kind, when it differs from the rule's usual kind.
    pub kind: Option<IssueKind>,
}

impl Failure {
    /// Creates a cell failure.
    pub fn cell(
        row_id: u64,
        column: impl Into<String>,
        observed: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Failure {
            row_id,
            column: Some(column.into()),
            observed,
            message: message.into(),
            suggested: None,
            kind: None,
        }
    }

    /// Sets the suggested value.
    pub fn with_suggested(mut self, value: impl Into<String>) -> Self {
        self.suggested = Some(value.into());
        self
    }

    /// Sets the issue kind.
    pub fn with_kind(mut self, kind: IssueKind) -> Self {
        self.kind = Some(kind);
        self
    }
}

/// A rule written in Rust, added with [`Suite::with_custom`].
///
/// The suite calls [`CustomRule::check_batch`] once per batch and [`CustomRule::finish`] once
/// at the end; a rule that needs the whole table keeps its own bounded state between them.
pub trait CustomRule: Send {
    /// Returns the rule's name, used in reports and issue messages.
    fn name(&self) -> &str;

    /// Checks one batch and returns its failures.
    fn check_batch(&mut self, batch: &GovernedBatch) -> Result<Vec<Failure>>;

    /// Returns failures known only after the last batch, and resets for the next round. The
    /// default returns none.
    fn finish(&mut self) -> Result<Vec<Failure>> {
        Ok(Vec::new())
    }
}

/// Result of one rule over the whole input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Rule name.
    pub name: String,
    /// Check kind, such as `range`, or `custom`.
    pub check: String,
    /// Columns the rule reads.
    pub columns: Vec<String>,
    /// Whether the rule passed.
    pub passed: bool,
    /// Values (or rows, or keys) checked.
    pub evaluated: u64,
    /// Values (or rows) that failed.
    pub failing: u64,
    /// `failing / evaluated`, 0 when nothing was checked.
    pub failing_ratio: f64,
    /// Further figures of the check, such as `null_count` and `blank_count`, or
    /// `p_value`.
    pub metrics: BTreeMap<String, f64>,
    /// A sentence on the outcome for reports.
    pub detail: String,
    /// True when a whole-table rule stopped tracking new keys at
    /// [`SuiteConfig::max_tracked_keys`], so later keys were not checked.
    pub incomplete: bool,
    /// True when more rows failed than [`SuiteConfig::max_tracked_failures`], so some failing
    /// rows are counted but not logged.
    pub truncated: bool,
}

/// Outcome of a suite over all batches since the last [`Suite::finish`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// One result per rule, in config order, then custom rules.
    pub results: Vec<RuleResult>,
    /// True when every rule passed.
    pub passed: bool,
    /// Rows checked.
    pub rows: u64,
    /// Batches checked.
    pub batches: u64,
    /// Issues of whole-table rules, found at the end. Per-batch issues were returned by
    /// [`Suite::check_batch`].
    #[serde(skip)]
    pub issues: Vec<Issue>,
}

impl SuiteReport {
    /// Returns the results of the rules that failed.
    pub fn failed(&self) -> Vec<&RuleResult> {
        self.results
            .iter()
            .filter(|result| !result.passed)
            .collect()
    }

    /// Returns the result of the rule named `name`.
    pub fn result(&self, name: &str) -> Option<&RuleResult> {
        self.results.iter().find(|result| result.name == name)
    }
}

/// Running figures of one rule.
#[derive(Debug, Default)]
pub(crate) struct RuleStats {
    pub evaluated: u64,
    pub failing: u64,
    pub metrics: BTreeMap<String, f64>,
    /// Pass or fail decided by the check itself (row count, freshness, drift) rather than by
    /// the failing ratio.
    pub verdict: Option<bool>,
    pub detail: Option<String>,
    pub incomplete: bool,
    pub truncated: bool,
}

impl RuleStats {
    pub fn add_metric(&mut self, name: &str, value: f64) {
        *self.metrics.entry(name.to_string()).or_insert(0.0) += value;
    }

    pub fn set_metric(&mut self, name: &str, value: f64) {
        self.metrics.insert(name.to_string(), value);
    }
}

/// Everything a rule needs besides its own settings.
pub(crate) struct Scope<'a> {
    /// The rule's display name, for errors.
    pub rule: &'a str,
    pub config: &'a SuiteConfig,
    pub references: &'a BTreeMap<String, arrow::array::RecordBatch>,
}

/// A compiled rule of any kind.
pub(crate) trait Evaluator: Send {
    /// Checks one batch, adding to `stats` and pushing failures.
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()>;

    /// Reports what is known only at the end and resets whole-table state.
    fn finish(
        &mut self,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let _ = (scope, stats, failures);
        Ok(())
    }
}

struct CompiledRule {
    name: String,
    check: String,
    columns: Vec<String>,
    kind: IssueKind,
    severity: Severity,
    max_failing_ratio: f64,
    evaluator: Box<dyn Evaluator>,
    stats: RuleStats,
}

/// Adapts a [`CustomRule`] to the suite.
struct CustomEvaluator(Box<dyn CustomRule>);

impl Evaluator for CustomEvaluator {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let found = self.0.check_batch(batch)?;
        stats.evaluated += batch.num_rows() as u64;
        stats.failing += found.len() as u64;
        failures.extend(found);
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let found = self.0.finish()?;
        stats.failing += found.len() as u64;
        failures.extend(found);
        Ok(())
    }
}

/// A compiled set of rules with the state of its whole-table checks.
pub struct Suite {
    config: SuiteConfig,
    rules: Vec<CompiledRule>,
    references: BTreeMap<String, arrow::array::RecordBatch>,
    detector: String,
    rows: u64,
    batches: u64,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Suite")
            .field("config", &self.config)
            .field("references", &self.references.keys().collect::<Vec<_>>())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Suite {
    /// Compiles the rules. Fails, naming the rule and the field, on an invalid setting: a
    /// bound that is not finite or a pair of bounds that cross, an empty list, a ratio outside
    /// `[0, 1]`, or a regular expression that does not compile.
    pub fn new(config: SuiteConfig) -> Result<Self> {
        if config.max_tracked_keys == 0 {
            return Err(Error::config(
                COMPONENT,
                "max_tracked_keys must be at least 1",
            ));
        }
        let mut rules = Vec::with_capacity(config.rules.len());
        for (position, rule) in config.rules.iter().enumerate() {
            let name = rule.display_name();
            let label = format!("rule {position} ({name:?})");
            if !(0.0..=1.0).contains(&rule.max_failing_ratio) {
                return Err(Error::config(
                    COMPONENT,
                    format!(
                        "{label}: field `max_failing_ratio` is {}; use a share between 0 and 1",
                        rule.max_failing_ratio
                    ),
                ));
            }
            let (evaluator, kind) = compile(&rule.check, &label)?;
            rules.push(CompiledRule {
                name,
                check: rule.check.kind_name().to_string(),
                columns: rule.check.columns(),
                kind,
                severity: rule.severity,
                max_failing_ratio: rule.max_failing_ratio,
                evaluator,
                stats: RuleStats::default(),
            });
        }
        Ok(Suite {
            config,
            rules,
            references: BTreeMap::new(),
            detector: COMPONENT.to_string(),
            rows: 0,
            batches: 0,
        })
    }

    /// Registers a reference table for `foreign_key` rules under `name`.
    pub fn with_reference(
        mut self,
        name: impl Into<String>,
        table: arrow::array::RecordBatch,
    ) -> Self {
        self.references.insert(name.into(), table);
        self
    }

    /// Adds a rule written in Rust, checked after the configured rules.
    pub fn with_custom(mut self, rule: Box<dyn CustomRule>) -> Self {
        self.rules.push(CompiledRule {
            name: rule.name().to_string(),
            check: "custom".into(),
            columns: Vec::new(),
            kind: IssueKind::Inconsistent,
            severity: Severity::Error,
            max_failing_ratio: 0.0,
            evaluator: Box::new(CustomEvaluator(rule)),
            stats: RuleStats::default(),
        });
        self
    }

    /// Sets the detector name written into issues. Defaults to `checks`.
    pub fn with_detector(mut self, name: impl Into<String>) -> Self {
        self.detector = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &SuiteConfig {
        &self.config
    }

    /// Checks one batch: returns the issues of per-batch rules and updates the state of
    /// whole-table rules. Fails when a rule names a column that the batch lacks (the error
    /// lists the columns present) or a column of the wrong type.
    ///
    /// The rules run in parallel on the rayon pool, because each reads the batch and keeps
    /// its own state. The issues still come back in rule order.
    pub fn check_batch(&mut self, batch: &GovernedBatch) -> Result<Vec<Issue>> {
        use rayon::prelude::*;

        self.rows += batch.num_rows() as u64;
        self.batches += 1;
        let Self {
            config,
            rules,
            references,
            detector,
            ..
        } = self;
        let per_rule = rules
            .par_iter_mut()
            .map(|rule| {
                let scope = Scope {
                    rule: &rule.name,
                    config,
                    references,
                };
                let mut failures = Vec::new();
                rule.evaluator
                    .check_batch(batch, &scope, &mut rule.stats, &mut failures)?;
                Ok(failures
                    .into_iter()
                    .map(|failure| {
                        to_issue(failure, &rule.name, rule.kind, rule.severity, detector)
                    })
                    .collect::<Vec<Issue>>())
            })
            .collect::<Vec<Result<Vec<Issue>>>>();
        // Collected in order before the errors are looked at, so that the error returned is
        // the first rule's, as if the rules ran one after another.
        let mut issues = Vec::new();
        for found in per_rule {
            issues.extend(found?);
        }
        Ok(issues)
    }

    /// Finishes the whole-table rules and returns the report with their issues. Resets every
    /// rule, so the suite can check a new round.
    pub fn finish(&mut self) -> Result<SuiteReport> {
        let mut issues = Vec::new();
        let mut results = Vec::with_capacity(self.rules.len());
        for rule in &mut self.rules {
            let scope = Scope {
                rule: &rule.name,
                config: &self.config,
                references: &self.references,
            };
            let mut failures = Vec::new();
            rule.evaluator
                .finish(&scope, &mut rule.stats, &mut failures)?;
            issues.extend(failures.into_iter().map(|failure| {
                to_issue(
                    failure,
                    &rule.name,
                    rule.kind,
                    rule.severity,
                    &self.detector,
                )
            }));
            let stats = std::mem::take(&mut rule.stats);
            results.push(result_of(rule, stats));
        }
        let report = SuiteReport {
            passed: results.iter().all(|result| result.passed),
            results,
            rows: self.rows,
            batches: self.batches,
            issues,
        };
        self.rows = 0;
        self.batches = 0;
        Ok(report)
    }

    /// Checks every batch, then finishes. The report's `issues` hold the issues of all rules.
    pub fn check_all<'a>(
        &mut self,
        batches: impl IntoIterator<Item = &'a GovernedBatch>,
    ) -> Result<SuiteReport> {
        let mut issues = Vec::new();
        for batch in batches {
            issues.extend(self.check_batch(batch)?);
        }
        let mut report = self.finish()?;
        issues.append(&mut report.issues);
        report.issues = issues;
        Ok(report)
    }
}

fn result_of(rule: &CompiledRule, stats: RuleStats) -> RuleResult {
    let failing_ratio = if stats.evaluated == 0 {
        0.0
    } else {
        stats.failing as f64 / stats.evaluated as f64
    };
    let passed = stats
        .verdict
        .unwrap_or(failing_ratio <= rule.max_failing_ratio);
    let detail = stats.detail.unwrap_or_else(|| {
        format!(
            "{} of {} failed ({:.4}%)",
            stats.failing,
            stats.evaluated,
            failing_ratio * 100.0
        )
    });
    RuleResult {
        name: rule.name.clone(),
        check: rule.check.clone(),
        columns: rule.columns.clone(),
        passed,
        evaluated: stats.evaluated,
        failing: stats.failing,
        failing_ratio,
        metrics: stats.metrics,
        detail,
        incomplete: stats.incomplete,
        truncated: stats.truncated,
    }
}

fn to_issue(
    failure: Failure,
    rule: &str,
    kind: IssueKind,
    severity: Severity,
    detector: &str,
) -> Issue {
    let mut message = format!("rule {rule:?}: ");
    if let Some(observed) = &failure.observed {
        message.push_str(&format!("value {} ", quote(observed)));
    }
    message.push_str(&failure.message);
    Issue {
        row_id: failure.row_id,
        column: failure.column,
        kind: failure.kind.unwrap_or(kind),
        severity,
        detector: detector.to_string(),
        message,
        suggested: failure.suggested,
        confidence: 1.0,
    }
}

/// Quotes a value for a message, cut to [`MAX_QUOTED_CHARS`] characters at a character
/// boundary so that a long cell neither floods the log nor splits a multi-byte character.
pub(crate) fn quote(value: &str) -> String {
    let length = value.chars().count();
    if length <= MAX_QUOTED_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX_QUOTED_CHARS).collect();
        format!("{head:?}... ({length} characters)")
    }
}

/// Compiles one rule's check into its evaluator and issue kind.
fn compile(check: &RuleCheck, label: &str) -> Result<(Box<dyn Evaluator>, IssueKind)> {
    let invalid = |field: &str, problem: String| {
        Error::config(COMPONENT, format!("{label}: field `{field}` {problem}"))
    };
    let (lower, upper) = match check {
        RuleCheck::Length(check) => (
            check.min.map(|min| min as f64),
            check.max.map(|max| max as f64),
        ),
        RuleCheck::RowCount(check) => (
            check.min.map(|min| min as f64),
            check.max.map(|max| max as f64),
        ),
        RuleCheck::Range(check) => (check.min, check.max),
        _ => (None, None),
    };
    for (field, bound) in [("min", lower), ("max", upper)] {
        if bound.is_some_and(|bound| !bound.is_finite()) {
            return Err(invalid(field, "must be a finite number".into()));
        }
    }
    if let (Some(min), Some(max)) = (lower, upper)
        && min > max
    {
        return Err(invalid(
            "min",
            format!("is {min}, above max {max}; swap them"),
        ));
    }

    let check_kind = check.kind_name();
    let compiled: (Box<dyn Evaluator>, IssueKind) = match check {
        RuleCheck::NotNull(check) => (
            Box::new(cell::Completeness::new(
                &check.column,
                check.blank_is_missing,
                1.0,
            )),
            IssueKind::Missing,
        ),
        RuleCheck::Completeness(check) => {
            if !(0.0..=1.0).contains(&check.min_ratio) {
                return Err(invalid(
                    "min_ratio",
                    format!("is {}; use a share between 0 and 1", check.min_ratio),
                ));
            }
            (
                Box::new(cell::Completeness::new(
                    &check.column,
                    check.blank_is_missing,
                    check.min_ratio,
                )),
                IssueKind::Missing,
            )
        }
        RuleCheck::Unique(check) | RuleCheck::PrimaryKey(check) => {
            if check.columns.is_empty() {
                return Err(invalid("columns", "is empty; list the key columns".into()));
            }
            let primary = matches!(check_kind, "primary_key");
            (
                Box::new(unique::Unique::new(check.columns.clone(), primary)),
                IssueKind::Duplicate,
            )
        }
        RuleCheck::Range(check) => (
            Box::new(cell::Range::new(&check.column, check.min, check.max)),
            IssueKind::OutOfRange,
        ),
        RuleCheck::Allowed(check) => {
            if check.values.is_empty() {
                return Err(invalid(
                    "values",
                    "is empty; list at least one value".into(),
                ));
            }
            (
                Box::new(cell::Allowed::new(&check.column, &check.values)),
                IssueKind::NotAllowed,
            )
        }
        RuleCheck::Pattern(check) => {
            let regex = regex::Regex::new(&check.regex).map_err(|error| {
                invalid(
                    "regex",
                    format!("is not a valid regular expression: {error}"),
                )
            })?;
            (
                Box::new(cell::TextCheck::pattern(&check.column, regex)),
                IssueKind::Format,
            )
        }
        RuleCheck::Format(check) => (
            Box::new(cell::TextCheck::format(
                &check.column,
                check.format,
                check.pattern.clone(),
            )?),
            IssueKind::Format,
        ),
        RuleCheck::Length(check) => (
            Box::new(cell::TextCheck::length(&check.column, check.min, check.max)),
            IssueKind::Format,
        ),
        RuleCheck::Type(check) => (
            Box::new(cell::TextCheck::value_type(&check.column, check.expected)),
            IssueKind::Format,
        ),
        RuleCheck::RowCount(check) => (
            Box::new(keys::RowCount::new(check.min, check.max)),
            IssueKind::Inconsistent,
        ),
        RuleCheck::Freshness(check) => (
            Box::new(keys::Freshness::new(check.clone())),
            IssueKind::Inconsistent,
        ),
        RuleCheck::ForeignKey(check) => {
            if check.columns.is_empty() {
                return Err(invalid("columns", "is empty; list the key columns".into()));
            }
            if let Some(reference_columns) = &check.reference_columns
                && reference_columns.len() != check.columns.len()
            {
                return Err(invalid(
                    "reference_columns",
                    format!(
                        "lists {} columns for {} key columns; list one per key column",
                        reference_columns.len(),
                        check.columns.len()
                    ),
                ));
            }
            (
                Box::new(cell::ForeignKey::new(check.clone())),
                IssueKind::Inconsistent,
            )
        }
        RuleCheck::FunctionalDependency(check) => {
            if check.determinant.is_empty() {
                return Err(invalid(
                    "determinant",
                    "is empty; list the left-hand side columns".into(),
                ));
            }
            if check.dependent.is_empty() {
                return Err(invalid(
                    "dependent",
                    "is empty; list the right-hand side columns".into(),
                ));
            }
            if let Some(extra) = check.then.keys().find(|key| !check.dependent.contains(key)) {
                return Err(invalid(
                    "then",
                    format!(
                        "names column {extra:?}, which is not dependent; valid columns are: {}",
                        check.dependent.join(", ")
                    ),
                ));
            }
            (
                Box::new(keys::FunctionalDependency::new(check.clone())),
                IssueKind::Inconsistent,
            )
        }
        RuleCheck::Sql(check) => {
            if check.expression.trim().is_empty() {
                return Err(invalid(
                    "expression",
                    "is empty; write a boolean SQL expression".into(),
                ));
            }
            (
                Box::new(sql::SqlPredicate::new(&check.expression)),
                IssueKind::Inconsistent,
            )
        }
        RuleCheck::Drift(check) => {
            if !(check.min_p_value > 0.0 && check.min_p_value < 1.0) {
                return Err(invalid(
                    "min_p_value",
                    format!(
                        "is {}; use a probability between 0 and 1, such as 0.01",
                        check.min_p_value
                    ),
                ));
            }
            check
                .reference
                .validate()
                .map_err(|problem| invalid("reference", problem))?;
            (
                Box::new(drift::DriftState::new(check.clone())),
                IssueKind::Outlier,
            )
        }
    };
    Ok(compiled)
}
