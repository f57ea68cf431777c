//! The HTTP poll collector against an HTTPS server on 127.0.0.1 whose certificate is signed
//! by a certificate authority generated in the test. The collector rejects the server by
//! default with an error that names the fix, and accepts it once that authority's
//! certificate is in `extra_root_certificates`, but not with another authority's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use governance_collect::http::{HttpPayload, HttpPollCollector, HttpPollConfig, RetryConfig};
use governance_core::audit::AuditLog;
use governance_core::{Collector, GovernedBatch, StageContext};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

const BODY: &str = r#"[{"observedAt": "2024-05-01T10:00:00Z", "pm25": 3.5},
{"observedAt": "2024-05-01T10:01:00Z", "pm25": 4.5}]"#;

/// A certificate authority with its PEM certificate.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn generate(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        Authority { issuer }
    }

    /// Writes the authority's certificate as PEM to `dir` and returns the path.
    fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("authority.pem");
        std::fs::write(&path, self.issuer.pem()).expect("write the CA certificate");
        path
    }
}

/// An HTTPS server on 127.0.0.1 that replies to every request with [`BODY`].
struct TlsServer {
    url: String,
    connections: Arc<AtomicUsize>,
    replies: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Starts a server whose certificate for 127.0.0.1 and localhost `authority` signs.
    fn start(authority: &Authority) -> TlsServer {
        let key = KeyPair::generate().expect("server key");
        let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("server parameters");
        let certificate = params
            .signed_by(&key, &authority.issuer)
            .expect("server certificate");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.der().clone(), authority.issuer.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server TLS config");
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let connections = Arc::new(AtomicUsize::new(0));
        let replies = Arc::new(AtomicUsize::new(0));
        let (port_sender, port_receiver) = std::sync::mpsc::channel();
        let (accepted, replied) = (Arc::clone(&connections), Arc::clone(&replies));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let port = listener.local_addr().expect("address").port();
                port_sender.send(port).expect("send port");
                while let Ok((socket, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let acceptor = acceptor.clone();
                    let replied = Arc::clone(&replied);
                    tokio::spawn(async move {
                        // A client that rejects the certificate ends the handshake here.
                        let Ok(mut stream) = acceptor.accept(socket).await else {
                            return;
                        };
                        let mut head = Vec::new();
                        let mut piece = [0_u8; 1024];
                        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                            match stream.read(&mut piece).await {
                                Ok(0) | Err(_) => return,
                                Ok(read) => head.extend_from_slice(&piece[..read]),
                            }
                        }
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                            BODY.len()
                        );
                        let _ = stream.write_all(reply.as_bytes()).await;
                        let _ = stream.shutdown().await;
                        replied.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
        });
        let port = port_receiver.recv().expect("server port");
        TlsServer {
            url: format!("https://127.0.0.1:{port}/readings"),
            connections,
            replies,
        }
    }
}

fn config(url: &str, roots: Option<PathBuf>) -> HttpPollConfig {
    HttpPollConfig {
        url: url.to_string(),
        payload: HttpPayload::Json,
        timeout_ms: 5_000,
        retry: RetryConfig {
            max_attempts: 3,
            initial_backoff_ms: 10,
            max_backoff_ms: 20,
            jitter: 0.0,
        },
        max_polls: Some(1),
        extra_root_certificates: roots,
        ..HttpPollConfig::default()
    }
}

fn context() -> StageContext {
    StageContext::new("http_poll", 1, AuditLog::in_memory().into_handle())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Polls once and returns the rows, or the error with its causes.
fn poll_once(settings: HttpPollConfig) -> Result<usize, String> {
    let mut collector = HttpPollCollector::new(settings).map_err(|error| error_chain(&error))?;
    let mut ctx = context();
    let mut rows = 0;
    loop {
        match collector.next_batch(&mut ctx) {
            Ok(Some(batch)) => rows += GovernedBatch::num_rows(&batch),
            Ok(None) => return Ok(rows),
            Err(error) => return Err(error_chain(&error)),
        }
    }
}

#[test]
fn private_authority_is_rejected_by_default() {
    let authority = Authority::generate("governance test CA");
    let server = TlsServer::start(&authority);

    let message = poll_once(config(&server.url, None)).expect_err("an unknown issuer");
    assert!(
        message.contains("TLS certificate was rejected"),
        "{message}"
    );
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("set extra_root_certificates"), "{message}");
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "a rejected certificate is not retried"
    );
    assert_eq!(server.replies.load(Ordering::SeqCst), 0);
}

#[test]
fn extra_root_certificate_is_trusted() {
    let authority = Authority::generate("governance test CA");
    let server = TlsServer::start(&authority);
    let dir = tempfile::tempdir().expect("tempdir");
    let roots = authority.write_pem(dir.path());

    let rows = poll_once(config(&server.url, Some(roots))).expect("a trusted server");
    assert_eq!(rows, 2);
    assert_eq!(server.replies.load(Ordering::SeqCst), 1);
}

#[test]
fn other_authority_is_still_rejected() {
    let authority = Authority::generate("governance test CA");
    let server = TlsServer::start(&authority);
    let dir = tempfile::tempdir().expect("tempdir");
    let other = Authority::generate("another CA").write_pem(dir.path());

    let message = poll_once(config(&server.url, Some(other))).expect_err("a wrong authority");
    assert!(
        message.contains("TLS certificate was rejected"),
        "{message}"
    );
    assert_eq!(server.replies.load(Ordering::SeqCst), 0);
}

#[test]
fn unreadable_root_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.pem");
    let message = poll_once(config("https://127.0.0.1:9/", Some(missing.clone())))
        .expect_err("a missing file");
    assert!(
        message.contains("cannot read extra_root_certificates"),
        "{message}"
    );
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let message =
        poll_once(config("https://127.0.0.1:9/", Some(empty))).expect_err("no certificate");
    assert!(message.contains("contains no PEM certificate"), "{message}");
}
