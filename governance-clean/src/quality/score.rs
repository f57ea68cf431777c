//! The scores of the quality gate, computed from a batch's values and its issue log.
//!
//! For `n` rows and the scored columns:
//!
//! - completeness: present cells over all cells. A cell is present when it is not null and,
//!   for a string column, not blank.
//! - accuracy: `1 - flagged / examined`. A cell is flagged by an issue of an accuracy kind at
//!   or above the minimum severity, weighted by the highest confidence among its issues, so
//!   a flag with confidence 0.5 counts as half an error. The examined cells are the present
//!   cells plus null cells that carry such a flag (a rule may have nulled a wrong value). No
//!   examined cell gives no score. Issues about a whole row (no column) do not count here.
//! - consistency: the share of rows without an issue of a consistency kind at or above the
//!   minimum severity. For a column, only issues on that column's cells count. For a row and
//!   for the batch, any such issue of the row counts, row-level ones included.
//! - timeliness: the mean over rows of `1 - age / window`, clamped to [0, 1]. The age is the
//!   reference time minus the row's time, and a null time scores 0.
//! - usability: the weighted mean of the dimensions that have a score.
//!
//! The batch scores pool all cells (and all rows), so batch usability is not the mean of the
//! row scores.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use governance_core::{GovernedBatch, Result};
use serde::{Deserialize, Serialize};

use super::config::{QualityConfig, TimelinessConfig, UsabilityWeights};
use crate::support::time_values;

/// Scores of one row, one column or one batch, each in [0, 1]. A score is `None` where its
/// dimension has no basis: no rows, no examined cell or no timeliness settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Share of present cells.
    pub completeness: Option<f64>,
    /// One minus the confidence-weighted share of flagged cells among the examined ones.
    pub accuracy: Option<f64>,
    /// Share of rows without a rule or dependency violation.
    pub consistency: Option<f64>,
    /// Mean freshness against the configured window.
    pub timeliness: Option<f64>,
    /// Weighted mean of the dimensions above that have a score.
    pub usability: Option<f64>,
}

/// Scores of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnScores {
    /// Column name.
    pub column: String,
    /// The column's scores; its timeliness is the batch's.
    pub scores: Scores,
}

/// Scores of one batch: the whole batch, each scored column and each row in batch order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchQuality {
    /// Rows scored.
    pub rows: usize,
    /// Scores over all scored cells and rows.
    pub batch: Scores,
    /// Scores per scored column, in batch order.
    pub columns: Vec<ColumnScores>,
    /// Scores per row, in batch order.
    #[serde(skip)]
    pub row_scores: Vec<Scores>,
}

/// Per-cell counts of one batch that the scores are computed from.
struct CellFlags {
    /// `present[column][row]`.
    present: Vec<Vec<bool>>,
    /// `error[column][row]`: the highest confidence of an accuracy flag, 0 when unflagged.
    error: Vec<Vec<f64>>,
    /// `flagged[column][row]`: whether any accuracy flag is on the cell.
    flagged: Vec<Vec<bool>>,
    /// `violated[column][row]`: a consistency issue on that cell.
    violated: Vec<Vec<bool>>,
    /// A consistency issue anywhere in the row, row-level issues included.
    row_violated: Vec<bool>,
}

/// Scores `batch` over the columns at `columns` (indices into the batch), reading the time
/// column at `time` when timeliness is configured.
pub(crate) fn score_batch(
    batch: &GovernedBatch,
    config: &QualityConfig,
    columns: &[usize],
    time: Option<usize>,
    stage: &str,
) -> Result<BatchQuality> {
    let rows = batch.num_rows();
    let flags = cell_flags(batch, config, columns);
    let timeliness = match (&config.timeliness, time) {
        (Some(settings), Some(index)) => Some(row_timeliness(batch, settings, index, stage)?),
        _ => None,
    };
    let weights = &config.weights;
    let batch_timeliness = timeliness.as_deref().and_then(mean);

    let mut column_scores = Vec::with_capacity(columns.len());
    for (position, &index) in columns.iter().enumerate() {
        let present = count(&flags.present[position]);
        let (error, examined) = accuracy_sums(&flags, position, 0..rows);
        let violated = count(&flags.violated[position]);
        let mut scores = Scores {
            completeness: ratio(present, rows),
            accuracy: (examined > 0).then(|| 1.0 - error / examined as f64),
            consistency: ratio(rows - violated, rows),
            timeliness: batch_timeliness,
            usability: None,
        };
        scores.usability = usability(weights, &scores);
        column_scores.push(ColumnScores {
            column: batch.data().schema().field(index).name().clone(),
            scores,
        });
    }

    let width = columns.len();
    let mut row_scores = Vec::with_capacity(rows);
    let (mut total_present, mut total_error, mut total_examined) = (0usize, 0.0f64, 0usize);
    for row in 0..rows {
        let present = (0..width).filter(|&c| flags.present[c][row]).count();
        let (mut error, mut examined) = (0.0, 0usize);
        for column in 0..width {
            let (cell_error, cell_examined) = accuracy_sums(&flags, column, row..row + 1);
            error += cell_error;
            examined += cell_examined;
        }
        total_present += present;
        total_error += error;
        total_examined += examined;
        let mut scores = Scores {
            completeness: ratio(present, width),
            accuracy: (examined > 0).then(|| 1.0 - error / examined as f64),
            consistency: Some(if flags.row_violated[row] { 0.0 } else { 1.0 }),
            timeliness: timeliness.as_ref().map(|values| values[row]),
            usability: None,
        };
        scores.usability = usability(weights, &scores);
        row_scores.push(scores);
    }

    let mut batch_scores = Scores {
        completeness: ratio(total_present, rows * width),
        accuracy: (total_examined > 0).then(|| 1.0 - total_error / total_examined as f64),
        consistency: ratio(rows - count(&flags.row_violated), rows),
        timeliness: batch_timeliness,
        usability: None,
    };
    batch_scores.usability = usability(weights, &batch_scores);
    Ok(BatchQuality {
        rows,
        batch: batch_scores,
        columns: column_scores,
        row_scores,
    })
}

