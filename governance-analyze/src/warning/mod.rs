//! Early warning: forecasts of a column per series from trained quantile forecasters, with a
//! warning where a forecast crosses a limit.
//!
//! The analyzer keeps, per series, the last hours of the stream that its forecasters need.
//! After the last batch it forecasts from the latest hour of each series with every
//! forecaster (one per horizon), emits a forecast finding per series and horizon, and a
//! warning at the shortest horizon whose forecast crosses the limit. Each finding carries
//! the lead time, the median as its value, the prediction interval and the estimated
//! probability of exceeding the limit in its [`ForecastDetail`].

mod config;

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
use governance_core::audit::AuditAction;
use governance_core::{
    Analyzer, Error, Finding, FindingKind, ForecastDetail, GovernedBatch, Result, Stage,
    StageContext,
};
use governance_llm::forecaster::{ForecastWindow, HOUR_MS};
use governance_llm::{QuantileForecast, TrainedForecaster};

pub use config::{EarlyWarningConfig, WarningTrigger};

use crate::text::{text_at, to_float, to_text};

/// One observed hour of a series.
#[derive(Debug, Clone)]
struct Observation {
    value: f32,
    covariates: Vec<f32>,
    row_id: u64,
}

/// Counts of one round, for the audit record.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    rows: u64,
    rows_without_time: u64,
    rows_off_the_hour: u64,
    repeated_hours: u64,
    no_forecast: u64,
}

/// Forecasts a column per series and warns before it crosses a limit, as an [`Analyzer`].
///
/// Rows with a null or non-hourly time cannot be placed in a series. A row that repeats an
/// hour already seen for its series is ignored in favour of the first one, as the `Dedupe`
/// cleaner keeps the first. Both are counted in the audit record and logged, never dropped
/// silently; the data itself is never changed. A series whose latest window has too many
/// missing hours for a forecaster gets no forecast at that horizon, which is counted too.
///
/// # Audit
///
/// At `finish`, a `Read` of the stream with the rows seen, the series, the findings and the
/// counts above.
#[derive(Debug)]
pub struct EarlyWarning {
    config: EarlyWarningConfig,
    /// Forecasters sorted by horizon.
    models: Vec<TrainedForecaster>,
    model_version: Option<String>,
    history_hours: i64,
    series: BTreeMap<String, BTreeMap<i64, Observation>>,
    counts: Counts,
}

impl EarlyWarning {
    /// Creates the analyzer with forecasters of distinct horizons, all trained on the same
    /// covariates. `model_version`, such as a registry version, goes into every finding.
    pub fn new(
        config: EarlyWarningConfig,
        mut models: Vec<TrainedForecaster>,
        model_version: Option<String>,
    ) -> Result<Self> {
        config.validate()?;
        let component = config.name.clone();
        let Some(first) = models.first() else {
            return Err(Error::config(
                component,
                "no forecaster: pass at least one trained forecaster",
            ));
        };
        let covariates = first.covariate_names().to_vec();
        if let Some(other) = models
            .iter()
            .find(|model| model.covariate_names() != covariates.as_slice())
        {
            return Err(Error::config(
                component,
                format!(
                    "the forecasters take different covariates: [{}] and [{}]; train them on \
                     the same columns",
                    covariates.join(", "),
                    other.covariate_names().join(", ")
                ),
            ));
        }
        models.sort_by_key(TrainedForecaster::horizon);
        if let Some(pair) = models
            .windows(2)
            .find(|pair| pair[0].horizon() == pair[1].horizon())
        {
            return Err(Error::config(
                component,
                format!(
                    "two forecasters have horizon {} h; pass one per horizon",
                    pair[0].horizon()
                ),
            ));
        }
        let history_hours = models
            .iter()
            .map(TrainedForecaster::lags)
            .max()
            .unwrap_or(1) as i64;
        Ok(EarlyWarning {
            config,
            models,
            model_version,
            history_hours,
            series: BTreeMap::new(),
            counts: Counts::default(),
        })
    }

    /// Returns the config.
    pub fn config(&self) -> &EarlyWarningConfig {
        &self.config
    }

    fn covariate_names(&self) -> &[String] {
        self.models
            .first()
            .map(TrainedForecaster::covariate_names)
            .unwrap_or_default()
    }

