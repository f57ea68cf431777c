//! The PostgreSQL sink with a client certificate, against a real PostgreSQL server on
//! 127.0.0.1 whose pg_hba.conf accepts TCP only over TLS with a client certificate that an
//! authority generated in the test signs. With `ssl_client_cert` and `ssl_client_key` the
//! sink writes rows. Without them the server rejects the connection, and the error names
//! the server and the fix. A certificate of another authority fails the TLS handshake.
//!
//! Every test starts its own throwaway cluster and skips, with a message, when the
//! PostgreSQL server binaries are not installed.

#[path = "support/authority.rs"]
mod authority;
#[path = "support/pg.rs"]
mod pg;

use std::error::Error as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use authority::Authority;
use governance_apply::{ApplyError, PostgresSinkConfig, PostgresWriter, SslMode};
use governance_core::{Error, GovernedBatch, Provenance};
use pg::PgServer;
use tempfile::TempDir;

/// Rows in the batch that each successful connection writes.
const ROWS: usize = 2;

/// The files of one test: the server's authority and a client certificate for the test
/// server's superuser, written as PEM.
struct Certificates {
    authority: Authority,
    dir: TempDir,
    root: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl Certificates {
    fn generate() -> Certificates {
        let authority = Authority::generate("city test CA");
        let dir = TempDir::new().expect("temp dir");
        let root = authority.write_pem(dir.path(), "ca.pem");
        let (certificate, key) = authority.issue_client(pg::USER);
        let client_cert = dir.path().join("client.crt");
        let client_key = dir.path().join("client.key");
        std::fs::write(&client_cert, certificate).expect("write client certificate");
        std::fs::write(&client_key, key).expect("write client key");
        Certificates {
            authority,
            dir,
            root,
            client_cert,
            client_key,
        }
    }

    /// Starts a server whose only TCP rule is `hostssl ... METHOD`, trusting this authority
    /// for client certificates.
    fn server(&self, method: &str) -> Option<PgServer> {
        let (certificate, key) = self.authority.issue(&["127.0.0.1"]);
        PgServer::start_with_client_auth(&certificate, &key, &self.authority.pem(), method)
    }

    fn config(&self, server: &PgServer, client: Option<(&Path, &Path)>) -> PostgresSinkConfig {
        let mut config = PostgresSinkConfig::new(server.connection_string(), "readings", "cert");
        config.ssl_mode = SslMode::VerifyFull;
        config.ssl_root_cert = Some(self.root.clone());
        if let Some((certificate, key)) = client {
            config.ssl_client_cert = Some(certificate.to_path_buf());
            config.ssl_client_key = Some(key.to_path_buf());
        }
        config
    }

    fn identity(&self) -> Option<(&Path, &Path)> {
        Some((&self.client_cert, &self.client_key))
    }
}

fn batch() -> GovernedBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("no2", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["Harbour", "Old Mill"])),
        Arc::new(Float64Array::from(vec![41.5, 18.0])),
    ];
    let data = RecordBatch::try_new(schema, columns).expect("batch");
    let ids = UInt64Array::from((0..ROWS as u64).collect::<Vec<_>>());
    GovernedBatch::try_new(data, ids, Provenance::new("client-cert")).expect("governed batch")
}

/// Connects, writes [`batch`] and commits it. Returns the client's distinguished name as
/// the server's `pg_stat_ssl` reports it.
fn write_rows(config: PostgresSinkConfig) -> Result<Option<String>, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut writer = PostgresWriter::connect(config).await?;
        writer.write(&batch()).await?;
        writer.commit(&serde_json::json!({"next": 1})).await?;
        let row = writer
            .client()
            .query_one(
                "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .expect("read pg_stat_ssl");
        Ok(row.get::<_, Option<String>>(0))
    })
}

/// Returns the error's message with all its sources, as a log line would show them.
fn full_message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn apply_error(error: &Error) -> &ApplyError {
    error
        .source()
        .and_then(|source| source.downcast_ref::<ApplyError>())
        .unwrap_or_else(|| panic!("expected an ApplyError, got {}", full_message(error)))
}

/// Checks that the message names the server and keeps the password and the key out.
fn check_message(error: &Error, server: &PgServer, certificates: &Certificates) -> String {
    let message = full_message(error);
    assert!(
        message.contains(&format!("host=127.0.0.1 port={}", server.port())),
        "{message}"
    );
    assert!(
        !message.contains(server.password()),
        "the password leaked: {message}"
    );
    let key = std::fs::read_to_string(&certificates.client_key).expect("read key");
    for line in key.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!message.contains(line), "the key leaked: {message}");
    }
    message
}

