//! Scale benchmark of deduplication: generated person records, blocking, unsupervised
//! Fellegi-Sunter and clustering, with Splink on the same records as the anchor.
//!
//! ```text
//! cargo run --release --example bench_er_scale -- [--records N] [--difficulty easy|hard]
//!                                                 [--json OUT] [--no-splink]
//!                                                 [--splink-python PATH] [--baseline]
//!                                                 [--term-frequency] [--no-date-swap]
//!                                                 [--no-cannot-link]
//! ```
//!
//! The records (1,000,000 by default) come from the person generator with a fixed seed.
//! `--difficulty hard` adds the generator's harder cases (`HardCases::default()`):
//! households that share an address and a phone, family members with the same family name
//! and close birth dates, twins, common names, nicknames and transposed day and month. The
//! default, `easy`, generates the same records as before those cases existed.
//! Before matching, names are normalised, dates of birth written as ISO dates and phone
//! numbers reduced to their last ten digits: the same standardised table goes to Splink as
//! CSV. Splink runs from `benches/matching/splink_anchor.py` with the Python of
//! `--splink-python` (default `$HOME/.cache/splink-venv/bin/python`, installed by
//! `benches/matching/setup_splink.sh`); when it is missing or fails, its result is `null`.
//!
//! Our model differs from the anchor in its comparisons, and a flag turns off each change.
//! First names use `Comparison::given_name`, where a common English nickname or the same
//! characters in another order count as the same name, and first and last name are also
//! compared across each other (`Comparison::with_swapped`). Phone, street and city form one
//! joint comparison (`governance_fuse::er::joint`), because household members share all
//! three, and three independent weights would count that evidence three times.
//! Dates of birth with day and month swapped get a level of their own
//! (`Comparison::with_day_month_swap`), and clustering keeps apart records whose first
//! names are clearly different (`governance_fuse::er::cannot_link`), because twins share
//! every other attribute. `--baseline` turns all of these off, giving the anchor's
//! comparisons. `--term-frequency` weighs exact agreement on names by how common the
//! value is. It is off by default because it changed F1 by less than 0.001 here.
//!
//! Our time covers blocking, comparison, EM training, prediction and clustering, but not
//! generation and standardisation. The peak memory is the process's VmHWM, so it includes
//! them. Splink's time covers reading the CSV through clustering.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program reports to its terminal"
)]

mod standardise;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use arrow::array::AsArray;
use arrow::datatypes::UInt64Type;
use governance::collect::synthetic::persons::{HardCases, PersonConfig, generate_persons};
use governance::fuse::er::block::{Blocker, KeyExpr, KeyFunction, StandardBlocker};
use governance::fuse::er::cannot_link::{CannotLinkRule, LevelCondition, cannot_link_pairs};
use governance::fuse::er::cluster::{ClusterConfig, ScoredPair, cluster_pairs_with_cannot_link};
use governance::fuse::er::compare::{Comparator, Comparison, FittedComparison};
use governance::fuse::er::fellegi_sunter::{
    FellegiSunterConfig, FellegiSunterModel, LevelMatrix, random_pairs,
};
use governance::fuse::er::joint::join_comparisons;
use governance::fuse::er::metrics::{
    BlockingQuality, cluster_pair_metrics, true_pairs_from_entities,
};
use governance::fuse::er::term_frequency::TermFrequencyConfig;
use governance::fuse::er::{CandidatePair, LinkMode, RecordTable};
use serde::Serialize;

const USAGE: &str = "\
usage: bench_er_scale [--records N] [--difficulty easy|hard] [--json OUT] [--no-splink]
                      [--splink-python PATH] [--csv PATH] [--baseline]
                      [--no-given-name] [--no-joint-household]
                      [--term-frequency | --no-term-frequency]
                      [--no-date-swap] [--no-cannot-link]

Deduplicates generated person records and compares with Splink on the same records.

  --records N           records to generate (default 1000000)
  --difficulty LEVEL    easy (default): persons with unique phones and addresses;
                        hard: adds shared households, families, twins, common names,
                        nicknames and transposed day and month
  --json OUT            write {records, difficulty, seconds, peak_rss_mb, f1, ...,
                        splink} to OUT
  --no-splink           skip the Splink anchor (its result is null)
  --splink-python PATH  Python with Splink installed
                        (default $HOME/.cache/splink-venv/bin/python)
  --csv PATH            write the standardised records for Splink to PATH and keep
                        the file (default: a temporary file, removed afterwards)
  --no-given-name       compare first names by plain Jaro-Winkler, without nicknames,
                        reordered characters and swapped first and last names
  --no-joint-household  compare phone, street and city as three independent
                        comparisons instead of one joint comparison
  --term-frequency      adjust exact agreement on first name, last name (and city
                        when it is not part of the joint comparison) by how common
                        the value is
  --no-term-frequency   no term-frequency adjustment (the default)
  --no-date-swap        no level of its own for dates with day and month swapped
  --no-cannot-link      cluster without cannot-link pairs (records whose first names
                        differ under every comparison may share a cluster)
  --baseline            no given-name comparator, joint household, date swap level
                        or cannot-link pairs: the comparisons of the Splink anchor";

