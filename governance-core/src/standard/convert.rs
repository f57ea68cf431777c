//! Unit conversion of values and of Arrow columns.
//!
//! Units of one dimension convert by a linear map through the dimension's base unit (an
//! affine one for temperature). A gas's volume ratio (ppb, ppm) converts to a mass
//! concentration (µg/m³, mg/m³) through its molar mass `M` and the molar volume `Vm` of air
//! at the reference conditions: `µg/m³ = ppb × M / Vm`, with `M` in g/mol and `Vm` in L/mol.

use std::fmt;

use arrow::array::{Array, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

use super::unit::{Dimension, Unit};
use crate::{Error, Result};

/// Molar gas constant in J/(mol·K), the 2019 SI value rounded to ten digits.
const GAS_CONSTANT: f64 = 8.314_462_618;

/// Temperature and pressure at which a gas's volume ratio is turned into a mass
/// concentration, expressed as the molar volume of an ideal gas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConditions {
    /// Molar volume in litres per mole.
    pub molar_volume_l_per_mol: f64,
}

impl ReferenceConditions {
    /// 25 °C and 1 atm with the rounded molar volume of 24.45 L/mol that is common in
    /// air-quality conversions. The ideal gas law gives 24.47 L/mol.
    pub const STANDARD_25C: ReferenceConditions = ReferenceConditions {
        molar_volume_l_per_mol: 24.45,
    };

    /// Computes the conditions from a temperature in °C and a pressure in kPa by the ideal gas
    /// law. For example 20 °C and 101.325 kPa give about 24.06 L/mol.
    pub fn from_temperature_pressure(celsius: f64, kilopascal: f64) -> Result<Self> {
        let kelvin = celsius + 273.15;
        if !(kelvin.is_finite() && kelvin > 0.0 && kilopascal.is_finite() && kilopascal > 0.0) {
            return Err(Error::InvalidInput(format!(
                "invalid reference conditions {celsius} °C, {kilopascal} kPa: the temperature \
                 must be above absolute zero and the pressure positive"
            )));
        }
        Ok(ReferenceConditions {
            molar_volume_l_per_mol: GAS_CONSTANT * kelvin / kilopascal,
        })
    }
}

impl Default for ReferenceConditions {
    fn default() -> Self {
        ReferenceConditions::STANDARD_25C
    }
}

/// A gas whose molar mass is known, for conversions between ppb/ppm and µg/m³ or mg/m³.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gas {
    /// Nitrogen dioxide.
    #[serde(rename = "NO2")]
    NitrogenDioxide,
    /// Sulphur dioxide.
    #[serde(rename = "SO2")]
    SulphurDioxide,
    /// Carbon monoxide.
    #[serde(rename = "CO")]
    CarbonMonoxide,
    /// Ozone.
    #[serde(rename = "O3")]
    Ozone,
}

impl Gas {
    /// Returns the molar mass in g/mol (from standard atomic weights).
    pub fn molar_mass(self) -> f64 {
        match self {
            Gas::NitrogenDioxide => 46.0055,
            Gas::SulphurDioxide => 64.066,
            Gas::CarbonMonoxide => 28.010,
            Gas::Ozone => 47.998,
        }
    }
}

impl fmt::Display for Gas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let formula = match self {
            Gas::NitrogenDioxide => "NO2",
            Gas::SulphurDioxide => "SO2",
            Gas::CarbonMonoxide => "CO",
            Gas::Ozone => "O3",
        };
        f.write_str(formula)
    }
}

/// A validated conversion from one unit to another: `to = from × scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitConversion {
    from: Unit,
    to: Unit,
    scale: f64,
    offset: f64,
}

impl UnitConversion {
    /// Builds a conversion between two units of the same dimension. Volume ratio to mass
    /// concentration needs a molar mass: use [`UnitConversion::for_gas`].
    pub fn new(from: Unit, to: Unit) -> Result<Self> {
        if from.dimension() != to.dimension() {
            return Err(incompatible(from, to, None));
        }
        Ok(Self::linear(from, to, 1.0))
    }

