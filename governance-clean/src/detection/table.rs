//! The text view of a batch that the error detectors work on, and the per-value text helpers
//! they share: format signatures, missing-value tokens, numbers and value types.

use std::collections::HashMap;

use arrow::array::Array;
use governance_core::{GovernedBatch, Result};

use crate::support::text_values;

/// Values longer than this many characters are not compared by edit distance, which costs
/// the product of the two lengths.
pub(crate) const MAX_EDIT_CHARS: usize = 200;

/// A batch as text, column by column; a null cell is the empty string.
#[derive(Debug, Clone)]
pub(crate) struct CellTable {
    pub names: Vec<String>,
    pub columns: Vec<Vec<String>>,
    pub rows: usize,
}

impl CellTable {
    /// Reads every column of `batch` as text.
    pub fn from_batch(batch: &GovernedBatch) -> Result<CellTable> {
        let data = batch.data();
        let mut columns = Vec::with_capacity(data.num_columns());
        for column in data.columns() {
            let text = text_values(column)?;
            columns.push(
                (0..text.len())
                    .map(|row| {
                        if text.is_valid(row) {
                            text.value(row).to_string()
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            );
        }
        Ok(CellTable {
            names: batch.column_names(),
            columns,
            rows: batch.num_rows(),
        })
    }
}

/// Interned values of one column: an id per row, the count of each id and the id of each
/// distinct value, so grouping and counting need no string hashing after the first pass.
#[derive(Debug, Clone)]
pub(crate) struct Interned {
    pub ids: Vec<u32>,
    pub counts: Vec<u32>,
    pub values: Vec<String>,
}

impl Interned {
    pub fn of(column: &[String]) -> Interned {
        let mut positions: HashMap<&str, u32> = HashMap::new();
        let mut ids = Vec::with_capacity(column.len());
        let mut counts: Vec<u32> = Vec::new();
        let mut values = Vec::new();
        for value in column {
            let id = *positions.entry(value.as_str()).or_insert_with(|| {
                values.push(value.clone());
                counts.push(0);
                (values.len() - 1) as u32
            });
            counts[id as usize] += 1;
            ids.push(id);
        }
        Interned {
            ids,
            counts,
            values,
        }
    }

    /// Interns the pairs of values of two columns of the same rows; a pair's value is both
    /// values joined by a unit separator.
    pub fn of_pair(first: &Interned, second: &Interned) -> Interned {
        let mut positions: HashMap<(u32, u32), u32> = HashMap::new();
        let mut ids = Vec::with_capacity(first.ids.len());
        let mut counts: Vec<u32> = Vec::new();
        let mut values = Vec::new();
        for (&left, &right) in first.ids.iter().zip(&second.ids) {
            let id = *positions.entry((left, right)).or_insert_with(|| {
                values.push(format!(
                    "{}\u{1f}{}",
                    first.values[left as usize], second.values[right as usize]
                ));
                counts.push(0);
                (values.len() - 1) as u32
            });
            counts[id as usize] += 1;
            ids.push(id);
        }
        Interned {
            ids,
            counts,
            values,
        }
    }

    pub fn distinct(&self) -> usize {
        self.values.len()
    }
}

/// Returns true for a value that stands for "no value": blank, or a common placeholder such
/// as `N/A`, `null` or `-`. The list is general, not tuned to any data set.
pub(crate) fn is_missing_token(value: &str) -> bool {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return true;
    }
    const TOKENS: [&str; 13] = [
        "na", "n/a", "n.a.", "nan", "null", "none", "nil", "-", "--", "?", "missing", "unknown",
        "#n/a",
    ];
    trimmed.len() <= 7
        && TOKENS
            .iter()
            .any(|token| trimmed.eq_ignore_ascii_case(token))
}

/// Returns the format signature of a value: each run of upper-case letters becomes `A`, of
/// lower-case letters `a`, of digits `9`, of other letters (such as CJK) `L`, of whitespace a
/// space; punctuation is kept. `"12.0 oz"` becomes `"9.9 a"`.
pub(crate) fn signature(value: &str) -> String {
    let mut out = String::new();
    let mut last = '\0';
    for character in value.chars().take(MAX_EDIT_CHARS) {
        let class = if character.is_ascii_digit() {
            '9'
        } else if character.is_uppercase() {
            'A'
        } else if character.is_lowercase() {
            'a'
        } else if character.is_alphabetic() {
            'L'
        } else if character.is_whitespace() {
            ' '
        } else {
            character
        };
        let is_run = matches!(class, '9' | 'A' | 'a' | 'L' | ' ');
        if !(is_run && class == last) {
            out.push(class);
        }
        last = class;
    }
    out
}

/// The broad type of a value, for the type-mismatch detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ValueType {
    Empty,
    Integer,
    Decimal,
    Mixed,
    Text,
}

pub(crate) fn value_type(value: &str) -> ValueType {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return ValueType::Empty;
    }
    if trimmed.parse::<i64>().is_ok() {
        return ValueType::Integer;
    }
    if parse_number(trimmed).is_some() {
        return ValueType::Decimal;
    }
    if trimmed.chars().any(|character| character.is_ascii_digit()) {
        ValueType::Mixed
    } else {
        ValueType::Text
    }
}

/// Parses a finite number written plainly (no units or thousands separators).
pub(crate) fn parse_number(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

/// Returns the first number written in `value`, such as `12.0` in `"12.0 oz"`, as text.
pub(crate) fn first_number(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|byte| byte.is_ascii_digit())?;
    let start = if start > 0 && bytes[start - 1] == b'-' {
        start - 1
    } else {
        start
    };
    let mut end = start + 1;
    let mut seen_point = false;
    while end < bytes.len() {
        match bytes[end] {
            b'0'..=b'9' => end += 1,
            b'.' if !seen_point && bytes.get(end + 1).is_some_and(|next| next.is_ascii_digit()) => {
                seen_point = true;
                end += 1;
            }
            _ => break,
        }
    }
    value.get(start..end)
}

/// Writes a number with no trailing zeros after the decimal point: `12.0` becomes `12`.
pub(crate) fn minimal_number(text: &str) -> Option<String> {
    let number = parse_number(text)?;
    let mut out = format!("{number}");
    if out.contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_collapses_runs() {
        assert_eq!(signature("12.0 oz"), "9.9 a");
        assert_eq!(signature("AA-3859-IAH"), "A-9-A");
        assert_eq!(signature("北京 Road"), "L Aa");
        assert_eq!(signature(""), "");
    }

    #[test]
    fn missing_tokens_are_recognised() {
        for token in ["", " ", "N/A", "null", "NaN", "-"] {
            assert!(is_missing_token(token), "{token:?}");
        }
        for value in ["0", "Nantes", "none of these"] {
            assert!(!is_missing_token(value), "{value:?}");
        }
    }

    #[test]
    fn numbers_are_extracted_and_shortened() {
        assert_eq!(first_number("12.0 oz."), Some("12.0"));
        assert_eq!(first_number("abv -0.5%"), Some("-0.5"));
        assert_eq!(first_number("no digits"), None);
        assert_eq!(minimal_number("12.0").as_deref(), Some("12"));
        assert_eq!(minimal_number("0.050").as_deref(), Some("0.05"));
    }

    #[test]
    fn value_types_are_told_apart() {
        assert_eq!(value_type("12"), ValueType::Integer);
        assert_eq!(value_type("0.5"), ValueType::Decimal);
        assert_eq!(value_type("12 oz"), ValueType::Mixed);
        assert_eq!(value_type("Bend"), ValueType::Text);
        assert_eq!(value_type(" "), ValueType::Empty);
    }
}
