//! Differential test: `lw_config::ClientConfig::load_from` + `to_options` against the official
//! Temporal Rust loader.
//!
//! The oracle is what `temporalio_client::ClientOptions::load_from_config` does, with the
//! process environment replaced by an injected map (tests must not mutate the process
//! environment): `temporalio_common::envconfig::load_client_config_profile(options,
//! Some(&env))`, then `ConnectionOptions::try_from(profile)`, and the namespace is the
//! profile's or `default`. For the file-only cases `ClientOptions::load_from_config` itself is
//! also called (with `disable_env(true)`) and must agree with that composition.
//!
//! Each case is a config file (or none) and an environment, and one expectation:
//! * `Same`: both succeed and the projections (target URL, API key, headers, TLS material,
//!   namespace) are equal; the case's `pin` checks must hold too, so a case cannot pass
//!   because both loaders ignored their input;
//! * `OfficialFailsToo`: both fail;
//! * `Differs`: a deliberate difference; what ours does and what the official loader does are
//!   both asserted, and a line `difference: <case>: <reason>` is printed.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use lw_config::ClientConfig;
use temporalio_client::{
    ClientOptions, ConnectionOptions,
    envconfig::{DataSource, LoadClientConfigProfileOptions},
};
use temporalio_common::envconfig::load_client_config_profile;

// ---------------------------------------------------------------------------------------------
// Fixtures: PEM-looking files written into each case's temporary directory.

/// Real certificates and keys (tests/fixtures/README.md): lw-config checks them at init.
const CA_PEM: &str = include_str!("fixtures/d.pem");
const CERT_PEM: &str = include_str!("fixtures/a.pem");
const KEY_PEM: &str = include_str!("fixtures/a.key");
const CERT2_PEM: &str = include_str!("fixtures/b.pem");
const KEY2_PEM: &str = include_str!("fixtures/b.key");
const REL_CERT_PEM: &str = include_str!("fixtures/c.pem");
const REL_KEY_PEM: &str = include_str!("fixtures/c.key");

/// Files every case directory holds, relative to it.
const FIXTURE_FILES: &[(&str, &str)] = &[
    ("ca.pem", CA_PEM),
    ("client.pem", CERT_PEM),
    ("client.key", KEY_PEM),
    ("client2.pem", CERT2_PEM),
    ("client2.key", KEY2_PEM),
    ("certs/rel-client.pem", REL_CERT_PEM),
    ("certs/rel-client.key", REL_KEY_PEM),
];

/// The config file name inside a case directory.
const CONFIG_NAME: &str = "temporal.toml";

/// Expands `{DIR}` (the case directory) and, in TOML text, `{CA_PEM}`, `{CERT_PEM}`,
/// `{KEY_PEM}` (quoted TOML strings holding the fixture PEM text).
fn expand(text: &str, dir: &Path) -> String {
    let toml_string = |pem: &str| format!("\"{}\"", pem.replace('\n', "\\n"));
    text.replace("{DIR}", &dir.display().to_string())
        .replace("{CA_PEM}", &toml_string(CA_PEM))
        .replace("{CERT_PEM}", &toml_string(CERT_PEM))
        .replace("{KEY_PEM}", &toml_string(KEY_PEM))
}

// ---------------------------------------------------------------------------------------------
// What is compared.

#[derive(Debug, Clone, PartialEq, Eq)]
struct TlsProjection {
    server_root_ca_cert: Option<String>,
    domain: Option<String>,
    /// (client_cert, client_private_key)
    client: Option<(String, String)>,
    custom_verifier: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Projection {
    target: String,
    namespace: String,
    api_key: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    tls: Option<TlsProjection>,
}

/// Bytes as text: exact for UTF-8 (all fixtures are), and never equal to UTF-8 text otherwise.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => format!("<non-UTF-8 bytes {bytes:?}>"),
    }
}

fn project(conn: &ConnectionOptions, namespace: &str) -> Projection {
    Projection {
        target: conn.target.to_string(),
        namespace: namespace.to_owned(),
        api_key: conn.api_key.clone(),
        headers: conn
            .headers
            .as_ref()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        tls: conn.tls_options.as_ref().map(|t| TlsProjection {
            server_root_ca_cert: t.server_root_ca_cert.as_deref().map(text),
            domain: t.domain.clone(),
            client: t
                .client_tls_options
                .as_ref()
                .map(|c| (text(&c.client_cert), text(&c.client_private_key))),
            custom_verifier: t.server_cert_verifier.is_some(),
        }),
    }
}

type Outcome = Result<Projection, String>;

/// Ours: `ClientConfig::load_from` then `to_options`.
fn ours(env: &HashMap<String, String>) -> Outcome {
    let config = ClientConfig::load_from(env).map_err(|e| format!("load_from: {e}"))?;
    let (conn, client) = config
        .to_options()
        .map_err(|e| format!("to_options: {e}"))?;
    Ok(project(&conn, &client.namespace))
}

/// The oracle: `ClientOptions::load_from_config` with the environment injected.
fn official(source: DataSource, env: &HashMap<String, String>) -> Outcome {
    let options = LoadClientConfigProfileOptions::builder()
        .config_source(source)
        .build();
    let profile = load_client_config_profile(options, Some(env))
        .map_err(|e| format!("load_client_config_profile: {e}"))?;
    let namespace = profile
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let conn = ConnectionOptions::try_from(profile)
        .map_err(|e| format!("ConnectionOptions::try_from: {e}"))?;
    Ok(project(&conn, &namespace))
}

