//! Feature generation: every detector of the ensemble turns each cell into one number in
//! `[0, 1]`, where higher means more suspicious.
//!
//! Each column gets the same [`GENERIC`] features, which a model shared by all columns can
//! learn from, followed by features of its own: one per discovered dependency that determines
//! it, one per frequent character (the cell contains it) and one per frequent format
//! signature (the cell has it). Those let the column's own model learn that, say, every value
//! written as `9.9 a` is wrong even when most of the column is written that way.

use std::collections::{HashMap, HashSet};

use super::fd::{Dependency, GroupCounts};
use super::moved::Vocabularies;
use super::table::{
    CellTable, Interned, MAX_EDIT_CHARS, ValueType, is_missing_token, parse_number, signature,
    value_type,
};
use super::truth::Truths;
use crate::edit_distance::levenshtein_within;

/// Names of the features every column has, in order; they also explain a flag.
pub(crate) const GENERIC: [&str; 13] = [
    "missing-value token",
    "rare value in the column",
    "rare format signature",
    "rare character",
    "rare character pair",
    "numeric outlier",
    "type differs from the column's main type",
    "unusual length",
    "disagrees with the majority of records sharing a determining value",
    "minority within its determining group",
    "close in spelling to a more frequent value",
    "differs from the value the reliable sources give for its entity",
    "contains a value of another column that is missing in its row",
];

/// How many frequent characters and signatures get an indicator feature of their own.
const TOP_CHARACTERS: usize = 24;
const TOP_SIGNATURES: usize = 8;
/// How many of the most frequent values a rare value is compared with by edit distance.
const FREQUENT_VALUES: usize = 50;
/// Feature indicators present in at most this share of cells are named in explanations.
const EXPLAIN_SHARE: f64 = 0.2;

/// The features of every cell of one column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnFeatures {
    pub names: Vec<String>,
    /// Row-major, `rows x names.len()`.
    pub values: Vec<f32>,
    /// Whether a feature at 1 is worth naming in an explanation.
    pub explains: Vec<bool>,
}

impl ColumnFeatures {
    pub fn width(&self) -> usize {
        self.names.len()
    }

    pub fn row(&self, row: usize) -> &[f32] {
        &self.values[row * self.width()..(row + 1) * self.width()]
    }

    /// Returns the generic features of every row, row-major.
    pub fn generic(&self) -> Vec<f32> {
        self.values
            .chunks(self.width())
            .flat_map(|row| row[..GENERIC.len()].iter().copied())
            .collect()
    }
}

/// Computes the features of every column.
pub(crate) fn column_features(
    table: &CellTable,
    interned: &[Interned],
    dependencies: &[Dependency],
    truths: Option<&Truths>,
) -> Vec<ColumnFeatures> {
    let vocabularies = Vocabularies::of(interned);
    (0..table.columns.len())
        .map(|column| {
            let moved = vocabularies.moved_into(table, column);
            one_column(table, interned, dependencies, truths, &moved, column)
        })
        .collect()
}

