//! [`SchemaMap`]: the schema matcher as a chain stage. It renames the columns of the stream to
//! the attributes of a standard model, converts values to the model's units, and reports every
//! column it leaves alone.
//!
//! The plan (which column becomes which attribute) is computed on the first batch of each
//! distinct input schema. Later batches with the same column names and types reuse it, so
//! every output batch of a stream has the same schema.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use governance_core::audit::AuditAction;
use governance_core::standard::{StandardModel, StandardRegistry, UnitConversion};
use governance_core::{Error, Fuser, GovernedBatch, Result, Semantic, Stage, StageContext};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::drift::{DriftConfig, DriftDetector, DriftFinding, RenameBasis};
use super::mapping::SchemaMapping;
use super::matcher::{SchemaMatcher, SchemaMatcherConfig};

/// Handling of a column whose values, compared with the reference, belong to the attribute
/// that another column's name suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapPolicy {
    /// Keep the column under its source name, unmapped, and report the swap.
    #[default]
    Report,
    /// Map the column to the attribute of the reference column whose values it carries, and
    /// report the swap.
    FollowValues,
}

/// Configuration of [`SchemaMap`].
///
/// ```
/// use governance_fuse::schema::SchemaMapConfig;
///
/// let config: SchemaMapConfig = serde_json::from_str(
///     r#"{"model": "AirQualityObserved", "min_confidence": 0.6, "skip": ["station"]}"#,
/// )?;
/// assert!(config.rename);
/// assert_eq!(config.name, "schema_map");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaMapConfig {
    /// Stage name, unique within a chain. Default `schema_map`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Standard model of the built-in registry, such as `AirQualityObserved`.
    pub model: String,
    /// Smallest confidence, in [0, 1], at which a column is mapped. Default 0.5.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f64,
    /// Whether mapped columns take the attribute name. When false, they keep their names and
    /// only get the `governance.*` field metadata. Default true.
    #[serde(default = "default_true")]
    pub rename: bool,
    /// Whether values found in another unit than the attribute's (CO in µg/m³ where the model
    /// expects mg/m³) are converted to the attribute's unit, as Float64. Default true.
    #[serde(default = "default_true")]
    pub convert_units: bool,
    /// Columns passed through unmatched and unrenamed, such as keys that later stages name.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Name of the reference source: batches with the expected columns, against which each
    /// new input schema is checked for renamed, retyped and swapped columns.
    #[serde(default)]
    pub reference: Option<String>,
    /// Settings of the drift check against the reference.
    #[serde(default)]
    pub drift: DriftConfig,
    /// Handling of swapped columns. Default `report`.
    #[serde(default)]
    pub on_swap: SwapPolicy,
}

fn default_name() -> String {
    "schema_map".to_string()
}

fn default_min_confidence() -> f64 {
    0.5
}

fn default_true() -> bool {
    true
}

impl SchemaMapConfig {
    /// Creates a config that maps to `model` with every other field at its default.
    pub fn new(model: impl Into<String>) -> Self {
        SchemaMapConfig {
            name: default_name(),
            model: model.into(),
            min_confidence: default_min_confidence(),
            rename: true,
            convert_units: true,
            skip: Vec::new(),
            reference: None,
            drift: DriftConfig::default(),
            on_swap: SwapPolicy::Report,
        }
    }
}

/// Output name, annotation and unit conversion of one input column.
#[derive(Debug, Clone)]
struct ColumnPlan {
    output: String,
    semantic: Option<Semantic>,
    conversion: Option<UnitConversion>,
}

/// The plan for one input schema, with the lineage events that explain it.
#[derive(Debug, Clone)]
struct Plan {
    input: Vec<(String, DataType)>,
    columns: Vec<ColumnPlan>,
    events: Vec<(&'static str, serde_json::Value)>,
    summary: String,
}

/// Maps the stream's columns to a standard model.
///
/// Every input column leaves the stage: mapped columns under the attribute name (unless
/// `rename` is off or another column already has that name), with the standard name, unit
/// and semantic type in the field metadata; every other column unchanged. Rows out equal
/// rows in. Each plan writes one `Change` audit record and lineage events of these kinds:
///
/// - `schema_mapped`: a column, its attribute, the confidence and the conversion, if any;
/// - `schema_unmapped`: a column left as it is, with the reason and the best candidate, so
///   low-confidence matches are visible;
/// - `schema_swapped`, `schema_renamed`, `schema_retyped`, `schema_values_changed`,
///   `schema_new` and `schema_missing`: drift from the reference, when one is given;
/// - `schema_rename_collision`: a mapped column kept under its name because another column
///   already has the attribute name.
///
/// The events are recorded again in the first batch of each round, so every round's
/// lineage explains the mapping.
///
/// NOTE: drift against the reference is checked when a new input schema is planned, not on
/// every batch, so a swap that starts mid-stream under unchanged column names is not found.
pub struct SchemaMap {
    config: SchemaMapConfig,
    model: StandardModel,
    matcher: SchemaMatcher,
    detector: DriftDetector,
    reference: Option<(RecordBatch, SchemaMapping)>,
    plan: Option<Plan>,
    reported_round: Option<u32>,
}

impl std::fmt::Debug for SchemaMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaMap")
            .field("config", &self.config)
            .field(
                "reference_rows",
                &self.reference.as_ref().map(|r| r.0.num_rows()),
            )
            .finish()
    }
}

