//! Turning the layered raw values of one profile into a validated [`ClientConfig`].

use std::path::PathBuf;

use figment::Figment;

use crate::{sdk::parse_address, *};

impl ClientConfig {
    pub(crate) fn resolve(
        raw: RawProfile,
        figment: &Figment,
        profile: String,
        config_file: Option<PathBuf>,
        base_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let origin = |key: &str| error::origin_of(figment, key);
        let api_key = raw.api_key.filter(|k| !k.is_empty()).map(Secret::new);
        let mut sources = Sources {
            api_key: api_key.as_ref().map(|_| origin("api_key")),
            ..Sources::default()
        };
        if let Some(key) = &api_key {
            check_api_key(key, &origin("api_key"))?;
        }
        let tls_enabled = match &raw.tls {
            Some(t) => t.disabled != Some(true),
            None => api_key.is_some(),
        };
        // Path/data conflicts are errors even when TLS is off, as in the official loader.
        let t = raw.tls.clone().unwrap_or_default();
        for (path_key, path, data_key, data) in [
            (
                "tls.client_cert_path",
                &t.client_cert_path,
                "tls.client_cert_data",
                &t.client_cert_data,
            ),
            (
                "tls.client_key_path",
                &t.client_key_path,
                "tls.client_key_data",
                &t.client_key_data,
            ),
            (
                "tls.server_ca_cert_path",
                &t.server_ca_cert_path,
                "tls.server_ca_cert_data",
                &t.server_ca_cert_data,
            ),
        ] {
            if path.as_deref().is_some_and(|p| !p.is_empty())
                && data.as_deref().is_some_and(|d| !d.is_empty())
            {
                return Err(ConfigError::Conflict {
                    first: origin(path_key),
                    second: origin(data_key),
                    message: "give either the path or the data, not both".into(),
                });
            }
        }
        let tls = if tls_enabled {
            if t.disable_host_verification == Some(true) {
                return Err(ConfigError::Unsupported {
                    origin: origin("tls.disable_host_verification"),
                    message: "the Rust Temporal client cannot disable TLS host verification; \
                              remove the setting, or set `server_name` to the name the server \
                              certificate was issued for"
                        .into(),
                });
            }
            let from_file = |key: &str| {
                figment
                    .find_metadata(key)
                    .is_some_and(|md| matches!(md.source, Some(figment::Source::File(_))))
            };
            let pem = |path_key: &str,
                       path: Option<String>,
                       data_key: &str,
                       data: Option<String>|
             -> Result<Option<(PemSource, String)>, ConfigError> {
                if let Some(p) = path.filter(|p| !p.is_empty()) {
                    // A relative path written in the file is relative to the file's folder (so
                    // `client.pem` beside temporal.toml in /var/task works); one from the
                    // environment or code is relative to the working directory, as everywhere.
                    let p = PathBuf::from(p);
                    let resolved = match (&base_dir, p.is_relative() && from_file(path_key)) {
                        (Some(dir), true) => dir.join(p),
                        _ => p,
                    };
                    return Ok(Some((PemSource::Path(resolved), origin(path_key))));
                }
                match data.filter(|d| !d.is_empty()) {
                    Some(d) if !d.contains("-----BEGIN") => Err(ConfigError::Invalid {
                        origin: origin(data_key),
                        message: "is not PEM text (no `-----BEGIN` line); paste the whole PEM \
                                  block or use the `_path` form"
                            .into(),
                    }),
                    Some(d) => Ok(Some((PemSource::Data(Secret::new(d)), origin(data_key)))),
                    None => Ok(None),
                }
            };
            let client_cert = pem(
                "tls.client_cert_path",
                t.client_cert_path,
                "tls.client_cert_data",
                t.client_cert_data,
            )?;
            let client_key = pem(
                "tls.client_key_path",
                t.client_key_path,
                "tls.client_key_data",
                t.client_key_data,
            )?;
            let server_ca_cert = pem(
                "tls.server_ca_cert_path",
                t.server_ca_cert_path,
                "tls.server_ca_cert_data",
                t.server_ca_cert_data,
            )?;
            let server_name = t.server_name.filter(|s| !s.is_empty());
            sources.tls = Some(match &raw.tls {
                Some(_) => tls_origin(figment),
                None => format!("the API key ({}), which turns TLS on", origin("api_key")),
            });
            sources.client_cert = client_cert.as_ref().map(|(_, o)| o.clone());
            sources.client_key = client_key.as_ref().map(|(_, o)| o.clone());
            sources.server_ca_cert = server_ca_cert.as_ref().map(|(_, o)| o.clone());
            sources.server_name = server_name.as_ref().map(|_| origin("tls.server_name"));
            let cfg = TlsConfig {
                client_cert: client_cert.map(|(p, _)| p),
                client_key: client_key.map(|(p, _)| p),
                server_ca_cert: server_ca_cert.map(|(p, _)| p),
                server_name,
            };
            if cfg.client_cert.is_some() != cfg.client_key.is_some() {
                let (have, missing) = match (&cfg.client_cert, &cfg.client_key) {
                    (Some(PemSource::Path(_)), _) => {
                        ("tls.client_cert_path", "client_key_path or client_key_data")
                    }
                    (Some(PemSource::Data(_)), _) => {
                        ("tls.client_cert_data", "client_key_path or client_key_data")
                    }
                    (None, Some(PemSource::Path(_))) => (
                        "tls.client_key_path",
                        "client_cert_path or client_cert_data",
                    ),
                    _ => (
                        "tls.client_key_data",
                        "client_cert_path or client_cert_data",
                    ),
                };
                return Err(ConfigError::Invalid {
                    origin: origin(have),
                    message: format!(
                        "a client certificate and key go together for mTLS: also set {missing}"
                    ),
                });
            }
            Some(cfg)
        } else {
            None
        };
        let address = match raw.address.filter(|a| !a.trim().is_empty()) {
            Some(a) => {
                sources.address = origin("address");
                a
            }
            None => {
                sources.address = format!("the default address ({DEFAULT_ADDRESS})");
                DEFAULT_ADDRESS.to_owned()
            }
        };
        // Validate the address now so a bad one is an init error naming its source.
        parse_address(&address, tls.is_some()).map_err(|message| ConfigError::Invalid {
            origin: origin("address"),
            message,
        })?;
        for (name, value) in &raw.grpc_meta {
            let key = format!("grpc_meta.{name}");
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
            if !valid_name {
                return Err(ConfigError::Invalid {
                    origin: origin(&key),
                    message: "is not a valid gRPC header name; use letters, digits, `-`, `_` \
                              and `.` only"
                        .into(),
                });
            }
            if name.ends_with("-bin") {
                return Err(ConfigError::Unsupported {
                    origin: origin(&key),
                    message: "names a binary (`-bin`) header, which cannot be given as text; \
                              rename the header or set it in code with \
                              opts.connection_options.binary_headers"
                        .into(),
                });
            }
            if !value
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')
            {
                return Err(ConfigError::Invalid {
                    origin: origin(&key),
                    message: "holds characters a gRPC header value cannot carry (control \
                              characters, newlines or non-ASCII); use printable ASCII only"
                        .into(),
                });
            }
        }
        let codec = raw.codec.and_then(|c| {
            let c = CodecConfig {
                endpoint: c.endpoint.filter(|e| !e.is_empty()),
                auth: c.auth.filter(|a| !a.is_empty()).map(Secret::new),
            };
            (c.endpoint.is_some() || c.auth.is_some()).then_some(c)
        });
        if let Some(c) = &codec {
            let key = if c.endpoint.is_some() {
                "codec.endpoint"
            } else {
                "codec.auth"
            };
            tracing::warn!(
                source = %origin(key),
                "the `codec` setting is for the CLI and Web UI (a remote codec server); a worker \
                 does not call it: set payload codecs on the data converter in code"
            );
        }
        Ok(Self {
            codec,
            address,
            namespace: match raw.namespace.filter(|n| !n.trim().is_empty()) {
                Some(n) => {
                    sources.namespace = origin("namespace");
                    n
                }
                None => {
                    sources.namespace = format!("the default namespace ({DEFAULT_NAMESPACE})");
                    DEFAULT_NAMESPACE.to_owned()
                }
            },
            api_key,
            tls,
            grpc_meta: raw.grpc_meta,
            profile,
            config_file,
            sources,
        })
    }
}

