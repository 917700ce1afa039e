//! The profile keys code may set, and the `kms:` values of a figment dictionary: found by
//! key path, and replaced by their plaintext.

use figment::value::{Dict, Value};

use crate::kms;

/// Profile keys a code override may set.
pub(super) const KNOWN_KEYS: &[&str] = &[
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

/// Whether code may set `key`: one of [`KNOWN_KEYS`], or one gRPC header.
pub(super) fn is_known_key(key: &str) -> bool {
    KNOWN_KEYS.contains(&key)
        || key
            .strip_prefix("grpc_meta.")
            .is_some_and(|h| !h.is_empty() && !h.contains('.'))
}

/// Collects the key paths (and values) of string values that start with `kms:`.
pub(super) fn walk(dict: &Dict, prefix: &mut Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
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

/// Replaces the value at `path` with `plain`; a path that is not there is left alone.
pub(super) fn replace(dict: &mut Dict, path: &[String], plain: &str) {
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
