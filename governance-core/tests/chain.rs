//! Chain runner behaviour: streaming, row-count identity, failure handling, rounds.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::audit::AuditAction;
use governance_core::{
    AccessRequest, Adjustment, Analyzer, Applicator, Chain, Cleaner, Collector, Error, Feedback,
    Finding, FindingKind, GovernedBatch, Guard, Label, Provenance, QuarantinedRow, Result,
    RowIdAllocator, RunSummary, Stage, StageContext,
};

/// Emits `batches` batches of `rows` rows each; values count up from 0.
struct Counter {
    batches: usize,
    rows: usize,
    emitted: usize,
    ids: RowIdAllocator,
}

impl Counter {
    fn new(batches: usize, rows: usize) -> Self {
        Counter {
            batches,
            rows,
            emitted: 0,
            ids: RowIdAllocator::default(),
        }
    }
}

impl Stage for Counter {
    fn name(&self) -> &str {
        "counter"
    }
}

impl Collector for Counter {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.emitted = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.emitted == self.batches {
            return Ok(None);
        }
        let start = (self.emitted * self.rows) as f64;
        self.emitted += 1;
        let values: Vec<f64> = (0..self.rows).map(|offset| start + offset as f64).collect();
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Float64, true)]));
        let data = RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(values))])?;
        ctx.record_read(self.rows as u64);
        ctx.audit(AuditAction::Read, "counter", &format!("rows={}", self.rows))?;
        let ids = self.ids.allocate(self.rows);
        GovernedBatch::try_new(data, ids, Provenance::new("counter")).map(Some)
    }
}

/// Quarantines rows whose value is divisible by `modulus`; with `lie` it forgets to report
/// them, breaking the row count.
struct DropMultiples {
    modulus: f64,
    lie: bool,
    threshold_version: u32,
}

impl Stage for DropMultiples {
    fn name(&self) -> &str {
        "drop_multiples"
    }

    fn version(&self) -> String {
        self.threshold_version.to_string()
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        if feedback.is_empty() {
            return Ok(None);
        }
        let from = self.version();
        self.threshold_version += 1;
        Ok(Some(Adjustment {
            stage: self.name().into(),
            from_version: from,
            to_version: self.version(),
            description: "counted feedback".into(),
            params: serde_json::json!({"labels": feedback.len()}),
        }))
    }
}

impl Cleaner for DropMultiples {
    fn clean(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let values = batch
            .column("v")?
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| Error::InvalidInput("v is not Float64".into()))?
            .clone();
        let keep: BooleanArray = values
            .iter()
            .map(|value| value.map(|v| v % self.modulus != 0.0))
            .collect();
        for index in 0..values.len() {
            if !keep.value(index) && !self.lie {
                ctx.quarantine(QuarantinedRow {
                    stage: String::new(),
                    row_id: Some(batch.row_ids().value(index)),
                    source: None,
                    line: None,
                    reason: format!(
                        "value {} is a multiple of {}",
                        values.value(index),
                        self.modulus
                    ),
                    raw: values.value(index).to_string(),
                });
            }
        }
        batch.filter(&keep)
    }
}

struct Fails;

impl Stage for Fails {
    fn name(&self) -> &str {
        "fails"
    }
}

impl Cleaner for Fails {
    fn clean(&mut self, _: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        Err(Error::stage("fails", std::io::Error::other("disk full")))
    }
}

struct Panics;

impl Stage for Panics {
    fn name(&self) -> &str {
        "panics"
    }
}

impl Cleaner for Panics {
    #[allow(
        clippy::panic,
        reason = "the test checks that a panicking stage becomes an error"
    )]
    fn clean(&mut self, _: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        panic!("stage bug")
    }
}

struct MaxFinder {
    max: f64,
}

impl Stage for MaxFinder {
    fn name(&self) -> &str {
        "max"
    }
}

