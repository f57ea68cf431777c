//! Kernels of the clean stages: canonicalisation, the rules stage and cell-level checks.
//!
//! Each call runs the stage itself on a batch made of the argument columns, with row ids
//! `0..rows` and an in-memory audit log that is dropped afterwards. A cell therefore comes
//! out as the local chain would leave it, and its issues carry the same kind and message.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, UInt64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use governance_clean::checks::{RuleCheck, Suite, SuiteConfig};
use governance_clean::{Canonicalise, CanonicaliseConfig, Rules, RulesConfig};
use governance_core::audit::AuditLog;
use governance_core::{Cleaner, GovernedBatch, Provenance, StageContext};

use super::issues::issue_list;
use super::{KernelOutput, ScalarKernel, check_lengths, sdk_error};

/// Name of the one column that the canonicalise kernels put in their batch.
const VALUE_COLUMN: &str = "value";

/// Source name written into the provenance of the batches the kernels build.
const SOURCE: &str = "governance-ballista";

#[derive(Debug)]
pub(super) struct CleanKernel {
    name: &'static str,
    output: KernelOutput,
    step: CleanStep,
}

#[derive(Debug)]
enum CleanStep {
    /// A canonicalise stage for the columns `names`; issues of `issue_column` are reported.
    Canonicalise {
        stage: Box<Canonicalise>,
        names: Vec<String>,
        issue_column: String,
        cast_parts_to: Option<DataType>,
    },
    /// A rules stage holding one rule.
    Rule { stage: Rules, column: String },
    /// A check suite holding one cell-level rule, rebuilt per batch because a suite keeps
    /// whole-input counts.
    Check {
        config: SuiteConfig,
        columns: Vec<String>,
    },
}

impl CleanKernel {
    pub(super) fn new(kernel: &ScalarKernel) -> Result<Self> {
        let name = kernel.udf_name();
        let step = match kernel {
            ScalarKernel::CanonicalNumber {
                na_tokens, units, ..
            } => CleanStep::Canonicalise {
                stage: Box::new(canonicalise(
                    name,
                    CanonicaliseConfig {
                        numeric: vec![VALUE_COLUMN.into()],
                        trim: Vec::new(),
                        na_tokens: na_tokens.clone(),
                        units: units.clone(),
                        timestamp: None,
                    },
                )?),
                names: vec![VALUE_COLUMN.into()],
                issue_column: VALUE_COLUMN.into(),
                cast_parts_to: None,
            },
            ScalarKernel::Trim => CleanStep::Canonicalise {
                stage: Box::new(canonicalise(
                    name,
                    CanonicaliseConfig {
                        trim: vec![VALUE_COLUMN.into()],
                        ..CanonicaliseConfig::default()
                    },
                )?),
                names: vec![VALUE_COLUMN.into()],
                issue_column: VALUE_COLUMN.into(),
                cast_parts_to: None,
            },
            ScalarKernel::Timestamp { timestamp, .. } => {
                let mut names = vec![
                    timestamp.year.clone(),
                    timestamp.month.clone(),
                    timestamp.day.clone(),
                ];
                names.extend(timestamp.hour.clone());
                CleanStep::Canonicalise {
                    stage: Box::new(canonicalise(
                        name,
                        CanonicaliseConfig {
                            timestamp: Some(timestamp.clone()),
                            ..CanonicaliseConfig::default()
                        },
                    )?),
                    names,
                    issue_column: timestamp.output.clone(),
                    cast_parts_to: Some(DataType::Float64),
                }
            }
            ScalarKernel::Rule {
                rule,
                max_edit_distance,
                ..
            } => {
                let stage = Rules::new(RulesConfig {
                    rules: vec![rule.clone()],
                    max_edit_distance: *max_edit_distance,
                })
                .map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))?;
                CleanStep::Rule {
                    stage,
                    column: rule.column.clone(),
                }
            }
            ScalarKernel::Check { rule } => {
                check_is_cell_level(&rule.check)?;
                let config = SuiteConfig {
                    rules: vec![rule.clone()],
                    ..SuiteConfig::default()
                };
                // Build once so that an invalid pattern fails while planning.
                Suite::new(config.clone())
                    .map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))?;
                CleanStep::Check {
                    config,
                    columns: rule.check.columns(),
                }
            }
            other => {
                return Err(DataFusionError::Internal(format!(
                    "{} is not a clean kernel",
                    other.udf_name()
                )));
            }
        };
        Ok(CleanKernel {
            name,
            output: kernel.output(),
            step,
        })
    }

    pub(super) fn evaluate(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        let rows = check_lengths(self.name, columns)?;
        match &self.step {
            CleanStep::Canonicalise {
                stage,
                names,
                issue_column,
                cast_parts_to,
            } => {
                let columns = columns
                    .iter()
                    .map(|column| readable(column, cast_parts_to.as_ref()))
                    .collect::<Result<Vec<_>>>()?;
                let batch = governed(self.name, names, &columns)?;
                let mut stage = stage.as_ref().clone();
                let batch = run(self.name, &mut stage, batch)?;
                match self.output {
                    KernelOutput::Issue => issue_list(rows, batch.issues.issues(), |issue| {
                        issue.column.as_deref() == Some(issue_column.as_str())
                    }),
                    KernelOutput::Value => {
                        let value = output_column(self.name, &batch, issue_column)?;
                        // Trim keeps a view or large text type; the UDF returns Utf8.
                        if matches!(value.data_type(), DataType::Utf8View | DataType::LargeUtf8) {
                            Ok(cast(&value, &DataType::Utf8)?)
                        } else {
                            Ok(value)
                        }
                    }
                }
            }
            CleanStep::Rule { stage, column } => {
                let input = readable(&columns[0], None)?;
                let batch = governed(self.name, std::slice::from_ref(column), &[input])?;
                let mut stage = stage.clone();
                let batch = run(self.name, &mut stage, batch)?;
                match self.output {
                    KernelOutput::Issue => issue_list(rows, batch.issues.issues(), |issue| {
                        issue.column.as_deref() == Some(column.as_str())
                    }),
                    KernelOutput::Value => {
                        let value = output_column(self.name, &batch, column)?;
                        Ok(cast(&value, columns[0].data_type())?)
                    }
                }
            }
            CleanStep::Check {
                config,
                columns: names,
            } => {
                let columns = columns
                    .iter()
                    .map(|column| readable(column, None))
                    .collect::<Result<Vec<_>>>()?;
                let batch = governed(self.name, names, &columns)?;
                let mut suite = Suite::new(config.clone()).map_err(|e| sdk_error(self.name, e))?;
                let issues = suite
                    .check_batch(&batch)
                    .map_err(|error| sdk_error(self.name, error))?;
                issue_list(rows, &issues, |_| true)
            }
        }
    }
}

