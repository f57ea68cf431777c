//! The Parquet collector: streams record batches from one or many Parquet files through the
//! `parquet` crate's Arrow reader, which decodes only the projected columns.
//!
//! Parquet is typed, so no row is quarantined here: a file that cannot be decoded fails the
//! round with an error naming the file. All files must have the same Arrow schema (after
//! projection), so that every batch of a round has one schema.
//!
//! A batch contains at most [`ParquetConfig::batch_size`] rows and, with
//! [`ParquetConfig::max_bytes`], at most that many bytes of Arrow memory: a decoded batch
//! above it is cut into consecutive slices that each fit, halving until they do. A single
//! row is never cut or dropped for its size, so a slice of one row may be larger than the
//! limit.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use ::parquet::arrow::ProjectionMask;
use ::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use governance_core::audit::AuditAction;
use governance_core::{
    Collector, Error, GovernedBatch, Provenance, Result, RowIdAllocator, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use crate::files::resolve_files;
use crate::limits::{BatchLimits, split_by_memory};

/// Configuration of a [`ParquetCollector`]. Set either `paths` or `dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParquetConfig {
    /// Stage name, unique within a chain.
    pub name: String,
    /// Files to read, in this order.
    pub paths: Vec<PathBuf>,
    /// Folder whose files ending in `suffix` are read, sorted by file name.
    pub dir: Option<PathBuf>,
    /// File name suffix selected in `dir`, compared case-insensitively.
    pub suffix: String,
    /// Maximum rows per emitted batch. A batch contains rows of one file only.
    pub batch_size: usize,
    /// Top-level columns to output, in this order; all columns when absent.
    pub columns: Option<Vec<String>>,
    /// First row id of each round.
    pub row_id_offset: u64,
    /// Maximum bytes of Arrow memory per batch (see the [module docs](self)); no byte limit
    /// when absent.
    pub max_bytes: Option<usize>,
}

impl Default for ParquetConfig {
    fn default() -> Self {
        ParquetConfig {
            name: "parquet".into(),
            paths: Vec::new(),
            dir: None,
            suffix: ".parquet".into(),
            batch_size: 8192,
            columns: None,
            row_id_offset: 0,
            max_bytes: None,
        }
    }
}

impl ParquetConfig {
    /// Sets `batch_size` to `limits.max_rows` and `max_bytes` to `limits.max_bytes`. Here
    /// the byte limit bounds the Arrow memory of a decoded batch, and a row above it is
    /// emitted alone rather than quarantined (see the [module docs](self)).
    pub fn with_limits(mut self, limits: BatchLimits) -> Self {
        self.batch_size = limits.max_rows;
        self.max_bytes = Some(limits.max_bytes);
        self
    }

    /// Creates a config that reads `paths` in order.
    pub fn from_paths<P: Into<PathBuf>>(paths: impl IntoIterator<Item = P>) -> Self {
        ParquetConfig {
            paths: paths.into_iter().map(Into::into).collect(),
            ..ParquetConfig::default()
        }
    }

    /// Creates a config that reads every `.parquet` file of `dir`, sorted by name.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        ParquetConfig {
            dir: Some(dir.into()),
            ..ParquetConfig::default()
        }
    }
}

/// Reads Parquet files in batches of at most `batch_size` rows and, when set, `max_bytes`
/// bytes of Arrow memory (see the [module docs](self)).
#[derive(Debug)]
pub struct ParquetCollector {
    config: ParquetConfig,
    ids: RowIdAllocator,
    files: Option<Vec<PathBuf>>,
    /// Output schema of the round, fixed by the first file.
    schema: Option<SchemaRef>,
    next_file: usize,
    current: Option<OpenFile>,
    /// Slices cut by `max_bytes` and not emitted yet, with the file they came from.
    slices: VecDeque<(RecordBatch, String)>,
}

struct OpenFile {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    /// Positions of the requested columns in the decoded batches, in output order.
    order: Vec<usize>,
    rows_read: u64,
}

impl std::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFile")
            .field("path", &self.path)
            .field("rows_read", &self.rows_read)
            .finish_non_exhaustive()
    }
}

