//! Distribution drift against a stored reference: the Kolmogorov-Smirnov test for numbers
//! and Pearson's chi-square test for categories, each with a p-value.
//!
//! NOTE: both tests reject ever smaller differences as the sample grows, so on millions of
//! rows a tiny, harmless shift fails a 0.01 threshold. The numeric side compares a reservoir
//! sample of at most [`SAMPLE_SIZE`] values, which caps that effect.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, Float64Array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::DataType;
use governance_core::{Error, GovernedBatch, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::cell::rule_column;
use super::config::DriftCheck;
use super::{Evaluator, Failure, RuleStats, Scope};
use crate::support::text_values;

/// Values kept in the reservoir sample of a numeric drift check.
pub const SAMPLE_SIZE: usize = 10_000;

/// Distinct categories counted by a categorical drift check; later ones share one bucket.
pub const MAX_CATEGORIES: usize = 10_000;

/// Name of the bucket that collects categories beyond [`MAX_CATEGORIES`].
const OTHER: &str = "\u{0}other";

/// A stored distribution that new data is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReferenceDistribution {
    /// Numbers, as equally spaced quantiles from the minimum (first) to the maximum (last),
    /// and the number of values they summarise.
    Numeric {
        /// At least two quantiles, in non-decreasing order.
        quantiles: Vec<f64>,
        /// Values summarised.
        count: u64,
    },
    /// Categories, as the count of each value.
    Categorical {
        /// Count per value.
        counts: BTreeMap<String, u64>,
    },
}

impl ReferenceDistribution {
    /// Returns a description of the first problem, or `Ok` for a usable reference.
    pub fn validate(&self) -> std::result::Result<(), String> {
        match self {
            ReferenceDistribution::Numeric { quantiles, count } => {
                if quantiles.len() < 2 {
                    return Err("needs at least two quantiles (the minimum and the maximum)".into());
                }
                if quantiles.iter().any(|value| !value.is_finite()) {
                    return Err("has a quantile that is not a finite number".into());
                }
                if quantiles.windows(2).any(|pair| pair[0] > pair[1]) {
                    return Err(
                        "has quantiles out of order; list them from smallest to largest".into(),
                    );
                }
                if *count == 0 {
                    return Err("has count 0; a reference needs at least one value".into());
                }
            }
            ReferenceDistribution::Categorical { counts } => {
                if counts.values().sum::<u64>() == 0 {
                    return Err("has no category with a count above 0".into());
                }
            }
        }
        Ok(())
    }

    /// Returns the reference's cumulative distribution function at `value`, interpolating
    /// linearly between quantiles. Returns 0 for a categorical reference.
    pub fn cdf(&self, value: f64) -> f64 {
        let ReferenceDistribution::Numeric { quantiles, .. } = self else {
            return 0.0;
        };
        let steps = (quantiles.len() - 1) as f64;
        let at_or_below = quantiles.partition_point(|&quantile| quantile <= value);
        if at_or_below == 0 {
            return 0.0;
        }
        if at_or_below == quantiles.len() {
            return 1.0;
        }
        let index = at_or_below - 1;
        let (low, high) = (quantiles[index], quantiles[index + 1]);
        (index as f64 + (value - low) / (high - low)) / steps
    }
}

/// Returns the Kolmogorov-Smirnov statistic between a sorted sample and the reference.
pub fn ks_statistic(sorted: &[f64], reference: &ReferenceDistribution) -> f64 {
    let n = sorted.len() as f64;
    let mut statistic: f64 = 0.0;
    let mut start = 0;
    while start < sorted.len() {
        let value = sorted[start];
        let mut end = start;
        while end + 1 < sorted.len() && sorted[end + 1] == value {
            end += 1;
        }
        let expected = reference.cdf(value);
        let below = start as f64 / n;
        let at_or_below = (end + 1) as f64 / n;
        statistic = statistic
            .max((at_or_below - expected).abs())
            .max((expected - below).abs());
        start = end + 1;
    }
    statistic
}

