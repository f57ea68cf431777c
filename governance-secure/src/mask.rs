//! Masking of detected personal data in text.
//!
//! Three keyless operators, chosen per [`PiiKind`], are shown below. The keyed operators
//! (pseudonym, format-preserving token, encryption) and suppression of whole cells are
//! applied by a [`crate::masker::Masker`], which keeps the keys.
//!
//! | operator | phone `13812345678` | e-mail `zhang.wei@example.com` | resident id `11010519491231002X` |
//! |---|---|---|---|
//! | [`MaskOperator::Redact`] | (removed) | (removed) | (removed) |
//! | [`MaskOperator::TypeTag`] | `<PHONE>` | `<EMAIL>` | `<RESIDENT_ID>` |
//! | [`MaskOperator::Partial`] | `138****5678` | `z***@example.com` | `110105********002X` |
//!
//! Partial masks of the other kinds:
//!
//! | kind | value | partial mask |
//! |---|---|---|
//! | payment card | `4111 1111 1111 1111` | `**** **** **** 1111` |
//! | IBAN | `DE89 3704 0044 0532 0130 00` | `DE****************3000` |
//! | IP address | `192.168.1.10:8080`, `2001:db8::1` | `192.168.*.*`, `2001:db8:*` |
//! | MAC address | `00:1A:2B:3C:4D:5E` | `00:1A:2B:**:**:**` |
//! | URL | `https://example.com/u/42` | `https://***` |
//! | domain | `zhangwei.example.com` | `***.com` |
//! | US SSN | `123-45-6789` | `***-**-6789` |
//! | date of birth | `1990-01-31`, `1990年1月31日` | `1990-**-**`, `1990年*月**日` |
//! | social credit code | `91350100M000100Y43` | `91350100**********` |
//! | licence plate | `粤B·D12345` | `粤B******` |
//! | passport | `E12345678` | `E******78` |
//! | GPS coordinate | `39.9042, 116.4074` | `39.****, 116.****` |
//! | person | `Jane Smith`, `张伟` | `J*** S****`, `张*` |
//! | street address, organisation, place | `12 Elm St` | `<ADDRESS>` (no partial form) |
//!
//! Partial masks read full-width digits and letters as ASCII, so `１３８１２３４５６７８`
//! becomes `138****5678`.
//!
//! ```
//! use governance_secure::detect::{Detector, DetectorConfig};
//! use governance_secure::mask::{MaskConfig, mask_text};
//!
//! let text = "电话13812345678，邮箱zhang.wei@example.com";
//! let findings = Detector::new(DetectorConfig::default())?.detect(text);
//! let masked = mask_text(text, &findings, &MaskConfig::default());
//! assert_eq!(masked, "电话138****5678，邮箱z***@example.com");
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::detect::width::to_ascii_width;
use crate::detect::{PiiFinding, PiiKind};

mod partial;

/// Replacement rule for one piece of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskOperator {
    /// Removes the value.
    Redact,
    /// Replaces the value with its kind in angle brackets, such as `<PHONE>`.
    TypeTag,
    /// Keeps a few characters that help people tell values apart and stars the rest. Phones
    /// keep the first 3 and last 4 digits (and a `+86` or `0086` prefix), e-mail addresses
    /// keep the first character of the local part and the domain, resident ids keep the
    /// first 6 and last 4 characters.
    #[default]
    Partial,
    /// Replaces the value with a keyed pseudonym (HMAC-SHA256), equal for equal values under
    /// one key, so masked tables still join. Needs a [`crate::masker::Masker`] with a
    /// pseudonym key; [`mask_value`] has no key and writes the type tag instead.
    Pseudonym,
    /// Replaces the value with a format-preserving token (FF1) that keeps its length and
    /// character classes. Needs a [`crate::masker::Masker`] with a format-preserving key;
    /// [`mask_value`] writes the type tag instead.
    FormatPreserving,
    /// Replaces the value with an AES-256-GCM token that the key holder can re-identify
    /// under audit. Needs a [`crate::masker::Masker`] with an encryption key; [`mask_value`]
    /// writes the type tag instead.
    Encrypt,
    /// Withholds the whole cell: a [`crate::masker::Masker`] turns a text with such a value
    /// into null. [`mask_value`] and [`mask_text`] cannot return null and remove the value,
    /// as [`MaskOperator::Redact`] does.
    Suppress,
}

