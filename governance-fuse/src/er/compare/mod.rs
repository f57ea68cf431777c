//! Comparators: how similar two values of an attribute are, as a score and as a level.
//!
//! A [`Comparator`] maps a pair of optional values to a similarity in `[0, 1]`, or to
//! "missing" (`None`) when either value is absent or cannot be read (a price without a digit).
//! A [`Comparison`] applies a comparator to one attribute and cuts its similarity into discrete
//! levels, as Splink does: `null`, `else`, one level per threshold and, on top, `exact`. The
//! levels are the input of the Fellegi-Sunter model ([`crate::er::fellegi_sunter`]).
//!
//! ```
//! use governance_fuse::er::{CandidatePair, RecordTable};
//! use governance_fuse::er::compare::{Comparison, NULL_LEVEL};
//!
//! let mut left = RecordTable::new("left", vec!["name".into()])?;
//! left.push("1", vec![Some("Martha".into())])?;
//! left.push("2", vec![None])?;
//! let mut right = RecordTable::new("right", vec!["name".into()])?;
//! right.push("a", vec![Some("Marhta".into())])?;
//!
//! let comparison = Comparison::jaro_winkler("name").fit(&left, &right)?;
//! let level = comparison.level(&left, &right, CandidatePair::new(0, 0));
//! assert_eq!(comparison.level_label(level), "jaro_winkler >= 0.92");
//! assert_eq!(comparison.level(&left, &right, CandidatePair::new(1, 0)), NULL_LEVEL);
//! # Ok::<(), governance_fuse::er::ErError>(())
//! ```

mod fitted;
mod given_name;
mod numeric;
mod string;
mod text;
mod tfidf;

use serde::{Deserialize, Serialize};

pub use fitted::FittedComparison;
pub use given_name::{given_name_similarity_normalized, given_names_within_edits, same_given_name};
pub use numeric::{
    absolute_similarity, date_similarity, day_month_swapped, parse_calendar_date, parse_date,
    parse_number, relative_similarity,
};
pub use string::{
    EDIT_MAX_CHARS, containment, exact, jaccard, jaro_winkler, jaro_winkler_normalized,
    levenshtein, levenshtein_normalized, qgram_jaccard, token_jaccard,
};
pub use text::{codes, is_cjk, normalize, qgrams, squash, tokens};
pub use tfidf::{SparseVector, TfIdf};

use super::term_frequency::{TermFrequencies, TermFrequencyConfig};
use super::{ErError, RecordTable};
use crate::embed::{HashedNgramEmbedder, TextEmbedder};

/// The level of a pair where either value is missing; it carries no evidence either way.
pub const NULL_LEVEL: u8 = u8::MAX;

/// Most levels a comparison may have, `null` not counted.
pub const MAX_LEVELS: usize = 64;

/// Comparison method for two values. Serialised with a `kind` tag, e.g.
/// `{"kind": "qgram_jaccard", "q": 3}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Comparator {
    /// 1 when the normalised values are equal, else 0.
    Exact,
    /// Levenshtein similarity, `1 - distance / max length`, on normalised values.
    Levenshtein,
    /// Jaro-Winkler similarity on normalised values.
    JaroWinkler,
    /// Jaro-Winkler similarity on normalised given names, except that other ways of writing
    /// one name score 1.0. These are a common English nickname and its formal name (Bob and
    /// Robert), two nicknames of one name (Bill and Will), and the same characters in another
    /// order (a Chinese given name with its two characters swapped). Such pairs reach the
    /// highest threshold level but not `exact`.
    GivenName,
    /// 1.0 when two normalised given names, or a way of writing each (the name, its formal
    /// names and their nicknames, as for [`Comparator::GivenName`]), are at most
    /// `max_edits` edits apart, else 0.0 ([`given_names_within_edits`]). It separates names
    /// that a typo or a nickname could explain from clearly different ones, for rules such
    /// as [`crate::er::cannot_link`] rather than for a model's levels.
    GivenNameEdits {
        /// Most edits (insert, delete, replace, swap of adjacent characters), at most 8.
        #[serde(default = "default_max_edits")]
        max_edits: usize,
    },
    /// Jaccard similarity of padded character q-grams.
    QgramJaccard {
        /// Gram length, at least 1.
        #[serde(default = "default_q")]
        q: usize,
    },
    /// Jaccard similarity of token sets.
    TokenJaccard,
    /// Cosine of TF-IDF vectors, with document frequencies fitted on both sides' values.
    TfIdfCosine,
    /// Soft TF-IDF: TF-IDF cosine that also credits tokens with Jaro-Winkler similarity of at
    /// least `threshold`.
    SoftTfIdf {
        /// Least Jaro-Winkler similarity for two tokens to count as the same, in `(0, 1]`.
        #[serde(default = "default_soft_threshold")]
        threshold: f64,
    },
    /// `max(0, 1 - |a - b| / scale)` on the first number in each value.
    NumericAbsolute {
        /// Difference at which the similarity reaches 0, in the attribute's unit.
        scale: f64,
    },
    /// `1 - |a - b| / max(|a|, |b|)` on the first number in each value.
    NumericRelative,
    /// `max(0, 1 - |days apart| / scale_days)` on dates read by [`parse_date`].
    DateDistance {
        /// Days apart at which the similarity reaches 0.
        scale_days: f64,
    },
    /// Cosine of hashed character n-gram embeddings ([`HashedNgramEmbedder`]), negative
    /// values taken as 0.
    EmbeddingCosine {
        /// Embedding length.
        #[serde(default = "default_embedding_dim")]
        dim: usize,
        /// Character n-gram lengths.
        #[serde(default = "default_ngram_sizes")]
        ngram_sizes: Vec<usize>,
    },
}

