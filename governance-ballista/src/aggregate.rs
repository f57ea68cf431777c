//! [`GovernanceUdaf`]: DataFusion aggregate UDFs for quality metrics and column profiles.
//!
//! Each aggregate splits into a partial state per partition and a final merge, so Ballista
//! can run the partial step on every executor. States are bounded: counts, a HyperLogLog
//! sketch, and for the column profile the profiler's own mergeable state.

use std::any::Any;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};
use governance_clean::profile::{ColumnProfileState, ProfileConfig};
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use serde::{Deserialize, Serialize};

use crate::kernel::{CompiledKernel, KernelOutput, ScalarKernel};

/// Precision of the distinct-count sketch: 2^14 registers, as the profiler's sketch, for a
/// standard error of about 0.8 %.
const SKETCH_PRECISION: u8 = 14;

/// A quality metric or profile that an aggregate UDF computes, with its configuration.
///
/// Written in JSON with an `aggregate` tag, such as `{"aggregate": "null_rate"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "aggregate", rename_all = "snake_case", deny_unknown_fields)]
pub enum AggregateKernel {
    /// Share of null cells, `nulls / rows` as Float64, 0 for no rows, as in a column profile.
    NullRate,
    /// Estimated number of distinct non-null values (UInt64), from a HyperLogLog++ sketch
    /// of the values' text; blank text is not counted, as in a column profile.
    DistinctEstimate,
    /// Number of rows (UInt64) for which the scalar kernel's issue output is not null, such
    /// as the cells failing a rule. Takes the kernel's arguments.
    FailingCount {
        /// Kernel whose issues are counted; its issue output is used.
        kernel: ScalarKernel,
    },
    /// The column profile of the profiler, as JSON text (Utf8).
    ColumnProfile {
        /// Column name written into the profile.
        column: String,
        /// Profiler settings.
        #[serde(default)]
        config: ProfileConfig,
    },
}

impl AggregateKernel {
    /// Returns the UDAF name of the kind, such as `governance_null_rate`.
    pub fn udaf_name(&self) -> &'static str {
        match self {
            AggregateKernel::NullRate => "governance_null_rate",
            AggregateKernel::DistinctEstimate => "governance_distinct_estimate",
            AggregateKernel::FailingCount { .. } => "governance_failing_count",
            AggregateKernel::ColumnProfile { .. } => "governance_column_profile",
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let name = self.udaf_name();
        match self {
            AggregateKernel::FailingCount { kernel } => {
                kernel.return_type(arg_types)?;
                Ok(DataType::UInt64)
            }
            _ if arg_types.len() != 1 => {
                plan_err!("{name} takes one column but was given {}", arg_types.len())
            }
            AggregateKernel::NullRate => Ok(DataType::Float64),
            AggregateKernel::DistinctEstimate => Ok(DataType::UInt64),
            AggregateKernel::ColumnProfile { .. } => Ok(DataType::Utf8),
        }
    }
}

/// An aggregate UDF that carries its kernel's whole configuration. Equality and hashing use
/// the config, as for [`crate::GovernanceUdf`].
#[derive(Debug)]
pub struct GovernanceUdaf {
    kernel: AggregateKernel,
    config: String,
    signature: Signature,
    /// The failing-count kernel, compiled once.
    counted: Option<Arc<CompiledKernel>>,
}

impl GovernanceUdaf {
    /// Checks `kernel` and compiles what it runs.
    pub fn new(kernel: AggregateKernel) -> Result<Self> {
        let counted = match &kernel {
            AggregateKernel::FailingCount { kernel: scalar } => {
                let issues = scalar.clone().with_output(KernelOutput::Issue);
                if issues.output() != KernelOutput::Issue {
                    return plan_err!(
                        "governance_failing_count counts issues, but {} logs none; count a \
                         canonical_number, timestamp, rule, check, pii_mask or mask_value \
                         kernel",
                        scalar.udf_name()
                    );
                }
                Some(Arc::new(issues.compile()?))
            }
            _ => None,
        };
        let kernel = match kernel {
            AggregateKernel::FailingCount { kernel } => AggregateKernel::FailingCount {
                kernel: kernel.with_output(KernelOutput::Issue),
            },
            other => other,
        };
        let config = serde_json::to_string(&kernel).map_err(|error| {
            DataFusionError::Internal(format!("aggregate config did not serialise: {error}"))
        })?;
        Ok(GovernanceUdaf {
            kernel,
            config,
            signature: Signature::variadic_any(Volatility::Immutable),
            counted,
        })
    }

