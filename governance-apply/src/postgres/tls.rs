//! TLS of the PostgreSQL connection: the rustls client config for each [`SslMode`], the
//! checks of the TLS options, and the reason and fix for a failed TLS connection.
//!
//! The connector is `tokio-postgres-rustls` on rustls with the ring provider, so no system
//! OpenSSL is needed. The sink sets tokio-postgres's own `sslmode` to `disable` or `require`
//! and never to `prefer`, which would fall back to plain TCP when the server rejects TLS.
//!
//! tokio-postgres 0.7 reports a server that responds to the SSL request with `N` only by an
//! error message, with no error kind or type to match. So when a TLS connection fails
//! without a rustls error, an I/O error or a server error, [`hosts_rejecting_tls`] sends
//! each host an SSL request of its own and reads the one-byte response.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use governance_core::{Error, Result};
use rustls::client::WantsClientCert;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ConfigBuilder, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::POSTGRES_SINK_NAME;
use super::client_cert::{diagnose_authentication, explain_rejected_certificate, read_identity};
use super::config::{PostgresSinkConfig, SslMode};
use crate::ApplyError;

/// PostgreSQL's SSLRequest message: the length 8 and the request code 80877103, both as
/// big-endian 32-bit integers.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Timeout of each host's response to the SSL request when the connection string sets no
/// `connect_timeout`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks the TLS options against each other and against the connection string, and reads
/// `ssl_root_cert`, `ssl_client_cert` and `ssl_client_key`.
pub(crate) fn validate(
    config: &PostgresSinkConfig,
    connection: &tokio_postgres::Config,
) -> Result<()> {
    let invalid = |message: String| Error::config(POSTGRES_SINK_NAME, message);
    let mode = config.ssl_mode;
    match (connection.get_ssl_mode(), mode) {
        (tokio_postgres::config::SslMode::Require, SslMode::Disable) => {
            return Err(invalid(
                "the connection string sets sslmode=require but ssl_mode is disable: set \
                 ssl_mode to \"require\" or \"verify_full\""
                    .to_string(),
            ));
        }
        (tokio_postgres::config::SslMode::Disable, SslMode::Require | SslMode::VerifyFull) => {
            return Err(invalid(format!(
                "the connection string sets sslmode=disable but ssl_mode is {mode}: remove \
                 sslmode from the connection string"
            )));
        }
        _ => {}
    }
    if let Some(path) = &config.ssl_root_cert {
        if mode == SslMode::Disable {
            return Err(invalid(format!(
                "ssl_root_cert is set to {} but ssl_mode is disable, so no certificate would \
                 be checked: set ssl_mode to \"verify_full\", or remove ssl_root_cert",
                path.display()
            )));
        }
        read_root_certificates(path)?;
    }
    read_identity(config, &rustls::crypto::ring::default_provider())?;
    if mode != SslMode::Disable {
        for host in connection.get_hosts() {
            if let Host::Unix(path) = host {
                return Err(invalid(format!(
                    "ssl_mode is {mode} but host {} is a Unix socket, which PostgreSQL serves \
                     without TLS: connect to a TCP host, or set ssl_mode to \"disable\"",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// Reads the certificates of a PEM file; the error names the file and the fix.
fn read_root_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let invalid = |reason: String| {
        Error::config(
            POSTGRES_SINK_NAME,
            format!(
                "ssl_root_cert {}: {reason}; set it to a PEM file with the certificate of the \
                 authority that signed the server's certificate",
                path.display()
            ),
        )
    };
    let pem = std::fs::read(path).map_err(|error| invalid(format!("cannot read it ({error})")))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("invalid PEM ({error})")))?;
    if certificates.is_empty() {
        return Err(invalid("no CERTIFICATE block found".to_string()));
    }
    Ok(certificates)
}

/// Builds the TLS connector for `config.ssl_mode`. With `disable` it is never used, because
/// the sink then sets tokio-postgres's `sslmode` to `disable`.
pub(crate) fn connector(config: &PostgresSinkConfig) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let internal = |error: rustls::Error| {
        Error::Internal(format!(
            "the TLS client config of the PostgreSQL sink is invalid: {error}"
        ))
    };
    let authorities = match &config.ssl_root_cert {
        Some(path) => read_root_certificates(path)?,
        None => Vec::new(),
    };
    let identity = read_identity(config, &provider)?;
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(internal)?;
    let builder: ConfigBuilder<ClientConfig, WantsClientCert> = match config.ssl_mode {
        SslMode::Disable => builder.with_root_certificates(RootCertStore::empty()),
        SslMode::VerifyFull => {
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            add_authorities(&mut roots, authorities, config)?;
            builder.with_root_certificates(roots)
        }
        SslMode::Require if authorities.is_empty() => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(UncheckedCertificate {
                algorithms: provider.signature_verification_algorithms,
            })),
        SslMode::Require => {
            // Only the file's authorities: without the host-name check, trusting the public
            // roots would accept any publicly issued certificate.
            let mut roots = RootCertStore::empty();
            add_authorities(&mut roots, authorities, config)?;
            let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| {
                    Error::Internal(format!(
                        "the certificate verifier of the PostgreSQL sink failed to build: {error}"
                    ))
                })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly { chain }))
        }
    };
    let client = match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain, identity.key)
            .map_err(internal)?,
        None => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(client))
}

