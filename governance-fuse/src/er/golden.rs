//! Golden records: one record per entity, each field chosen from the entity's records by a
//! survivorship rule, with the source record of every field kept as provenance.
//!
//! [`GoldenRecords`] is a [`Fuser`] over a batch that carries a cluster column (the output of
//! clustering, such as [`super::cluster::Clustering::cluster_of`] written as a column). Each
//! cluster becomes one row with the row id of its first record; the other records count as
//! merged, and records without a cluster id go to quarantine, so
//! `rows in = rows out + quarantined + merged`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringBuilder, UInt32Array, UInt64Builder,
};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::AuditAction;
use governance_core::{
    Error, Fuser, GovernedBatch, Issue, IssueKind, QuarantinedRow, Result, Severity, Stage,
    StageContext,
};
use serde::{Deserialize, Serialize};

/// Survivorship rule that chooses an attribute's surviving value among an entity's records. Absent
/// values (null or blank) never survive while a present value exists, and ties go to the
/// record that comes first in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Survivorship {
    /// The value written by most records, compared as text.
    MostFrequent,
    /// The value of the record with the latest timestamp in `timestamp`. Numeric and temporal
    /// columns compare by value; text columns compare as text, which orders ISO 8601 dates
    /// correctly. Records without a timestamp rank last.
    MostRecent {
        /// Column of the timestamp.
        timestamp: String,
    },
    /// The longest value as text, in characters.
    Longest,
    /// The value of the record whose `source` column comes first in `order`; sources not
    /// listed rank after listed ones.
    PreferredSource {
        /// Column naming each record's source.
        source: String,
        /// Sources from most to least trusted.
        order: Vec<String>,
    },
    /// The first present value in batch order.
    FirstNonNull,
}

impl Survivorship {
    fn label(&self) -> String {
        match self {
            Survivorship::MostFrequent => "most frequent".into(),
            Survivorship::MostRecent { timestamp } => format!("most recent by {timestamp}"),
            Survivorship::Longest => "longest".into(),
            Survivorship::PreferredSource { source, .. } => format!("preferred {source}"),
            Survivorship::FirstNonNull => "first non-null".into(),
        }
    }
}

/// Configuration of [`GoldenRecords`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenConfig {
    /// Stage name.
    pub name: String,
    /// Column with the cluster id of each record; records of one id form one entity.
    pub cluster_column: String,
    /// Rules for named attributes.
    #[serde(default)]
    pub rules: BTreeMap<String, Survivorship>,
    /// Rule for every other attribute.
    #[serde(default = "default_rule")]
    pub default_rule: Survivorship,
}

fn default_rule() -> Survivorship {
    Survivorship::FirstNonNull
}

impl GoldenConfig {
    /// A configuration that takes the first present value of every attribute.
    pub fn new(name: impl Into<String>, cluster_column: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            cluster_column: cluster_column.into(),
            rules: BTreeMap::new(),
            default_rule: default_rule(),
        }
    }

    /// Sets the rule of one attribute.
    pub fn with_rule(mut self, attribute: impl Into<String>, rule: Survivorship) -> Self {
        self.rules.insert(attribute.into(), rule);
        self
    }
}

/// Source of one field of a golden record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProvenance {
    /// Row id of the golden record.
    pub golden_row_id: u64,
    /// Attribute.
    pub attribute: String,
    /// Row id of the record that supplied the value; `None` when every record lacked it.
    pub source_row_id: Option<u64>,
    /// Survivorship rule that chose it.
    pub rule: String,
    /// Records of the entity.
    pub candidates: u32,
}

