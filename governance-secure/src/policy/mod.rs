//! Attribute-based access policies: which columns and rows of a data set a subject may see, and
//! which columns are masked, for a given purpose and time. Access is denied by default.
//!
//! A policy holds [`PolicyRule`]s and, as a short form for role-based access, one
//! [`RolePolicy`] per role. A role entry acts as an allow rule with id `role:<name>` that
//! applies to every request with that role.
//!
//! # How a decision is made
//!
//! 1. A rule applies when the request's subject attributes (id, role, department,
//!    clearance), the data set, the purpose and the request time all match it.
//! 2. An applying deny rule without `columns`, `min_sensitivity` or `row_filter` refuses the
//!    whole request. Deny wins over every allow.
//! 3. The columns granted are the union of the applying allow rules' columns, each limited
//!    by the rule's `max_sensitivity`. Columns refused by an applying deny rule, and columns
//!    above the subject's clearance when the request gives one, are then removed. No column
//!    left means the request is denied.
//! 4. Masks and filters accumulate, so the strictest applies: every applying allow rule's
//!    column masks (redact over type tag over the rest), every allow rule's row filter (a row
//!    must pass all), and every deny rule's row filter (a matching row is withheld).
//!    Personal data in text is masked unless every applying allow rule turns it off.
//!
//! A column without a sensitivity annotation in its field metadata counts as
//! [`UNCLASSIFIED_SENSITIVITY`]. A rule that names a column the data lacks is an error at
//! decision time, listing the columns that exist; scope such rules with `datasets`. Role
//! entries are the exception: they name no data set, so their missing columns are ignored.
//!
//! Every decision names the ids of the rules that produced it.
//!
//! ```
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::AccessRequest;
//! use governance_secure::policy::AccessPolicy;
//!
//! let policy = AccessPolicy::from_toml_str(r#"
//!     [[rules]]
//!     id = "analysts-read-tickets"
//!     effect = "allow"
//!     subjects = { roles = ["analyst"] }
//!     datasets = ["tickets"]
//!     columns = ["district", "note"]
//!     column_masks = { note = "type_tag" }
//!     row_filter = [{ column = "district", op = "in", values = ["朝阳"] }]
//! "#)?;
//! let schema = Schema::new(vec![
//!     Field::new("district", DataType::Utf8, true),
//!     Field::new("note", DataType::Utf8, true),
//!     Field::new("phone", DataType::Utf8, true),
//! ]);
//! let request = AccessRequest::new("analyst", "monthly report");
//! let decision = policy.decide(&request, "tickets", &schema, 0)?;
//! assert_eq!(decision.visible_columns, ["district", "note"]);
//! assert_eq!(decision.rules, ["analysts-read-tickets"]);
//! assert!(policy.decide(&AccessRequest::new("guest", "x"), "tickets", &schema, 0).is_err());
//! # Ok::<(), governance_core::Error>(())
//! ```

pub(crate) mod apply;
mod filter;
mod rego;
mod rule;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use governance_core::{AccessRequest, Error, Result, Semantic, Sensitivity};
use serde::{Deserialize, Serialize};

pub use apply::{AppliedPolicy, ColumnMaskFallback, apply_decision, apply_decision_with};
pub use filter::{CompareOp, Literal, RowPredicate};
pub use rego::RegoPolicy;
pub use rule::{Day, Effect, PolicyRule, SubjectMatch, TimeWindow};

use crate::mask::MaskOperator;
use rule::{COMPONENT, rule_error};

/// The entry of [`RolePolicy::visible_columns`] and [`PolicyRule::columns`] that stands for
/// every column.
pub const ALL_COLUMNS: &str = "*";

/// Sensitivity assumed for a column whose field metadata has none.
pub const UNCLASSIFIED_SENSITIVITY: Sensitivity = Sensitivity::Internal;

/// Access rights of one role, the short form of an allow rule for that role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePolicy {
    /// Columns the role may see, or `["*"]` for every column. Columns missing from the data
    /// are ignored, because role policies are written ahead of the data.
    pub visible_columns: Vec<String>,
    /// Whether personal data in visible text columns is masked. Default true.
    #[serde(default = "default_mask_personal_data")]
    pub mask_personal_data: bool,
}