/// What turned TLS on: the first TLS setting present, in the order a reader would look.
fn tls_origin(figment: &Figment) -> String {
    const KEYS: &[&str] = &[
        "tls.disabled",
        "tls.server_ca_cert_path",
        "tls.server_ca_cert_data",
        "tls.client_cert_path",
        "tls.client_cert_data",
        "tls.client_key_path",
        "tls.client_key_data",
        "tls.server_name",
    ];
    KEYS.iter()
        .find(|k| figment.find_value(k).is_ok())
        .map_or_else(
            || error::origin_of(figment, "tls"),
            |k| error::origin_of(figment, k),
        )
}

/// An API key travels as `authorization: Bearer <key>`: a character a header cannot carry
/// would make the SDK drop the header, and every call would go out unauthenticated.
fn check_api_key(key: &Secret, origin: &str) -> Result<(), ConfigError> {
    let text = key.expose();
    if text.trim() != text {
        return Err(ConfigError::Invalid {
            origin: origin.to_owned(),
            message: "has leading or trailing whitespace (often a newline pasted with the key); \
                      set the key alone"
                .into(),
        });
    }
    if !text.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ConfigError::Invalid {
            origin: origin.to_owned(),
            message: "holds characters an `authorization` header cannot carry (spaces, control \
                      characters or non-ASCII); set the key exactly as it was issued"
                .into(),
        });
    }
    Ok(())
}
