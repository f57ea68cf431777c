//! [`PiiGuard`]: the guard stage that decides per request which columns a consumer sees and
//! masks personal data in the text columns it shows.
//!
//! For each batch the guard:
//!
//! 1. decides access for the request's subject, purpose and time with the [`AccessPolicy`]
//!    and records the decision (allow or deny, the rules behind it, who, data set, columns,
//!    rows and purpose) in the audit log.
//! 2. applies the decision's row filters to the whole batch. Each withheld row goes to the
//!    quarantine with the id of the rule that withheld it, but without its values.
//! 3. classifies each visible column the first time it sees it, with the
//!    [`ColumnClassifier`](crate::detect::ColumnClassifier), from the column name and a
//!    sample of its values. Each column found to hold a kind of personal data is recorded
//!    (column, kind, confidence, reason) in the audit log and as one
//!    [`IssueKind::PersonalData`](governance_core::IssueKind::PersonalData) issue on the batch's first row.
//! 4. keeps only the visible columns, with their field metadata, and masks every value of
//!    the columns the policy masks.
//! 5. unless the policy turns masking off, masks every value of each classified column with
//!    the operator the [`MaskConfig`] sets for its kind (a cell whose operator fails becomes
//!    null, with a warning issue), and, when [`ColumnGuardConfig::coordinate_cell_m`] is
//!    set, moves each position of a latitude and longitude column pair to the centre of its
//!    grid cell.
//! 6. detects personal data in the other visible text columns and, unless the policy turns
//!    masking off, masks it. Each finding becomes a [`IssueKind::PersonalData`](governance_core::IssueKind::PersonalData) issue and
//!    each masked cell a [`IssueKind::Masked`](governance_core::IssueKind::Masked) issue. Issue messages name the kind, the
//!    character span and the confidence tier, never the value.
//! 7. writes the semantic type and sensitivity of classified columns, marks other text
//!    columns known to contain personal data as sensitive free text, and names the masking
//!    operator of every masked column under [`MASKING_KEY`](governance_core::semantic::MASKING_KEY) in the field metadata.
//! 8. records the masking counts per kind and column and the share in the audit log.
//!
//! Every row that enters leaves, as output or as quarantine.
//!
//! The issue log travels with the data to the consumer, so the guard also masks personal
//! data that earlier stages wrote into issue messages and suggested values, and drops the
//! suggested values of issues on columns the role cannot see. The issues themselves are
//! kept.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::{AccessDetails, AuditAction, AuditDecision};
use governance_core::{
    AccessRequest, Error, GovernedBatch, Guard, Issue, IssueLog, QuarantinedRow, Result,
    Sensitivity, Stage, StageContext,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::detect::{Detector, DetectorConfig, PiiFinding, PiiKind};
use crate::mask::MaskConfig;
use crate::masker::{MaskedText, Masker};
use crate::policy::apply::{project_and_mask, select_rows};
use crate::policy::{AccessDecision, AccessPolicy, RegoPolicy};
use governance_llm::tagger::Tagger;

mod classify;
mod issues;
#[cfg(test)]
mod tests;

pub use classify::ColumnGuardConfig;
use classify::{
    ColumnVerdicts, annotate_field, generalise_pair, mask_whole_column, visible_columns,
    with_masking,
};
use issues::{classification_issue, position_nulled_issue};
pub use issues::{column_fallback_issue, text_cell_issues};

/// Default stage name of a [`PiiGuard`].
pub const DEFAULT_GUARD_NAME: &str = "pii_guard";

/// Semantic type written to the field metadata of text columns that hold personal data.
pub const PII_SEMANTIC_TYPE: &str = "free_text_with_pii";

/// Value of [`MASKING_KEY`](governance_core::semantic::MASKING_KEY) on free-text columns whose personal data the guard masked.
pub const MASKED_IN_TEXT: &str = "personal_data_in_text";

/// Value of [`MASKING_KEY`](governance_core::semantic::MASKING_KEY) on coordinate columns generalised to grid cells.
pub const MASKED_TO_GRID_CELL: &str = "grid_cell";

/// Columns with at least this many rows are scanned on the rayon pool, row by row. Below it
/// the cost of splitting the work exceeds the gain.
const PARALLEL_MIN_ROWS: usize = 1024;

/// Configuration of a [`PiiGuard`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiGuardConfig {
    /// Text columns to scan for personal data. `None` scans every visible column of type
    /// Utf8, LargeUtf8 or Utf8View. Listed columns that the data lacks are ignored with a
    /// warning, and a listed column of another type is a config error.
    pub text_columns: Option<Vec<String>>,
    /// Detector settings: kinds, context window, minimum tier.
    pub detector: DetectorConfig,
    /// How to mask each kind of personal data.
    pub mask: MaskConfig,
    /// Access policy by role. The default policy denies everyone.
    pub policy: AccessPolicy,
    /// Column-level classification, whole-value masking of classified columns and
    /// generalisation of coordinate pairs.
    pub classification: ColumnGuardConfig,
    /// A Rego policy file that decides access in place of `policy`, which must then be
    /// empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rego: Option<RegoConfig>,
}

