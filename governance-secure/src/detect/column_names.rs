//! Column names that name the kind of data in a column, in English and Chinese.

use super::PiiKind;

/// What a column name says about its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameHint {
    /// Values of one kind.
    Kind(PiiKind),
    /// Latitudes, one half of a coordinate pair.
    Latitude,
    /// Longitudes, the other half.
    Longitude,
}

/// English names as sequences of lower-case tokens, checked in order, so that `id_card`
/// (resident id) is decided before `card` (payment card).
const ENGLISH: &[(&[&str], NameHint)] = &[
    (&["id", "card"], NameHint::Kind(PiiKind::ResidentId)),
    (&["id", "number"], NameHint::Kind(PiiKind::ResidentId)),
    (&["id", "no"], NameHint::Kind(PiiKind::ResidentId)),
    (&["idcard"], NameHint::Kind(PiiKind::ResidentId)),
    (&["idno"], NameHint::Kind(PiiKind::ResidentId)),
    (&["identity"], NameHint::Kind(PiiKind::ResidentId)),
    (
        &["credit", "code"],
        NameHint::Kind(PiiKind::SocialCreditCode),
    ),
    (&["uscc"], NameHint::Kind(PiiKind::SocialCreditCode)),
    (&["card"], NameHint::Kind(PiiKind::PaymentCard)),
    (&["cardno"], NameHint::Kind(PiiKind::PaymentCard)),
    (&["iban"], NameHint::Kind(PiiKind::Iban)),
    (&["ip"], NameHint::Kind(PiiKind::IpAddress)),
    (&["ipv4"], NameHint::Kind(PiiKind::IpAddress)),
    (&["ipv6"], NameHint::Kind(PiiKind::IpAddress)),
    (&["ipaddr"], NameHint::Kind(PiiKind::IpAddress)),
    (&["mac"], NameHint::Kind(PiiKind::MacAddress)),
    (&["url"], NameHint::Kind(PiiKind::Url)),
    (&["website"], NameHint::Kind(PiiKind::Url)),
    (&["homepage"], NameHint::Kind(PiiKind::Url)),
    (&["link"], NameHint::Kind(PiiKind::Url)),
    (&["domain"], NameHint::Kind(PiiKind::Domain)),
    (&["hostname"], NameHint::Kind(PiiKind::Domain)),
    (&["ssn"], NameHint::Kind(PiiKind::UsSsn)),
    (&["social", "security"], NameHint::Kind(PiiKind::UsSsn)),
    (&["dob"], NameHint::Kind(PiiKind::DateOfBirth)),
    (&["birth"], NameHint::Kind(PiiKind::DateOfBirth)),
    (&["birthday"], NameHint::Kind(PiiKind::DateOfBirth)),
    (&["birthdate"], NameHint::Kind(PiiKind::DateOfBirth)),
    (&["born"], NameHint::Kind(PiiKind::DateOfBirth)),
    (&["plate"], NameHint::Kind(PiiKind::LicencePlate)),
    (&["passport"], NameHint::Kind(PiiKind::Passport)),
    (&["lat"], NameHint::Latitude),
    (&["latitude"], NameHint::Latitude),
    (&["lon"], NameHint::Longitude),
    (&["lng"], NameHint::Longitude),
    (&["longitude"], NameHint::Longitude),
    (&["coordinates"], NameHint::Kind(PiiKind::GpsCoordinate)),
    (&["coords"], NameHint::Kind(PiiKind::GpsCoordinate)),
    (&["gps"], NameHint::Kind(PiiKind::GpsCoordinate)),
    (&["location"], NameHint::Kind(PiiKind::GpsCoordinate)),
    (&["phone"], NameHint::Kind(PiiKind::Phone)),
    (&["mobile"], NameHint::Kind(PiiKind::Phone)),
    (&["tel"], NameHint::Kind(PiiKind::Phone)),
    (&["telephone"], NameHint::Kind(PiiKind::Phone)),
    (&["cellphone"], NameHint::Kind(PiiKind::Phone)),
    (&["email"], NameHint::Kind(PiiKind::Email)),
    (&["mail"], NameHint::Kind(PiiKind::Email)),
    (&["e", "mail"], NameHint::Kind(PiiKind::Email)),
];

