//! Blocking key expressions: functions from attribute values to key strings.

use serde::{Deserialize, Serialize};

use crate::er::{ErError, RecordTable};

/// A function that turns a value into zero or more blocking keys.
///
/// Every function except [`KeyFunction::Exact`] works on the [`normalise`]d value, so case,
/// punctuation and spacing do not split a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyFunction {
    /// The value as written (trimmed).
    Exact,
    /// The normalised value.
    Normalised,
    /// The first `length` characters of the normalised value.
    Prefix {
        /// Characters kept, at least 1.
        length: usize,
    },
    /// The American Soundex code of each word, such as `R163` for "Robert"; values without
    /// Latin letters (Chinese characters, digits) keep their normalised form instead.
    Soundex,
    /// A year: the first run of exactly four digits between 1000 and 2999, or the first four
    /// of an eight-digit run that starts with such a year (`19850312`).
    Year,
    /// All digits, as in phone numbers written with different separators.
    Digits,
    /// The last `length` digits, which ignores country and area prefixes of phone numbers.
    LastDigits {
        /// Digits kept, at least 1.
        length: usize,
    },
    /// Each normalised word is a separate key, so records sharing any word meet.
    Tokens,
    /// The first normalised word.
    FirstToken,
    /// The normalised words in sorted order, so "Smith John" and "john smith" agree.
    SortedTokens,
}

impl KeyFunction {
    /// Checks the function's parameters.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for a zero length.
    pub fn validate(&self) -> Result<(), ErError> {
        match self {
            KeyFunction::Prefix { length: 0 } | KeyFunction::LastDigits { length: 0 } => Err(
                ErError::invalid_config("key function length", 0, "use a length of at least 1"),
            ),
            _ => Ok(()),
        }
    }

    /// Appends the keys of a record whose key attributes hold `values`: the function of the
    /// present values joined with a space, as a [`KeyExpr`] over several attributes computes
    /// it. Appends nothing when every value is absent.
    pub fn apply_to_record(&self, values: &[Option<&str>], keys: &mut Vec<String>) {
        let present: Vec<&str> = values.iter().flatten().copied().collect();
        match present[..] {
            [] => {}
            [value] => self.apply(value, keys),
            _ => self.apply(&present.join(" "), keys),
        }
    }

    /// Appends the keys of `value` to `keys`.
    pub fn apply(&self, value: &str, keys: &mut Vec<String>) {
        if let KeyFunction::Exact = self {
            keys.push(value.trim().to_owned());
            return;
        }
        let normalised = normalise(value);
        if normalised.is_empty() {
            return;
        }
        match self {
            KeyFunction::Exact | KeyFunction::Normalised => keys.push(normalised),
            KeyFunction::Prefix { length } => {
                keys.push(normalised.chars().take(*length).collect());
            }
            KeyFunction::Soundex => {
                let codes: Vec<String> = normalised
                    .split(' ')
                    .map(|word| soundex(word).unwrap_or_else(|| word.to_owned()))
                    .collect();
                keys.push(codes.join(" "));
            }
            KeyFunction::Year => keys.extend(year(&normalised)),
            KeyFunction::Digits => {
                let digits = digits_of(value);
                if !digits.is_empty() {
                    keys.push(digits);
                }
            }
            KeyFunction::LastDigits { length } => {
                let digits = digits_of(value);
                let start = digits.len().saturating_sub(*length);
                if !digits.is_empty() {
                    keys.push(digits[start..].to_owned());
                }
            }
            KeyFunction::Tokens => keys.extend(normalised.split(' ').map(str::to_owned)),
            KeyFunction::FirstToken => {
                keys.extend(normalised.split(' ').next().map(str::to_owned));
            }
            KeyFunction::SortedTokens => {
                let mut words: Vec<&str> = normalised.split(' ').collect();
                words.sort_unstable();
                keys.push(words.join(" "));
            }
        }
    }
}

