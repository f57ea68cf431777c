//! A standard model and its attributes.

use std::collections::HashSet;

use arrow::datatypes::Field;
use serde::{Deserialize, Serialize};

use super::convert::{ReferenceConditions, UnitConversion};
use super::unit::Unit;
use crate::semantic::{Semantic, Sensitivity};
use crate::{Error, Result};

/// The value type of an attribute, independent of its Arrow encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// A real number.
    Number,
    /// A whole number.
    Integer,
    /// Free or coded text.
    Text,
    /// A date and time (ISO 8601 in the standard models).
    DateTime,
    /// True or false.
    Boolean,
    /// A GeoJSON geometry or a coordinate pair.
    Geometry,
}

/// An inclusive range of plausible values, in the attribute's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueRange {
    /// Smallest plausible value.
    pub min: f64,
    /// Largest plausible value.
    pub max: f64,
}

impl ValueRange {
    /// Returns true when `value` lies in the range.
    pub fn contains(&self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// One attribute of a standard model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// Attribute name as the standard spells it, such as `pm25`.
    pub name: String,
    /// Value type.
    pub data_type: AttributeType,
    /// Unit of the values; absent for text, times and counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// Semantic type written to the field metadata, such as `pm2_5` or `wind_direction`.
    pub semantic_type: String,
    /// Description of what the attribute measures or names.
    pub description: String,
    /// Column names that commonly carry this attribute, in any language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Plausible values, in `unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<ValueRange>,
    /// Coded values the attribute takes, such as `open` and `closed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    /// Molar mass in g/mol of the measured gas, which allows ppb and ppm to be converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub molar_mass: Option<f64>,
    /// Sensitivity of the values, where they can hold personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
}

impl Attribute {
    /// Builds an attribute with no unit, aliases or range.
    pub fn new(
        name: impl Into<String>,
        data_type: AttributeType,
        semantic_type: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Attribute {
            name: name.into(),
            data_type,
            unit: None,
            semantic_type: semantic_type.into(),
            description: description.into(),
            aliases: Vec::new(),
            range: None,
            allowed_values: Vec::new(),
            molar_mass: None,
            sensitivity: None,
        }
    }

    /// Sets the unit.
    pub fn with_unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Adds aliases.
    pub fn with_aliases(mut self, aliases: &[&str]) -> Self {
        self.aliases
            .extend(aliases.iter().map(|alias| alias.to_string()));
        self
    }

    /// Sets the plausible range.
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.range = Some(ValueRange { min, max });
        self
    }

    /// Sets the coded values.
    pub fn with_allowed_values(mut self, values: &[&str]) -> Self {
        self.allowed_values = values.iter().map(|value| value.to_string()).collect();
        self
    }

    /// Sets the molar mass of the measured gas in g/mol.
    pub fn with_molar_mass(mut self, grams_per_mole: f64) -> Self {
        self.molar_mass = Some(grams_per_mole);
        self
    }

    /// Sets the sensitivity.
    pub fn with_sensitivity(mut self, sensitivity: Sensitivity) -> Self {
        self.sensitivity = Some(sensitivity);
        self
    }

    /// Returns the semantic annotation of a column that carries this attribute.
    pub fn semantic(&self) -> Semantic {
        Semantic {
            standard_name: Some(self.name.clone()),
            unit: self.unit.map(|unit| unit.code().to_string()),
            semantic_type: Some(self.semantic_type.clone()),
            sensitivity: self.sensitivity,
        }
    }

    /// Returns `field` annotated with this attribute's standard name, unit, semantic type and
    /// sensitivity in the `governance.*` metadata keys.
    pub fn annotate(&self, field: Field) -> Field {
        self.semantic().annotate(field)
    }

    /// Builds the conversion of values in `source` to this attribute's unit, through the
    /// molar mass where the attribute has one.
    pub fn conversion_from(
        &self,
        source: Unit,
        conditions: ReferenceConditions,
    ) -> Result<UnitConversion> {
        let Some(target) = self.unit else {
            return Err(Error::InvalidInput(format!(
                "attribute {:?} has no unit, so values in {source} cannot be converted to it",
                self.name
            )));
        };
        match self.molar_mass {
            Some(molar_mass) => UnitConversion::for_gas(source, target, molar_mass, conditions),
            None => UnitConversion::new(source, target),
        }
    }

