//! Applicators of the `governance` SDK: the stages at the end of a chain that turn governed
//! data into files and database tables.
//!
//! - [`ParquetSink`] streams the governed data, with its row ids and semantic field metadata,
//!   to `governed.parquet`, and the issue log to `issues.parquet`.
//! - [`CsvSink`] streams the governed data, with its row ids, to `governed.csv`, with a
//!   configurable delimiter, header and null text. Both sinks write a round whose batches
//!   gain or lose columns (a collector's schema drift policy `adapt`) with the union of the
//!   columns, nulls where a batch lacks one.
//! - [`PostgresSink`] loads the governed data into a PostgreSQL table by binary COPY, appending
//!   or upserting on a key, and commits a checkpoint in the same transaction as the rows (see
//!   [`postgres`] for the type mapping).
//! - [`ParquetPartSink`] writes one Parquet part per batch and commits it with the batch's
//!   source position in a checkpoint file, for streams that resume after a crash;
//!   [`run_checkpointed`] drives a resumable collector into such a sink.
//! - [`ReportWriter`] measures per-column completeness and validity while the data streams
//!   past and writes a quality report (JSON and Markdown), the findings, the lineage, the
//!   quarantine and a run summary.
//! - [`HtmlReport`] renders the quality report files of a run's rounds as one self-contained
//!   HTML page with inline SVG plots (quality over rounds, issues by kind, alerts on a
//!   timeline, stage timings), drawn with `plotters`' SVG backend.
//! - [`OpenLineageWriter`] appends an OpenLineage START and COMPLETE event per round, with the
//!   output schema, column lineage (masked columns flagged) and the stages' lineage records.
//! - [`AlertSink`] posts findings above a severity, and failed rounds, as JSON to webhooks
//!   with `reqwest` on a background thread, with retries, exponential backoff and an NDJSON
//!   dead letter for what is not delivered (see [`alerts`]).
//! - [`WorkOrderApplicator`] raises work orders from findings into a [`WorkOrderStore`],
//!   where they move through open, assigned, resolved and verified. Resolutions come back as
//!   feedback for the next round (see [`work_orders`]).
//!
//! The file writers write each round into `<dir>/round-<n>/` by default. They write every
//! file under a temporary name first and rename it into place only when the round has
//! succeeded, so a failed round never leaves a file that looks complete.
//!
//! Parquet is written with the `parquet` crate's `ArrowWriter`, which stores the Arrow schema
//! in the file so that field metadata, and with it the semantic annotations, survive a round
//! trip.
//!
//! ```
//! use governance_apply::{ParquetSink, ParquetSinkConfig, ReportWriter, ReportWriterConfig};
//! use governance_core::{Chain, Collector, Result};
//!
//! /// Builds a chain that writes `out/round-<n>/governed.parquet`, `out/round-<n>/quality.md`,
//! /// `out/summary.json` and the other report files each time it runs.
//! fn build_chain(collector: impl Collector + 'static) -> Result<Chain> {
//!     Chain::builder()
//!         .collect(collector)
//!         .apply(ParquetSink::new(ParquetSinkConfig::new("out"))?)
//!         .apply(ReportWriter::new(ReportWriterConfig::new("out"))?)
//!         .build()
//! }
//! ```

pub mod alerts;
mod csv_sink;
mod error;
pub mod html_report;
mod markdown;
mod openlineage;
mod output;
mod parquet_parts;
mod parquet_sink;
pub mod postgres;
mod quality;
mod report;
mod round_schema;
mod stream;
pub mod work_orders;

pub use alerts::{ALERT_SINK_NAME, AlertSink, AlertSinkConfig, WebhookConfig};
pub use csv_sink::{CSV_SINK_NAME, CsvSink, CsvSinkConfig, GOVERNED_CSV_FILE};
pub use error::{ApplyError, RetypedColumn};
pub use html_report::{HtmlReport, RoundRecord};
pub use openlineage::{OpenLineageWriter, OpenLineageWriterConfig};
pub use parquet_parts::{
    PARQUET_PART_SINK_NAME, PART_CHECKPOINT_FILE, ParquetPartSink, PartCheckpoint,
};
pub use parquet_sink::{
    GOVERNED_FILE, ISSUES_FILE, PARQUET_SINK_NAME, ParquetCompression, ParquetSink,
    ParquetSinkConfig,
};
pub use postgres::{
    Checkpoint, CommitMode, POSTGRES_SINK_NAME, PostgresSink, PostgresSinkConfig, PostgresWriter,
    SchemaEvolution, SslMode, WriteMode,
};
pub use quality::{
    ColumnQuality, QUALITY_SCORE_COLUMN, QUALITY_TIER_COLUMN, QualityStats, TierSummary,
};
pub use report::{
    FINDINGS_FILE, LINEAGE_FILE, QUALITY_JSON_FILE, QUALITY_MARKDOWN_FILE, QUARANTINE_FILE,
    QualityReport, REPORT_WRITER_NAME, ReportWriter, ReportWriterConfig, SUMMARY_FILE,
    SummaryReport,
};
pub use stream::{StreamOptions, StreamStats, run_checkpointed};
pub use work_orders::{
    WORK_ORDER_APPLICATOR_NAME, WorkOrderApplicator, WorkOrderConfig, WorkOrderStore,
};
