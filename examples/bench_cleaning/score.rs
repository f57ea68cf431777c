//! Cell-level scoring of detection and end-to-end correction, and their mean and spread over
//! seeds.

use arrow::array::{Array, StringArray};
use governance::{GovernedBatch, IssueKind};

use crate::Figures;
use crate::data::{Dataset, same};

/// Counts of one run for one task.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Cells the run flagged or changed.
    pub predicted: usize,
    /// Of those, the ones that were right.
    pub correct: usize,
    /// Erroneous cells in the table.
    pub errors: usize,
}

impl Counts {
    pub fn precision(self) -> f64 {
        ratio(self.correct, self.predicted)
    }

    pub fn recall(self) -> f64 {
        ratio(self.correct, self.errors)
    }

    pub fn f1(self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The counts of one run, raw and canonicalised.
pub struct Outcome {
    raw_detection: Counts,
    raw_correction: Counts,
    canonical_detection: Counts,
    canonical_correction: Counts,
    /// Per column, the raw values of the cells flagged although they were right.
    pub false_positives: Vec<Vec<String>>,
    /// Per column, the dirty and clean raw values of the erroneous cells left unflagged.
    pub false_negatives: Vec<Vec<(String, String)>>,
    /// Per column, the raw detection counts.
    pub column_detection: Vec<Counts>,
}

/// Scores the stage's output against the clean table.
#[expect(
    clippy::needless_range_loop,
    reason = "row and column positions index the dirty, clean and flagged tables together"
)]
pub fn score(dataset: &Dataset, output: &GovernedBatch, detector: &str) -> Outcome {
    let rows = dataset.dirty.len();
    let columns = dataset.names.len();
    let mut flagged = vec![vec![false; columns]; rows];
    for issue in output.issues.issues() {
        if issue.kind != IssueKind::Anomaly || issue.detector != detector {
            continue;
        }
        let Some(name) = &issue.column else { continue };
        let column = (0..columns).find(|&index| dataset.field_name(index) == *name);
        if let (Some(column), Ok(row)) = (column, usize::try_from(issue.row_id))
            && row < rows
        {
            flagged[row][column] = true;
        }
    }
    let mut outcome = Outcome {
        raw_detection: Counts::default(),
        raw_correction: Counts::default(),
        canonical_detection: Counts::default(),
        canonical_correction: Counts::default(),
        false_positives: vec![Vec::new(); columns],
        false_negatives: vec![Vec::new(); columns],
        column_detection: vec![Counts::default(); columns],
    };
    for column in 0..columns {
        let values = output
            .column(&dataset.field_name(column))
            .ok()
            .and_then(|array| array.as_any().downcast_ref::<StringArray>().cloned());
        for row in 0..rows {
            let dirty = &dataset.dirty[row][column];
            let clean = &dataset.clean[row][column];
            let raw_error = !same(dirty, clean, false);
            if flagged[row][column] && !raw_error {
                outcome.false_positives[column].push(dirty.clone());
            }
            if raw_error && !flagged[row][column] {
                outcome.false_negatives[column].push((dirty.clone(), clean.clone()));
            }
            let counts = &mut outcome.column_detection[column];
            counts.errors += usize::from(raw_error);
            counts.predicted += usize::from(flagged[row][column]);
            counts.correct += usize::from(raw_error && flagged[row][column]);
            let repaired = match &values {
                Some(values) if values.is_valid(row) => values.value(row),
                _ => dirty.as_str(),
            };
            for (canonical, detection, correction) in [
                (
                    false,
                    &mut outcome.raw_detection,
                    &mut outcome.raw_correction,
                ),
                (
                    true,
                    &mut outcome.canonical_detection,
                    &mut outcome.canonical_correction,
                ),
            ] {
                let is_error = !same(dirty, clean, canonical);
                detection.errors += usize::from(is_error);
                correction.errors += usize::from(is_error);
                if flagged[row][column] {
                    detection.predicted += 1;
                    detection.correct += usize::from(is_error);
                }
                if !same(repaired, dirty, canonical) {
                    correction.predicted += 1;
                    correction.correct += usize::from(same(repaired, clean, canonical));
                }
            }
        }
    }
    outcome
}

/// Mean and standard deviation over seeds of precision, recall and F1.
pub struct Spread {
    mean: [f64; 3],
    deviation: [f64; 3],
}

impl Spread {
    fn of(counts: &[Counts]) -> Spread {
        let series: [Vec<f64>; 3] = [
            counts.iter().map(|count| count.precision()).collect(),
            counts.iter().map(|count| count.recall()).collect(),
            counts.iter().map(|count| count.f1()).collect(),
        ];
        let mut spread = Spread {
            mean: [0.0; 3],
            deviation: [0.0; 3],
        };
        for (index, values) in series.iter().enumerate() {
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let variance = values
                .iter()
                .map(|value| (value - mean).powi(2))
                .sum::<f64>()
                / values.len().max(1) as f64;
            spread.mean[index] = mean;
            spread.deviation[index] = variance.sqrt();
        }
        spread
    }

    /// Formats the three figures as `mean ± deviation`.
    pub fn describe(&self) -> String {
        (0..3)
            .map(|index| format!("{:>6.3} ±{:.3}", self.mean[index], self.deviation[index]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Returns the mean figures.
    pub fn figures(&self) -> Figures {
        Figures {
            precision: self.mean[0],
            recall: self.mean[1],
            f1: self.mean[2],
        }
    }
}

/// The spread of every figure over the seeds.
pub struct Summary {
    pub raw_detection: Spread,
    pub raw_correction: Spread,
    pub canonical_detection: Spread,
    pub canonical_correction: Spread,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let pick =
            |get: fn(&Outcome) -> Counts| Spread::of(&outcomes.iter().map(get).collect::<Vec<_>>());
        Summary {
            raw_detection: pick(|outcome| outcome.raw_detection),
            raw_correction: pick(|outcome| outcome.raw_correction),
            canonical_detection: pick(|outcome| outcome.canonical_detection),
            canonical_correction: pick(|outcome| outcome.canonical_correction),
        }
    }
}
