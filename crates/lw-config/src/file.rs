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
    /// asked for explicitly (`TEMPORAL_PROFILE`), and an empty layer otherwise.
    pub(crate) fn read(
        path: &Path,
        name: &str,
        explicit: bool,
    ) -> Result<Option<Self>, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: format!("cannot read the config file: {e}"),
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
                    message: "`profile` must be a table: write `[profile.default]`".into(),
                });
            }
        };
        let available: Vec<String> = profiles
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let Some(profile) = profiles.and_then(|p| p.get(name)) else {
            if explicit && name != crate::DEFAULT_PROFILE {
                return Err(ConfigError::UnknownProfile {
                    profile: name.to_owned(),
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
        let Value::Dict(_, dict) = value else {
            return Err(ConfigError::Toml {
                path: path.to_path_buf(),
                line: None,
                message: format!("`profile.{name}` must be a table"),
            });
        };
        Ok(Some(Self {
            path: path.to_path_buf(),
            profile: name.to_owned(),
            dict,
        }))
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
