//! E-mail addresses with ASCII local parts and domain names.
//!
//! NOTE: internationalised addresses (Chinese local parts or domains such as `用户@例子.中国`)
//! are not recognised.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Local part of dot-separated atoms, `@`, one or more domain labels of at most 63
/// characters, and an alphabetic top-level domain.
const PATTERN: &str = r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}";

/// Length limits of RFC 5321: 64 octets for the local part, 254 for the whole path.
const MAX_LOCAL_LEN: usize = 64;
const MAX_ADDRESS_LEN: usize = 254;

/// Recognizes e-mail addresses. Those within the RFC 5321 length limits are validated.
#[derive(Debug)]
pub(crate) struct EmailRecognizer {
    pattern: Regex,
}

impl EmailRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(EmailRecognizer {
            pattern: compile(PATTERN)?,
        })
    }
}

impl Recognizer for EmailRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Email
    }

    fn name(&self) -> &'static str {
        "email"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Email
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let local_len = candidate.find('@')?;
        if local_len <= MAX_LOCAL_LEN && candidate.len() <= MAX_ADDRESS_LEN {
            Some(ConfidenceTier::Validated)
        } else {
            Some(ConfidenceTier::PatternOnly)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{Detector, DetectorConfig, PiiKind};

    fn emails(text: &str) -> Vec<String> {
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        detector
            .detect(text)
            .into_iter()
            .filter(|finding| finding.kind == PiiKind::Email)
            .map(|finding| text[finding.byte_span].to_string())
            .collect()
    }

    #[test]
    fn finds_common_addresses() {
        assert_eq!(
            emails("write to zhang.wei@example.com"),
            ["zhang.wei@example.com"]
        );
        assert_eq!(
            emails("a.b+tag@mail.example.co.uk"),
            ["a.b+tag@mail.example.co.uk"]
        );
        assert_eq!(emails("<ops_team@city.gov.cn>"), ["ops_team@city.gov.cn"]);
    }

    #[test]
    fn finds_address_glued_to_chinese() {
        assert_eq!(
            emails("邮箱zhang.wei@example.com。"),
            ["zhang.wei@example.com"]
        );
        assert_eq!(emails("请联系li@example.org谢谢"), ["li@example.org"]);
    }

    #[test]
    fn sentence_full_stop_is_not_part_of_address() {
        assert_eq!(emails("Mail me at a@example.com."), ["a@example.com"]);
    }

    #[test]
    fn space_separated_addresses_are_separate() {
        assert_eq!(
            emails("a@x.com b@y.org c@z.net"),
            ["a@x.com", "b@y.org", "c@z.net"]
        );
    }

    #[test]
    fn address_inside_longer_token_is_skipped() {
        assert!(emails("x!a@example.com").is_empty());
        assert!(emails("a@example.com.x1").is_empty());
        assert!(emails("a@example.com@other").is_empty());
        assert!(emails("a@example.com_old").is_empty());
    }

    #[test]
    fn overlong_local_part_is_pattern_only() {
        let text = format!("{}@example.com", "a".repeat(70));
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        let findings = detector.detect(&text);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].tier, crate::detect::ConfidenceTier::PatternOnly);
    }
}
