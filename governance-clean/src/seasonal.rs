//! The [`SeasonalFill`] cleaner: fills runs of nulls that are too long for straight-line
//! interpolation, keeping the daily (or other) cycle of the series.
//!
//! Per series and column, the stage estimates a seasonal profile from the batch's known
//! values: the mean deviation from the series mean in each of `buckets` equal parts of the
//! period (24 one-hour buckets of a day by default). Across a run of nulls it interpolates the
//! deseasonalised values (value minus the profile of its bucket) linearly in time between the
//! known values at either end, and adds the profile of each filled row's bucket back. A flat
//! profile gives plain linear interpolation.
//!
//! A run is filled when it has between `min_gap` and `max_gap` rows, both ends are known and
//! the timestamps rise strictly across it. Runs at the start or end of a series stay null.
//!
//! Streaming: as in [`FillGaps`](crate::FillGaps), a run at the end of a batch may close in
//! the next batch. The stage therefore holds back each series' rows from the last known
//! value before such a run (at most `max_gap + 1` rows per series), and [`Cleaner::flush`]
//! releases what is left. The profile sums every known value the stage has released, per series
//! and column, plus those of the current batch, so a batch too short for a profile of its
//! own still gets one. The state is one sum and one count per bucket, series and column.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::holdback::HeldRows;
use crate::support::{
    ChangeCounts, column_index, float_column, group_by_series, millis_per_unit, time_values,
    value_columns, with_columns,
};

const NAME: &str = "seasonal_fill";

/// Configuration of [`SeasonalFill`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeasonalFillConfig {
    /// Column naming the series, such as a station; `None` treats the batch as one series.
    pub series: Option<String>,
    /// Time column: a timestamp of any unit, or a date. Rows are expected in rising time
    /// order within a series.
    pub time: String,
    /// Float64 columns to fill; `None` fills every Float64 column.
    pub columns: Option<Vec<String>>,
    /// Length of the season in seconds (86,400 for a daily cycle).
    pub period_seconds: u64,
    /// Equal parts of the period with a profile value each (24 gives hourly buckets of a day).
    pub buckets: usize,
    /// Minimum known values in a bucket for its profile value; a bucket with fewer gets 0.
    pub min_bucket_values: usize,
    /// Minimum length, in rows, of a run that is filled; shorter runs are left to linear
    /// interpolation.
    pub min_gap: usize,
    /// Maximum length, in rows, of a run that is filled.
    pub max_gap: usize,
}

impl Default for SeasonalFillConfig {
    fn default() -> Self {
        SeasonalFillConfig {
            series: Some("station".into()),
            time: "timestamp".into(),
            columns: None,
            period_seconds: 86_400,
            buckets: 24,
            min_bucket_values: 3,
            min_gap: 1,
            max_gap: 168,
        }
    }
}

/// Fills long gaps along the seasonal profile; see the module docs.
#[derive(Debug)]
pub struct SeasonalFill {
    name: String,
    config: SeasonalFillConfig,
    /// Trailing rows held back for the next batch.
    held: HeldRows,
    /// Sums of the released known values, by series name and column name.
    profiles: HashMap<(Option<String>, String), ProfileSums>,
}

/// Sums of known values per bucket and overall, from which a profile is computed.
#[derive(Debug, Clone)]
struct ProfileSums {
    /// Sum and count of the known values in each bucket.
    buckets: Vec<(f64, u64)>,
    /// Sum and count of all known values.
    total: (f64, u64),
}

impl ProfileSums {
    fn new(buckets: usize) -> Self {
        ProfileSums {
            buckets: vec![(0.0, 0); buckets],
            total: (0.0, 0),
        }
    }

    /// Adds the known values of `rows` that have a bucket.
    fn add(&mut self, values: &Float64Array, rows: &[usize], buckets: &[Option<usize>]) {
        for &row in rows {
            if let (true, Some(bucket)) = (values.is_valid(row), buckets[row]) {
                let value = values.value(row);
                self.buckets[bucket].0 += value;
                self.buckets[bucket].1 += 1;
                self.total.0 += value;
                self.total.1 += 1;
            }
        }
    }
}

