//! Why a connection failed, in a user's terms: the transport's error (a rustls error inside
//! an `io::Error`, a tonic status, an HTTP status a proxy answered with) sorted into a
//! [`ConnectProblem`], with the fix naming the setting and where it came from.

use std::{error::Error as StdError, io};

use lw_config::Sources;
use rustls::{AlertDescription, CertificateError};
use temporalio_client::{errors::ClientConnectError, tonic};

use crate::BoxError;

/// What kind of connection failure it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectProblem {
    /// The server's certificate is not signed by a CA the client trusts.
    UntrustedCertificate,
    /// The server's certificate is not issued for the name the client checks.
    NameMismatch,
    /// The server wants a client certificate (mTLS), or refused the one given.
    ClientCertificate,
    /// The server or a proxy refused the credentials (HTTP 401/403, gRPC Unauthenticated or
    /// PermissionDenied).
    CredentialsRefused,
    /// A proxy answered HTTP 400 (nginx does when a required client certificate is missing).
    ProxyRejected,
    /// TLS is on, but the server speaks plaintext.
    TlsToPlaintext,
    /// TLS is off, but the server expects TLS.
    PlaintextToTls,
    /// Nothing accepts connections at the address.
    Refused,
    /// The host name does not resolve.
    UnknownHost,
    /// Anything else.
    Other,
}

/// The transport's own account of a failed connection, readable (never a `Debug` dump); the
/// client's typed error is kept for code that wants to inspect it.
#[derive(Debug)]
pub struct ConnectDetail {
    text: String,
    error: BoxError,
}

impl ConnectDetail {
    /// The client's error, as returned by the Temporal SDK.
    pub fn error(&self) -> &BoxError {
        &self.error
    }
}

impl std::fmt::Display for ConnectDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl StdError for ConnectDetail {}

/// The facts the decision needs, gathered from one walk over the error.
#[derive(Default)]
struct Facts {
    texts: Vec<String>,
    rustls: Vec<rustls::Error>,
    io_kinds: Vec<io::ErrorKind>,
    codes: Vec<tonic::Code>,
    dns: bool,
}

impl Facts {
    fn gather(error: &BoxError) -> Self {
        let mut facts = Facts::default();
        let mut next: Option<&(dyn StdError + 'static)> = Some(error.as_ref());
        while let Some(e) = next {
            next = e.source();
            if let Some(c) = e.downcast_ref::<ClientConnectError>() {
                match c {
                    ClientConnectError::SystemInfoCallError(status) => {
                        facts.status(status);
                        next = status.source();
                    }
                    ClientConnectError::DnsResolutionError { host, .. } => {
                        facts.dns = true;
                        facts.push(format!("`{host}` does not resolve"));
                    }
                    ClientConnectError::TonicTransportError(_) => {}
                    other => facts.push(other.to_string()),
                }
                continue;
            }
            if let Some(status) = e.downcast_ref::<tonic::Status>() {
                facts.status(status);
                continue;
            }
            if let Some(io) = e.downcast_ref::<io::Error>() {
                facts.io_kinds.push(io.kind());
                // rustls's error sits inside the io::Error, which `source()` skips.
                if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    facts.rustls.push(tls.clone());
                }
            }
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                facts.rustls.push(tls.clone());
            }
            facts.push(e.to_string());
        }
        facts
    }

    fn status(&mut self, status: &tonic::Status) {
        self.codes.push(status.code());
        self.push(status.message().to_owned());
    }

    fn push(&mut self, text: String) {
        let text = text.trim().to_owned();
        if !text.is_empty() && !self.texts.iter().any(|t| t.contains(&text)) {
            self.texts.push(text);
        }
    }

    fn says(&self, needle: &str) -> bool {
        self.texts.iter().any(|t| t.contains(needle))
    }

    fn classify(&self, tls_on: bool) -> ConnectProblem {
        use ConnectProblem::*;
        for e in &self.rustls {
            match e {
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                ) => return NameMismatch,
                rustls::Error::InvalidCertificate(_) => return UntrustedCertificate,
                rustls::Error::AlertReceived(
                    AlertDescription::CertificateRequired
                    | AlertDescription::BadCertificate
                    | AlertDescription::UnknownCA
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::HandshakeFailure,
                ) => return ClientCertificate,
                rustls::Error::InvalidMessage(_) => return TlsToPlaintext,
                _ => {}
            }
        }
        // After the handshake, h2 keeps only the alert's text.
        if [
            "CertificateRequired",
            "BadCertificate",
            "UnknownCA",
            "CertificateUnknown",
        ]
        .iter()
        .any(|a| self.says(&format!("received fatal alert: {a}")))
        {
            return ClientCertificate;
        }
        if self.says("InvalidContentType") || (tls_on && self.says("tls handshake eof")) {
            return TlsToPlaintext;
        }
        if self.codes.iter().any(|c| {
            matches!(
                c,
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
            )
        }) || self.says("status: 401")
            || self.says("status: 403")
        {
            return CredentialsRefused;
        }
        if self.says("status: 400") || self.says("HTTP status code 400") {
            return ProxyRejected;
        }
        if self.io_kinds.contains(&io::ErrorKind::ConnectionRefused) {
            return Refused;
        }
        if self.dns
            || self.says("failed to lookup address")
            || self.says("Name or service not known")
        {
            return UnknownHost;
        }
        let dropped = self.io_kinds.iter().any(|k| {
            matches!(
                k,
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::UnexpectedEof
            )
        });
        let closed = [
            "h2 protocol error",
            "frame with invalid size",
            "connection closed",
        ]
        .iter()
        .any(|t| self.says(t));
        if !tls_on && (dropped || closed) {
            return PlaintextToTls;
        }
        Other
    }
}

