//! [`TimeBucket`]: a fuser that attaches the bucket start of each row's time as a new column,
//! so that later stages can group or join on it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{Field, FieldRef, Schema};
use governance_core::audit::AuditAction;
use governance_core::{Error, Fuser, GovernedBatch, Result, Stage, StageContext};
use serde::{Deserialize, Serialize};

use super::bucket::{Interval, bucket_timestamps};

/// Configuration of [`TimeBucket`].
///
/// ```
/// use governance_fuse::temporal::TimeBucketConfig;
///
/// let config: TimeBucketConfig = serde_json::from_str(
///     r#"{"time": "timestamp", "interval": {"every": 15, "unit": "minutes"}}"#,
/// )?;
/// assert_eq!(config.output_name(), "timestamp_bucket");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeBucketConfig {
    /// Stage name, unique within a chain. Default `time_bucket`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Timestamp column to bucket (any unit, with or without a time zone).
    pub time: String,
    /// Bucket width.
    pub interval: Interval,
    /// A bucket edge, in milliseconds since the Unix epoch (UTC). Default 0.
    #[serde(default)]
    pub origin_ms: i64,
    /// Name of the attached column; `None` means `{time}_bucket`.
    #[serde(default)]
    pub output: Option<String>,
}

fn default_name() -> String {
    "time_bucket".to_string()
}

impl TimeBucketConfig {
    /// Creates a config that buckets `time` by `interval` from the epoch.
    pub fn new(time: impl Into<String>, interval: Interval) -> Self {
        TimeBucketConfig {
            name: default_name(),
            time: time.into(),
            interval,
            origin_ms: 0,
            output: None,
        }
    }

    /// Returns the name of the attached column.
    pub fn output_name(&self) -> String {
        self.output
            .clone()
            .unwrap_or_else(|| format!("{}_bucket", self.time))
    }
}

/// Attaches the bucket start of the time column as a column of the same type.
///
/// Rows out equal rows in; a row with a null time gets a null bucket. Writes one `Change`
/// audit record per batch with the rows and the null times.
#[derive(Debug)]
pub struct TimeBucket {
    config: TimeBucketConfig,
}

impl TimeBucket {
    /// Builds the stage; fails when the interval is 0 or a name is empty.
    pub fn new(config: TimeBucketConfig) -> Result<Self> {
        config
            .interval
            .millis()
            .map_err(|error| Error::config(&config.name, error.to_string()))?;
        if config.time.is_empty() || config.output_name().is_empty() {
            return Err(Error::config(
                &config.name,
                "time and output must be non-empty column names",
            ));
        }
        Ok(TimeBucket { config })
    }
}

impl Stage for TimeBucket {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "time buckets of {} on {}",
            self.config.interval, self.config.time
        )
    }
}

impl Fuser for TimeBucket {
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let output = self.config.output_name();
        let schema = batch.data().schema();
        if schema.index_of(&output).is_ok() {
            return Err(Error::InvalidInput(format!(
                "column {output:?} already exists: set output to another name"
            )));
        }
        let time = batch.column(&self.config.time)?;
        let buckets: ArrayRef = bucket_timestamps(
            time.as_ref(),
            &self.config.time,
            self.config.interval,
            self.config.origin_ms,
        )?;
        let null_times = buckets.null_count();

        let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
        // The bucket column is nullable exactly when the time column is, so that every batch
        // of a stream gets the same schema.
        let time_nullable = schema.field_with_name(&self.config.time)?.is_nullable();
        fields.push(Arc::new(Field::new(
            output,
            buckets.data_type().clone(),
            time_nullable,
        )));
        let mut columns = batch.data().columns().to_vec();
        columns.push(buckets);
        let data = RecordBatch::try_new(
            Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            columns,
        )?;
        let rows = batch.num_rows();
        let mut bucketed = batch;
        bucketed.replace_data(data)?;
        ctx.audit(
            AuditAction::Change,
            &self.config.time,
            &format!(
                "rows={rows} null_times={null_times} interval={}",
                self.config.interval
            ),
        )?;
        Ok(bucketed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
    use governance_core::audit::AuditLog;
    use governance_core::{Provenance, RowIdAllocator};

    fn batch(time: ArrayRef) -> GovernedBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "t",
            time.data_type().clone(),
            true,
        )]));
        let data = RecordBatch::try_new(schema, vec![time]).expect("batch");
        let ids = RowIdAllocator::default().allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed")
    }

    fn context() -> StageContext {
        StageContext::new("time_bucket", 1, AuditLog::in_memory().into_handle())
    }

    #[test]
    fn attaches_bucket_and_keeps_rows() {
        const MINUTE_US: i64 = 60_000_000;
        let time = TimestampMicrosecondArray::from(vec![Some(7 * MINUTE_US), None]);
        let mut stage =
            TimeBucket::new(TimeBucketConfig::new("t", Interval::minutes(5))).expect("stage");
        let out = stage
            .fuse(batch(Arc::new(time)), &mut context())
            .expect("fuse");
        assert_eq!(out.num_rows(), 2);
        let buckets = out
            .column("t_bucket")
            .expect("bucket column")
            .as_primitive::<TimestampMicrosecondType>();
        assert_eq!(buckets.value(0), 5 * MINUTE_US);
        assert!(buckets.is_null(1));
        assert_eq!(
            buckets.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
    }

    #[test]
    fn text_time_names_column_and_type() {
        let mut stage =
            TimeBucket::new(TimeBucketConfig::new("t", Interval::hours(1))).expect("stage");
        let error = stage
            .fuse(
                batch(Arc::new(StringArray::from(vec!["noon"]))),
                &mut context(),
            )
            .expect_err("text time");
        let message = error.to_string();
        assert!(message.contains("\"t\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
    }

    #[test]
    fn zero_interval_is_a_config_error() {
        let error = TimeBucket::new(TimeBucketConfig::new("t", Interval::days(0)))
            .expect_err("zero interval");
        assert!(matches!(error, Error::Config { .. }), "{error}");
    }
}
