//! Questions answered through the HTTP chat client and the SQL guard, against a scripted
//! OpenAI-compatible server on 127.0.0.1: good replies run, harmful ones are rejected before
//! anything runs, and server failures end in clear errors.

#[path = "../governance-llm/tests/support/scripted_server.rs"]
mod scripted_server;
#[path = "../governance-analyze/tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::prelude::SessionContext;
use governance::analyze::question::{
    Answer, QueryPolicy, QuestionAnswerer, QuestionConfig, QuestionError,
};
use governance::llm::chat::{ChatClient, ChatClientConfig, ChatError};
use scripted_server::{Reply, ScriptedServer};
use support::{city_context, row_count};

/// Every test finishes within this time or fails.
const TEST_LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, future)
        .await
        .expect("test ran past its time limit")
}

/// Returns a client config whose base URL `ask_through` replaces with the scripted server's.
fn client_config() -> ChatClientConfig {
    ChatClientConfig::new("http://127.0.0.1:1", "test-model").with_retries(3, 10)
}

fn answerer(context: &SessionContext, client: ChatClient) -> QuestionAnswerer {
    let policy = QueryPolicy::new()
        .allow_all("readings")
        .allow("residents", ["name", "district"]);
    QuestionAnswerer::new(
        context.clone(),
        policy,
        Arc::new(client),
        QuestionConfig::default(),
    )
}

/// Asks through a server whose script is `replies` and returns the result.
async fn ask_through(
    context: &SessionContext,
    config: ChatClientConfig,
    replies: Vec<Reply>,
) -> (Result<Answer, QuestionError>, ScriptedServer) {
    let server = ScriptedServer::start(replies).await;
    let config = ChatClientConfig {
        base_url: server.base_url.clone(),
        ..config
    };
    let client = ChatClient::new(config).expect("valid client config");
    let result = answerer(context, client).ask("a question").await;
    (result, server)
}

/// Asks with a completion that must be rejected, and checks that every table is unchanged.
async fn rejected(completion: &str) -> QuestionError {
    let context = city_context();
    let (result, server) = ask_through(
        &context,
        client_config(),
        vec![Reply::completion(completion)],
    )
    .await;
    let error = result.expect_err("must be rejected");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(row_count(&context, "readings").await, 4, "readings changed");
    assert_eq!(
        row_count(&context, "residents").await,
        2,
        "residents changed"
    );
    assert_eq!(row_count(&context, "permits").await, 2, "permits changed");
    error
}

