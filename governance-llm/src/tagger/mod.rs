//! A token tagger for names, street addresses, places and organisations, in English and
//! Chinese: the entities that patterns cannot find.
//!
//! - [`tokenize`]: tokens with byte offsets (ASCII words, numbers and punctuation; each CJK
//!   character) and their shape features.
//! - [`labels`]: [`EntityLabel`], BIO tags and greedy decoding into [`EntitySpan`]s.
//! - [`generate`]: the project's own training data, sentences generated from templates and
//!   word lists, with a disjoint held-out split of templates and list entries.
//! - [`model`]: the burn network (hashed word and character n-gram embeddings, shape
//!   features, dilated convolutions, per-token softmax).
//! - [`train`]: training, span scores and the training report.
//!
//! A trained tagger is a folder with two files: `tagger.safetensors` (the weights, written by
//! burn-store) and `tagger.json` ([`TaggerMetadata`]). [`Tagger::save`] writes both and
//! [`Tagger::load`] reads them back. The example `train_tagger` of this crate trains one.
//! A tagger can also be kept in the [`crate::ModelRegistry`] as kind [`TAGGER_KIND`].
//!
//! An entity never crosses a line break: an address written over several lines is returned
//! as one span per line.
//!
//! NOTE: the tagger learns only from generated sentences. On an English evaluation set made
//! by another generator, the committed weights found about 74% of the gold entities, and
//! about 44% of their spans matched none (example `eval_tagger`).

pub mod generate;
pub mod labels;
pub mod model;
pub mod tokenize;
pub mod train;

use std::fs;
use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::registry::{ModelCard, ModelMeta, ModelMetrics, RegisteredModel};
use crate::{Error, Result};
pub use generate::{GeneratedSentence, Language, SentenceGenerator, Split};
pub use labels::{EntityLabel, EntitySpan, Tag, TokenScore, decode_tags, token_scores_in};
pub use model::NetworkShape;
use model::{EncodedSentence, TaggerNetwork, batch, encode};
pub use train::{SpanScore, SpanScores, TaggerConfig, TaggerTrainingReport, score_spans};

/// The `kind` of a [`Tagger`] in its metadata and in the model registry.
pub const TAGGER_KIND: &str = "token_tagger";

/// Version of the saved format; a tagger saved with another version is rejected on load.
pub const TAGGER_FORMAT_VERSION: u32 = 1;

/// File name of the weights in a tagger folder.
pub const WEIGHTS_FILE: &str = "tagger.safetensors";

/// File name of the metadata in a tagger folder.
pub const METADATA_FILE: &str = "tagger.json";

/// The command that trains a tagger into a folder, named in load errors.
const TRAIN_COMMAND: &str = "cargo run -p governance-llm --example train_tagger -- --out DIR";

/// Most tokens tagged in one window; longer texts are tagged window by window.
const WINDOW_TOKENS: usize = 256;

/// Windows tagged per forward pass.
const WINDOWS_PER_PASS: usize = 64;

/// The contents of `tagger.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggerMetadata {
    /// Always [`TAGGER_KIND`].
    pub kind: String,
    /// Saved-format version, [`TAGGER_FORMAT_VERSION`].
    pub format_version: u32,
    /// The configuration the tagger was trained with, network sizes included.
    pub config: TaggerConfig,
    /// The training record: losses, the data hash and the held-out scores.
    pub training: TaggerTrainingReport,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: String,
}

/// A trained token tagger.
#[derive(Debug, Clone)]
pub struct Tagger {
    network: TaggerNetwork,
    metadata: TaggerMetadata,
}

impl Tagger {
    /// Trains a tagger on sentences generated for `config` and scores it on held-out ones.
    pub fn train(config: &TaggerConfig) -> Result<Tagger> {
        config.validate()?;
        let sentences = train::training_sentences(config);
        let mut tagger = Tagger::train_on(config, &sentences)?;
        if config.held_out_sentences > 0 {
            let templates = train::held_out_sentences(config, Split::HeldOutTemplates);
            let held_out = train::held_out_sentences(config, Split::HeldOut);
            tagger.metadata.training.held_out_templates = Some(tagger.evaluate(&templates));
            tagger.metadata.training.held_out = Some(tagger.evaluate(&held_out));
        }
        Ok(tagger)
    }

