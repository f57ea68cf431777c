//! The detector: one prefilter pass, whole-token candidates, validators, context keywords and
//! overlap resolution.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use governance_core::{Error, Result};
use governance_llm::tagger::{EntityLabel, Tagger, TokenScore, token_scores_in};
use regex::{Regex, RegexSet, RegexSetBuilder};

use super::context::ContextMatcher;
use super::width::{ScannedText, to_ascii_width};
use super::{
    CONTEXT_BONUS, ConfidenceTier, DetectorConfig, FindingTokenScore, PiiFinding, PiiKind,
    Recognizer, Today, age, boundary, cn_id, credit_code, date, datetime, email, financial, gps,
    military, name_cues, network, nrp, passport, phone, plate, postal, ssn, tagged, tagged_names,
    title, web,
};

/// Cache capacity of the prefilter set's lazy DFA, in bytes.
const PREFILTER_DFA_CACHE_BYTES: usize = 64 << 20;

/// Characters that end a clause. The keyword of a recognizer that needs one must not be
/// separated from the candidate by any of them.
const CLAUSE_PUNCTUATION: &[char] = &[',', ';', '!', '?', '\n', '，', '。', '；', '！', '？', '、'];

/// A candidate that survived its recognizer's boundary check and validator.
#[derive(Debug)]
struct Candidate {
    span: Range<usize>,
    kind: PiiKind,
    recognizer: &'static str,
    tier: ConfidenceTier,
    has_context: bool,
    /// The model's score, for candidates from the token tagger.
    model_score: Option<f32>,
    /// The tagger's score of each token of the span, with byte ranges into the scanned
    /// text. Empty for candidates of other recognizers.
    token_scores: Vec<TokenScore>,
}

/// Name reported in [`PiiFinding::recognizer`] for findings of the token tagger.
pub const TAGGER_RECOGNIZER: &str = "token_tagger";

/// Name reported in [`PiiFinding::recognizer`] for honorifics and job titles.
const TITLE_RECOGNIZER: &str = "title";

/// Returns the kind of personal data a tagger label stands for, or `None` for labels this
/// version does not map.
fn kind_of_label(label: EntityLabel) -> Option<PiiKind> {
    match label {
        EntityLabel::Person => Some(PiiKind::Person),
        EntityLabel::Location => Some(PiiKind::StreetAddress),
        EntityLabel::Gpe => Some(PiiKind::Place),
        EntityLabel::Organization => Some(PiiKind::Organization),
        _ => None,
    }
}

/// The verdict of one recognizer on a whole value, used by column classification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ValueMatch {
    pub(crate) kind: PiiKind,
    pub(crate) tier: ConfidenceTier,
    /// Whether the recognizer reports free-text candidates only with a keyword.
    pub(crate) requires_context: bool,
}

/// Finds personal data in text. Build it once and share it: it is `Send + Sync` and
/// [`Detector::detect`] takes `&self`.
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    prefilter: RegexSet,
    recognizers: Vec<Box<dyn Recognizer>>,
    context: ContextMatcher,
    /// Each recognizer's pattern anchored at both ends, built on first use by
    /// [`Detector::match_whole_value`].
    anchored: OnceLock<Vec<Regex>>,
    /// Finds names, addresses, organisations and places, which no pattern can.
    tagger: Option<Arc<Tagger>>,
    /// The tagger's version, `tagger-` and the first 12 hex digits of its training data
    /// hash, shared by its findings.
    tagger_version: Option<String>,
    /// Finds honorifics and job titles, when [`PiiKind::Title`] is wanted.
    titles: Option<title::TitleFinder>,
    /// Finds persons' names after cue words, added to the tagger's spans.
    name_cues: name_cues::NameCues,
}