/// Source files of a guard's Rego policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegoConfig {
    /// The `.rego` module.
    pub path: PathBuf,
    /// Package whose rules decide, dotted and without `data.`; by default
    /// [`RegoPolicy::DEFAULT_PACKAGE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// A JSON document loaded under `data`, such as role lists kept outside the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
}

impl RegoConfig {
    /// Reads the module and the data document.
    pub fn load(&self) -> Result<RegoPolicy> {
        let mut policy = RegoPolicy::from_path(&self.path)?;
        if let Some(data) = &self.data {
            let text = std::fs::read_to_string(data).map_err(|source| Error::io(data, source))?;
            policy = policy.with_data_json(&text)?;
        }
        if let Some(package) = &self.package {
            policy = policy.with_package(package.clone());
        }
        Ok(policy)
    }
}

/// The guard stage. See the [module docs](self) for what it does to each batch.
#[derive(Debug)]
pub struct PiiGuard {
    name: String,
    config: PiiGuardConfig,
    detector: Detector,
    /// Applies the mask operators. Keyless unless [`PiiGuard::with_masker`] gave it keys,
    /// because keys come from the caller and never from the config.
    masker: Masker,
    /// Columns found to contain personal data in this or an earlier batch. They keep their
    /// annotation in later batches, so that the stream's schema stays the same.
    pii_columns: BTreeSet<String>,
    /// Verdicts of the column classifier, kept for the whole stream.
    verdicts: ColumnVerdicts,
    /// Policy and config columns already reported as missing, so each is logged once.
    warned_missing: BTreeSet<String>,
    /// A Rego policy that decides access in place of the config's policy.
    rego: Option<RegoPolicy>,
}

/// Findings of one cell and its masked text, when masked.
struct CellScan {
    row: usize,
    findings: Vec<PiiFinding>,
    masked: Option<MaskedText>,
}

/// Per-column outcome of a scan.
struct ColumnScan {
    cells: Vec<CellScan>,
    masked_array: Option<ArrayRef>,
}

impl PiiGuard {
    /// Builds a guard named [`DEFAULT_GUARD_NAME`]. Fails when the detector, classifier or
    /// grid cell settings are invalid, or the Rego policy cannot be read or parsed.
    pub fn new(config: PiiGuardConfig) -> Result<Self> {
        let detector = Detector::new(config.detector.clone())?;
        config.classification.validate(DEFAULT_GUARD_NAME)?;
        let verdicts = ColumnVerdicts::new(&config.detector, &config.classification)?;
        let rego = config.rego.as_ref().map(RegoConfig::load).transpose()?;
        let guard = PiiGuard {
            name: DEFAULT_GUARD_NAME.to_string(),
            config,
            detector,
            masker: Masker::keyless(),
            pii_columns: BTreeSet::new(),
            verdicts,
            warned_missing: BTreeSet::new(),
            rego: None,
        };
        match rego {
            Some(policy) => guard.with_rego_policy(policy),
            None => Ok(guard),
        }
    }

