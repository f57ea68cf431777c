//! Durable storage of the audit log in a folder of rotated segment files.
//!
//! Layout of the folder:
//!
//! - `segment-<first seq, 20 digits>.jsonl`: records in the same JSON Lines form as
//!   [`AuditLog::create`](super::AuditLog::create) writes, the newest segment last.
//! - `anchor.json`: present once old segments were pruned. It names the first retained
//!   sequence number and the hash of the last pruned record, so the remaining chain still
//!   verifies. Each pruning also appends a retention record with the same two values to the
//!   chain, so a changed anchor file fails verification.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{AuditHead, AuditRecord, ChainCursor, GENESIS_HASH, check_head, verify_lines};
use crate::{Error, Result};

const SEGMENT_PREFIX: &str = "segment-";
const SEGMENT_SUFFIX: &str = ".jsonl";
const ANCHOR_FILE: &str = "anchor.json";
const COMPONENT: &str = "audit store";

/// When appended records are synced to disk with `fsync`. Records are always written through
/// a buffer; [`AuditLog::flush`](super::AuditLog::flush) writes and syncs whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Sync after every record: no record is lost in a crash, at the cost of one disk
    /// round trip per record.
    EveryRecord,
    /// Sync after every this many records; a crash loses at most that many.
    EveryN(u64),
    /// Sync only on flush, on segment rotation and when the log is dropped.
    OnFlush,
}

/// Retention settings for closed segments. The segment being written is never pruned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Maximum number of segment files kept, the one being written included.
    pub max_segments: Option<usize>,
    /// Closed segments last modified longer ago than this many seconds are pruned.
    pub max_age_seconds: Option<u64>,
}

/// Configuration of a segmented audit log folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditStoreConfig {
    /// When records are synced to disk. Default: every 1000 records.
    pub fsync: FsyncPolicy,
    /// A new segment starts once the current one has at least this many bytes. Default
    /// 64 MiB.
    pub max_segment_bytes: u64,
    /// A new segment starts once the current one is older than this many seconds. Default:
    /// no limit.
    pub max_segment_age_seconds: Option<u64>,
    /// Retention of old segments, applied at rotation. Default: keep every segment.
    pub retention: Retention,
    /// Number of recent records kept in memory for [`AuditLog::records`](super::AuditLog::records).
    /// Default 10,000.
    pub memory_window: usize,
}

impl Default for AuditStoreConfig {
    fn default() -> Self {
        AuditStoreConfig {
            fsync: FsyncPolicy::EveryN(1000),
            max_segment_bytes: 64 * 1024 * 1024,
            max_segment_age_seconds: None,
            retention: Retention::default(),
            memory_window: 10_000,
        }
    }
}

impl AuditStoreConfig {
    fn validate(&self) -> Result<()> {
        if self.fsync == FsyncPolicy::EveryN(0) {
            return Err(Error::config(
                COMPONENT,
                "fsync every_n is 0; use every_record, or a count of at least 1",
            ));
        }
        if self.max_segment_bytes == 0 {
            return Err(Error::config(
                COMPONENT,
                "max_segment_bytes is 0; set at least the size of one record, such as 1048576",
            ));
        }
        if self.retention.max_segments == Some(0) {
            return Err(Error::config(
                COMPONENT,
                "retention max_segments is 0; at least the segment being written is kept, so \
                 set 1 or more",
            ));
        }
        Ok(())
    }
}

/// The anchor file's contents: where the retained chain starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Anchor {
    first_seq: u64,
    prev_hash: String,
}

/// Outcome of one pruning, written to the chain as a retention record.
pub(super) struct Pruned {
    segments: usize,
    anchor: Anchor,
}

impl Pruned {
    /// Returns the detail of the retention record that confirms the anchor.
    pub(super) fn detail(&self) -> String {
        format!(
            "pruned_segments={} {}",
            self.segments,
            anchor_detail(&self.anchor)
        )
    }
}

