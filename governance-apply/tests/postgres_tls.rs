//! The PostgreSQL sink over TLS, against a real PostgreSQL server on 127.0.0.1 with
//! `ssl = on` and a certificate signed by an authority that the test generates with rcgen.
//! `verify_full` with that authority writes rows over an encrypted connection. Without it,
//! with another authority, or for another host name, connecting fails. The error names the
//! server, the reason and the fix. A server without TLS fails `require` instead of receiving
//! plain TCP.
//!
//! Every test starts its own throwaway cluster and skips, with a message, when the
//! PostgreSQL server binaries are not installed.

#[path = "support/authority.rs"]
mod authority;
#[path = "support/pg.rs"]
mod pg;

use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use authority::Authority;
use governance_apply::{ApplyError, PostgresSinkConfig, PostgresWriter, SslMode};
use governance_core::{Error, GovernedBatch, Provenance};
use pg::PgServer;
use tempfile::TempDir;

/// Rows in the batch that each successful connection writes.
const ROWS: usize = 3;

/// Starts a TLS server whose certificate `authority` issues for `names`.
fn tls_server(authority: &Authority, names: &[&str]) -> Option<PgServer> {
    let (certificate, key) = authority.issue(names);
    PgServer::start_with_tls(&certificate, &key)
}

fn config(
    server: &PgServer,
    table: &str,
    mode: SslMode,
    root: Option<&Path>,
) -> PostgresSinkConfig {
    let mut config = PostgresSinkConfig::new(server.connection_string(), table, table);
    config.ssl_mode = mode;
    config.ssl_root_cert = root.map(Path::to_path_buf);
    config
}

fn batch() -> GovernedBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("pm25", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["Dongsi", "Tiantan", "Guanyuan"])),
        Arc::new(Float64Array::from(vec![12.5, 30.0, 7.25])),
    ];
    let data = RecordBatch::try_new(schema, columns).expect("batch");
    let ids = UInt64Array::from((0..ROWS as u64).collect::<Vec<_>>());
    GovernedBatch::try_new(data, ids, Provenance::new("tls")).expect("governed batch")
}

