//! The model registry: versioned models on disk, with the metadata to trust and rebuild them.
//!
//! Layout under the registry folder:
//!
//! ```text
//! <dir>/<name>/<version>/model.safetensors   weights, written by burn-store
//! <dir>/<name>/<version>/meta.json           ModelMeta: kind, version, parent, data hash, ...
//! <dir>/<name>/LATEST                        the version that `latest` returns, as text
//! ```
//!
//! Versions are whole numbers from 1; each save takes the highest version present plus one,
//! so a number is never reused, not even after a rollback. `LATEST` is a pointer file, and a
//! save points it at the new version. [`ModelRegistry::rollback`] points it back at the parent
//! of the current latest version, or at the highest version below it when there is no parent,
//! and deletes nothing. Without a `LATEST` file the highest version is the latest. Files are written to a temporary name and renamed, so a reader never sees half a
//! `meta.json` or `LATEST`.

use std::fs;
use std::path::{Path, PathBuf};

use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::autoencoder::{AutoencoderConfig, SavedParts, TrainedAutoencoder, TrainingMetrics};
use crate::matrix::Standardization;
use crate::{Error, Result};

/// The `kind` of [`TrainedAutoencoder`] in `meta.json`.
pub const AUTOENCODER_KIND: &str = "dense_autoencoder";

const WEIGHTS_FILE: &str = "model.safetensors";
const META_FILE: &str = "meta.json";
const LATEST_FILE: &str = "LATEST";

/// Returns the hex SHA-256 of float slices: each slice's length as a little-endian `u64`, then
/// its values' little-endian `f32` bytes. Models without a [`crate::FeatureMatrix`] hash their
/// training data with it.
pub(crate) fn sha256_of_floats(slices: &[&[f32]]) -> String {
    let mut hasher = Sha256::new();
    for slice in slices {
        hasher.update((slice.len() as u64).to_le_bytes());
        for value in *slice {
            hasher.update(value.to_le_bytes());
        }
    }
    hex::encode(hasher.finalize())
}

/// Writes `module`'s weights to a safetensors file at `path`, tagged with the model `kind`.
pub(crate) fn save_module<M: ModuleSnapshot>(module: &M, path: &Path, kind: &str) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path)
        .overwrite(true)
        .metadata("model_kind", kind);
    module
        .save_into(&mut store)
        .map_err(|error| Error::Weights {
            action: "save",
            path: path.to_path_buf(),
            message: error.to_string(),
        })
}

/// Reads the safetensors file at `path` into `module`, whose shapes must match the file's.
pub(crate) fn load_module<M: ModuleSnapshot>(module: &mut M, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path);
    module
        .load_from(&mut store)
        .map(|_| ())
        .map_err(|error| Error::Weights {
            action: "load",
            path: path.to_path_buf(),
            message: error.to_string(),
        })
}

/// Serialises a model's config or training record for its [`ModelCard`].
pub(crate) fn card_json<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|error| Error::Internal(format!("model record not serialisable: {error}")))
}

/// A model the registry can save and load.
pub trait RegisteredModel: Sized {
    /// The kind written to `meta.json` and checked on load.
    const KIND: &'static str;

    /// Returns the model-specific part of its metadata.
    fn card(&self) -> Result<ModelCard>;

    /// Writes the weights to a safetensors file at `path`.
    fn save_weights(&self, path: &Path) -> Result<()>;

    /// Rebuilds the model from its metadata and the safetensors file at `weights`.
    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self>;
}

/// What a model reports about itself for `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Hex SHA-256 of the training matrix; see [`crate::FeatureMatrix::sha256`].
    pub training_data_hash: String,
    /// Rows the model was trained on.
    pub training_rows: usize,
    /// Input columns, in order.
    pub columns: Vec<String>,
    /// Per-column standardisation of the inputs, for models that standardise.
    pub standardization: Option<Standardization>,
    /// Headline metrics.
    pub metrics: ModelMetrics,
    /// The model's configuration, as JSON.
    pub config: serde_json::Value,
    /// Model-specific training record, as JSON.
    pub training: serde_json::Value,
}

