//! A throwaway PostgreSQL cluster for tests and benchmarks.
//!
//! [`PgServer::start`] runs `initdb` into a temporary folder and `pg_ctl start` with the
//! server listening only on 127.0.0.1, on a free port, with its Unix socket in that folder
//! and password (SCRAM) authentication for 127.0.0.1 only. Dropping the value stops the
//! server and deletes the folder. [`PgServer::start_with_tls`] also turns TLS on with a
//! given certificate, and [`PgServer::start_with_client_auth`] also demands a client
//! certificate on TCP. [`PgServer::start_with_tls_rules`] puts rules of the caller's own,
//! for example `hostssl` rules with client certificates, before the password rule.
//! PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
//! through `runuser`.
//!
//! The server binaries are looked up in `GOVERNANCE_PG_BINDIR`, then in the folder that
//! `pg_config --bindir` prints, then in `/usr/lib/postgresql/<version>/bin` (newest first),
//! then on `PATH`. When none has `initdb`, `pg_ctl` and `postgres`, `start` prints why and
//! returns `None`, so callers skip instead of failing on a machine without PostgreSQL.

#![allow(
    dead_code,
    reason = "the tests and the benchmark use different parts of the helper"
)]
#![allow(
    clippy::print_stderr,
    reason = "a skipped test or benchmark says why on stderr"
)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Superuser that `initdb` creates.
pub const USER: &str = "governance";

/// Account the server runs as when the tests run as root.
const SERVICE_ACCOUNT: &str = "postgres";

/// A running throwaway cluster, stopped and deleted on drop.
pub struct PgServer {
    dir: TempDir,
    bindir: PathBuf,
    run_as: Option<String>,
    port: u16,
    password: String,
    tls: bool,
    /// Whether the server trusts client certificates, from `root.crt` in the data folder.
    client_ca: bool,
    /// Whether TCP connections need a client certificate, so that the test's own queries go
    /// over the Unix socket.
    client_auth: bool,
}

/// TLS settings of a test server: its certificate and key, and the client certificates it
/// trusts.
struct TlsSetup<'a> {
    certificate_pem: &'a str,
    key_pem: &'a str,
    client: Option<ClientRules<'a>>,
}

/// The certificate authorities that sign client certificates, and the pg_hba.conf that uses
/// them.
struct ClientRules<'a> {
    ca_pem: &'a str,
    hba: String,
    /// Whether `hba` rejects plain TCP, so that [`PgServer::query`] uses the Unix socket.
    tcp_needs_certificate: bool,
}

impl PgServer {
    /// Starts a cluster. Returns `None`, after printing the reason, when the server binaries
    /// are not installed or no account can run them. Panics, with the server log, when the
    /// binaries exist but the cluster fails to start.
    pub fn start() -> Option<PgServer> {
        Self::start_with(None)
    }

    /// Starts a cluster with `ssl = on` that presents `certificate_pem` (the server's
    /// certificate, then any intermediates) with the private key `key_pem`. It still accepts
    /// plain TCP, so [`query`](Self::query) works and only the client decides on TLS.
    pub fn start_with_tls(certificate_pem: &str, key_pem: &str) -> Option<PgServer> {
        Self::start_with(Some(TlsSetup {
            certificate_pem,
            key_pem,
            client: None,
        }))
    }

    /// Starts a cluster like [`start_with_tls`](Self::start_with_tls) that trusts the client
    /// certificates that the authorities in `client_ca_pem` sign, and whose only TCP rule is
    /// `hostssl all all 127.0.0.1/32 METHOD`, for example `cert` or `scram-sha-256
    /// clientcert=verify-full`. [`query`](Self::query) then uses the Unix socket, with the
    /// password.
    pub fn start_with_client_auth(
        certificate_pem: &str,
        key_pem: &str,
        client_ca_pem: &str,
        method: &str,
    ) -> Option<PgServer> {
        Self::start_with(Some(TlsSetup {
            certificate_pem,
            key_pem,
            client: Some(ClientRules {
                ca_pem: client_ca_pem,
                hba: format!(
                    "hostssl all all 127.0.0.1/32 {method}\nlocal all all scram-sha-256\n"
                ),
                tcp_needs_certificate: true,
            }),
        }))
    }

