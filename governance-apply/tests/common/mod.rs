//! Test stages for the integration tests: a collector of `name,pm25` lines, a range checker,
//! an alert analyzer and cleaners that fail or change the schema.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::AuditAction;
use governance_core::{
    Analyzer, Cleaner, Collector, Error, Finding, FindingKind, GovernedBatch, Issue, IssueKind,
    Provenance, QuarantinedRow, Result, RowIdAllocator, Semantic, Sensitivity, Severity, Stage,
    StageContext,
};

/// Name of the source the collector reports in provenance and quarantine.
pub const SOURCE: &str = "stations.csv";

/// Reads `name,pm25` lines into batches of `batch_rows` rows. The name `NULL` becomes a null,
/// an empty pm25 becomes a null, and a line that does not parse goes to quarantine.
pub struct LineCollector {
    lines: Vec<String>,
    batch_rows: usize,
    position: usize,
    ids: RowIdAllocator,
}

impl LineCollector {
    pub fn new(lines: &[&str], batch_rows: usize) -> Self {
        LineCollector {
            lines: lines.iter().map(|line| line.to_string()).collect(),
            batch_rows,
            position: 0,
            ids: RowIdAllocator::default(),
        }
    }

    pub fn schema() -> Arc<Schema> {
        let pm25 = Semantic {
            standard_name: Some("pm25".into()),
            unit: Some("ug/m3".into()),
            semantic_type: Some("pm2_5".into()),
            sensitivity: Some(Sensitivity::Public),
        }
        .annotate(Field::new("pm25", DataType::Float64, true));
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            pm25,
        ]))
    }
}

impl Stage for LineCollector {
    fn name(&self) -> &str {
        "lines"
    }
}

impl Collector for LineCollector {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.position = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.position >= self.lines.len() {
            return Ok(None);
        }

        let end = (self.position + self.batch_rows).min(self.lines.len());
        let mut names = Vec::new();
        let mut values = Vec::new();
        for index in self.position..end {
            let line = &self.lines[index];
            let parsed = line.split_once(',').and_then(|(name, value)| {
                let value = if value.is_empty() {
                    Some(None)
                } else {
                    value.parse::<f64>().ok().map(Some)
                };
                value.map(|value| (name, value))
            });
            match parsed {
                Some((name, value)) => {
                    names.push((name != "NULL").then(|| name.to_string()));
                    values.push(value);
                }
                None => ctx.quarantine(QuarantinedRow {
                    stage: String::new(),
                    row_id: None,
                    source: Some(SOURCE.into()),
                    line: Some(index as u64 + 1),
                    reason: format!("line {line:?} is not `name,pm25` with a numeric pm25"),
                    raw: line.clone(),
                }),
            }
        }

        ctx.record_read((end - self.position) as u64);
        ctx.audit(
            AuditAction::Read,
            SOURCE,
            &format!("lines={}", end - self.position),
        )?;
        self.position = end;

        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(values)),
        ];
        let data = RecordBatch::try_new(Self::schema(), columns)?;
        let ids = self.ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new(SOURCE)).map(Some)
    }
}

/// Flags pm25 above `limit` as an error and a null pm25 as a warning, and quarantines rows
/// named `reject`.
pub struct RangeCheck {
    pub limit: f64,
}

impl Stage for RangeCheck {
    fn name(&self) -> &str {
        "range"
    }
}

impl Cleaner for RangeCheck {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let names = string_column(&batch, "name")?.clone();
        let values = float_column(&batch, "pm25")?.clone();
        let mut keep = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let row_id = batch.row_ids().value(row);
            if names.is_valid(row) && names.value(row) == "reject" {
                ctx.quarantine(QuarantinedRow {
                    stage: String::new(),
                    row_id: Some(row_id),
                    source: Some(SOURCE.into()),
                    line: None,
                    reason: "station name is on the reject list".into(),
                    raw: format!("reject,{}", values.value(row)),
                });
                keep.push(false);
                continue;
            }
            keep.push(true);
            if values.is_null(row) {
                batch.push_issue(Issue::cell(
                    row_id,
                    "pm25",
                    IssueKind::Missing,
                    Severity::Warning,
                    "range",
                    "pm25 is null",
                ));
            } else if values.value(row) > self.limit {
                let message = format!("pm25 {} is above {}", values.value(row), self.limit);
                batch.push_issue(Issue::cell(
                    row_id,
                    "pm25",
                    IssueKind::OutOfRange,
                    Severity::Error,
                    "range",
                    message,
                ));
            }
        }
        ctx.audit(
            AuditAction::Change,
            "pm25",
            &format!("rows={}", batch.num_rows()),
        )?;
        batch.filter(&BooleanArray::from(keep))
    }
}

