//! DataFusion glue: registration of governed batches as a table, and the time-bucket
//! aggregation of [`resample`](crate::temporal::resample) expressed as a DataFusion query.
//!
//! This is the only module of the crate that uses DataFusion. The kernels in
//! [`temporal`](crate::temporal) and [`spatial`](crate::spatial) are plain Arrow code, so that
//! a cluster engine can later wrap them as user-defined functions.
//!
//! Units follow [`ResampleConfig`]: the interval and origin become a `date_bin` stride and
//! origin in milliseconds.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use governance_core::{Error, GovernedBatch, Result};

use crate::temporal::bucket::{TIME_TYPES, millis_to_ticks};
use crate::temporal::{Aggregate, FillPolicy, ResampleConfig};

/// Registers `batches` as an in-memory table `table` in `ctx`, with the row ids as the first
/// column [`ROW_ID_COLUMN`](governance_core::ROW_ID_COLUMN) and the schema's field and
/// table metadata kept.
///
/// Fails when `batches` is empty (there is no schema), when the batches differ in schema, or
/// when `ctx` already has a table of that name.
pub fn register_governed(
    ctx: &SessionContext,
    table: &str,
    batches: &[GovernedBatch],
) -> Result<()> {
    let Some(first) = batches.first() else {
        return Err(Error::InvalidInput(format!(
            "no batches to register as table {table:?}: pass at least one batch (an empty batch \
             is enough to carry the schema)"
        )));
    };
    let with_ids = batches
        .iter()
        .map(GovernedBatch::with_row_id_column)
        .collect::<Result<Vec<_>>>()?;
    let schema = first.with_row_id_column()?.schema();
    for (number, batch) in with_ids.iter().enumerate() {
        if batch.schema() != schema {
            return Err(Error::InvalidInput(format!(
                "batch {number} registered as table {table:?} has schema {} but the first batch \
                 has {}: cast the batches to one schema",
                batch.schema(),
                schema
            )));
        }
    }
    let memory =
        MemTable::try_new(schema, vec![with_ids]).map_err(|error| engine_error(table, error))?;
    ctx.register_table(table, Arc::new(memory))
        .map_err(|error| engine_error(table, error))?;
    Ok(())
}

fn engine_error(table: &str, error: datafusion::error::DataFusionError) -> Error {
    Error::InvalidInput(format!("DataFusion rejected table {table:?}: {error}"))
}

/// Quotes an SQL identifier, doubling any quote inside it.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Builds the SQL of the time-bucket aggregation of `config` over `table`: one row per key and
/// non-empty bucket, ordered by key and bucket.
///
/// The columns are those of [`resample`](crate::temporal::resample): the key, the time (the
/// bucket start, by `date_bin`), the row count and one column per aggregation, with the same
/// names and types. Rows with a null time are left out, as `resample` leaves them out of every
/// bucket. `time_type` is the type of the time column in the table.
///
/// Fails when the config requests a fill policy, because an SQL `GROUP BY` yields no row for
/// an empty bucket, and when `time_type` is not a timestamp.
pub fn bucket_aggregate_sql(
    table: &str,
    config: &ResampleConfig,
    time_type: &DataType,
) -> Result<String> {
    let DataType::Timestamp(unit, _) = time_type else {
        return Err(Error::InvalidInput(format!(
            "time column {:?} of table {table:?} has type {time_type}; expected {TIME_TYPES}: \
             parse or cast the column to a timestamp first",
            config.time
        )));
    };
    if config.fill != FillPolicy::Null {
        return Err(Error::InvalidInput(format!(
            "fill policy {:?} needs the full bucket grid, which a GROUP BY does not produce: use \
             temporal::resample, or the null fill policy here",
            config.fill
        )));
    }
    let stride_ms = config.interval.millis()?;
    let time = quote(&config.time);
    // The origin is given as raw ticks of the column's type: casting an integer to a zoned
    // timestamp keeps the UTC instant, while casting a naive timestamp would shift it.
    let origin_ticks = millis_to_ticks(config.origin_ms, *unit, "the origin")?;
    let type_name = time_type.to_string().replace('\'', "''");
    // `date_bin` returns nanoseconds whatever the input unit, so its result is cast back.
    let bucket = format!(
        "arrow_cast(date_bin(INTERVAL '{stride_ms} milliseconds', {time}, \
         arrow_cast(CAST({origin_ticks} AS BIGINT), '{type_name}')), '{type_name}')"
    );
    let mut select = Vec::new();
    let mut group = Vec::new();
    if let Some(key) = &config.key {
        select.push(format!("{key} AS {key}", key = quote(key)));
        group.push(quote(key));
    }
    select.push(format!("{bucket} AS {time}"));
    group.push(bucket.clone());
    select.push(format!(
        "arrow_cast(count(*), 'UInt64') AS {}",
        quote(&config.count_column)
    ));
    for aggregate in &config.columns {
        let value = format!("CAST({} AS DOUBLE)", quote(&aggregate.column));
        let expression = match aggregate.aggregate {
            Aggregate::Mean => format!("avg({value})"),
            Aggregate::Sum => format!("sum({value})"),
            Aggregate::Min => format!("min({value})"),
            Aggregate::Max => format!("max({value})"),
            Aggregate::Count => format!("arrow_cast(count({value}), 'UInt64')"),
            Aggregate::First => {
                format!("first_value({value} ORDER BY {time}) FILTER (WHERE {value} IS NOT NULL)")
            }
            Aggregate::Last => {
                format!("last_value({value} ORDER BY {time}) FILTER (WHERE {value} IS NOT NULL)")
            }
        };
        select.push(format!(
            "{expression} AS {}",
            quote(&aggregate.output_name())
        ));
    }
    let order: Vec<String> = (1..=group.len())
        .map(|position| position.to_string())
        .collect();
    Ok(format!(
        "SELECT {} FROM {} WHERE {time} IS NOT NULL GROUP BY {} ORDER BY {}",
        select.join(", "),
        quote(table),
        group.join(", "),
        order.join(", ")
    ))
}

