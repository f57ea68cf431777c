use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use governance_core::semantic::{STANDARD_NAME_KEY, UNIT_KEY};
use governance_core::standard::{StandardRegistry, Unit};

use super::*;
use crate::embed::TextEmbedder;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

fn floats(values: impl IntoIterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from(values.into_iter().collect::<Vec<_>>()))
}

fn integers(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from(values.into_iter().collect::<Vec<_>>()))
}

fn text(values: impl IntoIterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from(values.into_iter().collect::<Vec<_>>()))
}

/// 48 hourly rows shaped like one Beijing station file.
fn beijing_like() -> RecordBatch {
    let n = 48;
    let wave = |base: f64, amplitude: f64| {
        (0..n).map(move |i| base + amplitude * ((i as f64) / 5.0).sin())
    };
    let compass = [
        "N", "NNE", "NE", "E", "SE", "S", "SW", "W", "NW", "NNW", "WNW", "ESE",
    ];
    batch(vec![
        ("No", integers(1..=n as i64)),
        ("year", integers((0..n).map(|_| 2013))),
        ("month", integers((0..n).map(|_| 3))),
        ("day", integers((0..n).map(|i| 1 + i as i64 / 24))),
        ("hour", integers((0..n).map(|i| i as i64 % 24))),
        ("PM2.5", floats(wave(80.0, 60.0))),
        ("PM10", floats(wave(120.0, 80.0))),
        ("SO2", floats(wave(20.0, 15.0))),
        ("NO2", floats(wave(50.0, 30.0))),
        ("CO", floats(wave(1200.0, 900.0))),
        ("O3", floats(wave(60.0, 50.0))),
        ("TEMP", floats(wave(5.0, 8.0))),
        ("PRES", floats(wave(1015.0, 10.0))),
        ("DEWP", floats(wave(-10.0, 8.0))),
        ("RAIN", floats(wave(0.5, 0.5))),
        ("wd", text((0..n).map(|i| compass[i % compass.len()]))),
        ("WSPM", floats(wave(2.5, 2.0))),
        ("station", text((0..n).map(|_| "Dongsi"))),
    ])
}

fn registry() -> StandardRegistry {
    StandardRegistry::builtin()
}

#[test]
fn maps_beijing_columns_to_air_quality() {
    let mapping = SchemaMatcher::default()
        .match_model(&beijing_like(), &registry(), "AirQualityObserved")
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
}

