use std::path::PathBuf;

use figment::Figment;

/// A typed cause carried by [`ConfigError`].
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the client configuration could not be resolved. Every message names where the bad
/// value came from (file and key, or environment variable) and what would fix it.
///
/// A cause that is safe to show travels as [`std::error::Error::source`], typed: the
/// [`std::io::Error`] of an unreadable file, the UTF-8 or base64 decoding error, KMS's
/// `DecryptError`. Print the whole chain (as `lw-runtime` does) to see it. Two causes are
/// kept as text on purpose, because their own `Display` would quote a value that may be a
/// secret: the TOML parser's error (it prints the offending line) and figment's (it prints
/// the offending value); so is an AWS SDK dispatch error (it can carry the request).
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
        /// The cause, such as the [`std::io::Error`] of the read.
        #[source]
        source: Option<BoxError>,
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
    /// The profile asked for (by `TEMPORAL_PROFILE` or `Loader::profile`) does not exist.
    #[error("{named_by} names the profile `{profile}`, which {}; {}",
        file.as_ref().map(|f| format!("{} does not define", f.display())).unwrap_or_else(|| "no config file defines (none was found)".into()),
        if available.is_empty() { format!("unset {named_by} or add [profile.{profile}] to the file") } else { format!("profiles there: {}", available.join(", ")) })]
    UnknownProfile {
        /// The profile asked for.
        profile: String,
        /// What asked for it: `TEMPORAL_PROFILE` or `Loader::profile`.
        named_by: String,
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
        /// The cause, such as the base64 error or KMS's `DecryptError`.
        #[source]
        source: Option<BoxError>,
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
        let origin = match &e.metadata {
            Some(md) => describe(md, &e.path.join(".")),
            None => format!("key `{}`", e.path.join(".")),
        };
        ConfigError::Invalid {
            origin,
            message: describe_kind(&e.kind),
        }
    }
}

/// figment's message, without the offending value when it is text (it may be a secret), and
/// with the expected shape in the file's terms.
fn describe_kind(kind: &figment::error::Kind) -> String {
    use figment::error::{Actual, Kind};
    let expected = |exp: &str| match exp {
        "struct RawTls" => {
            "a table: write it as [profile.<name>.tls], or use TEMPORAL_TLS=true".to_owned()
        }
        "struct RawCodec" => "a table: write it as [profile.<name>.codec]".to_owned(),
        "a map" | "map" => "a table of header = \"value\" pairs".to_owned(),
        other => other.to_owned(),
    };
    let actual = |a: &Actual| match a {
        Actual::Str(_) => "a string".to_owned(),
        Actual::Char(_) => "a character".to_owned(),
        Actual::Bytes(_) => "bytes".to_owned(),
        Actual::Other(o) if o.len() > 40 => "a value".to_owned(),
        other => other.to_string(),
    };
    match kind {
        Kind::InvalidType(a, exp) => {
            format!(
                "invalid type: found {}, expected {}",
                actual(a),
                expected(exp)
            )
        }
        Kind::InvalidValue(a, exp) => {
            format!(
                "invalid value: found {}, expected {}",
                actual(a),
                expected(exp)
            )
        }
        other => other.to_string(),
    }
}

/// Describes a value's provenance: file and key, environment variable, or code location.
fn describe(md: &figment::Metadata, key: &str) -> String {
    match &md.source {
        // Code overrides: the dotted key as written, at the caller's location.
        Some(figment::Source::Code(loc)) => format!("code override at {loc}: `{key}`"),
        Some(src) => {
            let keys: Vec<&str> = key.split('.').collect();
            let shown = md.interpolate(&figment::Profile::Default, &keys);
            format!("{src}: key `{shown}`")
        }
        None if md.name == "environment variable" => {
            let keys: Vec<&str> = key.split('.').collect();
            let shown = md.interpolate(&figment::Profile::Default, &keys);
            format!("environment variable {shown}")
        }
        None => format!("`{key}`"),
    }
}

/// Describes where `key` of the merged profile came from.
pub(crate) fn origin_of(figment: &Figment, key: &str) -> String {
    match figment.find_metadata(key) {
        Some(md) => describe(md, key),
        None => format!("`{key}`"),
    }
}
