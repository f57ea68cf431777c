//! Truth discovery over records that describe the same entity from several sources.
//!
//! When a table holds one row per (entity, source), such as one row per flight and web site,
//! the values of one entity conflict across sources, and a plain majority is often wrong
//! because poor sources copy each other. [`EntityLayout::discover`] finds such a layout
//! without being told: an entity key whose groups make most other columns nearly constant,
//! and a source column that is almost unique within each group while its values repeat
//! across groups. [`Truths::estimate`] then alternates two steps in the manner of ACCU: the
//! true value of each (entity, attribute) is the one with the highest sum of its sources'
//! log-odds of being right, and the reliability of a source is the share of its values that
//! agree with the current truths. Labelled cells fix the truth of their entity and so seed
//! the reliabilities.

use std::collections::HashMap;

use super::table::{Interned, is_missing_token};

/// A key must leave at least this share of rows in groups of two or more.
const MIN_GROUPED_SHARE: f64 = 0.8;
/// Groups must hold at least this many rows on average to give a vote any weight.
const MIN_MEAN_GROUP: f64 = 3.0;
/// (key, source) pairs must be distinct for at least this share of rows.
const MIN_PAIR_UNIQUENESS: f64 = 0.95;
/// An attribute counts as describing the entity when its distinct values per group, summed,
/// are at most this share of the rows.
const MAX_DISTINCT_SHARE: f64 = 0.5;
/// Reliability of a source before any evidence.
const PRIOR_RELIABILITY: f64 = 0.8;
/// Reliabilities are kept in this range so that no source votes with infinite weight.
const RELIABILITY_RANGE: (f64, f64) = (0.05, 0.95);
const MAX_ROUNDS: usize = 20;

/// The columns of the entity key, of the source and of the attributes to reconcile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntityLayout {
    pub key: usize,
    pub source: usize,
    pub attributes: Vec<usize>,
}

impl EntityLayout {
    /// Finds the key and source columns, or `None` when the table has no such layout. Among
    /// several candidates the key that makes the most columns nearly constant wins; ties go
    /// to the lower column positions.
    pub fn discover(columns: &[Interned]) -> Option<EntityLayout> {
        let rows = columns.first().map_or(0, |column| column.ids.len());
        if rows < 4 {
            return None;
        }
        let mut best: Option<(usize, f64, EntityLayout)> = None;
        for (key, groups) in columns.iter().enumerate() {
            if !is_key(groups, rows) {
                continue;
            }
            let attributes: Vec<(usize, f64)> = columns
                .iter()
                .enumerate()
                .filter(|(index, column)| *index != key && column.distinct() > 1)
                .map(|(index, column)| (index, distinct_share(groups, column)))
                .filter(|(_, share)| *share <= MAX_DISTINCT_SHARE)
                .collect();
            let source = columns.iter().enumerate().find(|(index, column)| {
                *index != key && is_source(groups, column, rows) && {
                    // A column that is constant within the groups cannot tell sources apart.
                    distinct_share(groups, column) > MAX_DISTINCT_SHARE
                }
            });
            let Some((source, _)) = source else { continue };
            // An attribute the source determines better than the key describes the source,
            // not the entity.
            let attributes: Vec<(usize, f64)> = attributes
                .into_iter()
                .filter(|(index, share)| {
                    *index != source && distinct_share(&columns[source], &columns[*index]) > *share
                })
                .collect();
            if attributes.is_empty() {
                continue;
            }
            let spread: f64 = attributes.iter().map(|(_, share)| share).sum();
            let better = best.as_ref().is_none_or(|(count, best_spread, _)| {
                attributes.len() > *count
                    || (attributes.len() == *count && spread < *best_spread - 1e-12)
            });
            if better {
                best = Some((
                    attributes.len(),
                    spread,
                    EntityLayout {
                        key,
                        source,
                        attributes: attributes.iter().map(|(index, _)| *index).collect(),
                    },
                ));
            }
        }
        best.map(|(_, _, layout)| layout)
    }
}

fn is_key(groups: &Interned, rows: usize) -> bool {
    let grouped: usize = groups
        .counts
        .iter()
        .filter(|&&count| count > 1)
        .map(|&count| count as usize)
        .sum();
    groups.distinct() >= 2
        && grouped as f64 >= MIN_GROUPED_SHARE * rows as f64
        && rows as f64 / groups.distinct() as f64 >= MIN_MEAN_GROUP
}

