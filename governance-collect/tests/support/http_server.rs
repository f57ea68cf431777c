//! A scripted HTTP server on 127.0.0.1 for tests of polling collectors: the n-th request
//! gets the n-th canned reply, and every request line is recorded. It runs on a tokio
//! runtime of its own thread, so a test may call a blocking collector directly.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP status with a body.
    Body { status: u16, body: String },
    /// An HTTP status with extra header lines (name, value) and a body.
    Headed {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Accepts the request and sends nothing for this long, then closes.
    Hang(Duration),
}

impl Reply {
    /// HTTP `status` with `body`.
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Body {
            status,
            body: body.into(),
        }
    }

    /// HTTP `status` with the header `name: value` and `body`.
    pub fn with_header(status: u16, name: &str, value: &str, body: impl Into<String>) -> Reply {
        Reply::Headed {
            status,
            headers: vec![(name.to_string(), value.to_string())],
            body: body.into(),
        }
    }

    /// HTTP 200 with `items` as a JSON array.
    pub fn items(items: &[serde_json::Value]) -> Reply {
        Reply::json(200, serde_json::Value::Array(items.to_vec()).to_string())
    }
}

/// The running server.
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl ScriptedServer {
    /// Starts a server that replies to the n-th request with `script[n]`, and with HTTP 418
    /// once the script is used up.
    pub fn start(script: Vec<Reply>) -> ScriptedServer {
        ScriptedServer::start_with(move |_| script)
    }

    /// Starts a server whose script `make_script` builds from the server's base URL.
    pub fn start_with(
        make_script: impl FnOnce(&str) -> Vec<Reply> + Send + 'static,
    ) -> ScriptedServer {
        let (address_sender, address_receiver) = std::sync::mpsc::channel();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let port = listener.local_addr().expect("address").port();
                address_sender.send(port).expect("send port");
                let script = make_script(&format!("http://127.0.0.1:{port}"));
                let script = Arc::new(Mutex::new(script.into_iter()));
                while let Ok((socket, _)) = listener.accept().await {
                    let recorded = Arc::clone(&recorded);
                    let script = Arc::clone(&script);
                    tokio::spawn(serve(socket, recorded, script));
                }
            });
        });
        let port = address_receiver.recv().expect("server port");
        ScriptedServer {
            base_url: format!("http://127.0.0.1:{port}"),
            requests,
        }
    }

    /// Returns the request lines received so far, such as `GET /obs?since=... HTTP/1.1`.
    pub fn requests(&self) -> Vec<String> {
        let requests = self.requests.lock().expect("lock");
        requests.iter().map(|(line, _)| line.clone()).collect()
    }

    /// Returns the time each request arrived, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        let requests = self.requests.lock().expect("lock");
        requests.iter().map(|(_, arrived)| *arrived).collect()
    }
}

async fn serve(
    mut socket: TcpStream,
    recorded: Arc<Mutex<Vec<(String, Instant)>>>,
    script: Arc<Mutex<std::vec::IntoIter<Reply>>>,
) {
    let Some(request_line) = read_head(&mut socket).await else {
        return;
    };
    recorded
        .lock()
        .expect("lock")
        .push((request_line, Instant::now()));
    let reply = script.lock().expect("lock").next();
    let reply = reply.unwrap_or_else(|| Reply::json(418, "{\"error\":\"no scripted reply left\"}"));
    // Write errors are ignored: the client may have given up, which some tests test.
    match reply {
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
        }
        Reply::Body { status, body } => {
            write_reply(&mut socket, status, &[], &body).await;
        }
        Reply::Headed {
            status,
            headers,
            body,
        } => {
            write_reply(&mut socket, status, &headers, &body).await;
        }
    }
}

async fn write_reply(
    socket: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n{extra}\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// Reads a request head (GET requests have no body) and returns its first line.
async fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut piece = [0_u8; 4096];
    loop {
        if buffer.windows(4).any(|window| window == b"\r\n\r\n") {
            break;
        }
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    }
    let head = String::from_utf8_lossy(&buffer).into_owned();
    head.lines().next().map(str::to_string)
}
