//! The result of schema matching: one mapping per matched column, with its confidence and
//! evidence, and every unmatched column with the reason.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};
use governance_core::standard::Unit;
use governance_core::{Error, Result, Semantic};
use serde::{Deserialize, Serialize};

/// A signal that schema matching weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The normalised column name equals the attribute name.
    ExactName,
    /// The normalised column name equals one of the attribute's aliases.
    Alias,
    /// The name shares tokens with the attribute name or an alias.
    Tokens,
    /// The name is close in edit distance to the attribute name or an alias.
    Characters,
    /// The name embeddings are close.
    Embedding,
    /// The column's value type fits the attribute's type.
    Type,
    /// The values lie in the attribute's plausible range.
    Range,
    /// The values take the attribute's coded values.
    Categories,
    /// The values share a pattern the attribute expects, such as timestamps.
    Pattern,
}

/// One signal's score for a column and an attribute, with a sentence that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The signal.
    pub signal: Signal,
    /// Its score in [0, 1].
    pub score: f64,
    /// Sentence that explains what the signal found.
    pub detail: String,
}

/// A source column mapped to a standard attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// Source column name.
    pub column: String,
    /// Standard attribute name.
    pub attribute: String,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The signals behind the confidence.
    pub evidence: Vec<Evidence>,
    /// The unit the values appear to be in, when it differs from the attribute's unit:
    /// the values fit the plausible range only after conversion from this unit.
    pub source_unit: Option<Unit>,
    /// Annotation written to the column by [`SchemaMapping::annotate`].
    pub semantic: Semantic,
}

impl ColumnMapping {
    /// Returns the signals that scored at least 0.5, which agreed on this mapping.
    pub fn agreeing_signals(&self) -> Vec<Signal> {
        self.evidence
            .iter()
            .filter(|evidence| evidence.score >= 0.5)
            .map(|evidence| evidence.signal)
            .collect()
    }
}

/// The best attribute found for a column that was not mapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Attribute name.
    pub attribute: String,
    /// Its confidence for the column.
    pub confidence: f64,
}

/// A source column with no mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnmappedColumn {
    /// Source column name.
    pub column: String,
    /// Reason the column was not mapped.
    pub reason: String,
    /// The best attribute found, if any scored above zero.
    pub best_candidate: Option<Candidate>,
}

/// The mapping of a batch's columns to one standard model. Every column of the batch is
/// either in `mappings` or in `unmapped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaMapping {
    /// Standard model name.
    pub model: String,
    /// Mapped columns, in the batch's column order.
    pub mappings: Vec<ColumnMapping>,
    /// Unmapped columns, in the batch's column order.
    pub unmapped: Vec<UnmappedColumn>,
    /// Attributes of the model that no column maps to.
    pub unfilled_attributes: Vec<String>,
}

impl SchemaMapping {
    /// Returns the mapping of `column`, if it has one.
    pub fn mapping_of(&self, column: &str) -> Option<&ColumnMapping> {
        self.mappings
            .iter()
            .find(|mapping| mapping.column == column)
    }

    /// Returns the attribute `column` maps to, if any.
    pub fn attribute_of(&self, column: &str) -> Option<&str> {
        self.mapping_of(column)
            .map(|mapping| mapping.attribute.as_str())
    }

    /// Returns `batch` with each mapped column's field annotated with the standard name,
    /// unit and semantic type in the `governance.*` metadata keys. Where a source unit was
    /// inferred, the annotation names it, because the values have not been converted.
    /// Unmapped columns keep their fields as they are.
    pub fn annotate(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let by_column: HashMap<&str, &ColumnMapping> = self
            .mappings
            .iter()
            .map(|mapping| (mapping.column.as_str(), mapping))
            .collect();
        let schema = batch.schema();
        let mut found = 0;
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|field| match by_column.get(field.name().as_str()) {
                Some(mapping) => {
                    found += 1;
                    let mut semantic = mapping.semantic.clone();
                    if let Some(unit) = mapping.source_unit {
                        semantic.unit = Some(unit.code().to_string());
                    }
                    semantic.annotate(field.as_ref().clone())
                }
                None => field.as_ref().clone(),
            })
            .collect();
        if found < by_column.len() {
            let missing: Vec<&str> = by_column
                .keys()
                .copied()
                .filter(|column| schema.field_with_name(column).is_err())
                .collect();
            return Err(Error::InvalidInput(format!(
                "cannot annotate: the batch lacks mapped columns {missing:?}; annotate the \
                 batch the mapping was computed on"
            )));
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        Ok(RecordBatch::try_new(schema, batch.columns().to_vec())?)
    }
}

impl fmt::Display for SchemaMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mapping to {}:", self.model)?;
        for mapping in &self.mappings {
            let unit = mapping
                .source_unit
                .map(|unit| format!(" (values in {unit})"))
                .unwrap_or_default();
            writeln!(
                f,
                "  {} -> {} at {:.2}{unit}",
                mapping.column, mapping.attribute, mapping.confidence
            )?;
        }
        for unmapped in &self.unmapped {
            writeln!(f, "  {} unmapped: {}", unmapped.column, unmapped.reason)?;
        }
        Ok(())
    }
}
