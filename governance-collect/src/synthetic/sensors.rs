//! Hourly air-quality readings per station, in the column layout of the Beijing multi-site
//! air-quality CSV files, so that one chain config serves both.
//!
//! Units follow those files: every pollutant in ug/m3, CO included. The model is a city-wide
//! pollution episode (smooth noise over about a day and a half, log-normal in level) times a
//! station factor, a daily cycle peaking near midnight, a slower local component and hourly
//! noise. PM10 is PM2.5 times a station's coarse ratio plus a coarse part, so it stays above
//! PM2.5. Traffic gases peak at rush hours and ozone in the afternoon sun.

use std::f64::consts::{PI, TAU};
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use governance_core::Result;
use rand::Rng;

use super::model::{BatchSpan, CityModel, HourStamp};
use super::random::{Stream, batch_rng, gaussian, round_to, smooth_noise};

/// Pollutant columns, in output order.
pub const POLLUTANTS: [&str; 6] = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3"];

/// Index of PM2.5 in [`POLLUTANTS`].
pub(crate) const PM25: usize = 0;
/// Index of PM10 in [`POLLUTANTS`].
pub(crate) const PM10: usize = 1;

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new("year", DataType::Int64, false),
        Field::new("month", DataType::Int64, false),
        Field::new("day", DataType::Int64, false),
        Field::new("hour", DataType::Int64, false),
    ];
    fields.extend(
        POLLUTANTS
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, true)),
    );
    fields.push(Field::new("station", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
});

/// Returns the schema of sensor readings.
pub(crate) fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// One reading before it becomes a row of a record batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SensorRow {
    pub stamp: HourStamp,
    pub station: String,
    pub values: [Option<f64>; 6],
}

/// Generates the clean readings of a batch, ordered by hour and then by station.
pub(crate) fn clean_rows(model: &CityModel, span: &BatchSpan) -> Vec<SensorRow> {
    let mut rng = batch_rng(model.config.seed, Stream::SensorValues, span.index);
    let capacity = (span.hours.end - span.hours.start) as usize * span.stations.len();
    let mut rows = Vec::with_capacity(capacity);
    for hour in span.hours.clone() {
        let stamp = model.stamp(hour);
        for station in span.stations.clone() {
            let values = pollutant_values(model, station, hour, stamp, &mut rng);
            rows.push(SensorRow {
                stamp,
                station: model.stations[station].clone(),
                values: values.map(Some),
            });
        }
    }
    rows
}

fn pollutant_values(
    model: &CityModel,
    station: usize,
    hour: u64,
    stamp: HourStamp,
    rng: &mut impl Rng,
) -> [f64; 6] {
    let seed = model.config.seed;
    let traits = model.traits[station];
    let time = hour as f64;
    let clock = stamp.hour as f64;

    // A median level of 75 ug/m3 with episodes a factor of about 3 up or down.
    let episode = smooth_noise(seed, Stream::Episodes, 0, time, 36.0);
    let local = smooth_noise(seed, Stream::LocalPollution, station as u64, time, 12.0);
    let daily = 1.0 + 0.25 * (TAU * (clock - 23.0) / 24.0).cos();
    let noise = (0.12 * gaussian(rng)).exp();
    let level = 75.0 * (0.75 * episode + 0.25 * local).exp();
    let pm25 = (level * daily * traits.pollution * noise).clamp(3.0, 600.0);

    let coarse = 5.0 + 20.0 * rng.random::<f64>();
    let ratio = (traits.coarse_ratio + 0.1 * gaussian(rng)).max(1.05);
    let pm10 = pm25 * ratio + coarse;

    let so2 = (3.0 + 0.12 * pm25 * traits.industry * (0.2 * gaussian(rng)).exp()).clamp(2.0, 300.0);

    let rush =
        1.0 + 0.35 * ((-(clock - 8.0).powi(2) / 4.0).exp() + (-(clock - 19.0).powi(2) / 6.0).exp());
    let no2 = ((20.0 + 0.35 * pm25) * rush * traits.traffic * (0.15 * gaussian(rng)).exp())
        .clamp(5.0, 280.0);

    let co = (250.0 + 11.0 * pm25 * traits.traffic * (0.15 * gaussian(rng)).exp())
        .clamp(100.0, 10_000.0);

    // Ozone forms in daylight, between about 06:00 and 20:00, and less under heavy haze.
    let sun = if (6.0..=20.0).contains(&clock) {
        (PI * (clock - 6.0) / 14.0).sin()
    } else {
        0.0
    };
    let haze = (1.0 - pm25 / 500.0).max(0.2);
    let o3 = (8.0 + 110.0 * sun * haze * (0.2 * gaussian(rng)).exp() - 0.1 * no2).clamp(2.0, 300.0);

    [
        round_to(pm25, 1),
        round_to(pm10, 1),
        round_to(so2, 1),
        round_to(no2, 1),
        round_to(co, 0),
        round_to(o3, 1),
    ]
}