    /// Returns the guard deciding access with a Rego policy instead of the config's policy.
    /// Fails when the config's policy has roles or rules, because two policies that could
    /// disagree would make decisions hard to explain. Keep the config's policy empty.
    pub fn with_rego_policy(mut self, policy: RegoPolicy) -> Result<Self> {
        if !self.config.policy.roles.is_empty() || !self.config.policy.rules.is_empty() {
            return Err(Error::config(
                &self.name,
                format!(
                    "the guard's config already has an access policy ({} role(s), {} rule(s)); \
                     empty it to decide with Rego package {}",
                    self.config.policy.roles.len(),
                    self.config.policy.rules.len(),
                    policy.package()
                ),
            ));
        }
        self.rego = Some(policy);
        Ok(self)
    }

    /// Returns the guard with stage name `name`, for chains with more than one guard.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the guard masking with `masker`, which holds the caller's keys for the
    /// pseudonym, format-preserving and encryption operators. Without it those operators fall
    /// back to type tags, and each fallback is a warning issue on the cell.
    pub fn with_masker(mut self, masker: Masker) -> Self {
        self.masker = masker;
        self
    }

    /// Returns the guard with `tagger` finding names, street addresses, organisations and
    /// places in free text, beside the pattern recognizers. See [`Detector::with_tagger`].
    pub fn with_tagger(self, tagger: Arc<Tagger>) -> Self {
        PiiGuard {
            detector: self.detector.with_tagger(tagger),
            ..self
        }
    }

    /// Returns the configuration.
    pub fn config(&self) -> &PiiGuardConfig {
        &self.config
    }

    /// Returns the detector, for scanning text outside a chain.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Logs once per setting and column that a column named in `setting` is not in the data.
    fn warn_missing_once(&mut self, role: &str, setting: &str, column: &str) {
        if self
            .warned_missing
            .insert(format!("{setting}\u{0}{column}"))
        {
            tracing::warn!(
                stage = %self.name,
                role,
                setting,
                column,
                "column named in the guard config is not in the data and is ignored"
            );
        }
    }