impl Detector {
    /// Builds a detector. Fails when `config.kinds` is empty or the new-energy plate letters
    /// are not upper-case letters other than I and O.
    pub fn new(config: DetectorConfig) -> Result<Self> {
        if config.kinds.is_empty() {
            let names: Vec<&str> = PiiKind::ALL.iter().map(|kind| kind.as_str()).collect();
            return Err(Error::config(
                "detector",
                format!("kinds is empty: list at least one of {}", names.join(", ")),
            ));
        }
        let recognizers = build_recognizers(&config)?;
        // The set's lazy DFA caches the states it builds. The default cache (a few MB) is
        // cleared over and over on CJK text with all recognizers in one set, and the search
        // then falls back to the much slower NFA simulation.
        let prefilter = RegexSetBuilder::new(recognizers.iter().map(|r| r.pattern().as_str()))
            .dfa_size_limit(PREFILTER_DFA_CACHE_BYTES)
            .build()
            .map_err(|error| Error::Internal(format!("prefilter set failed to build: {error}")))?;
        let titles = if config.kinds.contains(&PiiKind::Title) {
            Some(title::TitleFinder::new()?)
        } else {
            None
        };
        Ok(Detector {
            config,
            prefilter,
            recognizers,
            context: ContextMatcher::new()?,
            anchored: OnceLock::new(),
            tagger: None,
            tagger_version: None,
            titles,
            name_cues: name_cues::NameCues::new()?,
        })
    }

    /// Returns the detector with `tagger` finding persons, street addresses, organisations
    /// and places (the kinds of `config.kinds` among them). Its findings are pattern-only,
    /// scored by the model, and lose to overlapping validated findings.
    pub fn with_tagger(mut self, tagger: Arc<Tagger>) -> Self {
        let hash = &tagger.metadata().training.training_data_hash;
        let short: String = hash.chars().take(12).collect();
        self.tagger_version = Some(format!("tagger-{short}"));
        self.tagger = Some(tagger);
        self
    }

    /// Returns the tagger's version as written into its findings, `tagger-` and the first
    /// 12 hex digits of its training data hash, when a tagger is set.
    pub fn tagger_version(&self) -> Option<&str> {
        self.tagger_version.as_deref()
    }

    /// Returns the token tagger, when one is set.
    pub fn tagger(&self) -> Option<&Tagger> {
        self.tagger.as_deref()
    }

    /// Returns the configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Finds personal data in `text`, ordered by position, with no two findings overlapping.
    /// Runs in time linear in the length of the text.
    pub fn detect(&self, text: &str) -> Vec<PiiFinding> {
        self.detect_with(text, &Today::default())
    }

    pub(crate) fn detect_with(&self, text: &str, today: &Today) -> Vec<PiiFinding> {
        let scanned = ScannedText::new(text);
        let haystack = scanned.as_str();
        let matched = self.prefilter.matches(haystack);
        if !matched.matched_any() && self.tagger.is_none() && self.titles.is_none() {
            return Vec::new();
        }
        let mut candidates = self.tagger_candidates(haystack);
        candidates.extend(self.title_candidates(haystack));
        for index in matched.iter() {
            let recognizer = &self.recognizers[index];
            let spans = boundary::whole_token_matches(
                recognizer.pattern(),
                haystack,
                recognizer.token_rule(),
            );
            for (position, matched_span) in spans.iter().enumerate() {
                let candidate = &haystack[matched_span.clone()];
                let Some(tier) = recognizer.validate(candidate, today) else {
                    continue;
                };
                let value = recognizer.value_range(candidate);
                let span = &(matched_span.start + value.start..matched_span.start + value.end);
                let has_context = if recognizer.requires_context() {
                    let previous_end = position
                        .checked_sub(1)
                        .and_then(|p| spans.get(p))
                        .map_or(0, |s| s.end);
                    let next_start = spans.get(position + 1).map_or(haystack.len(), |s| s.start);
                    let has_context = self.has_clause_context(
                        haystack,
                        span,
                        previous_end..next_start,
                        recognizer.kind(),
                    );
                    if !has_context {
                        continue;
                    }
                    has_context
                } else {
                    self.has_context(haystack, span, recognizer.kind())
                };
                let tier = if has_context && tier == ConfidenceTier::Validated {
                    ConfidenceTier::ValidatedWithContext
                } else {
                    tier
                };
                if tier < self.config.min_tier {
                    continue;
                }
                candidates.push(Candidate {
                    span: span.clone(),
                    kind: recognizer.kind(),
                    recognizer: recognizer.name(),
                    tier,
                    has_context,
                    model_score: None,
                    token_scores: Vec::new(),
                });
            }
        }
        absorb_postal_codes(haystack, &mut candidates);
        to_findings(
            &scanned,
            resolve_overlaps(candidates),
            self.tagger_version.as_deref(),
        )
    }

