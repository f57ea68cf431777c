use super::*;
use crate::er::compare::Comparison;
use crate::er::fellegi_sunter::{ComparisonParameters, LevelParameters};

/// Ten records: "smith" six times, "jones" twice, "okafor" and "nakamura" once each.
fn surnames() -> RecordTable {
    let mut table = RecordTable::new("people", vec!["surname".into()]).expect("valid");
    let names = [
        "Smith", "SMITH", "smith", "Smith", "Smith", "Smith", "Jones", "Jones", "Okafor",
        "Nakamura",
    ];
    for (index, name) in names.iter().enumerate() {
        table
            .push(index.to_string(), vec![Some((*name).into())])
            .expect("arity");
    }
    table
}

/// Builds a model with one comparison `surname:exact` whose exact level has `u_exact`.
fn model(u_exact: f64) -> FellegiSunterModel {
    FellegiSunterModel {
        match_probability: 0.01,
        comparisons: vec![ComparisonParameters {
            name: "surname:exact".into(),
            levels: vec![
                LevelParameters {
                    label: "else".into(),
                    m: 0.1,
                    u: 1.0 - u_exact,
                    weight: (0.1 / (1.0 - u_exact)).log2(),
                },
                LevelParameters {
                    label: "exact".into(),
                    m: 0.9,
                    u: u_exact,
                    weight: (0.9 / u_exact).log2(),
                },
            ],
        }],
        iterations: 1,
        converged: true,
    }
}

fn fitted(config: Option<TermFrequencyConfig>) -> FittedComparison {
    let table = surnames();
    let mut comparison =
        Comparison::new("surname", crate::er::compare::Comparator::Exact, Vec::new());
    comparison.term_frequency = config;
    comparison.fit(&table, &table).expect("fits")
}

#[test]
fn frequencies_count_normalised_values() {
    let frequencies = TermFrequencies::count(["Smith", "SMITH", " smith ", "Jones"]);
    assert_eq!(frequencies.total(), 4);
    assert_eq!(frequencies.distinct(), 2);
    assert_eq!(frequencies.frequency("smith"), 0.75);
    assert_eq!(frequencies.frequency("jones"), 0.25);
    assert_eq!(frequencies.frequency("brown"), 0.0);
    assert_eq!(TermFrequencies::default().frequency("smith"), 0.0);
    assert_eq!(
        frequencies.most_common(5),
        [("smith", 0.75), ("jones", 0.25)]
    );
}

#[test]
fn rare_value_weighs_more_than_common() {
    let table = surnames();
    let comparison = fitted(Some(TermFrequencyConfig {
        min_u: 0.01,
        weight: 1.0,
        near_exact: false,
    }));
    // Smith with Smith, Jones with Jones, and a pair of different names.
    let pairs = [
        CandidatePair::new(0, 1),
        CandidatePair::new(6, 7),
        CandidatePair::new(8, 9),
    ];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &table, &table, &pairs)
        .expect("compares");
    let model = model(0.4);
    let adjustments = model
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect("adjusts");
    // Smith has frequency 0.6 and Jones 0.2, against a u of 0.4 for every exact pair.
    assert!(
        (adjustments[0] - (0.4f64 / 0.6).log2()).abs() < 1e-12,
        "{adjustments:?}"
    );
    assert!(
        (adjustments[1] - (0.4f64 / 0.2).log2()).abs() < 1e-12,
        "{adjustments:?}"
    );
    assert_eq!(adjustments[2], 0.0);

    let plain = model.predict(&levels).expect("predicts");
    let adjusted = model
        .predict_with_term_frequencies(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect("predicts");
    assert!(
        adjusted[0] < plain[0],
        "smith {} >= {}",
        adjusted[0],
        plain[0]
    );
    assert!(
        adjusted[1] > plain[1],
        "jones {} <= {}",
        adjusted[1],
        plain[1]
    );
    assert!((adjusted[2] - plain[2]).abs() < 1e-12);
}

#[test]
fn floor_and_weight_bound_the_adjustment() {
    let table = surnames();
    // Okafor, twice in eleven records, has frequency 0.18, below the floor of 0.2.
    let mut rare = table.clone();
    rare.push("10", vec![Some("Okafor".into())]).expect("arity");
    let comparison = Comparison::new("surname", crate::er::compare::Comparator::Exact, Vec::new())
        .with_term_frequency(TermFrequencyConfig {
            min_u: 0.2,
            weight: 0.5,
            near_exact: false,
        })
        .fit(&rare, &rare)
        .expect("fits");
    let pairs = [CandidatePair::new(8, 10)];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &rare, &rare, &pairs)
        .expect("compares");
    let adjustments = model(0.4)
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &rare,
            &rare,
            &pairs,
        )
        .expect("adjusts");
    assert!(
        (adjustments[0] - 0.5 * (0.4f64 / 0.2).log2()).abs() < 1e-12,
        "{adjustments:?}"
    );
}