    /// Returns the visible columns to scan, with their index in `schema`.
    fn text_columns(
        &mut self,
        schema: &Schema,
        decision: &AccessDecision,
        all_columns: &[String],
    ) -> Result<Vec<usize>> {
        let Some(listed) = self.config.text_columns.clone() else {
            return Ok(schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, field)| is_text_type(field.data_type()))
                .map(|(index, _)| index)
                .collect());
        };
        let mut indices = Vec::new();
        for name in &listed {
            if !all_columns.contains(name) {
                self.warn_missing_once(&decision.role, "text_columns", name);
                continue;
            }
            let Ok(index) = schema.index_of(name) else {
                // Present in the data but not visible to this role: nothing to scan.
                continue;
            };
            let data_type = schema.field(index).data_type();
            if !is_text_type(data_type) {
                return Err(Error::config(
                    self.name.clone(),
                    format!(
                        "text column {name:?} has type {data_type}; text_columns takes Utf8, \
                         LargeUtf8 or Utf8View columns, so remove it from the list"
                    ),
                ));
            }
            indices.push(index);
        }
        Ok(indices)
    }

    /// Detects (and when `mask` is set, masks) personal data in one text column.
    fn scan_column(&self, array: &ArrayRef, mask: bool) -> Result<ColumnScan> {
        let values = string_values(array)?;
        let scan_cell = |(row, value): (usize, &Option<&str>)| -> Option<CellScan> {
            let text = (*value)?;
            let findings = self.detector.detect(text);
            if findings.is_empty() {
                return None;
            }
            let masked = mask.then(|| self.masker.mask_text(text, &findings, &self.config.mask));
            Some(CellScan {
                row,
                findings,
                masked,
            })
        };
        let cells: Vec<CellScan> = if values.len() >= PARALLEL_MIN_ROWS {
            values
                .par_iter()
                .enumerate()
                .filter_map(scan_cell)
                .collect()
        } else {
            values.iter().enumerate().filter_map(scan_cell).collect()
        };

        let masked_array = if mask && !cells.is_empty() {
            let mut new_values: Vec<Option<Cow<'_, str>>> = values
                .iter()
                .map(|value| value.map(Cow::Borrowed))
                .collect();
            for cell in &cells {
                if let Some(masked) = &cell.masked {
                    // A suppressed text becomes a null cell.
                    new_values[cell.row] = masked.text.clone().map(Cow::Owned);
                }
            }
            Some(rebuild_string_array(array.data_type(), new_values)?)
        } else {
            None
        };
        Ok(ColumnScan {
            cells,
            masked_array,
        })
    }

    /// Masks personal data that earlier stages wrote into issue messages and suggested
    /// values, and drops suggested values of columns the role cannot see. Returns the new
    /// log and the number of issues changed.
    fn scrub_issues(&self, issues: IssueLog, decision: &AccessDecision) -> (IssueLog, usize) {
        let mut scrubbed = IssueLog::new();
        let mut changed = 0;
        for mut issue in issues {
            let mut touched = false;
            // Suggested values of hidden and policy-masked columns may hold the raw value.
            let hidden = issue.column.as_ref().is_some_and(|column| {
                !decision.visible_columns.contains(column)
                    || decision.column_masks.contains_key(column)
            });
            if hidden && issue.suggested.is_some() {
                issue.suggested = None;
                touched = true;
            }
            if decision.mask_personal_data {
                if let Some(masked) = self.mask_if_personal(&issue.message) {
                    issue.message = masked;
                    touched = true;
                }
                if let Some(masked) = issue
                    .suggested
                    .as_deref()
                    .and_then(|s| self.mask_if_personal(s))
                {
                    issue.suggested = Some(masked);
                    touched = true;
                }
            }
            changed += usize::from(touched);
            scrubbed.push(issue);
        }
        (scrubbed, changed)
    }

    /// Masks every value of the visible classified columns in `columns` and generalises
    /// coordinate pairs, skipping columns the policy masks. Records the operator of each
    /// changed column in `masking` and returns one audit entry per change, such as
    /// `phone:pseudonym=120`.
    fn mask_classified(
        &self,
        schema: &Schema,
        columns: &mut [ArrayRef],
        decision: &AccessDecision,
        row_ids: &UInt64Array,
        issues: &mut Vec<Issue>,
        masking: &mut BTreeMap<String, String>,
    ) -> Result<Vec<String>> {
        let mut changes = Vec::new();
        let settings = &self.config.classification;
        if settings.mask_whole_values {
            for (index, field) in schema.fields().iter().enumerate() {
                let name = field.name();
                let Some(verdict) = self.verdicts.get(name) else {
                    continue;
                };
                // Coordinates are generalised in pairs below; alone they are left as they are.
                if verdict.axis.is_some() || decision.column_masks.contains_key(name) {
                    continue;
                }
                let operator = self.config.mask.operator(verdict.kind);
                let masked =
                    mask_whole_column(&self.masker, &columns[index], verdict.kind, operator)?;
                for (row, fallback) in &masked.fallbacks {
                    issues.push(column_fallback_issue(
                        &self.name,
                        row_ids.value(*row),
                        name,
                        fallback,
                    ));
                }
                changes.push(format!("{name}:{}={}", operator.as_str(), masked.cells));
                masking.insert(name.clone(), operator.as_str().to_string());
                columns[index] = masked.array;
            }
        }
        let Some(cell_m) = settings.coordinate_cell_m else {
            return Ok(changes);
        };
        for pair in self.verdicts.pairs() {
            let (Ok(lat), Ok(lon)) = (
                schema.index_of(&pair.latitude),
                schema.index_of(&pair.longitude),
            ) else {
                continue;
            };
            if masking.contains_key(&pair.latitude) || masking.contains_key(&pair.longitude) {
                continue;
            }
            let generalised = generalise_pair(&columns[lat], &columns[lon], cell_m)?;
            for (row, reason) in &generalised.nulled {
                let row_id = row_ids.value(*row);
                issues.push(position_nulled_issue(
                    &self.name,
                    row_id,
                    &pair.latitude,
                    reason,
                ));
                issues.push(position_nulled_issue(
                    &self.name,
                    row_id,
                    &pair.longitude,
                    reason,
                ));
            }
            changes.push(format!(
                "{}+{}:{MASKED_TO_GRID_CELL}_{cell_m}m={}",
                pair.latitude, pair.longitude, generalised.rows
            ));
            for column in [&pair.latitude, &pair.longitude] {
                masking.insert(column.clone(), MASKED_TO_GRID_CELL.to_string());
            }
            columns[lat] = generalised.latitude;
            columns[lon] = generalised.longitude;
        }
        Ok(changes)
    }

    /// Returns `field` with the guard's annotation: the classification of a classified
    /// column, the free-text marking of other columns with personal data, and the masking
    /// operator of masked columns.
    fn annotate(
        &self,
        field: &Field,
        masking: &BTreeMap<String, String>,
        mask_personal_data: bool,
    ) -> Field {
        let name = field.name();
        let in_text = self.pii_columns.contains(name);
        let operator = masking
            .get(name)
            .map(String::as_str)
            .or((mask_personal_data && in_text).then_some(MASKED_IN_TEXT));
        if let Some(verdict) = self.verdicts.get(name) {
            annotate_field(
                field,
                classify::semantic_type(verdict),
                verdict.sensitivity(),
                operator,
            )
        } else if in_text {
            annotate_field(field, PII_SEMANTIC_TYPE, Sensitivity::Sensitive, operator)
        } else {
            with_masking(field.clone(), operator)
        }
    }

    fn mask_if_personal(&self, text: &str) -> Option<String> {
        let findings = self.detector.detect(text);
        if findings.is_empty() {
            return None;
        }
        // A suppressed message or suggestion becomes empty.
        let masked = self.masker.mask_text(text, &findings, &self.config.mask);
        Some(masked.text.unwrap_or_default())
    }
}

