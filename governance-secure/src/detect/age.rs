//! Ages in English text.
//!
//! A number is an age only inside an age phrase: before `years old`, `year-old`, `yrs old`
//! (`42 years old`, `a 42-year-old`), after `aged`, `age`, `age of`, `turn`, `turns`,
//! `turned` or `turning` (`aged 42`, `she turned 42`), or after `when`, `since` or `until`
//! with a personal pronoun and `was` or `were` when the clause ends at the number (`when
//! he was 64.`). The finding covers the number alone, because the phrase is context and not
//! personal data. Ages from 1 to 125 are accepted.
//!
//! NOTE: `turn` also starts phrases that are not ages (`turn 90 degrees`); the range check
//! drops larger numbers only.

use std::ops::Range;

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile, value_group};

/// The oldest accepted age in years.
const MAX_AGE: u32 = 125;

/// An age phrase with the number in the group `value`.
const AGE_PATTERN: &str = r"(?i-u:(?:aged|age(?: of)?|turn(?:s|ed|ing)?)[: ]+(?P<value>[0-9]{1,3})|(?P<before>[0-9]{1,3})[ \-]?(?:years?|yrs?)[ \-]old|\b(?:when|since|until) (?:i|he|she|we|you|they) (?:was|were) (?P<was>[0-9]{1,3})(?:[.,;!?)]|\z))";

/// Recognizes ages inside age phrases.
#[derive(Debug)]
pub(crate) struct AgeRecognizer {
    pattern: Regex,
}

impl AgeRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(AgeRecognizer {
            pattern: compile(AGE_PATTERN)?,
        })
    }
}

impl Recognizer for AgeRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Age
    }

    fn name(&self) -> &'static str {
        "age"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let range = self.value_range(candidate);
        let years: u32 = candidate.get(range)?.parse().ok()?;
        (1..=MAX_AGE)
            .contains(&years)
            .then_some(ConfidenceTier::PatternOnly)
    }

    fn value_range(&self, candidate: &str) -> Range<usize> {
        value_group(&self.pattern, candidate, &["value", "before", "was"])
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{Detector, DetectorConfig, PiiKind};

    fn ages(text: &str) -> Vec<String> {
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        detector
            .detect(text)
            .into_iter()
            .filter(|finding| finding.kind == PiiKind::Age)
            .map(|finding| text[finding.byte_span].to_string())
            .collect()
    }

    #[test]
    fn age_phrases_report_the_number() {
        assert_eq!(ages("The patient, aged 42, was discharged."), ["42"]);
        assert_eq!(ages("He is 42 years old."), ["42"]);
        assert_eq!(ages("a 42-year-old cyclist"), ["42"]);
        assert_eq!(ages("She turned 67 last week"), ["67"]);
        assert_eq!(ages("Age: 8"), ["8"]);
        assert_eq!(ages("at the age of 90"), ["90"]);
        assert_eq!(ages("Written when she was 64."), ["64"]);
        assert_eq!(ages("since I was 9, I have lived here"), ["9"]);
    }

    #[test]
    fn numbers_outside_age_phrases_are_ignored() {
        assert!(ages("Bus 42 leaves at noon.").is_empty());
        assert!(ages("The building is 300 years old.").is_empty());
        assert!(ages("Turn 0 is the start.").is_empty());
        assert!(ages("He was caged 4 hours").is_empty());
        assert!(ages("the 42 yearly reports").is_empty());
        assert!(ages("when he was 64 km away").is_empty());
        assert!(ages("the bus was 40 minutes late").is_empty());
    }
}
