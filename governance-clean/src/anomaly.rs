//! The [`AnomalyDetector`] cleaner: flags rows whose sensor readings break the usual relations
//! between columns, using the dense autoencoder of `governance-llm`.
//!
//! Until it has a model, the stage holds incoming batches back. Once `warmup_rows` rows have
//! arrived (or at `flush`, whichever comes first), it trains on them, saves the model to the
//! registry when one is configured, and scores and releases the held rows; later batches are
//! scored as they come. With a registry and `reuse_latest`, the stage starts from the
//! registry's latest version instead and holds nothing.
//!
//! Rows are never removed or changed. A flagged row gets one [`IssueKind::Anomaly`] issue on
//! each of its top contributing columns, naming those columns, their contributions and the row
//! score against the threshold.
//!
//! The stage learns from cell labels on its columns: the threshold moves to the value with
//! the best F1 on the labelled rows it remembers, and confirmed anomalies among the warm-up
//! rows are dropped and the model retrained without them. Each change bumps the model version,
//! which is saved with the previous version as its parent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use arrow::array::BooleanArray;
use governance_core::audit::AuditAction;
use governance_core::{
    Adjustment, Cleaner, Error, Feedback, FeedbackTarget, GovernedBatch, Issue, IssueKind, Result,
    Severity, Stage, StageContext,
};
use governance_llm::threshold::best_f1_threshold;
use governance_llm::{
    AutoencoderConfig, FeatureMatrix, ModelRegistry, RowScore, TrainedAutoencoder,
};
use serde::{Deserialize, Serialize};

const NAME: &str = "anomaly_detector";

/// Configuration of [`AnomalyDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyDetectorConfig {
    /// Numeric columns the model reads, in order; at least two, and more than the
    /// autoencoder's bottleneck.
    pub columns: Vec<String>,
    /// Rows held back to train the first model on.
    pub warmup_rows: usize,
    /// The autoencoder and its training.
    pub autoencoder: AutoencoderConfig,
    /// Folder of the model registry; `None` keeps models in memory only.
    pub registry_dir: Option<PathBuf>,
    /// Name of the model in the registry.
    pub model_name: String,
    /// Start from the registry's latest version of `model_name`, when there is one, instead of
    /// warming up and training.
    pub reuse_latest: bool,
    /// Number of flagged rows, and separately of unflagged rows, whose scores and readings are
    /// remembered for learning from feedback.
    pub remembered: usize,
}

impl Default for AnomalyDetectorConfig {
    fn default() -> Self {
        AnomalyDetectorConfig {
            columns: [
                "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "WSPM",
            ]
            .iter()
            .map(|name| name.to_string())
            .collect(),
            warmup_rows: 20_000,
            autoencoder: AutoencoderConfig::default(),
            registry_dir: None,
            model_name: "sensor_autoencoder".into(),
            reuse_latest: true,
            remembered: 100_000,
        }
    }
}

