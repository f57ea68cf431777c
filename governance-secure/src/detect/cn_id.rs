//! Chinese resident identity numbers (GB 11643-1999).
//!
//! The 18-character number is a 6-digit address code, the birth date `YYYYMMDD`, a 3-digit
//! sequence and a check character computed with ISO 7064 MOD 11-2 (`X` stands for 10 and may
//! be written lower-case). The legacy 15-digit number of 1984 has the birth date as `YYMMDD`
//! (meaning 19YY) and no check character, so it is reported as pattern-only.

use chrono::NaiveDate;
use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Weights of the first 17 digits in the MOD 11-2 sum.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check character for each value of the weighted sum modulo 11.
const CHECK_CHARACTERS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// First two digits of the address code: the province-level divisions of GB/T 2260, and 81,
/// 82 and 83 for residence permits of Hong Kong, Macao and Taiwan residents.
const PROVINCE_CODES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

/// Earliest accepted birth year. Numbers were first issued in 1984, when no one born before
/// 1800 was alive, so an earlier year means the digits are not an identity number.
const EARLIEST_BIRTH_YEAR: i32 = 1800;

const PATTERN: &str = r"[0-9]{17}[0-9Xx]";
const LEGACY_PATTERN: &str = r"[0-9]{15}";

/// Returns the check character (`0`-`9` or `X`) of an 18-character resident identity number
/// from its first 17 characters, or `None` unless `first17` is exactly 17 ASCII digits.
///
/// ```
/// use governance_secure::detect::resident_id_check_character;
///
/// assert_eq!(resident_id_check_character("11010519491231002"), Some('X'));
/// assert_eq!(resident_id_check_character("1101051949123100"), None);
/// ```
pub fn resident_id_check_character(first17: &str) -> Option<char> {
    let digits = first17.as_bytes();
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    Some(CHECK_CHARACTERS[(sum % 11) as usize])
}

/// Outcome of checking an 18-character candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdCheck {
    /// Region, birth date and check character are valid.
    Valid,
    /// Region and birth date are valid but the check character is wrong.
    WrongCheckCharacter,
    /// The region or the birth date is invalid.
    Invalid,
}

fn has_province_code(id: &str) -> bool {
    id.get(..2)
        .is_some_and(|code| PROVINCE_CODES.contains(&code))
}

/// Parses `YYYY`, `MM` and `DD` into a date that is real, not before
/// [`EARLIEST_BIRTH_YEAR`] and not after `today`.
fn birth_date(year: &str, month: &str, day: &str, today: NaiveDate) -> Option<NaiveDate> {
    let year: i32 = year.parse().ok()?;
    let month: u32 = month.parse().ok()?;
    let day: u32 = day.parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    (year >= EARLIEST_BIRTH_YEAR && date <= today).then_some(date)
}

/// Checks an 18-character resident identity number: region, birth date and check character.
pub(crate) fn check_resident_id(id: &str, today: NaiveDate) -> IdCheck {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !id.is_ascii() || !has_province_code(id) {
        return IdCheck::Invalid;
    }
    if birth_date(&id[6..10], &id[10..12], &id[12..14], today).is_none() {
        return IdCheck::Invalid;
    }
    let expected = resident_id_check_character(&id[..17]);
    let actual = char::from(bytes[17]).to_ascii_uppercase();
    if expected == Some(actual) {
        IdCheck::Valid
    } else if expected.is_some() {
        IdCheck::WrongCheckCharacter
    } else {
        IdCheck::Invalid
    }
}

/// Checks a legacy 15-digit number: region and birth date `YYMMDD` in the 1900s.
pub(crate) fn check_legacy_resident_id(id: &str, today: NaiveDate) -> bool {
    if id.len() != 15 || !id.bytes().all(|byte| byte.is_ascii_digit()) || !has_province_code(id) {
        return false;
    }
    let year = format!("19{}", &id[6..8]);
    birth_date(&year, &id[8..10], &id[10..12], today).is_some()
}

/// Recognizes 18-character resident identity numbers. A number with a valid check character
/// is validated. One with a wrong check character is dropped, or reported as pattern-only
/// when the detector is configured to report failed check characters.
#[derive(Debug)]
pub(crate) struct ResidentIdRecognizer {
    pattern: Regex,
    report_failed_check_character: bool,
}

impl ResidentIdRecognizer {
    pub(crate) fn new(report_failed_check_character: bool) -> Result<Self> {
        Ok(ResidentIdRecognizer {
            pattern: compile(PATTERN)?,
            report_failed_check_character,
        })
    }
}

impl Recognizer for ResidentIdRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::ResidentId
    }

    fn name(&self) -> &'static str {
        "cn_resident_id"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier> {
        match check_resident_id(candidate, today.get()) {
            IdCheck::Valid => Some(ConfidenceTier::Validated),
            IdCheck::WrongCheckCharacter if self.report_failed_check_character => {
                Some(ConfidenceTier::PatternOnly)
            }
            IdCheck::WrongCheckCharacter | IdCheck::Invalid => None,
        }
    }
}

