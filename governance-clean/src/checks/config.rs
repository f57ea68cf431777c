//! The serde configuration of a check suite: one [`RuleConfig`] per rule, each holding one
//! [`RuleCheck`].
//!
//! In JSON a rule reads `{"name": "pm25 range", "check": {"range": {"column": "PM2.5", "min":
//! 0}}}`. [`SuiteConfig::from_json`] parses rule by rule, so that an error names the rule
//! (its position and name), the field and the valid options.

use std::collections::BTreeMap;

use governance_core::{Error, Result, Severity};
use serde::{Deserialize, Serialize};

use super::drift::ReferenceDistribution;

/// Component name used in config errors.
pub(crate) const COMPONENT: &str = "checks";

/// Configuration of a [`Suite`](super::Suite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteConfig {
    /// Rules, checked in order on every batch.
    pub rules: Vec<RuleConfig>,
    /// Largest number of distinct keys (or determinant values, for a functional dependency)
    /// that a whole-table rule tracks. Keys beyond it are not checked, and the rule's result
    /// sets `incomplete`. Defaults to 20 million, about 640 MiB for one key rule.
    #[serde(default = "default_max_tracked_keys")]
    pub max_tracked_keys: usize,
    /// Largest number of failing rows a whole-table rule keeps in order to name them at the
    /// end. Counts stay exact beyond it; only the issue list is cut, and the result sets
    /// `truncated`. Defaults to 100,000.
    #[serde(default = "default_max_tracked_failures")]
    pub max_tracked_failures: usize,
}

fn default_max_tracked_keys() -> usize {
    20_000_000
}

fn default_max_tracked_failures() -> usize {
    100_000
}

impl Default for SuiteConfig {
    fn default() -> Self {
        SuiteConfig {
            rules: Vec::new(),
            max_tracked_keys: default_max_tracked_keys(),
            max_tracked_failures: default_max_tracked_failures(),
        }
    }
}

impl SuiteConfig {
    /// Parses a suite from JSON. Unlike plain `serde_json::from_str`, an error names the rule
    /// by position and name before serde's message, which names the field and lists the
    /// valid options.
    pub fn from_json(text: &str) -> Result<SuiteConfig> {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|error| Error::config(COMPONENT, format!("invalid JSON: {error}")))?;
        let rules = match value
            .as_object_mut()
            .and_then(|object| object.remove("rules"))
        {
            Some(serde_json::Value::Array(rules)) => rules,
            Some(other) => {
                return Err(Error::config(
                    COMPONENT,
                    format!("field `rules` must be a list of rules, found {other}"),
                ));
            }
            None => {
                return Err(Error::config(
                    COMPONENT,
                    "missing field `rules`: list the rules to check".to_string(),
                ));
            }
        };
        value
            .as_object_mut()
            .map(|object| object.insert("rules".into(), serde_json::Value::Array(Vec::new())));
        let mut config: SuiteConfig = serde_json::from_value(value)
            .map_err(|error| Error::config(COMPONENT, error.to_string()))?;
        for (position, rule) in rules.into_iter().enumerate() {
            let label = rule_label(position, &rule);
            let rule: RuleConfig = serde_json::from_value(rule)
                .map_err(|error| Error::config(COMPONENT, format!("{label}: {error}")))?;
            config.rules.push(rule);
        }
        Ok(config)
    }
}

/// Describes a rule not yet parsed, as `rule 3 ("pm25 range")`.
fn rule_label(position: usize, rule: &serde_json::Value) -> String {
    match rule.get("name").and_then(serde_json::Value::as_str) {
        Some(name) => format!("rule {position} ({name:?})"),
        None => format!("rule {position}"),
    }
}

/// One rule: a check plus how its failures are reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Name in reports and issues. Defaults to the check and its columns, as
    /// `range(PM2.5)`.
    #[serde(default)]
    pub name: Option<String>,
    /// Check the rule runs.
    pub check: RuleCheck,
    /// Severity of the issues the rule logs. Defaults to `error`.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Share of checked values, in `[0, 1]`, that may fail while the rule still passes. Every
    /// failing cell is logged either way. Defaults to 0.
    #[serde(default)]
    pub max_failing_ratio: f64,
}

fn default_severity() -> Severity {
    Severity::Error
}