    /// Builds a conversion for a gas of the given molar mass (g/mol), which also allows
    /// volume ratio to and from mass concentration at `conditions`.
    pub fn for_gas(
        from: Unit,
        to: Unit,
        molar_mass: f64,
        conditions: ReferenceConditions,
    ) -> Result<Self> {
        if !(molar_mass.is_finite() && molar_mass > 0.0) {
            return Err(Error::InvalidInput(format!(
                "invalid molar mass {molar_mass} g/mol: expected a positive number"
            )));
        }
        let volume = conditions.molar_volume_l_per_mol;
        if !(volume.is_finite() && volume > 0.0) {
            return Err(Error::InvalidInput(format!(
                "invalid molar volume {volume} L/mol: expected a positive number"
            )));
        }
        // Base units are ppb and µg/m³, and 1 ppb of a gas weighs M / Vm µg/m³.
        let ppb_to_microgram = molar_mass / volume;
        let bridge = match (from.dimension(), to.dimension()) {
            (a, b) if a == b => 1.0,
            (Dimension::VolumeRatio, Dimension::MassConcentration) => ppb_to_microgram,
            (Dimension::MassConcentration, Dimension::VolumeRatio) => 1.0 / ppb_to_microgram,
            _ => return Err(incompatible(from, to, Some(molar_mass))),
        };
        Ok(Self::linear(from, to, bridge))
    }

    /// Composes from → base(from) → × bridge → base(to) → to.
    fn linear(from: Unit, to: Unit, bridge: f64) -> Self {
        let (from_scale, from_offset) = from.base_map();
        let (to_scale, to_offset) = to.base_map();
        let scale = from_scale * bridge / to_scale;
        let offset = (from_offset * bridge - to_offset) / to_scale;
        UnitConversion {
            from,
            to,
            scale,
            offset,
        }
    }

    /// Returns the source unit.
    pub fn from_unit(&self) -> Unit {
        self.from
    }

    /// Returns the target unit.
    pub fn to_unit(&self) -> Unit {
        self.to
    }

    /// Converts one value.
    pub fn apply(&self, value: f64) -> f64 {
        value * self.scale + self.offset
    }

    /// Converts a numeric Arrow column to a Float64 column, keeping nulls. Integer and
    /// decimal columns are cast to Float64 first. Any other type is rejected.
    pub fn apply_array(&self, array: &dyn Array) -> Result<Float64Array> {
        let values = float_column(array)?;
        Ok(values.unary(|value| self.apply(value)))
    }
}

/// Converts a numeric Arrow column between two units given by code or symbol, such as
/// `convert_column(&array, "ppb", "GQ", Some(Gas::NitrogenDioxide), Default::default())`.
/// `gas` is needed only between volume ratio and mass concentration.
pub fn convert_column(
    array: &dyn Array,
    from: &str,
    to: &str,
    gas: Option<Gas>,
    conditions: ReferenceConditions,
) -> Result<Float64Array> {
    let from: Unit = from.parse()?;
    let to: Unit = to.parse()?;
    let conversion = match gas {
        Some(gas) => UnitConversion::for_gas(from, to, gas.molar_mass(), conditions)?,
        None => UnitConversion::new(from, to)?,
    };
    conversion.apply_array(array)
}

/// Returns the units `from` converts to, given whether a molar mass is known.
pub fn conversion_targets(from: Unit, with_molar_mass: bool) -> Vec<Unit> {
    Unit::ALL
        .into_iter()
        .filter(|unit| *unit != from)
        .filter(|unit| {
            unit.dimension() == from.dimension()
                || with_molar_mass && is_gas_bridge(from.dimension(), unit.dimension())
        })
        .collect()
}

fn is_gas_bridge(a: Dimension, b: Dimension) -> bool {
    matches!(
        (a, b),
        (Dimension::VolumeRatio, Dimension::MassConcentration)
            | (Dimension::MassConcentration, Dimension::VolumeRatio)
    )
}

