//! Phone numbers: Chinese mainland mobile and fixed-line numbers, and international numbers
//! in E.164 form.
//!
//! NOTE: international numbers are recognised only in compact form (`+447911123456`), not
//! with spaces or brackets, and fixed-line numbers only as `0<area>-<number>`.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Mainland mobile number, loose form: `1[3-9]` and nine more digits, in one run or grouped
/// 3-4-4 with spaces or dashes, optionally after `+86` or `0086`.
const MOBILE_PATTERN: &str =
    r"(?:(?:\+|00)86[ \-]?)?1[3-9][0-9](?:[0-9]{8}| [0-9]{4} [0-9]{4}|-[0-9]{4}-[0-9]{4})";

/// Mobile number ranges in service (libphonenumber metadata for CN, mobile), applied to the
/// eleven national digits.
const MOBILE_STRICT_PATTERN: &str = r"^(?:1(?:610[0-9]|740[0-5])[0-9]{6}|1(?:[38][0-9]|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])[0-9]{8})$";

/// Fixed-line number: trunk prefix `0`, area code, dash, 7 or 8 digit subscriber number.
const FIXED_LINE_PATTERN: &str = r"0[0-9]{2,3}-[0-9]{7,8}";

/// International number: `+`, a country code that does not start with 0, and 8 to 15 digits
/// in all (the E.164 maximum is 15).
const INTERNATIONAL_PATTERN: &str = r"\+[1-9][0-9]{7,14}";

/// Phone numbers as people write them in many countries. A number may start with a `+`
/// country code, a `(0)` trunk prefix and an area code in brackets. Its digits come in
/// groups of 2 to 6 separated by single spaces, dashes or dots, or in one run of 7 to 15,
/// and an extension (`x123`, `ext. 123`) may follow.
const FORMATTED_PATTERN: &str = r"(?:\+[1-9][0-9]{0,3}[ .\-]?)?(?:\(0\) ?)?(?:\([0-9]{1,4}\) ?[ .\-]?)?(?:[0-9]{2,6}(?:[ .\-][0-9]{2,6}){1,4}|[0-9]{7,15})(?: ?(?:x|ext\.? ?)[0-9]{1,5})?";

/// Digits of a formatted number without its extension, and whether the number is written
/// as a calendar date (`2021-03-04`, `04.03.2021`), which is never taken for a phone.
fn formatted_phone_digits(candidate: &str) -> Option<usize> {
    let number = candidate
        .split(['x', 'e'])
        .next()
        .unwrap_or(candidate)
        .trim_end();
    let groups: Vec<&str> = number
        .split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .collect();
    let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
    let looks_like_date = !number.starts_with(['+', '('])
        && matches!(lengths.as_slice(), [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4]);
    if looks_like_date {
        return None;
    }
    Some(groups.iter().map(|group| group.len()).sum())
}

/// Returns the national digits of a mobile candidate: separators and the `+86` or `0086`
/// prefix removed.
fn national_mobile_digits(candidate: &str) -> String {
    let rest = candidate
        .strip_prefix("+86")
        .or_else(|| candidate.strip_prefix("0086"))
        .unwrap_or(candidate);
    rest.chars().filter(char::is_ascii_digit).collect()
}

/// Recognizes mainland mobile numbers. Numbers in a range in service are validated, other
/// numbers of the loose form are pattern-only.
#[derive(Debug)]
pub(crate) struct MobileRecognizer {
    pattern: Regex,
    strict: Regex,
}

impl MobileRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(MobileRecognizer {
            pattern: compile(MOBILE_PATTERN)?,
            strict: compile(MOBILE_STRICT_PATTERN)?,
        })
    }
}

impl Recognizer for MobileRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Phone
    }

    fn name(&self) -> &'static str {
        "cn_mobile"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        if self.strict.is_match(&national_mobile_digits(candidate)) {
            Some(ConfidenceTier::Validated)
        } else {
            Some(ConfidenceTier::PatternOnly)
        }
    }
}

/// Returns true when `area` (with its leading 0) fits the mainland numbering plan: the
/// two-digit codes are 10 and 20 to 29, every other area code has three digits from 3 to 9.
fn is_mainland_area_code(area: &str) -> bool {
    let digits = area.as_bytes();
    match digits.len() {
        3 => digits[1] == b'2' || (digits[1] == b'1' && digits[2] == b'0'),
        4 => (b'3'..=b'9').contains(&digits[1]),
        _ => false,
    }
}

/// Recognizes mainland fixed-line numbers. A number whose area code fits the numbering plan
/// is validated, others are pattern-only.
#[derive(Debug)]
pub(crate) struct FixedLineRecognizer {
    pattern: Regex,
}

impl FixedLineRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(FixedLineRecognizer {
            pattern: compile(FIXED_LINE_PATTERN)?,
        })
    }
}

impl Recognizer for FixedLineRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Phone
    }

    fn name(&self) -> &'static str {
        "cn_fixed_line"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let (area, _) = candidate.split_once('-')?;
        if is_mainland_area_code(area) {
            Some(ConfidenceTier::Validated)
        } else {
            Some(ConfidenceTier::PatternOnly)
        }
    }
}

/// Recognizes international numbers in E.164 form. The country code is not checked, so they
/// are pattern-only.
#[derive(Debug)]
pub(crate) struct InternationalRecognizer {
    pattern: Regex,
}

impl InternationalRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(InternationalRecognizer {
            pattern: compile(INTERNATIONAL_PATTERN)?,
        })
    }
}

impl Recognizer for InternationalRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Phone
    }

    fn name(&self) -> &'static str {
        "e164"
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