fn is_text_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Returns the values of a Utf8, LargeUtf8 or Utf8View array.
fn string_values(array: &ArrayRef) -> Result<Vec<Option<&str>>> {
    let values = match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => {
            return Err(Error::Internal(format!(
                "text column scan got a column of type {other}, which is not a string type"
            )));
        }
    };
    Ok(values)
}

/// Builds an array of the same string type as the input from `values`.
fn rebuild_string_array(
    data_type: &DataType,
    values: Vec<Option<Cow<'_, str>>>,
) -> Result<ArrayRef> {
    let array: ArrayRef = match data_type {
        DataType::Utf8 => Arc::new(StringArray::from_iter(values)),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from_iter(values)),
        DataType::Utf8View => Arc::new(StringViewArray::from_iter(values)),
        other => {
            return Err(Error::Internal(format!(
                "masked values cannot be written to a column of type {other}"
            )));
        }
    };
    Ok(array)
}

/// Formats the non-zero counts per kind as `email=1 resident_id=2`, in the order of
/// [`PiiKind::ALL`], or `findings=0` when there are none.
fn format_counts(counts: &BTreeMap<PiiKind, u64>) -> String {
    let parts: Vec<String> = PiiKind::ALL
        .iter()
        .filter_map(|kind| {
            let count = counts.get(kind).copied().unwrap_or(0);
            (count > 0).then(|| format!("{kind}={count}"))
        })
        .collect();
    if parts.is_empty() {
        return "findings=0".to_string();
    }
    parts.join(" ")
}

impl Stage for PiiGuard {
    fn name(&self) -> &str {
        &self.name
    }

    /// Returns `1`, or with a token tagger `1+tagger-` and the first 12 hex digits of the
    /// tagger's training data hash, so that lineage shows which model tagged each round.
    fn version(&self) -> String {
        match self.detector.tagger_version() {
            Some(tagger_version) => format!("1+{tagger_version}"),
            None => "1".to_string(),
        }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_else(|error| {
            tracing::error!(stage = %self.name, %error, "guard config could not be written as JSON");
            serde_json::Value::Null
        })
    }

    fn describe(&self) -> String {
        let kinds: Vec<&str> = self
            .config
            .detector
            .kinds
            .iter()
            .map(|kind| kind.as_str())
            .collect();
        let access = match &self.rego {
            Some(rego) => format!("access decided by Rego package {}", rego.package()),
            None => format!(
                "access for {} role(s) and {} rule(s)",
                self.config.policy.roles.len(),
                self.config.policy.rules.len()
            ),
        };
        format!(
            "{}: masks {} in text columns; {access}, others denied",
            self.name,
            kinds.join(", "),
        )
    }
}

