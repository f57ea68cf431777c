//! `governance`: closed-loop governance of city data over Apache Arrow record batches.
//!
//! ```text
//! collect -> clean -> fuse -> analyze -> guard -> apply
//!    ^                                             |
//!    +----------- feedback (labels, outcomes) -----+
//! ```
//!
//! This facade re-exports the core types at its root and each stage crate as a module behind a
//! cargo feature of the same name (all on by default), so a user writes one dependency:
//!
//! | module | crate | holds |
//! |---|---|---|
//! | (root) | `governance-core` | `GovernedBatch`, issue log, lineage, audit log, stage traits, `Chain` |
//! | [`collect`] | `governance-collect` | CSV and Parquet collectors, the synthetic city generator |
//! | [`clean`] | `governance-clean` | canonicalisation, rules, dedupe, gap filling, outliers, anomalies |
//! | [`fuse`] | `governance-fuse` | as-of joins of the stream with side sources |
//! | [`analyze`] | `governance-analyze` | SQL indicators over DataFusion, threshold alerts |
//! | [`secure`] | `governance-secure` | personal-data detection and masking, access policies |
//! | [`apply`] | `governance-apply` | Parquet sink, quality report and run summary |
//! | [`llm`] | `governance-llm` | burn model backends, the autoencoder, the model registry |
//!
//! The `polars` feature adds conversion between [`GovernedBatch`] and a Polars `DataFrame`.

pub use governance_core::*;

#[cfg(feature = "analyze")]
pub use governance_analyze as analyze;
#[cfg(feature = "apply")]
pub use governance_apply as apply;
#[cfg(feature = "ballista")]
pub use governance_ballista as ballista;
#[cfg(feature = "clean")]
pub use governance_clean as clean;
#[cfg(feature = "collect")]
pub use governance_collect as collect;
#[cfg(feature = "fuse")]
pub use governance_fuse as fuse;
#[cfg(feature = "llm")]
pub use governance_llm as llm;
#[cfg(feature = "secure")]
pub use governance_secure as secure;

#[cfg(feature = "polars")]
pub mod polars;
