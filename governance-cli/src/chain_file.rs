//! The declarative chain file (`CHAIN.toml`): its serde types and loading.
//!
//! ```toml
//! name = "air_quality"      # job name, used in lineage and the report title
//! rounds = 1                # rounds to run
//! out = "out"               # output folder, relative to this file; `--out` overrides it
//!
//! [source.csv]              # or [source.parquet], [source.folder], [source.mqtt],
//!                           # [source.synthetic]
//! paths = ["data/*.csv"]    # files or glob patterns, relative to this file
//!
//! [[stages]]
//! kind = "rules"            # canonicalise, rules, dedupe, fill_gaps, seasonal_fill,
//! rules = [                 # model_impute, outliers, anomaly, quality, as_of_join,
//!                           # schema_map, resample, threshold_alerts, sql_indicators
//!                           # or guard
//!   { column = "pm25", check = { range = { min = 0, max = 1000 } } },
//! ]
//!
//! [sinks.parquet]           # [sinks.csv] and [sinks.postgres] too
//!
//! [alerts]                  # findings to webhooks, failures to the dead letter
//! dead_letter = "alerts/dead_letter.jsonl"
//! webhooks = [{ name = "ops", url_env = "OPS_WEBHOOK" }]
//!
//! [work_orders]             # findings become work orders in a JSON Lines store
//! store = "work_orders.jsonl"
//!
//! [feedback]                # labels for the learners, applied after one round
//! labels = "labels.jsonl"   # JSON Lines of `Feedback` records, relative to this file
//! after_round = 1           # the default; must be below `rounds`
//!
//! [request]                 # who consumes the output, matched by a guard's policy
//! role = "analyst"
//! purpose = "monthly report"
//! ```
//!
//! A `[source.folder]` watches a folder and takes a schema drift policy, for example
//! `schema_drift = { policy = "adapt" }` (`quarantine`, `alert` or `adapt`).
//!
//! A `[source_check]` table checks the source's batches for gaps and impossible values and
//! reports a re-collection request per finding (see [`SourceCheckConfig`]).
//!
//! A `[source.mqtt]` subscribes to topics of an MQTT broker; its keys are the fields of
//! [`MqttConfig`](governance::collect::MqttConfig):
//!
//! ```toml
//! [source.mqtt]
//! host = "127.0.0.1"        # the default; port 1883 by default
//! topics = ["city/+/air"]
//! qos = 1                   # 0, 1 or 2
//! client_id = "govern-air"  # the broker keeps the session under it
//! payload = "json"          # json, ngsi_ld or sensor_things
//! max_messages = 500        # a batch closes at this many messages
//! max_wait_ms = 1000        # or this long after its first message
//! end_after_messages = 10000  # end the run after this many messages
//! idle_end_ms = 5000        # or when no message came for this long
//! username = "ingest"
//! password_env = "MQTT_PASSWORD"  # the variable that contains the password
//! ```
//!
//! A `[sinks.postgres]` reads its connection string, password included, from the
//! environment variable that `connection_env` names, and connects over TLS when asked:
//!
//! ```toml
//! [sinks.postgres]
//! connection_env = "GOVERN_PG"   # e.g. "host=db.city.example user=ingest dbname=city password=..."
//! table = "readings"
//! ssl_mode = "verify_full"       # disable (the default), require or verify_full
//! ssl_root_cert = "certs/ca.pem" # the authority of a private server, relative to this file
//! ssl_client_cert = "certs/ingest.crt"  # a client certificate and its key, both or
//! ssl_client_key = "certs/ingest.key"   # neither, for a pg_hba.conf rule of method cert
//! ```
//!
//! A `[side_sources.NAME]` table is read completely before the first round and joined to the
//! stream by an `as_of_join` stage whose `source` is `NAME`. Its `source` takes the same
//! tables as `[source]` except `mqtt` and `folder`, and an optional `canonicalise` table
//! (the keys of the `canonicalise` stage) prepares its rows, for example their timestamp:
//!
//! ```toml
//! [side_sources.weather]
//! source = { synthetic_weather = { seed = 42, days = 60 } }
//! canonicalise = { trim = ["station"], timestamp = { year = "year", month = "month", day = "day", hour = "hour", output = "timestamp" } }
//!
//! [[stages]]
//! kind = "as_of_join"       # attach the same station's weather within an hour
//! source = "weather"
//! key = "station"
//! time = "timestamp"
//! columns = ["TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"]
//! direction = "nearest"     # backward (the default), forward or nearest
//! tolerance_seconds = 3600
//!
//! [[stages]]
//! kind = "anomaly"          # an autoencoder over these columns flags unusual rows
//! columns = ["PM2.5", "PM10", "NO2", "TEMP", "PRES", "WSPM"]
//! warmup_rows = 20000       # rows held back to train the first model on
//! registry_dir = "models"   # saved model versions; the next run starts from the latest
//! ```
//!
//! A `schema_map` stage maps columns to a standard model and may name a side source as its
//! `reference`; a `resample` stage merges the rows of each key and time bucket:
//!
//! ```toml
//! [[stages]]
//! kind = "schema_map"
//! model = "AirQualityObserved"
//! skip = ["time"]           # passed through unmatched
//! reference = "weather"     # optional: a side source with the expected columns
//!
//! [[stages]]
//! kind = "resample"
//! keys = ["station"]
//! time = "timestamp"
//! interval = { every = 1, unit = "days" }
//! columns = [{ column = "PM2.5", aggregate = "mean" }]
//! ```
//!
//! Every table rejects keys it does not know, and the error names the key and the valid ones.
//! Relative paths (`out`, source and side source paths and folders, the alerts' dead letter,
//! the work-order store, an anomaly stage's `registry_dir`, the feedback labels, the source
//! check's report) are resolved against the folder of the chain file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use governance::AccessRequest;
use governance::analyze::{SqlIndicatorsConfig, ThresholdAlertsConfig};
use governance::apply::postgres::{CommitMode, SchemaEvolution, SslMode, WriteMode};
use governance::apply::{AlertSinkConfig, ParquetCompression, WorkOrderConfig};
use governance::clean::anomaly::AnomalyDetectorConfig;
use governance::clean::quality::QualityConfig;
use governance::clean::{
    CanonicaliseConfig, DedupeConfig, FillGapsConfig, ModelImputeConfig, RobustOutliersConfig,
    RulesConfig, SeasonalFillConfig,
};
use governance::collect::{CsvConfig, FolderConfig, MqttConfig, ParquetConfig, SyntheticConfig};
use governance::fuse::AsOfJoinConfig;
use governance::fuse::schema::SchemaMapConfig;
use governance::fuse::temporal::ResampleStageConfig;
use governance::secure::PiiGuardConfig;
use serde::Deserialize;