impl Guard for PiiGuard {
    fn guard(
        &mut self,
        mut batch: GovernedBatch,
        request: &AccessRequest,
        ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        let source = batch.provenance.source.clone();
        let all_columns = batch.column_names();
        let rows_in = batch.num_rows() as u64;
        let decided_at = request.time_ms.unwrap_or_else(now_ms);
        let schema = batch.data().schema();
        let decided = match self.rego.as_mut() {
            Some(rego) => rego.evaluate(request, &source, &schema, decided_at)?,
            None => self
                .config
                .policy
                .evaluate(request, &source, &schema, decided_at)?,
        };
        let decision = match decided {
            Ok(decision) => decision,
            Err(denial) => {
                let detail = format!(
                    "deny role={:?} purpose={:?} rows={rows_in}: {}",
                    request.role, request.purpose, denial.reason
                );
                let access = access_details(
                    request,
                    &source,
                    Vec::new(),
                    rows_in,
                    AuditDecision::Deny,
                    denial.rules,
                );
                ctx.audit_access(AuditAction::Decision, &source, &detail, access)?;
                return Err(Error::AccessDenied {
                    role: request.role.clone(),
                    reason: denial.reason,
                });
            }
        };
        for column in &decision.missing_columns {
            self.warn_missing_once(&decision.role, "policy", column);
        }

        // Row filters see every column, because a filter may use a column the subject cannot
        // see. Withheld rows go to quarantine with the rule that withheld them and without
        // their values, which the consumer may not see.
        let selection = select_rows(&decision, batch.data())?;
        for (row, rule) in &selection.withheld {
            ctx.quarantine(QuarantinedRow {
                stage: self.name.clone(),
                row_id: Some(batch.row_ids().value(*row)),
                source: Some(source.clone()),
                line: None,
                reason: format!(
                    "withheld from role {:?} by the row filter of rule {rule:?}",
                    request.role
                ),
                raw: String::new(),
            });
        }
        if !selection.withheld.is_empty() {
            batch = batch.filter(&selection.keep)?;
        }
        let masked_by_policy: Vec<String> = decision.column_masks.keys().cloned().collect();
        let detail = format!(
            "allow role={:?} purpose={:?} visible_columns=[{}] mask_personal_data={} \
             column_masks=[{}] withheld_rows={} rules=[{}]",
            request.role,
            request.purpose,
            decision.visible_columns.join(", "),
            decision.mask_personal_data,
            masked_by_policy.join(", "),
            selection.withheld.len(),
            decision.rules.join(", ")
        );
        let access = access_details(
            request,
            &source,
            decision.visible_columns.clone(),
            rows_in,
            AuditDecision::Allow,
            decision.rules.clone(),
        );
        ctx.audit_access(AuditAction::Decision, &source, &detail, access)?;

        // The classifier samples the raw values of the visible columns, before any mask.
        let mut issues = Vec::new();
        if self.config.classification.enabled {
            let visible = visible_columns(batch.data(), &decision.visible_columns)?;
            for verdict in self.verdicts.classify_new(&visible)? {
                let detail = format!(
                    "classified column={:?} kind={} sensitivity={} confidence={:.2}: {}",
                    verdict.column,
                    verdict.kind,
                    verdict.sensitivity(),
                    verdict.confidence,
                    verdict.explanation
                );
                ctx.audit(AuditAction::Decision, &source, &detail)?;
                issues.push(classification_issue(
                    &self.name,
                    batch.row_ids().value(0),
                    &verdict,
                ));
            }
        }

        // Projection keeps the field metadata of the visible columns.
        let (projected, policy_fallbacks) = project_and_mask(
            &decision,
            batch.data(),
            &self.masker,
            &self.verdicts.kinds(),
        )?;
        let projected_schema = projected.schema();
        for cell in &policy_fallbacks {
            issues.push(column_fallback_issue(
                &self.name,
                batch.row_ids().value(cell.row),
                &cell.column,
                &cell.fallback,
            ));
        }

        let mut columns: Vec<ArrayRef> = projected.columns().to_vec();
        // Masking operator of each column masked as a whole, by the policy or the guard.
        let mut masking: BTreeMap<String, String> = decision
            .column_masks
            .iter()
            .map(|(column, operator)| (column.clone(), operator.as_str().to_string()))
            .collect();
        let whole_masks = if decision.mask_personal_data {
            self.mask_classified(
                &projected_schema,
                &mut columns,
                &decision,
                batch.row_ids(),
                &mut issues,
                &mut masking,
            )?
        } else {
            Vec::new()
        };

        let mut counts: BTreeMap<PiiKind, u64> = BTreeMap::new();
        let mut masked_cells = 0u64;
        let mut masked_columns = Vec::new();
        for index in self.text_columns(&projected_schema, &decision, &all_columns)? {
            let column_name = projected_schema.field(index).name().clone();
            if masking.contains_key(&column_name) {
                // Every value is already masked by the policy or as a classified column.
                continue;
            }
            let scan = self.scan_column(&columns[index], decision.mask_personal_data)?;
            if scan.cells.is_empty() {
                continue;
            }
            self.pii_columns.insert(column_name.clone());
            for cell in &scan.cells {
                let row_id = batch.row_ids().value(cell.row);
                for finding in &cell.findings {
                    *counts.entry(finding.kind).or_insert(0) += 1;
                }
                if cell.masked.is_some() {
                    masked_cells += 1;
                }
                issues.extend(text_cell_issues(
                    &self.name,
                    row_id,
                    &column_name,
                    &cell.findings,
                    cell.masked.as_ref(),
                    &self.config.mask,
                ));
            }
            if let Some(array) = scan.masked_array {
                columns[index] = array;
                masked_columns.push(column_name);
            }
        }

        // A whole-value mask turns numbers into text and may leave nulls.
        let fields: Vec<Field> = projected_schema
            .fields()
            .iter()
            .zip(&columns)
            .map(|(field, array)| {
                let field = if masking.contains_key(field.name()) {
                    field
                        .as_ref()
                        .clone()
                        .with_data_type(array.data_type().clone())
                        .with_nullable(true)
                } else {
                    field.as_ref().clone()
                };
                self.annotate(&field, &masking, decision.mask_personal_data)
            })
            .collect();
        let schema = Schema::new_with_metadata(fields, projected_schema.metadata().clone());
        let data = RecordBatch::try_new(Arc::new(schema), columns)?;
        batch.replace_data(data)?;

        let earlier = std::mem::take(&mut batch.issues);
        let (mut log, scrubbed) = self.scrub_issues(earlier, &decision);
        log.extend(issues);
        batch.issues = log;

        let findings: u64 = counts.values().sum();
        if masked_cells > 0 || scrubbed > 0 || !whole_masks.is_empty() {
            let whole = if whole_masks.is_empty() {
                String::new()
            } else {
                format!(" whole_columns=[{}]", whole_masks.join(", "))
            };
            let detail = format!(
                "masked_cells={masked_cells} {} columns=[{}]{whole} scrubbed_issues={scrubbed}",
                format_counts(&counts),
                masked_columns.join(", ")
            );
            ctx.audit(AuditAction::Change, &source, &detail)?;
        }
        let unmasked = if decision.mask_personal_data {
            0
        } else {
            findings
        };
        let detail = format!(
            "role={:?} rows={} columns={} personal_data_found={findings} personal_data_unmasked={unmasked}",
            request.role,
            batch.num_rows(),
            batch.data().num_columns()
        );
        let access = access_details(
            request,
            &source,
            batch.column_names(),
            batch.num_rows() as u64,
            AuditDecision::Allow,
            decision.rules.clone(),
        );
        ctx.audit_access(AuditAction::Share, &source, &detail, access)?;
        Ok(batch)
    }
}

/// Builds the access details of an audit record of this request.
fn access_details(
    request: &AccessRequest,
    dataset: &str,
    columns: Vec<String>,
    rows: u64,
    decision: AuditDecision,
    rules: Vec<String>,
) -> AccessDetails {
    AccessDetails {
        subject: request.subject().to_string(),
        role: Some(request.role.clone()),
        department: request.department.clone(),
        dataset: dataset.to_string(),
        columns,
        rows,
        purpose: request.purpose.clone(),
        decision: Some(decision),
        rules,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
