//! [`Resample`]: resampling as a chain stage. Rows of one key and time bucket are merged into
//! one row of aggregates, and the merged rows are counted, so that the stage keeps the chain's
//! row identity `rows in = rows out + quarantined + merged + held`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type, Schema, UInt64Type};
use arrow::util::display::array_value_to_string;
use governance_core::audit::AuditAction;
use governance_core::{Cleaner, Error, GovernedBatch, QuarantinedRow, Result, Stage, StageContext};
use serde::{Deserialize, Serialize};

use super::bucket::{Interval, bucket_timestamps};
use super::config::{AggregateColumn, FillPolicy, GridExtent, ResampleConfig};
use super::resample::resample;

/// Name of the internal composite key column; chosen so that no input column is likely to
/// carry it, and checked against the input.
const KEY_COLUMN: &str = "__resample_key";

/// Configuration of [`Resample`].
///
/// ```
/// use governance_fuse::temporal::ResampleStageConfig;
///
/// let config: ResampleStageConfig = serde_json::from_str(r#"{
///     "keys": ["station"],
///     "time": "timestamp",
///     "interval": {"every": 1, "unit": "days"},
///     "columns": [{"column": "PM2.5", "aggregate": "mean"}]
/// }"#)?;
/// assert_eq!(config.name, "resample");
/// assert_eq!(config.count_column, "rows");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResampleStageConfig {
    /// Stage name, unique within a chain. Default `resample`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Key columns that name a series, such as a station; none treats the stream as one
    /// series. Any types; null is a key value of its own.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Timestamp column (any unit, with or without a time zone). The output keeps its name
    /// and type and contains the bucket starts.
    pub time: String,
    /// Bucket width.
    pub interval: Interval,
    /// A bucket edge, in milliseconds since the Unix epoch (UTC). Default 0.
    #[serde(default)]
    pub origin_ms: i64,
    /// Output columns, in order, after the keys, the time and the row count.
    pub columns: Vec<AggregateColumn>,
    /// Name of the UInt64 output column with the number of input rows per bucket. Default
    /// `rows`.
    #[serde(default = "default_count_column")]
    pub count_column: String,
    /// Maximum number of buckets of one step, counted from each key's first to its last
    /// bucket, empty ones included. A stray timestamp years away from the rest would
    /// otherwise build a huge grid. Default 10,000,000.
    #[serde(default = "default_max_buckets")]
    pub max_buckets: u64,
}

fn default_name() -> String {
    "resample".to_string()
}

fn default_count_column() -> String {
    "rows".to_string()
}

fn default_max_buckets() -> u64 {
    10_000_000
}

impl ResampleStageConfig {
    /// Creates a config over `time` with buckets of `interval`, no key and no columns yet.
    pub fn new(time: impl Into<String>, interval: Interval) -> Self {
        ResampleStageConfig {
            name: default_name(),
            keys: Vec::new(),
            time: time.into(),
            interval,
            origin_ms: 0,
            columns: Vec::new(),
            count_column: default_count_column(),
            max_buckets: default_max_buckets(),
        }
    }

    fn resample_config(&self) -> ResampleConfig {
        ResampleConfig {
            key: Some(KEY_COLUMN.to_string()),
            time: self.time.clone(),
            interval: self.interval,
            origin_ms: self.origin_ms,
            columns: self.columns.clone(),
            fill: FillPolicy::Null,
            extent: GridExtent::PerKey,
            count_column: self.count_column.clone(),
            max_buckets: self.max_buckets,
        }
    }
}

/// Aggregates the stream into one row per key and time bucket, as a [`Cleaner`].
///
/// Output columns: the key columns, the time column with the bucket start, the row count and
/// one column per aggregation (see [`resample`](super::resample)). A bucket's output row
/// takes the row id of its first input row, the other rows of the bucket are recorded as
/// merged, and the issues of merged rows leave with them. Only buckets with at least one
/// input row are written: unlike [`resample`](super::resample), the stage makes up no rows
/// for empty buckets, because a made-up row would break the row identity.
///
/// A stream's rows of one bucket may arrive in several batches, so the latest bucket of each
/// key is held back until a row of a later bucket of that key arrives, or until `flush`.
/// Quarantined, with the reason: rows with a null time, and rows that arrive after their
/// bucket was written (out of order by more than one bucket).
#[derive(Debug)]
pub struct Resample {
    config: ResampleStageConfig,
    /// Rows of the latest bucket of each key, kept until the bucket is complete.
    held_back: Option<GovernedBatch>,
    /// Per key, the start (in the time column's ticks) of the latest bucket written.
    written_through: HashMap<String, i64>,
}

