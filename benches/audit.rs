//! Append throughput of the audit log, in memory and in a segment folder under each fsync
//! policy.
//!
//! ```text
//! cargo bench --bench audit
//! cargo bench --profile dev --bench audit   # quicker to build
//! ```
//!
//! Each case appends records shaped like the guard's: two thirds plain records with a short
//! detail, one third access records with a subject, data set, two columns, row count,
//! purpose, decision and rule id. It prints one line per case in records per second, and a
//! last line with every figure as one JSON object. The folder cases write to a temporary
//! folder (set `TMPDIR` to measure another disk) and end with a flush, which is timed.
//! `every_record` syncs each record, so it runs fewer records.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench binary reports its figures on stdout and its failures on stderr"
)]

use std::process::ExitCode;
use std::time::Instant;

use governance::audit::{
    AccessDetails, AuditAction, AuditDecision, AuditLog, AuditStoreConfig, FsyncPolicy, verify_dir,
};

/// Records per case, except `every_record`.
const RECORDS: u64 = 200_000;
/// Records for `every_record`, which waits for the disk on each one.
const SYNCED_RECORDS: u64 = 2_000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn append(log: &mut AuditLog, count: u64) -> governance::Result<()> {
    for index in 0..count {
        if index % 3 == 0 {
            let access = AccessDetails {
                subject: "u-1042".into(),
                role: Some("analyst".into()),
                department: Some("transport".into()),
                dataset: "tickets".into(),
                columns: vec!["district".into(), "note".into()],
                rows: 1024,
                purpose: "monthly service report".into(),
                decision: Some(AuditDecision::Allow),
                rules: vec!["analysts-read-tickets".into()],
            };
            log.append_access("pii_guard", AuditAction::Decision, "tickets", "", access)?;
        } else {
            log.append(
                "pii_guard",
                AuditAction::Change,
                "tickets",
                "masked_cells=12 email=3 phone=9 resident_id=0",
            )?;
        }
    }
    Ok(())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut figures = serde_json::Map::new();

    let mut log = AuditLog::in_memory();
    let clock = Instant::now();
    append(&mut log, RECORDS)?;
    let rate = RECORDS as f64 / clock.elapsed().as_secs_f64();
    println!("in memory: {rate:.0} records/s ({RECORDS} records)");
    figures.insert("in_memory".into(), rate.into());

    let cases = [
        ("every_n_1000", FsyncPolicy::EveryN(1000), RECORDS),
        ("on_flush", FsyncPolicy::OnFlush, RECORDS),
        ("every_record", FsyncPolicy::EveryRecord, SYNCED_RECORDS),
    ];
    for (name, fsync, count) in cases {
        let dir = tempfile::tempdir()?;
        let config = AuditStoreConfig {
            fsync,
            max_segment_bytes: 16 * 1024 * 1024,
            ..AuditStoreConfig::default()
        };
        let mut log = AuditLog::open_dir(dir.path(), config)?;
        let clock = Instant::now();
        append(&mut log, count)?;
        log.flush()?;
        let rate = count as f64 / clock.elapsed().as_secs_f64();
        drop(log);

        let clock = Instant::now();
        let verified = verify_dir(dir.path())?;
        let verify_rate = verified.records as f64 / clock.elapsed().as_secs_f64();
        println!(
            "folder, fsync {name}: {rate:.0} records/s appended, {verify_rate:.0} records/s \
             verified ({count} records, {} segments)",
            verified.segments
        );
        figures.insert(format!("folder_{name}"), rate.into());
        figures.insert(format!("verify_{name}"), verify_rate.into());
    }
    println!("{}", serde_json::Value::Object(figures));
    Ok(())
}