impl RuleConfig {
    /// Creates a rule with the default name, severity `error` and no tolerated failures.
    pub fn new(check: RuleCheck) -> Self {
        RuleConfig {
            name: None,
            check,
            severity: Severity::Error,
            max_failing_ratio: 0.0,
        }
    }

    /// Returns the configured name, or the check and its columns.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => {
                let columns = self.check.columns();
                if columns.is_empty() {
                    self.check.kind_name().to_string()
                } else {
                    format!("{}({})", self.check.kind_name(), columns.join(","))
                }
            }
        }
    }
}

/// The kinds of check, written in JSON as `{"KIND": {FIELDS}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleCheck {
    /// Every cell contains a value. Null cells fail, and so do empty or blank text cells unless
    /// `blank_is_missing` is false. Null and blank cells are counted apart.
    NotNull(NotNullCheck),
    /// At least `min_ratio` of the cells hold a value; each missing cell is logged.
    Completeness(CompletenessCheck),
    /// No two rows share a value of `columns` (a compound key when there are several). Rows
    /// with a null in the key are not compared. Whole-table: reported at the end.
    Unique(KeyCheck),
    /// Like `unique`, and no key column may be null.
    PrimaryKey(KeyCheck),
    /// Numbers lie in `[min, max]`; either bound may be left out. Null cells pass.
    Range(RangeCheck),
    /// Values are members of `values`, compared as text. Null cells pass.
    Allowed(AllowedCheck),
    /// Text matches the regular expression `regex` (Rust `regex` syntax; anchor it with `^`
    /// and `$` for a whole-value match). Null cells pass.
    Pattern(PatternCheck),
    /// Text has a known format. Null cells pass.
    Format(FormatCheck),
    /// Text length in Unicode scalar values (characters, not bytes) lies in `[min, max]`.
    Length(LengthCheck),
    /// Values conform to a value type: typed columns of that type pass, and text values must
    /// parse as it.
    Type(TypeCheck),
    /// The table contains between `min` and `max` rows. Whole-table.
    RowCount(RowCountCheck),
    /// The newest value of a time column is at most `max_age_seconds` old. Whole-table.
    Freshness(FreshnessCheck),
    /// Every non-null key of `columns` exists in the reference table `reference` (registered
    /// with [`Suite::with_reference`](super::Suite::with_reference)).
    ForeignKey(ForeignKeyCheck),
    /// `determinant` -> `dependent`: rows that agree on the determinant agree on the
    /// dependent columns, optionally only on rows that match `when` (a conditional functional
    /// dependency) and with the constant dependent values `then`. Whole-table unless `then`
    /// is set.
    FunctionalDependency(FunctionalDependencyCheck),
    /// A boolean SQL expression over the row's columns, run by DataFusion, such as
    /// `"end_time >= start_time"`. Rows where it is false fail; null passes.
    Sql(SqlCheck),
    /// The column's distribution has not drifted from a stored reference: Kolmogorov-Smirnov
    /// for numbers, chi-square for categories. Whole-table.
    Drift(DriftCheck),
}

impl RuleCheck {
    /// Returns the snake_case name of the check kind.
    pub fn kind_name(&self) -> &'static str {
        match self {
            RuleCheck::NotNull(_) => "not_null",
            RuleCheck::Completeness(_) => "completeness",
            RuleCheck::Unique(_) => "unique",
            RuleCheck::PrimaryKey(_) => "primary_key",
            RuleCheck::Range(_) => "range",
            RuleCheck::Allowed(_) => "allowed",
            RuleCheck::Pattern(_) => "pattern",
            RuleCheck::Format(_) => "format",
            RuleCheck::Length(_) => "length",
            RuleCheck::Type(_) => "type",
            RuleCheck::RowCount(_) => "row_count",
            RuleCheck::Freshness(_) => "freshness",
            RuleCheck::ForeignKey(_) => "foreign_key",
            RuleCheck::FunctionalDependency(_) => "functional_dependency",
            RuleCheck::Sql(_) => "sql",
            RuleCheck::Drift(_) => "drift",
        }
    }

    /// Returns the columns the check reads, in config order. A SQL check returns none,
    /// because DataFusion resolves its columns.
    pub fn columns(&self) -> Vec<String> {
        match self {
            RuleCheck::NotNull(check) => vec![check.column.clone()],
            RuleCheck::Completeness(check) => vec![check.column.clone()],
            RuleCheck::Unique(check) | RuleCheck::PrimaryKey(check) => check.columns.clone(),
            RuleCheck::Range(check) => vec![check.column.clone()],
            RuleCheck::Allowed(check) => vec![check.column.clone()],
            RuleCheck::Pattern(check) => vec![check.column.clone()],
            RuleCheck::Format(check) => vec![check.column.clone()],
            RuleCheck::Length(check) => vec![check.column.clone()],
            RuleCheck::Type(check) => vec![check.column.clone()],
            RuleCheck::RowCount(_) | RuleCheck::Sql(_) => Vec::new(),
            RuleCheck::Freshness(check) => vec![check.column.clone()],
            RuleCheck::ForeignKey(check) => check.columns.clone(),
            RuleCheck::FunctionalDependency(check) => {
                let mut columns = check.determinant.clone();
                columns.extend(check.dependent.iter().cloned());
                columns.extend(check.when.keys().cloned());
                columns
            }
            RuleCheck::Drift(check) => vec![check.column.clone()],
        }
    }
}

