//! The commands that read files and print: `profile`, `audit verify` and `lineage show`.

use std::path::{Path, PathBuf};

use governance::LineageRecord;
use governance::audit::{AuditLog, verify_dir, verify_file};
use governance::clean::profile::{Profiler, TableProfile};
use governance::collect::{CsvCollector, CsvConfig, ParquetCollector, ParquetConfig};
use governance::{Collector, StageContext};

use crate::error::CliError;
use crate::runner::LINEAGE_FILE;
use crate::table::Table;

/// Profiles a CSV or Parquet file, chosen by its extension. Returns the profile and the
/// number of CSV rows that could not be read and were left out.
pub fn profile_file(path: &Path) -> Result<(TableProfile, usize), CliError> {
    if !path.is_file() {
        return Err(CliError::Io(format!(
            "file {} not found: check the path",
            path.display()
        )));
    }
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    let mut collector: Box<dyn Collector> = match extension.as_deref() {
        Some("csv") => Box::new(CsvCollector::new(CsvConfig::from_paths([path]))?),
        Some("parquet") => Box::new(ParquetCollector::new(ParquetConfig::from_paths([path]))?),
        _ => {
            return Err(CliError::Usage(format!(
                "cannot profile {}: the file name must end in .csv or .parquet",
                path.display()
            )));
        }
    };
    let mut ctx = StageContext::new("profile", 1, AuditLog::in_memory().into_handle());
    collector.start(&mut ctx)?;
    let mut profiler = Profiler::default();
    while let Some(batch) = collector.next_batch(&mut ctx)? {
        profiler.update(batch.data())?;
    }
    Ok((profiler.finish(), ctx.quarantined_len()))
}

/// Formats a profile as a text table, one row per column.
pub fn profile_table(profile: &TableProfile) -> String {
    let mut table = Table::new(&[
        "column", "type", "semantic", "nulls", "null %", "distinct", "min", "max", "mean",
    ]);
    for column in &profile.columns {
        let distinct = if column.distinct_is_exact {
            column.distinct_count.to_string()
        } else {
            format!("~{}", column.distinct_count)
        };
        let mean = column
            .numeric
            .as_ref()
            .map_or("-".to_string(), |numeric| format!("{:.4}", numeric.mean));
        table.push(vec![
            column.name.clone(),
            column.data_type.clone(),
            format!("{:?}", column.semantic_type),
            column.null_count.to_string(),
            format!("{:.2}", column.null_rate * 100.0),
            distinct,
            shorten(column.min.as_deref().unwrap_or("-")),
            shorten(column.max.as_deref().unwrap_or("-")),
            mean,
        ]);
    }
    format!("{} rows\n{}", profile.rows, table.render())
}

/// Cuts a cell to 24 characters so that one long value does not widen the whole table.
fn shorten(text: &str) -> String {
    const MAX: usize = 24;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let kept: String = text.chars().take(MAX - 1).collect();
        format!("{kept}…")
    }
}

/// Verifies an audit log: a file written by `AuditLog::create`, or a segmented log folder.
/// Returns the number of records.
pub fn verify_audit(path: &Path) -> Result<u64, CliError> {
    if path.is_dir() {
        return Ok(verify_dir(path)?.records);
    }
    if !path.exists() {
        return Err(CliError::Io(format!(
            "audit log {} not found: check the path",
            path.display()
        )));
    }
    match verify_file(path) {
        Ok(records) => Ok(records),
        Err(governance::Error::AuditTampered {
            record,
            line,
            reason,
        }) => Err(CliError::Data(format!(
            "audit log {} failed verification at record {record} (line {line}): {reason}",
            path.display()
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Reads the lineage records of the run in output folder `run`: its `lineage.json`, or the
/// `round-<n>/lineage.json` files of a run written without one.
pub fn read_lineage(run: &Path) -> Result<Vec<LineageRecord>, CliError> {
    if !run.is_dir() {
        return Err(CliError::Io(format!(
            "run folder {} not found: pass the output folder of `govern run` or `govern demo`",
            run.display()
        )));
    }
    let all_rounds = run.join(LINEAGE_FILE);
    if all_rounds.is_file() {
        return read_records(&all_rounds);
    }
    let mut folders: Vec<(u32, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(run)
        .map_err(|error| CliError::Io(format!("cannot list {}: {error}", run.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(round) = name
            .strip_prefix("round-")
            .and_then(|number| number.parse().ok())
        {
            let path = entry.path().join(LINEAGE_FILE);
            if path.is_file() {
                folders.push((round, path));
            }
        }
    }
    if folders.is_empty() {
        return Err(CliError::Data(format!(
            "no {LINEAGE_FILE} in {} or its round-<n> folders: pass the output folder of a run",
            run.display()
        )));
    }
    folders.sort();
    let mut records = Vec::new();
    for (_, path) in folders {
        records.extend(read_records(&path)?);
    }
    Ok(records)
}

fn read_records(path: &Path) -> Result<Vec<LineageRecord>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| CliError::Io(format!("cannot read {}: {error}", path.display())))?;
    serde_json::from_str(&text).map_err(|error| {
        CliError::Data(format!(
            "{} is not a list of lineage records: {error}",
            path.display()
        ))
    })
}

/// Formats lineage records as a text table.
pub fn lineage_table(records: &[LineageRecord]) -> String {
    let mut table = Table::new(&[
        "round",
        "stage",
        "kind",
        "version",
        "params hash",
        "rows in",
        "rows out",
        "quarantined",
        "merged",
        "seconds",
    ]);
    for record in records {
        table.push(vec![
            record.round.to_string(),
            record.stage.clone(),
            record.kind.clone(),
            record.version.clone(),
            record.params_hash.chars().take(12).collect(),
            record.rows_in.to_string(),
            record.rows_out.to_string(),
            record.rows_quarantined.to_string(),
            record.rows_merged.to_string(),
            format!("{:.3}", record.seconds),
        ]);
    }
    table.render()
}