    /// Runs the token tagger, when one is set, on the scanned text (full-width forms already
    /// read as ASCII, so its spans share the recognizers' coordinates).
    fn tagger_candidates(&self, haystack: &str) -> Vec<Candidate> {
        let Some(tagger) = &self.tagger else {
            return Vec::new();
        };
        if self.config.min_tier > ConfidenceTier::PatternOnly {
            return Vec::new();
        }
        let mut tagged_spans = tagger.tag(haystack);
        let scored = tagged::take_token_scores(&mut tagged_spans);
        let spans = tagged::refine(haystack, tagged_spans);
        let spans = self.name_cues.add_persons(haystack, spans);
        tagged_names::refine_names(haystack, spans)
            .into_iter()
            .filter_map(|span| {
                let kind = kind_of_label(span.label)?;
                self.config.kinds.contains(&kind).then_some(Candidate {
                    span: span.start..span.end,
                    kind,
                    recognizer: TAGGER_RECOGNIZER,
                    tier: ConfidenceTier::PatternOnly,
                    has_context: false,
                    model_score: Some(span.score),
                    token_scores: token_scores_in(haystack, span.range(), &scored),
                })
            })
            .collect()
    }

    /// Runs the title finder, when [`PiiKind::Title`] is wanted.
    fn title_candidates(&self, haystack: &str) -> Vec<Candidate> {
        let Some(titles) = &self.titles else {
            return Vec::new();
        };
        if self.config.min_tier > ConfidenceTier::PatternOnly {
            return Vec::new();
        }
        titles
            .find(haystack)
            .into_iter()
            .map(|span| Candidate {
                span,
                kind: PiiKind::Title,
                recognizer: TITLE_RECOGNIZER,
                tier: ConfidenceTier::PatternOnly,
                has_context: false,
                model_score: None,
                token_scores: Vec::new(),
            })
            .collect()
    }

    /// Returns the windows before and after `span` searched for keywords.
    fn windows(&self, text: &str, span: &Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
        let window_chars = self.config.context_window_chars;
        if window_chars == 0 {
            return None;
        }
        let start = boundary::window_start(text, span.start, window_chars);
        let end = boundary::window_end(text, span.end, window_chars);
        Some((start..span.start, span.end..end))
    }

    fn has_context(&self, text: &str, span: &Range<usize>, kind: PiiKind) -> bool {
        let Some((before, after)) = self.windows(text, span) else {
            return false;
        };
        self.context.has_keyword_for(text, before, kind)
            || self.context.has_keyword_for(text, after, kind)
    }

    /// Like `has_context`, with both windows cut at clause punctuation and at `neighbours`,
    /// the range between the previous and next candidates of the same recognizer.
    fn has_clause_context(
        &self,
        text: &str,
        span: &Range<usize>,
        neighbours: Range<usize>,
        kind: PiiKind,
    ) -> bool {
        let Some((before, after)) = self.windows(text, span) else {
            return false;
        };
        let mut start = before.start.max(neighbours.start).min(span.start);
        if let Some((offset, c)) = text[start..span.start]
            .char_indices()
            .rev()
            .find(|(_, c)| CLAUSE_PUNCTUATION.contains(c))
        {
            start += offset + c.len_utf8();
        }
        let mut end = after.end.min(neighbours.end).max(span.end);
        if let Some(offset) = text[span.end..end].find(CLAUSE_PUNCTUATION) {
            end = span.end + offset;
        }
        self.context.has_keyword_for(text, start..span.start, kind)
            || self.context.has_keyword_for(text, span.end..end, kind)
    }

    /// Runs every recognizer on `value` as a whole (full-width forms read as ASCII, outer
    /// whitespace ignored) and returns the verdicts of those whose pattern covers all of it
    /// and whose validator passes. Context keywords play no part.
    pub(crate) fn match_whole_value(&self, value: &str, today: &Today) -> Vec<ValueMatch> {
        let value = to_ascii_width(value);
        let value = value.trim();
        if value.is_empty() {
            return Vec::new();
        }
        let anchored = self.anchored.get_or_init(|| {
            self.recognizers
                .iter()
                .filter_map(|r| Regex::new(&format!(r"\A(?:{})\z", r.pattern().as_str())).ok())
                .collect()
        });
        if anchored.len() != self.recognizers.len() {
            tracing::error!("anchored recognizer patterns failed to build; this is a bug");
            return Vec::new();
        }
        self.recognizers
            .iter()
            .zip(anchored)
            .filter(|(_, pattern)| pattern.is_match(value))
            .filter_map(|(recognizer, _)| {
                let tier = recognizer.validate(value, today)?;
                Some(ValueMatch {
                    kind: recognizer.kind(),
                    tier,
                    requires_context: recognizer.requires_context(),
                })
            })
            .collect()
    }
}

