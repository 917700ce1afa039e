//! The TLS material, read and checked at init: a file that is not PEM, a key that does not
//! belong to its certificate, or a CA that cannot be parsed is an error naming its setting,
//! instead of a handshake failure later blamed on the server.

use rustls::{
    RootCertStore,
    crypto::ring::default_provider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    sign::CertifiedKey,
};

use crate::{ConfigError, PemSource};

/// One piece of PEM material and the setting that named it.
pub(crate) struct Material<'a> {
    pub(crate) source: &'a PemSource,
    pub(crate) origin: &'a str,
}

impl Material<'_> {
    /// The bytes: the file's content, or the inline text.
    pub(crate) fn read(&self) -> Result<Vec<u8>, ConfigError> {
        match self.source {
            PemSource::Data(d) => Ok(d.expose().as_bytes().to_vec()),
            PemSource::Path(p) => std::fs::read(p).map_err(|e| ConfigError::File {
                path: p.clone(),
                message: format!(
                    "cannot read the file named by {}; check the path and that the function \
                     may read it",
                    self.origin
                ),
                source: Some(e.into()),
            }),
        }
    }

    /// An error about this material: the file (and the setting naming it), or the setting.
    fn fail(&self, message: &str, cause: Option<rustls::Error>) -> ConfigError {
        let source = cause.map(|c| c.into());
        match self.source {
            PemSource::Path(p) => ConfigError::File {
                path: p.clone(),
                message: format!("named by {}, {message}", self.origin),
                source,
            },
            PemSource::Data(_) => ConfigError::Invalid {
                origin: self.origin.to_owned(),
                message: message.to_owned(),
            },
        }
    }

    /// Every certificate in the PEM text; none is an error.
    fn certificates(
        &self,
        bytes: &[u8],
        what: &str,
    ) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<_, _>>()
            .map_err(|_| self.fail(&format!("is not valid PEM; give {what} as PEM"), None))?;
        if certs.is_empty() {
            return Err(self.fail(
                &format!(
                    "holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block); give \
                     {what} as PEM"
                ),
                None,
            ));
        }
        Ok(certs)
    }
}

/// Checks the CA bundle the server's certificate is verified against: PEM certificates that
/// parse as trust anchors.
pub(crate) fn check_ca(ca: &Material<'_>, bytes: &[u8]) -> Result<(), ConfigError> {
    const WHAT: &str = "the certificate of the CA that issued the server's certificate";
    let mut store = RootCertStore::empty();
    for cert in ca.certificates(bytes, WHAT)? {
        store.add(cert).map_err(|e| {
            ca.fail(
                &format!("holds a certificate that cannot be parsed; give {WHAT} as PEM"),
                Some(e),
            )
        })?;
    }
    Ok(())
}

/// Checks the mTLS pair: a PEM certificate chain, a PEM private key the TLS stack can use,
/// and that the key belongs to the certificate.
pub(crate) fn check_client_pair(
    cert: &Material<'_>,
    cert_bytes: &[u8],
    key: &Material<'_>,
    key_bytes: &[u8],
) -> Result<(), ConfigError> {
    let chain = cert.certificates(cert_bytes, "the client certificate")?;
    let private = PrivateKeyDer::from_pem_slice(key_bytes).map_err(|_| {
        key.fail(
            "holds no PEM private key (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC \
             PRIVATE KEY`); give the client certificate's private key as PEM",
            None,
        )
    })?;
    let provider = default_provider();
    let signing = provider
        .key_provider
        .load_private_key(private)
        .map_err(|e| {
            key.fail(
                "holds a private key the TLS stack cannot use (not RSA, ECDSA or Ed25519, or \
             damaged); give the client certificate's private key as PEM",
                Some(e),
            )
        })?;
    match CertifiedKey::new(chain, signing).keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => Err(key.fail(
            &format!(
                "does not belong to the client certificate ({}); give the key the certificate \
                 was issued for",
                cert.origin
            ),
            None,
        )),
        Err(e) => Err(cert.fail(
            "holds a certificate that cannot be parsed; give the client certificate as PEM",
            Some(e),
        )),
    }
}
