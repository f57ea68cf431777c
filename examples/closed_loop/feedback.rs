//! Feedback for the closed loop: an applicator that remembers which cells the chain flagged,
//! labels drawn from ground truth or a label file, and detection precision and recall.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, StringArray};
use governance::collect::synthetic::{GroundTruth, InjectedKind};
use governance::{
    Applicator, Error, Feedback, GovernedBatch, IssueKind, Label, Result, Stage, StageContext,
};
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use serde::Serialize;

/// Issue kinds that count as "this cell is wrong" when scoring detection.
pub const FLAG_KINDS: [IssueKind; 4] = [
    IssueKind::Outlier,
    IssueKind::Anomaly,
    IssueKind::OutOfRange,
    IssueKind::NotAllowed,
];

/// Cells the chain flagged in one round, shared between the applicator and the example.
pub type Flags = Arc<Mutex<HashSet<(u64, String)>>>;

/// Records every flagged cell of the batches that reach the end of the chain, and optionally
/// the text of one column per row (to check masking).
pub struct FlagRecorder {
    name: String,
    flags: Flags,
    text_column: Option<String>,
    texts: Arc<Mutex<HashMap<u64, String>>>,
}

impl FlagRecorder {
    pub fn new(name: &str, text_column: Option<&str>) -> Self {
        FlagRecorder {
            name: name.to_string(),
            flags: Flags::default(),
            text_column: text_column.map(str::to_string),
            texts: Arc::default(),
        }
    }

    pub fn flags(&self) -> Flags {
        Arc::clone(&self.flags)
    }

    pub fn texts(&self) -> Arc<Mutex<HashMap<u64, String>>> {
        Arc::clone(&self.texts)
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Internal("flag recorder lock poisoned".into())
}

impl Stage for FlagRecorder {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Applicator for FlagRecorder {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        {
            let mut flags = self.flags.lock().map_err(poisoned)?;
            for issue in batch.issues.issues() {
                if let (true, Some(column)) = (FLAG_KINDS.contains(&issue.kind), &issue.column) {
                    flags.insert((issue.row_id, column.clone()));
                }
            }
        }
        if let Some(column) = &self.text_column {
            let values = batch.column(column)?;
            let values = values
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::InvalidInput(format!("column {column} is not text")))?;
            let mut texts = self.texts.lock().map_err(poisoned)?;
            for (row, row_id) in batch.row_ids().values().iter().enumerate() {
                if values.is_valid(row) {
                    texts.insert(*row_id, values.value(row).to_string());
                }
            }
        }
        Ok(())
    }
}

/// The cells that ground truth says are wrong and a detector should flag: outliers, both
/// cells of a swap, and station-name typos. Gaps are filled rather than flagged, and
/// duplicates are merged, so both are scored apart.
pub fn truth_cells(truth: &GroundTruth) -> HashSet<(u64, String)> {
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
            _ => {}
        }
    }
    cells
}

/// Detection quality of one round.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub round: u32,
    pub flagged: usize,
    pub true_positives: usize,
    pub truth: usize,
    pub precision: f64,
    pub recall: f64,
}

/// Scores flagged cells against ground-truth cells.
pub fn score(
    round: u32,
    flags: &HashSet<(u64, String)>,
    truth: &HashSet<(u64, String)>,
) -> Detection {
    let true_positives = flags.intersection(truth).count();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    Detection {
        round,
        flagged: flags.len(),
        true_positives,
        truth: truth.len(),
        precision: ratio(true_positives, flags.len()),
        recall: ratio(true_positives, truth.len()),
    }
}

/// Labels a random sample of flagged cells from ground truth: confirmed when the cell really is
/// wrong, rejected when it is not.
pub fn labels_from_truth(
    flags: &HashSet<(u64, String)>,
    truth: &HashSet<(u64, String)>,
    sample: usize,
    seed: u64,
) -> Vec<Feedback> {
    let mut cells: Vec<&(u64, String)> = flags.iter().collect();
    cells.sort();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    cells
        .choose_multiple(&mut rng, sample)
        .map(|cell| {
            let label = if truth.contains(*cell) {
                Label::Confirmed
            } else {
                Label::Rejected
            };
            Feedback::cell(cell.0, cell.1.clone(), label, "ground_truth")
        })
        .collect()
}

/// Reads feedback labels from a JSON Lines file, one `Feedback` per line.
pub fn labels_from_file(path: &Path) -> Result<Vec<Feedback>> {
    let file = std::fs::File::open(path).map_err(|source| Error::io(path, source))?;
    let mut labels = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| Error::io(path, source))?;
        if line.trim().is_empty() {
            continue;
        }
        let feedback: Feedback = serde_json::from_str(&line).map_err(|error| {
            Error::InvalidInput(format!(
                "{}:{}: not a feedback record ({error}); expected for example \
                 {{\"target\":{{\"type\":\"cell\",\"row_id\":7,\"column\":\"PM2.5\"}},\"label\":{{\"label\":\"rejected\"}},\"source\":\"reviewer\"}}",
                path.display(),
                index + 1
            ))
        })?;
        labels.push(feedback);
    }
    Ok(labels)
}

/// Counts labels by verdict, for the printed summary.
pub fn label_counts(labels: &[Feedback]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for feedback in labels {
        let key = if feedback.label.is_positive() {
            "confirmed"
        } else {
            "rejected"
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}
