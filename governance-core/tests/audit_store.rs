//! The segmented audit log folder: rotation, retention, reopening, export and tamper
//! detection.

use std::path::{Path, PathBuf};

use governance_core::Error;
use governance_core::audit::{
    AccessDetails, AuditAction, AuditDecision, AuditHead, AuditLog, AuditStoreConfig, FileHeadSink,
    FsyncPolicy, Retention, export_dir, read_head, verify_dir, verify_dir_with_head, verify_file,
    verify_file_with_head,
};

fn config(max_segment_bytes: u64, max_segments: Option<usize>) -> AuditStoreConfig {
    AuditStoreConfig {
        fsync: FsyncPolicy::OnFlush,
        max_segment_bytes,
        retention: Retention {
            max_segments,
            max_age_seconds: None,
        },
        ..AuditStoreConfig::default()
    }
}

fn append_records(log: &mut AuditLog, count: usize) {
    for index in 0..count {
        if index % 3 == 0 {
            let access = AccessDetails {
                subject: format!("u-{index}"),
                role: Some("analyst".into()),
                dataset: "tickets".into(),
                columns: vec!["district".into(), "note".into()],
                rows: index as u64,
                purpose: "monthly report".into(),
                decision: Some(AuditDecision::Allow),
                rules: vec!["analysts-read".into()],
                ..AccessDetails::default()
            };
            log.append_access("guard", AuditAction::Decision, "tickets", "allow", access)
                .expect("append access");
        } else {
            log.append(
                "csv",
                AuditAction::Read,
                "tickets.csv",
                &format!("rows={index}"),
            )
            .expect("append");
        }
    }
    log.flush().expect("flush");
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("segment-"))
        })
        .collect();
    paths.sort();
    paths
}

fn tampered_record(result: governance_core::Result<impl std::fmt::Debug>) -> u64 {
    match result {
        Err(Error::AuditTampered { record, .. }) => record,
        other => panic!("tampering not detected: {other:?}"),
    }
}

#[test]
fn rotation_splits_into_segments_that_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(1_000, None)).expect("open");
    append_records(&mut log, 40);
    drop(log);
    assert!(segments(dir.path()).len() > 3);
    let verified = verify_dir(dir.path()).expect("valid folder");
    assert_eq!(verified.records, 40);
    assert_eq!(verified.first_seq, 0);
}

#[test]
fn reopened_log_continues_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(1_000, None)).expect("open");
    append_records(&mut log, 10);
    let head = (log.head().0, log.head().1.to_string());
    drop(log);
    let mut log = AuditLog::open_dir(dir.path(), config(1_000, None)).expect("reopen");
    assert_eq!((log.head().0, log.head().1.to_string()), head);
    append_records(&mut log, 10);
    let head = (log.head().0, log.head().1.to_string());
    drop(log);
    let verified = verify_dir(dir.path()).expect("valid folder");
    assert_eq!(verified.records, 20);
    assert_eq!((verified.head().0, verified.head().1.to_string()), head);
}

#[test]
fn pruned_folder_still_verifies_from_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(800, Some(3))).expect("open");
    append_records(&mut log, 60);
    drop(log);
    assert_eq!(segments(dir.path()).len(), 3);
    assert!(dir.path().join("anchor.json").exists());
    let verified = verify_dir(dir.path()).expect("valid folder");
    assert!(verified.first_seq > 0, "{verified:?}");
    assert_eq!(verified.head().0, verified.first_seq + verified.records);
}

#[test]
fn changed_anchor_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(800, Some(3))).expect("open");
    append_records(&mut log, 60);
    drop(log);

    // Dropping the oldest retained segment and moving the anchor to the next one is the
    // attack the retention record exists to catch.
    let kept = segments(dir.path());
    let second = std::fs::read_to_string(&kept[1]).expect("read");
    let first_line = second.lines().next().expect("line");
    let record: serde_json::Value = serde_json::from_str(first_line).expect("json");
    let anchor = serde_json::json!({
        "first_seq": record["seq"],
        "prev_hash": record["prev_hash"],
    });
    std::fs::remove_file(&kept[0]).expect("remove");
    std::fs::write(dir.path().join("anchor.json"), anchor.to_string()).expect("write");
    let error = verify_dir(dir.path()).expect_err("forged anchor");
    assert!(error.to_string().contains("no retention record"), "{error}");
}

