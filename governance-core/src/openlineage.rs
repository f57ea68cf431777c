//! OpenLineage run events built from a chain's lineage records and run summary.
//!
//! Each round of a chain is one OpenLineage run: a `START` event when it begins, then a
//! `COMPLETE` event with the round's stage records, or a `FAIL` event with the error. The
//! complete event names the input and output data sets with a `schema` facet and, on the
//! output, a `columnLineage` facet that maps each output column to the input column of the
//! same name. A column a guard masked (its field metadata has [`MASKING_KEY`]) is a
//! `DIRECT`/`TRANSFORMATION` with `masking: true` and the description `MASKED with
//! <operator>`; every other column is a `DIRECT`/`IDENTITY`.
//!
//! Field names follow the OpenLineage 2-0-2 run event, the schema facet 1-1-1 and the column
//! lineage facet 1-2-0 (<https://openlineage.io/spec/>). Events serialise to one JSON object
//! each, ready for JSON Lines.
//!
//! ```
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_core::openlineage::{DatasetSchema, LineageRun};
//!
//! let run = LineageRun::new("city", "air_quality");
//! let start = serde_json::to_value(run.start(0))?;
//! assert_eq!(start["eventType"], "START");
//! assert_eq!(start["run"]["runId"], run.run_id());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use crate::semantic::MASKING_KEY;
use crate::{LineageRecord, RunSummary};

/// URI of the producer written into every event and facet.
pub const PRODUCER: &str = "https://example.invalid/governance";
const RUN_EVENT_SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const SCHEMA_FACET_SCHEMA: &str =
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
const COLUMN_LINEAGE_SCHEMA: &str = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet";
const ERROR_FACET_SCHEMA: &str = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";
// NOTE: this custom facet has no published JSON schema yet; the URL names where it would be.
const STAGES_FACET_SCHEMA: &str =
    "https://example.invalid/governance/spec/GovernanceStagesRunFacet.json";

/// Kind of a run event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    /// The run began.
    Start,
    /// The run finished and its outputs are complete.
    Complete,
    /// The run failed.
    Fail,
}

/// An OpenLineage run event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    /// START, COMPLETE or FAIL.
    pub event_type: EventType,
    /// Time of the event, RFC 3339 in UTC.
    pub event_time: String,
    /// The run.
    pub run: Run,
    /// The job the run belongs to.
    pub job: Job,
    /// Data sets read.
    pub inputs: Vec<Dataset>,
    /// Data sets written.
    pub outputs: Vec<Dataset>,
    /// URI of the software that produced the event.
    pub producer: String,
    /// JSON schema of the event.
    #[serde(rename = "schemaURL")]
    pub schema_url: String,
}

/// The run of a run event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// UUID of the run, the same in its START and COMPLETE or FAIL events.
    pub run_id: String,
    /// Run facets.
    pub facets: RunFacets,
}

/// Facets of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunFacets {
    /// The error of a failed run.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<ErrorMessageFacet>,
    /// Per-stage counts of the round.
    #[serde(rename = "governance_stages", skip_serializing_if = "Option::is_none")]
    pub stages: Option<StagesFacet>,
}

/// The standard error message run facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessageFacet {
    /// Producer URI.
    #[serde(rename = "_producer")]
    pub producer: String,
    /// JSON schema of the facet.
    #[serde(rename = "_schemaURL")]
    pub schema_url: String,
    /// The error message.
    pub message: String,
    /// Language of the program that failed.
    pub programming_language: String,
}

/// A custom run facet with the lineage record of every stage in the round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagesFacet {
    /// Producer URI.
    #[serde(rename = "_producer")]
    pub producer: String,
    /// JSON schema of the facet.
    #[serde(rename = "_schemaURL")]
    pub schema_url: String,
    /// Round of the closed loop.
    pub round: u32,
    /// One record per stage, in chain order.
    pub stages: Vec<LineageRecord>,
    /// Rows that reached the applicators.
    pub rows_delivered: u64,
    /// Rows quarantined by any stage.
    pub rows_quarantined: u64,
}