fn incompatible(from: Unit, to: Unit, molar_mass: Option<f64>) -> Error {
    let targets = conversion_targets(from, molar_mass.is_some())
        .iter()
        .map(Unit::to_string)
        .collect::<Vec<_>>();
    let targets = if targets.is_empty() {
        "no other unit".to_string()
    } else {
        targets.join(", ")
    };
    let hint = if molar_mass.is_none() && is_gas_bridge(from.dimension(), to.dimension()) {
        "; this conversion needs the gas's molar mass (use UnitConversion::for_gas)"
    } else {
        ""
    };
    Error::InvalidInput(format!(
        "cannot convert {from} ({}) to {to} ({}): {} converts to {targets}{hint}",
        from.dimension(),
        to.dimension(),
        from.code()
    ))
}

fn float_column(array: &dyn Array) -> Result<Float64Array> {
    let numeric = array.data_type().is_numeric();
    if !numeric {
        return Err(Error::InvalidInput(format!(
            "cannot convert units of a {} column: expected a numeric column such as Float64",
            array.data_type()
        )));
    }
    let cast = cast(array, &DataType::Float64)?;
    cast.as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .ok_or_else(|| Error::Internal("cast to Float64 returned another array type".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn converts_within_dimensions() {
        let cases = [
            (
                Unit::MicrogramPerCubicMetre,
                Unit::MilligramPerCubicMetre,
                1500.0,
                1.5,
            ),
            (
                Unit::MilligramPerCubicMetre,
                Unit::MicrogramPerCubicMetre,
                0.3,
                300.0,
            ),
            (Unit::Celsius, Unit::Kelvin, 25.0, 298.15),
            (Unit::Celsius, Unit::Fahrenheit, 100.0, 212.0),
            (Unit::Fahrenheit, Unit::Celsius, -40.0, -40.0),
            (Unit::Kelvin, Unit::Fahrenheit, 0.0, -459.67),
            (Unit::KilometrePerHour, Unit::MetrePerSecond, 36.0, 10.0),
            (Unit::MetrePerSecond, Unit::KilometrePerHour, 5.7, 20.52),
            (Unit::PartPerMillion, Unit::PartPerBillion, 0.04, 40.0),
            (Unit::Percent, Unit::One, 55.0, 0.55),
            (Unit::Hectopascal, Unit::Kilopascal, 1013.25, 101.325),
        ];
        for (from, to, value, expected) in cases {
            let conversion = UnitConversion::new(from, to).expect("compatible units");
            let actual = conversion.apply(value);
            assert!(
                close(actual, expected, 1e-9),
                "{value} {from} -> {to}: {actual}"
            );
        }
    }

    #[test]
    fn converts_gas_ratio_to_mass_concentration() {
        let conditions = ReferenceConditions::STANDARD_25C;
        let no2 = Gas::NitrogenDioxide.molar_mass();
        let to_mass = UnitConversion::for_gas(
            Unit::PartPerBillion,
            Unit::MicrogramPerCubicMetre,
            no2,
            conditions,
        )
        .expect("gas conversion");
        // 1 ppb NO2 = 46.0055 / 24.45 = 1.8816 µg/m³.
        assert!(close(to_mass.apply(1.0), 1.88162, 1e-5));
        let back = UnitConversion::for_gas(
            Unit::MicrogramPerCubicMetre,
            Unit::PartPerBillion,
            no2,
            conditions,
        )
        .expect("gas conversion");
        assert!(close(back.apply(to_mass.apply(40.0)), 40.0, 1e-9));

        // 1 ppm CO = 28.010 / 24.45 = 1.1456 mg/m³.
        let co = UnitConversion::for_gas(
            Unit::PartPerMillion,
            Unit::MilligramPerCubicMetre,
            Gas::CarbonMonoxide.molar_mass(),
            conditions,
        )
        .expect("gas conversion");
        assert!(close(co.apply(1.0), 1.14560, 1e-5));
    }

    #[test]
    fn molar_volume_is_a_parameter() {
        let eu = ReferenceConditions::from_temperature_pressure(20.0, 101.325)
            .expect("valid conditions");
        assert!(close(eu.molar_volume_l_per_mol, 24.055, 1e-3));
        let at_20 = UnitConversion::for_gas(
            Unit::PartPerBillion,
            Unit::MicrogramPerCubicMetre,
            Gas::Ozone.molar_mass(),
            eu,
        )
        .expect("gas conversion");
        let at_25 = UnitConversion::for_gas(
            Unit::PartPerBillion,
            Unit::MicrogramPerCubicMetre,
            Gas::Ozone.molar_mass(),
            ReferenceConditions::STANDARD_25C,
        )
        .expect("gas conversion");
        assert!(at_20.apply(10.0) > at_25.apply(10.0));
        assert!(ReferenceConditions::from_temperature_pressure(-300.0, 100.0).is_err());
        assert!(ReferenceConditions::from_temperature_pressure(20.0, 0.0).is_err());
    }

    #[test]
    fn incompatible_units_name_both_and_targets() {
        let error = UnitConversion::new(Unit::Celsius, Unit::KilometrePerHour)
            .expect_err("temperature is not speed");
        let message = error.to_string();
        assert!(message.contains("CEL (°C)"), "{message}");
        assert!(message.contains("KMH (km/h)"), "{message}");
        assert!(message.contains("KEL (K)"), "{message}");
        assert!(message.contains("FAH (°F)"), "{message}");
    }

    #[test]
    fn gas_bridge_needs_molar_mass() {
        let error = UnitConversion::new(Unit::PartPerBillion, Unit::MicrogramPerCubicMetre)
            .expect_err("needs a molar mass");
        assert!(error.to_string().contains("molar mass"), "{error}");
        let error = UnitConversion::for_gas(
            Unit::PartPerBillion,
            Unit::Celsius,
            46.0,
            ReferenceConditions::default(),
        )
        .expect_err("ppb is not a temperature");
        assert!(error.to_string().contains("GQ (µg/m³)"), "{error}");
        assert!(
            UnitConversion::for_gas(
                Unit::PartPerBillion,
                Unit::MicrogramPerCubicMetre,
                -1.0,
                ReferenceConditions::default()
            )
            .is_err()
        );
    }

    #[test]
    fn converts_arrow_columns_and_keeps_nulls() {
        let column = Float64Array::from(vec![Some(10.0), None, Some(-5.0)]);
        let kelvin = convert_column(&column, "°C", "KEL", None, Default::default())
            .expect("temperature conversion");
        assert!(close(kelvin.value(0), 283.15, 1e-9));
        assert!(kelvin.is_null(1));
        assert!(close(kelvin.value(2), 268.15, 1e-9));

        let integers = Int32Array::from(vec![Some(20), None]);
        let micrograms = convert_column(
            &integers,
            "ppb",
            "ug/m3",
            Some(Gas::SulphurDioxide),
            ReferenceConditions::default(),
        )
        .expect("integer column is cast");
        assert!(close(micrograms.value(0), 20.0 * 64.066 / 24.45, 1e-9));
        assert!(micrograms.is_null(1));
    }

    #[test]
    fn column_conversion_rejects_bad_input() {
        let column = Float64Array::from(vec![1.0]);
        let unknown = convert_column(&column, "furlong", "MTR", None, Default::default())
            .expect_err("unknown unit");
        assert!(unknown.to_string().contains("furlong"), "{unknown}");
        let incompatible = convert_column(&column, "GQ", "CEL", None, Default::default())
            .expect_err("incompatible units");
        assert!(
            incompatible.to_string().contains("GP (mg/m³)"),
            "{incompatible}"
        );
        let text = arrow::array::StringArray::from(vec!["1.0"]);
        let wrong_type =
            convert_column(&text, "GQ", "GP", None, Default::default()).expect_err("text column");
        assert!(wrong_type.to_string().contains("Utf8"), "{wrong_type}");
        let empty = Float64Array::from(Vec::<f64>::new());
        let converted = convert_column(&empty, "GQ", "GP", None, Default::default())
            .expect("empty column converts");
        assert_eq!(converted.len(), 0);
    }
}
