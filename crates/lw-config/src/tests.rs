use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn defaults_without_file_or_env() {
    let c = ClientConfig::load_from(&env(&[("LAMBDA_TASK_ROOT", "/nonexistent")])).unwrap();
    assert_eq!(c.address, DEFAULT_ADDRESS);
    assert_eq!(c.namespace, DEFAULT_NAMESPACE);
    assert!(c.tls.is_none() && c.api_key.is_none());
}

#[test]
fn file_order_prefers_config_file_var_then_task_root() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let explicit = write(
        a.path(),
        "x.toml",
        "[profile.default]\nnamespace = \"from-var\"\n",
    );
    write(
        b.path(),
        CONFIG_FILE_NAME,
        "[profile.default]\nnamespace = \"from-root\"\n",
    );
    let root = b.path().to_str().unwrap();
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_CONFIG_FILE", explicit.to_str().unwrap()),
        ("LAMBDA_TASK_ROOT", root),
    ]))
    .unwrap();
    assert_eq!(c.namespace, "from-var");
    let c = ClientConfig::load_from(&env(&[("LAMBDA_TASK_ROOT", root)])).unwrap();
    assert_eq!(c.namespace, "from-root");
    assert_eq!(
        c.config_file.as_deref(),
        Some(b.path().join(CONFIG_FILE_NAME).as_path())
    );
}

#[test]
fn env_overrides_file() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "t.toml",
        "[profile.default]\naddress = \"file:7233\"\nnamespace = \"file-ns\"\n",
    );
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_CONFIG_FILE", f.to_str().unwrap()),
        ("TEMPORAL_NAMESPACE", "env-ns"),
    ]))
    .unwrap();
    assert_eq!(c.address, "file:7233");
    assert_eq!(c.namespace, "env-ns");
}

#[test]
fn api_key_turns_tls_on_and_is_redacted() {
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233"),
        ("TEMPORAL_API_KEY", "top-secret"),
    ]))
    .unwrap();
    assert!(c.tls.is_some());
    assert!(!format!("{c:?}").contains("top-secret"));
    let (conn, _) = c.to_options().unwrap();
    assert_eq!(conn.target.as_str(), "https://ns.acct.tmprl.cloud:7233/");
    assert_eq!(conn.api_key.as_deref(), Some("top-secret"));
    assert!(conn.tls_options.is_some());
}

#[test]
fn debug_output_shows_no_secret() {
    let secrets = [
        ("TEMPORAL_API_KEY", "api-key-secret"),
        ("TEMPORAL_GRPC_META_AUTHORIZATION", "Bearer header-secret"),
        ("TEMPORAL_TLS_CLIENT_KEY_DATA", "key-data-secret"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
    ];
    let mut vars = secrets.to_vec();
    vars.push(("TEMPORAL_ADDRESS", "h:7233"));
    let loader = Loader::new()
        .env(env(&vars))
        .set("grpc_meta.x-token", "override-secret");
    let shown = format!("{loader:?}");
    assert!(shown.contains("AWS_SECRET_ACCESS_KEY") && shown.contains("grpc_meta.x-token"));
    // A configuration that loads (inline key data must be PEM, so it is left out here).
    let loadable: Vec<_> = vars
        .iter()
        .copied()
        .filter(|(k, _)| *k != "TEMPORAL_TLS_CLIENT_KEY_DATA")
        .collect();
    let config = ClientConfig::load_from(&env(&loadable)).unwrap();
    let shown = format!("{shown} {config:?}");
    assert!(shown.contains("authorization"), "{shown}");
    for (_, secret) in secrets.iter().chain([&("", "override-secret")]) {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn tls_false_wins_over_api_key() {
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_API_KEY", "k"),
        ("TEMPORAL_TLS", "false"),
    ]))
    .unwrap();
    assert!(c.tls.is_none());
}

