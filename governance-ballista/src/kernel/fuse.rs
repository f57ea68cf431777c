//! Kernels of entity resolution: blocking keys and string comparators.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, ListBuilder, StringArray, StringBuilder};
use datafusion::common::{DataFusionError, Result, plan_err};
use governance_fuse::er::block::KeyFunction;
use governance_fuse::er::compare::FittedComparator;

use super::{ScalarKernel, check_lengths, utf8};

#[derive(Debug)]
pub(super) enum FuseKernel {
    Keys(&'static str, KeyFunction),
    Similarity(&'static str, FittedComparator),
}

impl FuseKernel {
    pub(super) fn new(kernel: &ScalarKernel) -> Result<Self> {
        let name = kernel.udf_name();
        match kernel {
            ScalarKernel::BlockingKey { function } => {
                function
                    .validate()
                    .map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))?;
                Ok(FuseKernel::Keys(name, function.clone()))
            }
            ScalarKernel::Similarity { comparator } => {
                if comparator.needs_fit() {
                    return plan_err!(
                        "{name}: the {} comparator needs document frequencies fitted on the \
                         whole input, which a row-wise function does not see; use \
                         jaro_winkler, levenshtein, qgram_jaccard, token_jaccard or another \
                         unfitted comparator",
                        comparator.name()
                    );
                }
                let fitted = comparator
                    .fit(std::iter::empty())
                    .map_err(|error| DataFusionError::Plan(format!("{name}: {error}")))?;
                Ok(FuseKernel::Similarity(name, fitted))
            }
            other => Err(DataFusionError::Internal(format!(
                "{} is not a fuse kernel",
                other.udf_name()
            ))),
        }
    }

    pub(super) fn evaluate(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        match self {
            FuseKernel::Keys(name, function) => {
                let rows = check_lengths(name, columns)?;
                let texts = columns
                    .iter()
                    .map(|column| utf8(column, name))
                    .collect::<Result<Vec<StringArray>>>()?;
                let mut builder = ListBuilder::new(StringBuilder::new());
                let mut keys = Vec::new();
                let mut values = Vec::with_capacity(texts.len());
                for row in 0..rows {
                    keys.clear();
                    values.clear();
                    values.extend(texts.iter().map(|text| {
                        arrow::array::Array::is_valid(text, row).then(|| text.value(row))
                    }));
                    function.apply_to_record(&values, &mut keys);
                    for key in &keys {
                        builder.values().append_value(key);
                    }
                    builder.append(true);
                }
                Ok(Arc::new(builder.finish()))
            }
            FuseKernel::Similarity(name, comparator) => {
                check_lengths(name, columns)?;
                let left = utf8(&columns[0], name)?;
                let right = utf8(&columns[1], name)?;
                let similarity: Float64Array = left
                    .iter()
                    .zip(right.iter())
                    .map(|(left, right)| comparator.similarity(left, right))
                    .collect();
                Ok(Arc::new(similarity))
            }
        }
    }
}
