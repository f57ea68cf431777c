//! Guarded question answering with a scripted chat model: good queries, the generated SQL
//! that must be rejected, row and time limits.

mod support;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use governance_analyze::question::{QueryPolicy, QuestionAnswerer, QuestionConfig, QuestionError};
use governance_core::chat::{ChatFuture, ChatMessage, ChatModel};
use support::{city_context, row_count};

/// Every test finishes within this time or fails.
const TEST_LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, future)
        .await
        .expect("test ran past its time limit")
}

/// A chat model that returns one canned reply and records the prompt it got.
struct CannedModel {
    reply: String,
    prompts: Mutex<Vec<Vec<ChatMessage>>>,
}

impl CannedModel {
    fn new(reply: &str) -> Arc<CannedModel> {
        Arc::new(CannedModel {
            reply: reply.to_string(),
            prompts: Mutex::new(Vec::new()),
        })
    }
}

impl ChatModel for CannedModel {
    fn complete<'a>(&'a self, messages: &'a [ChatMessage]) -> ChatFuture<'a> {
        self.prompts.lock().expect("lock").push(messages.to_vec());
        Box::pin(async move { Ok(self.reply.clone()) })
    }

    fn describe(&self) -> String {
        "canned model".to_string()
    }
}

fn policy() -> QueryPolicy {
    QueryPolicy::new()
        .allow_all("readings")
        .allow("residents", ["name", "district"])
}

fn answerer(
    context: &SessionContext,
    model: Arc<CannedModel>,
    config: QuestionConfig,
) -> QuestionAnswerer {
    QuestionAnswerer::new(context.clone(), policy(), model, config)
}

/// Asks with a canned reply that must be rejected, and checks that nothing ran.
async fn rejected(reply: &str) -> QuestionError {
    let context = city_context();
    let model = CannedModel::new(reply);
    let error = answerer(&context, model, QuestionConfig::default())
        .ask("anything")
        .await
        .expect_err("must be rejected");
    assert_eq!(row_count(&context, "readings").await, 4, "readings changed");
    assert_eq!(
        row_count(&context, "residents").await,
        2,
        "residents changed"
    );
    assert_eq!(row_count(&context, "permits").await, 2, "permits changed");
    error
}

fn strings(batch: &RecordBatch, column: usize) -> Vec<String> {
    let array = batch
        .column(column)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("string column");
    (0..array.len())
        .map(|row| array.value(row).to_string())
        .collect()
}

#[tokio::test]
async fn good_query_answers() {
    bounded(async {
        let context = city_context();
        let model = CannedModel::new(
            "SELECT station, AVG(\"PM2.5\") AS mean_pm25 FROM readings GROUP BY station ORDER BY station",
        );
        let answer = answerer(&context, Arc::clone(&model), QuestionConfig::default())
            .ask("What is the mean PM2.5 of each station?")
            .await
            .expect("answered");

        assert_eq!(
            answer.sql,
            "SELECT station, AVG(\"PM2.5\") AS mean_pm25 FROM readings GROUP BY station ORDER BY station LIMIT 1000"
        );
        assert!(answer.limit_capped);
        assert_eq!(answer.rows(), 3);
        let batch = &answer.batches[0];
        assert_eq!(strings(batch, 0), ["Dongsi", "Guanyuan", "Tiantan"]);
        let means = batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("Float64 means");
        assert_eq!(means.values().to_vec(), [70.0, 50.0, 35.0]);
    })
    .await;
}

#[tokio::test]
async fn prompt_shows_only_allowed_schema() {
    bounded(async {
        let context = city_context();
        let model = CannedModel::new("SELECT name FROM residents");
        answerer(&context, Arc::clone(&model), QuestionConfig::default())
            .ask("Who lives where?")
            .await
            .expect("answered");

        let prompts = model.prompts.lock().expect("lock");
        let system = &prompts[0][0].content;
        assert!(
            system.contains("residents(name Utf8, district Utf8)"),
            "{system}"
        );
        assert!(
            system.contains("readings(station Utf8, \"PM2.5\" Float64)"),
            "{system}"
        );
        assert!(!system.contains("email"), "{system}");
        assert!(!system.contains("permits"), "{system}");
        assert_eq!(prompts[0][1].content, "Who lives where?");
    })
    .await;
}

