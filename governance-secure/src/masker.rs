//! [`Masker`]: applies any [`MaskOperator`], keyed or not, to values, texts with findings and
//! whole string columns.
//!
//! The masker keeps the caller's keys (see [`MaskerKeys`]). An operator whose key is missing,
//! or that cannot handle a value (a phone number too short for a format-preserving token, a
//! resident id with a wrong check character), never leaves the value in clear: in a text
//! the value becomes its type tag, in a column the cell becomes null, and each such case is
//! returned as a [`MaskFallback`] with the reason. A tag would be wrong in a column because
//! masked columns are joined on, and every cell with the same tag would join.
//!
//! ```
//! use governance_secure::detect::{Detector, DetectorConfig};
//! use governance_secure::fpe::FpeConfig;
//! use governance_secure::keys::{MaskerKeys, SecretKey};
//! use governance_secure::mask::{MaskConfig, MaskOperator};
//! use governance_secure::masker::Masker;
//!
//! let key = SecretKey::from_bytes(&[8u8; 32])?;
//! let masker = Masker::new(&MaskerKeys::from_master(&key), FpeConfig::default())?;
//! let text = "电话13812345678";
//! let findings = Detector::new(DetectorConfig::default())?.detect(text);
//! let masked = masker.mask_text(text, &findings, &MaskConfig::all(MaskOperator::Pseudonym));
//! assert!(masked.fallbacks.is_empty());
//! assert!(masked.text.as_deref().is_some_and(|text| text.starts_with("电话phone_")));
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::DataType;
use governance_core::{Error, Result};
use rayon::prelude::*;

use crate::detect::{PiiFinding, PiiKind};
use crate::encrypt::Encryptor;
use crate::fpe::{FpeConfig, FpeTokenizer};
use crate::keys::MaskerKeys;
use crate::mask::{MaskConfig, MaskOperator, mask_value, merged_spans};
use crate::pseudonym::Pseudonymizer;

/// Columns with at least this many rows are masked on the rayon pool. Format-preserving
/// tokens cost tens of microseconds per value, so splitting pays off early.
const PARALLEL_MIN_ROWS: usize = 256;

/// Applies masking operators with the caller's keys.
#[derive(Debug, Default)]
pub struct Masker {
    pseudonyms: Option<Pseudonymizer>,
    tokens: Option<FpeTokenizer>,
    encryptor: Option<Encryptor>,
}

/// A value that its operator could not mask and that was masked more strictly instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskFallback {
    /// Kind of the value.
    pub kind: PiiKind,
    /// Operator that failed.
    pub operator: MaskOperator,
    /// Byte span of the value in the original text; the whole cell for columns.
    pub byte_span: Range<usize>,
    /// Reason the operator failed. Never contains the value or a key.
    pub reason: String,
}

/// A text after masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedText {
    /// The masked text, or `None` when a finding's operator is [`MaskOperator::Suppress`].
    pub text: Option<String>,
    /// Values masked by the type tag because their operator failed.
    pub fallbacks: Vec<MaskFallback>,
}

/// A string column after masking.
#[derive(Debug, Clone)]
pub struct MaskedColumn {
    /// The masked column, of type Utf8, with the input's nulls and length.
    pub array: ArrayRef,
    /// Row index and fallback of each cell that became null because its operator failed.
    pub fallbacks: Vec<(usize, MaskFallback)>,
}

impl Masker {
    /// Creates a masker with the keys present in `keys`. `fpe` sets which characters the
    /// format-preserving tokens keep.
    pub fn new(keys: &MaskerKeys, fpe: FpeConfig) -> Result<Self> {
        Ok(Masker {
            pseudonyms: keys.pseudonym.as_ref().map(Pseudonymizer::new),
            tokens: keys
                .format_preserving
                .as_ref()
                .map(|key| FpeTokenizer::new(key, fpe))
                .transpose()?,
            encryptor: keys.encryption.as_ref().map(Encryptor::new),
        })
    }

