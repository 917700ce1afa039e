//! [`Plan`]: everything the loader read, the KMS-encrypted values found in it (listed in
//! `LAMBDAWORKER_KMS_DECRYPT`, or `kms:` values of the environment and the file), and the
//! final layering once they are decrypted: defaults ← file ← environment ← code.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use figment::{Figment, providers::Serialized, value::Value};

use super::keys::{is_known_key, replace, walk};
use crate::{
    ClientConfig, ConfigError, RawProfile, Secret, env,
    file::FileProfile,
    kms::{self, Pending, Target},
};

/// Everything read, before decryption and layering.
pub(super) struct Plan {
    /// The environment, KMS-encrypted values replaced by their plaintext in [`Plan::finish`].
    pub(super) env: HashMap<String, String>,
    /// The profile read.
    pub(super) profile: String,
    /// The config file read, if any.
    pub(super) config_file: Option<PathBuf>,
    /// The profile's values from it.
    pub(super) file: Option<FileProfile>,
    /// The code overrides, merged.
    pub(super) overrides: Figment,
    /// Keys set in code (they hide the same key from the file and the environment).
    pub(super) override_keys: Vec<String>,
    /// The values to decrypt, in order.
    pub(super) pending: Vec<Pending>,
}

impl Plan {
    /// Finds every value to decrypt, in order: the variables listed in
    /// `LAMBDAWORKER_KMS_DECRYPT`, then `kms:` values in the environment, then in the file.
    pub(super) fn collect_pending(&mut self) -> Result<(), ConfigError> {
        let listed = self.listed_vars()?;
        self.env_values(&listed)?;
        self.file_values()
    }

    /// The variables the Lambda console encrypted, named in `LAMBDAWORKER_KMS_DECRYPT`,
    /// queued with the function name as encryption context; returns their names.
    fn listed_vars(&mut self) -> Result<Vec<String>, ConfigError> {
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
        Ok(listed)
    }

    /// Whether code sets `key` (or a table above it), which hides it from lower layers.
    fn hidden_by_code(&self, key: &str) -> bool {
        self.override_keys
            .iter()
            .any(|k| k == key || key.starts_with(&format!("{k}.")))
    }

    /// `kms:` values in the environment (not those `listed`, and not those code hides).
    fn env_values(&mut self, listed: &[String]) -> Result<(), ConfigError> {
        let mut vars: Vec<(&String, &String)> = self.env.iter().collect();
        vars.sort();
        let mut pending = Vec::new();
        for (var, value) in vars {
            if listed.contains(var) || !value.trim_start().starts_with(kms::KMS_PREFIX) {
                continue;
            }
            let Some(key) = env::key_for_var(var) else {
                continue;
            };
            if self.hidden_by_code(&key) {
                continue;
            }
            let origin = format!("environment variable {var}");
            if !kms::is_secret_key(&key) {
                return Err(not_secret(origin));
            }
            pending.push(Pending {
                origin,
                target: Target::Env(var.clone()),
                ciphertext: Secret::new(value.clone()),
                context: None,
            });
        }
        self.pending.extend(pending);
        Ok(())
    }

    /// `kms:` values in the file profile that neither the environment nor code replaces.
    fn file_values(&mut self) -> Result<(), ConfigError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut found = Vec::new();
        walk(file.dict(), &mut Vec::new(), &mut found);
        let mut pending = Vec::new();
        for (path, ciphertext) in found {
            let key = path.join(".");
            // A value the environment or code replaces is never used: not decrypted.
            let var = env::var_for_key(&key);
            if self.hidden_by_code(&key) || self.env.get(&var).is_some_and(|v| !v.is_empty()) {
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
            pending.push(Pending {
                origin,
                target: Target::File(path),
                ciphertext: Secret::new(ciphertext),
                context: None,
            });
        }
        self.pending.extend(pending);
        Ok(())
    }

    /// Puts the `plain` texts (one per pending value, in order) in place and layers the
    /// result into a [`ClientConfig`].
    pub(super) fn finish(mut self, plain: Vec<Secret>) -> Result<ClientConfig, ConfigError> {
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

/// The error for a `kms:` value at `origin` that is not a secret.
fn not_secret(origin: String) -> ConfigError {
    ConfigError::Invalid {
        origin,
        message: "starts with `kms:`, but only secrets are decrypted (api_key, \
                  tls.client_cert_data, tls.client_key_data, tls.server_ca_cert_data, \
                  grpc_meta.*, codec.auth); write this value in plain text"
            .into(),
    }
}