fn default_embedding_dim() -> usize {
    256
}

fn default_ngram_sizes() -> Vec<usize> {
    vec![2, 3, 4]
}

fn default_max_edits() -> usize {
    1
}

fn default_q() -> usize {
    3
}

fn default_soft_threshold() -> f64 {
    0.9
}

impl Comparator {
    /// Short name used in level labels and feature names, such as `jaro_winkler`.
    pub fn name(&self) -> &'static str {
        match self {
            Comparator::Exact => "exact",
            Comparator::Levenshtein => "levenshtein",
            Comparator::JaroWinkler => "jaro_winkler",
            Comparator::GivenName => "given_name",
            Comparator::GivenNameEdits { .. } => "given_name_edits",
            Comparator::QgramJaccard { .. } => "qgram_jaccard",
            Comparator::TokenJaccard => "token_jaccard",
            Comparator::TfIdfCosine => "tfidf_cosine",
            Comparator::SoftTfIdf { .. } => "soft_tfidf",
            Comparator::NumericAbsolute { .. } => "numeric_absolute",
            Comparator::NumericRelative => "numeric_relative",
            Comparator::DateDistance { .. } => "date_distance",
            Comparator::EmbeddingCosine { .. } => "embedding_cosine",
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] naming the parameter and its valid range.
    pub fn validate(&self) -> Result<(), ErError> {
        let invalid =
            |name: &str, value: String, fix: &str| Err(ErError::invalid_config(name, value, fix));
        match *self {
            Comparator::GivenNameEdits { max_edits } if max_edits > 8 => invalid(
                "given_name_edits max_edits",
                max_edits.to_string(),
                "use at most 8 edits, because more make most short names alike",
            ),
            Comparator::QgramJaccard { q } if q == 0 || q > 16 => invalid(
                "qgram_jaccard q",
                q.to_string(),
                "use a gram length from 1 to 16",
            ),
            Comparator::SoftTfIdf { threshold } if !(threshold > 0.0 && threshold <= 1.0) => {
                invalid(
                    "soft_tfidf threshold",
                    threshold.to_string(),
                    "use a similarity in (0, 1] such as 0.9",
                )
            }
            Comparator::NumericAbsolute { scale } if !(scale.is_finite() && scale > 0.0) => {
                invalid(
                    "numeric_absolute scale",
                    scale.to_string(),
                    "use a positive difference in the attribute's unit",
                )
            }
            Comparator::DateDistance { scale_days }
                if !(scale_days.is_finite() && scale_days > 0.0) =>
            {
                invalid(
                    "date_distance scale_days",
                    scale_days.to_string(),
                    "use a positive number of days",
                )
            }
            Comparator::EmbeddingCosine {
                dim,
                ref ngram_sizes,
            } if dim == 0 || ngram_sizes.is_empty() || ngram_sizes.contains(&0) => invalid(
                "embedding_cosine dim and ngram_sizes",
                format!("{dim} and {ngram_sizes:?}"),
                "use a positive dim such as 256 and positive n-gram lengths such as [2, 3, 4]",
            ),
            _ => Ok(()),
        }
    }

