//! [`ReportWriter`]: gathers per-column quality statistics while the data streams past and, when
//! the round finishes, writes the round's quality report, findings, lineage, quarantine and
//! summary as files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Error, FindingKind, GovernedBatch, IssueKind, QuarantinedRow, Result, RunSummary,
    Severity, Stage, StageContext, StageReport,
};
use serde::{Deserialize, Serialize};

use crate::markdown::render_quality;
use crate::output::{OutputLayout, write_atomically};
use crate::quality::{ColumnQuality, QualityStats, TierSummary};

/// Default stage name of a [`ReportWriter`].
pub const REPORT_WRITER_NAME: &str = "report";
/// File name of the run summary, in each round's folder and at the top of the output folder.
pub const SUMMARY_FILE: &str = "summary.json";
/// File name of the quality report as JSON.
pub const QUALITY_JSON_FILE: &str = "quality.json";
/// File name of the quality report as Markdown.
pub const QUALITY_MARKDOWN_FILE: &str = "quality.md";
/// File name of the analyzers' findings.
pub const FINDINGS_FILE: &str = "findings.json";
/// File name of the round's lineage records.
pub const LINEAGE_FILE: &str = "lineage.json";
/// File name of the quarantined rows, one JSON object per line.
pub const QUARANTINE_FILE: &str = "quarantine.jsonl";

/// Configuration of a [`ReportWriter`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportWriterConfig {
    /// Output folder. Created, with its parents, when a round finishes.
    pub dir: PathBuf,
    /// Writes each round into `dir/round-<n>/` when true (the default). When false every round
    /// replaces the files directly in `dir`. Either way `dir/summary.json` contains the latest
    /// round's summary.
    #[serde(default = "default_true")]
    pub per_round_subdir: bool,
    /// Writes each quarantined record's raw text into `quarantine.jsonl` when true (the
    /// default). Set it to false when the raw records may hold personal data that must not
    /// reach the report folder; `raw` is then `null`.
    #[serde(default = "default_true")]
    pub quarantine_raw: bool,
}

fn default_true() -> bool {
    true
}

impl ReportWriterConfig {
    /// Creates a config that writes into `dir` with the default settings.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ReportWriterConfig {
            dir: dir.into(),
            per_round_subdir: true,
            quarantine_raw: true,
        }
    }
}

/// The contents of `summary.json`: what one round did, in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryReport {
    /// Round number, from 1.
    pub round: u32,
    /// Per-stage counts and times, in chain order.
    pub stages: Vec<StageReport>,
    /// Whether the audit log verified at the end of the round.
    pub audit_verified: bool,
    /// Rows the collector read, including those it quarantined.
    pub rows_read: u64,
    /// Rows that reached the applicators.
    pub rows_delivered: u64,
    /// Wall time of the round in seconds, up to the applicators' `finish`.
    pub seconds: f64,
    /// `rows_read / seconds`, or 0 when no time was measured.
    pub rows_per_second: f64,
    /// Issues that reached the end of the chain, by kind.
    pub issues_by_kind: BTreeMap<IssueKind, u64>,
    /// Findings of all analyzers, by kind.
    pub findings_by_kind: BTreeMap<FindingKind, u64>,
    /// Rows quarantined by any stage.
    pub quarantined: u64,
    /// Rows quarantined outside the chain before this round, such as by a side source that
    /// was read before the first round. `quarantine.jsonl` lists them after the chain's own.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quarantined_outside_chain: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl SummaryReport {
    /// Builds the summary of `summary`'s round.
    pub fn from_summary(summary: &RunSummary) -> Self {
        let rows_read = summary
            .stages
            .iter()
            .find(|stage| stage.kind == "collector")
            .map_or(0, |stage| stage.rows_in);
        let rows_per_second = if summary.seconds > 0.0 {
            rows_read as f64 / summary.seconds
        } else {
            0.0
        };
        let mut findings_by_kind = BTreeMap::new();
        for finding in &summary.findings {
            *findings_by_kind.entry(finding.kind).or_insert(0) += 1;
        }
        SummaryReport {
            round: summary.round,
            stages: summary.stages.clone(),
            audit_verified: summary.audit_verified,
            rows_read,
            rows_delivered: summary.rows_delivered,
            seconds: summary.seconds,
            rows_per_second,
            issues_by_kind: summary.issues_by_kind.clone(),
            findings_by_kind,
            quarantined: summary.quarantine.len() as u64,
            quarantined_outside_chain: 0,
        }
    }
}

