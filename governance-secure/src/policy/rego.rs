//! Access decisions from a Rego policy, evaluated in process by `regorus`, so that a city
//! that already writes Open Policy Agent policies can use them in the guard.
//!
//! # What the policy receives and returns
//!
//! The policy's package (by default `governance.access`) is evaluated once per decision with
//! this `input`:
//!
//! ```json
//! {"subject": {"id": "u-17", "role": "analyst", "department": "transport",
//!              "clearance": "sensitive"},
//!  "purpose": "monthly report", "dataset": "tickets", "time_ms": 1733400000000,
//!  "columns": [{"name": "district", "sensitivity": "internal"}, ...]}
//! ```
//!
//! `department` and `clearance` are `null` when the request has none, and a column without a
//! sensitivity annotation has `"internal"`. The package's rules are read by name:
//!
//! | rule | type | meaning |
//! |---|---|---|
//! | `allow` | boolean | must be `true` to grant anything |
//! | `deny` | set or array of strings | reasons to refuse; any reason refuses the request (deny wins) |
//! | `columns` | set or array of strings | visible columns, or `"*"` for all; required to grant |
//! | `column_masks` | object | mask operator per column, such as `{"phone": "partial"}` |
//! | `row_filter` | array of objects | predicates that a row must all pass, as in TOML rules |
//! | `mask_personal_data` | boolean | masks personal data in text; `true` when undefined |
//! | `rules` | set or array of strings | names of the policy's rules that granted, for the audit |
//!
//! Other rules in the package are helpers and are ignored. As with [`super::AccessPolicy`],
//! access is denied by default, columns above the request's clearance are removed, and a
//! column the data lacks is a config error that lists the columns there are. Every decision
//! names `rego:<package>` and the policy's `rules`.
//!
//! ```
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::AccessRequest;
//! use governance_secure::policy::RegoPolicy;
//!
//! let mut policy = RegoPolicy::from_rego("city.rego", r#"
//!     package governance.access
//!     import rego.v1
//!     default allow := false
//!     allow if input.subject.role == "analyst"
//!     columns contains "district"
//!     rules contains "analysts-read-districts" if allow
//! "#)?;
//! let schema = Schema::new(vec![
//!     Field::new("district", DataType::Utf8, true),
//!     Field::new("phone", DataType::Utf8, true),
//! ]);
//! let decision = policy.decide(&AccessRequest::new("analyst", "report"), "tickets", &schema, 0)?;
//! assert_eq!(decision.visible_columns, ["district"]);
//! assert!(policy.decide(&AccessRequest::new("guest", "x"), "tickets", &schema, 0).is_err());
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use arrow::datatypes::Schema;
use governance_core::{AccessRequest, Error, Result, Sensitivity};
use serde_json::{Value as Json, json};

use super::{ALL_COLUMNS, AccessDecision, Denial, Effect, RowPredicate, RuleFilter, column_levels};
use crate::mask::MaskOperator;

/// Name used in the errors of Rego policies.
const COMPONENT: &str = "rego policy";

/// An access policy written in Rego. See the [module docs](self) for its contract.
pub struct RegoPolicy {
    engine: regorus::Engine,
    package: String,
    /// Names of the loaded modules, shown by `Debug`.
    modules: Vec<String>,
}

impl std::fmt::Debug for RegoPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegoPolicy")
            .field("package", &self.package)
            .field("modules", &self.modules)
            .finish_non_exhaustive()
    }
}

impl RegoPolicy {
    /// Package evaluated unless [`RegoPolicy::with_package`] names another.
    pub const DEFAULT_PACKAGE: &'static str = "governance.access";

    /// Parses one module written in Rego v1 syntax. `name` identifies it in errors.
    pub fn from_rego(name: &str, rego: &str) -> Result<Self> {
        let policy = RegoPolicy {
            engine: regorus::Engine::new(),
            package: Self::DEFAULT_PACKAGE.to_string(),
            modules: Vec::new(),
        };
        policy.with_module(name, rego)
    }