fn is_source(groups: &Interned, column: &Interned, rows: usize) -> bool {
    if column.distinct() < 2 || rows as f64 / (column.distinct() as f64) < MIN_MEAN_GROUP {
        return false;
    }
    let mut pairs: Vec<(u32, u32)> = groups
        .ids
        .iter()
        .copied()
        .zip(column.ids.iter().copied())
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.len() as f64 >= MIN_PAIR_UNIQUENESS * rows as f64
}

/// Returns the number of distinct (group, value) pairs as a share of the rows: near `1 / group size`
/// for a column the groups determine, 1 for a column that differs on every row.
fn distinct_share(groups: &Interned, column: &Interned) -> f64 {
    let mut pairs: Vec<(u32, u32)> = groups
        .ids
        .iter()
        .copied()
        .zip(column.ids.iter().copied())
        .collect();
    let rows = pairs.len().max(1);
    pairs.sort_unstable();
    pairs.dedup();
    pairs.len() as f64 / rows as f64
}

/// The estimated true value of one (entity, attribute).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Truth {
    pub value: String,
    /// The value's id in the column, when some row has that value.
    pub id: Option<u32>,
    /// 1 for a truth a label gave; else the value's share of the exponentiated votes.
    pub confidence: f32,
}

/// Known truths from labels: `(attribute column, key group) -> value`.
pub(crate) type KnownTruths = HashMap<(usize, u32), String>;

/// The estimated truths of every attribute, per key group.
#[derive(Debug, Clone)]
pub(crate) struct Truths {
    pub layout: EntityLayout,
    /// Per column position: `Some(truth per key group)` for an attribute, `None` otherwise.
    pub by_column: Vec<Option<Vec<Option<Truth>>>>,
}

impl Truths {
    /// Estimates the truths, seeded by `known`.
    pub fn estimate(columns: &[Interned], layout: &EntityLayout, known: &KnownTruths) -> Truths {
        let groups = &columns[layout.key];
        let sources = &columns[layout.source];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.distinct()];
        for (row, &group) in groups.ids.iter().enumerate() {
            members[group as usize].push(row);
        }
        let lookups: Vec<HashMap<&str, u32>> = layout
            .attributes
            .iter()
            .map(|&column| {
                columns[column]
                    .values
                    .iter()
                    .enumerate()
                    .map(|(id, value)| (value.as_str(), id as u32))
                    .collect()
            })
            .collect();
        let mut reliability = vec![PRIOR_RELIABILITY; sources.distinct()];
        let mut truths: Vec<Vec<Option<Truth>>> = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let next: Vec<Vec<Option<Truth>>> = layout
                .attributes
                .iter()
                .zip(&lookups)
                .map(|(&column, lookup)| {
                    (0..members.len())
                        .map(|group| {
                            if let Some(value) = known.get(&(column, group as u32)) {
                                return Some(Truth {
                                    value: value.clone(),
                                    id: lookup.get(value.as_str()).copied(),
                                    confidence: 1.0,
                                });
                            }
                            vote(&columns[column], sources, &members[group], &reliability)
                        })
                        .collect()
                })
                .collect();
            let settled = next == truths;
            truths = next;
            reliability = reliabilities(columns, layout, &truths);
            if settled {
                break;
            }
        }
        let mut by_column = vec![None; columns.len()];
        for (&column, column_truths) in layout.attributes.iter().zip(truths) {
            by_column[column] = Some(column_truths);
        }
        Truths {
            layout: layout.clone(),
            by_column,
        }
    }

    /// Returns the truth for a cell, when its column is an attribute and its entity has one.
    pub fn of_cell(&self, columns: &[Interned], row: usize, column: usize) -> Option<&Truth> {
        let group = columns[self.layout.key].ids[row] as usize;
        self.by_column[column].as_ref()?.get(group)?.as_ref()
    }

    /// Returns true when a cell's value differs from its entity's estimated truth.
    pub fn disagrees(&self, columns: &[Interned], row: usize, column: usize) -> bool {
        let group = columns[self.layout.key].ids[row] as usize;
        if columns[self.layout.key].counts[group] < 2 {
            return false;
        }
        self.of_cell(columns, row, column)
            .is_some_and(|truth| truth.id != Some(columns[column].ids[row]))
    }
}

