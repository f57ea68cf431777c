//! Time bucketing and resampling of Arrow batches with timestamp columns.
//!
//! - [`bucket_timestamps`] maps each timestamp to the start of its fixed-width bucket, such as
//!   15 minutes or 1 day, aligned to an origin.
//! - [`resample`] aggregates a series per key (a station, say) into a regular grid of buckets
//!   with mean, sum, min, max, count, first or last, and fills empty buckets with nulls, the
//!   previous value or a linear interpolation, reporting how many were empty and filled.
//! - [`TimeBucket`] is a [`Fuser`](governance_core::Fuser) that attaches the bucket start
//!   as a column and keeps every row.
//!
//! Units: intervals are minutes, hours or days; origins are milliseconds since the Unix
//! epoch (UTC). Timestamps of any unit (seconds to nanoseconds) are bucketed in their own
//! unit, so nanosecond data keeps its precision, and the output keeps the input's unit and
//! time zone. Buckets are fixed spans of UTC time; see [`bucket`] for days in a time zone.
//!
//! The kernels are plain Arrow code with no query engine, so they can later be wrapped as
//! DataFusion functions; [`crate::engine`] runs the same bucketing as a DataFusion plan.
//!
//! [`resample`] is a function: its output rows include grid cells made up by the fill
//! policy, so the stage identity `rows in = rows out + quarantined + merged` does not
//! describe it, and its [`ResampleReport`] accounts for every input row instead.
//! [`Resample`] is the chain stage: a [`Cleaner`](governance_core::Cleaner) that writes only
//! buckets with input rows, records the other rows of each bucket as merged, and holds the
//! latest bucket of each key back until it is complete.

pub mod bucket;
mod config;
mod fuser;
mod resample;
mod stage;

pub use bucket::{Interval, IntervalUnit, bucket_timestamps};
pub use config::{Aggregate, AggregateColumn, FillPolicy, GridExtent, ResampleConfig};
pub use fuser::{TimeBucket, TimeBucketConfig};
pub use resample::{ResampleReport, Resampled, resample};
pub use stage::{Resample, ResampleStageConfig};
