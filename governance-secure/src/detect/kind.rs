//! Kinds of personal data and the confidence tiers of findings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Kind of personal data a finding holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A phone number: Chinese mainland mobile or fixed line, or international E.164.
    Phone,
    /// A Chinese resident identity number (GB 11643), 18 characters or the legacy 15 digits.
    ResidentId,
    /// A payment card number (13 to 19 digits with a Luhn check digit and a known issuer
    /// prefix).
    PaymentCard,
    /// An international bank account number (ISO 13616, mod-97 check).
    Iban,
    /// An IPv4 or IPv6 address, with its port when one is written.
    IpAddress,
    /// A MAC (EUI-48) hardware address.
    MacAddress,
    /// A URL with a scheme, a `www.` prefix, or a host followed by a path.
    Url,
    /// A domain name on its own, with its port when one is written.
    Domain,
    /// A US social security number.
    UsSsn,
    /// A date of birth: a date with a birth keyword next to it.
    DateOfBirth,
    /// A Chinese unified social credit code (GB 32100), 18 characters.
    SocialCreditCode,
    /// A Chinese vehicle licence plate (GA 36), including new-energy plates.
    LicencePlate,
    /// A passport number.
    Passport,
    /// A GPS position written as a latitude and longitude pair in decimal degrees.
    GpsCoordinate,
    /// A person's name. Found only by the token tagger.
    Person,
    /// A street or postal address. Found by the token tagger, and US military addresses
    /// (`Unit 4410 Box 2281` then `DPO AA 34012`) also by their pattern.
    StreetAddress,
    /// A company, agency, hospital, school or other organisation. Found only by the token
    /// tagger.
    Organization,
    /// A city, region or country named on its own. Found only by the token tagger.
    Place,
    /// A person's age in years, next to an age phrase (`aged 42`, `42 years old`).
    Age,
    /// A calendar date, a time of day, or a year after a time preposition (`in 1998`). Not
    /// in the default kinds, because most dates in city records are not personal data.
    DateTime,
    /// A postal code after a postal keyword (`ZIP`, `postcode`) or a US state abbreviation.
    PostalCode,
    /// A nationality, religious or political group (`Finnish`, `Buddhists`, `Republicans`),
    /// Presidio's NRP.
    Nrp,
    /// An honorific before a name (`Mr.`, `Dr`) or a job title where one is expected
    /// (`worked as a site engineer`, a line of a signature). Not in the default kinds,
    /// because a title alone rarely identifies anyone.
    Title,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 24] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::ResidentId,
        PiiKind::PaymentCard,
        PiiKind::Iban,
        PiiKind::IpAddress,
        PiiKind::MacAddress,
        PiiKind::Url,
        PiiKind::Domain,
        PiiKind::UsSsn,
        PiiKind::DateOfBirth,
        PiiKind::SocialCreditCode,
        PiiKind::LicencePlate,
        PiiKind::Passport,
        PiiKind::GpsCoordinate,
        PiiKind::Person,
        PiiKind::StreetAddress,
        PiiKind::Organization,
        PiiKind::Place,
        PiiKind::Age,
        PiiKind::DateTime,
        PiiKind::PostalCode,
        PiiKind::Nrp,
        PiiKind::Title,
    ];

    /// Returns the kinds a default [`DetectorConfig`](super::DetectorConfig) looks for: every
    /// kind but [`PiiKind::DateTime`] and [`PiiKind::Title`].
    pub fn defaults() -> Vec<PiiKind> {
        PiiKind::ALL
            .into_iter()
            .filter(|kind| !matches!(kind, PiiKind::DateTime | PiiKind::Title))
            .collect()
    }

    /// Returns the snake_case name used in configs, issues and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::ResidentId => "resident_id",
            PiiKind::PaymentCard => "payment_card",
            PiiKind::Iban => "iban",
            PiiKind::IpAddress => "ip_address",
            PiiKind::MacAddress => "mac_address",
            PiiKind::Url => "url",
            PiiKind::Domain => "domain",
            PiiKind::UsSsn => "us_ssn",
            PiiKind::DateOfBirth => "date_of_birth",
            PiiKind::SocialCreditCode => "social_credit_code",
            PiiKind::LicencePlate => "licence_plate",
            PiiKind::Passport => "passport",
            PiiKind::GpsCoordinate => "gps_coordinate",
            PiiKind::Person => "person",
            PiiKind::StreetAddress => "street_address",
            PiiKind::Organization => "organization",
            PiiKind::Place => "place",
            PiiKind::Age => "age",
            PiiKind::DateTime => "date_time",
            PiiKind::PostalCode => "postal_code",
            PiiKind::Nrp => "nrp",
            PiiKind::Title => "title",
        }
    }

    /// Returns the upper-case tag used by the type-tag mask, such as `PHONE` in `<PHONE>`.
    pub fn tag(self) -> &'static str {
        match self {
            PiiKind::Email => "EMAIL",
            PiiKind::Phone => "PHONE",
            PiiKind::ResidentId => "RESIDENT_ID",
            PiiKind::PaymentCard => "PAYMENT_CARD",
            PiiKind::Iban => "IBAN",
            PiiKind::IpAddress => "IP_ADDRESS",
            PiiKind::MacAddress => "MAC_ADDRESS",
            PiiKind::Url => "URL",
            PiiKind::Domain => "DOMAIN",
            PiiKind::UsSsn => "US_SSN",
            PiiKind::DateOfBirth => "DATE_OF_BIRTH",
            PiiKind::SocialCreditCode => "SOCIAL_CREDIT_CODE",
            PiiKind::LicencePlate => "LICENCE_PLATE",
            PiiKind::Passport => "PASSPORT",
            PiiKind::GpsCoordinate => "GPS_COORDINATE",
            PiiKind::Person => "PERSON",
            PiiKind::StreetAddress => "ADDRESS",
            PiiKind::Organization => "ORGANIZATION",
            PiiKind::Place => "PLACE",
            PiiKind::Age => "AGE",
            PiiKind::DateTime => "DATE_TIME",
            PiiKind::PostalCode => "POSTAL_CODE",
            PiiKind::Nrp => "NRP",
            PiiKind::Title => "TITLE",
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Strength of the evidence behind a finding, from weakest to strongest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceTier {
    /// The text has the value's shape but nothing validated it, such as a legacy 15-digit
    /// resident id, which has no check character.
    #[default]
    PatternOnly,
    /// A validator passed: a check character, a numbering plan, a date.
    Validated,
    /// A validator passed and a context keyword precedes the value.
    ValidatedWithContext,
}

impl ConfidenceTier {
    /// Returns the snake_case name used in issues.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfidenceTier::PatternOnly => "pattern_only",
            ConfidenceTier::Validated => "validated",
            ConfidenceTier::ValidatedWithContext => "validated_with_context",
        }
    }

    /// Returns the score of a finding with this tier, before any context bonus.
    pub(crate) fn base_score(self) -> f32 {
        match self {
            ConfidenceTier::PatternOnly => 0.5,
            ConfidenceTier::Validated | ConfidenceTier::ValidatedWithContext => 0.85,
        }
    }
}

impl fmt::Display for ConfidenceTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
