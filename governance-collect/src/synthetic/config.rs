//! Configuration of the synthetic city: size, time span, batching and error rates.

use chrono::NaiveDate;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Size, time span and error rates of a [`super::SyntheticCity`].
///
/// The number of stations is `scale * stations_per_scale`. A batch covers `batch_hours`
/// consecutive hours of at most `batch_stations` stations, so its size, and the generator's
/// memory, do not grow with `scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    /// Seed of every random choice; the same seed gives the same data and ground truth.
    pub seed: u64,
    /// Multiplier of the number of stations; at least 1.
    pub scale: u32,
    /// Stations per unit of scale.
    pub stations_per_scale: u32,
    /// Length of the generated period in days.
    pub days: u32,
    /// First day of the period, as `YYYY-MM-DD`.
    pub start_date: String,
    /// Hours covered by one batch.
    pub batch_hours: u32,
    /// Stations covered by one batch.
    pub batch_stations: u32,
    /// Mean number of service tickets per station and day.
    pub tickets_per_station_day: f64,
    /// Rates of the errors injected into sensor readings.
    pub errors: ErrorRates,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            seed: 42,
            scale: 1,
            stations_per_scale: 6,
            days: 60,
            start_date: "2013-03-01".into(),
            batch_hours: 168,
            batch_stations: 6,
            tickets_per_station_day: 2.0,
            errors: ErrorRates::default(),
        }
    }
}

/// Per-row probabilities of the errors injected into sensor readings.
///
/// Outliers, swaps and typos exclude each other within a row, so their sum must not exceed 1.
/// Gaps and duplicates avoid cells and rows that already carry an error, so the realised
/// rates come out slightly below the configured ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorRates {
    /// A pollutant value multiplied by a factor between 8 and 15.
    pub outlier: f64,
    /// PM2.5 and PM10 exchanged within a row.
    pub swap: f64,
    /// The row emitted a second time, with its own row id and slightly jittered values.
    pub duplicate: f64,
    /// A letter of the station name transposed, dropped or replaced.
    pub typo: f64,
    /// A run of 1 to 6 hourly nulls starting at the row, in one pollutant column.
    pub gap: f64,
}

impl Default for ErrorRates {
    fn default() -> Self {
        ErrorRates {
            outlier: 0.01,
            swap: 0.005,
            duplicate: 0.005,
            typo: 0.003,
            gap: 0.01,
        }
    }
}

impl ErrorRates {
    /// Rates of zero: clean data.
    pub fn none() -> Self {
        ErrorRates {
            outlier: 0.0,
            swap: 0.0,
            duplicate: 0.0,
            typo: 0.0,
            gap: 0.0,
        }
    }
}

impl SyntheticConfig {
    /// Returns the number of stations.
    pub fn station_count(&self) -> usize {
        self.scale as usize * self.stations_per_scale as usize
    }

    /// Checks the config and returns the parsed start date.
    pub(crate) fn validate(&self) -> Result<NaiveDate> {
        let positive = [
            ("scale", self.scale),
            ("stations_per_scale", self.stations_per_scale),
            ("days", self.days),
            ("batch_hours", self.batch_hours),
            ("batch_stations", self.batch_stations),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(Error::config(
                    "synthetic",
                    format!("`{field}` is 0: use at least 1"),
                ));
            }
        }
        if !(self.tickets_per_station_day.is_finite() && self.tickets_per_station_day >= 0.0) {
            return Err(Error::config(
                "synthetic",
                format!(
                    "`tickets_per_station_day` is {}: use a finite number of at least 0",
                    self.tickets_per_station_day
                ),
            ));
        }
        let rates = [
            ("outlier", self.errors.outlier),
            ("swap", self.errors.swap),
            ("duplicate", self.errors.duplicate),
            ("typo", self.errors.typo),
            ("gap", self.errors.gap),
        ];
        for (field, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::config(
                    "synthetic",
                    format!("`errors.{field}` is {rate}: use a probability between 0 and 1"),
                ));
            }
        }
        let exclusive = self.errors.outlier + self.errors.swap + self.errors.typo;
        if exclusive > 1.0 {
            return Err(Error::config(
                "synthetic",
                format!(
                    "`errors.outlier + errors.swap + errors.typo` is {exclusive}: these exclude \
                     each other within a row, so their sum must be at most 1"
                ),
            ));
        }
        NaiveDate::parse_from_str(&self.start_date, "%Y-%m-%d").map_err(|error| {
            Error::config(
                "synthetic",
                format!(
                    "`start_date` {:?} is not a date ({error}): write it as YYYY-MM-DD",
                    self.start_date
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        let date = SyntheticConfig::default().validate().expect("valid");
        assert_eq!(date.to_string(), "2013-03-01");
    }

    #[test]
    fn zero_scale_is_rejected() {
        let config = SyntheticConfig {
            scale: 0,
            ..SyntheticConfig::default()
        };
        let error = config.validate().expect_err("scale 0");
        assert!(error.to_string().contains("`scale` is 0"));
    }

    #[test]
    fn rate_above_one_is_rejected() {
        let config = SyntheticConfig {
            errors: ErrorRates {
                gap: 1.5,
                ..ErrorRates::default()
            },
            ..SyntheticConfig::default()
        };
        let error = config.validate().expect_err("rate 1.5");
        assert!(error.to_string().contains("errors.gap"));
    }

    #[test]
    fn bad_start_date_is_rejected() {
        let config = SyntheticConfig {
            start_date: "2013-02-30".into(),
            ..SyntheticConfig::default()
        };
        let error = config.validate().expect_err("no such day");
        assert!(error.to_string().contains("\"2013-02-30\""));
    }
}