fn anchor_detail(anchor: &Anchor) -> String {
    format!(
        "first_seq={} prev_hash={}",
        anchor.first_seq, anchor.prev_hash
    )
}

/// The open segment being appended to.
#[derive(Debug)]
struct OpenSegment {
    path: PathBuf,
    writer: BufWriter<File>,
    bytes: u64,
    opened: SystemTime,
    /// Records written since the last sync.
    unsynced: u64,
}

/// Writer of a segmented audit log folder.
#[derive(Debug)]
pub(super) struct SegmentStore {
    dir: PathBuf,
    config: AuditStoreConfig,
    segment: Option<OpenSegment>,
}

impl SegmentStore {
    /// Opens the folder and returns the store, the next sequence number, the last hash and
    /// the repair made to the last segment, if any.
    pub(super) fn open(
        dir: &Path,
        config: AuditStoreConfig,
    ) -> Result<(Self, u64, String, Option<Repair>)> {
        config.validate()?;
        fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
        let mut segments = list_segments(dir)?;
        let repair = match segments.last() {
            Some((_, path)) => cut_incomplete_record(path)?,
            None => None,
        };
        let anchor = read_anchor(dir)?;
        let mut cursor = ChainCursor {
            seq: anchor.first_seq,
            prev_hash: anchor.prev_hash,
        };
        // A crash right after rotation can leave an empty newest segment. It contains no record,
        // so it is removed and the segment before it is continued.
        while let Some((_, path)) = segments.last() {
            let empty = fs::metadata(path)
                .map_err(|source| Error::io(path, source))?
                .len()
                == 0;
            if !empty {
                break;
            }
            fs::remove_file(path).map_err(|source| Error::io(path, source))?;
            segments.pop();
        }
        let mut segment = None;
        if let Some((first_seq, path)) = segments.last() {
            // Only the last segment is read, trusting its first record's prev_hash; verify_dir
            // checks the whole chain.
            let file = File::open(path).map_err(|source| Error::io(path, source))?;
            let first = read_first_record(&mut BufReader::new(file), path)?;
            cursor = ChainCursor {
                seq: *first_seq,
                prev_hash: first
                    .as_ref()
                    .map_or(cursor.prev_hash, |record| record.prev_hash.clone()),
            };
            let file = File::open(path).map_err(|source| Error::io(path, source))?;
            verify_lines(
                BufReader::new(file),
                path,
                &segment_label(path),
                &mut cursor,
                |_| {},
            )?;
            let bytes = fs::metadata(path)
                .map_err(|source| Error::io(path, source))?
                .len();
            let file = OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|source| Error::io(path, source))?;
            let opened = first.map_or_else(SystemTime::now, |record| {
                SystemTime::UNIX_EPOCH + Duration::from_millis(record.time_ms.max(0) as u64)
            });
            segment = Some(OpenSegment {
                path: path.clone(),
                writer: BufWriter::new(file),
                bytes,
                opened,
                unsynced: 0,
            });
        }
        let store = SegmentStore {
            dir: dir.to_path_buf(),
            config,
            segment,
        };
        Ok((store, cursor.seq, cursor.prev_hash, repair))
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a new segment for record `next_seq` when none is open or the current one is
    /// full or too old, and prunes old segments. Returns what was pruned, if anything.
    pub(super) fn rotate_if_due(&mut self, next_seq: u64, now_ms: i64) -> Result<Option<Pruned>> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(now_ms.max(0) as u64);
        let due = match &self.segment {
            None => true,
            Some(segment) => {
                let too_old = self.config.max_segment_age_seconds.is_some_and(|limit| {
                    now.duration_since(segment.opened)
                        .is_ok_and(|age| age.as_secs() >= limit)
                });
                segment.bytes > 0 && (segment.bytes >= self.config.max_segment_bytes || too_old)
            }
        };
        if !due {
            return Ok(None);
        }
        self.sync()?;
        let path = self.dir.join(segment_name(next_seq));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|source| Error::io(&path, source))?;
        self.segment = Some(OpenSegment {
            path,
            writer: BufWriter::new(file),
            bytes: 0,
            opened: now,
            unsynced: 0,
        });
        sync_dir(&self.dir)?;
        self.prune(now)
    }

    /// Writes one serialised record and syncs it when the fsync policy requires it.
    pub(super) fn write(&mut self, line: &[u8]) -> Result<()> {
        let Some(segment) = &mut self.segment else {
            return Err(Error::Internal(
                "audit store has no open segment after rotation".into(),
            ));
        };
        segment
            .writer
            .write_all(line)
            .map_err(|source| Error::io(&segment.path, source))?;
        segment.bytes += line.len() as u64;
        segment.unsynced += 1;
        let sync_now = match self.config.fsync {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::EveryN(count) => segment.unsynced >= count,
            FsyncPolicy::OnFlush => false,
        };
        if sync_now {
            self.sync()?;
        }
        Ok(())
    }

    /// Writes the buffer of the open segment and syncs it to disk.
    pub(super) fn sync(&mut self) -> Result<()> {
        if let Some(segment) = &mut self.segment {
            segment
                .writer
                .flush()
                .and_then(|()| segment.writer.get_ref().sync_data())
                .map_err(|source| Error::io(&segment.path, source))?;
            segment.unsynced = 0;
        }
        Ok(())
    }

    /// Deletes closed segments that the retention settings no longer keep, oldest first, and
    /// writes the anchor for the first segment kept.
    fn prune(&mut self, now: SystemTime) -> Result<Option<Pruned>> {
        let retention = &self.config.retention;
        if retention.max_segments.is_none() && retention.max_age_seconds.is_none() {
            return Ok(None);
        }
        let segments = list_segments(&self.dir)?;
        let closed = segments.len().saturating_sub(1);
        let mut remove = 0;
        if let Some(max) = retention.max_segments {
            remove = segments.len().saturating_sub(max).min(closed);
        }
        if let Some(limit) = retention.max_age_seconds {
            while remove < closed {
                let path = &segments[remove].1;
                let modified = fs::metadata(path)
                    .and_then(|metadata| metadata.modified())
                    .map_err(|source| Error::io(path, source))?;
                let old = now
                    .duration_since(modified)
                    .is_ok_and(|age| age.as_secs() > limit);
                if !old {
                    break;
                }
                remove += 1;
            }
        }
        if remove == 0 {
            return Ok(None);
        }

        // The anchor is written before anything is deleted, so a crash in between leaves a
        // folder whose anchor names a later start than its first segment. verify_dir reports
        // that; deleting the named segments by hand finishes the pruning.
        let (first_seq, first_path) = &segments[remove];
        let file = File::open(first_path).map_err(|source| Error::io(first_path, source))?;
        let Some(first) = read_first_record(&mut BufReader::new(file), first_path)? else {
            return Err(Error::InvalidInput(format!(
                "audit segment {} is empty, so the anchor for pruning cannot be set; \
                 run verify_dir on {}",
                first_path.display(),
                self.dir.display()
            )));
        };
        let anchor = Anchor {
            first_seq: *first_seq,
            prev_hash: first.prev_hash,
        };
        write_anchor(&self.dir, &anchor)?;
        for (_, path) in &segments[..remove] {
            fs::remove_file(path).map_err(|source| Error::io(path, source))?;
        }
        sync_dir(&self.dir)?;
        Ok(Some(Pruned {
            segments: remove,
            anchor,
        }))
    }
}

