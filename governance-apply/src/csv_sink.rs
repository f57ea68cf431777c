//! [`CsvSink`]: streams every governed batch, with its row ids, into a CSV file that appears
//! under its final name only when the round finishes.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::util::display::{ArrayFormatter, FormatOptions};
use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Error, GovernedBatch, ROW_ID_COLUMN, Result, RunSummary, Stage, StageContext,
};
use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;

use crate::ApplyError;
use crate::output::{OutputLayout, persist, temp_file_for};
use crate::round_schema::RoundSchema;

/// File name of the governed data in a round's folder.
pub const GOVERNED_CSV_FILE: &str = "governed.csv";

/// Default stage name of a [`CsvSink`].
pub const CSV_SINK_NAME: &str = "csv_sink";

/// Configuration of a [`CsvSink`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSinkConfig {
    /// Output folder. Created, with its parents, when the first batch of a round arrives.
    pub dir: PathBuf,
    /// Writes each round into `dir/round-<n>/` when true (the default). When false every round
    /// replaces the file directly in `dir`.
    #[serde(default = "default_true")]
    pub per_round_subdir: bool,
    /// Field delimiter; one ASCII character, `,` by default.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Writes a header line with the column names when true (the default).
    #[serde(default = "default_true")]
    pub header: bool,
    /// Text written for a null value; empty by default.
    #[serde(default)]
    pub null: String,
}

fn default_true() -> bool {
    true
}

fn default_delimiter() -> char {
    ','
}

impl CsvSinkConfig {
    /// Creates a config that writes comma-separated values with a header into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CsvSinkConfig {
            dir: dir.into(),
            per_round_subdir: true,
            delimiter: default_delimiter(),
            header: true,
            null: String::new(),
        }
    }

    fn delimiter_byte(&self) -> Result<u8> {
        u8::try_from(self.delimiter)
            .ok()
            .filter(|byte| byte.is_ascii() && *byte != b'"' && *byte != b'\n' && *byte != b'\r')
            .ok_or_else(|| {
                Error::config(
                    CSV_SINK_NAME,
                    format!(
                        "delimiter {:?} cannot separate CSV fields: use one ASCII character \
                         other than a quote or a line break, such as ',' or ';'",
                        self.delimiter
                    ),
                )
            })
    }
}

/// Writes the governed data of each round to `governed.csv`.
///
/// The file contains the row ids as the first column, [`ROW_ID_COLUMN`], followed by the data
/// columns, each value formatted by Arrow's display formatter (timestamps as ISO 8601). The
/// issue log and field metadata are not written, because CSV has no place for them; use the
/// [`ParquetSink`](crate::ParquetSink) beside this sink to keep them.
///
/// Rows are streamed to a temporary file in the round's folder and renamed into place only in
/// [`Applicator::finish`], which the chain calls only after a successful round. A failed
/// round therefore leaves no file under the final name, and its temporary file is deleted
/// when the next round starts or the sink is dropped.
///
/// # Batches with other columns
///
/// The columns of a round's batches may change, as they do under a collector's schema drift
/// policy `adapt`, and no column is dropped. The file's columns are the union of the
/// batches' columns: the first batch's in their order, then each new column in the order it
/// first appeared, matched by name. A row of a batch that lacks a column has the null text
/// there. A batch that brings a new column closes the temporary file being written and starts
/// another. When the round ends with more than one, [`Applicator::finish`] copies them in
/// order into the one `governed.csv` under the union's header, and pads the earlier rows
/// with the null text. A column must keep the data type and field metadata of the batch that
/// introduced it, otherwise the round fails with [`ApplyError::SchemaChanged`].
#[derive(Debug)]
pub struct CsvSink {
    name: String,
    config: CsvSinkConfig,
    layout: OutputLayout,
    delimiter: u8,
    open: Option<OpenRound>,
}

/// The temporary files of the round being written.
struct OpenRound {
    round: u32,
    folder: PathBuf,
    /// The segment being written.
    writer: csv::Writer<BufWriter<NamedTempFile>>,
    /// Data columns in the records of the segment being written.
    writer_columns: usize,
    /// Closed segments, in order.
    segments: Vec<Segment>,
    /// Union of the data schemas of the round's batches so far.
    schema: Option<RoundSchema>,
    batches: u64,
    rows: u64,
}

/// A closed temporary file of a round's rows, all of one column count.
struct Segment {
    file: NamedTempFile,
    /// Data columns per record, without the row id.
    columns: usize,
    /// Whether the first record is the header.
    header: bool,
}

