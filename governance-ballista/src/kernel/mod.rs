//! Column kernels: the configs that a UDF carries and the code that evaluates them on Arrow
//! arrays.
//!
//! A [`ScalarKernel`] is plain serde data, so the codecs can write it next to the UDF name
//! and an executor can rebuild the same kernel. [`CompiledKernel`] is the kernel with its
//! regular expressions, detector and stage built once, ready to run on many batches.
//!
//! Every kernel calls the stage code of the other crates and adds nothing to what a cell
//! becomes. The clean kernels run the stage itself on a batch made of the argument columns.
//! The secure kernels call the detector and the masker that the guard uses, and the fuse
//! kernels call the key functions and comparators of entity resolution.

mod clean;
mod fuse;
mod issues;
mod secure;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use governance_clean::checks::RuleConfig;
use governance_clean::{Rule, TimestampConfig};
use governance_fuse::er::block::KeyFunction;
use governance_fuse::er::compare::Comparator;
use governance_secure::{DetectorConfig, MaskConfig, MaskOperator, PiiKind};
use serde::{Deserialize, Serialize};

pub use issues::{issue_fields, issue_list_type};
pub use secure::KeySource;

/// The result of a kernel that a UDF returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelOutput {
    /// The cell after the stage: the canonical, corrected or masked value.
    #[default]
    Value,
    /// The issues the stage logged for the cell, as a list of structs with the kind,
    /// severity, message, suggested value and confidence of each (see [`issue_list_type`]),
    /// or null when it logged none.
    Issue,
}

/// A column-level stage step that a scalar UDF evaluates, with its whole configuration.
///
/// Written in JSON with a `kernel` tag, such as
/// `{"kernel": "rule", "rule": {"column": "PM2.5", "check": {"range": {"min": 0}}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScalarKernel {
    /// Text or a number to Float64, as the canonicalise stage's `numeric` columns. One
    /// argument. The issue output names unreadable text (`format`) and rewritten numbers
    /// (`canonicalised`).
    CanonicalNumber {
        /// Text read as "no value"; defaults to the canonicalise stage's list.
        #[serde(default = "default_na_tokens")]
        na_tokens: Vec<String>,
        /// Unit suffixes dropped after a number; defaults to the canonicalise stage's list.
        #[serde(default = "default_units")]
        units: Vec<String>,
        /// Value or issue output.
        #[serde(default)]
        output: KernelOutput,
    },
    /// Text without surrounding whitespace, as the canonicalise stage's `trim` columns. One
    /// text argument; returns Utf8.
    Trim,
    /// A `Timestamp(Millisecond)` from date parts, as the canonicalise stage's timestamp.
    /// Arguments: year, month, day and, when `timestamp.hour` is set, hour.
    Timestamp {
        /// Part and output names; the output name is the column of the issues.
        #[serde(default)]
        timestamp: TimestampConfig,
        /// Value or issue output.
        #[serde(default)]
        output: KernelOutput,
    },
    /// One rule of the rules stage on its column. One argument. The value output applies the
    /// rule's action (`null_out`, `correct`) and keeps the argument's type.
    Rule {
        /// The rule, as in the rules stage's config.
        rule: Rule,
        /// Largest edit distance at which an allowed value is suggested; defaults to 2.
        #[serde(default = "default_max_edit_distance")]
        max_edit_distance: usize,
        /// Value or issue output.
        #[serde(default)]
        output: KernelOutput,
    },
    /// One cell-level rule of the check suite. One argument per column the check reads;
    /// returns the issues of each failing cell, typed as [`issue_list_type`].
    Check {
        /// The rule, as in the check suite's config. Whole-table checks (unique, row count,
        /// freshness, foreign keys, functional dependencies, SQL, drift) are rejected.
        rule: RuleConfig,
    },
    /// The kinds of personal data found in free text, in order of first appearance and
    /// joined by `,`, or null when none. One text argument.
    PiiKinds {
        /// Detector settings, as in the guard's config.
        #[serde(default)]
        detector: DetectorConfig,
    },
    /// Free text with every finding masked, as the guard masks text columns. One text
    /// argument. The issue output lists findings whose keyed operator failed and fell back
    /// to a type tag.
    PiiMask {
        /// Detector settings, as in the guard's config.
        #[serde(default)]
        detector: DetectorConfig,
        /// Operator per kind of personal data.
        #[serde(default)]
        mask: MaskConfig,
        /// Key location for keyed operators. Without one, keyed operators fall back to type
        /// tags.
        #[serde(default)]
        key: Option<KeySource>,
        /// Value or issue output.
        #[serde(default)]
        output: KernelOutput,
    },
    /// Each whole cell masked as one value of `kind`, such as a keyed pseudonym of a phone
    /// column. One text argument. A cell whose operator fails becomes null and gets an issue.
    MaskValue {
        /// Kind of personal data the column contains.
        kind: PiiKind,
        /// Operator applied to every cell.
        operator: MaskOperator,
        /// Key location for keyed operators, read on each executor.
        #[serde(default)]
        key: Option<KeySource>,
        /// Value or issue output.
        #[serde(default)]
        output: KernelOutput,
    },
    /// The blocking keys of entity resolution for a record: `function` applied to the
    /// present argument values joined by a space. Returns `List(Utf8)`, empty when every
    /// argument is null.
    BlockingKey {
        /// Key function, as in a blocking rule.
        function: KeyFunction,
    },
    /// The similarity in `[0, 1]` of two values under a comparator of entity resolution,
    /// null when a value is absent or unreadable. Two text arguments; returns Float64.
    Similarity {
        /// Comparator; those fitted on a corpus (TF-IDF) are rejected.
        comparator: Comparator,
    },
}

