//! The greeting function through a real TLS front: nginx terminating TLS in front of the dev
//! server (`lw_testkit::TlsFront`), the client configured only by the `temporal.toml`
//! bundled with the function (in `LAMBDA_TASK_ROOT`, with the PEM files beside it).
//!
//! The environment carries only what the harness needs (task queue, deployment, build id);
//! the address, TLS settings and API key come from the file. The server certificate names
//! only `temporal.test`, so every connection to 127.0.0.1 must set `server_name`.

use std::time::{Duration, Instant};

use lw_testkit::{
    DevServer, FunctionSpec, LocalFunction, Outcome, SERVER_NAME, TestCerts, TlsFront, unique,
};
use serde_json::json;

use crate::common::{BUILD, Fixture, GREETING};

/// The function's bundle (its task root) and the function itself.
struct Bundled {
    f: Fixture,
    front: &'static TlsFront,
    /// The task root (temporal.toml and the files it names) and the working directory.
    _dirs: [tempfile::TempDir; 2],
}

fn front() -> &'static TlsFront {
    TlsFront::shared().expect("TLS front (nginx)")
}

/// The greeting function with `toml` as its bundled temporal.toml and `files` beside it.
async fn bundled(toml: &str, files: &[(&str, &str)]) -> Bundled {
    let front = front();
    let server = DevServer::shared().expect("dev server");
    let root = tempfile::tempdir().expect("task root");
    let cwd = tempfile::tempdir().expect("working directory");
    std::fs::write(root.path().join("temporal.toml"), toml).expect("temporal.toml");
    for (name, text) in files {
        let path = root.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("bundle folder");
        std::fs::write(path, text).expect("bundled file");
    }
    let task_queue = unique("tq");
    let deployment = unique("dep");
    server
        .set_current_version(&deployment, BUILD)
        .expect("set current version");
    // 10 s timeout - 7 s buffer: 3 s of polling per invocation.
    let mut spec = FunctionSpec::new(GREETING, "greeting")
        .timeout(Duration::from_secs(10))
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment.clone())
        .env("LW_BUILD_ID", BUILD)
        // Empty counts as unset: the file is found through LAMBDA_TASK_ROOT even if the test
        // run's own environment names another one.
        .env("TEMPORAL_CONFIG_FILE", "")
        .env("LAMBDA_TASK_ROOT", root.path().display().to_string());
    // The working directory is an empty folder of its own (on Lambda both are /var/task):
    // a relative path in the file can only resolve against the file's folder.
    spec.task_root = Some(cwd.path().to_path_buf());
    let function = LocalFunction::new(spec).await.expect("emulator");
    Bundled {
        f: Fixture {
            server,
            task_queue,
            deployment,
            function,
        },
        front,
        _dirs: [root, cwd],
    }
}

/// A `[profile.default]` for `port` of the front; `tls` is the body of its `[tls]` table.
fn profile(port: u16, extra: &str, tls: &str) -> String {
    format!(
        "[profile.default]\naddress = \"127.0.0.1:{port}\"\n{extra}\n\n\
         [profile.default.tls]\n{tls}\n"
    )
}

/// `pem` as a TOML multi-line literal string.
fn literal(pem: &str) -> String {
    format!("'''\n{pem}'''")
}

impl Bundled {
    /// Starts a workflow and invokes the function until it completes (each invocation must
    /// answer with a report), then checks its result and that the front carried the work.
    async fn completes(&self, port: u16, name: &str) {
        let id = self.f.start(name);
        let until = Instant::now() + Duration::from_secs(60);
        let result = loop {
            let r = self.f.invoke().await;
            assert!(
                r.response().is_some(),
                "invocation failed: {:?}\n{}",
                r.outcome,
                self.f.logs()
            );
            if let Some(v) = self.f.server.result(&id).expect("history") {
                break v;
            }
            assert!(
                Instant::now() < until,
                "workflow {id} not completed\n{}",
                self.f.logs()
            );
        };
        assert_eq!(result, json!(format!("Hello, {name}!")));
        let done = self.front.served(port);
        assert!(
            done.iter().any(|(status, path)| *status == 200
                && path.ends_with(".WorkflowService/RespondWorkflowTaskCompleted")),
            "nginx on {port} served no completed workflow task: {done:?}"
        );
    }

    /// One invocation that must fail to connect; returns its error message.
    async fn fails_to_connect(&self) -> String {
        let r = self.f.invoke().await;
        match &r.outcome {
            Outcome::Error {
                error_type,
                message,
            } => {
                assert_eq!(error_type, "Connect", "{message}\n{}", self.f.logs());
                message.clone()
            }
            other => panic!("expected a Connect error, got {other:?}\n{}", self.f.logs()),
        }
    }

