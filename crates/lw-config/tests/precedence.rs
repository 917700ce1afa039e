//! Layer precedence with provenance: defaults ← config file profile ← `TEMPORAL_*`
//! environment ← code overrides (`Loader::set`), for `address`, `namespace`, `api_key`,
//! `tls.server_name` and a `grpc_meta` header; errors name the layer that supplied the bad
//! value; `Loader::profile` / `Loader::config_file` beat `TEMPORAL_PROFILE` /
//! `TEMPORAL_CONFIG_FILE`; relative certificate paths resolve against the file's folder when
//! the file names them and against the working directory otherwise.

use std::{
    collections::HashMap,
    panic::Location,
    path::{Path, PathBuf},
};

use lw_config::{ClientConfig, ConfigError, Loader, PemSource};
use serde::Serialize;
use tempfile::TempDir;

/// A real pair (tests/fixtures/README.md): lw-config checks certificates and keys at init.
const CERT_PEM: &str = include_str!("fixtures/a.pem");
const KEY_PEM: &str = include_str!("fixtures/a.key");

/// A case directory holding `temporal.toml` (when given), and an empty `LAMBDA_TASK_ROOT`.
struct Setup {
    dir: TempDir,
    _root: TempDir,
    file: PathBuf,
    env: HashMap<String, String>,
}

impl Setup {
    /// `toml` (if any) is written to `{dir}/temporal.toml` and named by
    /// `TEMPORAL_CONFIG_FILE`; `env` is laid over that.
    fn new(toml: Option<&str>, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let file = dir.path().join("temporal.toml");
        let mut vars = HashMap::from([(
            "LAMBDA_TASK_ROOT".to_owned(),
            root.path().display().to_string(),
        )]);
        if let Some(text) = toml {
            std::fs::write(&file, text).unwrap();
            vars.insert("TEMPORAL_CONFIG_FILE".into(), file.display().to_string());
        }
        for (k, v) in env {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Self {
            dir,
            _root: root,
            file,
            env: vars,
        }
    }

    fn loader(&self) -> Loader {
        Loader::new().env(self.env.clone())
    }

    /// `{FILE}: key `profile.default.<key>``, as errors name a file key.
    fn file_key(&self, key: &str) -> String {
        format!("{}: key `profile.default.{key}`", self.file.display())
    }
}

/// `Loader::set`, also returning how errors name this call: `code override at
/// <file>:<line>:`.
#[track_caller]
fn set<T: Serialize>(loader: Loader, key: &str, value: T) -> (Loader, String) {
    let at = Location::caller();
    (
        loader.set(key, value),
        format!("code override at {}:{}:", at.file(), at.line()),
    )
}

// ---------------------------------------------------------------------------------------------
// Each setting through the four layers.

/// One setting: how each layer writes it, and how to read it back from the configuration and
/// from the options built from it.
struct Field {
    name: &'static str,
    /// TOML setting it to `file`.
    file: &'static str,
    /// Variable setting it (to `env`).
    var: &'static str,
    /// `Loader::set` key (set to `code`).
    key: &'static str,
    default: Option<&'static str>,
    read: fn(&ClientConfig) -> Option<String>,
    read_options: fn(
        &temporalio_client::ConnectionOptions,
        &temporalio_client::ClientOptions,
    ) -> Option<String>,
}

fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "address",
            file: "[profile.default]\naddress = \"file.example:7233\"\n",
            var: "TEMPORAL_ADDRESS",
            key: "address",
            default: Some("localhost:7233"),
            read: |c| Some(c.address.clone()),
            read_options: |conn, _| {
                Some(format!(
                    "{}:{}",
                    conn.target.host_str().unwrap(),
                    conn.target.port().unwrap()
                ))
            },
        },
        Field {
            name: "namespace",
            file: "[profile.default]\nnamespace = \"file\"\n",
            var: "TEMPORAL_NAMESPACE",
            key: "namespace",
            default: Some("default"),
            read: |c| Some(c.namespace.clone()),
            read_options: |_, client| Some(client.namespace.clone()),
        },
        Field {
            name: "api_key",
            file: "[profile.default]\napi_key = \"file\"\n",
            var: "TEMPORAL_API_KEY",
            key: "api_key",
            default: None,
            read: |c| c.api_key.as_ref().map(|k| k.expose().to_owned()),
            read_options: |conn, _| conn.api_key.clone(),
        },
        Field {
            name: "tls.server_name",
            file: "[profile.default.tls]\nserver_name = \"file\"\n",
            var: "TEMPORAL_TLS_SERVER_NAME",
            key: "tls.server_name",
            default: None,
            read: |c| c.tls.as_ref().and_then(|t| t.server_name.clone()),
            read_options: |conn, _| conn.tls_options.as_ref().and_then(|t| t.domain.clone()),
        },
        Field {
            name: "grpc_meta header",
            file: "[profile.default.grpc_meta]\nx-team = \"file\"\n",
            var: "TEMPORAL_GRPC_META_X_TEAM",
            key: "grpc_meta.x-team",
            default: None,
            read: |c| c.grpc_meta.get("x-team").cloned(),
            read_options: |conn, _| conn.headers.as_ref().and_then(|h| h.get("x-team").cloned()),
        },
    ]
}