    /// Returns whether the comparator needs document frequencies fitted on the data.
    pub fn needs_fit(&self) -> bool {
        matches!(self, Comparator::TfIdfCosine | Comparator::SoftTfIdf { .. })
    }

    /// Prepares the comparator for use, fitting TF-IDF document frequencies on `corpus` when
    /// it needs them (the values of both sides); other comparators ignore the corpus.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when a parameter is out of range.
    pub fn fit<'a>(
        &self,
        corpus: impl IntoIterator<Item = &'a str>,
    ) -> Result<FittedComparator, ErError> {
        self.validate()?;
        let tfidf = self.needs_fit().then(|| TfIdf::fit(corpus));
        let embedder = match self {
            Comparator::EmbeddingCosine { dim, ngram_sizes } => {
                Some(HashedNgramEmbedder::new(*dim, ngram_sizes))
            }
            _ => None,
        };
        Ok(FittedComparator {
            comparator: self.clone(),
            tfidf,
            embedder,
        })
    }
}

/// A comparator ready to compare values, with its fitted document frequencies if it has any.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedComparator {
    comparator: Comparator,
    tfidf: Option<TfIdf>,
    embedder: Option<HashedNgramEmbedder>,
}

impl FittedComparator {
    /// The comparator's settings.
    pub fn comparator(&self) -> &Comparator {
        &self.comparator
    }

    /// Similarity in `[0, 1]`, or `None` when a value is absent or cannot be read as the
    /// comparator's type (a number, a date).
    pub fn similarity(&self, left: Option<&str>, right: Option<&str>) -> Option<f64> {
        let (left, right) = (left?, right?);
        let tfidf = || self.tfidf.as_ref();
        let similarity = match &self.comparator {
            Comparator::Exact => exact(left, right),
            Comparator::Levenshtein => levenshtein(left, right),
            Comparator::JaroWinkler => jaro_winkler(left, right),
            Comparator::GivenName => {
                given_name_similarity_normalized(&normalize(left), &normalize(right))
            }
            Comparator::GivenNameEdits { max_edits } => f64::from(u8::from(
                given_names_within_edits(&normalize(left), &normalize(right), *max_edits),
            )),
            Comparator::QgramJaccard { q } => qgram_jaccard(left, right, *q),
            Comparator::TokenJaccard => token_jaccard(left, right),
            Comparator::TfIdfCosine => tfidf()?.cosine(left, right),
            Comparator::SoftTfIdf { threshold } => tfidf()?.soft_cosine(left, right, *threshold),
            Comparator::NumericAbsolute { scale } => {
                absolute_similarity(parse_number(left)?, parse_number(right)?, *scale)
            }
            Comparator::NumericRelative => {
                relative_similarity(parse_number(left)?, parse_number(right)?)
            }
            Comparator::DateDistance { scale_days } => {
                date_similarity(parse_date(left)?, parse_date(right)?, *scale_days)
            }
            Comparator::EmbeddingCosine { .. } => {
                let embedder = self.embedder.as_ref()?;
                f64::from(embedder.similarity(left, right).max(0.0))
            }
        };
        Some(similarity)
    }

    /// Returns whether the comparator reads nothing but the normalised text of each value, so
    /// that normalising a column once can serve every pair.
    fn reads_normalized_text(&self) -> bool {
        matches!(
            self.comparator,
            Comparator::Exact
                | Comparator::Levenshtein
                | Comparator::JaroWinkler
                | Comparator::GivenName
                | Comparator::GivenNameEdits { .. }
        )
    }

    /// Computes the similarity of two values that [`normalize`] already produced. The caller
    /// checks [`Self::reads_normalized_text`] first.
    fn similarity_of_normalized(&self, left: &str, right: &str) -> f64 {
        match self.comparator {
            Comparator::Levenshtein => levenshtein_normalized(left, right),
            Comparator::JaroWinkler => jaro_winkler_normalized(left, right),
            Comparator::GivenName => given_name_similarity_normalized(left, right),
            Comparator::GivenNameEdits { max_edits } => {
                f64::from(u8::from(given_names_within_edits(left, right, max_edits)))
            }
            _ => f64::from(u8::from(left == right)),
        }
    }

