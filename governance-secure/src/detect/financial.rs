//! Payment card numbers (Luhn check digit, issuer prefixes) and international bank account
//! numbers (ISO 13616, mod-97 check).

use chrono::NaiveDate;
use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::cn_id::{IdCheck, check_resident_id};
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Card number: 12 to 19 digits in one run, or grouped with spaces or dashes as printed on
/// cards: 4-4-4-1..4 (13 to 16 digits), 4-4-4-4-1..3 (17 to 19) and 4-6-4..5 (American
/// Express and Diners Club).
const CARD_PATTERN: &str = r"[0-9]{12,19}|[0-9]{4}(?:[ \-][0-9]{4}){2}[ \-][0-9]{1,4}(?:[ \-][0-9]{1,3})?|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5}";

/// Issuer prefixes (inclusive ranges of the leading digits) and the lengths their cards
/// have, after the issuers' published ranges. The list covers Visa, Mastercard (51-55 and
/// 2221-2720), American Express, UnionPay, Discover, JCB (with its older 15-digit 1800 and
/// 2131 ranges), Diners Club and Maestro.
const ISSUERS: &[(&str, u32, u32, &[usize])] = &[
    ("visa", 4, 4, &[13, 16, 19]),
    ("mastercard", 51, 55, &[16]),
    ("mastercard", 2221, 2720, &[16]),
    ("american_express", 34, 34, &[15]),
    ("american_express", 37, 37, &[15]),
    ("unionpay", 62, 62, &[16, 17, 18, 19]),
    ("discover", 6011, 6011, &[16, 19]),
    ("discover", 644, 649, &[16, 19]),
    ("discover", 65, 65, &[16, 19]),
    ("jcb", 3528, 3589, &[16, 17, 18, 19]),
    ("jcb", 1800, 1800, &[15]),
    ("jcb", 2131, 2131, &[15]),
    ("diners_club", 300, 305, &[14, 16, 19]),
    ("diners_club", 36, 36, &[14, 16, 19]),
    ("diners_club", 38, 39, &[16, 19]),
    ("maestro", 50, 50, &[12, 13, 14, 15, 16, 17, 18, 19]),
    ("maestro", 56, 58, &[12, 13, 14, 15, 16, 17, 18, 19]),
    ("maestro", 6304, 6304, &[12, 13, 14, 15, 16, 17, 18, 19]),
    ("maestro", 6759, 6759, &[12, 13, 14, 15, 16, 17, 18, 19]),
    ("maestro", 6761, 6763, &[12, 13, 14, 15, 16, 17, 18, 19]),
];

/// Returns true when the digits end in a valid Luhn check digit.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let value = u32::from(digit - b'0');
            if position % 2 == 1 {
                let doubled = value * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                value
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// Returns the issuer whose prefix and length fit `digits`.
fn issuer(digits: &str) -> Option<&'static str> {
    ISSUERS
        .iter()
        .find(|(_, low, high, lengths)| {
            let prefix_len = low.to_string().len();
            let prefix = digits.get(..prefix_len).and_then(|p| p.parse::<u32>().ok());
            prefix.is_some_and(|p| (*low..=*high).contains(&p)) && lengths.contains(&digits.len())
        })
        .map(|(name, ..)| *name)
}

/// Returns true when all separators in `candidate` are the same character.
pub(crate) fn has_one_separator_kind(candidate: &str) -> bool {
    let mut separators = candidate.chars().filter(|c| !c.is_ascii_alphanumeric());
    match separators.next() {
        None => true,
        Some(first) => separators.all(|c| c == first),
    }
}

/// Checks a card candidate: one kind of separator, an issuer prefix and length that is
/// listed (or, with `listed_issuer` false, one that is not), and the Luhn check digit. An 18-digit number with the region and birth date of a Chinese resident
/// identity number is left to that recognizer, even when its check character is wrong, so a
/// mistyped identity number is never reported as a card.
fn check_card(candidate: &str, today: NaiveDate, listed_issuer: bool) -> bool {
    if !has_one_separator_kind(candidate) {
        return false;
    }
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    if !(12..=19).contains(&digits.len()) || issuer(&digits).is_some() != listed_issuer {
        return false;
    }
    if digits.len() == 18 && check_resident_id(&digits, today) != IdCheck::Invalid {
        return false;
    }
    luhn_valid(digits.as_bytes())
}