/// Settings of `not_null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotNullCheck {
    /// Column checked.
    pub column: String,
    /// Whether an empty or whitespace-only text cell counts as missing. Defaults to true.
    #[serde(default = "default_true")]
    pub blank_is_missing: bool,
}

/// Settings of `completeness`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletenessCheck {
    /// Column checked.
    pub column: String,
    /// Smallest share of present values, in `[0, 1]`, for the rule to pass.
    pub min_ratio: f64,
    /// Whether an empty or whitespace-only text cell counts as missing. Defaults to true.
    #[serde(default = "default_true")]
    pub blank_is_missing: bool,
}

fn default_true() -> bool {
    true
}

/// Settings of `unique` and `primary_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCheck {
    /// Key columns; more than one makes a compound key.
    pub columns: Vec<String>,
}

/// Settings of `range`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeCheck {
    /// Numeric column checked.
    pub column: String,
    /// Smallest allowed value, inclusive.
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest allowed value, inclusive.
    #[serde(default)]
    pub max: Option<f64>,
}

/// Settings of `allowed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedCheck {
    /// Column checked; values are compared as text.
    pub column: String,
    /// Allowed values.
    pub values: Vec<String>,
}

/// Settings of `pattern`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternCheck {
    /// Column checked; values are compared as text.
    pub column: String,
    /// Regular expression in Rust `regex` syntax.
    pub regex: String,
}

/// Settings of `format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatCheck {
    /// Text column checked.
    pub column: String,
    /// Expected format.
    pub format: FormatKind,
    /// A chrono `strftime` pattern for `date` and `timestamp`, such as `%d/%m/%Y`. Defaults to
    /// ISO 8601: `%Y-%m-%d` for dates, RFC 3339 or `%Y-%m-%d %H:%M:%S` for timestamps.
    #[serde(default)]
    pub pattern: Option<String>,
}

/// Text formats that `format` recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatKind {
    /// A calendar date.
    Date,
    /// A date and time.
    Timestamp,
    /// An e-mail address: a local part, `@`, and a domain with a dot.
    Email,
    /// An absolute URL with a scheme and a host, such as `https://example.org/a`.
    Url,
    /// A JSON document.
    Json,
    /// A UUID in its 36-character hyphenated form.
    Uuid,
}

/// Settings of `length`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthCheck {
    /// Column checked; values are measured as text.
    pub column: String,
    /// Minimum number of characters.
    #[serde(default)]
    pub min: Option<usize>,
    /// Most characters allowed.
    #[serde(default)]
    pub max: Option<usize>,
}

/// Settings of `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeCheck {
    /// Column checked.
    pub column: String,
    /// Type every value must have.
    pub expected: ValueType,
}

/// Value types for `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A whole number that fits in 64 bits.
    Integer,
    /// Any finite number, whole or not.
    Decimal,
    /// `true` or `false` (any case), `1` or `0`.
    Boolean,
    /// An ISO 8601 calendar date.
    Date,
    /// An ISO 8601 or RFC 3339 date and time.
    Timestamp,
    /// Text; every value passes.
    Text,
}