#[tokio::test]
async fn fenced_sql_in_prose() {
    bounded(async {
        let context = city_context();
        let reply = "Sure! To find the worst station, run:\n\n```sql\nSELECT station FROM readings\nORDER BY \"PM2.5\" DESC LIMIT 1;\n```\n\nThis returns one station.";
        let answer = answerer(&context, CannedModel::new(reply), QuestionConfig::default())
            .ask("Which station is worst?")
            .await
            .expect("answered");

        assert_eq!(answer.generated_sql, "SELECT station FROM readings\nORDER BY \"PM2.5\" DESC LIMIT 1;");
        assert_eq!(answer.sql, "SELECT station FROM readings ORDER BY \"PM2.5\" DESC LIMIT 1");
        assert!(!answer.limit_capped);
        assert_eq!(strings(&answer.batches[0], 0), ["Dongsi"]);
    })
    .await;
}

#[tokio::test]
async fn wildcard_expands_to_allowed_columns() {
    bounded(async {
        let context = city_context();
        let answer = answerer(
            &context,
            CannedModel::new("SELECT * FROM residents ORDER BY name"),
            QuestionConfig::default(),
        )
        .ask("Show the residents.")
        .await
        .expect("answered");

        let schema = answer.batches[0].schema();
        let names: Vec<&str> = schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        assert_eq!(names, ["name", "district"]);
        assert_eq!(answer.rows(), 2);
    })
    .await;
}

#[tokio::test]
async fn row_limit_caps_large_limit() {
    bounded(async {
        let context = city_context();
        let config = QuestionConfig {
            max_rows: 2,
            ..QuestionConfig::default()
        };
        let answer = answerer(
            &context,
            CannedModel::new("SELECT station FROM readings LIMIT 100"),
            config,
        )
        .ask("List stations.")
        .await
        .expect("answered");

        assert_eq!(answer.sql, "SELECT station FROM readings LIMIT 2");
        assert!(answer.limit_capped);
        assert_eq!(answer.rows(), 2);
    })
    .await;
}

#[tokio::test]
async fn cte_over_allowed_table() {
    bounded(async {
        let context = city_context();
        let reply = "WITH worst AS (SELECT station, MAX(\"PM2.5\") AS peak FROM readings GROUP BY station) \
                     SELECT station FROM worst WHERE peak > 45 ORDER BY station";
        let answer = answerer(&context, CannedModel::new(reply), QuestionConfig::default())
            .ask("Which stations peaked above 45?")
            .await
            .expect("answered");

        assert_eq!(strings(&answer.batches[0], 0), ["Dongsi", "Guanyuan"]);
    })
    .await;
}

#[tokio::test]
async fn drop_table_rejected() {
    bounded(async {
        let error = rejected("DROP TABLE readings").await;
        assert!(
            matches!(&error, QuestionError::NotReadOnly { kind } if kind == "DROP TABLE"),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("only SELECT and WITH run"),
            "{error}"
        );
    })
    .await;
}

