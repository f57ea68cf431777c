//! Format-preserving tokens: FF1 (NIST SP 800-38G) with AES-256, from the `fpe` crate.
//!
//! A token has the length of the value, a digit where the value has a digit, a letter of the
//! same case where it has a letter, and every other character in place. It is deterministic
//! under one key, so tokens join like pseudonyms, and the key holder can decrypt it.
//!
//! | kind | kept as written | encrypted |
//! |---|---|---|
//! | phone | separators, a `+86`/`0086` country code, the first [`FpeConfig::phone_keep_digits`] digits after it (default 1: the mobile `1` or the fixed-line `0`) | the other digits |
//! | resident id | the first [`FpeConfig::resident_id_keep_digits`] digits (default 0) | the other of the first 17 digits, see below for the check character |
//! | e-mail | the domain and the punctuation of the local part | the digits and letters of the local part, as for ids |
//! | other ids | punctuation; letters when there are fewer than 5 of them | digits; letters when there are at least 5 |
//!
//! FF1 needs at least a million possible inputs, so a token needs at least 6 encrypted
//! digits or 5 encrypted letters. Shorter values are rejected with an error.
//!
//! Digits and letters are encrypted in two rounds that bind them together: the letters
//! under a tweak that contains the clear digits, then the digits under a tweak that
//! contains the encrypted letters. Decryption runs the rounds backwards.
//!
//! # Resident id check character
//!
//! A token never carries a valid check character: its check character is the valid one for
//! the token's 17 digits moved one place on in the check alphabet `10X98765432`'s order of
//! remainders. A token that passed the check would be reported as a real, validated id by
//! the detectors, and no reader could tell it from one. Only ids with a valid check
//! character (or legacy 15-digit ids, which have none) get tokens, so decryption restores
//! the check character from the decrypted digits.
//!
//! ```
//! use governance_secure::fpe::{FpeConfig, FpeTokenizer};
//! use governance_secure::keys::SecretKey;
//! use governance_secure::PiiKind;
//!
//! let tokens = FpeTokenizer::new(&SecretKey::from_bytes(&[5u8; 32])?, FpeConfig::default())?;
//! let token = tokens.encrypt(PiiKind::Phone, "138-1234-5678")?;
//! assert_eq!(token.len(), 13);
//! assert!(token.starts_with('1'));
//! assert_eq!(&token[3..4], "-");
//! assert_eq!(tokens.decrypt(PiiKind::Phone, &token)?, "138-1234-5678");
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::fmt;

use aes::Aes256;
use fpe::ff1::{FF1, FlexibleNumeralString};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::detect::{PiiKind, resident_id_check_character};
use crate::keys::SecretKey;

/// Component name used in errors.
const COMPONENT: &str = "format-preserving token";

/// Maximum length, in characters, of a value that gets a token. Identifiers are far shorter,
/// so the limit only stops a wrong span from feeding a whole document to the cipher.
const MAX_VALUE_CHARS: usize = 256;

/// Minimum number of digits FF1 accepts with radix 10, because its minimum domain is 10^6.
const MIN_DIGITS: usize = 6;

/// Minimum number of letters FF1 accepts with radix 26: 26^5 is the first power above 10^6.
const MIN_LETTERS: usize = 5;

/// Check characters of resident ids, indexed by the weighted digit sum modulo 11.
const CHECK_CHARACTERS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Settings of the characters that a token keeps as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FpeConfig {
    /// Digits of a phone number, after any `+86`/`0086` country code, that are kept. The
    /// default 1 keeps the mobile `1` or the fixed-line `0`.
    pub phone_keep_digits: usize,
    /// Leading digits of a resident id that are kept. The default 0 encrypts the region
    /// code too; 6 would keep it, which reveals where the person registered.
    pub resident_id_keep_digits: usize,
}

impl Default for FpeConfig {
    fn default() -> Self {
        FpeConfig {
            phone_keep_digits: 1,
            resident_id_keep_digits: 0,
        }
    }
}

/// Encrypts and decrypts format-preserving tokens under a caller's key.
pub struct FpeTokenizer {
    digits: FF1<Aes256>,
    letters: FF1<Aes256>,
    config: FpeConfig,
    key_id: String,
}

impl fmt::Debug for FpeTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FpeTokenizer")
            .field("config", &self.config)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Direction of an FF1 call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

