//! Detection figures and feedback for `govern demo`. An applicator records the cells that the
//! chain flags, and each round is scored against the synthetic city's ground truth. Labels on
//! a sample of the flagged cells go to the chain's learners before the next round.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use governance::collect::synthetic::{GroundTruth, InjectedKind};
use governance::{
    Applicator, ChainBuilder, Error, Feedback, GovernedBatch, IssueKind, Label, RunSummary, Stage,
    StageContext,
};

use crate::error::CliError;
use crate::runner::{RoundHook, RunOutcome};
use crate::table::Table;

/// Issue kinds that mark a cell as wrong when detection is scored.
const FLAG_KINDS: [IssueKind; 4] = [
    IssueKind::Outlier,
    IssueKind::Anomaly,
    IssueKind::OutOfRange,
    IssueKind::NotAllowed,
];

/// A cell: row id and column.
type Cell = (u64, String);

/// Cells flagged in the current round, shared by the recorder and the hook.
type Flags = Arc<Mutex<BTreeSet<Cell>>>;

/// The applicator that records every flagged cell of the batches that reach the sinks.
struct FlagRecorder {
    flags: Flags,
}

impl Stage for FlagRecorder {
    fn name(&self) -> &str {
        "flag_recorder"
    }
}

impl Applicator for FlagRecorder {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> governance::Result<()> {
        let mut flags = self
            .flags
            .lock()
            .map_err(|_| Error::Internal("the flag recorder's lock is poisoned".into()))?;
        for issue in batch.issues.issues() {
            if let (true, Some(column)) = (FLAG_KINDS.contains(&issue.kind), &issue.column) {
                flags.insert((issue.row_id, column.clone()));
            }
        }
        Ok(())
    }
}

/// Detection quality of one round against ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Round number, from 1.
    pub round: u32,
    /// Cells flagged.
    pub flagged: usize,
    /// Flagged cells that ground truth marks as wrong.
    pub true_positives: usize,
    /// Cells that ground truth marks as wrong.
    pub truth: usize,
    /// Labels handed to the learners after this round; 0 after the last round.
    pub labels: usize,
}

impl Detection {
    /// Share of flagged cells that are wrong; 0 when none is flagged.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.flagged)
    }

    /// Share of wrong cells that are flagged; 0 when ground truth has none.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.truth)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The cells that ground truth marks as wrong and a detector should flag: outliers, both
/// cells of a PM2.5/PM10 swap, and misspelt station names. Gaps are filled and duplicates
/// merged rather than flagged, so neither counts.
pub fn truth_cells(truth: &GroundTruth) -> HashSet<Cell> {
    let mut cells = HashSet::new();
    for error in &truth.errors {
        match error.kind {
            InjectedKind::Outlier | InjectedKind::Typo => {
                if let Some(column) = &error.column {
                    cells.insert((error.row_id, column.clone()));
                }
            }
            InjectedKind::Swap => {
                cells.insert((error.row_id, "PM2.5".to_string()));
                cells.insert((error.row_id, "PM10".to_string()));
            }
            InjectedKind::Duplicate | InjectedKind::Gap => {}
        }
    }
    cells
}

/// Labels up to `sample` flagged cells, evenly spaced in row-id order: confirmed when ground
/// truth marks the cell as wrong, rejected otherwise.
pub fn sample_labels(
    flags: &BTreeSet<Cell>,
    truth: &HashSet<Cell>,
    sample: usize,
) -> Vec<Feedback> {
    if sample == 0 || flags.is_empty() {
        return Vec::new();
    }
    let step = flags.len().div_ceil(sample);
    flags
        .iter()
        .step_by(step)
        .map(|cell| {
            let label = if truth.contains(cell) {
                Label::Confirmed
            } else {
                Label::Rejected
            };
            Feedback::cell(cell.0, cell.1.clone(), label, "ground_truth")
        })
        .collect()
}

