use std::sync::Arc;
use std::time::Instant;

use super::*;
use crate::er::metrics::{BlockingQuality, normalise_truth};

fn table(name: &str, attributes: &[&str], rows: &[&[Option<&str>]]) -> RecordTable {
    let mut table = RecordTable::new(
        name,
        attributes.iter().map(|name| (*name).to_owned()).collect(),
    )
    .expect("distinct attributes");
    for (row, values) in rows.iter().enumerate() {
        table
            .push(
                row.to_string(),
                values
                    .iter()
                    .map(|value| value.map(str::to_owned))
                    .collect(),
            )
            .expect("arity");
    }
    table
}

fn people() -> RecordTable {
    table(
        "people",
        &["first", "last", "dob"],
        &[
            &[Some("Robert"), Some("Smith"), Some("1980-02-01")],
            &[Some("Rupert"), Some("Smyth"), Some("01/02/1980")],
            &[Some("Alice"), Some("Jones"), Some("1975-07-30")],
            &[Some("alice"), Some("JONES"), None],
            &[Some("Wei"), Some("Li"), Some("1990-01-01")],
            &[Some("Li"), Some("Wei"), Some("1990-01-01")],
        ],
    )
}

fn pair_list(blocking: &Blocking) -> Vec<(u32, u32)> {
    blocking
        .pairs
        .iter()
        .map(|pair| (pair.left, pair.right))
        .collect()
}

#[test]
fn standard_rules_unite_and_order() {
    let blocker = StandardBlocker::from_rules(vec![
        vec![KeyExpr::new("last", KeyFunction::Soundex)],
        vec![KeyExpr::new("dob", KeyFunction::Year)],
        vec![KeyExpr::combined(
            &["first", "last"],
            KeyFunction::SortedTokens,
        )],
    ])
    .expect("valid rules");
    let blocking = blocker.dedupe(&people()).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 1), (2, 3), (4, 5)]);
    assert!(blocking.pairs.iter().all(|pair| pair.left < pair.right));
    assert_eq!(blocking.report.candidates, 3);
    assert_eq!(blocking.report.total_pairs, 15);
    assert_eq!(blocking.report.records_without_key, 1);
    assert!((blocking.report.reduction_ratio() - 0.8).abs() < 1e-12);
}

#[test]
fn standard_link_pairs_across_tables() {
    let left = table(
        "left",
        &["name", "city"],
        &[
            &[Some("Acme Ltd"), Some("Berlin")],
            &[Some("Zeta"), Some("Paris")],
        ],
    );
    let right = table(
        "right",
        &["name", "zip"],
        &[
            &[Some("ACME"), Some("10115")],
            &[Some("Acme Limited"), None],
            &[Some("Omega"), None],
        ],
    );
    let blocker =
        StandardBlocker::from_rules(vec![vec![KeyExpr::new("name", KeyFunction::FirstToken)]])
            .expect("valid rules");
    let blocking = blocker.link(&left, &right).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 0), (0, 1)]);
    assert_eq!(blocking.report.total_pairs, 6);
    assert_eq!(blocking.report.mode, LinkMode::Link);
}

#[test]
fn frequent_key_capped_quickly() {
    // 100,000 records share one key; without the cap they would form 5 billion pairs.
    let mut table = RecordTable::new("big", vec!["city".into(), "name".into()]).expect("valid");
    for row in 0..100_000u32 {
        table
            .push(
                row.to_string(),
                vec![Some("Beijing".into()), Some(format!("person {}", row / 2))],
            )
            .expect("arity");
    }
    let blocker = StandardBlocker::new(StandardBlockerConfig {
        rules: vec![
            BlockingRule::new(vec![KeyExpr::new("city", KeyFunction::Exact)]),
            BlockingRule::new(vec![KeyExpr::new("name", KeyFunction::Normalised)]),
        ],
        cap: BlockCap {
            max_block_records: 10_000,
            ..BlockCap::default()
        },
    })
    .expect("valid rules");
    let started = Instant::now();
    let blocking = blocker.dedupe(&table).expect("cap applies");
    let seconds = started.elapsed().as_secs_f64();
    assert!(seconds < 20.0, "took {seconds} s");
    assert_eq!(blocking.report.capped_blocks, 1);
    assert_eq!(blocking.report.capped_records, 100_000);
    assert_eq!(blocking.report.pairs_skipped, 100_000 * 99_999 / 2);
    assert_eq!(blocking.report.capped[0].key, "Beijing");
    assert_eq!(blocking.report.capped[0].rule, "exact(city)");
    // The name rule still pairs the two records of each person.
    assert_eq!(blocking.pairs.len(), 50_000);
}