impl FpeTokenizer {
    /// Creates a tokenizer under `key`, which is expanded to an AES-256 subkey.
    pub fn new(key: &SecretKey, config: FpeConfig) -> Result<Self> {
        if config.resident_id_keep_digits > 17 - MIN_DIGITS {
            return Err(Error::config(
                COMPONENT,
                format!(
                    "resident_id_keep_digits is {} but at most {} digits can be kept, because \
                     FF1 needs {MIN_DIGITS} digits to encrypt",
                    config.resident_id_keep_digits,
                    17 - MIN_DIGITS
                ),
            ));
        }
        let subkey = key.derive("fpe-ff1-aes256/v1");
        let internal = |error: fpe::ff1::InvalidRadix| {
            Error::Internal(format!("FF1 rejected a fixed radix: {error}"))
        };
        Ok(FpeTokenizer {
            digits: FF1::new(subkey.as_slice(), 10).map_err(internal)?,
            letters: FF1::new(subkey.as_slice(), 26).map_err(internal)?,
            config,
            key_id: key.key_id(),
        })
    }

    /// Returns the id of the key, see [`SecretKey::key_id`].
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Returns the token of `value` read as a value of `kind`.
    ///
    /// Fails when the value is too short for FF1, too long, or (for a resident id) not an
    /// 18-character id with a valid check character or a 15-digit id. Errors name the kind
    /// and the lengths, never the value.
    pub fn encrypt(&self, kind: PiiKind, value: &str) -> Result<String> {
        self.apply(kind, value, Direction::Encrypt)
    }

    /// Returns the value that `encrypt` turned into `token`. The caller re-identifies with
    /// this, so it should write an audit record as [`crate::encrypt::Encryptor::reidentify`]
    /// does.
    pub fn decrypt(&self, kind: PiiKind, token: &str) -> Result<String> {
        self.apply(kind, token, Direction::Decrypt)
    }

