//! Covariates derived from a whole series set before windows are cut: changes and trailing
//! means of each covariate over a few hours, the targets of the other series at the same
//! hour, and daily means of the series' own target.
//!
//! A window carries covariates only at its origin, so anything the model should know about
//! earlier hours or about other series enters as an extra covariate column computed here.
//! Every derived value uses only hours up to the one it belongs to, so a window's features
//! never see past its origin.

use serde::{Deserialize, Serialize};

use super::series::{HOUR_MS, HourlySeries, SeriesSet};
use super::upwind::UpwindMean;
use crate::{Error, Result};

/// Covariate columns the forecaster derives from the series set; everything is off by
/// default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DerivedCovariates {
    /// For each given covariate column and each hour count `h` here, adds the column
    /// `{name}_change_{h}h`: the value at the hour minus the value `h` hours earlier (a
    /// pressure tendency, for example). Empty: no changes.
    pub change_hours: Vec<usize>,
    /// Names of the covariates that get change columns; empty means every given covariate.
    pub change_columns: Vec<String>,
    /// Adds one column per series, `target[{name}]`, holding that series' target at the same
    /// hour (under the log transform, `ln(1 + y)`), so every series sees every other one.
    /// The series of a set are aligned on their clocks; an hour a series does not cover is
    /// missing.
    pub cross_series_targets: bool,
    /// Adds `target[mean]`, the mean over the series of the (log-transformed) target at the
    /// same hour, over the series with a known value.
    pub cross_series_mean: bool,
    /// Hours before the hour at which the cross-series columns are also added, as
    /// `target[{name}]_{h}h`; used only when one of the two switches above is on.
    pub cross_series_lag_hours: Vec<usize>,
    /// Adds `target[upwind]`, the weighted mean (log-transformed) target of the series
    /// upwind of each series at the same hour. See [`UpwindMean`].
    pub upwind: Option<UpwindMean>,
    /// For each covariate that gets changes (see `change_columns`) and each hour count `h`
    /// here, adds `{name}_mean_{h}h`: the mean of the known values over the `h` hours up to
    /// and including the hour, missing when none is known. Empty: none.
    #[serde(default)]
    pub mean_hours: Vec<usize>,
    /// Adds `target_day_{d}` for each `d` from 1 to this count: the mean (log-transformed)
    /// target of the series itself over the 24 hours that end `24 * (d - 1)` hours before
    /// the hour, missing when none is known. 0: none.
    #[serde(default)]
    pub target_day_means: usize,
}

impl DerivedCovariates {
    /// Returns whether nothing is derived.
    pub fn is_empty(&self) -> bool {
        self.change_hours.is_empty()
            && !self.cross_series_targets
            && !self.cross_series_mean
            && self.upwind.is_none()
            && self.mean_hours.is_empty()
            && self.target_day_means == 0
    }