    /// Rebuilds a UDAF from the JSON that [`GovernanceUdaf::config_json`] returned.
    pub fn from_config_json(json: &str) -> Result<Self> {
        let kernel: AggregateKernel = serde_json::from_str(json).map_err(|error| {
            DataFusionError::Plan(format!("invalid governance aggregate config: {error}"))
        })?;
        GovernanceUdaf::new(kernel)
    }

    /// Returns the kernel.
    pub fn kernel(&self) -> &AggregateKernel {
        &self.kernel
    }

    /// Returns the kernel as JSON.
    pub fn config_json(&self) -> &str {
        &self.config
    }

    /// Returns the UDAF as a DataFusion [`AggregateUDF`].
    pub fn into_udaf(self) -> AggregateUDF {
        AggregateUDF::new_from_impl(self)
    }
}

impl PartialEq for GovernanceUdaf {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl Eq for GovernanceUdaf {}

impl Hash for GovernanceUdaf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.config.hash(state);
    }
}

impl AggregateUDFImpl for GovernanceUdaf {
    fn name(&self) -> &str {
        self.kernel.udaf_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.kernel.return_type(arg_types)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |suffix: &str, data_type: DataType| {
            Arc::new(Field::new(
                format!("{}[{suffix}]", args.name),
                data_type,
                true,
            ))
        };
        Ok(match &self.kernel {
            AggregateKernel::NullRate => vec![
                field("rows", DataType::UInt64),
                field("nulls", DataType::UInt64),
            ],
            AggregateKernel::DistinctEstimate => vec![field("sketch", DataType::Binary)],
            AggregateKernel::FailingCount { .. } => vec![field("failing", DataType::UInt64)],
            AggregateKernel::ColumnProfile { .. } => vec![field("profile", DataType::Binary)],
        })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(match &self.kernel {
            AggregateKernel::NullRate => Box::new(NullRate::default()),
            AggregateKernel::DistinctEstimate => Box::new(DistinctEstimate::new()?),
            AggregateKernel::FailingCount { .. } => {
                let kernel = self.counted.clone().ok_or_else(|| {
                    DataFusionError::Internal("failing count without a kernel".into())
                })?;
                Box::new(FailingCount { kernel, count: 0 })
            }
            AggregateKernel::ColumnProfile { column, config } => {
                let input = args
                    .expr_fields
                    .first()
                    .map(|field| field.data_type().clone())
                    .unwrap_or(DataType::Null);
                Box::new(ColumnProfileAccumulator::new(
                    column,
                    config.clone(),
                    input,
                )?)
            }
        })
    }
}

/// Returns `kernel` as a DataFusion aggregate UDF.
pub fn aggregate_udf(kernel: AggregateKernel) -> Result<AggregateUDF> {
    Ok(GovernanceUdaf::new(kernel)?.into_udaf())
}

/// Returns an expression that aggregates `args` with `kernel`.
pub fn aggregate(kernel: AggregateKernel, args: Vec<Expr>) -> Result<Expr> {
    Ok(aggregate_udf(kernel)?.call(args))
}

/// Returns the [`GovernanceUdaf`] inside `udaf`, when it is one.
pub fn as_governance_udaf(udaf: &AggregateUDF) -> Option<&GovernanceUdaf> {
    let inner: &dyn Any = udaf.inner().as_ref();
    inner.downcast_ref::<GovernanceUdaf>()
}

fn count_state(value: &ArrayRef, name: &str) -> Result<u64> {
    let counts = value
        .as_primitive_opt::<arrow::datatypes::UInt64Type>()
        .ok_or_else(|| DataFusionError::Internal(format!("{name} state is not UInt64")))?;
    Ok(counts.iter().flatten().sum())
}

#[derive(Debug, Default)]
struct NullRate {
    rows: u64,
    nulls: u64,
}

