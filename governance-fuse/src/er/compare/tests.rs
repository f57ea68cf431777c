use super::*;
use crate::er::CandidatePair;

fn tables() -> (RecordTable, RecordTable) {
    let attributes = vec!["name".to_string(), "price".to_string()];
    let mut left = RecordTable::new("left", attributes.clone()).expect("valid");
    left.push("l0", vec![Some("Martha".into()), Some("$10.00".into())])
        .expect("arity");
    left.push("l1", vec![Some("Dwayne".into()), None])
        .expect("arity");
    let mut right = RecordTable::new("right", attributes).expect("valid");
    right
        .push("r0", vec![Some("MARTHA".into()), Some("10".into())])
        .expect("arity");
    right
        .push("r1", vec![Some("Marhta".into()), Some("12.5".into())])
        .expect("arity");
    right
        .push("r2", vec![Some("Duane".into()), Some("n/a".into())])
        .expect("arity");
    (left, right)
}

#[test]
fn jaro_winkler_levels_follow_splink_defaults() {
    let (left, right) = tables();
    let comparison = Comparison::jaro_winkler("name")
        .fit(&left, &right)
        .expect("fits");
    assert_eq!(
        comparison.level_labels(),
        [
            "else",
            "jaro_winkler >= 0.8",
            "jaro_winkler >= 0.92",
            "exact"
        ]
    );
    let level = |l, r| comparison.level(&left, &right, CandidatePair::new(l, r));
    assert_eq!(level(0, 0), 3);
    // MARTHA / MARHTA: 0.961.
    assert_eq!(level(0, 1), 2);
    // DWAYNE / DUANE: 0.84.
    assert_eq!(level(1, 2), 1);
    assert_eq!(level(0, 2), 0);
}

#[test]
fn numeric_levels_and_missing_values() {
    let (left, right) = tables();
    let comparison = Comparison::numeric("price")
        .fit(&left, &right)
        .expect("fits");
    let level = |l, r| comparison.level(&left, &right, CandidatePair::new(l, r));
    assert_eq!(comparison.level_label(level(0, 0)), "exact");
    assert_eq!(
        comparison.level_label(level(0, 1)),
        "numeric_relative >= 0.8"
    );
    // "n/a" has no number and a missing price has no value: both are null.
    assert_eq!(level(0, 2), NULL_LEVEL);
    assert_eq!(level(1, 0), NULL_LEVEL);
    let similarity = comparison
        .similarity(&left, &right, CandidatePair::new(0, 1))
        .expect("both numbers");
    assert!((similarity - 0.8).abs() < 1e-9);
}

#[test]
fn comparators_map_missing_to_none() {
    let comparators = [
        Comparator::Exact,
        Comparator::Levenshtein,
        Comparator::JaroWinkler,
        Comparator::QgramJaccard { q: 3 },
        Comparator::TokenJaccard,
        Comparator::TfIdfCosine,
        Comparator::SoftTfIdf { threshold: 0.9 },
        Comparator::NumericAbsolute { scale: 10.0 },
        Comparator::NumericRelative,
        Comparator::DateDistance { scale_days: 30.0 },
        Comparator::EmbeddingCosine {
            dim: 64,
            ngram_sizes: vec![3],
        },
    ];
    for comparator in comparators {
        let fitted = comparator.fit(["2020-01-01", "2020-01-16"]).expect("valid");
        assert_eq!(fitted.similarity(None, Some("x")), None, "{comparator:?}");
        let same = fitted
            .similarity(Some("2020-01-01"), Some("2020-01-01"))
            .expect("present");
        assert!((same - 1.0).abs() < 1e-6, "{comparator:?} gave {same}");
    }
    let dates = Comparator::DateDistance { scale_days: 30.0 }
        .fit([])
        .expect("valid");
    assert_eq!(
        dates.similarity(Some("2020-01-01"), Some("2020-01-16")),
        Some(0.5)
    );
}

