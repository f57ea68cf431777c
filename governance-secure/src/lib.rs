//! Guards of the `governance` SDK: detection of personal data in free text, masking, and
//! role-based access policies, joined in the [`PiiGuard`] stage.
//!
//! - [`detect`] finds e-mail addresses, phone numbers, Chinese resident identity numbers,
//!   unified social credit codes and licence plates, payment cards, IBANs, IP and MAC
//!   addresses, URLs and domain names, US social security numbers, dates of birth, passport
//!   numbers and GPS coordinates, including values glued to Chinese text and written in
//!   full-width characters, and grades each finding by the evidence behind it (pattern,
//!   validator, context keyword). Its [`ColumnClassifier`](detect::ColumnClassifier) decides
//!   from a column's name and sampled values which kind of personal data a table column
//!   holds, and pairs latitude and longitude columns.
//! - [`mask`] replaces findings: removed, replaced by a type tag, or partly starred.
//! - [`masker`] applies every operator, including the keyed ones: [`pseudonym`] (HMAC-SHA256
//!   pseudonyms that keep masked tables joinable), [`fpe`] (format-preserving FF1 tokens) and
//!   [`encrypt`] (AES-256-GCM tokens, re-identified under audit). The caller supplies the
//!   [`keys`].
//! - [`generalize`] coarsens ages, coordinates, timestamps and postcodes, and [`kanon`]
//!   reports k-anonymity and generalises and suppresses a table until it reaches a target k.
//! - [`policy`] decides from subject, resource, purpose and time which columns and rows a
//!   subject sees and which columns are masked. Access is denied by default and deny wins.
//! - [`anomaly`] keeps per-subject baselines of access volume, columns and hour, raises
//!   alerts on unusual access, and can hold a subject's reads of sensitive columns.
//! - [`guard`] applies all three to each batch of a chain and records every decision, change
//!   and share in the audit log, with counts and never personal values.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Array, AsArray, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::audit::AuditLog;
//! use governance_core::{AccessRequest, GovernedBatch, Guard, Provenance, RowIdAllocator, StageContext};
//! use governance_secure::policy::{AccessPolicy, RolePolicy};
//! use governance_secure::{PiiGuard, PiiGuardConfig};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("note", DataType::Utf8, true)]));
//! let notes = StringArray::from(vec!["请回电13812345678", "路灯不亮"]);
//! let data = RecordBatch::try_new(schema, vec![Arc::new(notes)])?;
//! let batch = GovernedBatch::try_new(data, RowIdAllocator::default().allocate(2), Provenance::new("tickets"))?;
//!
//! let policy = AccessPolicy::default().with_role("analyst", RolePolicy::all_columns());
//! let mut guard = PiiGuard::new(PiiGuardConfig { policy, ..PiiGuardConfig::default() })?;
//! let request = AccessRequest::new("analyst", "monthly report");
//! let mut ctx = StageContext::new("pii_guard", 1, AuditLog::in_memory().into_handle());
//! let guarded = guard.guard(batch, &request, &mut ctx)?;
//!
//! assert_eq!(guarded.column("note")?.as_string::<i32>().value(0), "请回电138****5678");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Dependencies: `regex` and `aho-corasick` run the recognizers and the context keyword
//! search in linear time, `rayon` scans the rows of large batches in parallel, `chrono`
//! checks birth dates in resident identity numbers and dates of birth against the calendar
//! and puts requests in policy time windows, and `toml` reads policy files. `hmac` and `sha2`
//! compute pseudonyms, `fpe` and `aes` the FF1 tokens, `aes-gcm` with `getrandom` nonces the
//! reversible tokens, and `zeroize` wipes keys from memory.

pub mod anomaly;
pub mod detect;
pub mod encrypt;
pub mod fpe;
pub mod generalize;
pub mod guard;
pub mod kanon;
pub mod keys;
pub mod mask;
pub mod masker;
pub mod policy;
pub mod pseudonym;

pub use anomaly::{AccessAlert, AccessEvent, AccessMonitor, AccessMonitorConfig};
pub use detect::{ConfidenceTier, Detector, DetectorConfig, PiiFinding, PiiKind};
pub use guard::{ColumnGuardConfig, PiiGuard, PiiGuardConfig, RegoConfig};
pub use keys::{MaskerKeys, SecretKey};
pub use mask::{MaskConfig, MaskOperator, mask_text, mask_value};
pub use masker::{MaskedText, Masker};
pub use policy::{AccessDecision, AccessPolicy, Effect, PolicyRule, RolePolicy, RowPredicate};
