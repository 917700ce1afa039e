//! The resolution pipeline: locate and read the file, collect KMS-encrypted values, decrypt
//! them, then layer defaults ← file ← environment ← code with figment.//! Beside it: [`plan`] (the collected values, the KMS-encrypted ones found, the final
//! layering) and [`keys`] (the profile keys code may set, `kms:` values in a dictionary).

mod keys;
mod plan;

use std::{collections::HashMap, path::PathBuf, time::Duration};

use figment::{Figment, providers::Serialized, value::Value};
use serde::Serialize;

#[cfg(feature = "kms")]
use crate::kms::{DEFAULT_KMS_TIMEOUT, Kms};
use crate::{
    ClientConfig, ConfigError, DEFAULT_PROFILE, config_file_path, env, file::FileProfile, kms,
};
use keys::{KNOWN_KEYS, is_known_key, walk};
use plan::Plan;

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
#[derive(Default)]
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

struct Override {
    key: String,
    location: &'static std::panic::Location<'static>,
    figment: Figment,
}

/// Shows no value: the environment by its variables' names (it holds credentials such as
/// `AWS_SECRET_ACCESS_KEY` and `TEMPORAL_API_KEY`), each override by its key and where in
/// the code it was set.
impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env = self.env.as_ref().map(|env| {
            let mut names: Vec<&str> = env.keys().map(String::as_str).collect();
            names.sort_unstable();
            names
        });
        let overrides: Vec<String> = self
            .overrides
            .iter()
            .map(|o| format!("{} (set at {})", o.key, o.location))
            .collect();
        let mut d = f.debug_struct("Loader");
        d.field("env", &env)
            .field("profile", &self.profile)
            .field("config_file", &self.config_file)
            .field("overrides", &overrides);
        #[cfg(feature = "kms")]
        d.field("kms", &self.kms.as_ref().map(|_| "<client>"));
        d.field("kms_timeout", &self.kms_timeout).finish()
    }
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

    /// Reads everything (the environment, the file's profile, the code overrides) and finds
    /// the KMS-encrypted values: all but decryption and layering.
    fn plan(self) -> Result<Plan, ConfigError> {
        let env = self.env.unwrap_or_else(crate::env_snapshot);
        let (profile, named_by) = match self.profile.filter(|p| !p.trim().is_empty()) {
            Some(p) => (p, Some("Loader::profile")),
            None => match env.get("TEMPORAL_PROFILE").filter(|p| !p.trim().is_empty()) {
                Some(p) => (p.clone(), Some("TEMPORAL_PROFILE")),
                None => (DEFAULT_PROFILE.to_owned(), None),
            },
        };
        let config_file = match self.config_file {
            Some(p) => Some(checked_file(p)?),
            None => config_file_path(&env)?,
        };
        let file = match &config_file {
            Some(path) => FileProfile::read(path, &profile, named_by)?,
            None => match named_by {
                Some(named_by) => {
                    return Err(ConfigError::UnknownProfile {
                        profile,
                        named_by: named_by.to_owned(),
                        file: None,
                        available: Vec::new(),
                    });
                }
                None => None,
            },
        };
        let mut overrides = Figment::new();
        let mut override_keys = Vec::new();
        for o in self.overrides {
            o.check()?;
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

/// The file given to [`Loader::config_file`], if it is one.
fn checked_file(path: PathBuf) -> Result<PathBuf, ConfigError> {
    if path.is_file() {
        return Ok(path);
    }
    Err(ConfigError::File {
        source: None,
        path,
        message: "the config file given to Loader::config_file does not exist or is not a \
                  file; fix the path"
            .into(),
    })
}

impl Override {
    /// A known key, and not a `kms:` value (code's values are not decrypted).
    fn check(&self) -> Result<(), ConfigError> {
        let origin = format!("code override at {}: `{}`", self.location, self.key);
        if !is_known_key(&self.key) {
            return Err(ConfigError::Invalid {
                origin,
                message: format!(
                    "is not a client setting; use one of {}",
                    KNOWN_KEYS.join(", ")
                ),
            });
        }
        let mut found = Vec::new();
        if let Ok(value) = self.figment.find_value(&self.key) {
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
                          ciphertext would be sent as is); decrypt it with lw_config::Kms and \
                          set the plaintext"
                    .into(),
            });
        }
        Ok(())
    }
}