fn add_authorities(
    roots: &mut RootCertStore,
    authorities: Vec<CertificateDer<'static>>,
    config: &PostgresSinkConfig,
) -> Result<()> {
    for certificate in authorities {
        roots.add(certificate).map_err(|error| {
            let path = config
                .ssl_root_cert
                .as_deref()
                .map(|path| path.display().to_string())
                .unwrap_or_default();
            Error::config(
                POSTGRES_SINK_NAME,
                format!(
                    "ssl_root_cert {path}: a certificate is not a valid trust anchor \
                     ({error}); put only CA certificates in the file"
                ),
            )
        })?;
    }
    Ok(())
}

/// The reason for a failed connection and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectFailure {
    pub reason: String,
    pub fix: String,
}

/// Builds the error of a failed connection: [`ApplyError::PostgresTls`] when TLS failed,
/// [`ApplyError::PostgresAuthentication`] when the server rejected the authentication, and
/// [`ApplyError::PostgresConnect`] otherwise.
pub(crate) async fn connect_error(
    source: tokio_postgres::Error,
    connection: &tokio_postgres::Config,
    config: &PostgresSinkConfig,
) -> ApplyError {
    let server = config.connection.redacted();
    let mut failure = diagnose(&source, config);
    if failure.is_none() && may_be_rejected_tls(&source, config) {
        let hosts = hosts_rejecting_tls(connection).await;
        if !hosts.is_empty() {
            failure = Some(rejected_tls(&hosts));
        }
    }
    if let Some(ConnectFailure { reason, fix }) = failure {
        return ApplyError::PostgresTls {
            server,
            reason,
            fix,
            source,
        };
    }
    if let Some(ConnectFailure { reason, fix }) = diagnose_authentication(&source, config) {
        return ApplyError::PostgresAuthentication {
            server,
            reason,
            fix,
            source,
        };
    }
    ApplyError::PostgresConnect { server, source }
}

/// Returns the reason and fix for a connection error that a rustls error caused, or `None`
/// when the error has another cause (a refused TCP connection, a wrong password, a server
/// that rejected TLS).
pub(crate) fn diagnose(
    error: &tokio_postgres::Error,
    config: &PostgresSinkConfig,
) -> Option<ConnectFailure> {
    if config.ssl_mode == SslMode::Disable {
        return None;
    }
    let hosts = config.connection.hosts();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(explain(tls, &hosts, config));
        }
        // tokio-rustls wraps the rustls error in an io::Error, whose source() skips it.
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(explain(tls, &hosts, config));
        }
        current = cause.source();
    }
    None
}

/// Returns true when a failed TLS connection may have failed because the server rejected
/// TLS. That is the case when the error carries no server error, no I/O error and no rustls
/// error, so no handshake or startup message failed. Only then is a second SSL request
/// worthwhile.
pub(crate) fn may_be_rejected_tls(
    error: &tokio_postgres::Error,
    config: &PostgresSinkConfig,
) -> bool {
    if config.ssl_mode == SslMode::Disable || error.as_db_error().is_some() {
        return false;
    }
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if cause.is::<std::io::Error>() || cause.is::<rustls::Error>() {
            return false;
        }
        current = cause.source();
    }
    true
}