/// Recognizes phone numbers in the formats of many countries. Their numbering plans are not
/// checked, so a candidate is reported only with a phone keyword (`call`, `fax`, `电话`) in
/// the same clause, at the pattern-only tier.
#[derive(Debug)]
pub(crate) struct FormattedRecognizer {
    pattern: Regex,
}

impl FormattedRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(FormattedRecognizer {
            pattern: compile(FORMATTED_PATTERN)?,
        })
    }
}

impl Recognizer for FormattedRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Phone
    }

    fn name(&self) -> &'static str {
        "phone_formatted"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        // E.164 allows at most 15 digits; fewer than 7 is a short code or an amount.
        let digits = formatted_phone_digits(candidate)?;
        (7..=15)
            .contains(&digits)
            .then_some(ConfidenceTier::PatternOnly)
    }

    fn requires_context(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Detector, DetectorConfig, PiiFinding};

    fn phones(text: &str) -> Vec<PiiFinding> {
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        detector
            .detect(text)
            .into_iter()
            .filter(|finding| finding.kind == PiiKind::Phone)
            .collect()
    }

    fn phone_texts(text: &str) -> Vec<String> {
        phones(text)
            .into_iter()
            .map(|finding| text[finding.byte_span].to_string())
            .collect()
    }

    #[test]
    fn mobile_forms_are_found() {
        for number in [
            "13812345678",
            "+8613812345678",
            "+86 13812345678",
            "008613812345678",
            "0086-13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
        ] {
            let text = format!("try {number} today");
            let found = phones(&text);
            assert_eq!(found.len(), 1, "{number}");
            assert_eq!(&text[found[0].byte_span.clone()], number);
            assert_eq!(found[0].recognizer, "cn_mobile", "{number}");
            assert_eq!(found[0].tier, ConfidenceTier::Validated, "{number}");
        }
    }

    #[test]
    fn mixed_separators_do_not_group() {
        assert!(phone_texts("138 1234-5678").is_empty());
    }

    #[test]
    fn mobile_outside_ranges_in_service_is_pattern_only() {
        // 140 and 194 fit the loose form but not the ranges of the strict metadata pattern.
        for number in ["14012345678", "19412345678"] {
            let found = phones(number);
            assert_eq!(found.len(), 1, "{number}");
            assert_eq!(found[0].tier, ConfidenceTier::PatternOnly, "{number}");
        }
        assert_eq!(phones("19212345678")[0].tier, ConfidenceTier::Validated);
    }

    #[test]
    fn mobile_glued_to_chinese_is_found() {
        assert_eq!(phone_texts("电话13812345678谢谢"), ["13812345678"]);
        assert_eq!(phone_texts("手机：138-1234-5678。"), ["138-1234-5678"]);
    }

    #[test]
    fn digits_inside_longer_runs_are_skipped() {
        assert!(phone_texts("12013812345678901234").is_empty());
        assert!(phone_texts("order 138123456789").is_empty());
        assert!(phone_texts("ref A13812345678").is_empty());
        assert!(phone_texts("1.13812345678").is_empty());
    }

    #[test]
    fn fixed_line_is_found_and_validated() {
        let found = phones("办公电话010-12345678");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].recognizer, "cn_fixed_line");
        assert_eq!(found[0].tier, ConfidenceTier::ValidatedWithContext);

        // 编号 (serial number) is not a context keyword.
        let found = phones("编号0755-1234567");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].tier, ConfidenceTier::Validated);
    }

    #[test]
    fn fixed_line_with_unknown_area_code_is_pattern_only() {
        let found = phones("号码 012-12345678");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].tier, ConfidenceTier::PatternOnly);
    }

    #[test]
    fn fixed_line_inside_longer_token_is_skipped() {
        assert!(phone_texts("9010-12345678").is_empty());
        assert!(phone_texts("010-123456789").is_empty());
        assert!(phone_texts("010-12345678-12").is_empty());
    }

    #[test]
    fn area_codes_follow_the_numbering_plan() {
        assert!(is_mainland_area_code("010"));
        assert!(is_mainland_area_code("021"));
        assert!(is_mainland_area_code("0755"));
        assert!(!is_mainland_area_code("011"));
        assert!(!is_mainland_area_code("0155"));
    }

    #[test]
    fn international_numbers_are_found() {
        let found = phones("UK office +447911123456, 电话+12025550123谢谢");
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|finding| finding.recognizer == "e164"));
        assert_eq!(found[1].tier, ConfidenceTier::PatternOnly);
    }

    #[test]
    fn international_number_longer_than_e164_is_skipped() {
        assert!(phone_texts("+1234567890123456").is_empty());
        assert!(phone_texts("+1234567").is_empty());
    }

    #[test]
    fn formatted_numbers_need_context() {
        for number in [
            "905-674-3793",
            "345-899-3560x4587",
            "+41 (0)96 471 07 95",
            "03.93.92.16.85",
            "(898)666-3621x0135",
            "0688 843 79 56",
            "+1-604-696-5272x565",
        ] {
            let with_keyword = format!("Fax: {number}");
            assert_eq!(phone_texts(&with_keyword), [number], "{number}");
            let without = format!("Reference {number}");
            assert!(phone_texts(&without).is_empty(), "{number}");
        }
    }

    #[test]
    fn dates_are_not_formatted_phones() {
        for date in ["2021-03-04", "04.03.2021", "4/3/2021"] {
            assert!(phone_texts(&format!("call on {date}")).is_empty(), "{date}");
        }
    }
}
