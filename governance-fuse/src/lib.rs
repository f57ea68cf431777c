//! Fusers of the `governance` SDK: stages that combine the stream with other sources, and
//! the schema matching and drift detection that prepare sources to be combined.
//!
//! [`AsOfJoin`] aligns two sources on a key and time, such as hourly air-quality readings
//! with the nearest weather observation of the same station. It is a left join that keeps
//! every stream row, so rows out equal rows in and nothing goes to quarantine.
//!
//! The join works on plain Arrow kernels (`interleave` gathers the side columns) and needs
//! no query engine, so it can later be wrapped for distributed execution.
//!
//! [`schema`] maps source columns to a standard model of `governance_core::standard` (such
//! as FIWARE `AirQualityObserved`) by name, name embedding and value profile, with a
//! confidence and the evidence per column. It also detects schema drift between a reference
//! batch and a new one: new, missing, renamed, retyped and swapped columns, found from
//! aligned values where the batches share a time key. [`embed`] holds the [`TextEmbedder`]
//! trait with a hashed character n-gram embedder, which a pretrained sentence encoder can
//! replace. `strsim` supplies the edit-distance similarity and `chrono` parses timestamps.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::standard::StandardRegistry;
//! use governance_fuse::SchemaMatcher;
//!
//! let batch = RecordBatch::try_new(
//!     Arc::new(Schema::new(vec![
//!         Field::new("PM2.5", DataType::Float64, true),
//!         Field::new("wd", DataType::Utf8, true),
//!         Field::new("温度", DataType::Float64, true),
//!     ])),
//!     vec![
//!         Arc::new(Float64Array::from(vec![9.0, 4.0, 7.0])),
//!         Arc::new(StringArray::from(vec!["NNW", "NW", "N"])),
//!         Arc::new(Float64Array::from(vec![-0.5, -0.7, -1.2])),
//!     ],
//! )?;
//! let registry = StandardRegistry::builtin();
//! let mapping = SchemaMatcher::default().match_model(&batch, &registry, "AirQualityObserved")?;
//! assert_eq!(mapping.attribute_of("PM2.5"), Some("pm25"));
//! assert_eq!(mapping.attribute_of("wd"), Some("windDirection"));
//! assert_eq!(mapping.attribute_of("温度"), Some("temperature"));
//! // The field metadata now names the standard attribute, unit and semantic type.
//! let annotated = mapping.annotate(&batch)?;
//! # let _ = annotated;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
//! use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
//! use governance_core::audit::AuditLog;
//! use governance_core::{Fuser, GovernedBatch, Provenance, RowIdAllocator, StageContext};
//! use governance_fuse::{AsOfJoin, AsOfJoinConfig};
//!
//! const HOUR: i64 = 3_600_000;
//! let time = DataType::Timestamp(TimeUnit::Millisecond, None);
//!
//! // Weather observed every three hours at one station.
//! let weather = RecordBatch::try_new(
//!     Arc::new(Schema::new(vec![
//!         Field::new("station", DataType::Utf8, false),
//!         Field::new("timestamp", time.clone(), false),
//!         Field::new("TEMP", DataType::Float64, true),
//!     ])),
//!     vec![
//!         Arc::new(StringArray::from(vec!["Dongsi", "Dongsi"])),
//!         Arc::new(TimestampMillisecondArray::from(vec![0, 3 * HOUR])),
//!         Arc::new(Float64Array::from(vec![-0.7, 1.5])),
//!     ],
//! )?;
//! // Hourly readings; the one at 5 h has no weather within one hour before it.
//! let readings = RecordBatch::try_new(
//!     Arc::new(Schema::new(vec![
//!         Field::new("station", DataType::Utf8, false),
//!         Field::new("timestamp", time, false),
//!         Field::new("PM2.5", DataType::Float64, true),
//!     ])),
//!     vec![
//!         Arc::new(StringArray::from(vec!["Dongsi", "Dongsi", "Dongsi"])),
//!         Arc::new(TimestampMillisecondArray::from(vec![HOUR, 3 * HOUR, 5 * HOUR])),
//!         Arc::new(Float64Array::from(vec![4.0, 8.0, 11.0])),
//!     ],
//! )?;
//!
//! let mut join = AsOfJoin::new(AsOfJoinConfig::new("weather", "station", "timestamp"), vec![weather])?;
//! let ids = RowIdAllocator::default().allocate(readings.num_rows());
//! let batch = GovernedBatch::try_new(readings, ids, Provenance::new("readings"))?;
//! let mut ctx = StageContext::new("asof_join", 1, AuditLog::in_memory().into_handle());
//! let joined = join.fuse(batch, &mut ctx)?;
//!
//! let temp = joined.column("TEMP")?.as_primitive::<Float64Type>();
//! assert_eq!(temp.value(0), -0.7);
//! assert_eq!(temp.value(1), 1.5);
//! assert!(temp.is_null(2));
//! assert_eq!(join.unmatched_rows(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asof;
pub mod embed;
pub mod engine;
pub mod er;
pub mod graph;
pub mod schema;
pub mod sketch;
pub mod spatial;
pub mod temporal;

pub use asof::{AsOfDirection, AsOfJoin, AsOfJoinConfig, SideBatch};
pub use embed::{HashedNgramEmbedder, TextEmbedder};
pub use schema::{DriftDetector, DriftReport, SchemaMapping, SchemaMatcher};
pub use sketch::{LshBands, MinHashSignature, MinHasher, SketchError};
