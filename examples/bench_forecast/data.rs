//! Loading of the two data sets into regular hourly series, through the SDK's CSV collector
//! and cleaners.
//!
//! - Beijing: the twelve station files are read with declared column types, `Canonicalise`
//!   builds `timestamp` from year, month, day and hour, and `Dedupe` merges repeated
//!   (station, hour) keys, keeping the first row.
//! - I-94: `timestamp` is parsed from `date_time`, and `Dedupe` on `timestamp` merges the
//!   repeated hours, keeping the first row's traffic volume. The file lists one row per
//!   weather condition of an hour, so an hour with two conditions appears twice.
//!
//! Each series then runs from its first to its last hour: an hour without a row, or with a
//! null value, is `NaN`. Values outside physical limits (I-94 temperatures below 200 K, rain
//! above 100 mm/h) become `NaN` too. Every such replacement is counted in
//! [`Dataset::notes`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit, TimestampMillisecondType};
use governance::audit::AuditLog;
use governance::clean::{Canonicalise, CanonicaliseConfig, Dedupe, DedupeConfig};
use governance::collect::{ColumnSpec, CsvCollector, CsvConfig, CsvType};
use governance::llm::HourlySeries;
use governance::llm::forecaster::{HOUR_MS, SeriesPosition, UpwindMean};
use governance::{Cleaner, Collector, Error, GovernedBatch, Result, StageContext};

/// Hourly series of one data set, ready for the forecaster.
pub struct Dataset {
    /// Target column name, for the report.
    pub target: String,
    /// Covariate names, in the order each series stores them.
    pub covariate_names: Vec<String>,
    /// One series per station or road.
    pub series: Vec<HourlySeries>,
    /// Counts of what loading changed or merged, for the report.
    pub notes: Vec<String>,
}

/// Weather columns of the Beijing files used as covariates, besides the wind vector.
const BEIJING_WEATHER: [&str; 5] = ["TEMP", "PRES", "DEWP", "RAIN", "WSPM"];

/// Pollutant columns of the Beijing files that `extra` adds as covariates at the origin.
const BEIJING_POLLUTANTS: [&str; 3] = ["PM10", "CO", "NO2"];

/// The 16 compass points of the Beijing `wd` column, clockwise from north.
const COMPASS: [&str; 16] = [
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW",
    "NNW",
];

/// Positions of the twelve Beijing stations (latitude, longitude in degrees).
///
/// NOTE: approximate, to about 0.01 degree, and not checked against the monitoring
/// network's official list. The upwind weights need only the rough bearings between stations.
const BEIJING_POSITIONS: [(&str, f64, f64); 12] = [
    ("Aotizhongxin", 39.982, 116.397),
    ("Changping", 40.217, 116.230),
    ("Dingling", 40.292, 116.220),
    ("Dongsi", 39.929, 116.417),
    ("Guanyuan", 39.929, 116.339),
    ("Gucheng", 39.914, 116.184),
    ("Huairou", 40.328, 116.628),
    ("Nongzhanguan", 39.937, 116.461),
    ("Shunyi", 40.127, 116.655),
    ("Tiantan", 39.886, 116.407),
    ("Wanliu", 39.987, 116.287),
    ("Wanshouxigong", 39.878, 116.352),
];

/// Returns the upwind-mean settings for the Beijing series: the station positions and the
/// wind vector columns that [`beijing`] builds.
pub fn beijing_upwind() -> UpwindMean {
    UpwindMean {
        positions: BEIJING_POSITIONS
            .iter()
            .map(|&(name, latitude, longitude)| SeriesPosition {
                name: name.into(),
                latitude,
                longitude,
            })
            .collect(),
        wind_from_east: "wind_from_sin".into(),
        wind_from_north: "wind_from_cos".into(),
    }
}

