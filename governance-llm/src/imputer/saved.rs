//! Saving a trained imputer to the model registry and loading it back.
//!
//! The card lists the predictor columns in table order. The training record contains what the
//! weights alone cannot rebuild: the target, the encoding of the target and of each predictor
//! (means, standard deviations, category lists) and the held-out metrics.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::table::ColumnEncoding;
use super::{ImputerConfig, ImputerMetrics, ImputerNetwork, TrainedImputer, output_width};
use crate::registry::{
    ModelCard, ModelMeta, ModelMetrics, RegisteredModel, card_json, load_module, save_module,
};
use crate::{Error, Result};

/// The `kind` of [`TrainedImputer`] in the registry's `meta.json`.
pub const IMPUTER_KIND: &str = "imputer";

/// The training record of a saved imputer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImputerRecord {
    target: String,
    target_encoding: ColumnEncoding,
    /// One encoding per predictor, in the order of the card's columns.
    predictor_encodings: Vec<ColumnEncoding>,
    metrics: ImputerMetrics,
}

impl RegisteredModel for TrainedImputer {
    const KIND: &'static str = IMPUTER_KIND;

    fn card(&self) -> Result<ModelCard> {
        let record = ImputerRecord {
            target: self.target.clone(),
            target_encoding: self.target_encoding.clone(),
            predictor_encodings: self
                .predictors
                .iter()
                .map(|(_, encoding)| encoding.clone())
                .collect(),
            metrics: self.metrics.clone(),
        };
        Ok(ModelCard {
            training_data_hash: self.training_data_hash.clone(),
            training_rows: self.metrics.training_rows,
            columns: self
                .predictors
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            standardization: None,
            metrics: ModelMetrics {
                final_loss: self.metrics.last_epoch_loss,
                threshold: None,
            },
            config: card_json(&self.config)?,
            training: card_json(&record)?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        save_module(&self.network, path, IMPUTER_KIND)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let context =
            |what: &str| format!("model {:?} version {}: {what}", meta.name, meta.version);
        let config: ImputerConfig = serde_json::from_value(meta.card.config.clone())
            .map_err(|error| Error::InvalidInput(context(&format!("invalid config: {error}"))))?;
        config.validate()?;

        let record: ImputerRecord =
            serde_json::from_value(meta.card.training.clone()).map_err(|error| {
                Error::InvalidInput(context(&format!("invalid training record: {error}")))
            })?;
        if record.predictor_encodings.len() != meta.card.columns.len() {
            return Err(Error::InvalidInput(context(&format!(
                "{} predictor encodings for {} columns; save the model again",
                record.predictor_encodings.len(),
                meta.card.columns.len()
            ))));
        }
        let predictors: Vec<(String, ColumnEncoding)> = meta
            .card
            .columns
            .iter()
            .cloned()
            .zip(record.predictor_encodings)
            .collect();
        let inputs: usize = predictors
            .iter()
            .map(|(_, encoding)| encoding.width())
            .sum();
        let outputs = output_width(&record.target_encoding);
        if inputs == 0 || outputs == 0 {
            return Err(Error::InvalidInput(context(&format!(
                "the encodings give {inputs} inputs and {outputs} outputs; both must be at \
                 least 1, so save the model again"
            ))));
        }

        let device = config.device.device();
        let mut network = ImputerNetwork::new(inputs, config.hidden, outputs, config.seed, &device);
        load_module(&mut network, weights)?;
        Ok(TrainedImputer {
            config,
            target: record.target,
            target_encoding: record.target_encoding,
            predictors,
            network,
            metrics: record.metrics,
            training_data_hash: meta.card.training_data_hash.clone(),
        })
    }
}