use crate::error::CliError;
use crate::labels::FeedbackConfig;
use crate::source_check::SourceCheckConfig;

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
    /// Gap and impossible-value checks of the source's batches; none when absent.
    #[serde(default)]
    pub source_check: Option<SourceCheckConfig>,
    /// Side sources by name, read completely before the first round for `as_of_join` stages.
    #[serde(default)]
    pub side_sources: BTreeMap<String, SideSourceConfig>,
    /// Cleaners, analyzers and guards, in chain order by kind.
    #[serde(default)]
    pub stages: Vec<StageConfig>,
    /// Sinks of the governed data.
    #[serde(default)]
    pub sinks: SinksConfig,
    /// Webhook alerts for findings and failed rounds; none when absent.
    #[serde(default)]
    pub alerts: Option<AlertSinkConfig>,
    /// Work orders raised from findings; none when absent.
    #[serde(default)]
    pub work_orders: Option<WorkOrderConfig>,
    /// The consumer of the output, matched against a guard's access policy.
    #[serde(default)]
    pub request: Option<AccessRequest>,
    /// Labels handed to the chain's learners after one round; none when absent.
    #[serde(default)]
    pub feedback: Option<FeedbackConfig>,
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
    /// A watched folder of CSV, NDJSON and Parquet files, with an optional schema drift
    /// policy (`schema_drift`).
    Folder(FolderConfig),
    /// Messages of MQTT topics; the password, if any, comes from the environment variable
    /// that `password_env` names.
    Mqtt(MqttConfig),
    /// The synthetic city's sensor readings.
    Synthetic(SyntheticConfig),
    /// The synthetic city's weather: `station`, the date parts `year` to `hour`, and `TEMP`,
    /// `PRES`, `DEWP`, `RAIN`, `wd` and `WSPM`.
    SyntheticWeather(SyntheticConfig),
}

