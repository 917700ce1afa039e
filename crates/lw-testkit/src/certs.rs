//! Throwaway certificates for TLS tests, generated with `rcgen` and written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::TestkitError;

/// The only name in the server certificate (a DNS SAN; there is no IP SAN, so a client that
/// dials `127.0.0.1` must set its TLS server name to this).
pub const SERVER_NAME: &str = "temporal.test";

/// A test PKI in a temporary folder, removed on drop:
///
/// - the CA (`ca.pem`), which signs
///   - the server certificate (`server.pem` / `server.key`), SAN `DNS:temporal.test` only;
///   - a client certificate (`client.pem` / `client.key`) for mTLS;
/// - an unrelated "other" CA (`other-ca.pem`), which signs
///   - another client certificate (`other-client.pem` / `other-client.key`): a certificate
///     the server does not trust, for wrong-client-certificate and untrusted-issuer tests.
///
/// Keys are ECDSA P-256 in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
#[derive(Debug)]
pub struct TestCerts {
    dir: tempfile::TempDir,
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
    other_ca: String,
    other_client_cert: String,
    other_client_key: String,
}

/// A certificate and its key, in PEM.
struct Pair {
    cert: String,
    key: String,
}

fn new_ca(common_name: &str) -> Result<(String, Issuer<'static, KeyPair>), TestkitError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn leaf(
    common_name: &str,
    dns_names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'static, KeyPair>,
) -> Result<Pair, TestkitError> {
    let names: Vec<String> = dns_names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok(Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

impl TestCerts {
    /// Generates both CAs and the three leaf certificates and writes them into a new
    /// temporary folder.
    pub fn generate() -> Result<TestCerts, TestkitError> {
        let (ca, issuer) = new_ca("lambdaworker test CA")?;
        let server = leaf(
            SERVER_NAME,
            &[SERVER_NAME],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        )?;
        let client = leaf(
            "lambdaworker test client",
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        )?;
        let (other_ca, other_issuer) = new_ca("unrelated test CA")?;
        let other = leaf(
            "client of the unrelated CA",
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
            &other_issuer,
        )?;
        let certs = TestCerts {
            dir: tempfile::Builder::new().prefix("lw-certs-").tempdir()?,
            ca,
            server_cert: server.cert,
            server_key: server.key,
            client_cert: client.cert,
            client_key: client.key,
            other_ca,
            other_client_cert: other.cert,
            other_client_key: other.key,
        };
        certs.write()?;
        Ok(certs)
    }

    fn write(&self) -> Result<(), TestkitError> {
        let files = [
            ("ca.pem", &self.ca),
            ("server.pem", &self.server_cert),
            ("server.key", &self.server_key),
            ("client.pem", &self.client_cert),
            ("client.key", &self.client_key),
            ("other-ca.pem", &self.other_ca),
            ("other-client.pem", &self.other_client_cert),
            ("other-client.key", &self.other_client_key),
        ];
        for (name, pem) in files {
            std::fs::write(self.dir.path().join(name), pem)?;
        }
        Ok(())
    }

    /// The folder holding the PEM files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA certificate (PEM) that signed the server and client certificates.
    pub fn ca_pem(&self) -> &str {
        &self.ca
    }

    /// `ca.pem`: [`TestCerts::ca_pem`] as a file.
    pub fn ca_path(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// The server certificate (PEM, SAN `DNS:temporal.test` only, signed by the CA).
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert
    }

    /// `server.pem`: [`TestCerts::server_cert_pem`] as a file.
    pub fn server_cert_path(&self) -> PathBuf {
        self.path("server.pem")
    }

    /// `server.key`: the server certificate's private key.
    pub fn server_key_path(&self) -> PathBuf {
        self.path("server.key")
    }

    /// The mTLS client certificate (PEM, signed by the CA).
    pub fn client_cert_pem(&self) -> &str {
        &self.client_cert
    }

    /// `client.pem`: [`TestCerts::client_cert_pem`] as a file.
    pub fn client_cert_path(&self) -> PathBuf {
        self.path("client.pem")
    }

    /// The client certificate's private key (PEM): a secret no log may show.
    pub fn client_key_pem(&self) -> &str {
        &self.client_key
    }

    /// `client.key`: [`TestCerts::client_key_pem`] as a file.
    pub fn client_key_path(&self) -> PathBuf {
        self.path("client.key")
    }

    /// The unrelated CA's certificate (PEM): it signed neither the server's certificate nor
    /// the CA's client certificate.
    pub fn other_ca_pem(&self) -> &str {
        &self.other_ca
    }

    /// `other-ca.pem`: [`TestCerts::other_ca_pem`] as a file.
    pub fn other_ca_path(&self) -> PathBuf {
        self.path("other-ca.pem")
    }

    /// A client certificate signed by the unrelated CA (PEM), which the server rejects.
    pub fn other_client_cert_pem(&self) -> &str {
        &self.other_client_cert
    }

    /// `other-client.pem`: [`TestCerts::other_client_cert_pem`] as a file.
    pub fn other_client_cert_path(&self) -> PathBuf {
        self.path("other-client.pem")
    }

    /// The private key of [`TestCerts::other_client_cert_pem`] (PEM).
    pub fn other_client_key_pem(&self) -> &str {
        &self.other_client_key
    }

    /// `other-client.key`: [`TestCerts::other_client_key_pem`] as a file.
    pub fn other_client_key_path(&self) -> PathBuf {
        self.path("other-client.key")
    }

    /// The base64 lines of a PEM block (without its `-----BEGIN`/`-----END` lines): what a
    /// leak of the key or certificate into a log would contain.
    pub fn pem_body_lines(pem: &str) -> Vec<&str> {
        pem.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect()
    }
}