/// Writes field provenance as an Arrow batch, for a Parquet file beside the issue log.
///
/// # Errors
/// [`Error::Arrow`] when the batch cannot be built.
pub fn provenance_batch(provenance: &[FieldProvenance]) -> Result<RecordBatch> {
    let mut golden = UInt64Builder::new();
    let mut attribute = StringBuilder::new();
    let mut source = UInt64Builder::new();
    let mut rule = StringBuilder::new();
    let mut candidates = UInt64Builder::new();
    for entry in provenance {
        golden.append_value(entry.golden_row_id);
        attribute.append_value(&entry.attribute);
        source.append_option(entry.source_row_id);
        rule.append_value(&entry.rule);
        candidates.append_value(u64::from(entry.candidates));
    }
    let schema = Schema::new(vec![
        Field::new("golden_row_id", DataType::UInt64, false),
        Field::new("attribute", DataType::Utf8, false),
        Field::new("source_row_id", DataType::UInt64, true),
        Field::new("rule", DataType::Utf8, false),
        Field::new("candidates", DataType::UInt64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(golden.finish()),
        Arc::new(attribute.finish()),
        Arc::new(source.finish()),
        Arc::new(rule.finish()),
        Arc::new(candidates.finish()),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// The golden-record fuser: one row per cluster, fields chosen by survivorship rules.
///
/// # Issues and audit
///
/// Per golden record that merged others, one row-level `duplicate` issue lists the merged
/// row ids; per field taken from a record other than the first, one `info` cell issue names
/// the source row and rule. Per batch, one `Change` audit record with the counts.
/// [`GoldenRecords::provenance`] keeps the source of every field of the last batch.
#[derive(Debug)]
pub struct GoldenRecords {
    config: GoldenConfig,
    provenance: Vec<FieldProvenance>,
}

impl GoldenRecords {
    /// Creates the fuser.
    pub fn new(config: GoldenConfig) -> Self {
        Self {
            config,
            provenance: Vec::new(),
        }
    }

    /// Source of every field of the golden records of the last batch.
    pub fn provenance(&self) -> &[FieldProvenance] {
        &self.provenance
    }

    fn rule_for(&self, attribute: &str) -> &Survivorship {
        self.config
            .rules
            .get(attribute)
            .unwrap_or(&self.config.default_rule)
    }

    fn check_columns(&self, batch: &GovernedBatch) -> Result<()> {
        let names = batch.column_names();
        let mut required = vec![&self.config.cluster_column];
        for rule in self
            .config
            .rules
            .values()
            .chain([&self.config.default_rule])
        {
            match rule {
                Survivorship::MostRecent { timestamp } => required.push(timestamp),
                Survivorship::PreferredSource { source, .. } => required.push(source),
                _ => {}
            }
        }
        required.extend(self.config.rules.keys());
        for column in required {
            if !names.contains(column) {
                return Err(Error::Config {
                    component: self.config.name.clone(),
                    message: format!(
                        "column '{column}' not found; columns are: {}",
                        names.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Text form of a column, with blank strings as absent.
fn text_values(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let text = cast(array, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|value| {
            value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        })
        .collect())
}

/// Sort key of a timestamp column: numbers and times by value, text as text.
enum Recency {
    Numeric(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

impl Recency {
    fn of(array: &ArrayRef) -> Result<Self> {
        let numeric = array.data_type().is_numeric() || array.data_type().is_temporal();
        if numeric && let Ok(values) = cast(array, &DataType::Int64) {
            let values = values.as_primitive::<arrow::datatypes::Int64Type>();
            return Ok(Recency::Numeric(values.iter().collect()));
        }
        Ok(Recency::Text(text_values(array)?))
    }

    /// Whether row `a` is strictly more recent than row `b`.
    fn newer(&self, a: usize, b: usize) -> bool {
        match self {
            Recency::Numeric(values) => values[a] > values[b],
            Recency::Text(values) => values[a] > values[b],
        }
    }
}

/// Chooses the row (a position into `rows`) whose value survives, or `None` when every
/// record lacks the attribute.
fn choose(
    rule: &Survivorship,
    values: &[Option<String>],
    rows: &[usize],
    recency: Option<&Recency>,
    source_rank: Option<&[usize]>,
) -> Option<usize> {
    let present: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&row| values[row].is_some())
        .collect();
    let first = *present.first()?;
    let chosen =
        match rule {
            Survivorship::FirstNonNull => first,
            Survivorship::Longest => {
                let length = |row: usize| values[row].as_deref().map_or(0, |v| v.chars().count());
                present.iter().copied().fold(first, |best, row| {
                    if length(row) > length(best) {
                        row
                    } else {
                        best
                    }
                })
            }
            Survivorship::MostFrequent => {
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for &row in &present {
                    if let Some(value) = values[row].as_deref() {
                        *counts.entry(value).or_default() += 1;
                    }
                }
                let count = |row: usize| {
                    values[row]
                        .as_deref()
                        .and_then(|value| counts.get(value))
                        .copied()
                        .unwrap_or(0)
                };
                present.iter().copied().fold(first, |best, row| {
                    if count(row) > count(best) { row } else { best }
                })
            }
            Survivorship::MostRecent { .. } => match recency {
                Some(recency) => present.iter().copied().fold(first, |best, row| {
                    if recency.newer(row, best) { row } else { best }
                }),
                None => first,
            },
            Survivorship::PreferredSource { .. } => match source_rank {
                Some(rank) => present.iter().copied().fold(first, |best, row| {
                    if rank[row] < rank[best] { row } else { best }
                }),
                None => first,
            },
        };
    Some(chosen)
}

impl Stage for GoldenRecords {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

impl Fuser for GoldenRecords {
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        self.check_columns(&batch)?;
        let mut provenance = Vec::new();
        let data = batch.data().clone();
        let schema = data.schema();
        let ids = batch.row_ids().values().to_vec();
        let clusters = text_values(batch.column(&self.config.cluster_column)?)?;

        // Records by cluster, clusters in order of their first record.
        let mut order: Vec<Vec<usize>> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut quarantined = Vec::new();
        for (row, cluster) in clusters.iter().enumerate() {
            let Some(cluster) = cluster.as_deref() else {
                quarantined.push(row);
                continue;
            };
            let index = *position.entry(cluster).or_insert_with(|| {
                order.push(Vec::new());
                order.len() - 1
            });
            order[index].push(row);
        }

        let mut recency_cache: HashMap<&str, Recency> = HashMap::new();
        let mut rank_cache: HashMap<&str, Vec<usize>> = HashMap::new();
        for rule in self
            .config
            .rules
            .values()
            .chain([&self.config.default_rule])
        {
            match rule {
                Survivorship::MostRecent { timestamp }
                    if !recency_cache.contains_key(timestamp.as_str()) =>
                {
                    recency_cache.insert(timestamp, Recency::of(batch.column(timestamp)?)?);
                }
                Survivorship::PreferredSource { source, order }
                    if !rank_cache.contains_key(source.as_str()) =>
                {
                    let sources = text_values(batch.column(source)?)?;
                    let rank = sources
                        .iter()
                        .map(|value| {
                            value
                                .as_deref()
                                .and_then(|value| order.iter().position(|s| s == value))
                                .unwrap_or(order.len())
                        })
                        .collect();
                    rank_cache.insert(source, rank);
                }
                _ => {}
            }
        }

        let golden_ids: Vec<u64> = order.iter().map(|rows| ids[rows[0]]).collect();
        let mut columns = Vec::with_capacity(schema.fields().len());
        let mut issues = Vec::new();
        let mut taken_elsewhere = 0u64;
        for (column_index, field) in schema.fields().iter().enumerate() {
            let attribute = field.name().as_str();
            let array = data.column(column_index);
            let rule = self.rule_for(attribute);
            let values = text_values(array)?;
            let recency = match rule {
                Survivorship::MostRecent { timestamp } => recency_cache.get(timestamp.as_str()),
                _ => None,
            };
            let rank = match rule {
                Survivorship::PreferredSource { source, .. } => {
                    rank_cache.get(source.as_str()).map(Vec::as_slice)
                }
                _ => None,
            };
            let mut indices = Vec::with_capacity(order.len());
            for (cluster, rows) in order.iter().enumerate() {
                let chosen = choose(rule, &values, rows, recency, rank);
                indices.push(chosen.unwrap_or(rows[0]) as u32);
                provenance.push(FieldProvenance {
                    golden_row_id: golden_ids[cluster],
                    attribute: attribute.to_owned(),
                    source_row_id: chosen.map(|row| ids[row]),
                    rule: rule.label(),
                    candidates: rows.len() as u32,
                });
                if let Some(row) = chosen.filter(|&row| row != rows[0]) {
                    taken_elsewhere += 1;
                    issues.push(Issue::cell(
                        golden_ids[cluster],
                        attribute,
                        IssueKind::Duplicate,
                        Severity::Info,
                        &self.config.name,
                        format!(
                            "value taken from merged row {} ({} of {} records)",
                            ids[row],
                            rule.label(),
                            rows.len()
                        ),
                    ));
                }
            }
            columns.push(take(array, &UInt32Array::from(indices), None)?);
        }

        let mut merged = 0u64;
        for (cluster, rows) in order.iter().enumerate() {
            if rows.len() < 2 {
                continue;
            }
            merged += rows.len() as u64 - 1;
            let merged_ids: Vec<String> =
                rows[1..].iter().map(|&row| ids[row].to_string()).collect();
            issues.push(Issue {
                row_id: golden_ids[cluster],
                column: None,
                kind: IssueKind::Duplicate,
                severity: Severity::Info,
                detector: self.config.name.clone(),
                message: format!(
                    "golden record of {} records; merged rows {}",
                    rows.len(),
                    merged_ids.join(", ")
                ),
                suggested: None,
                confidence: 1.0,
            });
        }
        for &row in &quarantined {
            ctx.quarantine(QuarantinedRow {
                stage: String::new(),
                row_id: Some(ids[row]),
                source: Some(batch.provenance.source.clone()),
                line: None,
                reason: format!(
                    "column '{}' has no cluster id; cluster the records before building golden \
                     records, or give each unmatched record its own id",
                    self.config.cluster_column
                ),
                raw: row_text(&data, row),
            });
        }
        ctx.record_merged(merged);

        let first_rows: UInt32Array = order.iter().map(|rows| rows[0] as u32).collect();
        let mut golden = batch.take(&first_rows)?;
        golden.replace_data(RecordBatch::try_new(schema.clone(), columns)?)?;
        golden.issues.extend(issues);
        golden.provenance.stages.push(self.config.name.clone());
        self.provenance = provenance;
        ctx.audit(
            AuditAction::Change,
            &batch.provenance.source,
            &format!(
                "golden records: {} in, {} out, {merged} merged, {} quarantined, {taken_elsewhere} \
                 fields from merged rows",
                batch.num_rows(),
                golden.num_rows(),
                quarantined.len()
            ),
        )?;
        Ok(golden)
    }
}

/// A row as `column=value` pairs, for the quarantine.
fn row_text(data: &RecordBatch, row: usize) -> String {
    let schema = data.schema();
    schema
        .fields()
        .iter()
        .zip(data.columns())
        .map(|(field, array)| {
            let value = arrow::util::display::array_value_to_string(array, row)
                .unwrap_or_else(|_| "?".into());
            format!("{}={value}", field.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