/// The demo's [`RoundHook`]: scores each round and labels a sample of its flags.
pub struct GroundTruthFeedback {
    flags: Flags,
    truth: HashSet<Cell>,
    sample: usize,
    round: u32,
    /// One entry per finished round.
    pub detections: Vec<Detection>,
}

impl GroundTruthFeedback {
    /// Scores against `truth` and labels up to `sample` flagged cells per round.
    pub fn new(truth: &GroundTruth, sample: usize) -> Self {
        GroundTruthFeedback {
            flags: Flags::default(),
            truth: truth_cells(truth),
            sample,
            round: 0,
            detections: Vec::new(),
        }
    }

    /// Renders the detection figures as a table, one line per round.
    pub fn render(&self) -> String {
        let mut table = Table::new(&[
            "round",
            "flagged cells",
            "true positives",
            "wrong cells",
            "precision",
            "recall",
            "labels after",
        ]);
        for detection in &self.detections {
            table.push(vec![
                detection.round.to_string(),
                detection.flagged.to_string(),
                detection.true_positives.to_string(),
                detection.truth.to_string(),
                format!("{:.3}", detection.precision()),
                format!("{:.3}", detection.recall()),
                detection.labels.to_string(),
            ]);
        }
        let mut text = String::from("detection against the synthetic city's ground truth\n");
        let _ = write!(text, "{}", table.render());
        text
    }
}

impl RoundHook for GroundTruthFeedback {
    fn extend(&mut self, builder: ChainBuilder) -> Result<ChainBuilder, CliError> {
        Ok(builder.apply(FlagRecorder {
            flags: Arc::clone(&self.flags),
        }))
    }

    fn after_round(
        &mut self,
        _summary: &RunSummary,
        more_rounds: bool,
    ) -> Result<Vec<Feedback>, CliError> {
        self.round += 1;
        let flags = {
            let mut flags = self.flags.lock().map_err(|_| {
                CliError::Data("the flag recorder's lock is poisoned: this is a bug".into())
            })?;
            std::mem::take(&mut *flags)
        };
        let labels = if more_rounds {
            sample_labels(&flags, &self.truth, self.sample)
        } else {
            Vec::new()
        };
        let true_positives = flags
            .iter()
            .filter(|cell| self.truth.contains(*cell))
            .count();
        self.detections.push(Detection {
            round: self.round,
            flagged: flags.len(),
            true_positives,
            truth: self.truth.len(),
            labels: labels.len(),
        });
        Ok(labels)
    }

    fn summary(&self, _outcome: &RunOutcome) -> Option<String> {
        Some(self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(row: u64, column: &str) -> Cell {
        (row, column.to_string())
    }

    #[test]
    fn sample_labels_follow_truth() {
        let flags: BTreeSet<Cell> = (0..10).map(|row| cell(row, "PM2.5")).collect();
        let truth: HashSet<Cell> = [cell(0, "PM2.5"), cell(4, "PM2.5")].into_iter().collect();
        let labels = sample_labels(&flags, &truth, 5);
        assert_eq!(labels.len(), 5);
        let confirmed = labels
            .iter()
            .filter(|feedback| feedback.label.is_positive())
            .count();
        assert_eq!(confirmed, 2);
    }

    #[test]
    fn sample_labels_capped() {
        let flags: BTreeSet<Cell> = (0..7).map(|row| cell(row, "NO2")).collect();
        assert_eq!(sample_labels(&flags, &HashSet::new(), 3).len(), 3);
        assert_eq!(sample_labels(&flags, &HashSet::new(), 100).len(), 7);
        assert!(sample_labels(&BTreeSet::new(), &HashSet::new(), 3).is_empty());
    }

    #[test]
    fn detection_ratios() {
        let detection = Detection {
            round: 1,
            flagged: 4,
            true_positives: 3,
            truth: 6,
            labels: 0,
        };
        assert_eq!(detection.precision(), 0.75);
        assert_eq!(detection.recall(), 0.5);
        let empty = Detection {
            flagged: 0,
            true_positives: 0,
            truth: 0,
            ..detection
        };
        assert_eq!(empty.precision(), 0.0);
    }
}
