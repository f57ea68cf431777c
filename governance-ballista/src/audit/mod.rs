//! Audit records of the tasks that executors run, collected on the client exactly once per
//! partition.
//!
//! An executor started with an audit folder (`governance-cluster executor --audit-dir DIR`)
//! wraps every query stage whose output has issue columns (`issues__STAGE__COLUMN`, see
//! [`crate::ColumnChain`]) in a pass-through operator. When a partition's stream ends, the
//! operator writes one [`PartitionAudit`] file: the row count and the non-null cells of each
//! issue column, keyed by job, stage and partition, with the attempt numbers and the
//! executor id. A file is written under a temporary name and then renamed, so a task killed
//! midway leaves no file that [`collect`] reads.
//!
//! Ballista runs a task again when its attempt fails or when the executor that holds its
//! output is lost, so one partition can have several files. The partition's input is the
//! same on every attempt, so every complete attempt counts the same rows and issues.
//! [`collect`] keeps one file per (job, stage, partition) and fails when two attempts
//! disagree. [`CollectedAudit::append_to`] then writes one record per partition into the
//! client's hash-chained [`AuditLog`].
//!
//! The folder must be one that the executors and the client share, such as a network
//! volume mounted at the same path, in the same way as the chain's input files.
//!
//! NOTE: a stage that only passes issue columns on, after a shuffle, writes files too, and a
//! partition whose stream is dropped before its end (such as under a `LIMIT`) writes none.
//! The plan of a [`crate::ColumnChain`] is one stage that is read to the end.

#[cfg(feature = "cluster")]
mod engine;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use governance_core::audit::{AuditAction, AuditLog};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

#[cfg(feature = "cluster")]
pub use engine::{AuditExec, AuditingEngine};

/// Actor name of the audit records that [`CollectedAudit::append_to`] writes.
pub const ACTOR: &str = "governance-ballista executor";

/// Extension of the audit files.
const EXTENSION: &str = "json";

/// The audit record set of one attempt of one task partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionAudit {
    /// Ballista job id.
    pub job_id: String,
    /// Query stage within the job.
    pub stage_id: usize,
    /// Partition of the stage's output.
    pub partition: usize,
    /// Attempt of the stage, from 0; a stage runs again when shuffle output it read was lost.
    pub stage_attempt: u32,
    /// Attempt of the task within the stage attempt, from 0.
    pub task_attempt: u32,
    /// Id of the executor that ran the attempt.
    pub executor_id: String,
    /// Rows the partition output.
    pub rows: u64,
    /// Non-null cells per issue column, that is rows with at least one issue of that stage
    /// on that column.
    pub issue_cells: BTreeMap<String, u64>,
}

impl PartitionAudit {
    /// Returns the key that names the partition across attempts.
    pub fn key(&self) -> (String, usize, usize) {
        (self.job_id.clone(), self.stage_id, self.partition)
    }

    /// Returns the file name of this attempt, unique per attempt and executor.
    pub fn file_name(&self) -> String {
        format!(
            "stage-{}-partition-{}-attempt-{}.{}-{}.{EXTENSION}",
            self.stage_id,
            self.partition,
            self.stage_attempt,
            self.task_attempt,
            file_safe(&self.executor_id)
        )
    }

    /// Returns the folder of the job's files inside the audit folder `dir`.
    pub fn job_dir(dir: &Path, job_id: &str) -> PathBuf {
        dir.join(file_safe(job_id))
    }

    /// Writes the file into the job's folder under `dir`: first under a hidden temporary
    /// name, then renamed, so that readers never see a partial file.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let job_dir = PartitionAudit::job_dir(dir, &self.job_id);
        fs::create_dir_all(&job_dir).map_err(|source| Error::io(&job_dir, source))?;
        let path = job_dir.join(self.file_name());
        let temporary = job_dir.join(format!(".{}.tmp", self.file_name()));
        let text = serde_json::to_vec(self).map_err(|error| {
            Error::Internal(format!("partition audit did not serialise: {error}"))
        })?;
        fs::write(&temporary, text).map_err(|source| Error::io(&temporary, source))?;
        fs::rename(&temporary, &path).map_err(|source| Error::io(&path, source))?;
        Ok(path)
    }

    fn same_counts(&self, other: &PartitionAudit) -> bool {
        self.rows == other.rows && self.issue_cells == other.issue_cells
    }

    fn attempt(&self) -> (u32, u32) {
        (self.stage_attempt, self.task_attempt)
    }
}

/// The audit files of a folder, one per partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectedAudit {
    /// One attempt per (job, stage, partition), in key order: the earliest complete one.
    pub partitions: Vec<PartitionAudit>,
    /// Files of further complete attempts of a partition that was already counted.
    pub repeated_attempts: usize,
}

impl CollectedAudit {
    /// Returns the rows of every kept partition.
    pub fn rows(&self) -> u64 {
        self.partitions.iter().map(|partition| partition.rows).sum()
    }

    /// Returns the non-null cells of each issue column over every kept partition.
    pub fn issue_cells(&self) -> BTreeMap<String, u64> {
        let mut total = BTreeMap::new();
        for partition in &self.partitions {
            for (column, cells) in &partition.issue_cells {
                *total.entry(column.clone()).or_insert(0) += cells;
            }
        }
        total
    }

    /// Appends one `change` record per kept partition to `log`, in key order, and returns
    /// how many it appended. The subject names the job, stage and partition. The detail
    /// contains the attempt, the executor, the rows and the issue cells per column.
    pub fn append_to(&self, log: &mut AuditLog) -> Result<usize> {
        for partition in &self.partitions {
            let subject = format!(
                "job {} stage {} partition {}",
                partition.job_id, partition.stage_id, partition.partition
            );
            let issues: Vec<String> = partition
                .issue_cells
                .iter()
                .map(|(column, cells)| format!("{column}={cells}"))
                .collect();
            let detail = format!(
                "attempt={}.{} executor={} rows={} issue_cells: {}",
                partition.stage_attempt,
                partition.task_attempt,
                partition.executor_id,
                partition.rows,
                issues.join(", ")
            );
            log.append(ACTOR, AuditAction::Change, &subject, &detail)?;
        }
        Ok(self.partitions.len())
    }
}

