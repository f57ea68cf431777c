//! Analyzers in a chain: findings reach the run summary and rows pass unchanged.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance_analyze::{SqlIndicators, ThresholdAlerts, ThresholdAlertsConfig, ThresholdRule};
use governance_core::{
    Chain, Collector, FindingKind, GovernedBatch, Provenance, Result, RowIdAllocator, Severity,
    Stage, StageContext,
};

const MARCH_1: i64 = 1_362_096_000_000;
const HOUR: i64 = 3_600_000;

/// Emits two days of hourly readings of one station in batches of 12 rows: day 1 at 90
/// (over the daily limit), day 2 at 30 with one hour at 300.
struct TwoDays {
    batch: usize,
    ids: RowIdAllocator,
}

impl Stage for TwoDays {
    fn name(&self) -> &str {
        "two_days"
    }
}

impl Collector for TwoDays {
    fn start(&mut self, _: &mut StageContext) -> Result<()> {
        self.batch = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        if self.batch == 4 {
            return Ok(None);
        }
        let first_hour = self.batch as i64 * 12;
        self.batch += 1;
        let hours: Vec<i64> = (first_hour..first_hour + 12).collect();
        let values: Vec<f64> = hours
            .iter()
            .map(|&hour| match hour {
                0..24 => 90.0,
                30 => 300.0,
                _ => 30.0,
            })
            .collect();
        let schema = Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ),
            Field::new("PM2.5", DataType::Float64, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["Tiantan"; 12])),
            Arc::new(TimestampMillisecondArray::from_iter_values(
                hours.iter().map(|hour| MARCH_1 + hour * HOUR),
            )),
            Arc::new(Float64Array::from(values)),
        ];
        let data = RecordBatch::try_new(Arc::new(schema), columns)?;
        ctx.record_read(12);
        let ids = self.ids.allocate(12);
        GovernedBatch::try_new(data, ids, Provenance::new("two_days")).map(Some)
    }
}

#[test]
fn findings_reach_run_summary() {
    let rule = ThresholdRule {
        name: "pm25_hourly_extreme".into(),
        column: "PM2.5".into(),
        above: Some(250.0),
        below: None,
        severity: Severity::Error,
    };
    let thresholds = ThresholdAlerts::new(ThresholdAlertsConfig {
        subject_column: Some("station".into()),
        ..ThresholdAlertsConfig::new(vec![rule])
    })
    .expect("valid");
    let mut chain = Chain::builder()
        .collect(TwoDays {
            batch: 0,
            ids: RowIdAllocator::default(),
        })
        .analyze(SqlIndicators::air_quality())
        .analyze(thresholds)
        .build()
        .expect("chain");
    let summary = chain.run_blocking().expect("run");

    assert_eq!(summary.rows_delivered, 48);
    for stage in &summary.stages[1..] {
        assert_eq!(
            (stage.rows_in, stage.rows_out),
            (48, 48),
            "analyzer {} changed the rows",
            stage.name
        );
    }
    let means: Vec<(Option<&str>, Option<f64>)> = summary
        .findings
        .iter()
        .filter(|finding| {
            finding.name == "pm25_daily_mean" && finding.kind == FindingKind::Indicator
        })
        .map(|finding| (finding.time.as_deref(), finding.value))
        .collect();
    let day_two_mean = (23.0 * 30.0 + 300.0) / 24.0;
    assert_eq!(
        means,
        [
            (Some("2013-03-01"), Some(90.0)),
            (Some("2013-03-02"), Some(day_two_mean))
        ]
    );

    let daily_alerts = summary
        .findings
        .iter()
        .filter(|finding| finding.name == "pm25_daily_mean" && finding.kind == FindingKind::Alert)
        .count();
    assert_eq!(daily_alerts, 1);
    let days_over = summary
        .findings
        .iter()
        .find(|finding| finding.name == "pm25_days_over_limit")
        .expect("days over");
    assert_eq!(days_over.value, Some(1.0));
    assert_eq!(days_over.subject.as_deref(), Some("Tiantan"));

    let extreme: Vec<_> = summary
        .findings
        .iter()
        .filter(|finding| finding.name == "pm25_hourly_extreme")
        .collect();
    assert_eq!(extreme.len(), 1);
    assert_eq!(extreme[0].row_ids, [30]);
    assert_eq!(extreme[0].analyzer, "threshold_alerts");
    assert!(summary.audit_verified);
}
