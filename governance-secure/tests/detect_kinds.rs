//! Recognizers beyond phones, e-mail and resident ids, as a user sees them: cards, IBAN,
//! network addresses, URLs, SSN, dates of birth, Chinese codes and plates, passports, GPS.

use governance_secure::detect::{
    ConfidenceTier, Detector, DetectorConfig, PiiFinding, PiiKind, resident_id_check_character,
    social_credit_code_check_character,
};
use governance_secure::mask::{MaskConfig, MaskOperator, mask_text};

fn detect(text: &str) -> Vec<PiiFinding> {
    Detector::new(DetectorConfig::default())
        .expect("default detector")
        .detect(text)
}

/// Returns `(matched text, recognizer)` for every finding, in order.
fn found(text: &str) -> Vec<(String, &'static str)> {
    detect(text)
        .into_iter()
        .map(|finding| (text[finding.byte_span].to_string(), finding.recognizer))
        .collect()
}

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

#[test]
fn three_spaced_emails_are_three_findings() {
    let text = "a@x.com b@y.org c@z.net";
    let findings = detect(text);
    assert_eq!(findings.len(), 3);
    assert!(findings.iter().all(|f| f.kind == PiiKind::Email));
    for operator in [
        MaskOperator::Redact,
        MaskOperator::TypeTag,
        MaskOperator::Partial,
    ] {
        let masked = mask_text(text, &findings, &MaskConfig::all(operator));
        let left: Vec<_> = detect(&masked)
            .into_iter()
            .filter(|f| f.kind == PiiKind::Email)
            .collect();
        assert!(left.is_empty(), "{operator:?}: {masked}");
        for address in ["a@x.com", "b@y.org", "c@z.net"] {
            assert!(!masked.contains(address), "{operator:?}: {masked}");
        }
    }
}

#[test]
fn card_numbers_of_each_issuer() {
    let mastercard_low = with_luhn("222100000000000");
    let mastercard_high = with_luhn("272099123456789");
    let unionpay_19 = with_luhn("622202123456789012");
    for card in [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "378282246310005",
        "3782 822463 10005",
        mastercard_low.as_str(),
        mastercard_high.as_str(),
        unionpay_19.as_str(),
    ] {
        let text = format!("卡号 {card} 。");
        let findings = detect(&text);
        assert_eq!(findings.len(), 1, "{card}: {findings:?}");
        assert_eq!(findings[0].kind, PiiKind::PaymentCard, "{card}");
        assert_eq!(&text[findings[0].byte_span.clone()], card);
        assert_eq!(
            findings[0].tier,
            ConfidenceTier::ValidatedWithContext,
            "{card}"
        );
    }
}

#[test]
fn luhn_invalid_card_is_not_reported() {
    for card in [
        "4111111111111112",
        "4111 1111 1111 1112",
        "5555555555554445",
    ] {
        let kinds: Vec<PiiKind> = detect(card).iter().map(|f| f.kind).collect();
        assert!(!kinds.contains(&PiiKind::PaymentCard), "{card}: {kinds:?}");
    }
}

#[test]
fn mastercard_range_ends_at_2720() {
    let outside = with_luhn("272100000000000");
    assert!(found(&outside).is_empty(), "{outside}");
}

#[test]
fn iban_with_and_without_spaces() {
    for iban in [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR1420041010050500013M02606",
    ] {
        assert_eq!(
            found(&format!("IBAN: {iban}")),
            [(iban.to_string(), "iban")]
        );
    }
    assert!(found("DE89 3704 0044 0532 0130 01").is_empty());
    assert!(found("DE8937040044053201300").is_empty());
}

#[test]
fn ssn_areas_900_and_above_are_not_ssns() {
    assert_eq!(
        found("SSN 899-12-3456"),
        [("899-12-3456".to_string(), "us_ssn")]
    );
    for area in [900, 912, 950, 999] {
        let text = format!("SSN {area}-12-3456");
        let ssns: Vec<_> = detect(&text)
            .into_iter()
            .filter(|f| f.kind == PiiKind::UsSsn)
            .collect();
        assert!(ssns.is_empty(), "{text}");
    }
    assert!(found("666-12-3456").is_empty());
    assert!(found("123-00-4567").is_empty());
}

