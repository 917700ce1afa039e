//! Why a connection failed, in a user's terms: the transport's error (a rustls error inside
//! an `io::Error`, a tonic status, an HTTP status a proxy answered with) sorted into a
//! [`ConnectProblem`] ([`facts`]), with the fix naming the setting and where it came from
//! ([`fix`]).

mod facts;
mod fix;

use std::error::Error as StdError;

use lw_config::Sources;
use temporalio_client::ConnectionOptions;

use crate::BoxError;
pub(crate) use fix::address_source;

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

/// What was tried: the connection a failure is explained for.
pub(crate) struct Attempt<'a> {
    /// The server address, as connected to.
    pub(crate) address: String,
    /// Whether TLS was on.
    pub(crate) tls_on: bool,
    /// The namespace the client was for.
    pub(crate) namespace: &'a str,
    /// Where each setting came from.
    pub(crate) sources: &'a Sources,
}

impl<'a> Attempt<'a> {
    /// The attempt to connect with `connection`.
    pub(crate) fn new(
        connection: &ConnectionOptions,
        namespace: &'a str,
        sources: &'a Sources,
    ) -> Self {
        Self {
            address: connection.target.to_string(),
            tls_on: connection.tls_options.is_some(),
            namespace,
            sources,
        }
    }
}

/// Sorts the failure and writes its fix.
pub(crate) fn explain(
    attempt: &Attempt<'_>,
    error: BoxError,
) -> (ConnectProblem, String, ConnectDetail) {
    let facts = facts::Facts::gather(&error);
    let problem = facts.classify(attempt.tls_on);
    let fix = fix::fix(problem, attempt);
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
        address: attempt.address.clone(),
        problem,
        fix,
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use rustls::CertificateError;
    use temporalio_client::{errors::ClientConnectError, tonic};

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
            address: "https://temporal.example:7233/".into(),
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