/// Settings of `row_count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowCountCheck {
    /// Minimum number of rows.
    #[serde(default)]
    pub min: Option<u64>,
    /// Most rows allowed.
    #[serde(default)]
    pub max: Option<u64>,
}

/// Settings of `freshness`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshnessCheck {
    /// Time column: a timestamp, a date, or text that Arrow casts to a timestamp.
    pub column: String,
    /// Largest allowed age of the newest value, in seconds.
    pub max_age_seconds: u64,
    /// Time the age is measured from, in milliseconds since the Unix epoch. Defaults to the
    /// system clock when the suite finishes.
    #[serde(default)]
    pub now_ms: Option<i64>,
}

/// Settings of `foreign_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyCheck {
    /// Referencing columns of the checked table.
    pub columns: Vec<String>,
    /// Name of the reference table.
    pub reference: String,
    /// Referenced columns of the reference table, in the order of `columns`. Defaults to the
    /// same names.
    #[serde(default)]
    pub reference_columns: Option<Vec<String>>,
}

/// Settings of `functional_dependency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionalDependencyCheck {
    /// Left-hand side columns.
    pub determinant: Vec<String>,
    /// Right-hand side columns.
    pub dependent: Vec<String>,
    /// Condition on the rows the dependency applies to, as column to text value; empty for a
    /// plain functional dependency.
    #[serde(default)]
    pub when: BTreeMap<String, String>,
    /// Constant dependent values, as column to text value, for a constant conditional
    /// dependency: every row matching `when` must hold them. Each key must be in `dependent`.
    #[serde(default)]
    pub then: BTreeMap<String, String>,
}

/// Settings of `sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlCheck {
    /// Boolean SQL expression in DataFusion's dialect. As in SQL, unquoted names are read in
    /// lower case, so quote a name with capitals or dots: `"PM2.5" <= "PM10"`.
    pub expression: String,
}

/// Settings of `drift`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftCheck {
    /// Column checked.
    pub column: String,
    /// Stored reference distribution, usually from a profile of earlier data.
    pub reference: ReferenceDistribution,
    /// The rule fails when the test's p-value falls below this. Defaults to 0.01.
    #[serde(default = "default_min_p_value")]
    pub min_p_value: f64,
}

fn default_min_p_value() -> f64 {
    0.01
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_names_rule_and_options() {
        let error = SuiteConfig::from_json(
            r#"{"rules": [
                {"check": {"not_null": {"column": "a"}}},
                {"name": "speed", "check": {"between": {"column": "v"}}}
            ]}"#,
        )
        .expect_err("unknown kind");
        let message = error.to_string();
        assert!(message.contains("rule 1 (\"speed\")"), "{message}");
        assert!(message.contains("between"), "{message}");
        assert!(message.contains("functional_dependency"), "{message}");
    }

    #[test]
    fn unknown_field_names_field_and_options() {
        let error = SuiteConfig::from_json(
            r#"{"rules": [{"check": {"range": {"column": "v", "minimum": 0}}}]}"#,
        )
        .expect_err("unknown field");
        let message = error.to_string();
        assert!(message.contains("rule 0"), "{message}");
        assert!(message.contains("minimum"), "{message}");
        assert!(message.contains("`min`"), "{message}");
    }

    #[test]
    fn invalid_enum_value_lists_options() {
        let error = SuiteConfig::from_json(
            r#"{"rules": [{"check": {"format": {"column": "v", "format": "phone"}}}]}"#,
        )
        .expect_err("unknown format");
        let message = error.to_string();
        assert!(
            message.contains("email") && message.contains("json"),
            "{message}"
        );
    }

    #[test]
    fn default_names_list_columns() {
        let config = SuiteConfig::from_json(
            r#"{"rules": [{"check": {"unique": {"columns": ["a", "b"]}}}]}"#,
        )
        .expect("parses");
        assert_eq!(config.rules[0].display_name(), "unique(a,b)");
        assert_eq!(config.max_tracked_failures, 100_000);
    }

    #[test]
    fn rules_must_be_a_list() {
        let error = SuiteConfig::from_json(r#"{"rules": 3}"#).expect_err("not a list");
        assert!(error.to_string().contains("list of rules"), "{error}");
        let error = SuiteConfig::from_json(r#"{}"#).expect_err("missing");
        assert!(
            error.to_string().contains("missing field `rules`"),
            "{error}"
        );
    }
}