#[test]
fn compact_ssn_needs_a_keyword() {
    assert!(found("order 123456789").is_empty());
    assert_eq!(
        found("SSN: 123456789"),
        [("123456789".to_string(), "us_ssn_compact")]
    );
}

#[test]
fn ip_and_mac_addresses() {
    let text =
        "hosts 192.168.1.10, 10.0.0.1:8080 and 2001:db8::8a2e:370:7334, nic 00:1A:2B:3C:4D:5E";
    let recognizers: Vec<&str> = found(text).into_iter().map(|(_, r)| r).collect();
    assert_eq!(recognizers, ["ipv4", "ipv4", "ipv6", "mac"]);
    assert_eq!(found(text)[1].0, "10.0.0.1:8080");
    assert!(found("256.1.1.1").is_empty());
    assert!(found("version 1.2.3.4.5").is_empty());
}

#[test]
fn host_and_port_are_one_token() {
    assert_eq!(
        found("connect to db.example.com:5432 now"),
        [("db.example.com:5432".to_string(), "domain")]
    );
    assert!(found("connect to db.example.com:99999 now").is_empty());
    assert!(found("connect to 10.0.0.1:99999 now").is_empty());
    assert_eq!(
        found("see [2001:db8::1]:443"),
        [("[2001:db8::1]:443".to_string(), "ipv6")]
    );
}

#[test]
fn code_tokens_are_not_urls_or_domains() {
    for text in [
        "run python setup.py install",
        "call os.system(cmd) then sys.path.append(x)",
        "edit rpc.py and main.rs, see README.md",
        "user.email = self.name",
        "myObject.info is set",
    ] {
        let web: Vec<_> = detect(text)
            .into_iter()
            .filter(|f| matches!(f.kind, PiiKind::Url | PiiKind::Domain))
            .map(|f| text[f.byte_span].to_string())
            .collect();
        assert!(web.is_empty(), "{text}: {web:?}");
    }
}

#[test]
fn urls_and_domains_in_prose() {
    assert_eq!(
        found("see https://example.com/a?b=1."),
        [("https://example.com/a?b=1".to_string(), "url")]
    );
    assert_eq!(
        found("visit www.example.org today"),
        [("www.example.org".to_string(), "url")]
    );
    assert_eq!(
        found("visit example.com/about"),
        [("example.com/about".to_string(), "url")]
    );
    assert_eq!(
        found("mail the city.gov.cn team"),
        [("city.gov.cn".to_string(), "domain")]
    );
}

#[test]
fn spans_never_cut_a_token() {
    let text = "see https://example.com/a, a@b.com, x.example.com/p, setup.py, \
                4111111111111111, 192.168.1.1:80, 00:1A:2B:3C:4D:5E; 京A12345。";
    for finding in detect(text) {
        let before = text[..finding.byte_span.start].chars().next_back();
        let after = text[finding.byte_span.end..].chars().next();
        let value = &text[finding.byte_span.clone()];
        assert!(
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || "._@/:-".contains(c)),
            "{value} cuts at its start"
        );
        assert!(
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || "_@/".contains(c)),
            "{value} cuts at its end"
        );
    }
}

#[test]
fn date_of_birth_needs_a_birth_keyword() {
    assert!(found("meeting on 1990-01-31").is_empty());
    assert!(found("2024年3月1日开会").is_empty());
    for (text, date) in [
        ("born 1990-01-31", "1990-01-31"),
        ("DOB: 31/01/1990", "31/01/1990"),
        ("Date of birth: January 31, 1990", "January 31, 1990"),
        ("出生日期：1990年1月31日", "1990年1月31日"),
        ("1990年1月31日出生", "1990年1月31日"),
        ("生日 01/31/1990", "01/31/1990"),
    ] {
        let findings = detect(text);
        assert_eq!(findings.len(), 1, "{text}");
        assert_eq!(findings[0].kind, PiiKind::DateOfBirth, "{text}");
        assert_eq!(&text[findings[0].byte_span.clone()], date, "{text}");
        assert_eq!(findings[0].tier, ConfidenceTier::ValidatedWithContext);
    }
}

