//! Collectors: the first link of a governance chain, which read records from a source,
//! give each a stable row id and account for every record read.
//!
//! - [`CsvCollector`] streams many CSV files in bounded batches, with declared or inferred
//!   column types, and sends malformed rows (ragged, not UTF-8, a value of the wrong type) to
//!   the quarantine with their file and line instead of dropping them.
//! - [`ParquetCollector`] streams Parquet files through the `parquet` crate's Arrow reader.
//!   Both file collectors cut a batch above their `max_bytes` of Arrow memory into slices.
//! - [`formats`] converts NGSI-LD and NGSI-v2 entities and OGC SensorThings observations to
//!   Arrow record batches and back, with units and observation times in field metadata and
//!   malformed items quarantined with their index and reason.
//! - [`MqttCollector`] reads MQTT messages (plain JSON, NGSI-LD or SensorThings) with QoS 0,
//!   1 or 2 in batches. It logs in with a password read from an environment variable,
//!   acknowledges messages only after the sink committed, and drops redelivered duplicates
//!   by a message key, so a stream survives broker and process crashes.
//! - [`FolderCollector`] watches a folder for new CSV, NDJSON and Parquet files and resumes
//!   after the last committed file and batch.
//! - [`drift`] compares each batch's schema with the stream's first batch and quarantines,
//!   flags or adapts a batch with new, missing, renamed or retyped columns. The folder and
//!   MQTT collectors apply it when their config sets `schema_drift`, and keep its reference
//!   in their checkpoints, so it survives a restart.
//! - [`HttpPollCollector`] polls an HTTP endpoint for JSON rows, NGSI-LD entities or
//!   SensorThings Observations after a time cursor, which goes into an OData `$filter` for
//!   SensorThings, joined to a caller's own filter. It has timeouts, retries that honour a
//!   `Retry-After` header, re-collection of time ranges, a shorter interval while an alert
//!   is active, and extra TLS root certificates for servers under a private certificate
//!   authority.
//! - [`recollect`] checks a collector's batches at the source for gaps and impossible values
//!   and turns each into a re-collection request: a re-query through the HTTP collector's
//!   control, or a line of a JSON Lines report for a folder. [`http::PollAlertAnalyzer`]
//!   keeps the HTTP collector's alert active while findings keep coming.
//! - [`BatchLimits`] caps the rows and payload bytes of a batch and sets apart an item
//!   larger than a batch may be; the CSV and Parquet collectors take it with `with_limits`.
//! - [`synthetic::SyntheticCity`] generates a city's air-quality readings with injected
//!   errors, its weather, and service tickets with personal data, all with ground truth,
//!   lazily and deterministically from a seed, for tests, benchmarks and demonstrations.
//!
//! Every collector records each record it reads with `StageContext::record_read` and writes
//! one audit record per file (or generated batch), so the chain can check that rows read =
//! rows out + rows quarantined.
//!
//! Dependencies: `csv` for RFC 4180 parsing with byte records and line positions, `parquet`
//! for the Arrow reader, `rand_chacha` for a portable seeded generator (ChaCha8 gives the
//! same stream on every platform and version), `chrono` for calendar arithmetic and RFC 3339
//! date-times, `serde_json` for the JSON formats, `rumqttc` as the MQTT client, `xxhash-rust` for
//! message keys, `strsim` for the name similarity of renamed columns, `reqwest` (rustls for TLS)
//! on a private `tokio` runtime as the HTTP client, `percent-encoding` for query values.
//!
//! ```
//! use governance_collect::synthetic::{InjectedKind, SyntheticCity, SyntheticConfig};
//! use governance_core::Chain;
//!
//! let city = SyntheticCity::new(SyntheticConfig { seed: 7, days: 3, ..SyntheticConfig::default() })?;
//! let mut chain = Chain::builder().collect(city.sensor_collector()).build()?;
//! let summary = chain.run_blocking()?;
//! // Six stations, 72 hours, plus the duplicate rows the generator injected.
//! let truth = city.ground_truth()?;
//! let duplicates = truth.errors_of(InjectedKind::Duplicate).count() as u64;
//! assert_eq!(summary.stages[0].rows_out, 6 * 72 + duplicates);
//! # Ok::<(), governance_core::Error>(())
//! ```

pub mod csv;
pub mod drift;
mod files;
pub mod folder;
pub mod formats;
pub mod http;
mod json_rows;
pub mod limits;
pub mod mqtt;
pub mod parquet;
pub mod recollect;
pub mod synthetic;

pub use crate::csv::{ColumnSpec, CsvCollector, CsvConfig, CsvType};
pub use crate::drift::{
    DRIFT_STATE_KEY, DriftConfig, DriftPolicy, DriftState, SchemaChange, SchemaDriftGuard,
};
pub use crate::folder::{FolderCollector, FolderConfig};
pub use crate::http::{HttpPayload, HttpPollCollector, HttpPollConfig};
pub use crate::limits::BatchLimits;
pub use crate::mqtt::{MqttCollector, MqttConfig};
pub use crate::parquet::{ParquetCollector, ParquetConfig};
pub use crate::synthetic::{GroundTruth, SyntheticCity, SyntheticCollector, SyntheticConfig};
