//! Context keywords: words shortly before or after a candidate that name what it is (`电话`,
//! `email`, `出生`), found with one Aho-Corasick automaton over all keywords.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use governance_core::{Error, Result};

use super::PiiKind;

/// Keywords and the kinds of value they introduce. English keywords match case-insensitively
/// and only as whole words, so `id` does not fire inside `valid` nor `tel` inside `hotel`.
const KEYWORDS: &[(&str, &[PiiKind])] = &[
    ("phone", &[PiiKind::Phone]),
    ("telephone", &[PiiKind::Phone]),
    ("tel", &[PiiKind::Phone]),
    ("mobile", &[PiiKind::Phone]),
    ("call", &[PiiKind::Phone]),
    ("fax", &[PiiKind::Phone]),
    ("cell", &[PiiKind::Phone]),
    ("desk", &[PiiKind::Phone]),
    ("landline", &[PiiKind::Phone]),
    ("whatsapp", &[PiiKind::Phone]),
    ("座机", &[PiiKind::Phone]),
    ("传真", &[PiiKind::Phone]),
    ("来电", &[PiiKind::Phone]),
    ("致电", &[PiiKind::Phone]),
    ("email", &[PiiKind::Email]),
    ("e-mail", &[PiiKind::Email]),
    ("id", &[PiiKind::ResidentId]),
    ("identity", &[PiiKind::ResidentId]),
    ("身份证", &[PiiKind::ResidentId]),
    ("证件", &[PiiKind::ResidentId, PiiKind::Passport]),
    ("手机", &[PiiKind::Phone]),
    ("电话", &[PiiKind::Phone]),
    ("邮箱", &[PiiKind::Email]),
    ("邮件", &[PiiKind::Email]),
    ("联系方式", &[PiiKind::Phone, PiiKind::Email]),
    ("card", &[PiiKind::PaymentCard]),
    ("credit card", &[PiiKind::PaymentCard]),
    ("visa", &[PiiKind::PaymentCard]),
    ("mastercard", &[PiiKind::PaymentCard]),
    ("unionpay", &[PiiKind::PaymentCard]),
    ("卡号", &[PiiKind::PaymentCard]),
    ("银行卡", &[PiiKind::PaymentCard]),
    ("信用卡", &[PiiKind::PaymentCard]),
    ("借记卡", &[PiiKind::PaymentCard]),
    ("iban", &[PiiKind::Iban]),
    ("account", &[PiiKind::Iban]),
    ("bank", &[PiiKind::Iban, PiiKind::PaymentCard]),
    ("账号", &[PiiKind::Iban]),
    ("账户", &[PiiKind::Iban]),
    ("ip", &[PiiKind::IpAddress]),
    ("ipv4", &[PiiKind::IpAddress]),
    ("ipv6", &[PiiKind::IpAddress]),
    ("host", &[PiiKind::IpAddress, PiiKind::Domain]),
    ("server", &[PiiKind::IpAddress, PiiKind::Domain]),
    ("主机", &[PiiKind::IpAddress, PiiKind::Domain]),
    ("服务器", &[PiiKind::IpAddress, PiiKind::Domain]),
    ("mac", &[PiiKind::MacAddress]),
    ("物理地址", &[PiiKind::MacAddress]),
    ("网卡", &[PiiKind::MacAddress]),
    ("url", &[PiiKind::Url]),
    ("link", &[PiiKind::Url]),
    ("website", &[PiiKind::Url, PiiKind::Domain]),
    ("网址", &[PiiKind::Url]),
    ("链接", &[PiiKind::Url]),
    ("网站", &[PiiKind::Url, PiiKind::Domain]),
    ("domain", &[PiiKind::Domain]),
    ("域名", &[PiiKind::Domain]),
    ("ssn", &[PiiKind::UsSsn]),
    ("social security", &[PiiKind::UsSsn]),
    ("社会安全号", &[PiiKind::UsSsn]),
    ("born", &[PiiKind::DateOfBirth]),
    ("birth", &[PiiKind::DateOfBirth]),
    ("birthday", &[PiiKind::DateOfBirth]),
    ("birthdate", &[PiiKind::DateOfBirth]),
    ("dob", &[PiiKind::DateOfBirth]),
    ("出生", &[PiiKind::DateOfBirth]),
    ("生日", &[PiiKind::DateOfBirth]),
    ("生于", &[PiiKind::DateOfBirth]),
    ("信用代码", &[PiiKind::SocialCreditCode]),
    ("营业执照", &[PiiKind::SocialCreditCode]),
    ("纳税人识别号", &[PiiKind::SocialCreditCode]),
    ("税号", &[PiiKind::SocialCreditCode]),
    ("credit code", &[PiiKind::SocialCreditCode]),
    ("uscc", &[PiiKind::SocialCreditCode]),
    ("车牌", &[PiiKind::LicencePlate]),
    ("号牌", &[PiiKind::LicencePlate]),
    ("plate", &[PiiKind::LicencePlate]),
    ("passport", &[PiiKind::Passport]),
    ("护照", &[PiiKind::Passport]),
    ("gps", &[PiiKind::GpsCoordinate]),
    ("coordinates", &[PiiKind::GpsCoordinate]),
    ("location", &[PiiKind::GpsCoordinate]),
    ("lat", &[PiiKind::GpsCoordinate]),
    ("latitude", &[PiiKind::GpsCoordinate]),
    ("lng", &[PiiKind::GpsCoordinate]),
    ("longitude", &[PiiKind::GpsCoordinate]),
    ("坐标", &[PiiKind::GpsCoordinate]),
    ("经纬度", &[PiiKind::GpsCoordinate]),
    ("定位", &[PiiKind::GpsCoordinate]),
    ("位置", &[PiiKind::GpsCoordinate]),
];

