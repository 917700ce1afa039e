//! KMS-encrypted secrets against a real KMS API: `moto_server` (PyPI `moto[server]`) on
//! 127.0.0.1, reached through `AWS_ENDPOINT_URL_KMS`.

use std::{collections::HashMap, time::Duration};

use lw_config::{ClientConfig, ConfigError, Loader};
use lw_testkit::Moto;

mod common;
use common::report;

/// A real pair (tests/fixtures/README.md): lw-config checks certificates and keys at init.
const CERT: &str = include_str!("fixtures/a.pem");
const KEY: &str = include_str!("fixtures/a.key");

fn moto() -> &'static Moto {
    Moto::shared().expect("moto_server (pip install 'moto[server]')")
}

fn env_with(moto: &Moto, pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = moto.env();
    env.insert("LAMBDA_TASK_ROOT".into(), "/nonexistent".into());
    for (k, v) in pairs {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

fn assert_redacted(e: &ConfigError, secrets: &[&str]) {
    let shown = format!("{e} {e:?}");
    for s in secrets {
        assert!(
            !shown.contains(s),
            "error leaks a secret or ciphertext: {shown}"
        );
    }
}

#[tokio::test]
async fn console_encrypted_variables_are_decrypted_at_load() {
    let m = moto();
    let key = m.create_key().await.unwrap();
    let ctx = Some(("LambdaFunctionName", "orders-worker"));
    let api = m.encrypt(&key, "tmprl-api-key-123", ctx).await.unwrap();
    let cert = m.encrypt(&key, CERT, ctx).await.unwrap();
    let pem = m.encrypt(&key, KEY, ctx).await.unwrap();
    let env = env_with(
        m,
        &[
            ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
            (
                "LAMBDAWORKER_KMS_DECRYPT",
                "TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_DATA,TEMPORAL_TLS_CLIENT_KEY_DATA",
            ),
            ("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233"),
            ("TEMPORAL_API_KEY", &api),
            ("TEMPORAL_TLS_CLIENT_CERT_DATA", &cert),
            ("TEMPORAL_TLS_CLIENT_KEY_DATA", &pem),
        ],
    );
    let config = ClientConfig::load_from_async(&env).await.unwrap();
    assert_eq!(
        config.api_key.as_ref().map(|k| k.expose()),
        Some("tmprl-api-key-123")
    );
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("tmprl-api-key-123") && !debug.contains(KEY.lines().nth(1).unwrap_or("-"))
    );
    let (conn, _) = config.to_options().unwrap();
    assert_eq!(conn.api_key.as_deref(), Some("tmprl-api-key-123"));
    let client_tls = conn
        .tls_options
        .and_then(|t| t.client_tls_options)
        .expect("mTLS options");
    assert_eq!(client_tls.client_cert, CERT.as_bytes());
    assert_eq!(client_tls.client_private_key, KEY.as_bytes());
}

#[tokio::test]
async fn kms_prefixed_values_in_the_file_and_the_environment() {
    let m = moto();
    let key = m.create_key().await.unwrap();
    let api = m.encrypt(&key, "from-the-file", None).await.unwrap();
    let token = m.encrypt(&key, "team-token", None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("temporal.toml");
    std::fs::write(
        &file,
        format!("[profile.default]\naddress = \"h:7233\"\napi_key = \"kms:{api}\"\n"),
    )
    .unwrap();
    let env = env_with(
        m,
        &[
            ("TEMPORAL_CONFIG_FILE", file.to_str().unwrap()),
            ("TEMPORAL_GRPC_META_X_TEAM_TOKEN", &format!("kms:{token}")),
        ],
    );
    let config = ClientConfig::load_from_async(&env).await.unwrap();
    assert_eq!(config.api_key.unwrap().expose(), "from-the-file");
    assert_eq!(config.grpc_meta["x-team-token"], "team-token");

    // The synchronous loader refuses instead of using ciphertext as the key.
    let e = ClientConfig::load_from(&env).unwrap_err();
    assert!(matches!(e, ConfigError::Kms { .. }), "{e:?}");
    assert!(e.to_string().contains("load_async"), "{e}");
    assert_redacted(&e, &[&api, &token]);
}

#[tokio::test]
async fn a_wrong_encryption_context_names_the_variable() {
    let m = moto();
    let key = m.create_key().await.unwrap();
    let api = m
        .encrypt(&key, "s3cr3t", Some(("LambdaFunctionName", "other-fn")))
        .await
        .unwrap();
    let env = env_with(
        m,
        &[
            ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
            ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
            ("TEMPORAL_API_KEY", &api),
        ],
    );
    let e = ClientConfig::load_from_async(&env).await.unwrap_err();
    assert!(matches!(e, ConfigError::Kms { .. }), "{e:?}");
    let msg = report(&e);
    assert!(
        msg.starts_with("environment variable TEMPORAL_API_KEY:"),
        "{msg}"
    );
    assert!(msg.contains("InvalidCiphertextException"), "{msg}");
    assert!(msg.contains("LambdaFunctionName=orders-worker"), "{msg}");
    assert_redacted(&e, &["s3cr3t", &api]);

    // The same ciphertext written as `kms:` (no context) fails the same way, naming it.
    let env = env_with(m, &[("TEMPORAL_API_KEY", &format!("kms:{api}"))]);
    let e = ClientConfig::load_from_async(&env).await.unwrap_err();
    assert!(
        e.to_string().contains("without an encryption context"),
        "{e}"
    );
}

#[tokio::test]
async fn access_denied_names_the_variable_and_the_permission() {
    // A key of another region is not the function's to use: KMS denies the decrypt.
    let m = moto();
    let key = m.create_key_in("eu-west-1").await.unwrap();
    let api = m
        .encrypt_in(
            "eu-west-1",
            &key,
            "s3cr3t",
            Some(("LambdaFunctionName", "fn")),
        )
        .await
        .unwrap();
    let env = env_with(
        m,
        &[
            ("AWS_LAMBDA_FUNCTION_NAME", "fn"),
            ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
            ("TEMPORAL_API_KEY", &api),
        ],
    );
    let e = ClientConfig::load_from_async(&env).await.unwrap_err();
    let msg = report(&e);
    assert!(
        msg.starts_with("environment variable TEMPORAL_API_KEY:"),
        "{msg}"
    );
    assert!(msg.contains("AccessDeniedException"), "{msg}");
    assert!(msg.contains("kms:Decrypt"), "{msg}");
    // KMS's own answer travels typed, as the source.
    let cause = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<aws_sdk_kms::operation::decrypt::DecryptError>())
        .unwrap_or_else(|| panic!("no DecryptError source: {msg}"));
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::code(cause),
        Some("AccessDeniedException")
    );
    assert_redacted(&e, &["s3cr3t", &api]);
}

