//! Work orders: tasks for people, raised from findings, with a life cycle, a durable store and
//! feedback to the chain.
//!
//! ```text
//! open --assign--> assigned --resolve--> resolved --verify--> verified
//!                   ^    |                  |
//!                   +----+ (reassign)       +--reopen--> assigned
//! ```
//!
//! [`WorkOrderApplicator`] raises one order per finding (kind and severity filtered) and
//! counts a repeat of the same finding on the same subject as another occurrence of the order
//! that is still open or assigned. [`WorkOrderStore`] keeps the orders in a JSON Lines file
//! that every change rewrites atomically under an advisory file lock, so that a chain and a
//! review tool may change one store at the same time, and queries them by state, assignee
//! and subject.
//! Resolving an order turns its outcome into [`Feedback`] on the order
//! ([`FeedbackTarget::WorkOrder`]), which [`WorkOrderStore::take_feedback`] hands out once,
//! for [`Chain::learn`](governance_core::Chain::learn).
//!
//! ```
//! use governance_apply::work_orders::{NewWorkOrder, ResolutionOutcome, WorkOrderStore};
//! use governance_core::Severity;
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = WorkOrderStore::open(dir.path().join("orders.jsonl"))?;
//! let id = store
//!     .create(NewWorkOrder::new("pm25_limit", "pm25 above 75 at north", Severity::Error)
//!         .with_subject("north"))?
//!     .id
//!     .clone();
//! store.assign(&id, "field-team-3", "dispatcher")?;
//! store.resolve(&id, ResolutionOutcome::Fixed, "replaced the inlet filter", "field-team-3")?;
//! let feedback = store.take_feedback()?;
//! assert_eq!(feedback.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod applicator;
mod store;

use std::fmt;

use governance_core::{Feedback, FeedbackTarget, Label, Severity};
use serde::{Deserialize, Serialize};

pub use applicator::{WORK_ORDER_APPLICATOR_NAME, WorkOrderApplicator, WorkOrderConfig};
pub use store::WorkOrderStore;

/// Life-cycle state of a work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderState {
    /// Raised and not assigned yet.
    Open,
    /// Someone is working on it.
    Assigned,
    /// The assignee reported an outcome.
    Resolved,
    /// A second person confirmed the resolution; final.
    Verified,
}

impl WorkOrderState {
    /// Returns the lowercase name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkOrderState::Open => "open",
            WorkOrderState::Assigned => "assigned",
            WorkOrderState::Resolved => "resolved",
            WorkOrderState::Verified => "verified",
        }
    }

    /// Returns the states an order in this state may move to.
    pub fn next_states(self) -> &'static [WorkOrderState] {
        match self {
            WorkOrderState::Open => &[WorkOrderState::Assigned],
            // Assigned to assigned is a reassignment.
            WorkOrderState::Assigned => &[WorkOrderState::Assigned, WorkOrderState::Resolved],
            // Resolved to assigned reopens an order whose resolution did not hold.
            WorkOrderState::Resolved => &[WorkOrderState::Verified, WorkOrderState::Assigned],
            WorkOrderState::Verified => &[],
        }
    }

    /// Returns true when an order in this state may move to `next`.
    pub fn can_move_to(self, next: WorkOrderState) -> bool {
        self.next_states().contains(&next)
    }

    /// Returns true for open and assigned orders, which still need work.
    pub fn is_active(self) -> bool {
        matches!(self, WorkOrderState::Open | WorkOrderState::Assigned)
    }
}

impl fmt::Display for WorkOrderState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Outcome that the resolver of an order reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ResolutionOutcome {
    /// The finding was real and the cause was fixed in the field.
    Fixed,
    /// The finding was wrong: nothing was out of order.
    FalseAlarm,
    /// The finding was real, and the flagged value should have been `value`.
    Corrected {
        /// The right value as text.
        value: String,
    },
}

impl ResolutionOutcome {
    /// Returns the feedback label: fixed confirms the finding, a false alarm rejects it, and
    /// a correction carries the right value.
    pub fn label(&self) -> Label {
        match self {
            ResolutionOutcome::Fixed => Label::Confirmed,
            ResolutionOutcome::FalseAlarm => Label::Rejected,
            ResolutionOutcome::Corrected { value } => Label::Corrected {
                value: value.clone(),
            },
        }
    }
}

/// The outcome of a resolved order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Outcome of the work.
    #[serde(flatten)]
    pub outcome: ResolutionOutcome,
    /// Free text from the resolver.
    pub note: String,
    /// Person or team that resolved it, and the source of its feedback.
    pub resolved_by: String,
    /// Time of the resolution, RFC 3339 in UTC.
    pub resolved_at: String,
}

/// One change of state, kept in the order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// State before; `None` for the creation.
    pub from: Option<WorkOrderState>,
    /// State after.
    pub to: WorkOrderState,
    /// Person or team that made the change.
    pub by: String,
    /// Time of the change, RFC 3339 in UTC.
    pub at: String,
    /// Reason or comment.
    #[serde(default)]
    pub note: String,
}