/// A map that drops its oldest insertions beyond a capacity.
#[derive(Debug)]
struct BoundedMap<V> {
    values: HashMap<u64, V>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl<V> BoundedMap<V> {
    fn new(capacity: usize) -> Self {
        BoundedMap {
            values: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn insert(&mut self, key: u64, value: V) {
        if self.values.insert(key, value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.values.remove(&oldest);
            }
        }
    }

    fn get(&self, key: u64) -> Option<&V> {
        self.values.get(&key)
    }
}

/// The readings of the rows the model was trained from, with their row ids.
#[derive(Debug)]
struct WarmupRows {
    matrix: FeatureMatrix,
    row_ids: Vec<u64>,
}

/// Flags anomalous rows with an autoencoder; see the module docs.
#[derive(Debug)]
pub struct AnomalyDetector {
    config: AnomalyDetectorConfig,
    registry: Option<ModelRegistry>,
    model: Option<TrainedAutoencoder>,
    /// Model version; 0 until the first model exists.
    version: u32,
    held: Vec<GovernedBatch>,
    warmup: Option<WarmupRows>,
    /// Readings of recently flagged rows, for learning.
    flagged: BoundedMap<Vec<f32>>,
    /// Readings of recently scored rows that were not flagged, for learning.
    passed: BoundedMap<Vec<f32>>,
}

impl AnomalyDetector {
    /// Creates the stage, opening the registry and loading its latest model when configured.
    /// Fails on fewer than two columns, a repeated column, `warmup_rows` below 2, an invalid
    /// autoencoder config, or a registry model trained on other columns.
    pub fn new(config: AnomalyDetectorConfig) -> Result<Self> {
        if config.columns.len() < 2 {
            return Err(Error::config(
                NAME,
                format!(
                    "columns names {} column(s); the autoencoder needs at least 2 numeric columns",
                    config.columns.len()
                ),
            ));
        }
        for (index, column) in config.columns.iter().enumerate() {
            if config.columns[..index].contains(column) {
                return Err(Error::config(
                    NAME,
                    format!("columns names {column:?} twice; name each column once"),
                ));
            }
        }
        if config.autoencoder.bottleneck >= config.columns.len() {
            return Err(Error::config(
                NAME,
                format!(
                    "autoencoder.bottleneck is {} for {} columns; it must be smaller than the \
                     column count, or the model copies its input and flags nothing",
                    config.autoencoder.bottleneck,
                    config.columns.len()
                ),
            ));
        }
        if config.warmup_rows < 2 {
            return Err(Error::config(
                NAME,
                format!(
                    "warmup_rows is {}; it must be at least 2",
                    config.warmup_rows
                ),
            ));
        }
        config
            .autoencoder
            .validate()
            .map_err(|error| Error::config(NAME, error.to_string()))?;
        let registry = match &config.registry_dir {
            Some(dir) => Some(ModelRegistry::open(dir).map_err(|error| Error::stage(NAME, error))?),
            None => None,
        };
        let mut stage = AnomalyDetector {
            flagged: BoundedMap::new(config.remembered),
            passed: BoundedMap::new(config.remembered),
            config,
            registry,
            model: None,
            version: 0,
            held: Vec::new(),
            warmup: None,
        };
        stage.reuse_latest()?;
        Ok(stage)
    }

    fn reuse_latest(&mut self) -> Result<()> {
        let Some(registry) = self.registry.as_ref().filter(|_| self.config.reuse_latest) else {
            return Ok(());
        };
        let loaded = registry
            .load_latest::<TrainedAutoencoder>(&self.config.model_name)
            .map_err(|error| Error::stage(NAME, error))?;
        let Some((meta, model)) = loaded else {
            return Ok(());
        };
        if model.columns() != self.config.columns.as_slice() {
            return Err(Error::config(
                NAME,
                format!(
                    "registry model {:?} version {} reads columns [{}], but columns is [{}]; \
                     use another model_name or set reuse_latest to false",
                    self.config.model_name,
                    meta.version,
                    model.columns().join(", "),
                    self.config.columns.join(", ")
                ),
            ));
        }
        tracing::info!(model = %self.config.model_name, version = meta.version, "reusing model");
        self.version = meta.version;
        self.model = Some(model);
        Ok(())
    }

    /// Returns the current model, if one has been trained or loaded.
    pub fn model(&self) -> Option<&TrainedAutoencoder> {
        self.model.as_ref()
    }

    /// Reads the model's columns from `batch`; a missing or non-numeric column is a config
    /// error, because `columns` names it.
    fn read_columns(&self, batch: &GovernedBatch) -> Result<FeatureMatrix> {
        FeatureMatrix::from_record_batch(batch.data(), &self.config.columns).map_err(|error| {
            match error {
                governance_llm::Error::InvalidInput(message) => Error::config(NAME, message),
                other => Error::stage(NAME, other),
            }
        })
    }

    fn detector(&self) -> String {
        format!("autoencoder@v{}", self.version)
    }

    /// Trains the first model on the held rows, saves it, and returns the held rows scored.
    fn train_on_held(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        // The held batches stay until training succeeds, so a failed run can still flush them.
        let Some(batch) = GovernedBatch::concat(&self.held)? else {
            return Ok(None);
        };
        let matrix = self.read_columns(&batch)?;

        let usable = (0..matrix.num_rows())
            .filter(|&row| matrix.row(row).iter().any(|value| value.is_finite()))
            .count();
        if usable < 2 {
            // Too little data to learn from: the rows pass unscored rather than stopping the
            // chain, and the next batches are held for a new warm-up.
            tracing::warn!(
                rows = batch.num_rows(),
                usable,
                "too few rows to train the anomaly model"
            );
            ctx.audit(
                AuditAction::Decision,
                "anomaly",
                &format!(
                    "rows={} scored=0 reason=too_few_rows_to_train",
                    batch.num_rows()
                ),
            )?;
            self.held.clear();
            return Ok(Some(batch));
        }

        let model = TrainedAutoencoder::train(&self.config.autoencoder, &matrix)
            .map_err(|error| Error::stage(NAME, error))?;
        self.held.clear();
        let training_rows = model.training_rows();
        let row_ids = batch.row_ids().values().to_vec();
        self.install(model, None)?;
        self.warmup = Some(WarmupRows { matrix, row_ids });
        ctx.audit(
            AuditAction::Decision,
            "anomaly",
            &format!(
                "trained model_version={} held_rows={} training_rows={training_rows}",
                self.version,
                batch.num_rows()
            ),
        )?;

        let batch = self.score(batch, ctx)?;
        Ok(Some(batch))
    }

    /// Makes `model` the current one under the next version, saved with `parent` when a
    /// registry is configured.
    fn install(&mut self, model: TrainedAutoencoder, parent: Option<u32>) -> Result<()> {
        self.version = match &self.registry {
            Some(registry) => {
                registry
                    .save(&self.config.model_name, &model, parent)
                    .map_err(|error| Error::stage(NAME, error))?
                    .version
            }
            None => self.version + 1,
        };
        self.model = Some(model);
        Ok(())
    }

    /// Scores `batch` and appends an issue per top column of each flagged row.
    fn score(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let Some(model) = &self.model else {
            return Err(Error::Internal(
                "anomaly detector scored without a model".into(),
            ));
        };
        let matrix = self.read_columns(&batch)?;
        let scores = model
            .score_rows(&matrix)
            .map_err(|error| Error::stage(NAME, error))?;
        let detector = self.detector();
        let threshold = model.threshold();
        let (mut flagged_rows, mut issues) = (0u64, 0u64);
        for (row, score) in scores.iter().enumerate() {
            let row_id = batch.row_ids().value(row);
            if !score.is_anomaly {
                if score.observed > 0 {
                    self.passed.insert(row_id, matrix.row(row).to_vec());
                }
                continue;
            }
            self.flagged.insert(row_id, matrix.row(row).to_vec());
            flagged_rows += 1;
            let message = explain(score, threshold, model.columns(), &detector);
            let confidence = 0.5 + 0.5 * (1.0 - threshold / score.score);
            for part in &score.top_columns {
                batch.push_issue(
                    Issue::cell(
                        row_id,
                        &model.columns()[part.column],
                        IssueKind::Anomaly,
                        Severity::Warning,
                        &detector,
                        &message,
                    )
                    .with_confidence(confidence),
                );
                issues += 1;
            }
        }
        if flagged_rows > 0 {
            ctx.audit(
                AuditAction::Decision,
                "anomaly",
                &format!(
                    "rows={} flagged_rows={flagged_rows} issues={issues} model_version={}",
                    batch.num_rows(),
                    self.version
                ),
            )?;
        }
        Ok(batch)
    }

    /// Returns the labelled rows among those remembered: readings and whether the row is an
    /// anomaly. A row with any positive label on one of the model's columns is an anomaly.
    fn labelled_rows(&self, feedback: &[Feedback]) -> Vec<(u64, Vec<f32>, bool)> {
        let mut labels: HashMap<u64, bool> = HashMap::new();
        for item in feedback {
            let FeedbackTarget::Cell { row_id, column } = &item.target else {
                continue;
            };
            if !self.config.columns.contains(column) {
                continue;
            }
            *labels.entry(*row_id).or_insert(false) |= item.label.is_positive();
        }
        let mut rows: Vec<(u64, Vec<f32>, bool)> = labels
            .into_iter()
            .filter_map(|(row_id, positive)| {
                let values = self
                    .flagged
                    .get(row_id)
                    .or_else(|| self.passed.get(row_id))?;
                Some((row_id, values.clone(), positive))
            })
            .collect();
        rows.sort_by_key(|(row_id, _, _)| *row_id);
        rows
    }
}

/// Builds the message of a flagged row's issues.
fn explain(score: &RowScore, threshold: f32, columns: &[String], detector: &str) -> String {
    let parts: Vec<String> = score
        .top_columns
        .iter()
        .map(|part| format!("{} ({:.3})", columns[part.column], part.contribution))
        .collect();
    format!(
        "row reconstruction error {:.3} is above the threshold {threshold:.3} of {detector}; \
         contributing columns: {}",
        score.score,
        parts.join(", ")
    )
}

impl Stage for AnomalyDetector {
    fn name(&self) -> &str {
        NAME
    }

    /// Returns the model version, or "0" before the first model exists.
    fn version(&self) -> String {
        self.version.to_string()
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "autoencoder anomaly detector over {} columns (model v{})",
            self.config.columns.len(),
            self.version
        )
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        let labelled = self.labelled_rows(feedback);
        let Some(current) = &self.model else {
            return Ok(None);
        };
        if labelled.is_empty() {
            return Ok(None);
        }
        let from_version = self.version;
        let previous_threshold = current.threshold();

        let confirmed: HashSet<u64> = labelled
            .iter()
            .filter(|(_, _, positive)| *positive)
            .map(|(row_id, _, _)| *row_id)
            .collect();
        let mut removed = 0usize;
        let mut model = current.clone();
        let mut retrained_warmup = None;
        if let Some(warmup) = &self.warmup {
            let kept_indices: Vec<usize> = (0..warmup.row_ids.len())
                .filter(|&index| !confirmed.contains(&warmup.row_ids[index]))
                .collect();
            removed = warmup.row_ids.len() - kept_indices.len();
            if removed > 0 {
                let matrix = warmup
                    .matrix
                    .select_rows(&kept_indices)
                    .map_err(|error| Error::stage(NAME, error))?;
                model = TrainedAutoencoder::train(&self.config.autoencoder, &matrix)
                    .map_err(|error| Error::stage(NAME, error))?;
                let row_ids = kept_indices
                    .iter()
                    .map(|&index| warmup.row_ids[index])
                    .collect();
                retrained_warmup = Some(WarmupRows { matrix, row_ids });
            }
        }

        let values: Vec<f32> = labelled
            .iter()
            .flat_map(|(_, row, _)| row.iter().copied())
            .collect();
        let matrix = FeatureMatrix::new(self.config.columns.clone(), values)
            .map_err(|error| Error::stage(NAME, error))?;
        let scores = model
            .score_rows(&matrix)
            .map_err(|error| Error::stage(NAME, error))?;
        let labels: Vec<(f32, bool)> = scores
            .iter()
            .zip(&labelled)
            .map(|(score, (_, _, positive))| (score.score, *positive))
            .collect();
        let (threshold, f1) = best_f1_threshold(&labels, model.threshold());
        if removed == 0 && threshold == previous_threshold {
            return Ok(None);
        }
        model
            .set_threshold(threshold)
            .map_err(|error| Error::stage(NAME, error))?;

        self.install(model, Some(from_version).filter(|&version| version > 0))?;
        if retrained_warmup.is_some() {
            self.warmup = retrained_warmup;
        }
        let description = format!(
            "threshold {previous_threshold:.4} -> {threshold:.4} from {} labelled rows ({} \
             confirmed, F1 {f1:.3}); retrained without {removed} confirmed warm-up rows",
            labels.len(),
            confirmed.len()
        );
        tracing::info!(from = from_version, to = self.version, %description, "anomaly model adjusted");
        Ok(Some(Adjustment {
            stage: NAME.into(),
            from_version: from_version.to_string(),
            to_version: self.version.to_string(),
            description,
            params: serde_json::json!({
                "model_version": self.version,
                "threshold": threshold,
                "retrained_without_rows": removed,
                "config": self.params(),
            }),
        }))
    }
}

impl Cleaner for AnomalyDetector {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        if self.model.is_some() {
            return self.score(batch, ctx);
        }
        if let Some(first) = self.held.first()
            && first.data().schema().fields() != batch.data().schema().fields()
        {
            return Err(Error::InvalidInput(format!(
                "batch schema changed while rows were held for warm-up; held columns: {}; new \
                 columns: {}; every batch of a stream must share a schema",
                first.column_names().join(", "),
                batch.column_names().join(", ")
            )));
        }
        let empty = batch.filter(&BooleanArray::from(vec![false; batch.num_rows()]))?;
        self.held.push(batch);
        if self.held_rows() < self.config.warmup_rows as u64 {
            return Ok(empty);
        }
        Ok(self.train_on_held(ctx)?.unwrap_or(empty))
    }