/// The official entry point itself, file only.
fn official_direct(path: &Path) -> Outcome {
    let options = LoadClientConfigProfileOptions::builder()
        .config_source(DataSource::Path(path.display().to_string()))
        .disable_env(true)
        .build();
    let (conn, client) = ClientOptions::load_from_config(options)
        .map_err(|e| format!("ClientOptions::load_from_config: {e}"))?;
    Ok(project(&conn, &client.namespace))
}

// ---------------------------------------------------------------------------------------------
// The corpus.

/// The config file of a case.
enum File {
    /// No file: ours gets `LAMBDA_TASK_ROOT` = an empty directory, the official loader empty
    /// config data (so neither reads a real file).
    None,
    /// TOML text (after [`expand`]) written to `{DIR}/temporal.toml`, named to ours by
    /// `TEMPORAL_CONFIG_FILE` and to the official loader by `config_source`.
    Toml(&'static str),
    /// `TEMPORAL_CONFIG_FILE` / `config_source` name a file that does not exist.
    NamedButMissing,
}

/// One assertion on a projection.
#[derive(Debug)]
enum Check {
    Target(&'static str),
    Namespace(&'static str),
    ApiKey(Option<&'static str>),
    TlsOn,
    TlsOff,
    Domain(Option<&'static str>),
    ServerCa(Option<&'static str>),
    /// mTLS client certificate and key.
    Client(&'static str, &'static str),
    NoClient,
    Header(&'static str, &'static str),
    NoHeader(&'static str),
    NoHeaders,
}

/// What one loader is expected to do in a `Differs` case.
#[derive(Debug)]
enum Want {
    /// Fails with a message containing this text.
    Err(&'static str),
    /// Succeeds, and these checks hold.
    Ok(&'static [Check]),
}

enum Expect {
    Same,
    OfficialFailsToo,
    Differs {
        reason: &'static str,
        ours: Want,
        official: Want,
    },
}

struct Case {
    name: &'static str,
    file: File,
    env: &'static [(&'static str, &'static str)],
    /// For `Same`: checks the common result must pass.
    pin: &'static [Check],
    expect: Expect,
}

const NO_ENV: &[(&str, &str)] = &[];

const FILE_ADDR_NS: &str =
    "[profile.default]\naddress = \"file.example:7233\"\nnamespace = \"file-ns\"\n";
const TWO_PROFILES: &str = "[profile.default]\naddress = \"default.example:7233\"\nnamespace = \"default-ns\"\n\n[profile.staging]\naddress = \"staging.example:7233\"\nnamespace = \"staging-ns\"\n";
const ONLY_STAGING: &str =
    "[profile.staging]\naddress = \"staging.example:7233\"\nnamespace = \"staging-ns\"\n";
const FILE_MTLS_PATHS: &str = "[profile.default]\naddress = \"mtls.example:7233\"\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\nclient_key_path = \"{DIR}/client.key\"\n";

fn cases() -> Vec<Case> {
    use Check::*;
    vec![
        // --- defaults -------------------------------------------------------------------------
        Case {
            name: "defaults_without_file_or_env",
            file: File::None,
            env: NO_ENV,
            pin: &[
                Target("http://localhost:7233/"),
                Namespace("default"),
                ApiKey(None),
                TlsOff,
                NoHeaders,
            ],
            expect: Expect::Same,
        },
        Case {
            name: "empty_file",
            file: File::Toml(""),
            env: NO_ENV,
            pin: &[
                Target("http://localhost:7233/"),
                Namespace("default"),
                TlsOff,
            ],
            expect: Expect::Same,
        },
        Case {
            name: "file_without_profile_table",
            file: File::Toml("# nothing but a comment\n[other]\nx = 1\n"),
            env: NO_ENV,
            pin: &[
                Target("http://localhost:7233/"),
                Namespace("default"),
                TlsOff,
            ],
            expect: Expect::Same,
        },
        // --- address and namespace ------------------------------------------------------------
        Case {
            name: "address_and_namespace_from_file",
            file: File::Toml(FILE_ADDR_NS),
            env: NO_ENV,
            pin: &[Target("http://file.example:7233/"), Namespace("file-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "address_and_namespace_from_env",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "env.example:7233"),
                ("TEMPORAL_NAMESPACE", "env-ns"),
            ],
            pin: &[Target("http://env.example:7233/"), Namespace("env-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "env_address_over_file_address",
            file: File::Toml(FILE_ADDR_NS),
            env: &[("TEMPORAL_ADDRESS", "env.example:7233")],
            pin: &[Target("http://env.example:7233/"), Namespace("file-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "env_namespace_over_file_namespace",
            file: File::Toml(FILE_ADDR_NS),
            env: &[("TEMPORAL_NAMESPACE", "env-ns")],
            pin: &[Target("http://file.example:7233/"), Namespace("env-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "ip_address",
            file: File::Toml("[profile.default]\naddress = \"127.0.0.1:7233\"\n"),
            env: NO_ENV,
            pin: &[Target("http://127.0.0.1:7233/")],
            expect: Expect::Same,
        },
        Case {
            name: "unknown_keys_ignored",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\nfuture_setting = \"x\"\n\n[profile.default.codec]\nendpoint = \"http://codec.example\"\nfuture_codec_setting = 1\n",
            ),
            env: NO_ENV,
            pin: &[Target("http://h.example:7233/"), TlsOff],
            expect: Expect::Same,
        },
        Case {
            name: "http_scheme_kept_with_tls",
            file: File::Toml(
                "[profile.default]\naddress = \"http://h.example:7233\"\napi_key = \"k\"\n",
            ),
            env: NO_ENV,
            pin: &[Target("http://h.example:7233/"), TlsOn, ApiKey(Some("k"))],
            expect: Expect::Same,
        },
        Case {
            name: "https_scheme_kept_without_tls",
            file: File::None,
            env: &[("TEMPORAL_ADDRESS", "https://h.example:7233")],
            pin: &[Target("https://h.example:7233/"), TlsOff],
            expect: Expect::Same,
        },
        // --- profiles -------------------------------------------------------------------------
        Case {
            name: "temporal_profile_selects_profile",
            file: File::Toml(TWO_PROFILES),
            env: &[("TEMPORAL_PROFILE", "staging")],
            pin: &[
                Target("http://staging.example:7233/"),
                Namespace("staging-ns"),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "default_profile_without_temporal_profile",
            file: File::Toml(TWO_PROFILES),
            env: NO_ENV,
            pin: &[
                Target("http://default.example:7233/"),
                Namespace("default-ns"),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "env_overlays_selected_profile",
            file: File::Toml(TWO_PROFILES),
            env: &[
                ("TEMPORAL_PROFILE", "staging"),
                ("TEMPORAL_NAMESPACE", "env-ns"),
            ],
            pin: &[Target("http://staging.example:7233/"), Namespace("env-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "empty_temporal_profile_means_default",
            file: File::Toml(TWO_PROFILES),
            env: &[("TEMPORAL_PROFILE", "")],
            pin: &[Namespace("default-ns")],
            expect: Expect::Same,
        },
        Case {
            name: "implicit_default_profile_missing_is_fine",
            file: File::Toml(ONLY_STAGING),
            env: NO_ENV,
            pin: &[Target("http://localhost:7233/"), Namespace("default")],
            expect: Expect::Same,
        },
        Case {
            name: "explicit_missing_profile",
            file: File::Toml(TWO_PROFILES),
            env: &[("TEMPORAL_PROFILE", "nope")],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "explicit_missing_profile_without_file",
            file: File::None,
            env: &[("TEMPORAL_PROFILE", "nope")],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "explicit_default_profile_missing_from_file",
            file: File::Toml(ONLY_STAGING),
            env: &[("TEMPORAL_PROFILE", "default")],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "explicit_default_profile_without_file",
            file: File::None,
            env: &[("TEMPORAL_PROFILE", "default")],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        // --- API key and TLS switching --------------------------------------------------------
        Case {
            name: "api_key_from_file_turns_tls_on",
            file: File::Toml(
                "[profile.default]\naddress = \"cloud.example:7233\"\napi_key = \"file-key\"\n",
            ),
            env: NO_ENV,
            pin: &[
                Target("https://cloud.example:7233/"),
                ApiKey(Some("file-key")),
                TlsOn,
                ServerCa(None),
                Domain(None),
                NoClient,
            ],
            expect: Expect::Same,
        },
        Case {
            name: "api_key_from_env_turns_tls_on",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "cloud.example:7233"),
                ("TEMPORAL_API_KEY", "env-key"),
            ],
            pin: &[
                Target("https://cloud.example:7233/"),
                ApiKey(Some("env-key")),
                TlsOn,
            ],
            expect: Expect::Same,
        },
        Case {
            name: "env_api_key_over_file_api_key",
            file: File::Toml(
                "[profile.default]\naddress = \"cloud.example:7233\"\napi_key = \"file-key\"\n",
            ),
            env: &[("TEMPORAL_API_KEY", "env-key")],
            pin: &[ApiKey(Some("env-key")), TlsOn],
            expect: Expect::Same,
        },
        Case {
            name: "tls_section_turns_tls_on",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\n",
            ),
            env: NO_ENV,
            pin: &[Target("https://h.example:7233/"), TlsOn, ApiKey(None)],
            expect: Expect::Same,
        },
        Case {
            name: "tls_disabled_false_turns_tls_on",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisabled = false\n",
            ),
            env: NO_ENV,
            pin: &[Target("https://h.example:7233/"), TlsOn],
            expect: Expect::Same,
        },
        Case {
            name: "tls_disabled_true_wins_over_api_key",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\napi_key = \"k\"\n\n[profile.default.tls]\ndisabled = true\n",
            ),
            env: NO_ENV,
            pin: &[Target("http://h.example:7233/"), TlsOff, ApiKey(Some("k"))],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_true_without_file",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS", "true"),
            ],
            pin: &[Target("https://h.example:7233/"), TlsOn],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_uppercase_true",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS", "TRUE"),
            ],
            pin: &[TlsOn],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_false_over_file_tls_section",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\nserver_name = \"sni.example\"\n",
            ),
            env: &[("TEMPORAL_TLS", "false")],
            pin: &[Target("http://h.example:7233/"), TlsOff],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_0_over_file_api_key",
            file: File::Toml("[profile.default]\naddress = \"h.example:7233\"\napi_key = \"k\"\n"),
            env: &[("TEMPORAL_TLS", "0")],
            pin: &[Target("http://h.example:7233/"), TlsOff, ApiKey(Some("k"))],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_1_over_file_disabled",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisabled = true\nserver_name = \"sni.example\"\n",
            ),
            env: &[("TEMPORAL_TLS", "1")],
            pin: &[
                Target("https://h.example:7233/"),
                TlsOn,
                Domain(Some("sni.example")),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_false_with_env_api_key",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_API_KEY", "k"),
                ("TEMPORAL_TLS", "false"),
            ],
            pin: &[Target("http://h.example:7233/"), TlsOff, ApiKey(Some("k"))],
            expect: Expect::Same,
        },
        Case {
            name: "env_tls_server_name_alone_turns_tls_on",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS_SERVER_NAME", "sni.example"),
            ],
            pin: &[TlsOn, Domain(Some("sni.example"))],
            expect: Expect::Same,
        },
        Case {
            name: "env_disable_host_verification_false_turns_tls_on",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "false"),
            ],
            pin: &[Target("https://h.example:7233/"), TlsOn],
            expect: Expect::Same,
        },
        Case {
            name: "disable_host_verification_with_tls_disabled",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisabled = true\ndisable_host_verification = true\n",
            ),
            env: NO_ENV,
            pin: &[TlsOff],
            expect: Expect::Same,
        },
        // --- certificates and keys ------------------------------------------------------------
        Case {
            name: "mtls_absolute_paths_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"mtls.example:7233\"\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\nclient_key_path = \"{DIR}/client.key\"\nserver_ca_cert_path = \"{DIR}/ca.pem\"\nserver_name = \"sni.example\"\n",
            ),
            env: NO_ENV,
            pin: &[
                Target("https://mtls.example:7233/"),
                Client(CERT_PEM, KEY_PEM),
                ServerCa(Some(CA_PEM)),
                Domain(Some("sni.example")),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "mtls_inline_data_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"mtls.example:7233\"\n\n[profile.default.tls]\nclient_cert_data = {CERT_PEM}\nclient_key_data = {KEY_PEM}\n",
            ),
            env: NO_ENV,
            pin: &[Client(CERT_PEM, KEY_PEM), ServerCa(None)],
            expect: Expect::Same,
        },
        Case {
            name: "server_ca_data_and_server_name_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\nserver_ca_cert_data = {CA_PEM}\nserver_name = \"sni.example\"\n",
            ),
            env: NO_ENV,
            pin: &[
                ServerCa(Some(CA_PEM)),
                Domain(Some("sni.example")),
                NoClient,
            ],
            expect: Expect::Same,
        },
        Case {
            name: "mtls_absolute_paths_from_env",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "mtls.example:7233"),
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "{DIR}/client.pem"),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "{DIR}/client.key"),
            ],
            pin: &[
                Target("https://mtls.example:7233/"),
                Client(CERT_PEM, KEY_PEM),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "mtls_inline_data_from_env",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "mtls.example:7233"),
                ("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM),
                ("TEMPORAL_TLS_CLIENT_KEY_DATA", KEY_PEM),
                ("TEMPORAL_TLS_SERVER_CA_CERT_DATA", CA_PEM),
            ],
            pin: &[Client(CERT_PEM, KEY_PEM), ServerCa(Some(CA_PEM))],
            expect: Expect::Same,
        },
        Case {
            name: "server_ca_path_from_env_over_file_server_name",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\nserver_name = \"file-sni.example\"\n",
            ),
            env: &[
                ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "{DIR}/ca.pem"),
                ("TEMPORAL_TLS_SERVER_NAME", "env-sni.example"),
            ],
            pin: &[ServerCa(Some(CA_PEM)), Domain(Some("env-sni.example"))],
            expect: Expect::Same,
        },
        Case {
            name: "env_cert_paths_over_file_cert_paths",
            file: File::Toml(FILE_MTLS_PATHS),
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "{DIR}/client2.pem"),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "{DIR}/client2.key"),
            ],
            pin: &[Client(CERT2_PEM, KEY2_PEM)],
            expect: Expect::Same,
        },
        Case {
            name: "empty_data_in_file_is_unset",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\nserver_ca_cert_data = \"\"\n",
            ),
            env: NO_ENV,
            pin: &[TlsOn, ServerCa(None)],
            expect: Expect::Same,
        },
        Case {
            name: "tls_disabled_by_env_skips_cert_files",
            file: File::Toml(FILE_MTLS_PATHS),
            env: &[("TEMPORAL_TLS", "false")],
            pin: &[TlsOff, Target("http://mtls.example:7233/")],
            expect: Expect::Same,
        },
        Case {
            name: "cert_without_key_in_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "key_without_cert_from_env",
            file: File::None,
            env: &[("TEMPORAL_TLS_CLIENT_KEY_DATA", KEY_PEM)],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "cert_path_and_data_in_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\nclient_cert_data = {CERT_PEM}\nclient_key_path = \"{DIR}/client.key\"\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "server_ca_path_and_data_in_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.tls]\nserver_ca_cert_path = \"{DIR}/ca.pem\"\nserver_ca_cert_data = {CA_PEM}\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "cert_path_and_data_from_env",
            file: File::None,
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "{DIR}/client.pem"),
                ("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "{DIR}/client.key"),
            ],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "file_cert_path_and_env_cert_data",
            file: File::Toml(FILE_MTLS_PATHS),
            env: &[("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT2_PEM)],
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "cert_path_does_not_exist",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/absent.pem\"\nclient_key_path = \"{DIR}/client.key\"\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "relative_cert_paths_from_env_with_config_file",
            file: File::Toml("[profile.default]\naddress = \"mtls.example:7233\"\n"),
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "certs/rel-client.pem"),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "certs/rel-client.key"),
            ],
            pin: &[],
            // A variable's relative path is relative to the working directory (where
            // `certs/` does not exist), not to the config file's folder: both should fail.
            expect: Expect::OfficialFailsToo,
        },
        // --- gRPC metadata --------------------------------------------------------------------
        Case {
            name: "grpc_meta_from_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.grpc_meta]\nx-tenant = \"acme\"\nx-trace = \"on\"\n",
            ),
            env: NO_ENV,
            pin: &[Header("x-tenant", "acme"), Header("x-trace", "on")],
            expect: Expect::Same,
        },
        Case {
            name: "grpc_meta_file_keys_normalized",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.grpc_meta]\ncustom_header = \"v1\"\nX-Upper = \"v2\"\n",
            ),
            env: NO_ENV,
            pin: &[
                Header("custom-header", "v1"),
                Header("x-upper", "v2"),
                NoHeader("custom_header"),
            ],
            expect: Expect::Same,
        },
        Case {
            name: "grpc_meta_from_env_normalized",
            file: File::None,
            env: &[
                ("TEMPORAL_GRPC_META_X_TENANT", "acme"),
                ("TEMPORAL_GRPC_META_Mixed_Case", "m"),
            ],
            pin: &[Header("x-tenant", "acme"), Header("mixed-case", "m")],
            expect: Expect::Same,
        },
        Case {
            name: "grpc_meta_env_over_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.grpc_meta]\nx-tenant = \"file\"\nx-keep = \"kept\"\n",
            ),
            env: &[("TEMPORAL_GRPC_META_X_TENANT", "env")],
            pin: &[Header("x-tenant", "env"), Header("x-keep", "kept")],
            expect: Expect::Same,
        },
        Case {
            name: "grpc_meta_env_over_file_underscore_key",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.grpc_meta]\nx_tenant = \"file\"\n",
            ),
            env: &[("TEMPORAL_GRPC_META_X_TENANT", "env")],
            pin: &[Header("x-tenant", "env"), NoHeader("x_tenant")],
            expect: Expect::Same,
        },
        Case {
            name: "grpc_meta_empty_env_removes_file_header",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.grpc_meta]\nx-tenant = \"file\"\nx-keep = \"kept\"\n",
            ),
            env: &[("TEMPORAL_GRPC_META_X_TENANT", "")],
            pin: &[NoHeader("x-tenant"), Header("x-keep", "kept")],
            expect: Expect::Same,
        },
        // --- codec ----------------------------------------------------------------------------
        Case {
            name: "codec_section_ignored_for_connection",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.codec]\nendpoint = \"https://codec.example\"\nauth = \"Bearer token\"\n",
            ),
            env: &[("TEMPORAL_CODEC_AUTH", "Bearer env-token")],
            pin: &[Target("http://h.example:7233/"), TlsOff, NoHeaders],
            expect: Expect::Same,
        },
        // --- malformed input ------------------------------------------------------------------
        Case {
            name: "malformed_toml",
            file: File::Toml("[profile.default\naddress = \"h:7233\"\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "address_wrong_type",
            file: File::Toml("[profile.default]\naddress = 7233\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "tls_disabled_wrong_type",
            file: File::Toml("[profile.default]\n\n[profile.default.tls]\ndisabled = \"true\"\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "tls_not_a_table",
            file: File::Toml("[profile.default]\ntls = true\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "grpc_meta_value_wrong_type",
            file: File::Toml("[profile.default]\n\n[profile.default.grpc_meta]\nx-retries = 3\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "profile_not_a_table",
            file: File::Toml("profile = \"default\"\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "other_profile_has_wrong_type",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.other]\naddress = 7233\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "only the selected profile is validated (ours: a bad value in another \
                         profile does not stop this one); official rejects the whole file",
                ours: Want::Ok(&[Target("http://h.example:7233/")]),
                official: Want::Err(""),
            },
        },
        Case {
            name: "disabled_tls_section_with_path_and_data",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisabled = true\nclient_cert_path = \"{DIR}/client.pem\"\nclient_cert_data = {CERT_PEM}\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::OfficialFailsToo,
        },
        Case {
            name: "address_with_default_https_port",
            file: File::Toml(
                "[profile.default]\naddress = \"gateway.example:443\"\napi_key = \"k\"\n",
            ),
            env: NO_ENV,
            pin: &[Target("https://gateway.example/"), TlsOn],
            expect: Expect::Same,
        },
        // --- deliberate differences -----------------------------------------------------------
        Case {
            name: "relative_cert_paths_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"mtls.example:7233\"\n\n[profile.default.tls]\nclient_cert_path = \"certs/rel-client.pem\"\nclient_key_path = \"certs/rel-client.key\"\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "a relative cert path in the file resolves against the file's folder \
                         (ours), not the working directory (official)",
                ours: Want::Ok(&[Client(REL_CERT_PEM, REL_KEY_PEM)]),
                official: Want::Err("No such file"),
            },
        },
        Case {
            name: "address_without_port",
            file: File::None,
            env: &[("TEMPORAL_ADDRESS", "temporal.example")],
            pin: &[],
            expect: Expect::Differs {
                reason: "an address without a port is an error (ours); official lets the \
                         scheme default it",
                ours: Want::Err("no port"),
                official: Want::Ok(&[Target("http://temporal.example/")]),
            },
        },
        Case {
            name: "address_with_grpc_scheme",
            file: File::Toml("[profile.default]\naddress = \"grpc://h.example:7233\"\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "a scheme other than http/https is an error (ours); official passes \
                         it through",
                ours: Want::Err("scheme `grpc`"),
                official: Want::Ok(&[Target("grpc://h.example:7233")]),
            },
        },
        Case {
            name: "empty_env_namespace",
            file: File::Toml(FILE_ADDR_NS),
            env: &[("TEMPORAL_NAMESPACE", "")],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_NAMESPACE=\"\" is unset (ours: the file's namespace), not \
                         the empty namespace (official)",
                ours: Want::Ok(&[Namespace("file-ns")]),
                official: Want::Ok(&[Namespace("")]),
            },
        },
        Case {
            name: "empty_env_api_key",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_API_KEY", ""),
            ],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_API_KEY=\"\" is unset (ours: no key, no TLS), not an empty \
                         key that turns TLS on (official)",
                ours: Want::Ok(&[ApiKey(None), TlsOff, Target("http://h.example:7233/")]),
                official: Want::Ok(&[ApiKey(Some("")), TlsOn, Target("https://h.example:7233/")]),
            },
        },
        Case {
            name: "empty_env_address",
            file: File::Toml(FILE_ADDR_NS),
            env: &[("TEMPORAL_ADDRESS", "")],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_ADDRESS=\"\" is unset (ours: the file's address), not an \
                         empty address (official: invalid)",
                ours: Want::Ok(&[Target("http://file.example:7233/")]),
                official: Want::Err("Invalid address"),
            },
        },
        Case {
            name: "empty_api_key_in_file",
            file: File::Toml("[profile.default]\naddress = \"h.example:7233\"\napi_key = \"\"\n"),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "api_key = \"\" in the file is unset (ours: no key, no TLS), not an \
                         empty key that turns TLS on (official)",
                ours: Want::Ok(&[ApiKey(None), TlsOff]),
                official: Want::Ok(&[ApiKey(Some("")), TlsOn]),
            },
        },
        Case {
            name: "empty_server_name_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\nserver_name = \"\"\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "tls.server_name = \"\" is unset (ours: verify the address host), not \
                         an empty TLS domain (official)",
                ours: Want::Ok(&[TlsOn, Domain(None)]),
                official: Want::Ok(&[TlsOn, Domain(Some(""))]),
            },
        },
        Case {
            name: "disable_host_verification_in_file",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisable_host_verification = true\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "tls.disable_host_verification = true is refused as unsupported \
                         (ours); official ignores it and verifies anyway",
                ours: Want::Err("host verification"),
                official: Want::Ok(&[TlsOn]),
            },
        },
        Case {
            name: "disable_host_verification_from_env",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true"),
            ],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is refused as unsupported \
                         (ours); official ignores it and verifies anyway",
                ours: Want::Err("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"),
                official: Want::Ok(&[TlsOn]),
            },
        },
        Case {
            name: "cert_data_not_pem_in_file",
            file: File::Toml(
                "[profile.default]\n\n[profile.default.tls]\nclient_cert_data = \"not a certificate\"\nclient_key_data = {KEY_PEM}\n",
            ),
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "_data that is not PEM is an error (ours); official passes the bytes on",
                ours: Want::Err("PEM"),
                official: Want::Ok(&[Client("not a certificate", KEY_PEM)]),
            },
        },
        Case {
            name: "server_ca_data_not_pem_from_env",
            file: File::None,
            env: &[("TEMPORAL_TLS_SERVER_CA_CERT_DATA", "bm90IHBlbQ==")],
            pin: &[],
            expect: Expect::Differs {
                reason: "_data that is not PEM is an error (ours); official passes the bytes on",
                ours: Want::Err("TEMPORAL_TLS_SERVER_CA_CERT_DATA"),
                official: Want::Ok(&[ServerCa(Some("bm90IHBlbQ=="))]),
            },
        },
        Case {
            name: "env_tls_invalid_boolean",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_TLS", "maybe"),
            ],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_TLS=maybe is an error (ours); official ignores the value (and \
                         the variable's presence alone turns TLS on)",
                ours: Want::Err("not a boolean"),
                official: Want::Ok(&[TlsOn]),
            },
        },
        Case {
            name: "env_tls_yes_over_file_disabled",
            file: File::Toml(
                "[profile.default]\naddress = \"h.example:7233\"\n\n[profile.default.tls]\ndisabled = true\n",
            ),
            env: &[("TEMPORAL_TLS", "yes")],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_TLS=yes means true (ours); official ignores it, so the \
                         file's disabled = true stands",
                ours: Want::Ok(&[TlsOn, Target("https://h.example:7233/")]),
                official: Want::Ok(&[TlsOff, Target("http://h.example:7233/")]),
            },
        },
        Case {
            name: "env_tls_off_with_api_key",
            file: File::None,
            env: &[
                ("TEMPORAL_ADDRESS", "h.example:7233"),
                ("TEMPORAL_API_KEY", "k"),
                ("TEMPORAL_TLS", "off"),
            ],
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_TLS=off means false (ours); official ignores it, so the API \
                         key turns TLS on",
                ours: Want::Ok(&[TlsOff, ApiKey(Some("k"))]),
                official: Want::Ok(&[TlsOn, ApiKey(Some("k"))]),
            },
        },
        Case {
            name: "default_address_with_tls",
            file: File::None,
            env: &[("TEMPORAL_API_KEY", "k")],
            pin: &[],
            expect: Expect::Differs {
                reason: "the default address follows TLS (ours: https://localhost:7233); \
                         official's default is the URL http://localhost:7233 even with TLS on",
                ours: Want::Ok(&[Target("https://localhost:7233/"), TlsOn]),
                official: Want::Ok(&[Target("http://localhost:7233/"), TlsOn]),
            },
        },
        Case {
            name: "config_file_named_but_missing",
            file: File::NamedButMissing,
            env: NO_ENV,
            pin: &[],
            expect: Expect::Differs {
                reason: "TEMPORAL_CONFIG_FILE naming a missing file is an error (ours); \
                         official reads no file",
                ours: Want::Err("does not exist"),
                official: Want::Ok(&[Target("http://localhost:7233/"), Namespace("default")]),
            },
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// The harness.

fn apply(p: &Projection, checks: &[Check]) -> Result<(), String> {
    let tls = |c: &Check| {
        p.tls
            .as_ref()
            .ok_or_else(|| format!("{c:?}: TLS is off in {p:?}"))
    };
    let headers = || p.headers.clone().unwrap_or_default();
    for c in checks {
        let ok = match c {
            Check::Target(t) => p.target == *t,
            Check::Namespace(n) => p.namespace == *n,
            Check::ApiKey(k) => p.api_key.as_deref() == *k,
            Check::TlsOn => p.tls.is_some(),
            Check::TlsOff => p.tls.is_none(),
            Check::Domain(d) => tls(c)?.domain.as_deref() == *d,
            Check::ServerCa(ca) => tls(c)?.server_root_ca_cert.as_deref() == *ca,
            Check::Client(cert, key) => {
                tls(c)?.client == Some(((*cert).to_owned(), (*key).to_owned()))
            }
            Check::NoClient => tls(c)?.client.is_none(),
            Check::Header(k, v) => headers().get(*k).map(String::as_str) == Some(*v),
            Check::NoHeader(k) => !headers().contains_key(*k),
            Check::NoHeaders => p.headers.is_none(),
        };
        if !ok {
            return Err(format!("{c:?} does not hold for {p:?}"));
        }
    }
    Ok(())
}

fn want(label: &str, outcome: &Outcome, want: &Want) -> Result<(), String> {
    match (outcome, want) {
        (Err(e), Want::Err(text)) if e.contains(text) => Ok(()),
        (Err(e), Want::Err(text)) => Err(format!(
            "{label} failed as expected, but its message lacks `{text}`: {e}"
        )),
        (Ok(p), Want::Err(text)) => Err(format!(
            "{label} was expected to fail (with `{text}`) but gave {p:?}"
        )),
        (Err(e), Want::Ok(_)) => Err(format!("{label} was expected to succeed but failed: {e}")),
        (Ok(p), Want::Ok(checks)) => apply(p, checks).map_err(|e| format!("{label}: {e}")),
    }
}

/// Per-case directory: fixture files, an empty Lambda task root, maybe a config file.
struct Setup {
    _dir: tempfile::TempDir,
    env: HashMap<String, String>,
    source: DataSource,
    config_file: Option<PathBuf>,
}

fn setup(case: &Case) -> Setup {
    let dir = tempfile::tempdir().expect("fixture: tempdir");
    let root = dir.path();
    for (name, contents) in FIXTURE_FILES {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("fixture: create dir");
        }
        std::fs::write(&path, contents).expect("fixture: write file");
    }
    let empty_root = root.join("empty-task-root");
    std::fs::create_dir(&empty_root).expect("fixture: create empty task root");

    let mut env: HashMap<String, String> = case
        .env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), expand(v, root)))
        .collect();
    let (source, config_file) = match case.file {
        File::None => {
            env.insert("LAMBDA_TASK_ROOT".into(), empty_root.display().to_string());
            (DataSource::Data(Vec::new()), None)
        }
        File::Toml(text) => {
            let path = root.join(CONFIG_NAME);
            std::fs::write(&path, expand(text, root)).expect("fixture: write config file");
            env.insert("TEMPORAL_CONFIG_FILE".into(), path.display().to_string());
            (DataSource::Path(path.display().to_string()), Some(path))
        }
        File::NamedButMissing => {
            let path = root.join("missing.toml");
            env.insert("TEMPORAL_CONFIG_FILE".into(), path.display().to_string());
            (DataSource::Path(path.display().to_string()), None)
        }
    };
    Setup {
        _dir: dir,
        env,
        source,
        config_file,
    }
}

