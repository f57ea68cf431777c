//! A chain whose sinks do not checkpoint releases its source once per round: after every
//! applicator finished, with the position of the last emitted batch, and never after a
//! failure or without applicators.

use std::sync::{Arc, Mutex};

use arrow::array::{Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::{
    Applicator, Chain, Cleaner, Collector, Error, GovernedBatch, Provenance, Result,
    RowIdAllocator, RunSummary, SourcePosition, Stage, StageContext,
};

/// What the collector saw: each released offset, and whether the sink had finished by then.
#[derive(Clone, Default)]
struct Released(Arc<Mutex<Vec<(u64, bool)>>>);

impl Released {
    fn take(&self) -> Vec<(u64, bool)> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// Emits `batches` batches of 5 rows. Each batch carries its end offset as its position.
struct Offsets {
    batches: u64,
    emitted: u64,
    ids: RowIdAllocator,
    released: Released,
    sink_finished: Arc<Mutex<bool>>,
    fail_release: bool,
}

impl Offsets {
    fn new(batches: u64, released: &Released, sink_finished: &Arc<Mutex<bool>>) -> Self {
        Offsets {
            batches,
            emitted: 0,
            ids: RowIdAllocator::default(),
            released: released.clone(),
            sink_finished: Arc::clone(sink_finished),
            fail_release: false,
        }
    }
}

impl Stage for Offsets {
    fn name(&self) -> &str {
        "offsets"
    }
}

impl Collector for Offsets {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.emitted = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.emitted == self.batches {
            return Ok(None);
        }
        self.emitted += 1;
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Float64, true)]));
        let values = Float64Array::from(vec![self.emitted as f64; 5]);
        let data = RecordBatch::try_new(schema, vec![Arc::new(values)])?;
        ctx.record_read(5);
        let mut provenance = Provenance::new("offsets");
        provenance.position = Some(SourcePosition::new(
            "offsets",
            serde_json::json!({"end": self.emitted * 5}),
        ));
        GovernedBatch::try_new(data, self.ids.allocate(5), provenance).map(Some)
    }

    fn committed(&mut self, position: &SourcePosition) -> Result<()> {
        if self.fail_release {
            return Err(Error::InvalidInput("broker connection lost".into()));
        }
        let end = position.state["end"].as_u64().unwrap_or(u64::MAX);
        let finished = *self.sink_finished.lock().expect("lock");
        self.released.0.lock().expect("lock").push((end, finished));
        Ok(())
    }
}

/// A plain sink that records when it finished.
struct FinishFlag(Arc<Mutex<bool>>);

impl Stage for FinishFlag {
    fn name(&self) -> &str {
        "flag_sink"
    }
}

impl Applicator for FinishFlag {
    fn apply(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self, _: &RunSummary, _: &mut StageContext) -> Result<()> {
        *self.0.lock().expect("lock") = true;
        Ok(())
    }
}

struct FailsOnThird {
    seen: u32,
}

impl Stage for FailsOnThird {
    fn name(&self) -> &str {
        "fails_on_third"
    }
}

impl Cleaner for FailsOnThird {
    fn clean(&mut self, batch: GovernedBatch, _: &mut StageContext) -> Result<GovernedBatch> {
        self.seen += 1;
        if self.seen == 3 {
            return Err(Error::stage(
                "fails_on_third",
                std::io::Error::other("disk full"),
            ));
        }
        Ok(batch)
    }
}

#[test]
fn plain_sink_releases_last_position_after_finish() {
    let released = Released::default();
    let finished = Arc::new(Mutex::new(false));
    let mut chain = Chain::builder()
        .collect(Offsets::new(4, &released, &finished))
        .apply(FinishFlag(Arc::clone(&finished)))
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");
    assert_eq!(released.take(), vec![(20, true)]);

    *finished.lock().expect("lock") = false;
    chain.run_blocking().expect("round 2");
    assert_eq!(
        released.take(),
        vec![(20, true)],
        "each round releases once"
    );
}

#[test]
fn failed_round_releases_nothing() {
    let released = Released::default();
    let finished = Arc::new(Mutex::new(false));
    let mut chain = Chain::builder()
        .collect(Offsets::new(5, &released, &finished))
        .clean(FailsOnThird { seen: 0 })
        .apply(FinishFlag(Arc::clone(&finished)))
        .build()
        .expect("chain");
    chain.run_blocking().expect_err("third batch fails");
    assert!(released.take().is_empty());
}

#[test]
fn chain_without_sinks_releases_nothing() {
    let released = Released::default();
    let finished = Arc::new(Mutex::new(false));
    let mut chain = Chain::builder()
        .collect(Offsets::new(3, &released, &finished))
        .build()
        .expect("chain");
    chain.run_blocking().expect("round");
    assert!(
        released.take().is_empty(),
        "records that went nowhere stay with the source"
    );
}

#[test]
fn failed_release_is_reported() {
    let released = Released::default();
    let finished = Arc::new(Mutex::new(false));
    let mut collector = Offsets::new(2, &released, &finished);
    collector.fail_release = true;
    let mut chain = Chain::builder()
        .collect(collector)
        .apply(FinishFlag(Arc::clone(&finished)))
        .build()
        .expect("chain");
    let error = chain.run_blocking().expect_err("release fails");
    assert!(
        error.to_string().contains("broker connection lost"),
        "{error}"
    );
    assert!(*finished.lock().expect("lock"), "the output was finished");
    chain
        .run_blocking()
        .expect_err("the chain keeps its collector");
}
