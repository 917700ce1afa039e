//! The Lambda Runtime API before `lambda_runtime` takes over: the variables it needs checked
//! (it panics on a missing or malformed one), `AWS_LAMBDA_RUNTIME_API` parsed, and an init
//! error posted to `/runtime/init/error` so Lambda shows why the function could not start.

use std::{collections::HashMap, time::Duration};

use lambda_runtime_api_client::{Client, body::Body};

use crate::Error;

/// The Runtime API's address, as Lambda sets it.
pub(crate) const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";

/// Variables `lambda_runtime` requires; checked up front so their absence is a clear error
/// rather than a panic inside the runtime.
const REQUIRED_VARS: &[&str] = &[
    RUNTIME_API_VAR,
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// How long posting an init error may take: the process exits after it either way.
const INIT_ERROR_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `env` names a Runtime API: without one, the worker runs locally.
pub(crate) fn in_lambda(env: &HashMap<String, String>) -> bool {
    env.get(RUNTIME_API_VAR).is_some_and(|v| !v.is_empty())
}

/// What `lambda_runtime` needs from the environment, checked before it reads it: it panics
/// on a missing or malformed value.
pub(crate) fn check_lambda_environment(env: &HashMap<String, String>) -> Result<(), Error> {
    let missing: Vec<&'static str> = REQUIRED_VARS
        .iter()
        .copied()
        .filter(|v| env.get(*v).is_none_or(|s| s.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotInLambda { missing });
    }
    let get = |name: &str| env.get(name).map(String::as_str).unwrap_or_default();
    let api = get(RUNTIME_API_VAR);
    if base(api).is_none() {
        return Err(Error::BadLambdaVariable {
            name: RUNTIME_API_VAR,
            value: api.to_owned(),
            expected: "the Runtime API's host:port (like 127.0.0.1:9001), or its http URL \
                       (like http://127.0.0.1:9000/.rt, as cargo lambda watch gives)",
        });
    }
    let memory = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if !memory.parse::<i32>().is_ok_and(|m| m > 0) {
        return Err(Error::BadLambdaVariable {
            name: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            value: memory.to_owned(),
            expected: "the function's memory in MB (like 256)",
        });
    }
    Ok(())
}

/// The Runtime API's base URL from `AWS_LAMBDA_RUNTIME_API`: `host:port` as Lambda sets it,
/// or an `http://host[:port][/prefix]` URL as `lambda_runtime` also accepts (cargo lambda's
/// `http://127.0.0.1:9000/.rt`). `None` when it is neither.
pub(crate) fn base(api: &str) -> Option<http::Uri> {
    let plain = !api.contains("://");
    let with_scheme = if plain {
        format!("http://{api}")
    } else {
        api.to_owned()
    };
    let uri = with_scheme.parse::<http::Uri>().ok()?;
    let authority = uri.authority()?;
    let path_ok = uri.query().is_none() && (!plain || uri.path() == "/");
    let plain_ok = !plain || (authority.as_str() == api && authority.port().is_some());
    // lambda_runtime speaks plain HTTP to the Runtime API.
    (uri.scheme_str() == Some("http") && path_ok && plain_ok).then_some(uri)
}

/// The Runtime API's host (without an IPv6 address's brackets) and port (80 when unset).
pub(crate) fn host_port(api: &str) -> Option<(String, u16)> {
    let uri = base(api)?;
    let host = uri.host()?.trim_matches(['[', ']']).to_owned();
    Some((host, uri.port_u16().unwrap_or(80)))
}

/// Posts an init error to `/runtime/init/error` of the Runtime API in `env`, so Lambda shows
/// the reason. Best effort: nothing is posted outside Lambda, for an environment that is not
/// Lambda's, or when the Runtime API does not answer within [`INIT_ERROR_TIMEOUT`].
pub(crate) async fn report_init_error(env: &HashMap<String, String>, e: &Error) {
    if matches!(e, Error::NotInLambda { .. } | Error::Lambda(_)) {
        return;
    }
    let Some(base) = env.get(RUNTIME_API_VAR).and_then(|api| base(api)) else {
        return;
    };
    let (Ok(request), Some(client)) = (init_error_request(&base, e), client(&base)) else {
        return;
    };
    let _ = tokio::time::timeout(INIT_ERROR_TIMEOUT, client.call(request)).await;
}

/// The `/runtime/init/error` request for `e`: `errorType` the variant, the message with its
/// causes, under `base`'s path prefix.
fn init_error_request(base: &http::Uri, e: &Error) -> Result<http::Request<Body>, http::Error> {
    let body = serde_json::json!({ "errorType": e.kind(), "errorMessage": e.message() });
    let path = format!(
        "{}/2018-06-01/runtime/init/error",
        base.path().trim_end_matches('/')
    );
    http::Request::post(path)
        .header(
            "lambda-runtime-function-error-type",
            format!("Runtime.{}", e.kind()),
        )
        .body(Body::from(body.to_string()))
}

/// A Runtime API client for `base`'s scheme and authority.
fn client(base: &http::Uri) -> Option<Client> {
    let endpoint = http::Uri::builder()
        .scheme(base.scheme_str()?)
        .authority(base.authority()?.as_str())
        .path_and_query("/")
        .build()
        .ok()?;
    Client::builder().with_endpoint(endpoint).build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_runtime_api_is_host_port_or_an_http_url() {
        for ok in [
            "127.0.0.1:9001",
            "localhost:9001",
            "http://127.0.0.1:9000/.rt",
            "http://[::1]:9000",
        ] {
            assert!(base(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "9001",
            "127.0.0.1:9001/x",
            "ftp://h:1",
            "h:1?x=1",
            "http://",
        ] {
            assert!(base(bad).is_none(), "{bad}");
        }
        assert_eq!(
            host_port("127.0.0.1:9001"),
            Some(("127.0.0.1".into(), 9001))
        );
        assert_eq!(
            host_port("http://[::1]:9000/.rt"),
            Some(("::1".into(), 9000))
        );
        assert_eq!(host_port("http://rt/.rt"), Some(("rt".into(), 80)));
    }

    #[test]
    fn missing_and_malformed_lambda_variables_are_named() {
        let e = check_lambda_environment(&env(&[(RUNTIME_API_VAR, "127.0.0.1:9001")])).unwrap_err();
        assert_eq!(e.kind(), "NotInLambda");
        assert!(e.message().contains("AWS_LAMBDA_FUNCTION_NAME"), "{e}");
        let mut vars = env(&[
            (RUNTIME_API_VAR, "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ]);
        let e = check_lambda_environment(&vars).unwrap_err();
        assert_eq!(e.kind(), "BadLambdaVariable");
        assert!(e.message().contains("`lots`"), "{e}");
        vars.insert("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "256".into());
        assert!(check_lambda_environment(&vars).is_ok());
        vars.insert(RUNTIME_API_VAR.into(), "9001".into());
        let e = check_lambda_environment(&vars).unwrap_err();
        assert!(e.message().starts_with("set AWS_LAMBDA_RUNTIME_API"), "{e}");
    }

    #[test]
    fn the_init_error_request_keeps_the_prefix_and_names_the_variant() {
        let e = Error::Configure("no database url".into());
        let base = base("http://127.0.0.1:9000/.rt").unwrap();
        let request = init_error_request(&base, &e).unwrap();
        assert_eq!(request.uri().path(), "/.rt/2018-06-01/runtime/init/error");
        assert_eq!(
            request.headers()["lambda-runtime-function-error-type"],
            "Runtime.Configure"
        );
        let plain = self::base("127.0.0.1:9001").unwrap();
        let request = init_error_request(&plain, &e).unwrap();
        assert_eq!(request.uri().path(), "/2018-06-01/runtime/init/error");
    }

    #[tokio::test]
    async fn an_init_error_is_posted_to_the_runtime_api() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0_u8; 4096];
            while !String::from_utf8_lossy(&seen).contains("errorMessage") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let reply = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n";
            socket.write_all(reply).await.unwrap();
            String::from_utf8_lossy(&seen).into_owned()
        });
        let e = Error::Configure("no database url".into());
        report_init_error(&env(&[(RUNTIME_API_VAR, &api)]), &e).await;
        let request = server.await.unwrap();
        assert!(
            request.starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1"),
            "{request}"
        );
        assert!(
            request.contains(r#""errorType":"Configure""#)
                && request.contains("the configure callback failed: no database url"),
            "{request}"
        );
    }
}