    /// Starts a cluster like [`start_with_tls`](Self::start_with_tls) that trusts the client
    /// certificates that the authorities in `client_ca_pem` sign. Its pg_hba.conf is `rules`
    /// (complete lines, such as `hostssl all NAME 127.0.0.1/32 cert`), then `host all all
    /// 127.0.0.1/32 scram-sha-256` for every connection that no rule matched, with or without
    /// TLS. The server takes the first matching rule, so a `hostssl` rule in `rules` applies
    /// to TLS connections only. [`query`](Self::query) uses plain TCP, so `rules` must leave
    /// [`USER`] to the password rule.
    pub fn start_with_tls_rules(
        certificate_pem: &str,
        key_pem: &str,
        client_ca_pem: &str,
        rules: &str,
    ) -> Option<PgServer> {
        Self::start_with(Some(TlsSetup {
            certificate_pem,
            key_pem,
            client: Some(ClientRules {
                ca_pem: client_ca_pem,
                hba: format!("{rules}host all all 127.0.0.1/32 scram-sha-256\n"),
                tcp_needs_certificate: false,
            }),
        }))
    }

    fn start_with(tls: Option<TlsSetup<'_>>) -> Option<PgServer> {
        let Some(bindir) = find_bindir() else {
            eprintln!(
                "skipped: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; \
                 install the postgresql package or set GOVERNANCE_PG_BINDIR"
            );
            return None;
        };
        let run_as = if is_root() {
            if !account_exists(SERVICE_ACCOUNT) || !command_exists("runuser") {
                eprintln!(
                    "skipped: running as root, and PostgreSQL refuses root; create the \
                     {SERVICE_ACCOUNT} user and install runuser, or run the tests as another user"
                );
                return None;
            }
            Some(SERVICE_ACCOUNT.to_string())
        } else {
            None
        };

        let dir = tempfile::Builder::new()
            .prefix("governance-pg-")
            .tempdir()
            .expect("create a folder for the cluster");
        if let Some(account) = &run_as {
            hand_over(dir.path(), account);
        }
        let password = format!("pw-{}-{}", std::process::id(), unique_suffix());
        let mut server = PgServer {
            dir,
            bindir,
            run_as,
            port: 0,
            password,
            tls: tls.is_some(),
            client_ca: tls.as_ref().is_some_and(|setup| setup.client.is_some()),
            client_auth: tls
                .as_ref()
                .and_then(|setup| setup.client.as_ref())
                .is_some_and(|client| client.tcp_needs_certificate),
        };
        server.init();
        if let Some(setup) = tls {
            server.install_certificate(setup.certificate_pem, setup.key_pem);
            if let Some(client) = setup.client {
                server.trust_client_certificates(client.ca_pem, &client.hba);
            }
        }
        server.start_on_free_port();
        Some(server)
    }

