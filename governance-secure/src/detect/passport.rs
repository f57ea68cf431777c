//! Passport numbers.
//!
//! Chinese ordinary passports are `E` or `G` and 8 digits, or (e-passports issued since 2017)
//! `E`, a letter other than I and O, and 7 digits. They have no check character, so they are
//! reported as pattern-only. Other countries' numbers have no common shape: 6 to 9 upper-case
//! letters and digits with at least one digit are reported only next to a passport keyword
//! (`passport`, `护照`, `证件`), also as pattern-only.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

const CHINESE_PATTERN: &str = r"[EG][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}";

const OTHER_PATTERN: &str = r"[A-Z0-9]{6,9}";

/// Recognizes passport numbers: the Chinese shapes on their own, others only with a keyword.
#[derive(Debug)]
pub(crate) struct PassportRecognizer {
    pattern: Regex,
    chinese: bool,
}

impl PassportRecognizer {
    /// Builds the recognizer of Chinese passports, or with `chinese` false of other
    /// countries' passports.
    pub(crate) fn new(chinese: bool) -> Result<Self> {
        let pattern = if chinese {
            CHINESE_PATTERN
        } else {
            OTHER_PATTERN
        };
        Ok(PassportRecognizer {
            pattern: compile(pattern)?,
            chinese,
        })
    }
}

impl Recognizer for PassportRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Passport
    }

    fn name(&self) -> &'static str {
        if self.chinese {
            "cn_passport"
        } else {
            "passport"
        }
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn requires_context(&self) -> bool {
        !self.chinese
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let has_digit = candidate.chars().any(|c| c.is_ascii_digit());
        (self.chinese || has_digit).then_some(ConfidenceTier::PatternOnly)
    }
}
