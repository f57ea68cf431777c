//! The [`FillGaps`] cleaner: fills short runs of nulls in a series by linear interpolation in
//! time between the known values on either side.
//!
//! A run is filled only when it has at most `max_gap` rows, both ends are known, and the
//! timestamps from one end to the other rise strictly (rows out of time order are never
//! interpolated across). A run at the very start or end of a series stays null.
//!
//! Streaming: a run at the end of a batch may close in the next batch, so the stage holds back
//! each series' trailing rows from the last known value before such a run (at most
//! `max_gap + 1` rows per series), prepends them to the next batch and releases whatever is
//! left in [`Cleaner::flush`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::holdback::HeldRows;
use crate::support::{
    ChangeCounts, column_index, float_column, group_by_series, time_values, value_columns,
    with_columns,
};

/// Configuration of [`FillGaps`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FillGapsConfig {
    /// Column naming the series, such as a station; `None` treats the stream as one series.
    pub series: Option<String>,
    /// Time column (timestamp, date or integer); rows are expected in rising time order within
    /// a series.
    pub time: String,
    /// Float64 columns to fill; `None` fills every Float64 column.
    pub columns: Option<Vec<String>>,
    /// Maximum length, in rows, of a run of consecutive nulls that is filled. Longer runs stay
    /// null.
    pub max_gap: usize,
}

impl Default for FillGapsConfig {
    fn default() -> Self {
        FillGapsConfig {
            series: Some("station".into()),
            time: "timestamp".into(),
            columns: None,
            max_gap: 3,
        }
    }
}

/// Interpolates short gaps per series; see the module docs.
#[derive(Debug)]
pub struct FillGaps {
    name: String,
    config: FillGapsConfig,
    /// Trailing rows held back for the next batch.
    held: HeldRows,
}

/// One filled cell.
struct Fill {
    row: usize,
    value: f64,
    message: String,
    confidence: f32,
}