    /// Trains a tagger on `sentences`, without held-out scores.
    pub fn train_on(config: &TaggerConfig, sentences: &[GeneratedSentence]) -> Result<Tagger> {
        config.validate()?;
        let training_data_hash = train::data_hash(config, sentences)?;
        let (network, initial_loss, epoch_losses, training_seconds) =
            train::fit(config, sentences)?;
        Ok(Tagger {
            network,
            metadata: TaggerMetadata {
                kind: TAGGER_KIND.to_string(),
                format_version: TAGGER_FORMAT_VERSION,
                config: config.clone(),
                training: TaggerTrainingReport {
                    initial_loss,
                    epoch_losses,
                    training_data_hash,
                    training_sentences: sentences.len(),
                    held_out_templates: None,
                    held_out: None,
                    training_seconds,
                },
                created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            },
        })
    }

    /// Loads a tagger from a folder written by [`Tagger::save`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Tagger> {
        let dir = dir.as_ref();
        let metadata_path = dir.join(METADATA_FILE);
        let weights_path = dir.join(WEIGHTS_FILE);
        for path in [&metadata_path, &weights_path] {
            if !path.is_file() {
                return Err(Error::NotFound(format!(
                    "tagger file {} is missing; train a tagger into that folder with `{}`",
                    path.display(),
                    TRAIN_COMMAND.replace("DIR", &dir.display().to_string())
                )));
            }
        }
        let text = fs::read_to_string(&metadata_path)
            .map_err(|source| Error::io(&metadata_path, source))?;
        let metadata: TaggerMetadata =
            serde_json::from_str(&text).map_err(|source| Error::Metadata {
                path: metadata_path.clone(),
                source,
            })?;
        Tagger::from_parts(metadata, &weights_path)
    }

    fn from_parts(metadata: TaggerMetadata, weights: &Path) -> Result<Tagger> {
        if metadata.kind != TAGGER_KIND || metadata.format_version != TAGGER_FORMAT_VERSION {
            return Err(Error::InvalidInput(format!(
                "{} describes a {:?} model of format version {}, but this build reads {:?} \
                 version {}; retrain it with `{TRAIN_COMMAND}`",
                weights.display(),
                metadata.kind,
                metadata.format_version,
                TAGGER_KIND,
                TAGGER_FORMAT_VERSION
            )));
        }
        metadata.config.validate()?;
        let device = metadata.config.device.device();
        let mut network =
            TaggerNetwork::new(&metadata.config.network, metadata.config.seed, &device);
        let mut store = SafetensorsStore::from_file(weights);
        network
            .load_from(&mut store)
            .map_err(|error| Error::Weights {
                action: "load",
                path: weights.to_path_buf(),
                message: error.to_string(),
            })?;
        Ok(Tagger { network, metadata })
    }

    /// Writes `tagger.safetensors` and `tagger.json` into `dir`, creating it if needed and
    /// replacing earlier files.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
        self.save_weights_to(&dir.join(WEIGHTS_FILE))?;
        let metadata_path = dir.join(METADATA_FILE);
        let text =
            serde_json::to_string_pretty(&self.metadata).map_err(|source| Error::Metadata {
                path: metadata_path.clone(),
                source,
            })?;
        fs::write(&metadata_path, text).map_err(|source| Error::io(&metadata_path, source))
    }

    fn save_weights_to(&self, path: &Path) -> Result<()> {
        let mut store = SafetensorsStore::from_file(path)
            .overwrite(true)
            .metadata("model_kind", TAGGER_KIND);
        self.network
            .save_into(&mut store)
            .map_err(|error| Error::Weights {
                action: "save",
                path: path.to_path_buf(),
                message: error.to_string(),
            })
    }

    /// Returns the metadata: configuration, training report and creation time.
    pub fn metadata(&self) -> &TaggerMetadata {
        &self.metadata
    }

    /// Finds the entities in `text`, in order, with byte ranges into `text`.
    pub fn tag(&self, text: &str) -> Vec<EntitySpan> {
        self.tag_batch(&[text]).pop().unwrap_or_default()
    }

    /// Finds the entities in each text; faster per text than [`Tagger::tag`] because texts
    /// share forward passes.
    ///
    /// A text of more than 256 tokens is tagged in windows of 256 tokens.
    /// NOTE: an entity that crosses a window boundary comes back as two spans.
    pub fn tag_batch(&self, texts: &[&str]) -> Vec<Vec<EntitySpan>> {
        let shape = &self.metadata.config.network;
        let device = self.metadata.config.device.device();
        struct Window {
            text: usize,
            tokens: Vec<tokenize::Token>,
            encoded: EncodedSentence,
        }
        let mut windows = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            let tokens = tokenize::tokenize(text);
            for part in tokens.chunks(WINDOW_TOKENS) {
                windows.push(Window {
                    text: index,
                    encoded: encode(text, part, shape),
                    tokens: part.to_vec(),
                });
            }
        }
        // Similar lengths share a pass, which keeps padding small.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&index| windows[index].tokens.len());
        let mut results: Vec<Vec<EntitySpan>> = vec![Vec::new(); texts.len()];
        let mut per_window: Vec<Vec<EntitySpan>> = vec![Vec::new(); windows.len()];
        for group in order.chunks(WINDOWS_PER_PASS) {
            let encoded: Vec<&EncodedSentence> =
                group.iter().map(|&index| &windows[index].encoded).collect();
            let inputs = batch(&encoded, shape, None, &device);
            let length = inputs.length;
            let probabilities = self.network.probabilities(&inputs);
            let values = probabilities
                .try_into_data()
                .ok()
                .and_then(|data| data.try_into_vec::<f32>().ok());
            let Some(values) = values else {
                tracing::error!("tagger output is not f32; returning no entities for this pass");
                continue;
            };
            for (row, &index) in group.iter().enumerate() {
                let window = &windows[index];
                let mut tags = Vec::with_capacity(window.tokens.len());
                let mut scores = Vec::with_capacity(window.tokens.len());
                for position in 0..window.tokens.len() {
                    let offset = (row * length + position) * labels::TAG_COUNT;
                    let row_values = &values[offset..offset + labels::TAG_COUNT];
                    let (best, probability) = row_values.iter().copied().enumerate().fold(
                        (0, f32::MIN),
                        |best, candidate| {
                            if candidate.1 > best.1 {
                                candidate
                            } else {
                                best
                            }
                        },
                    );
                    tags.push(Tag::from_index(best).unwrap_or(Tag::Outside));
                    scores.push(probability);
                }
                per_window[index] = decode_tags(&window.tokens, &tags, &scores);
            }
        }
        for (window, spans) in windows.iter().zip(per_window) {
            results[window.text].extend(spans);
        }
        results
    }

    /// Tags the sentences and returns exact-match span scores against their entities.
    pub fn evaluate(&self, sentences: &[GeneratedSentence]) -> SpanScores {
        let texts: Vec<&str> = sentences
            .iter()
            .map(|sentence| sentence.text.as_str())
            .collect();
        let predicted = self.tag_batch(&texts);
        score_spans(&predicted, sentences)
    }
}

