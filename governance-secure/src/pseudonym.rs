//! Keyed deterministic pseudonyms: HMAC-SHA256 under a caller's key over a normalised value.
//!
//! The same value gives the same pseudonym in every department that holds the same key, even
//! when the departments write it differently, so masked tables still join. Without the key
//! nobody can compute a pseudonym for a guessed value, which a plain hash would allow for
//! phone numbers and ids, whose value spaces are small enough to enumerate.
//!
//! The token is the kind, an underscore and the first 12 bytes (96 bits) of
//! `HMAC-SHA256(key, "governance/pseudonym/v1" || 0 || kind || 0 || normalised value)` as 24
//! hex digits, such as `phone_5c0f4a1b2e3d4c5b6a798887`. Putting the kind in the message
//! separates the domains: an e-mail address and a name spelled the same get different
//! tokens. With 96 bits the chance that two of a billion distinct values share a token is
//! below 10^-10.
//!
//! # Normalisation
//!
//! [`normalize`] maps the ways a value is commonly written to one form before hashing:
//!
//! | kind | normalisation |
//! |---|---|
//! | all | full-width forms (U+FF01 to U+FF5E) to ASCII, the ideographic space to a space, zero-width characters removed, surrounding whitespace trimmed |
//! | e-mail | lower-cased as a whole; dots and `+tags` are kept because only some providers ignore them |
//! | phone | digits only; a `+86`, `0086` or bare `86` country code before a mainland mobile number is removed; a mainland fixed line written after `+86` gets its trunk `0` back; other international numbers become `+` and their digits (E.164) |
//! | resident id | spaces and hyphens removed, a lower-case check character `x` upper-cased |
//! | other kinds | runs of whitespace collapsed to one space, lower-cased |
//!
//! ```
//! use governance_secure::keys::SecretKey;
//! use governance_secure::pseudonym::Pseudonymizer;
//! use governance_secure::PiiKind;
//!
//! let pseudonyms = Pseudonymizer::new(&SecretKey::from_bytes(&[9u8; 32])?);
//! let a = pseudonyms.token(PiiKind::Phone, "+86 138-1234-5678")?;
//! let b = pseudonyms.token(PiiKind::Phone, "１３８１２３４５６７８")?;
//! assert_eq!(a, b);
//! assert!(a.starts_with("phone_"));
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::fmt;

use governance_core::{Error, Result};
use zeroize::Zeroizing;

use crate::detect::PiiKind;
use crate::keys::{SecretKey, hmac_sha256};

/// Number of HMAC bytes kept in a token.
const TOKEN_BYTES: usize = 12;

/// Computes keyed pseudonyms. Holds a subkey derived from the caller's key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Zeroizing<[u8; 32]>,
    key_id: String,
}

impl Pseudonymizer {
    /// Creates a pseudonymizer under `key`. Departments that must join their tables use the
    /// same key.
    pub fn new(key: &SecretKey) -> Self {
        Pseudonymizer {
            key: key.derive("pseudonym/v1"),
            key_id: key.key_id(),
        }
    }

    /// Returns the id of the key, see [`SecretKey::key_id`].
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Returns the pseudonym of `value`, read as a value of `kind`.
    ///
    /// Fails when nothing is left of the value after normalisation (a phone number without
    /// digits, an empty text), because all such values would share one pseudonym and join
    /// unrelated records. The error names the kind, never the value.
    pub fn token(&self, kind: PiiKind, value: &str) -> Result<String> {
        let normalised = Zeroizing::new(normalize(kind, value));
        if normalised.is_empty() {
            return Err(Error::InvalidInput(format!(
                "a {kind} value of {} characters is empty after normalisation, so it has no \
                 pseudonym; suppress or redact it instead",
                value.chars().count()
            )));
        }
        let tag = hmac_sha256(
            self.key.as_slice(),
            &[
                b"governance/pseudonym/v1\0",
                kind.as_str().as_bytes(),
                b"\0",
                normalised.as_bytes(),
            ],
        );
        Ok(format!("{kind}_{}", hex::encode(&tag[..TOKEN_BYTES])))
    }
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Returns the form of `value` that is hashed into a pseudonym of `kind`; see the module
/// docs for the rules.
pub fn normalize(kind: PiiKind, value: &str) -> String {
    let folded = fold_width(value);
    let trimmed = folded.trim();
    match kind {
        PiiKind::Email => trimmed.to_lowercase(),
        PiiKind::Phone => normalize_phone(trimmed),
        PiiKind::ResidentId => trimmed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        #[allow(
            unreachable_patterns,
            reason = "recognizers add kinds to PiiKind over time"
        )]
        _ => trimmed
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    }
}

/// Maps full-width ASCII forms to ASCII and the ideographic space to a space, and removes
/// zero-width characters, which input methods and copied web text leave behind.
pub(crate) fn fold_width(value: &str) -> String {
    value
        .chars()
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'))
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn normalize_phone(trimmed: &str) -> String {
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    match international {
        Some(rest) => match rest.strip_prefix("86") {
            Some(national) => mainland_national(national),
            None => format!("+{rest}"),
        },
        None => match digits.strip_prefix("86") {
            Some(national) if is_mainland_mobile(national) => national.to_string(),
            _ => digits,
        },
    }
}

/// Writes a mainland number as dialled at home: mobiles as they are, fixed lines with the
/// trunk prefix `0` that the international form drops.
fn mainland_national(national: &str) -> String {
    if is_mainland_mobile(national) || national.starts_with('0') || national.is_empty() {
        national.to_string()
    } else {
        format!("0{national}")
    }
}

/// Mainland mobile numbers have 11 digits and start with 13 to 19.
fn is_mainland_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_forms_normalise_alike() {
        for written in [
            "13812345678",
            "138-1234-5678",
            "138 1234 5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "008613812345678",
            "8613812345678",
            "１３８１２３４５６７８",
            " 138\u{200B}12345678 ",
        ] {
            assert_eq!(
                normalize(PiiKind::Phone, written),
                "13812345678",
                "{written}"
            );
        }
    }

    #[test]
    fn fixed_line_gets_trunk_prefix() {
        assert_eq!(normalize(PiiKind::Phone, "+86 10 1234 5678"), "01012345678");
        assert_eq!(normalize(PiiKind::Phone, "010-12345678"), "01012345678");
    }

    #[test]
    fn foreign_number_becomes_e164() {
        assert_eq!(
            normalize(PiiKind::Phone, "+44 7911 123456"),
            "+447911123456"
        );
        assert_eq!(
            normalize(PiiKind::Phone, "0044 7911 123456"),
            "+447911123456"
        );
    }

    #[test]
    fn email_and_id_normalise() {
        assert_eq!(
            normalize(PiiKind::Email, " Zhang.Wei@Example.COM "),
            "zhang.wei@example.com"
        );
        assert_eq!(
            normalize(PiiKind::Email, "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            "zhang@example.com"
        );
        assert_eq!(
            normalize(PiiKind::ResidentId, "110105 19491231 002x"),
            "11010519491231002X"
        );
    }

    #[test]
    fn empty_value_has_no_pseudonym() {
        let pseudonyms = Pseudonymizer::new(&SecretKey::from_bytes(&[3u8; 32]).expect("valid key"));
        let error = pseudonyms
            .token(PiiKind::Phone, "n/a")
            .expect_err("no digits");
        assert!(
            error.to_string().contains("empty after normalisation"),
            "{error}"
        );
    }
}
