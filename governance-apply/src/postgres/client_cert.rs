//! The client certificate of the PostgreSQL sink: reading and checking `ssl_client_cert` and
//! `ssl_client_key`, and the reason and fix when the server rejects the client's
//! authentication.
//!
//! Errors name the files but never quote the key file: a PEM parse error of the key is
//! reported without its details, because they could contain part of the key.

use std::path::Path;

use governance_core::{Error, Result};
use rustls::InconsistentKeys;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tokio_postgres::error::SqlState;

use super::POSTGRES_SINK_NAME;
use super::config::{PostgresSinkConfig, SslMode};
use super::tls::ConnectFailure;

/// A client certificate chain and the private key of its first certificate, checked to
/// belong together. No `Debug`, so that the key cannot reach a log by accident.
pub(crate) struct ClientIdentity {
    /// The client's certificate first, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub key: PrivateKeyDer<'static>,
}

fn invalid(message: String) -> Error {
    Error::config(POSTGRES_SINK_NAME, message)
}

/// Reads `ssl_client_cert` and `ssl_client_key` and checks that both or neither are set,
/// that TLS is on, and that the key belongs to the certificate. Returns `None` when neither
/// is set.
pub(crate) fn read_identity(
    config: &PostgresSinkConfig,
    provider: &CryptoProvider,
) -> Result<Option<ClientIdentity>> {
    let (certificate, key) = match (&config.ssl_client_cert, &config.ssl_client_key) {
        (None, None) => return Ok(None),
        (Some(certificate), None) => {
            return Err(invalid(format!(
                "ssl_client_cert is set to {} but ssl_client_key is not: set ssl_client_key \
                 to the PEM file of the certificate's private key, or remove ssl_client_cert",
                certificate.display()
            )));
        }
        (None, Some(key)) => {
            return Err(invalid(format!(
                "ssl_client_key is set to {} but ssl_client_cert is not: set ssl_client_cert \
                 to the PEM file of the client certificate, or remove ssl_client_key",
                key.display()
            )));
        }
        (Some(certificate), Some(key)) => (certificate, key),
    };
    if config.ssl_mode == SslMode::Disable {
        return Err(invalid(format!(
            "ssl_client_cert is set to {} but ssl_mode is disable, so the certificate would \
             never be sent: set ssl_mode to \"verify_full\" (or \"require\"), or remove \
             ssl_client_cert and ssl_client_key",
            certificate.display()
        )));
    }
    let chain = read_chain(certificate)?;
    let key_der = read_key(key)?;
    CertifiedKey::from_der(chain.clone(), key_der.clone_key(), provider).map_err(|error| {
        match error {
            rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => invalid(format!(
                "ssl_client_key {} does not belong to ssl_client_cert {}: the certificate \
                 names another public key; set ssl_client_key to the key that the certificate \
                 was issued for",
                key.display(),
                certificate.display()
            )),
            rustls::Error::InvalidCertificate(reason) => invalid(format!(
                "ssl_client_cert {}: the first certificate is invalid ({reason:?}); set it \
                 to the PEM file of the client certificate",
                certificate.display()
            )),
            other => invalid(format!(
                "ssl_client_key {}: the key cannot be used ({other}); use an RSA, ECDSA or \
                 Ed25519 key in PKCS#8, PKCS#1 or SEC1 form",
                key.display()
            )),
        }
    })?;
    Ok(Some(ClientIdentity {
        chain,
        key: key_der,
    }))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let fail = |reason: String| {
        invalid(format!(
            "ssl_client_cert {}: {reason}; set it to the PEM file of the client certificate",
            path.display()
        ))
    };
    let pem = std::fs::read(path).map_err(|error| fail(format!("cannot read it ({error})")))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| fail(format!("invalid PEM ({error})")))?;
    if chain.is_empty() {
        return Err(fail("no CERTIFICATE block found".to_string()));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let fail = |reason: &str| {
        invalid(format!(
            "ssl_client_key {}: {reason}; set it to the PEM file of the client certificate's \
             private key, not encrypted (decrypt an encrypted key with `openssl pkey`)",
            path.display()
        ))
    };
    let pem = std::fs::read(path).map_err(|error| {
        // An I/O error names no content of the file.
        fail(&format!("cannot read it ({error})"))
    })?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => {
            fail("no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block found")
        }
        // Other PEM errors may quote the file, which contains the key.
        _ => fail("invalid PEM"),
    })
}

