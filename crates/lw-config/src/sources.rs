//! [`Sources`]: where each connection setting came from, so a failure long after loading
//! (a refused certificate, a rejected API key) can still name the setting to fix.

/// Where each connection setting of a [`ClientConfig`](crate::ClientConfig) came from, in the
/// words every message uses: a file and key (`temporal.toml: key
/// \`profile.default.api_key\``), an environment variable, a code override, or the default.
///
/// ```
/// # use std::collections::HashMap;
/// let env = HashMap::from([
///     ("LAMBDA_TASK_ROOT".to_string(), "/nonexistent".to_string()),
///     ("TEMPORAL_API_KEY".to_string(), "k".to_string()),
/// ]);
/// let config = lw_config::ClientConfig::load_from(&env)?;
/// assert_eq!(config.sources.api_key.as_deref(), Some("environment variable TEMPORAL_API_KEY"));
/// assert_eq!(config.sources.address, "the default address (localhost:7233)");
/// # Ok::<(), lw_config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sources {
    /// The address.
    pub address: String,
    /// The namespace.
    pub namespace: String,
    /// The API key, when one is set.
    pub api_key: Option<String>,
    /// What turned TLS on (the `tls` section or variables, or the API key), when it is on.
    pub tls: Option<String>,
    /// The CA certificate the server is checked against, when one is set (system roots
    /// otherwise).
    pub server_ca_cert: Option<String>,
    /// The name the server certificate is checked against, when set (the address host
    /// otherwise).
    pub server_name: Option<String>,
    /// The client certificate (mTLS), when set.
    pub client_cert: Option<String>,
    /// The client key (mTLS), when set.
    pub client_key: Option<String>,
}