/// The job of a run event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Namespace, such as the city or department.
    pub namespace: String,
    /// Job name, such as the chain's name.
    pub name: String,
    /// Job facets; none are written.
    pub facets: BTreeMap<String, serde_json::Value>,
}

/// An input or output data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Namespace of the data set.
    pub namespace: String,
    /// Name of the data set.
    pub name: String,
    /// Dataset facets.
    pub facets: DatasetFacets,
}

/// Facets of a data set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DatasetFacets {
    /// Column names and types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaFacet>,
    /// Sources of each output column.
    #[serde(rename = "columnLineage", skip_serializing_if = "Option::is_none")]
    pub column_lineage: Option<ColumnLineageFacet>,
}

/// The standard schema dataset facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaFacet {
    /// Producer URI.
    #[serde(rename = "_producer")]
    pub producer: String,
    /// JSON schema of the facet.
    #[serde(rename = "_schemaURL")]
    pub schema_url: String,
    /// The columns.
    pub fields: Vec<SchemaField>,
}

/// One column of a schema facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaField {
    /// Column name.
    pub name: String,
    /// Arrow data type, as Arrow displays it.
    #[serde(rename = "type")]
    pub data_type: String,
}

/// The standard column lineage dataset facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnLineageFacet {
    /// Producer URI.
    #[serde(rename = "_producer")]
    pub producer: String,
    /// JSON schema of the facet.
    #[serde(rename = "_schemaURL")]
    pub schema_url: String,
    /// Lineage of each output column, by name.
    pub fields: BTreeMap<String, ColumnLineage>,
}

/// The inputs of one output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnLineage {
    /// Input columns the output column derives from.
    pub input_fields: Vec<InputField>,
}

/// One input column of an output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputField {
    /// Namespace of the input data set.
    pub namespace: String,
    /// Name of the input data set.
    pub name: String,
    /// Input column name.
    pub field: String,
    /// Transformation from the input to the output.
    pub transformations: Vec<Transformation>,
}

/// Transformation from an input column to an output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transformation {
    /// `DIRECT` here: the output value derives from the input value.
    #[serde(rename = "type")]
    pub kind: String,
    /// `IDENTITY` (copied) or `TRANSFORMATION` (changed, such as masked).
    pub subtype: String,
    /// In words, such as `MASKED with pseudonym`.
    pub description: String,
    /// Whether the value was masked, so that the output no longer shows it.
    pub masking: bool,
}

/// A data set and its schema, as named in events.
#[derive(Debug, Clone)]
pub struct DatasetSchema<'a> {
    /// Namespace of the data set.
    pub namespace: &'a str,
    /// Name of the data set.
    pub name: &'a str,
    /// Its columns; output columns carry the guard's masking metadata.
    pub schema: &'a Schema,
}

/// One run of a job: builds its START, COMPLETE and FAIL events with one run id.
#[derive(Debug, Clone)]
pub struct LineageRun {
    run_id: String,
    namespace: String,
    job: String,
}

impl LineageRun {
    /// Creates a run of job `job` in `namespace` with a random (version 4) UUID.
    pub fn new(namespace: impl Into<String>, job: impl Into<String>) -> Self {
        LineageRun {
            run_id: uuid::Uuid::new_v4().to_string(),
            namespace: namespace.into(),
            job: job.into(),
        }
    }

    /// Returns the run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Builds the START event at `time_ms`, milliseconds since the Unix epoch.
    pub fn start(&self, time_ms: i64) -> RunEvent {
        self.event(EventType::Start, time_ms, RunFacets::default())
    }