#[derive(Debug, Serialize)]
struct Anchor {
    seconds: f64,
    peak_rss_mb: f64,
    f1: f64,
}

#[derive(Debug, Serialize)]
struct Outcome {
    records: usize,
    difficulty: &'static str,
    seconds: f64,
    peak_rss_mb: f64,
    f1: f64,
    precision: f64,
    recall: f64,
    candidates: u64,
    pair_completeness: f64,
    splink: Option<Anchor>,
}

/// Comparison settings of our model for persons.
#[derive(Debug, Clone, Copy)]
struct Method {
    /// First names by the given-name comparator (nicknames and reordered characters count
    /// as the same name), and first and last names also compared across each other, instead
    /// of plain Jaro-Winkler.
    given_names: bool,
    /// Phone, street and city as one joint comparison instead of three independent ones.
    joint_household: bool,
    /// Exact agreement on names (and city, unless it is in the joint comparison) weighed
    /// by the value's frequency.
    term_frequency: bool,
    /// A level of its own for dates of birth with day and month swapped.
    date_swap: bool,
    /// Clustering keeps apart records whose first names differ under both the given-name
    /// and the Levenshtein comparison.
    cannot_link: bool,
}

impl Method {
    /// The comparisons of the Splink anchor.
    const BASELINE: Method = Method {
        given_names: false,
        joint_household: false,
        term_frequency: false,
        date_swap: false,
        cannot_link: false,
    };

    fn comparisons(self) -> Vec<Comparison> {
        let levenshtein = |attribute: &str| {
            // One edit in ten characters is similarity 0.9, two edits 0.8, as Splink's
            // Levenshtein thresholds 1 and 2 on dates and phone numbers.
            Comparison::new(attribute, Comparator::Levenshtein, vec![0.9, 0.8])
        };
        let term_frequency = |comparison: Comparison, applies: bool| {
            if self.term_frequency && applies {
                comparison.with_term_frequency(TermFrequencyConfig::default())
            } else {
                comparison
            }
        };
        let first_name = if self.given_names {
            Comparison::given_name("first_name").with_swapped("last_name")
        } else {
            Comparison::jaro_winkler("first_name")
        };
        let last_name = if self.given_names {
            Comparison::jaro_winkler("last_name").with_swapped("first_name")
        } else {
            Comparison::jaro_winkler("last_name")
        };
        let date_of_birth = if self.date_swap {
            levenshtein("date_of_birth").with_day_month_swap()
        } else {
            levenshtein("date_of_birth")
        };
        let city = Comparison::new("city", Comparator::Exact, Vec::new());
        vec![
            term_frequency(first_name, true),
            term_frequency(last_name, true),
            date_of_birth,
            levenshtein("phone"),
            Comparison::jaro_winkler("street"),
            term_frequency(city, !self.joint_household),
        ]
    }

