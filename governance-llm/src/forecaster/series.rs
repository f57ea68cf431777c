//! The forecaster's input: hourly series, the windows cut from them, and the features of a
//! window.
//!
//! A window ends at its origin, the last hour whose value is known, and the model forecasts
//! the value `horizon` hours later. Its features, in order:
//!
//! 1. the last `lags` values of the target, oldest first, transformed (see
//!    [`TargetTransform`]). A missing lag is filled with the previous known lag in the window,
//!    or with the first known one for leading gaps,
//! 2. the share of missing lags, so the network can discount filled values, then for each
//!    of the layout's `summary_hours` the mean and the maximum of that many last lags
//!    (filled, in model units),
//! 3. calendar features of the forecast time: hour of day, day of week and day of year, each
//!    as a sine and cosine pair,
//! 4. the covariates at the origin (weather, for example), standardised, with 0 for a missing
//!    value, followed by one mask feature per covariate that is 1 where the value is missing,
//! 5. a one-hot code of the series among the series the model was trained on; a series the
//!    model has not seen gets all zeros.
//!
//! A window with more than `max_missing_lags` missing lags gets no features: training counts
//! it as skipped and prediction returns no forecast for it.

use chrono::{DateTime, Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Milliseconds in one hour.
pub const HOUR_MS: i64 = 3_600_000;

/// Calendar features per window: hour of day, day of week and day of year as sine and cosine.
pub(crate) const CALENDAR_FEATURES: usize = 6;

/// One regular hourly series, such as the PM2.5 readings of one station.
#[derive(Debug, Clone, PartialEq)]
pub struct HourlySeries {
    /// Series name, such as a station; the model learns a one-hot code per name.
    pub name: String,
    /// Time of `values[0]`, in milliseconds since 1970-01-01 00:00 of a naive local clock.
    pub start_ms: i64,
    /// Target value of each hour, with `NaN` for a missing hour.
    pub values: Vec<f32>,
    /// Covariate columns, each with one value per hour (`NaN` for missing), in the order of
    /// the covariate names given with the series.
    pub covariates: Vec<Vec<f32>>,
}

impl HourlySeries {
    /// Returns the window that ends at hour `origin`: its lags and the covariates there.
    /// `None` when `origin` is beyond the series or fewer than `lags` hours precede it.
    pub fn window(&self, origin: usize, lags: usize) -> Option<ForecastWindow> {
        if lags == 0 || origin >= self.values.len() || origin + 1 < lags {
            return None;
        }
        Some(ForecastWindow {
            series: self.name.clone(),
            origin_ms: self.start_ms + origin as i64 * HOUR_MS,
            lags: self.values[origin + 1 - lags..=origin].to_vec(),
            covariates: self
                .covariates
                .iter()
                .map(|column| column[origin])
                .collect(),
        })
    }
}

/// Series to train on, with the names of their covariate columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSet {
    /// Names of the covariate columns, in the order every series stores them.
    pub covariate_names: Vec<String>,
    /// The series; names must be unique.
    pub series: Vec<HourlySeries>,
}

impl SeriesSet {
    /// Checks names, lengths and values. `log_transform` rejects negative values, which have
    /// no logarithm.
    pub(crate) fn validate(&self, log_transform: bool) -> Result<()> {
        if self.series.is_empty() {
            return Err(Error::InvalidInput(
                "no series to train on: pass at least one hourly series".into(),
            ));
        }
        for (position, series) in self.series.iter().enumerate() {
            if series.name.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "series {position} has an empty name; name every series"
                )));
            }
            if self.series[..position]
                .iter()
                .any(|other| other.name == series.name)
            {
                return Err(Error::InvalidInput(format!(
                    "two series are named {:?}; merge them or rename one",
                    series.name
                )));
            }
            if series.covariates.len() != self.covariate_names.len() {
                return Err(Error::InvalidInput(format!(
                    "series {:?} has {} covariate columns but {} names were given: [{}]",
                    series.name,
                    series.covariates.len(),
                    self.covariate_names.len(),
                    self.covariate_names.join(", ")
                )));
            }
            for (name, column) in self.covariate_names.iter().zip(&series.covariates) {
                if column.len() != series.values.len() {
                    return Err(Error::InvalidInput(format!(
                        "covariate {name:?} of series {:?} has {} values but the series has {} \
                         hours; give one value per hour, NaN where missing",
                        series.name,
                        column.len(),
                        series.values.len()
                    )));
                }
                if let Some(hour) = column.iter().position(|value| value.is_infinite()) {
                    return Err(Error::InvalidInput(format!(
                        "covariate {name:?} of series {:?} is {} at hour {hour}; use NaN for a \
                         missing value",
                        series.name, column[hour]
                    )));
                }
            }
            check_target(&series.name, &series.values, log_transform)?;
        }
        Ok(())
    }
}