    fn apply(&self, kind: PiiKind, value: &str, direction: Direction) -> Result<String> {
        let length = value.chars().count();
        if length > MAX_VALUE_CHARS {
            return Err(Error::InvalidInput(format!(
                "a {kind} value of {length} characters is longer than the {MAX_VALUE_CHARS} that \
                 get a {COMPONENT}; check the finding's span"
            )));
        }
        match kind {
            PiiKind::Phone => self.phone(value, direction),
            PiiKind::ResidentId => self.resident_id(value, direction),
            PiiKind::Email => self.email(value, direction),
            #[allow(
                unreachable_patterns,
                reason = "recognizers add kinds to PiiKind over time"
            )]
            _ => {
                let context = format!("id/{kind}");
                self.identifier(&context, value, direction)
            }
        }
    }

    fn phone(&self, value: &str, direction: Direction) -> Result<String> {
        let chars: Vec<char> = value.chars().collect();
        let country_len = ["+86", "0086"]
            .iter()
            .find(|prefix| value.starts_with(*prefix))
            .map_or(0, |prefix| prefix.len());
        let digit_positions: Vec<usize> = (country_len..chars.len())
            .filter(|&index| chars[index].is_ascii_digit())
            .collect();
        let keep = self.config.phone_keep_digits.min(digit_positions.len());
        let (kept, encrypted) = digit_positions.split_at(keep);
        if encrypted.len() < MIN_DIGITS {
            return Err(too_short(PiiKind::Phone, encrypted.len(), "digits"));
        }
        let mut tweak = b"governance/fpe/v1/phone/".to_vec();
        tweak.extend(kept.iter().map(|&index| chars[index] as u8));
        let numerals = numerals_at(&chars, encrypted, 10);
        let output = self.run(&self.digits, &tweak, numerals, direction)?;
        Ok(replace_at(chars, encrypted, &output, 10))
    }

    fn resident_id(&self, value: &str, direction: Direction) -> Result<String> {
        let chars: Vec<char> = value.chars().collect();
        let all_digits = |part: &[char]| part.iter().all(char::is_ascii_digit);
        let digit_count = match chars.len() {
            18 if all_digits(&chars[..17]) && matches!(chars[17], '0'..='9' | 'X' | 'x') => 17,
            15 if all_digits(&chars) => 15,
            other => {
                return Err(Error::InvalidInput(format!(
                    "a resident id of {other} characters has no {COMPONENT}: expected 17 digits \
                     and a check character, or 15 digits; use the pseudonym or type_tag \
                     operator for other values"
                )));
            }
        };

        if digit_count == 17 && direction == Direction::Encrypt {
            let first17: String = chars[..17].iter().collect();
            if resident_id_check_character(&first17) != Some(chars[17].to_ascii_uppercase()) {
                return Err(Error::InvalidInput(
                    "a resident id with a wrong check character has no format-preserving token; \
                     use the pseudonym or type_tag operator for it"
                        .into(),
                ));
            }
        }

        let keep = self.config.resident_id_keep_digits;
        let positions: Vec<usize> = (keep..digit_count).collect();
        if positions.len() < MIN_DIGITS {
            return Err(too_short(PiiKind::ResidentId, positions.len(), "digits"));
        }
        let mut tweak = format!("governance/fpe/v1/resident_id/{digit_count}/").into_bytes();
        tweak.extend(chars[..keep].iter().map(|&c| c as u8));
        let numerals = numerals_at(&chars, &positions, 10);
        let output = self.run(&self.digits, &tweak, numerals, direction)?;
        let mut result = replace_at(chars.clone(), &positions, &output, 10);

        if digit_count == 17 {
            let first17: String = result.chars().take(17).collect();
            let Some(valid) = resident_id_check_character(&first17) else {
                return Err(Error::Internal(
                    "FF1 output of a resident id is not 17 digits".into(),
                ));
            };
            let check = match direction {
                Direction::Encrypt => shift_check_character(valid),
                Direction::Decrypt => {
                    if chars[17] != shift_check_character_back(&chars[..17], chars[17]) {
                        return Err(Error::InvalidInput(
                            "the resident id token has a check character that this tokenizer \
                             never writes, so it is not a token of this key or was altered"
                                .into(),
                        ));
                    }
                    valid
                }
            };
            result.pop();
            result.push(check);
        }
        Ok(result)
    }

    fn email(&self, value: &str, direction: Direction) -> Result<String> {
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(Error::InvalidInput(
                "an e-mail value without '@' has no format-preserving token; use the pseudonym \
                 or type_tag operator for it"
                    .into(),
            ));
        };
        let context = format!("email/{}", domain.to_lowercase());
        let local = self.identifier(&context, local, direction)?;
        Ok(format!("{local}@{domain}"))
    }

    /// Encrypts the digits and ASCII letters of `value` in place, keeping each letter's case.
    fn identifier(&self, context: &str, value: &str, direction: Direction) -> Result<String> {
        let chars: Vec<char> = value.chars().collect();
        let digits: Vec<usize> = (0..chars.len())
            .filter(|&index| chars[index].is_ascii_digit())
            .collect();
        let letters: Vec<usize> = (0..chars.len())
            .filter(|&index| chars[index].is_ascii_alphabetic())
            .collect();
        let encrypt_digits = digits.len() >= MIN_DIGITS;
        let encrypt_letters = letters.len() >= MIN_LETTERS;
        if !encrypt_digits && !encrypt_letters {
            return Err(Error::InvalidInput(format!(
                "a value with {} digits and {} letters is too short for a {COMPONENT}: it needs \
                 at least {MIN_DIGITS} digits or {MIN_LETTERS} letters; use the pseudonym \
                 operator for it",
                digits.len(),
                letters.len()
            )));
        }

        // The tweak of one class contains the other class's characters as they are when the
        // round runs.
        let tweak = |class: &str, chars: &[char], other_positions: &[usize]| {
            let mut tweak = format!("governance/fpe/v1/{context}/{class}/").into_bytes();
            tweak.extend(
                other_positions
                    .iter()
                    .map(|&index| chars[index].to_ascii_lowercase() as u8),
            );
            tweak
        };
        let mut current = chars;
        // Round order: letters under the clear digits, then digits under the encrypted
        // letters. Decryption undoes the digit round first.
        let rounds: [(bool, &[usize], &[usize], u32); 2] = match direction {
            Direction::Encrypt => [
                (encrypt_letters, &letters, &digits, 26),
                (encrypt_digits, &digits, &letters, 10),
            ],
            Direction::Decrypt => [
                (encrypt_digits, &digits, &letters, 10),
                (encrypt_letters, &letters, &digits, 26),
            ],
        };
        for (enabled, positions, other, radix) in rounds {
            if !enabled {
                continue;
            }
            let class = if radix == 10 { "digits" } else { "letters" };
            let cipher = if radix == 10 {
                &self.digits
            } else {
                &self.letters
            };
            let tweak = tweak(class, &current, other);
            let numerals = numerals_at(&current, positions, radix);
            let output = self.run(cipher, &tweak, numerals, direction)?;
            current = replace_at(current, positions, &output, radix)
                .chars()
                .collect();
        }
        Ok(current.into_iter().collect())
    }

    fn run(
        &self,
        cipher: &FF1<Aes256>,
        tweak: &[u8],
        numerals: Vec<u16>,
        direction: Direction,
    ) -> Result<Vec<u16>> {
        let input = FlexibleNumeralString::from(numerals);
        let output = match direction {
            Direction::Encrypt => cipher.encrypt(tweak, &input),
            Direction::Decrypt => cipher.decrypt(tweak, &input),
        }
        .map_err(|error| Error::Internal(format!("FF1 rejected checked numerals: {error}")))?;
        Ok(output.into())
    }
}

