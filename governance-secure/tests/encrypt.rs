//! Reversible encryption and audited re-identification.

use governance_core::audit::{AuditAction, AuditLog};
use governance_secure::PiiKind;
use governance_secure::encrypt::{Encryptor, ReidentifyRequest};
use governance_secure::keys::SecretKey;

fn encryptor(byte: u8) -> Encryptor {
    Encryptor::new(&SecretKey::from_bytes(&[byte; 32]).expect("valid key"))
}

const REQUEST: ReidentifyRequest<'static> = ReidentifyRequest {
    actor: "case_officer",
    subject: "tickets/row 7",
    reason: "fraud case 2024-031",
};

#[test]
fn round_trip_is_audited() {
    let encryptor = encryptor(1);
    let token = encryptor
        .encrypt(PiiKind::ResidentId, "11010519491231002X")
        .expect("encrypts");
    assert!(token.starts_with("enc:v1:resident_id:"), "{token}");
    assert!(!token.contains("11010519491231002X"));

    let audit = AuditLog::in_memory().into_handle();
    let value = encryptor
        .reidentify(&token, &audit, &REQUEST)
        .expect("decrypts");
    assert_eq!(value, "11010519491231002X");

    let log = audit.lock().expect("audit lock");
    assert_eq!(log.records().len(), 1);
    let record = &log.records()[0];
    assert_eq!(record.actor, "case_officer");
    assert_eq!(record.action, AuditAction::Read);
    assert_eq!(record.subject, "tickets/row 7");
    assert!(record.detail.contains("granted"), "{}", record.detail);
    assert!(
        record.detail.contains("fraud case 2024-031"),
        "{}",
        record.detail
    );
    assert!(
        !record.detail.contains("11010519491231002X"),
        "{}",
        record.detail
    );
    assert_eq!(log.verify().expect("chain verifies"), 1);
}

#[test]
fn tampered_token_fails_and_is_audited() {
    let encryptor = encryptor(1);
    let token = encryptor
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    let audit = AuditLog::in_memory().into_handle();

    // Flip one character of the data part.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(bytes).expect("ascii");
    let error = encryptor
        .reidentify(&altered, &audit, &REQUEST)
        .expect_err("tampered");
    assert!(
        error.to_string().contains("failed authentication"),
        "{error}"
    );

    // Moving the token to another kind breaks the associated data.
    let relabelled = token.replacen(":phone:", ":email:", 1);
    let error = encryptor
        .reidentify(&relabelled, &audit, &REQUEST)
        .expect_err("relabelled");
    assert!(
        error.to_string().contains("failed authentication"),
        "{error}"
    );

    // A cut token is not valid base64 of nonce and tag.
    let cut = &token[..token.len() - 30];
    let error = encryptor
        .reidentify(cut, &audit, &REQUEST)
        .expect_err("cut");
    assert!(error.to_string().contains("cut or altered"), "{error}");

    let log = audit.lock().expect("audit lock");
    assert_eq!(log.records().len(), 3);
    assert!(
        log.records()
            .iter()
            .all(|record| record.detail.contains("failed"))
    );
}

#[test]
fn wrong_key_fails() {
    let token = encryptor(1)
        .encrypt(PiiKind::Email, "zhang.wei@example.com")
        .expect("encrypts");
    let audit = AuditLog::in_memory().into_handle();
    let error = encryptor(2)
        .reidentify(&token, &audit, &REQUEST)
        .expect_err("wrong key");
    let message = error.to_string();
    assert!(message.contains("encrypted under key"), "{message}");
    assert!(!message.contains("zhang"), "{message}");
}

#[test]
fn missing_reason_is_rejected_before_decrypting() {
    let encryptor = encryptor(1);
    let token = encryptor
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    let audit = AuditLog::in_memory().into_handle();
    let request = ReidentifyRequest {
        reason: "  ",
        ..REQUEST
    };
    let error = encryptor
        .reidentify(&token, &audit, &request)
        .expect_err("no reason");
    assert!(error.to_string().contains("reason"), "{error}");
    assert!(audit.lock().expect("audit lock").records().is_empty());
}

#[test]
fn malformed_token_is_rejected() {
    let audit = AuditLog::in_memory().into_handle();
    let error = encryptor(1)
        .reidentify("13812345678", &audit, &REQUEST)
        .expect_err("not a token");
    assert!(
        error.to_string().contains("not an encryption token"),
        "{error}"
    );
    assert!(!error.to_string().contains("13812345678"), "{error}");
}