impl std::fmt::Debug for OpenRound {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenRound")
            .field("round", &self.round)
            .field("folder", &self.folder)
            .field("batches", &self.batches)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl CsvSink {
    /// Creates a sink named [`CSV_SINK_NAME`]. Fails when `dir` is empty or the delimiter is
    /// not one ASCII character other than a quote or a line break.
    pub fn new(config: CsvSinkConfig) -> Result<Self> {
        let layout = OutputLayout::new(CSV_SINK_NAME, &config.dir, config.per_round_subdir)?;
        let delimiter = config.delimiter_byte()?;
        Ok(CsvSink {
            name: CSV_SINK_NAME.to_string(),
            config,
            layout,
            delimiter,
            open: None,
        })
    }

    /// Renames the stage, so that a chain can hold more than one sink.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &CsvSinkConfig {
        &self.config
    }

    /// Returns the folder that `round`'s file goes to.
    pub fn round_dir(&self, round: u32) -> PathBuf {
        self.layout.round_dir(round)
    }

    fn open_round(&self, round: u32) -> Result<OpenRound> {
        let folder = self.layout.create_round_dir(round)?;
        let writer = self.open_writer(&folder)?;
        Ok(OpenRound {
            round,
            folder,
            writer,
            writer_columns: 0,
            segments: Vec::new(),
            schema: None,
            batches: 0,
            rows: 0,
        })
    }

    fn open_writer(&self, folder: &Path) -> Result<csv::Writer<BufWriter<NamedTempFile>>> {
        let file = temp_file_for(folder, GOVERNED_CSV_FILE)?;
        Ok(csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .from_writer(BufWriter::new(file)))
    }

    /// Flushes `writer` and returns its temporary file.
    fn close_writer(
        &self,
        writer: csv::Writer<BufWriter<NamedTempFile>>,
        path: &Path,
    ) -> Result<NamedTempFile> {
        let buffered = writer
            .into_inner()
            .map_err(|error| Error::io(path, std::io::Error::other(error.to_string())))?;
        let mut file = buffered
            .into_inner()
            .map_err(|error| Error::io(path, error.into_error()))?;
        file.flush().map_err(|source| Error::io(path, source))?;
        Ok(file)
    }

    /// Copies the segments, in order, into one file with `union`'s header, padding each
    /// record with the null text up to the union's column count.
    fn merge_segments(
        &self,
        folder: &Path,
        segments: &[Segment],
        union: &RoundSchema,
    ) -> Result<NamedTempFile> {
        let path = folder.join(GOVERNED_CSV_FILE);
        let mut writer = self.open_writer(folder)?;
        if self.config.header {
            let mut names = vec![ROW_ID_COLUMN];
            names.extend(union.names());
            writer
                .write_record(&names)
                .map_err(|source| self.csv_error(&path, source))?;
        }
        let mut record = csv::ByteRecord::new();
        for segment in segments {
            let file = segment
                .file
                .reopen()
                .map_err(|source| Error::io(segment.file.path(), source))?;
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(self.delimiter)
                .has_headers(segment.header)
                .from_reader(std::io::BufReader::new(file));
            let padding = union.len().saturating_sub(segment.columns);
            while reader
                .read_byte_record(&mut record)
                .map_err(|source| self.csv_error(segment.file.path(), source))?
            {
                for _ in 0..padding {
                    record.push_field(self.config.null.as_bytes());
                }
                writer
                    .write_byte_record(&record)
                    .map_err(|source| self.csv_error(&path, source))?;
            }
        }
        self.close_writer(writer, &path)
    }

    fn csv_error(&self, path: &Path, source: csv::Error) -> Error {
        Error::stage(
            &self.name,
            ApplyError::Csv {
                path: path.to_path_buf(),
                source,
            },
        )
    }

    fn write_header(&self, open: &mut OpenRound, union: &RoundSchema) -> Result<()> {
        if !self.config.header {
            return Ok(());
        }
        let mut names = vec![ROW_ID_COLUMN];
        names.extend(union.names());
        let path = open.folder.join(GOVERNED_CSV_FILE);
        open.writer
            .write_record(&names)
            .map_err(|source| self.csv_error(&path, source))
    }

