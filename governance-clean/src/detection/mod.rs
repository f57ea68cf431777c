//! Error detection and correction from a few labelled tuples, in the manner of Raha and Baran.
//! An ensemble of detectors turns every cell into features, the stage picks the tuples a
//! person should label, spreads those labels to cells whose detectors fire alike, trains a
//! burn classifier ([`governance_llm::TrainedCellClassifier`]) to flag errors, and proposes
//! corrections with a confidence.
//!
//! Labels arrive as [`Feedback`] on cells through [`Stage::learn`]: `Corrected` marks an error
//! and gives its right value, `Confirmed` marks an error without one, and `Rejected` marks a
//! correct cell. [`ErrorCleaner::pick_tuples`] names the rows worth labelling next.
//!
//! Each column with labelled errors and labelled correct cells gets its own model over all its
//! features. Any other column is scored by one model shared by all columns and trained on the
//! generic features of every label, so a column where no labelled tuple had an error can still
//! be cleaned. The shared model's scores are moved to the error rate of the column's own
//! labels ([`prior`]), so a column where every labelled cell is an error is not scored as if
//! it were as clean as the rest. Cells a person labelled keep their label.
//!
//! When the table holds one row per entity and source, truth discovery ([`truth`]) estimates
//! each source's reliability and each entity's true values; a cell that differs from its
//! entity's truth is flagged as far as the truths proved right on held-out labelled entities,
//! and the truth becomes a correction candidate.

mod explain;
pub(crate) mod fd;
mod features;
mod moved;
mod prior;
mod sampling;
pub(crate) mod table;
pub(crate) mod truth;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use governance_core::audit::AuditAction;
use governance_core::{
    Adjustment, Cleaner, Error, Feedback, FeedbackTarget, GovernedBatch, Issue, IssueKind, Label,
    Result, Severity, Stage, StageContext,
};
use governance_llm::{CellClassifierConfig, TrainedCellClassifier};
use serde::{Deserialize, Serialize};

use crate::correction::{LabelledCell, Proposal, TruthSource, propose};
use crate::support::{ChangeCounts, with_columns};
use explain::{Scorer, fired_detectors};
use features::{ColumnFeatures, GENERIC, column_features};
use sampling::{Clusters, TrainingLabel, pick_rows, propagate};
use table::{CellTable, Interned};
use truth::{EntityLayout, KnownTruths, Truths};

/// Configuration of [`ErrorCleaner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorCleanerConfig {
    /// Maximum number of tuples [`ErrorCleaner::pick_tuples`] requests a person to label, counting those
    /// already labelled.
    pub label_budget: usize,
    /// Largest g3 error of a discovered functional dependency, in `[0, 1)`.
    pub max_g3: f64,
    /// Most determining columns used per dependent column.
    pub dependencies_per_column: usize,
    /// Error probability at or above which a cell is flagged, in `(0, 1)`.
    pub threshold: f32,
    /// Confidence at or above which a proposed correction is written into the data; lower
    /// proposals stay in the issue log only. Above 1 applies nothing.
    pub apply_above: f32,
    /// The classifier that combines the features.
    pub classifier: CellClassifierConfig,
}

impl Default for ErrorCleanerConfig {
    fn default() -> Self {
        ErrorCleanerConfig {
            label_budget: 20,
            max_g3: 0.5,
            dependencies_per_column: 3,
            threshold: 0.5,
            apply_above: 0.5,
            classifier: CellClassifierConfig::default(),
        }
    }
}

/// A person's label on one cell.
#[derive(Debug, Clone, PartialEq)]
struct CellLabel {
    is_error: bool,
    correction: Option<String>,
}

/// The error detection and correction stage. It flags cells as `Anomaly` issues that name the
/// features that fired, proposes corrections in those issues, and writes proposals at or above
/// `apply_above` into Utf8 columns, logging each change with the original value as a
/// `Canonicalised` issue.
#[derive(Debug)]
pub struct ErrorCleaner {
    name: String,
    config: ErrorCleanerConfig,
    // Ordered, so that everything built from the labels is the same from run to run.
    labels: BTreeMap<(u64, String), CellLabel>,
    version: u64,
}

