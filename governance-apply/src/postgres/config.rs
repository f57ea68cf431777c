//! [`PostgresSinkConfig`] and the connection string whose password never reaches a log.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use governance_core::{Error, ROW_ID_COLUMN, Result};
use serde::{Deserialize, Serialize};
use tokio_postgres::config::Host;

use super::POSTGRES_SINK_NAME;
use super::sql::check_identifier;
use super::tls;

/// A libpq connection string, such as `host=127.0.0.1 port=5432 user=city dbname=city
/// password=...`, or the URL form `postgresql://city:...@127.0.0.1:5432/city`.
///
/// `Debug` and [`ConnectionString::redacted`] show host, port, user and database but never
/// the password. Serde reads and writes the full string, so that a config file round-trips.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionString(String);

impl ConnectionString {
    /// Wraps a connection string.
    pub fn new(text: impl Into<String>) -> Self {
        ConnectionString(text.into())
    }

    /// Parses the string. The error does not repeat the string, which may contain a password.
    pub fn parse(&self) -> Result<tokio_postgres::Config> {
        tokio_postgres::Config::from_str(&self.0).map_err(|error| {
            // The cause may quote part of the string, so it is shown only for the TLS
            // options, whose causes name the option and no value. tokio-postgres accepts
            // only sslmode=disable, prefer and require, and no certificate or key options.
            let cause = std::error::Error::source(&error)
                .map(ToString::to_string)
                .unwrap_or_default();
            let message = if cause.contains("`sslmode`") {
                format!(
                    "connection: {cause}; leave sslmode out of the connection string and set \
                     the sink's ssl_mode option to disable, require or verify_full"
                )
            } else if cause.contains("`sslrootcert`") {
                format!(
                    "connection: {cause}; leave sslrootcert out of the connection string and \
                     set the sink's ssl_root_cert option to the PEM file"
                )
            } else if cause.contains("`sslcert`") || cause.contains("`sslkey`") {
                format!(
                    "connection: {cause}; leave sslcert and sslkey out of the connection \
                     string and set the sink's ssl_client_cert and ssl_client_key options to \
                     the PEM files"
                )
            } else {
                format!(
                    "connection is not a valid libpq connection string ({error}); write it as \
                     \"host=127.0.0.1 port=5432 user=NAME dbname=NAME\" or \
                     \"postgresql://NAME@127.0.0.1:5432/NAME\""
                )
            };
            Error::config(POSTGRES_SINK_NAME, message)
        })
    }

    /// Returns the hosts of the connection string, comma-separated, for messages.
    pub(crate) fn hosts(&self) -> String {
        let Ok(config) = tokio_postgres::Config::from_str(&self.0) else {
            return "<invalid connection string>".to_string();
        };
        host_names(&config).join(",")
    }

    /// Returns host, port, user and database as `host=... port=... user=... dbname=...`,
    /// without the password, for messages and lineage.
    pub fn redacted(&self) -> String {
        let Ok(config) = tokio_postgres::Config::from_str(&self.0) else {
            return "<invalid connection string>".to_string();
        };
        let hosts = host_names(&config);
        let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
        let mut parts = Vec::new();
        if !hosts.is_empty() {
            parts.push(format!("host={}", hosts.join(",")));
        }
        if !ports.is_empty() {
            parts.push(format!("port={}", ports.join(",")));
        }
        if let Some(user) = config.get_user() {
            parts.push(format!("user={user}"));
        }
        if let Some(dbname) = config.get_dbname() {
            parts.push(format!("dbname={dbname}"));
        }
        if config.get_password().is_some() {
            parts.push("password=<redacted>".to_string());
        }
        parts.join(" ")
    }
}

fn host_names(config: &tokio_postgres::Config) -> Vec<String> {
    config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect()
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnectionString")
            .field(&self.redacted())
            .finish()
    }
}

