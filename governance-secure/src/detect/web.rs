//! URLs and domain names.
//!
//! Dotted names are everywhere in code and logs (`setup.py`, `os.system`, `sys.path`,
//! `user.email`), so a name counts as a domain only when it looks like one in prose:
//!
//! - A URL has a scheme (`https://`, `ftp://`, ...), starts with `www.`, or is a domain name
//!   that passes the rules below followed by a path (`example.com/about`).
//! - A domain name on its own ends in a top-level domain from the built-in list
//!   [`TOP_LEVEL_DOMAINS`] (country codes and the common generic domains). Generic domains
//!   that are also common attribute names in code (`.name`, `.email`, `.map`, `.zip`) are not
//!   in the list.
//! - Country codes that are also file extensions or attribute names (`.py`, `.rs`, `.md`,
//!   `.sh`, `.pl`, `.id`, `.in`, ...; see [`CODE_LIKE_TOP_LEVEL_DOMAINS`]) need at least three
//!   labels (`gov.example.py`) unless a scheme or `www.` introduces the name.
//! - Labels are lower case, or title case (`Example.com` at the start of a sentence), or the
//!   whole name is upper case. Mixed case inside a label (`myObject.info`) is code.
//! - A name followed by `(` or `[` has the shape of a call or an index in code and is skipped.
//!
//! Spans never cut a token: a name inside an e-mail address, a path or a longer dotted name
//! is not reported on its own, and `host:port` is reported whole or, when the port is above
//! 65535, not at all.
//!
//! Both kinds are reported as [`ConfidenceTier::PatternOnly`]: the checks above confirm the
//! shape of a name, not that it identifies a person.

use std::net::IpAddr;

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Top-level domains accepted for names without a scheme: the ISO 3166 country codes in the
/// root zone and common generic domains.
pub(crate) const TOP_LEVEL_DOMAINS: &[&str] = &[
    // Generic.
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "mobi", "asia", "pro", "aero",
    "coop", "museum", "jobs", "travel", "xyz", "top", "site", "online", "tech", "store", "shop",
    "club", "vip", "cloud", "app", "dev", "page", "blog", "news", "live", "wang", "ltd", "art",
    "design", "website", "space", "fun", "icu", "ink", "work", // Country codes.
    "ac", "ad", "ae", "af", "ag", "ai", "al", "am", "ao", "aq", "ar", "as", "at", "au", "aw", "ax",
    "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bm", "bn", "bo", "br", "bs", "bt",
    "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl", "cm", "cn", "co", "cr",
    "cu", "cv", "cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz", "ec", "ee", "eg", "er",
    "es", "et", "eu", "fi", "fj", "fk", "fm", "fo", "fr", "ga", "gd", "ge", "gf", "gg", "gh", "gi",
    "gl", "gm", "gn", "gp", "gq", "gr", "gs", "gt", "gu", "gw", "gy", "hk", "hm", "hn", "hr", "ht",
    "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir", "is", "it", "je", "jm", "jo", "jp", "ke",
    "kg", "kh", "ki", "km", "kn", "kp", "kr", "kw", "ky", "kz", "la", "lb", "lc", "li", "lk", "lr",
    "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mg", "mh", "mk", "ml", "mm", "mn", "mo",
    "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz", "na", "nc", "ne", "nf", "ng",
    "ni", "nl", "no", "np", "nr", "nu", "nz", "om", "pa", "pe", "pf", "pg", "ph", "pk", "pl", "pm",
    "pn", "pr", "ps", "pt", "pw", "py", "qa", "re", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "sd",
    "se", "sg", "sh", "si", "sk", "sl", "sm", "sn", "so", "sr", "ss", "st", "su", "sv", "sx", "sy",
    "sz", "tc", "td", "tf", "tg", "th", "tj", "tk", "tl", "tm", "tn", "to", "tr", "tt", "tv", "tw",
    "tz", "ua", "ug", "uk", "us", "uy", "uz", "va", "vc", "ve", "vg", "vi", "vn", "vu", "wf", "ws",
    "ye", "yt", "za", "zm", "zw",
];

/// Top-level domains that are also file extensions or attribute names in code, accepted
/// without a scheme only with three or more labels.
pub(crate) const CODE_LIKE_TOP_LEVEL_DOMAINS: &[&str] = &[
    "ac", "am", "app", "cc", "cl", "dev", "do", "gs", "id", "in", "is", "la", "md", "mk", "ml",
    "mo", "pl", "pm", "ps", "py", "rs", "sc", "sh", "so", "tf", "to",
];

/// A domain label: letters, digits and inner hyphens, at most 63 characters.
const LABEL: &str = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?";

/// Characters inside a URL (RFC 3986 unreserved, reserved and `%`), without brackets and
/// quotes, which more often close the surrounding text than belong to the URL.
const URL_CHARS: &str = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]";

/// Characters a URL may end with: sentence punctuation after a URL is not part of it.
const URL_END: &str = r"[A-Za-z0-9\-_~/#=&%+]";

/// Builds the domain name pattern: two or more labels with an alphabetic top-level domain,
/// and an optional port.
fn domain_pattern() -> String {
    format!(r"(?:{LABEL}\.)+[A-Za-z]{{2,63}}(?::[0-9]{{1,5}})?")
}

