//! Detection as a user sees it: recognizers, validators, boundaries in Chinese text.

use chrono::{Days, Local};
use governance_secure::detect::{
    ConfidenceTier, Detector, DetectorConfig, PiiFinding, PiiKind, resident_id_check_character,
};

fn detect(text: &str) -> Vec<PiiFinding> {
    Detector::new(DetectorConfig::default())
        .expect("default detector")
        .detect(text)
}

/// Returns the matched texts, in order.
fn matched(text: &str) -> Vec<&str> {
    detect(text)
        .into_iter()
        .map(|finding| &text[finding.byte_span])
        .collect()
}

/// Completes 17 digits with their check character.
fn with_check(first17: &str) -> String {
    let check = resident_id_check_character(first17).expect("17 digits");
    format!("{first17}{check}")
}

#[test]
fn resident_id_examples_validate() {
    for id in [
        "11010519491231002X",
        "440524188001010014",
        "11010519491231002x",
    ] {
        let findings = detect(&format!("编号 {id} 。"));
        assert_eq!(findings.len(), 1, "{id}");
        assert_eq!(findings[0].kind, PiiKind::ResidentId, "{id}");
        assert_eq!(findings[0].recognizer, "cn_resident_id", "{id}");
        assert_eq!(findings[0].tier, ConfidenceTier::Validated, "{id}");
    }
}

#[test]
fn resident_id_wrong_check_character_dropped() {
    assert!(detect("编号 110105194912310021").is_empty());
    assert!(detect("编号 440524188001010015").is_empty());
}

#[test]
fn resident_id_impossible_date_dropped() {
    let february_31 = with_check("11010519490231002");
    assert!(detect(&format!("编号 {february_31}")).is_empty());
}

#[test]
fn resident_id_future_birth_date_dropped() {
    let tomorrow = Local::now()
        .date_naive()
        .checked_add_days(Days::new(1))
        .expect("tomorrow");
    let id = with_check(&format!("110105{}002", tomorrow.format("%Y%m%d")));
    assert!(detect(&format!("编号 {id}")).is_empty(), "{id}");

    let last_year = Local::now()
        .date_naive()
        .checked_sub_days(Days::new(365))
        .expect("last year");
    let id = with_check(&format!("110105{}002", last_year.format("%Y%m%d")));
    assert_eq!(matched(&format!("编号 {id}")), [id.as_str()]);
}

#[test]
fn legacy_resident_id_is_pattern_only() {
    let findings = detect("旧身份证110105491231002");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].recognizer, "cn_resident_id_legacy");
    assert_eq!(findings[0].tier, ConfidenceTier::PatternOnly);
    assert!(findings[0].has_context);
    assert!(detect("旧证110105490231002").is_empty());
}

#[test]
fn mobile_with_prefixes_and_separators() {
    let text = "A: +86 138 1234 5678; B: 0086-139-1234-5678; C: 15012345678; D: +8618612345678";
    assert_eq!(
        matched(text),
        [
            "+86 138 1234 5678",
            "0086-139-1234-5678",
            "15012345678",
            "+8618612345678"
        ]
    );
    assert!(
        detect(text)
            .iter()
            .all(|finding| finding.recognizer == "cn_mobile")
    );
}

#[test]
fn fixed_line_and_international() {
    let text = "市政热线 010-12345678，深圳 0755-1234567，London +442079460958";
    let findings = detect(text);
    let recognizers: Vec<&str> = findings.iter().map(|finding| finding.recognizer).collect();
    assert_eq!(recognizers, ["cn_fixed_line", "cn_fixed_line", "e164"]);
    assert_eq!(
        matched(text),
        ["010-12345678", "0755-1234567", "+442079460958"]
    );
}

