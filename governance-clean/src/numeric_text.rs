//! Parsing of numbers written as text by people and loggers: surrounding whitespace, thousands
//! separators (`1,234.5`), a trailing unit (`12 ug/m3`) and tokens that mean "no value".

/// Result of parsing one text cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParsedNumber {
    /// A token that means "no value", such as `NA`.
    Missing,
    /// A plain number, possibly with surrounding whitespace.
    Plain(f64),
    /// A number written with decorations that were removed, and a description of them.
    Rewritten(f64, String),
    /// Text that is not a finite number in any accepted form.
    Invalid,
}

/// Rules for reading numbers from text.
#[derive(Debug, Clone)]
pub(crate) struct NumberReader {
    na_tokens: Vec<String>,
    /// Units sorted longest first, so that `mm` is tried before `m`.
    units: Vec<String>,
}

impl NumberReader {
    /// Creates a reader. NA tokens match the trimmed text and units match its end, both
    /// ignoring ASCII case.
    pub fn new(na_tokens: &[String], units: &[String]) -> Self {
        let mut units: Vec<String> = units
            .iter()
            .map(|unit| unit.trim().to_string())
            .filter(|unit| !unit.is_empty())
            .collect();
        units.sort_by_key(|unit| std::cmp::Reverse(unit.len()));
        NumberReader {
            na_tokens: na_tokens
                .iter()
                .map(|token| token.trim().to_string())
                .collect(),
            units,
        }
    }

    /// Parses one cell.
    pub fn parse(&self, raw: &str) -> ParsedNumber {
        let text = raw.trim();
        if self
            .na_tokens
            .iter()
            .any(|token| token.eq_ignore_ascii_case(text))
        {
            return ParsedNumber::Missing;
        }
        let (number, unit) = self.split_unit(text);
        let (digits, grouped) = match strip_thousands_separators(number) {
            Some(stripped) => (stripped, number.contains(',')),
            None => return ParsedNumber::Invalid,
        };
        let Some(value) = parse_finite(&digits) else {
            return ParsedNumber::Invalid;
        };
        let mut changes = Vec::new();
        if grouped {
            changes.push("thousands separators removed".to_string());
        }
        if let Some(unit) = unit {
            changes.push(format!("unit {unit:?} removed"));
        }
        if changes.is_empty() {
            ParsedNumber::Plain(value)
        } else {
            ParsedNumber::Rewritten(value, changes.join(", "))
        }
    }

    /// Splits a known unit off the end of `text`; the number part is trimmed.
    fn split_unit<'a>(&self, text: &'a str) -> (&'a str, Option<&'a str>) {
        for unit in &self.units {
            let Some(start) = text.len().checked_sub(unit.len()) else {
                continue;
            };
            if !text.is_char_boundary(start) {
                continue;
            }
            let (number, suffix) = text.split_at(start);
            let number = number.trim_end();
            if suffix.eq_ignore_ascii_case(unit) && !number.is_empty() {
                return (number, Some(suffix));
            }
        }
        (text, None)
    }
}

/// Parses a finite f64; rejects `inf`, `NaN` and anything Rust's parser rejects.
fn parse_finite(text: &str) -> Option<f64> {
    // Rust accepts "inf", "infinity" and "nan" as floats; they are not readings.
    if !text.bytes().any(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// Removes thousands separators from `text` when they group the integer part correctly
/// (`1,234,567.8`); returns the text unchanged when it has none, and `None` when commas appear
/// anywhere else, such as a decimal comma (`12,5`), which is ambiguous.
fn strip_thousands_separators(text: &str) -> Option<String> {
    if !text.contains(',') {
        return Some(text.to_string());
    }
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (text, None),
    };
    if fraction.is_some_and(|fraction| fraction.contains(',')) {
        return None;
    }
    let unsigned = integer.strip_prefix(['-', '+']).unwrap_or(integer);
    let mut groups = unsigned.split(',');
    let first = groups.next()?;
    let first_ok =
        (1..=3).contains(&first.len()) && first.bytes().all(|byte| byte.is_ascii_digit());
    let rest_ok =
        groups.all(|group| group.len() == 3 && group.bytes().all(|byte| byte.is_ascii_digit()));
    if !(first_ok && rest_ok) {
        return None;
    }
    Some(text.replace(',', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> NumberReader {
        let tokens: Vec<String> = ["", "NA", "n/a", "null"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let units: Vec<String> = ["ug/m3", "mg/m3", "m", "mm", "%"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        NumberReader::new(&tokens, &units)
    }

    #[test]
    fn plain_numbers_parse_without_change() {
        let reader = reader();
        assert_eq!(reader.parse("12"), ParsedNumber::Plain(12.0));
        assert_eq!(reader.parse(" 12 "), ParsedNumber::Plain(12.0));
        assert_eq!(reader.parse("-0.7"), ParsedNumber::Plain(-0.7));
        assert_eq!(reader.parse("1e3"), ParsedNumber::Plain(1000.0));
    }

    #[test]
    fn na_tokens_are_missing() {
        let reader = reader();
        for raw in ["NA", "na", " N/A ", "", "   ", "NULL"] {
            assert_eq!(reader.parse(raw), ParsedNumber::Missing, "{raw:?}");
        }
    }

    #[test]
    fn thousands_separators_are_removed() {
        let reader = reader();
        assert_eq!(
            reader.parse("1,234.5"),
            ParsedNumber::Rewritten(1234.5, "thousands separators removed".into())
        );
        assert_eq!(
            reader.parse("-1,234,567"),
            ParsedNumber::Rewritten(-1_234_567.0, "thousands separators removed".into())
        );
    }

    #[test]
    fn misplaced_commas_are_invalid() {
        let reader = reader();
        for raw in ["12,5", "1,23", "1,2345", ",123", "1.234,5", "1,,234"] {
            assert_eq!(reader.parse(raw), ParsedNumber::Invalid, "{raw:?}");
        }
    }

    #[test]
    fn units_are_removed_longest_first() {
        let reader = reader();
        assert_eq!(
            reader.parse("12 ug/m3"),
            ParsedNumber::Rewritten(12.0, "unit \"ug/m3\" removed".into())
        );
        assert_eq!(
            reader.parse("3.5mm"),
            ParsedNumber::Rewritten(3.5, "unit \"mm\" removed".into())
        );
        assert_eq!(
            reader.parse("1,200 UG/M3"),
            ParsedNumber::Rewritten(
                1200.0,
                "thousands separators removed, unit \"UG/M3\" removed".into()
            )
        );
    }

    #[test]
    fn other_text_is_invalid() {
        let reader = reader();
        for raw in [
            "abc",
            "12 apples",
            "inf",
            "NaN",
            "ug/m3",
            "--",
            "1.2.3",
            "12 ug/m3 x",
        ] {
            assert_eq!(reader.parse(raw), ParsedNumber::Invalid, "{raw:?}");
        }
    }
}