/// Runs one case; `Err` describes how it failed. Also reports whether the official
/// `load_from_config` was called directly.
fn run(case: &Case) -> (Result<(), String>, bool) {
    let s = setup(case);
    let ours = ours(&s.env);
    let oracle = official(s.source.clone(), &s.env);

    // File-only cases: the named official function must agree with the composition.
    let mut direct_called = false;
    if let (Some(path), true) = (&s.config_file, case.env.is_empty()) {
        direct_called = true;
        let direct = official_direct(path);
        let agree = match (&direct, &oracle) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !agree {
            return (
                Err(format!(
                    "the oracle disagrees with ClientOptions::load_from_config: \
                     direct {direct:?}, composed {oracle:?}"
                )),
                direct_called,
            );
        }
    }

    let result = match &case.expect {
        Expect::Same => match (&ours, &oracle) {
            (Ok(a), Ok(b)) if a == b => apply(a, case.pin).map_err(|e| format!("pin: {e}")),
            (Ok(a), Ok(b)) => Err(format!(
                "projections differ:\n  ours:     {a:?}\n  official: {b:?}"
            )),
            (a, b) => Err(format!(
                "expected both to succeed alike:\n  ours:     {a:?}\n  official: {b:?}"
            )),
        },
        Expect::OfficialFailsToo => match (&ours, &oracle) {
            (Err(_), Err(_)) => Ok(()),
            (a, b) => Err(format!(
                "expected both to fail:\n  ours:     {a:?}\n  official: {b:?}"
            )),
        },
        Expect::Differs {
            ours: w_ours,
            official: w_official,
            ..
        } => want("ours", &ours, w_ours)
            .and_then(|()| want("official", &oracle, w_official))
            .and_then(|()| match (&ours, &oracle) {
                (Ok(a), Ok(b)) if a == b => Err(format!("marked Differs, but both gave {a:?}")),
                (Err(a), Err(b)) => Err(format!(
                    "marked Differs, but both failed:\n  ours:     {a}\n  official: {b}"
                )),
                _ => Ok(()),
            }),
    };
    (result, direct_called)
}