#[test]
fn pair_budget_exceeded_is_error() {
    let mut table = RecordTable::new("t", vec!["key".into()]).expect("valid");
    for row in 0..200 {
        table
            .push(row.to_string(), vec![Some("k".into())])
            .expect("arity");
    }
    let blocker = StandardBlocker::new(StandardBlockerConfig {
        rules: vec![BlockingRule::new(vec![KeyExpr::new(
            "key",
            KeyFunction::Exact,
        )])],
        cap: BlockCap {
            max_total_pairs: 1_000,
            ..BlockCap::default()
        },
    })
    .expect("valid rules");
    let err = blocker.dedupe(&table).expect_err("19,900 pairs > 1,000");
    assert!(err.to_string().contains("max_total_pairs"), "{err}");
}

#[test]
fn empty_inputs_rejected() {
    let blocker = StandardBlocker::from_rules(vec![vec![KeyExpr::new("last", KeyFunction::Exact)]])
        .expect("valid rules");
    let empty = table("empty", &["last"], &[]);
    let err = blocker.dedupe(&empty).expect_err("no records");
    assert!(
        matches!(err, ErError::EmptyInput { ref table } if table == "empty"),
        "{err}"
    );
    let full = table("full", &["last"], &[&[Some("Smith")]]);
    let err = blocker.link(&full, &empty).expect_err("right side empty");
    assert!(
        matches!(err, ErError::EmptyInput { ref table } if table == "empty"),
        "{err}"
    );
    let err = blocker.link(&empty, &full).expect_err("left side empty");
    assert!(
        matches!(err, ErError::EmptyInput { ref table } if table == "empty"),
        "{err}"
    );
}

#[test]
fn all_null_key_rejected() {
    let blocker =
        StandardBlocker::from_rules(vec![vec![KeyExpr::new("phone", KeyFunction::Digits)]])
            .expect("valid rules");
    let nulls = table("calls", &["phone"], &[&[None], &[Some("  ")]]);
    let err = blocker.dedupe(&nulls).expect_err("all null");
    assert!(matches!(err, ErError::AllNull { .. }), "{err}");
    assert!(err.to_string().contains("'phone'"), "{err}");
    let lsh = MinHashLshBlocker::new(MinHashLshConfig::new(&["phone"], Shingling::Tokens))
        .expect("valid config");
    assert!(matches!(lsh.dedupe(&nulls), Err(ErError::AllNull { .. })));
}

#[test]
fn tables_without_common_attribute_rejected() {
    let left = table("left", &["title"], &[&[Some("a")]]);
    let right = table("right", &["name"], &[&[Some("a")]]);
    let blocker =
        StandardBlocker::from_rules(vec![vec![KeyExpr::new("title", KeyFunction::Exact)]])
            .expect("valid rules");
    let err = blocker.link(&left, &right).expect_err("nothing shared");
    assert!(matches!(err, ErError::NoCommonAttribute { .. }), "{err}");
    let sorted = SortedNeighbourhood::new(SortedNeighbourhoodConfig {
        passes: vec![KeyExpr::new("title", KeyFunction::Normalised)],
        window: 3,
        cap: BlockCap::default(),
    })
    .expect("valid config");
    assert!(matches!(
        sorted.link(&left, &right),
        Err(ErError::NoCommonAttribute { .. })
    ));
    // A key attribute that only one side has is named in the error.
    let right = table("right", &["title", "name"], &[&[Some("a"), Some("b")]]);
    let blocker = StandardBlocker::from_rules(vec![vec![KeyExpr::new("name", KeyFunction::Exact)]])
        .expect("valid rules");
    let err = blocker.link(&left, &right).expect_err("left lacks name");
    assert!(matches!(err, ErError::UnknownAttribute { .. }), "{err}");
}

