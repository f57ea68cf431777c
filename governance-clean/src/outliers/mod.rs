//! The [`RobustOutliers`] cleaner: flags readings far from the typical value of their series,
//! measured by the robust z-score `|x - median| / (1.4826 * MAD)`, and flags ordered column
//! pairs whose order is broken (PM2.5 above PM10), which usually means swapped values.
//!
//! The median and MAD come from a sliding sample of the most recent values of each series and
//! column, together with the batch itself, so the first batch already has statistics. Rows are
//! never removed or changed: findings go to the issue log.
//!
//! The stage learns: feedback on the cells it flagged moves its threshold to the value that
//! maximises F1 on the labelled cells.
//!
//! From 256 values up, a sample summarises its older values: it sorts each full block and keeps
//! one value per group of up to four, 1.5 KiB per series and column for the default 1,024
//! values. The median and MAD taken
//! from it stay within 1/64 of the ranks of the exact ones. The `sample` module derives that
//! bound.
//!
//! NOTE: one sample is kept per series and column, so memory grows with the number of
//! distinct series names (misspelt names included, unless a rule corrects them first).

mod flagged;
mod sample;

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use arrow::array::Array;
use governance_core::{
    Adjustment, Cleaner, Error, Feedback, FeedbackTarget, GovernedBatch, Issue, IssueKind, Result,
    Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use self::flagged::{CellKey, FlaggedCells};
use self::sample::{RecentValues, RobustStats, SampleShape};
use crate::support::{column_index, float_column, group_by_series, value_columns};

/// Configuration of [`RobustOutliers`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RobustOutliersConfig {
    /// Column naming the series, such as a station; `None` treats the stream as one series.
    pub series: Option<String>,
    /// Float64 columns to check; `None` checks every Float64 column.
    pub columns: Option<Vec<String>>,
    /// A value is flagged when its robust z-score is above this. Feedback moves it.
    pub threshold: f64,
    /// Lowest threshold that feedback may set.
    pub threshold_floor: f64,
    /// Number of most recent values per series and column that the median and MAD cover,
    /// at least (default 1,024: six weeks of hourly readings, 1.5 KiB per series and column).
    /// The sample covers up to an eighth more, because it drops old values a block at a time.
    pub sample_size: usize,
    /// Minimum number of values (sample plus batch) before anything is flagged.
    pub min_samples: usize,
    /// Ordered column pairs `[smaller, larger]`: a row whose first value exceeds its second
    /// is flagged on both cells as possibly swapped. An empty list turns the check off.
    pub swap_pairs: Vec<(String, String)>,
    /// Number of most recent flags whose scores are remembered for learning (24 bytes each),
    /// and of labels kept.
    pub remembered: usize,
}

impl Default for RobustOutliersConfig {
    fn default() -> Self {
        RobustOutliersConfig {
            series: Some("station".into()),
            columns: None,
            threshold: 5.0,
            threshold_floor: 3.0,
            sample_size: 1024,
            min_samples: 30,
            swap_pairs: vec![("PM2.5".into(), "PM10".into())],
            remembered: 100_000,
        }
    }
}

