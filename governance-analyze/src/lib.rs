//! Analyzers of the `governance` SDK: stages that read the governed stream and emit findings
//! (indicators and alerts) without changing the data.
//!
//! - [`SqlIndicators`] gathers the configured columns of the stream and, after the last
//!   batch, computes indicators with SQL in DataFusion, such as the daily mean PM2.5 of each
//!   station, with alerts where a value crosses a limit. [`SqlIndicators::air_quality`] is a
//!   ready-made set for hourly air-quality readings.
//! - [`ThresholdAlerts`] checks numeric columns row by row while the stream flows and raises
//!   an alert for each crossing, up to a limit per rule.
//! - [`question::QuestionAnswerer`] answers a question in natural language with SQL that a
//!   chat model writes, checked against a [`question::QueryPolicy`] of readable tables and
//!   columns, read-only, with row and time limits.
//! - [`EarlyWarning`] forecasts a column per series with trained quantile forecasters from
//!   `governance-llm` and warns, with lead time, interval and probability, where a forecast
//!   crosses a limit.
//!
//! DataFusion is here because indicator definitions are best written, reviewed and changed
//! as SQL, and it runs that SQL over Arrow batches without copying them. tokio is here
//! because DataFusion's API is async: each `finish` runs its queries on a small runtime of
//! its own.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
//! use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
//! use governance_analyze::{SqlIndicators, ThresholdAlerts, ThresholdAlertsConfig, ThresholdRule};
//! use governance_core::audit::AuditLog;
//! use governance_core::{Analyzer, FindingKind, GovernedBatch, Provenance, RowIdAllocator, Severity, StageContext};
//!
//! // One station, 24 hourly readings of PM2.5 = 80 on 2013-03-01.
//! const DAY_START: i64 = 1_362_096_000_000;
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("station", DataType::Utf8, false),
//!     Field::new("timestamp", DataType::Timestamp(TimeUnit::Millisecond, None), false),
//!     Field::new("PM2.5", DataType::Float64, true),
//! ]));
//! let data = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["Dongsi"; 24])),
//!     Arc::new(TimestampMillisecondArray::from_iter_values((0..24).map(|hour| DAY_START + hour * 3_600_000))),
//!     Arc::new(Float64Array::from(vec![80.0; 24])),
//! ])?;
//! let ids = RowIdAllocator::default().allocate(24);
//! let batch = GovernedBatch::try_new(data, ids, Provenance::new("readings"))?;
//! let mut ctx = StageContext::new("analyzers", 1, AuditLog::in_memory().into_handle());
//!
//! let mut indicators = SqlIndicators::air_quality();
//! indicators.analyze(&batch, &mut ctx)?;
//! let findings = indicators.finish(&mut ctx)?;
//! let alert = findings.iter().find(|finding| finding.kind == FindingKind::Alert).expect("one day over 75");
//! assert_eq!(alert.subject.as_deref(), Some("Dongsi"));
//! assert_eq!(alert.time.as_deref(), Some("2013-03-01"));
//! assert_eq!(alert.value, Some(80.0));
//!
//! let rule = ThresholdRule {
//!     name: "pm25_hourly_high".into(),
//!     column: "PM2.5".into(),
//!     above: Some(75.0),
//!     below: None,
//!     severity: Severity::Warning,
//! };
//! let mut thresholds = ThresholdAlerts::new(ThresholdAlertsConfig::new(vec![rule]))?;
//! assert_eq!(thresholds.analyze(&batch, &mut ctx)?.len(), 24);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod presets;
pub mod question;
mod runtime;
pub mod sql;
mod text;
pub mod threshold;
pub mod warning;

pub use error::AnalyzeError;
pub use sql::{AlertRule, IndicatorSql, SqlIndicators, SqlIndicatorsConfig};
pub use threshold::{ThresholdAlerts, ThresholdAlertsConfig, ThresholdRule};
pub use warning::{EarlyWarning, EarlyWarningConfig, WarningTrigger};
