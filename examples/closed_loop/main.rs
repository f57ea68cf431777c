//! The governance chain end to end, in two rounds with feedback between them.
//!
//! ```text
//! cargo run --release --example closed_loop                      # synthetic city
//! cargo run --release --example closed_loop -- --input DIR --out DIR   # Beijing-layout CSVs
//! ```
//!
//! Round 1 collects, cleans, fuses weather, trains the anomaly model, analyses, guards and
//! writes. Between rounds, labels on a sample of flagged cells go back to the learners: the
//! outlier threshold and the anomaly model. Round 2 runs with the adjusted stages.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

mod args;
mod feedback;
mod report;
mod stages;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use governance::audit::{AuditHandle, verify_file};
use governance::collect::{CsvCollector, CsvConfig, SyntheticCity, SyntheticConfig};
use governance::llm::tagger::Tagger;
use governance::{AccessRequest, Chain, Collector, Feedback, Result, RunSummary};

use crate::feedback::{Detection, FlagRecorder, Flags};
use crate::stages::POLLUTANTS;

/// Station names of the Beijing multi-site air-quality data.
const BEIJING_STATIONS: [&str; 12] = [
    "Aotizhongxin",
    "Changping",
    "Dingling",
    "Dongsi",
    "Guanyuan",
    "Gucheng",
    "Huairou",
    "Nongzhanguan",
    "Shunyi",
    "Tiantan",
    "Wanliu",
    "Wanshouxigong",
];