impl ParquetCollector {
    /// Creates a collector. Files are opened when a round starts, not here.
    pub fn new(config: ParquetConfig) -> Result<Self> {
        if config.name.is_empty() {
            return Err(Error::config(
                "parquet",
                "`name` is empty: give the stage a name",
            ));
        }
        if config.batch_size == 0 {
            return Err(Error::config(
                &config.name,
                "`batch_size` is 0: use at least 1",
            ));
        }
        if config.max_bytes == Some(0) {
            return Err(Error::config(
                &config.name,
                "`max_bytes` is 0: use at least 1, or remove it for no byte limit",
            ));
        }
        if config.columns.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::config(
                &config.name,
                "`columns` is empty: list columns to keep, or remove it to keep all",
            ));
        }
        Ok(ParquetCollector {
            ids: RowIdAllocator::starting_at(config.row_id_offset),
            config,
            files: None,
            schema: None,
            next_file: 0,
            current: None,
            slices: VecDeque::new(),
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &ParquetConfig {
        &self.config
    }

    /// Returns the output schema, known once the first file of the round is open.
    pub fn schema(&self) -> Option<SchemaRef> {
        self.schema.clone()
    }

    fn open(&self, path: &Path) -> Result<OpenFile> {
        let unreadable = |error: ::parquet::errors::ParquetError| {
            Error::InvalidInput(format!(
                "failed to read parquet file {}: {error}",
                path.display()
            ))
        };
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
        let roots = requested_roots(path, builder.schema(), self.config.columns.as_deref())?;

        // The reader returns projected columns in file order; `order` restores the order the
        // config requested.
        let mut sorted = roots.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let order: Vec<usize> = roots
            .iter()
            .filter_map(|root| sorted.iter().position(|candidate| candidate == root))
            .collect();

        let mask = ProjectionMask::roots(builder.parquet_schema(), sorted);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(self.config.batch_size)
            .build()
            .map_err(unreadable)?;
        Ok(OpenFile {
            path: path.to_path_buf(),
            reader,
            order,
            rows_read: 0,
        })
    }

    fn check_schema(&mut self, path: &Path, schema: &SchemaRef) -> Result<()> {
        match &self.schema {
            None => {
                self.schema = Some(schema.clone());
                Ok(())
            }
            Some(expected) if expected.fields() == schema.fields() => Ok(()),
            Some(expected) => Err(Error::InvalidInput(format!(
                "file {} has a different schema than the first file: expected [{}], found [{}]",
                path.display(),
                describe_fields(expected),
                describe_fields(schema)
            ))),
        }
    }
}

/// Returns the indices of the top-level columns to read: those named in `columns`, in that
/// order, or all of them.
fn requested_roots(
    path: &Path,
    schema: &SchemaRef,
    columns: Option<&[String]>,
) -> Result<Vec<usize>> {
    let Some(columns) = columns else {
        return Ok((0..schema.fields().len()).collect());
    };
    columns
        .iter()
        .map(|name| {
            schema.index_of(name).map_err(|_| {
                let found: Vec<&str> = schema
                    .fields()
                    .iter()
                    .map(|field| field.name().as_str())
                    .collect();
                Error::InvalidInput(format!(
                    "column {name:?} listed in `columns` not found in {}; columns are: {}",
                    path.display(),
                    found.join(", ")
                ))
            })
        })
        .collect()
}

fn describe_fields(schema: &SchemaRef) -> String {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| format!("{}: {}", field.name(), field.data_type()))
        .collect();
    fields.join(", ")
}

impl Stage for ParquetCollector {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        match &self.config.dir {
            Some(dir) => format!("parquet files in {}", dir.display()),
            None => format!("{} parquet file(s)", self.config.paths.len()),
        }
    }
}

impl Collector for ParquetCollector {
    /// Resolves the files and rewinds, so that every round reads the same rows with the same
    /// ids.
    fn start(&mut self, _ctx: &mut StageContext) -> Result<()> {
        self.current = None;
        self.slices.clear();
        self.next_file = 0;
        self.schema = None;
        self.ids = RowIdAllocator::starting_at(self.config.row_id_offset);
        self.files = Some(resolve_files(
            &self.config.name,
            &self.config.paths,
            self.config.dir.as_deref(),
            &self.config.suffix,
        )?);
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.files.is_none() {
            self.start(ctx)?;
        }
        if let Some((data, source)) = self.slices.pop_front() {
            let ids = self.ids.allocate(data.num_rows());
            return GovernedBatch::try_new(data, ids, Provenance::new(source)).map(Some);
        }
        loop {
            let mut open = match self.current.take() {
                Some(open) => open,
                None => {
                    let Some(path) = self
                        .files
                        .as_ref()
                        .and_then(|files| files.get(self.next_file))
                        .cloned()
                    else {
                        return Ok(None);
                    };
                    self.next_file += 1;
                    tracing::debug!(
                        stage = %self.config.name,
                        file = %path.display(),
                        "opening parquet file"
                    );
                    let open = self.open(&path)?;
                    let schema = open.reader.schema().project(&open.order)?;
                    self.check_schema(&path, &std::sync::Arc::new(schema))?;
                    open
                }
            };
            match open.reader.next() {
                Some(batch) => {
                    let batch =
                        batch
                            .and_then(|batch| batch.project(&open.order))
                            .map_err(|error| {
                                Error::InvalidInput(format!(
                                    "failed to decode parquet file {}: {error}",
                                    open.path.display()
                                ))
                            })?;
                    let rows = batch.num_rows();
                    open.rows_read += rows as u64;
                    ctx.record_read(rows as u64);
                    let provenance = Provenance::new(open.path.display().to_string());
                    self.current = Some(open);
                    if rows == 0 {
                        continue;
                    }
                    let (batch, provenance) = match self.config.max_bytes {
                        None => (batch, provenance),
                        Some(max_bytes) => {
                            let source = provenance.source.clone();
                            self.slices.extend(
                                split_by_memory(batch, max_bytes)?
                                    .into_iter()
                                    .map(|slice| (slice, source.clone())),
                            );
                            let Some((first, _)) = self.slices.pop_front() else {
                                continue;
                            };
                            (first, provenance)
                        }
                    };
                    let ids = self.ids.allocate(batch.num_rows());
                    return GovernedBatch::try_new(batch, ids, provenance).map(Some);
                }
                None => {
                    ctx.audit(
                        AuditAction::Read,
                        &open.path.display().to_string(),
                        &format!("rows={}", open.rows_read),
                    )?;
                }
            }
        }
    }
}