/// Sends PostgreSQL's SSL request to each TCP host of `connection` and returns the hosts
/// that responded `N`, which means that the server does not accept TLS. A host that cannot
/// be reached in time or responds otherwise is left out.
pub(crate) async fn hosts_rejecting_tls(connection: &tokio_postgres::Config) -> Vec<String> {
    let ports = connection.get_ports();
    let addresses = connection.get_hostaddrs();
    let wait = connection
        .get_connect_timeout()
        .copied()
        .unwrap_or(PROBE_TIMEOUT);
    let mut rejecting = Vec::new();
    for (index, host) in connection.get_hosts().iter().enumerate() {
        let Host::Tcp(name) = host else {
            continue;
        };
        // libpq's rule: one port for every host, or one port per host; 5432 by default.
        let port = match ports {
            [] => 5432,
            [port] => *port,
            ports => ports.get(index).copied().unwrap_or(5432),
        };
        let target = match addresses.get(index) {
            Some(address) => address.to_string(),
            None => name.clone(),
        };
        let response = tokio::time::timeout(wait, request_tls(&target, port)).await;
        if let Ok(Ok(b'N')) = response {
            rejecting.push(name.clone());
        }
    }
    rejecting
}

/// Sends an SSL request to `host` and returns the server's one-byte response: `S` to go on
/// with TLS, `N` when the server does not accept TLS.
async fn request_tls(host: &str, port: u16) -> std::io::Result<u8> {
    let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
    stream.write_all(&SSL_REQUEST).await?;
    let mut response = [0u8; 1];
    stream.read_exact(&mut response).await?;
    Ok(response[0])
}

/// Returns the reason and fix for a server that responded to the SSL request with `N`.
pub(crate) fn rejected_tls(hosts: &[String]) -> ConnectFailure {
    let hosts = hosts.join(",");
    ConnectFailure {
        reason: "the server rejected TLS (it responded to the SSL request with N)".to_string(),
        fix: format!(
            "turn TLS on at the server (ssl = on with ssl_cert_file and ssl_key_file in \
             postgresql.conf), or set ssl_mode to \"disable\" if plain TCP to {hosts} is \
             acceptable"
        ),
    }
}

fn explain(error: &rustls::Error, hosts: &str, config: &PostgresSinkConfig) -> ConnectFailure {
    let failure = |reason: String, fix: String| ConnectFailure { reason, fix };
    match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            let fix = match &config.ssl_root_cert {
                Some(path) => format!(
                    "put the certificate of the authority that signed the server's \
                     certificate into {}",
                    path.display()
                ),
                None => "set ssl_root_cert to a PEM file with the certificate of the authority \
                         that signed the server's certificate"
                    .to_string(),
            };
            failure(
                "the server's certificate is not signed by a trusted certificate authority"
                    .to_string(),
                fix,
            )
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => failure(
            format!("the server's certificate is not valid for host {hosts}"),
            "connect to a host name that the certificate lists, or issue the server a \
             certificate for this host"
                .to_string(),
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => failure(
            "the server's certificate has expired or is not valid yet".to_string(),
            "renew the server's certificate, or correct the clock of this machine".to_string(),
        ),
        rustls::Error::InvalidCertificate(other) => failure(
            format!("the server's certificate is invalid ({other:?})"),
            "check the server's ssl_cert_file".to_string(),
        ),
        rustls::Error::AlertReceived(alert) => match explain_rejected_certificate(*alert, config) {
            Some(rejected) => rejected,
            None => failure(
                format!("the server aborted the TLS handshake with alert {alert:?}"),
                "read the server's log for the cause".to_string(),
            ),
        },
        rustls::Error::PeerIncompatible(incompatibility) => failure(
            format!(
                "the server supports no TLS version or cipher that rustls accepts ({incompatibility:?})"
            ),
            "allow TLS 1.2 or 1.3 at the server (ssl_min_protocol_version)".to_string(),
        ),
        other => failure(
            format!("the TLS handshake failed ({other})"),
            "check the server's TLS settings and its log".to_string(),
        ),
    }
}

/// Accepts any certificate but still checks the handshake signatures, for `require`
/// without `ssl_root_cert`.
#[derive(Debug)]
struct UncheckedCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for UncheckedCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, certificate, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, certificate, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Checks the certificate chain but not the host name, for `require` with `ssl_root_cert`.
/// The webpki verifier checks the name only after the chain, so a name error means that the
/// chain was valid.
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}
