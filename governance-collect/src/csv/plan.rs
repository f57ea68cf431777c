//! The read plan of a CSV collector: which files, their shared header, each column's type and
//! the projected output schema. Built once per round, before the first row is read, so that a
//! header mismatch in the last file fails the round before any batch is emitted.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use governance_core::{Error, Result};

use super::CsvConfig;
use super::schema::{CsvType, InferOptions, infer_types};
use crate::files::resolve_files;

/// The files, header and output schema of one round of a CSV collector.
#[derive(Debug, Clone)]
pub(crate) struct ReadPlan {
    pub files: Vec<PathBuf>,
    /// Every column of the files, in file order.
    pub header: Vec<String>,
    /// Indices into `header` of the output columns, in output order.
    pub projection: Vec<usize>,
    /// Types of the output columns.
    pub output_types: Vec<CsvType>,
    pub schema: SchemaRef,
}

impl ReadPlan {
    pub(crate) fn build(config: &CsvConfig) -> Result<ReadPlan> {
        let files = resolve_files(
            &config.name,
            &config.paths,
            config.dir.as_deref(),
            &config.suffix,
        )?;
        let delimiter = config.delimiter_byte()?;
        let header = shared_header(&files, config, delimiter)?;
        let types = column_types(&files, &header, config, delimiter)?;
        let projection = projection(&files[0], &header, config.columns.as_deref())?;
        let output_types: Vec<CsvType> = projection.iter().map(|&index| types[index]).collect();
        let fields: Vec<Field> = projection
            .iter()
            .map(|&index| Field::new(&header[index], types[index].arrow_type(), true))
            .collect();
        Ok(ReadPlan {
            files,
            header,
            projection,
            output_types,
            schema: Arc::new(Schema::new(fields)),
        })
    }
}

/// Reads the first record of `path` as text. With a header this is the header line.
pub(crate) fn read_first_record(path: &Path, delimiter: u8) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut record = ::csv::ByteRecord::new();
    let more = reader
        .read_byte_record(&mut record)
        .map_err(|error| super::read_error(path, error))?;
    if !more {
        return Err(Error::InvalidInput(format!(
            "file {} is empty: expected a header line",
            path.display()
        )));
    }
    decode_header(path, &record)
}

/// Decodes a header record, dropping a byte-order mark that survived the CSV parser (it
/// strips one only when the whole mark sits in its first read buffer).
pub(crate) fn decode_header(path: &Path, record: &::csv::ByteRecord) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(record.len());
    for (index, bytes) in record.iter().enumerate() {
        let name = std::str::from_utf8(bytes).map_err(|error| {
            Error::InvalidInput(format!(
                "file {} has a header that is not valid UTF-8 in column {} (byte {}): save \
                 the file as UTF-8",
                path.display(),
                index + 1,
                error.valid_up_to()
            ))
        })?;
        let name = if index == 0 {
            name.trim_start_matches('\u{feff}')
        } else {
            name
        };
        names.push(name.to_string());
    }
    Ok(names)
}

fn shared_header(files: &[PathBuf], config: &CsvConfig, delimiter: u8) -> Result<Vec<String>> {
    let first = read_first_record(&files[0], delimiter)?;
    if !config.has_header {
        return headerless_names(&files[0], first.len(), config);
    }
    check_unique(&files[0], &first)?;
    for path in &files[1..] {
        let header = read_first_record(path, delimiter)?;
        if header != first {
            return Err(Error::InvalidInput(format!(
                "file {} has a different header than {}: expected columns [{}], found [{}]",
                path.display(),
                files[0].display(),
                first.join(", "),
                header.join(", ")
            )));
        }
    }
    Ok(first)
}

/// Names the columns of files without a header: from the explicit schema when it has one
/// entry per field, else `column_1`, `column_2`, and so on.
fn headerless_names(path: &Path, width: usize, config: &CsvConfig) -> Result<Vec<String>> {
    match &config.schema {
        Some(schema) if schema.len() == width => {
            Ok(schema.iter().map(|column| column.name.clone()).collect())
        }
        Some(schema) => Err(Error::config(
            &config.name,
            format!(
                "`schema` declares {} columns but the first row of {} has {width} fields: \
                 without a header, declare one column per field in file order",
                schema.len(),
                path.display()
            ),
        )),
        None => Ok((1..=width).map(|index| format!("column_{index}")).collect()),
    }
}

fn check_unique(path: &Path, header: &[String]) -> Result<()> {
    let mut seen = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), index) {
            return Err(Error::InvalidInput(format!(
                "file {} names column {name:?} twice (columns {} and {}): rename one of them",
                path.display(),
                first + 1,
                index + 1
            )));
        }
    }
    Ok(())
}

/// Returns the type of every header column: declared in `schema`, else inferred.
fn column_types(
    files: &[PathBuf],
    header: &[String],
    config: &CsvConfig,
    delimiter: u8,
) -> Result<Vec<CsvType>> {
    let declared: HashMap<&str, CsvType> = config
        .schema
        .iter()
        .flatten()
        .map(|column| (column.name.as_str(), column.data_type))
        .collect();
    let missing: Vec<&str> = config
        .schema
        .iter()
        .flatten()
        .map(|column| column.name.as_str())
        .filter(|name| !header.iter().any(|found| found == name))
        .collect();
    if !missing.is_empty() {
        let expected: Vec<&str> = config
            .schema
            .iter()
            .flatten()
            .map(|column| column.name.as_str())
            .collect();
        return Err(Error::InvalidInput(format!(
            "file {} has no column {} declared in `schema`: expected columns [{}], found \
             [{}]; fix the header or the schema",
            files[0].display(),
            missing.join(", "),
            expected.join(", "),
            header.join(", ")
        )));
    }
    if header
        .iter()
        .all(|name| declared.contains_key(name.as_str()))
    {
        return Ok(header.iter().map(|name| declared[name.as_str()]).collect());
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let options = InferOptions {
        delimiter,
        has_header: config.has_header,
        na_tokens: &config.na_tokens,
        max_rows: config.infer_rows,
    };
    let inferred = infer_types(&paths, header.len(), &options)?;
    Ok(header
        .iter()
        .zip(inferred)
        .map(|(name, guess)| declared.get(name.as_str()).copied().unwrap_or(guess))
        .collect())
}

fn projection(path: &Path, header: &[String], columns: Option<&[String]>) -> Result<Vec<usize>> {
    let Some(columns) = columns else {
        return Ok((0..header.len()).collect());
    };
    columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|found| found == name)
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "column {name:?} listed in `columns` not found in {}; columns are: {}",
                        path.display(),
                        header.join(", ")
                    ))
                })
        })
        .collect()
}
