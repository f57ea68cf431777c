//! [`FolderCollector`]: watches a folder for new CSV, NDJSON and Parquet files, reads each
//! once in modification-time order and resumes after the last committed batch.
//!
//! The folder is polled every [`FolderConfig::poll_ms`]. A file is taken when it is at least
//! [`FolderConfig::min_age_ms`] old, so that a file still being written is left alone.
//! Writers that cannot guarantee that should write under another suffix and rename. Files
//! are read in order of modification time, then name. The [`FolderPosition`] carried by
//! every batch lists the files read to the end with their size and modification time, and
//! the file being read with the number of its batches already emitted; a restart skips the
//! listed files and that many batches of the current one. Batches are cut at the same rows
//! on every read of an unchanged file, because they depend only on the file,
//! [`FolderConfig::batch_size`] and [`FolderConfig::max_bytes`].
//!
//! With [`FolderConfig::max_bytes`], an NDJSON batch closes before its lines would pass that
//! many bytes, and a line longer than the limit is quarantined with its size. A CSV or
//! Parquet batch whose Arrow memory (`RecordBatch::get_array_memory_size`) is above the
//! limit is cut into equal slices that are each estimated to fit. A single row is never
//! cut or quarantined there, because Arrow reports no per-row size.
//!
//! A file whose size or modification time changed after it was read is not read again: the
//! collector logs a warning, writes an audit record and lists it in
//! [`FolderCollector::changed_files`]. The position lists every file read, so it grows with
//! the number of files in the folder.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use governance_core::audit::AuditAction;
use governance_core::{
    Collector, Error, GovernedBatch, Provenance, QuarantinedRow, Result, RowIdAllocator,
    SourcePosition, Stage, StageContext,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::csv::{ColumnSpec, CsvCollector, CsvConfig};
use crate::drift::{DriftConfig, SchemaDriftGuard, attach_state, detach_state};
use crate::json_rows::JsonRows;
use crate::parquet::{ParquetCollector, ParquetConfig};

/// The `kind` of the folder collector's [`SourcePosition`].
pub const FOLDER_POSITION_KIND: &str = "folder";

/// Configuration of a [`FolderCollector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FolderConfig {
    /// Stage name, unique within a chain.
    pub name: String,
    /// The folder to watch; files in subfolders are not read.
    pub dir: PathBuf,
    /// Maximum rows per batch. A batch contains rows of one file only.
    pub batch_size: usize,
    /// Declared columns of CSV and NDJSON files; inferred per file when absent, so files
    /// may then produce different schemas.
    pub schema: Option<Vec<ColumnSpec>>,
    /// A file is read only once its last modification is this many milliseconds old.
    pub min_age_ms: u64,
    /// Interval between two listings of the folder, in milliseconds.
    pub poll_ms: u64,
    /// The stream ends when no new file appeared for this many milliseconds; it never ends
    /// when absent.
    pub idle_end_ms: Option<u64>,
    /// Compares each batch's schema with the first batch's and applies the policy (see
    /// [`crate::drift`]). When absent, batches pass whatever their schema.
    pub schema_drift: Option<DriftConfig>,
    /// Maximum bytes per batch (see the [module docs](self)); no byte limit when absent.
    pub max_bytes: Option<usize>,
}

impl Default for FolderConfig {
    fn default() -> Self {
        FolderConfig {
            name: "folder".into(),
            dir: PathBuf::new(),
            batch_size: 8192,
            schema: None,
            min_age_ms: 1000,
            poll_ms: 500,
            idle_end_ms: None,
            schema_drift: None,
            max_bytes: None,
        }
    }
}

/// Size and modification time of a file, to notice a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time in milliseconds since the Unix epoch.
    pub modified_ms: i64,
}

/// The file being read and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentFile {
    /// File name inside the folder.
    pub name: String,
    /// The file's stamp when reading began.
    pub stamp: FileStamp,
    /// Batches of the file emitted so far.
    pub batches: u64,
}

