//! GPS positions in text: a latitude and a longitude in decimal degrees separated by a comma
//! (`39.9042, 116.4074`, `39.9042°N，116.4074°E`, `-33.8688,151.2093`).
//!
//! Both numbers need at least 3 decimal places (about 100 m), because pairs of short
//! decimals are more often prices or measurements. The pair is validated when the latitude
//! lies in [-90, 90] and the longitude in [-180, 180], with `S` and `W` meaning negative.
//! `0.000, 0.000` (a common placeholder for a missing position) is dropped.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

const PATTERN: &str = r"[\-+]?[0-9]{1,2}\.[0-9]{3,15}(?:° ?[NSns])? ?[,，] ?[\-+]?[0-9]{1,3}\.[0-9]{3,15}(?:° ?[EWew])?";

/// Parses one signed decimal with an optional hemisphere letter; `negative` is the letter
/// that makes it negative.
fn parse_degrees(text: &str, negative: char) -> Option<f64> {
    let text = text.trim();
    let (number, hemisphere) = match text.split_once('°') {
        Some((number, letter)) => (number, letter.trim().chars().next()),
        None => (text, None),
    };
    let value: f64 = number.trim().parse().ok()?;
    match hemisphere {
        Some(letter) if letter.eq_ignore_ascii_case(&negative) => (value >= 0.0).then_some(-value),
        _ => Some(value),
    }
}

/// Returns the latitude and longitude of a candidate when both are in range.
pub(crate) fn parse_pair(candidate: &str) -> Option<(f64, f64)> {
    let (latitude, longitude) = candidate.split_once([',', '，'])?;
    let latitude = parse_degrees(latitude, 'S')?;
    let longitude = parse_degrees(longitude, 'W')?;
    let in_range = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
    let placeholder = latitude == 0.0 && longitude == 0.0;
    (in_range && !placeholder).then_some((latitude, longitude))
}

/// Recognizes coordinate pairs in range as validated.
#[derive(Debug)]
pub(crate) struct GpsRecognizer {
    pattern: Regex,
}

impl GpsRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(GpsRecognizer {
            pattern: compile(PATTERN)?,
        })
    }
}

impl Recognizer for GpsRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::GpsCoordinate
    }

    fn name(&self) -> &'static str {
        "gps_coordinate"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        parse_pair(candidate).map(|_| ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_in_range_parse() {
        assert_eq!(parse_pair("39.9042, 116.4074"), Some((39.9042, 116.4074)));
        assert_eq!(
            parse_pair("33.8688°S，151.2093°E"),
            Some((-33.8688, 151.2093))
        );
        assert_eq!(parse_pair("40.7128°N, 74.0060°W"), Some((40.7128, -74.006)));
        assert_eq!(parse_pair("-33.868,151.209"), Some((-33.868, 151.209)));
    }

    #[test]
    fn pairs_out_of_range_fail() {
        assert_eq!(parse_pair("95.000, 116.407"), None);
        assert_eq!(parse_pair("39.904, 190.407"), None);
        assert_eq!(parse_pair("0.000, 0.000"), None);
        assert_eq!(parse_pair("-33.868°S, 151.209"), None);
    }
}
