//! The prompt sent to the chat model, and the extraction of SQL from its reply.

use std::fmt::Write as _;

use governance_core::chat::ChatMessage;

use super::policy::AllowedTable;

/// Builds the conversation for `question`. The schema lists only the allowed columns, so the
/// model never sees the names of hidden tables or columns.
pub(crate) fn build_messages(
    question: &str,
    tables: &[AllowedTable],
    max_rows: u64,
) -> Vec<ChatMessage> {
    let mut schema = String::new();
    for table in tables {
        let columns: Vec<String> = table
            .columns
            .iter()
            .filter_map(|name| {
                let field = table.schema.field_with_name(name).ok()?;
                Some(format!("{} {}", quote_if_needed(name), field.data_type()))
            })
            .collect();
        // `fmt::Write` for String never returns an error.
        let _ = writeln!(
            schema,
            "- {}({})",
            quote_if_needed(&table.name),
            columns.join(", ")
        );
    }
    let system = format!(
        "You write one SQL query for Apache DataFusion that answers the user's question.\n\
         Tables you may read, with their columns and Arrow types:\n{schema}\
         Rules: write a single SELECT or WITH query and nothing else; use only the tables \
         and columns above; put double quotes around names that have capitals, dots or \
         spaces; at most {max_rows} rows are returned.\n\
         Reply with the query in a ```sql code block."
    );
    vec![ChatMessage::system(system), ChatMessage::user(question)]
}

/// Returns `name` in double quotes unless it is a lowercase SQL identifier.
fn quote_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Extracts the SQL from a reply: the first fenced block tagged `sql`, else the first fenced
/// block, else the whole reply. Returns `None` when nothing is left after trimming.
pub(crate) fn extract_sql(reply: &str) -> Option<String> {
    let blocks = fenced_blocks(reply);
    let chosen = blocks
        .iter()
        .find(|(tag, _)| tag.eq_ignore_ascii_case("sql"))
        .or_else(|| blocks.first())
        .map(|(_, body)| body.as_str())
        .unwrap_or(reply);
    let sql = chosen.trim();
    (!sql.is_empty()).then(|| sql.to_string())
}

/// Returns the fenced code blocks of `text` as (info tag, body). An unclosed fence runs to
/// the end of the text.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match current.take() {
            None => {
                if let Some(tag) = trimmed.strip_prefix("```") {
                    current = Some((tag.trim().to_string(), String::new()));
                }
            }
            Some((tag, mut body)) => {
                if trimmed.starts_with("```") {
                    blocks.push((tag, body));
                } else {
                    body.push_str(line);
                    body.push('\n');
                    current = Some((tag, body));
                }
            }
        }
    }
    if let Some(block) = current {
        blocks.push(block);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_reply_is_sql() {
        assert_eq!(extract_sql("  SELECT 1;\n").as_deref(), Some("SELECT 1;"));
    }

    #[test]
    fn sql_block_wins_over_prose() {
        let reply = "Sure. First a sketch:\n```text\nnot this\n```\nThe query:\n```SQL\nSELECT a\nFROM t\n```\nDone.";
        assert_eq!(extract_sql(reply).as_deref(), Some("SELECT a\nFROM t"));
    }

    #[test]
    fn untagged_block_is_used() {
        let reply = "Here:\n```\nSELECT 2\n```";
        assert_eq!(extract_sql(reply).as_deref(), Some("SELECT 2"));
    }

    #[test]
    fn unclosed_block_runs_to_end() {
        assert_eq!(extract_sql("```sql\nSELECT 3").as_deref(), Some("SELECT 3"));
    }

    #[test]
    fn empty_reply_has_no_sql() {
        assert_eq!(extract_sql("  \n"), None);
        assert_eq!(extract_sql("```sql\n```"), None);
    }

    #[test]
    fn names_quoted_when_needed() {
        assert_eq!(quote_if_needed("station"), "station");
        assert_eq!(quote_if_needed("PM2.5"), "\"PM2.5\"");
        assert_eq!(quote_if_needed("no2_ugm3"), "no2_ugm3");
    }
}