fn default_mask_personal_data() -> bool {
    true
}

impl RolePolicy {
    /// Creates a policy that shows `columns` with personal data masked.
    pub fn columns<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RolePolicy {
            visible_columns: columns.into_iter().map(Into::into).collect(),
            mask_personal_data: true,
        }
    }

    /// Creates a policy that shows every column with personal data masked.
    pub fn all_columns() -> Self {
        RolePolicy::columns([ALL_COLUMNS])
    }

    /// Returns the policy with masking of personal data switched on or off.
    pub fn with_masking(mut self, mask_personal_data: bool) -> Self {
        self.mask_personal_data = mask_personal_data;
        self
    }
}

/// Access policy: role entries and rules. The default policy has neither and so denies
/// everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicy {
    /// Role-based grants by role name.
    #[serde(default)]
    pub roles: BTreeMap<String, RolePolicy>,
    /// Attribute-based rules.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
}

/// A row filter to apply, with the rule it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFilter {
    /// Id of the rule.
    pub rule: String,
    /// Allow: keep rows that match every predicate. Deny: withhold rows that match every
    /// predicate.
    pub effect: Effect,
    /// The predicates, all of which must hold.
    pub predicates: Vec<RowPredicate>,
}

/// The outcome of an allowed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDecision {
    /// The subject's id, or its role when the request names no id.
    pub subject: String,
    /// The role that made the request.
    pub role: String,
    /// Columns the subject may see, in the order of the data.
    pub visible_columns: Vec<String>,
    /// Columns named by the subject's role entry that the data does not have.
    pub missing_columns: Vec<String>,
    /// Whether personal data in the visible text columns is masked.
    pub mask_personal_data: bool,
    /// Mask operator per visible column whose every value is masked.
    pub column_masks: BTreeMap<String, MaskOperator>,
    /// Row filters to apply.
    pub row_filters: Vec<RuleFilter>,
    /// Ids of the rules that produced the decision, allow rules first.
    pub rules: Vec<String>,
}

/// Reason and rule ids of a denied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denial {
    pub(crate) reason: String,
    pub(crate) rules: Vec<String>,
}

impl AccessPolicy {
    /// Returns the policy with `role` given `policy`.
    pub fn with_role(mut self, role: impl Into<String>, policy: RolePolicy) -> Self {
        self.roles.insert(role.into(), policy);
        self
    }

    /// Returns the policy with one more rule.
    pub fn with_rule(mut self, rule: PolicyRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Parses a policy from TOML and validates it. Unknown fields are rejected.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let policy: AccessPolicy = toml::from_str(text)
            .map_err(|error| Error::config(COMPONENT, format!("invalid TOML policy: {error}")))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Parses a policy from JSON and validates it. Unknown fields are rejected.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let policy: AccessPolicy = serde_json::from_str(text)
            .map_err(|error| Error::config(COMPONENT, format!("invalid JSON policy: {error}")))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Reads a policy file, TOML when its name ends in `.toml` and JSON otherwise.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
        let parsed = if path.extension().is_some_and(|ext| ext == "toml") {
            AccessPolicy::from_toml_str(&text)
        } else {
            AccessPolicy::from_json_str(&text)
        };
        parsed.map_err(|error| match error {
            Error::Config { message, .. } => {
                Error::config(format!("{COMPONENT} {}", path.display()), message)
            }
            other => other,
        })
    }

    /// Checks rule ids for uniqueness and each rule's fields.
    pub fn validate(&self) -> Result<()> {
        let mut ids = BTreeSet::new();
        for rule in &self.rules {
            rule.validate()?;
            if !ids.insert(rule.id.as_str()) {
                return Err(rule_error(
                    &rule.id,
                    "id",
                    "is used by two rules; ids must be unique",
                ));
            }
        }
        Ok(())
    }

