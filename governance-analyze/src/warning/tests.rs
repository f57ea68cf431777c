use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{Field, Schema};
use governance_core::audit::AuditLog;
use governance_core::{Provenance, RowIdAllocator};
use governance_llm::{ForecasterConfig, HourlySeries, SeriesSet};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// 2015-01-01 00:00 of the naive clock, in hours.
const START_HOUR: i64 = 394_464;

/// A daily cycle `50 + amplitude * sin(2 pi h / 24)` with noise of ±2: it peaks at 06:00 and
/// bottoms out at 18:00.
fn cycle(hours: usize, amplitude: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..hours)
        .map(|hour| {
            let phase = std::f32::consts::TAU * (hour % 24) as f32 / 24.0;
            50.0 + amplitude * phase.sin() + rng.random_range(-2.0..2.0)
        })
        .collect()
}

/// Forecasters of horizons 3 and 9 h, trained on a high-amplitude and a low-amplitude
/// station.
fn forecasters() -> Vec<TrainedForecaster> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let hours = 50 * 24;
    let data = SeriesSet {
        covariate_names: Vec::new(),
        series: vec![
            HourlySeries {
                name: "high".into(),
                start_ms: START_HOUR * HOUR_MS,
                values: cycle(hours, 30.0, &mut rng),
                covariates: Vec::new(),
            },
            HourlySeries {
                name: "low".into(),
                start_ms: START_HOUR * HOUR_MS,
                values: cycle(hours, 5.0, &mut rng),
                covariates: Vec::new(),
            },
        ],
    };
    [9, 3]
        .into_iter()
        .map(|horizon| {
            let config = ForecasterConfig {
                lags: 24,
                horizon,
                hidden: vec![32],
                epochs: 30,
                patience: 5,
                batch_size: 64,
                learning_rate: 0.005,
                validation_share: 0.2,
                ..ForecasterConfig::default()
            };
            TrainedForecaster::train(&config, &data).expect("train")
        })
        .collect()
}

/// A batch of two days of both stations, ending at 21:00, so 3 h later (00:00) the high
/// station is at its mean and 9 h later (06:00) at its peak.
fn stream(rng: &mut ChaCha8Rng) -> GovernedBatch {
    let hours = 48;
    let first = START_HOUR + 30 * 24 + 22;
    let mut stations = Vec::new();
    let mut times = Vec::new();
    let mut values = Vec::new();
    for (name, amplitude) in [("high", 30.0), ("low", 5.0)] {
        let series = cycle(hours + 22, amplitude, rng);
        for offset in 0..hours {
            stations.push(name);
            times.push((first + offset as i64) * HOUR_MS);
            values.push(f64::from(series[22 + offset]));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", arrow::datatypes::DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("PM2.5", DataType::Float64, true),
    ]));
    let rows = stations.len();
    let data = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(stations)),
            Arc::new(TimestampMillisecondArray::from(times)),
            Arc::new(Float64Array::from(values)),
        ],
    )
    .expect("batch");
    let ids = RowIdAllocator::default().allocate(rows);
    GovernedBatch::try_new(data, ids, Provenance::new("readings")).expect("governed batch")
}

fn context() -> StageContext {
    StageContext::new("analyzers", 1, AuditLog::in_memory().into_handle())
}

fn config(trigger: WarningTrigger) -> EarlyWarningConfig {
    EarlyWarningConfig {
        subject_column: Some("station".into()),
        trigger,
        ..EarlyWarningConfig::new("pm25_above_70", "PM2.5", 70.0)
    }
}

