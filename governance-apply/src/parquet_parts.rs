//! [`ParquetPartSink`]: a streaming Parquet sink that writes one part file per batch and
//! commits each with the batch's source position in a checkpoint file.
//!
//! # Commit protocol
//!
//! Batch `n` goes to `part-<n>.parquet` (zero-padded), written under a temporary name and
//! renamed into place. Then `checkpoint.json`, holding the next part number and the batch's
//! [`SourcePosition`], is written under a temporary name and renamed over the old one. That
//! second rename is the commit point: a part whose number is not below the checkpoint's
//! `next_part` was written by a batch that never committed, and opening the sink deletes it.
//! Both renames are followed by an fsync of the folder, so a committed checkpoint never
//! survives a power loss without its part.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, CheckpointStore, Error, GovernedBatch, Result, SourcePosition, Stage, StageContext,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::output::{persist, temp_file_for, write_atomically};

/// Default stage name of a [`ParquetPartSink`].
pub const PARQUET_PART_SINK_NAME: &str = "parquet_part_sink";

/// File name of the checkpoint in a [`ParquetPartSink`]'s folder.
pub const PART_CHECKPOINT_FILE: &str = "checkpoint.json";

const PART_PREFIX: &str = "part-";
const PART_SUFFIX: &str = ".parquet";

/// The committed state of a [`ParquetPartSink`] folder, stored in [`PART_CHECKPOINT_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartCheckpoint {
    /// Number of the next part to write; every part below it is committed.
    pub next_part: u64,
    /// Rows in the committed parts.
    pub rows: u64,
    /// Source position of the last committed batch.
    pub position: Option<SourcePosition>,
}

/// Writes each batch, with its row ids in [`governance_core::ROW_ID_COLUMN`], to a part
/// file of its own and commits it with the batch's source position (see the module docs).
///
/// Each part has its batch's own schema, so when a stream's columns change (as under a
/// collector's schema drift policy `adapt` or `alert`), the parts written after the change
/// have other columns than those before, and no column is dropped. The commit protocol does
/// not depend on the schema, so a resumed run continues with the next part whatever its
/// columns. [`ParquetPartSink::committed_schema`] returns the union of the committed parts'
/// schemas. Read the folder with a reader that merges the parts' schemas by column name and
/// fills a column that a part lacks with nulls.
#[derive(Debug)]
pub struct ParquetPartSink {
    name: String,
    dir: PathBuf,
    checkpoint: PartCheckpoint,
}

impl ParquetPartSink {
    /// Opens `dir` (created when absent), reads its checkpoint and deletes the parts and
    /// temporary files of batches that never committed.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| Error::io(&dir, source))?;
        let checkpoint = read_checkpoint(&dir)?.unwrap_or_default();
        let sink = ParquetPartSink {
            name: PARQUET_PART_SINK_NAME.to_string(),
            dir,
            checkpoint,
        };
        sink.remove_uncommitted()?;
        Ok(sink)
    }

    /// Renames the stage, so that a chain can hold more than one sink.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the committed state.
    pub fn checkpoint(&self) -> &PartCheckpoint {
        &self.checkpoint
    }

    /// Returns the paths of the committed parts, in order.
    pub fn committed_parts(&self) -> Result<Vec<PathBuf>> {
        let mut parts: Vec<(u64, PathBuf)> = self
            .list_parts()?
            .into_iter()
            .filter(|(number, _)| *number < self.checkpoint.next_part)
            .collect();
        parts.sort();
        Ok(parts.into_iter().map(|(_, path)| path).collect())
    }

    /// Returns the union of the committed parts' Arrow schemas: the columns in the order
    /// they first appear, a column nullable when any part has it nullable. Returns `None`
    /// when nothing was committed, and fails, naming the part, when two parts give one
    /// column different types.
    pub fn committed_schema(&self) -> Result<Option<SchemaRef>> {
        let mut merged: Option<Schema> = None;
        for path in self.committed_parts()? {
            let file = fs::File::open(&path).map_err(|source| Error::io(&path, source))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|error| Error::stage(&self.name, error))?;
            let schema = builder.schema().as_ref().clone();
            merged = Some(match merged {
                None => schema,
                Some(known) => Schema::try_merge([known, schema]).map_err(|error| {
                    Error::config(
                        &self.name,
                        format!(
                            "part {} does not fit the columns of the parts before it ({error}); \
                             read the parts separately or cast the column before the sink",
                            path.display()
                        ),
                    )
                })?,
            });
        }
        Ok(merged.map(Arc::new))
    }

    fn part_path(&self, number: u64) -> PathBuf {
        self.dir
            .join(format!("{PART_PREFIX}{number:010}{PART_SUFFIX}"))
    }

    fn list_parts(&self) -> Result<Vec<(u64, PathBuf)>> {
        let entries = fs::read_dir(&self.dir).map_err(|source| Error::io(&self.dir, source))?;
        let mut parts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&self.dir, source))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let number = name
                .strip_prefix(PART_PREFIX)
                .and_then(|rest| rest.strip_suffix(PART_SUFFIX))
                .and_then(|digits| digits.parse::<u64>().ok());
            if let Some(number) = number {
                parts.push((number, entry.path()));
            }
        }
        Ok(parts)
    }

    fn remove_uncommitted(&self) -> Result<()> {
        for (number, path) in self.list_parts()? {
            if number >= self.checkpoint.next_part {
                tracing::info!(stage = %self.name, path = %path.display(), "deleting a part that never committed");
                fs::remove_file(&path).map_err(|source| Error::io(&path, source))?;
            }
        }
        let entries = fs::read_dir(&self.dir).map_err(|source| Error::io(&self.dir, source))?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&self.dir, source))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let path = entry.path();
                fs::remove_file(&path).map_err(|source| Error::io(&path, source))?;
            }
        }
        Ok(())
    }

    fn write_part(&self, batch: &GovernedBatch, number: u64) -> Result<()> {
        let path = self.part_path(number);
        let final_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = temp_file_for(&self.dir, &final_name)?;
        let data = batch.with_row_id_column()?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let file = temp
            .as_file()
            .try_clone()
            .map_err(|source| Error::io(temp.path(), source))?;
        let mut writer = ArrowWriter::try_new(file, data.schema(), Some(properties))
            .map_err(|error| Error::stage(&self.name, error))?;
        writer
            .write(&data)
            .map_err(|error| Error::stage(&self.name, error))?;
        writer
            .close()
            .map_err(|error| Error::stage(&self.name, error))?;
        persist(temp, &path)?;
        sync_dir(&self.dir)
    }
}