#[test]
fn explains_unmapped_beijing_columns() {
    let mapping = SchemaMatcher::default()
        .match_batch(
            &beijing_like(),
            registry().get("AirQualityObserved").expect("built in"),
        )
        .expect("valid batch");
    let reason = |column: &str| {
        mapping
            .unmapped
            .iter()
            .find(|unmapped| unmapped.column == column)
            .map(|unmapped| unmapped.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("No").contains("row number"), "{}", reason("No"));
    assert!(reason("year").contains("date part"), "{}", reason("year"));
    assert!(
        reason("PRES").contains("below the minimum"),
        "{}",
        reason("PRES")
    );
}

#[test]
fn weather_model_takes_pressure_and_dew_point() {
    let mapping = SchemaMatcher::default()
        .match_model(&beijing_like(), &registry(), "WeatherObserved")
        .expect("known model");
    assert_eq!(mapping.attribute_of("PRES"), Some("atmosphericPressure"));
    assert_eq!(mapping.attribute_of("DEWP"), Some("dewPoint"));
    assert_eq!(mapping.attribute_of("PM2.5"), None);
}

#[test]
fn carbon_monoxide_in_micrograms_gets_source_unit() {
    let mapping = SchemaMatcher::default()
        .match_model(&beijing_like(), &registry(), "AirQualityObserved")
        .expect("known model");
    let co = mapping.mapping_of("CO").expect("CO mapped");
    assert_eq!(co.source_unit, Some(Unit::MicrogramPerCubicMetre));
    let pm25 = mapping.mapping_of("PM2.5").expect("PM2.5 mapped");
    assert_eq!(pm25.source_unit, None);
    assert!(pm25.confidence > 0.95, "{}", pm25.confidence);
    let signals = pm25.agreeing_signals();
    for signal in [Signal::ExactName, Signal::Type, Signal::Range] {
        assert!(
            signals.contains(&signal),
            "{signal:?} missing from {signals:?}"
        );
    }
}

#[test]
fn humidity_in_percent_gets_source_unit() {
    let data = batch(vec![("humidity", floats([35.0, 60.0, 82.5, 91.0]))]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "WeatherObserved")
        .expect("known model");
    let humidity = mapping.mapping_of("humidity").expect("mapped");
    assert_eq!(humidity.attribute, "relativeHumidity");
    assert_eq!(humidity.source_unit, Some(Unit::Percent));
}

#[test]
fn values_veto_a_matching_name() {
    let data = batch(vec![("pm25", text(["high", "low", "high", "medium"]))]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "AirQualityObserved")
        .expect("known model");
    assert!(mapping.mappings.is_empty(), "{mapping}");
    let unmapped = &mapping.unmapped[0];
    let candidate = unmapped.best_candidate.as_ref().expect("a candidate");
    assert_eq!(candidate.attribute, "pm25");
    assert!(candidate.confidence < 0.5);
}

#[test]
fn patterns_map_columns_with_opaque_names() {
    let data = batch(vec![
        ("c7", text(["NNW", "N", "SE", "E", "W"])),
        (
            "c8",
            text([
                "2013-03-01 00:00",
                "2013-03-01 01:00",
                "2013-03-01 02:00",
                "2013-03-01 03:00",
                "2013-03-01 04:00",
            ]),
        ),
    ]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "AirQualityObserved")
        .expect("known model");
    assert_eq!(
        mapping.attribute_of("c7"),
        Some("windDirection"),
        "{mapping}"
    );
    assert_eq!(
        mapping.attribute_of("c8"),
        Some("dateObserved"),
        "{mapping}"
    );
}

#[test]
fn empty_batch_is_matched_by_names() {
    let data = batch(vec![
        ("PM2.5", floats([])),
        ("temperatur", floats([])),
        ("zzz", floats([])),
    ]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "AirQualityObserved")
        .expect("known model");
    assert_eq!(mapping.attribute_of("PM2.5"), Some("pm25"));
    assert_eq!(mapping.attribute_of("temperatur"), Some("temperature"));
    assert_eq!(mapping.attribute_of("zzz"), None);
    let pm25 = mapping.mapping_of("PM2.5").expect("mapped");
    assert!(
        pm25.confidence < 0.8,
        "unchecked values lower the confidence"
    );
    assert!(
        pm25.evidence
            .iter()
            .any(|evidence| evidence.detail.contains("no values")),
        "{:?}",
        pm25.evidence
    );
}

#[test]
fn all_null_column_is_reported_with_neutral_values() {
    let data = batch(vec![
        (
            "TEMP",
            Arc::new(Float64Array::from(vec![None::<f64>; 5])) as ArrayRef,
        ),
        ("RAIN", floats([0.0, 1.2, 0.0, 3.4, 0.0])),
    ]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "WeatherObserved")
        .expect("known model");
    let temp = mapping.mapping_of("TEMP").expect("mapped by name");
    let rain = mapping.mapping_of("RAIN").expect("mapped");
    assert!(temp.confidence < rain.confidence);
}

#[test]
fn assignment_is_one_to_one() {
    let data = batch(vec![
        ("temp", floats([1.0, 4.0, 3.0])),
        ("temperature", floats([1.5, 2.5, 0.5])),
    ]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "AirQualityObserved")
        .expect("known model");
    let taken: Vec<&str> = mapping
        .mappings
        .iter()
        .filter(|m| m.attribute == "temperature")
        .map(|m| m.column.as_str())
        .collect();
    assert_eq!(taken.len(), 1, "{mapping}");
    assert_eq!(
        taken[0], "temp",
        "an exact alias ties with the name; the earlier column wins"
    );
    let other = mapping
        .unmapped
        .iter()
        .find(|unmapped| unmapped.column == "temperature")
        .unwrap_or_else(|| panic!("temperature column unmapped in {mapping}"));
    assert!(
        other.reason.contains("went to column \"temp\""),
        "{}",
        other.reason
    );
    assert_eq!(mapping.mappings.len() + mapping.unmapped.len(), 2);
}

#[test]
fn service_requests_use_coded_values() {
    let data = batch(vec![
        ("ticket_id", text(["A1", "A2", "A3", "A4"])),
        ("state", text(["open", "closed", "Open", "closed"])),
        ("latitude", floats([47.6, 47.61, 47.62, 47.59])),
        ("lon", floats([-122.3, -122.31, -122.33, -122.29])),
        ("诉求内容", text(["路灯不亮", "井盖缺失", "噪音", "积水"])),
    ]);
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "ServiceRequest")
        .expect("known model");
    assert_eq!(
        mapping.attribute_of("ticket_id"),
        Some("service_request_id")
    );
    assert_eq!(mapping.attribute_of("state"), Some("status"));
    assert_eq!(mapping.attribute_of("latitude"), Some("lat"));
    assert_eq!(mapping.attribute_of("lon"), Some("long"));
    assert_eq!(mapping.attribute_of("诉求内容"), Some("description"));
}

