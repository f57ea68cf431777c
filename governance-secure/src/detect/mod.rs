//! Detection of personal data in free text: e-mail addresses, phone numbers and Chinese
//! resident identity numbers.
//!
//! # How a text is scanned
//!
//! 1. One [`regex::RegexSet`] pass over the text decides which recognizers can match at all,
//!    so a text without candidates costs one scan.
//! 2. Each recognizer that can match finds its candidates with its own regex and keeps those
//!    that are whole tokens (see the `boundary` module). A value glued to Chinese characters
//!    counts. A digit run inside a longer digit run, or an address inside a longer token,
//!    does not.
//! 3. Validators run on the candidates only: the resident id check character and birth date,
//!    the mobile numbering plan, the fixed-line area code, e-mail length limits.
//! 4. Context keywords up to [`DetectorConfig::context_window_chars`] characters before a
//!    candidate (`电话`, `email`, `身份证`) raise its confidence.
//! 5. Overlapping candidates are resolved in favour of the higher tier, then the longer span.
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
//! # Ok::<(), governance_core::Error>(())
//! ```

mod boundary;
mod cn_id;
mod context;
mod email;
mod phone;

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use governance_core::{Error, Result};
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use boundary::TokenRule;
pub use cn_id::resident_id_check_character;
use context::ContextMatcher;

/// Kind of personal data a finding holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A phone number: Chinese mainland mobile or fixed line, or international E.164.
    Phone,
    /// A Chinese resident identity number (GB 11643), 18 characters or the legacy 15 digits.
    ResidentId,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 3] = [PiiKind::Email, PiiKind::Phone, PiiKind::ResidentId];

    /// Returns the snake_case name used in configs, issues and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::ResidentId => "resident_id",
        }
    }

    /// Returns the upper-case tag used by the type-tag mask, such as `PHONE` in `<PHONE>`.
    pub fn tag(self) -> &'static str {
        match self {
            PiiKind::Email => "EMAIL",
            PiiKind::Phone => "PHONE",
            PiiKind::ResidentId => "RESIDENT_ID",
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Strength of the evidence behind a finding, from weakest to strongest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceTier {
    /// The text has the value's shape but nothing validated it, such as a legacy 15-digit
    /// resident id, which has no check character.
    #[default]
    PatternOnly,
    /// A validator passed: a check character, a numbering plan, a date.
    Validated,
    /// A validator passed and a context keyword precedes the value.
    ValidatedWithContext,
}

impl ConfidenceTier {
    /// Returns the snake_case name used in issues.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfidenceTier::PatternOnly => "pattern_only",
            ConfidenceTier::Validated => "validated",
            ConfidenceTier::ValidatedWithContext => "validated_with_context",
        }
    }

    /// Returns the score of a finding with this tier, before any context bonus.
    fn base_score(self) -> f32 {
        match self {
            ConfidenceTier::PatternOnly => 0.5,
            ConfidenceTier::Validated | ConfidenceTier::ValidatedWithContext => 0.85,
        }
    }
}

impl fmt::Display for ConfidenceTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Score added when a context keyword precedes the value.
const CONTEXT_BONUS: f32 = 0.1;

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PiiFinding {
    /// Kind of personal data.
    pub kind: PiiKind,
    /// Name of the recognizer that matched: `email`, `cn_mobile`, `cn_fixed_line`, `e164`,
    /// `cn_resident_id` or `cn_resident_id_legacy`.
    pub recognizer: &'static str,
    /// Byte range in the text, on character boundaries.
    pub byte_span: Range<usize>,
    /// Range in characters (Unicode scalar values), for people and for tools that count
    /// characters.
    pub char_span: Range<usize>,
    /// Evidence tier.
    pub tier: ConfidenceTier,
    /// Whether a context keyword for this kind precedes the value.
    pub has_context: bool,
    /// Confidence in `[0, 1]`: 0.5 for a pattern, 0.85 for a validated value, plus 0.1 with a
    /// context keyword.
    pub score: f32,
}

/// Configuration of a [`Detector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Kinds to look for. Default: every kind.
    pub kinds: Vec<PiiKind>,
    /// Number of characters before a value searched for context keywords. Default 20, and
    /// 0 turns context off.
    pub context_window_chars: usize,
    /// Findings below this tier are dropped. Default: keep all.
    pub min_tier: ConfidenceTier,
    /// Whether 18-character resident ids with a wrong check character (but a valid region
    /// and birth date) are reported as [`ConfidenceTier::PatternOnly`]. Default false: such
    /// numbers are most often other identifiers (order or account numbers) and are not
    /// reported.
    pub report_failed_check_character: bool,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            kinds: PiiKind::ALL.to_vec(),
            context_window_chars: 20,
            min_tier: ConfidenceTier::PatternOnly,
            report_failed_check_character: false,
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
}

/// Compiles a recognizer's built-in pattern. A failure is a bug in this crate.
pub(crate) fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|error| {
        Error::Internal(format!("built-in pattern {pattern:?} is invalid: {error}"))
    })
}