fn default_na_tokens() -> Vec<String> {
    governance_clean::CanonicaliseConfig::default().na_tokens
}

fn default_units() -> Vec<String> {
    governance_clean::CanonicaliseConfig::default().units
}

fn default_max_edit_distance() -> usize {
    governance_clean::RulesConfig::default().max_edit_distance
}

impl ScalarKernel {
    /// Returns the UDF name of the kernel kind, such as `governance_rule`.
    pub fn udf_name(&self) -> &'static str {
        match self {
            ScalarKernel::CanonicalNumber { .. } => "governance_canonical_number",
            ScalarKernel::Trim => "governance_trim",
            ScalarKernel::Timestamp { .. } => "governance_timestamp",
            ScalarKernel::Rule { .. } => "governance_rule",
            ScalarKernel::Check { .. } => "governance_check",
            ScalarKernel::PiiKinds { .. } => "governance_pii_kinds",
            ScalarKernel::PiiMask { .. } => "governance_pii_mask",
            ScalarKernel::MaskValue { .. } => "governance_mask_value",
            ScalarKernel::BlockingKey { .. } => "governance_blocking_key",
            ScalarKernel::Similarity { .. } => "governance_similarity",
        }
    }

    /// Returns the output the UDF returns.
    pub fn output(&self) -> KernelOutput {
        match self {
            ScalarKernel::CanonicalNumber { output, .. }
            | ScalarKernel::Timestamp { output, .. }
            | ScalarKernel::Rule { output, .. }
            | ScalarKernel::PiiMask { output, .. }
            | ScalarKernel::MaskValue { output, .. } => *output,
            ScalarKernel::Check { .. } => KernelOutput::Issue,
            ScalarKernel::Trim
            | ScalarKernel::PiiKinds { .. }
            | ScalarKernel::BlockingKey { .. }
            | ScalarKernel::Similarity { .. } => KernelOutput::Value,
        }
    }

    /// Returns the kernel with `output` selected. Kernels with one output return themselves
    /// unchanged, so check the result's [`ScalarKernel::output`] when it matters.
    pub fn with_output(mut self, selected: KernelOutput) -> Self {
        match &mut self {
            ScalarKernel::CanonicalNumber { output, .. }
            | ScalarKernel::Timestamp { output, .. }
            | ScalarKernel::Rule { output, .. }
            | ScalarKernel::PiiMask { output, .. }
            | ScalarKernel::MaskValue { output, .. } => *output = selected,
            _ => {}
        }
        self
    }

    /// Returns the number of arguments the kernel takes, as a range of counts.
    pub fn arity(&self) -> std::ops::RangeInclusive<usize> {
        match self {
            ScalarKernel::Timestamp { timestamp, .. } => {
                let count = if timestamp.hour.is_some() { 4 } else { 3 };
                count..=count
            }
            ScalarKernel::Check { rule } => {
                let count = rule.check.columns().len();
                count..=count
            }
            ScalarKernel::BlockingKey { .. } => 1..=usize::MAX,
            ScalarKernel::Similarity { .. } => 2..=2,
            _ => 1..=1,
        }
    }

    /// Returns the type of the UDF's result for arguments of `arg_types`, or a plan error
    /// naming the argument and the accepted types.
    pub fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let name = self.udf_name();
        let arity = self.arity();
        if !arity.contains(&arg_types.len()) {
            let expected = if arity.start() == arity.end() {
                arity.start().to_string()
            } else {
                format!("at least {}", arity.start())
            };
            return plan_err!(
                "{name} takes {expected} arguments but was given {}; pass one column per \
                 input the kernel reads",
                arg_types.len()
            );
        }
        if self.output() == KernelOutput::Issue {
            return Ok(issue_list_type());
        }
        match self {
            ScalarKernel::CanonicalNumber { .. } => {
                expect_types(name, arg_types, is_text_or_number, "text or number")?;
                Ok(DataType::Float64)
            }
            ScalarKernel::Timestamp { .. } => {
                expect_types(name, arg_types, is_text_or_number, "text or number")?;
                Ok(DataType::Timestamp(TimeUnit::Millisecond, None))
            }
            ScalarKernel::Rule { .. } => Ok(arg_types[0].clone()),
            ScalarKernel::Trim
            | ScalarKernel::PiiKinds { .. }
            | ScalarKernel::PiiMask { .. }
            | ScalarKernel::MaskValue { .. } => {
                expect_types(name, arg_types, is_text, "Utf8, LargeUtf8 or Utf8View")?;
                Ok(DataType::Utf8)
            }
            ScalarKernel::BlockingKey { .. } => {
                expect_types(name, arg_types, is_text, "Utf8, LargeUtf8 or Utf8View")?;
                Ok(DataType::List(std::sync::Arc::new(Field::new(
                    "item",
                    DataType::Utf8,
                    true,
                ))))
            }
            ScalarKernel::Similarity { .. } => {
                expect_types(name, arg_types, is_text, "Utf8, LargeUtf8 or Utf8View")?;
                Ok(DataType::Float64)
            }
            ScalarKernel::Check { .. } => Ok(issue_list_type()),
        }
    }

    /// Checks the configuration and builds what the kernel needs to run. Keys are read
    /// later, on the first batch, so that a client can plan without them.
    pub fn compile(&self) -> Result<CompiledKernel> {
        let state = match self {
            ScalarKernel::CanonicalNumber { .. }
            | ScalarKernel::Trim
            | ScalarKernel::Timestamp { .. }
            | ScalarKernel::Rule { .. }
            | ScalarKernel::Check { .. } => KernelState::Clean(clean::CleanKernel::new(self)?),
            ScalarKernel::PiiKinds { .. }
            | ScalarKernel::PiiMask { .. }
            | ScalarKernel::MaskValue { .. } => {
                KernelState::Secure(Box::new(secure::SecureKernel::new(self)?))
            }
            ScalarKernel::BlockingKey { .. } | ScalarKernel::Similarity { .. } => {
                KernelState::Fuse(fuse::FuseKernel::new(self)?)
            }
        };
        Ok(CompiledKernel { state })
    }
}

