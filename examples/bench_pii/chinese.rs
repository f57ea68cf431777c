//! A generated Chinese set. Its sentences hold valid resident identity numbers, unified
//! social credit codes, mobile numbers (some in full-width digits), e-mail addresses and
//! licence plates. They also hold decoys that must not be reported: identity numbers and
//! credit codes whose check character is wrong. Templates and values are this project's own
//! and every value is invented.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use governance::secure::detect::{resident_id_check_character, social_credit_code_check_character};

use crate::dataset::{GoldSpan, Sentence};

/// County address codes (GB/T 2260) used for identity numbers and credit codes.
const REGIONS: &[&str] = &[
    "110105", "110108", "310104", "310115", "440305", "440106", "510107", "330106", "420111",
    "320102", "610113", "500103",
];

const RESIDENT_ID_CHECK: &[u8; 11] = b"10X98765432";

/// Alphabet of unified social credit codes, valued 0-30 in this order.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const ORG_CODE_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

const MOBILE_PREFIXES: &[&str] = &[
    "130", "133", "135", "138", "139", "150", "152", "158", "166", "177", "186", "188", "199",
];
const PROVINCES: &[char] = &[
    '京', '津', '沪', '渝', '冀', '豫', '云', '辽', '黑', '湘', '皖', '鲁', '苏', '浙', '粤', '川',
    '陕', '闽',
];
/// Plate letters: A-Z without I and O.
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const MAIL_USERS: &[&str] = &[
    "zhangwei",
    "li.na",
    "wang_fang88",
    "liuyang",
    "chen.jing",
    "zhao.lei2020",
    "huangmin",
    "sun_hao",
    "zhou.ting",
    "wu.qiang",
];
const MAIL_DOMAINS: &[&str] = &[
    "163.com",
    "qq.com",
    "126.com",
    "example.cn",
    "mail.example.com",
    "service.gov.example",
];

/// Kinds of slot a template can hold.
#[derive(Clone, Copy)]
enum Slot {
    ResidentId,
    BadResidentId,
    Mobile,
    Email,
    CreditCode,
    BadCreditCode,
    Plate,
}

/// Templates: literal text with `{}` where slots go, in order.
const TEMPLATES: &[(&str, &[Slot])] = &[
    (
        "居民身份证号{}，联系电话{}。",
        &[Slot::ResidentId, Slot::Mobile],
    ),
    ("报修人身份证{}已登记", &[Slot::ResidentId]),
    ("请核对证件号码：{}（户籍在本区）", &[Slot::ResidentId]),
    ("订单编号{}已发货，请勿回复", &[Slot::BadResidentId]),
    ("流水号{}对应的业务已办结。", &[Slot::BadResidentId]),
    ("手机{}，邮箱{}，请尽快回访", &[Slot::Mobile, Slot::Email]),
    ("来电号码 {} 反映路灯不亮", &[Slot::Mobile]),
    ("投诉人留下的联系方式是{}和{}", &[Slot::Mobile, Slot::Email]),
    (
        "企业统一社会信用代码{}，法人代表电话{}",
        &[Slot::CreditCode, Slot::Mobile],
    ),
    ("该公司信用代码为{}，已纳入监管", &[Slot::CreditCode]),
    ("批次号{}不是企业代码", &[Slot::BadCreditCode]),
    ("车牌号{}的车辆违停在消防通道", &[Slot::Plate]),
    (
        "车辆{}于早高峰驶入公交专用道，车主电话{}",
        &[Slot::Plate, Slot::Mobile],
    ),
    ("邮件请发送至{}，抄送主管", &[Slot::Email]),
    (
        "申请人{}（身份证）与{}（手机）信息一致",
        &[Slot::ResidentId, Slot::Mobile],
    ),
    ("经核查，{}号车辆已缴费", &[Slot::Plate]),
    (
        "档案编号{}与身份证{}不符",
        &[Slot::BadResidentId, Slot::ResidentId],
    ),
    (
        "商户{}的营业执照即将到期，联系人邮箱{}",
        &[Slot::CreditCode, Slot::Email],
    ),
    ("网格员回访{}，居民表示满意", &[Slot::Mobile]),
    (
        "身份证号码{}，车牌{}，电话{}",
        &[Slot::ResidentId, Slot::Plate, Slot::Mobile],
    ),
];

/// Gold type names, in the style of the English set.
fn gold_type(slot: Slot) -> Option<&'static str> {
    match slot {
        Slot::ResidentId => Some("CN_RESIDENT_ID"),
        Slot::Mobile => Some("PHONE_NUMBER"),
        Slot::Email => Some("EMAIL_ADDRESS"),
        Slot::CreditCode => Some("CN_SOCIAL_CREDIT_CODE"),
        Slot::Plate => Some("CN_LICENSE_PLATE"),
        Slot::BadResidentId | Slot::BadCreditCode => None,
    }
}

