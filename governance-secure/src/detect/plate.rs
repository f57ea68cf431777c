//! Chinese vehicle licence plates (GA 36-2018). Plates have no check character.
//!
//! A plate is a province abbreviation, the issuing authority's letter (A-Z without I and O),
//! an optional separator `·`, then the serial:
//!
//! - conventional: 5 characters of `A-H J-N P-Z 0-9`, the last of which may instead be `挂`
//!   (trailer), `学` (learner), `警` (police), `港` or `澳`;
//! - new-energy, 6 characters: small vehicles a new-energy letter, a letter or digit and 4
//!   digits (`粤B·D12345`), large vehicles 5 digits and a new-energy letter (`苏E12345F`).
//!   The new-energy letters are `D` (pure electric) and `F` (other) by default; some systems
//!   accept more, so [`DetectorConfig::new_energy_plate_letters`](super::DetectorConfig)
//!   sets them.
//!
//! A plate that fits these rules is reported as validated: the province and authority
//! letter sets work as a numbering plan, as the mobile number ranges do.

use governance_core::{Error, Result};
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Province abbreviations of the mainland plate system.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Letters and digits of a plate serial: I and O are never used.
const SERIAL: &str = "A-HJ-NP-Z0-9";

/// Checks the configured new-energy letters and returns them as a regex class body.
pub(crate) fn new_energy_class(letters: &str) -> Result<String> {
    if letters.is_empty()
        || !letters
            .chars()
            .all(|c| c.is_ascii_uppercase() && c != 'I' && c != 'O')
    {
        return Err(Error::config(
            "detector",
            format!(
                "new_energy_plate_letters {letters:?} is invalid: list upper-case letters A-Z \
                 without I and O, such as \"DF\""
            ),
        ));
    }
    Ok(letters.to_string())
}

/// Recognizes licence plates.
#[derive(Debug)]
pub(crate) struct PlateRecognizer {
    pattern: Regex,
}

impl PlateRecognizer {
    /// Builds the recognizer with the new-energy letters `letters` (checked by
    /// [`new_energy_class`]).
    pub(crate) fn new(letters: &str) -> Result<Self> {
        let energy = new_energy_class(letters)?;
        let pattern = format!(
            "[{PROVINCES}][A-HJ-NP-Z]·?(?:[{energy}][{SERIAL}][0-9]{{4}}|[0-9]{{5}}[{energy}]|[{SERIAL}]{{4}}[{SERIAL}挂学警港澳])"
        );
        Ok(PlateRecognizer {
            pattern: compile(&pattern)?,
        })
    }
}

impl Recognizer for PlateRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::LicencePlate
    }

    fn name(&self) -> &'static str {
        "cn_licence_plate"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, _candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        Some(ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole_match(recognizer: &PlateRecognizer, text: &str) -> bool {
        recognizer
            .pattern
            .find(text)
            .is_some_and(|found| found.as_str() == text)
    }

    #[test]
    fn valid_plates_match_whole() {
        let plates = PlateRecognizer::new("DF").expect("recognizer");
        for plate in [
            "京A12345",
            "粤B·D12345",
            "沪AD12345",
            "苏E12345F",
            "京A1234学",
            "浙CF1234",
        ] {
            assert!(whole_match(&plates, plate), "{plate}");
        }
    }

    #[test]
    fn invalid_plates_do_not_match() {
        let plates = PlateRecognizer::new("DF").expect("recognizer");
        for plate in ["京AI2345", "京IA2345", "港A12345", "京A1234"] {
            assert!(!whole_match(&plates, plate), "{plate}");
        }
    }

    #[test]
    fn new_energy_letters_are_configurable() {
        let plates = PlateRecognizer::new("DFK").expect("recognizer");
        assert!(whole_match(&plates, "京AK12345"));
        assert!(PlateRecognizer::new("DI").is_err());
        assert!(PlateRecognizer::new("").is_err());
    }
}