fn main() {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", args::USAGE);
            return;
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(&options) {
        eprintln!("error: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        std::process::exit(1);
    }
}

/// The sensor feed, its weather side source and what is known about it.
struct Input {
    sensors: Box<dyn Collector>,
    weather: Box<dyn Collector>,
    stations: Vec<String>,
    city: Option<SyntheticCity>,
    label: String,
}

fn beijing_input(dir: &Path) -> Result<Input> {
    let mut sensor_columns: Vec<&str> = vec!["year", "month", "day", "hour"];
    sensor_columns.extend(POLLUTANTS);
    sensor_columns.push("station");
    let mut weather_columns: Vec<&str> = vec!["year", "month", "day", "hour", "station"];
    weather_columns.extend(stages::WEATHER);
    let csv = |name: &str, columns: &[&str]| -> Result<CsvCollector> {
        let mut config = CsvConfig::from_dir(dir);
        config.name = name.to_string();
        config.columns = Some(columns.iter().map(|column| column.to_string()).collect());
        // Every measurement is parsed as a float: inference from the first rows would take
        // the integer-looking early values for Int64 and quarantine later decimals.
        config.schema = Some(beijing_schema());
        CsvCollector::new(config)
    };
    Ok(Input {
        sensors: Box::new(csv("csv_sensors", &sensor_columns)?),
        weather: Box::new(csv("csv_weather", &weather_columns)?),
        stations: BEIJING_STATIONS
            .iter()
            .map(|name| name.to_string())
            .collect(),
        city: None,
        label: format!("CSV folder {}", dir.display()),
    })
}

fn beijing_schema() -> Vec<governance::collect::ColumnSpec> {
    use governance::collect::{ColumnSpec, CsvType};
    let mut specs = vec![ColumnSpec {
        name: "No".into(),
        data_type: CsvType::Int64,
    }];
    for part in ["year", "month", "day", "hour"] {
        specs.push(ColumnSpec {
            name: part.into(),
            data_type: CsvType::Int64,
        });
    }
    for column in POLLUTANTS
        .iter()
        .chain(["TEMP", "PRES", "DEWP", "RAIN"].iter())
    {
        specs.push(ColumnSpec {
            name: column.to_string(),
            data_type: CsvType::Float64,
        });
    }
    specs.push(ColumnSpec {
        name: "wd".into(),
        data_type: CsvType::Utf8,
    });
    specs.push(ColumnSpec {
        name: "WSPM".into(),
        data_type: CsvType::Float64,
    });
    specs.push(ColumnSpec {
        name: "station".into(),
        data_type: CsvType::Utf8,
    });
    specs
}

fn synthetic_input(options: &args::Options) -> Result<Input> {
    let city = SyntheticCity::new(SyntheticConfig {
        seed: options.seed,
        scale: options.scale,
        days: options.days,
        ..SyntheticConfig::default()
    })?;
    Ok(Input {
        sensors: Box::new(city.sensor_collector()),
        weather: Box::new(city.weather_collector()),
        stations: city.stations().to_vec(),
        label: format!(
            "synthetic city (seed {}, scale {}, {} days)",
            options.seed, options.scale, options.days
        ),
        city: Some(city),
    })
}

fn run(options: &args::Options) -> Result<()> {
    let out = options.out.as_path();
    std::fs::create_dir_all(out).map_err(|source| governance::Error::io(out, source))?;
    let input = match &options.input {
        Some(dir) => beijing_input(dir)?,
        None => synthetic_input(options)?,
    };
    println!("input: {}", input.label);
    let audit = stages::audit_log(out)?;

    let weather = stages::load_side(input.weather, &audit)?;
    // The anomaly stage starts from the registry's latest model when `OUT/models` has one. A
    // second run into the same folder therefore continues from the first run's retrained
    // model and flags differently. A fresh folder gives the same figures on every run.
    let anomaly = stages::anomalies(&out.join("models"))?;
    match anomaly.model() {
        Some(_) => println!(
            "anomaly model: continuing from the latest version in {} (use a new --out folder \
             to start fresh)",
            out.join("models").display()
        ),
        None => println!("anomaly model: none saved yet; training one on the first rows"),
    }
    let recorder = FlagRecorder::new("flag_recorder", None);
    let flags = recorder.flags();
    let (parquet, quality) = stages::sinks(out, "")?;
    let mut chain = Chain::builder()
        .collect(input.sensors)
        .clean(stages::canonicalise()?)
        .clean(stages::rules(&input.stations)?)
        .clean(stages::dedupe()?)
        .clean(stages::fill_gaps()?)
        .clean(stages::outliers()?)
        .fuse(stages::weather_join(weather)?)
        .clean(anomaly)
        .analyze(stages::daily_indicators())
        .analyze(stages::hourly_alerts()?)
        .guard(stages::guard("guard", None, None)?)
        .apply(parquet)
        .apply(quality)
        .apply(stages::openlineage(out, "air_quality", "sensors")?)
        .apply(recorder)
        .request(analyst())
        .audit(audit.clone())
        .build()?;

    let truth = match &input.city {
        Some(city) => Some(feedback::truth_cells(&city.ground_truth()?)),
        None => None,
    };
    let mut detections: Vec<Detection> = Vec::new();
    let mut rounds: Vec<RunSummary> = Vec::new();

    let first = chain.run_blocking()?;
    report::print_round(&first);
    let first_flags = take_flags(&flags)?;
    if let Some(truth) = &truth {
        detections.push(feedback::score(1, &first_flags, truth));
    }
    rounds.push(first);

    let labels: Vec<Feedback> = match (&truth, &options.labels) {
        (_, Some(path)) => feedback::labels_from_file(path)?,
        (Some(truth), None) => {
            feedback::labels_from_truth(&first_flags, truth, options.label_sample, options.seed)
        }
        (None, None) => {
            println!("no --labels file: round 2 runs without feedback");
            Vec::new()
        }
    };
    println!(
        "\nfeedback: {} labels {:?}",
        labels.len(),
        feedback::label_counts(&labels)
    );
    for adjustment in chain.learn(&labels)? {
        println!(
            "  {}: version {} -> {}: {}",
            adjustment.stage,
            adjustment.from_version,
            adjustment.to_version,
            adjustment.description
        );
    }

    let second = chain.run_blocking()?;
    report::print_round(&second);
    let second_flags = take_flags(&flags)?;
    if let Some(truth) = &truth {
        detections.push(feedback::score(2, &second_flags, truth));
    }
    rounds.push(second);

    let tickets = match &input.city {
        Some(city) => {
            let tagger = match &options.tagger {
                Some(dir) => {
                    let tagger = Tagger::load(dir)
                        .map_err(|error| governance::Error::config("tagger", error.to_string()))?;
                    Some(Arc::new(tagger))
                }
                None => None,
            };
            Some(run_tickets(city, out, &audit, tagger)?)
        }
        None => None,
    };

    let audit_verified = verify_file(out.join("audit.jsonl")).is_ok();
    report::print_detection(&detections);
    if let Some(tickets) = &tickets {
        report::print_tickets(tickets);
    }
    report::write_summary(
        out,
        &rounds,
        chain.adjustments(),
        &detections,
        tickets.as_ref(),
        audit_verified,
    )?;
    println!("\naudit log verified: {audit_verified}");
    println!("outputs in {}", out.display());
    if !audit_verified {
        return Err(governance::Error::Internal(
            "the audit log failed verification".into(),
        ));
    }
    Ok(())
}

fn analyst() -> AccessRequest {
    AccessRequest::new("analyst", "air quality monitoring")
}

fn take_flags(flags: &Flags) -> Result<HashSet<(u64, String)>> {
    let mut flags = flags
        .lock()
        .map_err(|_| governance::Error::Internal("flag set lock poisoned".into()))?;
    Ok(std::mem::take(&mut *flags))
}

/// Runs the service tickets through the guard and checks that no placed personal value is
/// left in the masked text.
fn run_tickets(
    city: &SyntheticCity,
    out: &Path,
    audit: &AuditHandle,
    tagger: Option<Arc<Tagger>>,
) -> Result<report::TicketCheck> {
    let recorder = FlagRecorder::new("ticket_text_recorder", Some("text"));
    let texts = recorder.texts();
    let (parquet, quality) = stages::sinks(&out.join("tickets"), "tickets_")?;
    let mut chain = Chain::builder()
        .collect(city.ticket_collector())
        // The category column is a fixed vocabulary; only the free text is scanned, because
        // the tagger marks some short category labels as names or places.
        .guard(stages::guard("ticket_guard", Some(&["text"]), tagger)?)
        .apply(parquet)
        .apply(quality)
        .apply(stages::openlineage(out, "tickets", "service_tickets")?)
        .apply(recorder)
        .request(analyst())
        .audit(audit.clone())
        .build()?;
    let summary = chain.run_blocking()?;
    println!("\nservice tickets");
    report::print_round(&summary);

    let truth = city.ground_truth()?;
    let texts = texts
        .lock()
        .map_err(|_| governance::Error::Internal("ticket text lock poisoned".into()))?;
    let mut check = report::TicketCheck::default();
    for placed in &truth.pii {
        let kind = format!("{:?}", placed.kind);
        let entry = check.by_kind.entry(kind).or_default();
        entry.0 += 1;
        let masked = texts
            .get(&placed.row_id)
            .is_some_and(|text| !text.contains(&placed.value));
        if masked {
            entry.1 += 1;
        }
    }
    check.rows = summary.rows_delivered;
    Ok(check)
}
