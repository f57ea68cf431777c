//! Standard data models: a registry of models such as FIWARE `AirQualityObserved` and the
//! Open311 service request, each a list of attributes with a value type, a UN/CEFACT unit,
//! a semantic type, common column-name aliases and a plausible value range.
//!
//! Schema matching (in `governance-fuse`) maps source columns to these attributes, and
//! [`Attribute::annotate`] writes the result into the `governance.*` field metadata of
//! [`crate::semantic`]. [`UnitConversion`] turns a column into the attribute's unit, including
//! ppb or ppm of a gas into µg/m³ or mg/m³ at stated [`ReferenceConditions`].
//!
//! ```
//! use arrow::array::Float64Array;
//! use governance_core::standard::{ReferenceConditions, StandardRegistry, Unit};
//!
//! let registry = StandardRegistry::builtin();
//! let no2 = registry.get("AirQualityObserved")?.attribute("no2").expect("no2 attribute");
//! let conversion = no2.conversion_from(Unit::PartPerBillion, ReferenceConditions::default())?;
//! let in_ppb = Float64Array::from(vec![Some(20.0), None]);
//! let in_micrograms = conversion.apply_array(&in_ppb)?;
//! assert!((in_micrograms.value(0) - 37.63).abs() < 0.01);
//! # Ok::<(), governance_core::Error>(())
//! ```

mod convert;
mod model;
mod models;
mod registry;
mod unit;

pub use convert::{Gas, ReferenceConditions, UnitConversion, conversion_targets, convert_column};
pub use model::{Attribute, AttributeType, StandardModel, ValueRange};
pub use registry::StandardRegistry;
pub use unit::{Dimension, Unit};
