//! Error correction: candidate values for each flagged cell, scored, and the best one
//! proposed with a confidence.
//!
//! Candidates come from five sources:
//! - `label`: the same wrong value was corrected by a person elsewhere in the column;
//! - `transformation`: an edit learned from the labelled corrections of the column, such as
//!   dropping a trailing token or keeping only the number;
//! - `dependency`: the majority value among unflagged records that share a determining value;
//! - `domain`: a frequent value of the column within a small edit distance;
//! - `imputation`: the column's most frequent value, for a missing-value token;
//! - `truth`: the value the reliable sources give for the cell's entity, when the table has
//!   one row per entity and source (see the truth discovery of the detection).
//!
//! Each source's reliability is estimated from the labelled corrections (how often its best
//! candidate was the value the person gave, with a Laplace prior). A candidate's score is its
//! strength times that reliability, and candidates with the same value from several sources
//! combine as independent evidence: `1 - prod(1 - score)`.

mod transform;

use std::collections::HashMap;

use crate::detection::fd::{Dependency, GroupCounts};
use crate::detection::table::{CellTable, Interned, MAX_EDIT_CHARS, is_missing_token};
use crate::detection::truth::Truths;
use crate::edit_distance::levenshtein_within;
use transform::Transform;

/// A cell a person labelled, by row and column position.
#[derive(Debug, Clone)]
pub(crate) struct LabelledCell {
    pub row: usize,
    pub column: usize,
    pub correction: String,
}

/// A proposed new value for a cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proposal {
    pub row: usize,
    pub column: usize,
    pub value: String,
    pub confidence: f32,
    pub sources: Vec<&'static str>,
}

const SOURCES: [&str; 6] = [
    "label",
    "transformation",
    "dependency",
    "domain",
    "imputation",
    "truth",
];
const TRUTH: usize = 5;

/// Estimated truths per entity, with how often they matched held-out corrections.
pub(crate) struct TruthSource<'a> {
    pub truths: &'a Truths,
    /// `(hits, tries)` of the truths found without the labels of the entity tried.
    pub record: (u32, u32),
}
/// How many of the most frequent values are tried as domain candidates.
const DOMAIN_VALUES: usize = 100;

struct Candidate {
    value: String,
    source: usize,
    strength: f32,
}

/// Everything learned about one column for correction.
struct ColumnModel<'a> {
    value_map: HashMap<String, String>,
    transforms: Vec<(Transform, f32)>,
    dependencies: Vec<(&'a Dependency, GroupCounts)>,
    domain: Vec<(u32, u32)>,
    mode: Option<(u32, f32)>,
}

/// Proposes values for the `flagged` cells (per column, per row) that have no label.
pub(crate) fn propose(
    table: &CellTable,
    interned: &[Interned],
    dependencies: &[Dependency],
    flagged: &[Vec<bool>],
    corrections: &[LabelledCell],
    truth: Option<&TruthSource<'_>>,
) -> Vec<Proposal> {
    let models: Vec<ColumnModel<'_>> = (0..table.columns.len())
        .map(|column| column_model(table, interned, dependencies, flagged, corrections, column))
        .collect();
    let mut reliability = source_reliability(table, interned, &models, corrections);
    if let Some(truth) = truth {
        reliability[TRUTH] = (truth.record.0 + 1) as f32 / (truth.record.1 + 2) as f32;
    }

    let labelled: std::collections::HashSet<(usize, usize)> = corrections
        .iter()
        .map(|cell| (cell.row, cell.column))
        .collect();
    let mut proposals = Vec::new();
    for (column, model) in models.iter().enumerate() {
        for (row, &is_flagged) in flagged[column].iter().enumerate() {
            if !is_flagged || labelled.contains(&(row, column)) {
                continue;
            }
            let mut candidates = candidates(table, interned, model, row, column, None);
            if let Some(found) = truth.and_then(|truth| truth.truths.of_cell(interned, row, column))
            {
                candidates.push(Candidate {
                    value: found.value.clone(),
                    source: TRUTH,
                    strength: found.confidence,
                });
            }
            if let Some(proposal) = best(&candidates, &reliability, &table.columns[column][row]) {
                proposals.push(Proposal {
                    row,
                    column,
                    ..proposal
                });
            }
        }
    }
    proposals
}

