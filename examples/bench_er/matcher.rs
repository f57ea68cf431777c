//! Blockers and the Fellegi-Sunter matcher of the benchmark, chosen from the data alone so
//! that any pair of tables in the same format can be run.

use std::sync::Arc;
use std::time::Instant;

use governance::fuse::embed::{HashedNgramEmbedder, TextEmbedder};
use governance::fuse::er::block::{
    BlockCap, Blocker, Blocking, BlockingRule, EmbeddingBlocker, EmbeddingBlockerConfig, KeyExpr,
    KeyFunction, MinHashLshBlocker, MinHashLshConfig, Shingling, SortedNeighbourhood,
    SortedNeighbourhoodConfig, StandardBlocker, StandardBlockerConfig,
};
use governance::fuse::er::cluster::{ClusterConfig, ScoredPair, cluster_pairs};
use governance::fuse::er::compare::Comparison;
use governance::fuse::er::fellegi_sunter::{
    FellegiSunterConfig, FellegiSunterModel, LevelMatrix, random_pairs,
};
use governance::fuse::er::metrics::{BlockingQuality, PairMetrics};
use governance::fuse::er::term_frequency::{TermFrequencyConfig, TermFrequencyLevel};
use governance::fuse::er::{CandidatePair, LinkMode, RecordTable};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct BlockingResult {
    pub method: String,
    pub candidates: u64,
    pub pair_completeness: f64,
    pub reduction_ratio: f64,
    pub pair_quality: f64,
    pub capped_blocks: u64,
    pub seconds: f64,
}

/// Levels of the text comparisons that get the term-frequency adjustment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TermFrequencyMode {
    #[default]
    Off,
    Exact,
    NearExact,
}

#[derive(Debug, Serialize)]
pub struct MatchingResult {
    pub comparisons: Vec<String>,
    pub term_frequency: TermFrequencyMode,
    pub term_frequency_levels: Vec<TermFrequencyLevel>,
    pub candidates: u64,
    pub em_iterations: usize,
    pub match_probability: f64,
    pub threshold: PairMetrics,
    pub one_to_one: PairMetrics,
    pub seconds: f64,
}

/// Returns the first attribute, which is the name or title in these tables.
fn text_attribute(table: &RecordTable) -> String {
    table.attributes().first().cloned().unwrap_or_default()
}

fn blockers(text: &str) -> Result<Vec<Box<dyn Blocker>>, String> {
    let err = |err: governance::fuse::er::ErError| err.to_string();
    // Blocks of more than 200 records are common words such as "the" or a brand that
    // hundreds of products share: they are skipped and reported.
    let cap = BlockCap {
        max_block_records: 200,
        ..BlockCap::default()
    };
    let standard = StandardBlocker::new(StandardBlockerConfig {
        rules: vec![BlockingRule::new(vec![KeyExpr::new(
            text,
            KeyFunction::Tokens,
        )])],
        cap,
    })
    .map_err(err)?;
    let sorted = SortedNeighbourhood::new(SortedNeighbourhoodConfig {
        passes: vec![
            KeyExpr::new(text, KeyFunction::Normalised),
            KeyExpr::new(text, KeyFunction::SortedTokens),
        ],
        window: 10,
        cap,
    })
    .map_err(err)?;
    let mut tokens = MinHashLshConfig::new(&[text], Shingling::Tokens);
    tokens.threshold = 0.3;
    tokens.cap = cap;
    let mut grams = MinHashLshConfig::new(&[text], Shingling::QGrams { q: 3 });
    grams.threshold = 0.3;
    grams.cap = cap;
    let embedder = HashedNgramEmbedder::new(512, &[3]);
    let embedding = EmbeddingBlocker::new(
        EmbeddingBlockerConfig::new(&[text], 5),
        Arc::new(move |value: &str| embedder.embed(value)),
    )
    .map_err(err)?;
    Ok(vec![
        Box::new(standard),
        Box::new(sorted),
        Box::new(MinHashLshBlocker::new(tokens).map_err(err)?),
        Box::new(MinHashLshBlocker::new(grams).map_err(err)?),
        Box::new(embedding),
    ])
}