impl Analyzer for MaxFinder {
    fn analyze(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<Vec<Finding>> {
        let values = batch
            .column("v")?
            .as_any()
            .downcast_ref::<Float64Array>()
            .cloned();
        if let Some(max) = values.and_then(|values| arrow::compute::max(&values)) {
            self.max = self.max.max(max);
        }
        Ok(Vec::new())
    }

    fn finish(&mut self, _: &mut StageContext) -> Result<Vec<Finding>> {
        let mut finding = Finding::new(FindingKind::Indicator, "max_v", "max", "largest value");
        finding.value = Some(self.max);
        Ok(vec![finding])
    }
}

struct AllowRole(&'static str);

impl Stage for AllowRole {
    fn name(&self) -> &str {
        "guard"
    }
}

impl Guard for AllowRole {
    fn guard(
        &mut self,
        batch: GovernedBatch,
        request: &AccessRequest,
        ctx: &mut StageContext,
    ) -> Result<GovernedBatch> {
        if request.role != self.0 {
            ctx.audit(AuditAction::Decision, &request.role, "deny")?;
            return Err(Error::AccessDenied {
                role: request.role.clone(),
                reason: "role not in policy".into(),
            });
        }
        ctx.audit(AuditAction::Decision, &request.role, "allow")?;
        Ok(batch)
    }
}

/// Counts rows and records whether `finish` ran.
#[derive(Clone, Default)]
struct Sink {
    rows: Arc<std::sync::Mutex<(u64, bool)>>,
}

impl Stage for Sink {
    fn name(&self) -> &str {
        "sink"
    }
}

impl Applicator for Sink {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.rows
            .lock()
            .map_err(|_| Error::Internal("poisoned".into()))?
            .0 += batch.num_rows() as u64;
        Ok(())
    }

    fn finish(&mut self, _: &RunSummary, _: &mut StageContext) -> Result<()> {
        self.rows
            .lock()
            .map_err(|_| Error::Internal("poisoned".into()))?
            .1 = true;
        Ok(())
    }
}

fn request(role: &str) -> AccessRequest {
    AccessRequest::new(role, "test")
}

#[test]
fn row_count_identity_holds_per_stage() {
    let sink = Sink::default();
    let mut chain = Chain::builder()
        .collect(Counter::new(5, 100))
        .clean(DropMultiples {
            modulus: 10.0,
            lie: false,
            threshold_version: 1,
        })
        .analyze(MaxFinder { max: f64::MIN })
        .guard(AllowRole("analyst"))
        .apply(sink.clone())
        .request(request("analyst"))
        .channel_capacity(1)
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");

    for stage in &summary.stages {
        assert_eq!(
            stage.rows_in,
            stage.rows_out + stage.rows_quarantined + stage.rows_merged,
            "stage {}",
            stage.name
        );
    }
    let names: Vec<&str> = summary
        .stages
        .iter()
        .map(|stage| stage.name.as_str())
        .collect();
    assert_eq!(names, ["counter", "drop_multiples", "max", "guard", "sink"]);
    assert_eq!(summary.stages[1].rows_quarantined, 50);
    assert_eq!(summary.rows_delivered, 450);
    assert_eq!(summary.quarantine.len(), 50);
    assert_eq!(summary.quarantine[0].stage, "drop_multiples");
    assert_eq!(summary.findings[0].value, Some(499.0));
    assert!(summary.audit_verified);
    assert_eq!(*sink.rows.lock().expect("lock"), (450, true));
    assert_eq!(chain.lineage().len(), 5);
}

#[test]
fn broken_count_names_the_stage() {
    let mut chain = Chain::builder()
        .collect(Counter::new(2, 10))
        .clean(DropMultiples {
            modulus: 3.0,
            lie: true,
            threshold_version: 1,
        })
        .request(request("analyst"))
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("count is broken");
    assert!(error.is_internal());
    assert!(matches!(&error, Error::RowCountMismatch { stage, .. } if stage == "drop_multiples"));
}

#[test]
fn failing_stage_stops_chain_without_finish() {
    let sink = Sink::default();
    let mut chain = Chain::builder()
        .collect(Counter::new(50, 10))
        .clean(Fails)
        .apply(sink.clone())
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("stage fails");
    assert!(matches!(&error, Error::Stage { stage, .. } if stage == "fails"));
    assert!(
        !sink.rows.lock().expect("lock").1,
        "finish must not run after a failure"
    );
    assert!(
        chain.lineage().is_empty(),
        "a failed round writes no lineage"
    );
}

#[test]
fn panicking_stage_becomes_internal_error() {
    let mut chain = Chain::builder()
        .collect(Counter::new(3, 10))
        .clean(Panics)
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("stage panics");
    assert!(error.is_internal());
    assert!(error.to_string().contains("panics"));
}

#[test]
fn unknown_role_is_denied() {
    let sink = Sink::default();
    let mut chain = Chain::builder()
        .collect(Counter::new(1, 10))
        .guard(AllowRole("analyst"))
        .apply(sink.clone())
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("anonymous is denied");
    assert!(matches!(error, Error::AccessDenied { .. }));
    assert_eq!(sink.rows.lock().expect("lock").0, 0);
}

#[test]
fn rounds_version_adjustments() {
    let mut chain = Chain::builder()
        .collect(Counter::new(1, 20))
        .clean(DropMultiples {
            modulus: 7.0,
            lie: false,
            threshold_version: 1,
        })
        .build()
        .expect("chain");
    let first = chain.run_blocking().expect("round 1");
    let adjustments = chain
        .learn(&[Feedback::cell(0, "v", Label::Confirmed, "test")])
        .expect("learn");
    let second = chain.run_blocking().expect("round 2");

    assert_eq!(adjustments.len(), 1);
    assert_eq!(first.stages[1].version, "1");
    assert_eq!(second.stages[1].version, "2");
    assert_eq!(second.round, 2);
    assert_eq!(
        first.stages[0].rows_in, second.stages[0].rows_in,
        "collector restarts each round"
    );
    assert_eq!(chain.adjustments()[0].0, 1);
    let versions: Vec<&str> = chain
        .lineage()
        .iter()
        .map(|record| record.version.as_str())
        .collect();
    assert_eq!(versions, ["1", "1", "1", "2"]);
}

#[test]
fn duplicate_stage_names_are_rejected() {
    let error = Chain::builder()
        .collect(Counter::new(1, 1))
        .clean(Fails)
        .clean(Fails)
        .build()
        .err()
        .expect("duplicate names");
    assert!(error.to_string().contains("\"fails\""));
}