/// Recognizes payment card numbers. Numbers with a known issuer prefix and a valid Luhn check
/// digit are validated, all others are dropped.
#[derive(Debug)]
pub(crate) struct CardRecognizer {
    pattern: Regex,
}

impl CardRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(CardRecognizer {
            pattern: compile(CARD_PATTERN)?,
        })
    }
}

impl Recognizer for CardRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::PaymentCard
    }

    fn name(&self) -> &'static str {
        "payment_card"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier> {
        check_card(candidate, today.get(), true).then_some(ConfidenceTier::Validated)
    }
}

/// Recognizes Luhn-valid card numbers whose prefix is in no listed issuer range, such as
/// private-label and regional cards. About one random digit run in ten passes the Luhn check,
/// so these are reported only with a card keyword in the same clause.
#[derive(Debug)]
pub(crate) struct UnlistedCardRecognizer {
    pattern: Regex,
}

impl UnlistedCardRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(UnlistedCardRecognizer {
            pattern: compile(CARD_PATTERN)?,
        })
    }
}

impl Recognizer for UnlistedCardRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::PaymentCard
    }

    fn name(&self) -> &'static str {
        "payment_card_unlisted_issuer"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier> {
        check_card(candidate, today.get(), false).then_some(ConfidenceTier::Validated)
    }

    fn requires_context(&self) -> bool {
        true
    }
}

/// IBAN: country code, two check digits, and the basic bank account number of up to 30
/// upper-case letters and digits, compact or in groups of four separated by single spaces.
const IBAN_PATTERN: &str =
    r"[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)";

/// IBAN length per country, from the SWIFT IBAN registry.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Returns true when `iban` (compact, upper case) has its country's length and passes the
/// ISO 7064 mod-97 check. The check moves the first four characters to the end, replaces
/// letters by 10 to 35, and expects the resulting number modulo 97 to be 1.
pub(crate) fn iban_valid(iban: &str) -> bool {
    let Some(country) = iban.get(..2) else {
        return false;
    };
    let expected_len = IBAN_LENGTHS
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, len)| *len);
    if expected_len != Some(iban.len()) {
        return false;
    }
    let mut remainder: u32 = 0;
    for c in iban[4..].chars().chain(iban[..4].chars()) {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

/// Recognizes IBANs. Those with their country's length and a valid check are validated, all
/// others are dropped.
#[derive(Debug)]
pub(crate) struct IbanRecognizer {
    pattern: Regex,
}

impl IbanRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(IbanRecognizer {
            pattern: compile(IBAN_PATTERN)?,
        })
    }
}

impl Recognizer for IbanRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Iban
    }

    fn name(&self) -> &'static str {
        "iban"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let compact: String = candidate.chars().filter(|c| *c != ' ').collect();
        iban_valid(&compact).then_some(ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
    }

    #[test]
    fn luhn_accepts_known_test_numbers() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"5555555555554444"));
        assert!(luhn_valid(b"378282246310005"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b""));
    }

    #[test]
    fn issuers_by_prefix_and_length() {
        assert_eq!(issuer("4111111111111111"), Some("visa"));
        assert_eq!(issuer("2221000000000009"), Some("mastercard"));
        assert_eq!(issuer("2720990000000007"), Some("mastercard"));
        assert_eq!(issuer("2721000000000000"), None);
        assert_eq!(issuer("6222021234567890123"), Some("unionpay"));
        assert_eq!(issuer("378282246310005"), Some("american_express"));
        assert_eq!(issuer("411111111111111"), None);
    }

    #[test]
    fn cards_need_one_kind_of_separator() {
        assert!(check_card("4111 1111 1111 1111", today(), true));
        assert!(check_card("4111-1111-1111-1111", today(), true));
        assert!(!check_card("4111 1111-1111 1111", today(), true));
    }

    #[test]
    fn resident_id_shaped_numbers_are_not_cards() {
        // 62 is both the UnionPay prefix and the province code of Gansu.
        let id = format!(
            "62010219800101001{}",
            crate::detect::resident_id_check_character("62010219800101001").expect("check")
        );
        assert!(!check_card(&id, today(), true));
    }

    #[test]
    fn iban_examples() {
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(iban_valid("FR1420041010050500013M02606"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert!(!iban_valid("DE8937040044053201300"));
        assert!(!iban_valid("ZZ89370400440532013000"));
    }
}
