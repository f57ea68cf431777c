//! An applicator that appends OpenLineage run events for each round to a JSON Lines file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use governance_core::openlineage::{DatasetSchema, LineageRun};
use governance_core::{Applicator, Error, GovernedBatch, Result, RunSummary, Stage, StageContext};
use serde::{Deserialize, Serialize};

/// Configuration of an [`OpenLineageWriter`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenLineageWriterConfig {
    /// JSON Lines file the events are appended to; its folder is created when missing.
    pub path: PathBuf,
    /// Namespace of the job and of both data sets, such as `city-platform`.
    pub namespace: String,
    /// Job name, such as `air_quality_chain`.
    pub job: String,
    /// Name of the input data set.
    pub input: String,
    /// Name of the output data set.
    pub output: String,
}

/// Appends a START and a COMPLETE event per round, with a fresh run id each round, or a START
/// and a FAIL event with the error's message when the round fails. The
/// COMPLETE event carries the output schema (seen on the delivered batches), the column
/// lineage from the input, with the guard's masked columns flagged, and the stages' lineage
/// records.
#[derive(Debug)]
pub struct OpenLineageWriter {
    name: String,
    config: OpenLineageWriterConfig,
    input_schema: Option<SchemaRef>,
    /// Schema of the batches delivered in the open round.
    output_schema: Option<SchemaRef>,
}

impl OpenLineageWriter {
    /// Creates the writer. Fails when a name in `config` is empty.
    pub fn new(config: OpenLineageWriterConfig) -> Result<Self> {
        for (field, value) in [
            ("namespace", &config.namespace),
            ("job", &config.job),
            ("input", &config.input),
            ("output", &config.output),
        ] {
            if value.trim().is_empty() {
                return Err(Error::config(
                    "openlineage writer",
                    format!("{field} is empty: give the name OpenLineage should record"),
                ));
            }
        }
        Ok(OpenLineageWriter {
            name: "openlineage".to_string(),
            config,
            input_schema: None,
            output_schema: None,
        })
    }

    /// Returns the writer with stage name `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the writer with the schema of the input data set, such as the collector's.
    /// Without it the input schema is taken to be the output schema.
    pub fn with_input_schema(mut self, schema: SchemaRef) -> Self {
        self.input_schema = Some(schema);
        self
    }

    fn append(&self, lines: &[String]) -> Result<()> {
        let path = &self.config.path;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::io(parent, source))?;
        }
        let mut text = lines.join("\n");
        text.push('\n');
        // One write per round, so a reader never sees a START without its COMPLETE unless
        // the write itself fails.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.flush()
            })
            .map_err(|source| Error::io(path, source))
    }
}

/// Returns the time now in milliseconds since the Unix epoch, or 0 for a clock set before it.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

impl Stage for OpenLineageWriter {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "appends OpenLineage run events to {}",
            self.config.path.display()
        )
    }
}

impl Applicator for OpenLineageWriter {
    fn apply(&mut self, batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<()> {
        if self.output_schema.is_none() {
            self.output_schema = Some(batch.data().schema());
        }
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary, _ctx: &mut StageContext) -> Result<()> {
        let output_schema = self
            .output_schema
            .take()
            .unwrap_or_else(|| Arc::new(Schema::empty()));
        let input_schema = self
            .input_schema
            .clone()
            .unwrap_or_else(|| output_schema.clone());
        let run = LineageRun::new(&self.config.namespace, &self.config.job);
        let finished = now_ms();
        let started = finished - (summary.seconds * 1000.0).round() as i64;
        let input = DatasetSchema {
            namespace: &self.config.namespace,
            name: &self.config.input,
            schema: &input_schema,
        };
        let output = DatasetSchema {
            namespace: &self.config.namespace,
            name: &self.config.output,
            schema: &output_schema,
        };
        let events = [
            run.start(started),
            run.complete(summary, &input, &output, finished),
        ];
        self.append_events(&events)
    }

    fn fail(&mut self, error: &Error, _ctx: &mut StageContext) -> Result<()> {
        // The failed round's output is not a data set anyone should read, so no schema is
        // reported; the open round's schema is dropped with it.
        self.output_schema = None;
        let run = LineageRun::new(&self.config.namespace, &self.config.job);
        let now = now_ms();
        let events = [run.start(now), run.fail(&error.to_string(), now)];
        self.append_events(&events)
    }
}

impl OpenLineageWriter {
    fn append_events(&self, events: &[governance_core::openlineage::RunEvent]) -> Result<()> {
        let lines = events
            .iter()
            .map(serde_json::to_string)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|error| {
                Error::Internal(format!("OpenLineage event failed to encode: {error}"))
            })?;
        self.append(&lines)
    }
}
