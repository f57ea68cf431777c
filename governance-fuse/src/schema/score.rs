//! Scoring of one column against one attribute from its name and its value profile.

use governance_core::standard::{
    Attribute, AttributeType, ReferenceConditions, Unit, UnitConversion,
};

use super::mapping::{Evidence, Signal};
use super::names::{character_similarity, compact, token_jaccard};
use super::profile::{ColumnProfile, ValueKind, ValuePattern};
use crate::embed::TextEmbedder;

/// Confidence given to a column whose name says nothing but whose values carry the pattern
/// an attribute expects (timestamps for a date-time, compass points for a wind direction).
const PATTERN_ONLY_CONFIDENCE: f64 = 0.55;

/// Profile factor of a column whose values count up like row numbers, for attributes that
/// are not identifiers.
const ROW_INDEX_FACTOR: f64 = 0.1;

/// The score of a column for an attribute.
#[derive(Debug, Clone)]
pub(crate) struct Score {
    pub confidence: f64,
    pub evidence: Vec<Evidence>,
    pub source_unit: Option<Unit>,
    /// Set when the values count up like row numbers and the attribute is no identifier.
    pub row_index: bool,
}

/// The parts of a name score.
struct NameScore {
    lexical: f64,
    embedding: f64,
    evidence: Vec<Evidence>,
}

/// The parts of a profile score.
struct ProfileScore {
    factor: f64,
    pattern_match: bool,
    source_unit: Option<Unit>,
    row_index: bool,
    evidence: Vec<Evidence>,
}

/// Scores `profile` against `attribute`.
///
/// The lexical similarity is the best over the attribute name and aliases: 1 for an exact
/// match after normalisation, otherwise 0.9 times the larger of the token Jaccard index and
/// the character similarity. The name score mixes it with the best embedding cosine,
/// weighted by `embedding_weight`. The profile factor `p` in [0, 1] is the type fit times the range or
/// category fit. The confidence is `name × (0.4 + 0.6 p)`, so values that contradict the
/// attribute cut a perfect name to 0.4, below the default threshold. A column whose values
/// carry the attribute's pattern scores at least 0.55 × `p` whatever its name.
pub(crate) fn score(
    profile: &ColumnProfile,
    attribute: &Attribute,
    embedder: &dyn TextEmbedder,
    embedding_weight: f64,
    conditions: ReferenceConditions,
) -> Score {
    let name = name_score(&profile.name, attribute, embedder);
    let values = profile_score(profile, attribute, conditions);
    let name_part = (1.0 - embedding_weight) * name.lexical + embedding_weight * name.embedding;
    let mut confidence = name_part * (0.4 + 0.6 * values.factor);
    if values.pattern_match {
        confidence = confidence.max(PATTERN_ONLY_CONFIDENCE * values.factor);
    }
    let mut evidence = name.evidence;
    evidence.extend(values.evidence);
    Score {
        confidence: confidence.clamp(0.0, 1.0),
        evidence,
        source_unit: values.source_unit,
        row_index: values.row_index,
    }
}

