//! The `[source_check]` table of a chain file: checks the source's batches for gaps and
//! impossible values and writes one re-collection request per finding to a JSON Lines
//! report, with the range, series key, file and reason. Rows are never dropped or changed.
//!
//! ```toml
//! [source_check]
//! report = "state/recollect.jsonl"   # relative to the chain file
//! time_column = "time"
//! key_columns = ["station"]
//! expected_interval_ms = 3600000     # a gap is a step above this plus the tolerance
//! tolerance_ms = 600000              # half the interval when absent
//! ranges = [{ column = "pm25", min = 0, max = 1000 }]
//! standard_model = "AirQualityObserved"   # its attribute ranges for matching columns
//! ```
//!
//! The keys besides `report` are those of
//! [`SourceValidationConfig`](governance::collect::recollect::SourceValidationConfig).

use std::path::PathBuf;

use governance::Collector;
use governance::collect::recollect::{
    RecollectionTarget, SourceValidationConfig, ValidatingCollector,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::error::CliError;

/// The `[source_check]` table.
#[derive(Debug, Clone)]
pub struct SourceCheckConfig {
    /// JSON Lines file that receives the re-collection requests.
    pub report: PathBuf,
    /// The checks, as the collector's source validation takes them.
    pub checks: SourceValidationConfig,
}

impl<'de> Deserialize<'de> for SourceCheckConfig {
    /// Reads `report` and hands the other keys to [`SourceValidationConfig`], which rejects
    /// unknown ones by name. Serde's `flatten` would skip that check.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(deserializer)?;
        let report = match table.remove("report") {
            Some(toml::Value::String(path)) => PathBuf::from(path),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`report` must be a path in quotes, found a {}",
                    other.type_str()
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "`report` is missing: name the JSON Lines file that receives the \
                     re-collection requests",
                ));
            }
        };
        let checks = SourceValidationConfig::deserialize(toml::Value::Table(table))
            .map_err(D::Error::custom)?;
        checks.validate().map_err(D::Error::custom)?;
        Ok(SourceCheckConfig { report, checks })
    }
}

impl SourceCheckConfig {
    /// Wraps `collector` so that its batches are checked, after creating the report's
    /// folder.
    pub fn wrap(&self, collector: Box<dyn Collector>) -> Result<Box<dyn Collector>, CliError> {
        if let Some(folder) = self.report.parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|error| {
                CliError::Io(format!(
                    "cannot create the folder of the re-collection report {}: {error}",
                    self.report.display()
                ))
            })?;
        }
        let target = RecollectionTarget::Report(self.report.clone());
        Ok(Box::new(ValidatingCollector::new(
            collector,
            self.checks.clone(),
            target,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct File {
        source_check: SourceCheckConfig,
    }

    fn parse(text: &str) -> Result<SourceCheckConfig, String> {
        toml::from_str::<File>(text)
            .map(|file| file.source_check)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn table_parses() {
        let config = parse(
            "[source_check]\nreport = \"r.jsonl\"\ntime_column = \"time\"\n\
             expected_interval_ms = 3600000\nranges = [{ column = \"pm25\", min = 0 }]\n",
        )
        .expect("valid table");
        assert_eq!(config.report, PathBuf::from("r.jsonl"));
        assert_eq!(config.checks.ranges[0].min, Some(0.0));
    }

    #[test]
    fn missing_report_is_rejected() {
        let error = parse("[source_check]\ntime_column = \"time\"\n").expect_err("no report");
        assert!(error.contains("`report` is missing"), "{error}");
    }

    #[test]
    fn unknown_key_is_rejected() {
        let error =
            parse("[source_check]\nreport = \"r.jsonl\"\ntime_column = \"time\"\ninterval = 5\n")
                .expect_err("unknown key");
        assert!(error.contains("interval"), "{error}");
        assert!(error.contains("expected_interval_ms"), "{error}");
    }

    #[test]
    fn invalid_checks_are_rejected() {
        let error = parse("[source_check]\nreport = \"r.jsonl\"\ntime_column = \"time\"\n")
            .expect_err("nothing to check");
        assert!(error.contains("nothing to check"), "{error}");
    }
}