fn one_column(
    table: &CellTable,
    interned: &[Interned],
    dependencies: &[Dependency],
    truths: Option<&Truths>,
    moved: &[bool],
    column: usize,
) -> ColumnFeatures {
    let rows = table.rows;
    let values = &table.columns[column];
    let distinct = &interned[column];
    let scale = (rows.max(2) as f64).ln();
    // -ln(share) / ln(rows): 0 for a value in every row, 1 for a value in one row.
    let rarity =
        |count: f64| -> f32 { ((-(count / rows as f64).ln()) / scale).clamp(0.0, 1.0) as f32 };

    let per_value = ValueStats::of(distinct);
    let character_rows = weighted_sets(distinct, &per_value.characters);
    let pair_rows = weighted_sets(distinct, &per_value.pairs);
    let mut signature_rows: HashMap<&str, u32> = HashMap::new();
    for (id, sig) in per_value.signatures.iter().enumerate() {
        *signature_rows.entry(sig.as_str()).or_insert(0) += distinct.counts[id];
    }

    let numeric = NumericStats::of(values);
    let lengths = LengthStats::of(values);
    let main_type = main_type(distinct);
    let near = near_frequent(distinct);

    let column_dependencies: Vec<(&Dependency, GroupCounts)> = dependencies
        .iter()
        .filter(|dependency| dependency.dependent == column)
        .map(|dependency| {
            let counts = GroupCounts::build(dependency.groups(interned), distinct, None);
            (dependency, counts)
        })
        .collect();

    let top_characters = top_keys(&character_rows, TOP_CHARACTERS, rows);
    let top_signatures = top_keys(&signature_rows, TOP_SIGNATURES, rows);

    let mut names: Vec<String> = GENERIC.iter().map(|name| name.to_string()).collect();
    let mut explains = vec![true; GENERIC.len()];
    for (dependency, _) in &column_dependencies {
        names.push(format!(
            "disagrees with the majority for its {} value",
            dependency.determinant_name(&table.names)
        ));
        explains.push(true);
    }
    for (character, count) in &top_characters {
        names.push(format!("contains {character:?}"));
        explains.push((*count as f64) <= EXPLAIN_SHARE * rows as f64);
    }
    for (sig, count) in &top_signatures {
        names.push(format!("has format {sig:?}"));
        explains.push((*count as f64) <= EXPLAIN_SHARE * rows as f64);
    }

    let width = names.len();
    let mut out = Vec::with_capacity(rows * width);
    for (row, value) in values.iter().enumerate() {
        let id = distinct.ids[row] as usize;
        let count = f64::from(distinct.counts[id]);
        let sig = per_value.signatures[id].as_str();
        let rarest_character = per_value.characters[id]
            .iter()
            .map(|character| character_rows[character])
            .min();
        let rarest_pair = per_value.pairs[id].iter().map(|pair| pair_rows[pair]).min();

        out.push(f32::from(u8::from(is_missing_token(value))));
        out.push(rarity(count));
        out.push(rarity(f64::from(signature_rows[sig])));
        out.push(rarest_character.map_or(0.0, |count| rarity(f64::from(count))));
        out.push(rarest_pair.map_or(0.0, |count| rarity(f64::from(count))));
        out.push(numeric.score(value));
        let own_type = value_type(value);
        out.push(f32::from(u8::from(
            own_type != ValueType::Empty && Some(own_type) != main_type,
        )));
        out.push(lengths.score(value));

        let mut disagreements = Vec::with_capacity(column_dependencies.len());
        let mut minority = 0.0f32;
        for (dependency, counts) in &column_dependencies {
            let group = dependency.groups(interned).ids[row];
            let size = counts.group_size(group);
            if size < 2 {
                disagreements.push(0.0);
                continue;
            }
            let own = counts.count(group, distinct.ids[row]);
            let majority = counts.majority(group).map_or(0, |(_, top)| top);
            disagreements.push(f32::from(u8::from(own < majority)));
            minority = minority.max(1.0 - own as f32 / size as f32);
        }
        out.push(disagreements.iter().copied().fold(0.0, f32::max));
        out.push(minority);
        out.push(f32::from(u8::from(near[id])));
        out.push(f32::from(u8::from(
            truths.is_some_and(|truths| truths.disagrees(interned, row, column)),
        )));
        out.push(f32::from(u8::from(moved[row])));
        out.extend(disagreements);

        for (character, _) in &top_characters {
            out.push(f32::from(u8::from(
                per_value.characters[id].contains(character),
            )));
        }
        for (top, _) in &top_signatures {
            out.push(f32::from(u8::from(sig == *top)));
        }
    }
    ColumnFeatures {
        names,
        values: out,
        explains,
    }
}

/// Per distinct value: its signature, the set of its characters and of its character pairs.
struct ValueStats {
    signatures: Vec<String>,
    characters: Vec<HashSet<char>>,
    pairs: Vec<HashSet<(char, char)>>,
}