fn canonicalise(name: &str, config: CanonicaliseConfig) -> Result<Canonicalise> {
    Canonicalise::new(config).map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))
}

/// Rejects the checks that need more than one row to decide a cell.
fn check_is_cell_level(check: &RuleCheck) -> Result<()> {
    match check {
        RuleCheck::NotNull(_)
        | RuleCheck::Completeness(_)
        | RuleCheck::Range(_)
        | RuleCheck::Allowed(_)
        | RuleCheck::Pattern(_)
        | RuleCheck::Format(_)
        | RuleCheck::Length(_)
        | RuleCheck::Type(_) => Ok(()),
        other => plan_err!(
            "governance_check runs cell-level checks only, but was given `{}`; use not_null, \
             completeness, range, allowed, pattern, format, length or type, and run \
             whole-table checks with the check suite stage",
            other.kind_name()
        ),
    }
}

/// Gives a column a type the stages read: a Null column becomes Utf8 (or `parts_type`), and
/// date parts become `parts_type`.
fn readable(column: &ArrayRef, parts_type: Option<&DataType>) -> Result<ArrayRef> {
    match (column.data_type(), parts_type) {
        (DataType::Null, Some(target)) => Ok(cast(column, target)?),
        (DataType::Null, None) => Ok(cast(column, &DataType::Utf8)?),
        _ => Ok(Arc::clone(column)),
    }
}

/// Builds a governed batch of `columns` named `names`, with row ids `0..rows`.
fn governed(kernel: &str, names: &[String], columns: &[ArrayRef]) -> Result<GovernedBatch> {
    if names.len() != columns.len() {
        return exec_err!(
            "{kernel} reads the columns {names:?} but was given {} arguments",
            columns.len()
        );
    }
    let fields: Vec<Field> = names
        .iter()
        .zip(columns)
        .map(|(name, column)| Field::new(name, column.data_type().clone(), true))
        .collect();
    let rows = columns.first().map(|column| column.len()).unwrap_or(0);
    let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.to_vec())?;
    let ids = UInt64Array::from_iter_values(0..rows as u64);
    GovernedBatch::try_new(data, ids, Provenance::new(SOURCE)).map_err(|e| sdk_error(kernel, e))
}

fn run(kernel: &str, stage: &mut dyn Cleaner, batch: GovernedBatch) -> Result<GovernedBatch> {
    let mut context = StageContext::new(kernel, 1, AuditLog::in_memory().into_handle());
    stage
        .clean(batch, &mut context)
        .map_err(|error| sdk_error(kernel, error))
}

fn output_column(kernel: &str, batch: &GovernedBatch, name: &str) -> Result<ArrayRef> {
    batch
        .data()
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("{kernel}: stage output lacks {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array, StringArray};

    fn kernel(json: &str) -> super::super::CompiledKernel {
        let kernel: ScalarKernel = serde_json::from_str(json).expect("kernel config parses");
        kernel.compile().expect("kernel compiles")
    }

    #[test]
    fn canonical_number_reads_units() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("1,234 ug/m3"),
            Some("NA"),
            Some("abc"),
            None,
        ]));
        let values = kernel(r#"{"kernel": "canonical_number"}"#)
            .evaluate(&[Arc::clone(&text)])
            .expect("kernel runs");
        let values = values
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("Float64");
        assert_eq!(values.value(0), 1234.0);
        assert!(values.is_null(1));
        assert!(values.is_null(2));
        assert!(values.is_null(3));

        let issues = kernel(r#"{"kernel": "canonical_number", "output": "issue"}"#)
            .evaluate(&[text])
            .expect("kernel runs");
        let issues = issues.as_list::<i32>();
        // The first issue's field `name` on `row`.
        let field = |row: usize, name: &str| {
            let issue = issues.value(row);
            issue
                .as_struct()
                .column_by_name(name)
                .expect("issue field")
                .as_string::<i32>()
                .value(0)
                .to_string()
        };
        assert_eq!(field(0, "kind"), "canonicalised");
        assert_eq!(field(0, "severity"), "info");
        assert!(issues.is_null(1));
        assert_eq!(field(2, "kind"), "format");
        assert_eq!(field(2, "severity"), "error");
        assert!(issues.is_null(3));
    }

    #[test]
    fn whole_table_check_is_rejected() {
        let kernel: ScalarKernel = serde_json::from_str(
            r#"{"kernel": "check", "rule": {"check": {"unique": {"columns": ["id"]}}}}"#,
        )
        .expect("config parses");
        let error = kernel.compile().expect_err("unique is whole-table");
        assert!(error.to_string().contains("cell-level"), "{error}");
    }
}
