//! Units of measurement by UN/CEFACT Recommendation 20 code, with a display symbol and the
//! linear map of each unit to the base unit of its dimension.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The physical quantity a unit measures. Units convert freely within one dimension; volume
/// ratios and mass concentrations of a gas convert into each other through its molar mass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Mass per volume of air, base µg/m³.
    MassConcentration,
    /// Volume mixing ratio of a gas, base ppb.
    VolumeRatio,
    /// Temperature, base kelvin.
    Temperature,
    /// Speed, base m/s.
    Speed,
    /// Dimensionless fraction, base 1.
    Fraction,
    /// Plane angle, base degree.
    Angle,
    /// Length, base metre.
    Length,
    /// Pressure, base pascal.
    Pressure,
    /// Duration, base second.
    Duration,
    /// Power per area, base W/m².
    Irradiance,
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Dimension::MassConcentration => "mass concentration",
            Dimension::VolumeRatio => "volume ratio",
            Dimension::Temperature => "temperature",
            Dimension::Speed => "speed",
            Dimension::Fraction => "fraction",
            Dimension::Angle => "angle",
            Dimension::Length => "length",
            Dimension::Pressure => "pressure",
            Dimension::Duration => "duration",
            Dimension::Irradiance => "irradiance",
        };
        f.write_str(text)
    }
}

/// A unit of measurement known to the standard models. It serialises as its UN/CEFACT code
/// and parses from the code or from common symbols (`ug/m3`, `°C`, `km/h`, `%`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Unit {
    /// Microgram per cubic metre, code `GQ`.
    MicrogramPerCubicMetre,
    /// Milligram per cubic metre, code `GP`.
    MilligramPerCubicMetre,
    /// Part per million by volume, code `59`.
    PartPerMillion,
    /// Part per billion by volume, code `61`.
    PartPerBillion,
    /// Degree Celsius, code `CEL`.
    Celsius,
    /// Kelvin, code `KEL`.
    Kelvin,
    /// Degree Fahrenheit, code `FAH`.
    Fahrenheit,
    /// Kilometre per hour, code `KMH`.
    KilometrePerHour,
    /// Metre per second, code `MTS`.
    MetrePerSecond,
    /// Percent, code `P1`.
    Percent,
    /// Dimensionless one (a fraction between 0 and 1), code `C62`.
    One,
    /// Degree of plane angle, code `DD`.
    Degree,
    /// Millimetre, code `MMT` (also litres per square metre of rain).
    Millimetre,
    /// Centimetre, code `CMT`.
    Centimetre,
    /// Metre, code `MTR`.
    Metre,
    /// Hectopascal, code `A97`.
    Hectopascal,
    /// Kilopascal, code `KPA`.
    Kilopascal,
    /// Pascal, code `PAL`.
    Pascal,
    /// Second, code `SEC`.
    Second,
    /// Minute, code `MIN`.
    Minute,
    /// Hour, code `HUR`.
    Hour,
    /// Watt per square metre, code `D54`.
    WattPerSquareMetre,
}

/// Scale and offset of a unit in terms of its dimension's base: `base = value * scale + offset`.
struct Definition {
    code: &'static str,
    symbol: &'static str,
    dimension: Dimension,
    scale: f64,
    offset: f64,
    /// Other spellings accepted by [`Unit::from_str`], compared case-insensitively.
    spellings: &'static [&'static str],
}

impl Unit {
    /// Every known unit, in a stable order.
    pub const ALL: [Unit; 22] = [
        Unit::MicrogramPerCubicMetre,
        Unit::MilligramPerCubicMetre,
        Unit::PartPerMillion,
        Unit::PartPerBillion,
        Unit::Celsius,
        Unit::Kelvin,
        Unit::Fahrenheit,
        Unit::KilometrePerHour,
        Unit::MetrePerSecond,
        Unit::Percent,
        Unit::One,
        Unit::Degree,
        Unit::Millimetre,
        Unit::Centimetre,
        Unit::Metre,
        Unit::Hectopascal,
        Unit::Kilopascal,
        Unit::Pascal,
        Unit::Second,
        Unit::Minute,
        Unit::Hour,
        Unit::WattPerSquareMetre,
    ];

