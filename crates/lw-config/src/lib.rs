#![warn(missing_docs)]
//! Temporal client configuration for Lambda workers.
//!
//! `lw-config` resolves the settings a serverless worker connects with, the same way the
//! Temporal CLI and every other SDK do: a `temporal.toml` profile overlaid by `TEMPORAL_*`
//! environment variables. Layers, lowest first:
//!
//! 1. built-in defaults (`localhost:7233`, namespace `default`);
//! 2. the profile (`TEMPORAL_PROFILE`, default `default`) of the first config file found in
//!    `TEMPORAL_CONFIG_FILE`, `$LAMBDA_TASK_ROOT/temporal.toml`, `./temporal.toml` (optional);
//! 3. environment variables (`TEMPORAL_ADDRESS`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, ...);
//! 4. code: whatever the configure callback changes on the options built from the result.
//!
//! The layering is done with [figment], so every value keeps its provenance and an error
//! names the file and key, or the environment variable, it came from.
//!
//! It is not the worker's options (see `lw-options`) nor the lifecycle (see `lw-runtime`).
//!
//! ```
//! use std::collections::HashMap;
//! let env = HashMap::from([
//!     ("TEMPORAL_ADDRESS".to_string(), "127.0.0.1:7233".to_string()),
//!     ("TEMPORAL_NAMESPACE".to_string(), "orders".to_string()),
//! ]);
//! let config = lw_config::ClientConfig::load_from(&env)?;
//! assert_eq!(config.namespace, "orders");
//! let (connection, client) = config.to_options()?;
//! assert_eq!(connection.target.as_str(), "http://127.0.0.1:7233/");
//! assert_eq!(client.namespace, "orders");
//! # Ok::<(), lw_config::ConfigError>(())
//! ```

mod env;
mod error;
mod file;
mod kms;
mod loader;
mod secret;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use figment::Figment;
use serde::{Deserialize, Serialize};
use temporalio_client::{ClientOptions, ClientTlsOptions, ConnectionOptions, TlsOptions, Url};

pub use error::ConfigError;
pub use kms::{DECRYPT_VAR, DEFAULT_KMS_TIMEOUT, KMS_PREFIX, Kms, LAMBDA_CONTEXT_KEY};
pub use loader::Loader;
pub use secret::Secret;

/// Address used when neither a file nor the environment names one.
pub const DEFAULT_ADDRESS: &str = "localhost:7233";
/// Namespace used when neither a file nor the environment names one.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Profile used when `TEMPORAL_PROFILE` is unset.
pub const DEFAULT_PROFILE: &str = "default";
/// The config file name looked for in `$LAMBDA_TASK_ROOT` and the working directory.
pub const CONFIG_FILE_NAME: &str = "temporal.toml";

/// The layered, not yet validated values of one profile (the envconfig format).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct RawProfile {
    address: Option<String>,
    namespace: Option<String>,
    api_key: Option<String>,
    tls: Option<RawTls>,
    #[serde(default)]
    grpc_meta: BTreeMap<String, String>,
    codec: Option<RawCodec>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct RawTls {
    disabled: Option<bool>,
    client_cert_path: Option<String>,
    client_cert_data: Option<String>,
    client_key_path: Option<String>,
    client_key_data: Option<String>,
    server_ca_cert_path: Option<String>,
    server_ca_cert_data: Option<String>,
    server_name: Option<String>,
    disable_host_verification: Option<bool>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct RawCodec {
    endpoint: Option<String>,
    auth: Option<String>,
}

/// Where a piece of PEM material comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    /// A file, already resolved to an absolute or working-directory-relative path.
    Path(PathBuf),
    /// Inline PEM text (a `*_data` key or variable).
    Data(Secret),
}

impl std::fmt::Debug for PemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Data(_) => f.write_str("Data(<redacted>)"),
        }
    }
}

/// The `codec` section: a remote codec server for the CLI and Web UI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodecConfig {
    /// The codec server's URL.
    pub endpoint: Option<String>,
    /// The `Authorization` header value sent to it.
    pub auth: Option<Secret>,
}

