//! Generators of realistic Chinese personal data for service tickets (names, mobile numbers,
//! e-mail addresses, resident identity numbers) and the GB 11643 check of resident ids.

use chrono::{Datelike, NaiveDate, TimeDelta};
use rand::Rng;

/// Weights of the first 17 characters in the GB 11643-1999 checksum.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check characters indexed by the weighted sum modulo 11.
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Returns the check character of a resident id whose first 17 characters are `body`, or
/// `None` when `body` is not 17 ASCII digits.
pub fn resident_id_check_char(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize])
}

/// Returns true when `id` is an 18-character resident id (GB 11643-1999) with a valid
/// birth date (characters 7 to 14, `YYYYMMDD`, from 1900 on) and a correct check character.
/// A lowercase `x` is accepted as the check character.
pub fn is_valid_resident_id(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (body, check) = id.split_at(17);
    let Some(expected) = resident_id_check_char(body) else {
        return false;
    };
    if !check.eq_ignore_ascii_case(&expected.to_string()) {
        return false;
    }
    match NaiveDate::parse_from_str(&body[6..14], "%Y%m%d") {
        Ok(date) => date.year() >= 1900,
        Err(_) => false,
    }
}

/// Administrative division codes of Beijing's districts, the first six id digits.
const BEIJING_DISTRICTS: [&str; 16] = [
    "110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
    "110113", "110114", "110115", "110116", "110117", "110118", "110119",
];

/// Generates a valid resident id of a person born between 1940 and 2005.
pub(crate) fn resident_id(rng: &mut impl Rng) -> String {
    let district = BEIJING_DISTRICTS[rng.random_range(0..BEIJING_DISTRICTS.len())];
    let earliest = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
    // Offsets 0 to 24 106 reach from 1940-01-01 to 2005-12-31.
    let birth = earliest + TimeDelta::days(rng.random_range(0..24_107));
    let sequence = rng.random_range(1..1000u32);
    let body = format!("{district}{}{sequence:03}", birth.format("%Y%m%d"));
    let check = resident_id_check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

/// Mobile network prefixes in use in mainland China.
const MOBILE_PREFIXES: [&str; 16] = [
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177",
    "186", "188", "199",
];

/// Generates a mobile number in one of the ways people write them: plain, with `+86`, or
/// grouped 3-4-4 by spaces or dashes.
pub(crate) fn phone(rng: &mut impl Rng) -> String {
    let prefix = MOBILE_PREFIXES[rng.random_range(0..MOBILE_PREFIXES.len())];
    let middle = rng.random_range(0..10_000u32);
    let last = rng.random_range(0..10_000u32);
    match rng.random_range(0..6) {
        0 | 1 => format!("{prefix}{middle:04}{last:04}"),
        2 => format!("+86 {prefix}{middle:04}{last:04}"),
        3 => format!("+86{prefix}{middle:04}{last:04}"),
        4 => format!("{prefix} {middle:04} {last:04}"),
        _ => format!("{prefix}-{middle:04}-{last:04}"),
    }
}

/// Common family names, in characters and pinyin.
const SURNAMES: [(&str, &str); 20] = [
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
    ("高", "Gao"),
    ("林", "Lin"),
    ("何", "He"),
    ("郭", "Guo"),
    ("马", "Ma"),
    ("罗", "Luo"),
];

/// Common given names, in characters and pinyin.
const GIVEN_NAMES: [(&str, &str); 22] = [
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀英", "Xiuying"),
    ("华", "Hua"),
    ("建国", "Jianguo"),
    ("晓东", "Xiaodong"),
    ("玉兰", "Yulan"),
    ("志强", "Zhiqiang"),
];

/// A generated person: the same name in characters and in pinyin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub chinese: String,
    /// Family name first, as Chinese names are written in English too: `Wang Wei`.
    pub pinyin: String,
    surname: &'static str,
    given: &'static str,
}

pub(crate) fn person(rng: &mut impl Rng) -> Person {
    let (surname, surname_pinyin) = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let (given, given_pinyin) = GIVEN_NAMES[rng.random_range(0..GIVEN_NAMES.len())];
    Person {
        chinese: format!("{surname}{given}"),
        pinyin: format!("{surname_pinyin} {given_pinyin}"),
        surname: surname_pinyin,
        given: given_pinyin,
    }
}

const MAIL_DOMAINS: [&str; 5] = ["163.com", "qq.com", "126.com", "sina.com", "example.cn"];

/// Generates an e-mail address for `person`, such as `wei.wang88@163.com`.
pub(crate) fn email(person: &Person, rng: &mut impl Rng) -> String {
    let surname = person.surname.to_lowercase();
    let given = person.given.to_lowercase();
    let domain = MAIL_DOMAINS[rng.random_range(0..MAIL_DOMAINS.len())];
    match rng.random_range(0..3) {
        0 => format!("{given}.{surname}{}@{domain}", rng.random_range(1..100)),
        1 => format!("{surname}{given}@{domain}"),
        _ => format!("{surname}_{}@{domain}", rng.random_range(1960..2006)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn known_resident_id_validates() {
        // Check character worked by hand: the weighted sum of 11010519491231002 is 167,
        // 167 mod 11 = 2, which maps to X.
        assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
        assert!(is_valid_resident_id("11010519491231002X"));
        assert!(is_valid_resident_id("11010519491231002x"));
    }

    #[test]
    fn wrong_check_or_date_fails() {
        assert!(!is_valid_resident_id("110105194912310021"));
        assert!(!is_valid_resident_id("11010519491331002X"));
        assert!(!is_valid_resident_id("1101051949123100"));
        assert!(resident_id_check_char("1101051949123100a").is_none());
    }

    #[test]
    fn generated_ids_validate() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..2000 {
            let id = resident_id(&mut rng);
            assert!(is_valid_resident_id(&id), "{id}");
        }
    }

    #[test]
    fn phones_hold_eleven_digits() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..500 {
            let number = phone(&mut rng);
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            let national = digits
                .strip_prefix("86")
                .filter(|_| number.starts_with('+'));
            let national = national.unwrap_or(&digits);
            assert_eq!(national.len(), 11, "{number}");
            assert!(national.starts_with('1'), "{number}");
        }
    }

    #[test]
    fn emails_have_one_at_sign() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let someone = person(&mut rng);
        let address = email(&someone, &mut rng);
        assert_eq!(address.matches('@').count(), 1, "{address}");
    }
}