fn too_short(kind: PiiKind, count: usize, class: &str) -> Error {
    Error::InvalidInput(format!(
        "a {kind} value with {count} {class} to encrypt is too short for a {COMPONENT}: FF1 needs \
         at least {MIN_DIGITS}; keep fewer digits or use the pseudonym operator"
    ))
}

/// Reads the characters at `positions` as numerals: digits 0-9, or letters a-z as 0-25.
fn numerals_at(chars: &[char], positions: &[usize], radix: u32) -> Vec<u16> {
    positions
        .iter()
        .map(|&index| {
            let c = chars[index].to_ascii_lowercase();
            if radix == 10 {
                (c as u16).saturating_sub(u16::from(b'0'))
            } else {
                (c as u16).saturating_sub(u16::from(b'a'))
            }
        })
        .collect()
}

/// Writes `numerals` back at `positions`, keeping the case of letters.
fn replace_at(mut chars: Vec<char>, positions: &[usize], numerals: &[u16], radix: u32) -> String {
    for (&index, &numeral) in positions.iter().zip(numerals) {
        let base = if radix == 10 { b'0' } else { b'a' };
        let mut replacement = char::from(base + numeral as u8);
        if chars[index].is_ascii_uppercase() {
            replacement = replacement.to_ascii_uppercase();
        }
        chars[index] = replacement;
    }
    chars.into_iter().collect()
}

/// Returns the check character one remainder on from `valid`, which never passes the check.
fn shift_check_character(valid: char) -> char {
    let index = CHECK_CHARACTERS
        .iter()
        .position(|&c| c == valid)
        .unwrap_or(0);
    CHECK_CHARACTERS[(index + 1) % CHECK_CHARACTERS.len()]
}

/// Returns the check character a token with these 17 digits must carry, or a character
/// different from `written` when the digits are not 17 digits.
fn shift_check_character_back(first17: &[char], written: char) -> char {
    let digits: String = first17.iter().collect();
    match resident_id_check_character(&digits) {
        Some(valid) => shift_check_character(valid),
        None if written == '0' => '1',
        None => '0',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> FpeTokenizer {
        let key = SecretKey::from_bytes(&[11u8; 32]).expect("valid key");
        FpeTokenizer::new(&key, FpeConfig::default()).expect("valid config")
    }

    #[test]
    fn shifted_check_character_never_validates() {
        for valid in CHECK_CHARACTERS {
            assert_ne!(shift_check_character(valid), valid);
        }
    }

    #[test]
    fn identifier_keeps_classes_and_case() {
        let tokens = tokenizer();
        let token = tokens
            .encrypt(PiiKind::Email, "Zhang.Wei2024@example.com")
            .expect("long enough");
        let (local, domain) = token.split_once('@').expect("has @");
        assert_eq!(domain, "example.com");
        assert_eq!(local.len(), 13);
        assert!(local.starts_with(|c: char| c.is_ascii_uppercase()));
        assert_eq!(&local[5..6], ".");
        assert!(local[9..].chars().all(|c| c.is_ascii_digit()));
        assert_eq!(
            tokens.decrypt(PiiKind::Email, &token).expect("round trip"),
            "Zhang.Wei2024@example.com"
        );
    }

    #[test]
    fn keep_digits_too_many_is_config_error() {
        let key = SecretKey::from_bytes(&[11u8; 32]).expect("valid key");
        let config = FpeConfig {
            resident_id_keep_digits: 14,
            ..FpeConfig::default()
        };
        let error = FpeTokenizer::new(&key, config).expect_err("too many kept");
        assert!(
            error.to_string().contains("resident_id_keep_digits"),
            "{error}"
        );
    }
}