impl ValueStats {
    fn of(distinct: &Interned) -> ValueStats {
        let mut stats = ValueStats {
            signatures: Vec::with_capacity(distinct.distinct()),
            characters: Vec::with_capacity(distinct.distinct()),
            pairs: Vec::with_capacity(distinct.distinct()),
        };
        for value in &distinct.values {
            stats.signatures.push(signature(value));
            stats.characters.push(value.chars().collect());
            stats
                .pairs
                .push(value.chars().zip(value.chars().skip(1)).collect());
        }
        stats
    }
}

/// Counts, for each key, the rows whose value contains it.
fn weighted_sets<K: Copy + Eq + std::hash::Hash>(
    distinct: &Interned,
    sets: &[HashSet<K>],
) -> HashMap<K, u32> {
    let mut rows = HashMap::new();
    for (id, set) in sets.iter().enumerate() {
        for key in set {
            *rows.entry(*key).or_insert(0) += distinct.counts[id];
        }
    }
    rows
}

/// Returns up to `limit` keys by descending row count, leaving out keys in every row (they
/// tell no cell apart); ties go to the smaller key so the order is stable.
fn top_keys<K>(counts: &HashMap<K, u32>, limit: usize, rows: usize) -> Vec<(K, u32)>
where
    K: Clone + Ord + std::hash::Hash,
{
    let mut keys: Vec<(K, u32)> = counts
        .iter()
        .filter(|(_, count)| (**count as usize) < rows)
        .map(|(key, count)| (key.clone(), *count))
        .collect();
    keys.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
    keys.truncate(limit);
    keys
}

/// Returns the type most non-empty cells have, if any cell is non-empty.
fn main_type(distinct: &Interned) -> Option<ValueType> {
    let mut counts: HashMap<ValueType, u32> = HashMap::new();
    for (id, value) in distinct.values.iter().enumerate() {
        let kind = value_type(value);
        if kind != ValueType::Empty {
            *counts.entry(kind).or_insert(0) += distinct.counts[id];
        }
    }
    // Integers are decimals too: a column of mostly decimals is not broken by a `12`.
    let integers = counts.get(&ValueType::Integer).copied().unwrap_or(0);
    if let Some(decimals) = counts.get_mut(&ValueType::Decimal) {
        *decimals += integers;
    }
    counts
        .into_iter()
        .max_by_key(|(kind, count)| (*count, *kind == ValueType::Integer))
        .map(|(kind, _)| kind)
}

/// Marks each distinct value that is within a small edit distance of a value at least twice
/// as frequent: the usual shape of a typo.
fn near_frequent(distinct: &Interned) -> Vec<bool> {
    let mut frequent: Vec<usize> = (0..distinct.distinct())
        .filter(|&id| distinct.counts[id] >= 2)
        .collect();
    frequent.sort_by(|&left, &right| distinct.counts[right].cmp(&distinct.counts[left]));
    frequent.truncate(FREQUENT_VALUES);
    (0..distinct.distinct())
        .map(|id| {
            let value = &distinct.values[id];
            let length = value.chars().count();
            if length == 0 || length > MAX_EDIT_CHARS {
                return false;
            }
            let limit = (length / 4).max(1);
            frequent.iter().any(|&other| {
                other != id
                    && distinct.counts[other] >= 2 * distinct.counts[id]
                    && levenshtein_within(value, &distinct.values[other], limit).is_some()
            })
        })
        .collect()
}

/// Median and scaled median absolute deviation of a column that is mostly numbers.
struct NumericStats {
    center: f64,
    scale: f64,
    active: bool,
}

impl NumericStats {
    /// Columns where fewer than this share of non-empty cells are numbers get no scores.
    const MIN_NUMERIC_SHARE: f64 = 0.8;