#[test]
fn comparisons_without_adjustment_change_nothing() {
    let table = surnames();
    let comparison = fitted(None);
    assert!(comparison.term_frequencies().is_none());
    let pairs = [CandidatePair::new(0, 1), CandidatePair::new(8, 9)];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &table, &table, &pairs)
        .expect("compares");
    let adjustments = model(0.4)
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect("adjusts");
    assert_eq!(adjustments, [0.0, 0.0]);
}

#[test]
fn invalid_settings_and_inputs_rejected() {
    let table = surnames();
    for (min_u, weight, name) in [
        (0.0, 1.0, "min_u"),
        (f64::NAN, 1.0, "min_u"),
        (1e-4, 1.5, "weight"),
        (1e-4, -0.1, "weight"),
    ] {
        let comparison = Comparison::new("surname", crate::er::compare::Comparator::Exact, vec![])
            .with_term_frequency(TermFrequencyConfig {
                min_u,
                weight,
                near_exact: false,
            });
        let err = comparison.fit(&table, &table).expect_err("invalid");
        assert!(
            matches!(&err, ErError::InvalidConfig { name: setting, .. } if setting.contains(name)),
            "{err}"
        );
    }

    let mut without_exact =
        Comparison::jaro_winkler("surname").with_term_frequency(TermFrequencyConfig::default());
    without_exact.exact_level = false;
    let err = without_exact
        .fit(&table, &table)
        .expect_err("no exact level");
    assert!(err.to_string().contains("exact_level"), "{err}");

    // A model that lacks the adjusted comparison, as after joining it into another.
    let comparison = fitted(Some(TermFrequencyConfig::default()));
    let pairs = [CandidatePair::new(0, 1)];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &table, &table, &pairs)
        .expect("compares");
    let mut renamed = model(0.4);
    renamed.comparisons[0].name = "household:joint".into();
    let err = renamed
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect_err("not a model column");
    assert!(err.to_string().contains("'surname:exact'"), "{err}");

    let err = model(0.4)
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &[],
        )
        .expect_err("length");
    assert!(matches!(err, ErError::LengthMismatch { .. }), "{err}");
}

/// Builds a model with one comparison `surname:jaro_winkler` (else, `>= 0.9`, exact).
fn near_model() -> FellegiSunterModel {
    let level = |label: &str, m: f64, u: f64| LevelParameters {
        label: label.into(),
        m,
        u,
        weight: (m / u).log2(),
    };
    FellegiSunterModel {
        match_probability: 0.01,
        comparisons: vec![ComparisonParameters {
            name: "surname:jaro_winkler".into(),
            levels: vec![
                level("else", 0.05, 0.7),
                level("jaro_winkler >= 0.9", 0.15, 0.2),
                level("exact", 0.8, 0.1),
            ],
        }],
        iterations: 1,
        converged: true,
    }
}

#[test]
fn near_exact_level_uses_more_common_value() {
    // "Smithe" is a typo of Smith; "Jonnes" of Jones.
    let mut table = surnames();
    table
        .push("10", vec![Some("Smithe".into())])
        .expect("arity");
    table
        .push("11", vec![Some("Jonnes".into())])
        .expect("arity");
    let config = TermFrequencyConfig {
        min_u: 0.01,
        weight: 1.0,
        near_exact: true,
    };
    let comparison = Comparison::new(
        "surname",
        crate::er::compare::Comparator::JaroWinkler,
        vec![0.9],
    )
    .with_term_frequency(config)
    .fit(&table, &table)
    .expect("fits");
    let pairs = [
        CandidatePair::new(0, 10),
        CandidatePair::new(6, 11),
        CandidatePair::new(8, 9),
    ];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &table, &table, &pairs)
        .expect("compares");
    assert_eq!(levels.row(0), [1]);
    assert_eq!(levels.row(1), [1]);
    assert_eq!(levels.row(2), [0]);
    let adjustments = near_model()
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect("adjusts");
    // Twelve values: Smith 6 times, Jones twice, each typo once. The more common value of
    // each pair counts, against the exact level's u of 0.1.
    let smith = 6.0 / 12.0;
    let jones = 2.0 / 12.0;
    assert!(
        (adjustments[0] - (0.1f64 / smith).log2()).abs() < 1e-12,
        "{adjustments:?}"
    );
    assert!(
        (adjustments[1] - (0.1f64 / jones).log2()).abs() < 1e-12,
        "{adjustments:?}"
    );
    assert_eq!(adjustments[2], 0.0, "else level is not adjusted");

    // Without near_exact only exact pairs change.
    let exact_only = Comparison::new(
        "surname",
        crate::er::compare::Comparator::JaroWinkler,
        vec![0.9],
    )
    .with_term_frequency(TermFrequencyConfig {
        near_exact: false,
        ..config
    })
    .fit(&table, &table)
    .expect("fits");
    let adjustments = near_model()
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&exact_only),
            &table,
            &table,
            &pairs,
        )
        .expect("adjusts");
    assert_eq!(adjustments, [0.0, 0.0, 0.0]);
}