/// The state a folder collector resumes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderPosition {
    /// Files read to the end, by name.
    pub completed: BTreeMap<String, FileStamp>,
    /// The file being read.
    pub current: Option<CurrentFile>,
    /// Row id the next row gets.
    pub next_row_id: u64,
}

enum Reader {
    Csv(Box<CsvCollector>),
    Parquet(Box<ParquetCollector>),
    Ndjson {
        lines: std::io::Lines<BufReader<File>>,
        line: u64,
        rows: JsonRows,
        /// A line read but left for the next batch, which it would have pushed past
        /// `max_bytes`.
        carried: Option<(u64, String)>,
    },
}

/// Reads new files of a folder as they appear (see the [module docs](self)).
pub struct FolderCollector {
    config: FolderConfig,
    position: FolderPosition,
    reader: Option<Reader>,
    /// Slices of a CSV or Parquet batch cut by `max_bytes`, not emitted yet.
    slices: VecDeque<arrow::array::RecordBatch>,
    changed: Vec<PathBuf>,
    reported: HashSet<(String, FileStamp)>,
    drift: Option<SchemaDriftGuard>,
}

impl std::fmt::Debug for FolderCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderCollector")
            .field("config", &self.config)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl FolderCollector {
    /// Creates a collector; it lists the folder at the first batch.
    pub fn new(config: FolderConfig) -> Result<Self> {
        if config.dir.as_os_str().is_empty() {
            return Err(Error::config(
                &config.name,
                "dir is empty: name the folder to watch",
            ));
        }
        if config.batch_size == 0 || config.poll_ms == 0 {
            return Err(Error::config(
                &config.name,
                format!(
                    "batch_size ({}) and poll_ms ({}) must be above 0",
                    config.batch_size, config.poll_ms
                ),
            ));
        }
        if config.max_bytes == Some(0) {
            return Err(Error::config(
                &config.name,
                "max_bytes must be above 0; leave it out for no byte limit",
            ));
        }
        let drift = config.schema_drift.clone().map(SchemaDriftGuard::new);
        Ok(FolderCollector {
            config,
            position: FolderPosition::default(),
            reader: None,
            slices: VecDeque::new(),
            changed: Vec::new(),
            reported: HashSet::new(),
            drift,
        })
    }

    /// Returns the position after the last emitted batch.
    pub fn position(&self) -> &FolderPosition {
        &self.position
    }

    /// Returns the schema drift guard, when the config sets `schema_drift`.
    pub fn schema_drift(&self) -> Option<&SchemaDriftGuard> {
        self.drift.as_ref()
    }

    /// Returns the files that changed after they were read, in the order they were noticed.
    pub fn changed_files(&self) -> &[PathBuf] {
        &self.changed
    }

    /// Lists the files not read yet that are old enough, oldest first, and reports read
    /// files that changed.
    fn new_files(&mut self, ctx: &StageContext) -> Result<Vec<(String, FileStamp)>> {
        let dir = &self.config.dir;
        let entries = std::fs::read_dir(dir).map_err(|source| Error::io(dir, source))?;
        let now_ms = now_ms();
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(dir, source))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || file_kind(&name).is_none() {
                continue;
            }
            let metadata = entry
                .metadata()
                .map_err(|source| Error::io(entry.path(), source))?;
            if !metadata.is_file() {
                continue;
            }
            let stamp = stamp_of(&metadata);
            if let Some(read) = self.position.completed.get(&name) {
                if *read != stamp && self.reported.insert((name.clone(), stamp)) {
                    let path = entry.path();
                    tracing::warn!(stage = %self.config.name, file = %path.display(), "file changed after it was read; it is not read again");
                    ctx.audit(
                        AuditAction::Read,
                        &path.display().to_string(),
                        &format!(
                            "changed after it was read: size {} -> {}, modified_ms {} -> {}; not read again",
                            read.size, stamp.size, read.modified_ms, stamp.modified_ms
                        ),
                    )?;
                    self.changed.push(path);
                }
                continue;
            }
            if now_ms - stamp.modified_ms < self.config.min_age_ms as i64 {
                continue;
            }
            found.push((name, stamp));
        }
        found.sort_by(|a, b| (a.1.modified_ms, &a.0).cmp(&(b.1.modified_ms, &b.0)));
        Ok(found)
    }

    fn open(&self, name: &str) -> Result<Reader> {
        let path = self.config.dir.join(name);
        let stage = format!("{}:{name}", self.config.name);
        match file_kind(name) {
            Some(FileKind::Csv) => {
                let config = CsvConfig {
                    name: stage,
                    paths: vec![path],
                    batch_size: self.config.batch_size,
                    schema: self.config.schema.clone(),
                    ..CsvConfig::default()
                };
                Ok(Reader::Csv(Box::new(CsvCollector::new(config)?)))
            }
            Some(FileKind::Parquet) => {
                let config = ParquetConfig {
                    name: stage,
                    paths: vec![path],
                    batch_size: self.config.batch_size,
                    ..ParquetConfig::default()
                };
                Ok(Reader::Parquet(Box::new(ParquetCollector::new(config)?)))
            }
            Some(FileKind::Ndjson) => {
                let file = File::open(&path).map_err(|source| Error::io(&path, source))?;
                Ok(Reader::Ndjson {
                    lines: BufReader::new(file).lines(),
                    line: 0,
                    rows: JsonRows::new(self.config.schema.clone())?,
                    carried: None,
                })
            }
            None => Err(Error::Internal(format!(
                "{name} was listed but has no known suffix"
            ))),
        }
    }

    /// Reads the next batch of the open file, or `None` at its end.
    fn read(&mut self, ctx: &mut StageContext) -> Result<Option<arrow::array::RecordBatch>> {
        if let Some(slice) = self.slices.pop_front() {
            return Ok(Some(slice));
        }
        let sliceable = matches!(self.reader, Some(Reader::Csv(_) | Reader::Parquet(_)));
        let data = self.read_file(ctx)?;
        let (Some(data), Some(max_bytes), true) = (&data, self.config.max_bytes, sliceable) else {
            return Ok(data);
        };
        let bytes = data.get_array_memory_size();
        if bytes <= max_bytes || data.num_rows() < 2 {
            return Ok(Some(data.clone()));
        }
        let pieces = bytes.div_ceil(max_bytes).min(data.num_rows());
        let rows_per_piece = data.num_rows().div_ceil(pieces);
        let mut offset = 0;
        while offset < data.num_rows() {
            let length = rows_per_piece.min(data.num_rows() - offset);
            self.slices.push_back(data.slice(offset, length));
            offset += length;
        }
        Ok(self.slices.pop_front())
    }

    /// Reads the next batch of the open file as its reader cuts it, or `None` at its end.
    fn read_file(&mut self, ctx: &mut StageContext) -> Result<Option<arrow::array::RecordBatch>> {
        let name = self.config.name.clone();
        let max_bytes = self.config.max_bytes.unwrap_or(usize::MAX);
        let batch_size = self.config.batch_size;
        let source = self
            .position
            .current
            .as_ref()
            .map(|current| self.config.dir.join(&current.name));
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        match reader {
            Reader::Csv(collector) => {
                Ok(collector.next_batch(ctx)?.map(|batch| batch.data().clone()))
            }
            Reader::Parquet(collector) => {
                Ok(collector.next_batch(ctx)?.map(|batch| batch.data().clone()))
            }
            Reader::Ndjson {
                lines,
                line,
                rows,
                carried,
            } => {
                let path = source.unwrap_or_default();
                let mut values: Vec<(u64, Value)> = Vec::new();
                let mut read = 0u64;
                let mut bytes = 0usize;
                while values.len() < batch_size {
                    let (number, text) = match carried.take() {
                        Some(carried) => carried,
                        None => {
                            let Some(text) = lines.next() else {
                                break;
                            };
                            *line += 1;
                            (*line, text.map_err(|source| Error::io(&path, source))?)
                        }
                    };
                    if text.trim().is_empty() {
                        continue;
                    }
                    if text.len() > max_bytes {
                        read += 1;
                        ctx.quarantine(QuarantinedRow {
                            stage: name.clone(),
                            row_id: None,
                            source: Some(path.display().to_string()),
                            line: Some(number),
                            reason: format!(
                                "the line is {} bytes, above the batch limit of {max_bytes} \
                                 bytes (max_bytes); raise the limit to accept it",
                                text.len()
                            ),
                            raw: text,
                        });
                        continue;
                    }
                    if bytes > 0 && bytes + text.len() > max_bytes {
                        *carried = Some((number, text));
                        break;
                    }
                    bytes += text.len();
                    read += 1;
                    match serde_json::from_str::<Value>(&text) {
                        Ok(value) => values.push((number, value)),
                        Err(error) => ctx.quarantine(QuarantinedRow {
                            stage: name.clone(),
                            row_id: None,
                            source: Some(path.display().to_string()),
                            line: Some(number),
                            reason: format!("the line is not valid JSON: {error}"),
                            raw: text,
                        }),
                    }
                }
                if read == 0 {
                    return Ok(None);
                }
                ctx.record_read(read);
                let refs: Vec<&Value> = values.iter().map(|(_, value)| value).collect();
                let converted = rows.convert(&refs)?;
                for (index, reason) in converted.rejected {
                    let (line, value) = &values[index];
                    ctx.quarantine(QuarantinedRow {
                        stage: name.clone(),
                        row_id: None,
                        source: Some(path.display().to_string()),
                        line: Some(*line),
                        reason,
                        raw: value.to_string(),
                    });
                }
                Ok(Some(converted.batch.unwrap_or_else(|| {
                    arrow::array::RecordBatch::new_empty(std::sync::Arc::new(
                        arrow::datatypes::Schema::empty(),
                    ))
                })))
            }
        }
    }

    /// Opens the current file and skips the batches already emitted from it.
    fn reopen_current(&mut self, ctx: &StageContext) -> Result<()> {
        let Some(current) = self.position.current.clone() else {
            return Ok(());
        };
        let path = self.config.dir.join(&current.name);
        let metadata = std::fs::metadata(&path).map_err(|source| Error::io(&path, source))?;
        let stamp = stamp_of(&metadata);
        if stamp != current.stamp {
            tracing::warn!(stage = %self.config.name, file = %path.display(), "file changed while it was being read; resuming at the same batch");
            ctx.audit(
                AuditAction::Read,
                &path.display().to_string(),
                "changed while it was being read; resumed after the committed batches",
            )?;
            self.changed.push(path);
        }
        self.reader = Some(self.open(&current.name)?);
        self.slices.clear();
        // Batches already committed are read into a scratch context, so their rows and
        // quarantined records are not counted twice.
        let mut scratch =
            StageContext::new(self.config.name.clone(), 1, ctx.audit_handle().clone());
        for _ in 0..current.batches {
            if self.read(&mut scratch)?.is_none() {
                break;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Csv,
    Ndjson,
    Parquet,
}

fn file_kind(name: &str) -> Option<FileKind> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        Some(FileKind::Csv)
    } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        Some(FileKind::Ndjson)
    } else if lower.ends_with(".parquet") {
        Some(FileKind::Parquet)
    } else {
        None
    }
}

