//! The CSV collector: streams rows from one or many CSV files in bounded batches.
//!
//! Every data row read is accounted for. A row becomes output, or goes to the quarantine with
//! its file, its 1-based physical line and its raw text when it:
//!
//! - has more or fewer fields than the header (`row has 19 fields, expected 18`);
//! - contains bytes that are not UTF-8 in any field, projected or not;
//! - holds a value in a projected column that does not parse as the column's type
//!   (`value "abc" in column "PM2.5" is not a valid float64`). The whole row is
//!   quarantined rather than the cell set to null, so that no value is lost silently; every
//!   failing column of the row is named in the reason.
//!
//! Quarantined rows get no row id: ids go only to rows that reach the output, so a round's
//! ids are consecutive from the configured offset.
//!
//! A batch contains at most [`CsvConfig::batch_size`] rows and, with [`CsvConfig::max_bytes`],
//! at most that many bytes of Arrow memory: a batch above it is cut into consecutive slices
//! that each fit, halving until they do. A single row is never cut, quarantined or dropped
//! for its size, so a slice of one row may be larger than the limit.

mod columns;
mod plan;
mod schema;

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;

use governance_core::audit::AuditAction;
use governance_core::{
    Collector, Error, GovernedBatch, Provenance, QuarantinedRow, Result, RowIdAllocator, Stage,
    StageContext,
};
use serde::{Deserialize, Serialize};

use self::columns::BatchBuilder;
use self::plan::{ReadPlan, decode_header};
use self::schema::{Cell, is_na, parse_cell};
pub use self::schema::{ColumnSpec, CsvType};
use crate::limits::{BatchLimits, split_by_memory};

/// Configuration of a [`CsvCollector`]. Set either `paths` or `dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvConfig {
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
    /// Field delimiter; must be one ASCII character.
    pub delimiter: char,
    /// Whether the first record of each file is a header. Without one, columns are named by
    /// `schema` or `column_1`, `column_2`, and so on.
    pub has_header: bool,
    /// Values read as null, compared after trimming surrounding whitespace.
    pub na_tokens: Vec<String>,
    /// Declared column types. Every declared column must be in the header; columns the
    /// header has beyond these are inferred.
    pub schema: Option<Vec<ColumnSpec>>,
    /// Data rows of the first file that type inference looks at; 0 reads every row of
    /// every file first, which costs a second pass but no later row can break the types.
    pub infer_rows: usize,
    /// Columns to output, in this order; all columns when absent.
    pub columns: Option<Vec<String>>,
    /// First row id of each round.
    pub row_id_offset: u64,
    /// Maximum bytes of Arrow memory per batch (see the [module docs](self)); no byte limit
    /// when absent.
    pub max_bytes: Option<usize>,
}

impl Default for CsvConfig {
    fn default() -> Self {
        CsvConfig {
            name: "csv".into(),
            paths: Vec::new(),
            dir: None,
            suffix: ".csv".into(),
            batch_size: 8192,
            delimiter: ',',
            has_header: true,
            na_tokens: ["", "NA", "N/A", "NaN", "null", "-"]
                .map(String::from)
                .to_vec(),
            schema: None,
            infer_rows: 1000,
            columns: None,
            row_id_offset: 0,
            max_bytes: None,
        }
    }
}

