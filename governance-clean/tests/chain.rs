//! The five cleaners in one chain, on hand-made station data with known faults and, when the
//! data set is present, on a real hourly air-quality file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use governance_clean::{
    Canonicalise, CanonicaliseConfig, Dedupe, DedupeConfig, FillGaps, FillGapsConfig,
    RobustOutliers, RobustOutliersConfig, Rules, RulesConfig,
};
use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Chain, Collector, Feedback, GovernedBatch, IssueKind, Label, Provenance, Result,
    RowIdAllocator, RunSummary, Stage, StageContext,
};

/// Emits prepared record batches, giving every row a fresh id.
struct BatchCollector {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
}

impl BatchCollector {
    fn new(batches: Vec<RecordBatch>) -> Self {
        BatchCollector {
            batches,
            next: 0,
            ids: RowIdAllocator::default(),
        }
    }
}

impl Stage for BatchCollector {
    fn name(&self) -> &str {
        "batches"
    }
}

impl Collector for BatchCollector {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let Some(data) = self.batches.get(self.next).cloned() else {
            return Ok(None);
        };
        self.next += 1;
        ctx.record_read(data.num_rows() as u64);
        ctx.audit(
            AuditAction::Read,
            "batches",
            &format!("rows={}", data.num_rows()),
        )?;
        let ids = self.ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("test")).map(Some)
    }
}

/// Keeps every batch that reaches the end of the chain.
struct Keep(Arc<Mutex<Vec<GovernedBatch>>>);

impl Stage for Keep {
    fn name(&self) -> &str {
        "keep"
    }
}

impl Applicator for Keep {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.0.lock().expect("kept batches").push(batch.clone());
        Ok(())
    }
}

/// One raw row in the layout of the station files.
#[derive(Clone)]
struct RawRow {
    station: String,
    month: i64,
    hour_of_series: i64,
    pm25: Option<String>,
    pm10: Option<String>,
    temp: f64,
}

fn base_pm25(hour: i64, station: &str) -> f64 {
    let offset = if station == "Tiantan" { 5.0 } else { 0.0 };
    ((40.0 + 10.0 * (hour as f64 / 6.0).sin() + offset) * 10.0).round() / 10.0
}

fn base_pm10(hour: i64, station: &str) -> f64 {
    ((base_pm25(hour, station) * 1.5 + 5.0) * 10.0).round() / 10.0
}

fn clean_row(station: &str, hour: i64) -> RawRow {
    RawRow {
        station: station.into(),
        month: 3,
        hour_of_series: hour,
        pm25: Some(base_pm25(hour, station).to_string()),
        pm10: Some(base_pm10(hour, station).to_string()),
        temp: 10.0 + (hour % 7) as f64,
    }
}

fn to_batch(rows: &[RawRow]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("year", DataType::Int64, true),
        Field::new("month", DataType::Int64, true),
        Field::new("day", DataType::Int64, true),
        Field::new("hour", DataType::Int64, true),
        Field::new("PM2.5", DataType::Utf8, true),
        Field::new("PM10", DataType::Utf8, true),
        Field::new("TEMP", DataType::Float64, true),
        Field::new("station", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![2013; rows.len()])),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|row| row.month),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|row| 1 + row.hour_of_series / 24),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|row| row.hour_of_series % 24),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|row| row.pm25.clone()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|row| row.pm10.clone()),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|row| row.temp),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|row| row.station.clone()),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("raw batch")
}

/// Hand-made data with one of each fault, and the position of every faulty row.
struct Faulty {
    batches: Vec<Vec<RawRow>>,
    positions: HashMap<&'static str, usize>,
}