/// The contents of `quality.json`: per-column completeness and validity of the delivered data,
/// with the round's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// The round's summary, as in `summary.json`.
    pub summary: SummaryReport,
    /// Rows the report writer received.
    pub rows: u64,
    /// Batches the report writer received.
    pub batches: u64,
    /// Quality per column, in the order the columns first appeared.
    pub columns: Vec<ColumnQuality>,
    /// Row-level issues (those naming no column), by kind.
    pub row_issues_by_kind: BTreeMap<IssueKind, u64>,
    /// All issues of the delivered rows, by severity.
    pub issues_by_severity: BTreeMap<Severity, u64>,
    /// Delivered rows per quality tier, when the rows carry a tier column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<TierSummary>,
}

/// One line of `quarantine.jsonl`.
#[derive(Debug, Serialize)]
struct QuarantineLine<'a> {
    stage: &'a str,
    row_id: Option<u64>,
    source: Option<&'a str>,
    line: Option<u64>,
    reason: &'a str,
    raw: Option<&'a str>,
}

/// Writes a quality report and the round's findings, lineage, quarantine and summary.
///
/// While the round streams, [`Applicator::apply`] adds each batch to a [`QualityStats`]; it
/// keeps counts only, so memory does not grow with the data. [`Applicator::finish`] writes, in
/// the round's folder: `quality.json` ([`QualityReport`]), `quality.md` (the same as tables),
/// `findings.json`, `lineage.json`, `quarantine.jsonl` and `summary.json` ([`SummaryReport`]),
/// then `summary.json` again at the top of the output folder. Each file is written under a
/// temporary name and renamed into place, and `summary.json` comes last, so its presence means
/// the round's report is complete. The chain calls `finish` only after a successful round, so a
/// failed round writes nothing.
#[derive(Debug)]
pub struct ReportWriter {
    name: String,
    config: ReportWriterConfig,
    layout: OutputLayout,
    open: Option<(u32, QualityStats)>,
    /// Rows quarantined outside the chain, written with the next finished round.
    outside_chain: Vec<QuarantinedRow>,
}

impl ReportWriter {
    /// Creates a report writer named [`REPORT_WRITER_NAME`]. Fails when `dir` is empty.
    pub fn new(config: ReportWriterConfig) -> Result<Self> {
        let layout = OutputLayout::new(REPORT_WRITER_NAME, &config.dir, config.per_round_subdir)?;
        Ok(ReportWriter {
            name: REPORT_WRITER_NAME.to_string(),
            config,
            layout,
            open: None,
            outside_chain: Vec::new(),
        })
    }

    /// Renames the stage, so that a chain can hold more than one report writer.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds rows that were quarantined outside the chain, such as the rows that a side source
    /// rejected while it was read before the first round. Their `stage` names what rejected
    /// them. They are written to the `quarantine.jsonl` of the next round that this writer
    /// finishes, after the chain's own rows, and counted in that round's `summary.json` as
    /// `quarantined_outside_chain`.
    pub fn with_quarantined(mut self, rows: Vec<QuarantinedRow>) -> Self {
        self.outside_chain.extend(rows);
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &ReportWriterConfig {
        &self.config
    }

    /// Returns the folder that `round`'s files go to.
    pub fn round_dir(&self, round: u32) -> PathBuf {
        self.layout.round_dir(round)
    }

    fn quarantine_lines(&self, summary: &RunSummary) -> Result<String> {
        let mut text = String::new();
        for row in summary.quarantine.iter().chain(&self.outside_chain) {
            let line = QuarantineLine {
                stage: &row.stage,
                row_id: row.row_id,
                source: row.source.as_deref(),
                line: row.line,
                reason: &row.reason,
                raw: self.config.quarantine_raw.then_some(row.raw.as_str()),
            };
            let json = serde_json::to_string(&line)
                .map_err(|error| json_error("a quarantined row", &error))?;
            // Writing to a String cannot fail.
            let _ = writeln!(text, "{json}");
        }
        Ok(text)
    }
}

fn json_error(what: &str, error: &serde_json::Error) -> Error {
    Error::Internal(format!("cannot serialise {what} as JSON: {error}"))
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|error| json_error(&path.display().to_string(), &error))?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
}

impl Stage for ReportWriter {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "writes quality reports and run summaries to {}",
            self.layout.dir().display()
        )
    }
}

impl Applicator for ReportWriter {
    fn apply(&mut self, batch: &GovernedBatch, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        // Statistics of an earlier round are left over only when that round failed.
        let stats = match self.open.take() {
            Some((open_round, stats)) if open_round == round => stats,
            _ => QualityStats::new(),
        };
        let stats = &mut self.open.insert((round, stats)).1;
        stats.observe(batch)
    }

    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        let round = ctx.round();
        let stats = match self.open.take() {
            Some((open_round, stats)) if open_round == round => stats,
            _ => QualityStats::new(),
        };
        if stats.rows() != summary.rows_delivered {
            return Err(Error::Internal(format!(
                "report writer {} received {} rows but the chain delivered {}",
                self.name,
                stats.rows(),
                summary.rows_delivered
            )));
        }

