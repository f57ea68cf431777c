//! Token boundaries for recognizers, written without look-around because the `regex` crate
//! has none.
//!
//! A regex word boundary `\b` does not fire between a Chinese character and a digit (both are
//! word characters in Unicode), so `电话13812345678` would be missed by `\b...\b` patterns.
//! Recognizers therefore match the bare pattern and then look at the characters on either side
//! of the candidate. A value glued to Chinese text or punctuation is kept. A value that
//! touches more of its own token (more digits, ASCII letters, `_`, `@`) is a cut-off piece of
//! a longer token and is rejected.

use std::ops::Range;

use regex::Regex;

/// Token class of a recognizer, which sets the neighbours that end a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRule {
    /// Digit-based values (phone numbers, resident ids).
    Numeric,
    /// E-mail addresses.
    Email,
    /// Colon-separated hexadecimal values (IPv6 and MAC addresses), which continue through
    /// `:` and through `.` or `-` next to a letter or digit.
    Hex,
    /// URLs and domain names, which continue through `/`, `@`, `\` and through `.`, `-` or
    /// `:` next to a letter or digit. A name followed by `(` or `[` has the shape of a call or
    /// an index in code (`os.system(`) and is rejected.
    Web,
}

/// Returns the character that ends just before byte `index`.
fn char_before(text: &str, index: usize) -> Option<char> {
    text.get(..index)?.chars().next_back()
}

/// Returns the character that starts at byte `index`.
fn char_at(text: &str, index: usize) -> Option<char> {
    text.get(index..)?.chars().next()
}

/// Characters that glue two digit runs into one number when they sit between digits, as in
/// `3.14` or `2024-0001`.
fn is_numeric_joiner(c: char) -> bool {
    c == '.' || c == '-'
}