#[test]
fn invalid_configs_rejected() {
    assert!(StandardBlocker::from_rules(Vec::new()).is_err());
    assert!(StandardBlocker::from_rules(vec![Vec::new()]).is_err());
    let err = SortedNeighbourhood::new(SortedNeighbourhoodConfig {
        passes: vec![KeyExpr::new("a", KeyFunction::Exact)],
        window: 1,
        cap: BlockCap::default(),
    })
    .expect_err("window 1");
    assert!(err.to_string().contains("window"), "{err}");
    let mut config = MinHashLshConfig::new(&["a"], Shingling::QGrams { q: 0 });
    assert!(MinHashLshBlocker::new(config.clone()).is_err());
    config.shingling = Shingling::Tokens;
    config.threshold = 1.5;
    assert!(matches!(
        MinHashLshBlocker::new(config),
        Err(ErError::Sketch(_))
    ));
    assert!(UnionBlocker::new("none", Vec::new()).is_err());
}

#[test]
fn config_rejects_unknown_fields() {
    let json = r#"{"rules": [{"keys": [{"attributes": ["a"], "function": {"kind": "prefix", "length": 2}}]}], "window": 3}"#;
    let err = serde_json::from_str::<StandardBlockerConfig>(json).expect_err("unknown field");
    assert!(err.to_string().contains("window"), "{err}");
    let json = r#"{"rules": [{"keys": [{"attributes": ["a"], "function": {"kind": "prefix", "length": 2}}]}]}"#;
    let config: StandardBlockerConfig = serde_json::from_str(json).expect("valid");
    assert_eq!(config.cap, BlockCap::default());
}

#[test]
fn sorted_neighbourhood_window() {
    let names = table(
        "names",
        &["name"],
        &[
            &[Some("carol")],
            &[Some("alice")],
            &[Some("bob")],
            &[Some("alicia")],
            &[None],
        ],
    );
    let blocker = SortedNeighbourhood::new(SortedNeighbourhoodConfig {
        passes: vec![KeyExpr::new("name", KeyFunction::Normalised)],
        window: 2,
        cap: BlockCap::default(),
    })
    .expect("valid config");
    // Sorted: alice(1), alicia(3), bob(2), carol(0).
    let blocking = blocker.dedupe(&names).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 2), (1, 3), (2, 3)]);
    assert_eq!(blocking.report.records_without_key, 1);
}

#[test]
fn sorted_neighbourhood_link_only_across() {
    let left = table("l", &["name"], &[&[Some("anna")], &[Some("bert")]]);
    let right = table("r", &["name"], &[&[Some("anne")], &[Some("berta")]]);
    let blocker = SortedNeighbourhood::new(SortedNeighbourhoodConfig {
        passes: vec![KeyExpr::new("name", KeyFunction::Normalised)],
        window: 2,
        cap: BlockCap::default(),
    })
    .expect("valid config");
    // Sorted: anna(l0), anne(r0), bert(l1), berta(r1).
    let blocking = blocker.link(&left, &right).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 0), (1, 0), (1, 1)]);
}

#[test]
fn lsh_finds_near_duplicates() {
    let titles = table(
        "products",
        &["title"],
        &[
            &[Some("Sony Bravia 40 inch LCD television KDL40")],
            &[Some("sony bravia 40in lcd television kdl40")],
            &[Some("Canon PowerShot SD1100 digital camera silver")],
            &[Some("canon powershot sd1100 is digital camera (silver)")],
            &[Some("Garmin nuvi 260 portable GPS navigator")],
        ],
    );
    let mut config = MinHashLshConfig::new(&["title"], Shingling::QGrams { q: 3 });
    config.threshold = 0.4;
    let blocker = MinHashLshBlocker::new(config).expect("valid config");
    let blocking = blocker.dedupe(&titles).expect("valid input");
    let truth = normalise_truth(
        LinkMode::Dedupe,
        [CandidatePair::new(0, 1), CandidatePair::new(2, 3)],
    );
    let quality = BlockingQuality::measure(&blocking.pairs, &truth, blocking.report.total_pairs);
    assert_eq!(quality.pair_completeness, 1.0, "{:?}", blocking.pairs);
    assert!(quality.candidates <= 4, "{:?}", blocking.pairs);
}