fn column_model<'a>(
    table: &CellTable,
    interned: &[Interned],
    dependencies: &'a [Dependency],
    flagged: &[Vec<bool>],
    corrections: &[LabelledCell],
    column: usize,
) -> ColumnModel<'a> {
    let values = &table.columns[column];
    let pairs: Vec<(&str, &str)> = corrections
        .iter()
        .filter(|cell| cell.column == column)
        .map(|cell| (values[cell.row].as_str(), cell.correction.as_str()))
        .filter(|(dirty, clean)| dirty != clean)
        .collect();
    let value_map = pairs
        .iter()
        .map(|(dirty, clean)| (dirty.to_string(), clean.to_string()))
        .collect();
    let transforms = transform::learn(&pairs);

    let trusted: Vec<bool> = flagged[column].iter().map(|flag| !flag).collect();
    let column_dependencies = dependencies
        .iter()
        .filter(|dependency| dependency.dependent == column)
        .map(|dependency| {
            let counts = GroupCounts::build(
                dependency.groups(interned),
                &interned[column],
                Some(&trusted),
            );
            (dependency, counts)
        })
        .collect();

    let distinct = &interned[column];
    let mut trusted_counts = vec![0u32; distinct.distinct()];
    for (row, &id) in distinct.ids.iter().enumerate() {
        if trusted[row] {
            trusted_counts[id as usize] += 1;
        }
    }
    let mut domain: Vec<(u32, u32)> = trusted_counts
        .iter()
        .enumerate()
        .filter(|(id, count)| **count >= 2 && !is_missing_token(&distinct.values[*id]))
        .map(|(id, count)| (id as u32, *count))
        .collect();
    domain.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
    domain.truncate(DOMAIN_VALUES);
    let trusted_total: u32 = trusted_counts.iter().sum();
    let mode = domain
        .first()
        .map(|&(id, count)| (id, count as f32 / trusted_total.max(1) as f32));
    ColumnModel {
        value_map,
        transforms,
        dependencies: column_dependencies,
        domain,
        mode,
    }
}

/// Lists the candidates for one cell. `left_out` names a labelled cell whose own correction
/// must not be used, when measuring how reliable the sources are.
fn candidates(
    table: &CellTable,
    interned: &[Interned],
    model: &ColumnModel<'_>,
    row: usize,
    column: usize,
    left_out: Option<&str>,
) -> Vec<Candidate> {
    let value = table.columns[column][row].as_str();
    let mut out = Vec::new();
    if left_out.is_none()
        && let Some(clean) = model.value_map.get(value)
    {
        out.push(Candidate {
            value: clean.clone(),
            source: 0,
            strength: 1.0,
        });
    }
    for (transform, strength) in &model.transforms {
        if let Some(result) = transform.apply(value) {
            out.push(Candidate {
                value: result,
                source: 1,
                strength: *strength,
            });
        }
    }
    let distinct = &interned[column];
    for (dependency, counts) in &model.dependencies {
        let group = dependency.groups(interned).ids[row];
        if let Some((id, count)) = counts.majority(group) {
            out.push(Candidate {
                value: distinct.values[id as usize].clone(),
                source: 2,
                strength: count as f32 / (counts.group_size(group) + 1) as f32,
            });
        }
    }
    let length = value.chars().count();
    if length > 0 && length <= MAX_EDIT_CHARS {
        let limit = (length / 4).max(1);
        let nearest = model
            .domain
            .iter()
            .filter_map(|&(id, count)| {
                let other = &distinct.values[id as usize];
                levenshtein_within(value, other, limit)
                    .filter(|&distance| distance > 0)
                    .map(|distance| (distance, count, id))
            })
            .min_by(|left, right| left.0.cmp(&right.0).then(right.1.cmp(&left.1)));
        if let Some((distance, _, id)) = nearest {
            out.push(Candidate {
                value: distinct.values[id as usize].clone(),
                source: 3,
                strength: 1.0 - distance as f32 / (limit + 1) as f32,
            });
        }
    }
    if is_missing_token(value)
        && let Some((id, share)) = model.mode
    {
        out.push(Candidate {
            value: distinct.values[id as usize].clone(),
            source: 4,
            strength: share,
        });
    }
    out
}