fn name_score(column: &str, attribute: &Attribute, embedder: &dyn TextEmbedder) -> NameScore {
    let column_compact = compact(column);
    let column_vector = embedder.embed(column);
    let mut best_lexical = (0.0, Signal::Characters, String::new());
    let mut best_tokens = (0.0, String::new());
    let mut best_chars = (0.0, String::new());
    let mut best_embedding = (0.0f64, String::new());

    let labels = std::iter::once((&attribute.name, true))
        .chain(attribute.aliases.iter().map(|alias| (alias, false)));
    for (label, is_name) in labels {
        if !column_compact.is_empty() && column_compact == compact(label) {
            let signal = if is_name {
                Signal::ExactName
            } else {
                Signal::Alias
            };
            if best_lexical.0 < 1.0 {
                best_lexical = (1.0, signal, label.to_string());
            }
        }
        let tokens = token_jaccard(column, label);
        if tokens > best_tokens.0 {
            best_tokens = (tokens, label.to_string());
        }
        let chars = character_similarity(column, label);
        if chars > best_chars.0 {
            best_chars = (chars, label.to_string());
        }
        let cosine = f64::from(crate::embed::cosine(&column_vector, &embedder.embed(label)));
        if cosine > best_embedding.0 {
            best_embedding = (cosine, label.to_string());
        }
    }

    let mut evidence = Vec::new();
    if best_lexical.0 == 1.0 {
        let what = if best_lexical.1 == Signal::ExactName {
            "the attribute name"
        } else {
            "alias"
        };
        evidence.push(Evidence {
            signal: best_lexical.1,
            score: 1.0,
            detail: format!(
                "name {column:?} equals {what} {:?} after normalisation",
                best_lexical.2
            ),
        });
    }
    if best_tokens.0 > 0.0 {
        evidence.push(Evidence {
            signal: Signal::Tokens,
            score: best_tokens.0,
            detail: format!(
                "name shares {:.0} % of tokens with {:?}",
                best_tokens.0 * 100.0,
                best_tokens.1
            ),
        });
    }
    evidence.push(Evidence {
        signal: Signal::Characters,
        score: best_chars.0,
        detail: format!("edit similarity {:.2} to {:?}", best_chars.0, best_chars.1),
    });
    evidence.push(Evidence {
        signal: Signal::Embedding,
        score: best_embedding.0,
        detail: format!(
            "embedding cosine {:.2} to {:?}",
            best_embedding.0, best_embedding.1
        ),
    });

    let lexical = if best_lexical.0 == 1.0 {
        1.0
    } else {
        0.9 * best_tokens.0.max(best_chars.0)
    };
    NameScore {
        lexical,
        embedding: best_embedding.0.max(0.0),
        evidence,
    }
}

fn is_identifier(attribute: &Attribute) -> bool {
    attribute.semantic_type.ends_with("_id")
}

fn profile_score(
    profile: &ColumnProfile,
    attribute: &Attribute,
    conditions: ReferenceConditions,
) -> ProfileScore {
    let mut result = ProfileScore {
        factor: 0.5,
        pattern_match: false,
        source_unit: None,
        row_index: false,
        evidence: Vec::new(),
    };
    if profile.kind == ValueKind::Empty {
        result.evidence.push(Evidence {
            signal: Signal::Type,
            score: 0.5,
            detail: "no values to check: the column is empty or all null".into(),
        });
        return result;
    }

    let (type_fit, pattern_match) = type_fit(profile, attribute);
    result.pattern_match = pattern_match;
    result.evidence.push(Evidence {
        signal: Signal::Type,
        score: type_fit,
        detail: format!(
            "{} values ({}) for a {:?} attribute",
            kind_name(profile.kind),
            profile.data_type,
            attribute.data_type
        ),
    });
    if pattern_match {
        result.evidence.push(Evidence {
            signal: Signal::Pattern,
            score: 1.0,
            detail: format!(
                "values are {} as the attribute expects",
                pattern_name(profile.pattern)
            ),
        });
    }

    let mut fit = 1.0;
    if let (Some(range), Some(numeric)) = (attribute.range, &profile.numeric)
        && profile.pattern != Some(ValuePattern::CompassDirection)
    {
        let (share, unit) = best_range_fit(numeric, attribute, range.min, range.max, conditions);
        fit = share;
        result.source_unit = unit;
        let unit_note = match (unit, attribute.unit) {
            (Some(source), Some(target)) => {
                format!(" if the values are in {source} rather than {target}")
            }
            _ => String::new(),
        };
        result.evidence.push(Evidence {
            signal: Signal::Range,
            score: share,
            detail: format!(
                "{:.0} % of values lie in the plausible range {}..{}{unit_note}",
                share * 100.0,
                range.min,
                range.max
            ),
        });
    }
    if !attribute.allowed_values.is_empty() {
        let share = category_share(profile, &attribute.allowed_values);
        fit = share.max(0.3);
        result.evidence.push(Evidence {
            signal: Signal::Categories,
            score: share,
            detail: format!(
                "{:.0} % of distinct values are among {:?}",
                share * 100.0,
                attribute.allowed_values
            ),
        });
    }

    result.factor = type_fit * fit;
    if profile.pattern == Some(ValuePattern::RowIndex) && !is_identifier(attribute) {
        result.row_index = true;
        result.factor *= ROW_INDEX_FACTOR;
        result.evidence.push(Evidence {
            signal: Signal::Pattern,
            score: 0.0,
            detail: "values count up by one per row, like a row number".into(),
        });
    }
    result
}