    /// Whether two present values are the same: equal normalised text, or equal numbers or
    /// dates for the numeric and date comparators.
    pub fn is_exact(&self, left: &str, right: &str) -> bool {
        match self.comparator {
            Comparator::NumericAbsolute { .. } | Comparator::NumericRelative => {
                parse_number(left).is_some() && parse_number(left) == parse_number(right)
            }
            Comparator::DateDistance { .. } => {
                parse_date(left).is_some() && parse_date(left) == parse_date(right)
            }
            _ => normalize(left) == normalize(right),
        }
    }
}

/// One attribute compared by one comparator and cut into levels; the serde form of a
/// comparison in a matching config.
///
/// Levels, from the lowest: `else` (0), one per threshold from the lowest threshold up,
/// `day_month_swapped` when `day_month_swap` is set, and `exact` when `exact_level` is set.
/// A pair with a missing value gets [`NULL_LEVEL`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Attribute compared; both tables must have it.
    pub attribute: String,
    /// Comparison method for the values.
    pub comparator: Comparator,
    /// Similarity thresholds in strictly descending order, each in `(0, 1]`.
    #[serde(default)]
    pub thresholds: Vec<f64>,
    /// Whether equal values get a level of their own above every threshold.
    #[serde(default = "default_exact_level")]
    pub exact_level: bool,
    /// Attribute whose values people write in this attribute's place, such as the family
    /// name for a given name. A pair also gets the level of the swapped comparison: the
    /// lower similarity of each record's value with the other record's `swapped_with`,
    /// cut at the thresholds, when that level is higher than its own. The swapped level
    /// is at most the highest threshold level, never `exact`, so it needs a threshold.
    #[serde(default)]
    pub swapped_with: Option<String>,
    /// Whether two dates that differ only by day and month written in each other's place
    /// (2001-03-04 and 2001-04-03) get a level of their own, `day_month_swapped`, between
    /// the highest threshold and `exact`. Such a pair gets it whatever its similarity, so
    /// that EM learns its weight apart from a generic near match. Values that do not read
    /// as full dates ([`parse_calendar_date`]) never reach it.
    #[serde(default)]
    pub day_month_swap: bool,
    /// Term-frequency adjustment of the `exact` level, and optionally of the highest
    /// threshold level ([`crate::er::term_frequency`]): agreement on a rare value weighs
    /// more than on a common one. Off when absent.
    #[serde(default)]
    pub term_frequency: Option<TermFrequencyConfig>,
}

fn default_exact_level() -> bool {
    true
}

impl Comparison {
    /// Creates a comparison with an `exact` level on top.
    pub fn new(attribute: impl Into<String>, comparator: Comparator, thresholds: Vec<f64>) -> Self {
        Self {
            attribute: attribute.into(),
            comparator,
            thresholds,
            exact_level: true,
            swapped_with: None,
            day_month_swap: false,
            term_frequency: None,
        }
    }

    /// Adds the `day_month_swapped` level (see [`Comparison::day_month_swap`]).
    pub fn with_day_month_swap(mut self) -> Self {
        self.day_month_swap = true;
        self
    }

    /// Adjusts the `exact` level by the frequency of the agreeing value (see
    /// [`Comparison::term_frequency`]).
    pub fn with_term_frequency(mut self, config: TermFrequencyConfig) -> Self {
        self.term_frequency = Some(config);
        self
    }

    /// Sets the attribute whose values may be swapped with this one's (see
    /// [`Comparison::swapped_with`]).
    pub fn with_swapped(mut self, attribute: impl Into<String>) -> Self {
        self.swapped_with = Some(attribute.into());
        self
    }

    /// The Splink default for names: exact, Jaro-Winkler at least 0.92, at least 0.8, else.
    pub fn jaro_winkler(attribute: impl Into<String>) -> Self {
        Self::new(attribute, Comparator::JaroWinkler, vec![0.92, 0.8])
    }

    /// Exact, [`Comparator::GivenName`] at least 0.92 (which a nickname or a change of
    /// character order reaches), at least 0.8, else: for given names, where a nickname is
    /// as strong a sign of one person as a typo.
    pub fn given_name(attribute: impl Into<String>) -> Self {
        Self::new(attribute, Comparator::GivenName, vec![0.92, 0.8])
    }