impl SchemaMap {
    /// Builds the stage for a model of the built-in registry. `reference` holds the batches of
    /// the reference source, which must be given exactly when `config.reference` names one.
    pub fn new(config: SchemaMapConfig, reference: Vec<RecordBatch>) -> Result<Self> {
        Self::with_registry(config, reference, &StandardRegistry::builtin())
    }

    /// Builds the stage for a model of `registry`.
    pub fn with_registry(
        config: SchemaMapConfig,
        reference: Vec<RecordBatch>,
        registry: &StandardRegistry,
    ) -> Result<Self> {
        let model = registry
            .get(&config.model)
            .map_err(|error| Error::config(&config.name, error.to_string()))?
            .clone();
        let matcher = SchemaMatcher::new(SchemaMatcherConfig {
            min_confidence: config.min_confidence,
            ..SchemaMatcherConfig::default()
        })
        .map_err(|error| Error::config(&config.name, error.to_string()))?;
        let detector = DriftDetector::new(config.drift.clone())
            .map_err(|error| Error::config(&config.name, error.to_string()))?;
        let reference = match (&config.reference, reference.is_empty()) {
            (None, true) => None,
            (None, false) => {
                return Err(Error::config(
                    &config.name,
                    "reference batches were given but no reference is named: set reference",
                ));
            }
            (Some(name), true) => {
                return Err(Error::config(
                    &config.name,
                    format!("reference source {name:?} has no rows: check its files"),
                ));
            }
            (Some(_), false) => {
                let schema = reference[0].schema();
                let batch = arrow::compute::concat_batches(&schema, &reference)?;
                let matched = without_columns(&batch, &config.skip)?;
                let mapping = matcher.match_batch(&matched, &model)?;
                Some((batch, mapping))
            }
        };
        Ok(SchemaMap {
            config,
            model,
            matcher,
            detector,
            reference,
            plan: None,
            reported_round: None,
        })
    }

