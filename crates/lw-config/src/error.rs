use std::path::PathBuf;

use figment::Figment;

/// Why the client configuration could not be resolved. Every message names where the bad
/// value came from (file and key, or environment variable) and what would fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file could not be read.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong and what to do.
        message: String,
    },
    /// A config file is not valid TOML.
    #[error("{}{}: malformed TOML: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Toml {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// `TEMPORAL_PROFILE` names a profile the file does not have.
    #[error("TEMPORAL_PROFILE names the profile `{profile}`, which {}; {}",
        file.as_ref().map(|f| format!("{} does not define", f.display())).unwrap_or_else(|| "no config file defines (none was found)".into()),
        if available.is_empty() { "unset TEMPORAL_PROFILE or add the profile".to_string() } else { format!("profiles there: {}", available.join(", ")) })]
    UnknownProfile {
        /// The profile asked for.
        profile: String,
        /// The file that was read, if any.
        file: Option<PathBuf>,
        /// The profiles the file defines.
        available: Vec<String>,
    },
    /// A value has the wrong type or form.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where the value came from (file and key, or environment variable).
        origin: String,
        /// What was wrong and what would be right.
        message: String,
    },
    /// Two settings contradict each other.
    #[error("{first} and {second} are both set: {message}")]
    Conflict {
        /// One source.
        first: String,
        /// The other source.
        second: String,
        /// What to do.
        message: String,
    },
    /// A KMS-encrypted value could not be decrypted, or KMS is not configured.
    #[error("{origin}: {message}")]
    Kms {
        /// The variable or file key holding the ciphertext (never the value).
        origin: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// A setting the Rust client cannot honour.
    #[error("{origin}: {message}")]
    Unsupported {
        /// Where the setting came from.
        origin: String,
        /// Why and what to do instead.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn from_figment(e: &figment::Error) -> Self {
        let key = e.path.join(".");
        let origin = match &e.metadata {
            Some(md) => {
                let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
                let shown = md.interpolate(&figment::Profile::Default, &keys);
                match &md.source {
                    Some(figment::Source::Code(loc)) => {
                        format!("code override at {loc}: `{shown}`")
                    }
                    Some(src) => format!("{src}: key `{shown}`"),
                    None => format!("{} {shown}", md.name),
                }
            }
            None => format!("key `{key}`"),
        };
        ConfigError::Invalid {
            origin,
            message: format!("{}", e.kind),
        }
    }
}

/// Describes where `key` of the merged profile came from.
pub(crate) fn origin_of(figment: &Figment, key: &str) -> String {
    match figment.find_metadata(key) {
        Some(md) => {
            let keys: Vec<&str> = key.split('.').collect();
            let shown = md.interpolate(&figment::Profile::Default, &keys);
            match &md.source {
                Some(figment::Source::Code(loc)) => format!("code override at {loc}: `{shown}`"),
                Some(src) => format!("{src}: key `{shown}`"),
                None if md.name == "environment variable" => {
                    format!("environment variable {shown}")
                }
                None => format!("`{key}`"),
            }
        }
        None => format!("`{key}`"),
    }
}