    /// Exact, TF-IDF cosine at least 0.8, 0.6 and 0.4, else: suited to long text.
    pub fn tfidf(attribute: impl Into<String>) -> Self {
        Self::new(attribute, Comparator::TfIdfCosine, vec![0.8, 0.6, 0.4])
    }

    /// Exact, within 5 %, within 20 %, else: suited to prices and counts.
    pub fn numeric(attribute: impl Into<String>) -> Self {
        Self::new(attribute, Comparator::NumericRelative, vec![0.95, 0.8])
    }

    /// Checks the comparator and the thresholds.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] naming the attribute and the bad value.
    pub fn validate(&self) -> Result<(), ErError> {
        self.comparator.validate()?;
        if let Some(term_frequency) = &self.term_frequency {
            term_frequency.validate(&self.attribute)?;
            if !self.exact_level {
                return Err(ErError::invalid_config(
                    format!("exact_level of the comparison of '{}'", self.attribute),
                    false,
                    "set exact_level to true or remove term_frequency, because the \
                     adjustment applies to the exact level",
                ));
            }
            if term_frequency.near_exact && self.thresholds.is_empty() {
                return Err(ErError::invalid_config(
                    format!(
                        "term_frequency near_exact of the comparison of '{}'",
                        self.attribute
                    ),
                    true,
                    "add a threshold or set near_exact to false, because the near-exact \
                     level is the highest threshold level",
                ));
            }
        }
        let levels = self.thresholds.len()
            + 1
            + usize::from(self.day_month_swap)
            + usize::from(self.exact_level);
        if levels > MAX_LEVELS {
            return Err(ErError::invalid_config(
                format!("level count of the comparison of '{}'", self.attribute),
                levels,
                format!("use at most {MAX_LEVELS} levels, so fewer thresholds"),
            ));
        }
        if let Some(other) = &self.swapped_with
            && self.thresholds.is_empty()
        {
            return Err(ErError::invalid_config(
                format!("swapped_with of the comparison of '{}'", self.attribute),
                format!("'{other}'"),
                "add a threshold, because a swapped pair gets the highest threshold level",
            ));
        }
        for (index, &threshold) in self.thresholds.iter().enumerate() {
            if !(threshold > 0.0 && threshold <= 1.0) {
                return Err(ErError::invalid_config(
                    format!("threshold of the comparison of '{}'", self.attribute),
                    threshold,
                    "use thresholds in (0, 1]",
                ));
            }
            if index > 0 && threshold >= self.thresholds[index - 1] {
                return Err(ErError::invalid_config(
                    format!("thresholds of the comparison of '{}'", self.attribute),
                    format!("{:?}", self.thresholds),
                    "list them in strictly descending order",
                ));
            }
        }
        Ok(())
    }

    /// Resolves the attribute in both tables and fits the comparator on both sides' values.
    ///
    /// # Errors
    /// [`ErError::UnknownAttribute`] when a table lacks the attribute, and
    /// [`ErError::InvalidConfig`] for bad thresholds or comparator parameters.
    pub fn fit(
        &self,
        left: &RecordTable,
        right: &RecordTable,
    ) -> Result<FittedComparison, ErError> {
        self.validate()?;
        let left_index = left.attribute_index(&self.attribute)?;
        let right_index = right.attribute_index(&self.attribute)?;
        let corpus = column_values(left, left_index).chain(column_values(right, right_index));
        let comparator = self.comparator.fit(corpus)?;
        let term_frequencies = self.term_frequency.map(|_| {
            TermFrequencies::count(
                column_values(left, left_index).chain(column_values(right, right_index)),
            )
        });
        let swapped = match &self.swapped_with {
            Some(other) => Some((left.attribute_index(other)?, right.attribute_index(other)?)),
            None => None,
        };
        Ok(FittedComparison {
            comparison: self.clone(),
            left_index,
            right_index,
            swapped,
            comparator,
            term_frequencies,
        })
    }
}

fn column_values(table: &RecordTable, index: usize) -> impl Iterator<Item = &str> {
    table
        .column(index)
        .unwrap_or_default()
        .iter()
        .filter_map(Option::as_deref)
}

#[cfg(test)]
mod tests;