impl FillGaps {
    /// Creates the stage. Fails when `max_gap` is 0, which would fill nothing.
    pub fn new(config: FillGapsConfig) -> Result<Self> {
        if config.max_gap == 0 {
            return Err(Error::config(
                "fill_gaps",
                "`max_gap` is 0, which fills nothing; use at least 1",
            ));
        }
        Ok(FillGaps {
            name: "fill_gaps".into(),
            config,
            held: HeldRows::default(),
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &FillGapsConfig {
        &self.config
    }

    /// Interpolates the null runs of one column within one series (`rows` in series order).
    /// Returns the fills and the position in `rows` from which rows must be held back for a
    /// trailing run that a later batch may close.
    fn fill_series(
        &self,
        values: &Float64Array,
        times: &arrow::array::Int64Array,
        rows: &[usize],
        row_ids: &arrow::array::UInt64Array,
    ) -> (Vec<Fill>, Option<usize>) {
        let mut fills = Vec::new();
        let mut hold_from = None;
        let mut position = 0;
        while position < rows.len() {
            if values.is_valid(rows[position]) {
                position += 1;
                continue;
            }
            let start = position;
            while position < rows.len() && values.is_null(rows[position]) {
                position += 1;
            }
            let run = position - start;
            if run > self.config.max_gap || start == 0 {
                continue;
            }
            let left = start - 1;
            if position == rows.len() {
                hold_from = Some(left);
                continue;
            }
            let right = position;
            let span = &rows[left..=right];
            let rising = span.iter().all(|&row| times.is_valid(row))
                && span
                    .windows(2)
                    .all(|pair| times.value(pair[0]) < times.value(pair[1]));
            if !rising {
                continue;
            }
            let (left_row, right_row) = (rows[left], rows[right]);
            let (left_time, right_time) =
                (times.value(left_row) as f64, times.value(right_row) as f64);
            let (left_value, right_value) = (values.value(left_row), values.value(right_row));
            // Confidence falls with the run length: 0.8 for one row, 0.57 for three.
            let confidence = 1.0 / (1.0 + 0.25 * run as f32);
            for &row in &rows[start..position] {
                let fraction = (times.value(row) as f64 - left_time) / (right_time - left_time);
                let value = left_value + (right_value - left_value) * fraction;
                fills.push(Fill {
                    row,
                    value,
                    message: format!(
                        "interpolated {value} between {left_value} (row {}) and {right_value} \
                         (row {}) over a gap of {run} rows",
                        row_ids.value(left_row),
                        row_ids.value(right_row)
                    ),
                    confidence,
                });
            }
        }
        (fills, hold_from)
    }
}

impl Stage for FillGaps {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("interpolate gaps of up to {} rows", self.config.max_gap)
    }
}

impl Cleaner for FillGaps {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let mut batch = self.held.prepend(batch)?;

        let series = match &self.config.series {
            Some(name) => Some(column_index(&batch, &self.name, "series", name)?),
            None => None,
        };
        let time = column_index(&batch, &self.name, "time", &self.config.time)?;
        let excluded: Vec<&str> = self.config.series.iter().map(String::as_str).collect();
        let targets = value_columns(
            &batch,
            &self.name,
            self.config.columns.as_deref(),
            &excluded,
        )?;
        let times = time_values(&batch, &self.name, time)?;
        let groups = group_by_series(&batch, series)?;

        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        let mut hold_from: Vec<Option<usize>> = vec![None; groups.len()];
        let mut changes = ChangeCounts::default();
        let mut issues = Vec::new();
        for &target in &targets {
            let values = float_column(&batch, &self.name, target)?;
            let column_name = batch.data().schema().field(target).name().clone();
            let mut filled: Option<Vec<Option<f64>>> = None;
            for (group, held_start) in groups.iter().zip(hold_from.iter_mut()) {
                let (fills, hold) = self.fill_series(values, &times, &group.rows, batch.row_ids());
                if let Some(hold) = hold {
                    *held_start = Some(held_start.map_or(hold, |current| current.min(hold)));
                }
                if fills.is_empty() {
                    continue;
                }
                let filled = filled.get_or_insert_with(|| values.iter().collect());
                changes.add(&column_name, fills.len() as u64);
                for fill in fills {
                    filled[fill.row] = Some(fill.value);
                    issues.push(
                        Issue::cell(
                            batch.row_ids().value(fill.row),
                            &column_name,
                            IssueKind::Imputed,
                            Severity::Info,
                            &self.name,
                            fill.message,
                        )
                        .with_suggested(fill.value.to_string())
                        .with_confidence(fill.confidence),
                    );
                }
            }
            if let Some(filled) = filled {
                columns[target] = Arc::new(Float64Array::from(filled));
            }
        }
        if changes.total() > 0 {
            with_columns(&mut batch, columns)?;
        }
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        changes.audit(ctx)?;

        self.held.hold_back(batch, &groups, &hold_from)
    }

    fn flush(&mut self, _ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        Ok(self.held.take())
    }

    fn held_rows(&self) -> u64 {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{audit_details, context, floats, series_batch};

    fn stage(max_gap: usize) -> FillGaps {
        FillGaps::new(FillGapsConfig {
            max_gap,
            ..FillGapsConfig::default()
        })
        .expect("fill gaps")
    }

    #[test]
    fn short_gap_is_interpolated() {
        let ids = RowIdAllocator::default();
        let input = series_batch(
            &["A"; 5],
            &[0, 1, 2, 3, 4],
            &[Some(10.0), None, None, Some(40.0), Some(50.0)],
            &ids,
        );
        let mut stage = stage(3);
        let mut ctx = context("fill_gaps");
        let output = stage.clean(input, &mut ctx).expect("clean");

        assert_eq!(
            floats(&output, "value"),
            vec![Some(10.0), Some(20.0), Some(30.0), Some(40.0), Some(50.0)]
        );
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 2);
        assert!(
            issues
                .iter()
                .all(|issue| issue.kind == IssueKind::Imputed && issue.severity == Severity::Info)
        );
        assert_eq!(issues[0].suggested.as_deref(), Some("20"));
        assert!(
            issues[0]
                .message
                .contains("between 10 (row 0) and 40 (row 3)"),
            "{}",
            issues[0].message
        );
        assert_eq!(audit_details(&ctx), vec!["count=2 value=2".to_string()]);
        assert_eq!(stage.held_rows(), 0);
    }

    #[test]
    fn interpolation_follows_time() {
        let ids = RowIdAllocator::default();
        // Hour 2 is absent, so hour 1 lies a quarter of the way from hour 0 to hour 4.
        let input = series_batch(&["A"; 3], &[0, 1, 4], &[Some(0.0), None, Some(8.0)], &ids);
        let output = stage(3)
            .clean(input, &mut context("fill_gaps"))
            .expect("clean");
        assert_eq!(
            floats(&output, "value"),
            vec![Some(0.0), Some(2.0), Some(8.0)]
        );
    }

    #[test]
    fn longer_gaps_get_lower_confidence() {
        let ids = RowIdAllocator::default();
        let input = series_batch(
            &["A"; 7],
            &[0, 1, 2, 3, 4, 5, 6],
            &[Some(1.0), None, Some(3.0), None, None, None, Some(7.0)],
            &ids,
        );
        let output = stage(3)
            .clean(input, &mut context("fill_gaps"))
            .expect("clean");
        let issues = output.issues.issues();
        assert_eq!(issues.len(), 4);
        assert!(issues[0].confidence > issues[1].confidence);
    }

    #[test]
    fn long_gaps_and_series_ends_stay_null() {
        let ids = RowIdAllocator::default();
        let input = series_batch(
            &["A"; 7],
            &[0, 1, 2, 3, 4, 5, 6],
            &[None, Some(1.0), None, None, None, None, Some(6.0)],
            &ids,
        );
        let output = stage(3)
            .clean(input, &mut context("fill_gaps"))
            .expect("clean");
        assert_eq!(
            floats(&output, "value"),
            vec![None, Some(1.0), None, None, None, None, Some(6.0)]
        );
        assert!(output.issues.is_empty());
    }

    #[test]
    fn out_of_order_rows_are_not_crossed() {
        let ids = RowIdAllocator::default();
        let input = series_batch(
            &["A"; 4],
            &[0, 5, 2, 6],
            &[Some(1.0), None, Some(3.0), Some(4.0)],
            &ids,
        );
        let output = stage(3)
            .clean(input, &mut context("fill_gaps"))
            .expect("clean");
        assert_eq!(floats(&output, "value")[1], None);
    }

    #[test]
    fn series_are_filled_separately() {
        let ids = RowIdAllocator::default();
        // Interleaved stations: A's gap is between A's rows only.
        let input = series_batch(
            &["A", "B", "A", "B", "A"],
            &[0, 0, 1, 1, 2],
            &[Some(1.0), Some(100.0), None, Some(200.0), Some(3.0)],
            &ids,
        );
        let output = stage(3)
            .clean(input, &mut context("fill_gaps"))
            .expect("clean");
        assert_eq!(floats(&output, "value")[2], Some(2.0));
    }

    #[test]
    fn trailing_gap_waits_for_next_batch() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(3);
        let mut ctx = context("fill_gaps");
        let first = stage
            .clean(
                series_batch(
                    &["A"; 4],
                    &[0, 1, 2, 3],
                    &[Some(1.0), Some(2.0), None, None],
                    &ids,
                ),
                &mut ctx,
            )
            .expect("first");
        // The known value at hour 1 and the two nulls are held back.
        assert_eq!(first.row_ids().values().to_vec(), vec![0]);
        assert_eq!(stage.held_rows(), 3);

        let second = stage
            .clean(
                series_batch(&["A"; 2], &[4, 5], &[Some(5.0), Some(6.0)], &ids),
                &mut ctx,
            )
            .expect("second");
        assert_eq!(second.row_ids().values().to_vec(), vec![1, 2, 3, 4, 5]);
        assert_eq!(
            floats(&second, "value"),
            vec![Some(2.0), Some(3.0), Some(4.0), Some(5.0), Some(6.0)]
        );
        assert_eq!(stage.held_rows(), 0);
        assert_eq!(
            stage
                .flush(&mut ctx)
                .expect("flush")
                .map(|batch| batch.num_rows()),
            None
        );
    }