#[test]
fn birth_keyword_belongs_to_its_own_clause() {
    let text = "出生日期1990-01-31，入职日期2015-03-01";
    assert_eq!(found(text), [("1990-01-31".to_string(), "date_of_birth")]);
    assert!(found("born: unknown, joined 2015-03-01").is_empty());
}

#[test]
fn social_credit_codes_need_both_check_characters() {
    for code in [
        "91350100M000100Y43",
        "91110000600037341L",
        "91110108551385082Q",
    ] {
        let findings = detect(&format!("统一社会信用代码：{code}"));
        assert_eq!(findings.len(), 1, "{code}");
        assert_eq!(findings[0].kind, PiiKind::SocialCreditCode);
        assert_eq!(findings[0].tier, ConfidenceTier::ValidatedWithContext);
    }
    // Wrong position 18.
    assert!(detect("代码91350100M000100Y44").is_empty());
    // Wrong organisation code check (position 17) with position 18 made to fit.
    let first17 = "91350100M000100Y5";
    let check = social_credit_code_check_character(first17).expect("check");
    assert!(detect(&format!("代码{first17}{check}")).is_empty());
}

#[test]
fn wrong_check_character_is_never_validated() {
    let config = DetectorConfig {
        report_failed_check_character: true,
        ..DetectorConfig::default()
    };
    let detector = Detector::new(config).expect("detector");
    for text in ["身份证110105194912310021", "代码91350100M000100Y44"] {
        let findings = detector.detect(text);
        assert_eq!(findings.len(), 1, "{text}");
        assert_eq!(findings[0].tier, ConfidenceTier::PatternOnly, "{text}");
    }
}

#[test]
fn licence_plates_including_new_energy() {
    for plate in [
        "京A12345",
        "粤B·D12345",
        "沪AD12345",
        "苏E12345F",
        "京A1234学",
    ] {
        let text = format!("车牌{plate}违停");
        assert_eq!(
            found(&text),
            [(plate.to_string(), "cn_licence_plate")],
            "{text}"
        );
    }
    assert!(found("车牌京AI2345违停").is_empty());
    assert!(found("车牌京A123456违停").is_empty());
}

#[test]
fn passports_chinese_alone_others_with_keyword() {
    assert_eq!(
        found("证号E12345678"),
        [("E12345678".to_string(), "cn_passport")]
    );
    assert_eq!(found("ref X1234567 ok"), []);
    assert_eq!(
        found("passport X1234567 ok"),
        [("X1234567".to_string(), "passport")]
    );
}

#[test]
fn gps_pairs_with_range_checks() {
    assert_eq!(
        found("位置39.9042, 116.4074附近"),
        [("39.9042, 116.4074".to_string(), "gps_coordinate")]
    );
    assert_eq!(
        found("at 33.8688°S，151.2093°E"),
        [("33.8688°S，151.2093°E".to_string(), "gps_coordinate")]
    );
    assert!(found("95.1234, 116.4074").is_empty());
    assert!(found("price 3.5, 4.25").is_empty());
}

