//! Detection of personal data in free text.
//!
//! | kind | recognizers | validator | tier when it passes |
//! |---|---|---|---|
//! | [`PiiKind::Email`] | `email` | RFC 5321 length limits | validated |
//! | [`PiiKind::Phone`] | `cn_mobile`, `cn_fixed_line`, `e164` | mobile ranges, area codes | validated (`e164`: pattern only) |
//! | [`PiiKind::ResidentId`] | `cn_resident_id`, `cn_resident_id_legacy` | MOD 11-2 check character, region, birth date | validated (legacy: pattern only) |
//! | [`PiiKind::SocialCreditCode`] | `cn_social_credit_code` | authority code, GB 11714 and GB 32100 check characters | validated |
//! | [`PiiKind::PaymentCard`] | `payment_card` | issuer prefix and length, Luhn | validated |
//! | [`PiiKind::Iban`] | `iban` | country length, mod 97 | validated |
//! | [`PiiKind::UsSsn`] | `us_ssn`, `us_ssn_compact` (needs a keyword) | area 001-899 but 666, group, serial | validated |
//! | [`PiiKind::IpAddress`] | `ipv4`, `ipv6` | `std::net` parsers, port range | validated |
//! | [`PiiKind::MacAddress`] | `mac` | one separator, not all-zero or broadcast | validated |
//! | [`PiiKind::DateOfBirth`] | `date_of_birth` (needs a birth keyword) | real past date | validated |
//! | [`PiiKind::LicencePlate`] | `cn_licence_plate` | province and letter sets | validated |
//! | [`PiiKind::GpsCoordinate`] | `gps_coordinate` | latitude and longitude ranges | validated |
//! | [`PiiKind::Passport`] | `cn_passport`, `passport` (needs a keyword) | none | pattern only |
//! | [`PiiKind::Url`], [`PiiKind::Domain`] | `url`, `domain` | host rules, top-level domain list | pattern only |
//! | [`PiiKind::Age`] | `age` (needs an age phrase) | 1 to 125 years | pattern only |
//! | [`PiiKind::DateTime`] | `date_time` | real date, hours and minutes | validated for calendar dates, else pattern only |
//! | [`PiiKind::PostalCode`] | `postal_code` (needs a postal keyword or a US state) | not all zeros | pattern only |
//! | [`PiiKind::Nrp`] | `nrp` (word lists) | none | pattern only |
//! | [`PiiKind::StreetAddress`] | `military_address` (US `APO`, `FPO`, `DPO` addresses; other addresses need the token tagger) | none | pattern only |
//! | [`PiiKind::Title`] | `title` (honorifics before a name, job titles where one is expected) | none | pattern only |
//!
//! # How a text is scanned
//!
//! 1. Full-width digits, letters and identifier symbols (`１３８`, `ＡＢＣ`, `＠`) are read as
//!    ASCII. Character positions do not change, byte positions do: spans found in the
//!    converted text are mapped back, so [`PiiFinding::byte_span`] always indexes the
//!    caller's text and covers the full-width characters (3 bytes each) whole.
//! 2. One [`regex::RegexSet`] pass over the text decides which recognizers can match at all,
//!    so a text without candidates costs one scan.
//! 3. Each recognizer that can match finds its candidates with its own regex and keeps those
//!    that are whole tokens (see the `boundary` module). A value glued to Chinese characters
//!    counts. A digit run inside a longer digit run, or an address inside a longer token,
//!    does not. No reported span cuts a token in two.
//! 4. Validators run on the candidates only (see the table). Recognizers whose pattern
//!    includes a context phrase (`aged 42`, `ZIP: 62704`, `in 1998`) report the value alone.
//! 5. Context keywords up to [`DetectorConfig::context_window_chars`] characters before or
//!    after a candidate (`电话`, `email`, `身份证`, `出生`, `车牌`) raise its confidence. Some
//!    recognizers report a candidate only with a keyword: dates of birth, nine-digit SSNs,
//!    passports other than Chinese ones. For those the keyword must be in the same clause:
//!    the search stops at clause punctuation and at the neighbouring candidates of the same
//!    recognizer.
//! 6. With a token tagger set, its spans are cleaned up first (pieces of one entity joined,
//!    lone lower-case words and single characters dropped, a street corner made one
//!    address). Names after cue words (`Dr.`, `Hi`, `name is`) are added. Name spans are
//!    completed: a firm named `A, B and C` becomes one organisation, a list of given names
//!    one person per name, and a given name goes on over the family name. A postal code
//!    right after a tagged address becomes part of that address. With [`PiiKind::Title`]
//!    wanted, honorifics and job titles are found by word lists and their positions in the
//!    text.
//!    Each tagger finding keeps the tagger's probability for each of its tokens
//!    ([`PiiFinding::token_scores`]), with no score for a word a rule added, and the tagger's
//!    version ([`PiiFinding::model_version`]).
//! 7. Overlapping candidates are resolved in favour of the higher tier, then the longer span,
//!    then the recognizer listed first in the table.
//!
//! ```
//! use governance_secure::detect::{ConfidenceTier, Detector, DetectorConfig, PiiKind};
//!
//! let detector = Detector::new(DetectorConfig::default())?;
//! let findings = detector.detect("电话13812345678谢谢");
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].kind, PiiKind::Phone);
//! assert_eq!(findings[0].char_span, 2..13);
//! assert_eq!(findings[0].tier, ConfidenceTier::ValidatedWithContext);
//!
//! // Full-width digits: spans index the original text.
//! let text = "手机１３８１２３４５６７８";
//! let findings = detector.detect(text);
//! assert_eq!(&text[findings[0].byte_span.clone()], "１３８１２３４５６７８");
//! # Ok::<(), governance_core::Error>(())
//! ```