impl MaskOperator {
    /// Returns the snake_case name used in configs and issues.
    pub fn as_str(self) -> &'static str {
        match self {
            MaskOperator::Redact => "redact",
            MaskOperator::TypeTag => "type_tag",
            MaskOperator::Partial => "partial",
            MaskOperator::Pseudonym => "pseudonym",
            MaskOperator::FormatPreserving => "format_preserving",
            MaskOperator::Encrypt => "encrypt",
            MaskOperator::Suppress => "suppress",
        }
    }

    /// Returns true for the operators that need a key held by a [`crate::masker::Masker`].
    pub fn is_keyed(self) -> bool {
        matches!(
            self,
            MaskOperator::Pseudonym | MaskOperator::FormatPreserving | MaskOperator::Encrypt
        )
    }
}

/// Masking operators by kind of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaskConfig {
    /// Operator for kinds not listed in `per_kind`. Default: partial.
    pub default: MaskOperator,
    /// Operators for single kinds, such as `{"resident_id": "type_tag"}`.
    pub per_kind: BTreeMap<PiiKind, MaskOperator>,
}

impl MaskConfig {
    /// Creates a config that masks every kind with `operator`.
    pub fn all(operator: MaskOperator) -> Self {
        MaskConfig {
            default: operator,
            per_kind: BTreeMap::new(),
        }
    }

    /// Returns the config with `kind` masked by `operator`.
    pub fn with(mut self, kind: PiiKind, operator: MaskOperator) -> Self {
        self.per_kind.insert(kind, operator);
        self
    }

    /// Returns the operator for `kind`.
    pub fn operator(&self, kind: PiiKind) -> MaskOperator {
        self.per_kind.get(&kind).copied().unwrap_or(self.default)
    }
}

/// Masks one value of `kind` with `operator`.
///
/// The partial forms are meant for the values the detector reports. Other input is masked
/// at least as strictly. A phone with fewer than 8 digits and a resident id shorter than 11
/// characters are starred completely. Text without `@` masked as an e-mail becomes `***`.
///
/// The keyed operators need a [`crate::masker::Masker`]; here they write the type tag, so a
/// missing key never leaves a value in clear.
pub fn mask_value(kind: PiiKind, value: &str, operator: MaskOperator) -> String {
    match operator {
        MaskOperator::Redact | MaskOperator::Suppress => String::new(),
        MaskOperator::TypeTag
        | MaskOperator::Pseudonym
        | MaskOperator::FormatPreserving
        | MaskOperator::Encrypt => format!("<{}>", kind.tag()),
        MaskOperator::Partial => {
            let value = &*to_ascii_width(value);
            match kind {
                PiiKind::Phone => partial_phone(value),
                PiiKind::Email => partial_email(value),
                PiiKind::ResidentId => partial_resident_id(value),
                PiiKind::PaymentCard => partial::keep_last_digits(value, 4),
                PiiKind::UsSsn => partial::keep_last_digits(value, 4),
                PiiKind::Iban => partial::iban(value),
                PiiKind::IpAddress => partial::ip_address(value),
                PiiKind::MacAddress => partial::mac_address(value),
                PiiKind::Url => partial::url(value),
                PiiKind::Domain => partial::domain(value),
                PiiKind::DateOfBirth => partial::date_of_birth(value),
                PiiKind::SocialCreditCode => partial::keep_prefix(value, 8),
                PiiKind::LicencePlate => partial::keep_prefix(value, 2),
                PiiKind::Passport => partial::passport(value),
                PiiKind::GpsCoordinate => partial::coordinates(value),
                PiiKind::Person => partial::name(value),
                // An address, organisation, place, age, date, postal code, group or title
                // has no part that is safe to keep and still distinguishes values, so it
                // gets the type tag.
                PiiKind::StreetAddress
                | PiiKind::Organization
                | PiiKind::Place
                | PiiKind::Age
                | PiiKind::DateTime
                | PiiKind::PostalCode
                | PiiKind::Nrp
                | PiiKind::Title => {
                    format!("<{}>", kind.tag())
                }
            }
        }
    }
}

