//! Semantic annotations stored in Arrow field metadata, so that they travel through Arrow IPC
//! and Parquet with the data.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use arrow::datatypes::Field;
use serde::{Deserialize, Serialize};

/// Field metadata key of the standard attribute name (for example a Smart Data Models name).
pub const STANDARD_NAME_KEY: &str = "governance.standard_name";
/// Field metadata key of the unit (UCUM or UN/CEFACT code, or a plain symbol such as `ug/m3`).
pub const UNIT_KEY: &str = "governance.unit";
/// Field metadata key of the semantic type (for example `pm2_5`, `phone`, `resident_id`).
pub const SEMANTIC_TYPE_KEY: &str = "governance.semantic_type";
/// Field metadata key of the sensitivity level.
pub const SENSITIVITY_KEY: &str = "governance.sensitivity";
/// Field metadata key a guard sets on a column whose values it masked or generalised. The
/// value names the operator, such as `pseudonym`, `grid_cell` or `personal_data_in_text`.
/// Lineage export reads it to flag masked columns.
pub const MASKING_KEY: &str = "governance.masking";

/// Sensitivity level of a column, ordered from least to most sensitive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// May be published.
    #[default]
    Public,
    /// For staff of the owning organisation.
    Internal,
    /// Personal or otherwise protected data.
    Sensitive,
    /// Never leaves the owning system unmasked.
    Secret,
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Sensitive => "sensitive",
            Sensitivity::Secret => "secret",
        };
        f.write_str(text)
    }
}

impl FromStr for Sensitivity {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        match text {
            "public" => Ok(Sensitivity::Public),
            "internal" => Ok(Sensitivity::Internal),
            "sensitive" => Ok(Sensitivity::Sensitive),
            "secret" => Ok(Sensitivity::Secret),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown sensitivity {other:?}: expected public, internal, sensitive or secret"
            ))),
        }
    }
}

/// The semantic annotation of one column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Semantic {
    /// Standard attribute name, such as `pm25` in `AirQualityObserved`.
    pub standard_name: Option<String>,
    /// Unit of the values, such as `ug/m3`.
    pub unit: Option<String>,
    /// Semantic type, such as `phone` or `timestamp`.
    pub semantic_type: Option<String>,
    /// Sensitivity; absent means not yet classified.
    pub sensitivity: Option<Sensitivity>,
}

impl Semantic {
    /// Reads the annotation from a field's metadata. A malformed sensitivity value is treated
    /// as absent, because metadata may come from files written by other tools.
    pub fn from_field(field: &Field) -> Self {
        let metadata = field.metadata();
        Semantic {
            standard_name: metadata.get(STANDARD_NAME_KEY).cloned(),
            unit: metadata.get(UNIT_KEY).cloned(),
            semantic_type: metadata.get(SEMANTIC_TYPE_KEY).cloned(),
            sensitivity: metadata
                .get(SENSITIVITY_KEY)
                .and_then(|text| text.parse().ok()),
        }
    }

    /// Returns `field` with this annotation merged into its metadata. Keys this annotation
    /// leaves unset keep their previous values.
    pub fn annotate(&self, field: Field) -> Field {
        let mut metadata: HashMap<String, String> = field.metadata().clone();
        let entries = [
            (STANDARD_NAME_KEY, self.standard_name.clone()),
            (UNIT_KEY, self.unit.clone()),
            (SEMANTIC_TYPE_KEY, self.semantic_type.clone()),
            (
                SENSITIVITY_KEY,
                self.sensitivity.map(|level| level.to_string()),
            ),
        ];
        for (key, value) in entries {
            if let Some(value) = value {
                metadata.insert(key.to_string(), value);
            }
        }
        field.with_metadata(metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;

    #[test]
    fn annotation_round_trips_through_field() {
        let semantic = Semantic {
            standard_name: Some("pm25".into()),
            unit: Some("ug/m3".into()),
            semantic_type: None,
            sensitivity: Some(Sensitivity::Internal),
        };
        let field = semantic.annotate(Field::new("PM2.5", DataType::Float64, true));
        assert_eq!(Semantic::from_field(&field), semantic);
    }

    #[test]
    fn sensitivity_orders_by_level() {
        assert!(Sensitivity::Secret > Sensitivity::Sensitive);
        assert!(Sensitivity::Public < Sensitivity::Internal);
        assert!("private".parse::<Sensitivity>().is_err());
    }
}