impl Resample {
    /// Builds the stage; fails when the interval is 0, no column is aggregated, or an output
    /// name repeats.
    pub fn new(config: ResampleStageConfig) -> Result<Self> {
        config
            .interval
            .millis()
            .map_err(|error| Error::config(&config.name, error.to_string()))?;
        if config.time.is_empty() {
            return Err(Error::config(&config.name, "time must name a column"));
        }
        if config.columns.is_empty() {
            return Err(Error::config(
                &config.name,
                "columns is empty: list at least one { column, aggregate }",
            ));
        }
        let mut names: Vec<String> = config.keys.clone();
        names.push(config.time.clone());
        names.push(config.count_column.clone());
        names.extend(config.columns.iter().map(AggregateColumn::output_name));
        for (index, name) in names.iter().enumerate() {
            if names[..index].contains(name) {
                return Err(Error::config(
                    &config.name,
                    format!(
                        "output column {name:?} appears twice: give an aggregation another name"
                    ),
                ));
            }
        }
        Ok(Resample {
            config,
            held_back: None,
            written_through: HashMap::new(),
        })
    }

    /// Returns the composite key of every row as text, with a marker for nulls, so that
    /// rows of one series share a key whatever the key columns' types.
    fn row_keys(&self, data: &RecordBatch) -> Result<Vec<String>> {
        let mut keys = vec![String::new(); data.num_rows()];
        for name in &self.config.keys {
            let column = data.column_by_name(name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "resample key column {name:?} not found: the batch has columns {:?}",
                    column_names(data)
                ))
            })?;
            for (row, key) in keys.iter_mut().enumerate() {
                key.push('\u{1f}');
                if column.is_null(row) {
                    key.push('\u{0}');
                } else {
                    key.push_str(&array_value_to_string(column.as_ref(), row)?);
                }
            }
        }
        Ok(keys)
    }

    /// Returns each row's bucket start in the time column's ticks, `None` for a null time.
    fn row_buckets(&self, data: &RecordBatch) -> Result<Vec<Option<i64>>> {
        let time = data.column_by_name(&self.config.time).ok_or_else(|| {
            Error::InvalidInput(format!(
                "resample time column {:?} not found: the batch has columns {:?}",
                self.config.time,
                column_names(data)
            ))
        })?;
        let buckets = bucket_timestamps(
            time.as_ref(),
            &self.config.time,
            self.config.interval,
            self.config.origin_ms,
        )?;
        let ticks = cast(&buckets, &DataType::Int64)?;
        Ok(ticks.as_primitive::<Int64Type>().iter().collect())
    }

    /// Resamples the rows at `rows` of `batch` into one output row per key and bucket.
    fn aggregate(
        &self,
        batch: &GovernedBatch,
        rows: &[u32],
        keys: &[String],
        buckets: &[Option<i64>],
    ) -> Result<(GovernedBatch, u64)> {
        let selected = batch.take(&UInt32Array::from(rows.to_vec()))?;
        let data = selected.data();
        if data.schema().index_of(KEY_COLUMN).is_ok() {
            return Err(Error::InvalidInput(format!(
                "the input has a column named {KEY_COLUMN:?}, which resample uses internally: \
                 rename it"
            )));
        }
        let key_array: ArrayRef = Arc::new(StringArray::from(
            rows.iter()
                .map(|&row| keys[row as usize].as_str())
                .collect::<Vec<_>>(),
        ));
        let mut fields: Vec<FieldRef> = data.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(KEY_COLUMN, DataType::Utf8, false)));
        let mut columns = data.columns().to_vec();
        columns.push(key_array);
        let keyed = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        let resampled = resample(&keyed, &self.config.resample_config())?.data;

        // The first selected row of each (key, bucket) gives the output row its id and keys.
        let mut first_row: HashMap<(&str, i64), u32> = HashMap::new();
        for (position, &row) in rows.iter().enumerate() {
            if let Some(bucket) = buckets[row as usize] {
                first_row
                    .entry((keys[row as usize].as_str(), bucket))
                    .or_insert(position as u32);
            }
        }
        let out_keys = resampled.column(0).as_string::<i32>();
        let out_starts = cast(resampled.column(1), &DataType::Int64)?;
        let out_starts = out_starts.as_primitive::<Int64Type>();
        let counts = resampled.column(2).as_primitive::<UInt64Type>();
        let mut keep = Vec::new();
        let mut firsts = Vec::new();
        for row in 0..resampled.num_rows() {
            if counts.value(row) == 0 {
                continue;
            }
            let first = first_row
                .get(&(out_keys.value(row), out_starts.value(row)))
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "resample wrote bucket {} of a key with no input row",
                        out_starts.value(row)
                    ))
                })?;
            keep.push(row as u32);
            firsts.push(*first);
        }
        let keep = UInt32Array::from(keep);
        let aggregated = arrow::compute::take_record_batch(&resampled, &keep)?;
        let mut output = selected.take(&UInt32Array::from(firsts))?;

        let mut fields: Vec<FieldRef> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for name in &self.config.keys {
            let index = output.data().schema().index_of(name)?;
            fields.push(output.data().schema().fields()[index].clone());
            columns.push(output.data().column(index).clone());
        }
        let aggregated_schema = aggregated.schema();
        for index in 1..aggregated.num_columns() {
            fields.push(aggregated_schema.fields()[index].clone());
            columns.push(aggregated.column(index).clone());
        }
        let merged = (rows.len() - output.num_rows()) as u64;
        let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        output.replace_data(data)?;
        Ok((output, merged))
    }

    /// Runs one step over the held rows and `batch`: writes every complete bucket, and with
    /// `finish` every bucket. Returns `None` only when there are neither held nor new rows;
    /// otherwise a batch, empty when every row is held back or quarantined.
    fn step(
        &mut self,
        batch: Option<GovernedBatch>,
        finish: bool,
        ctx: &mut StageContext,
    ) -> Result<Option<GovernedBatch>> {
        let mut parts: Vec<GovernedBatch> = self.held_back.take().into_iter().collect();
        parts.extend(batch);
        let Some(all) = GovernedBatch::concat(&parts)? else {
            return Ok(None);
        };
        let data = all.data();
        let keys = self.row_keys(data)?;
        let buckets = self.row_buckets(data)?;

        let mut latest: HashMap<&str, i64> = HashMap::new();
        for (key, bucket) in keys.iter().zip(&buckets) {
            if let Some(bucket) = bucket {
                let entry = latest.entry(key.as_str()).or_insert(*bucket);
                *entry = (*entry).max(*bucket);
            }
        }
        let mut write = Vec::new();
        let mut hold = Vec::new();
        let mut quarantined = 0;
        for (row, (key, bucket)) in keys.iter().zip(&buckets).enumerate() {
            let reason = match bucket {
                None => Some(format!(
                    "time column {:?} is null, so the row belongs to no bucket",
                    self.config.time
                )),
                Some(bucket) if self.written_through.get(key).is_some_and(|w| w >= bucket) => {
                    Some(format!(
                        "the row arrived after its {} bucket was written: sort the input by \
                         time within each key",
                        self.config.interval
                    ))
                }
                Some(bucket) => {
                    if !finish && latest.get(key.as_str()) == Some(bucket) {
                        hold.push(row as u32);
                    } else {
                        write.push(row as u32);
                    }
                    None
                }
            };
            if let Some(reason) = reason {
                quarantined += 1;
                ctx.quarantine(QuarantinedRow {
                    stage: String::new(),
                    row_id: Some(all.row_ids().value(row)),
                    source: Some(all.provenance.source.clone()),
                    line: None,
                    reason,
                    raw: row_text(data, row),
                });
            }
        }
        self.held_back = if hold.is_empty() {
            None
        } else {
            Some(all.take(&UInt32Array::from(hold))?)
        };
        for &row in &write {
            if let Some(bucket) = buckets[row as usize] {
                let entry = self
                    .written_through
                    .entry(keys[row as usize].clone())
                    .or_insert(bucket);
                *entry = (*entry).max(bucket);
            }
        }
        let (output, merged) = self.aggregate(&all, &write, &keys, &buckets)?;
        ctx.record_merged(merged);
        ctx.audit(
            AuditAction::Change,
            &self.config.time,
            &format!(
                "rows={} buckets={} merged={merged} quarantined={quarantined} held={} \
                 interval={}",
                write.len(),
                output.num_rows(),
                self.held_rows(),
                self.config.interval
            ),
        )?;
        Ok(Some(output))
    }
}