impl Accumulator for NullRate {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = &values[0];
        self.rows += column.len() as u64;
        self.nulls += column.logical_null_count() as u64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let rate = if self.rows == 0 {
            0.0
        } else {
            self.nulls as f64 / self.rows as f64
        };
        Ok(ScalarValue::Float64(Some(rate)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::UInt64(Some(self.rows)),
            ScalarValue::UInt64(Some(self.nulls)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.rows += count_state(&states[0], "null rate")?;
        self.nulls += count_state(&states[1], "null rate")?;
        Ok(())
    }
}

/// Builds SipHash hashers with fixed keys, so that sketches from different executors hash
/// a value alike and can be merged. Serialisable, as the sketch type requires of its builder.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct FixedHasher;

impl BuildHasher for FixedHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

type Sketch = HyperLogLogPlus<str, FixedHasher>;

#[derive(Debug)]
struct DistinctEstimate {
    sketch: Sketch,
}

impl DistinctEstimate {
    fn new() -> Result<Self> {
        let sketch = HyperLogLogPlus::new(SKETCH_PRECISION, FixedHasher).map_err(|error| {
            DataFusionError::Internal(format!("HyperLogLog setup failed: {error:?}"))
        })?;
        Ok(DistinctEstimate { sketch })
    }
}

impl Accumulator for DistinctEstimate {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let column = &values[0];
        let is_text = matches!(
            column.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let text = cast(column, &DataType::Utf8)?;
        for value in text.as_string::<i32>().iter().flatten() {
            if is_text && value.trim().is_empty() {
                continue;
            }
            self.sketch.insert(value);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt64(
            Some(self.sketch.count().round() as u64),
        ))
    }

    fn size(&self) -> usize {
        // The sketch keeps at most 2^precision six-bit registers, packed in u32 words.
        size_of_val(self) + (1usize << SKETCH_PRECISION)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let bytes = serde_json::to_vec(&self.sketch).map_err(|error| {
            DataFusionError::Internal(format!("sketch did not serialise: {error}"))
        })?;
        Ok(vec![ScalarValue::Binary(Some(bytes))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let sketches = states[0]
            .as_any()
            .downcast_ref::<BinaryArray>()
            .ok_or_else(|| DataFusionError::Internal("sketch state is not Binary".into()))?;
        for bytes in sketches.iter().flatten() {
            let other: Sketch = serde_json::from_slice(bytes).map_err(|error| {
                DataFusionError::Execution(format!("invalid distinct-count sketch: {error}"))
            })?;
            self.sketch.merge(&other).map_err(|error| {
                DataFusionError::Execution(format!("sketches did not merge: {error:?}"))
            })?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct FailingCount {
    kernel: Arc<CompiledKernel>,
    count: u64,
}

impl Accumulator for FailingCount {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let issues = self.kernel.evaluate(values)?;
        self.count += (issues.len() - issues.logical_null_count()) as u64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt64(Some(self.count)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt64(Some(self.count))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.count += count_state(&states[0], "failing count")?;
        Ok(())
    }
}

#[derive(Debug)]
struct ColumnProfileAccumulator {
    config: ProfileConfig,
    /// The group's profile state, bounded as the profiler's own (see `ColumnProfileState`).
    state: ColumnProfileState,
    column: String,
    input: DataType,
}

impl ColumnProfileAccumulator {
    fn new(column: &str, config: ProfileConfig, input: DataType) -> Result<Self> {
        Ok(ColumnProfileAccumulator {
            state: profile_state(column, &input)?,
            config,
            column: column.to_string(),
            input,
        })
    }
}

fn profile_state(column: &str, input: &DataType) -> Result<ColumnProfileState> {
    ColumnProfileState::new(column, input)
        .map_err(|error| DataFusionError::Execution(format!("governance_column_profile: {error}")))
}

fn profile_error(error: governance_core::Error) -> DataFusionError {
    DataFusionError::Execution(format!("governance_column_profile: {error}"))
}

impl Accumulator for ColumnProfileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.state
            .update(&values[0], &self.config)
            .map_err(profile_error)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = std::mem::replace(&mut self.state, profile_state(&self.column, &self.input)?);
        let profile = state.finish(&self.config);
        let json = serde_json::to_string(&profile).map_err(|error| {
            DataFusionError::Internal(format!("profile did not serialise: {error}"))
        })?;
        Ok(ScalarValue::Utf8(Some(json)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.state.estimated_bytes()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let bytes = self.state.to_bytes().map_err(profile_error)?;
        Ok(vec![ScalarValue::Binary(Some(bytes))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let states = states[0]
            .as_any()
            .downcast_ref::<BinaryArray>()
            .ok_or_else(|| DataFusionError::Internal("profile state is not Binary".into()))?;
        for bytes in states.iter().flatten() {
            let other = ColumnProfileState::from_bytes(bytes).map_err(profile_error)?;
            self.state
                .merge(other, &self.config)
                .map_err(profile_error)?;
        }
        Ok(())
    }
}
