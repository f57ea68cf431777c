//! Partial masks of the kinds beyond phones, e-mail addresses and resident ids. Each keeps a
//! few characters that help people tell values apart and no more than that, and never leaves
//! a value that a recognizer would report again. Input that is not in the expected shape is
//! starred completely.

/// Stars every ASCII letter and digit.
fn star_all(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { '*' } else { c })
        .collect()
}

/// Stars every digit but the last `keep`, keeping separators: `**** **** **** 1111`.
pub(super) fn keep_last_digits(value: &str, keep: usize) -> String {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits <= keep {
        return star_all(value);
    }
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > digits - keep { c } else { '*' }
            } else if c.is_ascii_alphabetic() {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Keeps the first `keep` characters and stars every later letter and digit, dropping
/// separators: `91350100**********`, `粤B******`.
pub(super) fn keep_prefix(value: &str, keep: usize) -> String {
    let chars: Vec<char> = value.chars().filter(|c| *c != '·' && *c != ' ').collect();
    if chars.len() <= keep {
        return "*".repeat(chars.len());
    }
    let mut masked: String = chars[..keep].iter().collect();
    masked.extend(std::iter::repeat_n('*', chars.len() - keep));
    masked
}

/// Keeps the country code and the last 4 characters: `DE****************3000`.
pub(super) fn iban(value: &str) -> String {
    let compact: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() < 10 {
        return star_all(value);
    }
    let mut masked: String = compact[..2].iter().collect();
    masked.extend(std::iter::repeat_n('*', compact.len() - 6));
    masked.extend(&compact[compact.len() - 4..]);
    masked
}

/// Keeps the first two octets of an IPv4 address (`192.168.*.*`) or the first two groups of
/// an IPv6 address (`2001:db8:*`) and drops the port.
pub(super) fn ip_address(value: &str) -> String {
    let address = value.trim_start_matches('[');
    if address.matches(':').count() <= 1 {
        let host = address.split(':').next().unwrap_or(address);
        let octets: Vec<&str> = host.split('.').collect();
        return match octets.as_slice() {
            [first, second, _, _] => format!("{first}.{second}.*.*"),
            _ => star_all(value),
        };
    }
    let groups: Vec<&str> = address.split(':').take(2).collect();
    match groups.as_slice() {
        [first, second] if !first.is_empty() && !second.is_empty() => {
            format!("{first}:{second}:*")
        }
        _ => "*".to_string(),
    }
}

/// Keeps the manufacturer part (the first three octets): `00:1A:2B:**:**:**`.
pub(super) fn mac_address(value: &str) -> String {
    let mut hex_seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_ascii_hexdigit() {
                hex_seen += 1;
                if hex_seen > 6 { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// Keeps the scheme or the `www.` prefix: `https://***`, `www.***`, and `***` for a URL
/// written without either.
pub(super) fn url(value: &str) -> String {
    if let Some((scheme, _)) = value.split_once("://") {
        return format!("{scheme}://***");
    }
    if value
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("www."))
    {
        return format!("{}***", &value[..4]);
    }
    "***".to_string()
}

/// Keeps the top-level domain: `***.com`.
pub(super) fn domain(value: &str) -> String {
    let host = value.split(':').next().unwrap_or(value);
    match host.rsplit_once('.') {
        Some((_, top_level)) => format!("***.{top_level}"),
        None => "***".to_string(),
    }
}

/// Keeps the year (the run of 4 digits) and stars the other digits and month names:
/// `1990-**-**`, `******* **, 1990`.
pub(super) fn date_of_birth(value: &str) -> String {
    let mut masked = String::with_capacity(value.len());
    let mut run = String::new();
    let flush = |run: &mut String, masked: &mut String| {
        if run.len() == 4 {
            masked.push_str(run);
        } else {
            masked.extend(std::iter::repeat_n('*', run.len()));
        }
        run.clear();
    };
    for c in value.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut masked);
        masked.push(if c.is_ascii_alphabetic() { '*' } else { c });
    }
    flush(&mut run, &mut masked);
    masked
}

/// Keeps the first character and the last 2: `E******78`.
pub(super) fn passport(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 6 {
        return "*".repeat(chars.len());
    }
    let mut masked = chars[0].to_string();
    masked.extend(std::iter::repeat_n('*', chars.len() - 3));
    masked.extend(&chars[chars.len() - 2..]);
    masked
}

/// Keeps whole degrees and stars the decimals: `39.****, 116.****`, about 100 km of
/// uncertainty.
pub(super) fn coordinates(value: &str) -> String {
    let mut in_fraction = false;
    value
        .chars()
        .map(|c| {
            if c == '.' {
                in_fraction = true;
                c
            } else if c.is_ascii_digit() && in_fraction {
                '*'
            } else {
                in_fraction = in_fraction && c.is_ascii_digit();
                c
            }
        })
        .collect()
}

/// Keeps the first character of each word of a name and stars the rest: `J*** S****`,
/// `张*`. A Chinese name has no spaces, so only its first character (usually the surname)
/// stays.
pub(super) fn name(value: &str) -> String {
    let mut masked = String::with_capacity(value.len());
    let mut at_word_start = true;
    for c in value.chars() {
        if c.is_whitespace() || c == '-' || c == '.' {
            masked.push(c);
            at_word_start = true;
        } else if at_word_start {
            masked.push(c);
            at_word_start = false;
        } else {
            masked.push('*');
        }
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_forms_of_each_kind() {
        assert_eq!(
            keep_last_digits("4111 1111 1111 1111", 4),
            "**** **** **** 1111"
        );
        assert_eq!(keep_last_digits("123-45-6789", 4), "***-**-6789");
        assert_eq!(
            iban("DE89 3704 0044 0532 0130 00"),
            "DE****************3000"
        );
        assert_eq!(ip_address("192.168.1.10:8080"), "192.168.*.*");
        assert_eq!(ip_address("2001:db8::1"), "2001:db8:*");
        assert_eq!(ip_address("[2001:db8::1]:443"), "2001:db8:*");
        assert_eq!(mac_address("00:1A:2B:3C:4D:5E"), "00:1A:2B:**:**:**");
        assert_eq!(url("https://example.com/u/42"), "https://***");
        assert_eq!(url("www.example.com/a"), "www.***");
        assert_eq!(domain("zhangwei.example.com:8080"), "***.com");
        assert_eq!(date_of_birth("1990-01-31"), "1990-**-**");
        assert_eq!(date_of_birth("January 31, 1990"), "******* **, 1990");
        assert_eq!(date_of_birth("1990年1月31日"), "1990年*月**日");
        assert_eq!(keep_prefix("91350100M000100Y43", 8), "91350100**********");
        assert_eq!(keep_prefix("粤B·D12345", 2), "粤B******");
        assert_eq!(passport("E12345678"), "E******78");
        assert_eq!(coordinates("39.9042, 116.4074"), "39.****, 116.****");
    }

    #[test]
    fn short_input_is_starred_completely() {
        assert_eq!(keep_last_digits("12", 4), "**");
        assert_eq!(iban("DE89"), "****");
        assert_eq!(passport("E12"), "***");
    }

    #[test]
    fn name_keeps_word_initials() {
        assert_eq!(name("Jane Smith"), "J*** S****");
        assert_eq!(name("张伟"), "张*");
        assert_eq!(name("Mary-Ann O. Lee"), "M***-A** O. L**");
    }
}