    fn float_column(
        &self,
        batch: &GovernedBatch,
        column: &str,
        role: &str,
    ) -> Result<Float64Array> {
        let array = batch.data().column_by_name(column).ok_or_else(|| {
            Error::InvalidInput(format!(
                "{role} {column:?} is not in the batch; the batch has: {}",
                batch.column_names().join(", ")
            ))
        })?;
        to_float(array, &format!("{role} {column:?}"))
    }

    /// Builds the window of `series` that ends at `origin` for a forecaster with `lags` lags.
    fn window(
        name: &str,
        hours: &BTreeMap<i64, Observation>,
        origin: i64,
        lags: usize,
        covariates: &[f32],
    ) -> ForecastWindow {
        let first = origin - lags as i64 + 1;
        ForecastWindow {
            series: name.to_string(),
            origin_ms: origin * HOUR_MS,
            lags: (first..=origin)
                .map(|hour| hours.get(&hour).map_or(f32::NAN, |seen| seen.value))
                .collect(),
            covariates: covariates.to_vec(),
        }
    }

    fn finding(
        &self,
        kind: FindingKind,
        subject: &str,
        origin: &Observation,
        origin_hour: i64,
        model: &TrainedForecaster,
        forecast: &QuantileForecast,
    ) -> Finding {
        let horizon = model.horizon();
        let time = hour_text(origin_hour + horizon as i64);
        let probability = model.exceedance_probability(forecast, self.config.limit as f32);
        let message = match kind {
            FindingKind::Warning => format!(
                "{}: {} forecast at {:.1} (interval {:.1} to {:.1}) above {} at {time} for \
                 {subject}, {horizon} h ahead; probability of exceeding {probability:.2}",
                self.config.severity.as_str(),
                self.config.column,
                forecast.median,
                forecast.lower,
                forecast.upper,
                self.config.limit
            ),
            _ => format!(
                "{} forecast {:.1} (interval {:.1} to {:.1}) at {time} for {subject}, \
                 {horizon} h ahead",
                self.config.column, forecast.median, forecast.lower, forecast.upper
            ),
        };
        let mut finding = Finding::new(kind, &self.config.rule, &self.config.name, message);
        finding.subject = Some(subject.to_string());
        finding.time = Some(time);
        finding.value = Some(f64::from(forecast.median));
        finding.threshold = Some(self.config.limit);
        finding.row_ids = vec![origin.row_id];
        finding.model_version = self.model_version.clone();
        if kind == FindingKind::Warning {
            finding.severity = Some(self.config.severity);
        }
        finding.forecast = Some(ForecastDetail {
            lead_time_hours: horizon as u32,
            lower: f64::from(forecast.lower),
            upper: f64::from(forecast.upper),
            interval_level: f64::from(forecast.level),
            exceedance_probability: Some(probability),
        });
        finding
    }
}

/// Formats an hour index of the naive clock as `2017-03-01T08:00:00`.
fn hour_text(hour: i64) -> String {
    chrono::DateTime::from_timestamp_millis(hour * HOUR_MS).map_or_else(
        || format!("hour {hour}"),
        |time| time.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
    )
}

impl Stage for EarlyWarning {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn version(&self) -> String {
        self.model_version.clone().unwrap_or_else(|| "1".into())
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "config": self.config,
            "horizons": self.models.iter().map(TrainedForecaster::horizon).collect::<Vec<_>>(),
            "covariates": self.covariate_names(),
        })
    }

    fn describe(&self) -> String {
        format!(
            "early warning on {} above {}, {} horizons",
            self.config.column,
            self.config.limit,
            self.models.len()
        )
    }
}

