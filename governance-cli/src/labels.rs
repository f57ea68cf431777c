//! Feedback labels for `govern run`. The `[feedback]` table of a chain file names a JSON Lines
//! file of [`Feedback`] records, which the runner hands to the chain's learners after one round.
//!
//! A [`Feedback`] record carries no round, so every label of the file is applied once, after
//! round `after_round` (1 by default). Labels name cells by row id, the `__row_id` column of
//! the governed output and `row_id` of `issues.parquet`. The same input read in the same order
//! gets the same row ids, so labels written from the review of one run apply to the next.
//!
//! Before the labels reach the learners, each cell and match label is checked against the
//! output of rounds 1 to `after_round`. Its column must be a column of the governed output,
//! and its row ids must be among the delivered rows. Row ids exist only once a round ran, so
//! the check runs after round `after_round`. A label that fails it stops the run there with
//! exit code 2, the file, the line and the fix. Work-order labels are not checked here.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use governance::{
    Applicator, ChainBuilder, Error, Feedback, FeedbackTarget, GovernedBatch, RunSummary, Stage,
    StageContext,
};
use serde::Deserialize;

use crate::error::CliError;
use crate::runner::{RoundHook, RunOutcome};

/// Unknown labels listed one by one in the error; the rest are counted.
const MAX_LISTED: usize = 20;

/// A valid feedback record, shown in the error on a line that is not one.
pub const EXAMPLE_LINE: &str = r#"{"target":{"type":"cell","row_id":7,"column":"pm25"},"label":{"label":"rejected"},"source":"reviewer"}"#;

/// The `[feedback]` table of a chain file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackConfig {
    /// JSON Lines file of feedback records, relative to the chain file.
    pub labels: PathBuf,
    /// Round after which the labels are applied; at least 1 and below the chain's `rounds`.
    #[serde(default = "default_after_round")]
    pub after_round: u32,
}

fn default_after_round() -> u32 {
    1
}

impl FeedbackConfig {
    /// Checks that the labels are applied after a round that a later round follows, because
    /// labels applied after the last round would change nothing that the run writes.
    pub fn check(&self, rounds: u32) -> Result<(), String> {
        if self.after_round == 0 {
            return Err("feedback.after_round is 0: set it to 1 or more".to_string());
        }
        if self.after_round >= rounds {
            return Err(format!(
                "feedback.after_round is {} but the chain runs {rounds} rounds, so no round \
                 would use the labels: set rounds to at least {}",
                self.after_round,
                self.after_round + 1
            ));
        }
        Ok(())
    }
}

/// One record of a labels file, with its 1-based line number.
#[derive(Debug, Clone)]
pub struct LabelLine {
    /// Line number in the file, from 1.
    pub line: usize,
    /// The record.
    pub feedback: Feedback,
}