    fn definition(self) -> Definition {
        use Dimension as D;
        let (code, symbol, dimension, scale, offset, spellings): (_, _, _, f64, f64, &[&str]) =
            match self {
                Unit::MicrogramPerCubicMetre => (
                    "GQ",
                    "µg/m³",
                    D::MassConcentration,
                    1.0,
                    0.0,
                    &[
                        "ug/m3",
                        "µg/m3",
                        "μg/m3",
                        "μg/m³",
                        "ug m-3",
                        "microgram per cubic metre",
                    ],
                ),
                Unit::MilligramPerCubicMetre => (
                    "GP",
                    "mg/m³",
                    D::MassConcentration,
                    1000.0,
                    0.0,
                    &["mg/m3", "mg m-3", "milligram per cubic metre"],
                ),
                Unit::PartPerMillion => ("59", "ppm", D::VolumeRatio, 1000.0, 0.0, &["ppmv"]),
                Unit::PartPerBillion => ("61", "ppb", D::VolumeRatio, 1.0, 0.0, &["ppbv"]),
                Unit::Celsius => (
                    "CEL",
                    "°C",
                    D::Temperature,
                    1.0,
                    273.15,
                    &["degC", "celsius", "℃"],
                ),
                Unit::Kelvin => ("KEL", "K", D::Temperature, 1.0, 0.0, &["kelvin"]),
                Unit::Fahrenheit => (
                    "FAH",
                    "°F",
                    D::Temperature,
                    5.0 / 9.0,
                    273.15 - 32.0 * 5.0 / 9.0,
                    &["degF", "fahrenheit", "℉"],
                ),
                Unit::KilometrePerHour => {
                    ("KMH", "km/h", D::Speed, 1.0 / 3.6, 0.0, &["kph", "km h-1"])
                }
                Unit::MetrePerSecond => ("MTS", "m/s", D::Speed, 1.0, 0.0, &["m s-1", "mps"]),
                Unit::Percent => ("P1", "%", D::Fraction, 0.01, 0.0, &["percent", "pct"]),
                Unit::One => ("C62", "1", D::Fraction, 1.0, 0.0, &["fraction", "ratio"]),
                Unit::Degree => ("DD", "°", D::Angle, 1.0, 0.0, &["deg", "degree", "degrees"]),
                Unit::Millimetre => ("MMT", "mm", D::Length, 0.001, 0.0, &["l/m2", "l/m²"]),
                Unit::Centimetre => ("CMT", "cm", D::Length, 0.01, 0.0, &[]),
                Unit::Metre => ("MTR", "m", D::Length, 1.0, 0.0, &["metre", "meter"]),
                Unit::Hectopascal => ("A97", "hPa", D::Pressure, 100.0, 0.0, &["mbar", "mb"]),
                Unit::Kilopascal => ("KPA", "kPa", D::Pressure, 1000.0, 0.0, &[]),
                Unit::Pascal => ("PAL", "Pa", D::Pressure, 1.0, 0.0, &[]),
                Unit::Second => ("SEC", "s", D::Duration, 1.0, 0.0, &["sec", "seconds"]),
                Unit::Minute => ("MIN", "min", D::Duration, 60.0, 0.0, &["minutes"]),
                Unit::Hour => ("HUR", "h", D::Duration, 3600.0, 0.0, &["hours"]),
                Unit::WattPerSquareMetre => {
                    ("D54", "W/m²", D::Irradiance, 1.0, 0.0, &["W/m2", "W m-2"])
                }
            };
        Definition {
            code,
            symbol,
            dimension,
            scale,
            offset,
            spellings,
        }
    }