    /// Builds the COMPLETE event of a round from its summary, with the schema of `input`
    /// and of `output`, and the column lineage from input to output.
    pub fn complete(
        &self,
        summary: &RunSummary,
        input: &DatasetSchema<'_>,
        output: &DatasetSchema<'_>,
        time_ms: i64,
    ) -> RunEvent {
        let facets = RunFacets {
            error_message: None,
            stages: Some(StagesFacet {
                producer: PRODUCER.to_string(),
                schema_url: STAGES_FACET_SCHEMA.to_string(),
                round: summary.round,
                stages: summary.lineage.clone(),
                rows_delivered: summary.rows_delivered,
                rows_quarantined: summary.quarantine.len() as u64,
            }),
        };
        let mut event = self.event(EventType::Complete, time_ms, facets);
        event.inputs.push(dataset(input, None));
        event.outputs.push(dataset(output, Some(input)));
        event
    }

    /// Builds the FAIL event with the error's message.
    pub fn fail(&self, message: &str, time_ms: i64) -> RunEvent {
        let facets = RunFacets {
            error_message: Some(ErrorMessageFacet {
                producer: PRODUCER.to_string(),
                schema_url: ERROR_FACET_SCHEMA.to_string(),
                message: message.to_string(),
                programming_language: "Rust".to_string(),
            }),
            stages: None,
        };
        self.event(EventType::Fail, time_ms, facets)
    }

    fn event(&self, event_type: EventType, time_ms: i64, facets: RunFacets) -> RunEvent {
        RunEvent {
            event_type,
            event_time: rfc3339_utc(time_ms),
            run: Run {
                run_id: self.run_id.clone(),
                facets,
            },
            job: Job {
                namespace: self.namespace.clone(),
                name: self.job.clone(),
                facets: BTreeMap::new(),
            },
            inputs: Vec::new(),
            outputs: Vec::new(),
            producer: PRODUCER.to_string(),
            schema_url: RUN_EVENT_SCHEMA.to_string(),
        }
    }
}

/// Builds the data set with its schema facet and, for an output, the column lineage from
/// the same-named columns of `input`.
fn dataset(data: &DatasetSchema<'_>, input: Option<&DatasetSchema<'_>>) -> Dataset {
    let fields = data
        .schema
        .fields()
        .iter()
        .map(|field| SchemaField {
            name: field.name().clone(),
            data_type: field.data_type().to_string(),
        })
        .collect();
    let column_lineage = input.map(|input| {
        let mut lineage = BTreeMap::new();
        for field in data.schema.fields() {
            if input.schema.field_with_name(field.name()).is_err() {
                continue;
            }
            let transformation = match field.metadata().get(MASKING_KEY) {
                Some(operator) => Transformation {
                    kind: "DIRECT".to_string(),
                    subtype: "TRANSFORMATION".to_string(),
                    description: format!("MASKED with {operator}"),
                    masking: true,
                },
                None => Transformation {
                    kind: "DIRECT".to_string(),
                    subtype: "IDENTITY".to_string(),
                    description: String::new(),
                    masking: false,
                },
            };
            let input_field = InputField {
                namespace: input.namespace.to_string(),
                name: input.name.to_string(),
                field: field.name().clone(),
                transformations: vec![transformation],
            };
            lineage.insert(
                field.name().clone(),
                ColumnLineage {
                    input_fields: vec![input_field],
                },
            );
        }
        ColumnLineageFacet {
            producer: PRODUCER.to_string(),
            schema_url: COLUMN_LINEAGE_SCHEMA.to_string(),
            fields: lineage,
        }
    });
    Dataset {
        namespace: data.namespace.to_string(),
        name: data.name.to_string(),
        facets: DatasetFacets {
            schema: Some(SchemaFacet {
                producer: PRODUCER.to_string(),
                schema_url: SCHEMA_FACET_SCHEMA.to_string(),
                fields,
            }),
            column_lineage,
        },
    }
}

/// Formats milliseconds since the Unix epoch as RFC 3339 in UTC, such as
/// `2024-03-04T10:00:00.000Z`.
fn rfc3339_utc(time_ms: i64) -> String {
    let days = time_ms.div_euclid(86_400_000);
    let ms_of_day = time_ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01, by Howard Hinnant's civil_from_days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_709_546_400_123), "2024-03-04T10:00:00.123Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
    }
}