/// Resolved TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Client certificate for mTLS.
    pub client_cert: Option<PemSource>,
    /// Client private key for mTLS.
    pub client_key: Option<PemSource>,
    /// CA certificate to trust for the server (system roots otherwise).
    pub server_ca_cert: Option<PemSource>,
    /// Name to verify the server certificate against (the address host otherwise).
    pub server_name: Option<String>,
}

/// The resolved client configuration of one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `host:port` or URL of the Temporal frontend.
    pub address: String,
    /// Namespace the worker polls in.
    pub namespace: String,
    /// API key sent as a bearer token; turns TLS on unless TLS is explicitly disabled.
    pub api_key: Option<Secret>,
    /// TLS settings; `None` means plaintext.
    pub tls: Option<TlsConfig>,
    /// gRPC metadata (headers) sent with every call.
    pub grpc_meta: BTreeMap<String, String>,
    /// The remote codec server the CLI and Web UI use for this profile. A worker does not use
    /// it (payload codecs are set in code on the data converter); a warning says so.
    pub codec: Option<CodecConfig>,
    /// The profile that was read.
    pub profile: String,
    /// The config file that was read, if one was found.
    pub config_file: Option<PathBuf>,
}

impl ClientConfig {
    /// Resolves the configuration from the process environment. A KMS-encrypted value is an
    /// error here; use [`ClientConfig::load_async`] to decrypt.
    pub fn load() -> Result<Self, ConfigError> {
        Loader::new().load()
    }

    /// Resolves the configuration from the given environment snapshot (the process
    /// environment is not read), so tests and custom runtimes can inject variables.
    pub fn load_from(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Loader::new().env(env.clone()).load()
    }

    /// Resolves the configuration from the process environment, decrypting KMS-encrypted
    /// values (see [`kms`](crate::Kms)).
    pub async fn load_async() -> Result<Self, ConfigError> {
        Loader::new().load_async().await
    }

    /// Resolves the configuration from the given environment snapshot, decrypting
    /// KMS-encrypted values.
    pub async fn load_from_async(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Loader::new().env(env.clone()).load_async().await
    }