impl SeasonalFill {
    /// Creates the stage. Fails when the period, the buckets or the gap bounds are invalid.
    pub fn new(config: SeasonalFillConfig) -> Result<Self> {
        if config.period_seconds == 0 || config.buckets == 0 {
            return Err(Error::config(
                NAME,
                format!(
                    "`period_seconds` is {} and `buckets` is {}; both must be at least 1, such \
                     as 86400 and 24 for hourly buckets of a day",
                    config.period_seconds, config.buckets
                ),
            ));
        }
        if config.min_gap == 0 || config.max_gap < config.min_gap {
            return Err(Error::config(
                NAME,
                format!(
                    "`min_gap` is {} and `max_gap` is {}; use 1 <= min_gap <= max_gap",
                    config.min_gap, config.max_gap
                ),
            ));
        }
        Ok(SeasonalFill {
            name: NAME.into(),
            config,
            held: HeldRows::default(),
            profiles: HashMap::new(),
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &SeasonalFillConfig {
        &self.config
    }

    /// Returns the bucket of each row, or `None` for a null time.
    fn buckets(&self, times: &Int64Array, (multiply, divide): (i128, i128)) -> Vec<Option<usize>> {
        let period_ms = i128::from(self.config.period_seconds) * 1000;
        let buckets = self.config.buckets as i128;
        (0..times.len())
            .map(|row| {
                times.is_valid(row).then(|| {
                    let millis = i128::from(times.value(row)) * multiply / divide;
                    (millis.rem_euclid(period_ms) * buckets / period_ms) as usize
                })
            })
            .collect()
    }

    /// Returns the profile of one series and column: the mean deviation from the series
    /// mean per bucket, over the `past` sums and the known values of `rows`.
    fn profile(
        &self,
        values: &Float64Array,
        rows: &[usize],
        buckets: &[Option<usize>],
        past: Option<&ProfileSums>,
    ) -> Vec<f64> {
        let mut sums = past
            .cloned()
            .unwrap_or_else(|| ProfileSums::new(self.config.buckets));
        sums.add(values, rows, buckets);
        let mut profile = vec![0.0; self.config.buckets];
        if sums.total.1 == 0 {
            return profile;
        }
        let mean = sums.total.0 / sums.total.1 as f64;
        let min_values = self.config.min_bucket_values.max(1) as u64;
        for (slot, (sum, count)) in profile.iter_mut().zip(sums.buckets) {
            if count >= min_values {
                *slot = sum / count as f64 - mean;
            }
        }
        profile
    }
}

impl Stage for SeasonalFill {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "fill gaps of {} to {} rows along a {} s seasonal profile",
            self.config.min_gap, self.config.max_gap, self.config.period_seconds
        )
    }
}

impl Cleaner for SeasonalFill {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let mut batch = self.held.prepend(batch)?;
        let series = match &self.config.series {
            Some(name) => Some(column_index(&batch, &self.name, "series", name)?),
            None => None,
        };
        let time = column_index(&batch, &self.name, "time", &self.config.time)?;
        let to_ms =
            millis_per_unit(batch.data().schema().field(time).data_type()).ok_or_else(|| {
                Error::config(
                    &self.name,
                    format!(
                        "time column {:?} is {}; a seasonal profile needs a timestamp or date \
                         column",
                        self.config.time,
                        batch.data().schema().field(time).data_type()
                    ),
                )
            })?;
        let excluded: Vec<&str> = self.config.series.iter().map(String::as_str).collect();
        let targets = value_columns(
            &batch,
            &self.name,
            self.config.columns.as_deref(),
            &excluded,
        )?;
        let times = time_values(&batch, &self.name, time)?;
        let buckets = self.buckets(&times, to_ms);
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
                let past = self
                    .profiles
                    .get(&(group.name.clone(), column_name.clone()));
                let profile = self.profile(values, &group.rows, &buckets, past);
                if let Some(hold) = trailing_run_start(values, &group.rows, self.config.max_gap) {
                    *held_start = Some(held_start.map_or(hold, |current| current.min(hold)));
                }
                let runs = null_runs(values, &group.rows);
                for (start, end) in runs {
                    let run = end - start;
                    if run < self.config.min_gap || run > self.config.max_gap {
                        continue;
                    }
                    let (left, right) = (group.rows[start - 1], group.rows[end]);
                    let span = &group.rows[start - 1..=end];
                    let rising = span.iter().all(|&row| times.is_valid(row))
                        && span
                            .windows(2)
                            .all(|pair| times.value(pair[0]) < times.value(pair[1]));
                    let (Some(left_bucket), Some(right_bucket)) = (buckets[left], buckets[right])
                    else {
                        continue;
                    };
                    if !rising {
                        continue;
                    }
                    let left_level = values.value(left) - profile[left_bucket];
                    let right_level = values.value(right) - profile[right_bucket];
                    let (left_time, right_time) =
                        (times.value(left) as f64, times.value(right) as f64);
                    // Confidence falls with the run length: 0.5 for a run of one period's
                    // buckets, such as 24 hourly rows.
                    let confidence = 1.0 / (1.0 + run as f32 / self.config.buckets as f32);
                    let column = filled.get_or_insert_with(|| values.iter().collect());
                    for &row in &group.rows[start..end] {
                        let Some(bucket) = buckets[row] else {
                            continue;
                        };
                        let fraction =
                            (times.value(row) as f64 - left_time) / (right_time - left_time);
                        let value =
                            left_level + (right_level - left_level) * fraction + profile[bucket];
                        column[row] = Some(value);
                        changes.add(&column_name, 1);
                        issues.push(
                            Issue::cell(
                                batch.row_ids().value(row),
                                &column_name,
                                IssueKind::Imputed,
                                Severity::Info,
                                &self.name,
                                format!(
                                    "the original value was null; filled {value} along the \
                                     seasonal profile over a gap of {run} rows between rows {} \
                                     and {}",
                                    batch.row_ids().value(left),
                                    batch.row_ids().value(right)
                                ),
                            )
                            .with_suggested(value.to_string())
                            .with_confidence(confidence),
                        );
                    }
                }
            }
            if let Some(filled) = filled {
                columns[target] = Arc::new(Float64Array::from(filled));
            }
        }

        // The released rows' known values join the profile. Held rows join when released,
        // and filled values never do.
        for &target in &targets {
            let values = float_column(&batch, &self.name, target)?;
            let column_name = batch.data().schema().field(target).name().clone();
            for (group, held_start) in groups.iter().zip(&hold_from) {
                let released = &group.rows[..held_start.unwrap_or(group.rows.len())];
                self.profiles
                    .entry((group.name.clone(), column_name.clone()))
                    .or_insert_with(|| ProfileSums::new(self.config.buckets))
                    .add(values, released, &buckets);
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

/// Returns the position in `rows` of the last known value when a run of at most `max_gap`
/// nulls follows it to the end of `rows`: a run that the next batch may close.
fn trailing_run_start(values: &Float64Array, rows: &[usize], max_gap: usize) -> Option<usize> {
    let last_known = rows.iter().rposition(|&row| values.is_valid(row))?;
    let run = rows.len() - 1 - last_known;
    (run > 0 && run <= max_gap).then_some(last_known)
}

/// Returns the runs of nulls within `rows` that have a known value on both sides, as
/// `[start, end)` positions in `rows`.
fn null_runs(values: &Float64Array, rows: &[usize]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
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
        if start > 0 && position < rows.len() {
            runs.push((start, position));
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{context, floats, series_batch};

    fn stage(min_gap: usize) -> SeasonalFill {
        SeasonalFill::new(SeasonalFillConfig {
            min_gap,
            ..SeasonalFillConfig::default()
        })
        .expect("valid")
    }

    /// Five days of a daily cycle `10 + hour of day` on a rising trend of 0.1 per hour.
    fn cycle(hour: i64) -> f64 {
        10.0 + (hour % 24) as f64 + 0.1 * hour as f64
    }

    #[test]
    fn long_gap_follows_daily_cycle() {
        let ids = RowIdAllocator::default();
        let hours: Vec<i64> = (0..120).collect();
        let mut values: Vec<Option<f64>> = hours.iter().map(|&hour| Some(cycle(hour))).collect();
        // Hours 40 to 51 cross midnight, where the cycle drops from 33 back to 10.
        for value in &mut values[40..52] {
            *value = None;
        }
        let input = series_batch(&["A"; 120], &hours, &values, &ids);
        let mut ctx = context(NAME);
        let output = stage(1).clean(input, &mut ctx).expect("clean");
        let filled = floats(&output, "value");

        let seasonal_error: f64 = (40..52)
            .map(|hour| (filled[hour].expect("filled") - cycle(hour as i64)).abs())
            .sum::<f64>()
            / 12.0;
        // A straight line from hour 39 to hour 52 misses the cycle by several units.
        let linear_error: f64 = (40..52)
            .map(|hour| {
                let fraction = (hour - 39) as f64 / 13.0;
                let line = cycle(39) + (cycle(52) - cycle(39)) * fraction;
                (line - cycle(hour as i64)).abs()
            })
            .sum::<f64>()
            / 12.0;
        // The trend leaks into the profile of buckets that miss a day, so the fill is not exact.
        assert!(seasonal_error < 1.5, "seasonal error {seasonal_error}");
        assert!(
            linear_error > 4.0 * seasonal_error,
            "linear error {linear_error}"
        );
        assert_eq!(output.issues.len(), 12);
        assert!(
            output.issues.issues()[0]
                .message
                .contains("original value was null")
        );
    }

    #[test]
    fn short_gaps_below_min_gap_stay_null() {
        let ids = RowIdAllocator::default();
        let hours: Vec<i64> = (0..48).collect();
        let mut values: Vec<Option<f64>> = hours.iter().map(|&hour| Some(cycle(hour))).collect();
        values[10] = None;
        let input = series_batch(&["A"; 48], &hours, &values, &ids);
        let output = stage(2).clean(input, &mut context(NAME)).expect("clean");
        assert_eq!(floats(&output, "value")[10], None);
        assert!(output.issues.is_empty());
    }

    /// Builds one series' rows for the hours of `range`, with nulls at the hours in `gap`.
    fn hours_batch(
        range: std::ops::Range<i64>,
        gap: std::ops::Range<i64>,
        ids: &RowIdAllocator,
    ) -> GovernedBatch {
        let hours: Vec<i64> = range.collect();
        let values: Vec<Option<f64>> = hours
            .iter()
            .map(|&hour| (!gap.contains(&hour)).then(|| cycle(hour)))
            .collect();
        series_batch(&vec!["A"; hours.len()], &hours, &values, ids)
    }

    #[test]
    fn gap_across_batches_is_filled() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(1);
        let mut ctx = context(NAME);
        let first = stage
            .clean(hours_batch(0..46, 40..52, &ids), &mut ctx)
            .expect("first");
        // The known value at hour 39 and the six nulls after it wait for the next batch.
        assert_eq!(first.num_rows(), 39);
        assert_eq!(stage.held_rows(), 7);

        let second = stage
            .clean(hours_batch(46..120, 40..52, &ids), &mut ctx)
            .expect("second");
        assert_eq!(second.num_rows(), 81);
        assert_eq!(stage.held_rows(), 0);
        let filled = floats(&second, "value");
        // Row 0 of the second output is hour 39, so hour h sits at position h - 39.
        let error: f64 = (40..52)
            .map(|hour: i64| {
                let value = filled[(hour - 39) as usize].expect("filled");
                (value - cycle(hour)).abs()
            })
            .sum::<f64>()
            / 12.0;
        assert!(error < 1.5, "seasonal error {error}");
        assert_eq!(second.issues.len(), 12);
        assert!(stage.flush(&mut ctx).expect("flush").is_none());
    }

    #[test]
    fn profile_carries_over_batches() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(1);
        let mut ctx = context(NAME);
        stage
            .clean(hours_batch(0..108, 0..0, &ids), &mut ctx)
            .expect("history");
        // Eighteen hours with a ten-hour gap across midnight: too few values for a profile
        // of their own.
        let output = stage
            .clean(hours_batch(108..126, 112..122, &ids), &mut ctx)
            .expect("short batch");
        let filled = floats(&output, "value");
        let error: f64 = (112..122)
            .map(|hour: i64| (filled[(hour - 108) as usize].expect("filled") - cycle(hour)).abs())
            .sum::<f64>()
            / 10.0;
        assert!(error < 1.5, "seasonal error {error}");

        // A new stage has a flat profile and draws a straight line across the gap.
        let mut fresh = SeasonalFill::new(SeasonalFillConfig {
            min_gap: 1,
            ..SeasonalFillConfig::default()
        })
        .expect("valid");
        let alone = fresh
            .clean(hours_batch(108..126, 112..122, &ids), &mut ctx)
            .expect("alone");
        let alone_values = floats(&alone, "value");
        let alone_error: f64 = (112..122)
            .map(|hour: i64| {
                (alone_values[(hour - 108) as usize].expect("filled") - cycle(hour)).abs()
            })
            .sum::<f64>()
            / 10.0;
        assert!(
            alone_error > 2.0 * error,
            "alone {alone_error}, carried {error}"
        );
    }

    #[test]
    fn flush_releases_unclosed_run() {
        let ids = RowIdAllocator::default();
        let mut stage = stage(1);
        let mut ctx = context(NAME);
        let output = stage
            .clean(hours_batch(0..30, 27..30, &ids), &mut ctx)
            .expect("clean");
        assert_eq!(output.num_rows(), 26);
        let flushed = stage.flush(&mut ctx).expect("flush").expect("held rows");
        assert_eq!(flushed.num_rows(), 4);
        assert_eq!(floats(&flushed, "value")[1..], [None, None, None]);
        assert_eq!(stage.held_rows(), 0);
    }

    #[test]
    fn invalid_bounds_are_rejected() {
        let error = SeasonalFill::new(SeasonalFillConfig {
            min_gap: 5,
            max_gap: 2,
            ..SeasonalFillConfig::default()
        })
        .expect_err("min above max");
        assert!(error.to_string().contains("`min_gap` is 5"), "{error}");
        assert!(
            SeasonalFill::new(SeasonalFillConfig {
                buckets: 0,
                ..SeasonalFillConfig::default()
            })
            .is_err()
        );
    }
}
