//! The fix for each [`ConnectProblem`], naming the setting to change and where its value
//! came from.

use lw_config::Sources;

use super::{Attempt, ConnectProblem};

/// The setting's source, or how to set it when it is unset.
fn named(source: &Option<String>, unset: &str) -> String {
    match source {
        Some(s) => format!("set by {s}"),
        None => unset.to_owned(),
    }
}

/// Where the address came from, in words.
pub(crate) fn address_source(sources: &Sources) -> &str {
    if sources.address.is_empty() {
        "set in code"
    } else {
        &sources.address
    }
}

/// What to do about `problem`, in the terms of `a`'s settings and their sources.
pub(super) fn fix(problem: ConnectProblem, a: &Attempt<'_>) -> String {
    use ConnectProblem::*;
    let s = a.sources;
    let address_source = address_source(s);
    match problem {
        UntrustedCertificate => match &s.server_ca_cert {
            Some(ca) => format!(
                "give the CA that issued the server's certificate: the server's certificate is \
                 not signed by the CA set by {ca}"
            ),
            None => {
                "set tls.server_ca_cert_path (TEMPORAL_TLS_SERVER_CA_CERT_PATH) to the CA that \
                     issued the server's certificate: the system's trusted roots do not include it"
                    .to_owned()
            }
        },
        NameMismatch => match &s.server_name {
            Some(name) => format!(
                "set tls.server_name to a name the server's certificate is issued for: the name \
                 set by {name} is not one of them"
            ),
            None => format!(
                "set tls.server_name (TEMPORAL_TLS_SERVER_NAME) to a name the server's \
                 certificate is issued for: it is not issued for the host of {}",
                a.address
            ),
        },
        ClientCertificate => match &s.client_cert {
            Some(cert) => format!(
                "give a client certificate the server trusts: it refused the one set by {cert}"
            ),
            None => "set tls.client_cert_path and tls.client_key_path (or their _data forms): the \
                     server requires a client certificate (mTLS)"
                .to_owned(),
        },
        CredentialsRefused => match &s.api_key {
            Some(key) => format!(
                "check the API key set by {key}: the server refused it (is it valid, unexpired, \
                 and allowed in namespace `{}`?)",
                a.namespace
            ),
            None => "set an API key (TEMPORAL_API_KEY, or api_key in temporal.toml) or a client \
                     certificate: the server refused the unauthenticated request"
                .to_owned(),
        },
        ProxyRejected => format!(
            "check what the server at {} requires: it answered HTTP 400, which a TLS proxy gives \
             when a required client certificate is missing ({}); or the address is not a \
             Temporal gRPC endpoint",
            a.address,
            named(&s.client_cert, "none is set")
        ),
        TlsToPlaintext => format!(
            "turn TLS off, or use the server's TLS port: the server at {} speaks plaintext, but \
             TLS is on ({})",
            a.address,
            s.tls.as_deref().unwrap_or("set in code")
        ),
        PlaintextToTls => format!(
            "turn TLS on (TEMPORAL_TLS=true, a [profile.<name>.tls] section, or an API key): the \
             server at {} dropped the plaintext connection, as a server that expects TLS does",
            a.address
        ),
        Refused => format!(
            "check the address ({address_source}) and that the server is running: nothing \
             accepts connections at {}",
            a.address
        ),
        UnknownHost => format!(
            "check the address ({address_source}): its host name does not resolve from the \
             function"
        ),
        Other => format!(
            "check the address ({address_source}), TLS and credentials: connecting to {} failed",
            a.address
        ),
    }
}
