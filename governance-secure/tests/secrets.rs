//! Keys never appear in log output at any level, nor in error messages.

use std::io::Write;
use std::sync::{Arc, Mutex};

use arrow::array::StringArray;
use governance_core::audit::AuditLog;
use governance_secure::PiiKind;
use governance_secure::detect::{Detector, DetectorConfig};
use governance_secure::encrypt::ReidentifyRequest;
use governance_secure::fpe::FpeConfig;
use governance_secure::keys::{MaskerKeys, SecretKey};
use governance_secure::mask::{MaskConfig, MaskOperator};
use governance_secure::masker::Masker;
use tracing_subscriber::fmt::MakeWriter;

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

/// A key whose bytes are printable, so that a leak in any encoding is easy to see.
const RAW_KEY: &[u8; 32] = b"K3y-Bytes-That-Must-Never-Leak!!";

#[test]
fn keys_absent_from_trace_output_and_errors() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();

    let mut texts: Vec<String> = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let key = SecretKey::from_bytes(RAW_KEY).expect("valid key");
        tracing::trace!(?key, "key in debug form");
        tracing::debug!(%key, "key in display form");
        let masker =
            Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default()).expect("valid keys");
        tracing::info!(?masker, "masker in debug form");
        texts.push(format!("{key:?} {key} {masker:?}"));

        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        let text = "电话13812345678，身份证110105194912310020，邮箱a@b.cn";
        let findings = detector.detect(text);
        for operator in [
            MaskOperator::Pseudonym,
            MaskOperator::FormatPreserving,
            MaskOperator::Encrypt,
        ] {
            let masked = masker.mask_text(text, &findings, &MaskConfig::all(operator));
            texts.extend(masked.text);
            texts.extend(masked.fallbacks.into_iter().map(|fallback| fallback.reason));
        }
        let column = StringArray::from(vec!["12", "13812345678"]);
        let masked = masker
            .mask_column(&column, PiiKind::Phone, MaskOperator::FormatPreserving)
            .expect("string column");
        texts.extend(
            masked
                .fallbacks
                .into_iter()
                .map(|(_, fallback)| fallback.reason),
        );

        // Errors: short and malformed keys, a wrong key, a tampered token.
        let errors = [
            SecretKey::from_bytes(&RAW_KEY[..20]).map(|_| ()),
            SecretKey::from_hex(&format!("{}zz", hex::encode(RAW_KEY))).map(|_| ()),
            SecretKey::from_hex(&hex::encode(&RAW_KEY[..16])).map(|_| ()),
        ];
        texts.extend(
            errors
                .into_iter()
                .filter_map(Result::err)
                .map(|e| e.to_string()),
        );

        let encryptor = masker.encryptor().expect("encryption key");
        let token = encryptor
            .encrypt(PiiKind::Phone, "13812345678")
            .expect("encrypts");
        let other = Masker::new(
            &MaskerKeys::from_master(&SecretKey::from_bytes(&[9u8; 32]).expect("valid key")),
            FpeConfig::default(),
        )
        .expect("valid keys");
        let audit = AuditLog::in_memory().into_handle();
        let request = ReidentifyRequest {
            actor: "auditor",
            subject: "test",
            reason: "secret leak test",
        };
        let wrong_key = other
            .encryptor()
            .expect("encryption key")
            .reidentify(&token, &audit, &request)
            .expect_err("wrong key");
        texts.push(wrong_key.to_string());
        let tampered = encryptor
            .reidentify(&format!("{token}AA"), &audit, &request)
            .expect_err("tampered");
        texts.push(tampered.to_string());
        let audit = audit.lock().expect("audit lock");
        texts.extend(audit.records().iter().map(|record| format!("{record:?}")));
    });

    let logs = String::from_utf8(capture.0.lock().expect("capture lock").clone())
        .expect("utf-8 log output");
    assert!(
        logs.contains("TRACE"),
        "the capture must see TRACE events: {logs}"
    );
    assert!(logs.contains("re-identification failed"), "{logs}");
    assert!(logs.contains("<redacted>"), "{logs}");

    let raw = String::from_utf8(RAW_KEY.to_vec()).expect("printable key");
    let needles = [
        raw.clone(),
        raw[..12].to_string(),
        hex::encode(RAW_KEY),
        hex::encode(&RAW_KEY[..8]),
        hex::encode(RAW_KEY).to_uppercase(),
        format!("{:?}", RAW_KEY.as_slice()),
        format!("{:?}", &RAW_KEY[..4]),
    ];
    texts.push(logs);
    for text in &texts {
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "key material {needle:?} in {text:?}"
            );
        }
    }
}