#[tokio::test]
async fn an_unreachable_kms_fails_within_the_bound() {
    let port = lw_testkit::free_port().unwrap();
    let mut env = env_with(moto(), &[("TEMPORAL_API_KEY", "kms:AQIDBAUGBwg=")]);
    env.insert(
        "AWS_ENDPOINT_URL_KMS".into(),
        format!("http://127.0.0.1:{port}"),
    );
    let started = std::time::Instant::now();
    let e = Loader::new()
        .env(env)
        .kms_timeout(Duration::from_secs(2))
        .load_async()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let msg = report(&e);
    assert!(msg.contains("TEMPORAL_API_KEY"), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
}

#[tokio::test]
async fn many_secrets_are_decrypted_concurrently() {
    let m = moto();
    let key = m.create_key().await.unwrap();
    let mut env = env_with(m, &[]);
    for i in 0..8 {
        let c = m.encrypt(&key, &format!("v{i}"), None).await.unwrap();
        env.insert(format!("TEMPORAL_GRPC_META_H{i}"), format!("kms:{c}"));
    }
    let config = ClientConfig::load_from_async(&env).await.unwrap();
    for i in 0..8 {
        assert_eq!(config.grpc_meta[&format!("h{i}")], format!("v{i}"));
    }
}

#[tokio::test]
async fn the_generic_endpoint_variable_is_honoured_and_the_kms_one_wins() {
    let m = moto();
    let key = m.create_key().await.unwrap();
    let api = m.encrypt(&key, "via-generic", None).await.unwrap();
    let mut env = env_with(m, &[("TEMPORAL_API_KEY", &format!("kms:{api}"))]);
    let endpoint = env.remove("AWS_ENDPOINT_URL_KMS").unwrap();
    env.insert("AWS_ENDPOINT_URL".into(), endpoint.clone());
    let config = ClientConfig::load_from_async(&env).await.unwrap();
    assert_eq!(config.api_key.unwrap().expose(), "via-generic");

    // AWS_ENDPOINT_URL_KMS takes precedence: pointing it at a closed port fails even though
    // the generic variable is right.
    let port = lw_testkit::free_port().unwrap();
    env.insert(
        "AWS_ENDPOINT_URL_KMS".into(),
        format!("http://127.0.0.1:{port}"),
    );
    let e = ClientConfig::load_from_async(&env).await.unwrap_err();
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}