/// Map that evicts its oldest insertions beyond a capacity.
#[derive(Debug)]
struct BoundedMap<K, V> {
    values: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> BoundedMap<K, V> {
    fn new(capacity: usize) -> Self {
        BoundedMap {
            values: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.values.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.values.remove(&oldest);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Flags robust outliers and swapped pairs; see the module docs.
#[derive(Debug)]
pub struct RobustOutliers {
    name: String,
    config: RobustOutliersConfig,
    version: u32,
    /// Recent values per (series, column).
    samples: HashMap<(Option<String>, String), RecentValues>,
    /// Block layout of every sample, from `config.sample_size`.
    shape: SampleShape,
    /// Names of the columns that remembered cells refer to, by index.
    columns: Vec<String>,
    /// Scores of recently flagged cells, for learning.
    flagged: FlaggedCells,
    /// Labelled flagged cells: score and whether the flag was right.
    labels: BoundedMap<CellKey, (f64, bool)>,
}

/// Returns the F1 score of flagging cells with score above `threshold`, over labelled cells.
/// With no positives and no flags at all, there is nothing to get wrong, so the score is 1.
fn f1_at(labels: &[(f64, bool)], threshold: f64) -> f64 {
    let (mut true_positives, mut false_positives, mut false_negatives) = (0.0, 0.0, 0.0);
    for &(score, positive) in labels {
        match (score > threshold, positive) {
            (true, true) => true_positives += 1.0,
            (true, false) => false_positives += 1.0,
            (false, true) => false_negatives += 1.0,
            (false, false) => {}
        }
    }
    let denominator = 2.0 * true_positives + false_positives + false_negatives;
    if denominator == 0.0 {
        1.0
    } else {
        2.0 * true_positives / denominator
    }
}

/// Chooses the threshold with the best F1 on `labels`, not below `floor`; among equal F1,
/// the one closest to `current`, so the threshold moves only as far as the labels require.
fn best_threshold(labels: &[(f64, bool)], current: f64, floor: f64) -> f64 {
    let mut candidates = vec![current.max(floor), floor];
    candidates.extend(
        labels
            .iter()
            .map(|&(score, _)| score)
            .filter(|&score| score >= floor),
    );
    let mut best = (f1_at(labels, candidates[0]), candidates[0]);
    for &candidate in &candidates[1..] {
        let f1 = f1_at(labels, candidate);
        let closer = (candidate - current).abs() < (best.1 - current).abs();
        if f1 > best.0 + 1e-12 || ((f1 - best.0).abs() <= 1e-12 && closer) {
            best = (f1, candidate);
        }
    }
    best.1
}

impl RobustOutliers {
    /// Creates the stage. Fails on a threshold below its floor, a floor that is not positive,
    /// or a zero sample size.
    pub fn new(config: RobustOutliersConfig) -> Result<Self> {
        const NAME: &str = "robust_outliers";
        if !(config.threshold_floor.is_finite() && config.threshold_floor > 0.0) {
            return Err(Error::config(
                NAME,
                "`threshold_floor` must be a positive number",
            ));
        }
        if !config.threshold.is_finite() || config.threshold < config.threshold_floor {
            return Err(Error::config(
                NAME,
                format!(
                    "`threshold` {} is below `threshold_floor` {}; raise it or lower the floor",
                    config.threshold, config.threshold_floor
                ),
            ));
        }
        if config.sample_size == 0 {
            return Err(Error::config(NAME, "`sample_size` must be at least 1"));
        }
        let remembered = config.remembered;
        let shape = SampleShape::new(config.sample_size);
        Ok(RobustOutliers {
            name: NAME.into(),
            config,
            version: 1,
            samples: HashMap::new(),
            shape,
            columns: Vec::new(),
            flagged: FlaggedCells::new(remembered),
            labels: BoundedMap::new(remembered),
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration, whose `threshold` reflects what feedback has set.
    pub fn config(&self) -> &RobustOutliersConfig {
        &self.config
    }

    /// Returns the current threshold.
    pub fn threshold(&self) -> f64 {
        self.config.threshold
    }

    /// Returns the remembered score of a flagged cell.
    pub fn flagged_score(&self, row_id: u64, column: &str) -> Option<f64> {
        let column = self.column_id(column)?;
        self.flagged.get((row_id, column))
    }

    /// Returns the index of a column name that remembered cells refer to.
    fn column_id(&self, column: &str) -> Option<u32> {
        let index = self.columns.iter().position(|known| known == column)?;
        u32::try_from(index).ok()
    }

    /// Returns the index of `column`, adding it to the known names when new.
    fn intern_column(&mut self, column: &str) -> u32 {
        if let Some(index) = self.column_id(column) {
            return index;
        }
        self.columns.push(column.to_string());
        // A stage checks a handful of columns; u32 overflow would need four billion names.
        u32::try_from(self.columns.len() - 1).unwrap_or(u32::MAX)
    }

    /// Scores one column of one series against the sample plus the batch, then adds the
    /// batch's values to the sample.
    fn score_series(
        &mut self,
        batch: &GovernedBatch,
        column: &str,
        values: &arrow::array::Float64Array,
        series: &Option<String>,
        rows: &[usize],
        issues: &mut Vec<Issue>,
    ) {
        let present: Vec<(usize, f64)> = rows
            .iter()
            .filter(|&&row| values.is_valid(row) && values.value(row).is_finite())
            .map(|&row| (row, values.value(row)))
            .collect();
        let column_id = self.intern_column(column);
        let shape = self.shape;
        let sample = self
            .samples
            .entry((series.clone(), column.to_string()))
            .or_default();
        let mut pooled: Vec<f64> = Vec::with_capacity(sample.len(shape) + present.len());
        sample.extend_pooled(&mut pooled, shape);
        pooled.extend(present.iter().map(|&(_, value)| value));
        for &(_, value) in &present {
            // Narrowing to f32 is the documented precision of the sample.
            sample.push(value as f32, shape);
        }

        if pooled.len() < self.config.min_samples {
            return;
        }
        let Some(stats) = RobustStats::of(&mut pooled) else {
            return;
        };
        let threshold = self.config.threshold;
        for (row, value) in present {
            let score = (value - stats.median).abs() / stats.scale;
            if score <= threshold {
                continue;
            }
            let row_id = batch.row_ids().value(row);
            self.flagged.insert((row_id, column_id), score);
            issues.push(
                Issue::cell(
                    row_id,
                    column,
                    IssueKind::Outlier,
                    Severity::Warning,
                    &self.name,
                    // The statistics are printed at f32 precision, that of the sample.
                    format!(
                        "value {value} is far from the series median {} (MAD {}): robust \
                         z-score {score:.2} is above the threshold {threshold}",
                        stats.median as f32, stats.mad as f32
                    ),
                )
                .with_confidence((1.0 - 0.5 * threshold / score) as f32),
            );
        }
    }

    /// Flags rows where the first column of a pair exceeds the second.
    fn check_pairs(&self, batch: &GovernedBatch, issues: &mut Vec<Issue>) -> Result<()> {
        for (smaller, larger) in &self.config.swap_pairs {
            let setting = "swap_pairs (set it to [] to turn the check off)";
            let small_index = column_index(batch, &self.name, setting, smaller)?;
            let large_index = column_index(batch, &self.name, setting, larger)?;
            let small = float_column(batch, &self.name, small_index)?;
            let large = float_column(batch, &self.name, large_index)?;
            for row in 0..batch.num_rows() {
                if small.is_null(row) || large.is_null(row) {
                    continue;
                }
                let (x, y) = (small.value(row), large.value(row));
                if x.partial_cmp(&y) != Some(std::cmp::Ordering::Greater) {
                    continue;
                }
                let row_id = batch.row_ids().value(row);
                let message =
                    format!("{smaller} ({x}) exceeds {larger} ({y}); values may be swapped");
                // Relative excess: 1.0 once the first value is double the second.
                let confidence = if y > 0.0 { ((x - y) / y).min(1.0) } else { 1.0 } as f32;
                for (column, suggested) in [(smaller, y), (larger, x)] {
                    issues.push(
                        Issue::cell(
                            row_id,
                            column,
                            IssueKind::OutOfRange,
                            Severity::Warning,
                            &self.name,
                            &message,
                        )
                        .with_suggested(suggested.to_string())
                        .with_confidence(confidence),
                    );
                }
            }
        }
        Ok(())
    }
}

impl Stage for RobustOutliers {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        self.version.to_string()
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("flag robust z-scores above {}", self.config.threshold)
    }

    /// Labels the flagged cells named by cell feedback (confirmed or corrected: the flag was
    /// right; rejected: it was wrong) and moves the threshold to the one with the best F1 over
    /// every labelled cell so far.
    ///
    /// NOTE: only flagged cells have a known score, so errors the stage never flagged cannot
    /// pull the threshold below the lowest threshold it has used.
    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        let scores = self.flagged.scores();
        for item in feedback {
            let FeedbackTarget::Cell { row_id, column } = &item.target else {
                continue;
            };
            let Some(column_id) = self.column_id(column) else {
                continue;
            };
            let key = (*row_id, column_id);
            if let Some(&score) = scores.get(&key) {
                self.labels.insert(key, (score, item.label.is_positive()));
            }
        }
        if self.labels.is_empty() {
            return Ok(None);
        }
        let labels: Vec<(f64, bool)> = self.labels.values.values().copied().collect();
        let current = self.config.threshold;
        let chosen = best_threshold(&labels, current, self.config.threshold_floor);
        if (chosen - current).abs() < 1e-9 {
            return Ok(None);
        }
        let (before, after) = (f1_at(&labels, current), f1_at(&labels, chosen));
        let from_version = self.version();
        self.config.threshold = chosen;
        self.version += 1;
        tracing::debug!(stage = %self.name, from = current, to = chosen, labels = labels.len(), "threshold moved by feedback");
        Ok(Some(Adjustment {
            stage: self.name.clone(),
            from_version,
            to_version: self.version(),
            description: format!(
                "threshold {current} -> {chosen}: F1 on {} labelled cells {before:.3} -> {after:.3}",
                labels.len()
            ),
            params: self.params(),
        }))
    }
}

impl Cleaner for RobustOutliers {
    fn clean(
        &mut self,
        mut batch: GovernedBatch,
        _ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        let series = match &self.config.series {
            Some(name) => Some(column_index(&batch, &self.name, "series", name)?),
            None => None,
        };
        let excluded: Vec<&str> = self.config.series.iter().map(String::as_str).collect();
        let targets = value_columns(
            &batch,
            &self.name,
            self.config.columns.as_deref(),
            &excluded,
        )?;
        let groups = group_by_series(&batch, series)?;
        let mut issues = Vec::new();
        for target in targets {
            let values = float_column(&batch, &self.name, target)?.clone();
            let column = batch.data().schema().field(target).name().clone();
            for group in &groups {
                self.score_series(
                    &batch,
                    &column,
                    &values,
                    &group.name,
                    &group.rows,
                    &mut issues,
                );
            }
        }
        self.check_pairs(&batch, &mut issues)?;
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        Ok(batch)
    }

    /// Forgets the samples at the end of a round, so each round scores its stream from the
    /// same start and the same input and threshold give the same flags. Learned labels stay.
    fn flush(&mut self, _ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        self.samples.clear();
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
