//! Kernels of the guard: detection of personal data, masking of free text and whole-cell
//! masking, keyed pseudonyms included.
//!
//! Keys never travel in a plan. A kernel carries a [`KeySource`], the place where each
//! executor reads the key, and optionally the key's public id, so that an executor holding
//! another key fails instead of writing pseudonyms that do not join.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, StringArray};
use datafusion::common::{DataFusionError, Result, plan_err};
use governance_core::Issue;
use governance_secure::fpe::FpeConfig;
use governance_secure::guard::{column_fallback_issue, text_cell_issues};
use governance_secure::{
    Detector, DetectorConfig, MaskConfig, MaskOperator, Masker, MaskerKeys, PiiKind, SecretKey,
};
use serde::{Deserialize, Serialize};

use super::issues::issue_list;
use super::{KernelOutput, ScalarKernel, check_lengths, sdk_error, utf8};

/// Stage name written into the issues of the secure kernels, as the guard's default name.
const STAGE: &str = governance_secure::guard::DEFAULT_GUARD_NAME;

/// The location of the master key of the keyed operators, written as hexadecimal digits.
/// Each operator derives its own subkey from it, as [`MaskerKeys::from_master`] does.
///
/// Exactly one of `file` and `env` is set. The key must be present on every executor that
/// runs the kernel; the client that plans the query does not read it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySource {
    /// File holding the key as hexadecimal digits.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Environment variable holding the key as hexadecimal digits.
    #[serde(default)]
    pub env: Option<String>,
    /// Expected public id of the key ([`SecretKey::key_id`]); an executor whose key has
    /// another id fails. Leave it out to accept any key.
    #[serde(default)]
    pub key_id: Option<String>,
}

impl KeySource {
    /// Returns a source that reads the key from `path` and accepts any key.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        KeySource {
            file: Some(path.into()),
            env: None,
            key_id: None,
        }
    }

    /// Returns the source with the expected key id set.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    fn validate(&self) -> Result<()> {
        match (&self.file, &self.env) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => plan_err!(
                "a key source needs exactly one of `file` and `env`; name the file or the \
                 environment variable that holds the hexadecimal key"
            ),
        }
    }

    /// Reads and checks the key. Errors name the file or variable, never key bytes.
    fn load(&self) -> Result<SecretKey> {
        let (text, origin) = match (&self.file, &self.env) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    DataFusionError::Execution(format!(
                        "cannot read the key file {}: {error}; install the key on every \
                         executor at that path",
                        path.display()
                    ))
                })?;
                (text, format!("key file {}", path.display()))
            }
            (None, Some(variable)) => {
                let text = std::env::var(variable).map_err(|_| {
                    DataFusionError::Execution(format!(
                        "environment variable {variable} is not set or not Unicode; set it to \
                         the hexadecimal key on every executor"
                    ))
                })?;
                (text, format!("environment variable {variable}"))
            }
            (None, None) => return plan_err!("a key source names neither a file nor a variable"),
        };
        let key = SecretKey::from_hex(&text)
            .map_err(|error| DataFusionError::Execution(format!("{origin}: {error}")))?;
        if let Some(expected) = &self.key_id
            && &key.key_id() != expected
        {
            return Err(DataFusionError::Execution(format!(
                "{origin} holds the key with id {} but the plan expects id {expected}; install \
                 the same key on every executor",
                key.key_id()
            )));
        }
        Ok(key)
    }
}

#[derive(Debug)]
pub(super) struct SecureKernel {
    name: &'static str,
    output: KernelOutput,
    step: SecureStep,
    key: Option<KeySource>,
    /// The masker, built on the first batch because it needs the key.
    masker: OnceLock<std::result::Result<Arc<Masker>, String>>,
}

#[derive(Debug)]
enum SecureStep {
    Kinds(Detector),
    MaskText(Detector, MaskConfig),
    MaskValue(PiiKind, MaskOperator),
}

