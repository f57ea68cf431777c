//! Masking of detected values in text.

use governance_secure::detect::{Detector, DetectorConfig, PiiKind};
use governance_secure::mask::{MaskConfig, MaskOperator, mask_text};

fn mask(text: &str, config: &MaskConfig) -> String {
    let detector = Detector::new(DetectorConfig::default()).expect("detector");
    mask_text(text, &detector.detect(text), config)
}

#[test]
fn partial_masks_keep_documented_characters() {
    let config = MaskConfig::default();
    assert_eq!(mask("手机13812345678", &config), "手机138****5678");
    assert_eq!(mask("手机138-1234-5678。", &config), "手机138****5678。");
    assert_eq!(
        mask("邮箱zhang.wei@example.com。", &config),
        "邮箱z***@example.com。"
    );
    assert_eq!(
        mask("身份证号11010519491231002X", &config),
        "身份证号110105********002X"
    );
}

#[test]
fn type_tags_replace_each_kind() {
    let config = MaskConfig::all(MaskOperator::TypeTag);
    let text = "张伟 13812345678 zhang.wei@example.com 11010519491231002X";
    assert_eq!(mask(text, &config), "张伟 <PHONE> <EMAIL> <RESIDENT_ID>");
}

#[test]
fn redact_removes_values() {
    let config = MaskConfig::all(MaskOperator::Redact);
    assert_eq!(mask("电话13812345678谢谢", &config), "电话谢谢");
}

#[test]
fn space_separated_emails_become_three_placeholders() {
    let text = "a@x.com b@y.org c@z.net";
    let masked = mask(text, &MaskConfig::all(MaskOperator::TypeTag));
    assert_eq!(masked, "<EMAIL> <EMAIL> <EMAIL>");
    for address in text.split(' ') {
        assert!(!masked.contains(address), "{address} left in {masked}");
    }

    let partial = mask(text, &MaskConfig::default());
    assert_eq!(partial, "a***@x.com b***@y.org c***@z.net");
}

#[test]
fn per_kind_operators_mix() {
    let config = MaskConfig::default()
        .with(PiiKind::ResidentId, MaskOperator::TypeTag)
        .with(PiiKind::Email, MaskOperator::Redact);
    let text = "ID 11010519491231002X, tel 13812345678, mail li@example.com";
    assert_eq!(
        mask(text, &config),
        "ID <RESIDENT_ID>, tel 138****5678, mail "
    );
}

#[test]
fn text_without_findings_is_unchanged() {
    let text = "路灯不亮，编号A-17";
    assert_eq!(mask(text, &MaskConfig::default()), text);
}
