//! The audit log must detect a change of any single byte of its file.

use governance_core::Error;
use governance_core::audit::{AuditAction, AuditLog, verify_file};

fn write_log(path: &std::path::Path) {
    let mut log = AuditLog::create(path).expect("create log");
    log.append(
        "csv",
        AuditAction::Read,
        "PRSA_Data_Dongsi.csv",
        "rows=35064",
    )
    .expect("append");
    log.append(
        "mask",
        AuditAction::Change,
        "ticket_text",
        "masked=12 kinds=phone,email",
    )
    .expect("append");
    log.append(
        "policy",
        AuditAction::Decision,
        "analyst",
        "allow columns=station,pm25 (中文)",
    )
    .expect("append");
    log.append(
        "parquet",
        AuditAction::Share,
        "governed.parquet",
        "rows=35000",
    )
    .expect("append");
}

#[test]
fn untouched_log_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    write_log(&path);
    assert_eq!(verify_file(&path).expect("valid log"), 4);
}

#[test]
fn any_single_byte_change_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    write_log(&path);
    let original = std::fs::read(&path).expect("read log");
    let tampered_path = dir.path().join("tampered.jsonl");

    for position in 0..original.len() {
        for flip in [0x01u8, 0x20] {
            let mut bytes = original.clone();
            bytes[position] ^= flip;
            std::fs::write(&tampered_path, &bytes).expect("write tampered");
            let line_of_byte = original[..position]
                .iter()
                .filter(|&&byte| byte == b'\n')
                .count() as u64
                + 1;
            match verify_file(&tampered_path) {
                Err(Error::AuditTampered { line, .. }) => assert!(
                    line <= line_of_byte + 1,
                    "byte {position} changed on line {line_of_byte}, reported line {line}"
                ),
                other => panic!("byte {position} xor {flip:#x} not detected: {other:?}"),
            }
        }
    }
}

#[test]
fn report_names_the_changed_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    write_log(&path);
    let text = std::fs::read_to_string(&path).expect("read log");
    std::fs::write(&path, text.replacen("masked=12", "masked=13", 1)).expect("write");
    let error = verify_file(&path).expect_err("tampered");
    assert!(
        matches!(
            error,
            Error::AuditTampered {
                record: 1,
                line: 2,
                ..
            }
        ),
        "{error}"
    );
}
