//! Value patterns (format signatures such as `Aa9-`) and the semantic type of single values.

use std::sync::LazyLock;

use regex::Regex;

/// Longest signature kept, in characters; longer ones end in `…`.
const MAX_SIGNATURE_CHARS: usize = 48;

/// Returns the format signature of `value`: an upper-case letter becomes `A`, any other
/// letter (lower case, or a script without case such as Chinese) `a`, a decimal digit `9`,
/// whitespace one space, and every other character stays. Runs of the same class collapse
/// to one symbol, so `AB-1234` and `X-9` both give `A-9`.
pub fn signature(value: &str) -> String {
    let mut output = String::new();
    let mut length = 0;
    let mut last: Option<char> = None;
    for character in value.chars() {
        let symbol = if character.is_uppercase() {
            'A'
        } else if character.is_alphabetic() {
            'a'
        } else if character.is_numeric() {
            '9'
        } else if character.is_whitespace() {
            ' '
        } else {
            character
        };
        let class_symbol = matches!(symbol, 'A' | 'a' | '9' | ' ');
        if class_symbol && last == Some(symbol) {
            continue;
        }
        last = Some(symbol);
        if length == MAX_SIGNATURE_CHARS {
            output.push('…');
            break;
        }
        output.push(symbol);
        length += 1;
    }
    output
}

/// Turns a signature back into an anchored regular expression that matches every value
/// with that signature. Returns `None` for a cut signature.
pub fn signature_regex(signature: &str) -> Option<String> {
    if signature.ends_with('…') {
        return None;
    }
    let mut regex = String::from("^");
    for symbol in signature.chars() {
        match symbol {
            'A' => regex.push_str(r"\p{Lu}+"),
            'a' => regex.push_str(r"[\p{L}&&[^\p{Lu}]]+"),
            '9' => regex.push_str(r"\p{N}+"),
            ' ' => regex.push_str(r"\s+"),
            other => regex.push_str(&regex::escape(&other.to_string())),
        }
    }
    regex.push('$');
    Some(regex)
}

/// The kind of a single text value, the vote of one value towards a column's semantic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum ValueClass {
    Integer,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    Email,
    Phone,
    Word,
    Text,
}

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$").ok());
static PHONE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\+?\(?[0-9]{1,4}\)?([ .\-]?[0-9]{2,5}){2,5}$").ok());

/// Classifies one non-null text value.
pub(crate) fn classify(value: &str) -> ValueClass {
    let value = value.trim();
    if value.parse::<i64>().is_ok() {
        return ValueClass::Integer;
    }
    if value.parse::<f64>().is_ok_and(f64::is_finite) {
        return ValueClass::Decimal;
    }
    if matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
        return ValueClass::Boolean;
    }
    if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
        return ValueClass::Date;
    }
    if chrono::DateTime::parse_from_rfc3339(value).is_ok()
        || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
    {
        return ValueClass::Timestamp;
    }
    if EMAIL.as_ref().is_some_and(|regex| regex.is_match(value)) {
        return ValueClass::Email;
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if (7..=15).contains(&digits) && PHONE.as_ref().is_some_and(|regex| regex.is_match(value)) {
        return ValueClass::Phone;
    }
    if value.chars().any(char::is_whitespace) {
        ValueClass::Text
    } else {
        ValueClass::Word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_collapses_runs() {
        assert_eq!(signature("AB-1234"), "A-9");
        assert_eq!(signature("Dongsi 12"), "Aa 9");
        assert_eq!(signature("a.b@x.org"), "a.a@a.a");
        assert_eq!(signature(""), "");
    }

    #[test]
    fn signature_handles_other_scripts() {
        assert_eq!(signature("北京市"), "a");
        assert_eq!(signature("🚌 42"), "🚌 9");
        assert_eq!(signature("שלום 3"), "a 9");
        assert!(signature(&"x-".repeat(5000)).ends_with('…'));
    }

    #[test]
    fn signature_regex_matches_its_values() {
        let regex = Regex::new(&signature_regex("A-9").expect("regex")).expect("compiles");
        assert!(regex.is_match("AB-1234"));
        assert!(!regex.is_match("ab-1234"));
        assert!(signature_regex("a…").is_none());
    }

    #[test]
    fn classify_recognises_kinds() {
        assert_eq!(classify("42"), ValueClass::Integer);
        assert_eq!(classify("4.5"), ValueClass::Decimal);
        assert_eq!(classify("2024-02-29"), ValueClass::Date);
        assert_eq!(classify("2024-02-29T10:00:00Z"), ValueClass::Timestamp);
        assert_eq!(classify("li.wei@example.org"), ValueClass::Email);
        assert_eq!(classify("+86 10 6552 9988"), ValueClass::Phone);
        assert_eq!(classify("Dongsi"), ValueClass::Word);
        assert_eq!(classify("a broken street light"), ValueClass::Text);
    }
}