/// Headline metrics of a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Training loss after the last epoch.
    pub final_loss: f32,
    /// Decision threshold in use when the model was saved, for models that have one.
    pub threshold: Option<f32>,
}

/// The contents of `meta.json`: who the model is and what it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Model kind, such as [`AUTOENCODER_KIND`].
    pub kind: String,
    /// Registry name of the model.
    pub name: String,
    /// Version, from 1; written as a string.
    #[serde(with = "version_text")]
    pub version: u32,
    /// Version this one was derived from, if any; written as a string.
    #[serde(with = "optional_version_text")]
    pub parent_version: Option<u32>,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: String,
    /// The model's own description.
    #[serde(flatten)]
    pub card: ModelCard,
}

/// Versioned models in a folder; see the module docs for the layout.
#[derive(Debug, Clone)]
pub struct ModelRegistry {
    root: PathBuf,
}

impl ModelRegistry {
    /// Opens the registry in `dir`, creating the folder if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|source| Error::io(&root, source))?;
        Ok(ModelRegistry { root })
    }

    /// Returns the registry folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Saves `model` as the next version of `name` and makes it the latest. `parent` names the
    /// version it was derived from, which must exist.
    pub fn save<M: RegisteredModel>(
        &self,
        name: &str,
        model: &M,
        parent: Option<u32>,
    ) -> Result<ModelMeta> {
        let model_dir = self.model_dir(name)?;
        fs::create_dir_all(&model_dir).map_err(|source| Error::io(&model_dir, source))?;
        if let Some(parent) = parent {
            self.meta(name, parent)?;
        }
        let version = self.highest_version(name)?.map_or(1, |highest| highest + 1);
        let version_dir = model_dir.join(version.to_string());
        // create_dir, not create_dir_all: a concurrent save of the same version fails here
        // instead of mixing two models' files.
        fs::create_dir(&version_dir).map_err(|source| Error::io(&version_dir, source))?;

        model.save_weights(&version_dir.join(WEIGHTS_FILE))?;
        let meta = ModelMeta {
            kind: M::KIND.to_string(),
            name: name.to_string(),
            version,
            parent_version: parent,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            card: model.card()?,
        };
        let text = serde_json::to_string_pretty(&meta).map_err(|source| Error::Metadata {
            path: version_dir.join(META_FILE),
            source,
        })?;
        write_atomically(&version_dir.join(META_FILE), text.as_bytes())?;
        write_atomically(&model_dir.join(LATEST_FILE), version.to_string().as_bytes())?;
        tracing::info!(model = name, version, ?parent, "saved model version");
        Ok(meta)
    }

    /// Returns the metadata of every complete version of `name`, oldest first; empty when the
    /// model has none. A version folder without `meta.json` (an interrupted save) is skipped.
    pub fn list(&self, name: &str) -> Result<Vec<ModelMeta>> {
        let mut metas = Vec::new();
        for version in self.versions(name)? {
            let path = self
                .model_dir(name)?
                .join(version.to_string())
                .join(META_FILE);
            if path.is_file() {
                metas.push(read_meta(&path)?);
            } else {
                tracing::warn!(
                    model = name,
                    version,
                    "skipping model version without meta.json"
                );
            }
        }
        Ok(metas)
    }

    /// Returns the metadata of one version.
    pub fn meta(&self, name: &str, version: u32) -> Result<ModelMeta> {
        let path = self
            .model_dir(name)?
            .join(version.to_string())
            .join(META_FILE);
        if !path.is_file() {
            return Err(Error::NotFound(format!(
                "model {name:?} has no version {version} in {}; versions present: {}",
                self.root.display(),
                self.version_list(name)?
            )));
        }
        read_meta(&path)
    }

    /// Loads one version. Fails when it is missing or of another kind than `M`.
    pub fn load<M: RegisteredModel>(&self, name: &str, version: u32) -> Result<M> {
        let meta = self.meta(name, version)?;
        if meta.kind != M::KIND {
            return Err(Error::InvalidInput(format!(
                "model {name:?} version {version} is a {}, not a {}",
                meta.kind,
                M::KIND
            )));
        }
        let weights = self
            .model_dir(name)?
            .join(version.to_string())
            .join(WEIGHTS_FILE);
        M::load(&meta, &weights)
    }

    /// Returns the metadata of the latest version: the one `LATEST` points at, or the highest
    /// version when there is no pointer. `None` when the model has no version.
    pub fn latest(&self, name: &str) -> Result<Option<ModelMeta>> {
        let pointer = self.model_dir(name)?.join(LATEST_FILE);
        if pointer.is_file() {
            let text =
                fs::read_to_string(&pointer).map_err(|source| Error::io(&pointer, source))?;
            let version: u32 = text.trim().parse().map_err(|_| {
                Error::InvalidInput(format!(
                    "{} contains {:?}, which is not a version number; write the version to \
                     use into it",
                    pointer.display(),
                    text.trim()
                ))
            })?;
            return self.meta(name, version).map(Some);
        }
        Ok(self.list(name)?.pop())
    }

    /// Loads the latest version, with its metadata; `None` when the model has no version.
    pub fn load_latest<M: RegisteredModel>(&self, name: &str) -> Result<Option<(ModelMeta, M)>> {
        let Some(meta) = self.latest(name)? else {
            return Ok(None);
        };
        let model = self.load(name, meta.version)?;
        Ok(Some((meta, model)))
    }

    /// Points `LATEST` at the version before the current latest one: its parent if that
    /// version still exists, otherwise the highest version below it. Returns the new latest
    /// version's metadata. Nothing is deleted.
    pub fn rollback(&self, name: &str) -> Result<ModelMeta> {
        let current = self.latest(name)?.ok_or_else(|| {
            Error::NotFound(format!("model {name:?} has no version to roll back"))
        })?;
        let listed = self.list(name)?;
        let target = current
            .parent_version
            .and_then(|parent| listed.iter().find(|meta| meta.version == parent))
            .or_else(|| {
                listed
                    .iter()
                    .rev()
                    .find(|meta| meta.version < current.version)
            })
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "model {name:?} version {} has no earlier version to roll back to",
                    current.version
                ))
            })?;
        let pointer = self.model_dir(name)?.join(LATEST_FILE);
        write_atomically(&pointer, target.version.to_string().as_bytes())?;
        tracing::info!(
            model = name,
            from = current.version,
            to = target.version,
            "rolled back model"
        );
        Ok(target)
    }

    fn model_dir(&self, name: &str) -> Result<PathBuf> {
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "_-.".contains(character));
        if !valid {
            return Err(Error::InvalidInput(format!(
                "model name {name:?} is invalid; use ASCII letters, digits, '_', '-' and '.', \
                 not starting with '.'"
            )));
        }
        Ok(self.root.join(name))
    }

    /// Returns the version numbers of the folders under the model, sorted; interrupted saves
    /// included.
    fn versions(&self, name: &str) -> Result<Vec<u32>> {
        let dir = self.model_dir(name)?;
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let entries = fs::read_dir(&dir).map_err(|source| Error::io(&dir, source))?;
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&dir, source))?;
            let is_dir = entry
                .file_type()
                .map_err(|source| Error::io(entry.path(), source))?
                .is_dir();
            if let (true, Some(version)) = (
                is_dir,
                entry
                    .file_name()
                    .to_str()
                    .and_then(|text| text.parse::<u32>().ok()),
            ) {
                versions.push(version);
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    fn highest_version(&self, name: &str) -> Result<Option<u32>> {
        Ok(self.versions(name)?.last().copied())
    }

    fn version_list(&self, name: &str) -> Result<String> {
        let versions = self.versions(name)?;
        if versions.is_empty() {
            return Ok("none".into());
        }
        Ok(versions
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "))
    }
}

fn read_meta(path: &Path) -> Result<ModelMeta> {
    let text = fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
    serde_json::from_str(&text).map_err(|source| Error::Metadata {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to a sibling temporary file and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    fs::write(&temporary, bytes).map_err(|source| Error::io(&temporary, source))?;
    fs::rename(&temporary, path).map_err(|source| Error::io(path, source))
}

impl RegisteredModel for TrainedAutoencoder {
    const KIND: &'static str = AUTOENCODER_KIND;

    fn card(&self) -> Result<ModelCard> {
        let to_json = |value: serde_json::Result<serde_json::Value>| {
            value
                .map_err(|error| Error::Internal(format!("model record not serialisable: {error}")))
        };
        Ok(ModelCard {
            training_data_hash: self.training_data_hash().to_string(),
            training_rows: self.training_rows(),
            columns: self.columns().to_vec(),
            standardization: Some(self.standardization().clone()),
            metrics: ModelMetrics {
                final_loss: self.metrics().final_loss,
                threshold: Some(self.threshold()),
            },
            config: to_json(serde_json::to_value(self.config()))?,
            training: to_json(serde_json::to_value(self.metrics()))?,
        })
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        TrainedAutoencoder::save_weights(self, path)
    }

    fn load(meta: &ModelMeta, weights: &Path) -> Result<Self> {
        let context =
            |what: &str| format!("model {:?} version {}: {what}", meta.name, meta.version);
        let config: AutoencoderConfig = serde_json::from_value(meta.card.config.clone())
            .map_err(|error| Error::InvalidInput(context(&format!("invalid config: {error}"))))?;
        let metrics: TrainingMetrics =
            serde_json::from_value(meta.card.training.clone()).map_err(|error| {
                Error::InvalidInput(context(&format!("invalid training record: {error}")))
            })?;
        let standardization = meta
            .card
            .standardization
            .clone()
            .ok_or_else(|| Error::InvalidInput(context("standardization is missing")))?;
        let threshold = meta
            .card
            .metrics
            .threshold
            .ok_or_else(|| Error::InvalidInput(context("metrics.threshold is missing")))?;
        let parts = SavedParts {
            config,
            columns: meta.card.columns.clone(),
            standardization,
            threshold,
            metrics,
            training_data_hash: meta.card.training_data_hash.clone(),
            training_rows: meta.card.training_rows,
        };
        TrainedAutoencoder::from_saved(parts, weights)
    }
}

/// Serialises a version number as a JSON string.
mod version_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(
        version: &u32,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&version.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| D::Error::custom(format!("version {text:?} is not a whole number")))
    }
}

/// Serialises an optional version number as a JSON string or null.
mod optional_version_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(
        version: &Option<u32>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match version {
            Some(version) => serializer.serialize_str(&version.to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u32>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| {
                text.parse().map_err(|_| {
                    D::Error::custom(format!("parent_version {text:?} is not a whole number"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_are_rejected() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let registry = ModelRegistry::open(dir.path()).expect("registry");
        for name in ["", "../escape", ".hidden", "a/b"] {
            let error = registry.list(name).expect_err("invalid name");
            assert!(error.to_string().contains("is invalid"), "{name}: {error}");
        }
    }

    #[test]
    fn empty_registry_has_no_latest() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let registry = ModelRegistry::open(dir.path()).expect("registry");
        assert!(registry.latest("sensor").expect("latest").is_none());
        assert!(registry.list("sensor").expect("list").is_empty());
        let error = registry
            .rollback("sensor")
            .expect_err("nothing to roll back");
        assert!(error.to_string().contains("no version to roll back"));
        let error = registry.meta("sensor", 2).expect_err("absent");
        assert!(error.to_string().contains("versions present: none"));
    }

    #[test]
    fn meta_writes_versions_as_strings() {
        let meta = ModelMeta {
            kind: AUTOENCODER_KIND.into(),
            name: "sensor".into(),
            version: 3,
            parent_version: Some(2),
            created_at: "2024-01-01T00:00:00.000Z".into(),
            card: ModelCard {
                training_data_hash: "00".into(),
                training_rows: 1,
                columns: vec!["a".into()],
                standardization: None,
                metrics: ModelMetrics {
                    final_loss: 0.5,
                    threshold: None,
                },
                config: serde_json::Value::Null,
                training: serde_json::Value::Null,
            },
        };
        let json = serde_json::to_value(&meta).expect("serialise");
        assert_eq!(json["version"], "3");
        assert_eq!(json["parent_version"], "2");
        assert_eq!(json["columns"][0], "a");
        let back: ModelMeta = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, meta);
    }
}