    fn validate(&self, model: &str) -> Result<()> {
        let invalid = |problem: String| {
            Err(Error::InvalidInput(format!(
                "invalid attribute {:?} of model {model:?}: {problem}",
                self.name
            )))
        };
        if self.name.trim().is_empty() {
            return invalid("the name is empty".into());
        }
        if let Some(range) = self.range
            && !(range.min.is_finite() && range.max.is_finite() && range.min <= range.max)
        {
            return invalid(format!(
                "range {}..{} must be finite with min <= max",
                range.min, range.max
            ));
        }
        if let Some(molar_mass) = self.molar_mass
            && !(molar_mass.is_finite() && molar_mass > 0.0)
        {
            return invalid(format!("molar mass {molar_mass} must be positive"));
        }
        Ok(())
    }
}

/// A standard data model: a named set of attributes, such as `AirQualityObserved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardModel {
    /// Model name, such as `AirQualityObserved`.
    pub name: String,
    /// Description of what an entity of this model records.
    pub description: String,
    /// The standard the model follows, such as `FIWARE Smart Data Models`.
    pub source: String,
    /// The attributes, in the standard's order.
    pub attributes: Vec<Attribute>,
}

impl StandardModel {
    /// Returns the attribute called `name`, compared exactly.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    /// Checks that the name is set, attribute names are unique and ranges and molar masses
    /// are valid.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::InvalidInput(
                "invalid standard model: the name is empty".into(),
            ));
        }
        if self.attributes.is_empty() {
            return Err(Error::InvalidInput(format!(
                "invalid standard model {:?}: it has no attributes",
                self.name
            )));
        }
        let mut seen = HashSet::new();
        for attribute in &self.attributes {
            attribute.validate(&self.name)?;
            if !seen.insert(attribute.name.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "invalid standard model {:?}: attribute {:?} appears twice",
                    self.name, attribute.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::{SEMANTIC_TYPE_KEY, STANDARD_NAME_KEY, UNIT_KEY};
    use arrow::datatypes::DataType;

    fn pm25() -> Attribute {
        Attribute::new("pm25", AttributeType::Number, "pm2_5", "fine particles")
            .with_unit(Unit::MicrogramPerCubicMetre)
            .with_range(0.0, 1000.0)
    }

    #[test]
    fn annotates_field_with_semantic_keys() {
        let field = pm25().annotate(Field::new("PM2.5", DataType::Float64, true));
        let metadata = field.metadata();
        assert_eq!(
            metadata.get(STANDARD_NAME_KEY).map(String::as_str),
            Some("pm25")
        );
        assert_eq!(metadata.get(UNIT_KEY).map(String::as_str), Some("GQ"));
        assert_eq!(
            metadata.get(SEMANTIC_TYPE_KEY).map(String::as_str),
            Some("pm2_5")
        );
    }

    #[test]
    fn conversion_uses_molar_mass() {
        let no2 = Attribute::new("no2", AttributeType::Number, "no2", "nitrogen dioxide")
            .with_unit(Unit::MicrogramPerCubicMetre)
            .with_molar_mass(46.0055);
        let conversion = no2
            .conversion_from(Unit::PartPerBillion, ReferenceConditions::default())
            .expect("ppb converts for a gas");
        assert!((conversion.apply(10.0) - 18.8162).abs() < 1e-3);
        assert!(
            pm25()
                .conversion_from(Unit::PartPerBillion, ReferenceConditions::default())
                .is_err()
        );
        let text = Attribute::new("name", AttributeType::Text, "name", "a name");
        assert!(
            text.conversion_from(Unit::Celsius, ReferenceConditions::default())
                .is_err()
        );
    }

    #[test]
    fn validate_rejects_duplicates_and_bad_ranges() {
        let mut model = StandardModel {
            name: "Test".into(),
            description: "test".into(),
            source: "test".into(),
            attributes: vec![pm25(), pm25()],
        };
        let error = model.validate().expect_err("duplicate attribute");
        assert!(error.to_string().contains("appears twice"), "{error}");

        model.attributes = vec![pm25().with_range(10.0, 1.0)];
        assert!(model.validate().is_err());
        model.attributes = vec![pm25().with_range(0.0, f64::NAN)];
        assert!(model.validate().is_err());
        model.attributes.clear();
        assert!(model.validate().is_err());
        model.attributes = vec![pm25()];
        assert!(model.validate().is_ok());
    }
}