/// The detectors' view of one batch.
struct Analysis {
    table: CellTable,
    interned: Vec<Interned>,
    dependencies: Vec<fd::Dependency>,
    features: Vec<ColumnFeatures>,
    clusters: Vec<Clusters>,
    truths: Option<Truths>,
}

/// Labels of a batch's cells, per column position, by row position.
type BatchLabels<'a> = Vec<BTreeMap<usize, &'a CellLabel>>;

impl Analysis {
    fn of(
        batch: &GovernedBatch,
        config: &ErrorCleanerConfig,
        labels: &BatchLabels<'_>,
    ) -> Result<Analysis> {
        let table = CellTable::from_batch(batch)?;
        let interned: Vec<Interned> = table
            .columns
            .iter()
            .map(|column| Interned::of(column))
            .collect();
        let dependencies = fd::discover(&interned, config.max_g3, config.dependencies_per_column);
        let truths = EntityLayout::discover(&interned).map(|layout| {
            let known = known_truths(&table, &interned, &layout, labels, None);
            Truths::estimate(&interned, &layout, &known)
        });
        let features = column_features(&table, &interned, &dependencies, truths.as_ref());
        let clusters = features
            .iter()
            .map(|column| Clusters::of(column, GENERIC.len(), table.rows))
            .collect();
        Ok(Analysis {
            table,
            interned,
            dependencies,
            features,
            clusters,
            truths,
        })
    }
}

/// The truths the labels give: a corrected cell's correction, or the value of a cell
/// labelled correct, for its entity and column. Labels of the entity group `left_out` are
/// skipped, to measure how well the truths of other entities are found.
fn known_truths(
    table: &CellTable,
    interned: &[Interned],
    layout: &EntityLayout,
    labels: &BatchLabels<'_>,
    left_out: Option<u32>,
) -> KnownTruths {
    let mut known = KnownTruths::new();
    for &column in &layout.attributes {
        for (&row, label) in &labels[column] {
            let group = interned[layout.key].ids[row];
            if Some(group) == left_out {
                continue;
            }
            let value = match (&label.correction, label.is_error) {
                (Some(value), _) => value.clone(),
                (None, false) => table.columns[column][row].clone(),
                (None, true) => continue,
            };
            known.insert((column, group), value);
        }
    }
    known
}