/// Builds the recognizers of the configured kinds. Their order breaks ties in overlap
/// resolution: check-character identifiers come before the shapes they can be mistaken for.
fn build_recognizers(config: &DetectorConfig) -> Result<Vec<Box<dyn Recognizer>>> {
    let wants = |kind| config.kinds.contains(&kind);
    let report_failed = config.report_failed_check_character;
    let mut recognizers: Vec<Box<dyn Recognizer>> = Vec::new();
    if wants(PiiKind::Email) {
        recognizers.push(Box::new(email::EmailRecognizer::new()?));
    }
    if wants(PiiKind::Phone) {
        recognizers.push(Box::new(phone::MobileRecognizer::new()?));
        recognizers.push(Box::new(phone::FixedLineRecognizer::new()?));
        recognizers.push(Box::new(phone::InternationalRecognizer::new()?));
        recognizers.push(Box::new(phone::FormattedRecognizer::new()?));
    }
    if wants(PiiKind::ResidentId) {
        recognizers.push(Box::new(cn_id::ResidentIdRecognizer::new(report_failed)?));
        recognizers.push(Box::new(cn_id::LegacyResidentIdRecognizer::new()?));
    }
    if wants(PiiKind::SocialCreditCode) {
        recognizers.push(Box::new(credit_code::SocialCreditCodeRecognizer::new(
            report_failed,
        )?));
    }
    if wants(PiiKind::PaymentCard) {
        recognizers.push(Box::new(financial::CardRecognizer::new()?));
        recognizers.push(Box::new(financial::UnlistedCardRecognizer::new()?));
    }
    if wants(PiiKind::Iban) {
        recognizers.push(Box::new(financial::IbanRecognizer::new()?));
    }
    if wants(PiiKind::UsSsn) {
        recognizers.push(Box::new(ssn::SsnRecognizer::new(false)?));
        recognizers.push(Box::new(ssn::SsnRecognizer::new(true)?));
    }
    if wants(PiiKind::IpAddress) {
        recognizers.push(Box::new(network::Ipv4Recognizer::new()?));
        recognizers.push(Box::new(network::Ipv6Recognizer::new()?));
    }
    if wants(PiiKind::MacAddress) {
        recognizers.push(Box::new(network::MacRecognizer::new()?));
    }
    if wants(PiiKind::DateOfBirth) {
        recognizers.push(Box::new(date::BirthDateRecognizer::new()?));
    }
    if wants(PiiKind::LicencePlate) {
        recognizers.push(Box::new(plate::PlateRecognizer::new(
            &config.new_energy_plate_letters,
        )?));
    }
    if wants(PiiKind::GpsCoordinate) {
        recognizers.push(Box::new(gps::GpsRecognizer::new()?));
    }
    if wants(PiiKind::Passport) {
        recognizers.push(Box::new(passport::PassportRecognizer::new(true)?));
        recognizers.push(Box::new(passport::PassportRecognizer::new(false)?));
    }
    if wants(PiiKind::Url) {
        recognizers.push(Box::new(web::UrlRecognizer::new()?));
    }
    if wants(PiiKind::Domain) {
        recognizers.push(Box::new(web::DomainRecognizer::new()?));
    }
    if wants(PiiKind::DateTime) {
        recognizers.push(Box::new(datetime::DateTimeRecognizer::new()?));
    }
    if wants(PiiKind::Age) {
        recognizers.push(Box::new(age::AgeRecognizer::new()?));
    }
    if wants(PiiKind::StreetAddress) {
        recognizers.push(Box::new(military::MilitaryAddressRecognizer::new()?));
    }
    if wants(PiiKind::PostalCode) {
        recognizers.push(Box::new(postal::PostalCodeRecognizer::new()?));
    }
    if wants(PiiKind::Nrp) {
        recognizers.push(Box::new(nrp::NrpRecognizer::new()?));
    }
    Ok(recognizers)
}

