//! Feedback that closes the loop: labels on cells, matches and work orders, handed to the
//! stages between rounds.

use serde::{Deserialize, Serialize};

/// Target of a piece of feedback.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedbackTarget {
    /// One cell, named by row id and column.
    Cell {
        /// Row id.
        row_id: u64,
        /// Column name.
        column: String,
    },
    /// A proposed match between two records.
    Match {
        /// Row id of the left record.
        left: u64,
        /// Row id of the right record.
        right: u64,
    },
    /// A work order raised by an applicator.
    WorkOrder {
        /// Work order id.
        id: String,
    },
}

/// The verdict on a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "label", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Label {
    /// The flag or match was right: the cell is an error, the records match.
    Confirmed,
    /// The flag or match was wrong: the cell is correct, the records differ.
    Rejected,
    /// The cell is an error and this is its right value.
    Corrected {
        /// The right value as text.
        value: String,
    },
}

impl Label {
    /// Returns true when the label marks the flagged item as a real error or match.
    pub fn is_positive(&self) -> bool {
        matches!(self, Label::Confirmed | Label::Corrected { .. })
    }
}

/// One piece of feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// Target.
    pub target: FeedbackTarget,
    /// The verdict.
    pub label: Label,
    /// Origin, such as `ground_truth` or a reviewer id.
    pub source: String,
}

impl Feedback {
    /// Builds feedback on a cell.
    pub fn cell(
        row_id: u64,
        column: impl Into<String>,
        label: Label,
        source: impl Into<String>,
    ) -> Self {
        Feedback {
            target: FeedbackTarget::Cell {
                row_id,
                column: column.into(),
            },
            label,
            source: source.into(),
        }
    }
}