#[test]
fn every_single_byte_change_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(1_200, Some(3))).expect("open");
    append_records(&mut log, 24);
    drop(log);
    let mut files = segments(dir.path());
    files.push(dir.path().join("anchor.json"));
    let mut changes = 0u64;
    for path in &files {
        let original = std::fs::read(path).expect("read");
        for position in 0..original.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut bytes = original.clone();
                bytes[position] ^= flip;
                std::fs::write(path, &bytes).expect("write tampered");
                let result = verify_dir(dir.path());
                assert!(
                    matches!(result, Err(Error::AuditTampered { .. })),
                    "{} byte {position} xor {flip:#x} not detected: {result:?}",
                    path.display()
                );
                changes += 1;
            }
        }
        std::fs::write(path, &original).expect("restore");
    }
    assert!(changes > 3_000, "only {changes} changes tried");
    assert!(verify_dir(dir.path()).is_ok());
}

/// Writes a one-segment folder of `count` records and returns its lines.
fn single_segment(dir: &Path, count: usize) -> (PathBuf, Vec<String>) {
    let mut log = AuditLog::open_dir(dir, config(1 << 20, None)).expect("open");
    append_records(&mut log, count);
    drop(log);
    let path = segments(dir).remove(0);
    let text = std::fs::read_to_string(&path).expect("read");
    (path, text.lines().map(str::to_string).collect())
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}

#[test]
fn deleted_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut lines) = single_segment(dir.path(), 8);
    lines.remove(4);
    write_lines(&path, &lines);
    assert_eq!(tampered_record(verify_dir(dir.path())), 4);
}

#[test]
fn inserted_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut lines) = single_segment(dir.path(), 8);
    let copy = lines[2].clone();
    lines.insert(5, copy);
    write_lines(&path, &lines);
    assert_eq!(tampered_record(verify_dir(dir.path())), 5);
}

#[test]
fn swapped_records_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut lines) = single_segment(dir.path(), 8);
    lines.swap(3, 6);
    write_lines(&path, &lines);
    assert_eq!(tampered_record(verify_dir(dir.path())), 3);
}

#[test]
fn deleted_middle_segment_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(600, None)).expect("open");
    append_records(&mut log, 30);
    drop(log);
    let files = segments(dir.path());
    std::fs::remove_file(&files[2]).expect("remove");
    let error = verify_dir(dir.path()).expect_err("missing segment");
    assert!(
        error.to_string().contains("a segment is missing"),
        "{error}"
    );
}

#[test]
fn every_fsync_policy_writes_a_valid_log() {
    for fsync in [
        FsyncPolicy::EveryRecord,
        FsyncPolicy::EveryN(5),
        FsyncPolicy::OnFlush,
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = AuditStoreConfig {
            fsync,
            ..AuditStoreConfig::default()
        };
        let mut log = AuditLog::open_dir(dir.path(), config).expect("open");
        append_records(&mut log, 12);
        drop(log);
        assert_eq!(
            verify_dir(dir.path()).expect("valid").records,
            12,
            "{fsync:?}"
        );
    }
}

#[test]
fn invalid_store_config_names_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = AuditStoreConfig {
        fsync: FsyncPolicy::EveryN(0),
        ..AuditStoreConfig::default()
    };
    let error = AuditLog::open_dir(dir.path(), config).expect_err("every_n 0");
    assert!(error.to_string().contains("every_n is 0"), "{error}");
    let error = serde_json::from_str::<AuditStoreConfig>(r#"{"fsync":"every_record","sync":1}"#)
        .expect_err("unknown field");
    assert!(
        error.to_string().contains("unknown field `sync`"),
        "{error}"
    );
}

#[test]
fn export_writes_verifiable_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = AuditLog::open_dir(dir.path(), config(700, None)).expect("open");
    append_records(&mut log, 25);
    drop(log);
    let export = dir.path().join("export.jsonl");
    let file = std::fs::File::create(&export).expect("create");
    let verified = export_dir(dir.path(), file).expect("export");
    assert_eq!(verified.records, 25);
    assert_eq!(verify_file(&export).expect("exported log verifies"), 25);
}