#[test]
fn crossing_series_gets_warning_with_lead_time() {
    let mut analyzer = EarlyWarning::new(
        config(WarningTrigger::Median),
        forecasters(),
        Some("3".into()),
    )
    .expect("analyzer");
    let mut ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let batch = stream(&mut rng);
    assert!(
        analyzer
            .analyze(&batch, &mut ctx)
            .expect("analyze")
            .is_empty()
    );
    let findings = analyzer.finish(&mut ctx).expect("finish");

    let warnings: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.kind == FindingKind::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{findings:#?}");
    let warning = warnings[0];
    assert_eq!(warning.subject.as_deref(), Some("high"));
    let detail = warning.forecast.expect("forecast detail");
    assert_eq!(detail.lead_time_hours, 9);
    assert_eq!(warning.time.as_deref(), Some("2015-02-03T06:00:00"));
    let median = warning.value.expect("median");
    assert!((median - 80.0).abs() < 8.0, "peak forecast {median}");
    assert!(detail.lower < median);
    assert!(median < detail.upper);
    let probability = detail.exceedance_probability.expect("probability");
    assert!(probability > 0.5, "probability {probability}");
    assert_eq!(warning.model_version.as_deref(), Some("3"));
    assert_eq!(warning.row_ids.len(), 1);

    // Forecasts: both stations at both horizons; the low station stays below the limit.
    let forecasts: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.kind == FindingKind::Forecast)
        .collect();
    assert_eq!(forecasts.len(), 4);
    for forecast in forecasts
        .iter()
        .filter(|finding| finding.subject.as_deref() == Some("low"))
    {
        let probability = forecast
            .forecast
            .and_then(|detail| detail.exceedance_probability)
            .expect("probability");
        assert!(probability < 0.05, "low station probability {probability}");
    }
}

#[test]
fn stream_below_limit_gets_no_warning() {
    let mut config = config(WarningTrigger::Upper);
    config.limit = 200.0;
    let mut analyzer = EarlyWarning::new(config, forecasters(), None).expect("analyzer");
    let mut ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    analyzer
        .analyze(&stream(&mut rng), &mut ctx)
        .expect("analyze");
    let findings = analyzer.finish(&mut ctx).expect("finish");
    assert!(
        findings
            .iter()
            .all(|finding| finding.kind == FindingKind::Forecast),
        "{findings:#?}"
    );
    assert_eq!(findings.len(), 4);
}

#[test]
fn gappy_window_gets_no_forecast() {
    let mut analyzer =
        EarlyWarning::new(config(WarningTrigger::Median), forecasters(), None).expect("analyzer");
    let mut ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let batch = stream(&mut rng);
    // Null the last 12 hours of the high station: more than the 6 missing lags allowed.
    let values: Float64Array = (0..batch.num_rows())
        .map(|row| {
            let value = batch
                .data()
                .column(2)
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(row);
            (!(36..48).contains(&row)).then_some(value)
        })
        .collect();
    let mut columns = batch.data().columns().to_vec();
    columns[2] = Arc::new(values);
    let data = RecordBatch::try_new(batch.data().schema(), columns).expect("batch");
    let gappy = GovernedBatch::try_new(data, batch.row_ids().clone(), Provenance::new("readings"))
        .expect("governed batch");
    analyzer.analyze(&gappy, &mut ctx).expect("analyze");
    let findings = analyzer.finish(&mut ctx).expect("finish");
    assert!(
        findings
            .iter()
            .all(|finding| finding.subject.as_deref() == Some("low")),
        "{findings:#?}"
    );
}

#[test]
fn invalid_setups_are_rejected() {
    let error =
        EarlyWarning::new(config(WarningTrigger::Median), Vec::new(), None).expect_err("no model");
    assert!(error.to_string().contains("no forecaster"), "{error}");

    let models = forecasters();
    let twice = vec![models[0].clone(), models[0].clone()];
    let error =
        EarlyWarning::new(config(WarningTrigger::Median), twice, None).expect_err("same horizon");
    assert!(error.to_string().contains("horizon 9 h"), "{error}");

    let mut bad = config(WarningTrigger::Median);
    bad.limit = f64::NAN;
    let error = EarlyWarning::new(bad, models.clone(), None).expect_err("NaN limit");
    assert!(error.to_string().contains("finite"), "{error}");

    let mut missing = config(WarningTrigger::Median);
    missing.column = "PM10".into();
    let mut analyzer = EarlyWarning::new(missing, models, None).expect("analyzer");
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let error = analyzer
        .analyze(&stream(&mut rng), &mut context())
        .expect_err("absent column");
    assert!(
        error.to_string().contains("\"PM10\" is not in the batch"),
        "{error}"
    );
}
