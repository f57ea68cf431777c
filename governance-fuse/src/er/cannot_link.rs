//! Rules that mark candidate pairs as confidently two entities, whatever their match score.
//!
//! A Fellegi-Sunter model adds up independent evidence, so twins who share family name,
//! birth date, address and phone outscore their different given names. A
//! [`CannotLinkRule`] names levels of comparisons that, together, rule a match out: for
//! twins, given names that neither match nor come close under any comparison. The pairs it
//! selects go to [`crate::er::cluster::cluster_pairs_with_cannot_link`] as constraints.
//!
//! The rule reads a [`LevelMatrix`], which may hold comparisons that the model does not use,
//! such as a plain Levenshtein comparison of given names next to the model's given-name
//! comparison. A `null` level never satisfies a condition: a missing value is no evidence
//! that two records differ.
//!
//! ```
//! use governance_fuse::er::CandidatePair;
//! use governance_fuse::er::cannot_link::{CannotLinkRule, LevelCondition, cannot_link_pairs};
//! use governance_fuse::er::fellegi_sunter::LevelMatrix;
//!
//! let labels = vec![vec!["else".to_string(), "close".into(), "exact".into()]];
//! let levels = LevelMatrix::new(vec!["first_name:given_name".into()], labels, vec![0, 2])?;
//! let pairs = [CandidatePair::new(0, 1), CandidatePair::new(2, 3)];
//! let rule = CannotLinkRule {
//!     conditions: vec![LevelCondition { comparison: "first_name".into(), at_most: 0 }],
//! };
//! assert_eq!(cannot_link_pairs(&levels, &pairs, &[rule])?, [CandidatePair::new(0, 1)]);
//! # Ok::<(), governance_fuse::er::ErError>(())
//! ```

use serde::{Deserialize, Serialize};

use super::compare::NULL_LEVEL;
use super::fellegi_sunter::LevelMatrix;
use super::joint::names_comparison;
use super::{CandidatePair, ErError};

/// One comparison at or below a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelCondition {
    /// Comparison, by name (`first_name:given_name`) or attribute (`first_name`).
    pub comparison: String,
    /// Highest level that satisfies the condition: 0 is `else` alone.
    pub at_most: u8,
}

/// Conditions that all hold for a pair that is confidently not a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannotLinkRule {
    /// Conditions, at least one; a pair satisfies the rule when it satisfies every one.
    pub conditions: Vec<LevelCondition>,
}

/// Returns the pairs of `pairs` that satisfy at least one of `rules`, in pair order, where
/// `levels` contains the levels of `pairs` in the same order.
///
/// # Errors
/// [`ErError::LengthMismatch`] when `levels` and `pairs` differ in length, and
/// [`ErError::InvalidConfig`] for a rule without conditions, a condition that names no
/// comparison of `levels` or one whose level is not below the comparison's level count.
pub fn cannot_link_pairs(
    levels: &LevelMatrix,
    pairs: &[CandidatePair],
    rules: &[CannotLinkRule],
) -> Result<Vec<CandidatePair>, ErError> {
    if levels.num_pairs() != pairs.len() {
        return Err(ErError::LengthMismatch {
            what: "the level matrix".into(),
            expected: pairs.len(),
            found: levels.num_pairs(),
        });
    }
    let resolved = rules
        .iter()
        .map(|rule| resolve(levels, rule))
        .collect::<Result<Vec<_>, _>>()?;
    let selected = pairs
        .iter()
        .enumerate()
        .filter(|(row, _)| {
            let row = levels.row(*row);
            resolved.iter().any(|conditions| {
                conditions.iter().all(|&(column, at_most)| {
                    let level = row[column];
                    level != NULL_LEVEL && level <= at_most
                })
            })
        })
        .map(|(_, pair)| *pair)
        .collect();
    Ok(selected)
}

