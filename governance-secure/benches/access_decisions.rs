//! Access decisions per second: one policy written twice, as TOML rules
//! ([`AccessPolicy`]) and in Rego ([`RegoPolicy`], evaluated in process by `regorus`).
//!
//! ```text
//! cargo bench -p governance-secure --bench access_decisions
//! cargo bench --profile dev -p governance-secure --bench access_decisions   # quicker to build
//! ACCESS_BENCH_DECISIONS=100000 cargo bench --profile dev -p governance-secure --bench access_decisions
//! ```
//!
//! The policy covers a ticket data set of eight columns. Analysts read six columns for two
//! purposes, with the phone partly masked. Desk staff read five columns, and only the rows
//! of their own districts: a row filter whose districts per department sit in a data
//! document in Rego and in one rule per department in TOML. Auditors read every column for
//! audits, with the id number redacted and personal data in text left unmasked. A marketing
//! purpose and the intern role are denied outright, and a clearance below a column's
//! sensitivity removes the column.
//!
//! The requests cycle through eight cases: four allowed (one with a clearance that removes
//! two columns) and four denied, by a deny rule, by the role, by an unlisted purpose and by
//! an unknown department. Before timing, the bench checks that both policies reach the same outcome on
//! every case (allowed or denied, visible columns, column masks, row-filter predicates and
//! the personal-data switch) and stops with an error when they differ. It then times
//! `ACCESS_BENCH_DECISIONS` decisions per policy (20,000 by default) three times and prints
//! the median in decisions per second, the ratio and a JSON line. Last, criterion runs both
//! for its own statistics.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench binary reports its figures on stdout and its failures on stderr"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use arrow::datatypes::{DataType, Field, Schema};
use criterion::{Criterion, Throughput};
use governance_core::{AccessRequest, Semantic, Sensitivity};
use governance_secure::policy::{AccessDecision, AccessPolicy, RegoPolicy};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const DEFAULT_DECISIONS: usize = 20_000;
const RUNS: usize = 3;
const DATASET: &str = "tickets";

const TOML_POLICY: &str = r#"
[[rules]]
id = "analysts-read-tickets"
effect = "allow"
subjects = { roles = ["analyst"] }
datasets = ["tickets"]
purposes = ["monthly report", "service planning"]
columns = ["ticket_id", "district", "category", "note", "phone", "reported_at"]
column_masks = { phone = "partial" }

[[rules]]
id = "desk-reads-chaoyang"
effect = "allow"
subjects = { roles = ["desk"], departments = ["chaoyang"] }
datasets = ["tickets"]
columns = ["ticket_id", "district", "note", "reporter_name", "phone"]
column_masks = { phone = "partial" }
row_filter = [{ column = "district", op = "in", values = ["朝阳", "三里屯"] }]

[[rules]]
id = "desk-reads-haidian"
effect = "allow"
subjects = { roles = ["desk"], departments = ["haidian"] }
datasets = ["tickets"]
columns = ["ticket_id", "district", "note", "reporter_name", "phone"]
column_masks = { phone = "partial" }
row_filter = [{ column = "district", op = "in", values = ["海淀", "中关村"] }]

[[rules]]
id = "auditors-read-everything"
effect = "allow"
subjects = { roles = ["auditor"] }
purposes = ["audit"]
columns = ["*"]
column_masks = { id_number = "redact" }
mask_personal_data = false

[[rules]]
id = "no-marketing"
effect = "deny"
purposes = ["marketing"]

[[rules]]
id = "no-interns"
effect = "deny"
subjects = { roles = ["intern"] }
"#;

const REGO_POLICY: &str = r#"
package governance.access

import rego.v1

default allow := false

analyst_purposes := {"monthly report", "service planning"}

is_analyst if {
    input.subject.role == "analyst"
    input.dataset == "tickets"
    input.purpose in analyst_purposes
}

desk_districts := data.city.districts[input.subject.department] if {
    input.subject.role == "desk"
    input.dataset == "tickets"
}

