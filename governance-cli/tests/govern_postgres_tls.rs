//! `govern run` with a `[sinks.postgres]` that connects over TLS to a throwaway PostgreSQL
//! server on 127.0.0.1, whose certificate an authority generated in the test signs. The
//! connection string, password included, comes from an environment variable and never
//! shows in the output.
//!
//! The test skips, with a message, when the PostgreSQL server binaries are not installed.

#[path = "../../governance-apply/tests/support/authority.rs"]
mod authority;
#[path = "../../governance-apply/tests/support/pg.rs"]
mod pg;

use std::path::Path;
use std::process::{Command, Output};

use authority::Authority;
use pg::PgServer;

const GOVERN: &str = env!("CARGO_BIN_EXE_govern");

/// The environment variable that the chain file names in `connection_env`.
const CONNECTION_VARIABLE: &str = "GOVERN_TEST_PG";

const READINGS: &str = "\
station,time,pm25
north,2024-05-01T00:00:00,12.5
south,2024-05-01T00:00:00,35.0
east,2024-05-01T00:00:00,4.0
north,2024-05-01T01:00:00,31.0
";

/// Writes the readings and a chain file with the given `[sinks.postgres]` TLS lines into
/// `dir`, and runs `govern run` on it with the server's connection string in the
/// environment.
fn run_chain(dir: &Path, server: &PgServer, tls_lines: &str) -> Output {
    std::fs::create_dir_all(dir.join("data")).expect("data folder");
    std::fs::write(dir.join("data").join("readings.csv"), READINGS).expect("write csv");
    let chain = format!(
        "name = \"stations\"\n\
         [source.csv]\npaths = [\"data/*.csv\"]\n\
         [sinks.postgres]\nconnection_env = \"{CONNECTION_VARIABLE}\"\n\
         table = \"readings\"\n{tls_lines}"
    );
    let path = dir.join("CHAIN.toml");
    std::fs::write(&path, chain).expect("write chain");
    Command::new(GOVERN)
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .env(CONNECTION_VARIABLE, server.connection_string())
        .output()
        .expect("the govern binary starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn run_writes_postgres_over_verified_tls() {
    let authority = Authority::generate("city test CA");
    let (certificate, key) = authority.issue(&["127.0.0.1", "localhost"]);
    let Some(server) = PgServer::start_with_tls(&certificate, &key) else {
        return;
    };
    let dir = tempfile::TempDir::new().expect("temp dir");
    authority.write_pem(dir.path(), "ca.pem");

    let output = run_chain(
        dir.path(),
        &server,
        "ssl_mode = \"verify_full\"\nssl_root_cert = \"ca.pem\"\n",
    );
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains(server.password()), "the password leaked");
    assert_eq!(
        server.scalar("SELECT count(*) FROM readings").as_deref(),
        Some("4")
    );

    // Without the authority the certificate fails the check, and nothing is written.
    let other = tempfile::TempDir::new().expect("temp dir");
    let output = run_chain(other.path(), &server, "ssl_mode = \"verify_full\"\n");
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(3), "{printed}");
    assert!(
        printed.contains("not signed by a trusted certificate authority"),
        "{printed}"
    );
    assert!(printed.contains("set ssl_root_cert"), "{printed}");
    assert!(printed.contains("host=127.0.0.1"), "{printed}");
    assert!(!printed.contains(server.password()), "the password leaked");
    assert_eq!(
        server.scalar("SELECT count(*) FROM readings").as_deref(),
        Some("4")
    );
}

#[test]
fn run_authenticates_with_client_certificate() {
    let authority = Authority::generate("city test CA");
    let (certificate, key) = authority.issue(&["127.0.0.1"]);
    let Some(server) =
        PgServer::start_with_client_auth(&certificate, &key, &authority.pem(), "cert")
    else {
        return;
    };
    let dir = tempfile::TempDir::new().expect("temp dir");
    authority.write_pem(dir.path(), "ca.pem");
    let (client_certificate, client_key) = authority.issue_client(pg::USER);
    std::fs::create_dir_all(dir.path().join("certs")).expect("certs folder");
    std::fs::write(dir.path().join("certs/ingest.crt"), client_certificate).expect("write");
    std::fs::write(dir.path().join("certs/ingest.key"), &client_key).expect("write");
    let verified = "ssl_mode = \"verify_full\"\nssl_root_cert = \"ca.pem\"\n";

    let output = run_chain(
        dir.path(),
        &server,
        &format!(
            "{verified}ssl_client_cert = \"certs/ingest.crt\"\n\
             ssl_client_key = \"certs/ingest.key\"\n"
        ),
    );
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert_eq!(
        server.scalar("SELECT count(*) FROM readings").as_deref(),
        Some("4")
    );

    // Without the certificate the server rejects the connection: a server error.
    let output = run_chain(dir.path(), &server, verified);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(3), "{printed}");
    assert!(printed.contains("rejected the authentication"), "{printed}");
    assert!(
        printed.contains("set ssl_client_cert and ssl_client_key"),
        "{printed}"
    );
    assert!(printed.contains("host=127.0.0.1"), "{printed}");

    // A certificate without its key is a config error, found before connecting.
    let output = run_chain(
        dir.path(),
        &server,
        &format!("{verified}ssl_client_cert = \"certs/ingest.crt\"\n"),
    );
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(2), "{printed}");
    assert!(printed.contains("ssl_client_key is not"), "{printed}");
    for line in client_key.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!printed.contains(line), "the key leaked: {printed}");
    }
    assert_eq!(
        server.scalar("SELECT count(*) FROM readings").as_deref(),
        Some("4")
    );
}