#[test]
fn near_exact_needs_threshold() {
    let table = surnames();
    let comparison = Comparison::new("surname", crate::er::compare::Comparator::Exact, vec![])
        .with_term_frequency(TermFrequencyConfig {
            near_exact: true,
            ..TermFrequencyConfig::default()
        });
    let err = comparison.fit(&table, &table).expect_err("no threshold");
    assert!(err.to_string().contains("near_exact"), "{err}");
}

#[test]
fn report_lists_adjusted_weights() {
    let table = surnames();
    let comparison = Comparison::new(
        "surname",
        crate::er::compare::Comparator::JaroWinkler,
        vec![0.9],
    )
    .with_term_frequency(TermFrequencyConfig {
        min_u: 0.01,
        weight: 1.0,
        near_exact: true,
    })
    .fit(&table, &table)
    .expect("fits");
    let model = near_model();
    let report = model
        .term_frequency_report(std::slice::from_ref(&comparison), 2)
        .expect("reports");
    assert_eq!(report.len(), 2, "{report:?}");
    let exact = &report[0];
    assert_eq!(exact.label, "exact");
    assert!((exact.trained_weight - 3.0).abs() < 1e-12, "{exact:?}");
    // A value below the floor gets log2(0.1 / 0.01) bits more.
    assert!(
        (exact.max_weight - (3.0 + 10f64.log2())).abs() < 1e-12,
        "{exact:?}"
    );
    assert_eq!(exact.most_common.len(), 2);
    assert_eq!(exact.most_common[0].value, "smith");
    assert_eq!(exact.most_common[0].frequency, 0.6);
    assert!(
        (exact.most_common[0].weight - (3.0 + (0.1f64 / 0.6).log2())).abs() < 1e-12,
        "{exact:?}"
    );
    assert_eq!(exact.most_common[1].value, "jones");
    assert!(exact.most_common[0].weight < exact.most_common[1].weight);
    assert!(exact.most_common[1].weight < exact.max_weight);

    let near = &report[1];
    assert_eq!(near.label, "jaro_winkler >= 0.9");
    assert!(
        (near.trained_weight - 0.75f64.log2()).abs() < 1e-12,
        "{near:?}"
    );
    let text = exact.to_string();
    assert!(text.contains("surname:jaro_winkler exact"), "{text}");
    assert!(text.contains("smith"), "{text}");
}

#[test]
fn empty_column_adjusts_nothing() {
    let mut table = RecordTable::new("people", vec!["surname".into()]).expect("valid");
    for index in 0..3 {
        table.push(index.to_string(), vec![None]).expect("arity");
    }
    let comparison = Comparison::new("surname", crate::er::compare::Comparator::Exact, vec![])
        .with_term_frequency(TermFrequencyConfig::default())
        .fit(&table, &table)
        .expect("fits");
    let frequencies = comparison.term_frequencies().expect("counted");
    assert_eq!(frequencies.total(), 0);
    assert!(frequencies.most_common(3).is_empty());
    let pairs = [CandidatePair::new(0, 1)];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &table, &table, &pairs)
        .expect("compares");
    assert_eq!(levels.row(0), [NULL_LEVEL]);
    let adjustments = model(0.4)
        .term_frequency_adjustments(
            &levels,
            std::slice::from_ref(&comparison),
            &table,
            &table,
            &pairs,
        )
        .expect("adjusts");
    assert_eq!(adjustments, [0.0]);
    let report = model(0.4)
        .term_frequency_report(std::slice::from_ref(&comparison), 3)
        .expect("reports");
    assert_eq!(report.len(), 1);
    assert!(report[0].most_common.is_empty());
}