impl ErrorCleaner {
    /// Creates the stage. Fails on a threshold outside `(0, 1)`, a g3 bound outside `[0, 1)`,
    /// or an invalid classifier config.
    pub fn new(config: ErrorCleanerConfig) -> Result<Self> {
        const NAME: &str = "error_cleaner";
        if !(config.threshold > 0.0 && config.threshold < 1.0) {
            return Err(Error::config(
                NAME,
                format!(
                    "`threshold` is {}; it must lie strictly between 0 and 1, such as 0.5",
                    config.threshold
                ),
            ));
        }
        if !(config.max_g3 >= 0.0 && config.max_g3 < 1.0) {
            return Err(Error::config(
                NAME,
                format!(
                    "`max_g3` is {}; it must lie in [0, 1), such as 0.5",
                    config.max_g3
                ),
            ));
        }
        if config.apply_above.is_nan() {
            return Err(Error::config(
                NAME,
                "`apply_above` is NaN; use a number such as 0.5",
            ));
        }
        config
            .classifier
            .validate()
            .map_err(|error| Error::config(NAME, format!("`classifier`: {error}")))?;
        Ok(ErrorCleaner {
            name: NAME.into(),
            config,
            labels: BTreeMap::new(),
            version: 1,
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &ErrorCleanerConfig {
        &self.config
    }

    /// Returns the number of labelled cells.
    pub fn labelled_cells(&self) -> usize {
        self.labels.len()
    }

    /// Returns the row ids of the tuples a person should label next: up to `label_budget`
    /// minus the tuples of `batch` already labelled. `seed` breaks ties between equally
    /// useful tuples.
    pub fn pick_tuples(&self, batch: &GovernedBatch, seed: u64) -> Result<Vec<u64>> {
        if batch.num_rows() == 0 || batch.data().num_columns() == 0 {
            return Ok(Vec::new());
        }
        let analysis = Analysis::of(
            batch,
            &self.config,
            &vec![BTreeMap::new(); batch.data().num_columns()],
        )?;
        let labelled: std::collections::HashSet<u64> =
            self.labels.keys().map(|(row_id, _)| *row_id).collect();
        let ids = batch.row_ids();
        let already: Vec<usize> = (0..batch.num_rows())
            .filter(|&row| labelled.contains(&ids.value(row)))
            .collect();
        let budget = self.config.label_budget.saturating_sub(already.len());
        let rows = pick_rows(&analysis.clusters, batch.num_rows(), budget, &already, seed);
        Ok(rows.into_iter().map(|row| ids.value(row)).collect())
    }

    /// Returns the labels of the batch's cells, per column, by row position.
    fn batch_labels(&self, batch: &GovernedBatch, names: &[String]) -> BatchLabels<'_> {
        let positions: HashMap<u64, usize> = batch
            .row_ids()
            .values()
            .iter()
            .enumerate()
            .map(|(row, id)| (*id, row))
            .collect();
        let columns: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(index, name)| (name.as_str(), index))
            .collect();
        let mut out = vec![BTreeMap::new(); names.len()];
        for ((row_id, column), label) in &self.labels {
            if let (Some(&row), Some(&column)) =
                (positions.get(row_id), columns.get(column.as_str()))
            {
                out[column].insert(row, label);
            }
        }
        out
    }

    /// Returns the error probability of every cell, per column, and the classifier that
    /// scored each column.
    fn score(
        &self,
        analysis: &Analysis,
        labels: &BatchLabels<'_>,
    ) -> Result<(Vec<Vec<f32>>, Vec<Scorer>)> {
        let rows = analysis.table.rows;
        let mut spread: Vec<Vec<Option<TrainingLabel>>> = Vec::new();
        let (mut shared_x, mut shared_y, mut shared_w) = (Vec::new(), Vec::new(), Vec::new());
        for (column, features) in analysis.features.iter().enumerate() {
            let flags: BTreeMap<usize, bool> = labels[column]
                .iter()
                .map(|(&row, label)| (row, label.is_error))
                .collect();
            let column_spread = propagate(&analysis.clusters[column], &flags);
            for (row, label) in column_spread.iter().enumerate() {
                if let Some(label) = label {
                    shared_x.extend_from_slice(&features.row(row)[..GENERIC.len()]);
                    shared_y.push(label.is_error);
                    shared_w.push(label.weight);
                }
            }
            spread.push(column_spread);
        }
        let shared = self
            .train(&shared_x, GENERIC.len(), &shared_y, &shared_w)
            .map(Arc::new);
        let shared_rate = prior::training_rate(&shared_y, &shared_w);

        let mut scores = Vec::with_capacity(analysis.features.len());
        let mut scorers = Vec::with_capacity(analysis.features.len());
        for (column, features) in analysis.features.iter().enumerate() {
            let has_both = labels[column].values().any(|label| label.is_error)
                && labels[column].values().any(|label| !label.is_error);
            let own = if has_both {
                let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
                for (row, label) in spread[column].iter().enumerate() {
                    if let Some(label) = label {
                        x.extend_from_slice(features.row(row));
                        y.push(label.is_error);
                        w.push(label.weight);
                    }
                }
                self.train(&x, features.width(), &y, &w)
            } else {
                None
            };
            let mut probabilities = match (&own, &shared) {
                (Some(model), _) => model.predict(&features.values),
                (None, Some(model)) => model.predict(&features.generic()),
                (None, None) => Ok(vec![0.0; rows]),
            }
            .map_err(|error| Error::Internal(format!("scoring column {column} failed: {error}")))?;
            if own.is_none() {
                if let Some(trained) = shared_rate {
                    let errors = labels[column]
                        .values()
                        .filter(|label| label.is_error)
                        .count();
                    let target = prior::column_rate(errors, labels[column].len());
                    prior::shift(&mut probabilities, trained, target);
                }
                self.calibrate(&mut probabilities, &labels[column]);
            }
            scores.push(probabilities);
            scorers.push(match (own, &shared) {
                (Some(model), _) => Scorer::Own(Arc::new(model)),
                (None, Some(model)) => Scorer::Shared(Arc::clone(model)),
                (None, None) => Scorer::Unscored,
            });
        }
        Ok((scores, scorers))
    }

    /// Scales down the shared model's scores in a column where it flags cells a person
    /// labelled: the model learned from other columns, whose errors may look like this
    /// column's right values (a wrong unit written in every row of one column makes a frequent
    /// value look wrong everywhere). Its precision on the column's own labels, with one hit
    /// and one miss as prior, multiplies the scores relative to the threshold.
    fn calibrate(&self, probabilities: &mut [f32], labels: &BTreeMap<usize, &CellLabel>) {
        let threshold = self.config.threshold;
        let (mut flagged, mut hits) = (0u32, 0u32);
        for (&row, label) in labels {
            if probabilities[row] >= threshold {
                flagged += 1;
                hits += u32::from(label.is_error);
            }
        }
        let precision = (hits + 1) as f32 / (flagged + 2) as f32;
        if precision >= 0.5 {
            return;
        }
        let factor = precision / 0.5;
        for probability in probabilities.iter_mut() {
            *probability *= factor;
        }
    }

    /// Trains a classifier, or returns `None` when the labels hold only one class.
    fn train(
        &self,
        x: &[f32],
        width: usize,
        y: &[bool],
        w: &[f32],
    ) -> Option<TrainedCellClassifier> {
        if !(y.iter().any(|&label| label) && y.iter().any(|&label| !label)) {
            return None;
        }
        match TrainedCellClassifier::train(&self.config.classifier, x, width, y, w) {
            Ok(model) => Some(model),
            Err(error) => {
                tracing::warn!(stage = %self.name, %error, "training the cell classifier failed; using no model");
                None
            }
        }
    }
}

impl Stage for ErrorCleaner {
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
        format!(
            "detect and correct cell errors from {} labelled cells",
            self.labels.len()
        )
    }