#[tokio::test]
async fn insert_rejected() {
    bounded(async {
        let error = rejected("INSERT INTO readings VALUES ('Fake', 1.0)").await;
        assert!(
            matches!(&error, QuestionError::NotReadOnly { kind } if kind == "INSERT"),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn other_statements_rejected() {
    bounded(async {
        let cases = [
            ("DELETE FROM readings", "DELETE"),
            ("UPDATE readings SET station = 'x'", "UPDATE"),
            (
                "CREATE TABLE copy AS SELECT * FROM readings",
                "CREATE TABLE",
            ),
            ("COPY readings TO '/tmp/out.csv'", "COPY"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
            ("EXPLAIN ANALYZE SELECT * FROM readings", "EXPLAIN"),
            (
                "SELECT * INTO stolen FROM readings",
                "SELECT INTO, which creates a table",
            ),
        ];
        for (reply, kind) in cases {
            let error = rejected(reply).await;
            assert!(
                matches!(&error, QuestionError::NotReadOnly { kind: found } if found == kind),
                "{reply}: {error:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn multiple_statements_rejected() {
    bounded(async {
        let error = rejected("SELECT 1; DELETE FROM readings").await;
        assert!(
            matches!(error, QuestionError::MultipleStatements { count: 2, .. }),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn forbidden_column_rejected() {
    bounded(async {
        for reply in [
            "SELECT name, email FROM residents",
            "SELECT name FROM residents WHERE \"EMAIL\" LIKE '%example%'",
            "SELECT r.email FROM residents AS r",
            "SELECT COUNT(DISTINCT email) FROM residents",
        ] {
            let error = rejected(reply).await;
            assert!(
                matches!(&error, QuestionError::ColumnNotAllowed { table, column } if table == "residents" && column == "email"),
                "{reply}: {error:?}"
            );
            assert!(error.to_string().contains("\"email\" of table \"residents\""), "{error}");
        }
    })
    .await;
}

#[tokio::test]
async fn forbidden_table_join_rejected() {
    bounded(async {
        let error = rejected(
            "SELECT r.name, p.permit_id FROM residents r JOIN permits p ON r.name = p.holder",
        )
        .await;
        assert!(
            matches!(&error, QuestionError::TableNotAllowed { table, .. } if table == "permits"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("allowed tables: readings, residents"),
            "{error}"
        );
    })
    .await;
}

#[tokio::test]
async fn forbidden_table_subquery_rejected() {
    bounded(async {
        for reply in [
            "SELECT name FROM residents WHERE name IN (SELECT holder FROM permits)",
            "SELECT (SELECT COUNT(*) FROM permits) AS n",
            "WITH permits AS (SELECT name FROM residents) SELECT * FROM permits",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM generate_series(1, 3)",
        ] {
            let error = rejected(reply).await;
            assert!(
                matches!(error, QuestionError::TableNotAllowed { .. }),
                "{reply}: {error:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn unparsable_and_empty_rejected() {
    bounded(async {
        let error = rejected("SELEC station FROM readings").await;
        assert!(matches!(error, QuestionError::Parse { .. }), "{error:?}");
        let error = rejected("```sql\n```").await;
        assert!(matches!(error, QuestionError::NoSql { .. }), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn computed_limit_rejected() {
    bounded(async {
        let error = rejected("SELECT station FROM readings LIMIT 1 + 1").await;
        assert!(matches!(error, QuestionError::Limit { .. }), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn slow_query_times_out() {
    bounded(async {
        // One million rows in batches of 100, with 1,000 rows per key: the self-join below
        // yields a billion rows, far more than fit in the 200 ms limit. Small batches make
        // the scan return to the runtime often, so the timeout can fire.
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let batches: Vec<RecordBatch> = (0..10_000_i64)
            .map(|batch| {
                let keys =
                    Int64Array::from_iter_values((0..100).map(|row| (batch * 100 + row) % 1_000));
                RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(keys)]).expect("keys batch")
            })
            .collect();
        let context = SessionContext::new();
        let table = MemTable::try_new(schema, vec![batches]).expect("table");
        context
            .register_table("numbers", Arc::new(table))
            .expect("register");
        let model = CannedModel::new("SELECT COUNT(*) FROM numbers a JOIN numbers b ON a.k = b.k");
        let config = QuestionConfig {
            timeout_ms: 200,
            ..QuestionConfig::default()
        };
        let answerer = QuestionAnswerer::new(
            context,
            QueryPolicy::new().allow_all("numbers"),
            model,
            config,
        );

        let started = std::time::Instant::now();
        let error = answerer
            .ask("How many pairs share a key?")
            .await
            .expect_err("too slow");

        assert!(
            matches!(
                error,
                QuestionError::Timeout {
                    timeout_ms: 200,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn policy_naming_missing_column_fails() {
    bounded(async {
        let context = city_context();
        let policy = QueryPolicy::new().allow("residents", ["name", "phone"]);
        let answerer = QuestionAnswerer::new(
            context,
            policy,
            CannedModel::new("SELECT 1"),
            QuestionConfig::default(),
        );
        let error = answerer.ask("x").await.expect_err("no phone column");
        let message = error.to_string();
        assert!(message.contains("\"phone\""), "{message}");
        assert!(message.contains("name, email, district"), "{message}");
    })
    .await;
}
