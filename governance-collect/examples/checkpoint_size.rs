//! Prints the size of a folder collector's checkpoint (its source position as JSON) when the
//! position carries the schema drift state, for streams of 10, 100 and 1000 columns.
//!
//! Each run writes two CSV files of 100 rows into a temporary folder: the second adds one
//! column, so under the `adapt` policy the state holds the reference schema, its value
//! profiles and the union schema. Run it with
//! `cargo run -p governance-collect --example checkpoint_size`; the sizes do not depend on
//! the build profile.

#![allow(clippy::print_stdout, reason = "an example prints its figures")]

use std::fmt::Write as _;
use std::path::Path;

use governance_collect::{
    DRIFT_STATE_KEY, DriftConfig, DriftPolicy, FolderCollector, FolderConfig,
};
use governance_core::audit::AuditLog;
use governance_core::{Collector, SourcePosition, StageContext};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const ROWS: usize = 100;

/// Writes a CSV file with `columns` numeric columns named `c0`, `c1`, ... and `ROWS` rows.
fn write_csv(path: &Path, columns: usize) -> std::io::Result<()> {
    let mut text = String::new();
    let header: Vec<String> = (0..columns).map(|column| format!("c{column}")).collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for row in 0..ROWS {
        let values: Vec<String> = (0..columns)
            .map(|column| format!("{:.2}", (row * 7 + column * 13) as f64 / 10.0))
            .collect();
        text.push_str(&values.join(","));
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// Returns (bytes of the whole position, bytes of its drift state) after both files.
fn measure(columns: usize) -> Result<(usize, usize)> {
    let dir = tempfile::tempdir()?;
    write_csv(&dir.path().join("1.csv"), columns)?;
    write_csv(&dir.path().join("2.csv"), columns + 1)?;
    let mut collector = FolderCollector::new(FolderConfig {
        dir: dir.path().to_path_buf(),
        batch_size: ROWS,
        min_age_ms: 0,
        poll_ms: 10,
        idle_end_ms: Some(100),
        schema_drift: Some(DriftConfig::new(DriftPolicy::Adapt)),
        ..FolderConfig::default()
    })?;
    let mut ctx = StageContext::new("folder", 1, AuditLog::in_memory().into_handle());
    let mut last: Option<SourcePosition> = None;
    while let Some(batch) = collector.next_batch(&mut ctx)? {
        last = batch.provenance.position.clone();
    }
    let position = last.ok_or("the collector emitted no batch with a position")?;
    let whole = serde_json::to_string(&position)?.len();
    let drift = position
        .state
        .get(DRIFT_STATE_KEY)
        .map(|state| state.to_string().len())
        .unwrap_or(0);
    Ok((whole, drift))
}

fn main() -> Result<()> {
    let mut table = String::from(
        "| columns | position bytes | drift state bytes | drift state bytes per column |\n\
         |---:|---:|---:|---:|\n",
    );
    for columns in [10, 100, 1000] {
        let (whole, drift) = measure(columns)?;
        let _ = writeln!(
            table,
            "| {columns} | {whole} | {drift} | {:.0} |",
            drift as f64 / (columns + 1) as f64
        );
    }
    print!("{table}");
    Ok(())
}
