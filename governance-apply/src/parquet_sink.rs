//! [`ParquetSink`]: streams every governed batch, with its row ids and its issue log, into
//! Parquet files that appear under their final names only when the round finishes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Error, GovernedBatch, IssueLog, ROW_ID_COLUMN, Result, RunSummary, Stage,
    StageContext,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::{DEFAULT_MAX_ROW_GROUP_ROW_COUNT, WriterProperties};
use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;

use crate::ApplyError;
use crate::output::{OutputLayout, persist, temp_file_for};
use crate::round_schema::{RoundSchema, UnionChange, conform_columns};

/// Rows per batch when the segments of a round are read back for merging.
const MERGE_BATCH_ROWS: usize = 8192;

/// File name of the governed data in a round's folder.
pub const GOVERNED_FILE: &str = "governed.parquet";

/// File name of the issue log in a round's folder.
pub const ISSUES_FILE: &str = "issues.parquet";

/// Default stage name of a [`ParquetSink`].
pub const PARQUET_SINK_NAME: &str = "parquet_sink";

/// Compression codec of the Parquet pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParquetCompression {
    /// No compression.
    None,
    /// Snappy: fast, and readable by every Parquet reader.
    #[default]
    Snappy,
}

/// Configuration of a [`ParquetSink`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParquetSinkConfig {
    /// Output folder. Created, with its parents, when the first batch of a round arrives.
    pub dir: PathBuf,
    /// Writes each round into `dir/round-<n>/` when true (the default). When false every round
    /// replaces the files directly in `dir`.
    #[serde(default = "default_per_round_subdir")]
    pub per_round_subdir: bool,
    /// Page compression; Snappy by default.
    #[serde(default)]
    pub compression: ParquetCompression,
    /// Maximum rows per row group. The writer buffers up to this many rows in memory before
    /// it writes a row group, so lower it to bound memory for wide rows.
    #[serde(default = "default_max_row_group_rows")]
    pub max_row_group_rows: usize,
}

fn default_per_round_subdir() -> bool {
    true
}

fn default_max_row_group_rows() -> usize {
    DEFAULT_MAX_ROW_GROUP_ROW_COUNT
}

impl ParquetSinkConfig {
    /// Creates a config that writes into `dir` with the default settings.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParquetSinkConfig {
            dir: dir.into(),
            per_round_subdir: default_per_round_subdir(),
            compression: ParquetCompression::default(),
            max_row_group_rows: default_max_row_group_rows(),
        }
    }
}

/// Writes the governed data of each round to `governed.parquet` and its issue log to
/// `issues.parquet`.
///
/// `governed.parquet` contains the row ids as the first column, [`ROW_ID_COLUMN`], followed by
/// the data columns with their field metadata, so semantic annotations survive. Batches are
/// streamed to temporary files in the round's folder and renamed into place only in
/// [`Applicator::finish`], which the chain calls only after a successful round: a failed
/// round leaves no file under a final name, and its temporary files are deleted when the
/// next round starts or the sink is dropped.
///
/// # Batches with other columns
///
/// The columns of a round's batches may change, as they do under a collector's schema drift
/// policy `adapt`, and no column is dropped. The file's schema is the union of the batches'
/// schemas: the first batch's columns in their order, then each new column in the order it
/// first appeared. A row of a batch that lacks a column has a null there, and a column that
/// some batch lacks or fills with nulls is written as nullable. Columns are matched by name,
/// so a batch may also list them in another order.
///
/// Because a Parquet file has one schema, a batch that changes the union closes the
/// temporary file being written and starts another with the new union. When the round ends
/// with more than one such segment, [`Applicator::finish`] reads them back in order, fills
/// the missing columns with nulls and writes the one `governed.parquet`, so a round with
/// changing columns writes its rows twice. A round whose columns never change writes them
/// once.
///
/// A column must keep the data type and field metadata of the batch that introduced it. A
/// batch that differs there fails the round with [`ApplyError::SchemaChanged`]. A round
/// without batches writes a `governed.parquet` with only the row-id column, because no data
/// schema is known.
#[derive(Debug)]
pub struct ParquetSink {
    name: String,
    config: ParquetSinkConfig,
    layout: OutputLayout,
    properties: WriterProperties,
    open: Option<OpenRound>,
}