        let folder = self.layout.create_round_dir(round)?;
        let mut summary_report = SummaryReport::from_summary(summary);
        summary_report.quarantined_outside_chain = self.outside_chain.len() as u64;
        let quality = QualityReport {
            summary: summary_report.clone(),
            rows: stats.rows(),
            batches: stats.batches(),
            columns: stats.columns(),
            row_issues_by_kind: stats.row_issues_by_kind().clone(),
            issues_by_severity: stats.issues_by_severity().clone(),
            tiers: stats.tier_summary(),
        };
        write_json(&folder.join(QUALITY_JSON_FILE), &quality)?;
        write_atomically(
            &folder.join(QUALITY_MARKDOWN_FILE),
            render_quality(&quality).as_bytes(),
        )?;
        write_json(&folder.join(FINDINGS_FILE), &summary.findings)?;
        write_json(&folder.join(LINEAGE_FILE), &summary.lineage)?;
        write_atomically(
            &folder.join(QUARANTINE_FILE),
            self.quarantine_lines(summary)?.as_bytes(),
        )?;
        let outside_chain = std::mem::take(&mut self.outside_chain).len();
        write_json(&folder.join(SUMMARY_FILE), &summary_report)?;
        if folder != self.layout.dir() {
            write_json(&self.layout.dir().join(SUMMARY_FILE), &summary_report)?;
        }

        ctx.audit(
            AuditAction::Share,
            &folder.display().to_string(),
            &format!(
                "report rows={} columns={} findings={} quarantined={} \
                 quarantined_outside_chain={outside_chain} quarantine_raw={}",
                quality.rows,
                quality.columns.len(),
                summary.findings.len(),
                summary.quarantine.len(),
                self.config.quarantine_raw
            ),
        )?;
        tracing::info!(
            stage = %self.name,
            round,
            rows = quality.rows,
            quarantined = summary.quarantine.len(),
            path = %folder.display(),
            "wrote quality report"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governance_core::{Finding, QuarantinedRow};

    fn summary() -> RunSummary {
        let collector = StageReport {
            name: "csv".into(),
            kind: "collector".into(),
            version: "1".into(),
            rows_in: 100,
            rows_out: 98,
            rows_quarantined: 2,
            rows_merged: 0,
            seconds: 0.5,
            events: Vec::new(),
        };
        RunSummary {
            round: 3,
            stages: vec![collector],
            findings: vec![
                Finding::new(FindingKind::Alert, "pm25_limit", "limits", "over"),
                Finding::new(FindingKind::Alert, "no2_limit", "limits", "over"),
                Finding::new(FindingKind::Indicator, "mean", "stats", "mean"),
            ],
            quarantine: vec![QuarantinedRow {
                stage: "csv".into(),
                row_id: None,
                source: Some("a.csv".into()),
                line: Some(7),
                reason: "bad number".into(),
                raw: "x,y".into(),
            }],
            rows_delivered: 98,
            seconds: 2.0,
            audit_verified: true,
            ..RunSummary::default()
        }
    }

    #[test]
    fn summary_report_counts_rates_and_kinds() {
        let report = SummaryReport::from_summary(&summary());
        assert_eq!(report.round, 3);
        assert_eq!(report.rows_read, 100);
        assert_eq!(report.rows_per_second, 50.0);
        assert_eq!(report.findings_by_kind[&FindingKind::Alert], 2);
        assert_eq!(report.findings_by_kind[&FindingKind::Indicator], 1);
        assert_eq!(report.quarantined, 1);
    }

    #[test]
    fn zero_seconds_gives_zero_rate() {
        let mut run = summary();
        run.seconds = 0.0;
        assert_eq!(SummaryReport::from_summary(&run).rows_per_second, 0.0);
    }

    #[test]
    fn quarantine_raw_can_be_left_out() {
        let mut config = ReportWriterConfig::new("out");
        config.quarantine_raw = false;
        let writer = ReportWriter::new(config).expect("writer");
        let text = writer.quarantine_lines(&summary()).expect("lines");
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).expect("json line");
        assert_eq!(line["raw"], serde_json::Value::Null);
        assert_eq!(line["line"], 7);
        assert_eq!(line["reason"], "bad number");
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let error =
            serde_json::from_str::<ReportWriterConfig>(r#"{"dir": "out", "per_round": false}"#)
                .expect_err("unknown field");
        assert!(error.to_string().contains("per_round"), "{error}");
        let config: ReportWriterConfig =
            serde_json::from_str(r#"{"dir": "out"}"#).expect("defaults");
        assert_eq!(config, ReportWriterConfig::new("out"));
    }
}