/// What the engine knows about the connection it tried.
pub(crate) struct Attempt<'a> {
    pub(crate) address: &'a str,
    pub(crate) tls_on: bool,
    pub(crate) namespace: &'a str,
    pub(crate) sources: &'a Sources,
}

/// Sorts the failure and writes its fix.
pub(crate) fn explain(
    attempt: &Attempt<'_>,
    error: BoxError,
) -> (ConnectProblem, String, ConnectDetail) {
    let facts = Facts::gather(&error);
    let problem = facts.classify(attempt.tls_on);
    let fix = fix(problem, attempt);
    let text = if facts.texts.is_empty() {
        error.to_string()
    } else {
        facts.texts.join(": ")
    };
    (problem, fix, ConnectDetail { text, error })
}

/// The invocation's (or a tool's) error for a failed connect: [`explain`]ed, with the
/// address.
pub(crate) fn failed(attempt: &Attempt<'_>, error: BoxError) -> crate::Error {
    let (problem, fix, source) = explain(attempt, error);
    crate::Error::Connect {
        address: attempt.address.to_owned(),
        problem,
        fix,
        source,
    }
}

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

fn fix(problem: ConnectProblem, a: &Attempt<'_>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        let mut s = Sources::default();
        s.address = "environment variable TEMPORAL_ADDRESS".into();
        s.api_key = Some("environment variable TEMPORAL_API_KEY".into());
        s
    }

    fn explain_one(error: BoxError, tls_on: bool) -> (ConnectProblem, String) {
        let sources = sources();
        let attempt = Attempt {
            address: "https://temporal.example:7233/",
            tls_on,
            namespace: "orders",
            sources: &sources,
        };
        let (problem, fix, detail) = explain(&attempt, error);
        (problem, format!("{fix}: {detail}"))
    }

    #[test]
    fn a_rustls_error_inside_an_io_error_is_found() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let e = io::Error::new(io::ErrorKind::InvalidData, tls);
        let (problem, message) = explain_one(e.into(), true);
        assert_eq!(problem, ConnectProblem::UntrustedCertificate, "{message}");
        assert!(
            message.starts_with("set tls.server_ca_cert_path"),
            "{message}"
        );
    }

    #[test]
    fn a_tls13_alert_after_the_handshake_is_found_by_its_text() {
        let e = io::Error::other("received fatal alert: CertificateRequired");
        let (problem, message) = explain_one(e.into(), true);
        assert_eq!(problem, ConnectProblem::ClientCertificate, "{message}");
        assert!(
            message.starts_with("set tls.client_cert_path and tls.client_key_path"),
            "{message}"
        );
    }

    #[test]
    fn a_grpc_refusal_names_the_api_key_and_namespace() {
        for status in [
            tonic::Status::unauthenticated("Request unauthorized."),
            tonic::Status::permission_denied("Request unauthorized."),
        ] {
            let e = ClientConnectError::SystemInfoCallError(status);
            let (problem, message) = explain_one(e.into(), true);
            assert_eq!(problem, ConnectProblem::CredentialsRefused, "{message}");
            assert!(
                message
                    .starts_with("check the API key set by environment variable TEMPORAL_API_KEY")
                    && message.contains("namespace `orders`")
                    && message.ends_with("Request unauthorized."),
                "{message}"
            );
        }
    }

    #[test]
    fn an_unresolvable_host_names_the_address_source() {
        let e = ClientConnectError::DnsResolutionError {
            host: "temporal.example".into(),
            source: io::Error::other("failed to lookup address information"),
        };
        let (problem, message) = explain_one(e.into(), true);
        assert_eq!(problem, ConnectProblem::UnknownHost, "{message}");
        assert!(
            message.starts_with("check the address (environment variable TEMPORAL_ADDRESS)"),
            "{message}"
        );
    }
}
