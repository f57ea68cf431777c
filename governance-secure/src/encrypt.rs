//! Reversible encryption for authorised re-identification: AES-256-GCM under a caller's key.
//!
//! A token reads `enc:v1:<kind>:<key id>:<data>`, where `<data>` is the unpadded URL-safe
//! base64 of a random 96-bit nonce, the ciphertext and the 128-bit tag. The kind and the
//! key id are authenticated as associated data, so a token moved to another kind or
//! relabelled with another key fails to decrypt. Because each token has a fresh nonce,
//! equal values give different tokens: use pseudonyms where masked tables must join.
//!
//! Re-identification takes the audit log and a [`ReidentifyRequest`] that names the requester,
//! the subject and the reason. Every attempt, granted or failed, is written to the audit log
//! before anything is returned, and no plaintext is returned when the record cannot be
//! written.
//!
//! ```
//! use governance_core::audit::AuditLog;
//! use governance_secure::encrypt::{Encryptor, ReidentifyRequest};
//! use governance_secure::keys::SecretKey;
//! use governance_secure::PiiKind;
//!
//! let encryptor = Encryptor::new(&SecretKey::from_bytes(&[4u8; 32])?);
//! let token = encryptor.encrypt(PiiKind::Phone, "13812345678")?;
//! assert!(token.starts_with("enc:v1:phone:"));
//!
//! let audit = AuditLog::in_memory().into_handle();
//! let request = ReidentifyRequest {
//!     actor: "case_officer",
//!     subject: "tickets/row 42",
//!     reason: "court order 2024-17",
//! };
//! assert_eq!(encryptor.reidentify(&token, &audit, &request)?, "13812345678");
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governance_core::audit::{AuditAction, AuditHandle};
use governance_core::{Error, Result};
use sha2::{Digest, Sha256};

use crate::detect::PiiKind;
use crate::keys::SecretKey;

/// Prefix of every token of this format version.
pub const TOKEN_PREFIX: &str = "enc:v1:";

/// Nonce length of AES-GCM in bytes (96 bits, the length GCM is designed for).
const NONCE_LEN: usize = 12;

/// Tag length of AES-GCM in bytes.
const TAG_LEN: usize = 16;

/// A request to re-identify a token: requester, subject and reason. Every field goes to the
/// audit log, so none may contain personal data.
#[derive(Debug, Clone, Copy)]
pub struct ReidentifyRequest<'a> {
    /// The person or role making the request, such as `case_officer`.
    pub actor: &'a str,
    /// The record the token belongs to, such as a data set and row id.
    pub subject: &'a str,
    /// The authorisation: a case, ticket or legal basis.
    pub reason: &'a str,
}

/// Encrypts values into tokens and decrypts tokens under audit.
pub struct Encryptor {
    cipher: Aes256Gcm,
    key_id: String,
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// Creates an encryptor under `key`, which is expanded to an AES-256 subkey.
    pub fn new(key: &SecretKey) -> Self {
        let subkey = key.derive("aes256-gcm/v1");
        Encryptor {
            cipher: Aes256Gcm::new(subkey.as_slice().into()),
            key_id: key.key_id(),
        }
    }