#[test]
fn embedding_cosine_ranks_spelling_variants() {
    let fitted = Comparator::EmbeddingCosine {
        dim: 256,
        ngram_sizes: vec![2, 3, 4],
    }
    .fit([])
    .expect("valid");
    let close = fitted
        .similarity(Some("Haidian District"), Some("Haidian Distr."))
        .expect("present");
    let far = fitted
        .similarity(Some("Haidian District"), Some("Chaoyang Park"))
        .expect("present");
    assert!(close > far, "close {close}, far {far}");
    assert!((0.0..=1.0).contains(&far));
    let invalid = Comparator::EmbeddingCosine {
        dim: 0,
        ngram_sizes: vec![3],
    };
    assert!(invalid.validate().is_err());
}

#[test]
fn config_reads_json_and_rejects_bad_values() {
    let comparison: Comparison = serde_json::from_str(
        r#"{"attribute": "title", "comparator": {"kind": "qgram_jaccard"},
            "thresholds": [0.7, 0.4]}"#,
    )
    .expect("valid config");
    assert_eq!(comparison.comparator, Comparator::QgramJaccard { q: 3 });
    assert!(comparison.exact_level);

    let unsorted = Comparison::new("title", Comparator::JaroWinkler, vec![0.5, 0.9]);
    let error = unsorted.validate().expect_err("ascending thresholds");
    assert!(error.to_string().contains("descending"), "{error}");
    let bad_scale = Comparator::NumericAbsolute { scale: 0.0 };
    assert!(bad_scale.validate().is_err());
    let unknown = serde_json::from_str::<Comparison>(
        r#"{"attribute": "t", "comparator": {"kind": "exact"}, "levels": []}"#,
    );
    assert!(unknown.is_err());
}

#[test]
fn unknown_attribute_names_the_table() {
    let (left, right) = tables();
    let error = Comparison::jaro_winkler("surname")
        .fit(&left, &right)
        .expect_err("no such attribute");
    assert!(error.to_string().contains("surname"), "{error}");
}

/// Values that exercise normalisation: case, punctuation, CJK, digits with a decimal
/// point, an empty normal form, missing values, and two long values that differ only
/// after the edit comparators' prefix.
fn awkward_table(name: &str) -> RecordTable {
    let long = "a".repeat(EDIT_MAX_CHARS + 10);
    let values = [
        Some("Martha  O'Neil".to_string()),
        Some("MARTHA oneil".to_string()),
        Some("北京市 朝阳区".to_string()),
        Some("北京市朝阳区".to_string()),
        Some("129.95".to_string()),
        Some("129 95".to_string()),
        Some("---".to_string()),
        Some("".to_string()),
        None,
        Some(format!("{long}x")),
        Some(format!("{long}y")),
    ];
    let mut table = RecordTable::new(name, vec!["name".into()]).expect("valid");
    for (row, value) in values.into_iter().enumerate() {
        table.push(row.to_string(), vec![value]).expect("arity");
    }
    table
}

#[test]
fn batch_levels_match_single_levels() {
    let left = awkward_table("left");
    let right = awkward_table("right");
    let rows = left.len() as u32;
    let all_pairs: Vec<CandidatePair> = (0..rows)
        .flat_map(|l| (0..rows).map(move |r| CandidatePair::new(l, r)))
        .collect();
    let dedupe_pairs: Vec<CandidatePair> = (0..rows)
        .flat_map(|l| (l + 1..rows).map(move |r| CandidatePair::new(l, r)))
        .collect();
    for comparator in [
        Comparator::Exact,
        Comparator::Levenshtein,
        Comparator::JaroWinkler,
        Comparator::GivenName,
    ] {
        let comparison = Comparison::new("name", comparator, vec![0.9, 0.7, 0.3]);
        for (second, pairs) in [(&right, &all_pairs), (&left, &dedupe_pairs)] {
            let fitted = comparison.fit(&left, second).expect("fits");
            let batch = fitted.levels(&left, second, pairs);
            let single: Vec<u8> = pairs
                .iter()
                .map(|&pair| fitted.level(&left, second, pair))
                .collect();
            assert_eq!(batch, single, "{}", fitted.name());
        }
    }
}

