//! The checks before anything is written: what the packaged `temporal.toml` references must
//! be in the package, secrets in plain text draw a warning, and the binary's glibc must fit
//! `provided.al2023`.

use std::path::Path;

use super::{Entries, TASK_ROOT};
use crate::Error;

/// A path the packaged `temporal.toml` references that is not in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFile {
    /// The profile (`default`).
    pub profile: String,
    /// The key under `tls` (`client_cert_path`).
    pub key: &'static str,
    /// The path as written.
    pub value: String,
    /// Where it points inside the package; `None` when it is an absolute path outside
    /// `/var/task`.
    pub in_package: Option<String>,
}

impl std::fmt::Display for MissingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            profile,
            key,
            value,
            in_package,
        } = self;
        let root = TASK_ROOT;
        write!(
            f,
            "temporal.toml: `profile.{profile}.tls.{key}` = `{value}` "
        )?;
        match in_package {
            None => write!(
                f,
                "is outside {root}, so it is not in the package; write it relative to \
                 temporal.toml and --include the file"
            ),
            Some(p) => write!(
                f,
                "resolves to {root}/{p}, which is not in the package; add --include <file>={p}"
            ),
        }
    }
}

/// The `tls` keys naming a file.
const PATH_KEYS: [&str; 3] = ["client_cert_path", "client_key_path", "server_ca_cert_path"];

/// Checks the `temporal.toml` at the package root, if any: every `*_path` it names must be
/// in the package once unpacked in `/var/task`. Returns warnings (plain-text secrets).
pub fn check_config(entries: &Entries) -> Result<Vec<String>, Error> {
    let mut warnings: Vec<String> = entries
        .iter()
        .filter(|(_, bytes)| is_private_key(bytes))
        .map(|(path, _)| {
            format!(
                "{path} is a private key in plain text inside the zip; anyone who can read the \
                 function's code can read it. Prefer a KMS-encrypted value \
                 (TEMPORAL_TLS_CLIENT_KEY_DATA listed in LAMBDAWORKER_KMS_DECRYPT, or \
                 `client_key_data = \"kms:...\"`): see docs/configuration.md, \"KMS-encrypted \
                 secrets\""
            )
        })
        .collect();
    let Some(toml_bytes) = entries.get("temporal.toml") else {
        return Ok(warnings);
    };
    let text = std::str::from_utf8(toml_bytes).map_err(Error::ConfigNotUtf8)?;
    let table: toml::Table = toml::from_str(text).map_err(Error::ConfigToml)?;
    let Some(toml::Value::Table(profiles)) = table.get("profile") else {
        return Ok(warnings);
    };
    let mut missing = Vec::new();
    for (profile, p) in profiles {
        let Some(p) = p.as_table() else { continue };
        warnings.extend(plain_text_secrets(profile, p));
        let Some(tls) = p.get("tls").and_then(toml::Value::as_table) else {
            continue;
        };
        for key in PATH_KEYS {
            let Some(value) = tls.get(key).and_then(toml::Value::as_str) else {
                continue;
            };
            let in_package = match value.strip_prefix(TASK_ROOT) {
                Some(rest) => Some(rest.trim_start_matches('/').to_owned()),
                None if Path::new(value).is_absolute() => None,
                None => Some(value.trim_start_matches("./").to_owned()),
            };
            if in_package.as_ref().is_none_or(|p| !entries.contains_key(p)) {
                missing.push(MissingFile {
                    profile: profile.clone(),
                    key,
                    value: value.to_owned(),
                    in_package,
                });
            }
        }
    }
    if missing.is_empty() {
        Ok(warnings)
    } else {
        Err(Error::NotInPackage { files: missing })
    }
}

fn is_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----")
}

