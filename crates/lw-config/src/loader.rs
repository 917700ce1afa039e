//! The resolution pipeline: locate and read the file, collect KMS-encrypted values, decrypt
//! them, then layer defaults ← file ← environment ← code with figment.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment,
    providers::Serialized,
    value::{Dict, Value},
};
use serde::Serialize;

#[cfg(feature = "kms")]
use crate::kms::{DEFAULT_KMS_TIMEOUT, Kms};
use crate::{
    ClientConfig, ConfigError, DEFAULT_PROFILE, RawProfile, Secret, config_file_path, env,
    file::FileProfile,
    kms::{self, Pending, Target},
};

/// Builder for resolving a [`ClientConfig`] with more control than
/// [`ClientConfig::load_from`]: an injected environment, an explicit profile or file, code
/// overrides (the highest layer, with the call site as their provenance), and KMS settings.
///
/// ```
/// use std::collections::HashMap;
/// let env = HashMap::from([("TEMPORAL_NAMESPACE".to_string(), "from-env".to_string())]);
/// let config = lw_config::Loader::new()
///     .env(env)
///     .set("namespace", "from-code")
///     .set("grpc_meta.x-team", "payments")
///     .load()?;
/// assert_eq!(config.namespace, "from-code");
/// assert_eq!(config.grpc_meta["x-team"], "payments");
/// # Ok::<(), lw_config::ConfigError>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct Loader {
    env: Option<HashMap<String, String>>,
    profile: Option<String>,
    config_file: Option<PathBuf>,
    overrides: Vec<Override>,
    #[cfg(feature = "kms")]
    kms: Option<Kms>,
    kms_timeout: Option<Duration>,
}

#[derive(Debug)]
struct Override {
    key: String,
    location: &'static std::panic::Location<'static>,
    figment: Figment,
}

impl Loader {
    /// A loader reading the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this environment snapshot instead of the process environment.
    pub fn env(mut self, env: HashMap<String, String>) -> Self {
        self.env = Some(env);
        self
    }

    /// Reads this profile, as if `TEMPORAL_PROFILE` named it (and overriding it).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Reads this config file, as if `TEMPORAL_CONFIG_FILE` named it (and overriding it).
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Sets a profile key (dotted, e.g. `address`, `tls.server_name`, `grpc_meta.x-team`)
    /// above the file and the environment. Errors about the value name this call's location.
    /// An unknown key is reported by `load`.
    #[track_caller]
    pub fn set<T: Serialize>(mut self, key: &str, value: T) -> Self {
        let key = match key.strip_prefix("grpc_meta.") {
            Some(h) => format!("grpc_meta.{}", env::normalize_header(h)),
            None => key.to_owned(),
        };
        self.overrides.push(Override {
            figment: Figment::from(Serialized::default(&key, value)),
            location: std::panic::Location::caller(),
            key,
        });
        self
    }

    /// Uses this KMS client instead of one built from the environment.
    #[cfg(feature = "kms")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kms")))]
    pub fn kms(mut self, kms: Kms) -> Self {
        self.kms = Some(kms);
        self
    }

    /// Bounds the time all KMS decryptions may take together (default
    /// [`DEFAULT_KMS_TIMEOUT`]).
    pub fn kms_timeout(mut self, timeout: Duration) -> Self {
        self.kms_timeout = Some(timeout);
        self
    }

    /// Resolves without KMS: a KMS-encrypted value is an error that says to use
    /// [`Loader::load_async`].
    pub fn load(self) -> Result<ClientConfig, ConfigError> {
        let plan = self.plan()?;
        if let Some(p) = plan.pending.first() {
            return Err(ConfigError::Kms {
                source: None,
                origin: p.origin.clone(),
                message: "is KMS-encrypted and this loader does not decrypt; resolve with \
                          `Loader::load_async` or `ClientConfig::load_async` (lambdaworker's \
                          run_worker does)"
                    .into(),
            });
        }
        plan.finish(Vec::new())
    }

