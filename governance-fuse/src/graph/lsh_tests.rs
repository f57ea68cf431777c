//! Tests of the LSH pair search against the exhaustive one.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// `datasets` data sets of `columns` text columns. Each column draws a random share (30 % to
/// 100 %) of one of `domains` value domains of 50 to 400 codes, so columns of one domain
/// overlap and columns of different domains do not.
fn generated(datasets: usize, columns: usize, domains: usize, seed: u64) -> Vec<RecordBatch> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sizes: Vec<usize> = (0..domains).map(|_| rng.random_range(50..=400)).collect();
    (0..datasets)
        .map(|_| {
            let values: Vec<Vec<String>> = (0..columns)
                .map(|_| {
                    let domain = rng.random_range(0..domains);
                    let share: f64 = rng.random_range(0.3..=1.0);
                    let mut codes: Vec<String> = (0..sizes[domain])
                        .map(|i| format!("D{domain}-{i}"))
                        .collect();
                    codes.shuffle(&mut rng);
                    codes.truncate(((sizes[domain] as f64) * share).ceil() as usize);
                    codes
                })
                .collect();
            let rows = values.iter().map(Vec::len).max().unwrap_or(0);
            let fields: Vec<Field> = (0..columns)
                .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
                .collect();
            let arrays: Vec<ArrayRef> = values
                .into_iter()
                .map(|codes| {
                    let mut cells: Vec<Option<String>> = codes.into_iter().map(Some).collect();
                    cells.resize(rows, None);
                    Arc::new(StringArray::from(cells)) as ArrayRef
                })
                .collect();
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch")
        })
        .collect()
}

fn build(search: PairSearch, batches: &[RecordBatch]) -> DatasetGraph {
    let mut graph = DatasetGraph::new(GraphConfig {
        search,
        ..GraphConfig::default()
    })
    .expect("graph");
    for (index, batch) in batches.iter().enumerate() {
        graph
            .add_batches(&format!("set{index:03}"), std::slice::from_ref(batch))
            .expect("add");
    }
    graph
}

fn edge_set(graph: &DatasetGraph) -> BTreeSet<(String, String, String)> {
    graph
        .edges()
        .iter()
        .map(|edge| {
            (
                edge.left.to_string(),
                edge.right.to_string(),
                format!("{:?}", edge.relations),
            )
        })
        .collect()
}

#[test]
fn lsh_finds_the_exhaustive_edges() {
    let batches = generated(40, 5, 30, 7);
    let exhaustive = build(PairSearch::Exhaustive, &batches);
    let lsh = build(PairSearch::Lsh, &batches);
    let expected = edge_set(&exhaustive);
    assert!(
        expected.len() > 100,
        "too few edges to compare: {}",
        expected.len()
    );
    let found = edge_set(&lsh);
    let missed: Vec<_> = expected.difference(&found).collect();
    assert!(
        missed.is_empty(),
        "LSH missed {} edges: {missed:?}",
        missed.len()
    );
    assert_eq!(found.len(), expected.len());
    assert_eq!(
        lsh.edges(),
        exhaustive.edges(),
        "same edges in the same order"
    );
    assert!(
        lsh.pairs_compared() * 2 < exhaustive.pairs_compared(),
        "LSH compared {} pairs, exhaustive {}",
        lsh.pairs_compared(),
        exhaustive.pairs_compared()
    );
}

#[test]
fn default_banding_follows_the_thresholds() {
    let config = GraphConfig::default();
    assert!((config.min_edge_jaccard() - 0.8 / 4.2).abs() < 1e-12);
    let bands = config.lsh_bands().expect("bands");
    assert_eq!((bands.bands(), bands.rows()), (128, 2));
    assert!(bands.candidate_probability(config.min_edge_jaccard()) >= 0.99);

    let strict = GraphConfig {
        min_jaccard: 0.9,
        min_containment: 0.95,
        lsh_max_size_ratio: 1.0,
        ..GraphConfig::default()
    };
    let bands = strict.lsh_bands().expect("bands");
    assert!(bands.rows() > 2, "{bands:?}");
}

#[test]
fn small_column_in_large_needs_a_higher_ratio() {
    let codes = |range: std::ops::Range<u32>| -> ArrayRef {
        Arc::new(StringArray::from(
            range.map(|i| format!("K{i:05}")).collect::<Vec<_>>(),
        ))
    };
    let large = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("code", DataType::Utf8, true)])),
        vec![codes(0..2000)],
    )
    .expect("large");
    let small = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("code", DataType::Utf8, true)])),
        vec![codes(100..140)],
    )
    .expect("small");
    let mut graph = DatasetGraph::new(GraphConfig {
        search: PairSearch::Lsh,
        lsh_max_size_ratio: 60.0,
        ..GraphConfig::default()
    })
    .expect("graph");
    graph.add_batches("large", &[large]).expect("large");
    graph.add_batches("small", &[small]).expect("small");
    let joins = graph.joins_for("small", "code").expect("joins");
    assert_eq!(joins.len(), 1, "{joins:?}");
    assert!(joins[0].containment > 0.8, "{joins:?}");
}

#[test]
fn invalid_lsh_settings_are_rejected() {
    for config in [
        GraphConfig {
            lsh_max_size_ratio: 0.5,
            ..GraphConfig::default()
        },
        GraphConfig {
            lsh_recall: 1.0,
            ..GraphConfig::default()
        },
    ] {
        let error = DatasetGraph::new(config).expect_err("invalid setting");
        assert!(error.to_string().contains("lsh_"), "{error}");
    }
}