/// Reads every batch of `collector` and passes it through `cleaners` in order, flushing each.
fn collect_clean(
    mut collector: impl Collector,
    cleaners: &mut [&mut dyn Cleaner],
    notes: &mut Vec<String>,
) -> Result<Vec<GovernedBatch>> {
    let audit = AuditLog::in_memory().into_handle();
    let mut ctx = StageContext::new("bench_forecast", 1, audit);
    collector.start(&mut ctx)?;
    let mut batches = Vec::new();
    while let Some(mut batch) = collector.next_batch(&mut ctx)? {
        for cleaner in cleaners.iter_mut() {
            batch = cleaner.clean(batch, &mut ctx)?;
        }
        batches.push(batch);
    }
    for cleaner in cleaners.iter_mut() {
        if let Some(rest) = cleaner.flush(&mut ctx)? {
            batches.push(rest);
        }
    }
    let quarantined = ctx.take_quarantined();
    notes.push(format!(
        "{} rows read, {} quarantined, {} merged as repeated keys",
        ctx.rows_read(),
        quarantined.len(),
        ctx.rows_merged()
    ));
    Ok(batches)
}

/// Returns the relative humidity in percent from temperature and dew point in °C, by the
/// Magnus formula with the coefficients of Alduchov and Eskridge (1996).
fn relative_humidity(temperature: f32, dew_point: f32) -> f32 {
    let saturation = |celsius: f32| (17.625 * celsius / (243.04 + celsius)).exp();
    (100.0 * saturation(dew_point) / saturation(temperature)).min(100.0)
}

/// Loads the Beijing multi-site folder: PM2.5 per station, with weather covariates. `extra`
/// adds the relative humidity and the station's PM10, CO and NO2.
pub fn beijing(dir: &Path, extra: bool) -> Result<Dataset> {
    let mut config = CsvConfig::from_dir(dir);
    config.name = "beijing_csv".into();
    let mut columns: Vec<String> = ["year", "month", "day", "hour", "PM2.5", "wd", "station"]
        .map(String::from)
        .to_vec();
    columns.extend(BEIJING_WEATHER.map(String::from));
    columns.extend(BEIJING_POLLUTANTS.map(String::from));
    config.columns = Some(columns);
    let mut schema: Vec<ColumnSpec> = ["year", "month", "day", "hour"]
        .into_iter()
        .map(|name| ColumnSpec::new(name, CsvType::Int64))
        .collect();
    schema.push(ColumnSpec::new("PM2.5", CsvType::Float64));
    schema.extend(
        BEIJING_WEATHER
            .into_iter()
            .chain(BEIJING_POLLUTANTS)
            .map(|name| ColumnSpec::new(name, CsvType::Float64)),
    );
    schema.push(ColumnSpec::new("wd", CsvType::Utf8));
    schema.push(ColumnSpec::new("station", CsvType::Utf8));
    config.schema = Some(schema);
    let collector = CsvCollector::new(config)?;

    let mut numeric: Vec<String> = vec!["PM2.5".into()];
    numeric.extend(BEIJING_WEATHER.map(String::from));
    numeric.extend(BEIJING_POLLUTANTS.map(String::from));
    let mut canonical = Canonicalise::new(CanonicaliseConfig {
        numeric,
        ..CanonicaliseConfig::hourly_air_quality()
    })?;
    let mut dedupe = Dedupe::new(DedupeConfig::default())?;
    let mut notes = Vec::new();
    let batches = collect_clean(collector, &mut [&mut canonical, &mut dedupe], &mut notes)?;

    let mut covariate_names: Vec<String> = BEIJING_WEATHER.map(String::from).to_vec();
    covariate_names.extend(["wind_from_sin".to_string(), "wind_from_cos".to_string()]);
    if extra {
        covariate_names.push("RH".into());
        covariate_names.extend(BEIJING_POLLUTANTS.map(String::from));
    }
    let mut hours: BTreeMap<String, BTreeMap<i64, Vec<f32>>> = BTreeMap::new();
    let (mut unknown_direction, mut without_time) = (0usize, 0usize);
    for batch in &batches {
        let data = batch.data();
        let times = timestamps(data, "timestamp")?;
        let stations = data
            .column_by_name("station")
            .ok_or_else(|| missing("station"))?
            .as_string::<i32>();
        let directions = data
            .column_by_name("wd")
            .ok_or_else(|| missing("wd"))?
            .as_string::<i32>();
        let target = floats(data, "PM2.5")?;
        let weather: Vec<Vec<f32>> = BEIJING_WEATHER
            .iter()
            .map(|name| floats(data, name))
            .collect::<Result<_>>()?;
        let speed = floats(data, "WSPM")?;
        let pollutants: Vec<Vec<f32>> = BEIJING_POLLUTANTS
            .iter()
            .map(|name| floats(data, name))
            .collect::<Result<_>>()?;
        for row in 0..data.num_rows() {
            let (Some(time), false) = (times[row], stations.is_null(row)) else {
                without_time += 1;
                continue;
            };
            let mut values = vec![target[row]];
            values.extend(weather.iter().map(|column| column[row]));
            let angle = if directions.is_null(row) {
                None
            } else {
                COMPASS
                    .iter()
                    .position(|point| *point == directions.value(row))
                    .map(|index| (index as f32 * 22.5).to_radians())
            };
            match angle {
                Some(angle) => {
                    values.push(speed[row] * angle.sin());
                    values.push(speed[row] * angle.cos());
                }
                None => {
                    unknown_direction += 1;
                    values.extend([f32::NAN, f32::NAN]);
                }
            }
            if extra {
                // TEMP and DEWP are the first and third weather columns.
                values.push(relative_humidity(weather[0][row], weather[2][row]));
                values.extend(pollutants.iter().map(|column| column[row]));
            }
            hours
                .entry(stations.value(row).to_string())
                .or_default()
                .insert(time.div_euclid(HOUR_MS), values);
        }
    }
    notes.push(format!(
        "{unknown_direction} rows without a compass wind direction: wind vector set missing; \
         {without_time} rows without a time or station left out"
    ));
    let series = to_series(hours, covariate_names.len(), &mut notes);
    Ok(Dataset {
        target: "PM2.5".into(),
        covariate_names,
        series,
        notes,
    })
}