/// Runs every blocker, prints its quality and returns the results with the union of all
/// candidates.
pub fn run_blockers(
    left: &RecordTable,
    right: &RecordTable,
    truth: &[CandidatePair],
) -> Result<(Vec<BlockingResult>, Vec<CandidatePair>), String> {
    let text = text_attribute(left);
    println!("  blocking on '{text}'");
    println!(
        "  {:<22} {:>10} {:>7} {:>9} {:>7} {:>7} {:>7}",
        "method", "candidates", "PC", "RR", "PQ", "capped", "seconds"
    );
    let mut results = Vec::new();
    let mut union: Vec<CandidatePair> = Vec::new();
    for blocker in blockers(&text)? {
        let Blocking { pairs, report } = blocker
            .link(left, right)
            .map_err(|err| format!("blocker {} failed: {err}", blocker.name()))?;
        let quality = BlockingQuality::measure(&pairs, truth, report.total_pairs);
        println!(
            "  {:<22} {:>10} {:>7.4} {:>9.5} {:>7.4} {:>7} {:>7.2}",
            report.method,
            quality.candidates,
            quality.pair_completeness,
            quality.reduction_ratio,
            quality.pair_quality,
            report.capped_blocks,
            report.seconds
        );
        results.push(BlockingResult {
            method: report.method.clone(),
            candidates: quality.candidates,
            pair_completeness: quality.pair_completeness,
            reduction_ratio: quality.reduction_ratio,
            pair_quality: quality.pair_quality,
            capped_blocks: report.capped_blocks,
            seconds: report.seconds,
        });
        union.extend(pairs);
    }
    union.sort_unstable();
    union.dedup();
    let total = left.len() as u64 * right.len() as u64;
    let quality = BlockingQuality::measure(&union, truth, total);
    println!(
        "  {:<22} {:>10} {:>7.4} {:>9.5} {:>7.4}",
        "union",
        quality.candidates,
        quality.pair_completeness,
        quality.reduction_ratio,
        quality.pair_quality
    );
    results.push(BlockingResult {
        method: "union".into(),
        candidates: quality.candidates,
        pair_completeness: quality.pair_completeness,
        reduction_ratio: quality.reduction_ratio,
        pair_quality: quality.pair_quality,
        capped_blocks: 0,
        seconds: results.iter().map(|result| result.seconds).sum(),
    });
    Ok((results, union))
}

/// Chooses one comparison per common attribute: numeric for mostly numeric values, TF-IDF cosine for
/// long text, Jaro-Winkler otherwise. The text comparisons get the term-frequency adjustment
/// that `term_frequency` selects.
fn comparisons(
    left: &RecordTable,
    right: &RecordTable,
    term_frequency: TermFrequencyMode,
) -> Result<Vec<Comparison>, String> {
    let common = left
        .common_attributes(right)
        .map_err(|err| err.to_string())?;
    let mut chosen = Vec::new();
    for attribute in common {
        let mut values = Vec::new();
        for table in [left, right] {
            let index = table
                .attribute_index(&attribute)
                .map_err(|err| err.to_string())?;
            values.extend(table.column(index).unwrap_or_default().iter().flatten());
        }
        if values.is_empty() {
            continue;
        }
        // A value counts as numeric only when it is a number as a whole, because product
        // names such as "Sony KDL-40" contain numbers too.
        let numeric = values
            .iter()
            .filter(|value| value.trim().parse::<f64>().is_ok())
            .count();
        let mean_length = values
            .iter()
            .map(|value| value.chars().count())
            .sum::<usize>()
            / values.len();
        let comparison = if numeric * 10 >= values.len() * 8 {
            Comparison::numeric(attribute)
        } else {
            let text = if mean_length > 25 {
                Comparison::tfidf(attribute)
            } else {
                Comparison::jaro_winkler(attribute)
            };
            match term_frequency {
                TermFrequencyMode::Off => text,
                TermFrequencyMode::Exact => {
                    text.with_term_frequency(TermFrequencyConfig::default())
                }
                TermFrequencyMode::NearExact => text.with_term_frequency(TermFrequencyConfig {
                    near_exact: true,
                    ..TermFrequencyConfig::default()
                }),
            }
        };
        chosen.push(comparison);
    }
    Ok(chosen)
}

/// Precision, recall and F1 of the pairs with match probability at or above 0.5, and again
/// after a greedy one-to-one assignment by probability.
pub struct Scores {
    pub threshold: PairMetrics,
    pub one_to_one: PairMetrics,
}

