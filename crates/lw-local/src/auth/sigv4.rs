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
use axum::http::request::Parts;

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
pub(crate) fn verify(parts: &Parts, body: &[u8], keys: &Keyring) -> Result<(), Refusal> {
    let header = |name: &str| {
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let Some(value) = header("authorization") else {
        return Err(Refusal::UnknownKey(
            "the request has no Authorization header (it is not signed)".into(),
        ));
    };
    let auth = parse(&value).ok_or_else(|| {
        Refusal::UnknownKey("the Authorization header is not an AWS SigV4 signature".into())
    })?;
    let Some((secret, token)) = keys.secret(auth.key_id) else {
        return Err(Refusal::UnknownKey(format!(
            "the access key {} is not this run's",
            auth.key_id
        )));
    };
    let bad = |why: &str| Refusal::BadSignature(why.to_owned());
    let date = header("x-amz-date").ok_or_else(|| bad("the request has no X-Amz-Date header"))?;
    let time = amz_date(&date)
        .filter(|_| date.starts_with(auth.date))
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
    if token.is_some() && header("x-amz-security-token") != token {
        return Err(bad("X-Amz-Security-Token is not the session's token"));
    }
    let mut settings = SigningSettings::default();
    // Exactly the headers the client signed: none left out.
    settings.excluded_headers = None;
    let content_sha = header("x-amz-content-sha256");
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
        && sha != "UNSIGNED-PAYLOAD"
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
}