    /// Resolves, first decrypting every KMS-encrypted value concurrently (once, bounded by
    /// [`Loader::kms_timeout`]). Without the `kms` feature, a KMS-encrypted value is an
    /// error naming it.
    pub async fn load_async(self) -> Result<ClientConfig, ConfigError> {
        #[cfg(feature = "kms")]
        let (kms, timeout) = (
            self.kms.clone(),
            self.kms_timeout.unwrap_or(DEFAULT_KMS_TIMEOUT),
        );
        let plan = self.plan()?;
        if plan.pending.is_empty() {
            return plan.finish(Vec::new());
        }
        #[cfg(feature = "kms")]
        {
            // Timed from building the client (its TLS roots load here) to the last plaintext.
            let started = std::time::Instant::now();
            let kms = match kms {
                Some(k) => k,
                None => Kms::from_env(&plan.env)?,
            };
            let plain = kms::decrypt_all(&kms, &plan.pending, timeout).await?;
            tracing::info!(
                secrets = plain.len(),
                sources = %plan.pending.iter().map(|p| p.origin.as_str()).collect::<Vec<_>>().join(", "),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "decrypted KMS-encrypted configuration"
            );
            plan.finish(plain)
        }
        #[cfg(not(feature = "kms"))]
        Err(ConfigError::Kms {
            source: None,
            origin: plan.pending[0].origin.clone(),
            message: "is KMS-encrypted, but this build has no KMS client: turn on the `kms` \
                      feature of lambdaworker (on by default) or of lw-config"
                .into(),
        })
    }

    fn plan(self) -> Result<Plan, ConfigError> {
        let env = self.env.unwrap_or_else(|| std::env::vars().collect());
        let (profile, named_by) = match self.profile.filter(|p| !p.trim().is_empty()) {
            Some(p) => (p, Some("Loader::profile")),
            None => match env.get("TEMPORAL_PROFILE").filter(|p| !p.trim().is_empty()) {
                Some(p) => (p.clone(), Some("TEMPORAL_PROFILE")),
                None => (DEFAULT_PROFILE.to_owned(), None),
            },
        };
        let config_file = match self.config_file {
            Some(p) if !p.is_file() => {
                return Err(ConfigError::File {
                    source: None,
                    path: p,
                    message: "the config file given to Loader::config_file does not exist or is \
                              not a file; fix the path"
                        .into(),
                });
            }
            Some(p) => Some(p),
            None => config_file_path(&env)?,
        };
        let file = match &config_file {
            Some(path) => FileProfile::read(path, &profile, named_by)?,
            None if named_by.is_some() => {
                return Err(ConfigError::UnknownProfile {
                    profile,
                    named_by: named_by.unwrap_or_default().to_owned(),
                    file: None,
                    available: Vec::new(),
                });
            }
            None => None,
        };
        let mut overrides = Figment::new();
        let mut override_keys = Vec::new();
        for o in self.overrides {
            let origin = format!("code override at {}: `{}`", o.location, o.key);
            if !is_known_key(&o.key) {
                return Err(ConfigError::Invalid {
                    origin,
                    message: format!(
                        "is not a client setting; use one of {}",
                        KNOWN_KEYS.join(", ")
                    ),
                });
            }
            let mut found = Vec::new();
            if let Ok(value) = o.figment.find_value(&o.key) {
                match &value {
                    Value::Dict(_, d) => walk(d, &mut Vec::new(), &mut found),
                    Value::String(_, s) if s.trim_start().starts_with(kms::KMS_PREFIX) => {
                        found.push((Vec::new(), s.clone()));
                    }
                    _ => {}
                }
            }
            if !found.is_empty() {
                return Err(ConfigError::Invalid {
                    origin,
                    message: "starts with `kms:`, but values set in code are not decrypted (the \
                              ciphertext would be sent as is); decrypt it with lw_config::Kms \
                              and set the plaintext"
                        .into(),
                });
            }
            override_keys.push(o.key);
            overrides = overrides.merge(o.figment);
        }
        let mut plan = Plan {
            env,
            profile,
            config_file,
            file,
            overrides,
            override_keys,
            pending: Vec::new(),
        };
        plan.collect_pending()?;
        Ok(plan)
    }
}

