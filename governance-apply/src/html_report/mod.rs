//! [`HtmlReport`]: one self-contained HTML page with inline SVG plots of a run, built from the
//! files the [`ReportWriter`](crate::ReportWriter) writes per round (`quality.json` and
//! `findings.json`).
//!
//! The page has four plots, each a `<figure>` with an `id`:
//!
//! | id | plot |
//! |---|---|
//! | `quality-over-rounds` | mean completeness and validity of the columns per round |
//! | `issues-by-kind` | issues per kind and round |
//! | `alerts-timeline` | alerts and warnings by time and subject, coloured by round |
//! | `stage-timings` | wall time of each stage in each round |
//!
//! and tables of the rounds, of the last round's columns and of the first alerts. The page
//! loads nothing: no scripts, style sheets or fonts from elsewhere. Every text that comes from
//! the data is escaped.
//!
//! ```no_run
//! use governance_apply::HtmlReport;
//!
//! let report = HtmlReport::from_output_dir("out", "Air quality")?;
//! report.write("out/report.html")?;
//! # Ok::<(), governance_core::Error>(())
//! ```

mod plots;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use governance_core::{Error, Finding, FindingKind, Result};

use crate::output::write_atomically;
use crate::report::{FINDINGS_FILE, QUALITY_JSON_FILE, QualityReport};

/// Alerts listed in the page's alert table; the timeline plot shows all of them.
const MAX_LISTED_ALERTS: usize = 50;

/// Record of one round: its quality report and its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRecord {
    /// The round's `quality.json`.
    pub quality: QualityReport,
    /// The round's `findings.json`.
    pub findings: Vec<Finding>,
}

impl RoundRecord {
    /// Returns the round number.
    pub fn round(&self) -> u32 {
        self.quality.summary.round
    }
}

/// A run's rounds, rendered as one HTML page.
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlReport {
    title: String,
    rounds: Vec<RoundRecord>,
}

impl HtmlReport {
    /// Creates a report titled `title` with no rounds.
    pub fn new(title: impl Into<String>) -> Self {
        HtmlReport {
            title: title.into(),
            rounds: Vec::new(),
        }
    }

    /// Adds a round.
    pub fn push_round(&mut self, record: RoundRecord) {
        self.rounds.push(record);
    }

    /// Returns the rounds, in the order they were added.
    pub fn rounds(&self) -> &[RoundRecord] {
        &self.rounds
    }

    /// Reads the rounds of a report writer's output folder: every `round-<n>/` folder that
    /// contains `quality.json`, in round order, or `dir` itself when the writer wrote without
    /// round folders. A round without `findings.json` has no findings.
    ///
    /// Fails when no `quality.json` is found, naming the folder, or when a file cannot be read
    /// or parsed, naming the file.
    pub fn from_output_dir(dir: impl AsRef<Path>, title: impl Into<String>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut report = HtmlReport::new(title);
        for folder in round_folders(dir)? {
            report.push_round(read_round(&folder)?);
        }
        if report.rounds.is_empty() && dir.join(QUALITY_JSON_FILE).is_file() {
            report.push_round(read_round(dir)?);
        }
        if report.rounds.is_empty() {
            return Err(Error::InvalidInput(format!(
                "no {QUALITY_JSON_FILE} in {} or its round-<n> folders: point to the output \
                 folder of a run that had a report writer",
                dir.display()
            )));
        }
        report.rounds.sort_by_key(RoundRecord::round);
        Ok(report)
    }

