//! Pair features: the comparison vector of a candidate pair that a classifier learns from.
//!
//! For each compared attribute a text attribute gets edit, set and TF-IDF similarities,
//! token containment both ways and the rank context of [`super::context`]. A numeric
//! attribute (one whose values are almost all plain numbers, such as prices or years) gets
//! equality and relative difference instead. Each attribute also has a missing indicator,
//! and its similarities are 0 when a value is missing.
//!
//! Text attributes and the whole record also get the cosine of hashed character n-gram
//! embeddings ([`HashedNgramEmbedder`]), which credits spelling variants that share no token.
//!
//! The whole record (all attributes joined) adds TF-IDF cosine, token Jaccard, containment and
//! its own rank context. It also adds agreement of alphanumeric codes such as model numbers,
//! because a code of one record found anywhere in the other's text is strong evidence for
//! products, and agreement of the numbers in the text (versions, sizes).
//!
//! With [`PairFeatureConfig::embedding_vectors`] set, the pair also gets the element-wise
//! product and absolute difference of the two records' embeddings, projected to a few
//! dimensions ([`vectors`]). [`PairFeaturizer::fit_with_embedder`] takes any
//! [`TextEmbedder`], such as the pretrained sentence encoder of `governance-llm`, in place
//! of the hashed embedder for every embedding feature.
//!
//! Everything here is fitted on the records of both tables and nothing on labels: document
//! frequencies, neighbour ranks and the numeric-attribute test see only attribute values.

pub mod vectors;

use std::collections::HashSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compare::NULL_LEVEL;
use super::compare::{
    SparseVector, TfIdf, codes, jaccard, normalize, parse_number, qgrams, relative_similarity,
    squash, tokens,
};
use super::context::Neighbours;
use super::fellegi_sunter::LevelMatrix;
use super::{CandidatePair, ErError, RecordTable};
use crate::embed::{HashedNgramEmbedder, TextEmbedder, cosine};
use vectors::{EmbeddingVectorConfig, RecordVectors};

/// Settings of the pair features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PairFeatureConfig {
    /// Attributes compared one by one; `None` compares every attribute both tables have.
    pub attributes: Option<Vec<String>>,
    /// Neighbours kept per record for the rank context.
    pub neighbours: usize,
    /// Characters of each normalised value that Jaro-Winkler and Levenshtein look at.
    pub edit_prefix_chars: usize,
    /// Tokens of each value that soft TF-IDF looks at; its cost grows with their product.
    pub soft_tfidf_max_tokens: usize,
    /// Share of present values that must be plain numbers for an attribute to count as
    /// numeric.
    pub numeric_share: f64,
    /// Length of the hashed character 2-, 3- and 4-gram embeddings of text values, at least 1.
    /// [`PairFeaturizer::fit_with_embedder`] ignores it, because its embedder sets the length.
    pub embedding_dim: usize,
    /// Product and difference of the projected record embeddings as features; off when
    /// absent.
    pub embedding_vectors: Option<EmbeddingVectorConfig>,
}

impl Default for PairFeatureConfig {
    fn default() -> Self {
        Self {
            attributes: None,
            neighbours: 10,
            edit_prefix_chars: 64,
            soft_tfidf_max_tokens: 30,
            numeric_share: 0.9,
            embedding_dim: 256,
            embedding_vectors: None,
        }
    }
}

/// Whether an attribute is compared as text or as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Free text.
    Text,
    /// Plain numbers, such as prices or years.
    Numeric,
}

#[derive(Debug, Clone)]
struct AttributeSpec {
    name: String,
    left_index: usize,
    right_index: usize,
    kind: AttributeKind,
    /// Neighbours of left records among right records, and the reverse; text only.
    context: Option<(Neighbours, Neighbours)>,
}