    fn flush(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        self.train_on_held(ctx)
    }

    fn held_rows(&self) -> u64 {
        self.held.iter().map(|batch| batch.num_rows() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use governance_core::audit::{AuditHandle, AuditLog};
    use governance_core::{Label, Provenance, RowIdAllocator};

    use super::*;

    const COLUMNS: [&str; 4] = ["a", "b", "c", "d"];

    /// Rows driven by one hidden factor, with a little noise from a fixed xorshift sequence.
    fn rows(count: usize, seed: u64) -> Vec<[f64; 4]> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..count)
            .map(|_| {
                let factor = 4.0 * uniform() - 2.0;
                let mut noise = || 0.1 * (uniform() - 0.5);
                [
                    50.0 + 10.0 * (factor + noise()),
                    80.0 + 15.0 * (factor + noise()),
                    30.0 - 5.0 * (factor + noise()),
                    20.0 + 4.0 * (factor * factor + noise()),
                ]
            })
            .collect()
    }

    fn batch(rows: &[[f64; 4]], ids: &RowIdAllocator) -> GovernedBatch {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, true))
            .collect();
        let columns = (0..4)
            .map(|column| {
                Arc::new(Float64Array::from_iter_values(
                    rows.iter().map(|row| row[column]),
                )) as arrow::array::ArrayRef
            })
            .collect();
        let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch");
        GovernedBatch::try_new(data, ids.allocate(rows.len()), Provenance::new("test"))
            .expect("governed batch")
    }

    fn config(warmup_rows: usize) -> AnomalyDetectorConfig {
        AnomalyDetectorConfig {
            columns: COLUMNS.iter().map(|name| name.to_string()).collect(),
            warmup_rows,
            autoencoder: AutoencoderConfig {
                bottleneck: 2,
                epochs: 15,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn context() -> (StageContext, AuditHandle) {
        let audit = AuditLog::in_memory().into_handle();
        (StageContext::new(NAME, 1, audit.clone()), audit)
    }

    #[test]
    fn warmup_holds_then_releases_every_row() {
        let mut stage = AnomalyDetector::new(config(250)).expect("stage");
        let (mut ctx, _) = context();
        let ids = RowIdAllocator::default();
        let data = rows(400, 1);
        assert_eq!(stage.version(), "0");

        let mut rows_out = Vec::new();
        for (index, chunk) in data.chunks(100).enumerate() {
            let output = stage.clean(batch(chunk, &ids), &mut ctx).expect("clean");
            rows_out.extend(output.row_ids().values().iter().copied());
            let expected_held = if index < 2 {
                100 * (index as u64 + 1)
            } else {
                0
            };
            assert_eq!(stage.held_rows(), expected_held, "after batch {index}");
        }
        assert!(stage.flush(&mut ctx).expect("flush").is_none());
        assert_eq!(rows_out, (0..400).collect::<Vec<u64>>());
        assert_eq!(stage.version(), "1");
        assert_eq!(stage.model().expect("model").training_rows(), 300);
    }

    #[test]
    fn flush_trains_on_short_stream() {
        let mut stage = AnomalyDetector::new(config(10_000)).expect("stage");
        let (mut ctx, audit) = context();
        let ids = RowIdAllocator::default();
        for chunk in rows(300, 2).chunks(150) {
            let output = stage.clean(batch(chunk, &ids), &mut ctx).expect("clean");
            assert_eq!(output.num_rows(), 0);
        }
        assert_eq!(stage.held_rows(), 300);
        let flushed = stage.flush(&mut ctx).expect("flush").expect("held rows");
        assert_eq!(flushed.num_rows(), 300);
        assert_eq!(stage.held_rows(), 0);
        assert_eq!(stage.version(), "1");
        let log = audit.lock().expect("audit lock");
        assert!(
            log.records()
                .iter()
                .any(|record| record.action == AuditAction::Decision
                    && record.subject == "anomaly"
                    && record.detail.contains("trained model_version=1"))
        );
    }

    #[test]
    fn outlier_is_flagged_on_its_column() {
        let mut stage = AnomalyDetector::new(config(600)).expect("stage");
        let (mut ctx, audit) = context();
        let ids = RowIdAllocator::default();
        stage
            .clean(batch(&rows(600, 3), &ids), &mut ctx)
            .expect("warm-up");

        let mut probe = rows(2, 4);
        probe[1][1] *= 10.0;
        let output = stage.clean(batch(&probe, &ids), &mut ctx).expect("clean");
        assert_eq!(output.num_rows(), 2);
        let issues = output.issues.issues();
        assert!(!issues.is_empty(), "the outlier row was not flagged");
        assert!(issues.iter().all(|issue| issue.row_id == 601));
        assert_eq!(issues[0].column.as_deref(), Some("b"));
        assert_eq!(issues[0].kind, IssueKind::Anomaly);
        assert_eq!(issues[0].severity, Severity::Warning);
        assert_eq!(issues[0].detector, "autoencoder@v1");
        assert!(issues[0].message.contains("b ("), "{}", issues[0].message);
        assert!(issues[0].confidence > 0.5);

        let log = audit.lock().expect("audit lock");
        let last = log.records().last().expect("an audit record");
        assert_eq!(last.subject, "anomaly");
        assert!(last.detail.contains("flagged_rows=1"), "{}", last.detail);
    }

    #[test]
    fn learn_moves_threshold_and_bumps_version() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = AnomalyDetectorConfig {
            registry_dir: Some(dir.path().to_path_buf()),
            ..config(600)
        };
        let mut stage = AnomalyDetector::new(config.clone()).expect("stage");
        let (mut ctx, _) = context();
        let ids = RowIdAllocator::default();
        stage
            .clean(batch(&rows(600, 5), &ids), &mut ctx)
            .expect("warm-up");
        let mut probe = rows(1, 6);
        probe[0][0] *= 10.0;
        let output = stage.clean(batch(&probe, &ids), &mut ctx).expect("clean");
        assert!(!output.issues.is_empty(), "the outlier row was not flagged");
        let threshold = stage.model().expect("model").threshold();

        // The reviewer rejects the flag, so the threshold rises above the row's score.
        let feedback = [Feedback::cell(600, "a", Label::Rejected, "reviewer")];
        let adjustment = stage
            .learn(&feedback)
            .expect("learn")
            .expect("an adjustment");
        assert_eq!(adjustment.from_version, "1");
        assert_eq!(adjustment.to_version, "2");
        assert_eq!(stage.version(), "2");
        assert!(stage.model().expect("model").threshold() > threshold);

        let registry = ModelRegistry::open(dir.path()).expect("registry");
        let versions = registry.list("sensor_autoencoder").expect("list");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].parent_version, Some(1));

        // A new stage starts from the saved version and holds no rows back.
        let mut reused = AnomalyDetector::new(config).expect("reused stage");
        assert_eq!(reused.version(), "2");
        let output = reused
            .clean(batch(&rows(10, 7), &ids), &mut ctx)
            .expect("clean");
        assert_eq!(output.num_rows(), 10);
        assert_eq!(reused.held_rows(), 0);
    }

    #[test]
    fn confirmed_warmup_anomaly_triggers_retraining() {
        let mut stage = AnomalyDetector::new(config(400)).expect("stage");
        let (mut ctx, _) = context();
        let ids = RowIdAllocator::default();
        let mut warmup = rows(400, 8);
        warmup[17][2] *= 10.0;
        let output = stage
            .clean(batch(&warmup, &ids), &mut ctx)
            .expect("warm-up");
        assert!(
            output
                .issues
                .issues()
                .iter()
                .any(|issue| issue.row_id == 17)
        );

        let feedback = [Feedback::cell(17, "c", Label::Confirmed, "reviewer")];
        let adjustment = stage
            .learn(&feedback)
            .expect("learn")
            .expect("an adjustment");
        assert_eq!(adjustment.params["retrained_without_rows"], 1);
        assert_eq!(stage.version(), "2");
        assert_eq!(stage.model().expect("model").training_rows(), 399);
    }

    #[test]
    fn feedback_on_unknown_rows_changes_nothing() {
        let mut stage = AnomalyDetector::new(config(300)).expect("stage");
        let (mut ctx, _) = context();
        stage
            .clean(batch(&rows(300, 9), &RowIdAllocator::default()), &mut ctx)
            .expect("warm-up");
        let feedback = [
            Feedback::cell(5_000, "a", Label::Rejected, "reviewer"),
            Feedback::cell(3, "station", Label::Confirmed, "reviewer"),
        ];
        assert!(stage.learn(&feedback).expect("learn").is_none());
        assert_eq!(stage.version(), "1");
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let error = serde_json::from_str::<AnomalyDetectorConfig>(r#"{"colums": ["a"]}"#)
            .expect_err("misspelt field");
        assert!(error.to_string().contains("colums"));

        let narrow = AnomalyDetectorConfig {
            columns: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        let error = AnomalyDetector::new(narrow).expect_err("bottleneck 3 for 3 columns");
        assert!(error.to_string().contains("bottleneck is 3 for 3 columns"));

        let mut stage = AnomalyDetector::new(config(2)).expect("stage");
        let (mut ctx, _) = context();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Float64, true)]));
        let data = RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(vec![1.0]))])
            .expect("batch");
        let narrow_batch = GovernedBatch::try_new(
            data,
            RowIdAllocator::default().allocate(1),
            Provenance::new("test"),
        )
        .expect("governed batch");
        stage.clean(narrow_batch, &mut ctx).expect("held");
        let error = stage
            .flush(&mut ctx)
            .expect_err("columns b, c, d are absent");
        assert!(
            error.to_string().contains("column \"b\" not found"),
            "{error}"
        );
        assert_eq!(stage.held_rows(), 1);
    }
}
