//! The error type shared by every stage.
//!
//! User errors (bad config, bad input, denied access, a failed stage) are kept apart from
//! internal errors, which mean a bug in this SDK or in a stage implementation: a broken row
//! count is the main one. [`Error::is_internal`] tells the two apart.

use std::path::PathBuf;

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from a stage implementation, kept as the `source()` of [`Error::Stage`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors returned by the chain and its stages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stage or chain configuration is invalid.
    #[error("invalid config for {component}: {message}")]
    Config {
        /// The stage or component whose config is invalid.
        component: String,
        /// Problem and fix.
        message: String,
    },

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

    /// An Arrow compute or conversion failed.
    #[error("arrow operation failed")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A stage failed; the chain stops and reports no partial output as success.
    #[error("stage {stage} failed")]
    Stage {
        /// The stage name.
        stage: String,
        /// The stage's own error.
        #[source]
        source: BoxError,
    },

    /// A guard denied access.
    #[error("access denied for role {role:?}: {reason}")]
    AccessDenied {
        /// The role that made the request.
        role: String,
        /// Reason for the denial.
        reason: String,
    },

    /// The audit log failed verification at a record.
    #[error("audit log invalid at record {record} (line {line}): {reason}")]
    AuditTampered {
        /// Sequence number the record should have (0-based).
        record: u64,
        /// 1-based line number in the log file.
        line: u64,
        /// Check that failed.
        reason: String,
    },

    /// A stage broke the row-count identity `rows in = rows out + quarantined + merged`.
    /// This is a bug in that stage.
    #[error(
        "internal error: stage {stage} broke the row count: {rows_in} in != {rows_out} out + \
         {quarantined} quarantined + {merged} merged + {held} still held (this is a bug in the stage)"
    )]
    RowCountMismatch {
        /// The stage that broke the identity.
        stage: String,
        /// Rows that entered the stage.
        rows_in: u64,
        /// Rows that left the stage.
        rows_out: u64,
        /// Rows sent to quarantine.
        quarantined: u64,
        /// Rows merged into other rows.
        merged: u64,
        /// Rows a stage still held back after its final flush.
        held: u64,
    },

    /// Any other broken invariant; a bug.
    #[error("internal error: {0} (this is a bug, please report it)")]
    Internal(String),
}

impl Error {
    /// Returns true when the error means a bug rather than bad input or config.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::RowCountMismatch { .. } | Error::Internal(_))
    }

    /// Wraps a stage implementation's error with the stage name.
    pub fn stage(stage: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Stage {
            stage: stage.into(),
            source: source.into(),
        }
    }

    /// Builds a config error for `component`.
    pub fn config(component: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            component: component.into(),
            message: message.into(),
        }
    }

    /// Builds an I/O error that names the path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_count_mismatch_is_internal() {
        let error = Error::RowCountMismatch {
            stage: "dedupe".into(),
            rows_in: 10,
            rows_out: 8,
            quarantined: 1,
            merged: 0,
            held: 0,
        };
        assert!(error.is_internal());
        assert!(error.to_string().contains("dedupe"));
    }

    #[test]
    fn config_error_is_user_error() {
        let error = Error::config("range", "unknown column \"pm25\"");
        assert!(!error.is_internal());
    }
}
