//! Secrets in plain text: which names look like secrets, and the warnings for a Temporal
//! config file's profiles (any `*.toml` in the zip with a `[profile.*]` table) and for the
//! function's environment. A warning names the file and key, or the variable; never the
//! value.

use lw_config::{DECRYPT_VAR, KMS_PREFIX};

/// Where the KMS recipes are.
const KMS_DOC: &str = "docs/configuration.md, \"KMS-encrypted secrets\"";

/// Name endings that hold a reference to a secret, not the secret itself.
const REFERENCES: [&str; 5] = ["_PATH", "_FILE", "_ARN", "_ID", "_NAME"];
/// Words that mark a name as holding a secret.
const SECRET_WORDS: [&str; 8] = [
    "KEY",
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "COOKIE",
];

/// Whether a name (an environment variable, a gRPC metadata key) looks like it holds a
/// secret: it contains KEY, SECRET, TOKEN, PASSWORD, PASSWD, AUTH (AUTHORIZATION),
/// CREDENTIAL or COOKIE, in any case, and does not end in `_PATH`, `_FILE`, `_ARN`, `_ID`
/// or `_NAME` (`-` counts as `_`).
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase().replace('-', "_");
    !REFERENCES.iter().any(|r| name.ends_with(r)) && SECRET_WORDS.iter().any(|w| name.contains(w))
}

/// A value that is set and not `kms:` ciphertext.
fn plain(value: Option<&toml::Value>) -> bool {
    value
        .and_then(toml::Value::as_str)
        .is_some_and(|v| !v.trim().is_empty() && !v.trim_start().starts_with(KMS_PREFIX))
}

/// Warnings for a config file's secrets in plain text, in every profile: `api_key`,
/// `tls.client_key_data`, `codec.auth`, and each `grpc_meta` entry whose name
/// [`looks_secret`]. `file` names the file (its archive path). Nothing for a table without
/// `[profile.*]`: not a Temporal config.
pub fn config_warnings(file: &str, table: &toml::Table) -> Vec<String> {
    let Some(profiles) = table.get("profile").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (name, profile) in profiles {
        let Some(p) = profile.as_table() else {
            continue;
        };
        let section = |s: &str| p.get(s).and_then(toml::Value::as_table);
        let mut found = |key: String, value: Option<&toml::Value>| {
            if plain(value) {
                keys.push(format!("profile.{name}.{key}"));
            }
        };
        found("api_key".into(), p.get("api_key"));
        found(
            "tls.client_key_data".into(),
            section("tls").and_then(|t| t.get("client_key_data")),
        );
        found(
            "codec.auth".into(),
            section("codec").and_then(|c| c.get("auth")),
        );
        for (header, value) in section("grpc_meta").into_iter().flatten() {
            if looks_secret(header) {
                found(format!("grpc_meta.{header}"), Some(value));
            }
        }
    }
    keys.into_iter()
        .map(|key| {
            format!(
                "{file}: `{key}` is in plain text inside the zip; anyone who can read the \
                 function's code (as the invoke role Temporal assumes can) can read it. Write \
                 it as `kms:...` ciphertext: see {KMS_DOC}"
            )
        })
        .collect()
}

/// Warnings for the function's environment (from `--env` and the metadata's `env`): each
/// variable whose name [`looks_secret`], set, and neither `kms:` ciphertext nor listed in
/// `LAMBDAWORKER_KMS_DECRYPT` (console-encrypted).
pub fn env_warnings(env: &[(String, String)]) -> Vec<String> {
    let encrypted: Vec<&str> = env
        .iter()
        .filter(|(k, _)| k == DECRYPT_VAR)
        .flat_map(|(_, v)| v.split(',').map(str::trim))
        .collect();
    env.iter()
        .filter(|(name, value)| {
            looks_secret(name)
                && !value.trim().is_empty()
                && !value.trim_start().starts_with(KMS_PREFIX)
                && !encrypted.contains(&name.as_str())
        })
        .map(|(name, _)| {
            format!(
                "the function's environment variable {name} (from --env or `env` in \
                 [package.metadata.lambdaworker]) looks like a secret and is in plain text; \
                 whoever can read the function's configuration (as the invoke role Temporal \
                 assumes can) reads it. Set it to KMS ciphertext (`kms:...`, or console-\
                 encrypted and listed in {DECRYPT_VAR}): see {KMS_DOC}"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn secret_looking_names_are_told_from_references_and_ordinary_names() {
        for name in [
            "TEMPORAL_API_KEY",
            "TEMPORAL_TLS_CLIENT_KEY_DATA",
            "TEMPORAL_CODEC_AUTH",
            "DB_PASSWORD",
            "stripe_secret",
            "GITHUB_TOKEN",
            "authorization",
            "x-session-cookie",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "TEMPORAL_TLS_CLIENT_KEY_PATH",
            "KMS_KEY_ARN",
            "AWS_ACCESS_KEY_ID",
            "TEMPORAL_ADDRESS",
            "TEMPORAL_TASK_QUEUE",
            "x-team",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn plain_text_secrets_in_the_environment_warn_by_name_only() {
        let w = env_warnings(&env(&[
            ("TEMPORAL_API_KEY", "sk-SECRET-1"),
            ("Authorization", "Bearer sk-SECRET-2"),
            ("DB_PASSWORD", "kms:AQID"),
            ("STRIPE_SECRET", "AQICAHh-console-ciphertext"),
            ("LAMBDAWORKER_KMS_DECRYPT", "STRIPE_SECRET, OTHER"),
            ("EMPTY_TOKEN", ""),
            ("TEMPORAL_TASK_QUEUE", "orders"),
        ]));
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(
            w[0].starts_with("the function's environment variable TEMPORAL_API_KEY (from --env"),
            "{w:#?}"
        );
        assert!(w[1].contains("variable Authorization "), "{w:#?}");
        let all = w.join("\n");
        assert!(!all.contains("SECRET-"), "{all}");
        assert!(all.contains("KMS-encrypted secrets"), "{all}");
    }
}
