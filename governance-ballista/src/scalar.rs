//! [`GovernanceUdf`]: a DataFusion scalar UDF that evaluates one [`ScalarKernel`].

use std::any::Any;
use std::hash::{Hash, Hasher};

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::kernel::{CompiledKernel, ScalarKernel};

/// A scalar UDF that carries its kernel's whole configuration.
///
/// The name is fixed per kernel kind (such as `governance_rule`), so two UDFs of one kind
/// with different configs share a name. They compare unequal, because equality and hashing
/// use the config, and the codecs carry the config, so the name is never looked up in a
/// function registry. Give each call an alias, as [`crate::ColumnChain`] does, because a
/// projection rejects two columns of the same generated name.
#[derive(Debug)]
pub struct GovernanceUdf {
    kernel: ScalarKernel,
    /// The kernel as JSON: the codecs' payload and the key of equality and hashing.
    config: String,
    signature: Signature,
    compiled: CompiledKernel,
}

impl GovernanceUdf {
    /// Checks and compiles `kernel`. Fails with a plan error that names the invalid setting.
    pub fn new(kernel: ScalarKernel) -> Result<Self> {
        let config = serde_json::to_string(&kernel).map_err(|error| {
            DataFusionError::Internal(format!("kernel config did not serialise: {error}"))
        })?;
        let compiled = kernel.compile()?;
        Ok(GovernanceUdf {
            kernel,
            config,
            signature: Signature::variadic_any(Volatility::Immutable),
            compiled,
        })
    }

    /// Rebuilds a UDF from the JSON that [`GovernanceUdf::config_json`] returned.
    pub fn from_config_json(json: &str) -> Result<Self> {
        let kernel: ScalarKernel = serde_json::from_str(json).map_err(|error| {
            DataFusionError::Plan(format!("invalid governance kernel config: {error}"))
        })?;
        GovernanceUdf::new(kernel)
    }

    /// Returns the kernel.
    pub fn kernel(&self) -> &ScalarKernel {
        &self.kernel
    }

    /// Returns the kernel as JSON.
    pub fn config_json(&self) -> &str {
        &self.config
    }

    /// Returns the UDF as a DataFusion [`ScalarUDF`].
    pub fn into_udf(self) -> ScalarUDF {
        ScalarUDF::new_from_impl(self)
    }
}

impl PartialEq for GovernanceUdf {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl Eq for GovernanceUdf {}

impl Hash for GovernanceUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.config.hash(state);
    }
}

impl ScalarUDFImpl for GovernanceUdf {
    fn name(&self) -> &str {
        self.kernel.udf_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.kernel.return_type(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalars = args
            .args
            .iter()
            .all(|arg| matches!(arg, ColumnarValue::Scalar(_)));
        let rows = if all_scalars { 1 } else { args.number_rows };
        let columns = args
            .args
            .iter()
            .map(|arg| arg.to_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let result = self.compiled.evaluate(&columns)?;
        if all_scalars {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }
}

/// Returns `kernel` as a DataFusion scalar UDF.
pub fn scalar_udf(kernel: ScalarKernel) -> Result<ScalarUDF> {
    Ok(GovernanceUdf::new(kernel)?.into_udf())
}

/// Returns an expression that calls `kernel` on `args`.
pub fn call(kernel: ScalarKernel, args: Vec<Expr>) -> Result<Expr> {
    Ok(scalar_udf(kernel)?.call(args))
}

/// Returns the [`GovernanceUdf`] inside `udf`, when it is one.
pub fn as_governance_udf(udf: &ScalarUDF) -> Option<&GovernanceUdf> {
    let inner: &dyn Any = udf.inner().as_ref();
    inner.downcast_ref::<GovernanceUdf>()
}
