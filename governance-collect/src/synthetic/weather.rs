//! Hourly weather per station, with the weather columns and units of the Beijing multi-site
//! air-quality files. Temperature and dew point are in degrees Celsius, pressure in hPa, rain
//! in mm per hour and wind speed in m/s; wind direction is a point of the 16-point compass.
//!
//! A seasonal cycle of Beijing's climate (about -4 C in January, 27 C in July) and a daily
//! cycle peaking at 15:00 are shared by all stations; smooth city-wide noise adds weather
//! systems that last a few days, and each station adds a fixed temperature offset.

use std::f64::consts::TAU;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use governance_core::Result;
use rand::Rng;

use super::model::{BatchSpan, CityModel};
use super::random::{Stream, batch_rng, gaussian, round_to, smooth_noise};

/// Points of the 16-point compass, clockwise from north.
pub const COMPASS: [&str; 16] = [
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW",
    "NNW",
];

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("year", DataType::Int64, false),
        Field::new("month", DataType::Int64, false),
        Field::new("day", DataType::Int64, false),
        Field::new("hour", DataType::Int64, false),
        Field::new("station", DataType::Utf8, false),
        Field::new("TEMP", DataType::Float64, true),
        Field::new("PRES", DataType::Float64, true),
        Field::new("DEWP", DataType::Float64, true),
        Field::new("RAIN", DataType::Float64, true),
        Field::new("wd", DataType::Utf8, true),
        Field::new("WSPM", DataType::Float64, true),
    ]))
});

/// Returns the schema of weather rows.
pub(crate) fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Keys of the city-wide smooth noise fields.
const TEMPERATURE: u64 = 0;
const PRESSURE: u64 = 1;
const HUMIDITY: u64 = 2;
const RAIN: u64 = 3;
const WIND_SPEED: u64 = 4;
const WIND_DIRECTION: u64 = 5;