/// The temporary files of the round being written.
#[derive(Debug)]
struct OpenRound {
    round: u32,
    folder: PathBuf,
    /// Union of the data schemas of the round's batches so far.
    schema: Option<RoundSchema>,
    /// Closed segments of the governed data, each written with the union of its time.
    segments: Vec<NamedTempFile>,
    /// The segment being written, with the current union.
    data: Option<DataWriter>,
    issues: ArrowWriter<NamedTempFile>,
    batches: u64,
    rows: u64,
    issues_written: u64,
}

#[derive(Debug)]
struct DataWriter {
    /// Schema of the file: the row-id column, then the union's fields.
    file_schema: SchemaRef,
    writer: ArrowWriter<NamedTempFile>,
}

impl ParquetSink {
    /// Creates a sink named [`PARQUET_SINK_NAME`]. Fails when `dir` is empty or
    /// `max_row_group_rows` is 0.
    pub fn new(config: ParquetSinkConfig) -> Result<Self> {
        let layout = OutputLayout::new(PARQUET_SINK_NAME, &config.dir, config.per_round_subdir)?;
        if config.max_row_group_rows == 0 {
            return Err(Error::config(
                PARQUET_SINK_NAME,
                "max_row_group_rows is 0: set it to at least 1",
            ));
        }
        let compression = match config.compression {
            ParquetCompression::None => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
        };
        let properties = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(config.max_row_group_rows))
            .build();
        Ok(ParquetSink {
            name: PARQUET_SINK_NAME.to_string(),
            config,
            layout,
            properties,
            open: None,
        })
    }

    /// Renames the stage, so that a chain can hold more than one sink.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &ParquetSinkConfig {
        &self.config
    }

    /// Returns the folder that `round`'s files go to.
    pub fn round_dir(&self, round: u32) -> PathBuf {
        self.layout.round_dir(round)
    }

    fn open_round(&self, round: u32) -> Result<OpenRound> {
        let folder = self.layout.create_round_dir(round)?;
        let issues_path = folder.join(ISSUES_FILE);
        let issues_file = temp_file_for(&folder, ISSUES_FILE)?;
        let issues = ArrowWriter::try_new(
            issues_file,
            IssueLog::schema(),
            Some(self.properties.clone()),
        )
        .map_err(|source| self.parquet_error(&issues_path, source))?;
        Ok(OpenRound {
            round,
            folder,
            schema: None,
            segments: Vec::new(),
            data: None,
            issues,
            batches: 0,
            rows: 0,
            issues_written: 0,
        })
    }

    fn open_data(&self, folder: &Path, file_schema: SchemaRef) -> Result<DataWriter> {
        let path = folder.join(GOVERNED_FILE);
        let file = temp_file_for(folder, GOVERNED_FILE)?;
        let writer = ArrowWriter::try_new(
            file,
            Arc::clone(&file_schema),
            Some(self.properties.clone()),
        )
        .map_err(|source| self.parquet_error(&path, source))?;
        Ok(DataWriter {
            file_schema,
            writer,
        })
    }

    fn parquet_error(&self, path: &Path, source: parquet::errors::ParquetError) -> Error {
        Error::stage(
            &self.name,
            ApplyError::Parquet {
                path: path.to_path_buf(),
                source,
            },
        )
    }

    fn write(&mut self, batch: &GovernedBatch) -> Result<()> {
        let data_schema = batch.data().schema();
        if data_schema.index_of(ROW_ID_COLUMN).is_ok() {
            return Err(Error::stage(
                &self.name,
                ApplyError::ReservedColumn {
                    column: ROW_ID_COLUMN.to_string(),
                },
            ));
        }
        let Some(mut open) = self.open.take() else {
            return Err(Error::Internal(
                "parquet sink wrote before opening its round".into(),
            ));
        };
        let written = self.write_open(&mut open, batch, data_schema);
        self.open = Some(open);
        written
    }

    fn write_open(
        &self,
        open: &mut OpenRound,
        batch: &GovernedBatch,
        data_schema: SchemaRef,
    ) -> Result<()> {
        open.batches += 1;
        let change = match open.schema.as_mut() {
            None => {
                open.schema = Some(RoundSchema::new(&data_schema));
                None
            }
            Some(union) => Some(union.admit(open.batches, batch.data()).map_err(
                |differences| {
                    Error::stage(
                        &self.name,
                        ApplyError::SchemaChanged {
                            batch: open.batches,
                            differences,
                        },
                    )
                },
            )?),
        };
        let Some(union) = open.schema.as_ref() else {
            return Err(Error::Internal(
                "parquet sink has no schema after its first batch".into(),
            ));
        };
        if change.is_some_and(UnionChange::any)
            && let Some(previous) = open.data.take()
        {
            let governed_path = open.folder.join(GOVERNED_FILE);
            let segment = previous
                .writer
                .into_inner()
                .map_err(|source| self.parquet_error(&governed_path, source))?;
            open.segments.push(segment);
            tracing::info!(
                stage = %self.name,
                round = open.round,
                batch = open.batches,
                columns = union.len(),
                "the batch changes the round's columns; continuing in a new segment of governed.parquet"
            );
        }
        let data = match open.data.take() {
            Some(data) => data,
            None => self.open_data(&open.folder, union.file_schema())?,
        };
        let data = open.data.insert(data);

        // Every batch gets the file's schema: the union's columns by name, nulls for those
        // the batch lacks, and the union's nullability.
        let mut columns: Vec<ArrayRef> = vec![Arc::new(batch.row_ids().clone())];
        columns.extend(union.conform(batch.data())?);
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let conformed =
            RecordBatch::try_new_with_options(Arc::clone(&data.file_schema), columns, &options)?;
        let governed_path = open.folder.join(GOVERNED_FILE);
        data.writer
            .write(&conformed)
            .map_err(|source| self.parquet_error(&governed_path, source))?;
        open.rows += batch.num_rows() as u64;

        if !batch.issues.is_empty() {
            let issues = batch.issues.to_record_batch()?;
            let issues_path = open.folder.join(ISSUES_FILE);
            open.issues
                .write(&issues)
                .map_err(|source| self.parquet_error(&issues_path, source))?;
            open.issues_written += batch.issues.len() as u64;
        }
        Ok(())
    }

    /// Writes the segments of a round, in order, into one file with `file_schema`.
    fn merge_segments(
        &self,
        folder: &Path,
        segments: Vec<NamedTempFile>,
        file_schema: SchemaRef,
    ) -> Result<NamedTempFile> {
        let governed_path = folder.join(GOVERNED_FILE);
        let mut merged = self.open_data(folder, Arc::clone(&file_schema))?;
        let fields: Vec<_> = file_schema.fields().iter().cloned().collect();
        for segment in &segments {
            let file = segment
                .reopen()
                .map_err(|source| Error::io(segment.path(), source))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|builder| builder.with_batch_size(MERGE_BATCH_ROWS).build())
                .map_err(|source| self.parquet_error(segment.path(), source))?;
            for read in reader {
                let read = read.map_err(|source| {
                    self.parquet_error(segment.path(), parquet::errors::ParquetError::from(source))
                })?;
                let options = RecordBatchOptions::new().with_row_count(Some(read.num_rows()));
                let conformed = RecordBatch::try_new_with_options(
                    Arc::clone(&file_schema),
                    conform_columns(&fields, &read)?,
                    &options,
                )?;
                merged
                    .writer
                    .write(&conformed)
                    .map_err(|source| self.parquet_error(&governed_path, source))?;
            }
        }
        merged
            .writer
            .into_inner()
            .map_err(|source| self.parquet_error(&governed_path, source))
    }
}