/// Builds the URL pattern: a scheme or `www.` followed by URL characters, or a domain name
/// followed by a path.
fn url_pattern() -> String {
    let domain = domain_pattern();
    format!(
        r"(?:(?i:https?|ftps?|sftp|wss?)://|(?i:www)\.){URL_CHARS}*{URL_END}|{domain}/(?:{URL_CHARS}*{URL_END})?"
    )
}

/// Returns true when a label is lower case, title case or, with `upper` set, upper case.
fn has_prose_case(label: &str, upper: bool) -> bool {
    if upper {
        return !label.chars().any(|c| c.is_ascii_lowercase());
    }
    !label.chars().skip(1).any(|c| c.is_ascii_uppercase())
}

/// Checks a host name written without a scheme: the top-level domain list, the extra labels
/// needed by code-like top-level domains, and prose letter case.
pub(crate) fn is_prose_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let Some(top_level) = labels.last() else {
        return false;
    };
    if labels.len() < 2
        || labels
            .iter()
            .any(|label| label.is_empty() || label.len() > 63)
    {
        return false;
    }
    let upper = !host.chars().any(|c| c.is_ascii_lowercase());
    if !labels.iter().all(|label| has_prose_case(label, upper)) {
        return false;
    }
    if !upper && top_level.chars().any(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let top_level = top_level.to_ascii_lowercase();
    if !TOP_LEVEL_DOMAINS.contains(&top_level.as_str()) {
        return false;
    }
    labels.len() >= 3 || !CODE_LIKE_TOP_LEVEL_DOMAINS.contains(&top_level.as_str())
}

/// Splits an optional `:port` off a host and checks that it fits 16 bits.
fn host_without_port(host_and_port: &str) -> Option<&str> {
    match host_and_port.rsplit_once(':') {
        None => Some(host_and_port),
        Some((host, port)) => {
            let port: u32 = port.parse().ok()?;
            (port <= u32::from(u16::MAX)).then_some(host)
        }
    }
}

/// Recognizes URLs. A URL with a scheme needs a host that is an IP address or has a dot. A
/// URL without a scheme needs a host that passes the domain rules.
#[derive(Debug)]
pub(crate) struct UrlRecognizer {
    pattern: Regex,
}

impl UrlRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(UrlRecognizer {
            pattern: compile(&url_pattern())?,
        })
    }
}

impl Recognizer for UrlRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Url
    }

    fn name(&self) -> &'static str {
        "url"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Web
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let (has_scheme, rest) = match candidate.split_once("://") {
            Some((_, rest)) => (true, rest),
            None => (false, candidate),
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        let host_and_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        if let Some(bracketed) = host_and_port.strip_prefix('[') {
            let (address, _) = bracketed.split_once(']')?;
            address.parse::<IpAddr>().ok()?;
            return has_scheme.then_some(ConfidenceTier::PatternOnly);
        }
        let host = host_without_port(host_and_port)?;
        if host.parse::<IpAddr>().is_ok() {
            return Some(ConfidenceTier::PatternOnly);
        }
        let has_www = host
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."));
        let valid_host = if has_scheme || has_www {
            host.contains('.') && host.split('.').all(|label| !label.is_empty())
        } else {
            is_prose_domain(host)
        };
        valid_host.then_some(ConfidenceTier::PatternOnly)
    }
}

/// Recognizes domain names on their own that pass the rules in the module docs.
#[derive(Debug)]
pub(crate) struct DomainRecognizer {
    pattern: Regex,
}

impl DomainRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(DomainRecognizer {
            pattern: compile(&domain_pattern())?,
        })
    }
}

impl Recognizer for DomainRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Domain
    }

    fn name(&self) -> &'static str {
        "domain"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Web
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let host = host_without_port(candidate)?;
        is_prose_domain(host).then_some(ConfidenceTier::PatternOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_domains_pass() {
        for host in [
            "example.com",
            "city.gov.cn",
            "Example.com",
            "EXAMPLE.COM",
            "gov.example.py",
        ] {
            assert!(is_prose_domain(host), "{host}");
        }
    }

    #[test]
    fn code_tokens_are_not_domains() {
        for host in [
            "setup.py",
            "os.system",
            "sys.path",
            "rpc.py",
            "main.rs",
            "README.md",
            "user.email",
            "self.name",
            "myObject.info",
            "done.It",
            "user.id",
            "config.in",
        ] {
            assert!(!is_prose_domain(host), "{host}");
        }
    }

    #[test]
    fn url_hosts_are_checked() {
        let url = UrlRecognizer::new().expect("recognizer");
        let today = Today::default();
        assert!(url.validate("https://example.com/a?b=1", &today).is_some());
        assert!(url.validate("http://10.0.0.1:8080/x", &today).is_some());
        assert!(url.validate("www.example.org", &today).is_some());
        assert!(url.validate("example.com/about", &today).is_some());
        assert!(url.validate("setup.py/install", &today).is_none());
        assert!(url.validate("http://example.com:99999/", &today).is_none());
    }
}
