//! Integration tests of the collectors, one module per collector.

mod beijing;
mod csv;
mod formats;
mod parquet;
mod synthetic;

use governance_core::audit::{AuditLog, AuditRecord};
use governance_core::{Collector, GovernedBatch, Result, StageContext};

/// Returns a fresh context with an in-memory audit log.
fn context(stage: &str) -> StageContext {
    StageContext::new(stage, 1, AuditLog::in_memory().into_handle())
}

/// Runs one round of `collector` and returns every batch.
fn drain(collector: &mut dyn Collector, ctx: &mut StageContext) -> Result<Vec<GovernedBatch>> {
    collector.start(ctx)?;
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(ctx)? {
        batches.push(batch);
    }
    Ok(batches)
}

/// Returns the audit records written so far.
fn audit_records(ctx: &StageContext) -> Vec<AuditRecord> {
    ctx.audit_handle()
        .lock()
        .expect("audit lock")
        .records()
        .to_vec()
}

/// Returns the number of rows in `batches`.
fn row_count(batches: &[GovernedBatch]) -> usize {
    batches.iter().map(GovernedBatch::num_rows).sum()
}