#[test]
fn given_name_levels_nickname() {
    let mut table = RecordTable::new("people", vec!["first_name".into()]).expect("valid");
    for name in ["Robert", "Bob", "Roberta", "Richard", "ROBERT"] {
        table.push(name, vec![Some(name.into())]).expect("arity");
    }
    let fitted = Comparison::given_name("first_name")
        .fit(&table, &table)
        .expect("fits");
    let label = |left: u32, right: u32| {
        fitted.level_label(fitted.level(&table, &table, CandidatePair::new(left, right)))
    };
    assert_eq!(label(0, 1), "given_name >= 0.92");
    assert_eq!(label(0, 4), "exact");
    assert_eq!(label(1, 3), "else");
    let plain = Comparison::jaro_winkler("first_name")
        .fit(&table, &table)
        .expect("fits");
    assert_eq!(
        plain.level_label(plain.level(&table, &table, CandidatePair::new(0, 1))),
        "else"
    );
}

#[test]
fn swapped_names_reach_top_threshold() {
    let attributes = vec!["first_name".to_string(), "last_name".to_string()];
    let mut table = RecordTable::new("people", attributes).expect("valid");
    table
        .push("a", vec![Some("Doris".into()), Some("Jenkins".into())])
        .expect("arity");
    table
        .push("b", vec![Some("JENKINS".into()), Some("doris".into())])
        .expect("arity");
    table
        .push("c", vec![Some("Jenkins".into()), Some("Smith".into())])
        .expect("arity");
    table
        .push("d", vec![Some("Jeknins".into()), Some("Doris".into())])
        .expect("arity");
    let swapping = Comparison::given_name("first_name")
        .with_swapped("last_name")
        .fit(&table, &table)
        .expect("fits");
    let plain = Comparison::given_name("first_name")
        .fit(&table, &table)
        .expect("fits");
    let swapped_pair = CandidatePair::new(0, 1);
    assert_eq!(
        swapping.level_label(swapping.level(&table, &table, swapped_pair)),
        "given_name >= 0.92"
    );
    assert_eq!(
        plain.level_label(plain.level(&table, &table, swapped_pair)),
        "else"
    );
    // Only the first name is swapped, so the pair stays at else.
    let half_swapped = CandidatePair::new(0, 2);
    assert_eq!(
        swapping.level_label(swapping.level(&table, &table, half_swapped)),
        "else"
    );
    // Swapped with a typo: the swapped similarity of Jenkins and Jeknins.
    let typo = CandidatePair::new(0, 3);
    assert_eq!(
        swapping.level_label(swapping.level(&table, &table, typo)),
        "given_name >= 0.92"
    );
    let pairs = [swapped_pair, half_swapped, CandidatePair::new(1, 2), typo];
    let single: Vec<u8> = pairs
        .iter()
        .map(|&pair| swapping.level(&table, &table, pair))
        .collect();
    assert_eq!(swapping.levels(&table, &table, &pairs), single);
}

#[test]
fn swapped_needs_threshold_and_attribute() {
    let mut table = RecordTable::new("people", vec!["first_name".into()]).expect("valid");
    table.push("a", vec![Some("Doris".into())]).expect("arity");
    let no_threshold = Comparison::new("first_name", Comparator::Exact, Vec::new())
        .with_swapped("first_name")
        .validate()
        .expect_err("no threshold")
        .to_string();
    assert!(no_threshold.contains("add a threshold"), "{no_threshold}");
    let missing = Comparison::given_name("first_name")
        .with_swapped("last_name")
        .fit(&table, &table)
        .expect_err("no last_name attribute")
        .to_string();
    assert!(missing.contains("last_name"), "{missing}");
}

