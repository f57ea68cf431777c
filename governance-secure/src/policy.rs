//! Role-based access policies: which columns a role may see and whether personal data in
//! them is masked. Access is denied by default: a role the policy does not name sees nothing.
//!
//! ```
//! use governance_secure::policy::{AccessPolicy, RolePolicy};
//!
//! let policy = AccessPolicy::default().with_role("analyst", RolePolicy::columns(["district", "note"]));
//! let columns = vec!["district".to_string(), "note".to_string(), "phone".to_string()];
//! let decision = policy.decide("analyst", &columns)?;
//! assert_eq!(decision.visible_columns, ["district", "note"]);
//! assert!(policy.decide("guest", &columns).is_err());
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::collections::BTreeMap;

use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The entry of [`RolePolicy::visible_columns`] that stands for every column.
pub const ALL_COLUMNS: &str = "*";

/// Access rights of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePolicy {
    /// Columns the role may see, or `["*"]` for every column. Columns missing from the data
    /// are ignored, because policies are written ahead of the data.
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

/// Access policy: one [`RolePolicy`] per role name. The default policy names no role and so
/// denies everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicy {
    /// Policies by role name.
    pub roles: BTreeMap<String, RolePolicy>,
}

/// The outcome of an allowed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDecision {
    /// The role that made the request.
    pub role: String,
    /// Columns the role may see, in the order of the data.
    pub visible_columns: Vec<String>,
    /// Columns the policy names that the data does not have.
    pub missing_columns: Vec<String>,
    /// Whether personal data in the visible columns is masked.
    pub mask_personal_data: bool,
}

impl AccessPolicy {
    /// Returns the policy with `role` given `policy`.
    pub fn with_role(mut self, role: impl Into<String>, policy: RolePolicy) -> Self {
        self.roles.insert(role.into(), policy);
        self
    }

    /// Decides what `role` may see of data with `columns`.
    ///
    /// Fails with [`Error::AccessDenied`] when the policy does not name the role (the message
    /// lists the roles it names), when the role's list of visible columns is empty, or when
    /// none of its visible columns exists in the data.
    pub fn decide(&self, role: &str, columns: &[String]) -> Result<AccessDecision> {
        let deny = |reason: String| Error::AccessDenied {
            role: role.to_string(),
            reason,
        };
        let Some(policy) = self.roles.get(role) else {
            let reason = if self.roles.is_empty() {
                "the access policy names no roles; add the role under roles to grant access"
                    .to_string()
            } else {
                let known: Vec<&str> = self.roles.keys().map(String::as_str).collect();
                format!(
                    "the access policy does not name this role; known roles are: {}",
                    known.join(", ")
                )
            };
            return Err(deny(reason));
        };
        if policy.visible_columns.is_empty() {
            return Err(deny(
                "the role's visible_columns is empty; list the columns it may see or \"*\""
                    .to_string(),
            ));
        }

        let everything = policy
            .visible_columns
            .iter()
            .any(|name| name == ALL_COLUMNS);
        let visible_columns: Vec<String> = columns
            .iter()
            .filter(|column| everything || policy.visible_columns.contains(column))
            .cloned()
            .collect();
        let missing_columns: Vec<String> = policy
            .visible_columns
            .iter()
            .filter(|name| name.as_str() != ALL_COLUMNS && !columns.contains(name))
            .cloned()
            .collect();
        if visible_columns.is_empty() {
            return Err(deny(format!(
                "none of the role's visible columns ({}) exists in the data; columns are: {}",
                policy.visible_columns.join(", "),
                columns.join(", ")
            )));
        }
        Ok(AccessDecision {
            role: role.to_string(),
            visible_columns,
            missing_columns,
            mask_personal_data: policy.mask_personal_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn policy() -> AccessPolicy {
        AccessPolicy::default()
            .with_role(
                "analyst",
                RolePolicy::columns(["district", "note", "budget"]),
            )
            .with_role("auditor", RolePolicy::all_columns().with_masking(false))
    }

    #[test]
    fn unknown_role_is_denied_with_known_roles() {
        let error = policy()
            .decide("guest", &columns(&["note"]))
            .expect_err("unknown role");
        let message = error.to_string();
        assert!(matches!(error, Error::AccessDenied { ref role, .. } if role == "guest"));
        assert!(
            message.contains("known roles are: analyst, auditor"),
            "{message}"
        );
    }

    #[test]
    fn empty_policy_denies_everyone() {
        let error = AccessPolicy::default()
            .decide("admin", &columns(&["note"]))
            .expect_err("deny by default");
        assert!(error.to_string().contains("names no roles"), "{error}");
    }

    #[test]
    fn visible_columns_follow_data_order() {
        let decision = policy()
            .decide("analyst", &columns(&["note", "phone", "district"]))
            .expect("allowed");
        assert_eq!(decision.visible_columns, ["note", "district"]);
        assert_eq!(decision.missing_columns, ["budget"]);
        assert!(decision.mask_personal_data);
    }

    #[test]
    fn star_shows_every_column() {
        let decision = policy()
            .decide("auditor", &columns(&["note", "phone"]))
            .expect("allowed");
        assert_eq!(decision.visible_columns, ["note", "phone"]);
        assert!(decision.missing_columns.is_empty());
        assert!(!decision.mask_personal_data);
    }

    #[test]
    fn no_existing_visible_column_is_denied() {
        let error = policy()
            .decide("analyst", &columns(&["phone", "name"]))
            .expect_err("nothing visible");
        let message = error.to_string();
        assert!(
            message.contains("none of the role's visible columns"),
            "{message}"
        );
        assert!(message.contains("columns are: phone, name"), "{message}");
    }

    #[test]
    fn empty_visible_columns_is_denied() {
        let policy =
            AccessPolicy::default().with_role("nobody", RolePolicy::columns(Vec::<String>::new()));
        let error = policy
            .decide("nobody", &columns(&["note"]))
            .expect_err("empty list");
        assert!(
            error.to_string().contains("visible_columns is empty"),
            "{error}"
        );
    }

    #[test]
    fn masking_defaults_to_on_in_json() {
        let policy: AccessPolicy =
            serde_json::from_str(r#"{"roles":{"analyst":{"visible_columns":["note"]}}}"#)
                .expect("valid policy");
        assert!(policy.roles["analyst"].mask_personal_data);
        let error = serde_json::from_str::<AccessPolicy>(
            r#"{"roles":{"analyst":{"visible_columns":["note"],"unmasked":["phone"]}}}"#,
        )
        .expect_err("unknown field");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }
}