    /// Finds the pairs of `pairs` whose first names are clearly different: at `else` under
    /// the given-name comparator (no nickname, reordering or swap with the last name
    /// reaches Jaro-Winkler 0.8), and more than two edits apart in every way of writing
    /// them, also across the last name. Such pairs are twins and other relatives rather
    /// than one person written twice with a typo each time. `model_levels` contains the
    /// levels of `pairs` under the model's comparisons. Returns none without `cannot_link`.
    fn cannot_link(
        self,
        table: &RecordTable,
        pairs: &[CandidatePair],
        model_levels: &LevelMatrix,
    ) -> Result<Vec<CandidatePair>, String> {
        if !self.cannot_link {
            return Ok(Vec::new());
        }
        let err = |err: governance::fuse::er::ErError| err.to_string();
        let given_name = Comparison::given_name("first_name").with_swapped("last_name");
        let edits = Comparison::new(
            "first_name",
            Comparator::GivenNameEdits { max_edits: 2 },
            vec![1.0],
        )
        .with_swapped("last_name");
        // With `given_names` the model's first-name comparison is this given-name comparison
        // (term frequencies change only the weight of its `exact` level), so the pairs at its
        // `else` level below already meet the given-name condition and it is not computed
        // again. Otherwise the model compares first names with plain Jaro-Winkler.
        let reuse_given_name = self.given_names;
        let comparisons = if reuse_given_name {
            vec![edits]
        } else {
            vec![given_name, edits]
        };
        let fitted = comparisons
            .iter()
            .map(|comparison| comparison.fit(table, table))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        // The edit distances cost more than Jaro-Winkler, so only the pairs whose first
        // names are at `else` in the model's own first-name comparison get them.
        let first_name_differs = CannotLinkRule {
            conditions: vec![LevelCondition {
                comparison: "first_name".into(),
                at_most: 0,
            }],
        };
        let differing =
            cannot_link_pairs(model_levels, pairs, &[first_name_differs]).map_err(err)?;
        let levels = LevelMatrix::compare(&fitted, table, table, &differing).map_err(err)?;
        let mut conditions = vec![LevelCondition {
            comparison: "first_name:given_name_edits".into(),
            at_most: 0,
        }];
        if !reuse_given_name {
            conditions.push(LevelCondition {
                comparison: "first_name:given_name".into(),
                at_most: 0,
            });
        }
        cannot_link_pairs(&levels, &differing, &[CannotLinkRule { conditions }]).map_err(err)
    }