/// Weighted vote in one group: each non-missing value gets the log-odds of its sources.
fn vote(
    column: &Interned,
    sources: &Interned,
    rows: &[usize],
    reliability: &[f64],
) -> Option<Truth> {
    let mut scores: Vec<(u32, f64)> = Vec::new();
    for &row in rows {
        let id = column.ids[row];
        if is_missing_token(&column.values[id as usize]) {
            continue;
        }
        let r =
            reliability[sources.ids[row] as usize].clamp(RELIABILITY_RANGE.0, RELIABILITY_RANGE.1);
        let weight = (r / (1.0 - r)).ln();
        match scores.iter_mut().find(|(value, _)| *value == id) {
            Some((_, score)) => *score += weight,
            None => scores.push((id, weight)),
        }
    }
    let &(id, top) = scores
        .iter()
        .max_by(|left, right| left.1.total_cmp(&right.1).then(right.0.cmp(&left.0)))?;
    let total: f64 = scores.iter().map(|(_, score)| (score - top).exp()).sum();
    Some(Truth {
        value: column.values[id as usize].clone(),
        id: Some(id),
        confidence: (1.0 / total) as f32,
    })
}

/// Per source, the share of its non-missing attribute values that agree with the truths,
/// with one agreeing and one disagreeing pseudo-value.
fn reliabilities(
    columns: &[Interned],
    layout: &EntityLayout,
    truths: &[Vec<Option<Truth>>],
) -> Vec<f64> {
    let sources = &columns[layout.source];
    let groups = &columns[layout.key];
    let mut agree = vec![0u32; sources.distinct()];
    let mut total = vec![0u32; sources.distinct()];
    for (&column, column_truths) in layout.attributes.iter().zip(truths) {
        let values = &columns[column];
        for row in 0..values.ids.len() {
            let id = values.ids[row];
            if is_missing_token(&values.values[id as usize]) {
                continue;
            }
            let Some(truth) = &column_truths[groups.ids[row] as usize] else {
                continue;
            };
            let source = sources.ids[row] as usize;
            total[source] += 1;
            agree[source] += u32::from(truth.id == Some(id));
        }
    }
    agree
        .iter()
        .zip(&total)
        .map(|(&hits, &tries)| (f64::from(hits) + 1.0) / (f64::from(tries) + 2.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[String]) -> Interned {
        Interned::of(values)
    }

    /// Six entities reported by five sources. Sources 2, 3 and 4 copy the same wrong value
    /// for the first five entities; sources 0 and 1 are always right.
    fn table() -> Vec<Interned> {
        let (mut keys, mut sources, mut values, mut constant) = (vec![], vec![], vec![], vec![]);
        for entity in 0..6 {
            for source in 0..5 {
                keys.push(format!("e{entity}"));
                sources.push(format!("s{source}"));
                constant.push(format!("name{entity}"));
                let wrong = source >= 2 && entity < 5;
                values.push(if wrong {
                    format!("bad{entity}")
                } else {
                    format!("v{entity}")
                });
            }
        }
        vec![
            column(&keys),
            column(&sources),
            column(&values),
            column(&constant),
        ]
    }

    #[test]
    fn layout_names_key_source_and_attributes() {
        let layout = EntityLayout::discover(&table()).expect("layout");
        assert_eq!(layout.key, 0);
        assert_eq!(layout.source, 1);
        assert_eq!(layout.attributes, vec![2, 3]);
    }

    #[test]
    fn labels_seed_reliabilities_against_a_copied_majority() {
        let columns = table();
        let layout = EntityLayout::discover(&columns).expect("layout");
        let plain = Truths::estimate(&columns, &layout, &KnownTruths::new());
        let first = plain.of_cell(&columns, 0, 2).expect("truth");
        assert_eq!(first.value, "bad0", "unseeded, the copied majority wins");

        let known: KnownTruths = (1..5)
            .map(|entity| ((2, entity), format!("v{entity}")))
            .collect();
        let seeded = Truths::estimate(&columns, &layout, &known);
        let first = seeded.of_cell(&columns, 0, 2).expect("truth");
        assert_eq!(first.value, "v0");
        assert!(seeded.disagrees(&columns, 2, 2));
        assert!(!seeded.disagrees(&columns, 0, 2));
    }

    #[test]
    fn table_without_sources_has_no_layout() {
        let values: Vec<String> = (0..20).map(|row| format!("{}", row % 4)).collect();
        let other: Vec<String> = (0..20).map(|row| format!("{}", row % 2)).collect();
        assert_eq!(
            EntityLayout::discover(&[column(&values), column(&other)]),
            None
        );
    }
}