/// One part of a blocking key: a function of one attribute, or of several attributes whose
/// present values are joined with a space (for a name split over first and last name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyExpr {
    /// Attributes read, in order.
    pub attributes: Vec<String>,
    /// Function applied to their joined values.
    pub function: KeyFunction,
}

impl KeyExpr {
    /// A function of one attribute.
    pub fn new(attribute: impl Into<String>, function: KeyFunction) -> Self {
        Self {
            attributes: vec![attribute.into()],
            function,
        }
    }

    /// A function of several attributes' values joined with a space.
    pub fn combined(attributes: &[&str], function: KeyFunction) -> Self {
        Self {
            attributes: attributes.iter().map(|name| (*name).to_owned()).collect(),
            function,
        }
    }

    /// Checks that the expression reads at least one attribute and its function is valid.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`].
    pub fn validate(&self) -> Result<(), ErError> {
        if self.attributes.is_empty() {
            return Err(ErError::invalid_config(
                "key expression attributes",
                "[]",
                "name at least one attribute",
            ));
        }
        self.function.validate()
    }

    /// Short text form for reports, such as `soundex(last_name)`.
    pub fn describe(&self) -> String {
        let function = match &self.function {
            KeyFunction::Exact => "exact".to_owned(),
            KeyFunction::Normalised => "normalised".to_owned(),
            KeyFunction::Prefix { length } => format!("prefix{length}"),
            KeyFunction::Soundex => "soundex".to_owned(),
            KeyFunction::Year => "year".to_owned(),
            KeyFunction::Digits => "digits".to_owned(),
            KeyFunction::LastDigits { length } => format!("last{length}digits"),
            KeyFunction::Tokens => "tokens".to_owned(),
            KeyFunction::FirstToken => "first_token".to_owned(),
            KeyFunction::SortedTokens => "sorted_tokens".to_owned(),
        };
        format!("{function}({})", self.attributes.join(", "))
    }

    /// Resolves the attribute positions in `table`.
    pub(crate) fn bind(&self, table: &RecordTable) -> Result<BoundExpr<'_>, ErError> {
        let indices = self
            .attributes
            .iter()
            .map(|attribute| table.attribute_index(attribute))
            .collect::<Result<_, _>>()?;
        Ok(BoundExpr {
            indices,
            function: &self.function,
        })
    }
}

/// A key expression with attribute positions resolved for one table.
pub(crate) struct BoundExpr<'a> {
    indices: Vec<usize>,
    function: &'a KeyFunction,
}

impl BoundExpr<'_> {
    /// Appends the keys of record `row`; nothing when all its attributes are absent.
    pub(crate) fn keys(&self, table: &RecordTable, row: usize, keys: &mut Vec<String>) {
        if let [index] = self.indices[..] {
            if let Some(value) = table.value(row, index) {
                self.function.apply(value, keys);
            }
            return;
        }
        let values: Vec<Option<&str>> = self
            .indices
            .iter()
            .map(|&index| table.value(row, index))
            .collect();
        self.function.apply_to_record(&values, keys);
    }
}

/// Normalises text for blocking keys with the same rules as the comparators, so a key and
/// a comparison see one form of the value.
pub use crate::er::compare::normalize as normalise;

/// Returns the American Soundex code of a word: its first letter and three digits for the
/// consonant groups that follow, or `None` when the word has no Latin letter.
///
/// Letters other than ASCII are ignored; "h" and "w" do not separate equal codes, vowels do.
pub fn soundex(word: &str) -> Option<String> {
    fn code(letter: char) -> u8 {
        match letter {
            'b' | 'f' | 'p' | 'v' => b'1',
            'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => b'2',
            'd' | 't' => b'3',
            'l' => b'4',
            'm' | 'n' => b'5',
            'r' => b'6',
            'h' | 'w' => b'h',
            _ => b'0',
        }
    }
    let mut letters = word
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|letter| letter.to_ascii_lowercase());
    let first = letters.next()?;
    let mut out = String::with_capacity(4);
    out.push(first.to_ascii_uppercase());
    let mut previous = code(first);
    for letter in letters {
        let current = code(letter);
        match current {
            b'h' => continue,
            b'0' => previous = b'0',
            digit if digit != previous => {
                out.push(digit as char);
                previous = digit;
                if out.len() == 4 {
                    break;
                }
            }
            _ => {}
        }
    }
    while out.len() < 4 {
        out.push('0');
    }
    Some(out)
}

