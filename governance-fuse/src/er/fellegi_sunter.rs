//! The Fellegi-Sunter model of record linkage, trained without labels by expectation
//! maximisation.
//!
//! Each candidate pair is a vector of comparison levels (see [`crate::er::compare`]). The model
//! assumes that pairs are matches with prior probability `λ`, and that, given the match status,
//! the comparisons are independent: level `l` of comparison `k` has probability `m_k(l)` among
//! matches and `u_k(l)` among non-matches. The match weight of a level is `log2(m / u)`. A
//! pair's weight `w` is the prior log-odds `log2(λ / (1 - λ))` plus its levels' weights, and
//! its posterior match probability is `2^w / (1 + 2^w)`. A `null` level (a missing value)
//! adds nothing.
//!
//! Training runs EM over the distinct level vectors with their counts rather than over every
//! pair, because candidate sets repeat a small number of patterns many times; the E-step over
//! patterns is parallel. As in Splink, `u` may be estimated beforehand from random pairs, which
//! are nearly all non-matches, and then kept fixed while EM fits `λ` and `m`. Training is
//! deterministic: patterns are processed in sorted order and random pairs come from a seeded
//! ChaCha generator.

use std::collections::HashMap;
use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compare::{FittedComparison, NULL_LEVEL};
use super::joint::names_comparison;
use super::{CandidatePair, ErError, LinkMode, RecordTable};

/// Comparison levels of many pairs, row-major: one row per pair, one column per comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelMatrix {
    names: Vec<String>,
    labels: Vec<Vec<String>>,
    levels: Vec<u8>,
}

impl LevelMatrix {
    /// Creates a matrix from row-major `levels`, with the name and level labels of each
    /// comparison (`labels[k][l]` names level `l` of comparison `k`).
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when the shapes disagree, a comparison has fewer than two
    /// levels, or a level is neither [`NULL_LEVEL`] nor below its comparison's level count.
    pub fn new(
        names: Vec<String>,
        labels: Vec<Vec<String>>,
        levels: Vec<u8>,
    ) -> Result<Self, ErError> {
        let width = names.len();
        if width == 0 || labels.len() != width {
            return Err(ErError::invalid_config(
                "level labels",
                format!("{} label lists for {width} comparisons", labels.len()),
                "pass at least one comparison and one label list per comparison",
            ));
        }
        if let Some(position) = labels.iter().position(|list| list.len() < 2) {
            return Err(ErError::invalid_config(
                format!("level count of comparison '{}'", names[position]),
                labels[position].len(),
                "give each comparison at least two levels",
            ));
        }
        if !levels.len().is_multiple_of(width) {
            return Err(ErError::invalid_config(
                "number of levels",
                levels.len(),
                format!("pass whole rows, a multiple of the {width} comparisons"),
            ));
        }
        for (index, &level) in levels.iter().enumerate() {
            let column = index % width;
            if level != NULL_LEVEL && usize::from(level) >= labels[column].len() {
                return Err(ErError::invalid_config(
                    format!(
                        "level of pair {} for comparison '{}'",
                        index / width,
                        names[column]
                    ),
                    level,
                    format!(
                        "use a level below {} or the null level",
                        labels[column].len()
                    ),
                ));
            }
        }
        Ok(Self {
            names,
            labels,
            levels,
        })
    }

    /// Compares every pair with every comparison.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when `comparisons` is empty.
    pub fn compare(
        comparisons: &[FittedComparison],
        left: &RecordTable,
        right: &RecordTable,
        pairs: &[CandidatePair],
    ) -> Result<Self, ErError> {
        let names = comparisons.iter().map(FittedComparison::name).collect();
        let labels = comparisons
            .iter()
            .map(FittedComparison::level_labels)
            .collect();
        let columns: Vec<Vec<u8>> = comparisons
            .iter()
            .map(|comparison| comparison.levels(left, right, pairs))
            .collect();
        let mut levels = Vec::with_capacity(pairs.len() * comparisons.len());
        for row in 0..pairs.len() {
            levels.extend(columns.iter().map(|column| column[row]));
        }
        Self::new(names, labels, levels)
    }