/// Lists how `batch` differs from `first`, one entry per field. Field order, data types and
/// field metadata must match. Nullability may differ, unless a null reaches a field that the
/// first batch declared non-nullable.
pub(crate) fn schema_differences(first: &Schema, batch: &RecordBatch) -> Vec<String> {
    let later = batch.schema();
    let mut differences = Vec::new();
    for field in first.fields() {
        let Ok(index) = later.index_of(field.name()) else {
            differences.push(format!(
                "field {:?} ({}) is missing",
                field.name(),
                field.data_type()
            ));
            continue;
        };
        let other = later.field(index);
        if field.data_type() != other.data_type() {
            differences.push(format!(
                "field {:?} is {} in batch 1 and {} here",
                field.name(),
                field.data_type(),
                other.data_type()
            ));
        }
        let nulls = batch.column(index).null_count();
        if !field.is_nullable() && nulls > 0 {
            differences.push(format!(
                "field {:?} is non-nullable in batch 1 and has {nulls} nulls here",
                field.name()
            ));
        }
        if field.metadata() != other.metadata() {
            differences.push(format!(
                "field {:?} has metadata {:?} in batch 1 and {:?} here",
                field.name(),
                sorted(field),
                sorted(other)
            ));
        }
    }
    for field in later.fields() {
        if first.index_of(field.name()).is_err() {
            differences.push(format!(
                "field {:?} ({}) is not in batch 1",
                field.name(),
                field.data_type()
            ));
        }
    }
    if differences.is_empty() && first.fields().len() == later.fields().len() {
        let first_names: Vec<&String> = first.fields().iter().map(|field| field.name()).collect();
        let later_names: Vec<&String> = later.fields().iter().map(|field| field.name()).collect();
        if first_names != later_names {
            differences.push(format!(
                "the fields are in the order {first_names:?} in batch 1 and {later_names:?} here"
            ));
        }
    }
    differences
}

