//! Cleaners of the `governance` SDK: stages that take one governed batch at a time and return
//! it canonicalised, checked, de-duplicated, gap-filled and screened for outliers.
//!
//! | stage | module | changes data | logs |
//! |---|---|---|---|
//! | [`Canonicalise`] | [`canonical`] | text and integers to Float64, trimmed text, a timestamp from date parts | `Format`, `Canonicalised` |
//! | [`Rules`] | [`rules`] | only with `null_out` or `correct` | `Missing`, `OutOfRange`, `NotAllowed`, `Canonicalised` |
//! | [`Dedupe`] | [`dedupe`] | merges rows with a repeated key | `Duplicate`, `Imputed` |
//! | [`FillGaps`] | [`gaps`] | interpolates short gaps, holding trailing rows back | `Imputed` |
//! | [`SeasonalFill`] | [`seasonal`] | fills long gaps along a daily or other seasonal profile | `Imputed` |
//! | [`ModelImpute`] | [`model_impute`] | fills numeric and text cells from the other columns with a learned model | `Imputed` |
//! | [`ErrorCleaner`] | [`detection`] | applies confident corrections to text columns | `Anomaly`, `Canonicalised` |
//! | [`RobustOutliers`] | [`outliers`] | never; learns its threshold from feedback | `Outlier`, `OutOfRange` |
//! | [`QualityGate`] | [`quality`] | adds score and tier columns; quarantines rows below the minimum tier | none |
//!
//! Beside the stages, [`checks`] is a declarative rule engine (completeness, keys, ranges,
//! formats, foreign keys, functional dependencies, SQL predicates through DataFusion, drift
//! tests and custom rules) that reports failing cells and per-rule metrics, usable directly or
//! as the [`checks::CheckSuite`] cleaner. [`profile`] profiles columns, suggests rules from a
//! profile and discovers approximate functional dependencies.
//!
//! Heavy dependencies and why: `datafusion` plans the SQL predicates of [`checks`];
//! `hyperloglogplus` and `tdigest` keep the distinct-count and quantile sketches of
//! [`profile`] bounded; `statrs` gives the chi-square distribution for drift p-values.
//!
//! Every stage is built from a serde config struct that rejects unknown fields, keeps every
//! row it is given (as output, as a merge or held back until `flush`), and writes one audit
//! record of counts per batch in which it changed something.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_clean::{Canonicalise, CanonicaliseConfig, Rules, RulesConfig};
//! use governance_core::audit::AuditLog;
//! use governance_core::{Cleaner, GovernedBatch, Provenance, RowIdAllocator, StageContext};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("year", DataType::Int64, true),
//!     Field::new("month", DataType::Int64, true),
//!     Field::new("day", DataType::Int64, true),
//!     Field::new("hour", DataType::Int64, true),
//!     Field::new("PM2.5", DataType::Utf8, true),
//!     Field::new("station", DataType::Utf8, true),
//! ]));
//! let data = RecordBatch::try_new(schema, vec![
//!     Arc::new(Int64Array::from(vec![2013, 2013])),
//!     Arc::new(Int64Array::from(vec![3, 3])),
//!     Arc::new(Int64Array::from(vec![1, 1])),
//!     Arc::new(Int64Array::from(vec![0, 1])),
//!     Arc::new(StringArray::from(vec!["1,234 ug/m3", "NA"])),
//!     Arc::new(StringArray::from(vec!["Dongsi ", "Dongsii"])),
//! ])?;
//! let ids = RowIdAllocator::default().allocate(2);
//! let batch = GovernedBatch::try_new(data, ids, Provenance::new("example"))?;
//!
//! let mut canonicalise = Canonicalise::new(CanonicaliseConfig {
//!     numeric: vec!["PM2.5".into()],
//!     trim: vec!["station".into()],
//!     timestamp: Some(Default::default()),
//!     ..Default::default()
//! })?;
//! let rules: RulesConfig = serde_json::from_str(r#"{"rules": [
//!     {"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}},
//!     {"column": "station", "check": {"allowed": ["Dongsi", "Tiantan"]}, "action": "correct"}
//! ]}"#)?;
//! let mut rules = Rules::new(rules)?;
//!
//! let mut ctx = StageContext::new("example", 1, AuditLog::in_memory().into_handle());
//! let batch = canonicalise.clean(batch, &mut ctx)?;
//! let batch = rules.clean(batch, &mut ctx)?;
//! // "1,234 ug/m3" became 1234, above the range; "Dongsii" was corrected to "Dongsi".
//! assert_eq!(batch.issues.count_by_kind().len(), 3);
//! assert!(batch.column_names().contains(&"timestamp".to_string()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod anomaly;
pub mod canonical;
pub mod checks;
mod correction;
pub mod dedupe;
pub mod detection;
mod edit_distance;
pub mod gaps;
mod holdback;
pub mod model_impute;
mod numeric_text;
pub mod outliers;
pub mod profile;
pub mod quality;
pub mod rules;
pub mod seasonal;
mod support;

pub use canonical::{Canonicalise, CanonicaliseConfig, TimestampConfig};
pub use dedupe::{Dedupe, DedupeConfig};
pub use detection::{ErrorCleaner, ErrorCleanerConfig};
pub use gaps::{FillGaps, FillGapsConfig};
pub use model_impute::{ModelImpute, ModelImputeConfig};
pub use outliers::{RobustOutliers, RobustOutliersConfig};
pub use quality::{QualityConfig, QualityGate, Tier};
pub use rules::{Check, Rule, RuleAction, Rules, RulesConfig};
pub use seasonal::{SeasonalFill, SeasonalFillConfig};