impl SourceConfig {
    /// Returns the table name of this source, as written in the chain file.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Csv(_) => "csv",
            SourceConfig::Parquet(_) => "parquet",
            SourceConfig::Folder(_) => "folder",
            SourceConfig::Mqtt(_) => "mqtt",
            SourceConfig::Synthetic(_) => "synthetic",
            SourceConfig::SyntheticWeather(_) => "synthetic_weather",
        }
    }
}

/// A side source: a collector read to its end before the first round, and the canonicalisation
/// of its rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideSourceConfig {
    /// The collector: `csv`, `parquet`, `synthetic` or `synthetic_weather`.
    pub source: SourceConfig,
    /// Canonicalisation of the side rows, such as a timestamp from date parts; none when absent.
    #[serde(default)]
    pub canonicalise: Option<CanonicaliseConfig>,
}

/// One stage of the chain, chosen by `kind`. Stages run in file order.
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
    /// The autoencoder anomaly detector. It keeps rows back until its first model is trained.
    Anomaly(AnomalyDetectorConfig),
    /// Quality scores and tiers, with rows below the minimum tier quarantined.
    Quality(QualityConfig),
    /// The as-of join of each row with the nearest row of a side source on a key and time.
    AsOfJoin(AsOfJoinConfig),
    /// Per-row threshold alerts.
    ThresholdAlerts(ThresholdAlertsConfig),
    /// Indicators in SQL over DataFusion.
    SqlIndicators(SqlIndicatorsConfig),
    /// Personal-data detection, masking and the access policy.
    Guard(PiiGuardConfig),
    /// Mapping of the columns to a standard model, checked against an optional reference
    /// side source for renamed and swapped columns.
    SchemaMap(SchemaMapConfig),
    /// Aggregation of the rows of each key and time bucket into one row.
    Resample(ResampleStageConfig),
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
    /// Handling of batches whose columns change: `strict` (the default) rejects them,
    /// `add_columns` adds new columns to the table and writes missing ones as NULL.
    /// NOTE: an added column holds a lock on the whole table until the commit.
    #[serde(default)]
    pub schema_evolution: SchemaEvolution,
    /// TLS: `disable` (the default), `require` or `verify_full`. `require` encrypts, and
    /// checks the certificate only when `ssl_root_cert` is set, without the host name.
    /// `verify_full` also checks the host name. No mode falls back to plain TCP.
    #[serde(default)]
    pub ssl_mode: SslMode,
    /// PEM file of the certificate authority that signs the server's certificate, relative
    /// to the chain file.
    pub ssl_root_cert: Option<PathBuf>,
    /// PEM file of the client certificate, for a server that authenticates clients by
    /// certificate; relative to the chain file. Needs `ssl_client_key` and TLS.
    pub ssl_client_cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key, relative to the chain file.
    pub ssl_client_key: Option<PathBuf>,
    /// Maximum wait for a table lock, in milliseconds, per statement; the server's
    /// `lock_timeout` by default.
    pub lock_timeout_ms: Option<u64>,
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
        if let Some(feedback) = &file.feedback {
            feedback.check(file.rounds).map_err(|message| {
                CliError::Usage(format!("invalid chain file {}: {message}", path.display()))
            })?;
        }
        file.check_side_sources().map_err(|message| {
            CliError::Usage(format!("invalid chain file {}: {message}", path.display()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.resolve_paths(base)?;
        Ok(file)
    }

    /// Checks that every `as_of_join` stage and `schema_map` reference names a side source,
    /// that every side source is used, and that no side source is an endless stream.
    pub fn check_side_sources(&self) -> Result<(), String> {
        let known: Vec<&str> = self.side_sources.keys().map(String::as_str).collect();
        let mut joined = Vec::new();
        for stage in &self.stages {
            if let StageConfig::AsOfJoin(join) = stage {
                if !self.side_sources.contains_key(&join.source) {
                    return Err(format!(
                        "as_of_join stage {:?} names side source {:?}, which is not defined: \
                         add a [side_sources.{}] table (defined: {known:?})",
                        join.name, join.source, join.source
                    ));
                }
                joined.push(join.source.as_str());
            }
            if let StageConfig::SchemaMap(map) = stage
                && let Some(reference) = &map.reference
            {
                if !self.side_sources.contains_key(reference) {
                    return Err(format!(
                        "schema_map stage {:?} names reference {reference:?}, which is not a \
                         side source: add a [side_sources.{reference}] table (defined: \
                         {known:?})",
                        map.name
                    ));
                }
                joined.push(reference.as_str());
            }
        }
        for (name, side) in &self.side_sources {
            if !joined.contains(&name.as_str()) {
                return Err(format!(
                    "side source {name:?} is not joined: add an as_of_join stage with \
                     source = {name:?}, a schema_map stage with reference = {name:?}, or \
                     remove [side_sources.{name}]"
                ));
            }
            if matches!(side.source, SourceConfig::Mqtt(_) | SourceConfig::Folder(_)) {
                return Err(format!(
                    "side source {name:?} is a {} source, which has no fixed end, but a side \
                     source is read completely before the first round: use csv, parquet, \
                     synthetic or synthetic_weather",
                    side.source.kind()
                ));
            }
        }
        Ok(())
    }

    /// Makes relative paths absolute against `base` and expands glob patterns.
    pub fn resolve_paths(&mut self, base: &Path) -> Result<(), CliError> {
        if let Some(out) = &self.out {
            self.out = Some(base.join(out));
        }
        if let Some(alerts) = &mut self.alerts {
            alerts.dead_letter = base.join(&alerts.dead_letter);
        }
        if let Some(work_orders) = &mut self.work_orders {
            work_orders.store = base.join(&work_orders.store);
        }
        if let Some(feedback) = &mut self.feedback {
            feedback.labels = base.join(&feedback.labels);
        }
        if let Some(check) = &mut self.source_check {
            check.report = base.join(&check.report);
        }
        if let Some(postgres) = &mut self.sinks.postgres {
            let files = [
                &mut postgres.ssl_root_cert,
                &mut postgres.ssl_client_cert,
                &mut postgres.ssl_client_key,
            ];
            for file in files.into_iter().flatten() {
                *file = base.join(&*file);
            }
        }
        for stage in &mut self.stages {
            match stage {
                StageConfig::Guard(guard) => {
                    if let Some(rego) = &mut guard.rego {
                        rego.path = base.join(&rego.path);
                        if let Some(data) = &mut rego.data {
                            *data = base.join(&*data);
                        }
                    }
                }
                StageConfig::Anomaly(anomaly) => {
                    if let Some(dir) = &mut anomaly.registry_dir {
                        *dir = base.join(&*dir);
                    }
                }
                _ => {}
            }
        }
        for side in self.side_sources.values_mut() {
            resolve_source(&mut side.source, base)?;
        }
        resolve_source(&mut self.source, base)
    }
}

/// Makes the relative paths of `source` absolute against `base` and expands glob patterns.
fn resolve_source(source: &mut SourceConfig, base: &Path) -> Result<(), CliError> {
    let (paths, dir) = match source {
        SourceConfig::Csv(config) => (&mut config.paths, &mut config.dir),
        SourceConfig::Parquet(config) => (&mut config.paths, &mut config.dir),
        SourceConfig::Folder(config) => {
            config.dir = base.join(&config.dir);
            return Ok(());
        }
        SourceConfig::Mqtt(_) | SourceConfig::Synthetic(_) | SourceConfig::SyntheticWeather(_) => {
            return Ok(());
        }
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
    fn folder_source_reads_drift_policy() {
        let text = "[source.folder]\ndir = \"in\"\nschema_drift = { policy = \"alert\" }\n";
        let mut file: ChainFile = toml::from_str(text).expect("folder source");
        file.resolve_paths(Path::new("/base")).expect("resolve");
        let SourceConfig::Folder(config) = &file.source else {
            panic!("folder source expected");
        };
        assert_eq!(config.dir, Path::new("/base/in"));
        let drift = config.schema_drift.as_ref().expect("drift config");
        assert_eq!(drift.policy, governance::collect::DriftPolicy::Alert);
    }

    #[test]
    fn mqtt_source_reads_its_settings() {
        let text = "[source.mqtt]\nport = 1884\ntopics = [\"city/#\"]\nqos = 2\n\
                    client_id = \"govern\"\nend_after_messages = 50\nidle_end_ms = 900\n\
                    username = \"ingest\"\npassword_env = \"MQTT_PASSWORD\"\n";
        let file: ChainFile = toml::from_str(text).expect("mqtt source");
        let SourceConfig::Mqtt(config) = &file.source else {
            panic!("mqtt source expected");
        };
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 1884);
        assert_eq!(config.qos, governance::collect::mqtt::MqttQos::ExactlyOnce);
        assert_eq!(config.end_after_messages, Some(50));
        assert_eq!(config.idle_end_ms, Some(900));
        assert_eq!(config.password_env.as_deref(), Some("MQTT_PASSWORD"));
    }

    #[test]
    fn unknown_mqtt_key_lists_keys() {
        let text = "[source.mqtt]\ntopics = [\"city/#\"]\npassword = \"hunter2\"\n";
        let message = toml::from_str::<ChainFile>(text)
            .expect_err("unknown key")
            .to_string();
        assert!(message.contains("`password`"), "{message}");
        for key in ["password_env", "end_after_messages", "qos", "idle_end_ms"] {
            assert!(message.contains(key), "{key} missing: {message}");
        }
    }

    #[test]
    fn unknown_drift_policy_lists_policies() {
        let text = "[source.folder]\ndir = \"in\"\nschema_drift = { policy = \"adopt\" }\n";
        let message = toml::from_str::<ChainFile>(text)
            .expect_err("unknown policy")
            .to_string();
        assert!(message.contains("adopt"), "{message}");
        for policy in ["quarantine", "alert", "adapt"] {
            assert!(message.contains(policy), "{policy} missing: {message}");
        }
    }

    #[test]
    fn alert_and_work_order_paths_resolve() {
        let text = "[source.synthetic]\n\
                    [alerts]\ndead_letter = \"dead.jsonl\"\n\
                    webhooks = [{ name = \"ops\", url = \"http://127.0.0.1:9/\" }]\n\
                    [work_orders]\nstore = \"orders.jsonl\"\nmin_severity = \"warning\"\n";
        let mut file: ChainFile = toml::from_str(text).expect("alerts and work orders");
        file.resolve_paths(Path::new("/base")).expect("resolve");
        let alerts = file.alerts.expect("alerts");
        assert_eq!(alerts.dead_letter, Path::new("/base/dead.jsonl"));
        let orders = file.work_orders.expect("work orders");
        assert_eq!(orders.store, Path::new("/base/orders.jsonl"));
        assert_eq!(orders.min_severity, governance::Severity::Warning);
    }

    #[test]
    fn feedback_labels_path_resolves() {
        let text = "rounds = 2\n[source.synthetic]\n[feedback]\nlabels = \"labels.jsonl\"\n";
        let mut file: ChainFile = toml::from_str(text).expect("feedback table");
        file.resolve_paths(Path::new("/base")).expect("resolve");
        let feedback = file.feedback.expect("feedback");
        assert_eq!(feedback.labels, Path::new("/base/labels.jsonl"));
        assert_eq!(feedback.after_round, 1);
    }

    #[test]
    fn postgres_sink_options_parse() {
        let text = "[source.synthetic]\n\
                    [sinks.postgres]\nconnection_env = \"GOVERN_PG\"\ntable = \"readings\"\n\
                    ssl_mode = \"verify_full\"\nssl_root_cert = \"certs/ca.pem\"\n\
                    ssl_client_cert = \"certs/ingest.crt\"\nssl_client_key = \"/keys/ingest.key\"\n\
                    lock_timeout_ms = 5000\n";
        let mut file: ChainFile = toml::from_str(text).expect("postgres sink with TLS");
        file.resolve_paths(Path::new("/base")).expect("resolve");
        let postgres = file.sinks.postgres.expect("postgres sink");
        assert_eq!(postgres.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            postgres.ssl_root_cert.as_deref(),
            Some(Path::new("/base/certs/ca.pem"))
        );
        assert_eq!(
            postgres.ssl_client_cert.as_deref(),
            Some(Path::new("/base/certs/ingest.crt"))
        );
        assert_eq!(
            postgres.ssl_client_key.as_deref(),
            Some(Path::new("/keys/ingest.key"))
        );
        assert_eq!(postgres.lock_timeout_ms, Some(5000));

        let text = "[source.synthetic]\n\
                    [sinks.postgres]\nconnection_env = \"GOVERN_PG\"\ntable = \"readings\"\n\
                    ssl_mode = \"prefer\"\n";
        let message = toml::from_str::<ChainFile>(text)
            .expect_err("prefer is not a mode")
            .to_string();
        for mode in ["disable", "require", "verify_full"] {
            assert!(message.contains(mode), "{mode} missing: {message}");
        }
    }

    #[test]
    fn unknown_work_order_key_is_named() {
        let text = "[source.synthetic]\n[work_orders]\nstore = \"o.jsonl\"\nseverity = \"error\"\n";
        let message = toml::from_str::<ChainFile>(text)
            .expect_err("unknown key")
            .to_string();
        assert!(message.contains("severity"), "{message}");
        assert!(message.contains("min_severity"), "{message}");
    }

    const SIDE_CHAIN: &str = "[source.synthetic]\n\
        [side_sources.weather]\nsource = { synthetic_weather = { days = 2 } }\n\
        canonicalise = { trim = [\"station\"] }\n\
        [[stages]]\nkind = \"as_of_join\"\nsource = \"weather\"\n\
        key = \"station\"\ntime = \"timestamp\"\n\
        [[stages]]\nkind = \"anomaly\"\ncolumns = [\"PM2.5\", \"TEMP\"]\n\
        registry_dir = \"models\"\n";

    #[test]
    fn side_source_and_anomaly_parse() {
        let mut file: ChainFile = toml::from_str(SIDE_CHAIN).expect("side source chain");
        file.check_side_sources()
            .expect("the join names the side source");
        file.resolve_paths(Path::new("/base")).expect("resolve");
        let side = file
            .side_sources
            .get("weather")
            .expect("weather side source");
        assert!(matches!(side.source, SourceConfig::SyntheticWeather(ref c) if c.days == 2));
        assert!(side.canonicalise.is_some());
        let StageConfig::Anomaly(anomaly) = &file.stages[1] else {
            panic!("anomaly stage expected");
        };
        assert_eq!(
            anomaly.registry_dir.as_deref(),
            Some(Path::new("/base/models"))
        );
        assert_eq!(anomaly.warmup_rows, 20_000);
    }

    #[test]
    fn unjoined_side_source_is_named() {
        let text = "[source.synthetic]\n\
                    [side_sources.weather]\nsource = { synthetic_weather = {} }\n";
        let file: ChainFile = toml::from_str(text).expect("chain without the join");
        let message = file.check_side_sources().expect_err("unjoined side source");
        assert!(message.contains("\"weather\" is not joined"), "{message}");
    }

    #[test]
    fn streaming_side_source_is_rejected() {
        let text = SIDE_CHAIN.replace(
            "source = { synthetic_weather = { days = 2 } }",
            "source = { mqtt = { topics = [\"city/#\"] } }",
        );
        let file: ChainFile = toml::from_str(&text).expect("mqtt side source parses");
        let message = file.check_side_sources().expect_err("mqtt side source");
        assert!(message.contains("mqtt"), "{message}");
        assert!(message.contains("csv, parquet"), "{message}");
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
