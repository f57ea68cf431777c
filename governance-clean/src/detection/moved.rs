//! The moved-value detector fires on a cell that contains, whole or as its first or last
//! words, a value of another column whose own cell in the same row is missing. That is the
//! trace of a value that slid into a neighbouring field, or of two fields merged into one,
//! such as a city written with its state code while the state is blank.

use std::collections::HashSet;

use super::table::{CellTable, Interned, is_missing_token};

/// Characters trimmed from the ends of a part before it is looked up, so that
/// `"Madison, WI"` yields `"Madison"` and `"WI"`.
const SEPARATORS: &[char] = &[',', ';', '/', '|', '-', ':'];

/// Per column, the values a cell of another column is checked for. A value counts when it is
/// in at least two rows (so one stray cell is not the column's vocabulary) and contains a
/// letter, because numbers of different columns coincide by chance far too often.
pub(crate) struct Vocabularies<'a> {
    values: Vec<HashSet<&'a str>>,
}

impl<'a> Vocabularies<'a> {
    pub fn of(interned: &'a [Interned]) -> Vocabularies<'a> {
        let values = interned
            .iter()
            .map(|column| {
                column
                    .values
                    .iter()
                    .zip(&column.counts)
                    .filter(|(value, count)| {
                        **count >= 2
                            && !is_missing_token(value)
                            && value.chars().any(char::is_alphabetic)
                    })
                    .map(|(value, _)| value.trim())
                    .collect()
            })
            .collect();
        Vocabularies { values }
    }

    /// Marks each row of `column` whose cell contains a value of another column that is
    /// missing in that row.
    pub fn moved_into(&self, table: &CellTable, column: usize) -> Vec<bool> {
        let others: Vec<usize> = (0..table.columns.len())
            .filter(|&other| other != column && !self.values[other].is_empty())
            .collect();
        (0..table.rows)
            .map(|row| {
                let value = table.columns[column][row].trim();
                if is_missing_token(value) {
                    return false;
                }
                others.iter().any(|&other| {
                    is_missing_token(&table.columns[other][row])
                        && contains_value(value, &self.values[other])
                })
            })
            .collect()
    }
}

/// Returns true when `value`, or the words before or after one of its whitespace runs, is in
/// `vocabulary`.
fn contains_value(value: &str, vocabulary: &HashSet<&str>) -> bool {
    if vocabulary.contains(value) {
        return true;
    }
    let boundaries = value
        .char_indices()
        .filter(|(_, character)| character.is_whitespace())
        .map(|(index, character)| (index, index + character.len_utf8()));
    for (start, end) in boundaries {
        let head = value[..start].trim().trim_end_matches(SEPARATORS).trim();
        let tail = value[end..].trim().trim_start_matches(SEPARATORS).trim();
        if (!head.is_empty() && vocabulary.contains(head))
            || (!tail.is_empty() && vocabulary.contains(tail))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[(&str, Vec<&str>)]) -> CellTable {
        CellTable {
            names: columns.iter().map(|(name, _)| name.to_string()).collect(),
            columns: columns
                .iter()
                .map(|(_, values)| values.iter().map(|value| value.to_string()).collect())
                .collect(),
            rows: columns.first().map_or(0, |(_, values)| values.len()),
        }
    }

    fn moved(table: &CellTable, column: usize) -> Vec<bool> {
        let interned: Vec<Interned> = table
            .columns
            .iter()
            .map(|values| Interned::of(values))
            .collect();
        Vocabularies::of(&interned).moved_into(table, column)
    }

    #[test]
    fn state_merged_into_city_is_found() {
        let table = table(&[
            (
                "city",
                vec![
                    "Bend",
                    "Verona",
                    "Madison, WI",
                    "Bend",
                    "Verona OR",
                    "Salem OR",
                ],
            ),
            ("state", vec!["OR", "WI", "", "OR", "WI", "OR"]),
        ]);
        assert_eq!(
            moved(&table, 0),
            vec![false, false, true, false, false, false]
        );
    }

    #[test]
    fn whole_value_in_wrong_column_is_found() {
        let table = table(&[
            ("city", vec!["Bend", "Bend", "OR", "Gary"]),
            ("state", vec!["OR", "OR", "n/a", "IN"]),
        ]);
        assert_eq!(moved(&table, 0), vec![false, false, true, false]);
    }

    #[test]
    fn numbers_and_single_values_do_not_count() {
        let table = table(&[
            ("code", vec!["12 a", "12 b", "Zed x", "7"]),
            ("size", vec!["12", "12", "", ""]),
            ("name", vec!["Zed", "Amy", "", "Bo"]),
        ]);
        // "12" has no letter, and "Zed" is in one row only.
        assert_eq!(moved(&table, 0), vec![false, false, false, false]);
    }

    #[test]
    fn missing_cells_are_not_marked() {
        let table = table(&[("a", vec!["", "N/A", "x"]), ("b", vec!["x", "x", ""])]);
        let flags = moved(&table, 0);
        assert!(!flags[0], "a blank cell is not marked");
        assert!(!flags[1], "a missing-value token is not marked");
        assert!(flags[2], "\"x\" is a value of b, which is blank in row 2");
    }
}