/// Returns the type fit in [0, 1] and whether the values carry the pattern the attribute
/// expects.
fn type_fit(profile: &ColumnProfile, attribute: &Attribute) -> (f64, bool) {
    let kind = profile.kind;
    let pattern = profile.pattern;
    let integer_share = profile
        .numeric
        .as_ref()
        .map_or(0.0, |numeric| numeric.integer_share);
    match attribute.data_type {
        AttributeType::Number => {
            if attribute.semantic_type == "wind_direction"
                && pattern == Some(ValuePattern::CompassDirection)
            {
                return (1.0, true);
            }
            match kind {
                ValueKind::Number | ValueKind::Integer => (1.0, false),
                ValueKind::NumericText => (0.8, false),
                _ => (0.0, false),
            }
        }
        AttributeType::Integer => match kind {
            ValueKind::Integer => (1.0, false),
            ValueKind::Number if integer_share >= 0.99 => (0.9, false),
            ValueKind::NumericText if integer_share >= 0.99 => (0.8, false),
            ValueKind::Number | ValueKind::NumericText => (0.4, false),
            _ => (0.0, false),
        },
        AttributeType::Text => match kind {
            ValueKind::Text => (1.0, false),
            ValueKind::Integer | ValueKind::NumericText => (0.6, false),
            ValueKind::Boolean | ValueKind::Number => (0.3, false),
            _ => (0.2, false),
        },
        AttributeType::DateTime => match kind {
            ValueKind::Temporal => (1.0, true),
            ValueKind::Integer | ValueKind::Number => (0.2, false),
            _ => (0.1, false),
        },
        AttributeType::Boolean => match (kind, pattern) {
            (ValueKind::Boolean, _) => (1.0, false),
            (_, Some(ValuePattern::BooleanText)) => (0.9, false),
            (ValueKind::Integer, _) if profile.distinct <= 2 => (0.6, false),
            _ => (0.0, false),
        },
        AttributeType::Geometry => match kind {
            ValueKind::Text | ValueKind::Other => (0.6, false),
            _ => (0.1, false),
        },
    }
}

/// Returns the best share of values within the range, over the attribute's unit and the
/// units it converts from, and the source unit when another unit fits clearly better.
fn best_range_fit(
    numeric: &super::profile::NumericSummary,
    attribute: &Attribute,
    min: f64,
    max: f64,
    conditions: ReferenceConditions,
) -> (f64, Option<Unit>) {
    let native = numeric.share_within(min, max);
    let Some(target) = attribute.unit else {
        return (native, None);
    };
    let mut best = (native, None);
    for source in Unit::ALL.into_iter().filter(|unit| *unit != target) {
        // The range in the source unit is the target range converted to that unit.
        let conversion = match attribute.molar_mass {
            Some(mass) => UnitConversion::for_gas(target, source, mass, conditions),
            None => UnitConversion::new(target, source),
        };
        let Ok(back) = conversion else {
            continue;
        };
        let (low, high) = (back.apply(min), back.apply(max));
        let share = numeric.share_within(low.min(high), low.max(high));
        // Another unit must fit clearly better to be suggested, since wide ranges overlap.
        if share > best.0 + 0.2 {
            best = (share, Some(source));
        }
    }
    best
}

fn category_share(profile: &ColumnProfile, allowed: &[String]) -> f64 {
    if profile.categories.is_empty() {
        return 0.0;
    }
    let inside = profile
        .categories
        .iter()
        .filter(|value| allowed.iter().any(|a| a.eq_ignore_ascii_case(value)))
        .count();
    inside as f64 / profile.categories.len() as f64
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Empty => "no",
        ValueKind::Number => "numeric",
        ValueKind::Integer => "integer",
        ValueKind::NumericText => "numeric text",
        ValueKind::Temporal => "date-time",
        ValueKind::Boolean => "boolean",
        ValueKind::Text => "text",
        ValueKind::Other => "other",
    }
}

fn pattern_name(pattern: Option<ValuePattern>) -> &'static str {
    match pattern {
        Some(ValuePattern::Timestamp) => "timestamps",
        Some(ValuePattern::CompassDirection) => "compass points",
        Some(ValuePattern::BooleanText) => "yes/no words",
        Some(ValuePattern::RowIndex) => "row numbers",
        None => "unpatterned",
    }
}