/// Reads every feedback record of the JSON Lines file at `path`. Blank lines are skipped.
/// A line that is not a record fails with the file, the line number and a valid example.
pub fn read_labels(path: &Path) -> Result<Vec<LabelLine>, CliError> {
    let file = std::fs::File::open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            CliError::Usage(format!(
                "feedback labels file {} not found: check feedback.labels in the chain file",
                path.display()
            ))
        } else {
            CliError::Io(format!(
                "failed to read feedback labels file {}: {error}",
                path.display()
            ))
        }
    })?;
    let mut labels = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|error| {
            CliError::Io(format!(
                "failed to read line {} of feedback labels file {}: {error}",
                index + 1,
                path.display()
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Feedback = serde_json::from_str(&line).map_err(|error| {
            CliError::Usage(format!(
                "{}:{}: not a feedback record ({error}); write one JSON object per line, \
                 for example {EXAMPLE_LINE} (label confirmed, rejected, or corrected with \
                 \"value\")",
                path.display(),
                index + 1
            ))
        })?;
        labels.push(LabelLine {
            line: index + 1,
            feedback: record,
        });
    }
    Ok(labels)
}

/// Columns and row ids of the rows delivered so far, as far as the label check needs them.
#[derive(Debug, Default)]
struct Delivered {
    /// Column names of every delivered batch.
    columns: BTreeSet<String>,
    /// The labels' row ids that some delivered row has.
    found: HashSet<u64>,
    /// Smallest and largest delivered row id, for the hint in the error.
    range: Option<(u64, u64)>,
}

/// The applicator that records, for the labels' row ids, whether a row with that id reached
/// the sinks, and the columns of the delivered batches.
struct LabelTargets {
    label_row_ids: Arc<HashSet<u64>>,
    delivered: Arc<Mutex<Delivered>>,
}

impl Stage for LabelTargets {
    fn name(&self) -> &str {
        "feedback_label_check"
    }
}

impl Applicator for LabelTargets {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> governance::Result<()> {
        let mut delivered = self
            .delivered
            .lock()
            .map_err(|_| Error::Internal("the label check's lock is poisoned".into()))?;
        for field in batch.data().schema().fields() {
            if !delivered.columns.contains(field.name()) {
                delivered.columns.insert(field.name().clone());
            }
        }
        for row_id in batch.row_ids().values().iter().copied() {
            if self.label_row_ids.contains(&row_id) {
                delivered.found.insert(row_id);
            }
            delivered.range = Some(match delivered.range {
                Some((low, high)) => (low.min(row_id), high.max(row_id)),
                None => (row_id, row_id),
            });
        }
        Ok(())
    }
}

/// Returns the row ids and column that `target` names, or `None` for targets that name no
/// cell or row of the output.
fn target_cells(target: &FeedbackTarget) -> Option<(Vec<u64>, Option<&str>)> {
    match target {
        FeedbackTarget::Cell { row_id, column } => Some((vec![*row_id], Some(column.as_str()))),
        FeedbackTarget::Match { left, right } => Some((vec![*left, *right], None)),
        _ => None,
    }
}

/// Returns one line per problem of `labels` against `delivered`, as `FILE:LINE: problem`.
fn unknown_targets(labels: &[LabelLine], delivered: &Delivered, path: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for label in labels {
        let Some((row_ids, column)) = target_cells(&label.feedback.target) else {
            continue;
        };
        let mut reasons = Vec::new();
        if let Some(column) = column
            && !delivered.columns.contains(column)
        {
            reasons.push(format!(
                "column {column:?} is not a column of the governed output"
            ));
        }
        for row_id in row_ids {
            if !delivered.found.contains(&row_id) {
                reasons.push(format!("row id {row_id} was not delivered"));
            }
        }
        if !reasons.is_empty() {
            problems.push(format!(
                "{}:{}: {}",
                path.display(),
                label.line,
                reasons.join(" and ")
            ));
        }
    }
    problems
}

/// The [`RoundHook`] of `govern run`: hands the labels of a file to the chain's learners
/// after one round.
pub struct FileFeedback {
    path: PathBuf,
    after_round: u32,
    labels: Vec<LabelLine>,
    count: usize,
    round: u32,
    delivered: Arc<Mutex<Delivered>>,
}

impl FileFeedback {
    /// Reads the labels that `config` names. Fails before any round runs on a bad file.
    pub fn load(config: &FeedbackConfig) -> Result<Self, CliError> {
        let labels = read_labels(&config.labels)?;
        Ok(FileFeedback {
            path: config.labels.clone(),
            after_round: config.after_round,
            count: labels.len(),
            labels,
            round: 0,
            delivered: Arc::new(Mutex::new(Delivered::default())),
        })
    }

    /// Fails with every label whose column or row ids the rounds so far did not deliver.
    fn check_targets(&self) -> Result<(), CliError> {
        let delivered = self
            .delivered
            .lock()
            .map_err(|_| CliError::Data("the label check's lock is poisoned".to_string()))?;
        let problems = unknown_targets(&self.labels, &delivered, &self.path);
        if problems.is_empty() {
            return Ok(());
        }
        let rounds = match self.after_round {
            1 => "round 1".to_string(),
            last => format!("rounds 1 to {last}"),
        };
        let mut message = format!(
            "{} of {} feedback labels name cells that {rounds} did not deliver, so no learner \
             could use them:\n",
            problems.len(),
            self.count
        );
        for problem in problems.iter().take(MAX_LISTED) {
            let _ = writeln!(message, "  {problem}");
        }
        if problems.len() > MAX_LISTED {
            let _ = writeln!(message, "  and {} more", problems.len() - MAX_LISTED);
        }
        let columns: Vec<&str> = delivered.columns.iter().map(String::as_str).collect();
        let _ = writeln!(message, "  governed columns: {}", columns.join(", "));
        if let Some((low, high)) = delivered.range {
            let _ = writeln!(message, "  delivered row ids: {low} to {high}");
        }
        let _ = write!(
            message,
            "fix the row_id and column of these lines to name cells of the governed output \
             (its __row_id column), or remove the lines; round {}'s outputs are written and \
             later rounds did not run",
            self.after_round
        );
        Err(CliError::Usage(message))
    }
}

impl RoundHook for FileFeedback {
    fn extend(&mut self, builder: ChainBuilder) -> Result<ChainBuilder, CliError> {
        let label_row_ids: HashSet<u64> = self
            .labels
            .iter()
            .filter_map(|label| target_cells(&label.feedback.target))
            .flat_map(|(row_ids, _)| row_ids)
            .collect();
        Ok(builder.apply(LabelTargets {
            label_row_ids: Arc::new(label_row_ids),
            delivered: Arc::clone(&self.delivered),
        }))
    }

    fn after_round(
        &mut self,
        _summary: &RunSummary,
        _more_rounds: bool,
    ) -> Result<Vec<Feedback>, CliError> {
        self.round += 1;
        if self.round != self.after_round {
            return Ok(Vec::new());
        }
        self.check_targets()?;
        let labels = std::mem::take(&mut self.labels);
        Ok(labels.into_iter().map(|label| label.feedback).collect())
    }

    fn summary(&self, outcome: &RunOutcome) -> Option<String> {
        let mut text = format!(
            "feedback: {} labels from {} handed to the learners after round {}\n",
            self.count,
            self.path.display(),
            self.after_round
        );
        let changed = outcome
            .adjustments
            .iter()
            .any(|(round, _)| *round == self.after_round);
        if self.count == 0 {
            text.push_str("note: the labels file contains no records\n");
        } else if !changed {
            text.push_str(&format!(
                "note: no stage changed: a learning stage (outliers, anomaly) ignores labels \
                 on cells it did not flag in that round, so compare the labels with the \
                 flagged cells in round-{}/issues.parquet\n",
                self.after_round
            ));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governance::Label;

    #[test]
    fn example_line_parses() {
        let record: Feedback = serde_json::from_str(EXAMPLE_LINE).expect("the example is valid");
        assert!(!record.label.is_positive());
    }

    #[test]
    fn bad_line_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("labels.jsonl");
        let text = format!("{EXAMPLE_LINE}\n\n{{\"row_id\": 3}}\n");
        std::fs::write(&path, text).expect("write labels");
        let error = read_labels(&path).expect_err("line 3 is not a record");
        let message = error.to_string();
        assert!(message.contains("labels.jsonl:3:"), "{message}");
        assert!(message.contains(EXAMPLE_LINE), "{message}");
        assert_eq!(error.exit_code(), crate::error::EXIT_USAGE);
    }

    #[test]
    fn unknown_targets_are_listed() {
        let labels: Vec<LabelLine> = [
            Feedback::cell(1, "pm25", Label::Rejected, "reviewer"),
            Feedback::cell(2, "pm10", Label::Confirmed, "reviewer"),
            Feedback::cell(7, "pm25", Label::Confirmed, "reviewer"),
        ]
        .into_iter()
        .enumerate()
        .map(|(index, feedback)| LabelLine {
            line: index + 1,
            feedback,
        })
        .collect();
        let delivered = Delivered {
            columns: ["pm25".to_string()].into_iter().collect(),
            found: [1, 2].into_iter().collect(),
            range: Some((0, 5)),
        };
        let problems = unknown_targets(&labels, &delivered, Path::new("l.jsonl"));
        assert_eq!(
            problems,
            vec![
                "l.jsonl:2: column \"pm10\" is not a column of the governed output".to_string(),
                "l.jsonl:3: row id 7 was not delivered".to_string(),
            ]
        );
    }

    #[test]
    fn after_round_must_precede_last() {
        let config = FeedbackConfig {
            labels: PathBuf::from("labels.jsonl"),
            after_round: 2,
        };
        assert!(config.check(3).is_ok());
        let message = config.check(2).expect_err("no round after round 2");
        assert!(message.contains("at least 3"), "{message}");
        let zero = FeedbackConfig {
            after_round: 0,
            ..config
        };
        assert!(zero.check(3).is_err());
    }
}