    /// Renders the page.
    pub fn render(&self) -> Result<String> {
        let quality = plots::quality_over_rounds(&self.rounds)?;
        let issues = plots::issues_by_kind(&self.rounds)?;
        let (alerts, untimed) = plots::alerts_timeline(&self.rounds)?;
        let timings = plots::stage_timings(&self.rounds)?;

        let mut page = String::new();
        let title = escape(&self.title);
        // Writing to a String cannot fail, so the results of `write!` are ignored below.
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        );
        self.push_rounds_table(&mut page);
        push_figure(&mut page, "quality-over-rounds", &quality, "");
        push_figure(&mut page, "issues-by-kind", &issues, "");
        let note = if untimed > 0 {
            format!("{untimed} alerts without a parsable time are not on the timeline.")
        } else {
            String::new()
        };
        push_figure(&mut page, "alerts-timeline", &alerts, &note);
        push_figure(&mut page, "stage-timings", &timings, "");
        self.push_columns_table(&mut page);
        self.push_tiers_table(&mut page);
        self.push_alerts_table(&mut page);
        page.push_str("</body>\n</html>\n");
        Ok(page)
    }

    /// Renders the page and writes it to `path` through a temporary file in the same folder.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let page = self.render()?;
        write_atomically(path.as_ref(), page.as_bytes())
    }

    fn push_rounds_table(&self, page: &mut String) {
        page.push_str(
            "<h2>Rounds</h2>\n<table>\n<tr><th>round</th><th>rows read</th>\
             <th>rows delivered</th><th>quarantined</th><th>issues</th><th>findings</th>\
             <th>seconds</th><th>audit verified</th></tr>\n",
        );
        for record in &self.rounds {
            let summary = &record.quality.summary;
            let issues: u64 = summary.issues_by_kind.values().sum();
            let findings: u64 = summary.findings_by_kind.values().sum();
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{issues}</td>\
                 <td>{findings}</td><td>{:.3}</td><td>{}</td></tr>",
                summary.round,
                summary.rows_read,
                summary.rows_delivered,
                summary.quarantined,
                summary.seconds,
                summary.audit_verified
            );
        }
        page.push_str("</table>\n");
    }

    fn push_columns_table(&self, page: &mut String) {
        let Some(last) = self.rounds.last() else {
            return;
        };
        let _ = writeln!(
            page,
            "<h2>Columns in round {}</h2>\n<table>\n<tr><th>column</th><th>type</th>\
             <th>rows</th><th>completeness</th><th>validity</th><th>issues</th></tr>",
            last.round()
        );
        let share = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v:.4}"));
        for column in &last.quality.columns {
            let issues: u64 = column.issues_by_kind.values().sum();
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{issues}</td></tr>",
                escape(&column.name),
                escape(&column.data_type),
                column.rows,
                share(column.completeness),
                share(column.validity)
            );
        }
        page.push_str("</table>\n");
    }

    fn push_tiers_table(&self, page: &mut String) {
        let Some(last) = self.rounds.last() else {
            return;
        };
        let Some(tiers) = &last.quality.tiers else {
            return;
        };
        let _ = writeln!(page, "<h2>Quality tiers in round {}</h2>", last.round());
        if let Some(mean) = tiers.mean_score {
            let _ = writeln!(page, "<p>Mean usability score: {mean:.3}</p>");
        }
        page.push_str("<table>\n<tr><th>tier</th><th>rows</th></tr>\n");
        for (tier, count) in crate::markdown::ordered_tiers(&tiers.rows_by_tier) {
            let _ = writeln!(page, "<tr><td>{}</td><td>{count}</td></tr>", escape(tier));
        }
        page.push_str("</table>\n");
    }

    fn push_alerts_table(&self, page: &mut String) {
        let alerts: Vec<(u32, &Finding)> = self
            .rounds
            .iter()
            .flat_map(|record| {
                record
                    .findings
                    .iter()
                    .filter(|finding| {
                        matches!(finding.kind, FindingKind::Alert | FindingKind::Warning)
                    })
                    .map(move |finding| (record.round(), finding))
            })
            .collect();
        let _ = writeln!(
            page,
            "<h2>Alerts</h2>\n<p>{} alerts and warnings in all rounds{}.</p>",
            alerts.len(),
            if alerts.len() > MAX_LISTED_ALERTS {
                format!("; the first {MAX_LISTED_ALERTS} are listed")
            } else {
                String::new()
            }
        );
        if alerts.is_empty() {
            return;
        }
        page.push_str(
            "<table>\n<tr><th>round</th><th>time</th><th>subject</th><th>rule</th>\
             <th>value</th><th>threshold</th><th>message</th></tr>\n",
        );
        let number = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v}"));
        for (round, finding) in alerts.iter().take(MAX_LISTED_ALERTS) {
            let _ = writeln!(
                page,
                "<tr><td>{round}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                escape(finding.time.as_deref().unwrap_or("-")),
                escape(finding.subject.as_deref().unwrap_or("-")),
                escape(&finding.name),
                number(finding.value),
                number(finding.threshold),
                escape(&finding.message)
            );
        }
        page.push_str("</table>\n");
    }
}

/// Style of the page, inline so that the file is self-contained.
const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:60em}\
table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:right}\
td:first-child,th:first-child{text-align:left}\
figure{margin:1.5em 0}figcaption{color:#555}";

fn push_figure(page: &mut String, id: &str, svg: &str, note: &str) {
    let _ = write!(page, "<figure id=\"{id}\">\n{svg}\n");
    if !note.is_empty() {
        let _ = writeln!(page, "<figcaption>{}</figcaption>", escape(note));
    }
    page.push_str("</figure>\n");
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Lists the `round-<n>` folders of `dir` that contain `quality.json`, by round number.
fn round_folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::io(dir, source))?;
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::io(dir, source))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(round) = name
            .strip_prefix("round-")
            .and_then(|number| number.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if path.join(QUALITY_JSON_FILE).is_file() {
            folders.push((round, path));
        }
    }
    folders.sort();
    Ok(folders.into_iter().map(|(_, path)| path).collect())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
    serde_json::from_str(&text).map_err(|error| {
        Error::InvalidInput(format!(
            "{} is not a valid report file: {error}",
            path.display()
        ))
    })
}

fn read_round(folder: &Path) -> Result<RoundRecord> {
    let quality: QualityReport = read_json(&folder.join(QUALITY_JSON_FILE))?;
    let findings_path = folder.join(FINDINGS_FILE);
    let findings = if findings_path.is_file() {
        read_json(&findings_path)?
    } else {
        Vec::new()
    };
    Ok(RoundRecord { quality, findings })
}

#[cfg(test)]
mod tests;