    /// Stores cell labels; the next `clean` trains on them.
    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        let mut changed = 0usize;
        for item in feedback {
            let FeedbackTarget::Cell { row_id, column } = &item.target else {
                continue;
            };
            let label = match &item.label {
                Label::Confirmed => CellLabel {
                    is_error: true,
                    correction: None,
                },
                Label::Rejected => CellLabel {
                    is_error: false,
                    correction: None,
                },
                Label::Corrected { value } => CellLabel {
                    is_error: true,
                    correction: Some(value.clone()),
                },
                _ => continue,
            };
            let key = (*row_id, column.clone());
            if self.labels.get(&key) != Some(&label) {
                self.labels.insert(key, label);
                changed += 1;
            }
        }
        if changed == 0 {
            return Ok(None);
        }
        let from_version = self.version();
        self.version += 1;
        Ok(Some(Adjustment {
            stage: self.name.clone(),
            from_version,
            to_version: self.version(),
            description: format!(
                "{changed} cell labels added or changed; {} in all",
                self.labels.len()
            ),
            params: self.params(),
        }))
    }
}

impl Cleaner for ErrorCleaner {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        if batch.num_rows() == 0 || batch.data().num_columns() == 0 {
            return Ok(batch);
        }
        let labels = self.batch_labels(&batch, &batch.column_names());
        let analysis = Analysis::of(&batch, &self.config, &labels)?;
        let record = analysis
            .truths
            .as_ref()
            .map(|truths| truth_record(&analysis, truths, &labels));
        let (mut scores, scorers) = self.score(&analysis, &labels)?;
        // The classifiers are trained per batch, so their training-data hashes are their
        // versions. The shared one is recorded once.
        let shared = scorers.iter().find_map(Scorer::shared);
        let trained = shared
            .map(|model| ("all columns", model))
            .into_iter()
            .chain(scorers.iter().enumerate().filter_map(|(column, scorer)| {
                scorer
                    .own()
                    .map(|model| (analysis.table.names[column].as_str(), model))
            }));
        for (subject, model) in trained {
            let hash = model.training_data_hash();
            ctx.audit(
                AuditAction::Decision,
                subject,
                &format!(
                    "trained cell classifier data_sha256={} width={}",
                    hash.get(..12).unwrap_or(hash),
                    model.width()
                ),
            )?;
        }
        // The classifier's own scores, kept to tell which flags it raised before the truths
        // join in, because only those flags have a classifier explanation.
        let model_scores = analysis.truths.as_ref().map(|_| scores.clone());
        if let (Some(truths), Some(record)) = (&analysis.truths, &record) {
            // The truths join the ensemble as a detector of their own, trusted as far as
            // they were right on labelled entities they had not seen.
            let precision = (record.flag_hits + 1) as f32 / (record.flags + 2) as f32;
            for &column in &truths.layout.attributes {
                for (row, score) in scores[column].iter_mut().enumerate() {
                    if truths.disagrees(&analysis.interned, row, column) {
                        *score = score.max(precision);
                    }
                }
            }
        }
        let rows = analysis.table.rows;