impl Drop for SegmentStore {
    fn drop(&mut self) {
        if let Err(error) = self.sync() {
            tracing::error!(%error, "audit segment could not be synced when the log was closed");
        }
    }
}

/// An incomplete last record cut from a segment when the log was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Repair {
    /// File name of the segment.
    pub(super) segment: String,
    /// Bytes removed.
    pub(super) bytes: u64,
}

/// Cuts the bytes after the last newline of `path`. A crash while a record was being
/// written leaves such a tail; every whole record ends with a newline, so nothing complete
/// is lost. Returns what was cut, or `None` when the file ends with a newline or is empty.
fn cut_incomplete_record(path: &Path) -> Result<Option<Repair>> {
    let bytes = fs::read(path).map_err(|source| Error::io(path, source))?;
    if bytes.last().is_none_or(|last| *last == b'\n') {
        return Ok(None);
    }
    let keep = bytes
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| Error::io(path, source))?;
    file.set_len(keep as u64)
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::io(path, source))?;
    let segment = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    tracing::warn!(
        segment = %segment,
        bytes = bytes.len() - keep,
        "audit segment ended with an incomplete record, which was cut"
    );
    Ok(Some(Repair {
        segment,
        bytes: (bytes.len() - keep) as u64,
    }))
}

fn segment_name(first_seq: u64) -> String {
    format!("{SEGMENT_PREFIX}{first_seq:020}{SEGMENT_SUFFIX}")
}

