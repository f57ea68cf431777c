//! Tests of the dataset graph on small batches whose overlaps are known exactly.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};

use super::*;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch")
}

fn codes(range: std::ops::Range<u32>) -> ArrayRef {
    Arc::new(StringArray::from(
        range.map(|i| format!("S{i:04}")).collect::<Vec<_>>(),
    ))
}

/// Three standard errors of the containment estimate `|A ∩ B| / |A|`, propagated from the
/// Jaccard estimate's standard error `sqrt(J (1 - J) / k)` through
/// `C = J (|A| + |B|) / ((1 + J) |A|)`, plus 0.01 for the rounding of a small `J`.
fn containment_tolerance(jaccard: f64, size_a: f64, size_b: f64, hashes: f64) -> f64 {
    let jaccard_error = (jaccard * (1.0 - jaccard) / hashes).sqrt();
    let slope = (size_a + size_b) / (size_a * (1.0 + jaccard).powi(2));
    3.0 * jaccard_error * slope + 0.01
}

fn jaccard_tolerance(jaccard: f64, hashes: f64) -> f64 {
    3.0 * (jaccard * (1.0 - jaccard) / hashes).sqrt() + 0.01
}

/// stations.code: S0000..S0999. readings.station: S0000..S0199, each three times.
/// registry.code: S0500..S1499. registry.id: 500..1499 as integers.
fn graph(config: GraphConfig) -> DatasetGraph {
    let mut graph = DatasetGraph::new(config).expect("graph");
    let stations = batch(vec![
        ("code", codes(0..1000)),
        (
            "value",
            Arc::new(Float64Array::from(
                (0..1000).map(f64::from).collect::<Vec<_>>(),
            )),
        ),
    ]);
    let readings_codes: Vec<String> = (0..600).map(|i| format!("S{:04}", i % 200)).collect();
    let readings = batch(vec![
        ("station", Arc::new(StringArray::from(readings_codes))),
        (
            "ok",
            Arc::new(BooleanArray::from(
                (0..600).map(|i| i % 2 == 0).collect::<Vec<_>>(),
            )),
        ),
    ]);
    let registry = batch(vec![
        ("code", codes(500..1500)),
        (
            "id",
            Arc::new(Int64Array::from((500..1500).collect::<Vec<i64>>())),
        ),
    ]);
    graph
        .add_batches("stations", &[stations])
        .expect("stations");
    graph
        .add_batches("readings", &[readings])
        .expect("readings");
    graph
        .add_batches("registry", &[registry])
        .expect("registry");
    graph
}

#[test]
fn contained_column_is_found_within_tolerance() {
    let graph = graph(GraphConfig::default());
    let joins = graph.joins_for("readings", "station").expect("query");
    assert_eq!(joins.len(), 1, "{joins:?}");
    let join = &joins[0];
    assert_eq!(join.column.to_string(), "stations.code");
    // 200 values inside 1000: containment 1, reverse 0.2, Jaccard 0.2.
    let hashes = 256.0;
    assert!((join.containment - 1.0).abs() <= containment_tolerance(0.2, 200.0, 1000.0, hashes));
    assert!(
        (join.reverse_containment - 0.2).abs() <= containment_tolerance(0.2, 1000.0, 200.0, hashes)
    );
    assert!(
        (join.jaccard - 0.2).abs() <= jaccard_tolerance(0.2, hashes),
        "{}",
        join.jaccard
    );
}

#[test]
fn partial_overlap_is_estimated_within_tolerance() {
    let config = GraphConfig {
        min_jaccard: 0.25,
        ..GraphConfig::default()
    };
    let graph = graph(config);
    let joins = graph.joins_for("registry", "code").expect("query");
    let stations = joins
        .iter()
        .find(|join| join.column.to_string() == "stations.code")
        .expect("edge to stations.code");
    // 500 shared of 1000 each: Jaccard 1/3, containment 0.5 both ways.
    let truth = 1.0 / 3.0;
    assert!(
        (stations.jaccard - truth).abs() <= jaccard_tolerance(truth, 256.0),
        "{}",
        stations.jaccard
    );
    let tolerance = containment_tolerance(truth, 1000.0, 1000.0, 256.0);
    assert!(
        (stations.containment - 0.5).abs() <= tolerance,
        "{}",
        stations.containment
    );
    assert!((stations.reverse_containment - 0.5).abs() <= tolerance);
}

#[test]
fn default_thresholds_skip_partial_overlap() {
    let graph = graph(GraphConfig::default());
    let joins = graph.joins_for("registry", "code").expect("query");
    assert!(
        joins.iter().all(|join| join.column.dataset != "stations"),
        "{joins:?}"
    );
}