/// Finds context keywords in the text before a candidate.
#[derive(Debug, Clone)]
pub(crate) struct ContextMatcher {
    automaton: AhoCorasick,
}

impl ContextMatcher {
    pub(crate) fn new() -> Result<Self> {
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(KEYWORDS.iter().map(|(keyword, _)| keyword))
            .map_err(|error| {
                Error::Internal(format!(
                    "context keyword automaton failed to build: {error}"
                ))
            })?;
        Ok(ContextMatcher { automaton })
    }

    /// Returns true when a keyword for `kind` occurs in `text[window]`. Word boundaries of
    /// English keywords are checked against the whole text, so a keyword cut by the window
    /// edge does not count.
    pub(crate) fn has_keyword_for(
        &self,
        text: &str,
        window: std::ops::Range<usize>,
        kind: PiiKind,
    ) -> bool {
        let Some(slice) = text.get(window.clone()) else {
            return false;
        };
        // Overlapping search fails only for automata built with a leftmost match kind, and
        // this one is built with the standard kind.
        let Ok(mut matches) = self.automaton.try_find_overlapping_iter(slice) else {
            return false;
        };
        matches.any(|found| {
            let (keyword, kinds) = KEYWORDS[found.pattern().as_usize()];
            if !kinds.contains(&kind) {
                return false;
            }
            if !keyword.is_ascii() {
                return true;
            }
            let start = window.start + found.start();
            let end = window.start + found.end();
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphabetic())
                && !after.is_some_and(|c| c.is_ascii_alphabetic())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, kind: PiiKind) -> bool {
        let matcher = ContextMatcher::new().expect("matcher");
        matcher.has_keyword_for(text, 0..text.len(), kind)
    }

    #[test]
    fn chinese_keywords_match_their_kind() {
        assert!(found("身份证号", PiiKind::ResidentId));
        assert!(found("手机：", PiiKind::Phone));
        assert!(found("联系方式", PiiKind::Email));
        assert!(!found("邮箱", PiiKind::Phone));
        assert!(found("出生日期", PiiKind::DateOfBirth));
        assert!(found("车牌号", PiiKind::LicencePlate));
        assert!(found("统一社会信用代码", PiiKind::SocialCreditCode));
    }

    #[test]
    fn english_phrases_match_whole() {
        assert!(found("Date of birth: ", PiiKind::DateOfBirth));
        assert!(found("DOB ", PiiKind::DateOfBirth));
        assert!(found("Social Security No. ", PiiKind::UsSsn));
        assert!(!found("reborn ", PiiKind::DateOfBirth));
        assert!(!found("zip ", PiiKind::IpAddress));
    }

    #[test]
    fn english_keywords_need_word_boundaries() {
        assert!(found("Tel: ", PiiKind::Phone));
        assert!(found("ID ", PiiKind::ResidentId));
        assert!(!found("hotel ", PiiKind::Phone));
        assert!(!found("valid ", PiiKind::ResidentId));
    }
}