/// The value a layer writes for `field`: for `address` a host:port.
fn value(field: &Field, layer: &str) -> String {
    if field.name == "address" {
        format!("{layer}.example:7233")
    } else {
        layer.to_owned()
    }
}

fn check(field: &Field, layer: &str, loader: Loader, want: Option<&str>) {
    let config = loader
        .load()
        .unwrap_or_else(|e| panic!("{} ({layer}): {e}", field.name));
    assert_eq!(
        (field.read)(&config).as_deref(),
        want,
        "{} ({layer}): configuration",
        field.name
    );
    let (conn, client) = config
        .to_options()
        .unwrap_or_else(|e| panic!("{} ({layer}): to_options: {e}", field.name));
    assert_eq!(
        (field.read_options)(&conn, &client).as_deref(),
        want,
        "{} ({layer}): options",
        field.name
    );
}

#[test]
fn default_only() {
    for field in fields() {
        let s = Setup::new(None, &[]);
        check(&field, "default", s.loader(), field.default);
    }
}

#[test]
fn file_over_default() {
    for field in fields() {
        let s = Setup::new(Some(field.file), &[]);
        check(&field, "file", s.loader(), Some(&value(&field, "file")));
    }
}

#[test]
fn env_over_file() {
    for field in fields() {
        let env = value(&field, "env");
        let s = Setup::new(Some(field.file), &[(field.var, &env)]);
        check(&field, "env", s.loader(), Some(&env));
    }
}

#[test]
fn code_over_env() {
    for field in fields() {
        let env = value(&field, "env");
        let code = value(&field, "code");
        let s = Setup::new(Some(field.file), &[(field.var, &env)]);
        let (loader, _) = set(s.loader(), field.key, &code);
        check(&field, "code", loader, Some(&code));
    }
}

#[test]
fn code_over_file_without_env() {
    for field in fields() {
        let code = value(&field, "code");
        let s = Setup::new(Some(field.file), &[]);
        let (loader, _) = set(s.loader(), field.key, &code);
        check(&field, "code", loader, Some(&code));
    }
}

