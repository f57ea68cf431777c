//! A scripted HTTP server on 127.0.0.1 for tests of chat-completions clients: each request
//! gets the next canned reply of the script, and every request is recorded.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP status with a JSON body and optional extra header lines.
    Json {
        status: u16,
        body: String,
        headers: Vec<String>,
    },
    /// A server-sent-event stream written in these pieces, with a short pause between.
    Stream { pieces: Vec<String> },
    /// The reply, sent after a delay.
    Delayed { delay: Duration, reply: Box<Reply> },
}

impl Reply {
    /// HTTP 200 with a completion whose first choice has `content`.
    pub fn completion(content: &str) -> Reply {
        let body = serde_json::json!({
            "id": "cmpl-1",
            "object": "chat.completion",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop"
            }]
        });
        Reply::json(200, &body.to_string())
    }

    /// `status` with `body`.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Json {
            status,
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    /// Returns a stream whose deltas carry `parts` in order, then `[DONE]`.
    pub fn stream(parts: &[&str]) -> Reply {
        let mut pieces: Vec<String> = parts
            .iter()
            .map(|part| {
                let chunk = serde_json::json!({
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": part}}]
                });
                format!("data: {chunk}\n\n")
            })
            .collect();
        pieces.push("data: [DONE]\n\n".to_string());
        Reply::Stream { pieces }
    }

    /// This reply after `delay`.
    pub fn delayed(self, delay: Duration) -> Reply {
        Reply::Delayed {
            delay,
            reply: Box::new(self),
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request line and headers.
    pub head: String,
    /// The body.
    pub body: String,
}

/// The running server.
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl ScriptedServer {
    /// Starts a server that replies to the n-th request with `script[n]`, and with HTTP 418
    /// once the script is used up. It stops when the test's runtime ends.
    pub async fn start(script: Vec<Reply>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    serve(socket, recorded, script).await;
                });
            }
        });
        ScriptedServer {
            base_url: format!("http://127.0.0.1:{port}"),
            requests,
        }
    }

    /// Returns the requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

/// Returns a base URL on 127.0.0.1 where nothing listens.
pub async fn closed_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

async fn serve(
    mut socket: TcpStream,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<std::vec::IntoIter<Reply>>>,
) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    recorded.lock().expect("lock").push(request);
    let reply = script.lock().expect("lock").next();
    let reply = reply.unwrap_or_else(|| Reply::json(418, "{\"error\":\"no scripted reply left\"}"));
    write_reply(&mut socket, reply).await;
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut piece = [0_u8; 4096];
    let head_end = loop {
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&piece[..read]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    Some(Recorded { head, body })
}

async fn write_reply(socket: &mut TcpStream, reply: Reply) {
    // Write errors are ignored: the client may have given up, which is what some tests test.
    match reply {
        Reply::Delayed { delay, reply } => {
            tokio::time::sleep(delay).await;
            Box::pin(write_reply(socket, *reply)).await;
        }
        Reply::Json {
            status,
            body,
            headers,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for header in headers {
                head.push_str(&header);
                head.push_str("\r\n");
            }
            head.push_str("\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        Reply::Stream { pieces } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                        Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            for piece in pieces {
                let _ = socket.write_all(piece.as_bytes()).await;
                let _ = socket.flush().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = socket.shutdown().await;
        }
    }
}
