//! Chinese unified social credit codes (GB 32100-2015).
//!
//! The code has 18 characters from an alphabet of 31 (`0-9` and `A-Y` without `I`, `O`, `S`,
//! `V`, `Z`). In order, they are the registering authority (`1`-`9`, `A`, `N` or `Y`), a
//! category digit, a 6-digit administrative division code, the 9-character organisation code
//! of GB 11714 and a check character. Two checks apply:
//!
//! - Position 17, the last character of the organisation code, is its own check character:
//!   `11 - (sum of the first 8 values times [3, 7, 9, 10, 5, 8, 4, 2]) mod 11`, with letters
//!   valued 10 to 35, 10 written `X` and 11 written `0`.
//! - Position 18 is `(31 - (sum of the first 17 values times [1, 3, 9, 27, 19, 26, 16, 17,
//!   20, 29, 25, 13, 8, 24, 10, 30, 28]) mod 31) mod 31`, with values from the 31-character
//!   alphabet, written back in that alphabet.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// The 31 characters of the code, valued 0 to 30 in this order.
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the first 17 characters in the check of position 18.
const CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Weights of the first 8 characters of the organisation code (GB 11714).
const ORGANISATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Authority, category digit, division code and 10 characters of the alphabet. Lower-case
/// letters are accepted by the pattern and upper-cased before the checks.
const PATTERN: &str = r"[1-9ANYany][0-9][0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}";

/// Outcome of checking a candidate code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// Layout and both check characters are valid.
    Valid,
    /// Layout is valid, but a check character is wrong.
    WrongCheckCharacter,
    /// Not a code: wrong length, authority or character.
    Invalid,
}

/// Returns the check character of the organisation code from its first 8 characters.
fn organisation_check_character(first8: &[u8]) -> Option<char> {
    let mut sum = 0;
    for (byte, weight) in first8.iter().zip(ORGANISATION_WEIGHTS) {
        sum += char::from(*byte).to_digit(36)? * weight;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        value => char::from_digit(value, 10),
    }
}

/// Returns the check character of position 18 from the first 17 characters.
pub fn social_credit_code_check_character(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in first17.chars().zip(CODE_WEIGHTS) {
        let value = ALPHABET.find(c.to_ascii_uppercase())?;
        sum += u32::try_from(value).ok()? * weight;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(usize::try_from(check).ok()?)
}

/// Checks an 18-character candidate.
pub(crate) fn check_social_credit_code(candidate: &str) -> CodeCheck {
    let code = candidate.to_ascii_uppercase();
    let bytes = code.as_bytes();
    if bytes.len() != 18 || !code.chars().all(|c| ALPHABET.contains(c)) {
        return CodeCheck::Invalid;
    }
    if !matches!(bytes[0], b'1'..=b'9' | b'A' | b'N' | b'Y')
        || !bytes[1..8].iter().all(u8::is_ascii_digit)
    {
        return CodeCheck::Invalid;
    }
    let organisation_ok =
        organisation_check_character(&bytes[8..16]) == Some(char::from(bytes[16]));
    let code_ok = social_credit_code_check_character(&code[..17]) == Some(char::from(bytes[17]));
    if organisation_ok && code_ok {
        CodeCheck::Valid
    } else {
        CodeCheck::WrongCheckCharacter
    }
}

/// Recognizes unified social credit codes. Codes with both check characters right are
/// validated. A code with a wrong check character is dropped, or reported as pattern-only
/// when the detector is configured to report failed check characters.
#[derive(Debug)]
pub(crate) struct SocialCreditCodeRecognizer {
    pattern: Regex,
    report_failed_check_character: bool,
}

impl SocialCreditCodeRecognizer {
    pub(crate) fn new(report_failed_check_character: bool) -> Result<Self> {
        Ok(SocialCreditCodeRecognizer {
            pattern: compile(PATTERN)?,
            report_failed_check_character,
        })
    }
}

impl Recognizer for SocialCreditCodeRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::SocialCreditCode
    }

    fn name(&self) -> &'static str {
        "cn_social_credit_code"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        match check_social_credit_code(candidate) {
            CodeCheck::Valid => Some(ConfidenceTier::Validated),
            CodeCheck::WrongCheckCharacter if self.report_failed_check_character => {
                Some(ConfidenceTier::PatternOnly)
            }
            CodeCheck::WrongCheckCharacter | CodeCheck::Invalid => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_are_valid() {
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91110108551385082Q",
        ] {
            assert_eq!(check_social_credit_code(code), CodeCheck::Valid, "{code}");
        }
    }

    #[test]
    fn wrong_check_characters_are_found() {
        // Position 18 wrong.
        assert_eq!(
            check_social_credit_code("91350100M000100Y44"),
            CodeCheck::WrongCheckCharacter
        );
        // Position 17 (organisation code check) wrong, position 18 recomputed to match.
        let first17 = "91350100M000100Y5";
        let check = social_credit_code_check_character(first17).expect("check");
        assert_eq!(
            check_social_credit_code(&format!("{first17}{check}")),
            CodeCheck::WrongCheckCharacter
        );
    }

    #[test]
    fn authorities_a_n_y_are_accepted() {
        for authority in ['A', 'N', 'Y'] {
            let first17 = format!("{authority}1350100M000100Y4");
            let check = social_credit_code_check_character(&first17).expect("check");
            let code = format!("{first17}{check}");
            assert_eq!(check_social_credit_code(&code), CodeCheck::Valid, "{code}");
        }
        let first17 = "B1350100M000100Y4";
        let check = social_credit_code_check_character(first17).expect("check");
        assert_eq!(
            check_social_credit_code(&format!("{first17}{check}")),
            CodeCheck::Invalid
        );
    }
}