/// Warnings for a profile's API key or TLS key written in plain text (not `kms:...`).
fn plain_text_secrets(profile: &str, p: &toml::Table) -> Vec<String> {
    let plain = |v: Option<&toml::Value>| {
        v.and_then(toml::Value::as_str)
            .is_some_and(|k| !k.is_empty() && !k.starts_with("kms:"))
    };
    let mut warnings = Vec::new();
    if plain(p.get("api_key")) {
        warnings.push(format!(
            "temporal.toml: `profile.{profile}.api_key` is in plain text inside the zip; \
             prefer `api_key = \"kms:...\"` or a KMS-encrypted TEMPORAL_API_KEY (see \
             docs/configuration.md, \"KMS-encrypted secrets\")"
        ));
    }
    let tls = p.get("tls").and_then(toml::Value::as_table);
    if plain(tls.and_then(|t| t.get("client_key_data"))) {
        warnings.push(format!(
            "temporal.toml: `profile.{profile}.tls.client_key_data` is a private key in plain \
             text; prefer `kms:...` (see docs/configuration.md)"
        ));
    }
    warnings
}

/// The newest `GLIBC_x.y` symbol version the binary needs, if it links glibc.
pub fn glibc_requirement(binary: &[u8]) -> Option<(u32, u32)> {
    let needle = b"GLIBC_";
    let mut best: Option<(u32, u32)> = None;
    let mut i = 0;
    while let Some(pos) = binary[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let digits: String = binary[start..]
            .iter()
            .take(12)
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let mut parts = digits.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            best = best.max(Some((major, minor)));
        }
        i = start;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(files: &[(&str, &str)]) -> Entries {
        files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    fn refusal(files: &[(&str, &str)]) -> String {
        check_config(&entries(files)).unwrap_err().to_string()
    }

    #[test]
    fn referenced_files_must_be_in_the_package() {
        let toml = "[profile.default]\naddress = \"h:7233\"\n[profile.default.tls]\n\
                    client_cert_path = \"certs/client.pem\"\nclient_key_path = \"/var/task/certs/client.key\"\n";
        let e = refusal(&[("temporal.toml", toml)]);
        assert!(
            e.contains("`profile.default.tls.client_cert_path` = `certs/client.pem`"),
            "{e}"
        );
        assert!(
            e.contains("/var/task/certs/client.key, which is not in the package"),
            "{e}"
        );
        let ok = check_config(&entries(&[
            ("temporal.toml", toml),
            ("certs/client.pem", "-----BEGIN CERTIFICATE-----"),
            ("certs/client.key", "-----BEGIN PRIVATE KEY-----"),
        ]))
        .unwrap();
        assert_eq!(ok.len(), 1, "{ok:?}");
        assert!(
            ok[0].contains("certs/client.key is a private key in plain text"),
            "{ok:?}"
        );
        assert!(ok[0].contains("KMS"), "{ok:?}");
        let abs = "[profile.default.tls]\nserver_ca_cert_path = \"/home/me/ca.pem\"\n";
        let e = refusal(&[("temporal.toml", abs)]);
        assert!(e.contains("outside /var/task"), "{e}");
    }

    #[test]
    fn an_unreadable_config_is_refused_with_its_cause() {
        let e = check_config(&entries(&[("temporal.toml", "[profile")])).unwrap_err();
        assert!(matches!(e, Error::ConfigToml(_)), "{e}");
        assert!(
            e.to_string().starts_with("not packaged: fix the TOML"),
            "{e}"
        );
        let mut latin1 = Entries::new();
        latin1.insert("temporal.toml".into(), vec![0xff, 0xfe]);
        let e = check_config(&latin1).unwrap_err();
        assert!(matches!(e, Error::ConfigNotUtf8(_)), "{e}");
    }

    #[test]
    fn plaintext_api_keys_warn_and_kms_values_do_not() {
        let w = check_config(&entries(&[(
            "temporal.toml",
            "[profile.default]\napi_key = \"secret\"\n",
        )]))
        .unwrap();
        assert!(w[0].contains("api_key` is in plain text"), "{w:?}");
        let w = check_config(&entries(&[(
            "temporal.toml",
            "[profile.default]\napi_key = \"kms:AQID\"\n",
        )]))
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn glibc_versions_are_read_from_the_binary() {
        assert_eq!(
            glibc_requirement(b"..GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0"),
            Some((2, 34))
        );
        assert_eq!(glibc_requirement(b"static musl binary"), None);
    }
}