mod age;
mod boundary;
mod cn_id;
pub mod column;
mod column_names;
mod context;
mod credit_code;
mod date;
mod datetime;
mod detector;
mod email;
mod financial;
mod gps;
mod kind;
mod military;
mod name_cues;
mod name_lists;
mod network;
mod nrp;
mod passport;
mod phone;
mod plate;
mod postal;
mod ssn;
mod tagged;
mod tagged_names;
mod title;
mod web;
pub(crate) mod width;

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use governance_core::{Error, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};

use boundary::TokenRule;
pub use cn_id::resident_id_check_character;
pub use column::{
    ColumnClassification, ColumnClassifier, ColumnClassifierConfig, CoordinateAxis, CoordinatePair,
    TableClassification,
};
pub use credit_code::social_credit_code_check_character;
pub use detector::{Detector, TAGGER_RECOGNIZER};
pub use kind::{ConfidenceTier, PiiKind};

/// Score added when a context keyword is next to the value.
const CONTEXT_BONUS: f32 = 0.1;

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PiiFinding {
    /// Kind of personal data.
    pub kind: PiiKind,
    /// Name of the recognizer that matched, as listed in the table of the [`detect`](self)
    /// module docs.
    pub recognizer: &'static str,
    /// Byte range in the text, on character boundaries. For full-width characters it covers
    /// their 3 bytes each.
    pub byte_span: Range<usize>,
    /// Range in characters (Unicode scalar values), for people and for tools that count
    /// characters.
    pub char_span: Range<usize>,
    /// Evidence tier.
    pub tier: ConfidenceTier,
    /// Whether a context keyword for this kind is next to the value.
    pub has_context: bool,
    /// Confidence in `[0, 1]`: 0.5 for a pattern, 0.85 for a validated value, plus 0.1 with a
    /// context keyword. For the token tagger, the model's score of the span.
    pub score: f32,
    /// For the token tagger, the tagger's score of each token of the span, in order. Empty
    /// for other recognizers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub token_scores: Vec<FindingTokenScore>,
    /// For the token tagger, the version of the model that made the finding (see
    /// [`Detector::tagger_version`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
}

