//! Rule suggestion from a profile, in the manner of Deequ's constraint suggestion: each rule
//! states what the profiled data already satisfies, for a user to review and keep.

use serde::{Deserialize, Serialize};

use super::{ColumnProfile, SemanticType, TableProfile, signature_regex};
use crate::checks::{
    AllowedCheck, CompletenessCheck, FormatCheck, FormatKind, KeyCheck, NotNullCheck, PatternCheck,
    RangeCheck, RuleCheck, RuleConfig, SuiteConfig, TypeCheck, ValueType,
};

/// Settings of [`suggest_rules`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestConfig {
    /// Most distinct values for which an allowed set is suggested. Defaults to 20.
    #[serde(default = "default_max_allowed")]
    pub max_allowed_values: u64,
    /// Minimum number of present values a column needs before anything beyond completeness is
    /// suggested. Defaults to 10.
    #[serde(default = "default_min_values")]
    pub min_values: u64,
}

fn default_max_allowed() -> u64 {
    20
}

fn default_min_values() -> u64 {
    10
}

impl Default for SuggestConfig {
    fn default() -> Self {
        SuggestConfig {
            max_allowed_values: default_max_allowed(),
            min_values: default_min_values(),
        }
    }
}

/// A suggested rule and the profile figure that supports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The rule, ready for a [`SuiteConfig`].
    pub rule: RuleConfig,
    /// Reason the rule is suggested, such as `no nulls in 1000 rows`.
    pub reason: String,
}

/// Suggests rules that the profiled data satisfies: not-null for complete columns and a
/// completeness floor for the others, ranges for numbers, allowed sets for low-cardinality
/// columns, a pattern when every value shares one signature, formats and types from the
/// semantic type, and uniqueness for columns whose values are all distinct. Returns the
/// suggestions and a suite config of all of them.
pub fn suggest_rules(
    profile: &TableProfile,
    config: &SuggestConfig,
) -> (Vec<Suggestion>, SuiteConfig) {
    let mut suggestions = Vec::new();
    for column in &profile.columns {
        suggest_column(column, config, &mut suggestions);
    }
    let suite = SuiteConfig {
        rules: suggestions
            .iter()
            .map(|suggestion| suggestion.rule.clone())
            .collect(),
        ..SuiteConfig::default()
    };
    (suggestions, suite)
}

fn push(suggestions: &mut Vec<Suggestion>, check: RuleCheck, reason: String) {
    suggestions.push(Suggestion {
        rule: RuleConfig::new(check),
        reason,
    });
}

fn suggest_column(
    column: &ColumnProfile,
    config: &SuggestConfig,
    suggestions: &mut Vec<Suggestion>,
) {
    if column.rows == 0 {
        return;
    }
    let name = column.name.clone();
    let missing = column.null_count + column.blank_count;
    if missing == 0 {
        push(
            suggestions,
            RuleCheck::NotNull(NotNullCheck {
                column: name.clone(),
                blank_is_missing: true,
            }),
            format!("no null or blank values in {} rows", column.rows),
        );
    } else if missing < column.rows {
        let completeness = 1.0 - missing as f64 / column.rows as f64;
        // Round down to a whole percent, so that the profiled data itself passes.
        let floor = (completeness * 100.0).floor() / 100.0;
        push(
            suggestions,
            RuleCheck::Completeness(CompletenessCheck {
                column: name.clone(),
                min_ratio: floor,
                blank_is_missing: true,
            }),
            format!(
                "{:.2}% of {} values present",
                completeness * 100.0,
                column.rows
            ),
        );
    }
    let present = column.present();
    if present < config.min_values {
        return;
    }

    if let Some(numeric) = &column.numeric
        && matches!(
            column.semantic_type,
            SemanticType::Integer | SemanticType::Decimal
        )
    {
        push(
            suggestions,
            RuleCheck::Range(RangeCheck {
                column: name.clone(),
                min: Some(numeric.min),
                max: Some(numeric.max),
            }),
            format!("values span [{}, {}]", numeric.min, numeric.max),
        );
    }

    let low_cardinality = column.distinct_is_exact
        && column.distinct_count <= config.max_allowed_values
        && column.distinct_count < present
        && column.top_values.len() as u64 == column.distinct_count;
    if low_cardinality
        && matches!(
            column.semantic_type,
            SemanticType::Categorical | SemanticType::Integer | SemanticType::Boolean
        )
    {
        let mut values: Vec<String> = column
            .top_values
            .iter()
            .map(|value| value.value.clone())
            .collect();
        values.sort();
        push(
            suggestions,
            RuleCheck::Allowed(AllowedCheck {
                column: name.clone(),
                values,
            }),
            format!("{} distinct values", column.distinct_count),
        );
    }

    let format = match column.semantic_type {
        SemanticType::Email => Some(FormatKind::Email),
        SemanticType::Date if column.data_type.starts_with("Utf8") => Some(FormatKind::Date),
        SemanticType::Timestamp if column.data_type.starts_with("Utf8") => {
            Some(FormatKind::Timestamp)
        }
        _ => None,
    };
    if let Some(format) = format {
        push(
            suggestions,
            RuleCheck::Format(FormatCheck {
                column: name.clone(),
                format,
                pattern: None,
            }),
            format!("values look like {:?} values", column.semantic_type),
        );
    } else if column.data_type.starts_with("Utf8") {
        let value_type = match column.semantic_type {
            SemanticType::Integer => Some(ValueType::Integer),
            SemanticType::Decimal => Some(ValueType::Decimal),
            _ => None,
        };
        if let Some(expected) = value_type {
            push(
                suggestions,
                RuleCheck::Type(TypeCheck {
                    column: name.clone(),
                    expected,
                }),
                format!("text values parse as {expected:?}"),
            );
        }
        let single_pattern =
            column.patterns.len() == 1 && column.patterns[0].count == present && !low_cardinality;
        if single_pattern && let Some(regex) = signature_regex(&column.patterns[0].value) {
            push(
                suggestions,
                RuleCheck::Pattern(PatternCheck {
                    column: name.clone(),
                    regex,
                }),
                format!("every value has the pattern {:?}", column.patterns[0].value),
            );
        }
    }

    let unique = column.distinct_is_exact && column.distinct_count == present && present > 1;
    if unique
        && !matches!(
            column.semantic_type,
            SemanticType::Decimal | SemanticType::FreeText
        )
    {
        push(
            suggestions,
            RuleCheck::Unique(KeyCheck {
                columns: vec![name],
            }),
            format!("all {present} values are distinct"),
        );
    }
}
