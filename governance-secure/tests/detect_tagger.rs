//! The detector with the project's trained token tagger. Skips with a message when the
//! committed weights are absent.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::AuditLog;
use governance_core::{
    AccessRequest, GovernedBatch, Guard, IssueKind, Provenance, RowIdAllocator, Stage, StageContext,
};
use governance_llm::tagger::Tagger;
use governance_secure::detect::{
    ConfidenceTier, Detector, DetectorConfig, PiiKind, TAGGER_RECOGNIZER,
};
use governance_secure::policy::{AccessPolicy, RolePolicy};
use governance_secure::{MaskConfig, PiiGuard, PiiGuardConfig, mask_text};

#[expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn tagger() -> Option<Arc<Tagger>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../governance-llm/models/tagger");
    if !dir.join("tagger.safetensors").exists() {
        eprintln!("skipped: no tagger weights in {}", dir.display());
        return None;
    }
    Some(Arc::new(
        Tagger::load(&dir).expect("committed tagger loads"),
    ))
}

#[test]
fn tagger_finds_names_beside_identifiers() {
    let Some(tagger) = tagger() else { return };
    let detector = Detector::new(DetectorConfig::default())
        .expect("detector")
        .with_tagger(tagger);
    let text = "Please ask John Smith to call 13812345678 about the permit.";
    let findings = detector.detect(text);

    let phone = findings
        .iter()
        .find(|finding| finding.kind == PiiKind::Phone)
        .expect("phone found");
    assert_eq!(&text[phone.byte_span.clone()], "13812345678");
    assert!(phone.tier >= ConfidenceTier::Validated);

    let person = findings
        .iter()
        .find(|finding| finding.kind == PiiKind::Person)
        .expect("person found");
    assert_eq!(person.recognizer, TAGGER_RECOGNIZER);
    assert_eq!(person.tier, ConfidenceTier::PatternOnly);
    assert!(text[person.byte_span.clone()].contains("Smith"));
    assert!((0.0..=1.0).contains(&person.score));

    let masked = mask_text(text, &findings, &MaskConfig::default());
    assert!(!masked.contains("Smith"), "{masked}");
    assert!(!masked.contains("13812345678"), "{masked}");
}

#[test]
fn tagger_kinds_follow_config() {
    let Some(tagger) = tagger() else { return };
    let config = DetectorConfig {
        kinds: vec![PiiKind::Phone],
        ..DetectorConfig::default()
    };
    let detector = Detector::new(config).expect("detector").with_tagger(tagger);
    let findings = detector.detect("Please ask John Smith to call 13812345678.");
    assert!(
        findings
            .iter()
            .all(|finding| finding.kind == PiiKind::Phone)
    );
    assert_eq!(findings.len(), 1);
}

#[test]
fn validated_tier_floor_skips_tagger() {
    let Some(tagger) = tagger() else { return };
    let config = DetectorConfig {
        min_tier: ConfidenceTier::Validated,
        ..DetectorConfig::default()
    };
    let detector = Detector::new(config).expect("detector").with_tagger(tagger);
    let findings = detector.detect("Please ask John Smith to call 13812345678.");
    assert!(
        findings
            .iter()
            .all(|finding| finding.recognizer != TAGGER_RECOGNIZER)
    );
}

#[test]
fn guard_version_names_tagger() {
    let Some(tagger) = tagger() else { return };
    let plain = PiiGuard::new(PiiGuardConfig::default()).expect("guard");
    assert_eq!(plain.version(), "1");

    let hash = tagger.metadata().training.training_data_hash.clone();
    let tagged = PiiGuard::new(PiiGuardConfig::default())
        .expect("guard")
        .with_tagger(tagger);
    let version = tagged.version();
    assert!(version.starts_with("1+tagger-"), "{version}");
    assert_eq!(version.len(), "1+tagger-".len() + 12);
    assert!(
        hash.starts_with(&version["1+tagger-".len()..]),
        "{version} {hash}"
    );
}

