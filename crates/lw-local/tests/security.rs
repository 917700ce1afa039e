//! Who may use lw-local, over real HTTP: a browser-like client (no signature, text/plain),
//! a foreign `Host` (DNS rebinding), another run's key and a changed body are all refused
//! with 403 and how to get the credentials; and what a function's process is given.

use std::{
    io::{Read, Write},
    net::TcpStream,
};

use lw_local::{Credentials, FunctionConfig, LocalLambda};

/// A raw HTTP/1.1 request to `aws` (as a browser or `curl` would send it); the status and
/// the body.
fn raw(aws: &LocalLambda, head: &str, body: &[u8]) -> (u16, String) {
    let addr = aws.endpoint().trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).unwrap();
    let head = format!(
        "{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

fn host(aws: &LocalLambda) -> String {
    aws.endpoint().trim_start_matches("http://").to_owned()
}

/// A CreateFunction body holding a zip whose `bootstrap` would run `touch`.
fn create_body(name: &str) -> Vec<u8> {
    use base64::Engine;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(b"#!/bin/sh\ntouch /tmp/lw-local-pwned\n")
        .unwrap();
    zip.finish().unwrap();
    let zip = base64::engine::general_purpose::STANDARD.encode(out.into_inner());
    serde_json::json!({"FunctionName": name, "Role": "arn:aws:iam::000000000000:role/r",
        "Runtime": "provided.al2023", "Code": {"ZipFile": zip}})
    .to_string()
    .into_bytes()
}

fn says_how_to_sign(body: &str) {
    assert!(
        body.contains("sign every request") && body.contains("AWS_ACCESS_KEY_ID"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_post_without_a_signature_is_refused_and_creates_nothing() {
    let aws = LocalLambda::start().await.unwrap();
    let body = create_body("evil");
    let head = format!(
        "POST /2015-03-31/functions HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\n\
         Origin: http://evil.example\r\n",
        host(&aws)
    );
    let (status, answer) = raw(&aws, &head, &body);
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("no Authorization header"), "{answer}");
    says_how_to_sign(&answer);
    assert!(
        aws.function_info("evil").is_err(),
        "the function was created"
    );
    // An unsigned Invoke and GetFunction are refused alike.
    aws.add_function(FunctionConfig::new("f", "/bin/true").env("SECRET_SETTING", "s3cr3t"));
    for head in [
        "POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n",
        "GET /2015-03-31/functions/f HTTP/1.1\r\n",
    ] {
        let head = format!("{head}Host: {}\r\n", host(&aws));
        let (status, answer) = raw(&aws, &head, b"");
        assert_eq!(status, 403, "{answer}");
        assert!(!answer.contains("s3cr3t"), "{answer}");
    }
    assert_eq!(aws.accounting("f").unwrap().invocations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_even_when_signed() {
    let aws = LocalLambda::start().await.unwrap();
    aws.add_function(FunctionConfig::new("f", "/bin/true").env("SECRET_SETTING", "s3cr3t"));
    let port = host(&aws).rsplit(':').next().unwrap().to_owned();
    let foreign = format!("rebound.example:{port}");
    // Signed for the name the page used: the signature holds, the Host does not.
    let url = format!("http://{foreign}/2015-03-31/functions/f");
    let signed = aws.credentials().sign("GET", &url, &[], b"").unwrap();
    let mut head = format!("GET /2015-03-31/functions/f HTTP/1.1\r\nHost: {foreign}\r\n");
    for (k, v) in signed {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let (status, answer) = raw(&aws, &head, b"");
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer.contains("the Host header is rebound.example"),
        "{answer}"
    );
    assert!(!answer.contains("s3cr3t"), "{answer}");
    says_how_to_sign(&answer);
}

/// A GetFunction signed with `c`, sent with `body`: its status and answer.
async fn get_function(aws: &LocalLambda, c: &Credentials, body: &[u8]) -> (u16, String) {
    let url = format!("{}/2015-03-31/functions/f", aws.endpoint());
    let signed = c.sign("GET", &url, &[], b"").unwrap();
    let mut r = reqwest::Client::new().get(url).body(body.to_vec());
    for (k, v) in signed {
        r = r.header(k, v);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn another_runs_key_and_a_changed_request_are_refused() {
    let aws = LocalLambda::start().await.unwrap();
    let other = LocalLambda::start().await.unwrap();
    aws.add_function(FunctionConfig::new("f", "/bin/true"));
    let (status, answer) = get_function(&aws, aws.credentials(), b"").await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = get_function(&aws, other.credentials(), b"").await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("is not this run's"), "{answer}");
    says_how_to_sign(&answer);
    // Signed for an empty body, sent with another.
    let (status, answer) = get_function(&aws, aws.credentials(), b"{}").await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("signature does not match"), "{answer}");
}

#[tokio::test]
async fn only_a_loopback_address_is_served() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let e = LocalLambda::bind(addr).await.err().unwrap().to_string();
        assert!(e.contains("loopback address such as 127.0.0.1:0"), "{e}");
    }
    let aws = LocalLambda::bind("127.0.0.1:0").await.unwrap();
    assert!(aws.endpoint().starts_with("http://127.0.0.1:"));
    let env: Vec<String> = aws
        .server_env()
        .into_iter()
        .map(|(k, v)| k + "=" + &v)
        .collect();
    assert!(env.contains(&format!(
        "AWS_ACCESS_KEY_ID={}",
        aws.credentials().access_key_id()
    )));
}

/// A bootstrap that answers its first invocation with its environment.
const ENV_BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
r = urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next")
rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
body = json.dumps(dict(os.environ)).encode()
url = f"http://{api}/2018-06-01/runtime/invocation/{rid}/response"
urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_gets_lambdas_environment_not_the_developers() {
    // Variables this test process has (cargo sets them) stand for the developer's own.
    for sentinel in ["HOME", "CARGO_MANIFEST_DIR"] {
        assert!(
            std::env::var_os(sentinel).is_some(),
            "{sentinel} is not set here"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("bootstrap");
    std::fs::write(&program, ENV_BOOTSTRAP).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let aws = LocalLambda::start().await.unwrap();
    aws.add_function(FunctionConfig::new("env", &program).env("CONFIGURED", "yes"));
    let url = format!("{}/2015-03-31/functions/env/invocations", aws.endpoint());
    let signed = aws.credentials().sign("POST", &url, &[], b"{}").unwrap();
    let mut r = reqwest::Client::new().post(url).body("{}");
    for (k, v) in signed {
        r = r.header(k, v);
    }
    let env: serde_json::Value = r.send().await.unwrap().json().await.unwrap();
    for absent in ["HOME", "CARGO_MANIFEST_DIR"] {
        assert!(
            env.get(absent).is_none(),
            "{absent} reached the function: {env}"
        );
    }
    let c = aws.credentials();
    assert_eq!(env["AWS_ACCESS_KEY_ID"], c.access_key_id());
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], c.secret_access_key());
    assert_eq!(env["CONFIGURED"], "yes");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env");
    assert_eq!(env["TZ"], ":UTC");
    assert!(env["PATH"].is_string(), "{env}");
    aws.stop().await;
}
