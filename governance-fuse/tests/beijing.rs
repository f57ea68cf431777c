//! The as-of join on a real Beijing air-quality station file, when the data folder is present.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{AsArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use governance_core::audit::AuditLog;
use governance_core::{Fuser, GovernedBatch, Provenance, RowIdAllocator, StageContext};
use governance_fuse::{AsOfDirection, AsOfJoin, AsOfJoinConfig};

const HOUR: i64 = 3_600_000;

/// Returns the days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Rows of one station file: naive local time in milliseconds, PM2.5 and TEMP.
struct StationFile {
    station: String,
    times: Vec<i64>,
    pm25: Vec<Option<f64>>,
    temp: Vec<Option<f64>>,
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped data test says why on stderr"
)]
fn station_file() -> Option<StationFile> {
    let root = std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let path = root.join("city/beijing_multisite_aq/PRSA_Data_Aotizhongxin_20130301-20170228.csv");
    if !path.is_file() {
        eprintln!(
            "skipping: {} not found; set GOVERNANCE_DATA_DIR to the data folder",
            path.display()
        );
        return None;
    }

    let mut reader = csv::Reader::from_path(&path).expect("open station file");
    let headers = reader.headers().expect("header").clone();
    let index = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .expect("column in header")
    };
    let (year, month, day, hour) = (index("year"), index("month"), index("day"), index("hour"));
    let (pm25, temp, station) = (index("PM2.5"), index("TEMP"), index("station"));
    let number = |text: &str| {
        if text == "NA" {
            None
        } else {
            Some(text.parse::<f64>().expect("number"))
        }
    };

    let mut file = StationFile {
        station: String::new(),
        times: Vec::new(),
        pm25: Vec::new(),
        temp: Vec::new(),
    };
    for record in reader.records() {
        let record = record.expect("record");
        let field = |at: usize| record.get(at).expect("field");
        let integer = |at: usize| field(at).parse::<i64>().expect("integer");
        let days = days_from_civil(integer(year), integer(month), integer(day));
        file.times.push(days * 24 * HOUR + integer(hour) * HOUR);
        file.pm25.push(number(field(pm25)));
        file.temp.push(number(field(temp)));
        file.station = field(station).to_string();
    }
    Some(file)
}

fn batch(
    value_name: &str,
    station: &str,
    times: Vec<i64>,
    values: Vec<Option<f64>>,
) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new(value_name, DataType::Float64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec![station; times.len()])),
            Arc::new(TimestampMillisecondArray::from(times)),
            Arc::new(Float64Array::from(values)),
        ],
    )
    .expect("batch")
}

#[test]
fn three_hourly_weather_joins_backward() {
    let Some(file) = station_file() else {
        return;
    };
    // Weather every hour except those at 1, 4, 7, ... o'clock, loaded newest first.
    let mut side: Vec<(i64, Option<f64>)> = file
        .times
        .iter()
        .zip(&file.temp)
        .filter(|(time, _)| (**time / HOUR) % 3 != 1)
        .map(|(time, temp)| (*time, *temp))
        .collect();
    side.reverse();
    let lookup: HashMap<i64, Option<f64>> = side.iter().copied().collect();
    let side_batches: Vec<RecordBatch> = side
        .chunks(5000)
        .map(|chunk| {
            let (times, temps): (Vec<i64>, Vec<Option<f64>>) = chunk.iter().copied().unzip();
            batch("TEMP", &file.station, times, temps)
        })
        .collect();

    let mut config = AsOfJoinConfig::new("weather", "station", "timestamp");
    config.direction = AsOfDirection::Backward;
    let mut join = AsOfJoin::new(config, side_batches).expect("join");
    let mut ctx = StageContext::new("asof_join", 1, AuditLog::in_memory().into_handle());
    let ids = RowIdAllocator::default();
    let mut joined_temps: Vec<Option<f64>> = Vec::new();
    for (times, values) in file.times.chunks(8192).zip(file.pm25.chunks(8192)) {
        let data = batch("PM2.5", &file.station, times.to_vec(), values.to_vec());
        let governed =
            GovernedBatch::try_new(data, ids.allocate(times.len()), Provenance::new("readings"))
                .expect("governed");
        let joined = join.fuse(governed, &mut ctx).expect("fuse");
        assert_eq!(joined.num_rows(), times.len());
        joined_temps.extend(
            joined
                .column("TEMP")
                .expect("TEMP")
                .as_primitive::<Float64Type>()
                .iter(),
        );
    }

    let expected: Vec<Option<f64>> = file
        .times
        .iter()
        .map(|time| {
            lookup
                .get(time)
                .or_else(|| lookup.get(&(time - HOUR)))
                .copied()
                .flatten()
        })
        .collect();
    assert_eq!(file.times.len(), 35_064);
    assert_eq!(joined_temps, expected);
    assert_eq!(
        join.matched_rows(),
        35_064,
        "every hour has weather at most one hour earlier"
    );
    assert_eq!(join.unmatched_rows(), 0);
}
