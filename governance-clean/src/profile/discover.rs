//! Discovery of approximate functional dependencies on a sample.
//!
//! Each column of the sample becomes a partition of the rows (rows with equal values share a
//! class, as in TANE). For every candidate `X -> B`, with `X` one column or, optionally, a pair,
//! the g3 error is the share of rows that must be removed for the dependency to hold exactly:
//! `1 - sum over classes of X of the largest count of one B value, divided by the rows`. A
//! dependency is kept when its g3 error is at most [`DependencyConfig::max_error`] and enough
//! rows share their `X` value with another row to test it. Columns that are keys on the sample
//! determine everything and are skipped as determinants; constant columns are skipped as
//! dependents.

use std::collections::HashMap;

use arrow::array::{Array, RecordBatch};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::checks::{FunctionalDependencyCheck, RuleCheck, RuleConfig};
use crate::support::text_values;

/// Settings of [`discover_dependencies`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyConfig {
    /// Rows sampled, evenly spaced over the batch. Defaults to 10,000.
    #[serde(default = "default_sample_rows")]
    pub sample_rows: usize,
    /// Largest g3 error of a reported dependency. Defaults to 0.01.
    #[serde(default = "default_max_error")]
    pub max_error: f64,
    /// Smallest share of sampled rows whose determinant value occurs more than once, so
    /// that the dependency was tested on them. Defaults to 0.5.
    #[serde(default = "default_min_support")]
    pub min_support: f64,
    /// Whether to try pairs of determinant columns for dependents that no single column
    /// determines. Defaults to false.
    #[serde(default)]
    pub pairs: bool,
}

fn default_sample_rows() -> usize {
    10_000
}

fn default_max_error() -> f64 {
    0.01
}

fn default_min_support() -> f64 {
    0.5
}

impl Default for DependencyConfig {
    fn default() -> Self {
        DependencyConfig {
            sample_rows: default_sample_rows(),
            max_error: default_max_error(),
            min_support: default_min_support(),
            pairs: false,
        }
    }
}

/// A functional dependency that holds on the sample within the error threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveredDependency {
    /// Determinant columns.
    pub determinant: Vec<String>,
    /// Dependent column.
    pub dependent: String,
    /// Share of sampled rows whose determinant value occurs more than once.
    pub support: f64,
    /// g3 error on the sample.
    pub error: f64,
    /// The dependency as a rule; its `max_failing_ratio` is the sample's error, so that data
    /// like the sample passes.
    pub rule: RuleConfig,
}

/// Class id per sampled row of one column; null is a class of its own.
struct Partition {
    classes: Vec<u32>,
    count: usize,
}

fn partition(values: &[Option<&str>]) -> Partition {
    let mut ids: HashMap<Option<&str>, u32> = HashMap::new();
    let classes = values
        .iter()
        .map(|value| {
            let next = ids.len() as u32;
            *ids.entry(*value).or_insert(next)
        })
        .collect();
    Partition {
        classes,
        count: ids.len(),
    }
}

/// Returns the g3 error and support of `determinant -> dependent`.
fn g3(determinant: &[u32], dependent: &Partition) -> (f64, f64) {
    let rows = determinant.len();
    let mut pairs: HashMap<(u32, u32), u32> = HashMap::new();
    let mut groups: HashMap<u32, u32> = HashMap::new();
    for (row, &class) in determinant.iter().enumerate() {
        *pairs.entry((class, dependent.classes[row])).or_insert(0) += 1;
        *groups.entry(class).or_insert(0) += 1;
    }
    let mut best: HashMap<u32, u32> = HashMap::new();
    for ((class, _), count) in pairs {
        let entry = best.entry(class).or_insert(0);
        *entry = (*entry).max(count);
    }
    let kept: u64 = best.values().map(|&count| u64::from(count)).sum();
    let shared: u64 = groups
        .values()
        .filter(|&&count| count > 1)
        .map(|&count| u64::from(count))
        .sum();
    (1.0 - kept as f64 / rows as f64, shared as f64 / rows as f64)
}

/// Finds approximate functional dependencies with one (or, with `pairs`, two) determinant
/// columns on an evenly spaced sample of `batch`. Values are compared as text.
pub fn discover_dependencies(
    batch: &RecordBatch,
    config: &DependencyConfig,
) -> Result<Vec<DiscoveredDependency>> {
    if !(0.0..1.0).contains(&config.max_error) || config.sample_rows == 0 {
        return Err(Error::config(
            "dependency discovery",
            format!(
                "max_error must be in [0, 1) and sample_rows at least 1, got {} and {}",
                config.max_error, config.sample_rows
            ),
        ));
    }
    let rows = batch.num_rows();
    if rows < 2 {
        return Ok(Vec::new());
    }
    let step = rows.div_ceil(config.sample_rows).max(1);
    let sample: Vec<usize> = (0..rows).step_by(step).collect();
    let schema = batch.schema();
    let mut partitions = Vec::with_capacity(batch.num_columns());
    for column in batch.columns() {
        let text = text_values(column)?;
        let values: Vec<Option<&str>> = sample
            .iter()
            .map(|&row| text.is_valid(row).then(|| text.value(row)))
            .collect();
        partitions.push(partition(&values));
    }
    let sampled = sample.len();
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect();
    let is_key = |index: usize| partitions[index].count == sampled;
    let is_constant = |index: usize| partitions[index].count <= 1;

    let mut found = Vec::new();
    for dependent in 0..names.len() {
        if is_constant(dependent) {
            continue;
        }
        let mut determined = false;
        for determinant in (0..names.len()).filter(|&index| index != dependent && !is_key(index)) {
            let (error, support) = g3(&partitions[determinant].classes, &partitions[dependent]);
            if error <= config.max_error && support >= config.min_support {
                determined = true;
                found.push(dependency(
                    vec![names[determinant].clone()],
                    &names[dependent],
                    support,
                    error,
                ));
            }
        }
        if determined || !config.pairs {
            continue;
        }
        for first in 0..names.len() {
            for second in first + 1..names.len() {
                if first == dependent || second == dependent || is_key(first) || is_key(second) {
                    continue;
                }
                let combined = combine(&partitions[first], &partitions[second]);
                if combined.count == sampled {
                    continue;
                }
                let (error, support) = g3(&combined.classes, &partitions[dependent]);
                if error <= config.max_error && support >= config.min_support {
                    found.push(dependency(
                        vec![names[first].clone(), names[second].clone()],
                        &names[dependent],
                        support,
                        error,
                    ));
                }
            }
        }
    }
    Ok(found)
}

/// Returns the product of two partitions: rows share a class when they agree on both.
fn combine(left: &Partition, right: &Partition) -> Partition {
    let mut ids: HashMap<(u32, u32), u32> = HashMap::new();
    let classes = left
        .classes
        .iter()
        .zip(&right.classes)
        .map(|(&a, &b)| {
            let next = ids.len() as u32;
            *ids.entry((a, b)).or_insert(next)
        })
        .collect();
    Partition {
        classes,
        count: ids.len(),
    }
}

fn dependency(
    determinant: Vec<String>,
    dependent: &str,
    support: f64,
    error: f64,
) -> DiscoveredDependency {
    let mut rule = RuleConfig::new(RuleCheck::FunctionalDependency(FunctionalDependencyCheck {
        determinant: determinant.clone(),
        dependent: vec![dependent.to_string()],
        when: Default::default(),
        then: Default::default(),
    }));
    rule.max_failing_ratio = error;
    DiscoveredDependency {
        determinant,
        dependent: dependent.to_string(),
        support,
        error,
        rule,
    }
}