    #[test]
    fn flush_releases_unclosed_gap() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(2);
        let mut ctx = context("fill_gaps");
        let output = stage
            .clean(
                series_batch(
                    &["A", "A", "B", "A"],
                    &[0, 1, 0, 2],
                    &[Some(1.0), Some(2.0), Some(7.0), None],
                    &ids,
                ),
                &mut ctx,
            )
            .expect("clean");
        assert_eq!(output.row_ids().values().to_vec(), vec![0, 2]);
        assert_eq!(stage.held_rows(), 2);
        let flushed = stage.flush(&mut ctx).expect("flush").expect("held rows");
        assert_eq!(flushed.row_ids().values().to_vec(), vec![1, 3]);
        assert_eq!(floats(&flushed, "value"), vec![Some(2.0), None]);
        assert_eq!(stage.held_rows(), 0);
    }

    #[test]
    fn trailing_gap_longer_than_max_is_not_held() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(1);
        let output = stage
            .clean(
                series_batch(&["A"; 3], &[0, 1, 2], &[Some(1.0), None, None], &ids),
                &mut context("fill_gaps"),
            )
            .expect("clean");
        assert_eq!(output.num_rows(), 3);
        assert_eq!(stage.held_rows(), 0);
    }

    #[test]
    fn non_float_column_is_rejected() {
        let config = FillGapsConfig {
            columns: Some(vec!["station".into()]),
            ..FillGapsConfig::default()
        };
        let ids = RowIdAllocator::default();
        let error = FillGaps::new(config)
            .expect("stage")
            .clean(
                series_batch(&["A"], &[0], &[Some(1.0)], &ids),
                &mut context("fill_gaps"),
            )
            .expect_err("text column");
        assert!(error.to_string().contains("\"station\" is Utf8"), "{error}");
        assert!(
            FillGaps::new(FillGapsConfig {
                max_gap: 0,
                ..FillGapsConfig::default()
            })
            .is_err()
        );
    }
}