/// Per-value data that the features need, computed once per record.
#[derive(Debug, Clone, Default)]
struct ValueCache {
    present: bool,
    normalized: String,
    prefix: String,
    tokens: Vec<String>,
    token_set: Vec<u64>,
    grams: Vec<u64>,
    vector: SparseVector,
    embedding: Vec<f32>,
    number: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct RecordCache {
    values: Vec<ValueCache>,
    tokens: Vec<u64>,
    vector: SparseVector,
    embedding: Vec<f32>,
    codes: Vec<String>,
    squashed: String,
    numbers: Vec<u64>,
}

/// Feature extractor fitted on two tables (or one table twice, for deduplication).
#[derive(Debug, Clone)]
pub struct PairFeaturizer {
    config: PairFeatureConfig,
    attributes: Vec<AttributeSpec>,
    attribute_tfidf: Vec<TfIdf>,
    left: Vec<RecordCache>,
    right: Vec<RecordCache>,
    record_context: (Neighbours, Neighbours),
    vectors: Option<RecordVectors>,
    names: Vec<String>,
}

/// Features per text attribute, in order; the context ones follow.
const TEXT_FEATURES: [&str; 11] = [
    "missing",
    "exact",
    "jaro_winkler",
    "levenshtein",
    "token_jaccard",
    "qgram_jaccard",
    "tfidf",
    "soft_tfidf",
    "left_in_right",
    "right_in_left",
    "embedding_cosine",
];
const NUMERIC_FEATURES: [&str; 4] = ["missing", "exact", "relative", "log_ratio"];
const CONTEXT_FEATURES: [&str; 6] = [
    "inverse_rank_left",
    "inverse_rank_right",
    "mutual_best",
    "gap_left",
    "gap_right",
    "share_of_best",
];
const RECORD_FEATURES: [&str; 13] = [
    "tfidf",
    "embedding_cosine",
    "token_jaccard",
    "left_in_right",
    "right_in_left",
    "left_has_code",
    "right_has_code",
    "code_shared",
    "code_contained",
    "code_conflict",
    "code_jaccard",
    "number_jaccard",
    "number_conflict",
];

impl PairFeaturizer {
    /// Fits document frequencies, numeric-attribute tests and neighbour ranks on the records of
    /// `left` and `right`, with hashed character n-gram embeddings of
    /// `config.embedding_dim` dimensions.
    ///
    /// # Errors
    /// [`ErError::EmptyInput`] for a table without records, [`ErError::NoCommonAttribute`]
    /// when the tables share no attribute, [`ErError::UnknownAttribute`] for a configured
    /// attribute a table lacks, and [`ErError::InvalidConfig`] for bad settings.
    pub fn fit(
        left: &RecordTable,
        right: &RecordTable,
        config: &PairFeatureConfig,
    ) -> Result<Self, ErError> {
        let embedder = HashedNgramEmbedder::new(config.embedding_dim.max(1), &[2, 3, 4]);
        Self::fit_with_embedder(left, right, config, &embedder)
    }