/// Reads the audit files of job `job_id` in the audit folder `dir`, or of every job when
/// `job_id` is `None`, and keeps one attempt per partition.
///
/// Fails when a file cannot be read or parsed, and when two attempts of one partition
/// counted different rows or issues, which means that the input changed between attempts.
/// Hidden files (temporary files of attempts still running or killed) are skipped.
pub fn collect(dir: &Path, job_id: Option<&str>) -> Result<CollectedAudit> {
    let job_dirs = match job_id {
        Some(job_id) => vec![PartitionAudit::job_dir(dir, job_id)],
        None => sorted_entries(dir)?
            .into_iter()
            .filter(|path| path.is_dir())
            .collect(),
    };
    let mut kept: BTreeMap<(String, usize, usize), PartitionAudit> = BTreeMap::new();
    let mut repeated_attempts = 0;
    for job_dir in job_dirs {
        for path in sorted_entries(&job_dir)? {
            if !is_audit_file(&path) {
                continue;
            }
            let audit = read(&path)?;
            match kept.get_mut(&audit.key()) {
                None => {
                    kept.insert(audit.key(), audit);
                }
                Some(previous) => {
                    if !previous.same_counts(&audit) {
                        return Err(Error::InvalidInput(format!(
                            "audit files of job {} stage {} partition {} disagree: attempt \
                             {:?} counted {} rows and {:?}, attempt {:?} counted {} rows and \
                             {:?}; the input changed between attempts, so rerun the job on \
                             unchanged input",
                            audit.job_id,
                            audit.stage_id,
                            audit.partition,
                            previous.attempt(),
                            previous.rows,
                            previous.issue_cells,
                            audit.attempt(),
                            audit.rows,
                            audit.issue_cells
                        )));
                    }
                    repeated_attempts += 1;
                    if audit.attempt() < previous.attempt() {
                        *previous = audit;
                    }
                }
            }
        }
    }
    Ok(CollectedAudit {
        partitions: kept.into_values().collect(),
        repeated_attempts,
    })
}

/// Returns the ids of the jobs with audit files in `dir`, sorted.
pub fn job_ids(dir: &Path) -> Result<Vec<String>> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|path| path.is_dir())
        .filter_map(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .map(str::to_string)
        })
        .collect())
}

fn read(path: &Path) -> Result<PartitionAudit> {
    let text = fs::read(path).map_err(|source| Error::io(path, source))?;
    serde_json::from_slice(&text).map_err(|error| {
        Error::InvalidInput(format!(
            "audit file {} is not a partition audit: {error}; remove the file if something \
             else wrote it",
            path.display()
        ))
    })
}

fn is_audit_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_none_or(|name| name.starts_with('.'));
    !hidden && path.extension().and_then(|ext| ext.to_str()) == Some(EXTENSION)
}

/// Returns the paths in `dir`, sorted; a missing folder has none.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::io(dir, source)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|source| Error::io(dir, source))?.path());
    }
    paths.sort();
    Ok(paths)
}

/// Replaces every character other than ASCII letters, digits, `-` and `_` with `_`.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(partition: usize, task_attempt: u32, rows: u64) -> PartitionAudit {
        PartitionAudit {
            job_id: "job1".into(),
            stage_id: 1,
            partition,
            stage_attempt: 0,
            task_attempt,
            executor_id: format!("executor-{task_attempt}"),
            rows,
            issue_cells: BTreeMap::from([("issues__rules_0__PM2.5".into(), 3)]),
        }
    }

    #[test]
    fn collect_keeps_one_attempt_per_partition() {
        let dir = tempfile::tempdir().expect("temp dir");
        audit(0, 1, 10).write(dir.path()).expect("written");
        audit(0, 0, 10).write(dir.path()).expect("written");
        audit(1, 0, 5).write(dir.path()).expect("written");
        let job_dir = PartitionAudit::job_dir(dir.path(), "job1");
        fs::write(job_dir.join(".partial.json.tmp"), "{").expect("temporary file");

        let collected = collect(dir.path(), Some("job1")).expect("collected");
        assert_eq!(collected.partitions.len(), 2);
        assert_eq!(collected.repeated_attempts, 1);
        assert_eq!(collected.partitions[0].task_attempt, 0);
        assert_eq!(collected.rows(), 15);
        assert_eq!(collected.issue_cells()["issues__rules_0__PM2.5"], 6);

        let mut log = AuditLog::in_memory();
        assert_eq!(collected.append_to(&mut log).expect("appended"), 2);
        assert_eq!(log.records()[0].subject, "job job1 stage 1 partition 0");
        assert_eq!(log.verify().expect("chain verifies"), 2);
    }

    #[test]
    fn collect_rejects_disagreeing_attempts() {
        let dir = tempfile::tempdir().expect("temp dir");
        audit(0, 0, 10).write(dir.path()).expect("written");
        audit(0, 1, 11).write(dir.path()).expect("written");
        let error = collect(dir.path(), None).expect_err("attempts disagree");
        assert!(error.to_string().contains("disagree"), "{error}");
    }

    #[test]
    fn collect_of_missing_folder_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let collected = collect(&dir.path().join("absent"), None).expect("collected");
        assert!(collected.partitions.is_empty());
        assert_eq!(job_ids(&dir.path().join("absent")).expect("ids").len(), 0);
    }
}