    /// Compares `pairs`, then joins the household comparisons when `joint_household` is set.
    fn levels(
        self,
        fitted: &[FittedComparison],
        table: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Result<LevelMatrix, String> {
        let err = |err: governance::fuse::er::ErError| err.to_string();
        let levels = LevelMatrix::compare(fitted, table, table, pairs).map_err(err)?;
        if !self.joint_household {
            return Ok(levels);
        }
        let household = ["phone", "street", "city"].map(String::from);
        join_comparisons(&levels, &household).map_err(err)
    }
}

struct Args {
    records: usize,
    hard: bool,
    json: Option<PathBuf>,
    splink: bool,
    python: PathBuf,
    csv: Option<PathBuf>,
    method: Method,
}

fn parse_args() -> Result<Args, String> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut args = Args {
        records: 1_000_000,
        hard: false,
        json: None,
        splink: true,
        python: home.join(".cache/splink-venv/bin/python"),
        csv: None,
        method: Method {
            given_names: true,
            joint_household: true,
            term_frequency: false,
            date_swap: true,
            cannot_link: true,
        },
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--records" => {
                let text = value()?;
                args.records = text
                    .parse()
                    .ok()
                    .filter(|&records| records >= 2)
                    .ok_or_else(|| {
                        format!("--records must be a whole number of at least 2, got {text:?}")
                    })?;
            }
            "--difficulty" => {
                args.hard = match value()?.as_str() {
                    "easy" => false,
                    "hard" => true,
                    other => {
                        return Err(format!(
                            "--difficulty must be easy or hard, got {other:?}\n\n{USAGE}"
                        ));
                    }
                };
            }
            "--json" => args.json = Some(value()?.into()),
            "--no-splink" => args.splink = false,
            "--splink-python" => args.python = value()?.into(),
            "--csv" => args.csv = Some(value()?.into()),
            "--baseline" => args.method = Method::BASELINE,
            "--no-given-name" => args.method.given_names = false,
            "--no-joint-household" => args.method.joint_household = false,
            "--term-frequency" => args.method.term_frequency = true,
            "--no-term-frequency" => args.method.term_frequency = false,
            "--no-date-swap" => args.method.date_swap = false,
            "--no-cannot-link" => args.method.cannot_link = false,
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

/// Peak resident memory of this process in MiB, from VmHWM in /proc/self/status.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Trains the model as the Splink anchor does, because EM over the union of all blocking
/// rules' pairs converges to a prior near 1 here. The pairs of a blocking rule agree on
/// its columns by construction, so a session estimates m only for the other comparisons.
/// Session one blocks on first and last name and supplies m of date of birth, phone, street
/// and city, session two blocks on date of birth and city and supplies m of the names. The
/// prior is Splink's direct estimate: pairs that agree on name and date of birth, divided
/// by an assumed recall of 0.7 and by all pairs. The u values come from random pairs.
/// With the joint household comparison, session two leaves it out whole, because its pairs
/// agree on city, so its m comes from session one.
///
/// `candidates` are the sorted candidate pairs and `candidate_levels` their levels. A
/// session's pairs that are among them take their levels from there instead of being
/// compared again, because the candidate blocking contains both sessions' rules.
fn train_like_splink(
    table: &RecordTable,
    fitted: &[FittedComparison],
    method: Method,
    candidates: &[CandidatePair],
    candidate_levels: &LevelMatrix,
) -> Result<FellegiSunterModel, String> {
    let err = |err: governance::fuse::er::ErError| err.to_string();
    let random = random_pairs(LinkMode::Dedupe, table.len(), table.len(), 1_000_000, 7);
    let random_levels = method.levels(fitted, table, &random)?;
    let block = |attributes: &[&str]| -> Result<Vec<CandidatePair>, String> {
        let rule = attributes
            .iter()
            .map(|attribute| KeyExpr::new(*attribute, KeyFunction::Exact))
            .collect();
        Ok(StandardBlocker::from_rules(vec![rule])
            .map_err(err)?
            .dedupe(table)
            .map_err(err)?
            .pairs)
    };
    let session = |attributes: &[&str]| -> Result<FellegiSunterModel, String> {
        let pairs = block(attributes)?;
        let rows: Option<Vec<usize>> = pairs
            .iter()
            .map(|pair| candidates.binary_search(pair).ok())
            .collect();
        let levels = match rows {
            Some(rows) => candidate_levels.select(&rows),
            None => method.levels(fitted, table, &pairs)?,
        };
        let config = FellegiSunterConfig {
            blocked_comparisons: attributes.iter().map(|a| (*a).to_owned()).collect(),
            ..FellegiSunterConfig::default()
        };
        FellegiSunterModel::train(&config, &levels, Some(&random_levels)).map_err(err)
    };
    let by_name = session(&["first_name", "last_name"])?;
    let by_birth = session(&["date_of_birth", "city"])?;
    // The prior needs only the number of pairs of the deterministic rule, as in Splink.
    let deterministic = block(&["first_name", "last_name", "date_of_birth"])?.len();

    let mut model = by_name.clone();
    for (index, comparison) in model.comparisons.iter_mut().enumerate() {
        if comparison.name.starts_with("first_name") || comparison.name.starts_with("last_name") {
            *comparison = by_birth.comparisons[index].clone();
        }
    }
    let n = table.len() as f64;
    let total_pairs = n * (n - 1.0) / 2.0;
    model.match_probability = ((deterministic as f64 / 0.7) / total_pairs).clamp(1e-12, 0.5);
    Ok(model)
}

fn run_ours(
    table: &RecordTable,
    entities: &[Option<u64>],
    method: Method,
) -> Result<Outcome, String> {
    let err = |err: governance::fuse::er::ErError| err.to_string();
    let started = Instant::now();
    let blocker = StandardBlocker::from_rules(vec![
        vec![
            KeyExpr::new("first_name", KeyFunction::Exact),
            KeyExpr::new("last_name", KeyFunction::Exact),
        ],
        vec![
            KeyExpr::new("date_of_birth", KeyFunction::Exact),
            KeyExpr::new("city", KeyFunction::Exact),
        ],
        vec![KeyExpr::new("phone", KeyFunction::Exact)],
    ])
    .map_err(err)?;
    let blocking = blocker.dedupe(table).map_err(err)?;
    let blocked_at = started.elapsed().as_secs_f64();

    let fitted = method
        .comparisons()
        .iter()
        .map(|comparison| comparison.fit(table, table))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let levels = method.levels(&fitted, table, &blocking.pairs)?;
    let compared_at = started.elapsed().as_secs_f64();
    let model = train_like_splink(table, &fitted, method, &blocking.pairs, &levels)?;
    let probabilities = if method.term_frequency {
        model
            .predict_with_term_frequencies(&levels, &fitted, table, table, &blocking.pairs)
            .map_err(err)?
    } else {
        model.predict(&levels).map_err(err)?
    };
    let cannot_link_started = started.elapsed().as_secs_f64();
    let cannot_link = method.cannot_link(table, &blocking.pairs, &levels)?;
    let cannot_link_seconds = started.elapsed().as_secs_f64() - cannot_link_started;
    drop(levels);
    if std::env::var_os("BENCH_ER_SHOW_MODEL").is_some() {
        println!("{model}");
    }
    let trained_at = started.elapsed().as_secs_f64();

    let scored: Vec<ScoredPair> = blocking
        .pairs
        .iter()
        .zip(probabilities)
        .map(|(pair, probability)| ScoredPair::new(*pair, probability))
        .collect();
    let clustering = cluster_pairs_with_cannot_link(
        table.len(),
        &scored,
        &cannot_link,
        &ClusterConfig {
            threshold: 0.5,
            max_cluster_size: 50,
        },
    )
    .map_err(err)?;
    let seconds = started.elapsed().as_secs_f64();

    let truth = true_pairs_from_entities(entities);
    let quality = BlockingQuality::measure(&blocking.pairs, &truth, blocking.report.total_pairs);
    let metrics = cluster_pair_metrics(&clustering.cluster_of, entities).map_err(err)?;
    println!(
        "ours: {} candidates (PC {:.4}, {} capped blocks) in {blocked_at:.2} s, compared by \
         {compared_at:.2} s, EM {} iterations by {trained_at:.2} s, {} clusters (largest {}, \
         {} pairs rejected by size, {} by {} cannot-link pairs found in {cannot_link_seconds:.2} s) \
         by {seconds:.2} s",
        blocking.pairs.len(),
        quality.pair_completeness,
        blocking.report.capped_blocks,
        model.iterations,
        clustering.clusters,
        clustering.largest,
        clustering.pairs_rejected_by_size,
        clustering.pairs_rejected_by_cannot_link,
        cannot_link.len()
    );
    Ok(Outcome {
        records: table.len(),
        difficulty: "easy",
        seconds,
        peak_rss_mb: peak_rss_mb(),
        f1: metrics.f1,
        precision: metrics.precision,
        recall: metrics.recall,
        candidates: blocking.pairs.len() as u64,
        pair_completeness: quality.pair_completeness,
        splink: None,
    })
}

fn run_splink(python: &PathBuf, csv: &PathBuf) -> Option<Anchor> {
    if !python.exists() {
        println!(
            "splink: not run, {} not found; install it with benches/matching/setup_splink.sh",
            python.display()
        );
        return None;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/matching/splink_anchor.py");
    let out = csv.with_extension("splink.json");
    let status = Command::new(python)
        .arg(&script)
        .arg(csv)
        .arg(&out)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => {
            println!("splink: failed with {status}; reporting null");
            return None;
        }
        Err(err) => {
            println!(
                "splink: could not start {}: {err}; reporting null",
                python.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(Anchor {
        seconds: value["seconds"].as_f64()?,
        peak_rss_mb: value["peak_rss_mb"].as_f64()?,
        f1: value["f1"].as_f64()?,
    })
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let generated = Instant::now();
    let batch = match generate_persons(&PersonConfig {
        records: args.records,
        hard: args.hard.then(HardCases::default),
        ..PersonConfig::default()
    }) {
        Ok(batch) => batch,
        Err(err) => {
            eprintln!("failed to generate persons: {err}");
            std::process::exit(1);
        }
    };
    let entities: Vec<Option<u64>> = batch
        .column(1)
        .as_primitive::<UInt64Type>()
        .iter()
        .collect();
    let table = match standardise::person_table(&batch) {
        Ok(table) => table,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1);
        }
    };
    println!(
        "generated ({}) and standardised {} records in {:.2} s",
        if args.hard { "hard" } else { "easy" },
        table.len(),
        generated.elapsed().as_secs_f64()
    );

    let mut outcome = match run_ours(&table, &entities, args.method) {
        Ok(outcome) => Outcome {
            difficulty: if args.hard { "hard" } else { "easy" },
            ..outcome
        },
        Err(message) => {
            eprintln!("deduplication failed: {message}");
            std::process::exit(1);
        }
    };
    println!(
        "ours:   {:>8.2} s  peak {:>8.1} MiB  F1 {:.4} (precision {:.4}, recall {:.4})",
        outcome.seconds, outcome.peak_rss_mb, outcome.f1, outcome.precision, outcome.recall
    );
    if args.splink {
        let csv = args
            .csv
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("persons-{}.csv", args.records)));
        match standardise::write_csv(&table, &entities, &csv) {
            Ok(()) => outcome.splink = run_splink(&args.python, &csv),
            Err(message) => println!("splink: not run, {message}"),
        }
        if args.csv.is_none() {
            let _ = std::fs::remove_file(&csv);
        }
    }
    match &outcome.splink {
        Some(anchor) => println!(
            "splink: {:>8.2} s  peak {:>8.1} MiB  F1 {:.4}",
            anchor.seconds, anchor.peak_rss_mb, anchor.f1
        ),
        None => println!("splink: null"),
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&outcome).unwrap_or_default();
        if let Err(err) = std::fs::write(path, text) {
            eprintln!("failed to write {}: {err}", path.display());
            std::process::exit(1);
        }
    }
}
