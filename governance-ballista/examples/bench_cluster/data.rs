//! The benchmark input: the synthetic city's sensor readings as Parquet files, written once
//! and reused while the folder contains a matching manifest.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use governance_collect::{SyntheticCity, SyntheticConfig};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

/// Name of the file, written last, that marks a complete input folder.
const MANIFEST: &str = "manifest.json";

/// Name of the folder, inside the data folder, that contains the Parquet files.
const SENSORS: &str = "sensors";

/// Name of the folder, inside the data folder, that contains the cluster processes' output.
const LOGS: &str = "cluster-logs";

/// Name of the file with the pseudonym key. The key is a fixed throwaway value, because
/// the benchmark measures speed and its output is discarded.
const KEY_FILE: &str = "pseudonym.key";
const BENCH_KEY_HEX: &str = "6b1f0c3a9d2e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5a6b7c8d9eafb0c1d2";

/// Rows per Parquet row group, small enough that a scan splits a file between tasks.
const ROW_GROUP_ROWS: usize = 131_072;

/// The contents of an input folder, compared with the options before the files are reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scale: u32,
    pub days: u32,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
}

/// The Parquet input of a run and what was done to get it.
#[derive(Debug)]
pub struct Input {
    pub sensors: PathBuf,
    pub key_file: PathBuf,
    pub manifest: Manifest,
    /// Seconds spent generating and writing, or `None` when the folder was reused.
    pub write_seconds: Option<f64>,
}

/// Returns the station names of the city at `scale`, for the allowed-values rule.
pub fn stations(scale: u32, days: u32) -> Result<Vec<String>, String> {
    Ok(city(scale, days)?.stations().to_vec())
}

fn city(scale: u32, days: u32) -> Result<SyntheticCity, String> {
    SyntheticCity::new(SyntheticConfig {
        scale,
        days,
        ..SyntheticConfig::default()
    })
    .map_err(|error| format!("invalid synthetic city (scale {scale}, {days} days): {error}"))
}

/// Reuses the input in `dir` when its manifest matches `scale`, `days` and `files`, and
/// writes it otherwise. Writing replaces whatever the sensor folder held.
pub fn prepare(dir: &Path, scale: u32, days: u32, files: usize) -> Result<Input, String> {
    let sensors = dir.join(SENSORS);
    let key_file = dir.join(KEY_FILE);
    let manifest_path = dir.join(MANIFEST);
    if let Ok(text) = std::fs::read_to_string(&manifest_path)
        && let Ok(manifest) = serde_json::from_str::<Manifest>(&text)
        && manifest.scale == scale
        && manifest.days == days
        && manifest.files == files
        && key_file.is_file()
    {
        return Ok(Input {
            sensors,
            key_file,
            manifest,
            write_seconds: None,
        });
    }

    let started = Instant::now();
    // An old manifest would mark a half-written folder as complete.
    remove_if_present(&manifest_path)?;
    if sensors.exists() {
        std::fs::remove_dir_all(&sensors)
            .map_err(|error| format!("removing {} failed: {error}", sensors.display()))?;
    }
    std::fs::create_dir_all(&sensors)
        .map_err(|error| format!("creating {} failed: {error}", sensors.display()))?;
    std::fs::write(&key_file, BENCH_KEY_HEX)
        .map_err(|error| format!("writing {} failed: {error}", key_file.display()))?;

    let city = city(scale, days)?;
    let batches = city.batch_count();
    let files = files.max(1);
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut rows = 0u64;
    let mut bytes = 0u64;
    for file_index in 0..files {
        // File `f` contains the contiguous batch range [f * B / F, (f + 1) * B / F).
        let first = file_index as u64 * batches / files as u64;
        let end = (file_index as u64 + 1) * batches / files as u64;
        let path = sensors.join(format!("sensors-{file_index:04}.parquet"));
        let file = File::create(&path)
            .map_err(|error| format!("creating {} failed: {error}", path.display()))?;
        let mut writer = ArrowWriter::try_new(
            file,
            SyntheticCity::sensor_schema(),
            Some(properties.clone()),
        )
        .map_err(|error| format!("{}: {error}", path.display()))?;
        for index in first..end {
            let batch = city
                .sensor_batch(index)
                .map_err(|error| format!("generating sensor batch {index} failed: {error}"))?;
            rows += batch.num_rows() as u64;
            writer
                .write(batch.data())
                .map_err(|error| format!("writing {} failed: {error}", path.display()))?;
        }
        writer
            .close()
            .map_err(|error| format!("closing {} failed: {error}", path.display()))?;
        bytes += std::fs::metadata(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?
            .len();
    }

    let manifest = Manifest {
        scale,
        days,
        files,
        rows,
        bytes,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|error| error.to_string())?;
    std::fs::write(&manifest_path, text)
        .map_err(|error| format!("writing {} failed: {error}", manifest_path.display()))?;
    Ok(Input {
        sensors,
        key_file,
        manifest,
        write_seconds: Some(started.elapsed().as_secs_f64()),
    })
}

/// Returns the folder for the process output of a cluster of `executors` executors.
pub fn log_dir(dir: &Path, executors: usize) -> PathBuf {
    dir.join(LOGS).join(format!("executors-{executors}"))
}

/// Deletes what [`prepare`] and the clusters wrote into `dir`, and `dir` itself when that leaves it empty.
pub fn remove(dir: &Path) -> Result<(), String> {
    remove_if_present(&dir.join(MANIFEST))?;
    remove_if_present(&dir.join(KEY_FILE))?;
    for folder in [dir.join(SENSORS), dir.join(LOGS)] {
        if folder.exists() {
            std::fs::remove_dir_all(&folder)
                .map_err(|error| format!("removing {} failed: {error}", folder.display()))?;
        }
    }
    // A folder that still contains other files is left in place.
    let _ = std::fs::remove_dir(dir);
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("removing {} failed: {error}", path.display())),
    }
}