/// Loads the I-94 folder: traffic volume of the one road, with weather covariates.
pub fn i94(dir: &Path) -> Result<Dataset> {
    let mut config = CsvConfig::from_dir(dir);
    config.name = "i94_csv".into();
    config.schema = Some(vec![
        ColumnSpec::new("temp", CsvType::Float64),
        ColumnSpec::new("rain_1h", CsvType::Float64),
        ColumnSpec::new("snow_1h", CsvType::Float64),
        ColumnSpec::new("clouds_all", CsvType::Float64),
        ColumnSpec::new("date_time", CsvType::Utf8),
        ColumnSpec::new("traffic_volume", CsvType::Float64),
    ]);
    config.columns = Some(
        [
            "date_time",
            "traffic_volume",
            "temp",
            "rain_1h",
            "snow_1h",
            "clouds_all",
        ]
        .map(String::from)
        .to_vec(),
    );
    let collector = WithTimestamp {
        inner: CsvCollector::new(config)?,
    };
    let mut dedupe = Dedupe::new(DedupeConfig {
        key: vec!["timestamp".into()],
        series: None,
        ..DedupeConfig::default()
    })?;
    let mut notes = Vec::new();
    let batches = collect_clean(collector, &mut [&mut dedupe], &mut notes)?;

    let covariate_names: Vec<String> = ["temp", "rain_1h", "snow_1h", "clouds_all"]
        .map(String::from)
        .to_vec();
    let mut hours: BTreeMap<String, BTreeMap<i64, Vec<f32>>> = BTreeMap::new();
    let (mut cold, mut flood, mut without_time) = (0usize, 0usize, 0usize);
    for batch in &batches {
        let data = batch.data();
        let times = timestamps(data, "timestamp")?;
        let mut columns: Vec<Vec<f32>> = ["traffic_volume"]
            .iter()
            .chain(["temp", "rain_1h", "snow_1h", "clouds_all"].iter())
            .map(|name| floats(data, name))
            .collect::<Result<_>>()?;
        for value in columns[1].iter_mut().filter(|value| **value < 200.0) {
            *value = f32::NAN;
            cold += 1;
        }
        for value in columns[2].iter_mut().filter(|value| **value > 100.0) {
            *value = f32::NAN;
            flood += 1;
        }
        for row in 0..data.num_rows() {
            let Some(time) = times[row] else {
                without_time += 1;
                continue;
            };
            let values: Vec<f32> = columns.iter().map(|column| column[row]).collect();
            hours
                .entry("I-94".into())
                .or_default()
                .insert(time.div_euclid(HOUR_MS), values);
        }
    }
    notes.push(format!(
        "{cold} temperatures below 200 K and {flood} rain values above 100 mm/h set missing; \
         {without_time} rows without a parsable date_time left out"
    ));
    let series = to_series(hours, covariate_names.len(), &mut notes);
    Ok(Dataset {
        target: "traffic_volume".into(),
        covariate_names,
        series,
        notes,
    })
}

