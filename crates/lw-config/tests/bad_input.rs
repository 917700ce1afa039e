//! A catalogue of malformed configuration inputs.
//!
//! Each case is a config file (or none), an environment, code overrides and `Loader` options,
//! the stage that must fail (`load`, `load_async`, or `to_options` after a successful load),
//! the exact `ConfigError` variant, and texts the message must show: where the bad value came
//! from (file and key, environment variable, or code override location) and what would fix it.
//! Every case must also return within [`BOUND`], must not panic, and must never show the
//! secret values it holds (in `Display` or `Debug`).
//!
//! Every case runs on its own thread, so a panic or a hang is reported against the case
//! instead of taking the whole table down; all problems are listed together at the end.
//!
//! Placeholders, expanded in file text, environment values, `Loader` options and expected
//! texts: `{DIR}` the case's directory, `{FILE}` its config file (`{DIR}/temporal.toml`),
//! `{ROOT}` an empty directory used as `LAMBDA_TASK_ROOT`, `{SET}` `code override at
//! <this file>:<line of the Loader::set call>:`, `{ENDPOINT}` the KMS endpoint of the case
//! (`{ENDPOINT_HTTPS}` the same with `https`).

use std::{
    collections::HashMap,
    net::TcpListener,
    panic::Location,
    path::Path,
    sync::mpsc,
    time::{Duration, Instant},
};

use lw_config::{ConfigError, Loader};
use lw_testkit::Moto;

mod common;

/// How long one case may take, including a KMS round trip to moto.
const BOUND: Duration = Duration::from_secs(10);

/// Marks an environment variable the case removes from the base environment.
const UNSET: &str = "\u{0}unset";

const CERT_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBY2VydC1zM2NyM3QtYm9keQ==\n-----END CERTIFICATE-----\n";
const KEY_PEM: &str =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwa2V5LXMzY3IzdC1ib2R5\n-----END PRIVATE KEY-----\n";
/// `client.key` holding [`KEY_PEM`].
const KEY_FILE: &[(&str, &[u8])] = &[("client.key", KEY_PEM.as_bytes())];
/// The bodies of the PEM fixtures: secrets that no message may show.
const CERT_BODY: &str = "MIIBY2VydC1zM2NyM3QtYm9keQ==";
const KEY_BODY: &str = "MC4CAQAwa2V5LXMzY3IzdC1ib2R5";
/// A real certificate and key pair (`a`), and the key of another pair (`b`): see
/// tests/fixtures/README.md.
const PAIR_A_CERT: &[u8] = include_bytes!("fixtures/a.pem");
const PAIR_A_KEY: &[u8] = include_bytes!("fixtures/a.key");
const PAIR_B_KEY: &[u8] = include_bytes!("fixtures/b.key");
/// The second lines of the keys: secrets that no message may show.
const PAIR_A_KEY_BODY: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgV8ogFx7AVC3XQmfk";
const PAIR_B_KEY_BODY: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXNSsK52p5cXha7ZP";
/// Well-formed base64 that is not KMS ciphertext.
const FAKE_CIPHERTEXT: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// The error variant a case must produce.
#[derive(Clone, Copy, Debug)]
enum Kind {
    File,
    /// With the line the error must report.
    Toml(Option<usize>),
    UnknownProfile,
    Invalid,
    Conflict,
    Kms,
    Unsupported,
}

impl Kind {
    fn matches(self, e: &ConfigError) -> bool {
        match self {
            Kind::File => matches!(e, ConfigError::File { .. }),
            Kind::Toml(want) => matches!(e, ConfigError::Toml { line, .. } if *line == want),
            Kind::UnknownProfile => matches!(e, ConfigError::UnknownProfile { .. }),
            Kind::Invalid => matches!(e, ConfigError::Invalid { .. }),
            Kind::Conflict => matches!(e, ConfigError::Conflict { .. }),
            Kind::Kms => matches!(e, ConfigError::Kms { .. }),
            Kind::Unsupported => matches!(e, ConfigError::Unsupported { .. }),
        }
    }
}

/// Which call must fail.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// `Loader::load`.
    Load,
    /// `Loader::load_async`.
    LoadAsync,
    /// `Loader::load` succeeds, then `ClientConfig::to_options` fails.
    ToOptions,
}

/// The AWS part of the environment.
#[derive(Clone, Copy, Debug)]
enum Aws {
    /// No AWS variables.
    None,
    /// Region, credentials and `AWS_ENDPOINT_URL_KMS` = a closed port: for cases that must
    /// fail before any request (a request would fail differently: "cannot reach KMS").
    Offline,
    /// `lw_testkit::Moto::shared()`: a real KMS API.
    Moto,
    /// Region, credentials and an endpoint that accepts connections and never answers, with
    /// `Loader::kms_timeout` of one second.
    Blackhole,
    /// Region, credentials and an endpoint that answers every request with HTTP 500.
    Failing,
}

