//! US military postal addresses, written in two lines of a fixed form: a unit line, then a
//! line of `APO`, `FPO` or `DPO`, the armed forces region `AA`, `AE` or `AP`, and a ZIP
//! code. The unit line is `Unit NNNN Box NNNN`,
//! `PSC NNNN, Box NNNN`, or a ship's prefix (`USNS`, `USS`, `USCGC`) and its name of one or
//! two words. Letters may be in either case.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// The two lines, with spaces or tabs around the line break.
const MILITARY_PATTERN: &str = r"(?i:(?:USNS|USNV|USS|USCGC) [\p{L}'\-]+(?: [\p{L}'\-]+)?|UNIT [0-9]{4} BOX [0-9]{4}|PSC [0-9]{4}, BOX [0-9]{4})[ \t]*\r?\n[ \t]*(?i:APO|FPO|DPO) (?i:AA|AE|AP) [0-9]{5}(?:-[0-9]{4})?";

/// Recognizes US military postal addresses of two lines.
#[derive(Debug)]
pub(crate) struct MilitaryAddressRecognizer {
    pattern: Regex,
}

impl MilitaryAddressRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(MilitaryAddressRecognizer {
            pattern: compile(MILITARY_PATTERN)?,
        })
    }
}

impl Recognizer for MilitaryAddressRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::StreetAddress
    }

    fn name(&self) -> &'static str {
        "military_address"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, _candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        Some(ConfidenceTier::PatternOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::found_texts;

    #[test]
    fn military_forms_are_found() {
        for address in [
            "USNS Hartwell\nFPO AE 44512",
            "uscgc brandvik\nfpo ap 96512",
            "Unit 4410 Box 2281\nDPO AA 34012",
            "PSC 1203, Box 5512\n APO AE 09021-1234",
        ] {
            let text = format!("Please ship to {address}? Thanks");
            assert_eq!(
                found_texts(PiiKind::StreetAddress, &text),
                [address],
                "{text:?}"
            );
        }
    }

    #[test]
    fn one_line_or_other_region_is_not_found() {
        for text in [
            "Ship to USNS Hartwell FPO AE 44512",
            "USNS Hartwell\nFPO ZZ 44512",
            "USNS Hartwell\nFPO AE 4451",
        ] {
            assert!(
                found_texts(PiiKind::StreetAddress, text).is_empty(),
                "{text:?}"
            );
        }
    }
}
