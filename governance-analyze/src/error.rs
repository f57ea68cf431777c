//! Errors of the analyzers that are not plain config or input errors.

use datafusion::error::DataFusionError;

/// An analyzer failure, returned as the source of `governance_core::Error::Stage`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// An indicator's SQL planned but failed while it ran, such as on a failed cast.
    #[error("sql of indicator {indicator:?} failed while running")]
    Query {
        /// The indicator's name.
        indicator: String,
        /// DataFusion's error.
        #[source]
        source: DataFusionError,
    },
}
