//! A certificate authority generated with rcgen for the TLS tests of the PostgreSQL sink,
//! and the server and client certificates it issues.

#![allow(
    dead_code,
    reason = "the sink's tests and the command-line tool's tests use different parts"
)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A certificate authority generated for one test.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    /// Generates a self-signed authority with common name `name`.
    pub fn generate(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        Authority { issuer }
    }

    /// Writes the authority's certificate as PEM to `dir/file` and returns the path.
    pub fn write_pem(&self, dir: &Path, file: &str) -> PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, self.issuer.pem()).expect("write the CA certificate");
        path
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses) and returns the
    /// certificate chain and the private key, both as PEM.
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let certificate = CertificateParams::new(names)
            .expect("server parameters")
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        let chain = format!("{}{}", certificate.pem(), self.issuer.pem());
        (chain, key.serialize_pem())
    }

    /// Returns the authority's certificate as PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Issues a client certificate whose common name is `user`, the name that PostgreSQL's
    /// `cert` method compares with the user name, and returns the certificate and the
    /// private key, both as PEM.
    pub fn issue_client(&self, user: &str) -> (String, String) {
        let key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client parameters");
        params.distinguished_name.push(DnType::CommonName, user);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("client certificate");
        (certificate.pem(), key.serialize_pem())
    }
}