/// Resolves each condition of `rule` to a column of `levels` and its highest level.
fn resolve(levels: &LevelMatrix, rule: &CannotLinkRule) -> Result<Vec<(usize, u8)>, ErError> {
    if rule.conditions.is_empty() {
        return Err(ErError::invalid_config(
            "conditions of a cannot-link rule",
            "[]",
            "give at least one condition, because a rule without one would match every pair",
        ));
    }
    let names = levels.names();
    rule.conditions
        .iter()
        .map(|condition| {
            let column = names
                .iter()
                .position(|name| names_comparison(&condition.comparison, name))
                .ok_or_else(|| {
                    ErError::invalid_config(
                        "comparison of a cannot-link condition",
                        format!("'{}'", condition.comparison),
                        format!(
                            "name one of the comparisons [{}] or its attribute",
                            names.join(", ")
                        ),
                    )
                })?;
            let count = levels.labels()[column].len();
            if usize::from(condition.at_most) >= count {
                return Err(ErError::invalid_config(
                    format!(
                        "at_most of the cannot-link condition on '{}'",
                        names[column]
                    ),
                    condition.at_most,
                    format!("use a level below {count}, the comparison's level count"),
                ));
            }
            Ok((column, condition.at_most))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four pairs under two comparisons with levels else, close and exact.
    fn levels() -> LevelMatrix {
        let labels = vec![vec!["else".to_string(), "close".into(), "exact".into()]; 2];
        LevelMatrix::new(
            vec!["first:given_name".into(), "first:levenshtein".into()],
            labels,
            vec![0, 0, 0, 1, 2, 0, NULL_LEVEL, 0],
        )
        .expect("valid")
    }

    fn pairs() -> Vec<CandidatePair> {
        (0..4).map(|i| CandidatePair::new(i, i + 10)).collect()
    }

    fn condition(comparison: &str, at_most: u8) -> LevelCondition {
        LevelCondition {
            comparison: comparison.into(),
            at_most,
        }
    }

    #[test]
    fn every_condition_must_hold() {
        let rule = CannotLinkRule {
            conditions: vec![
                condition("first:given_name", 0),
                condition("first:levenshtein", 0),
            ],
        };
        let selected = cannot_link_pairs(&levels(), &pairs(), &[rule]).expect("valid");
        assert_eq!(selected, [CandidatePair::new(0, 10)]);
    }

    #[test]
    fn any_rule_may_select_and_null_never_does() {
        let rules = [
            CannotLinkRule {
                conditions: vec![condition("first:levenshtein", 0)],
            },
            CannotLinkRule {
                conditions: vec![condition("first:given_name", 1)],
            },
        ];
        let selected = cannot_link_pairs(&levels(), &pairs(), &rules).expect("valid");
        // Pair 3 has a null given-name level, but its Levenshtein level 0 meets rule one.
        assert_eq!(
            selected,
            [
                CandidatePair::new(0, 10),
                CandidatePair::new(1, 11),
                CandidatePair::new(2, 12),
                CandidatePair::new(3, 13)
            ]
        );
        let given_only = CannotLinkRule {
            conditions: vec![condition("first:given_name", 2)],
        };
        let selected = cannot_link_pairs(&levels(), &pairs(), &[given_only]).expect("valid");
        assert_eq!(selected.len(), 3, "{selected:?}");
    }

    #[test]
    fn twins_stay_apart_in_clusters() {
        use crate::er::RecordTable;
        use crate::er::cluster::{ClusterConfig, ScoredPair, cluster_pairs_with_cannot_link};
        use crate::er::compare::{Comparator, Comparison};

        // William, his duplicate Bll (a nickname with a typo) and his twin Susan. Every pair
        // scores high because they share everything but the given name.
        let mut table =
            RecordTable::new("people", vec!["first".into(), "last".into()]).expect("valid");
        for (id, first) in [("0", "William"), ("1", "Bll"), ("2", "Susan")] {
            table
                .push(id, vec![Some(first.into()), Some("Okafor".into())])
                .expect("arity");
        }
        let pairs = [
            CandidatePair::new(0, 1),
            CandidatePair::new(0, 2),
            CandidatePair::new(1, 2),
        ];
        let comparisons = [
            Comparison::given_name("first").with_swapped("last"),
            Comparison::new(
                "first",
                Comparator::GivenNameEdits { max_edits: 2 },
                vec![1.0],
            )
            .with_swapped("last"),
        ]
        .map(|comparison| comparison.fit(&table, &table).expect("fits"));
        let levels = LevelMatrix::compare(&comparisons, &table, &table, &pairs).expect("compares");
        let rule = CannotLinkRule {
            conditions: vec![
                condition("first:given_name", 0),
                condition("first:given_name_edits", 0),
            ],
        };
        let cannot_link = cannot_link_pairs(&levels, &pairs, &[rule]).expect("valid");
        assert_eq!(
            cannot_link,
            [CandidatePair::new(0, 2), CandidatePair::new(1, 2)]
        );

        let scored = pairs.map(|pair| ScoredPair::new(pair, 0.99));
        let clustering =
            cluster_pairs_with_cannot_link(3, &scored, &cannot_link, &ClusterConfig::default())
                .expect("valid");
        assert_eq!(clustering.cluster_of, [0, 0, 2]);
    }

    #[test]
    fn bad_rules_rejected() {
        let empty = CannotLinkRule {
            conditions: Vec::new(),
        };
        let err = cannot_link_pairs(&levels(), &pairs(), &[empty]).expect_err("empty");
        assert!(err.to_string().contains("at least one condition"), "{err}");

        let unknown = CannotLinkRule {
            conditions: vec![condition("surname", 0)],
        };
        let err = cannot_link_pairs(&levels(), &pairs(), &[unknown]).expect_err("unknown");
        assert!(err.to_string().contains("'surname'"), "{err}");

        let too_high = CannotLinkRule {
            conditions: vec![condition("first:given_name", 3)],
        };
        let err = cannot_link_pairs(&levels(), &pairs(), &[too_high]).expect_err("level");
        assert!(err.to_string().contains("below 3"), "{err}");

        let err = cannot_link_pairs(&levels(), &pairs()[..2], &[]).expect_err("length");
        assert!(matches!(err, ErError::LengthMismatch { .. }), "{err}");
    }
}
