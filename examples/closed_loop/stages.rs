//! The stages of the example chain, written as the JSON configs a deployment would keep in a
//! file, so the same chain can be rebuilt from text.

use std::path::Path;
use std::sync::Arc;

use governance::analyze::{SqlIndicators, ThresholdAlerts};
use governance::apply::{OpenLineageWriter, OpenLineageWriterConfig, ParquetSink, ReportWriter};
use governance::audit::AuditLog;
use governance::clean::anomaly::AnomalyDetector;
use governance::clean::{Canonicalise, Dedupe, FillGaps, RobustOutliers, Rules};
use governance::fuse::AsOfJoin;
use governance::llm::tagger::Tagger;
use governance::secure::PiiGuard;
use governance::{Cleaner, Collector, GovernedBatch, Result, StageContext};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Pollutant columns of the Beijing layout, in µg/m³ (CO too, as the source publishes it).
pub const POLLUTANTS: [&str; 6] = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3"];
/// Weather columns attached by the as-of join.
pub const WEATHER: [&str; 6] = ["TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"];

fn config<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|error| governance::Error::config("closed_loop example", error.to_string()))
}

/// Builds the cleaner that turns year, month, day and hour into `timestamp`.
pub fn canonicalise() -> Result<Canonicalise> {
    Canonicalise::new(config(json!({
        "numeric": POLLUTANTS,
        "trim": ["station"],
        "timestamp": {"year": "year", "month": "month", "day": "day", "hour": "hour", "output": "timestamp"}
    }))?)
}

/// Builds the validity rules: plausible ranges per pollutant and the known station names, with
/// near-miss station names corrected.
pub fn rules(stations: &[String]) -> Result<Rules> {
    Rules::new(config(json!({
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
    }))?)
}

/// Builds the de-duplication on station and hour.
pub fn dedupe() -> Result<Dedupe> {
    Dedupe::new(config(
        json!({"key": ["station", "timestamp"], "series": "station"}),
    )?)
}

/// Builds the interpolation of gaps of up to three hours per station.
pub fn fill_gaps() -> Result<FillGaps> {
    FillGaps::new(config(json!({
        "series": "station",
        "time": "timestamp",
        "columns": POLLUTANTS,
        "max_gap": 3
    }))?)
}

/// Builds the median/MAD outlier screen per station.
pub fn outliers() -> Result<RobustOutliers> {
    RobustOutliers::new(config(json!({
        "series": "station",
        "columns": POLLUTANTS,
        "swap_pairs": [["PM2.5", "PM10"]]
    }))?)
}

/// Builds the as-of join of each reading with the same station's weather within an hour.
pub fn weather_join(weather: Vec<GovernedBatch>) -> Result<AsOfJoin> {
    AsOfJoin::new(
        config(json!({
            "source": "weather",
            "key": "station",
            "time": "timestamp",
            "columns": WEATHER,
            "direction": "nearest",
            "tolerance_seconds": 3600
        }))?,
        weather,
    )
}

/// Builds the autoencoder anomaly detector, saving its versions under `models`.
pub fn anomalies(models: &Path) -> Result<AnomalyDetector> {
    AnomalyDetector::new(config(json!({
        "columns": ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "WSPM"],
        "warmup_rows": 20000,
        "registry_dir": models,
        "model_name": "sensor_autoencoder"
    }))?)
}

/// Builds the per-hour alert on PM2.5 above 250 µg/m³ (a severe hourly level).
pub fn hourly_alerts() -> Result<ThresholdAlerts> {
    ThresholdAlerts::new(config(json!({
        "name": "hourly_alerts",
        "rules": [{"name": "pm25_hourly_severe", "column": "PM2.5", "above": 250.0}],
        "subject_column": "station",
        "time_column": "timestamp",
        "max_findings_per_rule": 200
    }))?)
}

/// Builds the daily PM2.5 indicators and the alerts for days over China's 24-hour limit.
pub fn daily_indicators() -> SqlIndicators {
    SqlIndicators::air_quality()
}

/// Builds the guard: role `analyst` sees every column with personal data masked; every other
/// role is denied. `text_columns` limits the free-text scan (default: every text column).
/// With `tagger`, names and addresses in free text are masked too.
pub fn guard(
    name: &str,
    text_columns: Option<&[&str]>,
    tagger: Option<Arc<Tagger>>,
) -> Result<PiiGuard> {
    let guard = PiiGuard::new(config(json!({
        "text_columns": text_columns,
        "policy": {"roles": {"analyst": {"visible_columns": ["*"], "mask_personal_data": true}}}
    }))?)?
    .with_name(name);
    Ok(match tagger {
        Some(tagger) => guard.with_tagger(tagger),
        None => guard,
    })
}

/// Builds the Parquet sink and the report writer for `dir`.
pub fn sinks(dir: &Path, prefix: &str) -> Result<(ParquetSink, ReportWriter)> {
    let sink =
        ParquetSink::new(config(json!({"dir": dir}))?)?.with_name(format!("{prefix}parquet"));
    let report =
        ReportWriter::new(config(json!({"dir": dir}))?)?.with_name(format!("{prefix}report"));
    Ok((sink, report))
}

/// Builds the writer that appends the OpenLineage events of job `job` to
/// `dir/openlineage.jsonl`.
pub fn openlineage(dir: &Path, job: &str, input: &str) -> Result<OpenLineageWriter> {
    Ok(OpenLineageWriter::new(OpenLineageWriterConfig {
        path: dir.join("openlineage.jsonl"),
        namespace: "governance-example".into(),
        job: job.into(),
        input: input.into(),
        output: format!("{job}/governed.parquet"),
    })?
    .with_name(format!("{job}_openlineage")))
}

/// Reads a side source completely and adds `timestamp`, for the as-of join.
pub fn load_side(
    mut collector: impl Collector,
    audit: &governance::audit::AuditHandle,
) -> Result<Vec<GovernedBatch>> {
    let mut ctx = StageContext::new("weather_loader", 1, audit.clone());
    let mut canonical = Canonicalise::new(config(json!({
        "trim": ["station"],
        "timestamp": {"year": "year", "month": "month", "day": "day", "hour": "hour", "output": "timestamp"}
    }))?)?;
    collector.start(&mut ctx)?;
    let mut batches = Vec::new();
    while let Some(batch) = collector.next_batch(&mut ctx)? {
        batches.push(canonical.clean(batch, &mut ctx)?);
    }
    let quarantined = ctx.take_quarantined();
    if !quarantined.is_empty() {
        tracing::warn!(
            rows = quarantined.len(),
            "weather rows quarantined while loading the side source"
        );
    }
    Ok(batches)
}

/// Opens the audit log file in `out`.
pub fn audit_log(out: &Path) -> Result<governance::audit::AuditHandle> {
    Ok(AuditLog::create(out.join("audit.jsonl"))?.into_handle())
}
