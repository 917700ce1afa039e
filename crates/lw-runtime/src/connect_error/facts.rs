//! The facts a connection failure's error chain holds (rustls errors, I/O kinds, gRPC codes,
//! texts), gathered in one walk, and the [`ConnectProblem`] they add up to.

use std::{error::Error as StdError, io};

use rustls::{AlertDescription, CertificateError};
use temporalio_client::{errors::ClientConnectError, tonic};

use super::ConnectProblem;
use crate::BoxError;

/// The facts the decision needs, gathered from one walk over the error.
#[derive(Default)]
pub(super) struct Facts {
    pub(super) texts: Vec<String>,
    rustls: Vec<rustls::Error>,
    io_kinds: Vec<io::ErrorKind>,
    codes: Vec<tonic::Code>,
    dns: bool,
}

impl Facts {
    pub(super) fn gather(error: &BoxError) -> Self {
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

    pub(super) fn classify(&self, tls_on: bool) -> ConnectProblem {
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
