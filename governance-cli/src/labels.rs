//! Feedback labels for `govern run`. The `[feedback]` table of a chain file names a JSON Lines
//! file of [`Feedback`] records, which the runner hands to the chain's learners after one round.
//!
//! A [`Feedback`] record carries no round, so every label of the file is applied once, after
//! round `after_round` (1 by default). Labels name cells by row id, the `__row_id` column of
//! the governed output and `row_id` of `issues.parquet`. The same input read in the same order
//! gets the same row ids, so labels written from the review of one run apply to the next.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use governance::{ChainBuilder, Feedback, RunSummary};
use serde::Deserialize;

use crate::error::CliError;
use crate::runner::{RoundHook, RunOutcome};

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

/// Reads every feedback record of the JSON Lines file at `path`. Blank lines are skipped.
/// A line that is not a record fails with the file, the line number and a valid example.
pub fn read_labels(path: &Path) -> Result<Vec<Feedback>, CliError> {
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
        labels.push(record);
    }
    Ok(labels)
}

/// The [`RoundHook`] of `govern run`: hands the labels of a file to the chain's learners
/// after one round.
pub struct FileFeedback {
    path: PathBuf,
    after_round: u32,
    labels: Vec<Feedback>,
    count: usize,
    round: u32,
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
        })
    }
}

impl RoundHook for FileFeedback {
    fn extend(&mut self, builder: ChainBuilder) -> Result<ChainBuilder, CliError> {
        Ok(builder)
    }

    fn after_round(
        &mut self,
        _summary: &RunSummary,
        _more_rounds: bool,
    ) -> Result<Vec<Feedback>, CliError> {
        self.round += 1;
        if self.round == self.after_round {
            Ok(std::mem::take(&mut self.labels))
        } else {
            Ok(Vec::new())
        }
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
                 on cells it did not flag in that round, so check the labels' row_id and \
                 column against the flagged cells in round-{}/issues.parquet\n",
                self.after_round
            ));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