/// Returns the reason and fix when the server rejected the connection with SQLSTATE 28000
/// (invalid_authorization_specification). PostgreSQL raises it when pg_hba.conf has no rule
/// for the connection, when a rule demands a client certificate that the client did not
/// send, and when the certificate's common name does not match the user.
pub(crate) fn diagnose_authentication(
    error: &tokio_postgres::Error,
    config: &PostgresSinkConfig,
) -> Option<ConnectFailure> {
    let server_error = error.as_db_error()?;
    if server_error.code() != &SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        return None;
    }
    let user = config
        .connection
        .parse()
        .ok()
        .and_then(|connection| connection.get_user().map(str::to_string))
        .unwrap_or_default();
    let fix = match (&config.ssl_client_cert, config.ssl_mode) {
        (Some(certificate), _) => format!(
            "check that the common name of {} is the user name {user:?} (or maps to it in \
             the server's pg_ident.conf), that an authority in the server's ssl_ca_file \
             signed it, and that pg_hba.conf has a hostssl rule for this host and user",
            certificate.display()
        ),
        (None, SslMode::Disable) => "add a rule for this host and user to the server's \
             pg_hba.conf; if the rule is hostssl or asks for a client certificate, set \
             ssl_mode to \"verify_full\" and set ssl_client_cert and ssl_client_key"
            .to_string(),
        (None, _) => format!(
            "if the server authenticates clients by certificate (pg_hba.conf method cert or \
             clientcert=verify-full), set ssl_client_cert and ssl_client_key to a \
             certificate whose common name is the user name {user:?} and its key; otherwise \
             add a rule for this host and user to the server's pg_hba.conf"
        ),
    };
    Some(ConnectFailure {
        reason: format!(
            "the server rejected the authentication ({})",
            server_error.message()
        ),
        fix,
    })
}