/// Rejects infinite target values, and negative ones under a log transform.
pub(crate) fn check_target(name: &str, values: &[f32], log_transform: bool) -> Result<()> {
    for (hour, &value) in values.iter().enumerate() {
        if value.is_infinite() {
            return Err(Error::InvalidInput(format!(
                "series {name:?} has value {value} at hour {hour}; use NaN for a missing value"
            )));
        }
        if log_transform && value < 0.0 {
            return Err(Error::InvalidInput(format!(
                "series {name:?} has value {value} at hour {hour}, which has no logarithm; \
                 set log_transform to false or fix the value"
            )));
        }
    }
    Ok(())
}

/// The last hours of a series up to a forecast origin, which a trained model turns into a
/// forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastWindow {
    /// Series name, for the one-hot code.
    pub series: String,
    /// Time of the origin, the last hour in `lags`, in milliseconds of a naive local clock.
    pub origin_ms: i64,
    /// Target values of the hours up to the origin, oldest first, `NaN` where missing.
    pub lags: Vec<f32>,
    /// Covariates at the origin, in the model's covariate order, `NaN` where missing.
    pub covariates: Vec<f32>,
}

/// The transform of target values before standardisation: `ln(1 + y)` or the identity, then
/// `(t - mean) / std`. Both steps are increasing, so quantiles map through them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetTransform {
    /// Whether `ln(1 + y)` is applied first.
    pub log: bool,
    /// Mean of the transformed training values.
    pub mean: f32,
    /// Standard deviation of the transformed training values.
    pub std: f32,
}

impl TargetTransform {
    /// Applies only the log step, or nothing.
    pub fn warp(&self, value: f32) -> f32 {
        if self.log { value.ln_1p() } else { value }
    }

    /// Maps a value to model units.
    pub fn forward(&self, value: f32) -> f32 {
        (self.warp(value) - self.mean) / self.std
    }

    /// Maps model units back to the value's unit.
    pub fn inverse(&self, scaled: f32) -> f32 {
        let warped = scaled * self.std + self.mean;
        if self.log { warped.exp_m1() } else { warped }
    }
}

/// Mean and standard deviation per covariate, over observed values; a constant or never
/// observed column gets a standard deviation of 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CovariateScaling {
    /// Mean per covariate.
    pub mean: Vec<f32>,
    /// Standard deviation per covariate.
    pub std: Vec<f32>,
}

/// Everything needed to turn a window into its feature row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureLayout {
    /// Lags per window.
    pub lags: usize,
    /// Hours from origin to forecast time.
    pub horizon: usize,
    /// Most missing lags a window may have and still get features.
    pub max_missing_lags: usize,
    /// The target transform fitted on the training values.
    pub target: TargetTransform,
    /// Covariate names, in input order.
    pub covariate_names: Vec<String>,
    /// Covariate standardisation fitted on the training values.
    pub covariates: CovariateScaling,
    /// Series names of the one-hot code, in code order.
    pub series_names: Vec<String>,
    /// Window lengths, in hours, of the lag means and maxima; each at most `lags`.
    #[serde(default)]
    pub summary_hours: Vec<usize>,
    /// Covariate names of the series set given to training, before derived columns were
    /// appended; empty when equal to `covariate_names`.
    #[serde(default)]
    pub input_covariate_names: Vec<String>,
    /// Whether the network's outputs are changes from the last lag (see
    /// [`FeatureLayout::target_base`]) rather than values.
    #[serde(default)]
    pub residual: bool,
    /// Whether the last feature is the horizon in days, for a model trained on several
    /// horizons.
    #[serde(default)]
    pub horizon_input: bool,
}

impl FeatureLayout {
    /// Returns the number of features per window.
    pub fn width(&self) -> usize {
        self.lags
            + 1
            + 2 * self.summary_hours.len()
            + CALENDAR_FEATURES
            + 2 * self.covariate_names.len()
            + self.series_names.len()
            + usize::from(self.horizon_input)
    }

