//! Reading a labelled-pairs data set in the Magellan/DeepMatcher text format.
//!
//! Each line is `COL <attr> VAL <value> ... <TAB> COL <attr> VAL <value> ... <TAB> <0|1>`: the
//! left record, the right record and whether they match. Attribute names are single tokens;
//! a value runs until the next `COL <name> VAL`. Records repeat across lines and files, so
//! distinct records become the rows of two [`RecordTable`]s and each line a [`CandidatePair`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use governance::fuse::er::{CandidatePair, RecordTable};

/// One side of a line: attribute names with their values, in line order.
type Fields = Vec<(String, String)>;

/// The labelled pairs of one file.
pub struct Split {
    /// Pairs by row position in the data set's tables.
    pub pairs: Vec<CandidatePair>,
    /// Whether each pair matches.
    pub labels: Vec<bool>,
}

/// A data set: the two tables and the train, validation and test pairs.
pub struct Dataset {
    pub name: String,
    pub left: RecordTable,
    pub right: RecordTable,
    pub train: Split,
    pub valid: Split,
    pub test: Split,
}

/// Parses one line into its left fields, right fields and label.
pub fn parse_line(
    line: &str,
    file: &Path,
    number: usize,
) -> Result<(Fields, Fields, bool), String> {
    let at = || format!("{}:{number}", file.display());
    let parts: Vec<&str> = line.split('\t').collect();
    if parts.len() != 3 {
        return Err(format!(
            "{}: expected 3 tab-separated fields (left record, right record, label 0 or 1) but \
             found {}",
            at(),
            parts.len()
        ));
    }
    let label = match parts[2].trim() {
        "1" => true,
        "0" => false,
        other => {
            return Err(format!(
                "{}: label {other:?} is not 0 or 1; the third field must be the match label",
                at()
            ));
        }
    };
    let left =
        parse_record(parts[0]).map_err(|reason| format!("{}: left record {reason}", at()))?;
    let right =
        parse_record(parts[1]).map_err(|reason| format!("{}: right record {reason}", at()))?;
    Ok((left, right, label))
}

/// Parses `COL <attr> VAL <value> ...` into fields.
fn parse_record(text: &str) -> Result<Fields, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let starts_field =
        |index: usize| words.get(index) == Some(&"COL") && words.get(index + 2) == Some(&"VAL");
    if !starts_field(0) {
        return Err(format!(
            "does not start with `COL <attribute> VAL`: {:?}",
            text.chars().take(60).collect::<String>()
        ));
    }
    let mut fields = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let name = words[index + 1].to_owned();
        let mut end = index + 3;
        while end < words.len() && !starts_field(end) {
            end += 1;
        }
        fields.push((name, words[index + 3..end].join(" ")));
        index = end;
    }
    Ok(fields)
}

/// Reads and parses a whole file.
fn read_split(path: &Path) -> Result<Vec<(Fields, Fields, bool)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        rows.push(parse_line(line, path, index + 1)?);
    }
    if rows.is_empty() {
        return Err(format!(
            "{} is empty; expected lines of `COL <attr> VAL <value> ... <TAB> COL <attr> VAL \
             <value> ... <TAB> <0|1>`",
            path.display()
        ));
    }
    Ok(rows)
}

/// Distinct records of one side, with attributes in order of first appearance.
#[derive(Default)]
struct TableBuilder {
    attributes: Vec<String>,
    rows: Vec<Fields>,
    index: HashMap<String, u32>,
}

impl TableBuilder {
    fn add(&mut self, fields: Fields) -> u32 {
        let key: String = fields
            .iter()
            .map(|(name, value)| format!("{name}\u{1}{value}\u{2}"))
            .collect();
        if let Some(&row) = self.index.get(&key) {
            return row;
        }
        for (name, _) in &fields {
            if !self.attributes.contains(name) {
                self.attributes.push(name.clone());
            }
        }
        let row = self.rows.len() as u32;
        self.rows.push(fields);
        self.index.insert(key, row);
        row
    }

