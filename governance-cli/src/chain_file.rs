//! The declarative chain file (`CHAIN.toml`): its serde types and loading.
//!
//! ```toml
//! name = "air_quality"      # job name, used in lineage and the report title
//! rounds = 1                # rounds to run
//! out = "out"               # output folder, relative to this file; `--out` overrides it
//!
//! [source.csv]              # or [source.parquet] or [source.synthetic]
//! paths = ["data/*.csv"]    # files or glob patterns, relative to this file
//!
//! [[stages]]
//! kind = "rules"            # canonicalise, rules, dedupe, fill_gaps, seasonal_fill,
//! rules = [                 # model_impute, outliers, quality, threshold_alerts,
//!                           # sql_indicators or guard
//!   { column = "pm25", check = { range = { min = 0, max = 1000 } } },
//! ]
//!
//! [sinks.parquet]           # [sinks.csv] and [sinks.postgres] too
//!
//! [request]                 # who consumes the output, matched by a guard's policy
//! role = "analyst"
//! purpose = "monthly report"
//! ```
//!
//! Every table rejects keys it does not know, and the error names the key and the valid ones.

use std::path::{Path, PathBuf};

use governance::AccessRequest;
use governance::analyze::{SqlIndicatorsConfig, ThresholdAlertsConfig};
use governance::apply::ParquetCompression;
use governance::apply::postgres::{CommitMode, WriteMode};
use governance::clean::quality::QualityConfig;
use governance::clean::{
    CanonicaliseConfig, DedupeConfig, FillGapsConfig, ModelImputeConfig, RobustOutliersConfig,
    RulesConfig, SeasonalFillConfig,
};
use governance::collect::{CsvConfig, ParquetConfig, SyntheticConfig};
use governance::secure::PiiGuardConfig;
use serde::Deserialize;

use crate::error::CliError;

/// A chain file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFile {
    /// Job name, used in lineage and as the report title.
    #[serde(default = "default_name")]
    pub name: String,
    /// Rounds of the chain to run; at least 1.
    #[serde(default = "default_rounds")]
    pub rounds: u32,
    /// Output folder, relative to the chain file.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// The collector.
    pub source: SourceConfig,
    /// Cleaners, analyzers and guards, in chain order by kind.
    #[serde(default)]
    pub stages: Vec<StageConfig>,
    /// Sinks of the governed data.
    #[serde(default)]
    pub sinks: SinksConfig,
    /// The consumer of the output, matched against a guard's access policy.
    #[serde(default)]
    pub request: Option<AccessRequest>,
}

fn default_name() -> String {
    "chain".to_string()
}

fn default_rounds() -> u32 {
    1
}

/// The collector of a chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// CSV files; entries of `paths` may be glob patterns.
    Csv(CsvConfig),
    /// Parquet files; entries of `paths` may be glob patterns.
    Parquet(ParquetConfig),
    /// The synthetic city's sensor readings.
    Synthetic(SyntheticConfig),
}

/// One stage of the chain, chosen by `kind`. Cleaners run in file order, then analyzers,
/// then guards, because the chain runs stage kinds in that order.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageConfig {
    /// Format canonicalisation and a timestamp from date parts.
    Canonicalise(CanonicaliseConfig),
    /// Validity rules.
    Rules(RulesConfig),
    /// Merging of rows with a repeated key.
    Dedupe(DedupeConfig),
    /// Interpolation of short gaps.
    FillGaps(FillGapsConfig),
    /// Filling of long gaps along a seasonal profile.
    SeasonalFill(SeasonalFillConfig),
    /// Filling of cells by a model over the other columns.
    ModelImpute(ModelImputeConfig),
    /// The median/MAD outlier screen.
    Outliers(RobustOutliersConfig),
    /// Quality scores and tiers, with rows below the minimum tier quarantined.
    Quality(QualityConfig),
    /// Per-row threshold alerts.
    ThresholdAlerts(ThresholdAlertsConfig),
    /// Indicators in SQL over DataFusion.
    SqlIndicators(SqlIndicatorsConfig),
    /// Personal-data detection, masking and the access policy.
    Guard(PiiGuardConfig),
}

/// The sinks of a chain. Without any sink table, the Parquet sink is used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksConfig {
    /// `round-<n>/governed.parquet` and `issues.parquet` in the output folder.
    pub parquet: Option<ParquetSinkTable>,
    /// `round-<n>/governed.csv` in the output folder.
    pub csv: Option<CsvSinkTable>,
    /// A PostgreSQL table.
    pub postgres: Option<PostgresSinkTable>,
}

/// Settings of the Parquet sink.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParquetSinkTable {
    /// Page compression: `snappy` (the default) or `none`.
    #[serde(default)]
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub max_row_group_rows: Option<usize>,
}

/// Settings of the CSV sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSinkTable {
    /// Field delimiter, one ASCII character; `,` by default.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Whether to write a header line; true by default.
    #[serde(default = "default_true")]
    pub header: bool,
    /// Text written for a null value; empty by default.
    #[serde(default)]
    pub null: String,
}

fn default_delimiter() -> char {
    ','
}

fn default_true() -> bool {
    true
}