fn stamp_of(metadata: &std::fs::Metadata) -> FileStamp {
    let modified_ms = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    FileStamp {
        size: metadata.len(),
        modified_ms,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn folder_path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

impl Stage for FolderCollector {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("reads new files of {}", self.config.dir.display())
    }
}

impl Collector for FolderCollector {
    fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
        self.reader = None;
        let (position, drift_state) = match position {
            Some(position) => {
                let (plain, state) = detach_state(&self.config.name, position)?;
                (Some(plain), state)
            }
            None => (None, None),
        };
        if let Some(drift) = self.drift.as_mut() {
            if position.is_some() && drift_state.is_none() {
                tracing::info!(stage = %self.config.name, "the checkpoint contains no schema drift state, so the next batch becomes the reference");
            }
            drift.restore(&self.config.name, drift_state.as_ref())?;
        }
        self.position = match position.as_ref() {
            None => FolderPosition::default(),
            Some(position) if position.kind == FOLDER_POSITION_KIND => {
                serde_json::from_value(position.state.clone()).map_err(|error| {
                    Error::config(
                        &self.config.name,
                        format!(
                            "the checkpoint's folder position is invalid ({error}): {}",
                            position.state
                        ),
                    )
                })?
            }
            Some(position) => {
                return Err(Error::config(
                    &self.config.name,
                    format!(
                        "the checkpoint holds a {:?} position, expected {FOLDER_POSITION_KIND:?}: \
                         the sink's checkpoint belongs to another collector",
                        position.kind
                    ),
                ));
            }
        };
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.reader.is_none() && self.position.current.is_some() {
            self.reopen_current(ctx)?;
        }
        let mut idle_since = Instant::now();
        loop {
            if let Some(data) = self.read(ctx)? {
                let Some(current) = self.position.current.as_mut() else {
                    return Err(Error::Internal(
                        "the folder collector read without a current file".into(),
                    ));
                };
                current.batches += 1;
                if data.num_rows() == 0 {
                    continue;
                }
                let source = folder_path(&self.config.dir, &current.name);
                let ids = RowIdAllocator::starting_at(self.position.next_row_id)
                    .allocate(data.num_rows());
                self.position.next_row_id += data.num_rows() as u64;
                let state = serde_json::to_value(&self.position).map_err(|error| {
                    Error::Internal(format!("cannot serialise a folder position: {error}"))
                })?;
                let mut position = SourcePosition::new(FOLDER_POSITION_KIND, state);
                let batch = GovernedBatch::try_new(data, ids, Provenance::new(source))?;
                let batch = match self.drift.as_mut() {
                    None => batch,
                    // A batch quarantined for drift is not emitted; its position is committed
                    // with the next emitted batch, and read again after a restart before that.
                    Some(drift) => match drift.check(&self.config.name, batch, ctx)? {
                        Some(batch) => batch,
                        None => continue,
                    },
                };
                // The drift state after this batch's check goes with its position, so a
                // restart compares the next batch with the same reference and union.
                attach_state(&mut position, self.drift.as_ref())?;
                let mut batch = batch;
                batch.provenance.position = Some(position);
                return Ok(Some(batch));
            }
            if let Some(current) = self.position.current.take() {
                ctx.audit(
                    AuditAction::Read,
                    &folder_path(&self.config.dir, &current.name),
                    &format!("read to the end in {} batches", current.batches),
                )?;
                self.position.completed.insert(current.name, current.stamp);
                self.reader = None;
                idle_since = Instant::now();
            }
            if let Some((name, stamp)) = self.new_files(ctx)?.into_iter().next() {
                tracing::debug!(stage = %self.config.name, file = %name, "reading a new file");
                self.reader = Some(self.open(&name)?);
                self.slices.clear();
                self.position.current = Some(CurrentFile {
                    name,
                    stamp,
                    batches: 0,
                });
                continue;
            }
            let idle = self.config.idle_end_ms.map(Duration::from_millis);
            if idle.is_some_and(|idle| idle_since.elapsed() >= idle) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(self.config.poll_ms));
        }
    }
}
