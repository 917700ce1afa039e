//! Who may use lw-local: only a client that sends the request to the loopback address it
//! bound (the `Host` header: a web page that reached the port through DNS rebinding names
//! its own host) and signs it (AWS SigV4) with this run's [`Credentials`] or with session
//! credentials its STS handed out. Anything else is refused with 403 and how to get the
//! credentials, before any handler runs.
//!
//! `credentials` makes and keeps the keys, `sigv4` checks and makes signatures.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

mod credentials;
mod sigv4;

pub use credentials::{CREDENTIAL_SOURCES, Credentials};
pub(crate) use credentials::{Keyring, Session};

use crate::server::AppState;

/// The largest request body read (and signed) at all: a 50 MB zip (Lambda's direct-upload
/// limit) is about 70 MB as base64 in JSON.
pub(crate) const MAX_BODY: usize = 80 * 1024 * 1024;

/// Where a caller finds the credentials, for every refusal.
pub(crate) const HOW_TO_SIGN: &str = "sign every request (AWS SigV4) with the access key of \
    this lw-local run: the standalone `lw-local` prints it when it starts (the \
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY lines to export), `cargo lambdaworker dev` hands \
    it to the dev server and the functions it starts, and a program embedding lw-local reads \
    LocalLambda::credentials() (or LocalLambda::server_env())";

/// The check every request passes before its handler: the `Host` header, then the
/// signature.
pub(crate) async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let sts = req.uri().path() == "/";
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if host != Some(&*s.host) {
        let why = format!(
            "the Host header is {}, not {} (lw-local answers only requests sent to the \
             loopback address it serves, not to another name for it)",
            host.unwrap_or("missing"),
            s.host
        );
        return refuse(sts, "AccessDenied", "AccessDeniedException", &why);
    }
    if let Err(refusal) = sigv4::precheck(req.headers(), &s.keys) {
        return refusal_response(sts, refusal);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return crate::lambda_api::lambda_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            &format!(
                "send at most {MAX_BODY} bytes: a zip of at most 50 MB (Lambda's direct \
                 upload limit), base64 in JSON"
            ),
        );
    };
    if let Err(refusal) = sigv4::verify(&parts, &bytes, &s.keys) {
        return refusal_response(sts, refusal);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// 403 for a request whose signature was refused.
fn refusal_response(sts: bool, refusal: sigv4::Refusal) -> Response {
    let (sts_code, lambda_code, why) = match refusal {
        sigv4::Refusal::UnknownKey(w) => ("InvalidClientTokenId", "UnrecognizedClientException", w),
        sigv4::Refusal::BadSignature(w) => {
            ("SignatureDoesNotMatch", "InvalidSignatureException", w)
        }
    };
    refuse(sts, sts_code, lambda_code, &why)
}

/// 403 with what would fix it, in STS's XML or Lambda's JSON.
fn refuse(sts: bool, sts_code: &str, lambda_code: &str, why: &str) -> Response {
    tracing::warn!(reason = %why, "lw-local refused a request");
    let message = format!("lw-local refused this request: {why}. To fix it, {HOW_TO_SIGN}.");
    if sts {
        crate::sts::sts_error(StatusCode::FORBIDDEN, sts_code, &message)
    } else {
        crate::lambda_api::lambda_error(StatusCode::FORBIDDEN, lambda_code, &message)
    }
    .into_response()
}