/// Chinese names, matched as substrings in order, so that `经纬度` (a pair in one column) is
/// decided before `纬度` and `经度`.
const CHINESE: &[(&str, NameHint)] = &[
    ("身份证", NameHint::Kind(PiiKind::ResidentId)),
    ("证件号", NameHint::Kind(PiiKind::ResidentId)),
    ("信用代码", NameHint::Kind(PiiKind::SocialCreditCode)),
    ("银行卡", NameHint::Kind(PiiKind::PaymentCard)),
    ("信用卡", NameHint::Kind(PiiKind::PaymentCard)),
    ("卡号", NameHint::Kind(PiiKind::PaymentCard)),
    ("手机", NameHint::Kind(PiiKind::Phone)),
    ("电话", NameHint::Kind(PiiKind::Phone)),
    ("联系方式", NameHint::Kind(PiiKind::Phone)),
    ("邮箱", NameHint::Kind(PiiKind::Email)),
    ("邮件", NameHint::Kind(PiiKind::Email)),
    ("出生", NameHint::Kind(PiiKind::DateOfBirth)),
    ("生日", NameHint::Kind(PiiKind::DateOfBirth)),
    ("车牌", NameHint::Kind(PiiKind::LicencePlate)),
    ("号牌", NameHint::Kind(PiiKind::LicencePlate)),
    ("护照", NameHint::Kind(PiiKind::Passport)),
    ("经纬度", NameHint::Kind(PiiKind::GpsCoordinate)),
    ("坐标", NameHint::Kind(PiiKind::GpsCoordinate)),
    ("纬度", NameHint::Latitude),
    ("经度", NameHint::Longitude),
    ("网址", NameHint::Kind(PiiKind::Url)),
    ("链接", NameHint::Kind(PiiKind::Url)),
    ("域名", NameHint::Kind(PiiKind::Domain)),
];

/// Splits a column name into lower-case ASCII tokens at non-alphanumeric characters and at
/// camel-case humps: `contactPhone` gives `contact`, `phone`, and `IPAddress` gives `ip`,
/// `address`.
pub(crate) fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut tokens = Vec::new();
    let mut current = String::new();
    for (index, c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = index.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(index + 1);
        let hump = c.is_ascii_uppercase()
            && previous.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || (p.is_ascii_uppercase() && next.is_some_and(char::is_ascii_lowercase))
            });
        if hump && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Returns what a column name says and the keyword that said it.
pub(crate) fn name_hint(name: &str) -> Option<(NameHint, String)> {
    for (keyword, hint) in CHINESE {
        if name.contains(keyword) {
            return Some((*hint, (*keyword).to_string()));
        }
    }
    let tokens = name_tokens(name);
    for (words, hint) in ENGLISH {
        let found = tokens
            .windows(words.len())
            .any(|window| window.iter().zip(*words).all(|(token, word)| token == word));
        if found {
            return Some((*hint, words.join("_")));
        }
    }
    None
}

/// Returns the column name with its latitude or longitude token removed, so that
/// `pickup_lat` and `pickup_lon` pair on `pickup`.
pub(crate) fn coordinate_stem(name: &str) -> String {
    const AXIS_WORDS: &[&str] = &["lat", "latitude", "lon", "lng", "longitude"];
    let mut stem = name.to_string();
    for keyword in ["纬度", "经度"] {
        stem = stem.replace(keyword, "");
    }
    let ascii = name_tokens(&stem)
        .into_iter()
        .filter(|token| !AXIS_WORDS.contains(&token.as_str()))
        .collect::<Vec<_>>()
        .join("_");
    let other: String = stem.chars().filter(|c| !c.is_ascii()).collect();
    format!("{ascii}|{other}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(name: &str) -> Option<NameHint> {
        name_hint(name).map(|(hint, _)| hint)
    }

    #[test]
    fn tokens_split_at_humps_and_separators() {
        assert_eq!(name_tokens("contactPhone"), ["contact", "phone"]);
        assert_eq!(name_tokens("IPAddress"), ["ip", "address"]);
        assert_eq!(name_tokens("user_e-mail"), ["user", "e", "mail"]);
    }

    #[test]
    fn names_in_both_languages() {
        assert_eq!(kind_of("手机号"), Some(NameHint::Kind(PiiKind::Phone)));
        assert_eq!(
            kind_of("身份证号"),
            Some(NameHint::Kind(PiiKind::ResidentId))
        );
        assert_eq!(kind_of("mobile"), Some(NameHint::Kind(PiiKind::Phone)));
        assert_eq!(
            kind_of("id_card"),
            Some(NameHint::Kind(PiiKind::ResidentId))
        );
        assert_eq!(
            kind_of("card_number"),
            Some(NameHint::Kind(PiiKind::PaymentCard))
        );
        assert_eq!(kind_of("pickup_lat"), Some(NameHint::Latitude));
        assert_eq!(kind_of("纬度"), Some(NameHint::Latitude));
        assert_eq!(
            kind_of("经纬度"),
            Some(NameHint::Kind(PiiKind::GpsCoordinate))
        );
        assert_eq!(
            kind_of("client_IP"),
            Some(NameHint::Kind(PiiKind::IpAddress))
        );
        assert_eq!(kind_of("zip"), None);
        assert_eq!(kind_of("template"), None);
    }

    #[test]
    fn coordinate_stems_pair_names() {
        assert_eq!(coordinate_stem("pickup_lat"), coordinate_stem("pickup_lon"));
        assert_eq!(coordinate_stem("起点纬度"), coordinate_stem("起点经度"));
        assert_ne!(
            coordinate_stem("pickup_lat"),
            coordinate_stem("dropoff_lng")
        );
        assert_ne!(coordinate_stem("起点纬度"), coordinate_stem("终点经度"));
    }
}