/// A kernel ready to evaluate batches.
#[derive(Debug)]
pub struct CompiledKernel {
    state: KernelState,
}

/// The secure kernel contains a whole detector, so it is boxed to keep the other variants small.
#[derive(Debug)]
enum KernelState {
    Clean(clean::CleanKernel),
    Secure(Box<secure::SecureKernel>),
    Fuse(fuse::FuseKernel),
}

impl CompiledKernel {
    /// Evaluates the kernel on argument columns of equal length. The result has that length
    /// and the type [`ScalarKernel::return_type`] gives.
    pub fn evaluate(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        match &self.state {
            KernelState::Clean(kernel) => kernel.evaluate(columns),
            KernelState::Secure(kernel) => kernel.evaluate(columns),
            KernelState::Fuse(kernel) => kernel.evaluate(columns),
        }
    }
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn is_text_or_number(data_type: &DataType) -> bool {
    is_text(data_type) || data_type.is_numeric() || data_type == &DataType::Null
}

fn expect_types(
    name: &str,
    arg_types: &[DataType],
    accepted: fn(&DataType) -> bool,
    described: &str,
) -> Result<()> {
    for (position, data_type) in arg_types.iter().enumerate() {
        if !accepted(data_type) && data_type != &DataType::Null {
            return plan_err!(
                "argument {position} of {name} is {data_type}; it accepts {described}, so cast \
                 the column first"
            );
        }
    }
    Ok(())
}

/// Returns a text column as a Utf8 array, casting LargeUtf8, Utf8View and Null.
pub(crate) fn utf8(column: &ArrayRef, kernel: &str) -> Result<StringArray> {
    let column = match column.data_type() {
        DataType::Utf8 => std::sync::Arc::clone(column),
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => cast(column, &DataType::Utf8)?,
        other => {
            return exec_err!(
                "{kernel} reads text but was given a column of type {other}; cast it to Utf8"
            );
        }
    };
    column
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("{kernel}: cast to Utf8 failed")))
}

/// Converts an error of the SDK into an execution error of DataFusion.
pub(crate) fn sdk_error(kernel: &str, error: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{kernel}: {error}"))
}

/// Checks that every argument column has `rows` values.
pub(crate) fn check_lengths(kernel: &str, columns: &[ArrayRef]) -> Result<usize> {
    let rows = columns.first().map(|column| column.len()).unwrap_or(0);
    if let Some(column) = columns.iter().find(|column| column.len() != rows) {
        return exec_err!(
            "{kernel} was given columns of {rows} and {} rows; every argument needs one value \
             per row",
            column.len()
        );
    }
    Ok(rows)
}