    /// Comparison names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Level labels per comparison.
    pub fn labels(&self) -> &[Vec<String>] {
        &self.labels
    }

    /// Number of comparisons.
    pub fn num_comparisons(&self) -> usize {
        self.names.len()
    }

    /// Number of pairs.
    pub fn num_pairs(&self) -> usize {
        self.levels.len() / self.names.len()
    }

    /// Levels of pair `index`.
    pub fn row(&self, index: usize) -> &[u8] {
        let width = self.names.len();
        &self.levels[index * width..(index + 1) * width]
    }

    /// Rows of the given pairs, as a new matrix.
    pub fn select(&self, rows: &[usize]) -> Self {
        let mut levels = Vec::with_capacity(rows.len() * self.names.len());
        for &row in rows {
            levels.extend_from_slice(self.row(row));
        }
        Self {
            names: self.names.clone(),
            labels: self.labels.clone(),
            levels,
        }
    }

    /// Returns, per comparison, whether EM uses it: false for each one that `blocked` names by
    /// comparison name or by attribute.
    fn active_comparisons(&self, blocked: &[String]) -> Result<Vec<bool>, ErError> {
        for entry in blocked {
            if !self.names.iter().any(|name| names_comparison(entry, name)) {
                return Err(ErError::invalid_config(
                    "blocked_comparisons entry",
                    format!("'{entry}'"),
                    format!(
                        "name one of the comparisons [{}] or its attribute",
                        self.names.join(", ")
                    ),
                ));
            }
        }
        let active: Vec<bool> = self
            .names
            .iter()
            .map(|name| !blocked.iter().any(|entry| names_comparison(entry, name)))
            .collect();
        if !active.contains(&true) {
            return Err(ErError::invalid_config(
                "blocked_comparisons",
                format!("[{}]", blocked.join(", ")),
                format!(
                    "leave at least one of the comparisons [{}] unblocked, because EM has no \
                     evidence to learn from otherwise",
                    self.names.join(", ")
                ),
            ));
        }
        Ok(active)
    }

    /// Distinct rows with their counts, sorted so that training does not depend on hash order.
    fn patterns(&self) -> Vec<(&[u8], f64)> {
        let width = self.names.len();
        let mut counts: HashMap<&[u8], u64> = HashMap::new();
        for row in self.levels.chunks_exact(width) {
            *counts.entry(row).or_default() += 1;
        }
        let mut patterns: Vec<(&[u8], f64)> = counts
            .into_iter()
            .map(|(row, count)| (row, count as f64))
            .collect();
        patterns.sort_unstable_by(|a, b| a.0.cmp(b.0));
        patterns
    }
}

/// Draws `count` pairs uniformly at random, without repeats where the tables allow it.
///
/// In [`LinkMode::Dedupe`] both rows come from a table of `left_len` records and differ. The
/// generator is ChaCha8 seeded with `seed`, so the pairs depend only on the arguments.
pub fn random_pairs(
    mode: LinkMode,
    left_len: usize,
    right_len: usize,
    count: usize,
    seed: u64,
) -> Vec<CandidatePair> {
    let possible = match mode {
        LinkMode::Link => left_len.saturating_mul(right_len),
        LinkMode::Dedupe => left_len.saturating_mul(left_len.saturating_sub(1)) / 2,
    };
    let count = count.min(possible);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut pairs = Vec::with_capacity(count);
    while pairs.len() < count {
        let pair = match mode {
            LinkMode::Link => CandidatePair::new(
                rng.random_range(0..left_len) as u32,
                rng.random_range(0..right_len) as u32,
            ),
            LinkMode::Dedupe => {
                let a = rng.random_range(0..left_len) as u32;
                let b = rng.random_range(0..left_len) as u32;
                if a == b {
                    continue;
                }
                CandidatePair::ordered(a, b)
            }
        };
        if seen.insert(pair) {
            pairs.push(pair);
        }
    }
    pairs
}

