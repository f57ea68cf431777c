//! Bad input through the guard: a 1 MB cell, mixed scripts, and keyed masking traced at
//! TRACE level without a raw personal value or a key byte in logs, issues or audit records.

use std::io::Write;
use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AuditHandle, AuditLog};
use governance_core::{
    AccessRequest, GovernedBatch, Guard, Provenance, RowIdAllocator, StageContext,
};
use governance_secure::fpe::FpeConfig;
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{
    MaskConfig, MaskOperator, Masker, MaskerKeys, PiiGuard, PiiGuardConfig, PiiKind, SecretKey,
};
use tracing_subscriber::fmt::MakeWriter;

/// A key whose bytes are printable, so that a leak in any encoding is easy to see.
const RAW_KEY: &[u8; 32] = b"Guard-Key-Bytes-Never-In-Logs!!!";

const PHONE: &str = "13812345678";
const EMAIL: &str = "wang.fang@example.com";
const RESIDENT_ID: &str = "11010519491231002X";

fn batch(columns: Vec<(&str, Vec<Option<String>>)>) -> GovernedBatch {
    let rows = columns[0].1.len();
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Utf8, true))
        .collect();
    let arrays = columns
        .into_iter()
        .map(|(_, values)| Arc::new(StringArray::from(values)) as _)
        .collect();
    let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
    let ids = RowIdAllocator::default().allocate(rows);
    GovernedBatch::try_new(data, ids, Provenance::new("tickets")).expect("governed")
}

fn keyed_guard(mask: MaskConfig) -> PiiGuard {
    let key = SecretKey::from_bytes(RAW_KEY).expect("key");
    let masker = Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default()).expect("masker");
    let config = PiiGuardConfig {
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        mask,
        ..PiiGuardConfig::default()
    };
    PiiGuard::new(config).expect("guard").with_masker(masker)
}

fn run(guard: &mut PiiGuard, input: GovernedBatch, audit: &AuditHandle) -> GovernedBatch {
    let mut ctx = StageContext::new("pii_guard", 1, audit.clone());
    guard
        .guard(input, &AccessRequest::new("analyst", "report"), &mut ctx)
        .expect("guarded")
}

fn note(output: &GovernedBatch, row: usize) -> String {
    output
        .column("note")
        .expect("note")
        .as_string::<i32>()
        .value(row)
        .to_string()
}

#[test]
fn one_megabyte_cell_is_masked() {
    let filler = "路灯不亮 street light out ".repeat(1 << 15);
    let text = format!("{filler}电话{PHONE}，{filler}邮箱{EMAIL} end");
    assert!(text.len() > 1 << 20, "{}", text.len());
    let mut guard = keyed_guard(MaskConfig::all(MaskOperator::Pseudonym));
    let audit = AuditLog::in_memory().into_handle();
    let output = run(
        &mut guard,
        batch(vec![("note", vec![Some(text.clone())])]),
        &audit,
    );

    let masked = note(&output, 0);
    assert!(!masked.contains(PHONE));
    assert!(!masked.contains(EMAIL));
    assert!(
        masked.contains("电话phone_"),
        "the phone pseudonym follows its keyword"
    );
    assert!(masked.ends_with(" end"));
    assert_eq!(
        masked.matches("路灯不亮").count(),
        text.matches("路灯不亮").count(),
        "text around the values is kept"
    );
}

#[test]
fn mixed_scripts_are_masked_in_place() {
    let texts = [
        format!("Call 张伟 at {PHONE}, спасибо! 🚦 ID:{RESIDENT_ID}"),
        format!("ＥＭＡＩＬ：{EMAIL}؟ مرحبا 안녕하세요"),
        format!("\u{200b}{PHONE}\u{200b}ไฟดับ"),
    ];
    let values = texts.iter().cloned().map(Some).collect();
    let mut guard = keyed_guard(MaskConfig::all(MaskOperator::Partial));
    let audit = AuditLog::in_memory().into_handle();
    let output = run(&mut guard, batch(vec![("note", values)]), &audit);

    let first = note(&output, 0);
    assert!(
        first.starts_with("Call 张伟 at 138****5678, спасибо! 🚦"),
        "{first}"
    );
    assert!(!first.contains(RESIDENT_ID), "{first}");
    let second = note(&output, 1);
    assert!(second.contains("w***@example.com"), "{second}");
    assert!(second.ends_with("؟ مرحبا 안녕하세요"), "{second}");
    let third = note(&output, 2);
    assert_eq!(third, "\u{200b}138****5678\u{200b}ไฟดับ");
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("capture lock poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn trace_output_holds_no_value_or_key() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();

    let audit = AuditLog::in_memory().into_handle();
    let mut outputs = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        // Format-preserving tokens fail on the short phone, so fallbacks are logged too.
        let mask = MaskConfig::all(MaskOperator::Encrypt)
            .with(PiiKind::Phone, MaskOperator::FormatPreserving)
            .with(PiiKind::Email, MaskOperator::Pseudonym);
        let mut guard = keyed_guard(mask);
        tracing::trace!(?guard, "guard in debug form");
        let notes = vec![
            Some(format!("电话{PHONE}，邮箱{EMAIL}，身份证{RESIDENT_ID}")),
            Some(format!("Call +86 {PHONE} or mail {EMAIL}")),
        ];
        let phones = vec![Some(PHONE.to_string()), Some("12".to_string())];
        let input = batch(vec![("note", notes), ("手机号", phones)]);
        outputs.push(run(&mut guard, input, &audit));
    });

    let logs = String::from_utf8(capture.0.lock().expect("capture").clone()).expect("utf-8");
    assert!(!logs.is_empty(), "TRACE output was captured");
    let mut texts = vec![logs];
    for record in audit.lock().expect("audit").records() {
        texts.push(serde_json::to_string(record).expect("json"));
    }
    for output in &outputs {
        texts.extend(
            output
                .issues
                .issues()
                .iter()
                .map(|issue| format!("{issue:?}")),
        );
        let columns = output
            .data()
            .columns()
            .iter()
            .map(|column| format!("{column:?}"));
        texts.extend(columns);
    }
    let key_text = String::from_utf8_lossy(RAW_KEY).into_owned();
    let key_hex: String = RAW_KEY.iter().map(|byte| format!("{byte:02x}")).collect();
    for text in &texts {
        for raw in [
            PHONE,
            EMAIL,
            RESIDENT_ID,
            key_text.as_str(),
            key_hex.as_str(),
        ] {
            assert!(!text.contains(raw), "{raw:?} appears in {text}");
        }
    }
}
