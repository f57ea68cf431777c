//! Reading of the two record tables and the matching id pairs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use governance::fuse::er::{CandidatePair, RecordTable};

/// One linkage task: two tables whose first column is the record id, and a truth file.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub left: PathBuf,
    pub right: PathBuf,
    pub truth: PathBuf,
    pub separator: u8,
}

/// Rows that could not be read, reported rather than dropped silently.
#[derive(Debug, Default)]
pub struct Skipped {
    pub lines: Vec<(String, u64, String)>,
}

/// Lists the benchmark's three data sets: Abt-Buy, Amazon-GoogleProducts and DBLP-ACM, whose
/// truth files list the left id under `D1` and the right id under `D2`.
pub fn standard_tasks(root: &Path) -> Vec<Task> {
    let task = |name: &str, left: &str, right: &str, separator: u8| Task {
        name: name.to_owned(),
        left: root.join(name).join(left),
        right: root.join(name).join(right),
        truth: root.join(name).join("gt.csv"),
        separator,
    };
    vec![
        task("D2", "abt.csv", "buy.csv", b'|'),
        task("D3", "amazon.csv", "gp.csv", b'#'),
        task("D4", "dblp.csv", "acm.csv", b'%'),
    ]
}

fn reader(path: &Path, separator: u8) -> Result<csv::Reader<std::fs::File>, String> {
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|err| format!("failed to open {}: {err}", path.display()))
}

/// Reads a table whose first column is the record id. A row with another number of fields
/// than the header is kept when it has at least as many (extra fields are joined into the
/// last attribute) and reported in `skipped` either way.
pub fn read_table(
    path: &Path,
    separator: u8,
    skipped: &mut Skipped,
) -> Result<RecordTable, String> {
    let mut reader = reader(path, separator)?;
    let headers = reader
        .headers()
        .map_err(|err| format!("failed to read the header of {}: {err}", path.display()))?
        .clone();
    if headers.len() < 2 {
        return Err(format!(
            "{} has {} column(s) with separator '{}'; expected an id column and at least one \
             attribute, so check --separator",
            path.display(),
            headers.len(),
            separator as char
        ));
    }
    let attributes: Vec<String> = headers.iter().skip(1).map(str::to_owned).collect();
    let name = path.file_stem().map_or_else(
        || "table".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let mut table = RecordTable::new(name, attributes).map_err(|err| err.to_string())?;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |position| position.line());
                skipped
                    .lines
                    .push((path.display().to_string(), line, err.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, |position| position.line());
        if record.len() != headers.len() {
            skipped.lines.push((
                path.display().to_string(),
                line,
                format!("{} fields for {} columns", record.len(), headers.len()),
            ));
            if record.len() < headers.len() {
                continue;
            }
        }
        let id = record.get(0).unwrap_or_default().trim().to_owned();
        let mut values: Vec<Option<String>> = record
            .iter()
            .skip(1)
            .take(headers.len() - 1)
            .map(|value| Some(value.to_owned()))
            .collect();
        if record.len() > headers.len() {
            let extra: Vec<&str> = record.iter().skip(headers.len()).collect();
            if let Some(Some(last)) = values.last_mut() {
                last.push(' ');
                last.push_str(&extra.join(" "));
            }
        }
        table.push(id, values).map_err(|err| err.to_string())?;
    }
    Ok(table)
}

fn positions(table: &RecordTable) -> HashMap<&str, u32> {
    table
        .ids()
        .iter()
        .enumerate()
        .map(|(row, id)| (id.as_str(), row as u32))
        .collect()
}

/// Reads the truth file (two id columns, left then right) as pairs of row positions. Ids
/// that name no record are counted and returned as an error message when any exist.
pub fn read_truth(
    path: &Path,
    separator: u8,
    left: &RecordTable,
    right: &RecordTable,
) -> Result<(Vec<CandidatePair>, u64), String> {
    let (left_rows, right_rows) = (positions(left), positions(right));
    let mut reader = reader(path, separator)?;
    let mut pairs = Vec::new();
    let mut unknown = 0;
    for record in reader.records() {
        let record = record.map_err(|err| format!("failed to read {}: {err}", path.display()))?;
        let (Some(a), Some(b)) = (record.get(0), record.get(1)) else {
            return Err(format!(
                "{} has a row with fewer than two ids; expected left id and right id",
                path.display()
            ));
        };
        match (left_rows.get(a.trim()), right_rows.get(b.trim())) {
            (Some(&l), Some(&r)) => pairs.push(CandidatePair::new(l, r)),
            _ => unknown += 1,
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    Ok((pairs, unknown))
}
