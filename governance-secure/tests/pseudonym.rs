//! Keyed pseudonyms: stable under one key, different across keys, and joinable across tables.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_secure::detect::{Detector, DetectorConfig, PiiKind};
use governance_secure::fpe::FpeConfig;
use governance_secure::keys::{MaskerKeys, SecretKey};
use governance_secure::mask::{MaskConfig, MaskOperator};
use governance_secure::masker::Masker;
use governance_secure::pseudonym::Pseudonymizer;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).expect("valid key")
}

fn pseudonym_masker(byte: u8) -> Masker {
    let keys = MaskerKeys {
        pseudonym: Some(key(byte)),
        ..MaskerKeys::default()
    };
    Masker::new(&keys, FpeConfig::default()).expect("valid keys")
}

#[test]
fn equal_values_equal_pseudonyms() {
    let pseudonyms = Pseudonymizer::new(&key(1));
    let first = pseudonyms
        .token(PiiKind::Email, "zhang.wei@example.com")
        .expect("token");
    let second = pseudonyms
        .token(PiiKind::Email, " Zhang.Wei@EXAMPLE.com")
        .expect("token");
    assert_eq!(first, second);
    assert_eq!(first.len(), "email_".len() + 24);
}

#[test]
fn different_values_differ() {
    let pseudonyms = Pseudonymizer::new(&key(1));
    let first = pseudonyms
        .token(PiiKind::Phone, "13812345678")
        .expect("token");
    let second = pseudonyms
        .token(PiiKind::Phone, "13812345679")
        .expect("token");
    assert_ne!(first, second);
}

#[test]
fn different_keys_differ() {
    let first = Pseudonymizer::new(&key(1))
        .token(PiiKind::Phone, "13812345678")
        .expect("token");
    let second = Pseudonymizer::new(&key(2))
        .token(PiiKind::Phone, "13812345678")
        .expect("token");
    assert_ne!(first, second);
}

#[test]
fn kinds_are_separate_domains() {
    let pseudonyms = Pseudonymizer::new(&key(1));
    let as_id = pseudonyms
        .token(PiiKind::ResidentId, "13812345678")
        .expect("token");
    let as_phone = pseudonyms
        .token(PiiKind::Phone, "13812345678")
        .expect("token");
    assert_ne!(as_id[as_id.len() - 24..], as_phone[as_phone.len() - 24..]);
}

/// Two departments write the same people's phone numbers differently; after each masks its
/// own table with the shared key, the tables join on the pseudonym and on nothing else.
#[test]
fn masked_tables_join_on_pseudonym() {
    let tickets = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("ticket", DataType::Int64, false),
            Field::new("phone", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
            Arc::new(StringArray::from(vec![
                Some("13812345678"),
                Some("139-0000-1111"),
                None,
                Some("+86 137 2222 3333"),
            ])),
        ],
    )
    .expect("tickets batch");
    let registry = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("household", DataType::Utf8, false),
            Field::new("mobile", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["A", "B", "C"])),
            Arc::new(StringArray::from(vec![
                "+86 138 1234 5678",
                "１３９００００１１１１",
                "13666666666",
            ])),
        ],
    )
    .expect("registry batch");

    // Each department holds its own masker, built from the same shared key.
    let transport = pseudonym_masker(7);
    let housing = pseudonym_masker(7);
    let tickets_phone = transport
        .mask_column(
            tickets.column(1).as_ref(),
            PiiKind::Phone,
            MaskOperator::Pseudonym,
        )
        .expect("mask tickets");
    let registry_phone = housing
        .mask_column(
            registry.column(1).as_ref(),
            PiiKind::Phone,
            MaskOperator::Pseudonym,
        )
        .expect("mask registry");
    assert!(tickets_phone.fallbacks.is_empty());
    assert!(registry_phone.fallbacks.is_empty());
    assert!(tickets_phone.array.is_null(2), "null stays null");

    let households: HashMap<&str, &str> = registry_phone
        .array
        .as_string::<i32>()
        .iter()
        .zip(registry.column(0).as_string::<i32>().iter())
        .map(|(token, household)| (token.expect("token"), household.expect("household")))
        .collect();
    let joined: Vec<(i64, &str)> = tickets_phone
        .array
        .as_string::<i32>()
        .iter()
        .zip(
            tickets
                .column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .iter(),
        )
        .filter_map(|(token, ticket)| Some((ticket?, *households.get(token?)?)))
        .collect();
    assert_eq!(joined, vec![(1, "A"), (2, "B")]);

    // No clear phone number survives in either masked column.
    for column in [&tickets_phone.array, &registry_phone.array] {
        for token in column.as_string::<i32>().iter().flatten() {
            assert!(token.starts_with("phone_"), "{token}");
        }
    }
}

#[test]
fn masked_text_has_no_validated_identifier() {
    let detector = Detector::new(DetectorConfig::default()).expect("detector");
    let text = "张伟 电话13812345678 邮箱zhang.wei@example.com 身份证11010519491231002X";
    let masked = pseudonym_masker(3).mask_text(
        text,
        &detector.detect(text),
        &MaskConfig::all(MaskOperator::Pseudonym),
    );
    let masked = masked.text.expect("not suppressed");
    assert!(detector.detect(&masked).is_empty(), "{masked}");
    assert!(masked.contains("phone_"), "{masked}");
    assert!(masked.contains("email_"), "{masked}");
    assert!(masked.contains("resident_id_"), "{masked}");
}
