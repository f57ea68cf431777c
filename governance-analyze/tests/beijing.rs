//! The air-quality preset on a real Beijing station file, checked against daily means
//! computed directly, when the data folder is present.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance_analyze::SqlIndicators;
use governance_analyze::presets::{MIN_HOURS_PER_DAILY_MEAN, PM25_24H_LIMIT_GRADE_II};
use governance_core::audit::AuditLog;
use governance_core::{
    Analyzer, FindingKind, GovernedBatch, Provenance, RowIdAllocator, StageContext,
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

/// Hourly PM2.5 of one station in file order, with each row's date as text and its naive
/// local time in milliseconds.
struct StationFile {
    station: String,
    dates: Vec<String>,
    times: Vec<i64>,
    pm25: Vec<Option<f64>>,
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
    let path = root.join("city/beijing_multisite_aq/PRSA_Data_Dongsi_20130301-20170228.csv");
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
    let (pm25, station) = (index("PM2.5"), index("station"));

    let mut file = StationFile {
        station: String::new(),
        dates: Vec::new(),
        times: Vec::new(),
        pm25: Vec::new(),
    };
    for record in reader.records() {
        let record = record.expect("record");
        let field = |at: usize| record.get(at).expect("field");
        let integer = |at: usize| field(at).parse::<i64>().expect("integer");
        let (y, m, d) = (integer(year), integer(month), integer(day));
        file.dates.push(format!("{y:04}-{m:02}-{d:02}"));
        file.times
            .push(days_from_civil(y, m, d) * 24 * HOUR + integer(hour) * HOUR);
        let value = field(pm25);
        file.pm25.push(if value == "NA" {
            None
        } else {
            Some(value.parse().expect("PM2.5 number"))
        });
        file.station = field(station).to_string();
    }
    Some(file)
}

#[test]
fn daily_means_match_direct_computation() {
    let Some(file) = station_file() else {
        return;
    };
    let mut per_day: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
    for (date, value) in file.dates.iter().zip(&file.pm25) {
        let entry = per_day.entry(date.as_str()).or_insert((0.0, 0));
        if let Some(value) = value {
            entry.0 += value;
            entry.1 += 1;
        }
    }
    let expected: BTreeMap<&str, f64> = per_day
        .into_iter()
        .filter(|(_, (_, hours))| *hours >= MIN_HOURS_PER_DAILY_MEAN)
        .map(|(date, (sum, hours))| (date, sum / f64::from(hours)))
        .collect();
    let expected_over = expected
        .values()
        .filter(|mean| **mean > PM25_24H_LIMIT_GRADE_II)
        .count();

    let mut analyzer = SqlIndicators::air_quality();
    let mut ctx = StageContext::new(
        "air_quality_indicators",
        1,
        AuditLog::in_memory().into_handle(),
    );
    let ids = RowIdAllocator::default();
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("PM2.5", DataType::Float64, true),
    ]));
    for (times, values) in file.times.chunks(8192).zip(file.pm25.chunks(8192)) {
        let data = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec![file.station.as_str(); times.len()])),
                Arc::new(TimestampMillisecondArray::from(times.to_vec())),
                Arc::new(Float64Array::from(values.to_vec())),
            ],
        )
        .expect("batch");
        let batch =
            GovernedBatch::try_new(data, ids.allocate(times.len()), Provenance::new("dongsi"))
                .expect("governed");
        analyzer.analyze(&batch, &mut ctx).expect("analyze");
    }
    let findings = analyzer.finish(&mut ctx).expect("finish");

    let means: BTreeMap<&str, f64> = findings
        .iter()
        .filter(|finding| {
            finding.name == "pm25_daily_mean" && finding.kind == FindingKind::Indicator
        })
        .map(|finding| {
            (
                finding.time.as_deref().expect("day"),
                finding.value.expect("mean"),
            )
        })
        .collect();
    assert!(
        expected.len() > 1400,
        "the file covers four years; got {} valid days",
        expected.len()
    );
    assert_eq!(means.len(), expected.len());
    for (day, mean) in &expected {
        let got = means.get(day).copied().unwrap_or(f64::NAN);
        assert!(
            (got - mean).abs() <= 1e-9 * mean.abs().max(1.0),
            "{day}: expected {mean}, got {got}"
        );
    }
    let alerts = findings
        .iter()
        .filter(|finding| finding.name == "pm25_daily_mean" && finding.kind == FindingKind::Alert)
        .count();
    assert_eq!(alerts, expected_over);
    let days_over = findings
        .iter()
        .find(|finding| finding.name == "pm25_days_over_limit")
        .expect("days over");
    assert_eq!(days_over.value, Some(expected_over as f64));
    assert_eq!(days_over.subject.as_deref(), Some(file.station.as_str()));
}