    /// Returns the port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the superuser's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Returns a libpq connection string for database `postgres` over TCP on 127.0.0.1.
    pub fn connection_string(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} password={} dbname=postgres",
            self.port, self.password
        )
    }

    /// Runs `sql` with the simple query protocol and returns every row's columns as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            let connection_string = if self.client_auth {
                format!(
                    "host={} port={} user={USER} password={} dbname=postgres",
                    self.dir.path().display(),
                    self.port,
                    self.password
                )
            } else {
                self.connection_string()
            };
            let (client, connection) =
                tokio_postgres::connect(&connection_string, tokio_postgres::NoTls)
                    .await
                    .expect("connect to the test server");
            tokio::spawn(connection);
            let messages = client
                .simple_query(sql)
                .await
                .unwrap_or_else(|error| panic!("query {sql:?} failed: {error:?}"));
            messages
                .into_iter()
                .filter_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|index| row.get(index).map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        })
    }

    /// Returns the first column of the first row of `sql` as text.
    pub fn scalar(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Builds a command for server binary `program`, run as the service account under root.
    fn command(&self, program: &str) -> Command {
        let binary = self.bindir.join(program);
        match &self.run_as {
            Some(account) => {
                let mut command = Command::new("runuser");
                command.arg("-u").arg(account).arg("--").arg(binary);
                command
            }
            None => Command::new(binary),
        }
    }

    fn init(&self) {
        let password_file = self.dir.path().join("password");
        fs::write(&password_file, &self.password).expect("write the password file");
        if let Some(account) = &self.run_as {
            hand_over(&password_file, account);
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-U")
            .arg(USER)
            .arg(format!("--pwfile={}", password_file.display()))
            .args([
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .expect("run initdb");
        let _ = fs::remove_file(&password_file);
        check(&output, "initdb", None);
        // Only TCP connections from 127.0.0.1, with a password.
        fs::write(
            self.data_dir().join("pg_hba.conf"),
            "host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
    }

    /// Writes `server.crt` and `server.key` into the data folder, the key readable by the
    /// server's account only, as PostgreSQL demands.
    fn install_certificate(&self, certificate_pem: &str, key_pem: &str) {
        use std::os::unix::fs::PermissionsExt;
        for (name, text, mode) in [
            ("server.crt", certificate_pem, 0o644),
            ("server.key", key_pem, 0o600),
        ] {
            let path = self.data_dir().join(name);
            fs::write(&path, text).unwrap_or_else(|error| panic!("write {name}: {error}"));
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .unwrap_or_else(|error| panic!("set the mode of {name}: {error}"));
            if let Some(account) = &self.run_as {
                hand_over(&path, account);
            }
        }
    }

    /// Writes `root.crt` with the authorities of client certificates and replaces
    /// pg_hba.conf with `hba`.
    fn trust_client_certificates(&self, client_ca_pem: &str, hba: &str) {
        let path = self.data_dir().join("root.crt");
        fs::write(&path, client_ca_pem).expect("write root.crt");
        if let Some(account) = &self.run_as {
            hand_over(&path, account);
        }
        fs::write(self.data_dir().join("pg_hba.conf"), hba).expect("write pg_hba.conf");
    }

    fn start_on_free_port(&mut self) {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            self.port = free_port();
            let mut options = format!(
                "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} \
                 -c fsync=off -c full_page_writes=off",
                self.port,
                self.dir.path().display()
            );
            if self.tls {
                // Relative paths resolve against the data folder.
                options
                    .push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
            }
            if self.client_ca {
                options.push_str(" -c ssl_ca_file=root.crt");
            }
            let output = self
                .command("pg_ctl")
                .arg("start")
                .arg("-w")
                .args(["-t", "60"])
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.log_file())
                .arg("-o")
                .arg(options)
                .output()
                .expect("run pg_ctl start");
            if output.status.success() {
                return;
            }
            let log = fs::read_to_string(self.log_file()).unwrap_or_default();
            // Another process may have taken the port between the probe and the start.
            if attempt == ATTEMPTS || !log.contains("could not bind") {
                check(&output, "pg_ctl start", Some(&log));
            }
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let stopped = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w"])
            .output();
        if let Ok(output) = stopped
            && !output.status.success()
        {
            eprintln!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

fn check(output: &Output, step: &str, log: Option<&str>) {
    assert!(
        output.status.success(),
        "{step} failed with {}\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        log.unwrap_or("(none)")
    );
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|program| dir.join(program).is_file())
}

fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GOVERNANCE_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return has_server_binaries(&dir).then_some(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_server_binaries(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server_binaries(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let initdb = fs::canonicalize(dir.join("initdb")).ok()?;
        let dir = initdb.parent()?.to_path_buf();
        has_server_binaries(&dir).then_some(dir)
    })
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn is_root() -> bool {
    command_output("id", &["-u"]).as_deref() == Some("0")
}

fn account_exists(account: &str) -> bool {
    command_output("id", &["-u", account]).is_some()
}

fn command_exists(program: &str) -> bool {
    Command::new(program).arg("--help").output().is_ok()
}

/// Gives `path` to `account`, so that the server running as that account can use it.
fn hand_over(path: &Path, account: &str) {
    let id = |flag: &str| -> u32 {
        command_output("id", &[flag, account])
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("cannot read the ids of account {account}"))
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g")))
        .unwrap_or_else(|error| panic!("cannot give {} to {account}: {error}", path.display()));
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a probe socket on 127.0.0.1");
    listener.local_addr().expect("probe address").port()
}

fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0)
}
