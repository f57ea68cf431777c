//! Times the dataset relationship graph with the exhaustive and the LSH pair search on
//! generated columns, and checks that both find the same edges.
//!
//! ```text
//! cargo run -p governance-fuse --example bench_graph_lsh -- --datasets 200 --columns 10
//! ```
//!
//! Each column draws a random share (30 % to 100 %) of one value domain of 50 to 400 codes,
//! so columns of one domain overlap and columns of different domains do not. Profiling
//! (MinHash signatures) is timed apart from linking, which is what the pair search changes.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark program reports to its terminal"
)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_fuse::graph::{DatasetGraph, DatasetProfile, GraphConfig, PairSearch};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Options {
    datasets: usize,
    columns: usize,
    domains: usize,
    seed: u64,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        datasets: 200,
        columns: 10,
        domains: 400,
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag} {value:?} is not a whole number"))?;
        match flag.as_str() {
            "--datasets" => options.datasets = number as usize,
            "--columns" => options.columns = number as usize,
            "--domains" => options.domains = number.max(1) as usize,
            "--seed" => options.seed = number,
            other => {
                return Err(format!(
                    "unknown option {other}: use --datasets, --columns, --domains or --seed"
                ));
            }
        }
    }
    Ok(options)
}

fn generated(options: &Options) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let sizes: Vec<usize> = (0..options.domains)
        .map(|_| rng.random_range(50..=400))
        .collect();
    (0..options.datasets)
        .map(|_| {
            let values: Vec<Vec<String>> = (0..options.columns)
                .map(|_| {
                    let domain = rng.random_range(0..options.domains);
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
            let fields: Vec<Field> = (0..options.columns)
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
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        })
        .collect()
}

fn link(
    search: PairSearch,
    profiles: &[DatasetProfile],
) -> Result<(DatasetGraph, f64), Box<dyn std::error::Error>> {
    let mut graph = DatasetGraph::new(GraphConfig {
        search,
        ..GraphConfig::default()
    })?;
    let start = Instant::now();
    for profile in profiles {
        graph.add_profile(profile.clone())?;
    }
    Ok((graph, start.elapsed().as_secs_f64()))
}

fn edge_set(graph: &DatasetGraph) -> BTreeSet<(String, String)> {
    graph
        .edges()
        .iter()
        .map(|edge| (edge.left.to_string(), edge.right.to_string()))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_options()?;
    let batches = generated(&options)?;
    let config = GraphConfig::default();
    let bands = config.lsh_bands()?;
    let hasher = DatasetGraph::new(config.clone())?.hasher().clone();

    let start = Instant::now();
    let profiles: Vec<DatasetProfile> = batches
        .iter()
        .enumerate()
        .map(|(index, batch)| {
            DatasetProfile::from_batches(
                &format!("set{index:04}"),
                std::slice::from_ref(batch),
                &hasher,
            )
        })
        .collect::<Result<_, _>>()?;
    let profile_seconds = start.elapsed().as_secs_f64();

    let (exhaustive, exhaustive_seconds) = link(PairSearch::Exhaustive, &profiles)?;
    let (lsh, lsh_seconds) = link(PairSearch::Lsh, &profiles)?;
    let expected = edge_set(&exhaustive);
    let found = edge_set(&lsh);
    let missed = expected.difference(&found).count();
    let extra = found.difference(&expected).count();

    let columns = options.datasets * options.columns;
    println!(
        "columns {columns} ({} data sets x {}), domains {}, seed {}",
        options.datasets, options.columns, options.domains, options.seed
    );
    println!(
        "banding {} bands x {} rows (J_min {:.3}, recall target {})",
        bands.bands(),
        bands.rows(),
        config.min_edge_jaccard(),
        config.lsh_recall
    );
    println!("profiling (both)   {profile_seconds:.3} s");
    println!(
        "exhaustive linking {exhaustive_seconds:.3} s, {} pairs compared, {} edges",
        exhaustive.pairs_compared(),
        expected.len()
    );
    println!(
        "lsh linking        {lsh_seconds:.3} s, {} pairs compared, {} edges",
        lsh.pairs_compared(),
        found.len()
    );
    println!("edges missed by lsh {missed}, extra {extra}");
    if missed > 0 || extra > 0 {
        return Err(format!("LSH edges differ: {missed} missed, {extra} extra").into());
    }
    Ok(())
}
