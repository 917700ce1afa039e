//! One profile of a `temporal.toml` file as a figment provider.

use std::path::{Path, PathBuf};

use figment::{
    Metadata, Profile, Provider, Source,
    value::{Dict, Map, Value},
};

use crate::ConfigError;

pub(crate) struct FileProfile {
    path: PathBuf,
    profile: String,
    dict: Dict,
}

impl FileProfile {
    /// Reads `path` and picks `[profile.<name>]`. A missing profile is an error when it was
    /// asked for explicitly (`named_by`: `TEMPORAL_PROFILE` or `Loader::profile`), and an
    /// empty layer otherwise.
    pub(crate) fn read(
        path: &Path,
        name: &str,
        named_by: Option<&str>,
    ) -> Result<Option<Self>, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: "cannot read the config file; check it exists and the function may read it"
                .into(),
            source: Some(e.into()),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: format!(
                "is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
            source: Some(e.utf8_error().into()),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            ConfigError::Toml {
                path: path.to_path_buf(),
                line,
                message: e.message().to_owned(),
            }
        })?;
        let profiles = match table.get("profile") {
            None => None,
            Some(toml::Value::Table(t)) => Some(t),
            Some(_) => {
                return Err(ConfigError::Toml {
                    path: path.to_path_buf(),
                    line: None,
                    message: "`profile` must be a table of profiles: write `[profile.default]` \
                              followed by its keys"
                        .into(),
                });
            }
        };
        let available: Vec<String> = profiles
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let Some(profile) = profiles.and_then(|p| p.get(name)) else {
            if let Some(named_by) = named_by {
                return Err(ConfigError::UnknownProfile {
                    profile: name.to_owned(),
                    named_by: named_by.to_owned(),
                    file: Some(path.to_path_buf()),
                    available,
                });
            }
            return Ok(None);
        };
        let value: Value = Value::serialize(profile).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        let Value::Dict(_, mut dict) = value else {
            return Err(ConfigError::Toml {
                path: path.to_path_buf(),
                line: None,
                message: format!(
                    "`profile.{name}` must be a table: write `[profile.{name}]` followed by its \
                     keys"
                ),
            });
        };
        warn_unknown_keys(path, name, &dict);
        // Header names are normalised as every Temporal loader does (`custom_header` →
        // `custom-header`), so the environment overrides the same header.
        if let Some(Value::Dict(_, meta)) = dict.get_mut("grpc_meta") {
            let entries = std::mem::take(meta);
            for (k, v) in entries {
                meta.insert(crate::env::normalize_header(&k), v);
            }
        }
        Ok(Some(Self {
            path: path.to_path_buf(),
            profile: name.to_owned(),
            dict,
        }))
    }
}

impl FileProfile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn dict(&self) -> &Dict {
        &self.dict
    }

    pub(crate) fn dict_mut(&mut self) -> &mut Dict {
        &mut self.dict
    }
}

const PROFILE_KEYS: &[&str] = &[
    "address",
    "namespace",
    "api_key",
    "tls",
    "grpc_meta",
    "codec",
];
const TLS_KEYS: &[&str] = &[
    "disabled",
    "client_cert_path",
    "client_cert_data",
    "client_key_path",
    "client_key_data",
    "server_ca_cert_path",
    "server_ca_cert_data",
    "server_name",
    "disable_host_verification",
];
const CODEC_KEYS: &[&str] = &["endpoint", "auth"];

/// Keys the envconfig format does not define are ignored, as every Temporal loader does, but
/// never silently: a typo (`adress`) would otherwise fall back to a default unnoticed.
fn warn_unknown_keys(path: &Path, profile: &str, dict: &Dict) {
    let mut unknown = Vec::new();
    for (k, v) in dict {
        if !PROFILE_KEYS.contains(&k.as_str()) {
            unknown.push(format!("profile.{profile}.{k}"));
        }
        let nested = match k.as_str() {
            "tls" => TLS_KEYS,
            "codec" => CODEC_KEYS,
            _ => continue,
        };
        if let Value::Dict(_, d) = v {
            unknown.extend(
                d.keys()
                    .filter(|c| !nested.contains(&c.as_str()))
                    .map(|c| format!("profile.{profile}.{k}.{c}")),
            );
        }
    }
    for key in unknown {
        tracing::warn!(
            file = %path.display(),
            key = %key,
            "ignoring `{key}` in {}: not a Temporal client setting (check the spelling)",
            path.display()
        );
    }
}

impl Provider for FileProfile {
    fn metadata(&self) -> Metadata {
        let profile = self.profile.clone();
        Metadata::from("config file", Source::File(self.path.clone())).interpolater(
            move |_p: &Profile, keys: &[&str]| format!("profile.{profile}.{}", keys.join(".")),
        )
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}