/// Recognizes legacy 15-digit resident identity numbers with a valid region and birth date,
/// always as pattern-only.
#[derive(Debug)]
pub(crate) struct LegacyResidentIdRecognizer {
    pattern: Regex,
}

impl LegacyResidentIdRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(LegacyResidentIdRecognizer {
            pattern: compile(LEGACY_PATTERN)?,
        })
    }
}

impl Recognizer for LegacyResidentIdRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::ResidentId
    }

    fn name(&self) -> &'static str {
        "cn_resident_id_legacy"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier> {
        check_legacy_resident_id(candidate, today.get()).then_some(ConfidenceTier::PatternOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Detector, DetectorConfig, PiiFinding};

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    /// Completes 17 digits with their check character.
    fn with_check(first17: &str) -> String {
        let check = resident_id_check_character(first17).expect("17 digits");
        format!("{first17}{check}")
    }

    fn detect_on(text: &str, today: NaiveDate, config: DetectorConfig) -> Vec<PiiFinding> {
        let detector = Detector::new(config).expect("detector");
        detector.detect_with(text, &Today::fixed(today))
    }

    #[test]
    fn check_character_of_known_numbers() {
        assert_eq!(resident_id_check_character("11010519491231002"), Some('X'));
        assert_eq!(resident_id_check_character("44052418800101001"), Some('4'));
        assert_eq!(resident_id_check_character("4405241880010100a"), None);
    }

    #[test]
    fn known_numbers_are_valid() {
        let today = date(2025, 1, 1);
        assert_eq!(
            check_resident_id("11010519491231002X", today),
            IdCheck::Valid
        );
        assert_eq!(
            check_resident_id("11010519491231002x", today),
            IdCheck::Valid
        );
        assert_eq!(
            check_resident_id("440524188001010014", today),
            IdCheck::Valid
        );
    }

    #[test]
    fn wrong_check_character_is_reported_as_such() {
        let today = date(2025, 1, 1);
        assert_eq!(
            check_resident_id("110105194912310021", today),
            IdCheck::WrongCheckCharacter
        );
    }

    #[test]
    fn impossible_birth_date_is_invalid() {
        let today = date(2025, 1, 1);
        let february_31 = with_check("11010519490231002");
        assert_eq!(check_resident_id(&february_31, today), IdCheck::Invalid);
        let month_13 = with_check("11010519491331002");
        assert_eq!(check_resident_id(&month_13, today), IdCheck::Invalid);
        let leap_day = with_check("11010520000229002");
        assert_eq!(check_resident_id(&leap_day, today), IdCheck::Valid);
        let not_leap = with_check("11010519000229002");
        assert_eq!(check_resident_id(&not_leap, today), IdCheck::Invalid);
    }

    #[test]
    fn future_birth_date_is_invalid() {
        let today = date(2025, 6, 15);
        let tomorrow = with_check("11010520250616002");
        assert_eq!(check_resident_id(&tomorrow, today), IdCheck::Invalid);
        let born_today = with_check("11010520250615002");
        assert_eq!(check_resident_id(&born_today, today), IdCheck::Valid);
    }

    #[test]
    fn unknown_region_is_invalid() {
        let today = date(2025, 1, 1);
        let region_99 = with_check("99010519491231002");
        assert_eq!(check_resident_id(&region_99, today), IdCheck::Invalid);
        let before_1800 = with_check("11010517991231002");
        assert_eq!(check_resident_id(&before_1800, today), IdCheck::Invalid);
    }

    #[test]
    fn legacy_number_needs_valid_date() {
        let today = date(2025, 1, 1);
        assert!(check_legacy_resident_id("110105491231002", today));
        assert!(!check_legacy_resident_id("110105490231002", today));
        assert!(!check_legacy_resident_id("990105491231002", today));
    }

    #[test]
    fn detector_reports_tiers_per_form() {
        let today = date(2025, 1, 1);
        let text = "身份证号11010519491231002X，旧证110105491231002。";
        let findings = detect_on(text, today, DetectorConfig::default());
        assert_eq!(findings.len(), 2);
        assert_eq!(&text[findings[0].byte_span.clone()], "11010519491231002X");
        assert_eq!(findings[0].tier, ConfidenceTier::ValidatedWithContext);
        assert_eq!(findings[1].recognizer, "cn_resident_id_legacy");
        assert_eq!(findings[1].tier, ConfidenceTier::PatternOnly);
    }

    #[test]
    fn failed_check_character_is_opt_in() {
        let today = date(2025, 1, 1);
        let text = "证件号 110105194912310021";
        assert!(detect_on(text, today, DetectorConfig::default()).is_empty());

        let config = DetectorConfig {
            report_failed_check_character: true,
            ..DetectorConfig::default()
        };
        let findings = detect_on(text, today, config);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].tier, ConfidenceTier::PatternOnly);
        assert!(findings[0].has_context);
    }

    #[test]
    fn id_inside_longer_digit_run_is_skipped() {
        let today = date(2025, 1, 1);
        let text = "流水号911010519491231002X1";
        assert!(detect_on(text, today, DetectorConfig::default()).is_empty());
        let text = "ID11010519491231002X";
        assert!(detect_on(text, today, DetectorConfig::default()).is_empty());
    }
}