fn digits_of(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

fn year(normalised: &str) -> Option<String> {
    let is_year = |digits: &str| matches!(digits.parse::<u32>(), Ok(1000..=2999));
    let bytes = normalised.as_bytes();
    let mut start = 0;
    let mut compact = None;
    while start < bytes.len() {
        if !bytes[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let run = &normalised[start..end];
        if run.len() == 4 && is_year(run) {
            return Some(run.to_owned());
        }
        if run.len() == 8 && compact.is_none() && is_year(&run[..4]) {
            compact = Some(run[..4].to_owned());
        }
        start = end;
    }
    compact
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(function: KeyFunction, value: &str) -> Vec<String> {
        let mut out = Vec::new();
        function.apply(value, &mut out);
        out
    }

    #[test]
    fn soundex_known_codes() {
        assert_eq!(soundex("Robert").as_deref(), Some("R163"));
        assert_eq!(soundex("Rupert").as_deref(), Some("R163"));
        assert_eq!(soundex("Ashcraft").as_deref(), Some("A261"));
        assert_eq!(soundex("Tymczak").as_deref(), Some("T522"));
        assert_eq!(soundex("Pfister").as_deref(), Some("P236"));
        assert_eq!(soundex("Lee").as_deref(), Some("L000"));
        assert_eq!(soundex("王"), None);
    }

    #[test]
    fn normalise_folds_case_and_punctuation() {
        assert_eq!(normalise("  O'Brien,  JOHN-Paul "), "o brien john paul");
        assert_eq!(normalise("王 小明"), "王 小明");
        assert_eq!(normalise("--"), "");
    }

    #[test]
    fn functions_produce_expected_keys() {
        assert_eq!(keys(KeyFunction::Prefix { length: 3 }, "Zhang"), ["zha"]);
        assert_eq!(keys(KeyFunction::Soundex, "Li Wei"), ["L000 W000"]);
        assert_eq!(keys(KeyFunction::Soundex, "李伟"), ["李伟"]);
        assert_eq!(keys(KeyFunction::Year, "12/03/1985"), ["1985"]);
        assert_eq!(keys(KeyFunction::Year, "19850312"), ["1985"]);
        assert_eq!(keys(KeyFunction::Year, "no date"), Vec::<String>::new());
        assert_eq!(
            keys(KeyFunction::Digits, "+86 (10) 555-0101"),
            ["86105550101"]
        );
        assert_eq!(
            keys(KeyFunction::LastDigits { length: 7 }, "+86 (10) 555-0101"),
            ["5550101"]
        );
        assert_eq!(
            keys(KeyFunction::Tokens, "Sony TV-42"),
            ["sony", "tv", "42"]
        );
        assert_eq!(
            keys(KeyFunction::SortedTokens, "Smith, John"),
            ["john smith"]
        );
        assert_eq!(keys(KeyFunction::FirstToken, "Sony TV"), ["sony"]);
        assert_eq!(keys(KeyFunction::Exact, " A-1 "), ["A-1"]);
        assert_eq!(keys(KeyFunction::Normalised, "..."), Vec::<String>::new());
    }

    #[test]
    fn zero_length_rejected() {
        let err = KeyExpr::new("name", KeyFunction::Prefix { length: 0 })
            .validate()
            .expect_err("zero length");
        assert!(err.to_string().contains("at least 1"), "{err}");
        let err = KeyExpr {
            attributes: Vec::new(),
            function: KeyFunction::Exact,
        }
        .validate()
        .expect_err("no attribute");
        assert!(err.to_string().contains("at least one attribute"), "{err}");
    }
}
