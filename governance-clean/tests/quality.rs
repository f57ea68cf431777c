//! The quality gate in a chain after a rules stage: rows that broke a rule fall below the
//! minimum tier and go to quarantine, and every stage keeps its row count.

use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use governance_clean::quality::{QualityConfig, QualityGate, Tier};
use governance_clean::{Rules, RulesConfig};
use governance_core::{
    Applicator, Chain, Collector, GovernedBatch, Provenance, Result, RowIdAllocator, Stage,
    StageContext,
};

/// Emits prepared record batches, giving every row a fresh id.
struct BatchCollector {
    batches: Vec<RecordBatch>,
    next: usize,
    ids: RowIdAllocator,
}

impl Stage for BatchCollector {
    fn name(&self) -> &str {
        "batches"
    }
}

impl Collector for BatchCollector {
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
        GovernedBatch::try_new(data, ids, Provenance::new("test")).map(Some)
    }
}

/// Keeps every batch that reaches the end of the chain.
struct Keep(Arc<Mutex<Vec<GovernedBatch>>>);

impl Stage for Keep {
    fn name(&self) -> &str {
        "keep"
    }
}

impl Applicator for Keep {
    fn apply(&mut self, batch: &GovernedBatch, _: &mut StageContext) -> Result<()> {
        self.0.lock().expect("kept batches").push(batch.clone());
        Ok(())
    }
}

fn readings(values: Vec<Option<f64>>) -> RecordBatch {
    let stations: Vec<&str> = values.iter().map(|_| "Dongsi").collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("value", DataType::Float64, true),
        Field::new("station", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(values)),
        Arc::new(StringArray::from(stations)),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

#[test]
fn rule_breaking_rows_are_quarantined() {
    // Row 1 is above the range (usability 0.5625, bronze); row 2 is null (0.8125, silver).
    let batches = vec![
        readings(vec![Some(10.0), Some(500.0), None]),
        readings(vec![Some(20.0), Some(-1.0)]),
    ];
    let rules: RulesConfig = serde_json::from_value(serde_json::json!({"rules": [
        {"column": "value", "check": {"range": {"min": 0, "max": 100}}},
    ]}))
    .expect("rules");
    let gate = QualityGate::new(QualityConfig {
        min_tier: Tier::Silver,
        ..QualityConfig::default()
    })
    .expect("gate");
    let kept = Arc::new(Mutex::new(Vec::new()));
    let mut chain = Chain::builder()
        .collect(BatchCollector {
            batches,
            next: 0,
            ids: RowIdAllocator::default(),
        })
        .clean(Rules::new(rules).expect("rules stage"))
        .clean(gate)
        .apply(Keep(kept.clone()))
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");

    for stage in &summary.stages {
        assert_eq!(
            stage.rows_in,
            stage.rows_out + stage.rows_quarantined + stage.rows_merged,
            "row count of stage {}",
            stage.name
        );
    }
    let gate_report = summary
        .stages
        .iter()
        .find(|stage| stage.name == "quality")
        .expect("quality stage");
    assert_eq!(gate_report.rows_in, 5);
    assert_eq!(gate_report.rows_quarantined, 2);
    assert_eq!(summary.rows_delivered, 3);

    let quarantined: Vec<Option<u64>> = summary.quarantine.iter().map(|row| row.row_id).collect();
    assert_eq!(quarantined, vec![Some(1), Some(4)]);
    assert!(
        summary.quarantine[0]
            .reason
            .contains("quality tier bronze is below the minimum tier silver: usability=0.56"),
        "{}",
        summary.quarantine[0].reason
    );

    let batches = std::mem::take(&mut *kept.lock().expect("kept"));
    let output = GovernedBatch::concat(&batches)
        .expect("concat")
        .expect("output");
    let tiers = output
        .column("quality_tier")
        .expect("tier column")
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("Utf8")
        .iter()
        .map(|tier| tier.map(str::to_string))
        .collect::<Vec<_>>();
    assert_eq!(
        tiers,
        vec![
            Some("gold".to_string()),
            Some("silver".to_string()),
            Some("gold".to_string())
        ]
    );
}
