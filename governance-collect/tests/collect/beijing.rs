//! The CSV collector on the real Beijing multi-site air-quality files, when present.

use std::path::PathBuf;

use governance_collect::{CsvCollector, CsvConfig};

use super::{context, drain, row_count};

/// Hourly rows per station file: 2013-03-01 to 2017-02-28.
const ROWS_PER_FILE: usize = 35_064;

#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn beijing_dir() -> Option<PathBuf> {
    let root = std::env::var_os("GOVERNANCE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let dir = root.join("city/beijing_multisite_aq");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} not found; set GOVERNANCE_DATA_DIR to the data folder",
            dir.display()
        );
        None
    }
}

fn first_file(dir: &PathBuf) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list data folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
        .collect();
    files.sort();
    files.remove(0)
}

#[test]
fn station_file_has_all_rows_and_columns() {
    let Some(dir) = beijing_dir() else {
        return;
    };
    let path = first_file(&dir);
    let mut csv = CsvCollector::new(CsvConfig::from_paths([&path])).expect("config");
    let mut ctx = context("beijing");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(ctx.rows_read(), ROWS_PER_FILE as u64);
    assert_eq!(batches[0].data().num_columns(), 18);
    assert_eq!(batches[0].column_names()[5], "PM2.5");
    // The first 1000 rows hold only whole PM values, so later decimals in those columns are
    // quarantined under default inference; nothing is lost.
    assert_eq!(row_count(&batches) + ctx.quarantined_len(), ROWS_PER_FILE);
}

#[test]
fn full_inference_loads_every_row() {
    let Some(dir) = beijing_dir() else {
        return;
    };
    let path = first_file(&dir);
    let config = CsvConfig {
        infer_rows: 0,
        ..CsvConfig::from_paths([&path])
    };
    let mut csv = CsvCollector::new(config).expect("config");
    let mut ctx = context("beijing");

    let batches = drain(&mut csv, &mut ctx).expect("read");

    assert_eq!(
        ctx.quarantined_len(),
        0,
        "{:?}",
        ctx.take_quarantined().first()
    );
    assert_eq!(row_count(&batches), ROWS_PER_FILE);
    assert!(batches.iter().all(|batch| batch.num_rows() <= 8192));
    assert!(batches.iter().all(|batch| batch.data().num_columns() == 18));
}