/// Settings of the PostgreSQL sink. The connection string is read from the environment
/// variable `connection_env`, so that no password is stored in the chain file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSinkTable {
    /// Name of the environment variable that contains the libpq connection string.
    pub connection_env: String,
    /// Schema of the table; `public` by default.
    pub schema: Option<String>,
    /// Table of the governed data.
    pub table: String,
    /// Append (the default) or upsert on a key.
    #[serde(default)]
    pub mode: WriteMode,
    /// Commit per round (the default) or per batch.
    #[serde(default)]
    pub commit: CommitMode,
    /// Id of this pipeline in the checkpoint table; the chain name by default.
    pub pipeline_id: Option<String>,
    /// Table of checkpoints; `checkpoints` by default.
    pub checkpoint_table: Option<String>,
}

impl ChainFile {
    /// Reads and checks the chain file at `path`, resolving relative input paths and glob
    /// patterns against the file's folder.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CliError::Usage(format!(
                    "chain file {} not found: check the path",
                    path.display()
                ))
            } else {
                CliError::Io(format!(
                    "cannot read chain file {}: {source}",
                    path.display()
                ))
            }
        })?;
        let mut file: ChainFile = toml::from_str(&text).map_err(|error| {
            CliError::Usage(format!(
                "invalid chain file {}: {}",
                path.display(),
                error.to_string().trim_end()
            ))
        })?;
        if file.rounds == 0 {
            return Err(CliError::Usage(format!(
                "invalid chain file {}: rounds is 0: set it to at least 1",
                path.display()
            )));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        file.resolve_paths(base)?;
        Ok(file)
    }

    /// Makes relative paths absolute against `base` and expands glob patterns.
    pub fn resolve_paths(&mut self, base: &Path) -> Result<(), CliError> {
        if let Some(out) = &self.out {
            self.out = Some(base.join(out));
        }
        let (paths, dir) = match &mut self.source {
            SourceConfig::Csv(config) => (&mut config.paths, &mut config.dir),
            SourceConfig::Parquet(config) => (&mut config.paths, &mut config.dir),
            SourceConfig::Synthetic(_) => return Ok(()),
        };
        if let Some(folder) = dir {
            *folder = base.join(&*folder);
        }
        let mut expanded = Vec::new();
        for entry in paths.iter() {
            let full = base.join(entry);
            let text = full.to_string_lossy();
            if !text.contains(['*', '?', '[']) {
                expanded.push(full);
                continue;
            }
            let matches = glob::glob(&text).map_err(|error| {
                CliError::Usage(format!(
                    "invalid glob pattern {text:?} in source paths: {error}"
                ))
            })?;
            let before = expanded.len();
            for found in matches {
                let found = found.map_err(|error| CliError::Io(error.to_string()))?;
                if found.is_file() {
                    expanded.push(found);
                }
            }
            if expanded.len() == before {
                return Err(CliError::Data(format!(
                    "glob pattern {text:?} in source paths matches no file: check the pattern"
                )));
            }
        }
        *paths = expanded;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_parses() {
        let file: ChainFile =
            toml::from_str("[source.synthetic]\ndays = 2\n").expect("minimal file");
        assert_eq!(file.rounds, 1);
        assert!(matches!(file.source, SourceConfig::Synthetic(ref c) if c.days == 2));
        assert!(file.stages.is_empty());
    }

    #[test]
    fn unknown_stage_key_is_named() {
        let text = "[source.synthetic]\n[[stages]]\nkind = \"dedupe\"\nkeys = [\"a\"]\n";
        let error = toml::from_str::<ChainFile>(text).expect_err("unknown key");
        let message = error.to_string();
        assert!(message.contains("keys"), "{message}");
        assert!(message.contains("key"), "{message}");
    }

    #[test]
    fn unknown_stage_kind_lists_kinds() {
        let text = "[source.synthetic]\n[[stages]]\nkind = \"clean_all\"\n";
        let message = toml::from_str::<ChainFile>(text)
            .expect_err("unknown kind")
            .to_string();
        assert!(message.contains("clean_all"), "{message}");
        assert!(message.contains("fill_gaps"), "{message}");
    }

    #[test]
    fn glob_expands_against_base() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["b.csv", "a.csv", "c.txt"] {
            std::fs::write(dir.path().join(name), "x\n1\n").expect("write");
        }
        let mut file: ChainFile =
            toml::from_str("[source.csv]\npaths = [\"*.csv\"]\n").expect("parse");
        file.resolve_paths(dir.path()).expect("resolve");
        let SourceConfig::Csv(config) = &file.source else {
            panic!("csv source expected");
        };
        let names: Vec<_> = config
            .paths
            .iter()
            .filter_map(|path| path.file_name())
            .collect();
        assert_eq!(names, vec!["a.csv", "b.csv"]);
    }

    #[test]
    fn glob_without_match_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut file: ChainFile =
            toml::from_str("[source.csv]\npaths = [\"*.csv\"]\n").expect("parse");
        let error = file.resolve_paths(dir.path()).expect_err("no match");
        assert!(error.to_string().contains("matches no file"), "{error}");
    }
}