    /// Fits as [`Self::fit`], with `embedder` for the embedding cosines and the embedding
    /// vectors of attribute values and whole records.
    ///
    /// # Errors
    /// As [`Self::fit`], and [`ErError::InvalidConfig`] when the embedder returns embeddings
    /// of different lengths.
    pub fn fit_with_embedder(
        left: &RecordTable,
        right: &RecordTable,
        config: &PairFeatureConfig,
        embedder: &dyn TextEmbedder,
    ) -> Result<Self, ErError> {
        if config.neighbours == 0 || config.edit_prefix_chars == 0 || config.embedding_dim == 0 {
            return Err(ErError::invalid_config(
                "neighbours, edit_prefix_chars and embedding_dim",
                format!(
                    "{}, {} and {}",
                    config.neighbours, config.edit_prefix_chars, config.embedding_dim
                ),
                "set each to at least 1",
            ));
        }
        if !(config.numeric_share > 0.0 && config.numeric_share <= 1.0) {
            return Err(ErError::invalid_config(
                "numeric_share",
                config.numeric_share,
                "use a share in (0, 1] such as 0.9",
            ));
        }
        left.require_records()?;
        right.require_records()?;
        let names = match &config.attributes {
            Some(names) => names.clone(),
            None => left.common_attributes(right)?,
        };
        if names.is_empty() {
            return Err(ErError::invalid_config(
                "attributes",
                "[]",
                "name at least one attribute or leave it unset",
            ));
        }

        let mut attributes = Vec::with_capacity(names.len());
        let mut attribute_tfidf = Vec::with_capacity(names.len());
        for name in names {
            let left_index = left.attribute_index(&name)?;
            let right_index = right.attribute_index(&name)?;
            let values: Vec<&str> = present_values(left, left_index)
                .chain(present_values(right, right_index))
                .collect();
            let numeric = values.iter().filter(|value| is_plain_number(value)).count();
            let kind = if !values.is_empty()
                && numeric as f64 >= config.numeric_share * values.len() as f64
            {
                AttributeKind::Numeric
            } else {
                AttributeKind::Text
            };
            attribute_tfidf.push(TfIdf::fit(values.iter().copied()));
            attributes.push(AttributeSpec {
                name,
                left_index,
                right_index,
                kind,
                context: None,
            });
        }

        let record_tfidf = TfIdf::fit(
            record_texts(left)
                .iter()
                .chain(record_texts(right).iter())
                .map(String::as_str),
        );
        if let Some(vector_config) = &config.embedding_vectors {
            vector_config.validate()?;
        }
        let left_cache = cache_records(
            left,
            Side::Left,
            &attributes,
            &attribute_tfidf,
            &record_tfidf,
            config,
            embedder,
        );
        let right_cache = cache_records(
            right,
            Side::Right,
            &attributes,
            &attribute_tfidf,
            &record_tfidf,
            config,
            embedder,
        );
        let vectors = match &config.embedding_vectors {
            Some(vector_config) => {
                let embeddings = |cache: &[RecordCache]| -> Vec<Vec<f32>> {
                    cache
                        .iter()
                        .map(|record| record.embedding.clone())
                        .collect()
                };
                Some(RecordVectors::project(
                    vector_config,
                    &embeddings(&left_cache),
                    &embeddings(&right_cache),
                )?)
            }
            None => None,
        };
        let mut selected_attributes = attributes;
        for (index, attribute) in selected_attributes.iter_mut().enumerate() {
            if attribute.kind == AttributeKind::Text {
                let left_vectors: Vec<SparseVector> = left_cache
                    .iter()
                    .map(|record| record.values[index].vector.clone())
                    .collect();
                let right_vectors: Vec<SparseVector> = right_cache
                    .iter()
                    .map(|record| record.values[index].vector.clone())
                    .collect();
                attribute.context = Some((
                    Neighbours::build(&left_vectors, &right_vectors, config.neighbours),
                    Neighbours::build(&right_vectors, &left_vectors, config.neighbours),
                ));
            }
        }
        let left_vectors: Vec<SparseVector> = left_cache
            .iter()
            .map(|record| record.vector.clone())
            .collect();
        let right_vectors: Vec<SparseVector> = right_cache
            .iter()
            .map(|record| record.vector.clone())
            .collect();
        let record_context = (
            Neighbours::build(&left_vectors, &right_vectors, config.neighbours),
            Neighbours::build(&right_vectors, &left_vectors, config.neighbours),
        );

        let mut feature_names = Vec::new();
        for attribute in &selected_attributes {
            let own: &[&str] = match attribute.kind {
                AttributeKind::Text => &TEXT_FEATURES,
                AttributeKind::Numeric => &NUMERIC_FEATURES,
            };
            for feature in own {
                feature_names.push(format!("{}:{feature}", attribute.name));
            }
            if attribute.context.is_some() {
                for feature in CONTEXT_FEATURES {
                    feature_names.push(format!("{}:{feature}", attribute.name));
                }
            }
        }
        for feature in RECORD_FEATURES.iter().chain(CONTEXT_FEATURES.iter()) {
            feature_names.push(format!("record:{feature}"));
        }
        if let Some(vector_config) = &config.embedding_vectors {
            feature_names.extend(vectors::feature_names(vector_config.dim));
        }

        Ok(Self {
            config: config.clone(),
            attributes: selected_attributes,
            attribute_tfidf,
            left: left_cache,
            right: right_cache,
            record_context,
            vectors,
            names: feature_names,
        })
    }

