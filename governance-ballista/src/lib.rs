//! The column stages of a governance chain as DataFusion UDFs, so that the same chain runs
//! on a plain DataFusion `SessionContext`, on Ballista standalone and on a Ballista cluster.
//!
//! - [`kernel`]: [`ScalarKernel`], the serde config of one column step (canonical numbers,
//!   trimming, timestamps, rules, cell-level checks, detection and masking of personal
//!   data, keyed pseudonyms, blocking keys, string comparators), evaluated by the stage code
//!   of `governance-clean`, `governance-secure` and `governance-fuse`.
//! - [`GovernanceUdf`] and [`GovernanceUdaf`]: scalar and aggregate UDFs that carry their
//!   kernel's config; the aggregates compute null rates, distinct-count estimates, failing
//!   counts and column profiles.
//! - [`codec`]: logical and physical extension codecs that write each UDF's name and config
//!   into a plan and hand everything else to Ballista's codecs.
//! - [`ColumnChain`]: compiles stage configs over a Parquet or CSV input into one plan whose
//!   output columns hold the governed values and, per stage and column, the issues.
//! - [`session`]: contexts with the codecs installed, for Ballista standalone and remote.
//! - `cluster` (feature `cluster`): a scheduler and an executor with the codecs, run by the
//!   `governance-cluster` binary.
//! - [`audit`]: the audit files that executors write per task partition, and their
//!   collection on the client, once per partition even when Ballista ran a task again.
//!
//! ```no_run
//! use governance_ballista::{ChainInput, ColumnChain, session};
//! use governance_clean::{CanonicaliseConfig, RulesConfig};
//!
//! # async fn run() -> datafusion::common::Result<()> {
//! let rules: RulesConfig = serde_json::from_str(
//!     r#"{"rules": [{"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}}]}"#,
//! )
//! .map_err(|error| datafusion::common::DataFusionError::Plan(error.to_string()))?;
//! let chain = ColumnChain::new(ChainInput::Csv("data/PRSA_Data_Dongsi.csv".into()))
//!     .canonicalise(&CanonicaliseConfig::hourly_air_quality())?
//!     .rules(&rules)?;
//! let ctx = session::standalone_context().await?;
//! let batches = chain.plan(&ctx).await?.collect().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Heavy dependencies and why: `ballista` and `ballista-core` run plans on a scheduler and
//! executors and provide the codecs this crate wraps. `datafusion-proto` defines the codec
//! traits, and `hyperloglogplus` keeps the distinct-count sketch mergeable across executors.
//! `futures` (feature `cluster`) wraps the record-batch stream that the audit operator counts.

pub mod aggregate;
pub mod audit;
pub mod chain;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod codec;
pub mod kernel;
pub mod scalar;
pub mod session;

pub use aggregate::{AggregateKernel, GovernanceUdaf, aggregate, aggregate_udf};
pub use chain::{ChainInput, ColumnChain, issue_column};
pub use codec::{GovernanceLogicalCodec, GovernancePhysicalCodec};
pub use kernel::{KernelOutput, KeySource, ScalarKernel, issue_fields, issue_list_type};
pub use scalar::{GovernanceUdf, call, scalar_udf};
