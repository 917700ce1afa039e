//! [`ClientConfig::to_options`]: the Temporal SDK's connection and client options, with the
//! address parsed the way the CLI parses it and certificate files read.

use std::collections::HashMap;

use temporalio_client::{ClientOptions, ClientTlsOptions, ConnectionOptions, TlsOptions, Url};

use crate::{
    ClientConfig, ConfigError, TlsConfig,
    pem::{self, Material},
};

impl ClientConfig {
    /// Builds the Temporal SDK's connection and client options from this configuration,
    /// reading certificate files.
    pub fn to_options(&self) -> Result<(ConnectionOptions, ClientOptions), ConfigError> {
        let target = parse_address(&self.address, self.tls.is_some()).map_err(|message| {
            ConfigError::Invalid {
                origin: "address".into(),
                message,
            }
        })?;
        let tls_options = self
            .tls
            .as_ref()
            .map(|tls| self.tls_options(tls))
            .transpose()?;
        let headers: HashMap<String, String> = self
            .grpc_meta
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let connection = ConnectionOptions::new(target)
            .maybe_api_key(self.api_key.as_ref().map(|k| k.expose().to_owned()))
            .maybe_tls_options(tls_options)
            .maybe_headers((!headers.is_empty()).then_some(headers))
            .build();
        Ok((
            connection,
            ClientOptions::new(self.namespace.clone()).build(),
        ))
    }
}

impl ClientConfig {
    /// The SDK's TLS options, with every certificate and key read and checked.
    fn tls_options(&self, tls: &TlsConfig) -> Result<TlsOptions, ConfigError> {
        // A config built by hand has no sources: name the setting itself.
        let origin =
            |o: &Option<String>, key: &str| o.clone().unwrap_or_else(|| format!("`{key}`"));
        let client_tls_options = match (&tls.client_cert, &tls.client_key) {
            (Some(cert), Some(key)) => {
                let cert_origin = origin(&self.sources.client_cert, "tls.client_cert_path");
                let key_origin = origin(&self.sources.client_key, "tls.client_key_path");
                let cert = Material {
                    source: cert,
                    origin: &cert_origin,
                };
                let key = Material {
                    source: key,
                    origin: &key_origin,
                };
                let (cert_bytes, key_bytes) = (cert.read()?, key.read()?);
                pem::check_client_pair(&cert, &cert_bytes, &key, &key_bytes)?;
                Some(
                    ClientTlsOptions::builder()
                        .client_cert(cert_bytes)
                        .client_private_key(key_bytes)
                        .build(),
                )
            }
            _ => None,
        };
        let ca = match &tls.server_ca_cert {
            Some(ca) => {
                let ca_origin = origin(&self.sources.server_ca_cert, "tls.server_ca_cert_path");
                let ca = Material {
                    source: ca,
                    origin: &ca_origin,
                };
                let bytes = ca.read()?;
                pem::check_ca(&ca, &bytes)?;
                Some(bytes)
            }
            None => None,
        };
        Ok(TlsOptions::builder()
            .maybe_server_root_ca_cert(ca)
            .maybe_domain(tls.server_name.clone())
            .maybe_client_tls_options(client_tls_options)
            .build())
    }
}

/// Parses a `host:port` or `http(s)://host:port` address the way the CLI does: without a
/// scheme, `https` is used when TLS is on and `http` otherwise.
pub(crate) fn parse_address(address: &str, tls: bool) -> Result<Url, String> {
    let address = address.trim();
    let with_scheme = if address.contains("://") {
        address.to_owned()
    } else {
        format!("{}://{address}", if tls { "https" } else { "http" })
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| format!("`{address}` is not a valid address ({e}); write it as host:port"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{address}` uses the scheme `{}`; the client speaks gRPC over http or https: \
             write it as host:port",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{address}` has no host; write it as host:port"));
    }
    if url.port().is_none() && !has_explicit_port(address) {
        return Err(format!(
            "`{address}` has no port; write it as host:port (Temporal's default is 7233)"
        ));
    }
    Ok(url)
}

/// Whether the authority part of `address` ends in `:<digits>` (the `url` crate reports no
/// port when it is the scheme's default, e.g. `https://h:443`).
fn has_explicit_port(address: &str) -> bool {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((host, port)) => {
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':')
        }
        None => false,
    }
}