impl Analyzer for EarlyWarning {
    fn analyze(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let rows = batch.num_rows();
        self.counts.rows += rows as u64;
        let values = self.float_column(batch, &self.config.column, "column")?;
        let covariates: Vec<Float64Array> = self
            .covariate_names()
            .iter()
            .map(|name| self.float_column(batch, name, "covariate"))
            .collect::<Result<_>>()?;
        let time_array = batch.column(&self.config.time_column)?;
        let times = cast(
            time_array,
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )
        .map_err(|error| {
            Error::InvalidInput(format!(
                "time_column {:?} has type {}, which is not a timestamp: {error}",
                self.config.time_column,
                time_array.data_type()
            ))
        })?;
        let times = times.as_primitive::<TimestampMillisecondType>();
        let subjects = match &self.config.subject_column {
            Some(column) => Some(to_text(
                batch.column(column)?,
                &format!("subject_column {column:?}"),
            )?),
            None => None,
        };

        let mut latest: HashMap<String, i64> = HashMap::new();
        for row in 0..rows {
            if times.is_null(row) {
                self.counts.rows_without_time += 1;
                continue;
            }
            let time = times.value(row);
            if time.rem_euclid(HOUR_MS) != 0 {
                self.counts.rows_off_the_hour += 1;
                continue;
            }
            let hour = time.div_euclid(HOUR_MS);
            let subject =
                text_at(subjects.as_ref(), row).unwrap_or_else(|| self.config.column.clone());
            let value = if values.is_null(row) {
                f32::NAN
            } else {
                values.value(row) as f32
            };
            let observation = Observation {
                value,
                covariates: covariates
                    .iter()
                    .map(|column| {
                        if column.is_null(row) {
                            f32::NAN
                        } else {
                            column.value(row) as f32
                        }
                    })
                    .collect(),
                row_id: batch.row_ids().value(row),
            };
            let hours = self.series.entry(subject.clone()).or_default();
            if hours.contains_key(&hour) {
                self.counts.repeated_hours += 1;
                continue;
            }
            hours.insert(hour, observation);
            let entry = latest.entry(subject).or_insert(hour);
            *entry = (*entry).max(hour);
        }
        // Keep only the hours the longest forecaster window needs.
        for (subject, newest) in latest {
            if let Some(hours) = self.series.get_mut(&subject) {
                let newest = hours.keys().next_back().copied().unwrap_or(newest);
                let keep_from = newest - self.history_hours + 1;
                *hours = hours.split_off(&keep_from);
            }
        }
        Ok(Vec::new())
    }

    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let series = std::mem::take(&mut self.series);
        let mut findings = Vec::new();
        let (mut forecasts_made, mut warnings) = (0u64, 0u64);
        for (subject, hours) in &series {
            let Some((&origin_hour, origin)) = hours.iter().next_back() else {
                continue;
            };
            let mut warned = false;
            for model in &self.models {
                let window = Self::window(
                    subject,
                    hours,
                    origin_hour,
                    model.lags(),
                    &origin.covariates,
                );
                let forecast = model
                    .predict(std::slice::from_ref(&window))
                    .map_err(|error| Error::stage(&self.config.name, error))?;
                let Some(Some(forecast)) = forecast.into_iter().next() else {
                    self.counts.no_forecast += 1;
                    tracing::warn!(
                        analyzer = %self.config.name,
                        subject = %subject,
                        horizon = model.horizon(),
                        "too many missing hours in the latest window; no forecast"
                    );
                    continue;
                };
                forecasts_made += 1;
                if self.config.emit_forecasts {
                    findings.push(self.finding(
                        FindingKind::Forecast,
                        subject,
                        origin,
                        origin_hour,
                        model,
                        &forecast,
                    ));
                }
                let compared = match self.config.trigger {
                    WarningTrigger::Median => forecast.median,
                    WarningTrigger::Upper => forecast.upper,
                };
                if !warned && f64::from(compared) > self.config.limit {
                    warned = true;
                    warnings += 1;
                    findings.push(self.finding(
                        FindingKind::Warning,
                        subject,
                        origin,
                        origin_hour,
                        model,
                        &forecast,
                    ));
                }
            }
        }
        let counts = std::mem::take(&mut self.counts);
        if counts.rows_without_time + counts.rows_off_the_hour + counts.repeated_hours > 0 {
            tracing::warn!(
                analyzer = %self.config.name,
                rows_without_time = counts.rows_without_time,
                rows_off_the_hour = counts.rows_off_the_hour,
                repeated_hours = counts.repeated_hours,
                "rows not placed in a series"
            );
        }
        ctx.audit(
            AuditAction::Read,
            "stream",
            &format!(
                "rows={} series={} forecasts={forecasts_made} warnings={warnings} \
                 no_forecast={} rows_without_time={} rows_off_the_hour={} repeated_hours={}",
                counts.rows,
                series.len(),
                counts.no_forecast,
                counts.rows_without_time,
                counts.rows_off_the_hour,
                counts.repeated_hours
            ),
        )?;
        Ok(findings)
    }
}

#[cfg(test)]
mod tests;