/// Returns the chat client's error under a question error.
fn chat_error(error: &QuestionError) -> &ChatError {
    let QuestionError::Model { source, .. } = error else {
        panic!("expected a model error, got {error:?}");
    };
    source
        .downcast_ref::<ChatError>()
        .expect("the source is the HTTP client's error")
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
async fn good_query_matches_data() {
    bounded(async {
        let context = city_context();
        let sql = "SELECT station, AVG(\"PM2.5\") AS mean_pm25 FROM readings \
                   GROUP BY station ORDER BY mean_pm25 DESC";
        let (result, server) =
            ask_through(&context, client_config(), vec![Reply::completion(sql)]).await;
        let answer = result.expect("answered");

        assert_eq!(answer.sql, format!("{sql} LIMIT 1000"));
        let batch = &answer.batches[0];
        assert_eq!(strings(batch, 0), ["Dongsi", "Guanyuan", "Tiantan"]);
        let means = batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("Float64 means");
        assert_eq!(means.values().to_vec(), [70.0, 50.0, 35.0]);

        let body: serde_json::Value =
            serde_json::from_str(&server.requests()[0].body).expect("JSON request");
        let system = body["messages"][0]["content"]
            .as_str()
            .expect("system prompt");
        assert!(
            system.contains("residents(name Utf8, district Utf8)"),
            "{system}"
        );
        assert!(!system.contains("email"), "{system}");
        assert!(!system.contains("permits"), "{system}");
    })
    .await;
}

#[tokio::test]
async fn fenced_sql_in_prose() {
    bounded(async {
        let context = city_context();
        let reply = "The cleanest station is found by sorting on the mean:\n\n```sql\n\
                     SELECT station FROM readings GROUP BY station ORDER BY AVG(\"PM2.5\") LIMIT 1\n\
                     ```\nLet me know if you need more.";
        let (result, _server) =
            ask_through(&context, client_config(), vec![Reply::completion(reply)])
                .await;
        let answer = result.expect("answered");

        assert_eq!(strings(&answer.batches[0], 0), ["Tiantan"]);
        assert!(!answer.limit_capped);
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
    })
    .await;
}

#[tokio::test]
async fn forbidden_column_rejected() {
    bounded(async {
        let error = rejected("SELECT name, email FROM residents").await;
        assert!(
            matches!(&error, QuestionError::ColumnNotAllowed { table, column } if table == "residents" && column == "email"),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn forbidden_table_join_rejected() {
    bounded(async {
        let error =
            rejected("SELECT r.name FROM residents r JOIN permits p ON r.name = p.holder").await;
        assert!(
            matches!(&error, QuestionError::TableNotAllowed { table, .. } if table == "permits"),
            "{error:?}"
        );
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
async fn insert_rejected() {
    bounded(async {
        let error = rejected("INSERT INTO readings VALUES ('Fake', 999.0)").await;
        assert!(
            matches!(&error, QuestionError::NotReadOnly { kind } if kind == "INSERT"),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn slow_reply_times_out() {
    bounded(async {
        let context = city_context();
        let slow = Reply::completion("SELECT 1").delayed(Duration::from_secs(10));
        let config = client_config().with_timeout_ms(250).with_retries(1, 10);
        let started = Instant::now();
        let (result, server) = ask_through(&context, config, vec![slow]).await;
        let error = result.expect_err("too slow");

        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        let chat = chat_error(&error);
        assert!(
            matches!(
                chat,
                ChatError::Timeout {
                    timeout_ms: 250,
                    attempts: 1,
                    ..
                }
            ),
            "{chat:?}"
        );
        let message = chat.to_string();
        assert!(message.contains(&server.base_url), "{message}");
        assert!(message.contains("250 ms"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn server_error_retried_then_reported() {
    bounded(async {
        let context = city_context();
        let failure = Reply::json(500, "{\"error\":\"out of memory\"}");
        let (result, server) = ask_through(
            &context,
            client_config(),
            vec![failure.clone(), failure.clone(), failure],
        )
        .await;
        let error = result.expect_err("always 500");

        assert_eq!(server.requests().len(), 3);
        let chat = chat_error(&error);
        assert!(
            matches!(
                chat,
                ChatError::Status {
                    status: 500,
                    attempts: 3,
                    ..
                }
            ),
            "{chat:?}"
        );
        assert!(chat.to_string().contains("out of memory"), "{chat}");
    })
    .await;
}

#[tokio::test]
async fn malformed_json_reported() {
    bounded(async {
        let context = city_context();
        let (result, server) = ask_through(
            &context,
            client_config(),
            vec![Reply::json(200, "<html>502 Bad Gateway</html>")],
        )
        .await;
        let error = result.expect_err("not JSON");

        assert_eq!(server.requests().len(), 1);
        let chat = chat_error(&error);
        assert!(matches!(chat, ChatError::MalformedJson { .. }), "{chat:?}");
        assert!(
            chat.to_string().contains("<html>502 Bad Gateway</html>"),
            "{chat}"
        );
    })
    .await;
}

#[tokio::test]
async fn streamed_reply_answers() {
    bounded(async {
        let context = city_context();
        let stream = Reply::stream(&[
            "```sql\nSELECT COUNT(*) AS n ",
            "FROM readings WHERE \"PM2.5\" ",
            "> 45\n```",
        ]);
        let config = client_config().with_stream(true);
        let (result, server) = ask_through(&context, config, vec![stream]).await;
        let answer = result.expect("answered");

        let counts = answer.batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("Int64 count");
        assert_eq!(counts.value(0), 3);
        let body: serde_json::Value =
            serde_json::from_str(&server.requests()[0].body).expect("JSON request");
        assert_eq!(body["stream"], true);
    })
    .await;
}