#[test]
fn relative_cert_paths_resolve_against_the_file_folder() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "client.pem",
        include_str!("../tests/fixtures/a.pem"),
    );
    write(
        d.path(),
        "client.key",
        include_str!("../tests/fixtures/a.key"),
    );
    write(
        d.path(),
        CONFIG_FILE_NAME,
        "[profile.default]\naddress = \"a:7233\"\n[profile.default.tls]\nclient_cert_path = \"client.pem\"\nclient_key_path = \"client.key\"\n",
    );
    let c =
        ClientConfig::load_from(&env(&[("LAMBDA_TASK_ROOT", d.path().to_str().unwrap())])).unwrap();
    let tls = c.tls.clone().unwrap();
    assert_eq!(
        tls.client_cert,
        Some(PemSource::Path(d.path().join("client.pem")))
    );
    let (conn, _) = c.to_options().unwrap();
    let client = conn.tls_options.unwrap().client_tls_options.unwrap();
    assert!(
        client
            .client_private_key
            .starts_with(b"-----BEGIN PRIVATE KEY")
    );
}

#[test]
fn grpc_meta_from_file_and_env() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "t.toml",
        "[profile.default.grpc_meta]\nx-file = \"1\"\n",
    );
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_CONFIG_FILE", f.to_str().unwrap()),
        ("TEMPORAL_GRPC_META_X_ENV", "2"),
    ]))
    .unwrap();
    assert_eq!(c.grpc_meta.get("x-file").map(String::as_str), Some("1"));
    assert_eq!(c.grpc_meta.get("x-env").map(String::as_str), Some("2"));
}