impl RegisteredModel for Tagger {
    const KIND: &'static str = TAGGER_KIND;

    fn card(&self) -> Result<ModelCard> {
        let training = &self.metadata.training;
        let to_json = |value: serde_json::Result<serde_json::Value>| {
            value
                .map_err(|error| Error::Internal(format!("serialising the tagger failed: {error}")))
        };
        Ok(ModelCard {
            training_data_hash: training.training_data_hash.clone(),
            training_rows: training.training_sentences,
            columns: Vec::new(),
            standardization: None,
            metrics: ModelMetrics {
                final_loss: training.epoch_losses.last().copied().unwrap_or(f32::NAN),
                threshold: None,
            },
            config: to_json(serde_json::to_value(&self.metadata.config))?,
            training: to_json(serde_json::to_value(training))?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        self.save_weights_to(path)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let invalid = |error: serde_json::Error| {
            Error::InvalidInput(format!(
                "model {:?} version {} has an invalid tagger record: {error}",
                meta.name, meta.version
            ))
        };
        let metadata = TaggerMetadata {
            kind: meta.kind.clone(),
            format_version: TAGGER_FORMAT_VERSION,
            config: serde_json::from_value(meta.card.config.clone()).map_err(invalid)?,
            training: serde_json::from_value(meta.card.training.clone()).map_err(invalid)?,
            created_at: meta.created_at.clone(),
        };
        Tagger::from_parts(metadata, weights)
    }
}