impl CsvConfig {
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
        CsvConfig {
            paths: paths.into_iter().map(Into::into).collect(),
            ..CsvConfig::default()
        }
    }

    /// Creates a config that reads every `.csv` file of `dir`, sorted by name.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        CsvConfig {
            dir: Some(dir.into()),
            ..CsvConfig::default()
        }
    }

    fn delimiter_byte(&self) -> Result<u8> {
        u8::try_from(self.delimiter)
            .ok()
            .filter(u8::is_ascii)
            .ok_or_else(|| {
                Error::config(
                    &self.name,
                    format!(
                        "delimiter {:?} is not an ASCII character: use one such as ',' or ';'",
                        self.delimiter
                    ),
                )
            })
    }

    fn validate(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(Error::config(
                "csv",
                "`name` is empty: give the stage a name",
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::config(
                &self.name,
                "`batch_size` is 0: use at least 1",
            ));
        }
        if self.max_bytes == Some(0) {
            return Err(Error::config(
                &self.name,
                "`max_bytes` is 0: use at least 1, or remove it for no byte limit",
            ));
        }
        self.delimiter_byte()?;
        if let Some(columns) = &self.columns
            && columns.is_empty()
        {
            return Err(Error::config(
                &self.name,
                "`columns` is empty: list columns to keep, or remove it to keep all",
            ));
        }
        if let Some(schema) = &self.schema {
            for (index, column) in schema.iter().enumerate() {
                if schema[..index]
                    .iter()
                    .any(|other| other.name == column.name)
                {
                    return Err(Error::config(
                        &self.name,
                        format!("`schema` declares column {:?} twice", column.name),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Reads CSV files in batches of at most `batch_size` rows; see the [module docs](self) for
/// what happens to malformed rows.
///
/// ```no_run
/// use governance_collect::{CsvCollector, CsvConfig};
///
/// let collector = CsvCollector::new(CsvConfig::from_dir("data/beijing"))?;
/// # Ok::<(), governance_core::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvCollector {
    config: CsvConfig,
    ids: RowIdAllocator,
    plan: Option<ReadPlan>,
    next_file: usize,
    current: Option<OpenFile>,
    /// Slices cut by `max_bytes` and not emitted yet, with the file they came from.
    slices: VecDeque<(RecordBatch, PathBuf)>,
}

#[derive(Debug)]
struct OpenFile {
    path: PathBuf,
    reader: ::csv::Reader<BufReader<File>>,
    rows_read: u64,
    rows_quarantined: u64,
}

impl CsvCollector {
    /// Creates a collector. Files are opened when a round starts, not here.
    pub fn new(config: CsvConfig) -> Result<Self> {
        config.validate()?;
        Ok(CsvCollector {
            ids: RowIdAllocator::starting_at(config.row_id_offset),
            config,
            plan: None,
            next_file: 0,
            current: None,
            slices: VecDeque::new(),
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &CsvConfig {
        &self.config
    }

    /// Returns the output schema of the current round, known once the round has started.
    pub fn schema(&self) -> Option<arrow::datatypes::SchemaRef> {
        self.plan.as_ref().map(|plan| plan.schema.clone())
    }

    /// Returns the files of the current round, in reading order.
    pub fn files(&self) -> &[PathBuf] {
        self.plan.as_ref().map_or(&[], |plan| plan.files.as_slice())
    }

    fn open_next(&mut self, plan_files: &[PathBuf]) -> Result<Option<OpenFile>> {
        let Some(path) = plan_files.get(self.next_file) else {
            return Ok(None);
        };
        self.next_file += 1;
        tracing::debug!(stage = %self.config.name, file = %path.display(), "opening csv file");
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        let reader = ::csv::ReaderBuilder::new()
            .delimiter(self.config.delimiter_byte()?)
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::new(file));
        Ok(Some(OpenFile {
            path: path.clone(),
            reader,
            rows_read: 0,
            rows_quarantined: 0,
        }))
    }
}

impl Stage for CsvCollector {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        match &self.config.dir {
            Some(dir) => format!("csv files in {}", dir.display()),
            None => format!("{} csv file(s)", self.config.paths.len()),
        }
    }
}

impl Collector for CsvCollector {
    /// Resolves the files, checks that they share a header, fixes the column types and
    /// rewinds, so that every round reads the same rows with the same ids.
    fn start(&mut self, _ctx: &mut StageContext) -> Result<()> {
        self.plan = None;
        self.current = None;
        self.slices.clear();
        self.next_file = 0;
        self.ids = RowIdAllocator::starting_at(self.config.row_id_offset);
        self.plan = Some(ReadPlan::build(&self.config)?);
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.plan.is_none() {
            self.start(ctx)?;
        }
        if self.slices.is_empty() {
            let plan = self
                .plan
                .take()
                .ok_or_else(|| Error::Internal("csv read plan missing after start".into()))?;
            let result = self.read_batch(&plan, ctx);
            self.plan = Some(plan);
            let Some((data, path)) = result? else {
                return Ok(None);
            };
            match self.config.max_bytes {
                Some(max_bytes) => {
                    for slice in split_by_memory(data, max_bytes)? {
                        self.slices.push_back((slice, path.clone()));
                    }
                }
                None => self.slices.push_back((data, path)),
            }
        }
        let Some((data, path)) = self.slices.pop_front() else {
            return Ok(None);
        };
        let ids = self.ids.allocate(data.num_rows());
        let provenance = Provenance::new(path.display().to_string());
        GovernedBatch::try_new(data, ids, provenance).map(Some)
    }
}

impl CsvCollector {
    /// Reads the next batch of at most `batch_size` rows, with the file it came from.
    fn read_batch(
        &mut self,
        plan: &ReadPlan,
        ctx: &mut StageContext,
    ) -> Result<Option<(RecordBatch, PathBuf)>> {
        let capacity = self.config.batch_size.min(65_536);
        let mut builder = BatchBuilder::new(plan.schema.clone(), &plan.output_types, capacity);
        let mut record = ::csv::ByteRecord::new();
        let delimiter = self.config.delimiter_byte()?;
        loop {
            let mut open = match self.current.take() {
                Some(open) => open,
                None => match self.open_next(&plan.files)? {
                    Some(mut open) => {
                        if self.config.has_header {
                            check_header(&mut open, plan)?;
                        }
                        open
                    }
                    None => return Ok(None),
                },
            };
            let mut read = 0u64;
            let mut finished = false;
            while builder.rows() < self.config.batch_size {
                let more = open
                    .reader
                    .read_byte_record(&mut record)
                    .map_err(|error| read_error(&open.path, error))?;
                if !more {
                    finished = true;
                    break;
                }
                read += 1;
                match parse_row(&record, plan, &self.config.na_tokens) {
                    Ok(cells) => builder.append_row(&cells)?,
                    Err(reason) => {
                        open.rows_quarantined += 1;
                        ctx.quarantine(quarantined_row(&open.path, &record, reason, delimiter));
                    }
                }
            }
            open.rows_read += read;
            ctx.record_read(read);
            if finished {
                ctx.audit(
                    AuditAction::Read,
                    &open.path.display().to_string(),
                    &format!(
                        "rows={} quarantined={}",
                        open.rows_read, open.rows_quarantined
                    ),
                )?;
            }
            let path = open.path.clone();
            if !finished {
                self.current = Some(open);
            }
            if builder.rows() > 0 {
                return Ok(Some((builder.finish()?, path)));
            }
        }
    }
}

/// Reads the header line of a newly opened file and checks that it still matches the plan,
/// in case the file changed since the round started.
fn check_header(open: &mut OpenFile, plan: &ReadPlan) -> Result<()> {
    let mut record = ::csv::ByteRecord::new();
    let more = open
        .reader
        .read_byte_record(&mut record)
        .map_err(|error| read_error(&open.path, error))?;
    if !more {
        return Err(Error::InvalidInput(format!(
            "file {} is empty: expected a header line",
            open.path.display()
        )));
    }
    let header = decode_header(&open.path, &record)?;
    if header != plan.header {
        return Err(Error::InvalidInput(format!(
            "file {} changed while it was read: expected columns [{}], found [{}]",
            open.path.display(),
            plan.header.join(", "),
            header.join(", ")
        )));
    }
    Ok(())
}

/// Parses the projected fields of one record, or returns why the row must be quarantined.
fn parse_row<'a>(
    record: &'a ::csv::ByteRecord,
    plan: &ReadPlan,
    na_tokens: &[String],
) -> std::result::Result<Vec<Cell<'a>>, String> {
    if record.len() != plan.header.len() {
        return Err(format!(
            "row has {} fields, expected {}",
            record.len(),
            plan.header.len()
        ));
    }
    let mut text = Vec::with_capacity(record.len());
    for (index, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(value) => text.push(value),
            Err(error) => {
                return Err(format!(
                    "column {:?} is not valid UTF-8 (invalid byte at offset {}): the file \
                     must be UTF-8 encoded",
                    plan.header[index],
                    error.valid_up_to()
                ));
            }
        }
    }
    let mut cells = Vec::with_capacity(plan.projection.len());
    let mut failures = Vec::new();
    for (&index, &data_type) in plan.projection.iter().zip(&plan.output_types) {
        let value = text[index];
        if is_na(value, na_tokens) {
            cells.push(Cell::Null);
            continue;
        }
        match parse_cell(value, data_type) {
            Some(cell) => cells.push(cell),
            None => {
                failures.push(format!(
                    "value {value:?} in column {:?} is not a valid {}",
                    plan.header[index],
                    data_type.as_str()
                ));
                cells.push(Cell::Null);
            }
        }
    }
    if failures.is_empty() {
        Ok(cells)
    } else {
        Err(failures.join("; "))
    }
}

fn quarantined_row(
    path: &Path,
    record: &::csv::ByteRecord,
    reason: String,
    delimiter: u8,
) -> QuarantinedRow {
    QuarantinedRow {
        stage: String::new(),
        row_id: None,
        source: Some(path.display().to_string()),
        line: record.position().map(::csv::Position::line),
        reason,
        raw: raw_text(record, delimiter),
    }
}

/// Writes the record back as one CSV line, quoting where needed. Invalid UTF-8 bytes become
/// U+FFFD, because the quarantine stores text.
fn raw_text(record: &::csv::ByteRecord, delimiter: u8) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    let joined = || {
        let fields: Vec<String> = record
            .iter()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect();
        fields.join(&char::from(delimiter).to_string())
    };
    if writer.write_byte_record(record).is_err() {
        return joined();
    }
    match writer.into_inner() {
        Ok(bytes) => String::from_utf8_lossy(&bytes)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        Err(_) => joined(),
    }
}

/// Converts a CSV reader error into the crate error, naming the file.
pub(crate) fn read_error(path: &Path, error: ::csv::Error) -> Error {
    let line = error.position().map(::csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        ::csv::ErrorKind::Io(source) => Error::io(path, source),
        _ => Error::InvalidInput(format!(
            "failed to parse csv file {}{}: {message}",
            path.display(),
            line.map(|line| format!(" at line {line}"))
                .unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_requotes_fields() {
        let record = ::csv::ByteRecord::from(vec!["a,b", "say \"hi\"", "plain"]);
        assert_eq!(raw_text(&record, b','), r#""a,b","say ""hi""",plain"#);
    }

    #[test]
    fn raw_text_replaces_invalid_bytes() {
        let mut record = ::csv::ByteRecord::new();
        record.push_field(b"caf\xe9");
        record.push_field(b"2");
        assert_eq!(raw_text(&record, b';'), "caf\u{fffd};2");
    }

    #[test]
    fn non_ascii_delimiter_is_rejected() {
        let config = CsvConfig {
            delimiter: '；',
            ..CsvConfig::from_paths(["a.csv"])
        };
        let error = CsvCollector::new(config).expect_err("full-width semicolon");
        assert!(error.to_string().contains("not an ASCII character"));
    }

    #[test]
    fn config_round_trips_through_json() {
        let config = CsvConfig {
            schema: Some(vec![ColumnSpec::new("PM2.5", CsvType::Float64)]),
            ..CsvConfig::from_dir("data")
        };
        let json = serde_json::to_string(&config).expect("serialise");
        let back: CsvConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, config);
    }
}