/// Returns the reason and fix when the server aborted the TLS handshake because of the
/// client certificate that the sink sent, or `None` when no certificate was sent or the
/// alert has another cause.
pub(crate) fn explain_rejected_certificate(
    alert: rustls::AlertDescription,
    config: &PostgresSinkConfig,
) -> Option<ConnectFailure> {
    use rustls::AlertDescription as Alert;
    let certificate = config.ssl_client_cert.as_ref()?;
    let about_certificate = matches!(
        alert,
        Alert::UnknownCA
            | Alert::BadCertificate
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate
            | Alert::CertificateRequired
            | Alert::AccessDenied
            | Alert::DecryptError
    );
    about_certificate.then(|| ConnectFailure {
        reason: format!(
            "the server rejected the client certificate {} (TLS alert {alert:?})",
            certificate.display()
        ),
        fix: "have the client certificate issued by an authority that the server's \
              ssl_ca_file contains, and check that it has not expired"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};

    /// Writes a self-signed client certificate for `name` and its key into `dir`, and returns
    /// their paths.
    fn write_identity(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        let certificate = params.self_signed(&key).expect("client certificate");
        let certificate_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&certificate_path, certificate.pem()).expect("write certificate");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (certificate_path, key_path)
    }

    fn config_with(
        certificate: Option<&Path>,
        key: Option<&Path>,
        mode: SslMode,
    ) -> PostgresSinkConfig {
        let mut config = PostgresSinkConfig::new("host=127.0.0.1 user=ingest", "t", "p");
        config.ssl_mode = mode;
        config.ssl_client_cert = certificate.map(Path::to_path_buf);
        config.ssl_client_key = key.map(Path::to_path_buf);
        config
    }

    fn message(config: &PostgresSinkConfig) -> String {
        config
            .validate()
            .expect_err("the client certificate options are invalid")
            .to_string()
    }

    #[test]
    fn matching_pair_validates() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, key) = write_identity(dir.path(), "ingest");
        let config = config_with(Some(&certificate), Some(&key), SslMode::VerifyFull);
        config.validate().expect("a matching pair");
        let provider = rustls::crypto::ring::default_provider();
        let identity = read_identity(&config, &provider)
            .expect("read")
            .expect("an identity");
        assert_eq!(identity.chain.len(), 1);
    }

    #[test]
    fn certificate_without_key_is_rejected() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, key) = write_identity(dir.path(), "ingest");

        let text = message(&config_with(Some(&certificate), None, SslMode::VerifyFull));
        assert!(text.contains("ssl_client_key is not"), "{text}");
        assert!(text.contains("set ssl_client_key"), "{text}");

        let text = message(&config_with(None, Some(&key), SslMode::VerifyFull));
        assert!(text.contains("ssl_client_cert is not"), "{text}");
        assert!(text.contains("set ssl_client_cert"), "{text}");
    }

    #[test]
    fn certificate_with_disable_is_rejected() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, key) = write_identity(dir.path(), "ingest");
        let text = message(&config_with(
            Some(&certificate),
            Some(&key),
            SslMode::Disable,
        ));
        assert!(text.contains("ssl_mode is disable"), "{text}");
        assert!(text.contains("set ssl_mode to \"verify_full\""), "{text}");
    }

    #[test]
    fn unreadable_files_are_named() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, key) = write_identity(dir.path(), "ingest");
        let absent = dir.path().join("absent.pem");

        let text = message(&config_with(Some(&absent), Some(&key), SslMode::Require));
        assert!(text.contains("ssl_client_cert"), "{text}");
        assert!(text.contains("absent.pem: cannot read it"), "{text}");

        let text = message(&config_with(
            Some(&certificate),
            Some(&absent),
            SslMode::Require,
        ));
        assert!(text.contains("ssl_client_key"), "{text}");
        assert!(text.contains("absent.pem: cannot read it"), "{text}");

        // A certificate where the key belongs, and the reverse.
        let text = message(&config_with(
            Some(&certificate),
            Some(&certificate),
            SslMode::Require,
        ));
        assert!(text.contains("no PRIVATE KEY"), "{text}");
        let text = message(&config_with(Some(&key), Some(&key), SslMode::Require));
        assert!(text.contains("no CERTIFICATE block"), "{text}");
    }

    #[test]
    fn key_of_another_certificate_is_rejected() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, _) = write_identity(dir.path(), "ingest");
        let (_, other_key) = write_identity(dir.path(), "other");
        let text = message(&config_with(
            Some(&certificate),
            Some(&other_key),
            SslMode::VerifyFull,
        ));
        assert!(
            text.contains("does not belong to ssl_client_cert"),
            "{text}"
        );
        assert!(text.contains("other.key"), "{text}");
        assert!(text.contains("ingest.crt"), "{text}");
    }

    #[test]
    fn errors_never_quote_the_key() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let (certificate, key) = write_identity(dir.path(), "ingest");
        let pem = std::fs::read_to_string(&key).expect("read key");
        let secret_line = pem.lines().nth(1).expect("a base64 line").to_string();
        // A key file whose base64 is broken half way.
        let broken = dir.path().join("broken.key");
        let mut text = pem.clone();
        text.insert_str(text.len() / 2, "!!");
        std::fs::write(&broken, text).expect("write broken key");

        let config = config_with(Some(&certificate), Some(&broken), SslMode::Require);
        let error = message(&config);
        assert!(error.contains("broken.key: invalid PEM"), "{error}");
        assert!(!error.contains(&secret_line), "{error}");
        let debug = format!("{config:?}");
        assert!(!debug.contains(&secret_line), "{debug}");
    }
}