fn faulty_data() -> Faulty {
    let mut dongsi: Vec<RawRow> = (0..80).map(|hour| clean_row("Dongsi", hour)).collect();
    for hour in [10, 11, 30, 31, 32, 33, 34] {
        dongsi[hour].pm25 = Some("NA".into());
    }
    for hour in [48, 49] {
        dongsi[hour].pm25 = Some(String::new());
    }
    dongsi[7].pm25 = None;
    dongsi[20].pm10 = Some((base_pm10(20, "Dongsi") * 12.0).to_string());
    dongsi[25].pm25 = Some(base_pm10(25, "Dongsi").to_string());
    dongsi[25].pm10 = Some(base_pm25(25, "Dongsi").to_string());
    dongsi[40].pm25 = Some(format!("{} ug/m3", base_pm25(40, "Dongsi")));
    dongsi[41].pm25 = Some("n/d".into());
    dongsi[60].station = "Dongsii".into();
    let tiantan: Vec<RawRow> = (0..80).map(|hour| clean_row("Tiantan", hour)).collect();
    let mut bad_date = clean_row("Tiantan", 80);
    bad_date.month = 13;

    // Batch 1: Dongsi hours 0-49 with hour 7 repeated at once (the repeat has the value the
    // first one lacks). Batch 2: hour 45 repeated, Dongsi 50-79, Tiantan 0-19. Batch 3: the
    // rest of Tiantan and a row with month 13.
    let mut first: Vec<RawRow> = dongsi[..50].to_vec();
    first.insert(8, clean_row("Dongsi", 7));
    let mut second = vec![clean_row("Dongsi", 45)];
    second.extend_from_slice(&dongsi[50..]);
    second.extend_from_slice(&tiantan[..20]);
    let mut third: Vec<RawRow> = tiantan[20..].to_vec();
    third.push(bad_date);

    let positions = HashMap::from([
        ("hour 7", 7),
        ("hour 7 repeat", 8),
        ("hour 9", 10),
        ("hour 10", 11),
        ("hour 12", 13),
        ("hour 20", 21),
        ("hour 25", 26),
        ("hour 30", 31),
        ("hour 40", 41),
        ("hour 41", 42),
        ("hour 47", 48),
        ("hour 48", 49),
        ("hour 45 repeat", 51),
        ("hour 50", 52),
        ("hour 60", 62),
        ("month 13", 162),
    ]);
    assert_eq!(first.len() + second.len() + third.len(), 163);
    Faulty {
        batches: vec![first, second, third],
        positions,
    }
}

fn rules_config(stations: &[&str]) -> RulesConfig {
    let json = serde_json::json!({"rules": [
        {"column": "PM2.5", "check": {"range": {"min": 0, "max": 1000}}},
        {"column": "timestamp", "check": "not_null"},
        {"column": "station", "check": {"allowed": stations}, "action": "correct"},
    ]});
    serde_json::from_value(json).expect("rules config")
}

fn build_chain(
    batches: Vec<RecordBatch>,
    canonical: CanonicaliseConfig,
    stations: &[&str],
    kept: Arc<Mutex<Vec<GovernedBatch>>>,
) -> Chain {
    Chain::builder()
        .collect(BatchCollector::new(batches))
        .clean(Canonicalise::new(canonical).expect("canonicalise"))
        .clean(Rules::new(rules_config(stations)).expect("rules"))
        .clean(Dedupe::new(DedupeConfig::default()).expect("dedupe"))
        .clean(FillGaps::new(FillGapsConfig::default()).expect("fill gaps"))
        .clean(RobustOutliers::new(RobustOutliersConfig::default()).expect("outliers"))
        .apply(Keep(kept))
        .build()
        .expect("chain")
}

fn assert_row_counts(summary: &RunSummary) {
    for stage in &summary.stages {
        assert_eq!(
            stage.rows_in,
            stage.rows_out + stage.rows_quarantined + stage.rows_merged,
            "row count of stage {}",
            stage.name
        );
    }
}

fn take_output(kept: &Arc<Mutex<Vec<GovernedBatch>>>) -> GovernedBatch {
    let batches = std::mem::take(&mut *kept.lock().expect("kept batches"));
    GovernedBatch::concat(&batches)
        .expect("concat")
        .expect("some output")
}

fn float_column(batch: &GovernedBatch, name: &str) -> Float64Array {
    batch
        .column(name)
        .expect("column")
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("Float64")
        .clone()
}