/// Generates the weather rows of a batch, ordered by hour and then by station.
pub(crate) fn generate(model: &CityModel, span: &BatchSpan) -> Result<RecordBatch> {
    let seed = model.config.seed;
    let mut rng = batch_rng(seed, Stream::Weather, span.index);
    let capacity = (span.hours.end - span.hours.start) as usize * span.stations.len();
    let mut calendar: [Int64Builder; 4] =
        std::array::from_fn(|_| Int64Builder::with_capacity(capacity));
    let mut stations = StringBuilder::with_capacity(capacity, capacity * 12);
    let mut measures: [Float64Builder; 4] =
        std::array::from_fn(|_| Float64Builder::with_capacity(capacity));
    let mut directions = StringBuilder::with_capacity(capacity, capacity * 3);
    let mut speeds = Float64Builder::with_capacity(capacity);

    for hour in span.hours.clone() {
        let stamp = model.stamp(hour);
        let time = hour as f64;
        let field = |key: u64, knot_hours: f64| {
            smooth_noise(seed, Stream::WeatherField, key, time, knot_hours)
        };
        let season = (TAU * (f64::from(stamp.ordinal) - 15.0) / 365.0).cos();
        let daily = (TAU * (stamp.hour as f64 - 15.0) / 24.0).cos();
        let city_temperature = 12.0 - 15.5 * season + 5.0 * daily + 3.0 * field(TEMPERATURE, 72.0);
        // Winter highs push pressure up, summer lows down.
        let pressure = 1013.0 + 12.0 * season + 6.0 * field(PRESSURE, 60.0);
        let spread = 3.0 + 12.0 * (0.5 + 0.5 * field(HUMIDITY, 48.0).tanh());
        let rain_field = field(RAIN, 18.0);
        let wind = field(WIND_SPEED, 24.0);
        let direction = field(WIND_DIRECTION, 30.0);

        for station in span.stations.clone() {
            let traits = model.traits[station];
            let temperature =
                city_temperature + traits.temperature_offset + 0.4 * gaussian(&mut rng);
            let dew_point = temperature - spread - 0.5 * rng.random::<f64>();
            let rain = if rain_field > 1.1 && rng.random_bool(0.7) {
                (rain_field - 1.1) * 6.0 * rng.random::<f64>()
            } else {
                0.0
            };
            let speed =
                (2.0 * (0.45 * wind + 0.15 * gaussian(&mut rng)).exp() * (1.0 + 0.2 * daily))
                    .clamp(0.0, 13.0);
            // One unit of the direction field is half a turn of the wind. The field drifts by
            // about a unit over a few days, so the wind goes round the compass that often.
            let turns = (direction * 0.5 + 0.06 * gaussian(&mut rng)).rem_euclid(1.0);
            let point = ((turns * 16.0).round() as usize) % COMPASS.len();

            for (builder, value) in
                calendar
                    .iter_mut()
                    .zip([stamp.year, stamp.month, stamp.day, stamp.hour])
            {
                builder.append_value(value);
            }
            stations.append_value(&model.stations[station]);
            let values = [
                round_to(temperature, 1),
                round_to(pressure + 0.3 * gaussian(&mut rng), 1),
                round_to(dew_point, 1),
                round_to(rain, 1),
            ];
            for (builder, value) in measures.iter_mut().zip(values) {
                builder.append_value(value);
            }
            directions.append_value(COMPASS[point]);
            speeds.append_value(round_to(speed, 1));
        }
    }

    let mut columns: Vec<ArrayRef> = Vec::with_capacity(11);
    columns.extend(
        calendar
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef),
    );
    columns.push(Arc::new(stations.finish()));
    let [temperature, pressure, dew_point, rain] = &mut measures;
    columns.push(Arc::new(temperature.finish()));
    columns.push(Arc::new(pressure.finish()));
    columns.push(Arc::new(dew_point.finish()));
    columns.push(Arc::new(rain.finish()));
    columns.push(Arc::new(directions.finish()));
    columns.push(Arc::new(speeds.finish()));
    Ok(RecordBatch::try_new(schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::config::SyntheticConfig;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;

    fn batch(start_date: &str) -> RecordBatch {
        let config = SyntheticConfig {
            start_date: start_date.into(),
            days: 7,
            batch_hours: 24 * 7,
            ..SyntheticConfig::default()
        };
        let date = config.validate().expect("valid");
        let model = CityModel::new(config, date);
        generate(&model, &model.span(0)).expect("weather")
    }

    fn mean(batch: &RecordBatch, column: &str) -> f64 {
        let values = batch
            .column_by_name(column)
            .expect("column")
            .as_primitive::<Float64Type>();
        values.values().iter().sum::<f64>() / values.len() as f64
    }

    #[test]
    fn july_is_warmer_than_january() {
        let july = mean(&batch("2014-07-10"), "TEMP");
        let january = mean(&batch("2014-01-10"), "TEMP");
        assert!(july > january + 15.0, "july {july}, january {january}");
    }

    #[test]
    fn dew_point_stays_below_temperature() {
        let batch = batch("2013-03-01");
        let temperature = batch
            .column_by_name("TEMP")
            .expect("TEMP")
            .as_primitive::<Float64Type>();
        let dew_point = batch
            .column_by_name("DEWP")
            .expect("DEWP")
            .as_primitive::<Float64Type>();
        for (temp, dew) in temperature.values().iter().zip(dew_point.values()) {
            assert!(dew < temp, "dew point {dew} >= temperature {temp}");
        }
    }

    #[test]
    fn wind_directions_are_compass_points() {
        let batch = batch("2013-03-01");
        let directions = batch.column_by_name("wd").expect("wd").as_string::<i32>();
        let distinct: std::collections::HashSet<&str> = directions.iter().flatten().collect();
        assert!(distinct.iter().all(|point| COMPASS.contains(point)));
        assert!(distinct.len() >= 3, "{distinct:?}");
        assert_eq!(directions.null_count(), 0);
    }
}