/// Returns the check character of an organisation code's first 8 characters (GB 11714).
pub fn org_code_check(first8: &str) -> char {
    let sum: u32 = first8
        .bytes()
        .zip(ORG_CODE_WEIGHTS)
        .map(|(byte, weight)| {
            let value = if byte.is_ascii_digit() {
                u32::from(byte - b'0')
            } else {
                u32::from(byte - b'A') + 10
            };
            value * weight
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        digit => char::from_digit(digit, 10).unwrap_or('0'),
    }
}

fn resident_id(rng: &mut ChaCha8Rng) -> String {
    let region = REGIONS.choose(rng).copied().unwrap_or("110105");
    let year = rng.random_range(1940..=2010);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let sequence = rng.random_range(0..1000);
    let first17 = format!("{region}{year:04}{month:02}{day:02}{sequence:03}");
    let check = resident_id_check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// Replaces the last character with a different valid-looking check character.
fn break_check(code: &str, alphabet: &[u8], rng: &mut ChaCha8Rng) -> String {
    let (head, last) = code.split_at(code.len() - 1);
    loop {
        let replacement = char::from(alphabet[rng.random_range(0..alphabet.len())]);
        if !last.starts_with(replacement) {
            return format!("{head}{replacement}");
        }
    }
}

fn credit_code(rng: &mut ChaCha8Rng) -> String {
    let region = REGIONS.choose(rng).copied().unwrap_or("110105");
    // Organisation codes use the credit-code alphabet so that the whole code stays valid.
    let org: String = (0..8)
        .map(|index| {
            let pool: &[u8] = if index == 0 {
                b"0123456789ABCDEFGHJKLMNPQRTUWXY"
            } else {
                b"0123456789"
            };
            char::from(pool[rng.random_range(0..pool.len())])
        })
        .collect();
    let authority = ['9', '9', '9', '1', '5', 'Y'][rng.random_range(0..6)];
    let category = ['1', '2', '3'][rng.random_range(0..3)];
    let first17 = format!("{authority}{category}{region}{org}{}", org_code_check(&org));
    let check = social_credit_code_check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn mobile(rng: &mut ChaCha8Rng) -> String {
    let prefix = MOBILE_PREFIXES.choose(rng).copied().unwrap_or("138");
    let rest: String = (0..8)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    match rng.random_range(0..6) {
        0 => format!("{prefix} {} {}", &rest[..4], &rest[4..]),
        1 => format!("+86{prefix}{rest}"),
        // Full-width digits, as typed with a Chinese input method.
        2 => format!("{prefix}{rest}")
            .chars()
            .map(|c| char::from_u32(c as u32 - u32::from(b'0') + 0xFF10).unwrap_or(c))
            .collect(),
        _ => format!("{prefix}{rest}"),
    }
}

fn email(rng: &mut ChaCha8Rng) -> String {
    let user = MAIL_USERS.choose(rng).copied().unwrap_or("user");
    let domain = MAIL_DOMAINS.choose(rng).copied().unwrap_or("example.cn");
    format!("{user}@{domain}")
}

fn plate(rng: &mut ChaCha8Rng) -> String {
    let province = PROVINCES.choose(rng).copied().unwrap_or('京');
    let authority = char::from(PLATE_LETTERS[rng.random_range(0..PLATE_LETTERS.len())]);
    let digits = |rng: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    match rng.random_range(0..4) {
        // New-energy small vehicle: D, then five digits.
        0 => format!("{province}{authority}D{}", digits(rng, 5)),
        // New-energy large vehicle: five digits, then F.
        1 => format!("{province}{authority}{}F", digits(rng, 5)),
        _ => format!("{province}{authority}{}", digits(rng, 5)),
    }
}

/// Generates `count` sentences, the same ones for the same seed.
pub fn generate(count: usize, seed: u64) -> Vec<Sentence> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|index| {
            let (template, slots) = TEMPLATES[index % TEMPLATES.len()];
            let mut text = String::new();
            let mut spans = Vec::new();
            let mut pieces = template.split("{}");
            text.push_str(pieces.next().unwrap_or(""));
            for (&slot, literal) in slots.iter().zip(pieces) {
                let value = match slot {
                    Slot::ResidentId => resident_id(&mut rng),
                    Slot::BadResidentId => {
                        let valid = resident_id(&mut rng);
                        break_check(&valid, RESIDENT_ID_CHECK, &mut rng)
                    }
                    Slot::Mobile => mobile(&mut rng),
                    Slot::Email => email(&mut rng),
                    Slot::CreditCode => credit_code(&mut rng),
                    Slot::BadCreditCode => {
                        let valid = credit_code(&mut rng);
                        break_check(&valid, USCC_ALPHABET, &mut rng)
                    }
                    Slot::Plate => plate(&mut rng),
                };
                let start = text.chars().count();
                text.push_str(&value);
                if let Some(entity_type) = gold_type(slot) {
                    spans.push(GoldSpan {
                        entity_type: entity_type.to_string(),
                        start_position: start,
                        end_position: start + value.chars().count(),
                    });
                }
                text.push_str(literal);
            }
            Sentence {
                full_text: text,
                spans,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_check_matches_known_codes() {
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91110108551385082Q",
        ] {
            assert_eq!(
                org_code_check(&code[8..16]),
                char::from(code.as_bytes()[16]),
                "{code}"
            );
            assert_eq!(
                social_credit_code_check_character(&code[..17]),
                Some(char::from(code.as_bytes()[17])),
                "{code}"
            );
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let first = generate(40, 7);
        let second = generate(40, 7);
        let texts = |set: &[Sentence]| set.iter().map(|s| s.full_text.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&first), texts(&second));
    }

    #[test]
    fn gold_spans_cover_their_values() {
        for sentence in generate(60, 3) {
            let chars: Vec<char> = sentence.full_text.chars().collect();
            for span in &sentence.spans {
                let value: String = chars[span.start_position..span.end_position]
                    .iter()
                    .collect();
                assert!(!value.is_empty());
                assert!(!value.contains('，'), "{value} in {}", sentence.full_text);
            }
        }
    }

    #[test]
    fn broken_check_differs() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let valid = resident_id(&mut rng);
        let broken = break_check(&valid, RESIDENT_ID_CHECK, &mut rng);
        assert_ne!(valid, broken);
        assert_eq!(valid[..17], broken[..17]);
    }
}
