//! The nearest-station join and the time bucket as fusers in a chain run: rows kept, invalid
//! points reported, audit records written.

use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit, TimestampMillisecondType};
use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, Chain, Collector, GovernedBatch, IssueKind, Provenance, Result, RowIdAllocator,
    Stage, StageContext,
};
use governance_fuse::spatial::{NearestStationConfig, NearestStationJoin};
use governance_fuse::temporal::{Interval, TimeBucket, TimeBucketConfig};

const MINUTE: i64 = 60_000;

fn stations() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("lat", DataType::Float64, false),
        Field::new("lon", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["Dongsi", "Guanyuan", "Tiantan"])),
            Arc::new(Float64Array::from(vec![39.929, 39.929, 39.886])),
            Arc::new(Float64Array::from(vec![116.417, 116.339, 116.407])),
        ],
    )
    .expect("stations")
}

/// Sensor reports with a time and a position, some of them unusable.
fn reports(times: Vec<i64>, lat: Vec<Option<f64>>, lon: Vec<Option<f64>>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "reported_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())),
            false,
        ),
        Field::new("lat", DataType::Float64, true),
        Field::new("lon", DataType::Float64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampMillisecondArray::from(times).with_timezone("+08:00")),
            Arc::new(Float64Array::from(lat)),
            Arc::new(Float64Array::from(lon)),
        ],
    )
    .expect("reports")
}

struct Reports {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
}

impl Stage for Reports {
    fn name(&self) -> &str {
        "reports"
    }
}

impl Collector for Reports {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let Some(data) = self.batches.get(self.next).cloned() else {
            return Ok(None);
        };
        self.next += 1;
        ctx.record_read(data.num_rows() as u64);
        let ids = self.ids.allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("reports")).map(Some)
    }
}

/// Keeps a copy of every delivered batch.
struct Capture(Arc<Mutex<Vec<GovernedBatch>>>);

impl Stage for Capture {
    fn name(&self) -> &str {
        "capture"
    }
}

impl Applicator for Capture {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.0.lock().expect("capture lock").push(batch.clone());
        Ok(())
    }
}

#[test]
fn chain_keeps_rows_and_reports_invalid_points() {
    let collector = Reports {
        batches: vec![
            reports(
                vec![0, 7 * MINUTE, 16 * MINUTE],
                vec![Some(39.930), Some(39.885), None],
                vec![Some(116.340), Some(116.408), Some(116.4)],
            ),
            reports(
                vec![31 * MINUTE, 44 * MINUTE],
                vec![Some(41.0), Some(f64::NAN)],
                vec![Some(116.4), Some(116.4)],
            ),
        ],
        next: 0,
        ids: RowIdAllocator::default(),
    };
    let mut config = NearestStationConfig::new("stations", "lat", "lon", "code", 1_500.0);
    config.id_output = "station".into();
    let join = NearestStationJoin::new(config, vec![stations()]).expect("join");
    let bucket = TimeBucket::new(TimeBucketConfig::new("reported_at", Interval::minutes(15)))
        .expect("bucket");
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut chain = Chain::builder()
        .collect(collector)
        .fuse(join)
        .fuse(bucket)
        .apply(Capture(Arc::clone(&delivered)))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");

    for stage in &summary.stages[1..3] {
        assert_eq!(stage.rows_in, 5, "{}", stage.name);
        assert_eq!(stage.rows_out, 5, "{}", stage.name);
        assert_eq!(stage.rows_quarantined, 0, "{}", stage.name);
    }
    assert!(summary.audit_verified);

    let delivered = delivered.lock().expect("capture lock");
    let all = GovernedBatch::concat(&delivered)
        .expect("concat")
        .expect("batches");
    let stations: Vec<Option<&str>> = all
        .column("station")
        .expect("station")
        .as_string::<i32>()
        .iter()
        .collect();
    assert_eq!(
        stations,
        vec![Some("Guanyuan"), Some("Tiantan"), None, None, None]
    );
    let buckets = all
        .column("reported_at_bucket")
        .expect("bucket")
        .as_primitive::<TimestampMillisecondType>();
    assert_eq!(
        buckets.values().to_vec(),
        vec![0, 0, 15 * MINUTE, 30 * MINUTE, 30 * MINUTE]
    );
    let kinds: Vec<IssueKind> = all.issues.issues().iter().map(|issue| issue.kind).collect();
    assert_eq!(kinds, vec![IssueKind::Missing, IssueKind::Format]);

    let log = chain.audit().lock().expect("audit lock");
    let by_join: Vec<_> = log
        .records()
        .iter()
        .filter(|record| record.actor == "nearest_station")
        .collect();
    assert_eq!(
        by_join.len(),
        3,
        "one read of the stations and one change per batch"
    );
    assert_eq!(by_join[0].action, AuditAction::Read);
    assert!(
        by_join[0].detail.contains("indexed=3"),
        "{}",
        by_join[0].detail
    );
    assert!(
        by_join[2]
            .detail
            .contains("rows=2 matched=0 beyond_radius=1 invalid=1"),
        "{}",
        by_join[2].detail
    );
    let by_bucket = log
        .records()
        .iter()
        .filter(|record| record.actor == "time_bucket")
        .count();
    assert_eq!(by_bucket, 2, "one change per batch");
}
