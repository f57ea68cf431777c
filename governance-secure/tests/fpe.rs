//! Format-preserving tokens for phone numbers and identifiers.

use governance_secure::detect::{ConfidenceTier, Detector, DetectorConfig, PiiKind};
use governance_secure::fpe::{FpeConfig, FpeTokenizer};
use governance_secure::keys::SecretKey;

fn tokenizer(byte: u8, config: FpeConfig) -> FpeTokenizer {
    let key = SecretKey::from_bytes(&[byte; 32]).expect("valid key");
    FpeTokenizer::new(&key, config).expect("valid config")
}

fn same_classes(value: &str, token: &str) -> bool {
    value.chars().count() == token.chars().count()
        && value.chars().zip(token.chars()).all(|(a, b)| {
            (a.is_ascii_digit() && b.is_ascii_digit())
                || (a.is_ascii_uppercase() && b.is_ascii_uppercase())
                || (a.is_ascii_lowercase() && b.is_ascii_lowercase())
                || (!a.is_ascii_alphanumeric() && a == b)
        })
}

#[test]
fn phone_round_trip_keeps_format() {
    let tokens = tokenizer(1, FpeConfig::default());
    for phone in [
        "13812345678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "008613812345678",
        "010-12345678",
    ] {
        let token = tokens.encrypt(PiiKind::Phone, phone).expect("encrypts");
        assert_ne!(token, phone);
        assert!(same_classes(phone, &token), "{phone} -> {token}");
        let again = tokens.encrypt(PiiKind::Phone, phone).expect("encrypts");
        assert_eq!(token, again, "deterministic");
        assert_eq!(
            tokens.decrypt(PiiKind::Phone, &token).expect("decrypts"),
            phone
        );
    }
}

#[test]
fn phone_keeps_country_code_and_prefix() {
    let tokens = tokenizer(1, FpeConfig::default());
    let token = tokens
        .encrypt(PiiKind::Phone, "+86 138 1234 5678")
        .expect("encrypts");
    assert!(token.starts_with("+86 1"), "{token}");
    let plain = tokens
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    let spaced_digits: String = token[4..].chars().filter(char::is_ascii_digit).collect();
    assert_eq!(spaced_digits, plain, "formats of one number share digits");

    let three = tokenizer(
        1,
        FpeConfig {
            phone_keep_digits: 3,
            ..FpeConfig::default()
        },
    );
    let token = three
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    assert!(token.starts_with("138"), "{token}");
}

#[test]
fn keys_give_different_tokens() {
    let first = tokenizer(1, FpeConfig::default())
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    let second = tokenizer(2, FpeConfig::default())
        .encrypt(PiiKind::Phone, "13812345678")
        .expect("encrypts");
    assert_ne!(first, second);
}

#[test]
fn resident_id_token_fails_check_character() {
    let tokens = tokenizer(3, FpeConfig::default());
    let detector = Detector::new(DetectorConfig::default()).expect("detector");
    for id in [
        "11010519491231002X",
        "110105194912310021",
        "440524188001010014",
    ] {
        let first17: String = id.chars().take(17).collect();
        let valid =
            governance_secure::detect::resident_id_check_character(&first17).expect("17 digits");
        if valid != id.chars().last().expect("18 characters") {
            continue;
        }
        let token = tokens.encrypt(PiiKind::ResidentId, id).expect("encrypts");
        assert_eq!(token.len(), 18);
        assert!(token[..17].chars().all(|c| c.is_ascii_digit()), "{token}");
        let token17: String = token.chars().take(17).collect();
        assert_ne!(
            governance_secure::detect::resident_id_check_character(&token17),
            token.chars().last(),
            "token {token} must not pass the check"
        );
        let validated = detector
            .detect(&format!("身份证{token}"))
            .into_iter()
            .any(|finding| finding.tier >= ConfidenceTier::Validated);
        assert!(!validated, "{token}");
        assert_eq!(
            tokens
                .decrypt(PiiKind::ResidentId, &token)
                .expect("decrypts"),
            id
        );
    }
}

#[test]
fn resident_id_keeps_region_when_asked() {
    let tokens = tokenizer(
        3,
        FpeConfig {
            resident_id_keep_digits: 6,
            ..FpeConfig::default()
        },
    );
    let token = tokens
        .encrypt(PiiKind::ResidentId, "11010519491231002X")
        .expect("encrypts");
    assert!(token.starts_with("110105"), "{token}");
    assert_eq!(
        tokens
            .decrypt(PiiKind::ResidentId, &token)
            .expect("decrypts"),
        "11010519491231002X"
    );
}

#[test]
fn legacy_id_round_trips() {
    let tokens = tokenizer(3, FpeConfig::default());
    let token = tokens
        .encrypt(PiiKind::ResidentId, "110105491231002")
        .expect("encrypts");
    assert_eq!(token.len(), 15);
    assert_eq!(
        tokens
            .decrypt(PiiKind::ResidentId, &token)
            .expect("decrypts"),
        "110105491231002"
    );
}

#[test]
fn wrong_check_character_is_rejected() {
    let tokens = tokenizer(3, FpeConfig::default());
    let error = tokens
        .encrypt(PiiKind::ResidentId, "110105194912310020")
        .expect_err("wrong check character");
    let message = error.to_string();
    assert!(message.contains("wrong check character"), "{message}");
    assert!(!message.contains("110105"), "{message}");
}

#[test]
fn altered_id_token_is_rejected() {
    let tokens = tokenizer(3, FpeConfig::default());
    let token = tokens
        .encrypt(PiiKind::ResidentId, "11010519491231002X")
        .expect("encrypts");
    let mut chars: Vec<char> = token.chars().collect();
    chars[17] = if chars[17] == '0' { '1' } else { '0' };
    let altered: String = chars.into_iter().collect();
    assert!(tokens.decrypt(PiiKind::ResidentId, &altered).is_err());
}

#[test]
fn short_phone_is_rejected() {
    let tokens = tokenizer(1, FpeConfig::default());
    let error = tokens
        .encrypt(PiiKind::Phone, "12345")
        .expect_err("too short");
    assert!(error.to_string().contains("too short"), "{error}");
    assert!(!error.to_string().contains("12345"), "{error}");
}

#[test]
fn email_local_part_keeps_classes() {
    let tokens = tokenizer(4, FpeConfig::default());
    let email = "lina.wang88@city.example.cn";
    let token = tokens.encrypt(PiiKind::Email, email).expect("encrypts");
    assert!(same_classes(email, &token), "{token}");
    assert!(token.ends_with("@city.example.cn"), "{token}");
    assert_eq!(
        tokens.decrypt(PiiKind::Email, &token).expect("decrypts"),
        email
    );
}

#[test]
fn legacy_id_with_too_many_kept_digits_is_rejected() {
    let tokens = tokenizer(
        3,
        FpeConfig {
            resident_id_keep_digits: 11,
            ..FpeConfig::default()
        },
    );
    let error = tokens
        .encrypt(PiiKind::ResidentId, "110105491231002")
        .expect_err("4 digits left");
    assert!(error.to_string().contains("too short"), "{error}");
    assert!(!error.is_internal());
}