/// Settings of EM training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FellegiSunterConfig {
    /// Prior match probability `λ` that EM starts from, in `(0, 1)`.
    pub initial_match_probability: f64,
    /// Most EM iterations.
    pub max_iterations: usize,
    /// EM stops when no probability moves by more than this between iterations.
    pub tolerance: f64,
    /// Pseudo-count added to every level when m and u are estimated, so that a level never
    /// seen in one class gets a small probability instead of 0 (and a finite weight).
    pub smoothing: f64,
    /// Whether `u` estimated from random pairs stays fixed during EM (Splink's default). Without
    /// random pairs EM always trains `u`.
    pub fix_u: bool,
    /// Comparisons that the training pairs were blocked on, by comparison name
    /// (`first_name:jaro_winkler`) or attribute (`first_name`). Such pairs agree on them by
    /// construction, so EM leaves them out: their evidence would make every pair look like a
    /// match. Their m (and u when EM trains it) keep the starting values, so take them from
    /// a session blocked on other attributes. An entry that names a member of a joint
    /// comparison ([`crate::er::joint`]) leaves out the whole joint comparison.
    pub blocked_comparisons: Vec<String>,
}

impl Default for FellegiSunterConfig {
    fn default() -> Self {
        Self {
            initial_match_probability: 0.1,
            max_iterations: 200,
            tolerance: 1e-6,
            smoothing: 0.5,
            fix_u: true,
            blocked_comparisons: Vec::new(),
        }
    }
}

impl FellegiSunterConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] naming the setting and its valid range.
    pub fn validate(&self) -> Result<(), ErError> {
        let p = self.initial_match_probability;
        if !(p > 0.0 && p < 1.0) {
            return Err(ErError::invalid_config(
                "initial_match_probability",
                p,
                "use a probability strictly between 0 and 1",
            ));
        }
        if self.max_iterations == 0 {
            return Err(ErError::invalid_config(
                "max_iterations",
                0,
                "use at least 1",
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(ErError::invalid_config(
                "tolerance",
                self.tolerance,
                "use a small positive number such as 1e-6",
            ));
        }
        if !(self.smoothing.is_finite() && self.smoothing >= 0.0) {
            return Err(ErError::invalid_config(
                "smoothing",
                self.smoothing,
                "use a pseudo-count of at least 0",
            ));
        }
        Ok(())
    }
}

/// The trained probabilities of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelParameters {
    /// Level label, such as `exact` or `jaro_winkler >= 0.92`.
    pub label: String,
    /// Probability of the level among matches.
    pub m: f64,
    /// Probability of the level among non-matches.
    pub u: f64,
    /// Match weight `log2(m / u)`.
    pub weight: f64,
}

/// The trained levels of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParameters {
    /// Comparison name.
    pub name: String,
    /// Levels from `else` (level 0) up.
    pub levels: Vec<LevelParameters>,
}

/// A trained Fellegi-Sunter model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FellegiSunterModel {
    /// Prior match probability `λ`.
    pub match_probability: f64,
    /// Trained m, u and weight per comparison level.
    pub comparisons: Vec<ComparisonParameters>,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether EM stopped within the tolerance before `max_iterations`.
    pub converged: bool,
}