    /// Neither the API key, nor a line of either client key's PEM body, nor any of `more`
    /// is in the function's output (stdout and stderr).
    fn assert_no_secret_logged(&self, more: &[&str]) {
        let logs = self.f.logs();
        let certs = self.front.certs();
        assert!(!logs.is_empty(), "no output captured");
        let keys = [certs.client_key_pem(), certs.other_client_key_pem()];
        let secrets = keys
            .into_iter()
            .flat_map(TestCerts::pem_body_lines)
            .chain([self.front.api_key()])
            .chain(more.iter().copied());
        for secret in secrets {
            assert!(!logs.contains(secret), "{secret} was logged:\n{logs}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tls_with_the_ca_from_a_bundled_path() {
    let port = front().tls_port();
    let certs = front().certs();
    let toml = profile(
        port,
        "",
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", certs.ca_pem())]).await;
    b.completes(port, "TLS").await;
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_with_client_cert_and_key_from_bundled_paths() {
    let port = front().mtls_port();
    let certs = front().certs();
    // Relative paths resolve against temporal.toml's folder, here into a subfolder.
    let toml = profile(
        port,
        "",
        &format!(
            "client_cert_path = \"certs/client.pem\"\nclient_key_path = \"certs/client.key\"\n\
             server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""
        ),
    );
    let files = [
        ("ca.pem", certs.ca_pem()),
        ("certs/client.pem", certs.client_cert_pem()),
        ("certs/client.key", certs.client_key_pem()),
    ];
    let b = bundled(&toml, &files).await;
    b.completes(port, "mTLS paths").await;
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_with_client_cert_key_and_ca_inline_in_the_bundled_file() {
    let port = front().mtls_port();
    let certs = front().certs();
    let toml = profile(
        port,
        "",
        &format!(
            "client_cert_data = {}\nclient_key_data = {}\nserver_ca_cert_data = {}\n\
             server_name = \"{SERVER_NAME}\"",
            literal(certs.client_cert_pem()),
            literal(certs.client_key_pem()),
            literal(certs.ca_pem())
        ),
    );
    let b = bundled(&toml, &[]).await;
    b.completes(port, "mTLS data").await;
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_from_the_bundled_file_reaches_the_front() {
    let port = front().api_key_port();
    let certs = front().certs();
    let toml = profile(
        port,
        &format!("api_key = \"{}\"", front().api_key()),
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", certs.ca_pem())]).await;
    b.completes(port, "API key").await;
    b.assert_no_secret_logged(&[]);
}

// Misconfigurations: each is a `Connect` error from the first invocation whose message leads
// with the fix, names the setting and the file key it came from, and is never a `Debug` dump.
// nginx answers a missing or untrusted client certificate with HTTP 400 after the handshake
// (not a TLS alert), and a wrong key with HTTP 403: the client reads the HTML body as a gRPC
// frame and reports `Internal`, with the HTTP status in the text.

/// The bundled file's key, as messages name it.
fn key(name: &str) -> String {
    format!("temporal.toml: key `profile.default.{name}`")
}

impl Bundled {
    /// One invocation that must fail to connect with a message starting with `fix` and
    /// showing every one of `shows`; returns the message.
    async fn fails_with(&self, fix: &str, shows: &[&str]) -> String {
        let message = self.fails_to_connect().await;
        assert!(
            message.starts_with(fix),
            "expected `{fix}` first: {message}"
        );
        for want in shows {
            assert!(message.contains(want), "expected `{want}`: {message}");
        }
        for dump in ["Status {", "MetadataMap", "code: ", " { "] {
            assert!(!message.contains(dump), "a Debug dump: {message}");
        }
        // The report line names the error too.
        let logs = self.f.logs();
        assert!(
            logs.lines()
                .any(|l| l.contains("\"ended\":\"error\"") && l.contains("\"error\":\"Connect\"")),
            "{logs}"
        );
        message
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_server_name_the_certificate_does_not_match_the_ip() {
    let port = front().tls_port();
    let toml = profile(port, "", "server_ca_cert_path = \"ca.pem\"");
    let b = bundled(&toml, &[("ca.pem", front().certs().ca_pem())]).await;
    b.fails_with(
        "set tls.server_name (TEMPORAL_TLS_SERVER_NAME) to a name the server's certificate is \
         issued for",
        &[r#"certificate not valid for name "127.0.0.1""#, SERVER_NAME],
    )
    .await;
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_name_the_certificate_is_not_issued_for_is_named() {
    let port = front().tls_port();
    let toml = profile(
        port,
        "",
        "server_ca_cert_path = \"ca.pem\"\nserver_name = \"wrong.test\"",
    );
    let b = bundled(&toml, &[("ca.pem", front().certs().ca_pem())]).await;
    b.fails_with(
        "set tls.server_name to a name the server's certificate is issued for: the name set by",
        &[&key("tls.server_name")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_that_did_not_sign_the_server_certificate_is_named() {
    let port = front().tls_port();
    let toml = profile(
        port,
        "",
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", front().certs().other_ca_pem())]).await;
    b.fails_with(
        "give the CA that issued the server's certificate: the server's certificate is not \
         signed by the CA set by",
        &[&key("tls.server_ca_cert_path"), "UnknownIssuer"],
    )
    .await;
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_ca_the_system_roots_do_not_trust_the_server() {
    let port = front().tls_port();
    let toml = profile(port, "", &format!("server_name = \"{SERVER_NAME}\""));
    let b = bundled(&toml, &[]).await;
    b.fails_with(
        "set tls.server_ca_cert_path (TEMPORAL_TLS_SERVER_CA_CERT_PATH) to the CA that issued \
         the server's certificate",
        &["UnknownIssuer"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_without_a_client_certificate_says_to_set_one() {
    let port = front().mtls_port();
    let toml = profile(
        port,
        "",
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", front().certs().ca_pem())]).await;
    b.fails_with(
        "check what the server at https://127.0.0.1:",
        &[
            "answered HTTP 400",
            "a required client certificate is missing (none is set)",
        ],
    )
    .await;
    let log = front().error_log();
    assert!(
        log.contains("client sent no required SSL certificate"),
        "{log}"
    );
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_with_a_client_certificate_of_another_ca_names_it() {
    let port = front().mtls_port();
    let certs = front().certs();
    let toml = profile(
        port,
        "",
        &format!(
            "client_cert_path = \"client.pem\"\nclient_key_path = \"client.key\"\n\
             server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""
        ),
    );
    let files = [
        ("ca.pem", certs.ca_pem()),
        ("client.pem", certs.other_client_cert_pem()),
        ("client.key", certs.other_client_key_pem()),
    ];
    let b = bundled(&toml, &files).await;
    b.fails_with(
        "check what the server at https://127.0.0.1:",
        &["answered HTTP 400", &key("tls.client_cert_path")],
    )
    .await;
    let log = front().error_log();
    assert!(log.contains("client SSL certificate verify error"), "{log}");
    b.assert_no_secret_logged(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_key_is_named_by_its_source() {
    let port = front().api_key_port();
    let wrong = unique("wrong-key");
    let toml = profile(
        port,
        &format!("api_key = \"{wrong}\""),
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", front().certs().ca_pem())]).await;
    b.fails_with(
        "check the API key set by",
        &[&key("api_key"), "the server refused it", "403 Forbidden"],
    )
    .await;
    let served = front().served(port);
    assert!(
        served
            .iter()
            .any(|(status, path)| *status == 403 && path.ends_with("/GetSystemInfo")),
        "{served:?}"
    );
    b.assert_no_secret_logged(&[&wrong]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_api_key_where_one_is_required_says_to_set_one() {
    let port = front().api_key_port();
    let toml = profile(
        port,
        "",
        &format!("server_ca_cert_path = \"ca.pem\"\nserver_name = \"{SERVER_NAME}\""),
    );
    let b = bundled(&toml, &[("ca.pem", front().certs().ca_pem())]).await;
    b.fails_with(
        "set an API key (TEMPORAL_API_KEY, or api_key in temporal.toml)",
        &["403"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_against_a_plaintext_port_says_to_turn_tls_off() {
    // The dev server itself speaks plaintext.
    let plain = front().upstream().to_owned();
    let toml = format!(
        "[profile.default]\naddress = \"{plain}\"\n\n[profile.default.tls]\nserver_name = \
         \"{SERVER_NAME}\"\n"
    );
    let b = bundled(&toml, &[]).await;
    b.fails_with(
        "turn TLS off, or use the server's TLS port",
        &["speaks plaintext", &key("tls.server_name")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_against_a_tls_port_says_to_turn_tls_on() {
    let port = front().tls_port();
    let toml = format!("[profile.default]\naddress = \"127.0.0.1:{port}\"\n");
    let b = bundled(&toml, &[]).await;
    b.fails_with("turn TLS on", &["as a server that expects TLS does"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_says_to_check_the_address_and_its_source() {
    let port = lw_testkit::free_port().expect("a free port");
    let toml = format!("[profile.default]\naddress = \"127.0.0.1:{port}\"\n");
    let b = bundled(&toml, &[]).await;
    b.fails_with(
        "check the address (",
        &[&key("address"), "nothing accepts connections"],
    )
    .await;
}
