//! Column types of CSV input: explicit declarations, inference from the first rows, and
//! parsing one field as its column's type.
//!
//! Inference looks at each column's non-missing values and picks the narrowest type that
//! fits them all, in the order Int64, Float64, Boolean, Utf8. A column that mixes integers
//! and decimals is therefore Float64, and a column with no values at all is Utf8, which
//! accepts anything later rows hold.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use arrow::datatypes::DataType;
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The type of a CSV column once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvType {
    /// 64-bit signed integers, such as `2013` or `-4`.
    Int64,
    /// 64-bit floats, such as `3.5`, `1e-3` or `12`.
    Float64,
    /// Booleans: `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n` or `1`/`0`, in any case.
    /// Inference picks Boolean only for columns of `true` and `false`.
    Boolean,
    /// UTF-8 text, kept as read.
    Utf8,
}

impl CsvType {
    /// Returns the Arrow type of the column.
    pub fn arrow_type(self) -> DataType {
        match self {
            CsvType::Int64 => DataType::Int64,
            CsvType::Float64 => DataType::Float64,
            CsvType::Boolean => DataType::Boolean,
            CsvType::Utf8 => DataType::Utf8,
        }
    }

    /// Returns the type's name as written in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvType::Int64 => "int64",
            CsvType::Float64 => "float64",
            CsvType::Boolean => "boolean",
            CsvType::Utf8 => "utf8",
        }
    }
}

/// One column of an explicit schema: its header name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name as it appears in the header.
    pub name: String,
    /// Type to parse the column's values as.
    #[serde(rename = "type")]
    pub data_type: CsvType,
}

impl ColumnSpec {
    /// Creates a column declaration.
    pub fn new(name: impl Into<String>, data_type: CsvType) -> Self {
        ColumnSpec {
            name: name.into(),
            data_type,
        }
    }
}

/// One parsed field, borrowed from the record until it is appended to a column builder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
}

/// Returns true when `value`, trimmed of surrounding whitespace, is one of the NA tokens.
pub(crate) fn is_na(value: &str, na_tokens: &[String]) -> bool {
    let trimmed = value.trim();
    na_tokens.iter().any(|token| token.trim() == trimmed)
}

/// Parses one non-missing field as `data_type`; `None` means the value does not fit.
pub(crate) fn parse_cell(value: &str, data_type: CsvType) -> Option<Cell<'_>> {
    let trimmed = value.trim();
    match data_type {
        CsvType::Int64 => trimmed.parse::<i64>().ok().map(Cell::Int),
        CsvType::Float64 => trimmed.parse::<f64>().ok().map(Cell::Float),
        CsvType::Boolean => parse_bool(trimmed).map(Cell::Bool),
        // Text keeps its whitespace: it may be meaningful, and cleaners canonicalise it.
        CsvType::Utf8 => Some(Cell::Text(value)),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    if TRUE.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Some(true)
    } else if FALSE.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Some(false)
    } else {
        None
    }
}

/// The types that every value of one column seen so far still fits.
#[derive(Debug, Clone, Copy)]
struct Candidates {
    int: bool,
    float: bool,
    boolean: bool,
    seen: bool,
}

impl Candidates {
    const ANY: Candidates = Candidates {
        int: true,
        float: true,
        boolean: true,
        seen: false,
    };

    fn observe(&mut self, value: &str) {
        let trimmed = value.trim();
        self.seen = true;
        self.int = self.int && trimmed.parse::<i64>().is_ok();
        self.float = self.float && trimmed.parse::<f64>().is_ok();
        self.boolean = self.boolean
            && (trimmed.eq_ignore_ascii_case("true") || trimmed.eq_ignore_ascii_case("false"));
    }

    fn decide(self) -> CsvType {
        if !self.seen {
            CsvType::Utf8
        } else if self.int {
            CsvType::Int64
        } else if self.float {
            CsvType::Float64
        } else if self.boolean {
            CsvType::Boolean
        } else {
            CsvType::Utf8
        }
    }
}