fn column_names(data: &RecordBatch) -> Vec<String> {
    data.schema()
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect()
}

/// Formats one row as `column=value` pairs, for a quarantined row's raw text.
fn row_text(data: &RecordBatch, row: usize) -> String {
    data.schema()
        .fields()
        .iter()
        .zip(data.columns())
        .map(|(field, array)| {
            let value = array_value_to_string(array, row)
                .unwrap_or_else(|error| format!("<unprintable: {error}>"));
            format!("{}={value}", field.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Stage for Resample {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "resampling of {} into {} buckets",
            self.config.time, self.config.interval
        )
    }
}

impl Cleaner for Resample {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        // `step` gets a batch, so it always returns one, empty when every row is held back.
        self.step(Some(batch), false, ctx)?
            .ok_or_else(|| Error::Internal("resample returned no batch for an input batch".into()))
    }

    /// Writes the held-back buckets and clears the record of written ones, because the runner
    /// calls `flush` at the end of each round and the next round may read the same times.
    fn flush(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let output = if self.held_back.is_some() {
            self.step(None, true, ctx)?
        } else {
            None
        };
        self.written_through.clear();
        Ok(output)
    }

    fn held_rows(&self) -> u64 {
        self.held_back
            .as_ref()
            .map_or(0, |held| held.num_rows() as u64)
    }
}

#[cfg(test)]
#[path = "stage_tests.rs"]
mod tests;