fn sorted(field: &Field) -> std::collections::BTreeMap<&String, &String> {
    field.metadata().iter().collect()
}

impl Stage for ParquetSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "writes governed data and issues as Parquet to {}",
            self.layout.dir().display()
        )
    }
}

impl Applicator for ParquetSink {
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        if let Some(stale) = self.open.as_ref().filter(|open| open.round != round) {
            // The chain finishes applicators only after a successful round, so a round still
            // open here failed; dropping it deletes its temporary files.
            tracing::debug!(stage = %self.name, round = stale.round, "discarding the output of an unfinished round");
            self.open = None;
        }
        if self.open.is_none() {
            self.open = Some(self.open_round(round)?);
        }
        self.write(batch)
    }

    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        let open = match self.open.take() {
            Some(open) if open.round == round => open,
            _ => self.open_round(round)?,
        };
        if open.rows != summary.rows_delivered {
            return Err(Error::Internal(format!(
                "parquet sink {} received {} rows but the chain delivered {}",
                self.name, open.rows, summary.rows_delivered
            )));
        }
        let governed_path = open.folder.join(GOVERNED_FILE);
        let issues_path = open.folder.join(ISSUES_FILE);
        let data = match open.data {
            Some(data) => data,
            None => {
                let ids_only = Arc::new(Schema::new(vec![Field::new(
                    ROW_ID_COLUMN,
                    DataType::UInt64,
                    false,
                )]));
                self.open_data(&open.folder, ids_only)?
            }
        };
        let file_schema = Arc::clone(&data.file_schema);
        let columns = file_schema.fields().len();
        let last = data
            .writer
            .into_inner()
            .map_err(|source| self.parquet_error(&governed_path, source))?;
        let segments = open.segments.len() + 1;
        let data_file = if open.segments.is_empty() {
            last
        } else {
            let mut parts = open.segments;
            parts.push(last);
            self.merge_segments(&open.folder, parts, file_schema)?
        };
        let issues_file = open
            .issues
            .into_inner()
            .map_err(|source| self.parquet_error(&issues_path, source))?;
        persist(issues_file, &issues_path)?;
        persist(data_file, &governed_path)?;

        ctx.audit(
            AuditAction::Share,
            &governed_path.display().to_string(),
            &format!(
                "rows={} columns={columns} issues={} issues_file={}",
                open.rows,
                open.issues_written,
                issues_path.display()
            ),
        )?;
        tracing::info!(
            stage = %self.name,
            round,
            rows = open.rows,
            issues = open.issues_written,
            segments,
            path = %governed_path.display(),
            "wrote governed data"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};
    use std::collections::HashMap;

    fn batch_of(fields: Vec<Field>, columns: Vec<Arc<dyn Array>>) -> RecordBatch {
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
    }

    #[test]
    fn equal_schemas_have_no_differences() {
        let batch = batch_of(
            vec![Field::new("v", DataType::Float64, true)],
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        );
        assert!(schema_differences(&batch.schema(), &batch).is_empty());
    }

    #[test]
    fn type_change_names_both_types() {
        let first = Schema::new(vec![Field::new("v", DataType::Float64, true)]);
        let batch = batch_of(
            vec![Field::new("v", DataType::Int64, true)],
            vec![Arc::new(Int64Array::from(vec![1]))],
        );
        let differences = schema_differences(&first, &batch);
        assert_eq!(
            differences,
            vec!["field \"v\" is Float64 in batch 1 and Int64 here"]
        );
    }

    #[test]
    fn missing_and_extra_fields_are_named() {
        let first = Schema::new(vec![Field::new("a", DataType::Float64, true)]);
        let batch = batch_of(
            vec![Field::new("b", DataType::Float64, true)],
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        );
        let differences = schema_differences(&first, &batch);
        assert_eq!(differences.len(), 2);
        assert!(differences[0].contains("\"a\" (Float64) is missing"));
        assert!(differences[1].contains("\"b\" (Float64) is not in batch 1"));
    }

    #[test]
    fn metadata_change_is_a_difference() {
        let unit = HashMap::from([("governance.unit".to_string(), "ug/m3".to_string())]);
        let first = Schema::new(vec![
            Field::new("v", DataType::Float64, true).with_metadata(unit),
        ]);
        let batch = batch_of(
            vec![Field::new("v", DataType::Float64, true)],
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        );
        let differences = schema_differences(&first, &batch);
        assert_eq!(differences.len(), 1);
        assert!(differences[0].contains("ug/m3"), "{}", differences[0]);
    }

    #[test]
    fn nulls_in_non_nullable_field_differ() {
        let first = Schema::new(vec![Field::new("v", DataType::Float64, false)]);
        let nullable = batch_of(
            vec![Field::new("v", DataType::Float64, true)],
            vec![Arc::new(Float64Array::from(vec![Some(1.0)]))],
        );
        assert!(schema_differences(&first, &nullable).is_empty());
        let with_null = batch_of(
            vec![Field::new("v", DataType::Float64, true)],
            vec![Arc::new(Float64Array::from(vec![None, Some(1.0)]))],
        );
        let differences = schema_differences(&first, &with_null);
        assert_eq!(
            differences,
            vec!["field \"v\" is non-nullable in batch 1 and has 1 nulls here"]
        );
    }

    #[test]
    fn reordered_fields_differ() {
        let first = Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Float64, true),
        ]);
        let batch = batch_of(
            vec![
                Field::new("b", DataType::Float64, true),
                Field::new("a", DataType::Float64, true),
            ],
            vec![
                Arc::new(Float64Array::from(vec![1.0])),
                Arc::new(Float64Array::from(vec![2.0])),
            ],
        );
        let differences = schema_differences(&first, &batch);
        assert_eq!(differences.len(), 1);
        assert!(differences[0].contains("order"), "{}", differences[0]);
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let error =
            serde_json::from_str::<ParquetSinkConfig>(r#"{"dir": "out", "compresion": "none"}"#)
                .expect_err("typo must fail");
        assert!(error.to_string().contains("compresion"), "{error}");
        let config: ParquetSinkConfig =
            serde_json::from_str(r#"{"dir": "out"}"#).expect("defaults");
        assert_eq!(config, ParquetSinkConfig::new("out"));
    }

    #[test]
    fn zero_row_group_rows_is_rejected() {
        let mut config = ParquetSinkConfig::new("out");
        config.max_row_group_rows = 0;
        let error = ParquetSink::new(config).expect_err("zero rows");
        assert!(error.to_string().contains("max_row_group_rows"), "{error}");
    }
}
