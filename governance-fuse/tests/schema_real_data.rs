//! Schema matching on a Beijing air-quality station file and drift detection between two
//! exports of the Fremont Bridge bicycle counts, when the data folder is present.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::standard::{StandardRegistry, Unit};
use governance_fuse::schema::{DriftDetector, DriftFinding, SchemaMatcher};

fn data_root() -> PathBuf {
    std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped data test says why on stderr"
)]
fn data_file(relative: &str) -> Option<PathBuf> {
    let path = data_root().join(relative);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} not found; set GOVERNANCE_DATA_DIR to the data folder",
            path.display()
        );
        None
    }
}

/// Reads a CSV file into one batch: columns whose present values all parse as numbers
/// become Float64, the others stay text. Empty cells and `NA` are null.
fn read_csv(path: &Path) -> RecordBatch {
    let mut reader = csv::Reader::from_path(path).expect("open CSV file");
    let headers: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_string)
        .collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for record in reader.records() {
        let record = record.expect("valid CSV record");
        for (column, value) in cells.iter_mut().zip(record.iter()) {
            column.push(value.to_string());
        }
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, values) in headers.iter().zip(cells) {
        let values: Vec<Option<String>> = values
            .into_iter()
            .map(|value| (!value.is_empty() && value != "NA").then_some(value))
            .collect();
        let numeric = values
            .iter()
            .flatten()
            .all(|value| value.parse::<f64>().is_ok());
        if numeric {
            let numbers: Vec<Option<f64>> = values
                .iter()
                .map(|value| value.as_ref().and_then(|value| value.parse().ok()))
                .collect();
            fields.push(Field::new(name, DataType::Float64, true));
            arrays.push(Arc::new(Float64Array::from(numbers)));
        } else {
            fields.push(Field::new(name, DataType::Utf8, true));
            arrays.push(Arc::new(StringArray::from(values)));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

#[test]
fn beijing_station_maps_to_air_quality_observed() {
    let Some(path) = data_file("city/beijing_multisite_aq/PRSA_Data_Dongsi_20130301-20170228.csv")
    else {
        return;
    };
    let batch = read_csv(&path);
    assert_eq!(batch.num_columns(), 18);

    let registry = StandardRegistry::builtin();
    let mapping = SchemaMatcher::default()
        .match_model(&batch, &registry, "AirQualityObserved")
        .expect("known model");
    let expected = [
        ("PM2.5", "pm25"),
        ("PM10", "pm10"),
        ("SO2", "so2"),
        ("NO2", "no2"),
        ("CO", "co"),
        ("O3", "o3"),
        ("TEMP", "temperature"),
        ("RAIN", "precipitation"),
        ("wd", "windDirection"),
        ("WSPM", "windSpeed"),
        ("station", "refDevice"),
    ];
    for (column, attribute) in expected {
        assert_eq!(mapping.attribute_of(column), Some(attribute), "{mapping}");
    }
    for column in ["No", "year", "month", "day", "hour", "PRES", "DEWP"] {
        assert_eq!(mapping.attribute_of(column), None, "{column} in {mapping}");
    }
    assert_eq!(mapping.mappings.len() + mapping.unmapped.len(), 18);
    let co = mapping.mapping_of("CO").expect("CO mapped");
    assert_eq!(
        co.source_unit,
        Some(Unit::MicrogramPerCubicMetre),
        "{mapping}"
    );
    let pm25 = mapping.mapping_of("PM2.5").expect("PM2.5 mapped");
    assert!(pm25.confidence > 0.95, "{mapping}");
    for column in ["year", "month", "day", "hour"] {
        let unmapped = mapping
            .unmapped
            .iter()
            .find(|unmapped| unmapped.column == column)
            .expect("date part unmapped");
        assert!(unmapped.reason.contains("date part"), "{}", unmapped.reason);
    }

    let weather = SchemaMatcher::default()
        .match_model(&batch, &registry, "WeatherObserved")
        .expect("known model");
    assert_eq!(
        weather.attribute_of("PRES"),
        Some("atmosphericPressure"),
        "{weather}"
    );
    assert_eq!(weather.attribute_of("DEWP"), Some("dewPoint"), "{weather}");
}

#[test]
fn fremont_exports_swap_sidewalk_columns() {
    let (Some(old), Some(new)) = (
        data_file("city/seattle_fremont_bridge/FremontBridge_2017export.csv"),
        data_file("city/seattle_fremont_bridge/FremontBridge_2023export.csv"),
    ) else {
        return;
    };
    let reference = read_csv(&old);
    let new = read_csv(&new);
    let report = DriftDetector::default()
        .compare(&reference, &new)
        .expect("comparable exports");

    assert_eq!(report.key, Some(("Date".to_string(), "Date".to_string())));
    assert!(
        report.aligned_rows > 30_000,
        "{} aligned rows",
        report.aligned_rows
    );

    let east = "Fremont Bridge Sidewalks, south of N 34th St Cyclist East Sidewalk";
    let west = "Fremont Bridge Sidewalks, south of N 34th St Cyclist West Sidewalk";
    let swap_of = |column: &str| {
        report.findings.iter().find_map(|finding| match finding {
            DriftFinding::Swapped {
                column: found,
                carries,
                name_suggests,
                evidence,
            } if found == column => {
                Some((carries.clone(), name_suggests.clone(), evidence.clone()))
            }
            _ => None,
        })
    };
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();

    let (carries, suggests, evidence) = swap_of(east).unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(carries, "Fremont Bridge West Sidewalk");
    assert_eq!(suggests, "Fremont Bridge East Sidewalk");
    assert!(evidence.equal_share > 0.99, "{evidence:?}");

    let (carries, suggests, _) = swap_of(west).unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(carries, "Fremont Bridge East Sidewalk");
    assert_eq!(suggests, "Fremont Bridge West Sidewalk");
    assert_eq!(report.swapped_pairs().len(), 1);

    let total = "Fremont Bridge Sidewalks, south of N 34th St";
    assert!(
        report.findings.iter().any(|finding| matches!(
            finding,
            DriftFinding::New { column, note: Some(note) } if column == total && note.contains("sum of")
        )),
        "{findings:#?}"
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|finding| matches!(finding, DriftFinding::Missing { .. })),
        "{findings:#?}"
    );
}
