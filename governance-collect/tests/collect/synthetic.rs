//! Synthetic city: determinism, scale, ground truth against the generated data.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use governance_collect::synthetic::pii::is_valid_resident_id;
use governance_collect::synthetic::{
    ErrorRates, GroundTruth, InjectedKind, PiiKind, SyntheticCity, SyntheticConfig,
};
use governance_core::{Chain, Collector, GovernedBatch};

use super::{audit_records, context, drain, row_count};

fn city(seed: u64, scale: u32, days: u32) -> SyntheticCity {
    SyntheticCity::new(SyntheticConfig {
        seed,
        scale,
        days,
        ..SyntheticConfig::default()
    })
    .expect("config")
}

fn collect(collector: &mut dyn Collector) -> Vec<GovernedBatch> {
    drain(collector, &mut context("synthetic")).expect("generate")
}

/// Returns the text of cell (`row`, `column`) of `batch`, or `None` when it is null.
fn cell_text(batch: &GovernedBatch, column: &str, row: usize) -> Option<String> {
    let array = batch.column(column).expect("column");
    if array.is_null(row) {
        return None;
    }
    if column == "station" {
        Some(array.as_string::<i32>().value(row).to_string())
    } else {
        Some(array.as_primitive::<Float64Type>().value(row).to_string())
    }
}

/// Maps every row id of `batches` to (batch index, row index).
fn locate(batches: &[GovernedBatch]) -> HashMap<u64, (usize, usize)> {
    let mut located = HashMap::new();
    for (batch_index, batch) in batches.iter().enumerate() {
        for (row, id) in batch.row_ids().values().iter().enumerate() {
            located.insert(*id, (batch_index, row));
        }
    }
    located
}

#[test]
fn same_seed_gives_identical_output() {
    let first = city(5, 1, 10);
    let second = city(5, 1, 10);

    let batches_a = collect(&mut first.sensor_collector());
    let batches_b = collect(&mut second.sensor_collector());

    assert_eq!(batches_a.len(), batches_b.len());
    for (a, b) in batches_a.iter().zip(&batches_b) {
        assert_eq!(a.data(), b.data());
        assert_eq!(a.row_ids(), b.row_ids());
    }
    let tickets_a = collect(&mut first.ticket_collector());
    let tickets_b = collect(&mut second.ticket_collector());
    for (a, b) in tickets_a.iter().zip(&tickets_b) {
        assert_eq!(a.data(), b.data());
    }
    assert_eq!(
        first.ground_truth().expect("truth"),
        second.ground_truth().expect("truth")
    );
}

#[test]
fn different_seed_gives_different_output() {
    let a = city(1, 1, 5).sensor_batch(0).expect("batch");
    let b = city(2, 1, 5).sensor_batch(0).expect("batch");
    let pm25 = |batch: &GovernedBatch| {
        batch
            .column("PM2.5")
            .expect("PM2.5")
            .as_primitive::<Float64Type>()
            .clone()
    };
    assert_ne!(pm25(&a), pm25(&b));
    assert_ne!(
        city(1, 1, 20).ground_truth().expect("truth"),
        city(2, 1, 20).ground_truth().expect("truth")
    );
}

#[test]
fn scale_multiplies_stations() {
    let small = city(3, 1, 2);
    let large = city(3, 2, 2);
    assert!(large.stations().len() > small.stations().len());
    assert_eq!(large.stations().len(), 2 * small.stations().len());

    let stations = |city: &SyntheticCity| -> HashSet<String> {
        let truth = city.ground_truth().expect("truth");
        let typos: HashSet<u64> = truth
            .errors_of(InjectedKind::Typo)
            .map(|error| error.row_id)
            .collect();
        let mut names = HashSet::new();
        for batch in collect(&mut city.sensor_collector()) {
            let stations = batch.column("station").expect("station").as_string::<i32>();
            for row in 0..batch.num_rows() {
                if !typos.contains(&batch.row_ids().value(row)) {
                    names.insert(stations.value(row).to_string());
                }
            }
        }
        names
    };
    assert_eq!(stations(&large).len(), large.stations().len());
}

