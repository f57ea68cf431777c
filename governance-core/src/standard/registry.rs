//! The registry of standard models by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::StandardModel;
use super::models;
use crate::{Error, Result};

/// Standard models by name. [`StandardRegistry::builtin`] contains the models shipped with the
/// SDK; users add their own with [`StandardRegistry::register`]. It serialises as a list of
/// models, and deserialising validates each one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<StandardModel>", into = "Vec<StandardModel>")]
pub struct StandardRegistry {
    models: BTreeMap<String, StandardModel>,
}

impl StandardRegistry {
    /// Returns an empty registry.
    pub fn new() -> Self {
        StandardRegistry::default()
    }

    /// Returns a registry of the built-in models: `AirQualityObserved`, `WeatherObserved`,
    /// `TrafficFlowObserved` and `ServiceRequest`.
    pub fn builtin() -> Self {
        let mut registry = StandardRegistry::new();
        for model in models::builtin_models() {
            registry.models.insert(model.name.clone(), model);
        }
        registry
    }

    /// Adds a model after validating it. A model of the same name is an error; use
    /// [`StandardRegistry::replace`] to overwrite one.
    pub fn register(&mut self, model: StandardModel) -> Result<()> {
        model.validate()?;
        if self.models.contains_key(&model.name) {
            return Err(Error::InvalidInput(format!(
                "standard model {:?} is already registered: call replace to overwrite it",
                model.name
            )));
        }
        self.models.insert(model.name.clone(), model);
        Ok(())
    }

    /// Adds or overwrites a model after validating it, and returns the previous one.
    pub fn replace(&mut self, model: StandardModel) -> Result<Option<StandardModel>> {
        model.validate()?;
        Ok(self.models.insert(model.name.clone(), model))
    }

    /// Returns the model called `name`, or an error that lists the registered names.
    pub fn get(&self, name: &str) -> Result<&StandardModel> {
        self.models.get(name).ok_or_else(|| {
            let known = self.names().collect::<Vec<_>>().join(", ");
            let close = self
                .names()
                .find(|known| known.eq_ignore_ascii_case(name))
                .map(|known| format!(" (did you mean {known:?}?)"))
                .unwrap_or_default();
            Error::InvalidInput(format!(
                "unknown standard model {name:?}{close}: registered models are {known}"
            ))
        })
    }

    /// Returns the registered model names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// Returns the registered models in name order.
    pub fn models(&self) -> impl Iterator<Item = &StandardModel> {
        self.models.values()
    }
}

impl TryFrom<Vec<StandardModel>> for StandardRegistry {
    type Error = Error;

    fn try_from(models: Vec<StandardModel>) -> Result<Self> {
        let mut registry = StandardRegistry::new();
        for model in models {
            registry.register(model)?;
        }
        Ok(registry)
    }
}

impl From<StandardRegistry> for Vec<StandardModel> {
    fn from(registry: StandardRegistry) -> Self {
        registry.models.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standard::{Attribute, AttributeType, Unit};

    fn noise_model() -> StandardModel {
        StandardModel {
            name: "NoiseLevelObserved".into(),
            description: "sound levels at a point".into(),
            source: "user".into(),
            attributes: vec![
                Attribute::new(
                    "LAeq",
                    AttributeType::Number,
                    "sound_level",
                    "A-weighted level",
                )
                .with_aliases(&["noise_db", "噪声"])
                .with_range(0.0, 140.0),
            ],
        }
    }

    #[test]
    fn builtin_models_are_valid() {
        let registry = StandardRegistry::builtin();
        let names = registry.names().collect::<Vec<_>>();
        assert_eq!(
            names,
            [
                "AirQualityObserved",
                "ServiceRequest",
                "TrafficFlowObserved",
                "WeatherObserved"
            ]
        );
        for model in registry.models() {
            assert!(model.validate().is_ok(), "{} is invalid", model.name);
        }
        let air = registry.get("AirQualityObserved").expect("built in");
        let pm25 = air.attribute("pm25").expect("pm25 attribute");
        assert_eq!(pm25.unit, Some(Unit::MicrogramPerCubicMetre));
        assert!(pm25.aliases.iter().any(|alias| alias == "PM2.5"));
    }

    #[test]
    fn unknown_model_lists_registered_names() {
        let registry = StandardRegistry::builtin();
        let error = registry.get("airqualityobserved").expect_err("wrong case");
        let message = error.to_string();
        assert!(message.contains("\"airqualityobserved\""), "{message}");
        assert!(
            message.contains("did you mean \"AirQualityObserved\""),
            "{message}"
        );
        assert!(message.contains("WeatherObserved"), "{message}");
        assert!(StandardRegistry::new().get("AirQualityObserved").is_err());
    }

    #[test]
    fn registers_user_model_once() {
        let mut registry = StandardRegistry::builtin();
        registry.register(noise_model()).expect("new model");
        assert!(registry.get("NoiseLevelObserved").is_ok());
        let error = registry.register(noise_model()).expect_err("second time");
        assert!(error.to_string().contains("already registered"), "{error}");
        let previous = registry.replace(noise_model()).expect("replace");
        assert!(previous.is_some());
    }

    #[test]
    fn round_trips_through_json() {
        let mut registry = StandardRegistry::builtin();
        registry.register(noise_model()).expect("new model");
        let json = serde_json::to_string(&registry).expect("serialise");
        let back: StandardRegistry = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, registry);
    }

    #[test]
    fn deserialising_validates_models() {
        let json = r#"[{"name": "Bad", "description": "", "source": "", "attributes": []}]"#;
        let error = serde_json::from_str::<StandardRegistry>(json).expect_err("no attributes");
        assert!(error.to_string().contains("no attributes"), "{error}");
        let json = r#"[{"name": "Bad", "description": "", "source": "", "attributes": [
            {"name": "x", "data_type": "number", "unit": "furlong", "semantic_type": "x",
             "description": ""}]}]"#;
        let error = serde_json::from_str::<StandardRegistry>(json).expect_err("unknown unit");
        assert!(error.to_string().contains("furlong"), "{error}");
    }
}
