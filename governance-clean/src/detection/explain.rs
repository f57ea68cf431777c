//! Explanations of flagged cells: which detectors fired, and how much each feature moved the
//! cell classifier's logit.

use std::collections::HashMap;
use std::sync::Arc;

use governance_llm::TrainedCellClassifier;

use super::features::{ColumnFeatures, GENERIC};

/// Contributions smaller than this, in logit units, are left out of a message.
const MIN_CONTRIBUTION: f32 = 0.01;

/// Features named per flagged cell.
const TOP_CONTRIBUTIONS: usize = 3;

/// The classifier that scored a column.
pub(super) enum Scorer {
    /// A classifier trained on this column's own features.
    Own(Arc<TrainedCellClassifier>),
    /// The classifier shared by all columns, over the generic features.
    Shared(Arc<TrainedCellClassifier>),
    /// No classifier: the column had no labels of either class to learn from.
    Unscored,
}

impl Scorer {
    /// Returns the classifier trained on the column's own features, if any.
    pub(super) fn own(&self) -> Option<&TrainedCellClassifier> {
        match self {
            Scorer::Own(model) => Some(model),
            Scorer::Shared(_) | Scorer::Unscored => None,
        }
    }

    /// Returns the classifier shared by all columns, if this column used it.
    pub(super) fn shared(&self) -> Option<&TrainedCellClassifier> {
        match self {
            Scorer::Shared(model) => Some(model),
            Scorer::Own(_) | Scorer::Unscored => None,
        }
    }

    /// Returns, for each of `rows`, the features with the largest contributions to the
    /// scorer's logit, as `name +1.23` text. Rows the scorer cannot explain get no entry.
    pub(super) fn top_contributions(
        &self,
        features: &ColumnFeatures,
        rows: &[usize],
    ) -> HashMap<usize, String> {
        let (model, width): (&TrainedCellClassifier, usize) = match self {
            Scorer::Own(model) => (model.as_ref(), features.width()),
            Scorer::Shared(model) => (model.as_ref(), GENERIC.len()),
            Scorer::Unscored => return HashMap::new(),
        };
        if rows.is_empty() || model.width() != width {
            return HashMap::new();
        }
        let input: Vec<f32> = rows
            .iter()
            .flat_map(|&row| features.row(row)[..width].iter().copied())
            .collect();
        let contributions = match model.contributions(&input) {
            Ok(contributions) => contributions,
            Err(error) => {
                tracing::warn!(%error, "explaining the cell classifier failed; flags keep the detector list only");
                return HashMap::new();
            }
        };
        rows.iter()
            .zip(contributions.chunks(width))
            .filter_map(|(&row, values)| {
                let mut ranked: Vec<(usize, f32)> = values
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|(_, value)| value.abs() >= MIN_CONTRIBUTION)
                    .collect();
                ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
                let named: Vec<String> = ranked
                    .iter()
                    .take(TOP_CONTRIBUTIONS)
                    .map(|(feature, value)| format!("{} {value:+.2}", features.names[*feature]))
                    .collect();
                (!named.is_empty()).then(|| (row, named.join(", ")))
            })
            .collect()
    }
}

/// Lists the features of a cell at 0.5 or more that are worth naming, at most five.
pub(super) fn fired_detectors(features: &ColumnFeatures, row: usize) -> String {
    let fired: Vec<&str> = features
        .row(row)
        .iter()
        .zip(&features.names)
        .zip(&features.explains)
        .filter(|((value, _), explains)| **value >= 0.5 && **explains)
        .map(|((_, name), _)| name.as_str())
        .take(5)
        .collect();
    if fired.is_empty() {
        "no single detector (the model combined weak signals)".into()
    } else {
        fired.join(", ")
    }
}
