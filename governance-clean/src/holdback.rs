//! Rows that a series stage keeps back until the next batch, because a run of nulls at the
//! end of a batch may close in the next one.
//!
//! The stage prepends the held rows to the next batch with [`HeldRows::prepend`], decides
//! per series from which position rows must wait, and splits them off with
//! [`HeldRows::hold_back`]. [`HeldRows::take`] releases them at the end of the stream.

use governance_core::{Error, GovernedBatch, Result};

use crate::support::{SeriesRows, take_rows};

/// The rows a stage keeps back, if any.
#[derive(Debug, Default)]
pub(crate) struct HeldRows {
    held: Option<GovernedBatch>,
}

impl HeldRows {
    /// Returns `batch` with the held rows in front of it. Fails without losing the held rows
    /// when the batch's schema differs from theirs.
    pub fn prepend(&mut self, batch: GovernedBatch) -> Result<GovernedBatch> {
        let Some(held) = self.held.take() else {
            return Ok(batch);
        };
        if held.data().schema().fields() != batch.data().schema().fields() {
            // Keep the held rows so that a caller that recovers can still flush them.
            let message = format!(
                "batch schema changed while rows were held back; held columns: {}; new \
                 columns: {}",
                held.column_names().join(", "),
                batch.column_names().join(", ")
            );
            self.held = Some(held);
            return Err(Error::InvalidInput(message));
        }
        let mut combined = GovernedBatch::concat(&[held, batch.clone()])?
            .ok_or_else(|| Error::Internal("concatenating two batches returned none".into()))?;
        combined.provenance = batch.provenance;
        Ok(combined)
    }

    /// Keeps back, for each series, its rows from position `hold_from` on (a position in
    /// the series' `rows`), and returns the other rows.
    pub fn hold_back(
        &mut self,
        batch: GovernedBatch,
        groups: &[SeriesRows],
        hold_from: &[Option<usize>],
    ) -> Result<GovernedBatch> {
        let mut held_rows = vec![false; batch.num_rows()];
        for (group, start) in groups.iter().zip(hold_from) {
            if let Some(start) = start {
                for &row in &group.rows[*start..] {
                    held_rows[row] = true;
                }
            }
        }
        if !held_rows.contains(&true) {
            return Ok(batch);
        }
        let (held, released): (Vec<usize>, Vec<usize>) =
            (0..batch.num_rows()).partition(|&row| held_rows[row]);
        self.held = Some(take_rows(&batch, &held, false)?);
        take_rows(&batch, &released, true)
    }

    /// Releases the held rows.
    pub fn take(&mut self) -> Option<GovernedBatch> {
        self.held.take()
    }

    /// Returns the number of rows held.
    pub fn len(&self) -> u64 {
        self.held.as_ref().map_or(0, |held| held.num_rows() as u64)
    }
}
