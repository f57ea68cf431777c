//! [`CheckSuite`]: a [`Suite`] as a cleaner in a chain.

use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, UInt64Array};
use arrow::datatypes::SchemaRef;
use governance_core::{Cleaner, Error, GovernedBatch, Provenance, Result, Stage, StageContext};

use super::{Suite, SuiteReport};

/// Runs a [`Suite`] on every batch of a chain. It logs the issues of per-batch rules on each
/// batch and passes every row on unchanged.
///
/// At `flush` it finishes the whole-table rules. Their issues name rows that have already
/// left the stage, so they travel in one extra batch of zero rows (the schema of the last
/// batch) whose issue log contains them. The report is stored for [`CheckSuite::report_handle`].
#[derive(Debug)]
pub struct CheckSuite {
    name: String,
    suite: Suite,
    schema: Option<SchemaRef>,
    report: Arc<Mutex<Option<SuiteReport>>>,
}

impl CheckSuite {
    /// Wraps `suite` as a stage named `checks`.
    pub fn new(suite: Suite) -> Self {
        CheckSuite {
            name: "checks".into(),
            suite,
            schema: None,
            report: Arc::new(Mutex::new(None)),
        }
    }

    /// Renames the stage, for chains that hold more than one suite.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns a handle to the report of the latest finished round; keep it before
    /// handing the stage to a chain.
    pub fn report_handle(&self) -> Arc<Mutex<Option<SuiteReport>>> {
        Arc::clone(&self.report)
    }
}

impl Stage for CheckSuite {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self.suite.config()).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!("check a suite of {} rules", self.suite.config().rules.len())
    }
}

impl Cleaner for CheckSuite {
    fn clean(
        &mut self,
        mut batch: GovernedBatch,
        _ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        let issues = self.suite.check_batch(&batch)?;
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        self.schema = Some(batch.data().schema());
        Ok(batch)
    }

    fn flush(&mut self, _ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let mut report = self.suite.finish()?;
        let issues = std::mem::take(&mut report.issues);
        {
            let mut stored = self
                .report
                .lock()
                .map_err(|_| Error::Internal("check report lock poisoned".into()))?;
            *stored = Some(report);
        }
        let Some(schema) = self.schema.take() else {
            return Ok(None);
        };
        if issues.is_empty() {
            return Ok(None);
        }
        let data = RecordBatch::new_empty(schema);
        let mut carrier = GovernedBatch::try_new(
            data,
            UInt64Array::from(Vec::<u64>::new()),
            Provenance::new(self.name.clone()),
        )?;
        carrier.issues.extend(issues);
        Ok(Some(carrier))
    }
}