#[test]
fn an_empty_variable_does_not_mask_the_file() {
    for field in fields()
        .into_iter()
        .filter(|f| f.name != "grpc_meta header")
    {
        let s = Setup::new(Some(field.file), &[(field.var, "")]);
        check(
            &field,
            "empty env",
            s.loader(),
            Some(&value(&field, "file")),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// grpc_meta: a map merged key by key.

#[test]
fn grpc_meta_headers_merge_across_layers() {
    let s = Setup::new(
        Some("[profile.default.grpc_meta]\nfrom_file = \"f\"\nx-shared = \"file\"\n"),
        &[
            ("TEMPORAL_GRPC_META_FROM_ENV", "e"),
            ("TEMPORAL_GRPC_META_X_SHARED", "env"),
        ],
    );
    let (loader, _) = set(s.loader(), "grpc_meta.From_Code", "c");
    let config = loader.load().unwrap();
    let got: Vec<(&str, &str)> = config
        .grpc_meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("from-code", "c"),
            ("from-env", "e"),
            ("from-file", "f"),
            ("x-shared", "env"),
        ]
    );
}

#[test]
fn an_empty_meta_variable_removes_the_file_header() {
    let s = Setup::new(
        Some("[profile.default.grpc_meta]\nx-team = \"file\"\nx-keep = \"k\"\n"),
        &[("TEMPORAL_GRPC_META_X_TEAM", "")],
    );
    let config = s.loader().load().unwrap();
    assert_eq!(config.grpc_meta.get("x-team"), None);
    assert_eq!(config.grpc_meta["x-keep"], "k");
}

#[test]
fn a_code_override_beats_an_empty_meta_variable() {
    // The environment removes the file's header; code, the highest layer, sets it again.
    let s = Setup::new(
        Some("[profile.default.grpc_meta]\nx-team = \"file\"\n"),
        &[("TEMPORAL_GRPC_META_X_TEAM", "")],
    );
    let (loader, _) = set(s.loader(), "grpc_meta.x-team", "code");
    let config = loader.load().unwrap();
    assert_eq!(
        config.grpc_meta.get("x-team").map(String::as_str),
        Some("code")
    );
}

#[test]
fn a_code_override_names_the_header_as_the_file_and_env_do() {
    let s = Setup::new(
        Some("[profile.default.grpc_meta]\nX_Team = \"file\"\n"),
        &[],
    );
    let (loader, _) = set(s.loader(), "grpc_meta.X_TEAM", "code");
    let config = loader.load().unwrap();
    assert_eq!(
        config
            .grpc_meta
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        [("x-team", "code")]
    );
}

// ---------------------------------------------------------------------------------------------
// Errors name the layer that supplied the bad value.

fn load_err(loader: Loader) -> ConfigError {
    match loader.load() {
        Ok(c) => panic!("loaded {c:?}"),
        Err(e) => e,
    }
}

/// The message's source: everything before the first `: ` after the origin (`Invalid` and
/// friends are `{origin}: {message}`).
fn assert_starts(e: &ConfigError, origin: &str) {
    let shown = e.to_string();
    assert!(
        shown.starts_with(origin),
        "expected the message to start with `{origin}`: {shown}"
    );
}

#[test]
fn the_same_bad_address_from_each_layer_names_that_layer() {
    const BAD: &str = "temporal.example.com";
    let s = Setup::new(
        Some("[profile.default]\naddress = \"temporal.example.com\"\n"),
        &[],
    );
    let from_file = load_err(s.loader());

    let s2 = Setup::new(None, &[("TEMPORAL_ADDRESS", BAD)]);
    let from_env = load_err(s2.loader());

    let s3 = Setup::new(None, &[]);
    let (loader, at) = set(s3.loader(), "address", BAD);
    let from_code = load_err(loader);

    let file_origin = format!("{}: ", s.file_key("address"));
    assert_starts(&from_file, &file_origin);
    assert_starts(&from_env, "environment variable TEMPORAL_ADDRESS: ");
    assert_starts(&from_code, &at);
    for e in [&from_file, &from_env, &from_code] {
        assert!(matches!(e, ConfigError::Invalid { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("`temporal.example.com` has no port; write it as host:port"),
            "{e}"
        );
    }
    let origins: Vec<String> = [&from_file, &from_env, &from_code]
        .iter()
        .map(|e| match e {
            ConfigError::Invalid { origin, .. } => origin.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_ne!(origins[0], origins[1]);
    assert_ne!(origins[1], origins[2]);
    assert_ne!(origins[0], origins[2]);
}

#[test]
fn errors_in_a_named_profile_name_that_profile() {
    let s = Setup::new(
        Some("[profile.default]\naddress = \"d:7233\"\n[profile.prod]\naddress = \"no-port\"\n"),
        &[("TEMPORAL_PROFILE", "prod")],
    );
    let e = load_err(s.loader());
    assert_starts(
        &e,
        &format!("{}: key `profile.prod.address`: ", s.file.display()),
    );

    // A code override is not in any profile: its key is `address`, not `default.address`.
    let (loader, at) = set(s.loader(), "address", "still-no-port");
    let e = load_err(loader);
    assert_starts(&e, &at);
    let shown = e.to_string();
    assert!(shown.contains(": `address`: "), "{shown}");
    assert!(!shown.contains("default.address"), "{shown}");
}

#[test]
fn a_bad_address_in_a_lower_layer_is_masked_by_a_higher_one() {
    let s = Setup::new(
        Some("[profile.default]\naddress = \"grpc://file.example:7233\"\n"),
        &[("TEMPORAL_ADDRESS", "env.example:7233")],
    );
    assert_eq!(s.loader().load().unwrap().address, "env.example:7233");

    let s = Setup::new(
        Some("[profile.default]\naddress = 7233\n"),
        &[("TEMPORAL_ADDRESS", "no-port")],
    );
    let (loader, _) = set(s.loader(), "address", "code.example:7233");
    assert_eq!(loader.load().unwrap().address, "code.example:7233");
}

#[test]
fn when_file_and_env_are_both_bad_the_env_is_named() {
    let s = Setup::new(
        Some("[profile.default]\naddress = \"file-no-port\"\n"),
        &[("TEMPORAL_ADDRESS", "env-no-port")],
    );
    let e = load_err(s.loader());
    assert_starts(
        &e,
        "environment variable TEMPORAL_ADDRESS: `env-no-port` has no port",
    );
    assert!(!e.to_string().contains("file-no-port"), "{e}");
}

#[test]
fn a_wrong_type_names_the_file_key_or_the_code_override() {
    // namespace
    let s = Setup::new(Some("[profile.default]\nnamespace = 1\n"), &[]);
    let e = load_err(s.loader());
    assert!(matches!(e, ConfigError::Invalid { .. }), "{e:?}");
    assert_starts(&e, &format!("{}: ", s.file_key("namespace")));
    let (loader, at) = set(Setup::new(None, &[]).loader(), "namespace", 1);
    assert_starts(&load_err(loader), &at);
    // ... masked by the environment.
    let s = Setup::new(
        Some("[profile.default]\nnamespace = 1\n"),
        &[("TEMPORAL_NAMESPACE", "env")],
    );
    assert_eq!(s.loader().load().unwrap().namespace, "env");

    // tls.server_name
    let s = Setup::new(Some("[profile.default.tls]\nserver_name = true\n"), &[]);
    let e = load_err(s.loader());
    assert_starts(&e, &format!("{}: ", s.file_key("tls.server_name")));
    assert!(e.to_string().contains("expected a string"), "{e}");
    let (loader, at) = set(Setup::new(None, &[]).loader(), "tls.server_name", false);
    let e = load_err(loader);
    assert_starts(&e, &at);
    assert!(e.to_string().contains("tls.server_name"), "{e}");

    // a grpc_meta header
    let s = Setup::new(Some("[profile.default.grpc_meta]\nx-team = 1\n"), &[]);
    let e = load_err(s.loader());
    assert_starts(&e, &format!("{}: ", s.file_key("grpc_meta.x-team")));
    let (loader, at) = set(Setup::new(None, &[]).loader(), "grpc_meta.x-team", 1);
    let e = load_err(loader);
    assert_starts(&e, &at);
    assert!(e.to_string().contains("grpc_meta.x-team"), "{e}");
    let e = load_err(Setup::new(None, &[("TEMPORAL_GRPC_META_", "v")]).loader());
    assert_starts(&e, "environment variable TEMPORAL_GRPC_META_: ");
}

#[test]
fn an_encrypted_api_key_is_named_by_its_layer() {
    const CT: &str = "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let s = Setup::new(
        Some(&format!("[profile.default]\napi_key = \"{CT}\"\n")),
        &[],
    );
    let e = load_err(s.loader());
    assert!(matches!(e, ConfigError::Kms { .. }), "{e:?}");
    assert_starts(&e, &format!("{}: ", s.file_key("api_key")));

    let s = Setup::new(
        Some("[profile.default]\napi_key = \"plain\"\n"),
        &[("TEMPORAL_API_KEY", CT)],
    );
    let e = load_err(s.loader());
    assert!(matches!(e, ConfigError::Kms { .. }), "{e:?}");
    assert_starts(&e, "environment variable TEMPORAL_API_KEY: ");

    // A `kms:` file value the environment replaces is never used, so it is not decrypted:
    // the synchronous loader succeeds with the environment's key.
    let s = Setup::new(
        Some(&format!("[profile.default]\napi_key = \"{CT}\"\n")),
        &[("TEMPORAL_API_KEY", "env-key")],
    );
    let c = s
        .loader()
        .load()
        .expect("the masked kms: value is not needed");
    assert_eq!(c.api_key.as_ref().map(|k| k.expose()), Some("env-key"));
}

#[test]
fn conflicts_name_each_layer() {
    let s = Setup::new(
        Some("[profile.default.tls]\nclient_cert_path = \"c.pem\"\nclient_key_path = \"k.pem\"\n"),
        &[("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM)],
    );
    let e = load_err(s.loader());
    match &e {
        ConfigError::Conflict { first, second, .. } => {
            assert_eq!(first, &s.file_key("tls.client_cert_path"));
            assert_eq!(second, "environment variable TEMPORAL_TLS_CLIENT_CERT_DATA");
        }
        other => panic!("{other:?}"),
    }

    let s = Setup::new(None, &[("TEMPORAL_TLS_CLIENT_KEY_PATH", "k.pem")]);
    let (loader, at) = set(s.loader(), "tls.client_key_data", KEY_PEM);
    let e = load_err(loader);
    match &e {
        ConfigError::Conflict { first, second, .. } => {
            assert_eq!(first, "environment variable TEMPORAL_TLS_CLIENT_KEY_PATH");
            assert!(second.starts_with(&at), "{second} vs {at}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{e} {e:?}").contains("MC4CAQAwcHJlY2VkZW5jZS1rZXk="));
}

// ---------------------------------------------------------------------------------------------
// Loader::profile and Loader::config_file.

const TWO_PROFILES: &str = "[profile.default]\nnamespace = \"default-ns\"\n[profile.a]\nnamespace = \"a-ns\"\n[profile.b]\nnamespace = \"b-ns\"\n";

#[test]
fn loader_profile_beats_temporal_profile() {
    let s = Setup::new(Some(TWO_PROFILES), &[("TEMPORAL_PROFILE", "a")]);
    assert_eq!(s.loader().load().unwrap().namespace, "a-ns");
    let c = s.loader().profile("b").load().unwrap();
    assert_eq!((c.namespace.as_str(), c.profile.as_str()), ("b-ns", "b"));

    // TEMPORAL_PROFILE naming a missing profile does not matter once code names one.
    let s = Setup::new(Some(TWO_PROFILES), &[("TEMPORAL_PROFILE", "missing")]);
    assert!(matches!(
        s.loader().load(),
        Err(ConfigError::UnknownProfile { .. })
    ));
    assert_eq!(s.loader().profile("a").load().unwrap().namespace, "a-ns");
}

#[test]
fn loader_config_file_beats_temporal_config_file() {
    let s = Setup::new(Some("[profile.default]\nnamespace = \"env-file\"\n"), &[]);
    let other = s.dir.path().join("other.toml");
    std::fs::write(&other, "[profile.default]\nnamespace = \"code-file\"\n").unwrap();
    assert_eq!(s.loader().load().unwrap().namespace, "env-file");
    let c = s.loader().config_file(&other).load().unwrap();
    assert_eq!(c.namespace, "code-file");
    assert_eq!(c.config_file.as_deref(), Some(other.as_path()));

    // TEMPORAL_CONFIG_FILE naming a missing file does not matter once code names one.
    let mut env = s.env.clone();
    env.insert(
        "TEMPORAL_CONFIG_FILE".into(),
        s.dir.path().join("missing.toml").display().to_string(),
    );
    assert!(matches!(
        Loader::new().env(env.clone()).load(),
        Err(ConfigError::File { .. })
    ));
    let c = Loader::new().env(env).config_file(&other).load().unwrap();
    assert_eq!(c.namespace, "code-file");
}

#[test]
fn loader_config_file_beats_the_task_root_file() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("temporal.toml"),
        "[profile.default]\nnamespace = \"task-root\"\n",
    )
    .unwrap();
    let other = root.path().join("other.toml");
    std::fs::write(&other, "[profile.default]\nnamespace = \"code-file\"\n").unwrap();
    let env = HashMap::from([(
        "LAMBDA_TASK_ROOT".to_owned(),
        root.path().display().to_string(),
    )]);
    assert_eq!(
        Loader::new().env(env.clone()).load().unwrap().namespace,
        "task-root"
    );
    assert_eq!(
        Loader::new()
            .env(env)
            .config_file(&other)
            .load()
            .unwrap()
            .namespace,
        "code-file"
    );
}

#[test]
fn loader_profile_and_config_file_together_with_env_overlay() {
    let s = Setup::new(None, &[("TEMPORAL_NAMESPACE", "env-ns")]);
    let file = s.dir.path().join("x.toml");
    std::fs::write(
        &file,
        TWO_PROFILES.replace("b-ns\"", "b-ns\"\naddress = \"b.example:7233\""),
    )
    .unwrap();
    let c = s.loader().config_file(&file).profile("b").load().unwrap();
    assert_eq!(c.address, "b.example:7233");
    assert_eq!(c.namespace, "env-ns");
}

// ---------------------------------------------------------------------------------------------
// Relative certificate paths.

/// `path` (absolute) written relative to the working directory.
fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let mut rel = PathBuf::new();
    for _ in cwd.components().skip(1) {
        rel.push("..");
    }
    rel.join(path.strip_prefix("/").unwrap())
}

fn pem_path(source: &Option<PemSource>) -> PathBuf {
    match source {
        Some(PemSource::Path(p)) => p.clone(),
        other => panic!("not a path: {other:?}"),
    }
}

#[test]
fn a_relative_cert_path_in_the_file_resolves_against_the_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(conf.join("certs")).unwrap();
    std::fs::write(conf.join("certs/client.pem"), CERT_PEM).unwrap();
    std::fs::write(conf.join("certs/client.key"), KEY_PEM).unwrap();
    let file = conf.join("temporal.toml");
    std::fs::write(
        &file,
        "[profile.default.tls]\nclient_cert_path = \"certs/client.pem\"\nclient_key_path = \"certs/client.key\"\n",
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        (
            "LAMBDA_TASK_ROOT".to_owned(),
            root.path().display().to_string(),
        ),
        (
            "TEMPORAL_CONFIG_FILE".to_owned(),
            file.display().to_string(),
        ),
    ]);
    let config = ClientConfig::load_from(&env).unwrap();
    let tls = config.tls.as_ref().unwrap();
    assert_eq!(pem_path(&tls.client_cert), conf.join("certs/client.pem"));
    assert_eq!(pem_path(&tls.client_key), conf.join("certs/client.key"));
    let (conn, _) = config.to_options().unwrap();
    let client = conn.tls_options.unwrap().client_tls_options.unwrap();
    assert_eq!(client.client_cert, CERT_PEM.as_bytes());
    assert_eq!(client.client_private_key, KEY_PEM.as_bytes());
}

#[test]
fn a_relative_cert_path_from_env_or_code_resolves_against_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("client.pem");
    let key = dir.path().join("client.key");
    std::fs::write(&cert, CERT_PEM).unwrap();
    std::fs::write(&key, KEY_PEM).unwrap();
    let cert_rel = relative_to_cwd(&cert);
    let key_rel = relative_to_cwd(&key);
    assert!(cert_rel.is_relative());

    // The config file lives elsewhere and names the same relative paths: from the file they
    // resolve against its folder, where there is nothing.
    let conf = tempfile::tempdir().unwrap();
    // Deeper than the working directory, so the `..`s of the relative paths stay inside.
    let mut nested = conf.path().to_path_buf();
    for _ in 0..std::env::current_dir().unwrap().components().count() + 2 {
        nested.push("d");
    }
    std::fs::create_dir_all(&nested).unwrap();
    let file = nested.join("temporal.toml");
    std::fs::write(
        &file,
        format!(
            "[profile.default.tls]\nclient_cert_path = \"{}\"\nclient_key_path = \"{}\"\n",
            cert_rel.display(),
            key_rel.display()
        ),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let base = HashMap::from([
        (
            "LAMBDA_TASK_ROOT".to_owned(),
            root.path().display().to_string(),
        ),
        (
            "TEMPORAL_CONFIG_FILE".to_owned(),
            file.display().to_string(),
        ),
    ]);

    // From the file: resolved against its folder, so not found, and the message shows where it
    // looked.
    let config = Loader::new().env(base.clone()).load().unwrap();
    let want = nested.join(&cert_rel);
    assert_eq!(pem_path(&config.tls.as_ref().unwrap().client_cert), want);
    match config.to_options() {
        Err(ConfigError::File { path, .. }) => assert_eq!(path, want),
        other => panic!("{other:?}"),
    }

    // From the environment: kept relative, read from the working directory.
    let mut env = base.clone();
    env.insert(
        "TEMPORAL_TLS_CLIENT_CERT_PATH".into(),
        cert_rel.display().to_string(),
    );
    env.insert(
        "TEMPORAL_TLS_CLIENT_KEY_PATH".into(),
        key_rel.display().to_string(),
    );
    let config = Loader::new().env(env).load().unwrap();
    let tls = config.tls.as_ref().unwrap();
    assert_eq!(pem_path(&tls.client_cert), cert_rel);
    assert_eq!(pem_path(&tls.client_key), key_rel);
    let (conn, _) = config.to_options().unwrap();
    let client = conn.tls_options.unwrap().client_tls_options.unwrap();
    assert_eq!(client.client_cert, CERT_PEM.as_bytes());
    assert_eq!(client.client_private_key, KEY_PEM.as_bytes());

    // From code: the same.
    let (loader, _) = set(
        Loader::new().env(base.clone()),
        "tls.client_cert_path",
        cert_rel.display().to_string(),
    );
    let (loader, _) = set(loader, "tls.client_key_path", key_rel.display().to_string());
    let config = loader.load().unwrap();
    assert_eq!(
        pem_path(&config.tls.as_ref().unwrap().client_cert),
        cert_rel
    );
    let (conn, _) = config.to_options().unwrap();
    assert_eq!(
        conn.tls_options
            .unwrap()
            .client_tls_options
            .unwrap()
            .client_cert,
        CERT_PEM.as_bytes()
    );

    // Mixed: the file's key (relative to its folder) with the environment's certificate (relative to
    // the working directory).
    std::fs::write(nested.join("own.key"), KEY_PEM).unwrap();
    std::fs::write(
        &file,
        "[profile.default.tls]\nclient_key_path = \"own.key\"\n",
    )
    .unwrap();
    let mut env = base;
    env.insert(
        "TEMPORAL_TLS_CLIENT_CERT_PATH".into(),
        cert_rel.display().to_string(),
    );
    let config = Loader::new().env(env).load().unwrap();
    let tls = config.tls.as_ref().unwrap();
    assert_eq!(pem_path(&tls.client_cert), cert_rel);
    assert_eq!(pem_path(&tls.client_key), nested.join("own.key"));
    config.to_options().unwrap();
}