        let mut flagged = vec![vec![false; rows]; scores.len()];
        let mut corrections = Vec::new();
        for (column, column_scores) in scores.iter().enumerate() {
            for row in 0..rows {
                flagged[column][row] = match labels[column].get(&row) {
                    Some(label) => label.is_error,
                    None => column_scores[row] >= self.config.threshold,
                };
            }
            for (&row, label) in &labels[column] {
                if let Some(value) = &label.correction {
                    corrections.push(LabelledCell {
                        row,
                        column,
                        correction: value.clone(),
                    });
                }
            }
        }
        let truth = analysis
            .truths
            .as_ref()
            .zip(record.as_ref())
            .map(|(truths, record)| TruthSource {
                truths,
                record: (record.value_hits, record.values),
            });
        let mut proposals = propose(
            &analysis.table,
            &analysis.interned,
            &analysis.dependencies,
            &flagged,
            &corrections,
            truth.as_ref(),
        );
        proposals.extend(
            corrections
                .iter()
                .filter(|cell| analysis.table.columns[cell.column][cell.row] != cell.correction)
                .map(|cell| Proposal {
                    row: cell.row,
                    column: cell.column,
                    value: cell.correction.clone(),
                    confidence: 1.0,
                    sources: vec!["person"],
                }),
        );
        let by_cell: HashMap<(usize, usize), &Proposal> = proposals
            .iter()
            .map(|proposal| ((proposal.row, proposal.column), proposal))
            .collect();

        let ids = batch.row_ids().clone();
        for (column, column_flags) in flagged.iter().enumerate() {
            let name = &analysis.table.names[column];
            let own_scores = model_scores
                .as_ref()
                .map_or(&scores[column], |model| &model[column]);
            let explained: Vec<usize> = (0..rows)
                .filter(|&row| {
                    column_flags[row]
                        && !labels[column].contains_key(&row)
                        && own_scores[row] >= self.config.threshold
                })
                .collect();
            let contributions =
                scorers[column].top_contributions(&analysis.features[column], &explained);
            for row in (0..rows).filter(|&row| column_flags[row]) {
                let value = &analysis.table.columns[column][row];
                let probability = match labels[column].get(&row) {
                    Some(_) => 1.0,
                    None => scores[column][row],
                };
                let mut message = match labels[column].get(&row) {
                    Some(_) => format!("value {:?} was labelled an error", shorten(value)),
                    None => format!(
                        "value {:?} is likely an error (probability {probability:.2}); fired: {}",
                        shorten(value),
                        fired_detectors(&analysis.features[column], row)
                    ),
                };
                if let Some(top) = contributions.get(&row) {
                    message.push_str(&format!("; classifier logit contributions: {top}"));
                }
                let mut issue = Issue::cell(
                    ids.value(row),
                    name,
                    IssueKind::Anomaly,
                    Severity::Warning,
                    &self.name,
                    String::new(),
                )
                .with_confidence(probability);
                if let Some(proposal) = by_cell.get(&(row, column)) {
                    message.push_str(&format!(
                        "; proposed {:?} (confidence {:.2}, from {})",
                        shorten(&proposal.value),
                        proposal.confidence,
                        proposal.sources.join(", ")
                    ));
                    issue = issue.with_suggested(&proposal.value);
                }
                issue.message = message;
                batch.push_issue(issue);
            }
        }

