//! The checks before anything is written: what the packaged `temporal.toml` references must
//! be in the package, secrets in plain text draw a warning, and the binary's glibc must fit
//! `provided.al2023`.

use std::path::Path;

use super::{Entries, TASK_ROOT, secrets};
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

/// Checks the package's configs: the `temporal.toml` at the root, if any, must be UTF-8
/// TOML and every `*_path` it names must be in the package once unpacked in `/var/task`.
/// Returns warnings: private keys in plain text, and plain-text secrets in any `*.toml` that
/// is a Temporal config ([`super::secrets`]).
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
    for (path, _) in entries.iter() {
        if !path.ends_with(".toml") || path == ROOT_CONFIG {
            continue;
        }
        match parse(entries, path) {
            Ok(table) => warnings.extend(secrets::config_warnings(path, &table)),
            Err(e) => warnings.push(unchecked(e)?),
        }
    }
    if !entries.contains_key(ROOT_CONFIG) {
        return Ok(warnings);
    }
    let table = parse(entries, ROOT_CONFIG)?;
    warnings.extend(secrets::config_warnings(ROOT_CONFIG, &table));
    let Some(toml::Value::Table(profiles)) = table.get("profile") else {
        return Ok(warnings);
    };
    let mut missing = Vec::new();
    for (profile, p) in profiles {
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

/// The config the worker reads by default: `$LAMBDA_TASK_ROOT/temporal.toml`.
const ROOT_CONFIG: &str = "temporal.toml";

/// An entry read as TOML. A failure names the file, the line and column and the parser's
/// reason, but not the parser's error itself: its `Display` quotes the offending line,
/// which may be the one holding a secret.
fn parse(entries: &Entries, path: &str) -> Result<toml::Table, Error> {
    let bytes = entries.get(path).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|source| Error::ConfigNotUtf8 {
        file: entries.describe(path),
        source,
    })?;
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| position(text, s.start)).unzip();
        Error::ConfigToml {
            file: entries.describe(path),
            line,
            column,
            reason: e.message().trim().replace('\n', "; "),
        }
    })
}

/// The warning for a `*.toml` other than the root config that could not be read: it may
/// not be a Temporal config at all, so it is not refused.
fn unchecked(e: Error) -> Result<String, Error> {
    let why = match e {
        Error::ConfigToml {
            file,
            line,
            column,
            reason,
        } => {
            let at = match (line, column) {
                (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
                _ => String::new(),
            };
            format!("{file} is not valid TOML{at} ({reason})")
        }
        Error::ConfigNotUtf8 { file, .. } => format!("{file} is not UTF-8 text"),
        other => return Err(other),
    };
    Ok(format!("{why}; it was not checked for plain-text secrets"))
}

/// The 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn is_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----")
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
        assert!(matches!(e, Error::ConfigToml { .. }), "{e}");
        assert!(
            e.to_string().starts_with("not packaged: fix the TOML"),
            "{e}"
        );
        let mut latin1 = Entries::new();
        latin1.insert(
            "temporal.toml".into(),
            vec![0xff, 0xfe],
            Some("deploy/temporal.toml".into()),
        );
        let e = check_config(&latin1).unwrap_err();
        assert!(matches!(e, Error::ConfigNotUtf8 { .. }), "{e}");
        assert!(
            e.to_string().starts_with(
                "not packaged: save temporal.toml (from deploy/temporal.toml) as UTF-8"
            ),
            "{e}"
        );
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
    fn a_malformed_config_names_file_line_and_column_but_never_quotes_the_line() {
        for (toml, line) in [
            (
                "[profile.default]\naddress = \"h:7233\"\napi_key = \"sk-SECRET-31337\n",
                3,
            ),
            ("[profile.default]\napi_key = sk-SECRET-31337\n", 2),
            (
                "[profile.default]\n[profile.default.grpc_meta]\nauthorization = Bearer sk-SECRET-31337\n",
                3,
            ),
        ] {
            let e = check_config(&entries(&[("temporal.toml", toml)])).unwrap_err();
            let shown = format!("{}\n{e:?}", crate::error_chain(&e));
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(
                shown.starts_with(&format!(
                    "not packaged: fix the TOML of temporal.toml at line {line}, column "
                )),
                "{shown}"
            );
        }
    }

    #[test]
    fn plain_text_secrets_anywhere_in_a_config_warn_naming_file_and_key_only() {
        let toml = "[profile.default]\naddress = \"h:7233\"\n\
                    [profile.default.codec]\nendpoint = \"https://codec\"\nauth = \"sk-SECRET-1\"\n\
                    [profile.default.grpc_meta]\nauthorization = \"Bearer sk-SECRET-2\"\n\
                    x-team = \"payments\"\nx-api-token = \"kms:AQID\"\n";
        let other = "[profile.prod]\napi_key = \"sk-SECRET-3\"\n";
        let w = check_config(&entries(&[
            ("temporal.toml", toml),
            ("config/prod.toml", other),
            ("data/not-temporal.toml", "api_key = \"sk-SECRET-4\"\n"),
            ("data/broken.toml", "[profile\napi_key = \"sk-SECRET-5\"\n"),
        ]))
        .unwrap();
        let all = w.join("\n");
        assert!(!all.contains("SECRET"), "{all}");
        for expected in [
            "temporal.toml: `profile.default.codec.auth` is in plain text",
            "temporal.toml: `profile.default.grpc_meta.authorization` is in plain text",
            "config/prod.toml: `profile.prod.api_key` is in plain text",
        ] {
            assert!(
                w.iter().any(|l| l.starts_with(expected)),
                "{expected} in {all}"
            );
        }
        let plain: Vec<_> = w.iter().filter(|l| l.contains("plain text")).collect();
        assert_eq!(plain.len(), 3, "{all}");
        assert!(
            plain.iter().all(|l| l.contains("KMS-encrypted secrets")),
            "{all}"
        );
        assert!(
            w.iter().any(
                |l| l.starts_with("data/broken.toml is not valid TOML at line 1")
                    && l.ends_with("it was not checked for plain-text secrets")
            ),
            "{all}"
        );
        // Not secrets, or already encrypted: nothing said.
        assert!(
            !all.contains("x-team") && !all.contains("x-api-token"),
            "{all}"
        );
        assert!(!all.contains("not-temporal.toml"), "{all}");
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