    /// Returns the id of the key, see [`SecretKey::key_id`].
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `value` of `kind` into a token with a fresh random nonce.
    ///
    /// Fails only when the operating system's random generator fails.
    pub fn encrypt(&self, kind: PiiKind, value: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|error| {
            Error::Internal(format!(
                "the operating system's random generator failed while making a nonce: {error}"
            ))
        })?;
        let aad = associated_data(kind.as_str(), &self.key_id);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Internal("AES-GCM failed to encrypt a value".into()))?;
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        Ok(format!(
            "{TOKEN_PREFIX}{kind}:{}:{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(&data)
        ))
    }

    /// Decrypts `token` for `request` and writes the attempt to `audit`.
    ///
    /// The audit record has action `read` and the request's actor and subject. Its detail
    /// contains the outcome, the token's kind, the key id, the first 8 bytes of the token's
    /// SHA-256 (to find the token again) and the reason, but never the value.
    ///
    /// Fails, after recording the failure, when the token is malformed, was made under
    /// another key, or was altered. Fails without decrypting when the request has an empty
    /// actor or reason, or when the audit record cannot be written.
    pub fn reidentify(
        &self,
        token: &str,
        audit: &AuditHandle,
        request: &ReidentifyRequest<'_>,
    ) -> Result<String> {
        if request.actor.trim().is_empty() || request.reason.trim().is_empty() {
            return Err(Error::InvalidInput(
                "re-identification needs an actor and a reason; name who asks and the case or \
                 legal basis that authorises it"
                    .into(),
            ));
        }
        let outcome = self.decrypt(token);
        let token_hash = hex::encode(&Sha256::digest(token.as_bytes())[..8]);
        let kind = parse(token).map_or("unknown", |parts| parts.kind);
        let status = match &outcome {
            Ok(_) => "granted".to_string(),
            Err(error) => format!("failed ({error})"),
        };
        let detail = format!(
            "reidentify {status}; kind={kind}; key_id={}; token_sha256={token_hash}; reason={}",
            self.key_id, request.reason
        );
        {
            let mut log = audit.lock().map_err(|_| {
                Error::Internal(
                    "the audit log lock is poisoned by a panic in another thread".into(),
                )
            })?;
            log.append(request.actor, AuditAction::Read, request.subject, &detail)?;
        }
        match &outcome {
            Ok(_) => tracing::info!(kind, key_id = %self.key_id, "re-identified a token"),
            Err(error) => {
                tracing::warn!(kind, key_id = %self.key_id, %error, "re-identification failed")
            }
        }
        outcome
    }

    fn decrypt(&self, token: &str) -> Result<String> {
        let parts = parse(token).ok_or_else(|| {
            Error::InvalidInput(format!(
                "the token of {} characters is not an encryption token: expected \
                 {TOKEN_PREFIX}<kind>:<key id>:<data>",
                token.chars().count()
            ))
        })?;
        if parts.key_id != self.key_id {
            return Err(Error::InvalidInput(format!(
                "the token was encrypted under key {} but this encryptor holds key {}; decrypt \
                 it with the key it was made with",
                parts.key_id, self.key_id
            )));
        }
        let data = URL_SAFE_NO_PAD
            .decode(parts.data)
            .ok()
            .filter(|data| data.len() >= NONCE_LEN + TAG_LEN)
            .ok_or_else(|| {
                Error::InvalidInput(
                    "the token's data is not valid base64 of a nonce, ciphertext and tag; the \
                     token was cut or altered"
                        .into(),
                )
            })?;
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let aad = associated_data(parts.kind, parts.key_id);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                Error::InvalidInput(
                    "the token failed authentication: it was altered, or made under another key \
                     with the same key id"
                        .into(),
                )
            })?;
        String::from_utf8(plain).map_err(|_| {
            Error::Internal("an authenticated token decrypted to invalid UTF-8".into())
        })
    }
}

/// Fields of a token.
struct TokenParts<'a> {
    kind: &'a str,
    key_id: &'a str,
    data: &'a str,
}

fn parse(token: &str) -> Option<TokenParts<'_>> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let mut fields = rest.splitn(3, ':');
    let kind = fields.next()?;
    let key_id = fields.next()?;
    let data = fields.next()?;
    let is_name = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    (is_name(kind) && is_name(key_id)).then_some(TokenParts { kind, key_id, data })
}

fn associated_data(kind: &str, key_id: &str) -> Vec<u8> {
    format!("governance/enc/v1\0{kind}\0{key_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_give_different_tokens() {
        let encryptor = Encryptor::new(&SecretKey::from_bytes(&[6u8; 32]).expect("valid key"));
        let first = encryptor
            .encrypt(PiiKind::Email, "a@b.cn")
            .expect("encrypts");
        let second = encryptor
            .encrypt(PiiKind::Email, "a@b.cn")
            .expect("encrypts");
        assert_ne!(first, second);
    }

    #[test]
    fn parse_rejects_other_text() {
        assert!(parse("enc:v1:phone").is_none());
        assert!(parse("enc:v2:phone:abcd:xyz").is_none());
        assert!(parse("enc:v1:PHONE:abcd:xyz").is_none());
        assert!(parse("enc:v1:phone:abcd:xyz").is_some());
    }
}