        let mut counts = ChangeCounts::default();
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        for (column, array) in columns.iter_mut().enumerate() {
            if array.data_type() != &DataType::Utf8 {
                // NOTE: corrections to non-text columns stay proposals in the issue log.
                continue;
            }
            let applied: Vec<&Proposal> = proposals
                .iter()
                .filter(|proposal| {
                    proposal.column == column && proposal.confidence >= self.config.apply_above
                })
                .collect();
            if applied.is_empty() {
                continue;
            }
            let Some(text) = array.as_any().downcast_ref::<StringArray>() else {
                continue;
            };
            let mut values: Vec<Option<String>> =
                text.iter().map(|value| value.map(str::to_string)).collect();
            let name = &analysis.table.names[column];
            for proposal in &applied {
                let original = values[proposal.row].take();
                batch.push_issue(
                    Issue::cell(
                        ids.value(proposal.row),
                        name,
                        IssueKind::Canonicalised,
                        Severity::Info,
                        &self.name,
                        format!(
                            "replaced {:?} with {:?} (confidence {:.2}, from {})",
                            original.as_deref().map(shorten),
                            shorten(&proposal.value),
                            proposal.confidence,
                            proposal.sources.join(", ")
                        ),
                    )
                    .with_suggested(&proposal.value)
                    .with_confidence(proposal.confidence),
                );
                values[proposal.row] = Some(proposal.value.clone());
            }
            counts.add(name, applied.len() as u64);
            *array = Arc::new(StringArray::from(values));
        }
        if counts.total() > 0 {
            with_columns(&mut batch, columns)?;
        }
        counts.audit(ctx)?;
        Ok(batch)
    }
}

/// Accuracy of the truths found without a labelled entity's own labels, on that entity's labels.
#[derive(Debug, Clone, Copy, Default)]
struct TruthRecord {
    /// Labelled cells whose value differs from the held-out truth, and of those the errors.
    flags: u32,
    flag_hits: u32,
    /// Corrected cells, and of those the ones whose held-out truth is the correction.
    values: u32,
    value_hits: u32,
}

/// Measures the truths on every labelled entity, leaving that entity's labels out.
fn truth_record(analysis: &Analysis, truths: &Truths, labels: &BatchLabels<'_>) -> TruthRecord {
    let layout = &truths.layout;
    let keys = &analysis.interned[layout.key];
    let mut groups: Vec<u32> = layout
        .attributes
        .iter()
        .flat_map(|&column| {
            labels[column]
                .iter()
                .map(move |(&row, label)| (row, column, label))
        })
        .map(|(row, _, _)| keys.ids[row])
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut record = TruthRecord::default();
    for group in groups {
        let known = known_truths(
            &analysis.table,
            &analysis.interned,
            layout,
            labels,
            Some(group),
        );
        let held_out = Truths::estimate(&analysis.interned, layout, &known);
        for &column in &layout.attributes {
            for (&row, label) in &labels[column] {
                if keys.ids[row] != group {
                    continue;
                }
                if held_out.disagrees(&analysis.interned, row, column) {
                    record.flags += 1;
                    record.flag_hits += u32::from(label.is_error);
                }
                let Some(correction) = &label.correction else {
                    continue;
                };
                if *correction == analysis.table.columns[column][row] {
                    continue;
                }
                record.values += 1;
                record.value_hits += u32::from(
                    held_out
                        .of_cell(&analysis.interned, row, column)
                        .is_some_and(|truth| truth.value == *correction),
                );
            }
        }
    }
    record
}

/// Cuts a value to 80 characters for a message.
fn shorten(value: &str) -> String {
    if value.chars().count() <= 80 {
        return value.to_string();
    }
    let mut short: String = value.chars().take(80).collect();
    short.push('…');
    short
}
