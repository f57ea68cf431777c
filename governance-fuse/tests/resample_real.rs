//! Resampling on real city data, when the data folder is present: the I-94 traffic volume
//! series (hourly, with gaps and repeated hours) and the Beijing air-quality stations.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit, UInt64Type};
use datafusion::execution::context::SessionContext;
use governance_core::{GovernedBatch, Provenance, RowIdAllocator};
use governance_fuse::engine::{bucket_aggregate, register_governed};
use governance_fuse::temporal::{
    Aggregate, FillPolicy, GridExtent, Interval, ResampleConfig, resample,
};

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

#[expect(
    clippy::print_stderr,
    reason = "a skipped data test says why on stderr"
)]
fn data_path(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let path = root.join(relative);
    if !path.exists() {
        eprintln!(
            "skipping: {} not found; set GOVERNANCE_DATA_DIR to the data folder",
            path.display()
        );
        return None;
    }
    Some(path)
}

/// Parses `2012-10-02 09:00:00` to milliseconds since the epoch, read as UTC.
fn parse_time(text: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().expect("digits");
    let days = days_from_civil(number(0..4), number(5..7), number(8..10));
    ((days * 24 + number(11..13)) * 60 + number(14..16)) * 60_000 + number(17..19) * 1000
}

fn traffic() -> Option<RecordBatch> {
    let path = data_path("city/i94_traffic_volume/Metro_Interstate_Traffic_Volume.csv")?;
    let mut reader = csv::Reader::from_path(&path).expect("open traffic file");
    let headers = reader.headers().expect("header").clone();
    let index = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .expect("column")
    };
    let (time, volume) = (index("date_time"), index("traffic_volume"));
    let mut times = Vec::new();
    let mut volumes = Vec::new();
    for record in reader.records() {
        let record = record.expect("record");
        times.push(parse_time(record.get(time).expect("time")));
        volumes.push(
            record
                .get(volume)
                .expect("volume")
                .parse::<f64>()
                .expect("volume"),
        );
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "date_time",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("traffic_volume", DataType::Float64, false),
    ]));
    Some(
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampMillisecondArray::from(times)),
                Arc::new(Float64Array::from(volumes)),
            ],
        )
        .expect("batch"),
    )
}

#[test]
fn traffic_hours_account_for_gaps_and_repeats() {
    let Some(batch) = traffic() else { return };
    let config = ResampleConfig::new("date_time", Interval::hours(1))
        .aggregate("traffic_volume", Aggregate::Mean)
        .aggregate("traffic_volume", Aggregate::Count)
        .with_fill(FillPolicy::Linear { limit: Some(3) });
    let out = resample(&batch, &config).expect("resample");
    let report = &out.report;

    // Expected figures, computed here from the raw rows.
    let times = batch
        .column(0)
        .as_primitive::<arrow::datatypes::TimestampMillisecondType>();
    let volumes = batch.column(1).as_primitive::<Float64Type>();
    let mut per_hour: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for row in 0..batch.num_rows() {
        per_hour
            .entry(times.value(row).div_euclid(HOUR))
            .or_default()
            .push(volumes.value(row));
    }
    let first = *per_hour.keys().next().expect("hours");
    let last = *per_hour.keys().last().expect("hours");
    let span = (last - first + 1) as u64;
    assert_eq!(report.rows_in, batch.num_rows() as u64);
    assert_eq!(report.rows_without_time, 0);
    assert_eq!(report.buckets, span);
    assert_eq!(report.empty_buckets, span - per_hour.len() as u64);
    assert!(report.empty_buckets > 0, "the series has gaps");
    assert!(report.filled_buckets > 0, "short gaps are filled");
    assert!(
        report.filled_buckets < report.empty_buckets,
        "long gaps stay empty"
    );

    let rows = out
        .data
        .column_by_name("rows")
        .expect("rows")
        .as_primitive::<UInt64Type>();
    assert_eq!(rows.values().iter().sum::<u64>(), report.rows_in);
    let means = out
        .data
        .column_by_name("traffic_volume_mean")
        .expect("mean")
        .as_primitive::<Float64Type>();
    let mut repeated_hours = 0;
    for (hour, values) in &per_hour {
        let position = (hour - first) as usize;
        assert_eq!(rows.value(position), values.len() as u64);
        let expected = values.iter().sum::<f64>() / values.len() as f64;
        assert!((means.value(position) - expected).abs() < 1e-9);
        if values.len() > 1 {
            repeated_hours += 1;
        }
    }
    assert!(repeated_hours > 0, "the series repeats some hours");
    // Filled values lie between the values around their gap.
    for position in 1..out.data.num_rows() - 1 {
        if rows.value(position) == 0 && means.is_valid(position) {
            let before = (0..position)
                .rev()
                .find(|&at| rows.value(at) > 0)
                .expect("before");
            let after = (position + 1..out.data.num_rows())
                .find(|&at| rows.value(at) > 0)
                .expect("after");
            let (low, high) = {
                let (a, b) = (means.value(before), means.value(after));
                (a.min(b), a.max(b))
            };
            assert!((low..=high).contains(&means.value(position)));
            assert!(
                after - before - 1 <= 3,
                "run longer than the limit was filled"
            );
        }
    }
}