is_desk if count(desk_districts) > 0

is_auditor if {
    input.subject.role == "auditor"
    input.purpose == "audit"
}

allow if is_analyst
allow if is_desk
allow if is_auditor

deny contains "marketing is not a permitted purpose" if input.purpose == "marketing"
deny contains "interns may not read personal data" if input.subject.role == "intern"

columns := ["ticket_id", "district", "category", "note", "phone", "reported_at"] if is_analyst
columns := ["ticket_id", "district", "note", "reporter_name", "phone"] if is_desk
columns := ["*"] if is_auditor

column_masks := {"phone": "partial"} if is_analyst
column_masks := {"phone": "partial"} if is_desk
column_masks := {"id_number": "redact"} if is_auditor

row_filter := [{"column": "district", "op": "in", "values": desk_districts}] if is_desk

mask_personal_data := false if is_auditor

rules contains "analysts-read-tickets" if is_analyst
rules contains sprintf("desk-reads-%s", [input.subject.department]) if is_desk
rules contains "auditors-read-everything" if is_auditor
"#;

const DISTRICTS: &str = r#"{"city": {"districts": {
    "chaoyang": ["朝阳", "三里屯"],
    "haidian": ["海淀", "中关村"]
}}}"#;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn annotated(name: &str, level: Sensitivity) -> Field {
    let semantic = Semantic {
        sensitivity: Some(level),
        ..Semantic::default()
    };
    semantic.annotate(Field::new(name, DataType::Utf8, true))
}

fn tickets_schema() -> Schema {
    Schema::new(vec![
        annotated("ticket_id", Sensitivity::Public),
        annotated("district", Sensitivity::Internal),
        annotated("category", Sensitivity::Internal),
        annotated("note", Sensitivity::Internal),
        annotated("reporter_name", Sensitivity::Sensitive),
        annotated("phone", Sensitivity::Sensitive),
        annotated("id_number", Sensitivity::Secret),
        Field::new("reported_at", DataType::Utf8, true),
    ])
}

/// Builds the eight requests that the bench cycles through, each with a label for error
/// messages.
fn requests() -> Vec<(&'static str, AccessRequest)> {
    let desk = |department: &str, clearance: Option<Sensitivity>| {
        let mut request = AccessRequest::new("desk", "daily queue");
        request.subject_id = Some(format!("desk-{department}-07"));
        request.department = Some(department.to_string());
        request.clearance = clearance;
        request
    };
    let mut auditor = AccessRequest::new("auditor", "audit");
    auditor.clearance = Some(Sensitivity::Secret);
    vec![
        (
            "analyst, monthly report",
            AccessRequest::new("analyst", "monthly report"),
        ),
        (
            "analyst, marketing (denied)",
            AccessRequest::new("analyst", "marketing"),
        ),
        (
            "analyst, unlisted purpose (denied)",
            AccessRequest::new("analyst", "curiosity"),
        ),
        ("desk chaoyang", desk("chaoyang", None)),
        (
            "desk haidian, internal clearance",
            desk("haidian", Some(Sensitivity::Internal)),
        ),
        ("desk of another department (denied)", desk("fengtai", None)),
        ("auditor, audit", auditor),
        ("intern (denied)", AccessRequest::new("intern", "training")),
    ]
}

/// Parts of a decision that both policy forms must agree on. A denial is `None` in its place.
#[derive(Debug, PartialEq)]
struct Outcome {
    visible_columns: Vec<String>,
    column_masks: Vec<(String, String)>,
    predicates: Vec<String>,
    mask_personal_data: bool,
}