/// Stars all digits but the first 3 and the last 4 and drops separators. A leading
/// `+86` or `0086` with its separator is kept as written, and a leading `+` of another
/// country code is kept.
fn partial_phone(value: &str) -> String {
    let (prefix, national) = split_phone_prefix(value);
    let digits: Vec<char> = national.chars().filter(char::is_ascii_digit).collect();
    let mut masked = prefix.to_string();
    if digits.len() < 8 {
        masked.extend(std::iter::repeat_n('*', digits.len()));
        return masked;
    }
    masked.extend(&digits[..3]);
    masked.extend(std::iter::repeat_n('*', digits.len() - 7));
    masked.extend(&digits[digits.len() - 4..]);
    masked
}

/// Splits a phone number into the country prefix kept by the partial mask and the rest.
fn split_phone_prefix(value: &str) -> (&str, &str) {
    for prefix in ["+86", "0086"] {
        if let Some(rest) = value.strip_prefix(prefix) {
            let separator = rest
                .chars()
                .next()
                .filter(|c| *c == ' ' || *c == '-')
                .map_or(0, char::len_utf8);
            return value.split_at(prefix.len() + separator);
        }
    }
    if value.starts_with('+') {
        return value.split_at(1);
    }
    ("", value)
}

/// Keeps the first character of the local part and the domain: `z***@example.com`. The
/// number of stars is fixed, so the mask does not reveal the local part's length.
fn partial_email(value: &str) -> String {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return "***".to_string();
    };
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

/// Keeps the first 6 and the last 4 characters: `110105********002X`.
fn partial_resident_id(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let mut masked: String = chars[..6].iter().collect();
    masked.extend(std::iter::repeat_n('*', chars.len() - 10));
    masked.extend(&chars[chars.len() - 4..]);
    masked
}

/// Returns `text` with every finding replaced by the operator `config` sets for its kind, working from the end of the
/// text so that the spans of earlier findings stay valid.
///
/// Spans are taken from [`PiiFinding::byte_span`]. A span that is not on character
/// boundaries is widened to the enclosing boundaries and one that runs past the end is cut
/// there, so a bad span masks more, never less. Findings that overlap (the detector never
/// returns such) are merged into one span masked as the kind of the longest of them.
pub fn mask_text(text: &str, findings: &[PiiFinding], config: &MaskConfig) -> String {
    let mut masked = text.to_string();
    for (span, kind) in merged_spans(text, findings).into_iter().rev() {
        let replacement = mask_value(kind, &text[span.clone()], config.operator(kind));
        masked.replace_range(span, &replacement);
    }
    masked
}

/// Returns the spans of `findings` in `text` in order, widened to character boundaries, cut
/// at the end of the text and with overlapping spans merged into one of the kind of the
/// longest, as [`mask_text`] describes.
pub(crate) fn merged_spans(text: &str, findings: &[PiiFinding]) -> Vec<(Range<usize>, PiiKind)> {
    let mut spans: Vec<(Range<usize>, PiiKind)> = findings
        .iter()
        .filter_map(|finding| {
            let span = widen_to_char_boundaries(text, &finding.byte_span)?;
            Some((span, finding.kind))
        })
        .collect();
    spans.sort_by_key(|(span, _)| span.start);

    let mut merged: Vec<(Range<usize>, PiiKind, usize)> = Vec::with_capacity(spans.len());
    for (span, kind) in spans {
        match merged.last_mut() {
            Some((last, last_kind, longest)) if span.start < last.end => {
                if span.len() > *longest {
                    *longest = span.len();
                    *last_kind = kind;
                }
                last.end = last.end.max(span.end);
            }
            _ => {
                let len = span.len();
                merged.push((span, kind, len));
            }
        }
    }

    merged
        .into_iter()
        .map(|(span, kind, _)| (span, kind))
        .collect()
}