/// The way rows reach the table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum WriteMode {
    /// Binary COPY straight into the table.
    #[default]
    Append,
    /// Binary COPY into a temporary table, then `INSERT ... ON CONFLICT (key) DO UPDATE`. A
    /// new table gets `PRIMARY KEY (key)`; an existing one needs a unique index on exactly
    /// these columns. When a key occurs more than once in one batch, the last row wins.
    Upsert {
        /// Key columns, in order. [`ROW_ID_COLUMN`] is allowed.
        key: Vec<String>,
    },
}

/// When the sink commits, and with it writes the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    /// One transaction per round, committed in [`governance_core::Applicator::finish`], so
    /// the rows of a failed round never become visible.
    #[default]
    Round,
    /// One transaction per batch, so a long round makes progress that survives a crash.
    Batch,
}

/// Handling of a batch whose columns differ from those of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaEvolution {
    /// Every batch must have the columns, types and field metadata of the writer's first
    /// batch; any other batch fails with [`ApplyError::TableSchemaChanged`](crate::ApplyError).
    #[default]
    Strict,
    /// A batch may bring new columns and may lack known ones. A new column is added with
    /// `ALTER TABLE ... ADD COLUMN` in the transaction that writes the batch's rows and the
    /// checkpoint, and a column the batch lacks is written as NULL. A column whose type
    /// differs from the table's is still rejected, with
    /// [`ApplyError::ColumnRetyped`](crate::ApplyError).
    ///
    /// NOTE: `ADD COLUMN` holds an ACCESS EXCLUSIVE lock on the table until the commit, so
    /// other readers and writers of the table wait. `lock_timeout_ms` bounds the sink's own
    /// wait for that lock.
    AddColumns,
}

/// Whether the connection uses TLS and how the server's certificate is checked, after
/// libpq's `sslmode`. No mode falls back to plain TCP: when TLS is requested and the server
/// rejects it or its certificate fails the check, connecting fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SslMode {
    /// Plain TCP, without asking the server for TLS.
    #[default]
    Disable,
    /// TLS is required. Without `ssl_root_cert` the server's certificate is not checked, which
    /// stops eavesdroppers but not an active man in the middle. With `ssl_root_cert` the
    /// certificate must chain to one of that file's authorities, but the host name is not
    /// checked (libpq's `verify-ca`).
    Require,
    /// TLS is required, and the certificate must chain to a trusted authority and name the
    /// host of the connection string. Trusted are the Mozilla roots of `webpki-roots` and the
    /// authorities in `ssl_root_cert`.
    #[serde(alias = "verify-full")]
    VerifyFull,
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SslMode::Disable => "disable",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify_full",
        })
    }
}

/// Configuration of a [`PostgresSink`](super::PostgresSink).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSinkConfig {
    /// libpq connection string. TLS is set by `ssl_mode` and the `ssl_*` files, and an
    /// `sslmode` in the string must agree with `ssl_mode`.
    /// NOTE: `sslmode=prefer` is tokio-postgres's default and cannot be distinguished from no
    /// `sslmode`, so it is ignored and `ssl_mode` alone decides.
    pub connection: ConnectionString,
    /// TLS: `disable` (the default), `require` or `verify_full`.
    #[serde(default)]
    pub ssl_mode: SslMode,
    /// PEM file of the certificate authorities that sign the server's certificate, for a
    /// private authority or a self-signed server. Only with `require` or `verify_full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_root_cert: Option<PathBuf>,
    /// PEM file of the client certificate that the sink presents to a server that
    /// authenticates clients by certificate (pg_hba.conf method `cert`, or the option
    /// `clientcert=verify-full`). The file may hold intermediate certificates after the
    /// client's own. Only with `require` or `verify_full`, and only with `ssl_client_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_client_cert: Option<PathBuf>,
    /// PEM file of the private key of `ssl_client_cert` (PKCS#8, PKCS#1 or SEC1, not
    /// encrypted). Its contents never appear in logs or errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_client_key: Option<PathBuf>,
    /// Schema of the table; created when absent. `public` by default.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Table of the governed data; created from the first batch's schema when absent.
    pub table: String,
    /// Append (the default) or upsert on a key.
    #[serde(default)]
    pub mode: WriteMode,
    /// Commit per round (the default) or per batch.
    #[serde(default)]
    pub commit: CommitMode,
    /// Id of this pipeline in the checkpoint table. Pipelines that share a checkpoint table
    /// need distinct ids.
    pub pipeline_id: String,
    /// Table of checkpoints, in the same schema; `checkpoints` by default.
    #[serde(default = "default_checkpoint_table")]
    pub checkpoint_table: String,
    /// Handling of batches whose columns change: `strict` (the default) or `add_columns`.
    #[serde(default)]
    pub schema_evolution: SchemaEvolution,
    /// Maximum wait for a lock, in milliseconds, of each statement of the sink's session (the
    /// server's `lock_timeout`). A statement that waits longer fails with
    /// [`ApplyError::LockTimeout`](crate::ApplyError). When absent, the server's setting
    /// applies, which is no limit by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout_ms: Option<u64>,
}