    fn build(self, name: &str) -> Result<RecordTable, String> {
        let mut table =
            RecordTable::new(name, self.attributes.clone()).map_err(|error| error.to_string())?;
        for (row, fields) in self.rows.into_iter().enumerate() {
            let values = self
                .attributes
                .iter()
                .map(|attribute| {
                    fields
                        .iter()
                        .find(|(name, _)| name == attribute)
                        .map(|(_, value)| value.clone())
                })
                .collect();
            table
                .push(row.to_string(), values)
                .map_err(|error| error.to_string())?;
        }
        Ok(table)
    }
}

/// Loads `train.txt`, `valid.txt` and `test.txt` from `dir`.
pub fn load(dir: &Path) -> Result<Dataset, String> {
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut left = TableBuilder::default();
    let mut right = TableBuilder::default();
    let mut splits = Vec::new();
    for file in ["train.txt", "valid.txt", "test.txt"] {
        let path: PathBuf = dir.join(file);
        let rows = read_split(&path)?;
        let mut split = Split {
            pairs: Vec::with_capacity(rows.len()),
            labels: Vec::with_capacity(rows.len()),
        };
        for (left_fields, right_fields, label) in rows {
            split.pairs.push(CandidatePair::new(
                left.add(left_fields),
                right.add(right_fields),
            ));
            split.labels.push(label);
        }
        splits.push(split);
    }
    let left = left.build(&format!("{name} left"))?;
    let right = right.build(&format!("{name} right"))?;
    left.common_attributes(&right)
        .map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut splits = splits.into_iter();
    let (Some(train), Some(valid), Some(test)) = (splits.next(), splits.next(), splits.next())
    else {
        return Err("internal error: three splits were read but not found (this is a bug)".into());
    };
    Ok(Dataset {
        name,
        left,
        right,
        train,
        valid,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> &'static Path {
        Path::new("train.txt")
    }

    #[test]
    fn parses_fields_and_label() {
        let line = "COL title VAL web caching COL year VAL 2002 \tCOL title VAL web cache COL year VAL \t1";
        let (left, right, label) = parse_line(line, file(), 1).expect("valid line");
        assert_eq!(
            left,
            [
                ("title".into(), "web caching".into()),
                ("year".into(), "2002".into())
            ]
        );
        assert_eq!(right[1], ("year".to_string(), String::new()));
        assert!(label);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let error = parse_line("COL a VAL x", file(), 7).expect_err("no tab");
        assert!(error.contains("train.txt:7"), "{error}");
        assert!(error.contains("3 tab-separated fields"), "{error}");
        let error = parse_line("COL a VAL x\tCOL a VAL y\tyes", file(), 8).expect_err("label");
        assert!(error.contains("\"yes\" is not 0 or 1"), "{error}");
        let error = parse_line("a x\tCOL a VAL y\t0", file(), 9).expect_err("no COL");
        assert!(error.contains("left record does not start"), "{error}");
    }

    #[test]
    fn load_rejects_empty_file_and_disjoint_tables() {
        let dir = tempfile::tempdir().expect("temporary folder");
        for file in ["train.txt", "valid.txt", "test.txt"] {
            std::fs::write(dir.path().join(file), "COL a VAL x\tCOL b VAL x\t1\n").expect("write");
        }
        let error = load(dir.path()).err().expect("no common attribute");
        assert!(error.contains("no common attribute"), "{error}");
        std::fs::write(dir.path().join("valid.txt"), "\n").expect("write");
        let error = load(dir.path()).err().expect("empty file");
        assert!(error.contains("valid.txt is empty"), "{error}");
    }

    #[test]
    fn load_shares_repeated_records() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let line = "COL a VAL x\tCOL a VAL y\t1\nCOL a VAL x\tCOL a VAL z\t0\n";
        for file in ["train.txt", "valid.txt", "test.txt"] {
            std::fs::write(dir.path().join(file), line).expect("write");
        }
        let dataset = load(dir.path()).expect("valid set");
        assert_eq!(dataset.left.len(), 1);
        assert_eq!(dataset.right.len(), 2);
        assert_eq!(
            dataset.test.pairs,
            [CandidatePair::new(0, 0), CandidatePair::new(0, 1)]
        );
        assert_eq!(dataset.train.labels, [true, false]);
    }
}