fn read_checkpoint(dir: &Path) -> Result<Option<PartCheckpoint>> {
    let path = dir.join(PART_CHECKPOINT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::io(&path, source)),
    };
    serde_json::from_str(&text).map(Some).map_err(|error| {
        Error::config(
            PARQUET_PART_SINK_NAME,
            format!(
                "{} is not a part checkpoint ({error}); restore it or empty the folder to start over",
                path.display()
            ),
        )
    })
}

/// Flushes the folder's entries, so that a rename in it survives a power loss.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(|source| Error::io(dir, source))
}

impl CheckpointStore for ParquetPartSink {
    fn commits_each_batch(&self) -> bool {
        true
    }

    fn load_position(&mut self) -> Result<Option<SourcePosition>> {
        Ok(self.checkpoint.position.clone())
    }
}

impl Stage for ParquetPartSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({ "dir": self.dir })
    }

    fn describe(&self) -> String {
        format!(
            "writes one Parquet part per batch to {}",
            self.dir.display()
        )
    }
}

impl Applicator for ParquetPartSink {
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let number = self.checkpoint.next_part;
        self.write_part(batch, number)?;
        let next = PartCheckpoint {
            next_part: number + 1,
            rows: self.checkpoint.rows + batch.num_rows() as u64,
            position: batch
                .provenance
                .position
                .clone()
                .or_else(|| self.checkpoint.position.clone()),
        };
        let text = serde_json::to_vec(&next).map_err(|error| {
            Error::Internal(format!("cannot serialise the part checkpoint: {error}"))
        })?;
        write_atomically(&self.dir.join(PART_CHECKPOINT_FILE), &text)?;
        sync_dir(&self.dir)?;
        self.checkpoint = next;
        ctx.audit(
            AuditAction::Share,
            &format!("parquet {}", self.part_path(number).display()),
            &format!("rows={}", batch.num_rows()),
        )
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use governance_core::{Provenance, RowIdAllocator};

    use super::*;

    fn batch(values: &[i64], position: u64) -> GovernedBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let data = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))])
            .expect("batch");
        let ids = RowIdAllocator::starting_at(position * 10).allocate(values.len());
        let mut provenance = Provenance::new("test");
        provenance.position = Some(SourcePosition::new("test", serde_json::json!(position)));
        GovernedBatch::try_new(data, ids, provenance).expect("governed batch")
    }

    #[test]
    fn reopen_keeps_committed_and_drops_orphans() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ctx = StageContext::new(
            "sink",
            1,
            governance_core::audit::AuditLog::in_memory().into_handle(),
        );
        let mut sink = ParquetPartSink::open(dir.path()).expect("open");
        sink.apply(&batch(&[1, 2], 1), &mut ctx).expect("apply");
        sink.apply(&batch(&[3], 2), &mut ctx).expect("apply");
        // A part written by a batch that crashed before its checkpoint.
        sink.write_part(&batch(&[4], 3), 2).expect("orphan part");

        let mut reopened = ParquetPartSink::open(dir.path()).expect("reopen");
        assert_eq!(reopened.checkpoint().next_part, 2);
        assert_eq!(reopened.checkpoint().rows, 3);
        assert_eq!(reopened.committed_parts().expect("parts").len(), 2);
        assert!(
            !reopened.part_path(2).exists(),
            "the orphan part must be deleted"
        );
        let position = reopened.load_position().expect("load").expect("a position");
        assert_eq!(position.state, serde_json::json!(2));
    }
}