#[test]
fn batch_size_does_not_grow_with_scale() {
    let small = city(3, 1, 7).sensor_batch(0).expect("batch");
    let large_city = city(3, 10, 7);
    let large = large_city.sensor_batch(0).expect("batch");
    // Duplicates vary per batch, so allow a few rows of difference.
    assert!(small.num_rows().abs_diff(large.num_rows()) < 20);
    assert_eq!(large_city.batch_count(), 10 * city(3, 1, 7).batch_count());
}

#[test]
fn row_ids_are_unique_across_feeds() {
    let city = city(8, 2, 8);
    let mut seen = HashSet::new();
    for batches in [
        collect(&mut city.sensor_collector()),
        collect(&mut city.weather_collector()),
        collect(&mut city.ticket_collector()),
    ] {
        for batch in batches {
            for id in batch.row_ids().values() {
                assert!(seen.insert(*id), "row id {id} repeats");
            }
        }
    }
}

#[test]
fn ground_truth_matches_sensor_data() {
    let city = city(11, 1, 60);
    let truth: GroundTruth = city.ground_truth().expect("truth");
    let batches = collect(&mut city.sensor_collector());
    let located = locate(&batches);

    for kind in [
        InjectedKind::Outlier,
        InjectedKind::Swap,
        InjectedKind::Duplicate,
        InjectedKind::Typo,
        InjectedKind::Gap,
    ] {
        assert!(truth.errors_of(kind).count() > 0, "no {kind:?} injected");
    }
    for error in &truth.errors {
        let &(batch, row) = located.get(&error.row_id).expect("truth row id in output");
        let batch = &batches[batch];
        match error.kind {
            InjectedKind::Duplicate => {
                let original = error.duplicate_of.expect("duplicate names its original");
                let &(other_batch, other_row) = located.get(&original).expect("original exists");
                let other = &batches[other_batch];
                let key = |batch: &GovernedBatch, row: usize| {
                    let hour = batch
                        .column("hour")
                        .expect("hour")
                        .as_primitive::<Int64Type>()
                        .value(row);
                    let day = batch
                        .column("day")
                        .expect("day")
                        .as_primitive::<Int64Type>()
                        .value(row);
                    (day, hour, cell_text(batch, "station", row))
                };
                assert_eq!(key(batch, row), key(other, other_row));
            }
            InjectedKind::Gap => {
                let column = error.column.as_deref().expect("gap column");
                assert_eq!(cell_text(batch, column, row), None);
                assert!(error.clean_value.is_some());
            }
            InjectedKind::Outlier => {
                let column = error.column.as_deref().expect("outlier column");
                let emitted: f64 = cell_text(batch, column, row)
                    .expect("value")
                    .parse()
                    .expect("number");
                let clean: f64 = error
                    .clean_value
                    .as_deref()
                    .expect("clean")
                    .parse()
                    .expect("number");
                assert!(
                    emitted >= clean * 7.9 && emitted <= clean * 15.1,
                    "{emitted} vs {clean}"
                );
            }
            InjectedKind::Swap => {
                let column = error.column.as_deref().expect("swap column");
                let other = if column == "PM2.5" { "PM10" } else { "PM2.5" };
                assert_eq!(cell_text(batch, other, row), error.clean_value);
            }
            InjectedKind::Typo => {
                let emitted = cell_text(batch, "station", row).expect("station");
                let clean = error.clean_value.clone().expect("clean station");
                assert_ne!(emitted, clean);
                assert!(city.stations().contains(&clean));
                assert!(!city.stations().contains(&emitted));
            }
        }
    }
}

#[test]
fn untouched_rows_keep_pm25_below_pm10() {
    let city = city(4, 1, 30);
    let truth = city.ground_truth().expect("truth");
    let touched: HashSet<u64> = truth.errors.iter().map(|error| error.row_id).collect();
    for batch in collect(&mut city.sensor_collector()) {
        let pm25 = batch
            .column("PM2.5")
            .expect("PM2.5")
            .as_primitive::<Float64Type>()
            .clone();
        let pm10 = batch
            .column("PM10")
            .expect("PM10")
            .as_primitive::<Float64Type>()
            .clone();
        for row in 0..batch.num_rows() {
            if touched.contains(&batch.row_ids().value(row)) {
                continue;
            }
            assert!(pm25.value(row) < pm10.value(row));
        }
    }
}