#[test]
fn every_recognizer_finds_values_glued_to_chinese() {
    let resident_id = format!(
        "11010519491231002{}",
        resident_id_check_character("11010519491231002").expect("check")
    );
    let cases = [
        (
            format!("身份证{resident_id}谢谢"),
            resident_id.clone(),
            "cn_resident_id",
        ),
        (
            "旧证110105491231002谢谢".into(),
            "110105491231002".into(),
            "cn_resident_id_legacy",
        ),
        (
            "电话13812345678谢谢".into(),
            "13812345678".into(),
            "cn_mobile",
        ),
        (
            "座机010-12345678转人工".into(),
            "010-12345678".into(),
            "cn_fixed_line",
        ),
        (
            "国外+442079460958联系".into(),
            "+442079460958".into(),
            "e164",
        ),
        (
            "邮箱li@example.com谢谢".into(),
            "li@example.com".into(),
            "email",
        ),
        (
            "代码91350100M000100Y43谢谢".into(),
            "91350100M000100Y43".into(),
            "cn_social_credit_code",
        ),
        (
            "卡号4111111111111111谢谢".into(),
            "4111111111111111".into(),
            "payment_card",
        ),
        (
            "账号DE89370400440532013000谢谢".into(),
            "DE89370400440532013000".into(),
            "iban",
        ),
        ("号码123-45-6789谢谢".into(), "123-45-6789".into(), "us_ssn"),
        (
            "SSN是123456789谢谢".into(),
            "123456789".into(),
            "us_ssn_compact",
        ),
        ("地址192.168.1.10谢谢".into(), "192.168.1.10".into(), "ipv4"),
        (
            "地址2001:db8::8a2e:370:7334谢谢".into(),
            "2001:db8::8a2e:370:7334".into(),
            "ipv6",
        ),
        (
            "网卡00:1A:2B:3C:4D:5E谢谢".into(),
            "00:1A:2B:3C:4D:5E".into(),
            "mac",
        ),
        (
            "出生1990-01-31谢谢".into(),
            "1990-01-31".into(),
            "date_of_birth",
        ),
        (
            "车牌京A12345谢谢".into(),
            "京A12345".into(),
            "cn_licence_plate",
        ),
        (
            "坐标39.9042,116.4074谢谢".into(),
            "39.9042,116.4074".into(),
            "gps_coordinate",
        ),
        (
            "护照E12345678谢谢".into(),
            "E12345678".into(),
            "cn_passport",
        ),
        ("护照号X1234567谢谢".into(), "X1234567".into(), "passport"),
        (
            "网址https://example.com/a谢谢".into(),
            "https://example.com/a".into(),
            "url",
        ),
        ("访问example.com谢谢".into(), "example.com".into(), "domain"),
    ];
    for (text, value, recognizer) in cases {
        assert_eq!(found(&text), [(value, recognizer)], "{text}");
    }
}

#[test]
fn full_width_values_are_found_in_place() {
    let cases = [
        (
            "手机１３８１２３４５６７８谢谢",
            "１３８１２３４５６７８",
            PiiKind::Phone,
        ),
        (
            "卡号４１１１１１１１１１１１１１１１",
            "４１１１１１１１１１１１１１１１",
            PiiKind::PaymentCard,
        ),
        (
            "身份证１１０１０５１９４９１２３１００２Ｘ",
            "１１０１０５１９４９１２３１００２Ｘ",
            PiiKind::ResidentId,
        ),
        (
            "邮箱ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ。",
            "ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            PiiKind::Email,
        ),
        (
            "车牌京Ａ１２３４５",
            "京Ａ１２３４５",
            PiiKind::LicencePlate,
        ),
    ];
    for (text, value, kind) in cases {
        let findings = detect(text);
        assert_eq!(findings.len(), 1, "{text}");
        assert_eq!(findings[0].kind, kind, "{text}");
        assert_eq!(&text[findings[0].byte_span.clone()], value, "{text}");
        let by_chars: String = text
            .chars()
            .skip(findings[0].char_span.start)
            .take(findings[0].char_span.len())
            .collect();
        assert_eq!(by_chars, value, "{text}");
    }
}

#[test]
fn full_width_values_are_masked() {
    let text = "手机１３８１２３４５６７８，卡号４１１１１１１１１１１１１１１１";
    let findings = detect(text);
    let masked = mask_text(text, &findings, &MaskConfig::default());
    assert_eq!(masked, "手机138****5678，卡号************1111");
}

#[test]
fn one_megabyte_of_mixed_text_is_scanned() {
    let unit = "市民张伟电话13812345678，邮箱li@example.com; note ÄÖÜ ع 🙂 ";
    let repeats = 1_000_000 / unit.len() + 1;
    let text = unit.repeat(repeats);
    assert!(text.len() >= 1_000_000);
    let findings = detect(&text);
    assert_eq!(findings.len(), 2 * repeats);
}

#[test]
fn one_megabyte_of_one_character_class_is_scanned() {
    for unit in ["1", "a", ".", "1.", "a.", ":", "京A", "Ａ", " 1"] {
        let text = unit.repeat(1_000_000 / unit.len());
        let findings = detect(&text);
        assert!(findings.len() <= 1, "{unit:?}: {}", findings.len());
    }
}