fn outcome(decision: governance_core::Result<AccessDecision>) -> BenchResult<Option<Outcome>> {
    match decision {
        Ok(decision) => Ok(Some(Outcome {
            visible_columns: decision.visible_columns,
            column_masks: decision
                .column_masks
                .into_iter()
                .map(|(column, operator)| (column, format!("{operator:?}")))
                .collect(),
            predicates: decision
                .row_filters
                .iter()
                .flat_map(|filter| filter.predicates.iter().map(|p| format!("{p:?}")))
                .collect(),
            mask_personal_data: decision.mask_personal_data,
        })),
        Err(governance_core::Error::AccessDenied { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Checks that both policies decide every request alike and returns how many were allowed.
fn check_agreement(
    toml: &AccessPolicy,
    rego: &mut RegoPolicy,
    schema: &Schema,
    requests: &[(&str, AccessRequest)],
) -> BenchResult<usize> {
    let mut allowed = 0;
    for (label, request) in requests {
        let from_toml = outcome(toml.decide(request, DATASET, schema, 0))?;
        let from_rego = outcome(rego.decide(request, DATASET, schema, 0))?;
        if from_toml != from_rego {
            return Err(format!(
                "the policies disagree on request {label:?}:\nTOML: {from_toml:?}\nRego: \
                 {from_rego:?}"
            )
            .into());
        }
        allowed += usize::from(from_toml.is_some());
    }
    Ok(allowed)
}

/// Makes `count` decisions, cycling through `requests`, and returns the seconds taken.
fn time_decisions(
    count: usize,
    requests: &[(&str, AccessRequest)],
    mut decide: impl FnMut(&AccessRequest) -> bool,
) -> f64 {
    let start = Instant::now();
    let mut allowed = 0usize;
    for (_, request) in requests.iter().cycle().take(count) {
        allowed += usize::from(decide(black_box(request)));
    }
    black_box(allowed);
    start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run() -> BenchResult<()> {
    let count = match std::env::var("ACCESS_BENCH_DECISIONS") {
        Ok(text) => text.parse::<usize>().map_err(|error| {
            format!("ACCESS_BENCH_DECISIONS={text:?} is not a count of decisions: {error}")
        })?,
        Err(_) => DEFAULT_DECISIONS,
    };
    let schema = tickets_schema();
    let requests = requests();
    let toml = AccessPolicy::from_toml_str(TOML_POLICY)?;
    let mut rego = RegoPolicy::from_rego("tickets.rego", REGO_POLICY)?.with_data_json(DISTRICTS)?;
    let allowed = check_agreement(&toml, &mut rego, &schema, &requests)?;
    println!(
        "access_decisions: {count} decisions over {} requests ({allowed} allowed), {} columns",
        requests.len(),
        schema.fields().len()
    );

    let toml_seconds = median(
        (0..RUNS)
            .map(|_| {
                time_decisions(count, &requests, |request| {
                    toml.decide(request, DATASET, &schema, 0).is_ok()
                })
            })
            .collect(),
    );
    let rego_seconds = median(
        (0..RUNS)
            .map(|_| {
                time_decisions(count, &requests, |request| {
                    rego.decide(request, DATASET, &schema, 0).is_ok()
                })
            })
            .collect(),
    );
    let toml_rate = count as f64 / toml_seconds;
    let rego_rate = count as f64 / rego_seconds;
    println!("TOML rules: {toml_rate:.0} decisions/s (median of {RUNS} runs)");
    println!("Rego (regorus): {rego_rate:.0} decisions/s (median of {RUNS} runs)");
    println!("TOML / Rego: {:.1}x", toml_rate / rego_rate);
    println!(
        "{}",
        serde_json::json!({
            "decisions": count,
            "toml_decisions_per_second": toml_rate,
            "rego_decisions_per_second": rego_rate,
        })
    );

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = criterion.benchmark_group("access_decisions");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("toml", |bencher| {
        bencher.iter(|| {
            requests
                .iter()
                .filter(|(_, request)| toml.decide(request, DATASET, &schema, 0).is_ok())
                .count()
        })
    });
    group.bench_function("rego", |bencher| {
        bencher.iter(|| {
            requests
                .iter()
                .filter(|(_, request)| rego.decide(request, DATASET, &schema, 0).is_ok())
                .count()
        })
    });
    group.finish();
    criterion.final_summary();
    Ok(())
}