    /// Decides what `request` may see of data set `dataset` with `schema` at `time_ms`
    /// (milliseconds since the Unix epoch; the request's own time wins when it has one).
    ///
    /// Fails with [`Error::AccessDenied`] when no rule allows the request, a deny rule
    /// refuses it, or no granted column remains; the reason names the rules. Fails with a
    /// config error when an applying rule names a column the data lacks.
    pub fn decide(
        &self,
        request: &AccessRequest,
        dataset: &str,
        schema: &Schema,
        time_ms: i64,
    ) -> Result<AccessDecision> {
        self.evaluate(request, dataset, schema, time_ms)?
            .map_err(|denial| Error::AccessDenied {
                role: request.role.clone(),
                reason: denial.reason,
            })
    }

    /// Like [`AccessPolicy::decide`], but returns a denial as a value with its rule ids.
    pub(crate) fn evaluate(
        &self,
        request: &AccessRequest,
        dataset: &str,
        schema: &Schema,
        time_ms: i64,
    ) -> Result<std::result::Result<AccessDecision, Denial>> {
        let time_ms = request.time_ms.unwrap_or(time_ms);
        let columns = column_levels(schema);
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();

        let applying: Vec<&PolicyRule> = self
            .rules
            .iter()
            .filter(|rule| rule.applies(request, dataset, time_ms))
            .collect();
        for rule in &applying {
            for column in rule.named_columns() {
                if !names.iter().any(|name| name == column) {
                    return Err(missing_column_in(&rule.id, column, dataset, &names));
                }
            }
        }

        let blocking: Vec<String> = applying
            .iter()
            .filter(|rule| rule.denies_everything())
            .map(|rule| rule.id.clone())
            .collect();
        if !blocking.is_empty() {
            return Ok(Err(Denial {
                reason: format!("denied by rule(s) {}", blocking.join(", ")),
                rules: blocking,
            }));
        }

        let role_entry = self.roles.get(&request.role);
        let allows: Vec<&PolicyRule> = applying
            .iter()
            .copied()
            .filter(|rule| rule.effect == Effect::Allow)
            .collect();
        if allows.is_empty() && role_entry.is_none() {
            return Ok(Err(Denial {
                reason: self.no_rule_reason(request, dataset),
                rules: Vec::new(),
            }));
        }

        let mut granted = BTreeSet::new();
        let mut rules = Vec::new();
        let mut missing_columns = Vec::new();
        if let Some(entry) = role_entry {
            let everything = entry.visible_columns.iter().any(|name| name == ALL_COLUMNS);
            for name in &names {
                if everything || entry.visible_columns.contains(name) {
                    granted.insert(name.clone());
                }
            }
            missing_columns = entry
                .visible_columns
                .iter()
                .filter(|name| name.as_str() != ALL_COLUMNS && !names.contains(name))
                .cloned()
                .collect();
            if entry.visible_columns.is_empty() {
                return Ok(Err(Denial {
                    reason: "the role's visible_columns is empty; list the columns it may see \
                             or \"*\""
                        .into(),
                    rules: vec![format!("role:{}", request.role)],
                }));
            }
            rules.push(format!("role:{}", request.role));
        }
        for rule in &allows {
            let everything = rule.columns.iter().any(|name| name == ALL_COLUMNS);
            for (name, level) in &columns {
                let listed = everything || rule.columns.contains(name);
                if listed && rule.max_sensitivity.is_none_or(|max| *level <= max) {
                    granted.insert(name.clone());
                }
            }
            rules.push(rule.id.clone());
        }

        let mut denied_by = Vec::new();
        for rule in applying.iter().filter(|rule| rule.effect == Effect::Deny) {
            let before = granted.len();
            for (name, level) in &columns {
                let named = rule.columns.contains(name);
                let too_sensitive = rule.min_sensitivity.is_some_and(|min| *level >= min);
                if named || too_sensitive {
                    granted.remove(name);
                }
            }
            if granted.len() < before || !rule.row_filter.is_empty() {
                denied_by.push(rule.id.clone());
            }
        }
        if let Some(clearance) = request.clearance {
            for (name, level) in &columns {
                if *level > clearance {
                    granted.remove(name);
                }
            }
        }

        let visible_columns: Vec<String> = names
            .iter()
            .filter(|name| granted.contains(*name))
            .cloned()
            .collect();
        if visible_columns.is_empty() {
            let reason = if allows.is_empty() {
                let listed =
                    role_entry.map_or_else(String::new, |entry| entry.visible_columns.join(", "));
                format!(
                    "none of the role's visible columns ({listed}) exists in the data; columns \
                     are: {}",
                    names.join(", ")
                )
            } else {
                format!(
                    "no column is left: the allowing rules ({}) grant none of the columns {} \
                     above the deny rules and the subject's clearance",
                    rules.join(", "),
                    names.join(", ")
                )
            };
            rules.extend(denied_by);
            return Ok(Err(Denial { reason, rules }));
        }

        let mut column_masks: BTreeMap<String, MaskOperator> = BTreeMap::new();
        for rule in &allows {
            for (column, operator) in &rule.column_masks {
                if !granted.contains(column) {
                    continue;
                }
                let stricter = column_masks
                    .get(column)
                    .is_none_or(|current| mask_strictness(*operator) > mask_strictness(*current));
                if stricter {
                    column_masks.insert(column.clone(), *operator);
                }
            }
        }
        let row_filters: Vec<RuleFilter> = applying
            .iter()
            .filter(|rule| !rule.row_filter.is_empty())
            .map(|rule| RuleFilter {
                rule: rule.id.clone(),
                effect: rule.effect,
                predicates: rule.row_filter.clone(),
            })
            .collect();
        let mask_personal_data = role_entry.is_some_and(|entry| entry.mask_personal_data)
            || allows.iter().any(|rule| rule.mask_personal_data);
        rules.extend(denied_by);
        Ok(Ok(AccessDecision {
            subject: request.subject().to_string(),
            role: request.role.clone(),
            visible_columns,
            missing_columns,
            mask_personal_data,
            column_masks,
            row_filters,
            rules,
        }))
    }