/// Counts of letters a to z: close spellings give close vectors.
fn letter_counts() -> EmbedFn {
    Arc::new(|text: &str| {
        let mut vector = vec![0.0f32; 26];
        for letter in text.chars().filter(char::is_ascii_alphabetic) {
            vector[(letter.to_ascii_lowercase() as u8 - b'a') as usize] += 1.0;
        }
        vector
    })
}

#[test]
fn embedding_exact_top_k() {
    let left = table(
        "l",
        &["name"],
        &[&[Some("jonathan")], &[Some("margaret")], &[Some("")]],
    );
    let right = table(
        "r",
        &["name"],
        &[&[Some("margret")], &[Some("jonathon")], &[Some("xyz")]],
    );
    let mut config = EmbeddingBlockerConfig::new(&["name"], 1);
    config.index = EmbeddingIndex::Exact;
    config.min_similarity = Some(0.5);
    let blocker = EmbeddingBlocker::new(config, letter_counts()).expect("valid config");
    let blocking = blocker.link(&left, &right).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 1), (1, 0)]);
    assert_eq!(blocking.report.records_without_key, 1);
}

#[test]
fn embedding_hyperplanes_agree_with_exact() {
    let words = [
        "amsterdam",
        "amsterdan",
        "berlin",
        "berlinn",
        "copenhagen",
        "kopenhagen",
        "dublin",
        "dublinn",
        "edinburgh",
        "edinburg",
        "florence",
        "firenze",
        "geneva",
        "genf",
        "helsinki",
        "helsinky",
    ];
    let rows: Vec<[Option<&str>; 1]> = words.iter().map(|word| [Some(*word)]).collect();
    let rows: Vec<&[Option<&str>]> = rows.iter().map(|row| &row[..]).collect();
    let cities = table("cities", &["name"], &rows);
    let exact = EmbeddingBlocker::new(
        EmbeddingBlockerConfig {
            index: EmbeddingIndex::Exact,
            ..EmbeddingBlockerConfig::new(&["name"], 1)
        },
        letter_counts(),
    )
    .expect("valid config")
    .dedupe(&cities)
    .expect("valid input");
    let approximate = EmbeddingBlocker::new(
        EmbeddingBlockerConfig {
            index: EmbeddingIndex::RandomHyperplanes {
                bits: 2,
                tables: 16,
                seed: 3,
            },
            ..EmbeddingBlockerConfig::new(&["name"], 1)
        },
        letter_counts(),
    )
    .expect("valid config")
    .dedupe(&cities)
    .expect("valid input");
    let quality = BlockingQuality::measure(&approximate.pairs, &exact.pairs, 120);
    assert!(
        quality.pair_completeness >= 0.75,
        "exact {:?} approximate {:?}",
        exact.pairs,
        approximate.pairs
    );
    assert!(approximate.pairs.iter().all(|pair| pair.left < pair.right));
}

#[test]
fn union_blocker_merges_reports() {
    let first = StandardBlocker::from_rules(vec![vec![KeyExpr::new("dob", KeyFunction::Year)]])
        .expect("valid rules");
    let second =
        StandardBlocker::from_rules(vec![vec![KeyExpr::new("last", KeyFunction::Soundex)]])
            .expect("valid rules");
    let union =
        UnionBlocker::new("both", vec![Box::new(first), Box::new(second)]).expect("two blockers");
    let blocking = union.dedupe(&people()).expect("valid input");
    assert_eq!(pair_list(&blocking), [(0, 1), (2, 3), (4, 5)]);
    assert_eq!(blocking.report.method, "both");
}