/// Combines the candidates by value and returns the best one that changes the cell.
fn best(candidates: &[Candidate], reliability: &[f32; 6], current: &str) -> Option<Proposal> {
    let mut by_value: Vec<(&str, f32, Vec<&'static str>)> = Vec::new();
    for candidate in candidates {
        if candidate.value == current {
            continue;
        }
        let score = (candidate.strength * reliability[candidate.source]).clamp(0.0, 1.0);
        match by_value
            .iter_mut()
            .find(|(value, _, _)| *value == candidate.value)
        {
            Some((_, miss, sources)) => {
                *miss *= 1.0 - score;
                if !sources.contains(&SOURCES[candidate.source]) {
                    sources.push(SOURCES[candidate.source]);
                }
            }
            None => by_value.push((
                &candidate.value,
                1.0 - score,
                vec![SOURCES[candidate.source]],
            )),
        }
    }
    by_value
        .into_iter()
        .min_by(|left, right| left.1.total_cmp(&right.1))
        .map(|(value, miss, sources)| Proposal {
            row: 0,
            column: 0,
            value: value.to_string(),
            confidence: 1.0 - miss,
            sources,
        })
}

/// Estimates, per source, how often its best candidate for a labelled wrong cell was the
/// value the person gave: `(hits + 1) / (tries + 2)`.
fn source_reliability(
    table: &CellTable,
    interned: &[Interned],
    models: &[ColumnModel<'_>],
    corrections: &[LabelledCell],
) -> [f32; 6] {
    let mut hits = [0u32; 6];
    let mut tries = [0u32; 6];
    for cell in corrections {
        let current = &table.columns[cell.column][cell.row];
        if *current == cell.correction {
            continue;
        }
        let found = candidates(
            table,
            interned,
            &models[cell.column],
            cell.row,
            cell.column,
            Some(&cell.correction),
        );
        for source in 1..SOURCES.len() {
            let top = found
                .iter()
                .filter(|candidate| candidate.source == source)
                .max_by(|left, right| left.strength.total_cmp(&right.strength));
            if let Some(top) = top {
                tries[source] += 1;
                hits[source] += u32::from(top.value == cell.correction);
            }
        }
    }
    let mut reliability = [0.0f32; 6];
    for source in 0..SOURCES.len() {
        reliability[source] = (hits[source] + 1) as f32 / (tries[source] + 2) as f32;
    }
    // NOTE: a value map is measured on the very labels it was built from, so its reliability
    // is fixed high rather than estimated.
    reliability[0] = 0.95;
    reliability
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::fd::discover;

    fn table(columns: &[(&str, Vec<String>)]) -> CellTable {
        CellTable {
            names: columns.iter().map(|(name, _)| name.to_string()).collect(),
            columns: columns.iter().map(|(_, values)| values.clone()).collect(),
            rows: columns[0].1.len(),
        }
    }

    #[test]
    fn dependency_and_domain_fix_a_typo() {
        let zips: Vec<String> = (0..30).map(|row| format!("{}", 10000 + row % 3)).collect();
        let mut cities: Vec<String> = (0..30)
            .map(|row| ["alpha", "bravo", "charlie"][row % 3].to_string())
            .collect();
        cities[4] = "bxavo".into();
        let table = table(&[("zip", zips), ("city", cities)]);
        let interned: Vec<Interned> = table
            .columns
            .iter()
            .map(|column| Interned::of(column))
            .collect();
        let dependencies = discover(&interned, 0.3, 3);
        let mut flagged = vec![vec![false; 30]; 2];
        flagged[1][4] = true;
        let proposals = propose(&table, &interned, &dependencies, &flagged, &[], None);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].value, "bravo");
        assert!(proposals[0].sources.contains(&"dependency"));
        assert!(proposals[0].confidence > 0.5);
    }

    #[test]
    fn learned_transformation_applies_to_other_cells() {
        let values: Vec<String> = (0..10).map(|row| format!("{}.0 oz", 10 + row)).collect();
        let table = table(&[("ounces", values)]);
        let interned: Vec<Interned> = table
            .columns
            .iter()
            .map(|column| Interned::of(column))
            .collect();
        let flagged = vec![vec![true; 10]];
        let labels = vec![
            LabelledCell {
                row: 0,
                column: 0,
                correction: "10".into(),
            },
            LabelledCell {
                row: 1,
                column: 0,
                correction: "11".into(),
            },
        ];
        let proposals = propose(&table, &interned, &[], &flagged, &labels, None);
        let fifth = proposals
            .iter()
            .find(|proposal| proposal.row == 5)
            .expect("row 5 has a proposal");
        assert_eq!(fifth.value, "15");
        assert!(!proposals.iter().any(|proposal| proposal.row < 2));
    }
}