fn segment_label(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    format!("{name}: ")
}

/// Lists the segment files of `dir` by first sequence number.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(|source| Error::io(dir, source))? {
        let entry = entry.map_err(|source| Error::io(dir, source))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(seq) = name
            .strip_prefix(SEGMENT_PREFIX)
            .and_then(|rest| rest.strip_suffix(SEGMENT_SUFFIX))
        else {
            continue;
        };
        let seq = seq.parse::<u64>().map_err(|_| {
            Error::InvalidInput(format!(
                "audit folder {} has a segment file {name:?} whose name is not \
                 segment-<20 digits>.jsonl; remove or rename it",
                dir.display()
            ))
        })?;
        segments.push((seq, entry.path()));
    }
    segments.sort();
    Ok(segments)
}

fn read_anchor(dir: &Path) -> Result<Anchor> {
    let path = dir.join(ANCHOR_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| Error::AuditTampered {
            record: 0,
            line: 1,
            reason: format!("{ANCHOR_FILE} is not a valid anchor: {error}"),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Anchor {
            first_seq: 0,
            prev_hash: GENESIS_HASH.to_string(),
        }),
        Err(source) => Err(Error::io(path, source)),
    }
}

/// Replaces the anchor file atomically: a temporary file is synced, then renamed.
fn write_anchor(dir: &Path, anchor: &Anchor) -> Result<()> {
    let path = dir.join(ANCHOR_FILE);
    let temporary = dir.join(format!("{ANCHOR_FILE}.tmp"));
    let bytes = serde_json::to_vec(anchor)
        .map_err(|error| Error::Internal(format!("audit anchor not serialisable: {error}")))?;
    let mut file = File::create(&temporary).map_err(|source| Error::io(&temporary, source))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::io(&temporary, source))?;
    fs::rename(&temporary, &path).map_err(|source| Error::io(&path, source))
}

/// Syncs the folder itself, so that created, renamed and deleted files survive a crash.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(|source| Error::io(dir, source))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn read_first_record(
    reader: &mut impl std::io::BufRead,
    path: &Path,
) -> Result<Option<AuditRecord>> {
    let mut line = Vec::new();
    reader
        .read_until(b'\n', &mut line)
        .map_err(|source| Error::io(path, source))?;
    if line.is_empty() {
        return Ok(None);
    }
    let record =
        serde_json::from_slice(line.strip_suffix(b"\n").unwrap_or(&line)).map_err(|error| {
            Error::AuditTampered {
                record: 0,
                line: 1,
                reason: format!("{}not a valid audit record: {error}", segment_label(path)),
            }
        })?;
    Ok(Some(record))
}

/// Summary of a verified log folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLog {
    /// Number of records retained and verified.
    pub records: u64,
    /// Sequence number of the first retained record; above 0 once segments were pruned.
    pub first_seq: u64,
    /// Number of segment files.
    pub segments: usize,
    /// The sequence number after the last record and the last record's hash, to compare
    /// with a head kept elsewhere.
    pub head: (u64, String),
}