fn count(server: &PgServer) -> i64 {
    server
        .scalar("SELECT count(*) FROM readings")
        .and_then(|text| text.parse().ok())
        .expect("a count")
}

fn table_exists(server: &PgServer, table: &str) -> bool {
    server.scalar(&format!("SELECT to_regclass('{table}') IS NOT NULL")) == Some("t".into())
}

#[test]
fn client_certificate_authenticates() {
    let certificates = Certificates::generate();
    let Some(server) = certificates.server("cert") else {
        return;
    };

    let client_dn = write_rows(certificates.config(&server, certificates.identity()))
        .unwrap_or_else(|error| panic!("cert authentication: {}", full_message(&error)));
    assert_eq!(client_dn.as_deref(), Some(&*format!("/CN={}", pg::USER)));
    assert_eq!(count(&server), ROWS as i64);
}

#[test]
fn missing_client_certificate_is_rejected() {
    let certificates = Certificates::generate();
    let Some(server) = certificates.server("cert") else {
        return;
    };

    let error = write_rows(certificates.config(&server, None))
        .expect_err("a cert rule without a client certificate must reject the connection");
    check_message(&error, &server, &certificates);
    let ApplyError::PostgresAuthentication { reason, fix, .. } = apply_error(&error) else {
        panic!(
            "expected an authentication error, got {}",
            full_message(&error)
        );
    };
    assert!(reason.contains("rejected the authentication"), "{reason}");
    assert!(reason.contains("client certificate"), "{reason}");
    assert!(
        fix.contains("set ssl_client_cert and ssl_client_key"),
        "{fix}"
    );
    assert!(!table_exists(&server, "checkpoints"));
}

#[test]
fn clientcert_verify_full_needs_both() {
    let certificates = Certificates::generate();
    let Some(server) = certificates.server("scram-sha-256 clientcert=verify-full") else {
        return;
    };

    let error = write_rows(certificates.config(&server, None))
        .expect_err("the password alone is not enough");
    let message = check_message(&error, &server, &certificates);
    assert!(
        matches!(
            apply_error(&error),
            ApplyError::PostgresAuthentication { .. }
        ),
        "{message}"
    );

    let client_dn = write_rows(certificates.config(&server, certificates.identity()))
        .unwrap_or_else(|error| panic!("password and certificate: {}", full_message(&error)));
    assert_eq!(client_dn.as_deref(), Some(&*format!("/CN={}", pg::USER)));
    assert_eq!(count(&server), ROWS as i64);
}

#[test]
fn certificate_for_other_user_is_rejected() {
    let certificates = Certificates::generate();
    let Some(server) = certificates.server("cert") else {
        return;
    };
    let (certificate, key) = certificates.authority.issue_client("somebody_else");
    let other_cert = certificates.dir.path().join("other.crt");
    let other_key = certificates.dir.path().join("other.key");
    std::fs::write(&other_cert, certificate).expect("write certificate");
    std::fs::write(&other_key, key).expect("write key");

    let error = write_rows(certificates.config(&server, Some((&other_cert, &other_key))))
        .expect_err("the common name must be the user name");
    let ApplyError::PostgresAuthentication { fix, .. } = apply_error(&error) else {
        panic!(
            "expected an authentication error, got {}",
            full_message(&error)
        );
    };
    assert!(fix.contains("common name of"), "{fix}");
    assert!(fix.contains("other.crt"), "{fix}");
}

#[test]
fn certificate_of_unknown_authority_fails_handshake() {
    let certificates = Certificates::generate();
    let Some(server) = certificates.server("cert") else {
        return;
    };
    let stranger = Authority::generate("unknown CA");
    let (certificate, key) = stranger.issue_client(pg::USER);
    let stranger_cert = certificates.dir.path().join("stranger.crt");
    let stranger_key = certificates.dir.path().join("stranger.key");
    std::fs::write(&stranger_cert, certificate).expect("write certificate");
    std::fs::write(&stranger_key, key).expect("write key");

    let error = write_rows(certificates.config(&server, Some((&stranger_cert, &stranger_key))))
        .expect_err("the server must not trust another authority's client certificate");
    let message = check_message(&error, &server, &certificates);
    let ApplyError::PostgresTls { reason, fix, .. } = apply_error(&error) else {
        panic!("expected a TLS error, got {message}");
    };
    assert!(
        reason.contains("rejected the client certificate"),
        "{reason}"
    );
    assert!(reason.contains("stranger.crt"), "{reason}");
    assert!(fix.contains("ssl_ca_file"), "{fix}");
    assert!(!table_exists(&server, "checkpoints"));
}