/// A candidate that survived its recognizer's boundary check and validator.
#[derive(Debug)]
struct Candidate {
    span: Range<usize>,
    kind: PiiKind,
    recognizer: &'static str,
    tier: ConfidenceTier,
    has_context: bool,
}

/// Finds personal data in text. Build it once and share it: it is `Send + Sync` and
/// [`Detector::detect`] takes `&self`.
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    prefilter: RegexSet,
    recognizers: Vec<Box<dyn Recognizer>>,
    context: ContextMatcher,
}

impl Detector {
    /// Builds a detector. Fails when `config.kinds` is empty.
    pub fn new(config: DetectorConfig) -> Result<Self> {
        if config.kinds.is_empty() {
            return Err(Error::config(
                "detector",
                "kinds is empty: list at least one of email, phone, resident_id",
            ));
        }
        let mut recognizers: Vec<Box<dyn Recognizer>> = Vec::new();
        if config.kinds.contains(&PiiKind::Email) {
            recognizers.push(Box::new(email::EmailRecognizer::new()?));
        }
        if config.kinds.contains(&PiiKind::Phone) {
            recognizers.push(Box::new(phone::MobileRecognizer::new()?));
            recognizers.push(Box::new(phone::FixedLineRecognizer::new()?));
            recognizers.push(Box::new(phone::InternationalRecognizer::new()?));
        }
        if config.kinds.contains(&PiiKind::ResidentId) {
            recognizers.push(Box::new(cn_id::ResidentIdRecognizer::new(
                config.report_failed_check_character,
            )?));
            recognizers.push(Box::new(cn_id::LegacyResidentIdRecognizer::new()?));
        }
        let prefilter = RegexSet::new(recognizers.iter().map(|r| r.pattern().as_str()))
            .map_err(|error| Error::Internal(format!("prefilter set failed to build: {error}")))?;
        Ok(Detector {
            config,
            prefilter,
            recognizers,
            context: ContextMatcher::new()?,
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Finds personal data in `text`, ordered by position, with no two findings overlapping.
    pub fn detect(&self, text: &str) -> Vec<PiiFinding> {
        self.detect_with(text, &Today::default())
    }

    pub(crate) fn detect_with(&self, text: &str, today: &Today) -> Vec<PiiFinding> {
        let matched = self.prefilter.matches(text);
        if !matched.matched_any() {
            return Vec::new();
        }
        let mut candidates = Vec::new();
        for index in matched.iter() {
            let recognizer = &self.recognizers[index];
            let spans =
                boundary::whole_token_matches(recognizer.pattern(), text, recognizer.token_rule());
            for span in spans {
                let Some(tier) = recognizer.validate(&text[span.clone()], today) else {
                    continue;
                };
                let has_context = self.has_context(text, &span, recognizer.kind());
                let tier = if has_context && tier == ConfidenceTier::Validated {
                    ConfidenceTier::ValidatedWithContext
                } else {
                    tier
                };
                if tier < self.config.min_tier {
                    continue;
                }
                candidates.push(Candidate {
                    span,
                    kind: recognizer.kind(),
                    recognizer: recognizer.name(),
                    tier,
                    has_context,
                });
            }
        }
        to_findings(text, resolve_overlaps(candidates))
    }

    fn has_context(&self, text: &str, span: &Range<usize>, kind: PiiKind) -> bool {
        let window_chars = self.config.context_window_chars;
        if window_chars == 0 {
            return false;
        }
        let start = boundary::window_start(text, span.start, window_chars);
        self.context.has_keyword_for(text, start..span.start, kind)
    }
}

/// Keeps the strongest of overlapping candidates: higher tier first, then the longer span,
/// then the earlier start. Returns the kept candidates ordered by start.
fn resolve_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        b.tier
            .cmp(&a.tier)
            .then_with(|| b.span.len().cmp(&a.span.len()))
            .then_with(|| a.span.start.cmp(&b.span.start))
    });
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let overlaps = kept.iter().any(|other| {
            candidate.span.start < other.span.end && other.span.start < candidate.span.end
        });
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|candidate| candidate.span.start);
    kept
}

/// Adds character spans and scores. `candidates` must be ordered by start and disjoint.
fn to_findings(text: &str, candidates: Vec<Candidate>) -> Vec<PiiFinding> {
    let mut chars_before = 0;
    let mut counted_to = 0;
    let mut findings = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        chars_before += text[counted_to..candidate.span.start].chars().count();
        let char_len = text[candidate.span.clone()].chars().count();
        counted_to = candidate.span.start;
        let bonus = if candidate.has_context {
            CONTEXT_BONUS
        } else {
            0.0
        };
        findings.push(PiiFinding {
            kind: candidate.kind,
            recognizer: candidate.recognizer,
            char_span: chars_before..chars_before + char_len,
            byte_span: candidate.span,
            tier: candidate.tier,
            has_context: candidate.has_context,
            score: candidate.tier.base_score() + bonus,
        });
    }
    findings
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
        let findings = detector().detect("call +8613812345678 now");
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
