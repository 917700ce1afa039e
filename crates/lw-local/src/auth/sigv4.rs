//! AWS Signature Version 4 for lw-local: checking a request's `Authorization` header (the
//! signature is computed again with `aws-sigv4`, the AWS SDK's own signer, over the
//! headers the client signed, and compared) and signing a request for a client without an
//! SDK ([`super::Credentials::sign`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::{
    http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign as aws_sign,
    },
    sign::v4,
};
use axum::http::{HeaderMap, request::Parts};

use super::{Credentials, Keyring};
use crate::LocalError;

/// Why a request was refused, in words for the caller.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not signed, or signed with a key this run did not make.
    UnknownKey(String),
    /// Signed with this run's key, but the signature does not match.
    BadSignature(String),
}

/// What the `Authorization` header says.
struct Authorization<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
/// Signature=hex`.
fn parse(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=')? {
            ("Credential", v) => credential = Some(v),
            ("SignedHeaders", v) => signed = Some(v),
            ("Signature", v) => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let auth = Authorization {
        key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    };
    (scope.next() == Some("aws4_request")).then_some(auth)
}

/// `20261206T050102Z` as a time.
fn amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// How far a request's `X-Amz-Date` may be from this machine's clock (AWS's limit).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Checks that the request is signed with a key lw-local accepts and that the signature
/// matches (method, path, query, every signed header and the body).
/// The values of header `name`, joined as SigV4 joins repeated headers.
fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Checks, before the body is read, that the request carries a SigV4 `Authorization`
/// header naming a key this run accepts: a caller without the credentials cannot make
/// lw-local read (and hold) a body.
pub(crate) fn precheck(headers: &HeaderMap, keys: &Keyring) -> Result<(), Refusal> {
    let value = authorization_header(headers)?;
    let auth = parse_authorization(&value)?;
    known_key(&auth, keys).map(|_| ())
}

fn authorization_header(headers: &HeaderMap) -> Result<String, Refusal> {
    header_value(headers, "authorization").ok_or_else(|| {
        Refusal::UnknownKey("the request has no Authorization header (it is not signed)".into())
    })
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, Refusal> {
    parse(value).ok_or_else(|| {
        Refusal::UnknownKey("the Authorization header is not an AWS SigV4 signature".into())
    })
}

/// The key's secret and session token, if this run accepts the key.
fn known_key(
    auth: &Authorization<'_>,
    keys: &Keyring,
) -> Result<(String, Option<String>), Refusal> {
    keys.secret(auth.key_id).ok_or_else(|| {
        Refusal::UnknownKey(format!("the access key {} is not this run's", auth.key_id))
    })
}

/// The headers a signature must cover, as AWS requires.
const MUST_SIGN: [&str; 2] = ["host", "x-amz-date"];

pub(crate) fn verify(parts: &Parts, body: &[u8], keys: &Keyring) -> Result<(), Refusal> {
    let header = |name: &str| header_value(&parts.headers, name);
    let value = authorization_header(&parts.headers)?;
    let auth = parse_authorization(&value)?;
    let (secret, token) = known_key(&auth, keys)?;
    let bad = |why: &str| Refusal::BadSignature(why.to_owned());
    if let Some(missing) = MUST_SIGN.iter().find(|h| !auth.signed_headers.contains(h)) {
        return Err(bad(&format!(
            "the signature does not cover the {missing} header"
        )));
    }
    let date = header("x-amz-date").ok_or_else(|| bad("the request has no X-Amz-Date header"))?;
    let time = amz_date(&date)
        .filter(|_| auth.date.len() == 8 && date.get(..8) == Some(auth.date))
        .ok_or_else(|| bad("X-Amz-Date is not the date of the credential scope"))?;
    let skew = match SystemTime::now().duration_since(time) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    if skew > MAX_SKEW {
        return Err(bad(
            "X-Amz-Date is more than 15 minutes from this machine's clock",
        ));
    }
    if let Some(token) = &token {
        let sent = header("x-amz-security-token").unwrap_or_default();
        if !same(sent.as_bytes(), token.as_bytes()) {
            return Err(bad("X-Amz-Security-Token is not the session's token"));
        }
    }
    let mut settings = SigningSettings::default();
    // Exactly the headers the client signed: none left out.
    settings.excluded_headers = None;
    let content_sha = header("x-amz-content-sha256");
    if content_sha.as_deref() == Some("UNSIGNED-PAYLOAD") {
        return Err(bad(
            "X-Amz-Content-Sha256 is UNSIGNED-PAYLOAD: sign the body (send its SHA-256)",
        ));
    }
    let payload = match &content_sha {
        Some(sha) => {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            SignableBody::Precomputed(sha.clone())
        }
        None => SignableBody::Bytes(body),
    };
    // The signer adds X-Amz-Date, the session token and X-Amz-Content-Sha256 itself.
    let added = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];
    let mut signed = Vec::new();
    for name in auth.signed_headers.iter().filter(|n| !added.contains(n)) {
        let v = header(name).ok_or_else(|| bad(&format!("signed header {name} is missing")))?;
        signed.push((*name, v));
    }
    let identity =
        aws_credential_types::Credentials::new(auth.key_id, secret, token, None, "lw-local").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| bad(&e.to_string()))?
        .into();
    let uri = parts.uri.to_string();
    let request = SignableRequest::new(
        parts.method.as_str(),
        uri,
        signed.iter().map(|(k, v)| (*k, v.as_str())),
        payload,
    )
    .map_err(|e| bad(&e.to_string()))?;
    let expected = aws_sign(request, &params).map_err(|e| bad(&e.to_string()))?;
    if !same(expected.signature().as_bytes(), auth.signature.as_bytes()) {
        return Err(bad(
            "the signature does not match (signed with another secret, or the request \
             changed after signing)",
        ));
    }
    if let Some(sha) = content_sha
        && sha != sha256_hex(body)
    {
        return Err(bad("X-Amz-Content-Sha256 is not the body's hash"));
    }
    Ok(())
}

fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality that takes as long whatever the first difference (hand-written: one fold, no
/// crate needed for it).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// [`Credentials::sign`].
pub(crate) fn sign(
    credentials: &Credentials,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, LocalError> {
    let failed = |e: String| LocalError::InvalidParameter(format!("cannot sign {url}: {e}"));
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        None,
        None,
        "lw-local",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(e.to_string()))?;
    let (instructions, _) = aws_sign(request, &params)
        .map_err(|e| failed(e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse() {
        let t = amz_date("20261129T164632Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_970_792
        );
        for bad in ["2026-11-29T16:46:32Z", "20261329T164632Z", "x"] {
            assert!(amz_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn authorization_headers_parse() {
        let a = parse(
            "AWS4-HMAC-SHA256 Credential=AKLW1/20261206/us-east-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(
            (a.key_id, a.service, a.signature),
            ("AKLW1", "lambda", "abc")
        );
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert!(parse("Basic dXNlcjpwdw==").is_none());
    }

    /// A request to `url` signed by `sign` with `creds`, with `edit` applied to its headers
    /// after signing.
    fn signed(
        creds: &Credentials,
        body: &[u8],
        edit: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Parts {
        let url = "http://127.0.0.1:9/2015-03-31/functions/f/invocations";
        let mut headers = sign(creds, "POST", url, &[("host", "127.0.0.1:9")], body).unwrap();
        headers.push(("host".into(), "127.0.0.1:9".into()));
        edit(&mut headers);
        let mut req = axum::http::Request::builder().method("POST").uri(url);
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req.body(()).unwrap().into_parts().0
    }

    fn refused(parts: &Parts, body: &[u8], keys: &Keyring) -> String {
        match verify(parts, body, keys) {
            Err(Refusal::BadSignature(w) | Refusal::UnknownKey(w)) => w,
            Ok(()) => panic!("accepted"),
        }
    }

    #[test]
    fn a_signed_request_passes_and_loose_ones_do_not() {
        let creds = Credentials::generate().unwrap();
        let keys = Keyring::new(creds.clone());
        let body = b"{}";
        let ok = signed(&creds, body, |_| {});
        assert!(verify(&ok, body, &keys).is_ok());
        assert!(precheck(&ok.headers, &keys).is_ok());
        // The body must be signed: UNSIGNED-PAYLOAD is refused.
        let unsigned = signed(&creds, body, |h| {
            h.retain(|(k, _)| !k.eq_ignore_ascii_case("x-amz-content-sha256"));
            h.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
        });
        assert!(refused(&unsigned, body, &keys).contains("UNSIGNED-PAYLOAD"));
        // Host and X-Amz-Date must be among the signed headers.
        let no_host = signed(&creds, body, |h| {
            for (k, v) in h.iter_mut() {
                if k.eq_ignore_ascii_case("authorization") {
                    *v = v.replace("SignedHeaders=host;", "SignedHeaders=");
                }
            }
        });
        assert!(refused(&no_host, body, &keys).contains("does not cover the host header"));
        // An empty date in the credential scope does not match any X-Amz-Date.
        let no_date = signed(&creds, body, |h| {
            for (k, v) in h.iter_mut() {
                if k.eq_ignore_ascii_case("authorization") {
                    let key = creds.access_key_id();
                    let start = v.find(key).unwrap() + key.len() + 1;
                    let end = start + v[start..].find('/').unwrap();
                    v.replace_range(start..end, "");
                }
            }
        });
        assert!(refused(&no_date, body, &keys).contains("date of the credential scope"));
        // Without the key, the body is never read: the precheck refuses first.
        let stranger = Credentials::generate().unwrap();
        let theirs = signed(&stranger, body, |_| {});
        assert!(precheck(&theirs.headers, &keys).is_err());
    }
}