/// One token of a [`PiiFinding`] and the token tagger's score for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingTokenScore {
    /// Range of the token in characters (Unicode scalar values), inside the finding's
    /// [`PiiFinding::char_span`].
    pub char_span: Range<usize>,
    /// Probability the tagger gave to the token's tag, or `None` for a token that a rule
    /// added to the span and the tagger did not tag.
    pub score: Option<f32>,
}

/// Configuration of a [`Detector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Kinds to look for. Default: every kind but [`PiiKind::DateTime`] and
    /// [`PiiKind::Title`] (see [`PiiKind::defaults`]).
    pub kinds: Vec<PiiKind>,
    /// Number of characters before and after a value searched for context keywords. Default
    /// 20, and 0 turns context off (and with it the recognizers that need a keyword).
    pub context_window_chars: usize,
    /// Findings below this tier are dropped. Default: keep all.
    pub min_tier: ConfidenceTier,
    /// Whether 18-character resident ids (with a valid region and birth date) and unified
    /// social credit codes with a wrong check character are reported as
    /// [`ConfidenceTier::PatternOnly`]. Default false: such numbers are most often other
    /// identifiers (order or account numbers) or typing errors and are not reported.
    pub report_failed_check_character: bool,
    /// Letters that mark new-energy licence plates in the first or last serial position.
    /// Default `DF` (D pure electric, F other); some systems accept more.
    pub new_energy_plate_letters: String,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            kinds: PiiKind::defaults(),
            context_window_chars: 20,
            min_tier: ConfidenceTier::PatternOnly,
            report_failed_check_character: false,
            new_energy_plate_letters: "DF".to_string(),
        }
    }
}

/// Today's date, read from the local clock at most once per [`Detector::detect`] call and only
/// when a validator needs it.
#[derive(Debug, Default)]
pub(crate) struct Today(OnceCell<NaiveDate>);

impl Today {
    #[cfg(test)]
    pub(crate) fn fixed(date: NaiveDate) -> Self {
        Today(OnceCell::from(date))
    }

    pub(crate) fn get(&self) -> NaiveDate {
        *self.0.get_or_init(|| chrono::Local::now().date_naive())
    }
}

/// A recognizer for one pattern of personal data.
pub(crate) trait Recognizer: Send + Sync + fmt::Debug {
    /// Returns the kind of personal data it finds.
    fn kind(&self) -> PiiKind;
    /// Returns its name, reported in [`PiiFinding::recognizer`].
    fn name(&self) -> &'static str;
    /// Returns the regex of candidates, which the prefilter set also contains.
    fn pattern(&self) -> &Regex;
    /// Returns which neighbours end a candidate.
    fn token_rule(&self) -> TokenRule;
    /// Validates one whole-token candidate and returns its tier, or `None` to drop it.
    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier>;
    /// Returns true when a candidate is reported only with a context keyword for its kind in
    /// the same clause.
    fn requires_context(&self) -> bool {
        false
    }
    /// Returns the part of a validated candidate that is reported, in bytes of `candidate`.
    /// Recognizers whose pattern includes a context phrase (`aged 42`) report the value
    /// alone. Default: the whole candidate.
    fn value_range(&self, candidate: &str) -> Range<usize> {
        0..candidate.len()
    }
}

/// Returns the range of the first of the named groups `names` that takes part in the match
/// of `pattern` at the start of `candidate`, or the whole candidate when none does.
pub(crate) fn value_group(pattern: &Regex, candidate: &str, names: &[&str]) -> Range<usize> {
    pattern
        .captures(candidate)
        .and_then(|captures| names.iter().find_map(|name| captures.name(name)))
        .map_or(0..candidate.len(), |group| group.range())
}

/// Compiles a recognizer's built-in pattern. A failure is a bug in this crate.
pub(crate) fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|error| {
        Error::Internal(format!("built-in pattern {pattern:?} is invalid: {error}"))
    })
}