/// Settings that inference shares with the reader.
pub(crate) struct InferOptions<'a> {
    pub delimiter: u8,
    pub has_header: bool,
    pub na_tokens: &'a [String],
    /// Rows to look at; 0 means every row of every file.
    pub max_rows: usize,
}

/// Infers the type of each of `width` columns from the data rows of `files`.
///
/// Rows whose field count differs from `width` or that are not valid UTF-8 are skipped here;
/// the reader quarantines them later. Only the first file is read unless `max_rows` is 0.
pub(crate) fn infer_types(
    files: &[&Path],
    width: usize,
    options: &InferOptions<'_>,
) -> Result<Vec<CsvType>> {
    let mut columns = vec![Candidates::ANY; width];
    let mut rows = 0usize;
    let files = if options.max_rows == 0 {
        files
    } else {
        &files[..files.len().min(1)]
    };
    'files: for path in files {
        let file = File::open(path).map_err(|source| Error::io(*path, source))?;
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(options.has_header)
            .flexible(true)
            .from_reader(BufReader::new(file));
        let mut record = ::csv::ByteRecord::new();
        loop {
            if options.max_rows != 0 && rows >= options.max_rows {
                break 'files;
            }
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|error| super::read_error(path, error))?;
            if !more {
                break;
            }
            rows += 1;
            if record.len() != width {
                continue;
            }
            let Ok(fields) = record
                .iter()
                .map(std::str::from_utf8)
                .collect::<std::result::Result<Vec<&str>, _>>()
            else {
                continue;
            };
            for (candidates, value) in columns.iter_mut().zip(fields) {
                if !is_na(value, options.na_tokens) {
                    candidates.observe(value);
                }
            }
        }
    }
    Ok(columns.into_iter().map(Candidates::decide).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&str]) -> CsvType {
        let na = vec!["".to_string(), "NA".to_string()];
        let mut candidates = Candidates::ANY;
        for value in values {
            if !is_na(value, &na) {
                candidates.observe(value);
            }
        }
        candidates.decide()
    }

    #[test]
    fn inference_picks_narrowest_type() {
        assert_eq!(infer(&["1", "2", "NA"]), CsvType::Int64);
        assert_eq!(infer(&["1", "2.5"]), CsvType::Float64);
        assert_eq!(infer(&["true", "FALSE", ""]), CsvType::Boolean);
        assert_eq!(infer(&["1", "abc"]), CsvType::Utf8);
        assert_eq!(infer(&["NA", ""]), CsvType::Utf8);
    }

    #[test]
    fn zero_and_one_stay_integers() {
        assert_eq!(infer(&["0", "1", "1"]), CsvType::Int64);
    }

    #[test]
    fn cells_parse_by_type() {
        assert_eq!(parse_cell(" 42 ", CsvType::Int64), Some(Cell::Int(42)));
        assert_eq!(parse_cell("4.5", CsvType::Int64), None);
        assert_eq!(
            parse_cell("1e3", CsvType::Float64),
            Some(Cell::Float(1000.0))
        );
        assert_eq!(parse_cell("abc", CsvType::Float64), None);
        assert_eq!(parse_cell("Yes", CsvType::Boolean), Some(Cell::Bool(true)));
        assert_eq!(parse_cell(" a ", CsvType::Utf8), Some(Cell::Text(" a ")));
    }

    #[test]
    fn na_tokens_match_after_trimming() {
        let na = vec!["NA".to_string()];
        assert!(is_na(" NA ", &na));
        assert!(!is_na("NAN", &na));
    }

    #[test]
    fn type_names_round_trip_through_serde() {
        let spec: ColumnSpec =
            serde_json::from_str(r#"{"name":"PM2.5","type":"float64"}"#).expect("parse");
        assert_eq!(spec, ColumnSpec::new("PM2.5", CsvType::Float64));
        assert_eq!(CsvType::Float64.as_str(), "float64");
    }
}
