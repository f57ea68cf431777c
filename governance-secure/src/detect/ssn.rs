//! US social security numbers.
//!
//! Rules of the Social Security Administration: area 001 to 899 except 666, group 01 to 99,
//! serial 0001 to 9999. Areas 900 to 999 belong to individual taxpayer identification
//! numbers (ITIN) and other non-SSN numbers. They are never reported as SSNs, and ITINs are
//! not reported at all.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::financial::has_one_separator_kind;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Area, group and serial separated by dashes or spaces (`123-45-6789`).
const SEPARATED_PATTERN: &str = r"[0-9]{3}[ \-][0-9]{2}[ \-][0-9]{4}";

/// Nine digits in one run, which are reported only next to an SSN keyword.
const COMPACT_PATTERN: &str = r"[0-9]{9}";

/// Returns true when the nine digits of `candidate` have a valid area, group and serial.
pub(crate) fn ssn_valid(candidate: &str) -> bool {
    if !has_one_separator_kind(candidate) {
        return false;
    }
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 9 {
        return false;
    }
    let area: u32 = digits[..3].parse().unwrap_or(0);
    let group: u32 = digits[3..5].parse().unwrap_or(0);
    let serial: u32 = digits[5..].parse().unwrap_or(0);
    (1..=899).contains(&area) && area != 666 && group != 0 && serial != 0
}

/// Recognizes SSNs, validated by the area, group and serial rules. The compact form of nine
/// digits is reported only with an SSN keyword nearby, because most nine-digit runs are other
/// numbers.
#[derive(Debug)]
pub(crate) struct SsnRecognizer {
    pattern: Regex,
    compact: bool,
}

impl SsnRecognizer {
    /// Builds the recognizer of the separated form, or with `compact` of the nine-digit run.
    pub(crate) fn new(compact: bool) -> Result<Self> {
        let pattern = if compact {
            COMPACT_PATTERN
        } else {
            SEPARATED_PATTERN
        };
        Ok(SsnRecognizer {
            pattern: compile(pattern)?,
            compact,
        })
    }
}

impl Recognizer for SsnRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::UsSsn
    }

    fn name(&self) -> &'static str {
        if self.compact {
            "us_ssn_compact"
        } else {
            "us_ssn"
        }
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn requires_context(&self) -> bool {
        self.compact
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        ssn_valid(candidate).then_some(ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_group_serial_rules() {
        assert!(ssn_valid("123-45-6789"));
        assert!(ssn_valid("899-12-3456"));
        assert!(ssn_valid("001 01 0001"));
        assert!(!ssn_valid("000-12-3456"));
        assert!(!ssn_valid("666-12-3456"));
        assert!(!ssn_valid("900-12-3456"));
        assert!(!ssn_valid("999-12-3456"));
        assert!(!ssn_valid("123-00-4567"));
        assert!(!ssn_valid("123-45-0000"));
        assert!(!ssn_valid("123-45 6789"));
    }
}