/// Returns the text of each finding of `kind` in `text`, from a detector that looks for that
/// kind alone.
#[cfg(test)]
pub(crate) fn found_texts(kind: PiiKind, text: &str) -> Vec<String> {
    let config = DetectorConfig {
        kinds: vec![kind],
        ..DetectorConfig::default()
    };
    let detector = Detector::new(config).expect("detector");
    detector
        .detect(text)
        .into_iter()
        .map(|finding| text[finding.byte_span].to_string())
        .collect()
}

/// Returns a tagger span over the first occurrence of `piece` in `text`, scored 0.9, with no
/// token scores.
#[cfg(test)]
pub(crate) fn span_over(
    text: &str,
    piece: &str,
    label: governance_llm::tagger::EntityLabel,
) -> governance_llm::tagger::EntitySpan {
    let start = text.find(piece).expect("piece in text");
    governance_llm::tagger::EntitySpan {
        start,
        end: start + piece.len(),
        label,
        score: 0.9,
        tokens: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(DetectorConfig::default()).expect("default detector")
    }

    #[test]
    fn empty_kinds_are_rejected() {
        let config = DetectorConfig {
            kinds: Vec::new(),
            ..DetectorConfig::default()
        };
        let error = Detector::new(config).expect_err("empty kinds");
        assert!(error.to_string().contains("kinds is empty"), "{error}");
    }

    #[test]
    fn text_without_candidates_has_no_findings() {
        assert!(
            detector()
                .detect("今天天气很好, no numbers here")
                .is_empty()
        );
    }

    #[test]
    fn char_spans_count_chinese_characters() {
        let text = "邮箱zhang.wei@example.com。电话13812345678";
        let findings = detector().detect(text);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].char_span, 2..23);
        assert_eq!(
            &text[findings[0].byte_span.clone()],
            "zhang.wei@example.com"
        );
        assert_eq!(findings[1].char_span, 26..37);
        assert_eq!(&text[findings[1].byte_span.clone()], "13812345678");
    }

    #[test]
    fn overlap_keeps_validated_mobile_over_e164() {
        let findings = detector().detect("try +8613812345678 now");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].recognizer, "cn_mobile");
        assert_eq!(findings[0].tier, ConfidenceTier::Validated);
    }

    #[test]
    fn email_wins_over_its_numeric_local_part() {
        let findings = detector().detect("13812345678@163.com");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, PiiKind::Email);
    }

    #[test]
    fn context_lifts_tier_and_score() {
        let plain = detector().detect("号码 13812345678");
        let with_context = detector().detect("手机号码 13812345678");
        assert_eq!(plain[0].tier, ConfidenceTier::Validated);
        assert!(!plain[0].has_context);
        assert_eq!(with_context[0].tier, ConfidenceTier::ValidatedWithContext);
        assert!(with_context[0].score > plain[0].score);
    }

    #[test]
    fn context_outside_window_is_ignored() {
        let text = format!("手机{}13812345678", "。".repeat(25));
        let findings = detector().detect(&text);
        assert_eq!(findings[0].tier, ConfidenceTier::Validated);
    }

    #[test]
    fn min_tier_drops_weaker_findings() {
        let config = DetectorConfig {
            min_tier: ConfidenceTier::Validated,
            ..DetectorConfig::default()
        };
        let detector = Detector::new(config).expect("detector");
        // A 15-digit legacy id is pattern-only, the e-mail address is validated.
        let findings = detector.detect("110105491231002 a@example.com");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, PiiKind::Email);
    }

    #[test]
    fn disabled_kind_is_not_reported() {
        let config = DetectorConfig {
            kinds: vec![PiiKind::Email],
            ..DetectorConfig::default()
        };
        let detector = Detector::new(config).expect("detector");
        assert!(detector.detect("13812345678").is_empty());
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let error = serde_json::from_str::<DetectorConfig>(r#"{"kinds":["email"],"window":3}"#)
            .expect_err("unknown field");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }
}