fn default_schema() -> String {
    "public".to_string()
}

fn default_checkpoint_table() -> String {
    "checkpoints".to_string()
}

impl PostgresSinkConfig {
    /// Creates a config that appends to `table` in schema `public`, commits per round and
    /// keeps its checkpoint under `pipeline_id`.
    pub fn new(
        connection: impl Into<String>,
        table: impl Into<String>,
        pipeline_id: impl Into<String>,
    ) -> Self {
        PostgresSinkConfig {
            connection: ConnectionString::new(connection),
            ssl_mode: SslMode::default(),
            ssl_root_cert: None,
            ssl_client_cert: None,
            ssl_client_key: None,
            schema: default_schema(),
            table: table.into(),
            mode: WriteMode::default(),
            commit: CommitMode::default(),
            pipeline_id: pipeline_id.into(),
            checkpoint_table: default_checkpoint_table(),
            schema_evolution: SchemaEvolution::default(),
            lock_timeout_ms: None,
        }
    }

    /// Checks names, the connection string and the TLS options without connecting. Reads
    /// `ssl_root_cert`, `ssl_client_cert` and `ssl_client_key` when they are set, and checks
    /// that the key belongs to the certificate.
    pub fn validate(&self) -> Result<()> {
        let invalid = |error| Error::config(POSTGRES_SINK_NAME, format!("{error}"));
        let connection = self.connection.parse()?;
        tls::validate(self, &connection)?;
        check_identifier(&self.schema).map_err(invalid)?;
        check_identifier(&self.table).map_err(invalid)?;
        check_identifier(&self.checkpoint_table).map_err(invalid)?;
        if self.table == self.checkpoint_table {
            return Err(Error::config(
                POSTGRES_SINK_NAME,
                format!(
                    "table and checkpoint_table are both {:?}: give the checkpoint table \
                     another name",
                    self.table
                ),
            ));
        }
        match self.lock_timeout_ms {
            Some(0) => {
                return Err(Error::config(
                    POSTGRES_SINK_NAME,
                    "lock_timeout_ms is 0, which PostgreSQL reads as no limit: leave it out \
                     for no limit, or set a positive number of milliseconds",
                ));
            }
            Some(timeout) if timeout > i32::MAX as u64 => {
                return Err(Error::config(
                    POSTGRES_SINK_NAME,
                    format!(
                        "lock_timeout_ms {timeout} is above PostgreSQL's maximum of {}: set a \
                         smaller number of milliseconds",
                        i32::MAX
                    ),
                ));
            }
            _ => {}
        }
        if self.pipeline_id.is_empty() {
            return Err(Error::config(
                POSTGRES_SINK_NAME,
                "pipeline_id is empty: set it to a name that identifies this pipeline",
            ));
        }
        if let WriteMode::Upsert { key } = &self.mode {
            if key.is_empty() {
                return Err(Error::config(
                    POSTGRES_SINK_NAME,
                    format!(
                        "mode upsert has an empty key: list the key columns, for example \
                         [\"{ROW_ID_COLUMN}\"]"
                    ),
                ));
            }
            for column in key {
                check_identifier(column).map_err(invalid)?;
            }
        }
        Ok(())
    }