/// Raises one alert when any pm25 value exceeds `threshold`.
pub struct AlertOnMax {
    pub threshold: f64,
    pub max: f64,
}

impl Stage for AlertOnMax {
    fn name(&self) -> &str {
        "alert"
    }
}

impl Analyzer for AlertOnMax {
    fn analyze(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<Vec<Finding>> {
        if let Some(max) = arrow::compute::max(float_column(batch, "pm25")?) {
            self.max = self.max.max(max);
        }
        Ok(Vec::new())
    }

    fn finish(&mut self, _: &mut StageContext) -> Result<Vec<Finding>> {
        if self.max <= self.threshold {
            return Ok(Vec::new());
        }
        let mut finding = Finding::new(
            FindingKind::Alert,
            "pm25_limit",
            "alert",
            "pm25 above the limit",
        );
        finding.value = Some(self.max);
        finding.threshold = Some(self.threshold);
        self.max = f64::MIN;
        Ok(vec![finding])
    }
}

/// Passes batches through and fails on batch `fail_at` (1-based) of the rounds in `rounds`.
pub struct FailAt {
    pub fail_at: usize,
    pub rounds: Vec<u32>,
    pub seen: usize,
}

impl Stage for FailAt {
    fn name(&self) -> &str {
        "fails"
    }
}

impl Cleaner for FailAt {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        if !self.rounds.contains(&ctx.round()) {
            return Ok(batch);
        }
        self.seen += 1;
        if self.seen == self.fail_at {
            self.seen = 0;
            return Err(Error::stage("fails", std::io::Error::other("disk full")));
        }
        Ok(batch)
    }
}

/// Casts pm25 to text in every batch after the first, changing the schema mid-stream.
pub struct TextAfterFirst {
    pub seen: usize,
}

impl Stage for TextAfterFirst {
    fn name(&self) -> &str {
        "to_text"
    }
}

impl Cleaner for TextAfterFirst {
    fn clean(&mut self, mut batch: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        self.seen += 1;
        if self.seen == 1 {
            return Ok(batch);
        }
        let data = batch.data();
        let text = arrow::compute::cast(data.column(1), &DataType::Utf8)?;
        let schema = Schema::new(vec![
            data.schema().field(0).clone(),
            Field::new("pm25", DataType::Utf8, true),
        ]);
        let changed =
            RecordBatch::try_new(Arc::new(schema), vec![Arc::clone(data.column(0)), text])?;
        batch.replace_data(changed)?;
        Ok(batch)
    }
}

pub fn string_column<'a>(batch: &'a GovernedBatch, name: &str) -> Result<&'a StringArray> {
    batch
        .column(name)?
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| Error::InvalidInput(format!("{name} is not Utf8")))
}

pub fn float_column<'a>(batch: &'a GovernedBatch, name: &str) -> Result<&'a Float64Array> {
    batch
        .column(name)?
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| Error::InvalidInput(format!("{name} is not Float64")))
}

/// Lists every file under `dir`, recursively, as paths relative to `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(
                    path.strip_prefix(dir)
                        .expect("path under dir")
                        .to_path_buf(),
                );
            }
        }
    }
    found.sort();
    found
}

/// Lines of a small station file: one malformed line (line 3) and one rejected station.
pub const LINES: &[&str] = &[
    "north,12.5",
    "south,900",
    "east,not-a-number",
    "reject,40",
    "west,",
    "centre,35",
];