/// Everything read, before decryption and layering.
struct Plan {
    env: HashMap<String, String>,
    profile: String,
    config_file: Option<PathBuf>,
    file: Option<FileProfile>,
    overrides: Figment,
    /// Keys set in code (they hide the same key from the file and the environment).
    override_keys: Vec<String>,
    pending: Vec<Pending>,
}

impl Plan {
    fn collect_pending(&mut self) -> Result<(), ConfigError> {
        // Variables the Lambda console encrypted, named in LAMBDAWORKER_KMS_DECRYPT.
        let listed: Vec<String> = self
            .env
            .get(kms::DECRYPT_VAR)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let list_origin = format!("environment variable {}", kms::DECRYPT_VAR);
        for var in &listed {
            if env::key_for_var(var).is_none() {
                return Err(ConfigError::Kms {
                    source: None,
                    origin: list_origin.clone(),
                    message: format!(
                        "lists `{var}`, which is not a Temporal client variable lambdaworker \
                         reads; list only TEMPORAL_* client variables (decrypt your own with \
                         lw_config::Kms)"
                    ),
                });
            }
            let Some(value) = self.env.get(var).filter(|v| !v.trim().is_empty()) else {
                return Err(ConfigError::Kms {
                    source: None,
                    origin: list_origin.clone(),
                    message: format!(
                        "lists `{var}`, which is not set; set it to the ciphertext or remove it \
                         from the list"
                    ),
                });
            };
            let function = self
                .env
                .get("AWS_LAMBDA_FUNCTION_NAME")
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError::Kms {
                    source: None,
                    origin: "environment variable AWS_LAMBDA_FUNCTION_NAME".into(),
                    message: format!(
                        "is not set, and {} names variables encrypted with the context \
                         {}=<function name>; Lambda sets it, elsewhere export it",
                        kms::DECRYPT_VAR,
                        kms::LAMBDA_CONTEXT_KEY
                    ),
                })?;
            self.pending.push(Pending {
                origin: format!("environment variable {var}"),
                target: Target::Env(var.clone()),
                ciphertext: Secret::new(value.clone()),
                context: Some((kms::LAMBDA_CONTEXT_KEY.to_owned(), function.clone())),
            });
        }
        // `kms:` values in the environment (unless code sets the same key).
        let hidden_by_code = |key: &str| {
            self.override_keys
                .iter()
                .any(|k| k == key || key.starts_with(&format!("{k}.")))
        };
        let mut vars: Vec<(&String, &String)> = self.env.iter().collect();
        vars.sort();
        for (var, value) in vars {
            if listed.contains(var) || !value.trim_start().starts_with(kms::KMS_PREFIX) {
                continue;
            }
            let Some(key) = env::key_for_var(var) else {
                continue;
            };
            if hidden_by_code(&key) {
                continue;
            }
            let origin = format!("environment variable {var}");
            if !kms::is_secret_key(&key) {
                return Err(not_secret(origin));
            }
            self.pending.push(Pending {
                origin,
                target: Target::Env(var.clone()),
                ciphertext: Secret::new(value.clone()),
                context: None,
            });
        }
        // `kms:` values in the file profile.
        if let Some(file) = &self.file {
            let mut found = Vec::new();
            walk(file.dict(), &mut Vec::new(), &mut found);
            for (path, ciphertext) in found {
                let key = path.join(".");
                // A value the environment or code replaces is never used: not decrypted.
                let var = env::var_for_key(&key);
                if hidden_by_code(&key) || self.env.get(&var).is_some_and(|v| !v.is_empty()) {
                    continue;
                }
                let origin = format!(
                    "{}: key `profile.{}.{key}`",
                    file.path().display(),
                    self.profile
                );
                if !kms::is_secret_key(&key) {
                    if !is_known_key(&key) {
                        continue; // an unknown key: ignored with a warning, never decrypted
                    }
                    return Err(not_secret(origin));
                }
                self.pending.push(Pending {
                    origin,
                    target: Target::File(path),
                    ciphertext: Secret::new(ciphertext),
                    context: None,
                });
            }
        }
        Ok(())
    }

    fn finish(mut self, plain: Vec<Secret>) -> Result<ClientConfig, ConfigError> {
        for (p, secret) in self.pending.iter().zip(plain) {
            match &p.target {
                Target::Env(var) => {
                    self.env.insert(var.clone(), secret.expose().to_owned());
                }
                Target::File(path) => {
                    if let Some(file) = &mut self.file {
                        replace(file.dict_mut(), path, secret.expose());
                    }
                }
            }
        }
        let env_provider = env::EnvProvider::new(&self.env)?;
        let mut figment = Figment::from(Serialized::defaults(RawProfile::default()));
        if let Some(mut file) = self.file {
            // An empty TEMPORAL_GRPC_META_<NAME> removes the header the file set (as the
            // official loader does); code above it can still set it.
            if let Some(Value::Dict(_, meta)) = file.dict_mut().get_mut("grpc_meta") {
                for h in env_provider.removed_meta() {
                    meta.remove(&h);
                }
            }
            figment = figment.merge(file);
        }
        figment = figment.merge(env_provider).merge(self.overrides);
        let raw: RawProfile = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(&e))?;
        let base_dir = self
            .config_file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        ClientConfig::resolve(raw, &figment, self.profile, self.config_file, base_dir)
    }
}

