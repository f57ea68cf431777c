//! Secret keys supplied by the caller for the keyed masking operators.
//!
//! A [`SecretKey`] contains raw key bytes. It prints as a redaction in `Debug` and `Display`,
//! is wiped from memory when dropped (`zeroize`), and no error built here contains key
//! bytes. Keys never come from this crate's configs: the caller reads them from a key
//! management service, a hardware module or a protected file and hands over the bytes.
//!
//! Each operator uses a subkey derived from its key with HKDF-Expand (RFC 5869) over
//! HMAC-SHA256 and a purpose label, so that one key handed to two operators never feeds the
//! same bytes to two algorithms. HKDF-Expand without the extract step assumes that the key
//! is already uniformly random, which is why keys are raw random bytes, not passphrases.
//!
//! ```
//! use governance_secure::keys::SecretKey;
//!
//! let key = SecretKey::from_bytes(&[7u8; 32])?;
//! assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
//! assert!(SecretKey::from_bytes(&[7u8; 8]).is_err());
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::fmt;

use governance_core::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Component name used in key errors.
const COMPONENT: &str = "secret key";

/// A secret key supplied by the caller.
///
/// Cloning copies the bytes into a second buffer that is wiped on drop as well.
#[derive(Clone)]
pub struct SecretKey {
    bytes: Zeroizing<Vec<u8>>,
}

impl SecretKey {
    /// Minimum key length in bytes: 256 bits, the strength of AES-256 and of HMAC-SHA256.
    pub const MIN_LEN: usize = 32;

    /// Maximum key length in bytes. Longer keys add no strength to HMAC-SHA256, which
    /// hashes keys over 64 bytes down to 32.
    pub const MAX_LEN: usize = 1024;

    /// Copies `bytes` into a new key. The caller should wipe its own copy afterwards.
    ///
    /// Fails when the key is shorter than [`SecretKey::MIN_LEN`] or longer than
    /// [`SecretKey::MAX_LEN`] bytes; the error names only the length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_length(bytes.len())?;
        Ok(SecretKey {
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// Takes ownership of `bytes`. They are wiped when the key is dropped, or at once when
    /// the length is invalid.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        check_length(bytes.len())?;
        Ok(SecretKey { bytes })
    }

    /// Decodes a key written as hexadecimal digits, such as the content of an environment
    /// variable. Surrounding whitespace is ignored.
    ///
    /// The error on invalid input names the length and never the offending character,
    /// because that character is part of the key.
    pub fn from_hex(hex_text: &str) -> Result<Self> {
        let trimmed = hex_text.trim();
        let decoded = hex::decode(trimmed).map(Zeroizing::new).map_err(|_| {
            Error::config(
                COMPONENT,
                format!(
                    "the hexadecimal key text of {} characters is not valid hex; pass an even \
                     number of the digits 0-9 and a-f",
                    trimmed.len()
                ),
            )
        })?;
        check_length(decoded.len())?;
        Ok(SecretKey { bytes: decoded })
    }

    /// Returns the key length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Returns false: a key is never empty. Present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Returns a public identifier of the key: the first 4 bytes of an HMAC-SHA256 of a
    /// fixed label under the key, as 8 hex digits. It distinguishes keys in tokens, logs and
    /// audit records and reveals nothing about the key bytes.
    pub fn key_id(&self) -> String {
        let tag = hmac_sha256(&self.bytes, &[b"governance/key-id/v1"]);
        hex::encode(&tag[..4])
    }

    /// Derives the 32-byte subkey for `purpose` with HKDF-Expand over HMAC-SHA256, using this
    /// key as the pseudorandom key: `T(1) = HMAC(key, info || 0x01)` with
    /// `info = "governance/" || purpose`.
    pub(crate) fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(hmac_sha256(
            &self.bytes,
            &[b"governance/", purpose.as_bytes(), &[1u8]],
        ))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

fn check_length(len: usize) -> Result<()> {
    if len < SecretKey::MIN_LEN {
        return Err(Error::config(
            COMPONENT,
            format!(
                "the key has {len} bytes but at least {} are required; generate {} random bytes \
                 with a cryptographic random generator",
                SecretKey::MIN_LEN,
                SecretKey::MIN_LEN
            ),
        ));
    }
    if len > SecretKey::MAX_LEN {
        return Err(Error::config(
            COMPONENT,
            format!(
                "the key has {len} bytes but at most {} are accepted; pass the raw key, not a \
                 file or a key bundle",
                SecretKey::MAX_LEN
            ),
        ));
    }
    Ok(())
}

/// Computes HMAC-SHA256 under `key` over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Keys of a [`crate::masker::Masker`], one per keyed operator. Operators whose key is
/// missing fail, and the masker falls back to a type tag for them.
///
/// Keep the keys apart when their holders differ: every department that should join masked
/// tables needs the pseudonym key, but only the office that may re-identify people should
/// hold the encryption key.
#[derive(Debug, Clone, Default)]
pub struct MaskerKeys {
    /// Key of the keyed pseudonyms (HMAC-SHA256).
    pub pseudonym: Option<SecretKey>,
    /// Key of the format-preserving tokens (FF1 with AES-256).
    pub format_preserving: Option<SecretKey>,
    /// Key of the reversible encryption (AES-256-GCM).
    pub encryption: Option<SecretKey>,
}

impl MaskerKeys {
    /// Uses `master` for every operator; each operator still derives its own subkey.
    /// Convenient for tests and single-office deployments. Anyone with the master key can
    /// also re-identify.
    pub fn from_master(master: &SecretKey) -> Self {
        MaskerKeys {
            pseudonym: Some(master.clone()),
            format_preserving: Some(master.clone()),
            encryption: Some(master.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_key_error_names_length_only() {
        let error = SecretKey::from_bytes(b"0123456789").expect_err("too short");
        let message = error.to_string();
        assert!(message.contains("10 bytes"), "{message}");
        assert!(!message.contains("0123456789"), "{message}");
    }

    #[test]
    fn hex_error_omits_bad_character() {
        let text = "zz".repeat(32);
        let error = SecretKey::from_hex(&text).expect_err("not hex");
        let message = error.to_string();
        assert!(!message.contains("zz"), "{message}");
        assert!(message.contains("64 characters"), "{message}");
    }

    #[test]
    fn hex_key_decodes() {
        let key = SecretKey::from_hex(&format!(" {} ", "ab".repeat(32))).expect("valid hex");
        assert_eq!(key.len(), 32);
    }

    #[test]
    fn subkeys_differ_by_purpose() {
        let key = SecretKey::from_bytes(&[1u8; 32]).expect("valid key");
        assert_ne!(*key.derive("a"), *key.derive("b"));
        assert_eq!(*key.derive("a"), *key.derive("a"));
    }

    #[test]
    fn key_id_differs_between_keys() {
        let first = SecretKey::from_bytes(&[1u8; 32]).expect("valid key");
        let second = SecretKey::from_bytes(&[2u8; 32]).expect("valid key");
        assert_ne!(first.key_id(), second.key_id());
        assert_eq!(first.key_id().len(), 8);
    }

    #[test]
    fn display_is_redacted() {
        let key = SecretKey::from_bytes(&[0x41u8; 32]).expect("valid key");
        assert_eq!(key.to_string(), "<redacted>");
        assert!(!format!("{key:?}").contains("AAAA"));
    }
}
