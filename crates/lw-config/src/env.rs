//! The `TEMPORAL_*` environment variables as a figment provider.

use std::collections::HashMap;

use figment::{
    Metadata, Profile, Provider,
    value::{Dict, Map, Value},
};

use crate::ConfigError;

/// Variables that map one-to-one onto a profile key.
const STRING_VARS: &[(&str, &str)] = &[
    ("TEMPORAL_ADDRESS", "address"),
    ("TEMPORAL_NAMESPACE", "namespace"),
    ("TEMPORAL_API_KEY", "api_key"),
    ("TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path"),
    ("TEMPORAL_TLS_CLIENT_CERT_DATA", "tls.client_cert_data"),
    ("TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path"),
    ("TEMPORAL_TLS_CLIENT_KEY_DATA", "tls.client_key_data"),
    (
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "tls.server_ca_cert_path",
    ),
    (
        "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
        "tls.server_ca_cert_data",
    ),
    ("TEMPORAL_TLS_SERVER_NAME", "tls.server_name"),
    ("TEMPORAL_CODEC_ENDPOINT", "codec.endpoint"),
    ("TEMPORAL_CODEC_AUTH", "codec.auth"),
];
const META_PREFIX: &str = "TEMPORAL_GRPC_META_";

/// The environment layer.
pub(crate) struct EnvProvider {
    dict: Dict,
    /// Headers named by `TEMPORAL_GRPC_META_*` variables set to the empty string: removed
    /// from the merged profile, as the official loader does.
    removed_meta: Vec<String>,
}

impl EnvProvider {
    pub(crate) fn new(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut dict = Dict::new();
        for (var, key) in STRING_VARS {
            if let Some(v) = env.get(*var).filter(|v| !v.is_empty()) {
                insert(&mut dict, key, Value::from(v.clone()));
            }
        }
        if let Some(v) = env.get("TEMPORAL_TLS").filter(|v| !v.is_empty()) {
            // TEMPORAL_TLS=true turns TLS on; false turns it off, even with an API key.
            insert(
                &mut dict,
                "tls.disabled",
                Value::from(!parse_bool("TEMPORAL_TLS", v)?),
            );
        }
        if let Some(v) = env
            .get("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION")
            .filter(|v| !v.is_empty())
        {
            let b = parse_bool("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", v)?;
            insert(&mut dict, "tls.disable_host_verification", Value::from(b));
        }
        let mut removed_meta = Vec::new();
        let mut meta: Vec<_> = env
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(META_PREFIX).map(|name| (name, v)))
            .collect();
        meta.sort();
        for (name, v) in meta {
            let header = normalize_header(name);
            if header.is_empty() {
                return Err(ConfigError::Invalid {
                    origin: format!("environment variable {META_PREFIX}"),
                    message: "names no header; write TEMPORAL_GRPC_META_<HEADER_NAME>".into(),
                });
            }
            if v.is_empty() {
                removed_meta.push(header);
                continue;
            }
            let grpc_meta = dict
                .entry("grpc_meta".to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, d) = grpc_meta {
                d.insert(header, Value::from(v.clone()));
            }
        }
        Ok(Self { dict, removed_meta })
    }

    /// Headers an empty `TEMPORAL_GRPC_META_*` variable removes.
    pub(crate) fn removed_meta(&self) -> Vec<String> {
        self.removed_meta.clone()
    }
}

/// The profile key a variable sets, if this layer reads the variable.
pub(crate) fn key_for_var(var: &str) -> Option<String> {
    if let Some((_, key)) = STRING_VARS.iter().find(|(v, _)| *v == var) {
        return Some((*key).to_owned());
    }
    match var {
        "TEMPORAL_TLS" => Some("tls.disabled".into()),
        "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION" => Some("tls.disable_host_verification".into()),
        _ => var
            .strip_prefix(META_PREFIX)
            .filter(|h| !h.is_empty())
            .map(|h| format!("grpc_meta.{}", normalize_header(h))),
    }
}

/// gRPC metadata names as every Temporal loader writes them: lowercase, `_` → `-`.
pub(crate) fn normalize_header(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

fn insert(dict: &mut Dict, dotted: &str, value: Value) {
    match dotted.split_once('.') {
        None => {
            dict.insert(dotted.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, d) = child {
                insert(d, rest, value);
            }
        }
    }
}

fn parse_bool(var: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            origin: format!("environment variable {var}"),
            message: format!("`{v}` is not a boolean; use true or false"),
        }),
    }
}

/// The environment variable a profile key comes from, for error messages.
pub(crate) fn var_for_key(key: &str) -> String {
    if key == "tls.disabled" {
        return "TEMPORAL_TLS".into();
    }
    if let Some(h) = key.strip_prefix("grpc_meta.") {
        return format!("{META_PREFIX}{}", h.to_ascii_uppercase().replace('-', "_"));
    }
    STRING_VARS
        .iter()
        .find(|(_, k)| *k == key)
        .map(|(v, _)| (*v).to_owned())
        .unwrap_or_else(|| format!("TEMPORAL_{}", key.to_ascii_uppercase().replace('.', "_")))
}

impl Provider for EnvProvider {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable")
            .interpolater(|_profile: &Profile, keys: &[&str]| var_for_key(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}