    /// Builds the reason of a deny by default, listing the roles the policy names.
    fn no_rule_reason(&self, request: &AccessRequest, dataset: &str) -> String {
        if self.roles.is_empty() && self.rules.is_empty() {
            return "the access policy names no roles and no rules; add a role under roles or \
                    an allow rule to grant access"
                .to_string();
        }
        let mut reason = format!(
            "no rule allows subject {:?} (role {:?}, department {:?}) to read data set \
             {dataset:?} for purpose {:?} at this time (deny by default)",
            request.subject(),
            request.role,
            request.department.as_deref().unwrap_or("none"),
            request.purpose
        );
        if self.rules.is_empty() {
            reason = "the access policy does not name this role".to_string();
        }
        if !self.roles.is_empty() {
            let known: Vec<&str> = self.roles.keys().map(String::as_str).collect();
            reason.push_str(&format!("; known roles are: {}", known.join(", ")));
        }
        reason
    }
}

/// Returns each column of `schema` with its sensitivity, [`UNCLASSIFIED_SENSITIVITY`] where
/// the field metadata has none.
pub(crate) fn column_levels(schema: &Schema) -> Vec<(String, Sensitivity)> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let level = Semantic::from_field(field).sensitivity;
            (
                field.name().clone(),
                level.unwrap_or(UNCLASSIFIED_SENSITIVITY),
            )
        })
        .collect()
}

/// Orders mask operators by how much of the value they hide: redact, then type tag, then the
/// rest.
fn mask_strictness(operator: MaskOperator) -> u8 {
    if operator == MaskOperator::Redact {
        3
    } else if operator == MaskOperator::TypeTag {
        2
    } else {
        1
    }
}

fn missing_column_in(rule: &str, column: &str, dataset: &str, names: &[String]) -> Error {
    rule_error(
        rule,
        "columns",
        format!(
            "column {column:?} is not in data set {dataset:?}, whose columns are: {}; fix the \
             name or limit the rule with datasets",
            names.join(", ")
        ),
    )
}

/// Builds the error for a rule that names a column `batch` lacks.
pub(crate) fn missing_column_error(rule: &str, column: &str, batch: &RecordBatch) -> Error {
    let schema = batch.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    rule_error(
        rule,
        "row_filter",
        format!(
            "column {column:?} is not in the data, whose columns are: {}",
            names.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests;