#[test]
fn values_glued_to_chinese_are_found() {
    let cases = [
        (
            "身份证号11010519491231002X",
            "11010519491231002X",
            "cn_resident_id",
        ),
        (
            "旧证号110105491231002谢谢",
            "110105491231002",
            "cn_resident_id_legacy",
        ),
        ("电话13812345678谢谢", "13812345678", "cn_mobile"),
        ("座机010-12345678转人工", "010-12345678", "cn_fixed_line"),
        ("国外号码+442079460958联系", "+442079460958", "e164"),
        (
            "邮箱zhang.wei@example.com。",
            "zhang.wei@example.com",
            "email",
        ),
    ];
    for (text, value, recognizer) in cases {
        let findings = detect(text);
        assert_eq!(findings.len(), 1, "{text}");
        assert_eq!(&text[findings[0].byte_span.clone()], value, "{text}");
        assert_eq!(findings[0].recognizer, recognizer, "{text}");
    }
}

#[test]
fn no_match_inside_longer_digit_runs() {
    for text in [
        "12345678901234567890",
        "流水号911010519491231002X1",
        "订单号2013812345678900",
        "0010-123456789",
        "编号1101054912310021",
        "+44138123456789012",
        "价格 13812345678.50 元",
    ] {
        let findings = detect(text);
        if let Some(finding) = findings.first() {
            let span = &text[finding.byte_span.clone()];
            panic!(
                "{text}: unexpected finding {span:?} ({})",
                finding.recognizer
            );
        }
    }
}

#[test]
fn no_match_inside_longer_tokens() {
    for text in [
        "user_13812345678",
        "A11010519491231002X",
        "key=abc!li@example.com",
        "li@example.com.evil1",
        "li@example.com@relay",
    ] {
        assert!(matched(text).is_empty(), "{text}: {:?}", matched(text));
    }
}

#[test]
fn spans_never_cut_a_token() {
    let text = "联系 a@x.com，电话13812345678；ID 11010519491231002X。";
    for finding in detect(text) {
        let before = text[..finding.byte_span.start].chars().next_back();
        let after = text[finding.byte_span.end..].chars().next();
        assert!(
            !before.is_some_and(|c| c.is_ascii_alphanumeric()),
            "{finding:?}"
        );
        assert!(
            !after.is_some_and(|c| c.is_ascii_alphanumeric()),
            "{finding:?}"
        );
    }
}

#[test]
fn space_separated_emails_are_three_findings() {
    let text = "a@x.com b@y.org c@z.net";
    assert_eq!(matched(text), ["a@x.com", "b@y.org", "c@z.net"]);
}

#[test]
fn context_keywords_raise_confidence() {
    let cases = [
        ("Tel: 13812345678", PiiKind::Phone),
        ("mobile 13812345678", PiiKind::Phone),
        ("email: li@example.com", PiiKind::Email),
        ("identity 11010519491231002X", PiiKind::ResidentId),
        ("联系方式：li@example.com", PiiKind::Email),
        ("证件号码：11010519491231002X", PiiKind::ResidentId),
    ];
    for (text, kind) in cases {
        let findings = detect(text);
        assert_eq!(findings.len(), 1, "{text}");
        assert_eq!(findings[0].kind, kind, "{text}");
        assert_eq!(
            findings[0].tier,
            ConfidenceTier::ValidatedWithContext,
            "{text}"
        );
        assert!(findings[0].score > 0.9, "{text}");
    }
}

#[test]
fn keyword_for_another_kind_adds_nothing() {
    let findings = detect("邮箱 13812345678");
    assert_eq!(findings[0].tier, ConfidenceTier::Validated);
    assert!(!findings[0].has_context);
}

#[test]
fn char_and_byte_spans_agree() {
    let text = "张伟的手机是13812345678，邮箱是zhang.wei@example.com";
    for finding in detect(text) {
        let by_chars: String = text
            .chars()
            .skip(finding.char_span.start)
            .take(finding.char_span.len())
            .collect();
        assert_eq!(by_chars, &text[finding.byte_span.clone()]);
    }
}

#[test]
fn config_reads_from_json() {
    let config: DetectorConfig = serde_json::from_str(
        r#"{"kinds":["phone"],"context_window_chars":5,"min_tier":"validated"}"#,
    )
    .expect("valid config");
    let detector = Detector::new(config).expect("detector");
    assert!(detector.detect("li@example.com").is_empty());
    assert_eq!(detector.detect("13812345678").len(), 1);
}
