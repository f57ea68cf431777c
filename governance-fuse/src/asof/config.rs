//! Configuration of the as-of join: which side source, which key and time columns, which
//! side columns to attach, and how far in time a match may lie.

use serde::{Deserialize, Serialize};

/// Direction in time, from the stream row, in which an as-of join looks for a side row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOfDirection {
    /// The latest side row at or before the stream time.
    #[default]
    Backward,
    /// The earliest side row at or after the stream time.
    Forward,
    /// The side row closest in time on either side; on a tie the earlier row wins.
    Nearest,
}

impl AsOfDirection {
    /// Returns the snake_case name used in configs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AsOfDirection::Backward => "backward",
            AsOfDirection::Forward => "forward",
            AsOfDirection::Nearest => "nearest",
        }
    }
}

/// Configuration of [`AsOfJoin`](crate::AsOfJoin).
///
/// As JSON, only `source`, `key` and `time` are required:
///
/// ```
/// use governance_fuse::{AsOfDirection, AsOfJoinConfig};
///
/// let config: AsOfJoinConfig = serde_json::from_str(
///     r#"{"source": "weather", "key": "station", "time": "timestamp", "direction": "nearest"}"#,
/// )?;
/// assert_eq!(config.tolerance_seconds, 3600);
/// assert_eq!(config.direction, AsOfDirection::Nearest);
/// assert_eq!(config.suffix, "_side");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsOfJoinConfig {
    /// Stage name, unique within a chain. Default `asof_join`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Name of the side source, as returned by `Fuser::sources` and written to the audit log.
    pub source: String,
    /// Key column of the stream, such as `station`. Utf8 or Int64.
    pub key: String,
    /// Time column of the stream: Timestamp or Int64 milliseconds since the epoch.
    pub time: String,
    /// Key column of the side source; `None` means the same name as `key`.
    #[serde(default)]
    pub side_key: Option<String>,
    /// Time column of the side source; `None` means the same name as `time`.
    #[serde(default)]
    pub side_time: Option<String>,
    /// Side columns to attach, in order. Empty means every side column except the side key
    /// and time columns.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Appended to an attached column's name when the stream already has a column of that
    /// name. Default `_side`.
    #[serde(default = "default_suffix")]
    pub suffix: String,
    /// Direction in which side rows may match. Default backward.
    #[serde(default)]
    pub direction: AsOfDirection,
    /// Largest time distance of a match, in seconds, inclusive. Default 3600.
    #[serde(default = "default_tolerance_seconds")]
    pub tolerance_seconds: u64,
    /// Whether to log a row-level `Missing` issue for every stream row without a match. Off
    /// by default, because the per-batch counts in the audit log already report unmatched
    /// rows and an issue per row grows with the stream.
    #[serde(default)]
    pub report_unmatched: bool,
}

fn default_name() -> String {
    "asof_join".to_string()
}

fn default_suffix() -> String {
    "_side".to_string()
}

fn default_tolerance_seconds() -> u64 {
    3600
}

impl AsOfJoinConfig {
    /// Creates a config that joins on `key` and `time` against `source`, with every other
    /// field at its default.
    pub fn new(source: impl Into<String>, key: impl Into<String>, time: impl Into<String>) -> Self {
        AsOfJoinConfig {
            name: default_name(),
            source: source.into(),
            key: key.into(),
            time: time.into(),
            side_key: None,
            side_time: None,
            columns: Vec::new(),
            suffix: default_suffix(),
            direction: AsOfDirection::default(),
            tolerance_seconds: default_tolerance_seconds(),
            report_unmatched: false,
        }
    }

    /// Returns the side key column name.
    pub fn side_key(&self) -> &str {
        self.side_key.as_deref().unwrap_or(&self.key)
    }

    /// Returns the side time column name.
    pub fn side_time(&self) -> &str {
        self.side_time.as_deref().unwrap_or(&self.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_rejected() {
        let error = serde_json::from_str::<AsOfJoinConfig>(
            r#"{"source": "w", "key": "k", "time": "t", "tolerance": 5}"#,
        )
        .expect_err("unknown field");
        assert!(error.to_string().contains("tolerance"));
    }

    #[test]
    fn side_names_default_to_stream_names() {
        let mut config = AsOfJoinConfig::new("weather", "station", "timestamp");
        assert_eq!(config.side_key(), "station");
        assert_eq!(config.side_time(), "timestamp");
        config.side_time = Some("observed_at".into());
        assert_eq!(config.side_time(), "observed_at");
    }

    #[test]
    fn config_round_trips_through_json() {
        let mut config = AsOfJoinConfig::new("weather", "station", "timestamp");
        config.direction = AsOfDirection::Forward;
        config.columns = vec!["TEMP".into()];
        let json = serde_json::to_string(&config).expect("serialise");
        let back: AsOfJoinConfig = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, config);
    }
}