#[test]
fn integer_ids_join_text_codes_only_when_values_match() {
    let mut graph = graph(GraphConfig::default());
    let text_ids = batch(vec![(
        "id_text",
        Arc::new(StringArray::from(
            (500..1500).map(|i| i.to_string()).collect::<Vec<_>>(),
        )) as ArrayRef,
    )]);
    graph.add_batches("export", &[text_ids]).expect("export");
    let joins = graph.joins_for("export", "id_text").expect("query");
    assert_eq!(joins.len(), 1, "{joins:?}");
    assert_eq!(joins[0].column.to_string(), "registry.id");
    assert!(joins[0].jaccard > 0.95, "{}", joins[0].jaccard);
}

#[test]
fn floats_and_booleans_make_no_edges() {
    let graph = graph(GraphConfig::default());
    assert!(
        graph
            .joins_for("stations", "value")
            .expect("query")
            .is_empty()
    );
    assert!(graph.joins_for("readings", "ok").expect("query").is_empty());
    for edge in graph.edges() {
        assert_ne!(edge.left.column, "value");
        assert_ne!(edge.right.column, "ok");
    }
}

#[test]
fn neighbours_follow_edges() {
    let graph = graph(GraphConfig::default());
    assert_eq!(graph.neighbours("readings"), vec!["stations".to_string()]);
}

#[test]
fn export_round_trips_through_json() {
    let graph = graph(GraphConfig::default());
    let json = graph.to_json().expect("json");
    let back: GraphExport = serde_json::from_str(&json).expect("parse");
    let export = graph.export();
    assert_eq!(back.config, export.config);
    assert_eq!(back.datasets, export.datasets);
    assert_eq!(back.datasets.len(), 3);
    assert_eq!(back.edges.len(), export.edges.len());
    assert!(!back.edges.is_empty());
    for (read, written) in back.edges.iter().zip(&export.edges) {
        assert_eq!((&read.left, &read.right), (&written.left, &written.right));
        assert_eq!(read.relations, written.relations);
        // JSON keeps about 17 significant digits, not every bit of an f64.
        assert!((read.jaccard - written.jaccard).abs() < 1e-12);
        assert!((read.left_in_right - written.left_in_right).abs() < 1e-12);
        assert!((read.right_in_left - written.right_in_left).abs() < 1e-12);
    }
    assert!(!json.contains("mins"), "signatures stay out of the export");
}

#[test]
fn stored_profile_is_accepted_once() {
    let first = graph(GraphConfig::default());
    let profile = first.datasets()[1].clone();
    let json = serde_json::to_string(&profile).expect("profile json");
    let restored: DatasetProfile = serde_json::from_str(&json).expect("profile");
    let mut second = DatasetGraph::new(GraphConfig::default()).expect("graph");
    second
        .add_profile(first.datasets()[0].clone())
        .expect("stations");
    second.add_profile(restored.clone()).expect("readings");
    assert_eq!(second.edges(), &first.edges()[..second.edges().len()]);
    let error = second.add_profile(restored).expect_err("duplicate name");
    assert!(
        error.to_string().contains("already in the graph"),
        "{error}"
    );
}

#[test]
fn profile_from_another_seed_is_rejected() {
    let other = DatasetGraph::new(GraphConfig {
        seed: 99,
        ..GraphConfig::default()
    })
    .expect("graph");
    let profile = DatasetProfile::from_batches(
        "other",
        &[batch(vec![("code", codes(0..10))])],
        other.hasher(),
    )
    .expect("profile");
    let mut graph = graph(GraphConfig::default());
    let error = graph.add_profile(profile).expect_err("seed differs");
    let message = error.to_string();
    assert!(message.contains("\"code\""), "{message}");
    assert!(message.contains("seed 99"), "{message}");
}

#[test]
fn unknown_names_list_what_exists() {
    let graph = graph(GraphConfig::default());
    let error = graph.joins_for("weather", "code").expect_err("no data set");
    assert!(
        error.to_string().contains("stations, readings, registry"),
        "{error}"
    );
    let error = graph.joins_for("stations", "name").expect_err("no column");
    assert!(error.to_string().contains("code, value"), "{error}");
}

#[test]
fn invalid_configs_are_rejected() {
    for config in [
        GraphConfig {
            num_hashes: 0,
            ..GraphConfig::default()
        },
        GraphConfig {
            min_jaccard: 0.0,
            ..GraphConfig::default()
        },
        GraphConfig {
            min_containment: 1.5,
            ..GraphConfig::default()
        },
        GraphConfig {
            min_jaccard: f64::NAN,
            ..GraphConfig::default()
        },
    ] {
        assert!(matches!(
            DatasetGraph::new(config),
            Err(Error::Config { .. })
        ));
    }
    assert!(serde_json::from_str::<GraphConfig>(r#"{"hashes": 10}"#).is_err());
}