    /// Returns what the network's outputs for the feature row `row` are added to, in model
    /// units: the row's last lag under a residual target, else 0.
    pub(crate) fn target_base(&self, row: &[f32]) -> f32 {
        if self.residual {
            row.get(self.lags.saturating_sub(1)).copied().unwrap_or(0.0)
        } else {
            0.0
        }
    }

    /// Returns the feature names, in order.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..self.lags)
            .map(|lag| format!("lag_{}", self.lags - lag - 1))
            .collect();
        names.push("missing_lag_share".into());
        for hours in &self.summary_hours {
            names.push(format!("lag_mean_{hours}h"));
            names.push(format!("lag_max_{hours}h"));
        }
        for part in ["hour", "weekday", "yearday"] {
            names.push(format!("{part}_sin"));
            names.push(format!("{part}_cos"));
        }
        names.extend(self.covariate_names.iter().cloned());
        names.extend(
            self.covariate_names
                .iter()
                .map(|name| format!("{name}_missing")),
        );
        names.extend(
            self.series_names
                .iter()
                .map(|name| format!("series={name}")),
        );
        if self.horizon_input {
            names.push("horizon_days".into());
        }
        names
    }

    /// Appends the features of `window` to `out` and returns true, or returns false (and
    /// appends nothing) when it has more than `max_missing_lags` missing lags. The window's
    /// lag and covariate counts must match the layout.
    pub(crate) fn encode(&self, window: &ForecastWindow, out: &mut Vec<f32>) -> bool {
        self.encode_at(window, self.horizon, out)
    }

    /// Appends the features of `window` for a forecast `horizon` hours after its origin; see
    /// [`FeatureLayout::encode`].
    pub(crate) fn encode_at(
        &self,
        window: &ForecastWindow,
        horizon: usize,
        out: &mut Vec<f32>,
    ) -> bool {
        let missing = window.lags.iter().filter(|value| value.is_nan()).count();
        if missing > self.max_missing_lags || missing == window.lags.len() {
            return false;
        }
        let first_known = window
            .lags
            .iter()
            .copied()
            .find(|value| !value.is_nan())
            .unwrap_or(0.0);
        let mut previous = self.target.forward(first_known);
        let start = out.len();
        for &value in &window.lags {
            if !value.is_nan() {
                previous = self.target.forward(value);
            }
            out.push(previous);
        }
        out.push(missing as f32 / window.lags.len() as f32);
        for &hours in &self.summary_hours {
            let filled = &out[start..start + self.lags];
            let recent = &filled[self.lags - hours.clamp(1, self.lags)..];
            let mean = recent.iter().sum::<f32>() / recent.len() as f32;
            let max = recent.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            out.push(mean);
            out.push(max);
        }

        let target_ms = window.origin_ms + horizon as i64 * HOUR_MS;
        out.extend_from_slice(&calendar_features(target_ms));

        for (position, &value) in window.covariates.iter().enumerate() {
            out.push(if value.is_nan() {
                0.0
            } else {
                (value - self.covariates.mean[position]) / self.covariates.std[position]
            });
        }
        out.extend(
            window
                .covariates
                .iter()
                .map(|value| if value.is_nan() { 1.0 } else { 0.0 }),
        );
        out.extend(
            self.series_names
                .iter()
                .map(|name| if *name == window.series { 1.0 } else { 0.0 }),
        );
        if self.horizon_input {
            out.push(horizon as f32 / 24.0);
        }
        true
    }
}

/// Returns sine and cosine of hour of day, day of week and day of year of `time_ms`.
fn calendar_features(time_ms: i64) -> [f32; CALENDAR_FEATURES] {
    use std::f32::consts::TAU;
    let Some(time) = DateTime::from_timestamp_millis(time_ms) else {
        return [0.0; CALENDAR_FEATURES];
    };
    let hour = time.hour() as f32 / 24.0;
    let weekday = time.weekday().num_days_from_monday() as f32 / 7.0;
    let yearday = time.ordinal0() as f32 / 365.25;
    [
        (TAU * hour).sin(),
        (TAU * hour).cos(),
        (TAU * weekday).sin(),
        (TAU * weekday).cos(),
        (TAU * yearday).sin(),
        (TAU * yearday).cos(),
    ]
}