/// Connects, writes [`batch`] and commits it. Returns whether the connection used TLS, as
/// the server's `pg_stat_ssl` reports it.
fn write_rows(config: PostgresSinkConfig) -> Result<bool, Error> {
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
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .expect("read pg_stat_ssl");
        Ok(row.get::<_, bool>(0))
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

/// Returns the TLS error's reason and fix, and checks that the message names the server and
/// keeps the password out.
fn tls_failure(error: &Error, server: &PgServer) -> (String, String) {
    let message = full_message(error);
    assert!(
        !message.contains(server.password()),
        "the password leaked: {message}"
    );
    assert!(
        message.contains(&format!("host=127.0.0.1 port={}", server.port())),
        "{message}"
    );
    let apply = error
        .source()
        .and_then(|source| source.downcast_ref::<ApplyError>())
        .unwrap_or_else(|| panic!("expected an ApplyError, got {message}"));
    match apply {
        ApplyError::PostgresTls { reason, fix, .. } => (reason.clone(), fix.clone()),
        other => panic!("expected a TLS error, got {other}"),
    }
}

fn count(server: &PgServer, table: &str) -> i64 {
    server
        .scalar(&format!("SELECT count(*) FROM {table}"))
        .and_then(|text| text.parse().ok())
        .expect("a count")
}

fn table_exists(server: &PgServer, table: &str) -> bool {
    server.scalar(&format!("SELECT to_regclass('{table}') IS NOT NULL")) == Some("t".into())
}

#[test]
fn verify_full_with_authority_writes_rows() {
    let authority = Authority::generate("city test CA");
    let Some(server) = tls_server(&authority, &["127.0.0.1", "localhost"]) else {
        return;
    };
    let dir = TempDir::new().expect("temp dir");
    let root = authority.write_pem(dir.path(), "ca.pem");

    let encrypted = write_rows(config(
        &server,
        "readings",
        SslMode::VerifyFull,
        Some(&root),
    ))
    .unwrap_or_else(|error| panic!("verify_full with the CA: {}", full_message(&error)));
    assert!(encrypted, "pg_stat_ssl must report TLS");
    assert_eq!(count(&server, "readings"), ROWS as i64);
}

#[test]
fn verify_full_without_authority_fails() {
    let authority = Authority::generate("city test CA");
    let Some(server) = tls_server(&authority, &["127.0.0.1", "localhost"]) else {
        return;
    };

    let error = write_rows(config(&server, "readings", SslMode::VerifyFull, None))
        .expect_err("an unknown authority must fail");
    let (reason, fix) = tls_failure(&error, &server);
    assert!(reason.contains("not signed by a trusted"), "{reason}");
    assert!(fix.contains("set ssl_root_cert"), "{fix}");
    assert!(
        !table_exists(&server, "checkpoints"),
        "nothing may reach a server that failed the check"
    );
}

#[test]
fn verify_full_other_authority_fails() {
    let authority = Authority::generate("city test CA");
    let other = Authority::generate("another CA");
    let Some(server) = tls_server(&authority, &["127.0.0.1"]) else {
        return;
    };
    let dir = TempDir::new().expect("temp dir");
    let wrong_root = other.write_pem(dir.path(), "other.pem");

    for mode in [SslMode::VerifyFull, SslMode::Require] {
        let error = write_rows(config(&server, "readings", mode, Some(&wrong_root)))
            .expect_err("another authority must fail");
        let (reason, fix) = tls_failure(&error, &server);
        assert!(
            reason.contains("not signed by a trusted"),
            "{mode}: {reason}"
        );
        assert!(
            fix.contains(&wrong_root.display().to_string()),
            "{mode}: {fix}"
        );
    }
    assert!(!table_exists(&server, "checkpoints"));
}

#[test]
fn verify_full_checks_host_name() {
    let authority = Authority::generate("city test CA");
    let Some(server) = tls_server(&authority, &["db.city.invalid"]) else {
        return;
    };
    let dir = TempDir::new().expect("temp dir");
    let root = authority.write_pem(dir.path(), "ca.pem");

    let error = write_rows(config(
        &server,
        "readings",
        SslMode::VerifyFull,
        Some(&root),
    ))
    .expect_err("a certificate for another host must fail");
    let (reason, fix) = tls_failure(&error, &server);
    assert!(reason.contains("not valid for host 127.0.0.1"), "{reason}");
    assert!(
        fix.contains("host name that the certificate lists"),
        "{fix}"
    );
    assert!(!table_exists(&server, "checkpoints"));

    // require with the authority checks the chain only, as libpq's verify-ca does.
    let encrypted = write_rows(config(&server, "readings", SslMode::Require, Some(&root)))
        .unwrap_or_else(|error| panic!("require with the CA: {}", full_message(&error)));
    assert!(encrypted);
    assert_eq!(count(&server, "readings"), ROWS as i64);
}

#[test]
fn require_without_authority_encrypts() {
    let authority = Authority::generate("city test CA");
    let Some(server) = tls_server(&authority, &["db.city.invalid"]) else {
        return;
    };

    let encrypted = write_rows(config(&server, "readings", SslMode::Require, None))
        .unwrap_or_else(|error| panic!("require: {}", full_message(&error)));
    assert!(
        encrypted,
        "require must encrypt even without a certificate check"
    );
    assert_eq!(count(&server, "readings"), ROWS as i64);

    let encrypted = write_rows(config(&server, "plain", SslMode::Disable, None))
        .unwrap_or_else(|error| panic!("disable: {}", full_message(&error)));
    assert!(!encrypted, "disable must not ask the server for TLS");
}

#[test]
fn server_without_tls_fails_require() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let authority = Authority::generate("city test CA");
    let dir = TempDir::new().expect("temp dir");
    let root = authority.write_pem(dir.path(), "ca.pem");

    for (mode, root) in [
        (SslMode::Require, None),
        (SslMode::VerifyFull, Some(root.as_path())),
    ] {
        let error = write_rows(config(&server, "readings", mode, root))
            .expect_err("a server without TLS must fail, not fall back to plain TCP");
        let (reason, fix) = tls_failure(&error, &server);
        assert!(reason.contains("rejected TLS"), "{mode}: {reason}");
        assert!(fix.contains("ssl = on"), "{mode}: {fix}");
    }
    assert!(
        !table_exists(&server, "checkpoints"),
        "the sink must not have connected in plain TCP"
    );
}