/// Builds the record batch of `rows`.
pub(crate) fn to_record_batch(rows: &[SensorRow]) -> Result<RecordBatch> {
    let mut calendar: [Int64Builder; 4] =
        std::array::from_fn(|_| Int64Builder::with_capacity(rows.len()));
    let mut pollutants: [Float64Builder; 6] =
        std::array::from_fn(|_| Float64Builder::with_capacity(rows.len()));
    let mut stations = StringBuilder::with_capacity(rows.len(), rows.len() * 12);
    for row in rows {
        let stamp = row.stamp;
        for (builder, value) in
            calendar
                .iter_mut()
                .zip([stamp.year, stamp.month, stamp.day, stamp.hour])
        {
            builder.append_value(value);
        }
        for (builder, value) in pollutants.iter_mut().zip(row.values) {
            builder.append_option(value);
        }
        stations.append_value(&row.station);
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(11);
    columns.extend(
        calendar
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef),
    );
    columns.extend(
        pollutants
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef),
    );
    columns.push(Arc::new(stations.finish()));
    Ok(RecordBatch::try_new(schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::config::SyntheticConfig;

    fn rows() -> Vec<SensorRow> {
        let config = SyntheticConfig {
            days: 14,
            batch_hours: 24 * 14,
            ..SyntheticConfig::default()
        };
        let date = config.validate().expect("valid");
        let model = CityModel::new(config, date);
        clean_rows(&model, &model.span(0))
    }

    #[test]
    fn pm25_stays_below_pm10() {
        for row in rows() {
            let pm25 = row.values[PM25].expect("clean value");
            let pm10 = row.values[PM10].expect("clean value");
            assert!(pm25 < pm10, "{pm25} >= {pm10} at {:?}", row.stamp);
        }
    }

    #[test]
    fn values_fall_in_beijing_ranges() {
        let rows = rows();
        let column = |index: usize| -> Vec<f64> {
            rows.iter()
                .map(|row| row.values[index].expect("clean value"))
                .collect()
        };
        let median = |mut values: Vec<f64>| {
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        let pm25 = column(PM25);
        assert!(pm25.iter().all(|value| (3.0..=600.0).contains(value)));
        let pm25_median = median(pm25);
        assert!(
            (20.0..=200.0).contains(&pm25_median),
            "PM2.5 median {pm25_median}"
        );
        let co_median = median(column(4));
        assert!(
            (200.0..=3000.0).contains(&co_median),
            "CO median {co_median}"
        );
    }

    #[test]
    fn night_is_hazier_than_noon() {
        let rows = rows();
        let mean_at = |hour: i64| {
            let values: Vec<f64> = rows
                .iter()
                .filter(|row| row.stamp.hour == hour)
                .map(|row| row.values[PM25].expect("clean value"))
                .collect();
            values.iter().sum::<f64>() / values.len() as f64
        };
        assert!(mean_at(23) > mean_at(11));
    }

    #[test]
    fn record_batch_has_beijing_layout() {
        let batch = to_record_batch(&rows()).expect("batch");
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "year", "month", "day", "hour", "PM2.5", "PM10", "SO2", "NO2", "CO", "O3",
                "station"
            ]
        );
    }
}