impl FellegiSunterModel {
    /// Trains `λ` and `m` (and `u` unless fixed) by EM on the level vectors of candidate pairs.
    ///
    /// `random` contains the levels of random pairs with the same comparisons; when given, `u` is
    /// estimated from them before EM (and kept fixed when `config.fix_u`). Without it, `u`
    /// starts as the mirror image of `m` and EM trains both.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for bad settings, an empty candidate set, or random pairs
    /// whose comparisons differ from the candidates'.
    pub fn train(
        config: &FellegiSunterConfig,
        candidates: &LevelMatrix,
        random: Option<&LevelMatrix>,
    ) -> Result<Self, ErError> {
        config.validate()?;
        if candidates.num_pairs() == 0 {
            return Err(ErError::invalid_config(
                "candidate pairs",
                0,
                "block or pass candidate pairs before training the Fellegi-Sunter model",
            ));
        }
        let sizes: Vec<usize> = candidates.labels.iter().map(Vec::len).collect();
        let mut m: Vec<Vec<f64>> = sizes.iter().map(|&size| ramp(size, true)).collect();
        let mut u: Vec<Vec<f64>> = sizes.iter().map(|&size| ramp(size, false)).collect();
        let mut u_fixed = false;
        if let Some(random) = random {
            if random.names != candidates.names || random.labels != candidates.labels {
                return Err(ErError::invalid_config(
                    "comparisons of the random pairs",
                    format!("[{}]", random.names.join(", ")),
                    format!(
                        "compare them with the candidates' comparisons [{}]",
                        candidates.names.join(", ")
                    ),
                ));
            }
            let patterns = random.patterns();
            let counts: Vec<f64> = patterns.iter().map(|(_, count)| *count).collect();
            u = level_frequencies(&patterns, &counts, &sizes, config.smoothing);
            u_fixed = config.fix_u;
        }

        let active = candidates.active_comparisons(&config.blocked_comparisons)?;
        let patterns = candidates.patterns();
        let mut lambda = config.initial_match_probability;
        let mut iterations = 0;
        let mut converged = false;
        while iterations < config.max_iterations {
            iterations += 1;
            let posteriors: Vec<f64> = patterns
                .par_iter()
                .map(|(row, _)| posterior(row, lambda, &m, &u, &active))
                .collect();
            let total: f64 = patterns.iter().map(|(_, count)| count).sum();
            let matched: f64 = patterns
                .iter()
                .zip(&posteriors)
                .map(|((_, count), p)| count * p)
                .sum();
            let new_lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
            let match_weights: Vec<f64> = patterns
                .iter()
                .zip(&posteriors)
                .map(|((_, count), p)| count * p)
                .collect();
            let mut new_m = level_frequencies(&patterns, &match_weights, &sizes, config.smoothing);
            keep_inactive(&mut new_m, &m, &active);
            let mut change = (new_lambda - lambda).abs().max(max_change(&m, &new_m));
            if !u_fixed {
                let non_match_weights: Vec<f64> = patterns
                    .iter()
                    .zip(&posteriors)
                    .map(|((_, count), p)| count * (1.0 - p))
                    .collect();
                let mut new_u =
                    level_frequencies(&patterns, &non_match_weights, &sizes, config.smoothing);
                keep_inactive(&mut new_u, &u, &active);
                change = change.max(max_change(&u, &new_u));
                u = new_u;
            }
            lambda = new_lambda;
            m = new_m;
            if change < config.tolerance {
                converged = true;
                break;
            }
        }

        let comparisons = candidates
            .names
            .iter()
            .enumerate()
            .map(|(k, name)| ComparisonParameters {
                name: name.clone(),
                levels: (0..sizes[k])
                    .map(|l| LevelParameters {
                        label: candidates.labels[k][l].clone(),
                        m: m[k][l],
                        u: u[k][l],
                        weight: (m[k][l] / u[k][l]).log2(),
                    })
                    .collect(),
            })
            .collect();
        tracing::debug!(
            iterations,
            converged,
            match_probability = lambda,
            "trained Fellegi-Sunter model"
        );
        Ok(Self {
            match_probability: lambda,
            comparisons,
            iterations,
            converged,
        })
    }

    /// Match weight of one level vector: prior log-odds plus the weight of each non-null level.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when the vector's length or a level does not fit the model.
    pub fn match_weight(&self, levels: &[u8]) -> Result<f64, ErError> {
        if levels.len() != self.comparisons.len() {
            return Err(ErError::invalid_config(
                "number of levels",
                levels.len(),
                format!("pass one level per comparison, {}", self.comparisons.len()),
            ));
        }
        let mut weight = (self.match_probability / (1.0 - self.match_probability)).log2();
        for (comparison, &level) in self.comparisons.iter().zip(levels) {
            if level == NULL_LEVEL {
                continue;
            }
            let parameters = comparison.levels.get(usize::from(level)).ok_or_else(|| {
                ErError::invalid_config(
                    format!("level of comparison '{}'", comparison.name),
                    level,
                    format!(
                        "use a level below {}, the model's level count, or the null level",
                        comparison.levels.len()
                    ),
                )
            })?;
            weight += parameters.weight;
        }
        Ok(weight)
    }