/// Widens `span` to character boundaries within `text`. Returns `None` when the span is
/// empty or starts past the end.
fn widen_to_char_boundaries(text: &str, span: &Range<usize>) -> Option<Range<usize>> {
    let mut start = span.start.min(text.len());
    let mut end = span.end.min(text.len());
    if start >= end {
        return None;
    }
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start != span.start || end != span.end {
        tracing::warn!(
            ?span,
            start,
            end,
            "finding span is not on character boundaries of the text; masking the widened span"
        );
    }
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ConfidenceTier;

    fn finding(kind: PiiKind, byte_span: Range<usize>) -> PiiFinding {
        PiiFinding {
            kind,
            recognizer: "test",
            char_span: byte_span.clone(),
            byte_span,
            tier: ConfidenceTier::Validated,
            has_context: false,
            score: 0.85,
            token_scores: Vec::new(),
            model_version: None,
        }
    }

    #[test]
    fn partial_formats() {
        let partial = MaskOperator::Partial;
        assert_eq!(
            mask_value(PiiKind::Phone, "13812345678", partial),
            "138****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "138-1234-5678", partial),
            "138****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "138 1234 5678", partial),
            "138****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "+86 13812345678", partial),
            "+86 138****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "008613812345678", partial),
            "0086138****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "010-12345678", partial),
            "010****5678"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "+447911123456", partial),
            "+447*****3456"
        );
        assert_eq!(
            mask_value(PiiKind::Email, "zhang.wei@example.com", partial),
            "z***@example.com"
        );
        assert_eq!(
            mask_value(PiiKind::ResidentId, "11010519491231002X", partial),
            "110105********002X"
        );
        assert_eq!(
            mask_value(PiiKind::ResidentId, "110105491231002", partial),
            "110105*****1002"
        );
    }

    #[test]
    fn partial_hides_short_input_completely() {
        let partial = MaskOperator::Partial;
        assert_eq!(mask_value(PiiKind::Phone, "1234567", partial), "*******");
        assert_eq!(mask_value(PiiKind::ResidentId, "1101", partial), "****");
        assert_eq!(mask_value(PiiKind::Email, "no-at-sign", partial), "***");
    }

    #[test]
    fn type_tag_and_redact() {
        assert_eq!(
            mask_value(PiiKind::Phone, "13812345678", MaskOperator::TypeTag),
            "<PHONE>"
        );
        assert_eq!(
            mask_value(PiiKind::Email, "a@b.cn", MaskOperator::TypeTag),
            "<EMAIL>"
        );
        assert_eq!(
            mask_value(
                PiiKind::ResidentId,
                "11010519491231002X",
                MaskOperator::TypeTag
            ),
            "<RESIDENT_ID>"
        );
        assert_eq!(
            mask_value(PiiKind::Phone, "13812345678", MaskOperator::Redact),
            ""
        );
    }

    #[test]
    fn config_picks_operator_per_kind() {
        let config = MaskConfig::default().with(PiiKind::Email, MaskOperator::TypeTag);
        assert_eq!(config.operator(PiiKind::Email), MaskOperator::TypeTag);
        assert_eq!(config.operator(PiiKind::Phone), MaskOperator::Partial);
    }

    #[test]
    fn config_reads_from_json() {
        let config: MaskConfig =
            serde_json::from_str(r#"{"default":"redact","per_kind":{"phone":"type_tag"}}"#)
                .expect("valid config");
        assert_eq!(config.operator(PiiKind::Phone), MaskOperator::TypeTag);
        assert_eq!(config.operator(PiiKind::ResidentId), MaskOperator::Redact);
        let error = serde_json::from_str::<MaskConfig>(r#"{"operator":"redact"}"#)
            .expect_err("unknown field");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }

    #[test]
    fn spans_are_replaced_from_the_end() {
        let text = "a 13812345678 b 13912345678 c";
        let findings = [
            finding(PiiKind::Phone, 2..13),
            finding(PiiKind::Phone, 16..27),
        ];
        let masked = mask_text(text, &findings, &MaskConfig::all(MaskOperator::TypeTag));
        assert_eq!(masked, "a <PHONE> b <PHONE> c");
    }

    #[test]
    fn span_inside_a_character_is_widened() {
        // Byte 1 is inside 电 (3 bytes), so the widened span covers 电 and the digits.
        let text = "电13812345678";
        let masked = mask_text(
            text,
            &[finding(PiiKind::Phone, 1..text.len())],
            &MaskConfig::all(MaskOperator::TypeTag),
        );
        assert_eq!(masked, "<PHONE>");
    }

    #[test]
    fn overlapping_findings_are_merged() {
        let text = "x 13812345678 y";
        let findings = [
            finding(PiiKind::Phone, 2..13),
            finding(PiiKind::ResidentId, 4..8),
        ];
        let masked = mask_text(text, &findings, &MaskConfig::all(MaskOperator::TypeTag));
        assert_eq!(masked, "x <PHONE> y");
    }

    #[test]
    fn span_past_the_end_is_cut() {
        let text = "x 13812345678";
        let masked = mask_text(
            text,
            &[finding(PiiKind::Phone, 2..40)],
            &MaskConfig::all(MaskOperator::TypeTag),
        );
        assert_eq!(masked, "x <PHONE>");
    }
}
