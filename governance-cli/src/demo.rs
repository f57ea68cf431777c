//! The chain of `govern demo`: the synthetic city's sensor readings through the stages of the
//! closed-loop example (cleaning, the as-of join with the city's weather, the anomaly model,
//! analysis and the guard), written as a [`ChainFile`].

use std::collections::BTreeMap;
use std::path::Path;

use governance::AccessRequest;
use governance::analyze::presets::air_quality_config;
use governance::collect::SyntheticConfig;
use serde_json::{Value, json};

use crate::chain_file::{
    ChainFile, CsvSinkTable, SideSourceConfig, SinksConfig, SourceConfig, StageConfig,
};
use crate::error::CliError;

/// Pollutant columns of the synthetic city, in µg/m³ (CO too).
const POLLUTANTS: [&str; 6] = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3"];

/// Weather columns that the as-of join attaches to each reading.
const WEATHER: [&str; 6] = ["TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"];

/// Folder of the anomaly model's versions, inside the output folder.
pub const MODELS_DIR: &str = "models";

/// Settings of the demo that its command line sets.
pub struct DemoSettings {
    /// Seed of the synthetic city.
    pub seed: u64,
    /// Days of hourly readings.
    pub days: u32,
    /// Rounds to run.
    pub rounds: u32,
}

fn stage(value: Value) -> Result<StageConfig, CliError> {
    serde_json::from_value(value)
        .map_err(|error| CliError::Data(format!("the demo's stage config is invalid: {error}")))
}

fn side_source(value: Value) -> Result<SideSourceConfig, CliError> {
    serde_json::from_value(value).map_err(|error| {
        CliError::Data(format!("the demo's side source config is invalid: {error}"))
    })
}

/// Builds the demo chain. The anomaly model's versions are saved under `out/models`.
pub fn demo_chain(settings: &DemoSettings, out: &Path) -> Result<ChainFile, CliError> {
    let city = SyntheticConfig {
        seed: settings.seed,
        days: settings.days,
        ..SyntheticConfig::default()
    };
    let stations = governance::collect::SyntheticCity::new(city.clone())?
        .stations()
        .to_vec();
    let stages = vec![
        stage(json!({
            "kind": "canonicalise",
            "numeric": POLLUTANTS,
            "trim": ["station"],
            "timestamp": {"year": "year", "month": "month", "day": "day", "hour": "hour", "output": "timestamp"}
        }))?,
        stage(json!({
            "kind": "rules",
            "rules": [
                {"column": "station", "check": "not_null"},
                {"column": "timestamp", "check": "not_null"},
                {"column": "station", "check": {"allowed": stations}, "action": "correct"},
                {"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}},
                {"column": "PM10", "check": {"range": {"min": 0, "max": 2000}}},
                {"column": "SO2", "check": {"range": {"min": 0, "max": 1000}}},
                {"column": "NO2", "check": {"range": {"min": 0, "max": 500}}},
                {"column": "CO", "check": {"range": {"min": 0, "max": 20000}}},
                {"column": "O3", "check": {"range": {"min": 0, "max": 1500}}}
            ]
        }))?,
        stage(json!({"kind": "dedupe", "key": ["station", "timestamp"], "series": "station"}))?,
        stage(json!({
            "kind": "fill_gaps",
            "series": "station",
            "time": "timestamp",
            "columns": POLLUTANTS,
            "max_gap": 3
        }))?,
        stage(json!({
            "kind": "outliers",
            "series": "station",
            "columns": POLLUTANTS,
            "swap_pairs": [["PM2.5", "PM10"]]
        }))?,
        stage(json!({
            "kind": "as_of_join",
            "source": "weather",
            "key": "station",
            "time": "timestamp",
            "columns": WEATHER,
            "direction": "nearest",
            "tolerance_seconds": 3600
        }))?,
        stage(json!({
            "kind": "anomaly",
            "columns": ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "WSPM"],
            "warmup_rows": 20000,
            "registry_dir": out.join(MODELS_DIR),
            "model_name": "sensor_autoencoder"
        }))?,
        StageConfig::SqlIndicators(air_quality_config()),
        stage(json!({
            "kind": "threshold_alerts",
            "name": "hourly_alerts",
            "rules": [{"name": "pm25_hourly_severe", "column": "PM2.5", "above": 250.0}],
            "subject_column": "station",
            "time_column": "timestamp",
            "max_findings_per_rule": 200
        }))?,
        stage(json!({
            "kind": "guard",
            "policy": {"roles": {"analyst": {"visible_columns": ["*"], "mask_personal_data": true}}}
        }))?,
    ];
    let weather = side_source(json!({
        "source": {"synthetic_weather": city},
        "canonicalise": {
            "trim": ["station"],
            "timestamp": {"year": "year", "month": "month", "day": "day", "hour": "hour", "output": "timestamp"}
        }
    }))?;
    let file = ChainFile {
        name: "synthetic_city".into(),
        rounds: settings.rounds,
        out: None,
        source: SourceConfig::Synthetic(city),
        source_check: None,
        side_sources: BTreeMap::from([("weather".to_string(), weather)]),
        stages,
        sinks: SinksConfig {
            parquet: Some(Default::default()),
            csv: Some(CsvSinkTable {
                delimiter: ',',
                header: true,
                null: String::new(),
            }),
            postgres: None,
        },
        alerts: None,
        work_orders: None,
        request: Some(AccessRequest::new("analyst", "air quality monitoring")),
        feedback: None,
    };
    file.check_side_sources().map_err(|message| {
        CliError::Data(format!(
            "the demo's chain is invalid: {message}: this is a bug"
        ))
    })?;
    Ok(file)
}