/// Extends each tagger address that a postal code follows (see [`tagged::joins_address`])
/// over the code, and drops the code's own candidate.
fn absorb_postal_codes(text: &str, candidates: &mut Vec<Candidate>) {
    let postal: Vec<usize> = (0..candidates.len())
        .filter(|&index| candidates[index].kind == PiiKind::PostalCode)
        .collect();
    let mut absorbed = Vec::new();
    for index in postal {
        let code = candidates[index].span.clone();
        let address = candidates
            .iter()
            .enumerate()
            .filter(|(_, candidate)| {
                candidate.recognizer == TAGGER_RECOGNIZER
                    && candidate.kind == PiiKind::StreetAddress
                    && candidate.span.end <= code.start
            })
            .max_by_key(|(_, candidate)| candidate.span.end)
            .map(|(position, candidate)| (position, candidate.span.end));
        if let Some((position, end)) = address
            && text.get(end..code.start).is_some_and(tagged::joins_address)
        {
            // The code and the gap before it are rule-added tokens of the address.
            let added = token_scores_in(text, end..code.end, &[]);
            candidates[position].token_scores.extend(added);
            candidates[position].span.end = code.end;
            absorbed.push(index);
        }
    }
    for index in absorbed.into_iter().rev() {
        candidates.remove(index);
    }
}

/// Keeps the strongest of overlapping candidates: higher tier first, then the longer span,
/// then the earlier start, then the recognizer built first. Returns the kept candidates
/// ordered by start.
fn resolve_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    // The sort is stable, so candidates equal in the keys keep the recognizer order.
    candidates.sort_by(|a, b| {
        b.tier
            .cmp(&a.tier)
            .then_with(|| b.span.len().cmp(&a.span.len()))
            .then_with(|| a.span.start.cmp(&b.span.start))
    });
    // Kept spans are disjoint, keyed by start. A new span overlaps one of them exactly when
    // the kept span with the greatest start before the new span's end reaches past its start.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let overlaps = taken
            .range(..candidate.span.end)
            .next_back()
            .is_some_and(|(_, end)| *end > candidate.span.start);
        if !overlaps {
            taken.insert(candidate.span.start, candidate.span.end);
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|candidate| candidate.span.start);
    kept
}

/// Adds character spans and scores and maps byte spans back to the original text.
/// `candidates` must be ordered by start and disjoint. Character positions are the same in
/// the scanned and the original text, so they are counted on the scanned one.
/// `tagger_version` goes into the findings of the token tagger.
fn to_findings(
    scanned: &ScannedText<'_>,
    candidates: Vec<Candidate>,
    tagger_version: Option<&str>,
) -> Vec<PiiFinding> {
    let text = scanned.as_str();
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
        let token_scores = char_token_scores(text, &candidate, chars_before);
        let model_version = if candidate.recognizer == TAGGER_RECOGNIZER {
            tagger_version.map(str::to_string)
        } else {
            None
        };
        findings.push(PiiFinding {
            kind: candidate.kind,
            recognizer: candidate.recognizer,
            char_span: chars_before..chars_before + char_len,
            byte_span: scanned.original_span(candidate.span),
            tier: candidate.tier,
            has_context: candidate.has_context,
            score: candidate
                .model_score
                .unwrap_or_else(|| candidate.tier.base_score() + bonus),
            token_scores,
            model_version,
        });
    }
    findings
}

/// Returns the candidate's token scores with character ranges into the text, given that
/// `chars_before` characters precede the candidate. Tokens are ordered and inside the span.
fn char_token_scores(
    text: &str,
    candidate: &Candidate,
    chars_before: usize,
) -> Vec<FindingTokenScore> {
    let mut position = chars_before;
    let mut counted_to = candidate.span.start;
    let mut scores = Vec::with_capacity(candidate.token_scores.len());
    for token in &candidate.token_scores {
        let (Some(gap), Some(piece)) = (text.get(counted_to..token.start), text.get(token.range()))
        else {
            tracing::error!(
                start = token.start,
                end = token.end,
                "token score range is not on character boundaries; dropping the token scores"
            );
            return Vec::new();
        };
        position += gap.chars().count();
        let length = piece.chars().count();
        scores.push(FindingTokenScore {
            char_span: position..position + length,
            score: token.score,
        });
        position += length;
        counted_to = token.end;
    }
    scores
}
