//! Extension codecs that carry the governance UDFs through serialised plans.
//!
//! DataFusion writes a UDF into a plan as its name plus the bytes that the extension codec
//! returns. A decoder that finds such bytes rebuilds the function with the codec instead of
//! looking the name up in its registry. The codecs here write a short tag and the kernel's JSON config for
//! [`GovernanceUdf`] and [`GovernanceUdaf`], and hand every other node, table, file format
//! and function to the codec they wrap, by default Ballista's own. An executor therefore
//! needs no function registered by name: the plan alone rebuilds each kernel.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::aggregate::{GovernanceUdaf, as_governance_udaf};
use crate::scalar::{GovernanceUdf, as_governance_udf};

/// Tag in front of a scalar UDF's config.
const SCALAR_TAG: &[u8] = b"governance-udf/v1\n";

/// Tag in front of an aggregate UDF's config.
const AGGREGATE_TAG: &[u8] = b"governance-udaf/v1\n";

/// Largest config written into a plan. A plan travels in gRPC messages, which Ballista
/// limits to 16 MiB, and every task of a stage carries its own copy.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

fn write_config(name: &str, tag: &[u8], config: &str, buf: &mut Vec<u8>) -> Result<()> {
    if config.len() > MAX_CONFIG_BYTES {
        return Err(DataFusionError::Plan(format!(
            "the config of {name} is {} bytes, over the {MAX_CONFIG_BYTES}-byte limit for a \
             function in a distributed plan; move large value lists into a table and join it",
            config.len()
        )));
    }
    buf.extend_from_slice(tag);
    buf.extend_from_slice(config.as_bytes());
    Ok(())
}

fn read_config<'a>(name: &str, buf: &'a [u8], tag: &[u8]) -> Option<Result<&'a str>> {
    let config = buf.strip_prefix(tag)?;
    Some(std::str::from_utf8(config).map_err(|error| {
        DataFusionError::Plan(format!(
            "the config of {name} in the plan is not UTF-8: {error}"
        ))
    }))
}

fn encode_udf(node: &ScalarUDF, buf: &mut Vec<u8>) -> Option<Result<()>> {
    let udf = as_governance_udf(node)?;
    Some(write_config(
        node.name(),
        SCALAR_TAG,
        udf.config_json(),
        buf,
    ))
}

fn decode_udf(name: &str, buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    let config = read_config(name, buf, SCALAR_TAG)?;
    Some(config.and_then(|config| {
        Ok(Arc::new(
            GovernanceUdf::from_config_json(config)?.into_udf(),
        ))
    }))
}

fn encode_udaf(node: &AggregateUDF, buf: &mut Vec<u8>) -> Option<Result<()>> {
    let udaf = as_governance_udaf(node)?;
    Some(write_config(
        node.name(),
        AGGREGATE_TAG,
        udaf.config_json(),
        buf,
    ))
}

fn decode_udaf(name: &str, buf: &[u8]) -> Option<Result<Arc<AggregateUDF>>> {
    let config = read_config(name, buf, AGGREGATE_TAG)?;
    Some(config.and_then(|config| {
        Ok(Arc::new(
            GovernanceUdaf::from_config_json(config)?.into_udaf(),
        ))
    }))
}

/// Logical codec: the governance UDFs, and everything else through the wrapped codec.
#[derive(Debug)]
pub struct GovernanceLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl GovernanceLogicalCodec {
    /// Wraps `inner`, which handles every node and function that is not a governance UDF.
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> Self {
        GovernanceLogicalCodec { inner }
    }
}

impl Default for GovernanceLogicalCodec {
    /// Wraps Ballista's logical codec, which encodes its cache node and the file formats.
    fn default() -> Self {
        GovernanceLogicalCodec::new(Arc::new(
            ballista_core::serde::BallistaLogicalExtensionCodec::default(),
        ))
    }
}

impl LogicalExtensionCodec for GovernanceLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: arrow::datatypes::SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf).unwrap_or_else(|| self.inner.try_encode_udf(node, buf))
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf).unwrap_or_else(|| self.inner.try_decode_udaf(name, buf))
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf).unwrap_or_else(|| self.inner.try_encode_udaf(node, buf))
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

/// Physical codec: the governance UDFs, and everything else through the wrapped codec.
#[derive(Debug)]
pub struct GovernancePhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl GovernancePhysicalCodec {
    /// Wraps `inner`, which handles every plan node, expression and function that is not a
    /// governance UDF.
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> Self {
        GovernancePhysicalCodec { inner }
    }
}

impl Default for GovernancePhysicalCodec {
    /// Wraps Ballista's physical codec, which encodes its shuffle and cache nodes.
    fn default() -> Self {
        GovernancePhysicalCodec::new(Arc::new(
            ballista_core::serde::BallistaPhysicalExtensionCodec::default(),
        ))
    }
}

impl PhysicalExtensionCodec for GovernancePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf).unwrap_or_else(|| self.inner.try_encode_udf(node, buf))
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf).unwrap_or_else(|| self.inner.try_decode_udaf(name, buf))
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf).unwrap_or_else(|| self.inner.try_encode_udaf(node, buf))
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{KernelOutput, ScalarKernel};
    use datafusion::functions::string::upper;

    fn rule_udf(values: usize) -> ScalarUDF {
        let allowed: Vec<String> = (0..values)
            .map(|value| format!("station-{value}"))
            .collect();
        let rule = serde_json::from_value(serde_json::json!(
            {"column": "station", "check": {"allowed": allowed}}
        ))
        .expect("rule parses");
        crate::scalar_udf(ScalarKernel::Rule {
            rule,
            max_edit_distance: 2,
            output: KernelOutput::Issue,
        })
        .expect("udf builds")
    }

    #[test]
    fn udf_config_round_trips() {
        let codec = GovernancePhysicalCodec::default();
        let udf = rule_udf(3);
        let mut buf = Vec::new();
        codec.try_encode_udf(&udf, &mut buf).expect("encodes");
        assert!(buf.starts_with(SCALAR_TAG));
        let decoded = codec.try_decode_udf(udf.name(), &buf).expect("decodes");
        assert_eq!(decoded.as_ref(), &udf);
    }

    #[test]
    fn oversized_config_is_rejected() {
        let codec = GovernanceLogicalCodec::default();
        let udf = rule_udf(100_000);
        let mut buf = Vec::new();
        let error = codec
            .try_encode_udf(&udf, &mut buf)
            .expect_err("config is over the limit");
        assert!(error.to_string().contains("limit"), "{error}");
    }

    #[test]
    fn other_functions_go_to_inner_codec() {
        let codec = GovernanceLogicalCodec::default();
        let upper = upper();
        let mut buf = Vec::new();
        codec.try_encode_udf(&upper, &mut buf).expect("encodes");
        assert!(buf.is_empty(), "a built-in function needs no payload");
        let error = codec
            .try_decode_udf("upper", b"not a governance config")
            .expect_err("the inner codec knows no such function");
        assert!(error.to_string().contains("upper"), "{error}");
    }
}