    /// Reads and parses a `.rego` file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
        Self::from_rego(&path.display().to_string(), &text)
    }

    /// Adds another module, such as a library of helper rules.
    pub fn with_module(mut self, name: &str, rego: &str) -> Result<Self> {
        self.engine
            .add_policy(name.to_string(), rego.to_string())
            .map_err(|error| {
                Error::config(
                    COMPONENT,
                    format!("module {name:?} does not parse: {error}"),
                )
            })?;
        self.modules.push(name.to_string());
        Ok(self)
    }

    /// Adds a JSON document under `data`, such as role lists kept outside the policy.
    pub fn with_data_json(mut self, json: &str) -> Result<Self> {
        let data = regorus::Value::from_json_str(json).map_err(|error| {
            Error::config(COMPONENT, format!("the data document is not JSON: {error}"))
        })?;
        self.engine.add_data(data).map_err(|error| {
            Error::config(
                COMPONENT,
                format!("the data document cannot be added: {error}"),
            )
        })?;
        Ok(self)
    }

    /// Evaluates `package` (dotted, without `data.`) instead of the default.
    pub fn with_package(mut self, package: impl Into<String>) -> Self {
        self.package = package.into();
        self
    }

    /// Returns the package whose rules decide.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// Decides what `request` may see of data set `dataset` with `schema` at `time_ms`, as
    /// [`super::AccessPolicy::decide`] does.
    pub fn decide(
        &mut self,
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

    /// Like [`RegoPolicy::decide`], but returns a denial as a value with its rule names.
    pub(crate) fn evaluate(
        &mut self,
        request: &AccessRequest,
        dataset: &str,
        schema: &Schema,
        time_ms: i64,
    ) -> Result<std::result::Result<AccessDecision, Denial>> {
        let time_ms = request.time_ms.unwrap_or(time_ms);
        let columns = column_levels(schema);
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        let mut outcome = self.run(request, dataset, &columns, time_ms)?;

        let source = format!("rego:{}", self.package);
        let mut rules = vec![source.clone()];
        let granting: Option<Vec<String>> = self.rule(&mut outcome, "rules", "a set of strings")?;
        rules.extend(granting.unwrap_or_default());
        let deny: Option<Vec<String>> = self.rule(&mut outcome, "deny", "a set of strings")?;
        let deny = deny.unwrap_or_default();
        if !deny.is_empty() {
            return Ok(Err(Denial {
                reason: format!(
                    "denied by Rego policy {}: {}",
                    self.package,
                    deny.join("; ")
                ),
                rules,
            }));
        }
        // Grants are read only once the request is allowed, so a rule that only makes sense
        // for allowed subjects (a row filter on their department) cannot fail other requests.
        let allow: Option<bool> = self.rule(&mut outcome, "allow", "a boolean")?;
        if allow != Some(true) {
            return Ok(Err(Denial {
                reason: format!(
                    "data.{}.allow is not true for subject {:?} (role {:?}) reading data set \
                     {dataset:?} for purpose {:?} (deny by default)",
                    self.package,
                    request.subject(),
                    request.role,
                    request.purpose
                ),
                rules: Vec::new(),
            }));
        }
        let listed: Option<Vec<String>> = self.rule(&mut outcome, "columns", "a set of strings")?;
        let Some(listed) = listed else {
            return Ok(Err(Denial {
                reason: format!(
                    "data.{}.allow is true but data.{}.columns is undefined; the policy must \
                     list the visible columns or \"*\"",
                    self.package, self.package
                ),
                rules,
            }));
        };
        let masks: Option<BTreeMap<String, MaskOperator>> = self.rule(
            &mut outcome,
            "column_masks",
            "an object of mask operator names",
        )?;
        let masks = masks.unwrap_or_default();
        let row_filter: Option<Vec<RowPredicate>> =
            self.rule(&mut outcome, "row_filter", "an array of row predicates")?;
        let row_filter = row_filter.unwrap_or_default();
        let mask_personal_data: Option<bool> =
            self.rule(&mut outcome, "mask_personal_data", "a boolean")?;

        let named = listed
            .iter()
            .filter(|name| name.as_str() != ALL_COLUMNS)
            .chain(masks.keys())
            .chain(row_filter.iter().map(|predicate| &predicate.column));
        for column in named {
            if !names.contains(column) {
                return Err(Error::config(
                    COMPONENT,
                    format!(
                        "package {} names column {column:?}, which is not in data set \
                         {dataset:?}, whose columns are: {}; fix the name or condition it on \
                         input.dataset",
                        self.package,
                        names.join(", ")
                    ),
                ));
            }
        }
        for predicate in &row_filter {
            predicate.validate(&source)?;
        }

        let everything = listed.iter().any(|name| name == ALL_COLUMNS);
        let visible_columns: Vec<String> = columns
            .iter()
            .filter(|(name, level)| {
                (everything || listed.contains(name))
                    && request
                        .clearance
                        .is_none_or(|clearance| *level <= clearance)
            })
            .map(|(name, _)| name.clone())
            .collect();
        if visible_columns.is_empty() {
            return Ok(Err(Denial {
                reason: format!(
                    "no column is left: the Rego policy lists {} and the subject's clearance \
                     removes the rest of {}",
                    listed.join(", "),
                    names.join(", ")
                ),
                rules,
            }));
        }
        let column_masks = masks
            .into_iter()
            .filter(|(column, _)| visible_columns.contains(column))
            .collect();
        let row_filters = if row_filter.is_empty() {
            Vec::new()
        } else {
            vec![RuleFilter {
                rule: source,
                effect: Effect::Allow,
                predicates: row_filter,
            }]
        };
        Ok(Ok(AccessDecision {
            subject: request.subject().to_string(),
            role: request.role.clone(),
            visible_columns,
            missing_columns: Vec::new(),
            mask_personal_data: mask_personal_data.unwrap_or(true),
            column_masks,
            row_filters,
            rules,
        }))
    }

    /// Evaluates the package with the request as `input` and reads the rules it defines.
    fn run(
        &mut self,
        request: &AccessRequest,
        dataset: &str,
        columns: &[(String, Sensitivity)],
        time_ms: i64,
    ) -> Result<serde_json::Map<String, Json>> {
        let input = json!({
            "subject": {
                "id": request.subject(),
                "role": request.role,
                "department": request.department,
                "clearance": request.clearance.map(|level| level.to_string()),
            },
            "purpose": request.purpose,
            "dataset": dataset,
            "time_ms": time_ms,
            "columns": columns
                .iter()
                .map(|(name, level)| json!({"name": name, "sensitivity": level.to_string()}))
                .collect::<Vec<_>>(),
        });
        let input = regorus::Value::from_json_str(&input.to_string()).map_err(|error| {
            Error::Internal(format!(
                "failed to convert the request to Rego input: {error}"
            ))
        })?;
        self.engine.set_input(input);
        let query = format!("data.{}", self.package);
        let results = self.engine.eval_query(query, false).map_err(|error| {
            Error::config(
                COMPONENT,
                format!("evaluating package {} failed: {error}", self.package),
            )
        })?;
        let value = results
            .result
            .first()
            .and_then(|result| result.expressions.first())
            .map(|expression| &expression.value);
        let Some(value) = value.filter(|value| **value != regorus::Value::Undefined) else {
            return Ok(serde_json::Map::new());
        };
        let package: Json = serde_json::to_value(value).map_err(|error| {
            Error::Internal(format!(
                "failed to convert the Rego result to JSON: {error}"
            ))
        })?;
        match package {
            Json::Object(rules) => Ok(rules),
            _ => Err(Error::config(
                COMPONENT,
                format!(
                    "data.{} is not a package of rules; name the policy's package with \
                     with_package",
                    self.package
                ),
            )),
        }
    }

    /// Takes rule `name` out of the evaluated package; `None` when the policy leaves it
    /// undefined. Rules outside the contract are helpers and are never read.
    fn rule<T: serde::de::DeserializeOwned>(
        &self,
        rules: &mut serde_json::Map<String, Json>,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>> {
        let Some(value) = rules.remove(name) else {
            return Ok(None);
        };
        serde_json::from_value(value).map(Some).map_err(|error| {
            Error::config(
                COMPONENT,
                format!("data.{}.{name} must be {expected}: {error}", self.package),
            )
        })
    }
}
