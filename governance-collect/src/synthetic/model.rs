//! The city's fixed layout: station names, the time axis and the split of the period into
//! batches.

use std::ops::Range;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};

use super::config::SyntheticConfig;
use super::random::{Stream, hash_unit};

/// Station names of the Beijing multi-site air-quality data, reused so that synthetic
/// readings look like the real ones.
const BASE_STATIONS: [&str; 12] = [
    "Aotizhongxin",
    "Changping",
    "Dingling",
    "Dongsi",
    "Guanyuan",
    "Gucheng",
    "Huairou",
    "Nongzhanguan",
    "Shunyi",
    "Tiantan",
    "Wanliu",
    "Wanshouxigong",
];

/// Pinyin directions that name the extra stations of larger cities (`Dongsi-Bei`).
const DIRECTIONS: [&str; 8] = ["", "Bei", "Nan", "Dong", "Xi", "Zhong", "Shang", "Xia"];

/// Returns the name of station `index`: a Beijing station name, then the same names with a
/// direction, then with a number.
pub(crate) fn station_name(index: usize) -> String {
    let base = BASE_STATIONS[index % BASE_STATIONS.len()];
    let round = index / BASE_STATIONS.len();
    match DIRECTIONS.get(round) {
        Some(&"") => base.to_string(),
        Some(direction) => format!("{base}-{direction}"),
        None => format!("{base}-{round}"),
    }
}

/// Calendar fields of one generated hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HourStamp {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    /// Day of the year, from 1.
    pub ordinal: u32,
}

/// Per-station constants that make stations differ in a stable way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StationTraits {
    /// Multiplier of particulate levels, around 1.
    pub pollution: f64,
    /// Ratio of PM10 to PM2.5, above 1.
    pub coarse_ratio: f64,
    /// Multiplier of traffic gases (NO2, CO).
    pub traffic: f64,
    /// Multiplier of SO2 (coal heating, industry).
    pub industry: f64,
    /// Temperature offset in degrees Celsius (altitude, urban heat).
    pub temperature_offset: f64,
}

/// One batch: a window of hours for a group of stations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchSpan {
    pub index: u64,
    /// Hours since the start of the period.
    pub hours: Range<u64>,
    /// Indices into the station list.
    pub stations: Range<usize>,
}

/// The layout every generator shares.
#[derive(Debug, Clone)]
pub(crate) struct CityModel {
    pub config: SyntheticConfig,
    pub stations: Vec<String>,
    pub traits: Vec<StationTraits>,
    start: NaiveDateTime,
    total_hours: u64,
    groups: u64,
}

impl CityModel {
    pub(crate) fn new(config: SyntheticConfig, start_date: NaiveDate) -> Self {
        let count = config.station_count();
        let stations = (0..count).map(station_name).collect();
        let traits = (0..count as u64)
            .map(|index| station_traits(config.seed, index))
            .collect();
        let total_hours = u64::from(config.days) * 24;
        let groups = (count as u64).div_ceil(u64::from(config.batch_stations));
        CityModel {
            stations,
            traits,
            start: start_date.and_time(chrono::NaiveTime::MIN),
            total_hours,
            groups,
            config,
        }
    }

    pub(crate) fn batch_count(&self) -> u64 {
        self.total_hours
            .div_ceil(u64::from(self.config.batch_hours))
            * self.groups
    }

    /// Returns the span of batch `index`. Batches run through the station groups of one
    /// window of hours before moving to the next window, so the stream is ordered by time
    /// window.
    pub(crate) fn span(&self, index: u64) -> BatchSpan {
        let window = index / self.groups;
        let group = (index % self.groups) as usize;
        let batch_hours = u64::from(self.config.batch_hours);
        let batch_stations = self.config.batch_stations as usize;
        let first_hour = window * batch_hours;
        let first_station = group * batch_stations;
        BatchSpan {
            index,
            hours: first_hour..(first_hour + batch_hours).min(self.total_hours),
            stations: first_station..(first_station + batch_stations).min(self.stations.len()),
        }
    }

    /// Returns the most rows a sensor or weather batch has before duplicates are added.
    pub(crate) fn rows_per_batch(&self) -> u64 {
        u64::from(self.config.batch_hours) * u64::from(self.config.batch_stations)
    }

    pub(crate) fn stamp(&self, hour: u64) -> HourStamp {
        let time = self.start + TimeDelta::hours(hour as i64);
        HourStamp {
            year: i64::from(time.year()),
            month: i64::from(time.month()),
            day: i64::from(time.day()),
            hour: i64::from(time.hour()),
            ordinal: time.ordinal(),
        }
    }
}

fn station_traits(seed: u64, index: u64) -> StationTraits {
    let unit = |key: u64| hash_unit(seed, Stream::StationTraits, index, key);
    StationTraits {
        pollution: 0.8 + 0.45 * unit(0),
        coarse_ratio: 1.25 + 0.5 * unit(1),
        traffic: 0.75 + 0.5 * unit(2),
        industry: 0.6 + 0.8 * unit(3),
        temperature_offset: -1.5 + 3.0 * unit(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(config: SyntheticConfig) -> CityModel {
        let date = config.validate().expect("valid");
        CityModel::new(config, date)
    }

    #[test]
    fn station_names_are_unique() {
        let names: Vec<String> = (0..120).map(station_name).collect();
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names[0], "Aotizhongxin");
        assert_eq!(names[15], "Dongsi-Bei");
    }

    #[test]
    fn spans_cover_every_station_hour_once() {
        let city = model(SyntheticConfig {
            scale: 2,
            stations_per_scale: 5,
            days: 3,
            batch_hours: 20,
            batch_stations: 4,
            ..SyntheticConfig::default()
        });
        let mut covered = 0u64;
        for index in 0..city.batch_count() {
            let span = city.span(index);
            covered += (span.hours.end - span.hours.start) * span.stations.len() as u64;
        }
        assert_eq!(covered, 3 * 24 * 10);
    }

    #[test]
    fn stamps_follow_the_calendar() {
        let city = model(SyntheticConfig::default());
        let stamp = city.stamp(24 * 31 + 5);
        assert_eq!(
            (stamp.year, stamp.month, stamp.day, stamp.hour),
            (2013, 4, 1, 5)
        );
    }
}