#[test]
fn cleaners_fix_injected_faults() {
    let data = faulty_data();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let batches = data.batches.iter().map(|rows| to_batch(rows)).collect();
    let canonical = CanonicaliseConfig {
        numeric: vec!["PM2.5".into(), "PM10".into(), "TEMP".into()],
        trim: vec!["station".into()],
        ..CanonicaliseConfig::hourly_air_quality()
    };
    let mut chain = build_chain(
        batches,
        canonical,
        &["Dongsi", "Tiantan"],
        Arc::clone(&kept),
    );
    let summary = chain.run_blocking().expect("round 1");

    assert_row_counts(&summary);
    let by_name: HashMap<&str, _> = summary
        .stages
        .iter()
        .map(|stage| (stage.name.as_str(), stage))
        .collect();
    assert_eq!(by_name["batches"].rows_out, 163);
    assert_eq!(by_name["dedupe"].rows_merged, 2);
    assert_eq!(by_name["fill_gaps"].rows_in, 161);
    assert_eq!(
        by_name["fill_gaps"].rows_out, 161,
        "held rows are released by flush"
    );
    assert_eq!(summary.rows_delivered, 161);
    assert!(summary.audit_verified);

    let output = take_output(&kept);
    let id = |label: &str| data.positions[label] as u64;
    let position: HashMap<u64, usize> = output
        .row_ids()
        .values()
        .iter()
        .enumerate()
        .map(|(index, &row_id)| (row_id, index))
        .collect();
    assert!(!position.contains_key(&id("hour 7 repeat")));
    assert!(!position.contains_key(&id("hour 45 repeat")));

    let pm25 = float_column(&output, "PM2.5");
    let at = |label: &str| position[&id(label)];
    // Dedupe filled hour 7 from its repeat; FillGaps interpolated hours 10-11, 41 and 48-49
    // (the last across a batch boundary) and left the five-hour gap at 30-34 empty.
    assert_eq!(pm25.value(at("hour 7")), base_pm25(7, "Dongsi"));
    let (left, right) = (base_pm25(9, "Dongsi"), base_pm25(12, "Dongsi"));
    assert!((pm25.value(at("hour 10")) - (left + (right - left) / 3.0)).abs() < 1e-9);
    let (left, right) = (base_pm25(47, "Dongsi"), base_pm25(50, "Dongsi"));
    assert!((pm25.value(at("hour 48")) - (left + (right - left) / 3.0)).abs() < 1e-9);
    assert!(pm25.is_valid(at("hour 41")));
    assert!(pm25.is_null(at("hour 30")));
    assert_eq!(pm25.value(at("hour 40")), base_pm25(40, "Dongsi"));

    let stations = output.column("station").expect("station");
    let stations = stations
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("Utf8");
    assert_eq!(stations.value(at("hour 60")), "Dongsi");
    let stamps = output.column("timestamp").expect("timestamp");
    let stamps = stamps
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .expect("timestamp");
    assert_eq!(stamps.null_count(), 1);
    assert!(stamps.is_null(at("month 13")));

    let kinds = &summary.issues_by_kind;
    assert_eq!(kinds[&IssueKind::Duplicate], 2);
    assert_eq!(
        kinds[&IssueKind::Imputed],
        6,
        "one from dedupe, five from gap filling"
    );
    assert_eq!(kinds[&IssueKind::Format], 2, "\"n/d\" and month 13");
    assert_eq!(kinds[&IssueKind::Missing], 1, "the null timestamp");
    assert_eq!(kinds[&IssueKind::NotAllowed], 1);
    assert_eq!(
        kinds[&IssueKind::Canonicalised],
        2,
        "the unit and the corrected station"
    );
    assert_eq!(
        kinds[&IssueKind::OutOfRange],
        2,
        "both cells of the swapped pair"
    );
    assert_eq!(kinds[&IssueKind::Outlier], 1);

    let outlier = output
        .issues
        .issues()
        .iter()
        .find(|issue| issue.kind == IssueKind::Outlier)
        .expect("outlier issue");
    assert_eq!(
        (outlier.row_id, outlier.column.as_deref()),
        (id("hour 20"), Some("PM10"))
    );
    let swapped: Vec<_> = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::OutOfRange)
        .collect();
    assert!(swapped.iter().all(|issue| issue.row_id == id("hour 25")));
    let duplicate_of_emitted = output
        .issues
        .issues()
        .iter()
        .find(|issue| {
            issue.kind == IssueKind::Duplicate
                && issue
                    .message
                    .contains(&format!("row {} ", id("hour 45 repeat")))
        })
        .expect("duplicate issue on the row emitted with batch 1");
    assert_eq!(duplicate_of_emitted.row_id, id("hour 45 repeat") - 5);

    // Every stage that changed data wrote a change record with counts.
    let audit = chain.audit().lock().expect("audit").records().to_vec();
    for stage in ["canonicalise", "rules", "dedupe", "fill_gaps"] {
        assert!(
            audit.iter().any(|record| record.actor == stage
                && record.action == AuditAction::Change
                && record.detail.starts_with("count=")),
            "no change record from {stage}"
        );
    }

    // Rejecting the one outlier flag raises the threshold, and round 2 names version 2.
    let feedback = [Feedback::cell(
        outlier.row_id,
        "PM10",
        Label::Rejected,
        "reviewer",
    )];
    let adjustments = chain.learn(&feedback).expect("learn");
    assert_eq!(adjustments.len(), 1);
    assert_eq!(
        (
            adjustments[0].stage.as_str(),
            adjustments[0].to_version.as_str()
        ),
        ("robust_outliers", "2")
    );
    let threshold = adjustments[0].params["threshold"]
        .as_f64()
        .expect("threshold");
    assert!(threshold > 5.0);

    let second = chain.run_blocking().expect("round 2");
    assert_row_counts(&second);
    assert_eq!(
        second.rows_delivered, 161,
        "dedupe starts each round afresh"
    );
    let outliers = second
        .lineage
        .iter()
        .find(|record| record.stage == "robust_outliers")
        .expect("lineage");
    assert_eq!((outliers.round, outliers.version.as_str()), (2, "2"));
}

