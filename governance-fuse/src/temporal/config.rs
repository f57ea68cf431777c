//! Configuration of [`resample`](crate::temporal::resample): key, time, bucket width,
//! aggregations and the fill policy for empty buckets.

use serde::{Deserialize, Serialize};

use super::bucket::Interval;

/// Aggregation of the values that fall into one bucket. Nulls are skipped, as in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Arithmetic mean of the non-null values.
    Mean,
    /// Sum of the non-null values.
    Sum,
    /// Smallest non-null value.
    Min,
    /// Largest non-null value.
    Max,
    /// Number of non-null values; 0 for an empty bucket, which is never filled.
    Count,
    /// Non-null value with the earliest time (the first row in input order on a tie).
    First,
    /// Non-null value with the latest time (the last row in input order on a tie).
    Last,
}

impl Aggregate {
    /// Returns the snake_case name, used in default output names.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Sum => "sum",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Count => "count",
            Aggregate::First => "first",
            Aggregate::Last => "last",
        }
    }
}

/// One output column of a resampling: an aggregation of one input column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateColumn {
    /// Input column: any numeric type (cast to Float64).
    pub column: String,
    /// Aggregation.
    pub aggregate: Aggregate,
    /// Output name; `None` means `{column}_{aggregate}`, such as `PM2.5_mean`.
    #[serde(default)]
    pub name: Option<String>,
}

impl AggregateColumn {
    /// Creates an aggregation of `column` with the default output name.
    pub fn new(column: impl Into<String>, aggregate: Aggregate) -> Self {
        AggregateColumn {
            column: column.into(),
            aggregate,
            name: None,
        }
    }

    /// Returns the output column name.
    pub fn output_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}_{}", self.column, self.aggregate.as_str()))
    }
}

/// What an empty bucket (one without any input row of its key) gets in the aggregated columns.
/// `Count` columns always get 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method", deny_unknown_fields)]
pub enum FillPolicy {
    /// Leave empty buckets null.
    #[default]
    Null,
    /// Copy the value of the last bucket before the run of empty buckets into at most `limit`
    /// buckets of the run (`None`: no limit). Nothing is filled when that bucket's value is
    /// null.
    ForwardFill {
        /// Maximum number of consecutive empty buckets filled.
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Interpolate linearly in time between the buckets on either side of a run of empty
    /// buckets. A run longer than `limit` (`None`: no limit), a run at either end of the grid
    /// and a run next to a null value stay null.
    Linear {
        /// Maximum length of a run of empty buckets that is filled.
        #[serde(default)]
        limit: Option<u32>,
    },
}

/// Extent of the bucket grid of each key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridExtent {
    /// From each key's first bucket to its last.
    #[default]
    PerKey,
    /// From the first bucket of any key to the last of any key, the same for every key, so
    /// that the series line up.
    Shared,
}

/// Configuration of [`resample`](crate::temporal::resample).
///
/// As JSON, `time`, `interval` and `columns` are required:
///
/// ```
/// use governance_fuse::temporal::{FillPolicy, ResampleConfig};
///
/// let config: ResampleConfig = serde_json::from_str(r#"{
///     "key": "station",
///     "time": "timestamp",
///     "interval": {"every": 1, "unit": "hours"},
///     "columns": [{"column": "PM2.5", "aggregate": "mean"}],
///     "fill": {"method": "forward_fill", "limit": 3}
/// }"#)?;
/// assert_eq!(config.fill, FillPolicy::ForwardFill { limit: Some(3) });
/// assert_eq!(config.count_column, "rows");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResampleConfig {
    /// Column naming the series, such as a station; `None` treats the batch as one series.
    /// Any type; a null key is a series of its own.
    #[serde(default)]
    pub key: Option<String>,
    /// Timestamp column (any unit, with or without a time zone). The output keeps its name
    /// and type and contains the bucket starts.
    pub time: String,
    /// Bucket width.
    pub interval: Interval,
    /// A bucket edge, in milliseconds since the Unix epoch (UTC). Default 0.
    #[serde(default)]
    pub origin_ms: i64,
    /// Output columns, in order, after the key, the time and the row count.
    pub columns: Vec<AggregateColumn>,
    /// Fill policy for empty buckets. Default null.
    #[serde(default)]
    pub fill: FillPolicy,
    /// Grid extent. Default per key.
    #[serde(default)]
    pub extent: GridExtent,
    /// Name of the UInt64 output column with the number of input rows per bucket. Default
    /// `rows`.
    #[serde(default = "default_count_column")]
    pub count_column: String,
    /// Maximum number of output rows (buckets over all keys). A stray timestamp years away
    /// from the rest would otherwise build a huge grid. Default 10,000,000.
    #[serde(default = "default_max_buckets")]
    pub max_buckets: u64,
}

fn default_count_column() -> String {
    "rows".to_string()
}

fn default_max_buckets() -> u64 {
    10_000_000
}

impl ResampleConfig {
    /// Creates a config over `time` with buckets of `interval`, no key, no columns yet and
    /// every other field at its default.
    pub fn new(time: impl Into<String>, interval: Interval) -> Self {
        ResampleConfig {
            key: None,
            time: time.into(),
            interval,
            origin_ms: 0,
            columns: Vec::new(),
            fill: FillPolicy::Null,
            extent: GridExtent::PerKey,
            count_column: default_count_column(),
            max_buckets: default_max_buckets(),
        }
    }

    /// Sets the key column.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds an aggregation of `column`.
    pub fn aggregate(mut self, column: impl Into<String>, aggregate: Aggregate) -> Self {
        self.columns.push(AggregateColumn::new(column, aggregate));
        self
    }

    /// Sets the fill policy.
    pub fn with_fill(mut self, fill: FillPolicy) -> Self {
        self.fill = fill;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_rejected() {
        let error = serde_json::from_str::<ResampleConfig>(
            r#"{"time": "t", "interval": {"every": 1, "unit": "hours"}, "columns": [], "gap": 1}"#,
        )
        .expect_err("unknown field");
        assert!(error.to_string().contains("gap"), "{error}");
    }

    #[test]
    fn config_round_trips_through_json() {
        let config = ResampleConfig::new("t", Interval::minutes(15))
            .with_key("station")
            .aggregate("PM2.5", Aggregate::Max)
            .with_fill(FillPolicy::Linear { limit: Some(2) });
        let json = serde_json::to_string(&config).expect("serialise");
        let back: ResampleConfig = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, config);
    }

    #[test]
    fn default_output_name_joins_column_and_aggregate() {
        assert_eq!(
            AggregateColumn::new("PM2.5", Aggregate::Mean).output_name(),
            "PM2.5_mean"
        );
    }
}