#[test]
fn annotate_writes_semantic_metadata() {
    let data = beijing_like();
    let mapping = SchemaMatcher::default()
        .match_model(&data, &registry(), "AirQualityObserved")
        .expect("known model");
    let annotated = mapping.annotate(&data).expect("same batch");
    let schema = annotated.schema();
    let co = schema.field_with_name("CO").expect("CO field");
    assert_eq!(
        co.metadata().get(STANDARD_NAME_KEY).map(String::as_str),
        Some("co")
    );
    assert_eq!(co.metadata().get(UNIT_KEY).map(String::as_str), Some("GQ"));
    let no = schema.field_with_name("No").expect("No field");
    assert!(no.metadata().is_empty());

    let other = batch(vec![("x", floats([1.0]))]);
    let error = mapping.annotate(&other).expect_err("different batch");
    assert!(
        error.to_string().contains("lacks mapped columns"),
        "{error}"
    );
}

#[test]
fn bad_input_is_rejected() {
    let matcher = SchemaMatcher::default();
    let error = matcher
        .match_model(&beijing_like(), &registry(), "AirQuality")
        .expect_err("unknown model");
    assert!(error.to_string().contains("AirQualityObserved"), "{error}");

    let no_columns = RecordBatch::new_empty(Arc::new(Schema::empty()));
    let error = matcher
        .match_model(&no_columns, &registry(), "AirQualityObserved")
        .expect_err("no columns");
    assert!(error.to_string().contains("no columns"), "{error}");

    let config = SchemaMatcherConfig {
        min_confidence: 2.0,
        ..SchemaMatcherConfig::default()
    };
    assert!(SchemaMatcher::new(config).is_err());
}

/// An embedder that returns the zero vector for every text.
struct BlindEmbedder;

impl TextEmbedder for BlindEmbedder {
    fn embed(&self, _text: &str) -> Vec<f32> {
        vec![0.0; 4]
    }

    fn dim(&self) -> usize {
        4
    }
}

#[test]
fn custom_embedder_replaces_the_default() {
    let config = SchemaMatcherConfig {
        embedding_weight: 1.0,
        ..SchemaMatcherConfig::default()
    };
    let data = batch(vec![("PM2.5", floats([10.0, 20.0]))]);
    let model = registry();
    let model = model.get("AirQualityObserved").expect("built in");
    let default = SchemaMatcher::new(config.clone()).expect("valid config");
    assert_eq!(
        default
            .match_batch(&data, model)
            .expect("valid")
            .attribute_of("PM2.5"),
        Some("pm25")
    );
    let blind = SchemaMatcher::new(config)
        .expect("valid config")
        .with_embedder(Arc::new(BlindEmbedder));
    assert_eq!(
        blind
            .match_batch(&data, model)
            .expect("valid")
            .attribute_of("PM2.5"),
        None
    );
}

#[test]
fn mapping_serialises_to_json() {
    let mapping = SchemaMatcher::default()
        .match_model(&beijing_like(), &registry(), "AirQualityObserved")
        .expect("known model");
    let json = serde_json::to_string(&mapping).expect("serialise");
    let back: SchemaMapping = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, mapping);
}