    /// Match weights of every pair of `data`, in parallel.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when the matrix's comparisons differ from the model's.
    pub fn match_weights(&self, data: &LevelMatrix) -> Result<Vec<f64>, ErError> {
        let names: Vec<&String> = self.comparisons.iter().map(|c| &c.name).collect();
        if data.names.iter().collect::<Vec<_>>() != names {
            return Err(ErError::invalid_config(
                "comparisons of the pairs",
                format!("[{}]", data.names.join(", ")),
                format!(
                    "compare the pairs with the comparisons the model was trained on [{}]",
                    self.comparisons
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        (0..data.num_pairs())
            .into_par_iter()
            .map(|row| self.match_weight(data.row(row)))
            .collect()
    }

    /// Posterior match probability of every pair of `data`.
    ///
    /// # Errors
    /// As [`FellegiSunterModel::match_weights`].
    pub fn predict(&self, data: &LevelMatrix) -> Result<Vec<f64>, ErError> {
        Ok(self
            .match_weights(data)?
            .into_iter()
            .map(probability_from_weight)
            .collect())
    }
}

/// Posterior probability `2^w / (1 + 2^w)` of a match weight, computed without overflow.
pub fn probability_from_weight(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

impl fmt::Display for FellegiSunterModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Fellegi-Sunter model: match probability {:.5}, {} EM iterations{}",
            self.match_probability,
            self.iterations,
            if self.converged {
                ""
            } else {
                " (not converged)"
            }
        )?;
        for comparison in &self.comparisons {
            writeln!(f, "  {}", comparison.name)?;
            for level in comparison.levels.iter().rev() {
                writeln!(
                    f,
                    "    {:<28} m {:.4}  u {:.6}  weight {:+.2}",
                    level.label, level.m, level.u, level.weight
                )?;
            }
        }
        Ok(())
    }
}

/// Starting probabilities over `size` levels: doubling towards the top level for matches
/// (`rising`), towards level 0 for non-matches.
fn ramp(size: usize, rising: bool) -> Vec<f64> {
    let raw: Vec<f64> = (0..size)
        .map(|level| {
            let exponent = if rising { level } else { size - 1 - level };
            2f64.powi(exponent as i32)
        })
        .collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|value| value / total).collect()
}

/// Computes the posterior match probability of one level vector from the `active` comparisons.
fn posterior(row: &[u8], lambda: f64, m: &[Vec<f64>], u: &[Vec<f64>], active: &[bool]) -> f64 {
    let mut log_odds = (lambda / (1.0 - lambda)).ln();
    for (k, &level) in row.iter().enumerate() {
        if level != NULL_LEVEL && active[k] {
            let level = usize::from(level);
            log_odds += (m[k][level] / u[k][level]).ln();
        }
    }
    1.0 / (1.0 + (-log_odds).exp())
}

/// Restores the previous probabilities of the comparisons that EM leaves out.
fn keep_inactive(new: &mut [Vec<f64>], old: &[Vec<f64>], active: &[bool]) {
    for ((new, old), &active) in new.iter_mut().zip(old).zip(active) {
        if !active {
            new.clone_from(old);
        }
    }
}

/// Weighted level frequencies per comparison, null levels excluded, with `smoothing` added
/// to every level.
fn level_frequencies(
    patterns: &[(&[u8], f64)],
    weights: &[f64],
    sizes: &[usize],
    smoothing: f64,
) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = sizes.iter().map(|&size| vec![smoothing; size]).collect();
    for ((row, _), &weight) in patterns.iter().zip(weights) {
        for (k, &level) in row.iter().enumerate() {
            if level != NULL_LEVEL {
                counts[k][usize::from(level)] += weight;
            }
        }
    }
    for column in &mut counts {
        let total: f64 = column.iter().sum();
        let size = column.len() as f64;
        for value in column.iter_mut() {
            *value = if total > 0.0 {
                *value / total
            } else {
                1.0 / size
            };
        }
    }
    counts
}