    /// Computes the plan for `data`: the matcher's mapping, corrected by the drift from the
    /// reference, then the output name and conversion of each column.
    fn plan(&self, data: &RecordBatch) -> Result<Plan> {
        let schema = data.schema();
        let mut events = Vec::new();
        let matched = without_columns(data, &self.config.skip)?;
        let mut mapping = if matched.num_columns() == 0 {
            SchemaMapping {
                model: self.model.name.clone(),
                mappings: Vec::new(),
                unmapped: Vec::new(),
                unfilled_attributes: Vec::new(),
            }
        } else {
            self.matcher.match_batch(&matched, &self.model)?
        };
        let mut swapped = 0;
        if let Some((reference, reference_mapping)) = &self.reference {
            let drift = self.detector.compare(reference, data)?;
            swapped = self.apply_drift(&drift, reference_mapping, &mut mapping, &mut events);
        }

        // Columns that keep their names block mapped columns from taking the same name.
        let mapped: BTreeMap<&str, &super::mapping::ColumnMapping> = mapping
            .mappings
            .iter()
            .map(|m| (m.column.as_str(), m))
            .collect();
        let mut reserved_names: HashSet<String> = schema
            .fields()
            .iter()
            .filter(|field| !self.config.rename || !mapped.contains_key(field.name().as_str()))
            .map(|field| field.name().clone())
            .collect();
        let mut columns = Vec::new();
        let mut converted = 0;
        for field in schema.fields() {
            let name = field.name();
            let Some(column) = mapped.get(name.as_str()) else {
                columns.push(ColumnPlan {
                    output: name.clone(),
                    semantic: None,
                    conversion: None,
                });
                continue;
            };
            let attribute = self.model.attribute(&column.attribute).ok_or_else(|| {
                Error::Internal(format!(
                    "the matcher mapped {name:?} to {:?}, which model {} lacks",
                    column.attribute, self.model.name
                ))
            })?;
            let mut output = name.clone();
            if self.config.rename && *name != column.attribute {
                if reserved_names.contains(&column.attribute) {
                    events.push((
                        "schema_rename_collision",
                        json!({"column": name, "attribute": column.attribute}),
                    ));
                } else {
                    output = column.attribute.clone();
                }
            }
            reserved_names.insert(output.clone());
            let mut semantic = column.semantic.clone();
            let mut conversion = None;
            if let Some(unit) = column.source_unit {
                semantic.unit = Some(unit.code().to_string());
                if self.config.convert_units {
                    match attribute.conversion_from(unit, Default::default()) {
                        Ok(found) => {
                            semantic.unit = Some(found.to_unit().code().to_string());
                            conversion = Some(found);
                            converted += 1;
                        }
                        Err(error) => events.push((
                            "schema_conversion_failed",
                            json!({"column": name, "error": error.to_string()}),
                        )),
                    }
                }
            }
            events.push((
                "schema_mapped",
                json!({
                    "column": name,
                    "output": output,
                    "attribute": column.attribute,
                    "confidence": column.confidence,
                    "from_unit": conversion.map(|c| c.from_unit().code()),
                    "to_unit": conversion.map(|c| c.to_unit().code()),
                }),
            ));
            columns.push(ColumnPlan {
                output,
                semantic: Some(semantic),
                conversion,
            });
        }
        let mut outputs = HashSet::new();
        for column in &columns {
            if !outputs.insert(column.output.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "schema mapping to {} gives two columns named {:?}: rename one of the \
                     input columns or add it to skip",
                    self.model.name, column.output
                )));
            }
        }
        for unmapped in &mapping.unmapped {
            events.push((
                "schema_unmapped",
                json!({
                    "column": unmapped.column,
                    "reason": unmapped.reason,
                    "best_attribute": unmapped.best_candidate.as_ref().map(|c| &c.attribute),
                    "best_confidence": unmapped.best_candidate.as_ref().map(|c| c.confidence),
                }),
            ));
        }
        let summary = format!(
            "model={} mapped={} converted={converted} unmapped={} skipped={} swapped={swapped}",
            self.model.name,
            mapping.mappings.len(),
            mapping.unmapped.len(),
            schema.fields().len() - matched.num_columns(),
        );
        Ok(Plan {
            input: input_signature(&schema),
            columns,
            events,
            summary,
        })
    }

    /// Records the drift findings as events and corrects `mapping` with them: a swapped column
    /// loses the mapping its name earned (or, under `follow_values`, takes the attribute of the
    /// column whose values it carries), and a column renamed beyond what names reveal takes
    /// the attribute of its reference column. Returns the number of swapped columns.
    fn apply_drift(
        &self,
        drift: &super::drift::DriftReport,
        reference_mapping: &SchemaMapping,
        mapping: &mut SchemaMapping,
        events: &mut Vec<(&'static str, serde_json::Value)>,
    ) -> usize {
        let mut swapped = 0;
        let mut follow: Vec<(String, String, f64)> = Vec::new();
        for finding in &drift.findings {
            let detail = finding.to_string();
            match finding {
                DriftFinding::Swapped {
                    column, carries, ..
                } => {
                    swapped += 1;
                    events.push((
                        "schema_swapped",
                        json!({"column": column, "detail": detail}),
                    ));
                    unmap(mapping, column, &format!("swapped: {detail}"));
                    if self.config.on_swap == SwapPolicy::FollowValues
                        && let Some(source) = reference_mapping.mapping_of(carries)
                    {
                        follow.push((column.clone(), source.attribute.clone(), source.confidence));
                    }
                }
                DriftFinding::Renamed {
                    reference_column,
                    column,
                    basis,
                } => {
                    events.push((
                        "schema_renamed",
                        json!({"column": column, "detail": detail}),
                    ));
                    let by_values = matches!(basis, RenameBasis::Values(_));
                    if by_values
                        && mapping.mapping_of(column).is_none()
                        && !self.config.skip.contains(column)
                        && let Some(source) = reference_mapping.mapping_of(reference_column)
                    {
                        follow.push((column.clone(), source.attribute.clone(), source.confidence));
                    }
                }
                DriftFinding::Retyped { column, .. } => {
                    events.push((
                        "schema_retyped",
                        json!({"column": column, "detail": detail}),
                    ));
                }
                DriftFinding::ValuesChanged { column, .. } => {
                    events.push((
                        "schema_values_changed",
                        json!({"column": column, "detail": detail}),
                    ));
                }
                DriftFinding::New { column, .. } => {
                    events.push(("schema_new", json!({"column": column, "detail": detail})));
                }
                DriftFinding::Missing { column } => {
                    events.push((
                        "schema_missing",
                        json!({"column": column, "detail": detail}),
                    ));
                }
            }
        }
        for (column, attribute, confidence) in follow {
            if mapping.mappings.iter().any(|m| m.attribute == attribute) {
                events.push((
                    "schema_value_mapping_blocked",
                    json!({"column": column, "attribute": attribute}),
                ));
                continue;
            }
            let Some(model_attribute) = self.model.attribute(&attribute) else {
                continue;
            };
            let position = mapping.unmapped.iter().position(|u| u.column == column);
            if let Some(position) = position {
                mapping.unmapped.remove(position);
            }
            mapping.mappings.push(super::mapping::ColumnMapping {
                column,
                attribute,
                confidence,
                evidence: Vec::new(),
                source_unit: None,
                semantic: model_attribute.semantic(),
            });
        }
        swapped
    }

    fn apply(&self, plan: &Plan, batch: GovernedBatch) -> Result<GovernedBatch> {
        let data = batch.data();
        let schema = data.schema();
        let mut fields: Vec<FieldRef> = Vec::with_capacity(plan.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(plan.columns.len());
        for ((field, array), column) in schema
            .fields()
            .iter()
            .zip(data.columns())
            .zip(&plan.columns)
        {
            let (array, data_type): (ArrayRef, DataType) = match &column.conversion {
                Some(conversion) => (
                    Arc::new(conversion.apply_array(array.as_ref())?),
                    DataType::Float64,
                ),
                None => (array.clone(), field.data_type().clone()),
            };
            let renamed = Field::new(&column.output, data_type, field.is_nullable())
                .with_metadata(field.metadata().clone());
            let renamed = match &column.semantic {
                Some(semantic) => semantic.annotate(renamed),
                None => renamed,
            };
            fields.push(Arc::new(renamed));
            arrays.push(array);
        }
        let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
        let mut mapped = batch;
        mapped.replace_data(RecordBatch::try_new(Arc::new(schema), arrays)?)?;
        Ok(mapped)
    }
}

/// Takes the mapping of `column` away and lists the column as unmapped with `reason`.
fn unmap(mapping: &mut SchemaMapping, column: &str, reason: &str) {
    if let Some(position) = mapping.mappings.iter().position(|m| m.column == column) {
        let removed = mapping.mappings.remove(position);
        mapping.unmapped.push(super::mapping::UnmappedColumn {
            column: removed.column,
            reason: reason.to_string(),
            best_candidate: Some(super::mapping::Candidate {
                attribute: removed.attribute,
                confidence: removed.confidence,
            }),
        });
    } else if let Some(unmapped) = mapping.unmapped.iter_mut().find(|u| u.column == column) {
        unmapped.reason = reason.to_string();
    }
}

fn input_signature(schema: &Schema) -> Vec<(String, DataType)> {
    schema
        .fields()
        .iter()
        .map(|field| (field.name().clone(), field.data_type().clone()))
        .collect()
}

/// Returns `batch` without the columns named in `skip`.
fn without_columns(batch: &RecordBatch, skip: &[String]) -> Result<RecordBatch> {
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, field)| !skip.contains(field.name()))
        .map(|(index, _)| index)
        .collect();
    Ok(batch.project(&keep)?)
}

impl Stage for SchemaMap {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "schema mapping to {} at confidence {}",
            self.config.model, self.config.min_confidence
        )
    }
}

impl Fuser for SchemaMap {
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let signature = input_signature(&batch.data().schema());
        let replan = self
            .plan
            .as_ref()
            .is_none_or(|plan| plan.input != signature);
        if replan {
            let plan = self.plan(batch.data())?;
            if self.plan.is_some() {
                ctx.record_event("schema_replanned", json!({"columns": batch.column_names()}));
            }
            self.plan = Some(plan);
            self.reported_round = None;
        }
        let plan = self
            .plan
            .as_ref()
            .ok_or_else(|| Error::Internal("schema map lost its plan".into()))?;
        if self.reported_round != Some(ctx.round()) {
            for (kind, parameters) in &plan.events {
                ctx.record_event(*kind, parameters.clone());
            }
            ctx.audit(AuditAction::Change, &self.config.model, &plan.summary)?;
            tracing::info!(stage = %self.config.name, summary = %plan.summary, "schema mapped");
            self.reported_round = Some(ctx.round());
        }
        self.apply(plan, batch)
    }

    fn sources(&self) -> Vec<String> {
        self.config.reference.iter().cloned().collect()
    }
}