fn not_secret(origin: String) -> ConfigError {
    ConfigError::Invalid {
        origin,
        message: "starts with `kms:`, but only secrets are decrypted (api_key, \
                  tls.client_cert_data, tls.client_key_data, tls.server_ca_cert_data, \
                  grpc_meta.*, codec.auth); write this value in plain text"
            .into(),
    }
}

/// Collects the key paths (and values) of string values that start with `kms:`.
fn walk(dict: &Dict, prefix: &mut Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
    for (k, v) in dict {
        prefix.push(k.clone());
        match v {
            Value::String(_, s) if s.trim_start().starts_with(kms::KMS_PREFIX) => {
                found.push((prefix.clone(), s.clone()));
            }
            Value::Dict(_, d) => walk(d, prefix, found),
            _ => {}
        }
        prefix.pop();
    }
}

fn replace(dict: &mut Dict, path: &[String], plain: &str) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut d = dict;
    for p in parents {
        match d.get_mut(p) {
            Some(Value::Dict(_, child)) => d = child,
            _ => return,
        }
    }
    d.insert(last.clone(), Value::from(plain.to_owned()));
}

/// Profile keys a code override may set.
const KNOWN_KEYS: &[&str] = &[
    "address",
    "namespace",
    "api_key",
    "tls",
    "tls.disabled",
    "tls.client_cert_path",
    "tls.client_cert_data",
    "tls.client_key_path",
    "tls.client_key_data",
    "tls.server_ca_cert_path",
    "tls.server_ca_cert_data",
    "tls.server_name",
    "tls.disable_host_verification",
    "grpc_meta",
    "grpc_meta.<header>",
    "codec",
    "codec.endpoint",
    "codec.auth",
];

fn is_known_key(key: &str) -> bool {
    KNOWN_KEYS.contains(&key)
        || key
            .strip_prefix("grpc_meta.")
            .is_some_and(|h| !h.is_empty() && !h.contains('.'))
}