/// Reads every Beijing station file: station, hourly time in naive local milliseconds and
/// PM2.5.
fn beijing() -> Option<RecordBatch> {
    let folder = data_path("city/beijing_multisite_aq")?;
    let mut stations = Vec::new();
    let mut times = Vec::new();
    let mut pm25 = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("read folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
        .collect();
    paths.sort();
    for path in paths {
        let mut reader = csv::Reader::from_path(&path).expect("open station file");
        let headers = reader.headers().expect("header").clone();
        let index = |name: &str| {
            headers
                .iter()
                .position(|header| header == name)
                .expect("column")
        };
        let columns = [index("year"), index("month"), index("day"), index("hour")];
        let (value, station) = (index("PM2.5"), index("station"));
        for record in reader.records() {
            let record = record.expect("record");
            let [year, month, day, hour] = columns.map(|at| {
                record
                    .get(at)
                    .expect("field")
                    .parse::<i64>()
                    .expect("integer")
            });
            times.push((days_from_civil(year, month, day) * 24 + hour) * HOUR);
            let text = record.get(value).expect("PM2.5");
            pm25.push(if text == "NA" {
                None
            } else {
                Some(text.parse::<f64>().expect("PM2.5"))
            });
            stations.push(record.get(station).expect("station").to_string());
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("PM2.5", DataType::Float64, true),
    ]));
    Some(
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(stations)),
                Arc::new(TimestampMillisecondArray::from(times)),
                Arc::new(Float64Array::from(pm25)),
            ],
        )
        .expect("batch"),
    )
}

#[tokio::test]
async fn beijing_daily_means_match_sql() {
    let Some(batch) = beijing() else { return };
    let mut config = ResampleConfig::new("timestamp", Interval::days(1))
        .with_key("station")
        .aggregate("PM2.5", Aggregate::Mean)
        .aggregate("PM2.5", Aggregate::Max)
        .aggregate("PM2.5", Aggregate::Count);
    config.extent = GridExtent::Shared;
    let out = resample(&batch, &config).expect("resample");
    let report = &out.report;
    let days: HashSet<i64> = batch
        .column(1)
        .as_primitive::<arrow::datatypes::TimestampMillisecondType>()
        .values()
        .iter()
        .map(|time| time.div_euclid(24 * HOUR))
        .collect();
    let stations: HashSet<&str> = batch
        .column(0)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert_eq!(report.keys, stations.len() as u64);
    assert_eq!(report.buckets, (days.len() * stations.len()) as u64);
    assert_eq!(report.rows_in, batch.num_rows() as u64);

    let ctx = SessionContext::new();
    let ids = RowIdAllocator::default().allocate(batch.num_rows());
    let governed =
        GovernedBatch::try_new(batch, ids, Provenance::new("beijing")).expect("governed");
    register_governed(&ctx, "readings", &[governed]).expect("register");
    let collected = bucket_aggregate(&ctx, "readings", &config)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let engine = concat_batches(&collected[0].schema(), &collected).expect("concat");
    let rows = out.data.column(2).as_primitive::<UInt64Type>();
    let non_empty: BooleanArray = rows
        .iter()
        .map(|count| count.map(|count| count > 0))
        .collect();
    let kernel = filter_record_batch(&out.data, &non_empty).expect("filter");
    assert_eq!(engine.num_rows(), kernel.num_rows());

    let key = |batch: &RecordBatch, row: usize| {
        (
            batch.column(0).as_string::<i32>().value(row).to_string(),
            batch
                .column(1)
                .as_primitive::<arrow::datatypes::TimestampMillisecondType>()
                .value(row),
        )
    };
    let mut engine_rows: HashMap<(String, i64), usize> = HashMap::new();
    for row in 0..engine.num_rows() {
        engine_rows.insert(key(&engine, row), row);
    }
    for name in ["PM2.5_mean", "PM2.5_max"] {
        let expected = kernel
            .column_by_name(name)
            .expect("kernel")
            .as_primitive::<Float64Type>();
        let actual = engine
            .column_by_name(name)
            .expect("engine")
            .as_primitive::<Float64Type>();
        for row in 0..kernel.num_rows() {
            let at = engine_rows[&key(&kernel, row)];
            assert_eq!(
                expected.is_null(row),
                actual.is_null(at),
                "{name} row {row}"
            );
            if expected.is_valid(row) {
                assert!(
                    (expected.value(row) - actual.value(at)).abs() < 1e-9,
                    "{name} row {row}"
                );
            }
        }
    }
}
