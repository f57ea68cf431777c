//! Network addresses: IPv4 and IPv6 (validated with the parsers of `std::net`) and MAC
//! addresses.
//!
//! An address followed by a port (`192.168.1.10:8080`, `[2001:db8::1]:443`) is one token: it
//! is reported with its port, or not at all when the port is above 65535.

use std::net::{Ipv4Addr, Ipv6Addr};

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::financial::has_one_separator_kind;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Four dot-separated groups of 1 to 3 digits and an optional port.
const IPV4_PATTERN: &str = r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?::[0-9]{1,5})?";

/// Hexadecimal groups with 2 to 7 colons, optionally ending in a dotted IPv4 address
/// (`::ffff:192.0.2.1`), bare or in brackets with a port. The parser decides the rest.
const IPV6_PATTERN: &str = r"\[[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\.[0-9]{1,3}){3})?\](?::[0-9]{1,5})?|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\.[0-9]{1,3}){3})?";

/// Six pairs of hexadecimal digits separated by `:` or `-`, or three groups of four
/// separated by `.` (the form network switches print).
const MAC_PATTERN: &str =
    r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}";

/// Splits `host:port` and checks that the port fits 16 bits. Returns the host alone when
/// there is no port, and `None` when the port is invalid.
fn split_port(candidate: &str, port_separator: Option<usize>) -> Option<&str> {
    let Some(index) = port_separator else {
        return Some(candidate);
    };
    let port: u32 = candidate[index + 1..].parse().ok()?;
    (port <= u32::from(u16::MAX)).then_some(&candidate[..index])
}

/// Recognizes IPv4 addresses that `std::net` parses (four decimal octets up to 255, with
/// no leading zeros), optionally with a port, as validated.
#[derive(Debug)]
pub(crate) struct Ipv4Recognizer {
    pattern: Regex,
}

impl Ipv4Recognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(Ipv4Recognizer {
            pattern: compile(IPV4_PATTERN)?,
        })
    }
}

impl Recognizer for Ipv4Recognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::IpAddress
    }

    fn name(&self) -> &'static str {
        "ipv4"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let host = split_port(candidate, candidate.find(':'))?;
        host.parse::<Ipv4Addr>().ok()?;
        Some(ConfidenceTier::Validated)
    }
}

/// Recognizes IPv6 addresses that `std::net` parses, bare or as `[address]:port`, as
/// validated. An address with fewer than two non-zero groups (`::`, `::1`) is dropped:
/// those are the unspecified and loopback addresses, and the shape is common in code
/// (`a::b`).
#[derive(Debug)]
pub(crate) struct Ipv6Recognizer {
    pattern: Regex,
}

impl Ipv6Recognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(Ipv6Recognizer {
            pattern: compile(IPV6_PATTERN)?,
        })
    }
}

impl Recognizer for Ipv6Recognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::IpAddress
    }

    fn name(&self) -> &'static str {
        "ipv6"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Hex
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let address = match candidate.strip_prefix('[') {
            Some(rest) => {
                let close = rest.find(']')?;
                let port_separator = (rest.len() > close + 1).then_some(close + 1);
                split_port(rest, port_separator)?.strip_suffix(']')?
            }
            None => candidate,
        };
        let parsed: Ipv6Addr = address.parse().ok()?;
        let non_zero_groups = parsed
            .segments()
            .iter()
            .filter(|segment| **segment != 0)
            .count();
        (non_zero_groups >= 2).then_some(ConfidenceTier::Validated)
    }
}

/// Recognizes MAC addresses written with one kind of separator. The all-zero and broadcast
/// addresses name no device and are dropped, every other address is validated.
#[derive(Debug)]
pub(crate) struct MacRecognizer {
    pattern: Regex,
}

impl MacRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(MacRecognizer {
            pattern: compile(MAC_PATTERN)?,
        })
    }
}

impl Recognizer for MacRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::MacAddress
    }

    fn name(&self) -> &'static str {
        "mac"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Hex
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        if !has_one_separator_kind(candidate) {
            return None;
        }
        let digits: String = candidate
            .chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let placeholder = digits.chars().all(|c| c == '0') || digits.chars().all(|c| c == 'f');
        (!placeholder).then_some(ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(recognizer: &dyn Recognizer, candidate: &str) -> bool {
        recognizer.validate(candidate, &Today::default()).is_some()
    }

    #[test]
    fn ipv4_needs_octets_and_port_in_range() {
        let ipv4 = Ipv4Recognizer::new().expect("recognizer");
        assert!(valid(&ipv4, "192.168.1.10"));
        assert!(valid(&ipv4, "10.0.0.1:8080"));
        assert!(!valid(&ipv4, "256.1.1.1"));
        assert!(!valid(&ipv4, "10.0.0.1:70000"));
    }

    #[test]
    fn ipv6_forms() {
        let ipv6 = Ipv6Recognizer::new().expect("recognizer");
        assert!(valid(&ipv6, "2001:db8::8a2e:370:7334"));
        assert!(valid(&ipv6, "2001:0db8:0000:0000:0000:ff00:0042:8329"));
        assert!(valid(&ipv6, "[2001:db8::1]:443"));
        assert!(valid(&ipv6, "::ffff:192.0.2.1"));
        assert!(!valid(&ipv6, "::1"));
        assert!(!valid(&ipv6, "12:30:45"));
        assert!(!valid(&ipv6, "[2001:db8::1]:99999"));
    }

    #[test]
    fn mac_needs_one_separator_and_a_device_address() {
        let mac = MacRecognizer::new().expect("recognizer");
        assert!(valid(&mac, "00:1A:2B:3C:4D:5E"));
        assert!(valid(&mac, "00-1a-2b-3c-4d-5e"));
        assert!(valid(&mac, "001a.2b3c.4d5e"));
        assert!(!valid(&mac, "00:1A-2B:3C:4D:5E"));
        assert!(!valid(&mac, "ff:ff:ff:ff:ff:ff"));
    }
}