/// Returns the weighted mean of the dimensions of `scores` that have a score, or `None` when
/// none with a positive weight has one.
pub(crate) fn usability(weights: &UsabilityWeights, scores: &Scores) -> Option<f64> {
    let parts = [
        (weights.completeness, scores.completeness),
        (weights.accuracy, scores.accuracy),
        (weights.consistency, scores.consistency),
        (weights.timeliness, scores.timeliness),
    ];
    let (mut sum, mut weight) = (0.0, 0.0);
    for (part_weight, value) in parts {
        if let Some(value) = value {
            sum += part_weight * value;
            weight += part_weight;
        }
    }
    (weight > 0.0).then(|| (sum / weight).clamp(0.0, 1.0))
}

/// Sums the error weight and the examined cells of one column over `rows`.
fn accuracy_sums(flags: &CellFlags, column: usize, rows: std::ops::Range<usize>) -> (f64, usize) {
    let (mut error, mut examined) = (0.0, 0);
    for row in rows {
        if flags.present[column][row] || flags.flagged[column][row] {
            examined += 1;
            error += flags.error[column][row];
        }
    }
    (error, examined)
}

fn cell_flags(batch: &GovernedBatch, config: &QualityConfig, columns: &[usize]) -> CellFlags {
    let rows = batch.num_rows();
    let width = columns.len();
    let data = batch.data();
    let schema = data.schema();
    let present: Vec<Vec<bool>> = columns
        .iter()
        .map(|&index| present_cells(data.column(index)))
        .collect();
    let positions: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(position, &index)| (schema.field(index).name().as_str(), position))
        .collect();
    let row_positions: HashMap<u64, usize> = batch
        .row_ids()
        .values()
        .iter()
        .enumerate()
        .map(|(row, &id)| (id, row))
        .collect();

    let mut flags = CellFlags {
        present,
        error: vec![vec![0.0; rows]; width],
        flagged: vec![vec![false; rows]; width],
        violated: vec![vec![false; rows]; width],
        row_violated: vec![false; rows],
    };
    for issue in batch.issues.issues() {
        if issue.severity < config.min_severity {
            continue;
        }
        // Issues about rows outside this batch (a row merged away earlier) score nothing.
        let Some(&row) = row_positions.get(&issue.row_id) else {
            continue;
        };
        let column = issue
            .column
            .as_deref()
            .and_then(|name| positions.get(name).copied());
        if config.accuracy_kinds.contains(&issue.kind)
            && let Some(column) = column
        {
            // A NaN confidence carries no information, so it counts as a certain flag.
            let confidence = if issue.confidence.is_nan() {
                1.0
            } else {
                f64::from(issue.confidence).clamp(0.0, 1.0)
            };
            flags.flagged[column][row] = true;
            flags.error[column][row] = flags.error[column][row].max(confidence);
        }
        if config.consistency_kinds.contains(&issue.kind) {
            flags.row_violated[row] = true;
            if let Some(column) = column {
                flags.violated[column][row] = true;
            }
        }
    }
    flags
}

/// Returns, per row, whether the cell is neither null nor a blank string.
fn present_cells(column: &ArrayRef) -> Vec<bool> {
    // Logical nulls, because dictionary and null arrays keep nulls outside the validity bitmap.
    let nulls = column.logical_nulls();
    let mut present: Vec<bool> = (0..column.len())
        .map(|row| nulls.as_ref().is_none_or(|nulls| nulls.is_valid(row)))
        .collect();
    let blank = |value: &str| value.trim().is_empty();
    match column.data_type() {
        DataType::Utf8 => mark_blank(&mut present, column.as_string::<i32>().iter(), blank),
        DataType::LargeUtf8 => mark_blank(&mut present, column.as_string::<i64>().iter(), blank),
        DataType::Utf8View => mark_blank(&mut present, column.as_string_view().iter(), blank),
        _ => {}
    }
    present
}

fn mark_blank<'a>(
    present: &mut [bool],
    values: impl Iterator<Item = Option<&'a str>>,
    blank: impl Fn(&str) -> bool,
) {
    for (cell, value) in present.iter_mut().zip(values) {
        if value.is_some_and(&blank) {
            *cell = false;
        }
    }
}

/// Returns each row's timeliness in [0, 1].
fn row_timeliness(
    batch: &GovernedBatch,
    settings: &TimelinessConfig,
    index: usize,
    stage: &str,
) -> Result<Vec<f64>> {
    let values = time_values(batch, stage, index)?;
    let to_ms = millis_factor(batch.data().schema().field(index).data_type());
    let reference = settings
        .reference_ms
        .unwrap_or(batch.provenance.collected_at_ms) as f64;
    let window_ms = settings.window_seconds * 1000.0;
    Ok((0..values.len())
        .map(|row| {
            if values.is_null(row) {
                return 0.0;
            }
            let age_ms = reference - values.value(row) as f64 * to_ms;
            (1.0 - age_ms / window_ms).clamp(0.0, 1.0)
        })
        .collect())
}

/// Returns the milliseconds in one unit of a time column read by [`time_values`].
fn millis_factor(data_type: &DataType) -> f64 {
    // Integers are milliseconds by this stage's contract.
    crate::support::millis_per_unit(data_type)
        .map_or(1.0, |(multiply, divide)| multiply as f64 / divide as f64)
}

fn count(values: &[bool]) -> usize {
    values.iter().filter(|&&value| value).count()
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