    /// Returns the UN/CEFACT common code, such as `GQ`.
    pub fn code(self) -> &'static str {
        self.definition().code
    }

    /// Returns the display symbol, such as `µg/m³`.
    pub fn symbol(self) -> &'static str {
        self.definition().symbol
    }

    /// Returns the quantity this unit measures.
    pub fn dimension(self) -> Dimension {
        self.definition().dimension
    }

    /// Returns the scale and offset that map a value of this unit to the base unit.
    pub(crate) fn base_map(self) -> (f64, f64) {
        let definition = self.definition();
        (definition.scale, definition.offset)
    }

    /// Returns the units of the same dimension, this one excluded.
    pub fn same_dimension(self) -> impl Iterator<Item = Unit> {
        Unit::ALL
            .into_iter()
            .filter(move |unit| *unit != self && unit.dimension() == self.dimension())
    }

    /// Returns the list of known units as `CODE (symbol)`, for error messages.
    pub(crate) fn describe_all() -> String {
        Unit::ALL
            .iter()
            .map(|unit| unit.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.symbol())
    }
}

impl FromStr for Unit {
    type Err = crate::Error;

    /// Parses a UN/CEFACT code, a symbol or a listed spelling. Codes and spellings compare
    /// case-insensitively except the single-letter symbols `K` and `m`, where case matters.
    fn from_str(text: &str) -> crate::Result<Self> {
        let trimmed = text.trim();
        for unit in Unit::ALL {
            let definition = unit.definition();
            if trimmed == definition.symbol || trimmed.eq_ignore_ascii_case(definition.code) {
                return Ok(unit);
            }
        }
        for unit in Unit::ALL {
            let definition = unit.definition();
            let symbol_matches = definition.symbol.chars().count() > 1
                && trimmed.to_lowercase() == definition.symbol.to_lowercase();
            let spelling_matches = definition
                .spellings
                .iter()
                .any(|spelling| spelling.to_lowercase() == trimmed.to_lowercase());
            if symbol_matches || spelling_matches {
                return Ok(unit);
            }
        }
        Err(crate::Error::InvalidInput(format!(
            "unknown unit {text:?}: known units are {}",
            Unit::describe_all()
        )))
    }
}

impl TryFrom<String> for Unit {
    type Error = crate::Error;

    fn try_from(text: String) -> crate::Result<Self> {
        text.parse()
    }
}

impl From<Unit> for String {
    fn from(unit: Unit) -> String {
        unit.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_symbols_and_spellings() {
        let cases = [
            ("GQ", Unit::MicrogramPerCubicMetre),
            ("ug/m3", Unit::MicrogramPerCubicMetre),
            ("μg/m³", Unit::MicrogramPerCubicMetre),
            ("gp", Unit::MilligramPerCubicMetre),
            ("59", Unit::PartPerMillion),
            ("ppb", Unit::PartPerBillion),
            ("°C", Unit::Celsius),
            ("K", Unit::Kelvin),
            ("km/h", Unit::KilometrePerHour),
            ("MTS", Unit::MetrePerSecond),
            ("%", Unit::Percent),
            ("hPa", Unit::Hectopascal),
            ("m", Unit::Metre),
        ];
        for (text, expected) in cases {
            assert_eq!(
                text.parse::<Unit>().ok(),
                Some(expected),
                "parsing {text:?}"
            );
        }
    }

    #[test]
    fn unknown_unit_lists_known_codes() {
        let error = "furlong"
            .parse::<Unit>()
            .expect_err("furlong is not a known unit");
        let message = error.to_string();
        assert!(message.contains("\"furlong\""), "{message}");
        assert!(message.contains("GQ (µg/m³)"), "{message}");
    }

    #[test]
    fn serialises_as_code() {
        let json = serde_json::to_string(&Unit::Percent).expect("serialise unit");
        assert_eq!(json, "\"P1\"");
        let unit: Unit = serde_json::from_str("\"CEL\"").expect("deserialise unit");
        assert_eq!(unit, Unit::Celsius);
        assert!(serde_json::from_str::<Unit>("\"XYZ\"").is_err());
    }

    #[test]
    fn every_unit_round_trips_its_code() {
        for unit in Unit::ALL {
            assert_eq!(unit.code().parse::<Unit>().ok(), Some(unit), "{unit}");
            assert_eq!(unit.symbol().parse::<Unit>().ok(), Some(unit), "{unit}");
        }
    }
}