/// An HTTP endpoint answering every request with `500 Internal Server Error`, until the
/// process ends; its URL.
fn failing_endpoint() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut length = 0usize;
                let mut line = String::new();
                // Each request: headers up to the blank line, then its body.
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let header = line.trim_end().to_ascii_lowercase();
                    if let Some(v) = header.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if header.is_empty() {
                        let mut body = vec![0; length];
                        let _ = std::io::Read::read_exact(&mut reader, &mut body);
                        let answer =
                            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n";
                        if (&stream).write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                        length = 0;
                    }
                    line.clear();
                }
            });
        }
    });
    url
}

/// A code override's value.
#[derive(Clone, Copy, Debug)]
enum Ov {
    S(&'static str),
    I(i64),
}

impl Ov {
    fn value(self) -> toml::Value {
        match self {
            Ov::S(s) => toml::Value::String(s.to_owned()),
            Ov::I(i) => toml::Value::Integer(i),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    name: &'static str,
    /// `{DIR}/temporal.toml`, named by `TEMPORAL_CONFIG_FILE`.
    file: Option<&'static str>,
    /// More files in `{DIR}` (relative path, bytes).
    files: &'static [(&'static str, &'static [u8])],
    /// Set over the base environment (`LAMBDA_TASK_ROOT`, `TEMPORAL_CONFIG_FILE`, AWS);
    /// [`UNSET`] removes a variable.
    env: &'static [(&'static str, &'static str)],
    /// `Loader::set` calls, in order.
    set: &'static [(&'static str, Ov)],
    /// `Loader::profile`.
    profile: Option<&'static str>,
    /// `Loader::config_file`.
    config_file: Option<&'static str>,
    stage: Stage,
    aws: Aws,
    expect: Kind,
    /// Texts the `Display` message must contain.
    shows: &'static [&'static str],
    /// Values that must appear in neither `Display` nor `Debug`.
    secrets: &'static [&'static str],
}

const CASE: Case = Case {
    name: "",
    file: None,
    files: &[],
    env: &[],
    set: &[],
    profile: None,
    config_file: None,
    stage: Stage::Load,
    aws: Aws::None,
    expect: Kind::Invalid,
    shows: &[],
    secrets: &[],
};