fn birth_dates() -> RecordTable {
    let mut table = RecordTable::new("people", vec!["born".to_string()]).expect("valid");
    for (id, born) in [
        ("a", "1980-03-05"),
        ("b", "1980-05-03"),
        ("c", "1980-03-06"),
        ("d", "1980-03-05"),
        ("e", "1981-05-03"),
        ("f", "1980-03-03"),
    ] {
        table.push(id, vec![Some(born.into())]).expect("arity");
    }
    table
}

#[test]
fn day_month_swap_gets_own_level() {
    let table = birth_dates();
    let comparison = Comparison::new("born", Comparator::Levenshtein, vec![0.9, 0.8])
        .with_day_month_swap()
        .fit(&table, &table)
        .expect("fits");
    assert_eq!(
        comparison.level_labels(),
        [
            "else",
            "levenshtein >= 0.8",
            "levenshtein >= 0.9",
            "day_month_swapped",
            "exact"
        ]
    );
    let pairs = [
        CandidatePair::new(0, 1),
        CandidatePair::new(0, 2),
        CandidatePair::new(0, 3),
        CandidatePair::new(0, 4),
        CandidatePair::new(0, 5),
    ];
    let labels: Vec<String> = pairs
        .iter()
        .map(|&pair| comparison.level_label(comparison.level(&table, &table, pair)))
        .collect();
    assert_eq!(
        labels,
        [
            "day_month_swapped",
            "levenshtein >= 0.9",
            "exact",
            "else",
            "levenshtein >= 0.9"
        ]
    );
    // The batch path normalises the column once and must give the same levels.
    let batch: Vec<u8> = comparison.levels(&table, &table, &pairs);
    let single: Vec<u8> = pairs
        .iter()
        .map(|&pair| comparison.level(&table, &table, pair))
        .collect();
    assert_eq!(batch, single);
}

#[test]
fn day_month_swap_off_keeps_generic_level() {
    let table = birth_dates();
    let comparison = Comparison::new("born", Comparator::Levenshtein, vec![0.9, 0.8])
        .fit(&table, &table)
        .expect("fits");
    assert_eq!(comparison.num_levels(), 4);
    let level = comparison.level(&table, &table, CandidatePair::new(0, 1));
    assert_eq!(comparison.level_label(level), "levenshtein >= 0.8");
}

#[test]
fn swapped_batch_levels_match_single() {
    let people = |rows: &[(&str, Option<&str>, Option<&str>)]| {
        let columns = vec!["first_name".to_string(), "last_name".to_string()];
        let mut table = RecordTable::new("people", columns).expect("valid");
        for (id, first, last) in rows {
            table
                .push(*id, vec![first.map(String::from), last.map(String::from)])
                .expect("arity");
        }
        table
    };
    let left = people(&[
        ("a", Some("Doris"), Some("Jenkins")),
        ("b", Some("Jenkins"), None),
        ("c", None, Some("Doris")),
    ]);
    let right = people(&[
        ("x", Some("JENKINS"), Some("doris")),
        ("y", Some("Jeknins"), Some("Doris")),
        ("z", Some("Bob"), None),
    ]);
    let all_pairs: Vec<CandidatePair> = (0..3)
        .flat_map(|l| (0..3).map(move |r| CandidatePair::new(l, r)))
        .collect();
    for comparison in [
        Comparison::given_name("first_name").with_swapped("last_name"),
        Comparison::jaro_winkler("last_name").with_swapped("first_name"),
    ] {
        for second in [&right, &left] {
            let fitted = comparison.fit(&left, second).expect("fits");
            let single: Vec<u8> = all_pairs
                .iter()
                .map(|&pair| fitted.level(&left, second, pair))
                .collect();
            let batch = fitted.levels(&left, second, &all_pairs);
            assert_eq!(batch, single, "{}", fitted.name());
        }
    }
}