fn max_change(old: &[Vec<f64>], new: &[Vec<f64>]) -> f64 {
    old.iter()
        .flatten()
        .zip(new.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: [[f64; 3]; 3] = [[0.05, 0.15, 0.8], [0.1, 0.3, 0.6], [0.2, 0.2, 0.6]];
    const U: [[f64; 3]; 3] = [[0.85, 0.1, 0.05], [0.7, 0.2, 0.1], [0.6, 0.3, 0.1]];
    const LAMBDA: f64 = 0.2;

    fn draw(rng: &mut ChaCha8Rng, probabilities: &[f64; 3]) -> u8 {
        let x: f64 = rng.random();
        let mut cumulative = 0.0;
        for (level, p) in probabilities.iter().enumerate() {
            cumulative += p;
            if x < cumulative {
                return level as u8;
            }
        }
        2
    }

    /// Pairs drawn from the model with known parameters; 5 % of values missing.
    fn synthetic(pairs: usize, lambda: f64, seed: u64) -> LevelMatrix {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut levels = Vec::new();
        for _ in 0..pairs {
            let matched = rng.random::<f64>() < lambda;
            for k in 0..3 {
                let level = draw(&mut rng, if matched { &M[k] } else { &U[k] });
                levels.push(if rng.random::<f64>() < 0.05 {
                    NULL_LEVEL
                } else {
                    level
                });
            }
        }
        let labels = vec![vec!["else".into(), "close".into(), "exact".into()]; 3];
        LevelMatrix::new(vec!["a".into(), "b".into(), "c".into()], labels, levels)
            .expect("valid matrix")
    }

    fn assert_recovers(model: &FellegiSunterModel, tolerance: f64) {
        assert!(
            (model.match_probability - LAMBDA).abs() < tolerance,
            "lambda {}",
            model.match_probability
        );
        for k in 0..3 {
            for l in 0..3 {
                let level = &model.comparisons[k].levels[l];
                assert!(
                    (level.m - M[k][l]).abs() < tolerance,
                    "m[{k}][{l}] {}",
                    level.m
                );
                assert!(
                    (level.u - U[k][l]).abs() < tolerance,
                    "u[{k}][{l}] {}",
                    level.u
                );
            }
        }
    }

    #[test]
    fn em_recovers_known_parameters() {
        let data = synthetic(40_000, LAMBDA, 1);
        let model = FellegiSunterModel::train(&FellegiSunterConfig::default(), &data, None)
            .expect("trains");
        assert!(model.converged);
        assert_recovers(&model, 0.02);
        let level = &model.comparisons[0].levels[2];
        assert!((level.weight - (level.m / level.u).log2()).abs() < 1e-12);
    }

    #[test]
    fn em_with_u_from_random_pairs() {
        let data = synthetic(40_000, LAMBDA, 2);
        let random = synthetic(40_000, 0.0, 3);
        let model =
            FellegiSunterModel::train(&FellegiSunterConfig::default(), &data, Some(&random))
                .expect("trains");
        assert_recovers(&model, 0.02);
    }

    /// `data` with a fourth comparison `d:exact` appended: level 1 (agree) on every pair,
    /// as for pairs blocked on `d`, or level 0 with probability 0.99 when not `blocked`.
    fn with_blocked_column(data: &LevelMatrix, blocked: bool, seed: u64) -> LevelMatrix {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut levels = Vec::new();
        for row in 0..data.num_pairs() {
            levels.extend_from_slice(data.row(row));
            let agree = blocked || rng.random::<f64>() < 0.01;
            levels.push(u8::from(agree));
        }
        let mut names = data.names().to_vec();
        names.push("d:exact".into());
        let mut labels = data.labels().to_vec();
        labels.push(vec!["else".into(), "exact".into()]);
        LevelMatrix::new(names, labels, levels).expect("valid matrix")
    }

    #[test]
    fn blocked_comparisons_stay_out_of_em() {
        let plain_data = synthetic(40_000, LAMBDA, 2);
        let plain_random = synthetic(40_000, 0.0, 3);
        let plain = FellegiSunterModel::train(
            &FellegiSunterConfig::default(),
            &plain_data,
            Some(&plain_random),
        )
        .expect("trains");
        let data = with_blocked_column(&plain_data, true, 8);
        let random = with_blocked_column(&plain_random, false, 9);
        let blocked = FellegiSunterConfig {
            blocked_comparisons: vec!["d".into()],
            ..FellegiSunterConfig::default()
        };
        let model = FellegiSunterModel::train(&blocked, &data, Some(&random)).expect("trains");
        assert_recovers(&model, 0.02);
        // Leaving `d` out of EM gives the model trained without it.
        assert!((model.match_probability - plain.match_probability).abs() < 1e-12);
        assert_eq!(model.comparisons[..3], plain.comparisons[..]);

        // With `d` in EM, its constant agreement makes every pair look like a match.
        let naive =
            FellegiSunterModel::train(&FellegiSunterConfig::default(), &data, Some(&random))
                .expect("trains");
        assert!(naive.match_probability > 0.9, "{}", naive.match_probability);

        let unknown = FellegiSunterConfig {
            blocked_comparisons: vec!["postcode".into()],
            ..FellegiSunterConfig::default()
        };
        let error = FellegiSunterModel::train(&unknown, &data, Some(&random))
            .expect_err("no such comparison");
        assert!(error.to_string().contains("postcode"), "{error}");
        assert!(error.to_string().contains("d:exact"), "{error}");
    }

    #[test]
    fn training_is_deterministic_and_printable() {
        let data = synthetic(5_000, LAMBDA, 4);
        let config = FellegiSunterConfig::default();
        let first = FellegiSunterModel::train(&config, &data, None).expect("trains");
        let second = FellegiSunterModel::train(&config, &data, None).expect("trains");
        assert_eq!(first, second);
        let text = first.to_string();
        assert!(text.contains("match probability"), "{text}");
        assert!(text.contains("exact"), "{text}");
        let json = serde_json::to_string(&first).expect("serialises");
        let back: FellegiSunterModel = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.comparisons.len(), 3);
        assert!((back.match_probability - first.match_probability).abs() < 1e-12);
    }

    #[test]
    fn posterior_ranks_agreeing_pairs_higher() {
        let data = synthetic(10_000, LAMBDA, 5);
        let model = FellegiSunterModel::train(&FellegiSunterConfig::default(), &data, None)
            .expect("trains");
        let labels = vec![vec!["else".into(), "close".into(), "exact".into()]; 3];
        let probe = LevelMatrix::new(
            vec!["a".into(), "b".into(), "c".into()],
            labels,
            vec![2, 2, 2, 0, 0, 0, NULL_LEVEL, NULL_LEVEL, NULL_LEVEL],
        )
        .expect("valid");
        let posteriors = model.predict(&probe).expect("same comparisons");
        assert!(posteriors[0] > 0.99, "{posteriors:?}");
        assert!(posteriors[1] < 0.01, "{posteriors:?}");
        assert!((posteriors[2] - model.match_probability).abs() < 1e-9);
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let labels = vec![vec!["else".to_string(), "exact".to_string()]];
        let error = LevelMatrix::new(vec!["a".into()], labels.clone(), vec![0, 5])
            .expect_err("level 5 of 2");
        assert_eq!(
            error.to_string(),
            "invalid level of pair 1 for comparison 'a' = 5: use a level below 2 or the null \
             level"
        );
        let empty = LevelMatrix::new(vec!["a".into()], labels, vec![]).expect("no pairs");
        let error = FellegiSunterModel::train(&FellegiSunterConfig::default(), &empty, None)
            .expect_err("no pairs");
        assert!(error.to_string().contains("candidate pairs = 0"), "{error}");
        let config = FellegiSunterConfig {
            initial_match_probability: 1.0,
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn random_pairs_are_distinct_and_seeded() {
        let pairs = random_pairs(LinkMode::Dedupe, 5, 5, 100, 9);
        assert_eq!(pairs.len(), 10);
        assert!(pairs.iter().all(|pair| pair.left < pair.right));
        let link = random_pairs(LinkMode::Link, 30, 40, 50, 9);
        assert_eq!(link, random_pairs(LinkMode::Link, 30, 40, 50, 9));
        assert_ne!(link, random_pairs(LinkMode::Link, 30, 40, 50, 10));
    }
}