#[test]
fn error_rates_are_near_configured() {
    let city = city(21, 1, 60);
    let truth = city.ground_truth().expect("truth");
    let readings = 6.0 * 60.0 * 24.0;
    let rate = |kind| truth.errors_of(kind).count() as f64 / readings;
    let outliers = rate(InjectedKind::Outlier);
    assert!(
        (0.006..0.014).contains(&outliers),
        "outlier rate {outliers}"
    );
    // A swap is listed once per column, two entries per swapped row.
    let swaps = rate(InjectedKind::Swap) / 2.0;
    assert!((0.002..0.008).contains(&swaps), "swap rate {swaps}");
}

#[test]
fn clean_config_injects_nothing() {
    let city = SyntheticCity::new(SyntheticConfig {
        days: 10,
        errors: ErrorRates::none(),
        ..SyntheticConfig::default()
    })
    .expect("config");
    let truth = city.ground_truth().expect("truth");
    assert!(truth.errors.is_empty());
    assert_eq!(row_count(&collect(&mut city.sensor_collector())), 6 * 240);
}

#[test]
fn placed_pii_is_in_ticket_text() {
    let city = city(13, 1, 30);
    let truth = city.ground_truth().expect("truth");
    let batches = collect(&mut city.ticket_collector());
    let located = locate(&batches);

    for kind in [
        PiiKind::Name,
        PiiKind::Phone,
        PiiKind::Email,
        PiiKind::ResidentId,
    ] {
        assert!(truth.pii_of(kind).count() > 0, "no {kind:?} placed");
    }
    for placed in &truth.pii {
        let &(batch, row) = located
            .get(&placed.row_id)
            .expect("ticket row id in output");
        let text = batches[batch]
            .column("text")
            .expect("text")
            .as_string::<i32>()
            .value(row);
        assert_eq!(&text[placed.start..placed.end], placed.value);
    }
}

#[test]
fn every_placed_resident_id_validates() {
    let truth = city(17, 2, 30).ground_truth().expect("truth");
    let ids: Vec<&str> = truth
        .pii_of(PiiKind::ResidentId)
        .map(|placed| placed.value.as_str())
        .collect();
    assert!(ids.len() > 20);
    for id in ids {
        assert!(is_valid_resident_id(id), "{id}");
    }
}

#[test]
fn some_ids_are_glued_to_chinese_text() {
    let city = city(19, 1, 30);
    let truth = city.ground_truth().expect("truth");
    let batches = collect(&mut city.ticket_collector());
    let located = locate(&batches);
    let glued = truth.pii_of(PiiKind::ResidentId).any(|placed| {
        let (batch, row) = located[&placed.row_id];
        let text = batches[batch]
            .column("text")
            .expect("text")
            .as_string::<i32>()
            .value(row);
        text[..placed.start].ends_with("身份证号")
    });
    assert!(glued);
}

#[test]
fn weather_has_beijing_columns() {
    let city = city(2, 1, 3);
    let batches = city.weather_batches().expect("weather");
    assert_eq!(
        batches[0].column_names(),
        [
            "year", "month", "day", "hour", "station", "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"
        ]
    );
    assert_eq!(row_count(&batches), 6 * 72);
}

#[test]
fn chain_counts_generated_rows() {
    let city = city(6, 1, 14);
    let mut chain = Chain::builder()
        .collect(city.sensor_collector())
        .build()
        .expect("chain");

    let first = chain.run_blocking().expect("round 1");
    let second = chain.run_blocking().expect("round 2");

    assert_eq!(first.stages[0].rows_in, first.stages[0].rows_out);
    assert_eq!(first.stages[0].rows_out, second.stages[0].rows_out);
    assert_eq!(first.stages[0].name, "synthetic_sensors");
}

#[test]
fn each_batch_is_audited() {
    let city = city(6, 1, 14);
    let mut ctx = context("synthetic_weather");
    let batches = drain(&mut city.weather_collector(), &mut ctx).expect("weather");
    let records = audit_records(&ctx);
    assert_eq!(records.len(), batches.len());
    assert!(records[0].detail.starts_with("batch=0 rows="));
}

#[test]
fn config_rejects_unknown_fields() {
    let error = serde_json::from_str::<SyntheticConfig>(r#"{"seed":1,"stations":9}"#)
        .expect_err("unknown field");
    assert!(error.to_string().contains("stations"));
}