    fn of(values: &[String]) -> NumericStats {
        let present = values
            .iter()
            .filter(|value| !value.trim().is_empty())
            .count();
        let mut numbers: Vec<f64> = values
            .iter()
            .filter_map(|value| parse_number(value))
            .collect();
        let inactive = NumericStats {
            center: 0.0,
            scale: 1.0,
            active: false,
        };
        if numbers.len() < 5 || (numbers.len() as f64) < Self::MIN_NUMERIC_SHARE * present as f64 {
            return inactive;
        }
        let center = median(&mut numbers);
        let mut deviations: Vec<f64> = numbers
            .iter()
            .map(|number| (number - center).abs())
            .collect();
        // 1.4826 makes the MAD estimate the standard deviation of normal data.
        let mad = 1.4826 * median(&mut deviations);
        let scale = if mad > 0.0 {
            mad
        } else {
            deviations.iter().sum::<f64>() / deviations.len() as f64 + f64::EPSILON
        };
        NumericStats {
            center,
            scale,
            active: true,
        }
    }

    /// 1 at a robust z-score of 3.5 or more, rising linearly from 0 below it.
    fn score(&self, value: &str) -> f32 {
        if !self.active {
            return 0.0;
        }
        parse_number(value).map_or(0.0, |number| {
            ((number - self.center).abs() / self.scale / 3.5).min(1.0) as f32
        })
    }
}

/// Median and median absolute deviation of the character counts of a column.
struct LengthStats {
    center: f64,
    scale: f64,
}

impl LengthStats {
    fn of(values: &[String]) -> LengthStats {
        let mut lengths: Vec<f64> = values
            .iter()
            .map(|value| value.chars().count() as f64)
            .collect();
        if lengths.is_empty() {
            return LengthStats {
                center: 0.0,
                scale: 1.0,
            };
        }
        let center = median(&mut lengths);
        let mut deviations: Vec<f64> = lengths
            .iter()
            .map(|length| (length - center).abs())
            .collect();
        LengthStats {
            center,
            scale: 1.4826 * median(&mut deviations) + 1.0,
        }
    }

    /// 1 at five scaled deviations from the median length or more.
    fn score(&self, value: &str) -> f32 {
        let length = value.chars().count() as f64;
        ((length - self.center).abs() / self.scale / 5.0).min(1.0) as f32
    }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::fd::discover;

    fn table(columns: &[(&str, Vec<&str>)]) -> CellTable {
        CellTable {
            names: columns.iter().map(|(name, _)| name.to_string()).collect(),
            columns: columns
                .iter()
                .map(|(_, values)| values.iter().map(|value| value.to_string()).collect())
                .collect(),
            rows: columns.first().map_or(0, |(_, values)| values.len()),
        }
    }

    fn features_of(table: &CellTable) -> Vec<ColumnFeatures> {
        let interned: Vec<Interned> = table
            .columns
            .iter()
            .map(|column| Interned::of(column))
            .collect();
        let dependencies = discover(&interned, 0.3, 3);
        column_features(table, &interned, &dependencies, None)
    }

    #[test]
    fn typo_fires_rarity_and_dependency_features() {
        let mut zips = Vec::new();
        let mut cities = Vec::new();
        for index in 0..40 {
            zips.push(if index % 2 == 0 { "10001" } else { "20002" });
            cities.push(if index % 2 == 0 {
                "springfield"
            } else {
                "riverside"
            });
        }
        cities[4] = "sprinxfield";
        let table = table(&[("zip", zips), ("city", cities)]);
        let features = features_of(&table);
        let city = &features[1];
        let typo = city.row(4);
        let clean = city.row(6);
        for name in [
            "rare value in the column",
            "rare character",
            "disagrees with the majority of records sharing a determining value",
            "close in spelling to a more frequent value",
        ] {
            let index = GENERIC
                .iter()
                .position(|generic| *generic == name)
                .expect("name");
            assert!(
                typo[index] > clean[index],
                "{name}: {} vs {}",
                typo[index],
                clean[index]
            );
        }
    }

    #[test]
    fn numeric_outlier_and_type_mismatch_fire() {
        let mut values: Vec<&str> = vec!["10", "11", "12", "10", "11", "12", "10", "11"];
        values.push("900");
        values.push("ten");
        let table = table(&[("n", values)]);
        let features = &features_of(&table)[0];
        assert_eq!(features.row(8)[5], 1.0);
        assert_eq!(features.row(9)[6], 1.0);
        assert_eq!(features.row(0)[6], 0.0);
    }
}
