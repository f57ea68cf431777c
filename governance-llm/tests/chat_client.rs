//! The chat-completions client against a scripted server on 127.0.0.1.

mod support;

use std::future::Future;
use std::time::{Duration, Instant};

use governance_llm::chat::{ApiKey, ChatClient, ChatClientConfig, ChatError, ChatMessage};
use support::scripted_server::{Reply, ScriptedServer, closed_base_url};

/// Every test finishes within this time or fails.
const TEST_LIMIT: Duration = Duration::from_secs(20);

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, future)
        .await
        .expect("test ran past its time limit")
}

fn config(server: &ScriptedServer) -> ChatClientConfig {
    ChatClientConfig::new(&server.base_url, "test-model").with_retries(3, 10)
}

fn question() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("Reply with SQL."),
        ChatMessage::user("How many stations?"),
    ]
}

#[tokio::test]
async fn completion_returns_content() {
    bounded(async {
        let server = ScriptedServer::start(vec![Reply::completion("SELECT 1")]).await;
        let client = ChatClient::new(config(&server).with_api_key(ApiKey::new("sk-test-123")))
            .expect("valid config");

        let reply = client.chat(&question()).await.expect("completion");
        assert_eq!(reply, "SELECT 1");

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert!(
            requests[0].head.starts_with("POST /v1/chat/completions "),
            "{}",
            requests[0].head
        );
        assert!(
            requests[0]
                .head
                .to_ascii_lowercase()
                .contains("authorization: bearer sk-test-123"),
            "{}",
            requests[0].head
        );
        let body: serde_json::Value = serde_json::from_str(&requests[0].body).expect("JSON body");
        assert_eq!(body["model"], "test-model");
        assert_eq!(body["stream"], false);
        assert_eq!(body["temperature"], 0.0);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["role"], "user");
        assert_eq!(body["messages"][1]["content"], "How many stations?");
    })
    .await;
}

#[tokio::test]
async fn slow_reply_times_out() {
    bounded(async {
        let script = vec![
            Reply::completion("late").delayed(Duration::from_secs(5)),
            Reply::completion("late").delayed(Duration::from_secs(5)),
        ];
        let server = ScriptedServer::start(script).await;
        let client = ChatClient::new(config(&server).with_timeout_ms(200).with_retries(2, 10))
            .expect("valid config");

        let started = Instant::now();
        let error = client.chat(&question()).await.expect_err("too slow");
        let elapsed = started.elapsed();

        assert!(
            matches!(error, ChatError::Timeout { attempts: 2, .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(client.endpoint()), "{message}");
        assert!(message.contains("200 ms"), "{message}");
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
        assert_eq!(server.requests().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn server_error_retried_then_fails() {
    bounded(async {
        let failure = Reply::json(500, "{\"error\":\"model crashed\"}");
        let server = ScriptedServer::start(vec![failure.clone(), failure.clone(), failure]).await;
        let client = ChatClient::new(config(&server)).expect("valid config");

        let error = client.chat(&question()).await.expect_err("always 500");

        assert!(
            matches!(
                error,
                ChatError::Status {
                    status: 500,
                    attempts: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("HTTP 500 after 3 attempt(s)"), "{message}");
        assert!(message.contains(client.endpoint()), "{message}");
        assert!(message.contains("model crashed"), "{message}");
        assert_eq!(server.requests().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn server_error_then_success() {
    bounded(async {
        let rate_limited = Reply::Json {
            status: 429,
            body: "{}".to_string(),
            headers: vec!["Retry-After: 0".to_string()],
        };
        let script = vec![
            Reply::json(503, "{}"),
            rate_limited,
            Reply::completion("SELECT 2"),
        ];
        let server = ScriptedServer::start(script).await;
        let client = ChatClient::new(config(&server)).expect("valid config");

        assert_eq!(
            client.chat(&question()).await.expect("third try"),
            "SELECT 2"
        );
        assert_eq!(server.requests().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn client_error_not_retried() {
    bounded(async {
        let server = ScriptedServer::start(vec![
            Reply::json(404, "{\"error\":\"model not found\"}"),
            Reply::completion("never sent"),
        ])
        .await;
        let client = ChatClient::new(config(&server).with_api_key(ApiKey::new("sk-hidden-9")))
            .expect("valid config");

        let error = client.chat(&question()).await.expect_err("404");

        assert!(
            matches!(
                error,
                ChatError::Status {
                    status: 404,
                    attempts: 1,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("check base_url"), "{message}");
        assert!(!message.contains("sk-hidden-9"), "{message}");
        assert!(!format!("{error:?}").contains("sk-hidden-9"));
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn malformed_json_is_reported() {
    bounded(async {
        let server = ScriptedServer::start(vec![
            Reply::json(200, "{\"choices\": [{\"message\": "),
            Reply::completion("never sent"),
        ])
        .await;
        let client = ChatClient::new(config(&server)).expect("valid config");

        let error = client.chat(&question()).await.expect_err("cut-off JSON");

        assert!(
            matches!(error, ChatError::MalformedJson { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(client.endpoint()), "{message}");
        assert!(
            message.contains("{\\\"choices\\\": [{\\\"message\\\": "),
            "{message}"
        );
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn empty_choices_is_reported() {
    bounded(async {
        let server = ScriptedServer::start(vec![Reply::json(200, "{\"choices\": []}")]).await;
        let client = ChatClient::new(config(&server)).expect("valid config");

        let error = client.chat(&question()).await.expect_err("no choices");

        assert!(matches!(error, ChatError::EmptyChoices { .. }), "{error:?}");
        assert!(error.to_string().contains(client.endpoint()), "{error}");
    })
    .await;
}

#[tokio::test]
async fn stream_assembles_deltas() {
    bounded(async {
        let reply = Reply::stream(&[
            "SELECT station",
            ", COUNT(*) ",
            "FROM readings",
            " GROUP BY 1",
        ]);
        let server = ScriptedServer::start(vec![reply]).await;
        let client = ChatClient::new(config(&server).with_stream(true)).expect("valid config");

        let reply = client.chat(&question()).await.expect("streamed completion");

        assert_eq!(reply, "SELECT station, COUNT(*) FROM readings GROUP BY 1");
        let requests = server.requests();
        let body: serde_json::Value = serde_json::from_str(&requests[0].body).expect("JSON body");
        assert_eq!(body["stream"], true);
        assert!(
            requests[0]
                .head
                .to_ascii_lowercase()
                .contains("accept: text/event-stream"),
            "{}",
            requests[0].head
        );
    })
    .await;
}

#[tokio::test]
async fn stream_with_bad_chunk_fails() {
    bounded(async {
        let reply = Reply::Stream {
            pieces: vec!["data: {\"choices\": [\n\n".to_string()],
        };
        let server = ScriptedServer::start(vec![reply]).await;
        let client = ChatClient::new(config(&server).with_stream(true)).expect("valid config");

        let error = client.chat(&question()).await.expect_err("bad chunk");

        assert!(
            matches!(error, ChatError::MalformedJson { .. }),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn refused_connection_names_endpoint() {
    bounded(async {
        let base_url = closed_base_url().await;
        let client = ChatClient::new(ChatClientConfig::new(&base_url, "m").with_retries(2, 10))
            .expect("valid config");

        let error = client.chat(&question()).await.expect_err("nothing listens");

        assert!(
            matches!(error, ChatError::Connect { attempts: 2, .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&base_url), "{message}");
        assert!(
            message.contains("check that the server is running"),
            "{message}"
        );
    })
    .await;
}
