#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
mod pem;
mod resolve;
mod sdk;
mod secret;
mod snapshot;
mod sources;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
#[cfg(feature = "kms")]
#[cfg_attr(docsrs, doc(cfg(feature = "kms")))]
pub use kms::Kms;
pub use kms::{DECRYPT_VAR, DEFAULT_KMS_TIMEOUT, KMS_PREFIX, LAMBDA_CONTEXT_KEY};
pub use loader::Loader;
pub use secret::Secret;
pub use snapshot::env_snapshot;
pub use sources::Sources;

/// Address used when neither a file nor the environment names one.
pub const DEFAULT_ADDRESS: &str = "localhost:7233";
/// Namespace used when neither a file nor the environment names one.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Profile used when `TEMPORAL_PROFILE` is unset.
pub const DEFAULT_PROFILE: &str = "default";
/// The config file name looked for in `$LAMBDA_TASK_ROOT` and the working directory.
pub const CONFIG_FILE_NAME: &str = "temporal.toml";

/// The layered, not yet validated values of one profile (the envconfig format). No `Debug`
/// (nor on its parts): they hold `api_key`, `client_key_data` and `codec.auth` as read.
#[derive(Default, Clone, Serialize, Deserialize, PartialEq)]
struct RawProfile {
    address: Option<String>,
    namespace: Option<String>,
    api_key: Option<String>,
    tls: Option<RawTls>,
    #[serde(default)]
    grpc_meta: BTreeMap<String, String>,
    codec: Option<RawCodec>,
}

#[derive(Default, Clone, Serialize, Deserialize, PartialEq)]
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

#[derive(Default, Clone, Serialize, Deserialize, PartialEq)]
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

/// The resolved client configuration of one profile. Its `Debug` shows no secret: the API
/// key, inline keys and the codec's auth are [`Secret`]s, and `grpc_meta` shows its names
/// only (a header may carry a credential).
#[derive(Clone, PartialEq, Eq)]
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
    /// Where each connection setting came from, for messages about it.
    pub sources: Sources,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let grpc_meta: BTreeMap<&str, &str> = self
            .grpc_meta
            .keys()
            .map(|k| (k.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("ClientConfig")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("api_key", &self.api_key)
            .field("tls", &self.tls)
            .field("grpc_meta", &grpc_meta)
            .field("codec", &self.codec)
            .field("profile", &self.profile)
            .field("config_file", &self.config_file)
            .field("sources", &self.sources)
            .finish()
    }
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
    /// values (see [`DECRYPT_VAR`] and [`KMS_PREFIX`]; needs the `kms` feature).
    pub async fn load_async() -> Result<Self, ConfigError> {
        Loader::new().load_async().await
    }

    /// Resolves the configuration from the given environment snapshot, decrypting
    /// KMS-encrypted values.
    pub async fn load_from_async(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Loader::new().env(env.clone()).load_async().await
    }
}

/// The config file to read: `TEMPORAL_CONFIG_FILE` if set (it must exist), else
/// `$LAMBDA_TASK_ROOT/temporal.toml`, else `./temporal.toml`, else none.
pub fn config_file_path(env: &HashMap<String, String>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = env.get("TEMPORAL_CONFIG_FILE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        if path.is_dir() {
            return Err(ConfigError::File {
                source: None,
                path,
                message: "TEMPORAL_CONFIG_FILE names a directory, not a file; name the \
                          temporal.toml inside it"
                    .into(),
            });
        }
        if !path.is_file() {
            return Err(ConfigError::File {
                source: None,
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
        if usable(&path) {
            return Ok(Some(path));
        }
    }
    let path = PathBuf::from(CONFIG_FILE_NAME);
    Ok(usable(&path).then_some(path))
}

/// Whether `path` is a file to read. Something there that is not (a directory, a dangling
/// link) is skipped with a warning naming it: it was almost certainly meant to be read.
fn usable(path: &Path) -> bool {
    if path.is_file() {
        return true;
    }
    if let Ok(md) = path.symlink_metadata() {
        let what = if md.is_symlink() {
            "a link to nothing readable"
        } else if md.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        tracing::warn!(
            path = %path.display(),
            "the config file here is {what}, so it is not read and the environment and \
             defaults apply; replace it with the temporal.toml to use, or remove it"
        );
    }
    false
}

#[cfg(test)]
mod tests;
