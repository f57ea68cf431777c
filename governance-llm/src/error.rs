//! The error type of the model crate.
//!
//! Input and configuration errors (an empty matrix, a bad quantile, a missing model version)
//! are kept apart from [`Error::Internal`], which means a bug in this crate.

use std::path::PathBuf;

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors returned by the models and the model registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model configuration is invalid; the message names the field and the fix.
    #[error("invalid model config: {0}")]
    Config(String),

    /// Input data cannot be used; the message names the value and the expected form.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A file or folder could not be read or written.
    #[error("failed to access {path}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A model's weights could not be saved to or loaded from a safetensors file.
    #[error("failed to {action} model weights at {path}: {message}")]
    Weights {
        /// `save` or `load`.
        action: &'static str,
        /// The safetensors file.
        path: PathBuf,
        /// The message burn-store returned.
        message: String,
    },

    /// A registry metadata file is not valid JSON of the expected form.
    #[error("invalid model metadata in {path}")]
    Metadata {
        /// The `meta.json` file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// A model, version or pointer was not found in the registry.
    #[error("{0}")]
    NotFound(String),

    /// The pretrained sentence encoder could not be loaded or run; the message names the
    /// file and the fix.
    #[error(transparent)]
    Encoder(#[from] crate::encoder::EncoderError),

    /// A broken invariant inside this crate; a bug.
    #[error("internal error: {0} (this is a bug, please report it)")]
    Internal(String),
}

impl Error {
    /// Builds an I/O error that names the path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