    /// Creates a masker without keys: the keyed operators fall back to type tags.
    pub fn keyless() -> Self {
        Masker::default()
    }

    /// Returns the pseudonymizer, when the masker has a pseudonym key.
    pub fn pseudonymizer(&self) -> Option<&Pseudonymizer> {
        self.pseudonyms.as_ref()
    }

    /// Returns the format-preserving tokenizer, when the masker has its key.
    pub fn tokenizer(&self) -> Option<&FpeTokenizer> {
        self.tokens.as_ref()
    }

    /// Returns the encryptor, which also re-identifies tokens, when the masker has an
    /// encryption key.
    pub fn encryptor(&self) -> Option<&Encryptor> {
        self.encryptor.as_ref()
    }

    /// Masks one value of `kind` with `operator`. Returns `None` for
    /// [`MaskOperator::Suppress`].
    ///
    /// Fails when a keyed operator has no key or cannot handle the value; the error names
    /// the kind and operator, never the value.
    pub fn mask_value(
        &self,
        kind: PiiKind,
        value: &str,
        operator: MaskOperator,
    ) -> Result<Option<String>> {
        let missing_key = |key: &str| {
            Error::config(
                "masker",
                format!(
                    "the {} operator for {kind} needs a {key} key; pass it in MaskerKeys",
                    operator.as_str()
                ),
            )
        };
        let masked = match operator {
            MaskOperator::Suppress => return Ok(None),
            MaskOperator::Pseudonym => self
                .pseudonyms
                .as_ref()
                .ok_or_else(|| missing_key("pseudonym"))?
                .token(kind, value)?,
            MaskOperator::FormatPreserving => self
                .tokens
                .as_ref()
                .ok_or_else(|| missing_key("format_preserving"))?
                .encrypt(kind, value)?,
            MaskOperator::Encrypt => self
                .encryptor
                .as_ref()
                .ok_or_else(|| missing_key("encryption"))?
                .encrypt(kind, value)?,
            MaskOperator::Redact | MaskOperator::TypeTag | MaskOperator::Partial => {
                mask_value(kind, value, operator)
            }
        };
        Ok(Some(masked))
    }

    /// Returns `text` with every finding masked by the operator `config` sets for its kind.
    ///
    /// Spans are handled as [`crate::mask::mask_text`] handles them. A value whose operator
    /// fails becomes its type tag and is listed in [`MaskedText::fallbacks`]. When any
    /// finding's operator is [`MaskOperator::Suppress`] the whole text is withheld.
    pub fn mask_text(
        &self,
        text: &str,
        findings: &[PiiFinding],
        config: &MaskConfig,
    ) -> MaskedText {
        let spans = merged_spans(text, findings);
        if spans
            .iter()
            .any(|(_, kind)| config.operator(*kind) == MaskOperator::Suppress)
        {
            return MaskedText {
                text: None,
                fallbacks: Vec::new(),
            };
        }

        let mut masked = text.to_string();
        let mut fallbacks = Vec::new();
        for (span, kind) in spans.into_iter().rev() {
            let operator = config.operator(kind);
            let replacement = match self.mask_value(kind, &text[span.clone()], operator) {
                Ok(Some(replacement)) => replacement,
                Ok(None) => String::new(),
                Err(error) => {
                    fallbacks.push(MaskFallback {
                        kind,
                        operator,
                        byte_span: span.clone(),
                        reason: error.to_string(),
                    });
                    mask_value(kind, "", MaskOperator::TypeTag)
                }
            };
            masked.replace_range(span, &replacement);
        }
        fallbacks.reverse();
        if !fallbacks.is_empty() {
            tracing::warn!(
                count = fallbacks.len(),
                "masking operators failed on some values; they were replaced by type tags"
            );
        }
        MaskedText {
            text: Some(masked),
            fallbacks,
        }
    }