    fn resolve(
        raw: RawProfile,
        figment: &Figment,
        profile: String,
        config_file: Option<PathBuf>,
        base_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let origin = |key: &str| error::origin_of(figment, key);
        let api_key = raw.api_key.filter(|k| !k.is_empty()).map(Secret::new);
        let tls_enabled = match &raw.tls {
            Some(t) => t.disabled != Some(true),
            None => api_key.is_some(),
        };
        // Path/data conflicts are errors even when TLS is off, as in the official loader.
        let t = raw.tls.clone().unwrap_or_default();
        for (path_key, path, data_key, data) in [
            (
                "tls.client_cert_path",
                &t.client_cert_path,
                "tls.client_cert_data",
                &t.client_cert_data,
            ),
            (
                "tls.client_key_path",
                &t.client_key_path,
                "tls.client_key_data",
                &t.client_key_data,
            ),
            (
                "tls.server_ca_cert_path",
                &t.server_ca_cert_path,
                "tls.server_ca_cert_data",
                &t.server_ca_cert_data,
            ),
        ] {
            if path.as_deref().is_some_and(|p| !p.is_empty())
                && data.as_deref().is_some_and(|d| !d.is_empty())
            {
                return Err(ConfigError::Conflict {
                    first: origin(path_key),
                    second: origin(data_key),
                    message: "give either the path or the data, not both".into(),
                });
            }
        }
        let tls = if tls_enabled {
            if t.disable_host_verification == Some(true) {
                return Err(ConfigError::Unsupported {
                    origin: origin("tls.disable_host_verification"),
                    message: "the Rust Temporal client cannot disable TLS host verification; \
                              remove the setting, or set `server_name` to the name the server \
                              certificate was issued for"
                        .into(),
                });
            }
            let from_file = |key: &str| {
                figment
                    .find_metadata(key)
                    .is_some_and(|md| matches!(md.source, Some(figment::Source::File(_))))
            };
            let pem = |path_key: &str,
                       path: Option<String>,
                       data_key: &str,
                       data: Option<String>|
             -> Result<Option<PemSource>, ConfigError> {
                if let Some(p) = path.filter(|p| !p.is_empty()) {
                    // A relative path written in the file is relative to the file's folder (so
                    // `client.pem` beside temporal.toml in /var/task works); one from the
                    // environment or code is relative to the working directory, as everywhere.
                    let p = PathBuf::from(p);
                    let resolved = match (&base_dir, p.is_relative() && from_file(path_key)) {
                        (Some(dir), true) => dir.join(p),
                        _ => p,
                    };
                    return Ok(Some(PemSource::Path(resolved)));
                }
                match data.filter(|d| !d.is_empty()) {
                    Some(d) if !d.contains("-----BEGIN") => Err(ConfigError::Invalid {
                        origin: origin(data_key),
                        message: "is not PEM text (no `-----BEGIN` line); paste the whole PEM \
                                  block or use the `_path` form"
                            .into(),
                    }),
                    Some(d) => Ok(Some(PemSource::Data(Secret::new(d)))),
                    None => Ok(None),
                }
            };
            let cfg = TlsConfig {
                client_cert: pem(
                    "tls.client_cert_path",
                    t.client_cert_path,
                    "tls.client_cert_data",
                    t.client_cert_data,
                )?,
                client_key: pem(
                    "tls.client_key_path",
                    t.client_key_path,
                    "tls.client_key_data",
                    t.client_key_data,
                )?,
                server_ca_cert: pem(
                    "tls.server_ca_cert_path",
                    t.server_ca_cert_path,
                    "tls.server_ca_cert_data",
                    t.server_ca_cert_data,
                )?,
                server_name: t.server_name.filter(|s| !s.is_empty()),
            };
            if cfg.client_cert.is_some() != cfg.client_key.is_some() {
                let (have, missing) = match (&cfg.client_cert, &cfg.client_key) {
                    (Some(PemSource::Path(_)), _) => {
                        ("tls.client_cert_path", "client_key_path or client_key_data")
                    }
                    (Some(PemSource::Data(_)), _) => {
                        ("tls.client_cert_data", "client_key_path or client_key_data")
                    }
                    (None, Some(PemSource::Path(_))) => (
                        "tls.client_key_path",
                        "client_cert_path or client_cert_data",
                    ),
                    _ => (
                        "tls.client_key_data",
                        "client_cert_path or client_cert_data",
                    ),
                };
                return Err(ConfigError::Invalid {
                    origin: origin(have),
                    message: format!(
                        "a client certificate and key go together for mTLS: also set {missing}"
                    ),
                });
            }
            Some(cfg)
        } else {
            None
        };
        let address = raw
            .address
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_owned());
        // Validate the address now so a bad one is an init error naming its source.
        parse_address(&address, tls.is_some()).map_err(|message| ConfigError::Invalid {
            origin: origin("address"),
            message,
        })?;
        for (name, value) in &raw.grpc_meta {
            let key = format!("grpc_meta.{name}");
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
            if !valid_name {
                return Err(ConfigError::Invalid {
                    origin: origin(&key),
                    message: "is not a valid gRPC header name; use letters, digits, `-`, `_` \
                              and `.` only"
                        .into(),
                });
            }
            if name.ends_with("-bin") {
                return Err(ConfigError::Unsupported {
                    origin: origin(&key),
                    message: "names a binary (`-bin`) header, which cannot be given as text; \
                              rename the header or set it in code with \
                              opts.connection_options.binary_headers"
                        .into(),
                });
            }
            if !value
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')
            {
                return Err(ConfigError::Invalid {
                    origin: origin(&key),
                    message: "holds characters a gRPC header value cannot carry (control \
                              characters, newlines or non-ASCII); use printable ASCII only"
                        .into(),
                });
            }
        }
        let codec = raw.codec.and_then(|c| {
            let c = CodecConfig {
                endpoint: c.endpoint.filter(|e| !e.is_empty()),
                auth: c.auth.filter(|a| !a.is_empty()).map(Secret::new),
            };
            (c.endpoint.is_some() || c.auth.is_some()).then_some(c)
        });
        if let Some(c) = &codec {
            let key = if c.endpoint.is_some() {
                "codec.endpoint"
            } else {
                "codec.auth"
            };
            tracing::warn!(
                source = %origin(key),
                "the `codec` setting is for the CLI and Web UI (a remote codec server); a worker \
                 does not call it: set payload codecs on the data converter in code"
            );
        }
        Ok(Self {
            codec,
            address,
            namespace: raw
                .namespace
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            api_key,
            tls,
            grpc_meta: raw.grpc_meta,
            profile,
            config_file,
        })
    }

    /// Builds the Temporal SDK's connection and client options from this configuration,
    /// reading certificate files.
    pub fn to_options(&self) -> Result<(ConnectionOptions, ClientOptions), ConfigError> {
        let target = parse_address(&self.address, self.tls.is_some()).map_err(|message| {
            ConfigError::Invalid {
                origin: "address".into(),
                message,
            }
        })?;
        let tls_options = match &self.tls {
            None => None,
            Some(tls) => {
                let client_tls_options = match (&tls.client_cert, &tls.client_key) {
                    (Some(cert), Some(key)) => Some(
                        ClientTlsOptions::builder()
                            .client_cert(read_pem(cert, "tls.client_cert_path")?)
                            .client_private_key(read_pem(key, "tls.client_key_path")?)
                            .build(),
                    ),
                    _ => None,
                };
                let ca = tls
                    .server_ca_cert
                    .as_ref()
                    .map(|c| read_pem(c, "tls.server_ca_cert_path"))
                    .transpose()?;
                Some(
                    TlsOptions::builder()
                        .maybe_server_root_ca_cert(ca)
                        .maybe_domain(tls.server_name.clone())
                        .maybe_client_tls_options(client_tls_options)
                        .build(),
                )
            }
        };
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

fn read_pem(source: &PemSource, key: &str) -> Result<Vec<u8>, ConfigError> {
    match source {
        PemSource::Data(d) => Ok(d.expose().as_bytes().to_vec()),
        PemSource::Path(p) => std::fs::read(p).map_err(|e| ConfigError::File {
            path: p.clone(),
            message: format!("cannot read the file named by `{key}`: {e}"),
        }),
    }
}

/// Parses a `host:port` or `http(s)://host:port` address the way the CLI does: without a
/// scheme, `https` is used when TLS is on and `http` otherwise.
fn parse_address(address: &str, tls: bool) -> Result<Url, String> {
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

/// The config file to read: `TEMPORAL_CONFIG_FILE` if set (it must exist), else
/// `$LAMBDA_TASK_ROOT/temporal.toml`, else `./temporal.toml`, else none.
pub fn config_file_path(env: &HashMap<String, String>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = env.get("TEMPORAL_CONFIG_FILE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        if path.is_dir() {
            return Err(ConfigError::File {
                path,
                message: "TEMPORAL_CONFIG_FILE names a directory, not a file; name the \
                          temporal.toml inside it"
                    .into(),
            });
        }
        if !path.is_file() {
            return Err(ConfigError::File {
                path,
                message: "TEMPORAL_CONFIG_FILE names a file that does not exist; fix the path \
                          or unset the variable"
                    .into(),
            });
        }
        return Ok(Some(path));
    }
    if let Some(root) = env.get("LAMBDA_TASK_ROOT").filter(|p| !p.is_empty()) {
        let path = Path::new(root).join(CONFIG_FILE_NAME);
        if path.is_file() {
            return Ok(Some(path));
        }
    }
    let path = PathBuf::from(CONFIG_FILE_NAME);
    Ok(path.is_file().then_some(path))
}

#[cfg(test)]
mod tests;