    fn write_open(&self, open: &mut OpenRound, batch: &GovernedBatch) -> Result<()> {
        open.batches += 1;
        let data = batch.data();
        let path = open.folder.join(GOVERNED_CSV_FILE);
        match open.schema.as_mut() {
            None => {
                let union = RoundSchema::new(&data.schema());
                self.write_header(open, &union)?;
                open.writer_columns = union.len();
                open.schema = Some(union);
            }
            Some(union) => {
                let change = union.admit(open.batches, data).map_err(|differences| {
                    Error::stage(
                        &self.name,
                        ApplyError::SchemaChanged {
                            batch: open.batches,
                            differences,
                        },
                    )
                })?;
                if change.added {
                    // Records of one segment all have the same number of fields, so a new
                    // column starts a new segment; `finish` pads the earlier ones.
                    let columns = union.len();
                    let next = self.open_writer(&open.folder)?;
                    let previous = std::mem::replace(&mut open.writer, next);
                    let file = self.close_writer(previous, &path)?;
                    open.segments.push(Segment {
                        file,
                        columns: open.writer_columns,
                        header: self.config.header && open.segments.is_empty(),
                    });
                    open.writer_columns = columns;
                    tracing::info!(
                        stage = %self.name,
                        round = open.round,
                        batch = open.batches,
                        columns,
                        "the batch adds columns to the round; continuing in a new segment of governed.csv"
                    );
                }
            }
        }
        let Some(union) = open.schema.as_ref() else {
            return Err(Error::Internal(
                "csv sink has no schema after its first batch".into(),
            ));
        };
        let columns = union.conform(data)?;

        let options = FormatOptions::default().with_null(&self.config.null);
        let formatters = columns
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let row_ids = batch.row_ids();
        let mut record: Vec<String> = Vec::with_capacity(formatters.len() + 1);
        for row in 0..data.num_rows() {
            record.clear();
            record.push(row_ids.value(row).to_string());
            for formatter in &formatters {
                record.push(formatter.value(row).to_string());
            }
            open.writer
                .write_record(&record)
                .map_err(|source| self.csv_error(&path, source))?;
        }
        open.rows += data.num_rows() as u64;
        Ok(())
    }
}

impl Stage for CsvSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "writes governed data as CSV to {}",
            self.layout.dir().display()
        )
    }
}

impl Applicator for CsvSink {
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        if batch.data().schema().index_of(ROW_ID_COLUMN).is_ok() {
            return Err(Error::stage(
                &self.name,
                ApplyError::ReservedColumn {
                    column: ROW_ID_COLUMN.to_string(),
                },
            ));
        }
        let mut open = match self.open.take() {
            Some(open) if open.round == round => open,
            stale => {
                if let Some(stale) = stale {
                    // The chain finishes applicators only after a successful round, so a round
                    // still open here failed; dropping it deletes its temporary file.
                    tracing::debug!(stage = %self.name, round = stale.round, "discarding the output of an unfinished round");
                }
                self.open_round(round)?
            }
        };
        let written = self.write_open(&mut open, batch);
        self.open = Some(open);
        written
    }

    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        let open = match self.open.take() {
            Some(open) if open.round == round => open,
            _ => self.open_round(round)?,
        };
        if open.rows != summary.rows_delivered {
            return Err(Error::Internal(format!(
                "csv sink {} received {} rows but the chain delivered {}",
                self.name, open.rows, summary.rows_delivered
            )));
        }
        let path = open.folder.join(GOVERNED_CSV_FILE);
        let last = self.close_writer(open.writer, &path)?;
        let segments = open.segments.len() + 1;
        let file = match open.schema.as_ref().filter(|_| !open.segments.is_empty()) {
            None => last,
            Some(union) => {
                let mut parts = open.segments;
                parts.push(Segment {
                    file: last,
                    columns: open.writer_columns,
                    header: false,
                });
                self.merge_segments(&open.folder, &parts, union)?
            }
        };
        persist(file, &path)?;

        ctx.audit(
            AuditAction::Share,
            &path.display().to_string(),
            &format!("rows={} format=csv", open.rows),
        )?;
        tracing::info!(
            stage = %self.name,
            round,
            rows = open.rows,
            segments,
            path = %path.display(),
            "wrote governed data as CSV"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_unknown_fields() {
        let error = serde_json::from_str::<CsvSinkConfig>(r#"{"dir": "out", "delim": ";"}"#)
            .expect_err("typo must fail");
        assert!(error.to_string().contains("delim"), "{error}");
        let config: CsvSinkConfig = serde_json::from_str(r#"{"dir": "out"}"#).expect("defaults");
        assert_eq!(config, CsvSinkConfig::new("out"));
    }

    #[test]
    fn quote_delimiter_is_rejected() {
        let mut config = CsvSinkConfig::new("out");
        config.delimiter = '"';
        let error = CsvSink::new(config).expect_err("quote delimiter");
        assert!(error.to_string().contains("delimiter"), "{error}");
        let mut config = CsvSinkConfig::new("out");
        config.delimiter = 'é';
        assert!(CsvSink::new(config).is_err());
    }
}