impl VerifiedLog {
    /// Returns the next sequence number and the last record's hash.
    pub fn head(&self) -> (u64, &str) {
        (self.head.0, &self.head.1)
    }
}

/// Verifies a segmented audit log folder offline. The error names the first record (its
/// sequence number, and its segment file and line in the reason) that is malformed, out of
/// sequence, or whose hash does not match, and reports a missing segment or an anchor that no
/// retention record confirms.
pub fn verify_dir(dir: impl AsRef<Path>) -> Result<VerifiedLog> {
    verify_dir_with(dir.as_ref(), |_| {})
}

/// Verifies the folder as [`verify_dir`] does and then checks that the chain reaches
/// `expected`, a head kept apart from the log (see [`FileHeadSink`](super::FileHeadSink)).
/// This finds records cut from the end of the log, which the hash chain alone cannot show.
///
/// The log may have grown since the head was written. When the record before
/// `expected.next_seq` was pruned by retention, only the length is checked.
pub fn verify_dir_with_head(dir: impl AsRef<Path>, expected: &AuditHead) -> Result<VerifiedLog> {
    let target = expected.next_seq.checked_sub(1);
    let mut seen = None;
    let verified = verify_dir_with(dir.as_ref(), |record| {
        if Some(record.seq) == target {
            seen = Some(record.hash.clone());
        }
    })?;
    check_head(verified.head.0, seen, verified.first_seq, expected)?;
    Ok(verified)
}

fn verify_dir_with(dir: &Path, mut on_record: impl FnMut(&AuditRecord)) -> Result<VerifiedLog> {
    let anchor = read_anchor(dir)?;
    let segments = list_segments(dir)?;
    let mut cursor = ChainCursor {
        seq: anchor.first_seq,
        prev_hash: anchor.prev_hash.clone(),
    };
    let expected_detail = anchor_detail(&anchor);
    let mut anchor_confirmed = anchor.first_seq == 0 && anchor.prev_hash == GENESIS_HASH;
    for (first_seq, path) in &segments {
        if *first_seq != cursor.seq {
            let reason = if cursor.seq == anchor.first_seq {
                format!(
                    "the first segment starts at record {first_seq} but the log starts at \
                     record {}; records before it were deleted or the anchor was changed",
                    cursor.seq
                )
            } else {
                format!(
                    "segment {} starts at record {first_seq} where record {} was expected; \
                     a segment is missing or was renamed",
                    path.display(),
                    cursor.seq
                )
            };
            return Err(Error::AuditTampered {
                record: cursor.seq,
                line: 1,
                reason,
            });
        }
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        verify_lines(
            BufReader::new(file),
            path,
            &segment_label(path),
            &mut cursor,
            |record| {
                on_record(record);
                if record.actor == "audit_store"
                    && record.subject == "retention"
                    && record.detail.ends_with(&expected_detail)
                {
                    anchor_confirmed = true;
                }
            },
        )?;
    }
    if !anchor_confirmed {
        return Err(Error::AuditTampered {
            record: anchor.first_seq,
            line: 1,
            reason: format!(
                "{ANCHOR_FILE} says the log starts at record {} but no retention record in \
                 the log confirms it; the anchor file was changed or records were deleted",
                anchor.first_seq
            ),
        });
    }
    Ok(VerifiedLog {
        records: cursor.seq - anchor.first_seq,
        first_seq: anchor.first_seq,
        segments: segments.len(),
        head: (cursor.seq, cursor.prev_hash),
    })
}

/// Verifies the folder and then writes every retained record to `writer` as JSON Lines, in
/// order. Returns what was verified.
pub fn export_dir(dir: impl AsRef<Path>, mut writer: impl Write) -> Result<VerifiedLog> {
    let dir = dir.as_ref();
    let verified = verify_dir(dir)?;
    for (_, path) in list_segments(dir)? {
        let mut file = File::open(&path).map_err(|source| Error::io(&path, source))?;
        std::io::copy(&mut file, &mut writer).map_err(|source| Error::io(&path, source))?;
    }
    Ok(verified)
}
