//! Plain-text tables with columns padded to their widest cell.

/// A table of text cells; numbers are right-aligned, other cells left-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Creates a table with the column titles `header`.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|title| title.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells print empty, extra cells are ignored.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders the table, one line per row after the header and a rule.
    pub fn render(&self) -> String {
        let width = |column: usize| {
            self.rows
                .iter()
                .filter_map(|row| row.get(column))
                .chain(std::iter::once(&self.header[column]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let mut text = String::new();
        let mut line = |cells: &[String]| {
            let mut parts = Vec::new();
            for (column, width) in widths.iter().enumerate() {
                let cell = cells.get(column).map_or("", String::as_str);
                let numeric = !cell.is_empty() && cell.parse::<f64>().is_ok();
                parts.push(if numeric {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                });
            }
            text.push_str(parts.join("  ").trim_end());
            text.push('\n');
        };
        line(&self.header);
        let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        line(&rule);
        for row in &self.rows {
            line(row);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_pad_to_widest_cell() {
        let mut table = Table::new(&["stage", "rows"]);
        table.push(vec!["rules".into(), "1200".into()]);
        table.push(vec!["dedupe_long".into(), "7".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "stage        rows");
        assert_eq!(lines[1], "-----------  ----");
        assert_eq!(lines[2], "rules        1200");
        assert_eq!(lines[3], "dedupe_long     7");
    }
}