impl SecureKernel {
    pub(super) fn new(kernel: &ScalarKernel) -> Result<Self> {
        let name = kernel.udf_name();
        let detector = |config: &DetectorConfig| {
            Detector::new(config.clone())
                .map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))
        };
        let (step, key) = match kernel {
            ScalarKernel::PiiKinds { detector: config } => {
                (SecureStep::Kinds(detector(config)?), None)
            }
            ScalarKernel::PiiMask {
                detector: config,
                mask,
                key,
                ..
            } => (
                SecureStep::MaskText(detector(config)?, mask.clone()),
                key.clone(),
            ),
            ScalarKernel::MaskValue {
                kind,
                operator,
                key,
                ..
            } => {
                if operator.is_keyed() && key.is_none() {
                    return plan_err!(
                        "{name}: the {} operator needs a key; set `key` to a file or \
                         environment variable that every executor can read",
                        operator.as_str()
                    );
                }
                (SecureStep::MaskValue(*kind, *operator), key.clone())
            }
            other => {
                return Err(DataFusionError::Internal(format!(
                    "{} is not a secure kernel",
                    other.udf_name()
                )));
            }
        };
        if let Some(key) = &key {
            key.validate()?;
        }
        Ok(SecureKernel {
            name,
            output: kernel.output(),
            step,
            key,
            masker: OnceLock::new(),
        })
    }

    fn masker(&self) -> Result<Arc<Masker>> {
        let built = self.masker.get_or_init(|| match &self.key {
            None => Ok(Arc::new(Masker::keyless())),
            Some(source) => source
                .load()
                .and_then(|key| {
                    Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default())
                        .map_err(|error| sdk_error(self.name, error))
                })
                .map(Arc::new)
                .map_err(|error| error.to_string()),
        });
        built
            .clone()
            .map_err(|message| DataFusionError::Execution(format!("{}: {message}", self.name)))
    }

    pub(super) fn evaluate(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        let rows = check_lengths(self.name, columns)?;
        let text = utf8(&columns[0], self.name)?;
        match &self.step {
            SecureStep::Kinds(detector) => {
                let kinds: StringArray = text
                    .iter()
                    .map(|value| {
                        let findings = detector.detect(value?);
                        let mut kinds: Vec<&str> = Vec::new();
                        for finding in &findings {
                            if !kinds.contains(&finding.kind.as_str()) {
                                kinds.push(finding.kind.as_str());
                            }
                        }
                        (!kinds.is_empty()).then(|| kinds.join(","))
                    })
                    .collect();
                Ok(Arc::new(kinds))
            }
            SecureStep::MaskText(detector, mask) => {
                let masker = self.masker()?;
                let mut values = Vec::with_capacity(rows);
                let mut issues: Vec<Issue> = Vec::new();
                for (row, value) in text.iter().enumerate() {
                    let Some(value) = value else {
                        values.push(None);
                        continue;
                    };
                    let findings = detector.detect(value);
                    if findings.is_empty() {
                        values.push(Some(value.to_string()));
                        continue;
                    }
                    let masked = masker.mask_text(value, &findings, mask);
                    issues.extend(text_cell_issues(
                        STAGE,
                        row as u64,
                        "",
                        &findings,
                        Some(&masked),
                        mask,
                    ));
                    values.push(masked.text);
                }
                match self.output {
                    KernelOutput::Value => Ok(Arc::new(StringArray::from(values))),
                    KernelOutput::Issue => issue_list(rows, &issues, |_| true),
                }
            }
            SecureStep::MaskValue(kind, operator) => {
                let masker = self.masker()?;
                let masked = masker
                    .mask_column(&text, *kind, *operator)
                    .map_err(|error| sdk_error(self.name, error))?;
                match self.output {
                    KernelOutput::Value => Ok(masked.array),
                    KernelOutput::Issue => {
                        let issues: Vec<Issue> = masked
                            .fallbacks
                            .iter()
                            .map(|(row, fallback)| {
                                column_fallback_issue(STAGE, *row as u64, "", fallback)
                            })
                            .collect();
                        issue_list(rows, &issues, |_| true)
                    }
                }
            }
        }
    }
}