#[test]
fn list_of_given_names_is_persons() {
    let Some(tagger) = tagger() else { return };
    let detector = Detector::new(DetectorConfig::default())
        .expect("detector")
        .with_tagger(tagger);
    let cases: [(&str, &[(&str, PiiKind)]); 3] = [
        (
            "Yesterday we met Freya, Omar and Sven at the depot.",
            &[
                ("Freya", PiiKind::Person),
                ("Omar", PiiKind::Person),
                ("Sven", PiiKind::Person),
            ],
        ),
        (
            "Call the office if Diego, Layla and Kwame are late.",
            &[
                ("Diego", PiiKind::Person),
                ("Layla", PiiKind::Person),
                ("Kwame", PiiKind::Person),
            ],
        ),
        (
            "She joined Vantrell, Oskvik and Partners in May.",
            &[("Vantrell, Oskvik and Partners", PiiKind::Organization)],
        ),
    ];
    for (text, expected) in cases {
        let found: Vec<(&str, PiiKind)> = detector
            .detect(text)
            .iter()
            .map(|finding| (&text[finding.byte_span.clone()], finding.kind))
            .collect();
        assert_eq!(found, expected, "{text}");
    }
}

#[test]
fn tagger_finding_scores_each_token() {
    let Some(tagger) = tagger() else { return };
    let detector = Detector::new(DetectorConfig::default())
        .expect("detector")
        .with_tagger(tagger);
    let text = "Please ask John Smith to call 13812345678 about the permit.";
    let findings = detector.detect(text);
    let person = findings
        .iter()
        .find(|finding| finding.kind == PiiKind::Person)
        .expect("person found");
    let phone = findings
        .iter()
        .find(|finding| finding.kind == PiiKind::Phone)
        .expect("phone found");

    let chars: Vec<char> = text.chars().collect();
    let words: Vec<String> = person
        .token_scores
        .iter()
        .map(|token| chars[token.char_span.clone()].iter().collect())
        .collect();
    let expected: Vec<&str> = text[person.byte_span.clone()].split(' ').collect();
    assert_eq!(words, expected);
    assert!(
        person
            .token_scores
            .windows(2)
            .all(|pair| pair[0].char_span.end <= pair[1].char_span.start)
    );
    assert!(
        person
            .token_scores
            .iter()
            .flat_map(|token| token.score)
            .all(|score| (0.0..=1.0).contains(&score))
    );
    assert!(
        person
            .token_scores
            .iter()
            .any(|token| token.score.is_some())
    );
    assert_eq!(person.model_version.as_deref(), detector.tagger_version());
    assert!(phone.token_scores.is_empty());
    assert_eq!(phone.model_version, None);
}

#[test]
fn guard_issue_explains_token_scores() {
    let Some(tagger) = tagger() else { return };
    let mut guard = PiiGuard::new(PiiGuardConfig {
        policy: AccessPolicy::default().with_role("analyst", RolePolicy::all_columns()),
        ..PiiGuardConfig::default()
    })
    .expect("guard")
    .with_tagger(tagger);
    let schema = Arc::new(Schema::new(vec![Field::new("note", DataType::Utf8, true)]));
    let notes = StringArray::from(vec![
        Some("Please ask John Smith to fix the lamp."),
        Some("lamp fixed"),
    ]);
    let data = RecordBatch::try_new(schema, vec![Arc::new(notes)]).expect("batch");
    let ids = RowIdAllocator::default();
    let batch =
        GovernedBatch::try_new(data, ids.allocate(2), Provenance::new("notes.csv")).expect("batch");
    let mut ctx = StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle());
    let output = guard
        .guard(
            batch,
            &AccessRequest::new("analyst", "repair report"),
            &mut ctx,
        )
        .expect("allowed");

    let issue = output
        .issues
        .issues()
        .iter()
        .find(|issue| {
            issue.kind == IssueKind::PersonalData && issue.message.contains(TAGGER_RECOGNIZER)
        })
        .expect("tagger issue");
    let version = guard.detector().tagger_version().expect("tagger version");
    let message = &issue.message;
    assert!(
        message.contains(&format!("model {version} token scores ")),
        "{message}"
    );
    let scores = message
        .split("token scores ")
        .nth(1)
        .expect("scores in message");
    let entries: Vec<&str> = scores.split(' ').collect();
    assert!(entries.len() >= 2, "{message}");
    for entry in entries {
        let (range, score) = entry.split_once('=').expect("range=score");
        assert!(range.contains(".."), "{message}");
        assert!(
            score == "rule" || score.parse::<f32>().is_ok_and(|p| (0.0..=1.0).contains(&p)),
            "{message}"
        );
    }
    assert!(!message.contains("Smith"), "{message}");
}
