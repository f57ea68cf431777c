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
}

#[test]
fn rare_value_weighs_more_than_common() {
    let table = surnames();
    let comparison = fitted(Some(TermFrequencyConfig {
        min_u: 0.01,
        weight: 1.0,
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
        .term_frequency_adjustments(&levels, std::slice::from_ref(&comparison), &table, &pairs)
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
        .predict_with_term_frequencies(&levels, std::slice::from_ref(&comparison), &table, &pairs)
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
        })
        .fit(&rare, &rare)
        .expect("fits");
    let pairs = [CandidatePair::new(8, 10)];
    let levels = LevelMatrix::compare(std::slice::from_ref(&comparison), &rare, &rare, &pairs)
        .expect("compares");
    let adjustments = model(0.4)
        .term_frequency_adjustments(&levels, std::slice::from_ref(&comparison), &rare, &pairs)
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
        .term_frequency_adjustments(&levels, std::slice::from_ref(&comparison), &table, &pairs)
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
            .with_term_frequency(TermFrequencyConfig { min_u, weight });
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
        .term_frequency_adjustments(&levels, std::slice::from_ref(&comparison), &table, &pairs)
        .expect_err("not a model column");
    assert!(err.to_string().contains("'surname:exact'"), "{err}");

    let err = model(0.4)
        .term_frequency_adjustments(&levels, std::slice::from_ref(&comparison), &table, &[])
        .expect_err("length");
    assert!(matches!(err, ErError::LengthMismatch { .. }), "{err}");
}