    /// Checks the settings against the covariate names of a set.
    pub(crate) fn validate(&self, covariate_names: &[String]) -> Result<()> {
        if self.change_hours.contains(&0)
            || self.cross_series_lag_hours.contains(&0)
            || self.mean_hours.contains(&0)
        {
            return Err(Error::Config(
                "change_hours, cross_series_lag_hours and mean_hours must hold hour counts of \
                 at least 1"
                    .into(),
            ));
        }
        if let Some(upwind) = &self.upwind {
            upwind.validate(covariate_names)?;
        }
        for name in &self.change_columns {
            if !covariate_names.contains(name) {
                return Err(Error::Config(format!(
                    "change_columns names {name:?}, which is not a covariate; the covariates \
                     are [{}]",
                    covariate_names.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Returns a copy of `data` with the derived columns appended to every series, in this
    /// order: the changes (per column, then per hour count), the per-series targets, the
    /// mean, the lagged cross-series columns (per hour count), the upwind mean, the trailing
    /// covariate means (per column, then per hour count), then the daily target means.
    ///
    /// `series_names` fixes the cross-series columns; a name missing from `data` gives a
    /// column of missing values. `log` applies `ln(1 + y)` to the cross-series targets.
    ///
    /// # Errors
    /// Invalid settings (see [`DerivedCovariates::validate`]).
    pub(crate) fn apply(
        &self,
        data: &SeriesSet,
        series_names: &[String],
        log: bool,
    ) -> Result<SeriesSet> {
        self.validate(&data.covariate_names)?;
        if self.is_empty() {
            return Ok(data.clone());
        }
        let mut names = data.covariate_names.clone();
        let changed: Vec<usize> = (0..data.covariate_names.len())
            .filter(|&column| {
                self.change_columns.is_empty()
                    || self.change_columns.contains(&data.covariate_names[column])
            })
            .collect();
        for &column in &changed {
            for hours in &self.change_hours {
                names.push(format!("{}_change_{hours}h", data.covariate_names[column]));
            }
        }
        let cross = self.cross_columns(data, series_names, log);
        let cross_names = self.cross_names(series_names);
        let mut lags = vec![0];
        lags.extend(&self.cross_series_lag_hours);
        for lag in &lags {
            for name in &cross_names {
                names.push(if *lag == 0 {
                    name.clone()
                } else {
                    format!("{name}_{lag}h")
                });
            }
        }
        let mut upwind = match &self.upwind {
            Some(upwind) => {
                names.push("target[upwind]".into());
                let warp = |value: f32| if log { value.ln_1p() } else { value };
                upwind.columns(data, warp)
            }
            None => Vec::new(),
        }
        .into_iter();
        for &column in &changed {
            for hours in &self.mean_hours {
                names.push(format!("{}_mean_{hours}h", data.covariate_names[column]));
            }
        }
        names.extend((1..=self.target_day_means).map(|day| format!("target_day_{day}")));

        let mut series = Vec::with_capacity(data.series.len());
        for one in &data.series {
            let mut covariates = one.covariates.clone();
            for &column in &changed {
                let values = &one.covariates[column];
                for &hours in &self.change_hours {
                    covariates.push(
                        (0..values.len())
                            .map(|hour| {
                                if hour < hours {
                                    f32::NAN
                                } else {
                                    values[hour] - values[hour - hours]
                                }
                            })
                            .collect(),
                    );
                }
            }
            let first_hour = one.start_ms.div_euclid(HOUR_MS);
            for &lag in &lags {
                for column in &cross.columns {
                    covariates.push(
                        (0..one.values.len() as i64)
                            .map(|hour| column.at(first_hour + hour - lag as i64))
                            .collect(),
                    );
                }
            }
            if let Some(column) = upwind.next() {
                covariates.push(column);
            }
            for &column in &changed {
                for &hours in &self.mean_hours {
                    covariates.push(trailing_means(&one.covariates[column], hours, 0));
                }
            }
            if self.target_day_means > 0 {
                let warped: Vec<f32> = one
                    .values
                    .iter()
                    .map(|&value| if log { value.ln_1p() } else { value })
                    .collect();
                for day in 1..=self.target_day_means {
                    covariates.push(trailing_means(&warped, 24, 24 * (day - 1)));
                }
            }
            series.push(HourlySeries {
                name: one.name.clone(),
                start_ms: one.start_ms,
                values: one.values.clone(),
                covariates,
            });
        }
        Ok(SeriesSet {
            covariate_names: names,
            series,
        })
    }

    fn cross_names(&self, series_names: &[String]) -> Vec<String> {
        let mut names = Vec::new();
        if self.cross_series_targets {
            names.extend(series_names.iter().map(|name| format!("target[{name}]")));
        }
        if self.cross_series_mean {
            names.push("target[mean]".into());
        }
        names
    }

    /// Builds the cross-series columns on one clock covering every series of `data`.
    fn cross_columns(&self, data: &SeriesSet, series_names: &[String], log: bool) -> CrossColumns {
        let mut result = CrossColumns {
            columns: Vec::new(),
        };
        if !self.cross_series_targets && !self.cross_series_mean {
            return result;
        }
        let spans = data.series.iter().map(|one| {
            let first = one.start_ms.div_euclid(HOUR_MS);
            (first, first + one.values.len() as i64)
        });
        let (first, end) = spans.fold((i64::MAX, i64::MIN), |(low, high), (start, stop)| {
            (low.min(start), high.max(stop))
        });
        let length = usize::try_from(end - first).unwrap_or(0);
        let warp = |value: f32| if log { value.ln_1p() } else { value };
        let aligned = |one: &HourlySeries| {
            let mut column = vec![f32::NAN; length];
            let offset = (one.start_ms.div_euclid(HOUR_MS) - first) as usize;
            for (hour, &value) in one.values.iter().enumerate() {
                column[offset + hour] = warp(value);
            }
            column
        };
        if self.cross_series_targets {
            for name in series_names {
                let values = data
                    .series
                    .iter()
                    .find(|one| one.name == *name)
                    .map_or_else(|| vec![f32::NAN; length], aligned);
                result.columns.push(AlignedColumn { first, values });
            }
        }
        if self.cross_series_mean {
            let (mut sums, mut counts) = (vec![0.0f64; length], vec![0u32; length]);
            for one in &data.series {
                for (hour, value) in aligned(one).into_iter().enumerate() {
                    if !value.is_nan() {
                        sums[hour] += f64::from(value);
                        counts[hour] += 1;
                    }
                }
            }
            let values = sums
                .iter()
                .zip(&counts)
                .map(|(&sum, &count)| {
                    if count == 0 {
                        f32::NAN
                    } else {
                        (sum / f64::from(count)) as f32
                    }
                })
                .collect();
            result.columns.push(AlignedColumn { first, values });
        }
        result
    }
}

/// Returns, for each hour `t`, the mean of the known `values` over the `hours` hours that end
/// `offset` hours before `t`, so `offset` 0 includes `t`. An hour with no known value in its
/// span gets `NaN`.
fn trailing_means(values: &[f32], hours: usize, offset: usize) -> Vec<f32> {
    let mut sums = Vec::with_capacity(values.len() + 1);
    let mut counts = Vec::with_capacity(values.len() + 1);
    let (mut sum, mut count) = (0.0f64, 0u32);
    sums.push(sum);
    counts.push(count);
    for &value in values {
        if !value.is_nan() {
            sum += f64::from(value);
            count += 1;
        }
        sums.push(sum);
        counts.push(count);
    }
    (0..values.len())
        .map(|hour| {
            // The span is hours `hour + 1 - offset - hours ..= hour - offset`, as prefix
            // indices `start..end`.
            let Some(end) = (hour + 1).checked_sub(offset) else {
                return f32::NAN;
            };
            let start = end.saturating_sub(hours);
            let known = counts[end] - counts[start];
            if known == 0 {
                f32::NAN
            } else {
                ((sums[end] - sums[start]) / f64::from(known)) as f32
            }
        })
        .collect()
}

/// Cross-series columns on a shared hourly clock.
struct CrossColumns {
    columns: Vec<AlignedColumn>,
}

/// One column whose first value is at hour `first` (hours since 1970 on the naive clock).
struct AlignedColumn {
    first: i64,
    values: Vec<f32>,
}

impl AlignedColumn {
    /// Returns the value at an absolute hour, `NaN` outside the column.
    fn at(&self, hour: i64) -> f32 {
        usize::try_from(hour - self.first)
            .ok()
            .and_then(|index| self.values.get(index).copied())
            .unwrap_or(f32::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> SeriesSet {
        SeriesSet {
            covariate_names: vec!["pres".into()],
            series: vec![
                HourlySeries {
                    name: "a".into(),
                    start_ms: 0,
                    values: vec![1.0, 2.0, 3.0],
                    covariates: vec![vec![1000.0, 1002.0, 1005.0]],
                },
                HourlySeries {
                    name: "b".into(),
                    start_ms: HOUR_MS,
                    values: vec![5.0, f32::NAN, 9.0],
                    covariates: vec![vec![990.0, 991.0, 993.0]],
                },
            ],
        }
    }

    #[test]
    fn changes_use_earlier_hours_only() {
        let derived = DerivedCovariates {
            change_hours: vec![1, 2],
            ..DerivedCovariates::default()
        };
        let names = vec!["a".to_string(), "b".to_string()];
        let out = derived.apply(&set(), &names, false).expect("derive");
        assert_eq!(
            out.covariate_names,
            vec!["pres", "pres_change_1h", "pres_change_2h"]
        );
        let a = &out.series[0].covariates;
        assert!(a[1][0].is_nan());
        assert_eq!(&a[1][1..], &[2.0, 3.0]);
        assert!(a[2][1].is_nan());
        assert_eq!(a[2][2], 5.0);
    }

    #[test]
    fn cross_series_aligns_clocks() {
        let derived = DerivedCovariates {
            cross_series_targets: true,
            cross_series_mean: true,
            cross_series_lag_hours: vec![1],
            ..DerivedCovariates::default()
        };
        let names = vec!["a".to_string(), "b".to_string()];
        let out = derived.apply(&set(), &names, false).expect("derive");
        assert_eq!(
            out.covariate_names,
            vec![
                "pres",
                "target[a]",
                "target[b]",
                "target[mean]",
                "target[a]_1h",
                "target[b]_1h",
                "target[mean]_1h"
            ]
        );
        // Series b starts one hour after a: its hour 0 is a's hour 1.
        let b = &out.series[1].covariates;
        assert_eq!(b[1][0], 2.0, "a's value at b's first hour");
        assert_eq!(b[2][0], 5.0);
        assert_eq!(b[3][0], 3.5, "mean of 2 and 5");
        assert_eq!(b[3][1], 3.0, "b is missing, so the mean is a's value");
        assert_eq!(b[4][0], 1.0, "a one hour earlier");
        assert!(b[5][0].is_nan(), "b has no hour before its start");
    }

    #[test]
    fn trailing_means_skip_missing_and_future_hours() {
        let values = [1.0, f32::NAN, 3.0, 5.0, 7.0];
        let means = trailing_means(&values, 2, 0);
        assert_eq!(means[0], 1.0);
        assert_eq!(means[1], 1.0, "the missing hour is left out");
        assert_eq!(means[2], 3.0);
        assert_eq!(means[4], 6.0);
        let shifted = trailing_means(&values, 2, 2);
        assert!(
            shifted[0].is_nan(),
            "no hour ends two hours before the first"
        );
        assert!(shifted[1].is_nan());
        assert_eq!(shifted[2], 1.0);
        assert_eq!(shifted[4], 3.0, "hours 1 and 2, of which 2 is known");
    }

    #[test]
    fn means_and_day_means_are_appended() {
        let derived = DerivedCovariates {
            mean_hours: vec![2],
            target_day_means: 1,
            ..DerivedCovariates::default()
        };
        let names = vec!["a".to_string(), "b".to_string()];
        let out = derived.apply(&set(), &names, false).expect("derive");
        assert_eq!(
            out.covariate_names,
            vec!["pres", "pres_mean_2h", "target_day_1"]
        );
        let a = &out.series[0].covariates;
        assert_eq!(a[1], vec![1000.0, 1001.0, 1003.5]);
        assert_eq!(a[2], vec![1.0, 1.5, 2.0], "mean of up to 24 earlier values");
        let b = &out.series[1].covariates;
        assert_eq!(b[2], vec![5.0, 5.0, 7.0], "the missing value is left out");
    }

    #[test]
    fn unknown_change_column_is_rejected() {
        let derived = DerivedCovariates {
            change_hours: vec![3],
            change_columns: vec!["wind".into()],
            ..DerivedCovariates::default()
        };
        let error = derived
            .apply(&set(), &[], false)
            .expect_err("unknown column");
        assert!(error.to_string().contains("wind"), "{error}");
    }
}