    /// Feature names, in column order, such as `title:jaro_winkler` or `record:code_shared`.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of features per pair.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Compared attributes with their kind.
    pub fn attributes(&self) -> Vec<(String, AttributeKind)> {
        self.attributes
            .iter()
            .map(|attribute| (attribute.name.clone(), attribute.kind))
            .collect()
    }

    /// Pairs of each record with its nearest records of the other table by whole-record
    /// TF-IDF cosine, both ways, without repeats and sorted: a candidate set found from the
    /// records alone.
    pub fn neighbour_pairs(&self) -> Vec<CandidatePair> {
        let (forward, backward) = &self.record_context;
        let mut pairs = Vec::new();
        for left in 0..self.left.len() {
            for &(right, _) in forward.of(left) {
                pairs.push(CandidatePair::new(left as u32, right));
            }
        }
        for right in 0..self.right.len() {
            for &(left, _) in backward.of(right) {
                pairs.push(CandidatePair::new(left, right as u32));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Document frequencies of an attribute, fitted on both tables.
    pub fn attribute_tfidf(&self, attribute: usize) -> Option<&TfIdf> {
        self.attribute_tfidf.get(attribute)
    }

    /// Row-major features of `pairs`, computed in parallel; every value is finite.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when a pair names a row outside its table.
    pub fn features(&self, pairs: &[CandidatePair]) -> Result<Vec<f32>, ErError> {
        if let Some(pair) = pairs.iter().find(|pair| {
            pair.left as usize >= self.left.len() || pair.right as usize >= self.right.len()
        }) {
            return Err(ErError::invalid_config(
                "pair",
                format!("({}, {})", pair.left, pair.right),
                format!(
                    "name rows within the tables of {} and {} records",
                    self.left.len(),
                    self.right.len()
                ),
            ));
        }
        let rows: Vec<Vec<f32>> = pairs.par_iter().map(|&pair| self.row(pair)).collect();
        Ok(rows.concat())
    }

    /// Cuts feature rows (from [`PairFeaturizer::features`]) into the comparison levels of
    /// the unsupervised Fellegi-Sunter model.
    ///
    /// Comparisons: per text attribute, TF-IDF cosine (exact, at least 0.9, 0.8, else);
    /// per numeric attribute, relative difference (exact, within 5 %, within 20 %, else);
    /// agreement of codes (a code of one record found in the other, or not), null unless both
    /// records have codes. The last comparison is whether the records are each other's best
    /// TF-IDF neighbour (mutual, one way, neither).
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] when `features` is not whole rows of this featurizer.
    pub fn comparison_levels(&self, features: &[f32]) -> Result<LevelMatrix, ErError> {
        let width = self.width();
        if !features.len().is_multiple_of(width) {
            return Err(ErError::invalid_config(
                "number of feature values",
                features.len(),
                format!("pass whole rows, a multiple of the {width} features"),
            ));
        }
        let column = |name: &str| {
            self.names
                .iter()
                .position(|known| known == name)
                .ok_or_else(|| {
                    ErError::invalid_config(
                        "feature",
                        format!("'{name}'"),
                        "fit the featurizer with this attribute, because it does not compute \
                         the feature",
                    )
                })
        };
        let mut names = Vec::new();
        let mut labels: Vec<Vec<String>> = Vec::new();
        // Per comparison: how to cut a row into a level.
        let mut cuts: Vec<LevelCut> = Vec::new();
        let tiers = |labels: &[&str]| labels.iter().map(|label| (*label).to_owned()).collect();
        for attribute in &self.attributes {
            let missing = column(&format!("{}:missing", attribute.name))?;
            let exact = column(&format!("{}:exact", attribute.name))?;
            match attribute.kind {
                AttributeKind::Text => {
                    let score = column(&format!("{}:tfidf", attribute.name))?;
                    names.push(format!("{}:tfidf", attribute.name));
                    labels.push(tiers(&["else", ">= 0.8", ">= 0.9", "exact"]));
                    cuts.push(Box::new(move |row| {
                        cut(row, missing, exact, score, &[0.9, 0.8])
                    }));
                }
                AttributeKind::Numeric => {
                    let score = column(&format!("{}:relative", attribute.name))?;
                    names.push(format!("{}:relative", attribute.name));
                    labels.push(tiers(&["else", ">= 0.8", ">= 0.95", "exact"]));
                    cuts.push(Box::new(move |row| {
                        cut(row, missing, exact, score, &[0.95, 0.8])
                    }));
                }
            }
        }
        let left_code = column("record:left_has_code")?;
        let right_code = column("record:right_has_code")?;
        let shared = column("record:code_shared")?;
        let contained = column("record:code_contained")?;
        names.push("record:codes".into());
        labels.push(tiers(&["differ", "agree"]));
        cuts.push(Box::new(move |row| {
            if row[left_code] == 0.0 || row[right_code] == 0.0 {
                NULL_LEVEL
            } else {
                u8::from(row[shared] > 0.0 || row[contained] > 0.0)
            }
        }));
        let forward = column("record:inverse_rank_left")?;
        let backward = column("record:inverse_rank_right")?;
        names.push("record:best_neighbour".into());
        labels.push(tiers(&["neither", "one way", "mutual"]));
        cuts.push(Box::new(move |row| {
            u8::from(row[forward] >= 1.0) + u8::from(row[backward] >= 1.0)
        }));

        let mut levels = Vec::with_capacity(features.len() / width * cuts.len());
        for row in features.chunks_exact(width) {
            levels.extend(cuts.iter().map(|cut| cut(row)));
        }
        LevelMatrix::new(names, labels, levels)
    }

    fn row(&self, pair: CandidatePair) -> Vec<f32> {
        let left = &self.left[pair.left as usize];
        let right = &self.right[pair.right as usize];
        let mut row = Vec::with_capacity(self.names.len());
        for (index, attribute) in self.attributes.iter().enumerate() {
            let (a, b) = (&left.values[index], &right.values[index]);
            match attribute.kind {
                AttributeKind::Text => self.push_text(&mut row, index, a, b),
                AttributeKind::Numeric => push_numeric(&mut row, a, b),
            }
            if let Some((forward, backward)) = &attribute.context {
                let score = a.vector.dot(&b.vector) as f32;
                push_context(&mut row, forward, backward, pair, score);
            }
        }
        push_record(&mut row, left, right);
        let score = left.vector.dot(&right.vector) as f32;
        push_context(
            &mut row,
            &self.record_context.0,
            &self.record_context.1,
            pair,
            score,
        );
        if let Some(vectors) = &self.vectors {
            vectors.push(&mut row, pair.left as usize, pair.right as usize);
        }
        row
    }

    fn push_text(&self, row: &mut Vec<f32>, index: usize, a: &ValueCache, b: &ValueCache) {
        if !(a.present && b.present) {
            row.push(1.0);
            row.extend(std::iter::repeat_n(0.0, TEXT_FEATURES.len() - 1));
            return;
        }
        let limit = self.config.soft_tfidf_max_tokens;
        let soft = self.attribute_tfidf[index].soft_cosine_tokens(
            &a.tokens[..a.tokens.len().min(limit)],
            &b.tokens[..b.tokens.len().min(limit)],
            0.9,
        );
        row.extend([
            0.0,
            f32::from(u8::from(a.normalized == b.normalized)),
            strsim::jaro_winkler(&a.prefix, &b.prefix) as f32,
            strsim::normalized_levenshtein(&a.prefix, &b.prefix) as f32,
            jaccard(&a.token_set, &b.token_set) as f32,
            jaccard(&a.grams, &b.grams) as f32,
            a.vector.dot(&b.vector).clamp(0.0, 1.0) as f32,
            soft as f32,
            sorted_containment(&a.token_set, &b.token_set),
            sorted_containment(&b.token_set, &a.token_set),
            cosine(&a.embedding, &b.embedding).max(0.0),
        ]);
    }
}

/// Maps one feature row to the level of one comparison.
type LevelCut = Box<dyn Fn(&[f32]) -> u8 + Send + Sync>;

/// Level of a similarity column: null when missing, the top level when exact, else the
/// number of `thresholds` (descending) that the score reaches.
fn cut(row: &[f32], missing: usize, exact: usize, score: usize, thresholds: &[f32]) -> u8 {
    if row[missing] > 0.0 {
        return NULL_LEVEL;
    }
    if row[exact] > 0.0 {
        return (thresholds.len() + 1) as u8;
    }
    thresholds
        .iter()
        .position(|&threshold| row[score] >= threshold)
        .map_or(0, |index| (thresholds.len() - index) as u8)
}

fn push_numeric(row: &mut Vec<f32>, a: &ValueCache, b: &ValueCache) {
    let (Some(x), Some(y)) = (a.number, b.number) else {
        row.extend([1.0, 0.0, 0.0, 0.0]);
        return;
    };
    let log_ratio = if x > 0.0 && y > 0.0 {
        (x / y).ln().abs().min(5.0)
    } else {
        5.0 * (1.0 - relative_similarity(x, y))
    };
    row.extend([
        0.0,
        f32::from(u8::from(x == y)),
        relative_similarity(x, y) as f32,
        log_ratio as f32,
    ]);
}

fn push_context(
    row: &mut Vec<f32>,
    forward: &Neighbours,
    backward: &Neighbours,
    pair: CandidatePair,
    score: f32,
) {
    let rank_left = forward.rank(pair.left as usize, pair.right);
    let rank_right = backward.rank(pair.right as usize, pair.left);
    let best_left = forward.best_score(pair.left as usize);
    let best_right = backward.best_score(pair.right as usize);
    let best = best_left.max(best_right);
    row.extend([
        1.0 / rank_left as f32,
        1.0 / rank_right as f32,
        f32::from(u8::from(rank_left == 1 && rank_right == 1)),
        (best_left - score).max(0.0),
        (best_right - score).max(0.0),
        if best > 0.0 {
            (score / best).min(1.0)
        } else {
            0.0
        },
    ]);
}

fn push_record(row: &mut Vec<f32>, a: &RecordCache, b: &RecordCache) {
    let shared_code = a.codes.iter().any(|code| b.codes.contains(code));
    let contained = a
        .codes
        .iter()
        .any(|code| b.squashed.contains(code.as_str()))
        || b.codes
            .iter()
            .any(|code| a.squashed.contains(code.as_str()));
    let both_codes = !a.codes.is_empty() && !b.codes.is_empty();
    let both_numbers = !a.numbers.is_empty() && !b.numbers.is_empty();
    let number_overlap = a.numbers.iter().any(|number| b.numbers.contains(number));
    row.extend([
        a.vector.dot(&b.vector).clamp(0.0, 1.0) as f32,
        cosine(&a.embedding, &b.embedding).max(0.0),
        jaccard(&a.tokens, &b.tokens) as f32,
        sorted_containment(&a.tokens, &b.tokens),
        sorted_containment(&b.tokens, &a.tokens),
        f32::from(u8::from(!a.codes.is_empty())),
        f32::from(u8::from(!b.codes.is_empty())),
        f32::from(u8::from(shared_code)),
        f32::from(u8::from(contained)),
        f32::from(u8::from(both_codes && !shared_code && !contained)),
        if both_codes {
            jaccard(&a.codes, &b.codes) as f32
        } else {
            0.0
        },
        if both_numbers {
            jaccard(&a.numbers, &b.numbers) as f32
        } else {
            0.0
        },
        f32::from(u8::from(both_numbers && !number_overlap)),
    ]);
}

/// Share of `part` found in `whole`, both sorted and free of repeats; 0 when `part` is empty.
fn sorted_containment(part: &[u64], whole: &[u64]) -> f32 {
    if part.is_empty() {
        return 0.0;
    }
    let whole: HashSet<&u64> = whole.iter().collect();
    part.iter().filter(|item| whole.contains(item)).count() as f32 / part.len() as f32
}

fn present_values(table: &RecordTable, index: usize) -> impl Iterator<Item = &str> {
    table
        .column(index)
        .unwrap_or_default()
        .iter()
        .filter_map(Option::as_deref)
}

/// Returns whether a value is a plain number, allowing a currency sign and thousands separators.
fn is_plain_number(value: &str) -> bool {
    let trimmed = value.trim().trim_start_matches(['$', '€', '£', '¥']).trim();
    let cleaned: String = trimmed.chars().filter(|&c| c != ',').collect();
    !cleaned.is_empty() && cleaned.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Joins every attribute of each record with spaces.
fn record_texts(table: &RecordTable) -> Vec<String> {
    (0..table.len())
        .map(|row| {
            (0..table.attributes().len())
                .filter_map(|index| table.value(row, index))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn hashed_set<S: AsRef<str>>(items: &[S]) -> Vec<u64> {
    let mut hashes: Vec<u64> = items
        .iter()
        .map(|item| xxhash_rust::xxh3::xxh3_64(item.as_ref().as_bytes()))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Left,
    Right,
}

fn cache_records(
    table: &RecordTable,
    side: Side,
    attributes: &[AttributeSpec],
    attribute_tfidf: &[TfIdf],
    record_tfidf: &TfIdf,
    config: &PairFeatureConfig,
    embedder: &dyn TextEmbedder,
) -> Vec<RecordCache> {
    let texts = record_texts(table);
    (0..table.len())
        .into_par_iter()
        .map(|row| {
            let values = attributes
                .iter()
                .zip(attribute_tfidf)
                .map(|(attribute, tfidf)| {
                    let index = match side {
                        Side::Left => attribute.left_index,
                        Side::Right => attribute.right_index,
                    };
                    cache_value(table.value(row, index), tfidf, embedder, config)
                })
                .collect();
            let text = &texts[row];
            let record_tokens = tokens(text);
            let numbers: Vec<&String> = record_tokens
                .iter()
                .filter(|token| token.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .collect();
            RecordCache {
                values,
                tokens: hashed_set(&record_tokens),
                vector: record_tfidf.weigh(&record_tokens),
                embedding: embedder.embed(text),
                codes: codes(text),
                squashed: squash(text),
                numbers: hashed_set(&numbers.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
            }
        })
        .collect()
}

fn cache_value(
    value: Option<&str>,
    tfidf: &TfIdf,
    embedder: &dyn TextEmbedder,
    config: &PairFeatureConfig,
) -> ValueCache {
    let Some(value) = value else {
        return ValueCache::default();
    };
    let normalized = normalize(value);
    let value_tokens = tokens(value);
    ValueCache {
        present: true,
        prefix: normalized.chars().take(config.edit_prefix_chars).collect(),
        token_set: hashed_set(&value_tokens),
        grams: hashed_set(&qgrams(value, 3)),
        vector: tfidf.weigh(&value_tokens),
        embedding: embedder.embed(value),
        number: parse_number(value),
        tokens: value_tokens,
        normalized,
    }
}
