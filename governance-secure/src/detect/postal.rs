//! Postal codes.
//!
//! Most short digit runs are other numbers, so a postal code is reported only after a postal
//! keyword or a US state abbreviation. The keywords are `ZIP`, `ZIP code`, `postal code`,
//! `postcode`, `post code`, `PLZ` and `CEP`, optionally followed by `:`, `#` or `.`. The
//! state or territory abbreviation is in capitals (`Springfield, IL 62704`). The finding covers the code alone. After a keyword,
//! the accepted shapes are those of many national systems:
//!
//! | shape | examples | used in |
//! |---|---|---|
//! | `NNNNN`, `NNNNN-NNNN` | `62704`, `62704-1234` | United States, Germany, France |
//! | `NNNNN-NNN` | `01310-100` | Brazil |
//! | `NNN NN` | `114 55` | Sweden, Czechia, Slovakia, Greece |
//! | `NNNN AA`, `NNNN` | `1012 AB`, `3000` | Netherlands; Belgium, Denmark, Switzerland |
//! | `NNN-NNNN` | `100-0001` | Japan |
//! | `NNNNNN` | `100080` | China, India, Russia |
//! | UK outward and inward codes | `SW1A 1AA`, `M1 1AE` | United Kingdom |
//! | `ANA NAN` | `K1A 0B1` | Canada |
//!
//! After a state abbreviation only the US shapes `NNNNN` and `NNNNN-NNNN` are accepted.

use std::ops::Range;

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile, value_group};

/// Two-letter abbreviations of the US states, the District of Columbia, the territories and
/// the armed forces mail regions (`AA`, `AE`, `AP`).
const US_STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|AS|GU|MP|PR|VI|AA|AE|AP";

/// Builds the pattern: a keyword then a code in the group `code`, or a state abbreviation
/// then a US code in the group `zip`.
fn postal_pattern() -> String {
    let keyword = r"(?i-u:zip(?: ?code)?|postal ?code|post ?code|plz|cep)";
    let shapes = [
        r"[0-9]{5}(?:-[0-9]{3,4})?",
        r"[0-9]{3} [0-9]{2}",
        r"[0-9]{4}(?: ?[A-Z]{2})?",
        r"[0-9]{3}-[0-9]{4}",
        r"[0-9]{6}",
        r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}",
        r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]",
    ]
    .join("|");
    format!(
        r"{keyword} ?[:#.]? ?(?P<code>{shapes})|(?:{US_STATES}) (?P<zip>[0-9]{{5}}(?:-[0-9]{{4}})?)"
    )
}

/// Recognizes postal codes after a postal keyword or a US state abbreviation.
#[derive(Debug)]
pub(crate) struct PostalCodeRecognizer {
    pattern: Regex,
}

impl PostalCodeRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(PostalCodeRecognizer {
            pattern: compile(&postal_pattern())?,
        })
    }
}

impl Recognizer for PostalCodeRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::PostalCode
    }

    fn name(&self) -> &'static str {
        "postal_code"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        // A code of zeros only is a placeholder.
        let range = self.value_range(candidate);
        let code = candidate.get(range)?;
        code.chars()
            .any(|c| c.is_ascii_alphanumeric() && c != '0')
            .then_some(ConfidenceTier::PatternOnly)
    }

    fn value_range(&self, candidate: &str) -> Range<usize> {
        value_group(&self.pattern, candidate, &["code", "zip"])
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{PiiKind, found_texts};

    fn codes(text: &str) -> Vec<String> {
        found_texts(PiiKind::PostalCode, text)
    }

    #[test]
    fn codes_after_keywords_are_found() {
        assert_eq!(codes("ZIP: 62704"), ["62704"]);
        assert_eq!(codes("zip code 62704-1234."), ["62704-1234"]);
        assert_eq!(codes("Postcode SW1A 1AA"), ["SW1A 1AA"]);
        assert_eq!(codes("postal code: K1A 0B1"), ["K1A 0B1"]);
        assert_eq!(codes("Postcode 1012 AB"), ["1012 AB"]);
        assert_eq!(codes("PLZ 10115"), ["10115"]);
        assert_eq!(codes("ZIP 114 55"), ["114 55"]);
        assert_eq!(codes("CEP 01310-100"), ["01310-100"]);
        assert_eq!(codes("zip# 3000"), ["3000"]);
    }

    #[test]
    fn us_codes_after_states_are_found() {
        assert_eq!(codes("Springfield, IL 62704"), ["62704"]);
        assert_eq!(codes("Austin, TX 78701-0001 USA"), ["78701-0001"]);
    }

    #[test]
    fn numbers_without_postal_context_are_ignored() {
        assert!(codes("Order 62704 shipped").is_empty());
        assert!(codes("zipper 62704").is_empty());
        assert!(codes("il 62704").is_empty());
        assert!(codes("ZIP: 00000").is_empty());
        assert!(codes("ZIP 627041234").is_empty());
        assert!(codes("CA 627").is_empty());
    }
}