    /// Returns the config as JSON with the password left out, for lineage.
    pub(crate) fn to_redacted_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "connection".to_string(),
                serde_json::Value::String(self.connection.redacted()),
            );
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-pw";

    #[test]
    fn debug_hides_password() {
        for text in [
            format!("host=127.0.0.1 port=5433 user=city password={SECRET} dbname=air"),
            format!("postgresql://city:{SECRET}@127.0.0.1:5433/air"),
        ] {
            let config = PostgresSinkConfig::new(text, "readings", "air");
            let debug = format!("{config:?}");
            assert!(!debug.contains(SECRET), "{debug}");
            assert!(debug.contains("host=127.0.0.1"), "{debug}");
            assert!(debug.contains("port=5433"), "{debug}");
            assert!(debug.contains("password=<redacted>"), "{debug}");
            let params = config.to_redacted_json().to_string();
            assert!(!params.contains(SECRET), "{params}");
        }
    }

    #[test]
    fn invalid_connection_string_is_not_echoed() {
        let config = PostgresSinkConfig::new(format!("host='{SECRET}"), "readings", "air");
        let error = config.validate().expect_err("unterminated quote");
        let message = error.to_string();
        assert!(message.contains("connection"), "{message}");
        assert!(!message.contains(SECRET), "{message}");
        assert_eq!(
            format!("{:?}", config.connection),
            "ConnectionString(\"<invalid connection string>\")"
        );
    }

    #[test]
    fn config_rejects_unknown_fields() {
        let error = serde_json::from_str::<PostgresSinkConfig>(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p", "tabel": "x"}"#,
        )
        .expect_err("typo must fail");
        assert!(error.to_string().contains("tabel"), "{error}");
    }

    #[test]
    fn config_reads_upsert_mode() {
        let config: PostgresSinkConfig = serde_json::from_str(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p",
                "mode": {"kind": "upsert", "key": ["station"]}, "commit": "batch"}"#,
        )
        .expect("valid config");
        assert_eq!(
            config.mode,
            WriteMode::Upsert {
                key: vec!["station".into()]
            }
        );
        assert_eq!(config.commit, CommitMode::Batch);
        assert_eq!(config.schema, "public");
        assert_eq!(config.checkpoint_table, "checkpoints");
        assert_eq!(config.schema_evolution, SchemaEvolution::Strict);
    }

    #[test]
    fn config_reads_schema_evolution() {
        let config: PostgresSinkConfig = serde_json::from_str(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p",
                "schema_evolution": "add_columns"}"#,
        )
        .expect("valid config");
        assert_eq!(config.schema_evolution, SchemaEvolution::AddColumns);

        let error = serde_json::from_str::<PostgresSinkConfig>(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p",
                "schema_evolution": "add"}"#,
        )
        .expect_err("unknown variant");
        let message = error.to_string();
        assert!(message.contains("add_columns"), "{message}");
        assert!(message.contains("strict"), "{message}");
    }

    #[test]
    fn config_reads_tls_options() {
        let config: PostgresSinkConfig = serde_json::from_str(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p",
                "ssl_mode": "verify-full"}"#,
        )
        .expect("libpq spelling");
        assert_eq!(config.ssl_mode, SslMode::VerifyFull);
        assert_eq!(config.ssl_root_cert, None);
        let default = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        assert_eq!(default.ssl_mode, SslMode::Disable);

        let error = serde_json::from_str::<PostgresSinkConfig>(
            r#"{"connection": "host=127.0.0.1", "table": "t", "pipeline_id": "p",
                "ssl_mode": "prefer"}"#,
        )
        .expect_err("prefer would fall back to plain TCP");
        assert!(error.to_string().contains("verify_full"), "{error}");
    }

    #[test]
    fn validate_rejects_conflicting_tls_options() {
        let mut config = PostgresSinkConfig::new("host=127.0.0.1 sslmode=require", "t", "p");
        let error = config
            .validate()
            .expect_err("sslmode=require with ssl_mode disable");
        assert!(error.to_string().contains("sslmode=require"), "{error}");
        config.ssl_mode = SslMode::VerifyFull;
        config
            .validate()
            .expect("require in the string agrees with verify_full");

        let mut config = PostgresSinkConfig::new("host=127.0.0.1 sslmode=disable", "t", "p");
        config.ssl_mode = SslMode::Require;
        let error = config
            .validate()
            .expect_err("sslmode=disable with ssl_mode require");
        assert!(error.to_string().contains("remove sslmode"), "{error}");

        let config = PostgresSinkConfig::new("host=127.0.0.1 sslmode=verify-full", "t", "p");
        let error = config
            .validate()
            .expect_err("tokio-postgres has no verify-full");
        assert!(error.to_string().contains("ssl_mode option"), "{error}");

        let config = PostgresSinkConfig::new("host=127.0.0.1 sslrootcert=ca.pem", "t", "p");
        let error = config
            .validate()
            .expect_err("tokio-postgres has no sslrootcert");
        assert!(
            error.to_string().contains("ssl_root_cert option"),
            "{error}"
        );

        let mut config = PostgresSinkConfig::new("host=/run/postgresql", "t", "p");
        config.ssl_mode = SslMode::Require;
        let error = config.validate().expect_err("no TLS over a Unix socket");
        assert!(error.to_string().contains("Unix socket"), "{error}");
    }

    #[test]
    fn validate_checks_root_certificate_file() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        config.ssl_root_cert = Some(dir.path().join("ca.pem"));
        let error = config.validate().expect_err("ssl_root_cert with disable");
        assert!(error.to_string().contains("ssl_mode is disable"), "{error}");

        config.ssl_mode = SslMode::VerifyFull;
        let error = config.validate().expect_err("missing file");
        let message = error.to_string();
        assert!(message.contains("ca.pem"), "{message}");
        assert!(message.contains("cannot read"), "{message}");

        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        config.ssl_root_cert = Some(path);
        let error = config.validate().expect_err("no certificate in the file");
        assert!(
            error.to_string().contains("no CERTIFICATE block"),
            "{error}"
        );
    }

    #[test]
    fn validate_rejects_bad_names() {
        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        config.table = "x".repeat(64);
        let error = config.validate().expect_err("too long");
        assert!(error.to_string().contains("63 bytes"), "{error}");

        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        config.mode = WriteMode::Upsert { key: Vec::new() };
        let error = config.validate().expect_err("empty key");
        assert!(error.to_string().contains("empty key"), "{error}");

        let config = PostgresSinkConfig::new("host=127.0.0.1", "t", "");
        let error = config.validate().expect_err("empty pipeline id");
        assert!(error.to_string().contains("pipeline_id"), "{error}");

        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        config.lock_timeout_ms = Some(0);
        let error = config.validate().expect_err("zero lock timeout");
        assert!(
            error.to_string().contains("lock_timeout_ms is 0"),
            "{error}"
        );
        config.lock_timeout_ms = Some(1 << 31);
        let error = config
            .validate()
            .expect_err("lock timeout above the maximum");
        assert!(error.to_string().contains("2147483647"), "{error}");

        let mut config = PostgresSinkConfig::new("host=127.0.0.1", "t", "p");
        config.checkpoint_table = "t".into();
        let error = config.validate().expect_err("same table");
        assert!(error.to_string().contains("checkpoint_table"), "{error}");
    }
}