/// A work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrder {
    /// Id, `wo-` and a zero-padded sequence number, unique within a store.
    pub id: String,
    /// Name of the finding or rule that raised it, such as `pm25_limit`.
    pub finding: String,
    /// Description of the problem, for people.
    pub title: String,
    /// Entity the order is about, such as a station id.
    pub subject: Option<String>,
    /// Severity of the finding.
    pub severity: Severity,
    /// Analyzer that made the finding, when it came from a chain.
    pub analyzer: Option<String>,
    /// Round of the chain that raised it; 0 when created by hand.
    pub round: u32,
    /// Rows the finding rests on.
    pub row_ids: Vec<u64>,
    /// Current state.
    pub state: WorkOrderState,
    /// Person or team working on it.
    pub assignee: Option<String>,
    /// Outcome, once resolved; kept when the order is reopened until it is resolved again.
    pub resolution: Option<Resolution>,
    /// Times the same finding on the same subject was raised while this order was active.
    pub occurrences: u32,
    /// Every change of state, oldest first.
    pub history: Vec<Transition>,
    /// True once the feedback of the current resolution was handed out.
    #[serde(default)]
    pub feedback_taken: bool,
}

impl WorkOrder {
    /// Returns the feedback of the current resolution, or `None` before one.
    pub fn feedback(&self) -> Option<Feedback> {
        let resolution = self.resolution.as_ref()?;
        if !matches!(
            self.state,
            WorkOrderState::Resolved | WorkOrderState::Verified
        ) {
            return None;
        }
        Some(Feedback {
            target: FeedbackTarget::WorkOrder {
                id: self.id.clone(),
            },
            label: resolution.outcome.label(),
            source: resolution.resolved_by.clone(),
        })
    }

    /// Returns the time of creation, RFC 3339 in UTC.
    pub fn created_at(&self) -> &str {
        self.history.first().map_or("", |first| first.at.as_str())
    }
}

/// The fields of an order to create; the store sets the id, state and history.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkOrder {
    /// Name of the finding or rule, such as `pm25_limit`.
    pub finding: String,
    /// Description of the problem, for people.
    pub title: String,
    /// Entity the order is about, such as a station id.
    pub subject: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// Analyzer that made the finding.
    pub analyzer: Option<String>,
    /// Round of the chain; 0 when created by hand.
    pub round: u32,
    /// Rows the finding rests on.
    pub row_ids: Vec<u64>,
    /// Creator of the order; the applicator's stage name for orders raised by a chain.
    pub created_by: String,
}

impl NewWorkOrder {
    /// Creates an order for `finding` with a title and severity, created by hand.
    pub fn new(finding: impl Into<String>, title: impl Into<String>, severity: Severity) -> Self {
        NewWorkOrder {
            finding: finding.into(),
            title: title.into(),
            subject: None,
            severity,
            analyzer: None,
            round: 0,
            row_ids: Vec::new(),
            created_by: "user".to_string(),
        }
    }

    /// Returns the order about `subject`, such as a station id.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// Errors of work orders and their store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkOrderError {
    /// The order's state does not allow the requested change.
    #[error(
        "work order {id} cannot move from {from} to {to}; from {from} it may move to {}",
        allowed(.from)
    )]
    InvalidTransition {
        /// The order.
        id: String,
        /// Its current state.
        from: WorkOrderState,
        /// The requested state.
        to: WorkOrderState,
    },

    /// No order has the id.
    #[error("work order {id:?} not found in {store}; list the store's orders for valid ids")]
    NotFound {
        /// The id asked for.
        id: String,
        /// The store file.
        store: String,
    },

    /// A required field is empty.
    #[error("invalid work order change: {0}")]
    Invalid(String),

    /// The store file contains a line that is not a work order.
    #[error("line {line} of work order store {store} is not a work order: {message}")]
    Corrupt {
        /// The store file.
        store: String,
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        message: String,
    },

    /// Reading or writing the store file failed.
    #[error("work order store {store} could not be read or written")]
    Storage {
        /// The store file.
        store: String,
        /// The file error.
        #[source]
        source: governance_core::Error,
    },
}

fn allowed(from: &WorkOrderState) -> String {
    let next = from.next_states();
    if next.is_empty() {
        return "nothing, because it is final".to_string();
    }
    next.iter()
        .map(|state| state.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

impl From<WorkOrderError> for governance_core::Error {
    fn from(error: WorkOrderError) -> Self {
        governance_core::Error::stage(WORK_ORDER_APPLICATOR_NAME, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        use WorkOrderState::*;
        let allowed = [
            (Open, Assigned),
            (Assigned, Assigned),
            (Assigned, Resolved),
            (Resolved, Verified),
            (Resolved, Assigned),
        ];
        for from in [Open, Assigned, Resolved, Verified] {
            for to in [Open, Assigned, Resolved, Verified] {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn invalid_transition_names_both_states() {
        let error = WorkOrderError::InvalidTransition {
            id: "wo-000001".into(),
            from: WorkOrderState::Open,
            to: WorkOrderState::Resolved,
        };
        let message = error.to_string();
        assert!(message.contains("from open to resolved"), "{message}");
        assert!(message.contains("may move to assigned"), "{message}");
    }

    #[test]
    fn outcome_labels() {
        assert_eq!(ResolutionOutcome::Fixed.label(), Label::Confirmed);
        assert_eq!(ResolutionOutcome::FalseAlarm.label(), Label::Rejected);
        let corrected = ResolutionOutcome::Corrected { value: "41".into() };
        assert_eq!(corrected.label(), Label::Corrected { value: "41".into() });
    }
}
