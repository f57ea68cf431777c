//! Property: after masking with any operator, no detector finds a validated identifier in
//! the output, for texts that mix identifiers, Chinese and ASCII filler.

use governance_secure::detect::{
    ConfidenceTier, Detector, DetectorConfig, resident_id_check_character,
    social_credit_code_check_character,
};
use governance_secure::mask::{MaskConfig, MaskOperator, mask_text};
use proptest::prelude::*;

/// Appends the Luhn check digit to `digits`.
fn with_luhn(digits: &str) -> String {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let value = u32::from(byte - b'0');
            if position % 2 == 0 {
                let doubled = value * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                value
            }
        })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// Builds a German IBAN from an 18-digit account part, with its mod-97 check digits.
fn german_iban(account: &str) -> String {
    let rearranged = format!("{account}131400"); // D = 13, E = 14, check digits 00.
    let remainder = rearranged
        .bytes()
        .fold(0u32, |acc, byte| (acc * 10 + u32::from(byte - b'0')) % 97);
    format!("DE{:02}{account}", 98 - remainder)
}

/// Organisation code check character (GB 11714) over 8 digits.
fn organisation_check(first8: &str) -> char {
    let weights = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first8
        .bytes()
        .zip(weights)
        .map(|(byte, weight)| u32::from(byte - b'0') * weight)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        value => char::from_digit(value, 10).unwrap_or('0'),
    }
}

fn digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len)
        .prop_map(|ds| ds.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// One identifier that a recognizer validates.
fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec!["138", "139", "186", "150"]),
            digits(8)
        )
            .prop_map(|(prefix, rest)| format!("{prefix}{rest}")),
        (
            prop::sample::select(vec!["110105", "440524", "310101"]),
            1950u32..2005,
            1u32..13,
            1u32..29,
            digits(3)
        )
            .prop_map(|(region, year, month, day, sequence)| {
                let first17 = format!("{region}{year}{month:02}{day:02}{sequence}");
                let check = resident_id_check_character(&first17).unwrap_or('0');
                format!("{first17}{check}")
            }),
        digits(14).prop_map(|rest| with_luhn(&format!("4{rest}"))),
        digits(16).prop_map(|rest| with_luhn(&format!("62{rest}"))),
        ("[a-z]{1,8}", "[a-z]{2,8}").prop_map(|(local, domain)| format!("{local}@{domain}.com")),
        digits(18).prop_map(|account| german_iban(&account)),
        (1u8..255, 0u8..255, 0u8..255, 1u8..255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        proptest::collection::vec(1u8..255, 6).prop_map(|bytes| {
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        }),
        (1u32..900, 1u32..100, 1u32..10000)
            .prop_filter("area 666 is never issued", |(area, _, _)| *area != 666)
            .prop_map(|(area, group, serial)| format!("{area:03}-{group:02}-{serial:04}")),
        digits(8).prop_map(|organisation| {
            let first17 = format!(
                "91110108{organisation}{}",
                organisation_check(&organisation)
            );
            let check = social_credit_code_check_character(&first17).unwrap_or('0');
            format!("{first17}{check}")
        }),
        (
            prop::sample::select(vec!["京", "沪", "粤", "川"]),
            digits(5)
        )
            .prop_map(|(province, serial)| format!("{province}B{serial}")),
        (-8900i32..8900, -17900i32..17900).prop_map(|(lat, lon)| {
            format!(
                "{}.{:04}, {}.{:04}",
                lat / 100,
                lat.unsigned_abs() % 100 * 37,
                lon / 100,
                lon.unsigned_abs() % 100 * 91
            )
        }),
        (1950u32..2005, 1u32..13, 1u32..29)
            .prop_map(|(year, month, day)| format!("出生日期{year}-{month:02}-{day:02}")),
    ]
}

/// Filler between identifiers: a separator, Chinese words or ASCII words, never empty and
/// never a digit, so that masking one value cannot join its neighbours into a new one.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![" ", "，", "。", "、", "；", " / "]).prop_map(str::to_string),
        prop::sample::select(vec![
            "今天",
            "市民反映",
            "请联系",
            "谢谢",
            "问题已处理",
            "地址在"
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![" the ", " please call ", " note: ", " ok "])
            .prop_map(str::to_string),
    ]
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec((filler(), identifier()), 1..8).prop_map(|parts| {
        let mut text = String::new();
        for (fill, value) in parts {
            text.push_str(&fill);
            text.push_str(&value);
        }
        text.push('。');
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn masked_text_has_no_validated_identifier(text in text()) {
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        let findings = detector.detect(&text);
        prop_assert!(!findings.is_empty(), "nothing found in {text}");
        for operator in [MaskOperator::Redact, MaskOperator::TypeTag, MaskOperator::Partial] {
            let masked = mask_text(&text, &findings, &MaskConfig::all(operator));
            let left: Vec<String> = detector
                .detect(&masked)
                .into_iter()
                .filter(|f| f.tier >= ConfidenceTier::Validated)
                .map(|f| format!("{} {:?}", f.recognizer, &masked[f.byte_span]))
                .collect();
            prop_assert!(left.is_empty(), "{operator:?}: {text} -> {masked}: {left:?}");
        }
    }
}