fn cases() -> Vec<Case> {
    use Kind::*;
    vec![
        // --- the config file --------------------------------------------------------------
        Case {
            name: "toml_unterminated_string",
            file: Some("[profile.default]\nnamespace = \"ok\"\naddress = \"h:7233\n"),
            expect: Toml(Some(3)),
            shows: &["{FILE} line 3: malformed TOML"],
            ..CASE
        },
        Case {
            name: "toml_duplicate_key",
            file: Some("[profile.default]\naddress = \"a:7233\"\naddress = \"b:7233\"\n"),
            expect: Toml(Some(3)),
            shows: &["{FILE} line 3: malformed TOML", "duplicate key"],
            ..CASE
        },
        Case {
            name: "toml_junk_after_a_secret",
            file: Some("[profile.default]\naddress = \"h:7233\"\napi_key = \"tmprl-s3cr3t\" x\n"),
            expect: Toml(Some(3)),
            shows: &["{FILE} line 3: malformed TOML"],
            secrets: &["tmprl-s3cr3t"],
            ..CASE
        },
        Case {
            name: "profile_is_not_a_table",
            file: Some("profile = \"default\"\n"),
            expect: Toml(None),
            shows: &["{FILE}", "`profile` must be a table", "[profile.default]"],
            ..CASE
        },
        Case {
            name: "profile_section_is_not_a_table",
            file: Some("[profile]\ndefault = \"localhost:7233\"\n"),
            expect: Toml(None),
            shows: &["{FILE}", "`profile.default` must be a table"],
            ..CASE
        },
        Case {
            name: "unknown_profile_lists_the_available_ones",
            file: Some(
                "[profile.default]\naddress = \"a:7233\"\n[profile.staging]\naddress = \"b:7233\"\n",
            ),
            env: &[("TEMPORAL_PROFILE", "prod")],
            expect: UnknownProfile,
            shows: &[
                "TEMPORAL_PROFILE names the profile `prod`",
                "{FILE} does not define",
                "profiles there: default, staging",
            ],
            ..CASE
        },
        Case {
            name: "unknown_profile_in_a_file_without_profiles",
            file: Some("# no profiles\n"),
            env: &[("TEMPORAL_PROFILE", "prod")],
            expect: UnknownProfile,
            shows: &["`prod`", "{FILE} does not define", "unset TEMPORAL_PROFILE"],
            ..CASE
        },
        Case {
            name: "temporal_profile_without_a_file",
            env: &[("TEMPORAL_PROFILE", "prod")],
            expect: UnknownProfile,
            shows: &[
                "TEMPORAL_PROFILE names the profile `prod`",
                "none was found",
                "unset TEMPORAL_PROFILE or add [profile.prod] to the file",
            ],
            ..CASE
        },
        Case {
            // The profile came from code, not from TEMPORAL_PROFILE (which is not set).
            name: "loader_profile_unknown_names_loader_profile",
            file: Some("[profile.default]\naddress = \"a:7233\"\n"),
            profile: Some("prod"),
            expect: UnknownProfile,
            shows: &["Loader::profile", "`prod`", "profiles there: default"],
            ..CASE
        },
        Case {
            name: "temporal_config_file_missing",
            env: &[("TEMPORAL_CONFIG_FILE", "{DIR}/missing.toml")],
            expect: File,
            shows: &["{DIR}/missing.toml", "TEMPORAL_CONFIG_FILE", "fix the path"],
            ..CASE
        },
        Case {
            name: "temporal_config_file_is_a_directory",
            env: &[("TEMPORAL_CONFIG_FILE", "{DIR}")],
            expect: File,
            shows: &[
                "{DIR}",
                "TEMPORAL_CONFIG_FILE",
                "names a directory",
                "temporal.toml inside it",
            ],
            ..CASE
        },
        Case {
            name: "loader_config_file_missing",
            config_file: Some("{DIR}/nope.toml"),
            expect: File,
            shows: &["{DIR}/nope.toml", "Loader::config_file", "fix the path"],
            ..CASE
        },
        Case {
            name: "config_file_not_utf8",
            files: &[(
                "latin1.toml",
                b"[profile.default]\nnamespace = \"caf\xe9\"\n",
            )],
            env: &[("TEMPORAL_CONFIG_FILE", "{DIR}/latin1.toml")],
            expect: File,
            shows: &["{DIR}/latin1.toml", "is not UTF-8 text", "save it as UTF-8"],
            ..CASE
        },
        Case {
            name: "task_root_config_file_not_utf8",
            files: &[(
                "temporal.toml",
                b"[profile.default]\nnamespace = \"\xff\"\n",
            )],
            env: &[("LAMBDA_TASK_ROOT", "{DIR}")],
            expect: File,
            shows: &[
                "{DIR}/temporal.toml",
                "is not UTF-8 text",
                "save it as UTF-8",
            ],
            ..CASE
        },
        // --- address ----------------------------------------------------------------------
        Case {
            name: "address_is_an_integer",
            file: Some("[profile.default]\naddress = 7233\n"),
            expect: Invalid,
            shows: &["{FILE}: key `profile.default.address`", "expected a string"],
            ..CASE
        },
        Case {
            name: "address_without_port",
            file: Some("[profile.default]\naddress = \"temporal.example.com\"\n"),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.address`",
                "has no port",
                "host:port",
            ],
            ..CASE
        },
        Case {
            name: "address_with_grpc_scheme",
            env: &[("TEMPORAL_ADDRESS", "grpc://temporal.example.com:7233")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_ADDRESS",
                "scheme `grpc`",
                "host:port",
            ],
            ..CASE
        },
        Case {
            name: "address_without_host",
            file: Some("[profile.default]\naddress = \":7233\"\n"),
            expect: Invalid,
            shows: &["{FILE}: key `profile.default.address`", "host:port"],
            ..CASE
        },
        Case {
            name: "address_garbage",
            env: &[("TEMPORAL_ADDRESS", "not an address")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_ADDRESS",
                "not a valid address",
                "host:port",
            ],
            ..CASE
        },
        Case {
            name: "address_port_out_of_range_from_code",
            set: &[("address", Ov::S("temporal.example.com:99999"))],
            expect: Invalid,
            shows: &["{SET}", "address", "host:port"],
            ..CASE
        },
        // --- TLS --------------------------------------------------------------------------
        Case {
            name: "tls_disabled_is_a_string",
            file: Some("[profile.default.tls]\ndisabled = \"yes\"\n"),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.tls.disabled`",
                "expected a boolean",
            ],
            ..CASE
        },
        Case {
            name: "tls_is_a_bool_instead_of_a_table",
            file: Some("[profile.default]\ntls = true\n"),
            expect: Invalid,
            shows: &["{FILE}: key `profile.default.tls`", "table"],
            ..CASE
        },
        Case {
            name: "cert_path_and_data_in_the_file",
            file: Some(
                "[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\nclient_cert_data = \"-----BEGIN CERTIFICATE-----\\nMIIBY2VydC1zM2NyM3QtYm9keQ==\\n-----END CERTIFICATE-----\\n\"\nclient_key_path = \"{DIR}/client.key\"\n",
            ),
            expect: Conflict,
            shows: &[
                "{FILE}: key `profile.default.tls.client_cert_path`",
                "{FILE}: key `profile.default.tls.client_cert_data`",
                "either the path or the data",
            ],
            secrets: &[CERT_BODY],
            ..CASE
        },
        Case {
            name: "key_path_and_data_in_the_environment",
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "/certs/client.pem"),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "/certs/client.key"),
                ("TEMPORAL_TLS_CLIENT_KEY_DATA", KEY_PEM),
            ],
            expect: Conflict,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_KEY_PATH",
                "environment variable TEMPORAL_TLS_CLIENT_KEY_DATA",
                "either the path or the data",
            ],
            secrets: &[KEY_BODY],
            ..CASE
        },
        Case {
            name: "ca_path_in_the_file_and_data_in_the_environment",
            file: Some("[profile.default.tls]\nserver_ca_cert_path = \"{DIR}/ca.pem\"\n"),
            env: &[("TEMPORAL_TLS_SERVER_CA_CERT_DATA", CERT_PEM)],
            expect: Conflict,
            shows: &[
                "{FILE}: key `profile.default.tls.server_ca_cert_path`",
                "environment variable TEMPORAL_TLS_SERVER_CA_CERT_DATA",
                "either the path or the data",
            ],
            secrets: &[CERT_BODY],
            ..CASE
        },
        Case {
            name: "cert_path_without_key",
            file: Some("[profile.default.tls]\nclient_cert_path = \"{DIR}/client.pem\"\n"),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.tls.client_cert_path`",
                "also set client_key_path or client_key_data",
            ],
            ..CASE
        },
        Case {
            name: "key_path_without_cert",
            env: &[("TEMPORAL_TLS_CLIENT_KEY_PATH", "/certs/client.key")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_KEY_PATH",
                "also set client_cert_path or client_cert_data",
            ],
            ..CASE
        },
        Case {
            name: "cert_data_without_key_names_the_data_variable",
            env: &[("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM)],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_CERT_DATA",
                "also set client_key_path or client_key_data",
            ],
            secrets: &[CERT_BODY],
            ..CASE
        },
        Case {
            name: "key_data_without_cert_names_the_data_key",
            file: Some(
                "[profile.default.tls]\nclient_key_data = \"-----BEGIN PRIVATE KEY-----\\nMC4CAQAwa2V5LXMzY3IzdC1ib2R5\\n-----END PRIVATE KEY-----\\n\"\n",
            ),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.tls.client_key_data`",
                "also set client_cert_path or client_cert_data",
            ],
            secrets: &[KEY_BODY],
            ..CASE
        },
        Case {
            name: "cert_data_not_pem_in_the_file",
            file: Some(
                "[profile.default.tls]\nclient_cert_data = \"MIIB-not-pem-s3cr3t\"\nclient_key_path = \"{DIR}/client.key\"\n",
            ),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.tls.client_cert_data`",
                "is not PEM text",
                "-----BEGIN",
            ],
            secrets: &["MIIB-not-pem-s3cr3t"],
            ..CASE
        },
        Case {
            name: "key_data_not_pem_in_the_environment",
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM),
                ("TEMPORAL_TLS_CLIENT_KEY_DATA", "MC4CAQAw-raw-key-s3cr3t"),
            ],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_KEY_DATA",
                "is not PEM text",
                "-----BEGIN",
            ],
            secrets: &["MC4CAQAw-raw-key-s3cr3t", CERT_BODY],
            ..CASE
        },
        Case {
            name: "ca_data_not_pem_from_code",
            set: &[("tls.server_ca_cert_data", Ov::S("ca-not-pem-s3cr3t"))],
            expect: Invalid,
            shows: &["{SET}", "tls.server_ca_cert_data", "is not PEM text"],
            secrets: &["ca-not-pem-s3cr3t"],
            ..CASE
        },
        Case {
            name: "cert_file_missing",
            file: Some(
                "[profile.default.tls]\nclient_cert_path = \"{DIR}/missing.pem\"\nclient_key_path = \"{DIR}/client.key\"\n",
            ),
            files: KEY_FILE,
            stage: Stage::ToOptions,
            expect: File,
            shows: &["{DIR}/missing.pem", "tls.client_cert_path"],
            secrets: &[KEY_BODY],
            ..CASE
        },
        Case {
            name: "relative_cert_missing_is_resolved_against_the_file_folder",
            file: Some(
                "[profile.default.tls]\nclient_cert_path = \"certs/client.pem\"\nclient_key_path = \"client.key\"\n",
            ),
            files: KEY_FILE,
            stage: Stage::ToOptions,
            expect: File,
            shows: &["{DIR}/certs/client.pem", "tls.client_cert_path"],
            secrets: &[KEY_BODY],
            ..CASE
        },
        Case {
            name: "ca_file_missing_from_the_environment",
            env: &[
                ("TEMPORAL_TLS", "true"),
                ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "{DIR}/ca.pem"),
            ],
            stage: Stage::ToOptions,
            expect: File,
            shows: &[
                "{DIR}/ca.pem",
                "environment variable TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            ],
            ..CASE
        },
        Case {
            name: "ca_file_not_pem",
            file: Some("[profile.default.tls]\nserver_ca_cert_path = \"ca.pem\"\n"),
            files: &[("ca.pem", b"ca-file-s3cr3t, not a certificate\n")],
            stage: Stage::ToOptions,
            expect: File,
            shows: &[
                "{DIR}/ca.pem",
                "key `profile.default.tls.server_ca_cert_path`",
                "holds no PEM certificate",
                "the CA that issued the server's certificate",
            ],
            secrets: &["ca-file-s3cr3t"],
            ..CASE
        },
        Case {
            name: "ca_data_that_does_not_parse",
            env: &[("TEMPORAL_TLS_SERVER_CA_CERT_DATA", CERT_PEM)],
            stage: Stage::ToOptions,
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_SERVER_CA_CERT_DATA",
                "cannot be parsed",
            ],
            secrets: &[CERT_BODY],
            ..CASE
        },
        Case {
            name: "client_key_file_not_pem",
            file: Some(
                "[profile.default.tls]\nclient_cert_path = \"a.pem\"\nclient_key_path = \"a.key\"\n",
            ),
            files: &[("a.pem", PAIR_A_CERT), ("a.key", b"key-file-s3cr3t\n")],
            stage: Stage::ToOptions,
            expect: File,
            shows: &[
                "{DIR}/a.key",
                "key `profile.default.tls.client_key_path`",
                "holds no PEM private key",
            ],
            secrets: &["key-file-s3cr3t"],
            ..CASE
        },
        Case {
            name: "client_key_data_that_does_not_parse",
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "{DIR}/a.pem"),
                ("TEMPORAL_TLS_CLIENT_KEY_DATA", KEY_PEM),
            ],
            files: &[("a.pem", PAIR_A_CERT)],
            stage: Stage::ToOptions,
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_KEY_DATA",
                "private key the TLS stack cannot use",
            ],
            secrets: &[KEY_BODY],
            ..CASE
        },
        Case {
            name: "client_cert_that_does_not_parse",
            env: &[
                ("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", "{DIR}/a.key"),
            ],
            files: &[("a.key", PAIR_A_KEY)],
            stage: Stage::ToOptions,
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_CERT_DATA",
                "cannot be parsed",
            ],
            secrets: &[CERT_BODY, PAIR_A_KEY_BODY],
            ..CASE
        },
        Case {
            name: "client_key_of_another_certificate",
            file: Some(
                "[profile.default.tls]\nclient_cert_path = \"a.pem\"\nclient_key_path = \"b.key\"\n",
            ),
            files: &[("a.pem", PAIR_A_CERT), ("b.key", PAIR_B_KEY)],
            stage: Stage::ToOptions,
            expect: File,
            shows: &[
                "{DIR}/b.key",
                "key `profile.default.tls.client_key_path`",
                "does not belong to the client certificate",
                "key `profile.default.tls.client_cert_path`",
            ],
            secrets: &[PAIR_B_KEY_BODY],
            ..CASE
        },
        Case {
            name: "api_key_with_a_control_character",
            env: &[("TEMPORAL_API_KEY", "key-s3cr3t\u{7}tail")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "`authorization` header cannot carry",
            ],
            secrets: &["key-s3cr3t"],
            ..CASE
        },
        Case {
            name: "api_key_with_a_trailing_newline_in_the_file",
            file: Some("[profile.default]\napi_key = \"key-s3cr3t\\n\"\n"),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.api_key`",
                "leading or trailing whitespace",
            ],
            secrets: &["key-s3cr3t"],
            ..CASE
        },
        Case {
            name: "api_key_with_a_space_from_code",
            set: &[("api_key", Ov::S("Bearer key-s3cr3t"))],
            expect: Invalid,
            shows: &["{SET}", "`authorization` header cannot carry"],
            secrets: &["key-s3cr3t"],
            ..CASE
        },
        Case {
            name: "disable_host_verification_in_the_file",
            file: Some("[profile.default.tls]\ndisable_host_verification = true\n"),
            expect: Unsupported,
            shows: &[
                "{FILE}: key `profile.default.tls.disable_host_verification`",
                "cannot disable TLS host verification",
                "server_name",
            ],
            ..CASE
        },
        Case {
            name: "disable_host_verification_in_the_environment",
            env: &[
                ("TEMPORAL_TLS", "true"),
                ("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true"),
            ],
            expect: Unsupported,
            shows: &[
                "environment variable TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
                "server_name",
            ],
            ..CASE
        },
        Case {
            name: "temporal_tls_not_a_boolean",
            env: &[("TEMPORAL_TLS", "maybe")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS:",
                "`maybe` is not a boolean",
                "true or false",
            ],
            ..CASE
        },
        Case {
            name: "disable_host_verification_not_a_boolean",
            env: &[("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "sometimes")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
                "`sometimes` is not a boolean",
                "true or false",
            ],
            ..CASE
        },
        // --- grpc_meta --------------------------------------------------------------------
        Case {
            name: "grpc_meta_variable_without_header_name",
            env: &[("TEMPORAL_GRPC_META_", "x")],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_GRPC_META_",
                "TEMPORAL_GRPC_META_<HEADER_NAME>",
            ],
            ..CASE
        },
        Case {
            name: "grpc_meta_is_a_string_holding_a_secret",
            file: Some("[profile.default]\ngrpc_meta = \"authorization: Bearer s3cr3t-token\"\n"),
            expect: Invalid,
            shows: &["{FILE}: key `profile.default.grpc_meta`"],
            secrets: &["s3cr3t-token"],
            ..CASE
        },
        Case {
            name: "grpc_meta_value_is_an_integer",
            file: Some("[profile.default.grpc_meta]\nx-retries = 3\n"),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.grpc_meta.x-retries`",
                "expected a string",
            ],
            ..CASE
        },
        Case {
            // `-bin` headers are binary; the client refuses them as text headers at connect
            // time, far from the variable that set them.
            name: "grpc_meta_binary_header_name",
            env: &[("TEMPORAL_GRPC_META_X_TOKEN_BIN", "abc")],
            expect: Unsupported,
            shows: &[
                "environment variable TEMPORAL_GRPC_META_X_TOKEN_BIN",
                "-bin",
            ],
            ..CASE
        },
        Case {
            // A newline is not allowed in a header value; the client would refuse it at
            // connect time without naming the key.
            name: "grpc_meta_value_with_a_newline",
            file: Some("[profile.default.grpc_meta]\nx-team = \"pay\\nments-s3cr3t\"\n"),
            expect: Invalid,
            shows: &["{FILE}: key `profile.default.grpc_meta.x-team`"],
            secrets: &["ments-s3cr3t"],
            ..CASE
        },
        // --- code overrides ---------------------------------------------------------------
        Case {
            name: "code_override_unknown_key",
            set: &[("adress", Ov::S("temporal.example.com:7233"))],
            expect: Invalid,
            shows: &["{SET}", "`adress`", "is not a client setting", "address"],
            ..CASE
        },
        Case {
            name: "code_override_wrong_type",
            set: &[("tls.disabled", Ov::S("nope"))],
            expect: Invalid,
            shows: &["{SET}", "tls.disabled", "expected a boolean"],
            ..CASE
        },
        Case {
            name: "code_override_namespace_is_an_integer",
            set: &[("namespace", Ov::I(42))],
            expect: Invalid,
            shows: &["{SET}", "namespace", "expected a string"],
            ..CASE
        },
        Case {
            name: "code_override_grpc_meta_is_a_string_holding_a_secret",
            set: &[("grpc_meta", Ov::S("Bearer s3cr3t-token"))],
            expect: Invalid,
            shows: &["{SET}", "grpc_meta"],
            secrets: &["s3cr3t-token"],
            ..CASE
        },
        // --- KMS without a KMS ------------------------------------------------------------
        Case {
            name: "kms_value_on_address_in_the_file",
            file: Some(
                "[profile.default]\naddress = \"kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n",
            ),
            expect: Invalid,
            shows: &[
                "{FILE}: key `profile.default.address`",
                "only secrets are decrypted",
                "write this value in plain text",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_value_on_address_in_the_environment",
            env: &[(
                "TEMPORAL_ADDRESS",
                "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            )],
            expect: Invalid,
            shows: &[
                "environment variable TEMPORAL_ADDRESS",
                "only secrets are decrypted",
                "write this value in plain text",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "decrypt_list_names_an_unset_variable",
            env: &[
                ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
                ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
            ],
            expect: Kms,
            shows: &[
                "environment variable LAMBDAWORKER_KMS_DECRYPT",
                "`TEMPORAL_API_KEY`, which is not set",
                "remove it from the list",
            ],
            ..CASE
        },
        Case {
            name: "decrypt_list_names_a_non_temporal_variable",
            env: &[
                (
                    "LAMBDAWORKER_KMS_DECRYPT",
                    "TEMPORAL_API_KEY,DATABASE_PASSWORD",
                ),
                ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
                ("TEMPORAL_API_KEY", FAKE_CIPHERTEXT),
                ("DATABASE_PASSWORD", "db-s3cr3t"),
            ],
            expect: Kms,
            shows: &[
                "environment variable LAMBDAWORKER_KMS_DECRYPT",
                "`DATABASE_PASSWORD`, which is not a Temporal client variable",
                "lw_config::Kms",
            ],
            secrets: &["db-s3cr3t", FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "decrypt_list_without_function_name",
            env: &[
                ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
                ("TEMPORAL_API_KEY", FAKE_CIPHERTEXT),
            ],
            expect: Kms,
            shows: &[
                "environment variable AWS_LAMBDA_FUNCTION_NAME",
                "LAMBDAWORKER_KMS_DECRYPT",
                "export it",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "sync_load_of_a_kms_value",
            env: &[(
                "TEMPORAL_API_KEY",
                "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            )],
            expect: Kms,
            shows: &["environment variable TEMPORAL_API_KEY", "load_async"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "sync_load_of_a_kms_value_in_the_file",
            file: Some(
                "[profile.default.grpc_meta]\nauthorization = \"kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n",
            ),
            expect: Kms,
            shows: &[
                "{FILE}: key `profile.default.grpc_meta.authorization`",
                "load_async",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "sync_load_of_a_listed_variable",
            env: &[
                ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
                ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
                ("TEMPORAL_API_KEY", FAKE_CIPHERTEXT),
            ],
            expect: Kms,
            shows: &["environment variable TEMPORAL_API_KEY", "load_async"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_value_not_base64",
            env: &[("TEMPORAL_API_KEY", "kms:not*base64*s3cr3t")],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "not base64 ciphertext",
                "CiphertextBlob",
            ],
            secrets: &["not*base64*s3cr3t"],
            ..CASE
        },
        Case {
            name: "kms_value_not_base64_in_the_file",
            file: Some("[profile.default]\napi_key = \"kms:%%tmprl-s3cr3t%%\"\n"),
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &[
                "{FILE}: key `profile.default.api_key`",
                "not base64 ciphertext",
            ],
            secrets: &["tmprl-s3cr3t"],
            ..CASE
        },
        Case {
            name: "kms_value_empty",
            env: &[("TEMPORAL_CODEC_AUTH", "kms:")],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable TEMPORAL_CODEC_AUTH", "is empty"],
            ..CASE
        },
        Case {
            // Listed for decryption but never encrypted: the plaintext must not be shown.
            name: "listed_variable_holding_plaintext",
            env: &[
                ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
                ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
                ("TEMPORAL_API_KEY", "tmprl.plain-s3cr3t"),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable TEMPORAL_API_KEY", "not base64"],
            secrets: &["tmprl.plain-s3cr3t"],
            ..CASE
        },
        Case {
            name: "kms_without_aws_region",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_REGION", UNSET),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable AWS_REGION", "region", "export it"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_without_access_key_id",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_ACCESS_KEY_ID", UNSET),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable AWS_ACCESS_KEY_ID", "export it"],
            secrets: &[FAKE_CIPHERTEXT, "wJalrXUtnFEMI"],
            ..CASE
        },
        Case {
            name: "kms_without_secret_access_key",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_SECRET_ACCESS_KEY", UNSET),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable AWS_SECRET_ACCESS_KEY", "export it"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_endpoint_not_a_url",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_ENDPOINT_URL_KMS", "not a url"),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &[
                "environment variable AWS_ENDPOINT_URL_KMS",
                "`not a url` is not an http(s) URL",
                "http://host:port",
            ],
            secrets: &[FAKE_CIPHERTEXT, "wJalrXUtnFEMI"],
            ..CASE
        },
        Case {
            name: "generic_endpoint_not_a_url",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_ENDPOINT_URL_KMS", UNSET),
                ("AWS_ENDPOINT_URL", "http//localhost:4566"),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["environment variable AWS_ENDPOINT_URL:", "http://host:port"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            // `localhost:4566` parses as a URL with the scheme `localhost`.
            name: "kms_endpoint_without_scheme",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_ENDPOINT_URL_KMS", "localhost:4566"),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Offline,
            expect: Kms,
            shows: &["AWS_ENDPOINT_URL_KMS", "http://host:port"],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_endpoint_never_answers",
            env: &[(
                "TEMPORAL_API_KEY",
                "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            )],
            stage: Stage::LoadAsync,
            aws: Aws::Blackhole,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "{ENDPOINT}",
                "Loader::kms_timeout",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            name: "kms_endpoint_answers_500",
            env: &[(
                "TEMPORAL_API_KEY",
                "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            )],
            stage: Stage::LoadAsync,
            aws: Aws::Failing,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "KMS at {ENDPOINT} answered HTTP 500",
                "AWS_ENDPOINT_URL_KMS",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        // --- KMS against moto -------------------------------------------------------------
        Case {
            name: "kms_value_not_ciphertext",
            env: &[(
                "TEMPORAL_API_KEY",
                "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            )],
            stage: Stage::LoadAsync,
            aws: Aws::Moto,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "InvalidCiphertextException",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
        Case {
            // Listed, never encrypted, and happens to be valid base64.
            name: "listed_variable_holding_base64_plaintext",
            env: &[
                ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_TLS_CLIENT_KEY_DATA"),
                ("AWS_LAMBDA_FUNCTION_NAME", "orders-worker"),
                ("TEMPORAL_TLS_CLIENT_CERT_DATA", CERT_PEM),
                ("TEMPORAL_TLS_CLIENT_KEY_DATA", KEY_BODY),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Moto,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_TLS_CLIENT_KEY_DATA",
                "LambdaFunctionName=orders-worker",
            ],
            secrets: &[KEY_BODY, CERT_BODY],
            ..CASE
        },
        Case {
            // TLS to a plain-HTTP endpoint: the handshake fails.
            name: "kms_endpoint_https_to_a_plain_http_server",
            env: &[
                (
                    "TEMPORAL_API_KEY",
                    "kms:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                ),
                ("AWS_ENDPOINT_URL_KMS", "{ENDPOINT_HTTPS}"),
            ],
            stage: Stage::LoadAsync,
            aws: Aws::Moto,
            expect: Kms,
            shows: &[
                "environment variable TEMPORAL_API_KEY",
                "{ENDPOINT_HTTPS}",
                "AWS_ENDPOINT_URL_KMS",
            ],
            secrets: &[FAKE_CIPHERTEXT],
            ..CASE
        },
    ]
}

/// What one case produced, checked on the case's own thread.
fn run(case: Case, moto: Option<&Moto>) -> Vec<String> {
    let root = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("temporal.toml");
    // A listener that never accepts: connections complete, requests are never answered.
    let blackhole = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = match case.aws {
        Aws::Blackhole => format!("http://{}", blackhole.local_addr().unwrap()),
        Aws::Moto => moto.expect("moto").endpoint.clone(),
        Aws::Failing => failing_endpoint(),
        _ => format!("http://127.0.0.1:{}", lw_testkit::free_port().unwrap()),
    };
    let expand = |s: &str, set: &str| {
        s.replace("{DIR}", &dir.path().display().to_string())
            .replace("{ROOT}", &root.path().display().to_string())
            .replace("{FILE}", &file.display().to_string())
            .replace(
                "{ENDPOINT_HTTPS}",
                &endpoint.replacen("http://", "https://", 1),
            )
            .replace("{ENDPOINT}", &endpoint)
            .replace("{SET}", set)
    };

    for (rel, bytes) in case.files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("LAMBDA_TASK_ROOT".into(), expand("{ROOT}", ""));
    if let Some(text) = case.file {
        std::fs::write(&file, expand(text, "")).unwrap();
        env.insert("TEMPORAL_CONFIG_FILE".into(), expand("{FILE}", ""));
    }
    match case.aws {
        Aws::None => {}
        Aws::Moto => env.extend(moto.expect("moto").env()),
        Aws::Offline | Aws::Blackhole | Aws::Failing => {
            for (k, v) in [
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                ),
                ("AWS_ENDPOINT_URL_KMS", &endpoint),
            ] {
                env.insert(k.into(), v.into());
            }
        }
    }
    for (k, v) in case.env {
        if *v == UNSET {
            env.remove(*k);
        } else {
            env.insert((*k).to_owned(), expand(v, ""));
        }
    }

    let mut loader = Loader::new().env(env);
    if let Some(p) = case.profile {
        loader = loader.profile(p);
    }
    if let Some(p) = case.config_file {
        loader = loader.config_file(expand(p, ""));
    }
    if matches!(case.aws, Aws::Blackhole) {
        loader = loader.kms_timeout(Duration::from_secs(1));
    }
    let mut set_at = String::new();
    for (key, value) in case.set {
        let (l, at) = (loader.set(key, value.value()), Location::caller());
        loader = l;
        set_at = format!("code override at {}:{}:", at.file(), at.line());
    }

    let result = match case.stage {
        Stage::Load => loader.load().map(|_| ()),
        Stage::LoadAsync => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(loader.load_async())
            .map(|_| ()),
        Stage::ToOptions => match loader.load() {
            Ok(config) => config.to_options().map(|_| ()),
            Err(e) => return vec![format!("load failed before to_options: {e}")],
        },
    };
    let e = match result {
        Ok(()) => return vec![format!("{:?} succeeded", case.stage)],
        Err(e) => e,
    };
    // What a user reads: the message and its typed causes, as lw-runtime prints them.
    let (shown, repeated) = report(&e);
    let debug = format!("{e:?}");
    // The catalogue of messages, for `--nocapture`.
    println!("{}: {shown}", case.name);
    let mut problems = Vec::new();
    if let Some(cause) = repeated {
        problems.push(format!(
            "the message repeats its cause `{cause}` (it belongs in source() only): {shown}"
        ));
    }
    if !case.expect.matches(&e) {
        problems.push(format!("expected {:?}, got {debug}", case.expect));
    }
    for want in case.shows {
        let want = expand(want, &set_at);
        if !shown.contains(&want) {
            problems.push(format!("message does not show `{want}`: {shown}"));
        }
    }
    for secret in case.secrets {
        if shown.contains(secret) || debug.contains(secret) {
            problems.push(format!("message shows the secret `{secret}`: {shown}"));
        }
    }
    // Keep the endpoint listener alive until the load is over.
    drop(blackhole);
    problems
}

/// What a user reads (the message and its causes), and the direct cause when the message
/// already shows it (our message must leave it to `source()`).
fn report(e: &ConfigError) -> (String, Option<String>) {
    let repeated = std::error::Error::source(e)
        .map(|c| c.to_string())
        .filter(|c| e.to_string().contains(c.as_str()));
    (common::report(e), repeated)
}

/// Runs the cases on their own threads, each within [`BOUND`], and fails listing every
/// problem.
fn run_all(cases: Vec<Case>, moto: Option<&'static Moto>) {
    let mut problems = Vec::new();
    for case in cases {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::Builder::new()
            .name(case.name.to_owned())
            .spawn(move || {
                let _ = tx.send(run(case, moto));
            })
            .unwrap();
        match rx.recv_timeout(BOUND) {
            Ok(p) => problems.extend(p.into_iter().map(|p| format!("{}: {p}", case.name))),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                problems.push(format!("{}: did not return within {BOUND:?}", case.name));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                problems.push(format!(
                    "{}: panicked after {:?} (see stderr)",
                    case.name,
                    started.elapsed()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn names_are_unique(cases: &[Case]) {
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate case names");
}

#[test]
fn the_catalogue_is_large_enough() {
    let cases = cases();
    names_are_unique(&cases);
    assert!(cases.len() >= 30, "{} cases", cases.len());
    assert!(
        cases
            .iter()
            .all(|c| !c.name.is_empty() && !c.shows.is_empty())
    );
}

#[test]
fn malformed_inputs_fail_naming_their_source() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| !matches!(c.aws, Aws::Moto))
        .collect();
    run_all(cases, None);
}

#[test]
fn malformed_kms_inputs_fail_naming_their_source() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| matches!(c.aws, Aws::Moto))
        .collect();
    assert!(!cases.is_empty());
    let moto = Moto::shared().expect("moto_server (pip install 'moto[server]')");
    run_all(cases, Some(moto));
}

/// `{DIR}` paths in TOML strings must not need escaping.
#[test]
fn temp_paths_need_no_toml_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().display().to_string();
    assert!(!shown.contains('\\') && !shown.contains('"'), "{shown}");
    assert!(Path::new(&shown).is_absolute());
}
