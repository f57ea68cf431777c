//! Generalisation of ages, coordinates, timestamps and postcodes.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Int32Array, StringArray, TimestampSecondArray};
use arrow::datatypes::{Date32Type, TimestampSecondType};
use chrono::{NaiveDate, NaiveDateTime};
use governance_secure::generalize::{
    AgeBand, Generalization, TimeUnit, age_band, generalize_column, grid_cell, postcode_prefix,
    truncate_time,
};

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("valid time")
}

#[test]
fn age_bands() {
    assert_eq!(age_band(0, 10, None).expect("valid").to_string(), "0-9");
    assert_eq!(age_band(39, 10, None).expect("valid").to_string(), "30-39");
    assert_eq!(age_band(40, 5, None).expect("valid").to_string(), "40-44");
    assert_eq!(
        age_band(95, 10, Some(90)).expect("valid"),
        AgeBand {
            lower: 90,
            upper: None
        }
    );
}

#[test]
fn invalid_ages_are_rejected() {
    let error = age_band(-1, 10, None).expect_err("negative");
    assert!(error.to_string().contains("-1"), "{error}");
    assert!(age_band(151, 10, None).is_err());
    assert!(age_band(30, 0, None).is_err());
    assert!(age_band(30, 10, Some(85)).is_err());
}

#[test]
fn nearby_points_share_a_cell() {
    let first = grid_cell(39.90870, 116.39750, 500.0).expect("valid");
    let second = grid_cell(39.90880, 116.39760, 500.0).expect("valid");
    assert_eq!(first.id(), second.id());
    let far = grid_cell(39.92, 116.39750, 500.0).expect("valid");
    assert_ne!(first.id(), far.id());
    // The centre is within half a diagonal of the point.
    let dy = (first.centre_lat - 39.90870) * 111_195.0;
    let dx = (first.centre_lon - 116.39750) * 111_195.0 * 39.9087_f64.to_radians().cos();
    assert!((dx * dx + dy * dy).sqrt() < 0.75 * 500.0);
}

#[test]
fn poles_ignore_longitude() {
    let north = grid_cell(90.0, 0.0, 1000.0).expect("valid");
    let other = grid_cell(90.0, 179.0, 1000.0).expect("valid");
    assert_eq!(north, other);
    let south = grid_cell(-90.0, -45.0, 1000.0).expect("valid");
    assert_eq!(south.row, 0);
    assert!(south.centre_lat < -89.99);
    // Near the pole a row has few cells, each still at least as wide as asked.
    let near = grid_cell(89.999, 10.0, 1000.0).expect("valid");
    let across = grid_cell(89.999, 100.0, 1000.0).expect("valid");
    assert_eq!(near.row, across.row);
    assert_ne!(near.col, across.col);
}

#[test]
fn antimeridian_wraps() {
    let east = grid_cell(10.0, 180.0, 1000.0).expect("valid");
    let west = grid_cell(10.0, -180.0, 1000.0).expect("valid");
    assert_eq!(east, west);
    assert!(east.centre_lon > -180.0);
    assert!(east.centre_lon < -179.9);
    let just_west = grid_cell(10.0, 179.9999, 1000.0).expect("valid");
    assert_ne!(just_west, east);
}

#[test]
fn invalid_coordinates_are_rejected() {
    assert!(grid_cell(90.1, 0.0, 100.0).is_err());
    assert!(grid_cell(0.0, -180.5, 100.0).is_err());
    assert!(grid_cell(f64::NAN, 0.0, 100.0).is_err());
    assert!(grid_cell(0.0, 0.0, 0.5).is_err());
    let error = grid_cell(116.4, 39.9, 100.0).expect_err("swapped");
    assert!(error.to_string().contains("swapped"), "{error}");
}

#[test]
fn leap_day_truncates() {
    let leap = at("2024-02-29 13:45:10");
    assert_eq!(
        truncate_time(leap, TimeUnit::Hour),
        at("2024-02-29 13:00:00")
    );
    assert_eq!(
        truncate_time(leap, TimeUnit::Day),
        at("2024-02-29 00:00:00")
    );
    assert_eq!(
        truncate_time(leap, TimeUnit::Month),
        at("2024-02-01 00:00:00")
    );
    assert_eq!(
        truncate_time(leap, TimeUnit::Year),
        at("2024-01-01 00:00:00")
    );
}

#[test]
fn postcodes_shorten() {
    assert_eq!(postcode_prefix("100080", 3).as_deref(), Some("100"));
    assert_eq!(postcode_prefix("sw1a 1aa", 3).as_deref(), Some("SW1"));
    assert_eq!(postcode_prefix("10", 3).as_deref(), Some("10"));
    assert_eq!(postcode_prefix("", 3), None);
    assert_eq!(postcode_prefix("   ", 3), None);
}

#[test]
fn column_generalisations() {
    let ages = Int32Array::from(vec![Some(7), None, Some(64)]);
    let bands = generalize_column(
        &ages,
        &Generalization::AgeBand {
            width: 10,
            top: None,
        },
    )
    .expect("integers");
    let bands = bands.as_string::<i32>();
    assert_eq!(bands.value(0), "0-9");
    assert!(bands.is_null(1));
    assert_eq!(bands.value(2), "60-69");

    let bad = Int32Array::from(vec![30, -4]);
    let error = generalize_column(
        &bad,
        &Generalization::AgeBand {
            width: 10,
            top: None,
        },
    )
    .expect_err("negative age");
    assert!(error.to_string().contains("row 1"), "{error}");

    // 1969-12-31 23:30 UTC lies before the epoch; truncation must round down, not to zero.
    let times = TimestampSecondArray::from(vec![-1_800, 1_709_214_310]);
    let hours = generalize_column(&times, &Generalization::TruncateTime(TimeUnit::Day))
        .expect("timestamps");
    let hours = hours.as_primitive::<TimestampSecondType>();
    assert_eq!(hours.value(0), -86_400);
    assert_eq!(hours.value(1), 1_709_164_800);

    let days = Date32Array::from(vec![19_782]);
    let months =
        generalize_column(&days, &Generalization::TruncateTime(TimeUnit::Month)).expect("dates");
    let first = NaiveDate::from_ymd_opt(2024, 2, 1).expect("date");
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("date");
    assert_eq!(
        months.as_primitive::<Date32Type>().value(0),
        (first - epoch).num_days() as i32
    );

    let codes: Arc<dyn Array> = Arc::new(StringArray::from(vec![Some("100080"), Some(""), None]));
    let prefixes =
        generalize_column(codes.as_ref(), &Generalization::PostcodePrefix(2)).expect("strings");
    let prefixes = prefixes.as_string::<i32>();
    assert_eq!(prefixes.value(0), "10");
    assert!(prefixes.is_null(1));
    assert!(prefixes.is_null(2));
}

#[test]
fn generalization_reads_from_json() {
    let parsed: Generalization =
        serde_json::from_str(r#"{"age_band":{"width":5,"top":85}}"#).expect("valid");
    assert_eq!(
        parsed,
        Generalization::AgeBand {
            width: 5,
            top: Some(85)
        }
    );
    let parsed: Generalization =
        serde_json::from_str(r#"{"truncate_time":"hour"}"#).expect("valid");
    assert_eq!(parsed, Generalization::TruncateTime(TimeUnit::Hour));
}
