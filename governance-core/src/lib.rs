//! Core types of the `governance` SDK: governed record batches, the issue log, lineage, the
//! quarantine, the tamper-evident audit log, feedback, the stage traits, the chain runner, and
//! the registry of standard data models with their units ([`standard`]).
//!
//! Stage implementations live in the other crates; this crate holds only what every stage
//! shares, and has no heavy dependencies (no DataFusion, burn or Polars).
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::{GovernedBatch, Provenance, RowIdAllocator};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("pm25", DataType::Float64, true)]));
//! let data = RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(vec![12.0, 80.5]))])?;
//! let ids = RowIdAllocator::default().allocate(data.num_rows());
//! let batch = GovernedBatch::try_new(data, ids, Provenance::new("station-1.csv"))?;
//! assert_eq!(batch.row_ids().value(1), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audit;
mod batch;
pub mod chain;
pub mod chat;
pub mod checkpoint;
mod error;
mod feedback;
mod issue;
mod lineage;
pub mod openlineage;
pub mod semantic;
pub mod stage;
pub mod standard;

pub use batch::{GovernedBatch, Provenance, ROW_ID_COLUMN, RowIdAllocator};
pub use chain::{Chain, ChainBuilder, RunSummary, StageReport};
pub use checkpoint::{CheckpointStore, SourcePosition};
pub use error::{BoxError, Error, Result};
pub use feedback::{Feedback, FeedbackTarget, Label};
pub use issue::{Issue, IssueKind, IssueLog, Severity};
pub use lineage::{Adjustment, LineageEvent, LineageRecord, QuarantinedRow, params_hash};
pub use semantic::{Semantic, Sensitivity};
pub use stage::{
    AccessRequest, Analyzer, Applicator, Cleaner, Collector, Finding, FindingKind, ForecastDetail,
    Fuser, Guard, Learner, Stage, StageContext,
};