/// Wraps the I-94 collector to add `timestamp`, parsed from `date_time` such as
/// `2012-10-02 09:00:00`; an unparsable text gives null, which `to_series` counts.
struct WithTimestamp {
    inner: CsvCollector,
}

impl governance::Stage for WithTimestamp {
    fn name(&self) -> &str {
        self.inner.name()
    }
}

impl Collector for WithTimestamp {
    fn start(&mut self, ctx: &mut StageContext) -> Result<()> {
        self.inner.start(ctx)
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let Some(batch) = self.inner.next_batch(ctx)? else {
            return Ok(None);
        };
        let data = batch.data();
        let text = data
            .column_by_name("date_time")
            .ok_or_else(|| missing("date_time"))?
            .as_string::<i32>();
        let times: TimestampMillisecondArray = (0..text.len())
            .map(|row| {
                if text.is_null(row) {
                    return None;
                }
                chrono::NaiveDateTime::parse_from_str(text.value(row), "%Y-%m-%d %H:%M:%S")
                    .ok()
                    .map(|time| time.and_utc().timestamp_millis())
            })
            .collect();
        let mut fields: Vec<Field> = data
            .schema()
            .fields()
            .iter()
            .map(|field| field.as_ref().clone())
            .collect();
        fields.push(Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ));
        let mut columns: Vec<ArrayRef> = data.columns().to_vec();
        columns.push(Arc::new(times));
        let with_time = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        Ok(Some(GovernedBatch::try_new(
            with_time,
            batch.row_ids().clone(),
            batch.provenance.clone(),
        )?))
    }
}

/// Turns per-series hour maps into regular hourly series: value first, then covariates.
fn to_series(
    hours: BTreeMap<String, BTreeMap<i64, Vec<f32>>>,
    covariates: usize,
    notes: &mut Vec<String>,
) -> Vec<HourlySeries> {
    let mut series = Vec::new();
    let (mut absent_hours, mut missing_values) = (0usize, 0usize);
    for (name, by_hour) in hours {
        let (Some(&first), Some(&last)) = (by_hour.keys().next(), by_hour.keys().next_back())
        else {
            continue;
        };
        let length = (last - first + 1) as usize;
        let mut values = vec![f32::NAN; length];
        let mut columns = vec![vec![f32::NAN; length]; covariates];
        for (hour, row) in &by_hour {
            let index = (hour - first) as usize;
            values[index] = row[0];
            for (column, value) in columns.iter_mut().zip(&row[1..]) {
                column[index] = *value;
            }
        }
        absent_hours += length - by_hour.len();
        missing_values += values.iter().filter(|value| value.is_nan()).count();
        series.push(HourlySeries {
            name,
            start_ms: first * HOUR_MS,
            values,
            covariates: columns,
        });
    }
    notes.push(format!(
        "{absent_hours} hours without a row and {missing_values} missing target values in all \
         (absent hours included)"
    ));
    series
}

fn missing(column: &str) -> Error {
    Error::InvalidInput(format!("column {column:?} is missing from the data"))
}

/// Returns a Float64 column as f32 with `NaN` for null.
fn floats(data: &RecordBatch, column: &str) -> Result<Vec<f32>> {
    let array = data.column_by_name(column).ok_or_else(|| missing(column))?;
    let array = arrow::compute::cast(array, &DataType::Float64)?;
    let array = array.as_primitive::<Float64Type>();
    Ok((0..array.len())
        .map(|row| {
            if array.is_null(row) {
                f32::NAN
            } else {
                array.value(row) as f32
            }
        })
        .collect())
}

/// Returns a timestamp column in milliseconds, `None` for null.
fn timestamps(data: &RecordBatch, column: &str) -> Result<Vec<Option<i64>>> {
    let array = data.column_by_name(column).ok_or_else(|| missing(column))?;
    let array = arrow::compute::cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let array = array.as_primitive::<TimestampMillisecondType>();
    Ok((0..array.len())
        .map(|row| (!array.is_null(row)).then(|| array.value(row)))
        .collect())
}