/// Returns the p-value of a Kolmogorov-Smirnov statistic for an effective sample size, from
/// the asymptotic Kolmogorov distribution with Stephens' (1970) small-sample correction.
pub fn ks_p_value(statistic: f64, effective_n: f64) -> f64 {
    if effective_n <= 0.0 {
        return 1.0;
    }
    let root = effective_n.sqrt();
    let lambda = (root + 0.12 + 0.11 / root) * statistic;
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for j in 1..=100 {
        let term = sign * (-2.0 * (j * j) as f64 * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Returns Pearson's chi-square statistic, its degrees of freedom and p-value for observed
/// category counts against reference counts. Expected shares get half a count of additive
/// smoothing, so that a category the reference never saw does not divide by zero.
pub fn chi_square(
    observed: &HashMap<String, u64>,
    reference: &BTreeMap<String, u64>,
) -> (f64, f64, f64) {
    let mut categories: Vec<&str> = reference.keys().map(String::as_str).collect();
    categories.extend(
        observed
            .keys()
            .filter(|key| !reference.contains_key(*key))
            .map(String::as_str),
    );
    let total: u64 = observed.values().sum();
    if categories.len() < 2 || total == 0 {
        return (0.0, 0.0, 1.0);
    }
    let smoothing = 0.5;
    let reference_total =
        reference.values().sum::<u64>() as f64 + smoothing * categories.len() as f64;
    let mut statistic = 0.0;
    for category in &categories {
        let share =
            (reference.get(*category).copied().unwrap_or(0) as f64 + smoothing) / reference_total;
        let expected = total as f64 * share;
        let seen = observed.get(*category).copied().unwrap_or(0) as f64;
        statistic += (seen - expected).powi(2) / expected;
    }
    let freedom = (categories.len() - 1) as f64;
    let p_value = ChiSquared::new(freedom)
        .map(|distribution| distribution.sf(statistic))
        .unwrap_or(1.0);
    (statistic, freedom, p_value)
}

/// `drift`.
pub(crate) struct DriftState {
    check: DriftCheck,
    sample: Vec<f64>,
    seen: u64,
    counts: HashMap<String, u64>,
    rng: ChaCha8Rng,
}

/// Seed of the reservoir sampler, fixed so that a run is reproducible.
const SEED: u64 = 0x5eed_d71f;

impl DriftState {
    pub fn new(check: DriftCheck) -> Self {
        DriftState {
            check,
            sample: Vec::new(),
            seen: 0,
            counts: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(SEED),
        }
    }

    fn push_number(&mut self, value: f64) {
        self.seen += 1;
        if self.sample.len() < SAMPLE_SIZE {
            self.sample.push(value);
        } else {
            let slot = self.rng.random_range(0..self.seen);
            if let Some(kept) = self.sample.get_mut(slot as usize) {
                *kept = value;
            }
        }
    }
}

impl Evaluator for DriftState {
    fn check_batch(
        &mut self,
        batch: &GovernedBatch,
        scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let column = rule_column(batch, scope, &self.check.column)?;
        match &self.check.reference {
            ReferenceDistribution::Numeric { .. } => {
                // Text that is not a number becomes null and is left out of the test.
                let options = CastOptions {
                    safe: true,
                    ..Default::default()
                };
                let values = cast_with_options(column, &DataType::Float64, &options)?;
                let values = values
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(|| Error::Internal("cast to Float64 changed type".into()))?;
                for value in values.iter().flatten().filter(|value| value.is_finite()) {
                    stats.evaluated += 1;
                    self.push_number(value);
                }
            }
            ReferenceDistribution::Categorical { .. } => {
                let text = text_values(column)?;
                for value in text.iter().flatten() {
                    stats.evaluated += 1;
                    let key =
                        if self.counts.contains_key(value) || self.counts.len() < MAX_CATEGORIES {
                            value
                        } else {
                            OTHER
                        };
                    *self.counts.entry(key.to_string()).or_insert(0) += 1;
                }
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        _scope: &Scope<'_>,
        stats: &mut RuleStats,
        _failures: &mut Vec<Failure>,
    ) -> Result<()> {
        let (test, statistic, p_value) = match &self.check.reference {
            ReferenceDistribution::Numeric { count, .. } => {
                let mut sorted = std::mem::take(&mut self.sample);
                sorted.sort_by(f64::total_cmp);
                let statistic = ks_statistic(&sorted, &self.check.reference);
                let n = sorted.len() as f64;
                let m = *count as f64;
                let effective = if n + m > 0.0 { n * m / (n + m) } else { 0.0 };
                stats.set_metric("sample_size", n);
                (
                    "Kolmogorov-Smirnov D",
                    statistic,
                    ks_p_value(statistic, effective),
                )
            }
            ReferenceDistribution::Categorical { counts } => {
                let observed = std::mem::take(&mut self.counts);
                let (statistic, freedom, p_value) = chi_square(&observed, counts);
                stats.set_metric("degrees_of_freedom", freedom);
                ("chi-square", statistic, p_value)
            }
        };
        self.seen = 0;
        self.rng = ChaCha8Rng::seed_from_u64(SEED);
        stats.set_metric("statistic", statistic);
        stats.set_metric("p_value", p_value);
        let drifted = stats.evaluated > 0 && p_value < self.check.min_p_value;
        stats.verdict = Some(!drifted);
        stats.failing = u64::from(drifted);
        stats.detail = Some(format!(
            "{test} = {statistic:.4}, p = {p_value:.4} over {} values (fails below {})",
            stats.evaluated, self.check.min_p_value
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform_reference() -> ReferenceDistribution {
        ReferenceDistribution::Numeric {
            quantiles: (0..=100).map(f64::from).collect(),
            count: 10_000,
        }
    }

    #[test]
    fn cdf_interpolates_quantiles() {
        let reference = uniform_reference();
        assert_eq!(reference.cdf(-1.0), 0.0);
        assert!((reference.cdf(25.0) - 0.25).abs() < 1e-9);
        assert!((reference.cdf(99.5) - 0.995).abs() < 1e-9);
        assert_eq!(reference.cdf(100.0), 1.0);
    }

    #[test]
    fn same_distribution_has_high_p_value() {
        let sample: Vec<f64> = (0..1000).map(|i| f64::from(i) / 10.0).collect();
        let statistic = ks_statistic(&sample, &uniform_reference());
        assert!(statistic < 0.01, "{statistic}");
        assert!(ks_p_value(statistic, 900.0) > 0.5);
    }

    #[test]
    fn shifted_distribution_has_low_p_value() {
        let sample: Vec<f64> = (0..1000).map(|i| 30.0 + f64::from(i) / 10.0).collect();
        let statistic = ks_statistic(&sample, &uniform_reference());
        assert!((statistic - 0.3).abs() < 0.01, "{statistic}");
        assert!(ks_p_value(statistic, 900.0) < 1e-6);
    }

    #[test]
    fn chi_square_detects_changed_shares() {
        let reference: BTreeMap<String, u64> =
            [("bus".to_string(), 500), ("tram".to_string(), 500)].into();
        let same: HashMap<String, u64> =
            [("bus".to_string(), 98), ("tram".to_string(), 102)].into();
        let (_, freedom, p_same) = chi_square(&same, &reference);
        assert_eq!(freedom, 1.0);
        assert!(p_same > 0.5, "{p_same}");
        let shifted: HashMap<String, u64> =
            [("bus".to_string(), 160), ("tram".to_string(), 40)].into();
        let (statistic, _, p_shifted) = chi_square(&shifted, &reference);
        assert!(statistic > 50.0);
        assert!(p_shifted < 1e-6, "{p_shifted}");
    }

    #[test]
    fn invalid_references_are_described() {
        let unordered = ReferenceDistribution::Numeric {
            quantiles: vec![3.0, 1.0],
            count: 2,
        };
        assert!(
            unordered
                .validate()
                .expect_err("unordered")
                .contains("out of order")
        );
        let empty = ReferenceDistribution::Categorical {
            counts: BTreeMap::new(),
        };
        assert!(empty.validate().is_err());
    }
}