/// Reads one station file as the collector of the station files would: date parts as Int64,
/// readings kept as raw text so that the canonicaliser parses them, 8192 rows per batch.
fn read_station_file(path: &std::path::Path) -> Vec<RecordBatch> {
    let mut reader = csv::Reader::from_path(path).expect("open station file");
    let headers = reader.headers().expect("header").clone();
    let records: Vec<csv::StringRecord> = reader
        .records()
        .map(|record| record.expect("csv record"))
        .collect();
    let integer = ["No", "year", "month", "day", "hour"];
    let fields: Vec<Field> = headers
        .iter()
        .map(|name| {
            let data_type = if integer.contains(&name) {
                DataType::Int64
            } else {
                DataType::Utf8
            };
            Field::new(name, data_type, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    records
        .chunks(8192)
        .map(|chunk| {
            let columns: Vec<ArrayRef> = headers
                .iter()
                .enumerate()
                .map(|(index, name)| -> ArrayRef {
                    if integer.contains(&name) {
                        Arc::new(Int64Array::from_iter(
                            chunk.iter().map(|record| record[index].parse::<i64>().ok()),
                        ))
                    } else {
                        Arc::new(StringArray::from_iter_values(
                            chunk.iter().map(|record| &record[index]),
                        ))
                    }
                })
                .collect();
            RecordBatch::try_new(Arc::clone(&schema), columns).expect("station batch")
        })
        .collect()
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test reports a skip or its figures on stderr"
)]
fn real_station_file_keeps_every_row() {
    let root = std::env::var("GOVERNANCE_DATA_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data").to_string());
    let path = std::path::Path::new(&root)
        .join("city/beijing_multisite_aq/PRSA_Data_Aotizhongxin_20130301-20170228.csv");
    if !path.exists() {
        eprintln!(
            "skipping: {} not found; set GOVERNANCE_DATA_DIR to the data folder",
            path.display()
        );
        return;
    }
    let batches = read_station_file(&path);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let raw_missing = batches
        .iter()
        .map(|batch| {
            let index = batch.schema().index_of("PM2.5").expect("PM2.5");
            let text = batch
                .column(index)
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("text")
                .clone();
            text.iter().filter(|value| *value == Some("NA")).count()
        })
        .sum::<usize>();

    let kept = Arc::new(Mutex::new(Vec::new()));
    let canonical = CanonicaliseConfig::hourly_air_quality();
    let mut chain = build_chain(batches, canonical, &["Aotizhongxin"], Arc::clone(&kept));
    let summary = chain.run_blocking().expect("run");
    assert_row_counts(&summary);
    assert_eq!(
        summary.rows_delivered, rows as u64,
        "the file has no repeated hours"
    );

    let output = take_output(&kept);
    let kinds = &summary.issues_by_kind;
    assert_eq!(
        kinds.get(&IssueKind::Format),
        None,
        "the file holds only numbers and NA"
    );
    assert_eq!(kinds.get(&IssueKind::NotAllowed), None);
    let stamps = output.column("timestamp").expect("timestamp");
    assert_eq!(stamps.null_count(), 0);
    let pm25 = float_column(&output, "PM2.5");
    let imputed_pm25 = output
        .issues
        .issues()
        .iter()
        .filter(|issue| {
            issue.kind == IssueKind::Imputed && issue.column.as_deref() == Some("PM2.5")
        })
        .count();
    assert!(imputed_pm25 > 0, "the file has short PM2.5 gaps");
    assert_eq!(pm25.null_count() + imputed_pm25, raw_missing);
    let mut outliers_by_column: std::collections::BTreeMap<&str, usize> = Default::default();
    for issue in output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::Outlier)
    {
        *outliers_by_column
            .entry(issue.column.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    eprintln!("{rows} rows; issues by kind: {kinds:?}; outliers by column: {outliers_by_column:?}");
}