/// Fits mean and standard deviation over the finite values; 0 and 1 when none is finite.
pub(crate) fn mean_std(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let (mut count, mut sum, mut squares) = (0.0f64, 0.0f64, 0.0f64);
    for value in values.filter(|value| value.is_finite()) {
        count += 1.0;
        sum += f64::from(value);
        squares += f64::from(value) * f64::from(value);
    }
    if count == 0.0 {
        return (0.0, 1.0);
    }
    let mean = sum / count;
    let variance = (squares / count - mean * mean).max(0.0);
    let std = variance.sqrt();
    (mean as f32, if std > 1e-6 { std as f32 } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(max_missing_lags: usize) -> FeatureLayout {
        FeatureLayout {
            lags: 4,
            horizon: 2,
            max_missing_lags,
            target: TargetTransform {
                log: false,
                mean: 0.0,
                std: 1.0,
            },
            covariate_names: vec!["temp".into()],
            covariates: CovariateScaling {
                mean: vec![10.0],
                std: vec![2.0],
            },
            series_names: vec!["a".into(), "b".into()],
            summary_hours: Vec::new(),
            input_covariate_names: Vec::new(),
            residual: false,
            horizon_input: false,
        }
    }

    #[test]
    fn encode_fills_gaps_and_marks_them() {
        let layout = layout(2);
        let window = ForecastWindow {
            series: "b".into(),
            origin_ms: 0,
            lags: vec![f32::NAN, 1.0, f32::NAN, 3.0],
            covariates: vec![f32::NAN],
        };
        let mut row = Vec::new();
        assert!(layout.encode(&window, &mut row));
        assert_eq!(row.len(), layout.width());
        assert_eq!(&row[..4], &[1.0, 1.0, 1.0, 3.0]);
        assert_eq!(row[4], 0.5);
        // Forecast time 02:00 on a Thursday.
        let hour = std::f32::consts::TAU * 2.0 / 24.0;
        assert!((row[5] - hour.sin()).abs() < 1e-6);
        assert_eq!(row[11], 0.0, "missing covariate is imputed with the mean");
        assert_eq!(row[12], 1.0, "and marked missing");
        assert_eq!(&row[13..], &[0.0, 1.0]);
        assert_eq!(layout.feature_names().len(), layout.width());
    }

    #[test]
    fn encode_summarises_recent_lags() {
        let mut layout = layout(2);
        layout.summary_hours = vec![2, 4];
        let window = ForecastWindow {
            series: "a".into(),
            origin_ms: 0,
            lags: vec![8.0, 1.0, f32::NAN, 3.0],
            covariates: vec![10.0],
        };
        let mut row = Vec::new();
        assert!(layout.encode(&window, &mut row));
        assert_eq!(row.len(), layout.width());
        assert_eq!(layout.feature_names()[5], "lag_mean_2h");
        assert_eq!(&row[5..9], &[2.0, 3.0, 3.25, 8.0]);
    }

    #[test]
    fn encode_skips_windows_with_many_gaps() {
        let layout = layout(1);
        let window = ForecastWindow {
            series: "a".into(),
            origin_ms: 0,
            lags: vec![f32::NAN, 1.0, f32::NAN, 3.0],
            covariates: vec![12.0],
        };
        let mut row = Vec::new();
        assert!(!layout.encode(&window, &mut row));
        assert!(row.is_empty());
    }

    #[test]
    fn log_transform_round_trips() {
        let transform = TargetTransform {
            log: true,
            mean: 3.0,
            std: 1.5,
        };
        for value in [0.0f32, 2.5, 80.0, 600.0] {
            let back = transform.inverse(transform.forward(value));
            assert!(
                (back - value).abs() < 1e-3 * value.max(1.0),
                "{value} -> {back}"
            );
        }
    }

    #[test]
    fn window_cuts_lags_and_covariates() {
        let series = HourlySeries {
            name: "s".into(),
            start_ms: 10 * HOUR_MS,
            values: vec![1.0, 2.0, 3.0, 4.0],
            covariates: vec![vec![5.0, 6.0, 7.0, 8.0]],
        };
        let window = series.window(3, 2).expect("enough history");
        assert_eq!(window.lags, vec![3.0, 4.0]);
        assert_eq!(window.covariates, vec![8.0]);
        assert_eq!(window.origin_ms, 13 * HOUR_MS);
        assert!(series.window(0, 2).is_none());
        assert!(series.window(4, 2).is_none());
    }
}
