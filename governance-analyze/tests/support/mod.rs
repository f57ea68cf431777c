//! The tables that the question-answering tests ask about, shared with the workspace's HTTP
//! test of the same guard.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

/// `readings` (4 rows), `residents` (with an `email` column the policy hides) and `permits`
/// (not in the policy).
pub fn city_context() -> SessionContext {
    let context = SessionContext::new();
    let readings = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("PM2.5", DataType::Float64, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec![
                "Dongsi", "Dongsi", "Tiantan", "Guanyuan",
            ])),
            Arc::new(Float64Array::from(vec![80.0, 60.0, 35.0, 50.0])),
        ],
    )
    .expect("readings batch");
    let residents = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("email", DataType::Utf8, false),
            Field::new("district", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["Li Wei", "Wang Fang"])),
            Arc::new(StringArray::from(vec![
                "li@example.invalid",
                "wang@example.invalid",
            ])),
            Arc::new(StringArray::from(vec!["Dongcheng", "Chaoyang"])),
        ],
    )
    .expect("residents batch");
    let permits = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("permit_id", DataType::Int64, false),
            Field::new("holder", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec!["Li Wei", "Zhang San"])),
        ],
    )
    .expect("permits batch");
    context
        .register_batch("readings", readings)
        .expect("register");
    context
        .register_batch("residents", residents)
        .expect("register");
    context
        .register_batch("permits", permits)
        .expect("register");
    context
}

/// Returns the row count of `table` in the source context, read directly.
pub async fn row_count(context: &SessionContext, table: &str) -> i64 {
    let batches = context
        .sql(&format!("SELECT COUNT(*) FROM {table}"))
        .await
        .expect("count plans")
        .collect()
        .await
        .expect("count runs");
    batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("count is Int64")
        .value(0)
}