/// Characters that continue a numeric token on contact: ASCII letters and digits, `_` and
/// `@` (a number in front of `@` is the local part of an e-mail address).
fn continues_numeric_token(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

/// Characters allowed in the local part of an address (RFC 5322 `atext`) plus `.` and `@`.
fn continues_email_token_before(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '@' || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// Characters that continue a domain name on contact.
fn continues_email_token_after(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

/// Characters that continue a hexadecimal address on contact.
fn continues_hex_token(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == ':'
}

/// Characters that continue a URL or domain name on contact, before its start.
fn continues_web_token_before(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@./-:\\%~#".contains(c)
}

/// Characters that continue a URL or domain name on contact, after its end.
fn continues_web_token_after(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@/\\([".contains(c)
}

/// Returns true when `c` joins the candidate to an ASCII letter or digit on the far side.
fn joins_alphanumeric(c: char, far_side: Option<char>, joiners: &str) -> bool {
    joiners.contains(c) && far_side.is_some_and(|d| d.is_ascii_alphanumeric())
}

/// Returns true when `span` of `text` is a whole token under `rule`, so that reporting it
/// never cuts a longer token in two.
pub(crate) fn is_whole_token(text: &str, span: &Range<usize>, rule: TokenRule) -> bool {
    let before = char_before(text, span.start);
    let after = char_at(text, span.end);
    match rule {
        TokenRule::Numeric => {
            let starts_with_plus = text[span.clone()].starts_with('+');
            if let Some(c) = before {
                if continues_numeric_token(c) {
                    return false;
                }
                // A `+` right before a bare number is its international prefix, which the
                // candidate left out.
                if c == '+' && !starts_with_plus {
                    return false;
                }
                let joined = char_before(text, span.start - c.len_utf8());
                if is_numeric_joiner(c) && joined.is_some_and(|d| d.is_ascii_digit()) {
                    return false;
                }
            }
            if let Some(c) = after {
                if continues_numeric_token(c) {
                    return false;
                }
                let joined = char_at(text, span.end + c.len_utf8());
                if is_numeric_joiner(c) && joined.is_some_and(|d| d.is_ascii_digit()) {
                    return false;
                }
            }
            true
        }
        TokenRule::Email => {
            if before.is_some_and(continues_email_token_before) {
                return false;
            }
            if let Some(c) = after {
                if continues_email_token_after(c) {
                    return false;
                }
                // `a@b.com.` ends a sentence, but `a@b.com.x1` or `a@b.com-x` is a longer name.
                let joined = char_at(text, span.end + c.len_utf8());
                if (c == '.' || c == '-') && joined.is_some_and(|d| d.is_ascii_alphanumeric()) {
                    return false;
                }
            }
            true
        }
        TokenRule::Hex => {
            if let Some(c) = before {
                let far = char_before(text, span.start - c.len_utf8());
                if continues_hex_token(c) || joins_alphanumeric(c, far, ".-") {
                    return false;
                }
            }
            if let Some(c) = after {
                let far = char_at(text, span.end + c.len_utf8());
                if continues_hex_token(c) || joins_alphanumeric(c, far, ".-") {
                    return false;
                }
            }
            true
        }
        TokenRule::Web => {
            if before.is_some_and(continues_web_token_before) {
                return false;
            }
            if let Some(c) = after {
                let far = char_at(text, span.end + c.len_utf8());
                if continues_web_token_after(c) || joins_alphanumeric(c, far, ".-:") {
                    return false;
                }
            }
            true
        }
    }
}

/// Finds every match of `pattern` in `text` that is a whole token under `rule`.
///
/// A rejected match does not end the search at its end: a valid candidate may start inside
/// it after a separator (`138 13812345678` first matches `138 1381 2345`, and `1.0.100，39.904,
/// 116.407` first matches the pair `0.100，39.904`), so the scan resumes one character after
/// the rejected match's start when the match contains a space or a comma. Any other start
/// inside a rejected match follows a character of the same token and would be rejected too,
/// so the scan skips to its end.
pub(crate) fn whole_token_matches(
    pattern: &Regex,
    text: &str,
    rule: TokenRule,
) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while from <= text.len() {
        let Some(found) = pattern.find_at(text, from) else {
            break;
        };
        let span = found.range();
        if is_whole_token(text, &span, rule) {
            from = span.end.max(span.start + 1);
            spans.push(span);
        } else if found.as_str().contains([' ', ',', '，']) {
            from = span.start + char_at(text, span.start).map_or(1, char::len_utf8);
        } else {
            from = span.end.max(span.start + 1);
        }
    }
    spans
}

/// Returns the byte offset where the `chars` characters before `index` begin (or 0).
pub(crate) fn window_start(text: &str, index: usize, chars: usize) -> usize {
    if chars == 0 {
        return index;
    }
    text[..index]
        .char_indices()
        .rev()
        .nth(chars - 1)
        .map_or(0, |(offset, _)| offset)
}

/// Returns the byte offset where the `chars` characters after `index` end (or the text's
/// end).
pub(crate) fn window_end(text: &str, index: usize, chars: usize) -> usize {
    text[index..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(offset, _)| index + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str, needle: &str, rule: TokenRule) -> bool {
        let start = text.find(needle).expect("needle in text");
        is_whole_token(text, &(start..start + needle.len()), rule)
    }

    #[test]
    fn chinese_neighbours_end_a_number() {
        assert!(whole(
            "电话13812345678谢谢",
            "13812345678",
            TokenRule::Numeric
        ));
        assert!(whole(
            "号码：13812345678。",
            "13812345678",
            TokenRule::Numeric
        ));
    }

    #[test]
    fn digits_and_letters_continue_a_number() {
        assert!(!whole("913812345678", "13812345678", TokenRule::Numeric));
        assert!(!whole("138123456789", "13812345678", TokenRule::Numeric));
        assert!(!whole("ab13812345678", "13812345678", TokenRule::Numeric));
        assert!(!whole(
            "13812345678@qq.com",
            "13812345678",
            TokenRule::Numeric
        ));
        assert!(!whole("+4413812345678", "13812345678", TokenRule::Numeric));
    }

    #[test]
    fn decimal_point_joins_digit_runs() {
        assert!(!whole("3.13812345678", "13812345678", TokenRule::Numeric));
        assert!(!whole("13812345678.5", "13812345678", TokenRule::Numeric));
        assert!(whole(
            "call 13812345678.",
            "13812345678",
            TokenRule::Numeric
        ));
    }

    #[test]
    fn email_rejects_longer_names() {
        assert!(whole("邮箱a@b.com。", "a@b.com", TokenRule::Email));
        assert!(whole("mail a@b.com.", "a@b.com", TokenRule::Email));
        assert!(!whole("x!a@b.com", "a@b.com", TokenRule::Email));
        assert!(!whole("a@b.com.x1", "a@b.com", TokenRule::Email));
        assert!(!whole("a@b.com@c", "a@b.com", TokenRule::Email));
    }

    #[test]
    fn hex_addresses_end_at_other_tokens() {
        assert!(whole(
            "MAC 00:1a:2b:3c:4d:5e。",
            "00:1a:2b:3c:4d:5e",
            TokenRule::Hex
        ));
        assert!(whole(
            "网卡00:1a:2b:3c:4d:5e谢谢",
            "00:1a:2b:3c:4d:5e",
            TokenRule::Hex
        ));
        assert!(!whole(
            "00:1a:2b:3c:4d:5e:6f",
            "00:1a:2b:3c:4d:5e",
            TokenRule::Hex
        ));
        assert!(!whole(
            "x00:1a:2b:3c:4d:5e",
            "00:1a:2b:3c:4d:5e",
            TokenRule::Hex
        ));
        assert!(!whole(
            "00:1a:2b:3c:4d:5e-7",
            "00:1a:2b:3c:4d:5e",
            TokenRule::Hex
        ));
    }

    #[test]
    fn web_names_end_at_other_tokens() {
        assert!(whole("见example.com。", "example.com", TokenRule::Web));
        assert!(whole("see example.com.", "example.com", TokenRule::Web));
        assert!(!whole("a@example.com", "example.com", TokenRule::Web));
        assert!(!whole("example.com/path", "example.com", TokenRule::Web));
        assert!(!whole("example.com:8080", "example.com", TokenRule::Web));
        assert!(!whole("os.system(cmd)", "os.system", TokenRule::Web));
        assert!(!whole("sub.example.com", "example.com", TokenRule::Web));
    }

    #[test]
    fn rejected_match_with_space_rescans_inside() {
        let pattern = Regex::new(r"1[3-9][0-9](?:[0-9]{8}| [0-9]{4} [0-9]{4})").expect("regex");
        let spans = whole_token_matches(&pattern, "138 13812345678", TokenRule::Numeric);
        assert_eq!(spans, vec![4..15]);
    }

    #[test]
    fn window_counts_characters_not_bytes() {
        let text = "身份证号1";
        let index = text.find('1').expect("digit");
        assert_eq!(window_start(text, index, 2), "身份".len());
        assert_eq!(window_start(text, index, 20), 0);
        assert_eq!(window_start(text, index, 0), index);
    }
}