#[test]
fn errors_name_their_source() {
    let d = tempfile::tempdir().unwrap();
    let bad = write(d.path(), "bad.toml", "[profile.default]\naddress = \n");
    let e = ClientConfig::load_from(&env(&[("TEMPORAL_CONFIG_FILE", bad.to_str().unwrap())]))
        .unwrap_err();
    assert!(matches!(e, ConfigError::Toml { line: Some(2), .. }), "{e}");
    assert!(e.to_string().contains("bad.toml"), "{e}");

    let typed = write(
        d.path(),
        "typed.toml",
        "[profile.default.tls]\ndisabled = \"yes\"\n",
    );
    let e = ClientConfig::load_from(&env(&[("TEMPORAL_CONFIG_FILE", typed.to_str().unwrap())]))
        .unwrap_err();
    assert!(matches!(e, ConfigError::Invalid { .. }), "{e}");
    assert!(
        e.to_string().contains("profile.default.tls.disabled"),
        "{e}"
    );
    assert!(e.to_string().contains("typed.toml"), "{e}");

    let e = ClientConfig::load_from(&env(&[("TEMPORAL_ADDRESS", "localhost")])).unwrap_err();
    assert!(
        e.to_string().contains("TEMPORAL_ADDRESS") && e.to_string().contains("port"),
        "{e}"
    );

    let e = ClientConfig::load_from(&env(&[("TEMPORAL_TLS", "maybe")])).unwrap_err();
    assert!(e.to_string().contains("TEMPORAL_TLS"), "{e}");

    let e = ClientConfig::load_from(&env(&[("TEMPORAL_CONFIG_FILE", "/no/such/file.toml")]))
        .unwrap_err();
    assert!(e.to_string().contains("/no/such/file.toml"), "{e}");

    let prof = write(d.path(), "p.toml", "[profile.default]\n[profile.prod]\n");
    let e = ClientConfig::load_from(&env(&[
        ("TEMPORAL_CONFIG_FILE", prof.to_str().unwrap()),
        ("TEMPORAL_PROFILE", "staging"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("default, prod"), "{e}");

    let e = ClientConfig::load_from(&env(&[
        ("TEMPORAL_TLS", "true"),
        ("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true"),
    ]))
    .unwrap_err();
    assert!(matches!(e, ConfigError::Unsupported { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"),
        "{e}"
    );

    let e = ClientConfig::load_from(&env(&[
        ("TEMPORAL_TLS_CLIENT_CERT_DATA", "not pem"),
        (
            "TEMPORAL_TLS_CLIENT_KEY_DATA",
            "-----BEGIN PRIVATE KEY-----",
        ),
    ]))
    .unwrap_err();
    assert!(
        e.to_string().contains("TEMPORAL_TLS_CLIENT_CERT_DATA"),
        "{e}"
    );
}

#[test]
fn causes_travel_typed_as_sources() {
    use std::error::Error as _;
    let d = tempfile::tempdir().unwrap();
    // A TLS file that cannot be read: the io::Error is the source, not text in the message.
    write(
        d.path(),
        CONFIG_FILE_NAME,
        "[profile.default.tls]\nclient_cert_path = \"gone.pem\"\nclient_key_path = \"gone.key\"\n",
    );
    let c =
        ClientConfig::load_from(&env(&[("LAMBDA_TASK_ROOT", d.path().to_str().unwrap())])).unwrap();
    let e = c.to_options().unwrap_err();
    let io = e
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .unwrap_or_else(|| panic!("no io::Error source: {e}"));
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(!e.to_string().contains(&io.to_string()), "{e}");
    assert!(e.to_string().contains("gone.pem"), "{e}");

    // A file that is not UTF-8: the Utf8Error is the source.
    let latin1 = d.path().join("latin1.toml");
    std::fs::write(&latin1, b"# caf\xe9\n").unwrap();
    let e = ClientConfig::load_from(&env(&[("TEMPORAL_CONFIG_FILE", latin1.to_str().unwrap())]))
        .unwrap_err();
    assert!(
        e.source().is_some_and(|s| s.is::<std::str::Utf8Error>()),
        "{e}"
    );

    // A TOML error keeps no source: the parser's Display quotes the line, which may be a
    // secret.
    let bad = write(d.path(), "bad.toml", "api_key = \"s3cr3t\" oops\n");
    let e = ClientConfig::load_from(&env(&[("TEMPORAL_CONFIG_FILE", bad.to_str().unwrap())]))
        .unwrap_err();
    assert!(
        e.source().is_none() && !e.to_string().contains("s3cr3t"),
        "{e}"
    );
}

/// What `f` logged, as text.
pub(crate) fn logged(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned()
}

#[test]
fn an_unusable_config_file_in_the_task_root_is_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(CONFIG_FILE_NAME)).unwrap();
    let root = env(&[("LAMBDA_TASK_ROOT", dir.path().to_str().unwrap())]);
    let logs = logged(|| {
        assert!(
            ClientConfig::load_from(&root)
                .unwrap()
                .config_file
                .is_none()
        )
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains(&dir.path().join(CONFIG_FILE_NAME).display().to_string()),
        "{logs}"
    );
    assert!(logs.contains("a directory"), "{logs}");

    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("gone.toml"),
        dir.path().join(CONFIG_FILE_NAME),
    )
    .unwrap();
    let root = env(&[("LAMBDA_TASK_ROOT", dir.path().to_str().unwrap())]);
    let logs = logged(|| {
        assert!(
            ClientConfig::load_from(&root)
                .unwrap()
                .config_file
                .is_none()
        )
    });
    assert!(logs.contains("a link to nothing readable"), "{logs}");

    // Nothing there: no warning.
    let dir = tempfile::tempdir().unwrap();
    let root = env(&[("LAMBDA_TASK_ROOT", dir.path().to_str().unwrap())]);
    let logs = logged(|| {
        assert!(
            ClientConfig::load_from(&root)
                .unwrap()
                .config_file
                .is_none()
        )
    });
    assert!(!logs.contains("WARN"), "{logs}");
}

#[test]
fn sources_name_where_each_setting_came_from() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.pem", include_str!("../tests/fixtures/a.pem"));
    let file = write(
        d.path(),
        "t.toml",
        "[profile.default]\naddress = \"h.example:7233\"\n[profile.default.tls]\nserver_ca_cert_path = \"a.pem\"\n",
    );
    let c = ClientConfig::load_from(&env(&[
        ("TEMPORAL_CONFIG_FILE", file.to_str().unwrap()),
        ("TEMPORAL_TLS_SERVER_NAME", "temporal.test"),
    ]))
    .unwrap();
    let s = &c.sources;
    assert!(
        s.address.ends_with("t.toml: key `profile.default.address`"),
        "{s:?}"
    );
    assert!(
        s.server_ca_cert
            .as_deref()
            .is_some_and(|o| o.ends_with("key `profile.default.tls.server_ca_cert_path`")),
        "{s:?}"
    );
    assert_eq!(
        s.server_name.as_deref(),
        Some("environment variable TEMPORAL_TLS_SERVER_NAME")
    );
    assert!(s.tls.as_deref().is_some_and(|o| o.contains("tls")), "{s:?}");
    assert_eq!(s.namespace, "the default namespace (default)");
    assert!(s.api_key.is_none() && s.client_cert.is_none());
}