/// Scores match probabilities of `candidates` against `truth`, at probability 0.5 and after
/// the one-to-one assignment (clusters of at most two records).
pub fn score_probabilities(
    left: &RecordTable,
    right: &RecordTable,
    candidates: &[CandidatePair],
    probabilities: &[f64],
    truth: &[CandidatePair],
) -> Result<Scores, String> {
    let threshold = 0.5;
    let predicted: Vec<CandidatePair> = candidates
        .iter()
        .zip(probabilities)
        .filter(|(_, probability)| **probability >= threshold)
        .map(|(pair, _)| *pair)
        .collect();
    let at_threshold = PairMetrics::measure(&predicted, truth);

    // Right records are numbered after the left ones for clustering.
    let offset = left.len() as u32;
    let scored: Vec<ScoredPair> = candidates
        .iter()
        .zip(probabilities)
        .map(|(pair, &probability)| {
            ScoredPair::new(
                CandidatePair::new(pair.left, pair.right + offset),
                probability,
            )
        })
        .collect();
    let clustering = cluster_pairs(
        left.len() + right.len(),
        &scored,
        &ClusterConfig {
            threshold,
            max_cluster_size: 2,
        },
    )
    .map_err(|err| err.to_string())?;
    let mut one_to_one: Vec<CandidatePair> = clustering
        .pairs()
        .into_iter()
        .filter(|pair| pair.left < offset && pair.right >= offset)
        .map(|pair| CandidatePair::new(pair.left, pair.right - offset))
        .collect();
    one_to_one.sort_unstable();
    Ok(Scores {
        threshold: at_threshold,
        one_to_one: PairMetrics::measure(&one_to_one, truth),
    })
}

/// Prints one row of the matching table.
pub fn print_metrics(label: &str, metrics: &PairMetrics) {
    println!(
        "  {:<22} precision {:.4} recall {:.4} F1 {:.4} ({} predicted)",
        label,
        metrics.precision,
        metrics.recall,
        metrics.f1,
        metrics.true_positives + metrics.false_positives
    );
}

/// Trains Fellegi-Sunter on the candidates, predicts, and scores the matches. Returns the
/// result with the match probability of each candidate.
pub fn run_matcher(
    left: &RecordTable,
    right: &RecordTable,
    candidates: &[CandidatePair],
    truth: &[CandidatePair],
    term_frequency: TermFrequencyMode,
) -> Result<(MatchingResult, Vec<f64>), String> {
    let started = Instant::now();
    let err = |err: governance::fuse::er::ErError| err.to_string();
    let chosen = comparisons(left, right, term_frequency)?;
    let fitted = chosen
        .iter()
        .map(|comparison| comparison.fit(left, right))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let levels = LevelMatrix::compare(&fitted, left, right, candidates).map_err(err)?;
    let random = random_pairs(LinkMode::Link, left.len(), right.len(), 100_000, 7);
    let random_levels = LevelMatrix::compare(&fitted, left, right, &random).map_err(err)?;
    let model = FellegiSunterModel::train(
        &FellegiSunterConfig::default(),
        &levels,
        Some(&random_levels),
    )
    .map_err(err)?;
    let probabilities = if term_frequency == TermFrequencyMode::Off {
        model.predict(&levels).map_err(err)?
    } else {
        model
            .predict_with_term_frequencies(&levels, &fitted, left, right, candidates)
            .map_err(err)?
    };
    let term_frequency_levels = model.term_frequency_report(&fitted, 3).map_err(err)?;
    let scores = score_probabilities(left, right, candidates, &probabilities, truth)?;
    let seconds = started.elapsed().as_secs_f64();

    let names: Vec<String> = fitted.iter().map(|comparison| comparison.name()).collect();
    println!(
        "  Fellegi-Sunter (EM, {} iterations, lambda {:.5}) over {}",
        model.iterations,
        model.match_probability,
        names.join(", ")
    );
    if !term_frequency_levels.is_empty() {
        println!("  term-frequency adjusted levels (weights in bits, 3 most common values):");
        for level in &term_frequency_levels {
            print!("{level}");
        }
    }
    print_metrics("p >= 0.5", &scores.threshold);
    print_metrics("one-to-one", &scores.one_to_one);
    println!("  matching took {seconds:.2} s");
    let result = MatchingResult {
        comparisons: names,
        term_frequency,
        term_frequency_levels,
        candidates: candidates.len() as u64,
        em_iterations: model.iterations,
        match_probability: model.match_probability,
        threshold: scores.threshold,
        one_to_one: scores.one_to_one,
        seconds,
    };
    Ok((result, probabilities))
}