    /// Masks every cell of a string column as one value of `kind`. Nulls stay null.
    ///
    /// Accepts Utf8, LargeUtf8 and Utf8View and returns Utf8. A cell whose operator fails
    /// becomes null and is listed with its row in [`MaskedColumn::fallbacks`]; suppressed
    /// cells become null without a fallback.
    pub fn mask_column(
        &self,
        column: &dyn Array,
        kind: PiiKind,
        operator: MaskOperator,
    ) -> Result<MaskedColumn> {
        let values: Vec<Option<&str>> = match column.data_type() {
            DataType::Utf8 => column.as_string::<i32>().iter().collect(),
            DataType::LargeUtf8 => column.as_string::<i64>().iter().collect(),
            DataType::Utf8View => column.as_string_view().iter().collect(),
            other => {
                return Err(Error::InvalidInput(format!(
                    "a {kind} column of type {other} cannot be masked; masking takes Utf8, \
                     LargeUtf8 or Utf8View columns, so cast it to Utf8 first"
                )));
            }
        };
        let mask_cell = |value: Option<&str>| -> (Option<String>, Option<MaskFallback>) {
            let Some(value) = value else {
                return (None, None);
            };
            match self.mask_value(kind, value, operator) {
                Ok(masked) => (masked, None),
                Err(error) => (
                    None,
                    Some(MaskFallback {
                        kind,
                        operator,
                        byte_span: 0..value.len(),
                        reason: error.to_string(),
                    }),
                ),
            }
        };
        let cells: Vec<(Option<String>, Option<MaskFallback>)> =
            if values.len() >= PARALLEL_MIN_ROWS {
                values.into_par_iter().map(mask_cell).collect()
            } else {
                values.into_iter().map(mask_cell).collect()
            };

        let mut fallbacks = Vec::new();
        let mut masked = Vec::with_capacity(cells.len());
        for (row, (cell, fallback)) in cells.into_iter().enumerate() {
            if let Some(fallback) = fallback {
                fallbacks.push((row, fallback));
            }
            masked.push(cell);
        }
        if !fallbacks.is_empty() {
            tracing::warn!(
                count = fallbacks.len(),
                %kind,
                operator = operator.as_str(),
                "masking operator failed on some cells; they were set to null"
            );
        }
        Ok(MaskedColumn {
            array: Arc::new(StringArray::from(masked)),
            fallbacks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ConfidenceTier;

    fn finding(kind: PiiKind, byte_span: Range<usize>) -> PiiFinding {
        PiiFinding {
            kind,
            recognizer: "test",
            char_span: byte_span.clone(),
            byte_span,
            tier: ConfidenceTier::Validated,
            has_context: false,
            score: 0.85,
            token_scores: Vec::new(),
            model_version: None,
        }
    }

    #[test]
    fn keyless_masker_falls_back_to_type_tag() {
        let text = "call 13812345678";
        let masked = Masker::keyless().mask_text(
            text,
            &[finding(PiiKind::Phone, 5..16)],
            &MaskConfig::all(MaskOperator::Pseudonym),
        );
        assert_eq!(masked.text.as_deref(), Some("call <PHONE>"));
        assert_eq!(masked.fallbacks.len(), 1);
        assert_eq!(masked.fallbacks[0].byte_span, 5..16);
        assert!(
            masked.fallbacks[0].reason.contains("pseudonym key"),
            "{}",
            masked.fallbacks[0].reason
        );
    }

    #[test]
    fn suppress_withholds_whole_text() {
        let masked = Masker::keyless().mask_text(
            "call 13812345678",
            &[finding(PiiKind::Phone, 5..16)],
            &MaskConfig::default().with(PiiKind::Phone, MaskOperator::Suppress),
        );
        assert_eq!(masked.text, None);
    }

    #[test]
    fn text_without_findings_is_unchanged() {
        let masked = Masker::keyless().mask_text("路灯不亮", &[], &MaskConfig::default());
        assert_eq!(masked.text.as_deref(), Some("路灯不亮"));
    }
}