/// Plans the time-bucket aggregation of [`bucket_aggregate_sql`] on `ctx`; collect the
/// returned frame to run it.
pub async fn bucket_aggregate(
    ctx: &SessionContext,
    table: &str,
    config: &ResampleConfig,
) -> Result<DataFrame> {
    let frame = ctx
        .table(table)
        .await
        .map_err(|error| engine_error(table, error))?;
    let time_type = frame
        .schema()
        .field_with_unqualified_name(&config.time)
        .map_err(|_| {
            Error::InvalidInput(format!(
                "time column {:?} not found in table {table:?}; columns are: {}",
                config.time,
                frame.schema().field_names().join(", ")
            ))
        })?
        .data_type()
        .clone();
    let sql = bucket_aggregate_sql(table, config, &time_type)?;
    ctx.sql(&sql).await.map_err(|error| {
        Error::InvalidInput(format!(
            "time-bucket aggregation over table {table:?} failed to plan: {error}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use arrow::array::{
        Array, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray,
        TimestampMillisecondArray,
    };
    use arrow::compute::{concat_batches, filter_record_batch};
    use arrow::datatypes::{
        Field, Float64Type, Schema, TimeUnit, TimestampMillisecondType, UInt64Type,
    };
    use governance_core::{Provenance, ROW_ID_COLUMN, RowIdAllocator};

    use crate::temporal::{Interval, resample};

    const MINUTE: i64 = 60_000;

    /// Two stations, readings at irregular minutes over three hours, some values and one
    /// time null, times not in order.
    fn readings(zone: Option<&str>) -> RecordBatch {
        let mut metadata = HashMap::new();
        metadata.insert("unit".to_string(), "ug/m3".to_string());
        let time_type = DataType::Timestamp(TimeUnit::Millisecond, zone.map(Into::into));
        let schema = Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("t", time_type, true),
            Field::new("PM2.5", DataType::Float64, true).with_metadata(metadata),
        ]));
        let mut stations = Vec::new();
        let mut times = Vec::new();
        let mut values = Vec::new();
        for step in 0..40_i64 {
            stations.push(if step % 3 == 0 { "Dongsi" } else { "Tiantan" });
            // A scrambled but tie-free order of minutes.
            times.push(if step == 17 {
                None
            } else {
                Some((step * 37 % 40) * 4 * MINUTE + step)
            });
            values.push(if step % 7 == 0 {
                None
            } else {
                Some((step * 13 % 29) as f64)
            });
        }
        let times = TimestampMillisecondArray::from(times)
            .with_timezone_opt(zone.map(Into::<Arc<str>>::into));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(stations)),
                Arc::new(times),
                Arc::new(Float64Array::from(values)),
            ],
        )
        .expect("batch")
    }

    fn governed(data: RecordBatch) -> GovernedBatch {
        let ids = RowIdAllocator::starting_at(1000).allocate(data.num_rows());
        GovernedBatch::try_new(data, ids, Provenance::new("readings")).expect("governed")
    }

    fn sort_by_key_and_time(batch: &RecordBatch) -> Vec<(String, i64, usize)> {
        let keys = batch.column(0).as_string::<i32>();
        let times = batch.column(1).as_primitive::<TimestampMillisecondType>();
        let mut order: Vec<(String, i64, usize)> = (0..batch.num_rows())
            .map(|row| (keys.value(row).to_string(), times.value(row), row))
            .collect();
        order.sort();
        order
    }

    async fn compare_with_kernel(zone: Option<&str>, origin_ms: i64) {
        let batch = readings(zone);
        let mut config = ResampleConfig::new("t", Interval::minutes(30)).with_key("station");
        config.origin_ms = origin_ms;
        for aggregate in [
            Aggregate::Mean,
            Aggregate::Sum,
            Aggregate::Min,
            Aggregate::Max,
            Aggregate::Count,
            Aggregate::First,
            Aggregate::Last,
        ] {
            config = config.aggregate("PM2.5", aggregate);
        }

        let kernel = resample(&batch, &config).expect("resample").data;
        let rows = kernel.column(2).as_primitive::<UInt64Type>();
        let non_empty: BooleanArray = rows
            .iter()
            .map(|count| count.map(|count| count > 0))
            .collect();
        let kernel = filter_record_batch(&kernel, &non_empty).expect("filter");

        let ctx = SessionContext::new();
        register_governed(&ctx, "readings", &[governed(batch)]).expect("register");
        let frame = bucket_aggregate(&ctx, "readings", &config)
            .await
            .expect("plan");
        let collected = frame.collect().await.expect("run");
        let engine = concat_batches(&collected[0].schema(), &collected).expect("concat");

        assert_eq!(engine.num_rows(), kernel.num_rows());
        assert_eq!(
            engine.schema().field(1).data_type(),
            kernel.schema().field(1).data_type()
        );
        let kernel_order = sort_by_key_and_time(&kernel);
        let engine_order = sort_by_key_and_time(&engine);
        for ((key, time, kernel_row), (engine_key, engine_time, engine_row)) in
            kernel_order.iter().zip(&engine_order)
        {
            assert_eq!((key, time), (engine_key, engine_time));
            for column in 2..kernel.num_columns() {
                let name = kernel.schema().field(column).name().clone();
                let engine_column = engine.column_by_name(&name).expect("engine column");
                match kernel.column(column).data_type() {
                    DataType::UInt64 => assert_eq!(
                        kernel
                            .column(column)
                            .as_primitive::<UInt64Type>()
                            .value(*kernel_row),
                        engine_column
                            .as_primitive::<UInt64Type>()
                            .value(*engine_row),
                        "{name} at {key} {time}"
                    ),
                    _ => {
                        let expected = kernel.column(column).as_primitive::<Float64Type>();
                        let actual = engine_column.as_primitive::<Float64Type>();
                        assert_eq!(
                            expected.is_null(*kernel_row),
                            actual.is_null(*engine_row),
                            "{name} at {key} {time}"
                        );
                        if expected.is_valid(*kernel_row) {
                            let (expected, actual) =
                                (expected.value(*kernel_row), actual.value(*engine_row));
                            assert!(
                                (expected - actual).abs() < 1e-9,
                                "{name}: {expected} vs {actual}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn sql_buckets_match_kernel() {
        compare_with_kernel(None, 0).await;
    }

    #[tokio::test]
    async fn sql_buckets_match_kernel_with_zone_and_origin() {
        compare_with_kernel(Some("+08:00"), 10 * MINUTE).await;
    }

    #[tokio::test]
    async fn registered_table_keeps_ids_and_metadata() {
        let ctx = SessionContext::new();
        register_governed(&ctx, "readings", &[governed(readings(None))]).expect("register");
        let frame = ctx
            .sql("SELECT \"__row_id\", \"PM2.5\" FROM readings ORDER BY 1")
            .await
            .expect("plan");
        let batches = frame.collect().await.expect("run");
        let schema = batches[0].schema();
        assert_eq!(schema.field(0).name(), ROW_ID_COLUMN);
        assert_eq!(
            schema.field(1).metadata().get("unit").map(String::as_str),
            Some("ug/m3")
        );
        let ids = batches[0].column(0).as_primitive::<UInt64Type>();
        assert_eq!(ids.value(0), 1000);
    }

    #[test]
    fn empty_registration_is_rejected() {
        let ctx = SessionContext::new();
        let error = register_governed(&ctx, "readings", &[]).expect_err("no batches");
        assert!(error.to_string().contains("\"readings\""), "{error}");
    }

    #[test]
    fn mixed_schemas_are_rejected() {
        let ctx = SessionContext::new();
        let other = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        )
        .expect("batch");
        let error = register_governed(
            &ctx,
            "readings",
            &[governed(readings(None)), governed(other)],
        )
        .expect_err("schemas differ");
        assert!(error.to_string().contains("batch 1"), "{error}");
    }

    fn millisecond_type() -> DataType {
        DataType::Timestamp(TimeUnit::Millisecond, None)
    }

    #[test]
    fn text_time_is_rejected_in_sql() {
        let config = ResampleConfig::new("t", Interval::hours(1));
        let error = bucket_aggregate_sql("readings", &config, &DataType::Utf8).expect_err("text");
        let message = error.to_string();
        assert!(message.contains("\"t\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
    }

    #[test]
    fn fill_policy_is_rejected_in_sql() {
        let config = ResampleConfig::new("t", Interval::hours(1))
            .with_fill(FillPolicy::ForwardFill { limit: None });
        let error =
            bucket_aggregate_sql("readings", &config, &millisecond_type()).expect_err("fill");
        assert!(error.to_string().contains("resample"), "{error}");
    }

    #[test]
    fn identifiers_are_quoted() {
        let config = ResampleConfig::new("t", Interval::hours(1)).aggregate("a\"b", Aggregate::Sum);
        let sql = bucket_aggregate_sql("my table", &config, &millisecond_type()).expect("sql");
        assert!(sql.contains("\"a\"\"b\""), "{sql}");
        assert!(sql.contains("FROM \"my table\""), "{sql}");
    }
}
