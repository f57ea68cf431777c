//! Errors of the applicators, carried as the `source()` of [`governance_core::Error::Stage`].

use std::path::PathBuf;

/// Errors of the applicators in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A batch arrived whose schema differs from the first batch of the round, so it cannot
    /// go into the same Parquet file.
    #[error(
        "batch {batch} of the round does not match the schema of batch 1: {}; \
         every batch of one round must share a schema, so align the columns before this stage",
        .differences.join("; ")
    )]
    SchemaChanged {
        /// 1-based position of the batch in the round.
        batch: u64,
        /// One entry per differing field, naming the field and both versions of it.
        differences: Vec<String>,
    },

    /// The data contains a column with the name reserved for row ids.
    #[error(
        "the data has a column named {column:?}, which is reserved for row ids in the output; \
         rename that column before this stage"
    )]
    ReservedColumn {
        /// The reserved name.
        column: String,
    },

    /// Writing a Parquet file failed.
    #[error("failed to write Parquet file {path}")]
    Parquet {
        /// The file being written (its final name, not the temporary one).
        path: PathBuf,
        /// The Parquet writer's error.
        #[source]
        source: parquet::errors::ParquetError,
    },
}