#[test]
fn cut_tail_is_found_with_kept_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let head_path = elsewhere.path().join("head.json");
    let mut log = AuditLog::open_dir(dir.path(), config(1 << 20, None))
        .expect("open")
        .with_head_sink(FileHeadSink::new(&head_path))
        .expect("head sink");
    append_records(&mut log, 10);
    log.flush().expect("flush");
    drop(log);
    let head = read_head(&head_path).expect("head");
    assert_eq!(head.next_seq, 10);

    let path = segments(dir.path()).remove(0);
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    write_lines(&path, &lines[..7]);

    assert_eq!(
        verify_dir(dir.path())
            .expect("a shorter chain verifies")
            .records,
        7
    );
    assert_eq!(tampered_record(verify_dir_with_head(dir.path(), &head)), 7);
}

#[test]
fn rewritten_last_record_is_found_with_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, lines) = single_segment(dir.path(), 6);
    let verified = verify_dir(dir.path()).expect("valid");
    let head = AuditHead {
        next_seq: verified.head.0,
        hash: verified.head.1.clone(),
    };
    // Cut the last record and append a different one with a valid hash in its place.
    write_lines(&path, &lines[..5]);
    let mut log = AuditLog::open_dir(dir.path(), config(1 << 20, None)).expect("reopen");
    log.append("someone", AuditAction::Read, "tickets", "rows=0")
        .expect("append");
    drop(log);
    assert_eq!(tampered_record(verify_dir_with_head(dir.path(), &head)), 5);
}

#[test]
fn grown_log_still_matches_old_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let head_path = elsewhere.path().join("head.json");
    let mut log = AuditLog::open_dir(dir.path(), config(400, None))
        .expect("open")
        .with_head_sink(FileHeadSink::new(&head_path))
        .expect("head sink");
    append_records(&mut log, 5);
    log.flush().expect("flush");
    let head = read_head(&head_path).expect("head");
    append_records(&mut log, 20);
    drop(log);
    let verified = verify_dir_with_head(dir.path(), &head).expect("a longer log verifies");
    assert_eq!(verified.records, 25);
    assert!(verified.segments > 1);
}

#[test]
fn file_log_cut_is_found_with_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let head_path = dir.path().join("head.json");
    let mut log = AuditLog::create(&path)
        .expect("create")
        .with_head_sink(FileHeadSink::new(&head_path))
        .expect("head sink");
    append_records(&mut log, 4);
    log.flush().expect("flush");
    drop(log);
    let head = read_head(&head_path).expect("head");
    assert_eq!(verify_file_with_head(&path, &head).expect("whole log"), 4);

    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    write_lines(&path, &lines[..3]);
    assert_eq!(verify_file(&path).expect("a shorter chain verifies"), 3);
    assert_eq!(tampered_record(verify_file_with_head(&path, &head)), 3);
}

#[test]
fn malformed_head_file_is_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("head.json");
    std::fs::write(&path, b"{\"next\": 3}").expect("write");
    let error = read_head(&path).expect_err("not a head");
    assert!(error.to_string().contains("next_seq"), "{error}");
}

#[test]
fn incomplete_last_record_is_cut_and_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, lines) = single_segment(dir.path(), 5);
    let partial = &lines[4][..lines[4].len() / 2];
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(partial);
    std::fs::write(&path, &text).expect("write");
    assert!(
        verify_dir(dir.path()).is_err(),
        "the cut record fails verification"
    );

    let log = AuditLog::open_dir(dir.path(), config(1 << 20, None)).expect("repaired");
    let repair = &log.records()[0];
    assert_eq!(repair.seq, 5);
    assert_eq!(repair.actor, "audit_store");
    assert_eq!(repair.subject, "repair");
    assert!(
        repair.detail.contains(&format!("{} bytes", partial.len())),
        "{}",
        repair.detail
    );
    drop(log);

    let verified = verify_dir(dir.path()).expect("valid after repair");
    assert_eq!(verified.records, 6);
    let repaired = std::fs::read_to_string(&path).expect("read");
    assert!(repaired.starts_with(&text[..text.len() - partial.len()]));
    assert!(repaired.ends_with('\n'));
}

#[test]
fn complete_but_invalid_last_record_still_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, mut lines) = single_segment(dir.path(), 3);
    lines[2] = lines[2].replace("\"seq\":2", "\"seq\":7");
    write_lines(&path, &lines);
    let error = AuditLog::open_dir(dir.path(), config(1 << 20, None)).expect_err("tampered");
    assert!(
        matches!(error, Error::AuditTampered { record: 2, .. }),
        "{error}"
    );
}