#[test]
fn ours_matches_the_official_loader() {
    let cases = cases();
    let mut failures = Vec::new();
    let (mut same, mut fails_too, mut differs, mut direct) = (0, 0, 0, 0);
    for case in &cases {
        match &case.expect {
            Expect::Same => same += 1,
            Expect::OfficialFailsToo => fails_too += 1,
            Expect::Differs { reason, .. } => {
                differs += 1;
                println!("difference: {}: {reason}", case.name);
            }
        }
        let (result, direct_called) = run(case);
        direct += usize::from(direct_called);
        if let Err(e) = result {
            failures.push(format!("case `{}`: {e}", case.name));
        }
    }
    println!(
        "{} cases: {same} same, {fails_too} official fails too, {differs} differs; \
         ClientOptions::load_from_config called directly in {direct}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_is_broad() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let names: BTreeSet<_> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    let count = |f: fn(&Expect) -> bool| cases.iter().filter(|c| f(&c.expect)).count();
    assert!(count(|e| matches!(e, Expect::Same)) >= 20);
    assert!(count(|e| matches!(e, Expect::OfficialFailsToo)) >= 8);
    assert!(count(|e| matches!(e, Expect::Differs { .. })) >= 8);
    let file_only = cases
        .iter()
        .filter(|c| matches!(c.file, File::Toml(_)) && c.env.is_empty())
        .count();
    assert!(
        file_only >= 5,
        "load_from_config is called directly on only {file_only} cases"
    );
    // A `Same` case must pin something, so it cannot pass with both loaders ignoring input.
    for c in &cases {
        if matches!(c.expect, Expect::Same) {
            assert!(!c.pin.is_empty(), "Same case `{}` pins nothing", c.name);
        }
    }
}

/// A certificate path that does not exist: both loaders fail (the corpus case), ours at
/// `to_options` (not at `load_from`), naming the path.
#[test]
fn missing_cert_path_fails_in_to_options_naming_the_path() {
    let case = Case {
        name: "missing_cert_path",
        file: File::Toml(
            "[profile.default]\n\n[profile.default.tls]\nclient_cert_path = \"{DIR}/absent.pem\"\nclient_key_path = \"{DIR}/client.key\"\n",
        ),
        env: NO_ENV,
        pin: &[],
        expect: Expect::OfficialFailsToo,
    };
    let s = setup(&case);
    let config = match ClientConfig::load_from(&s.env) {
        Ok(c) => c,
        Err(e) => panic!("load_from should succeed and defer reading the file, but: {e}"),
    };
    let absent = s
        .config_file
        .as_deref()
        .and_then(Path::parent)
        .map(|d| d.join("absent.pem"))
        .expect("fixture: config file has a folder");
    match config.to_options() {
        Ok((conn, _)) => panic!("to_options should fail, but gave target {}", conn.target),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&absent.display().to_string()),
                "the error should name {}: {msg}",
                absent.display()
            );
        }
    }
    let official = official(s.source.clone(), &s.env);
    assert!(
        official.is_err(),
        "the official loader should fail too: {official:?}"
    );
}
