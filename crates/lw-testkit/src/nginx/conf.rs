//! nginx.conf for a [`super::TlsFront`]: one foreground process with its files in a
//! temporary folder, and three TLS servers (plain TLS, mTLS, API key) passing gRPC to the
//! dev server; and the checks on what goes into it.

use std::{
    fmt::Write as _,
    path::Path,
    process::{Command, Stdio},
};

use crate::{TestCerts, TestkitError};

/// Whether this nginx wants `http2 on;` (1.25.1 and later) rather than `listen ... http2`.
pub(super) fn has_http2_directive(nginx: &Path) -> Result<bool, TestkitError> {
    let out = Command::new(nginx)
        .arg("-v")
        .stdin(Stdio::null())
        .output()?;
    // `nginx version: nginx/1.22.1` (on stderr).
    let text = String::from_utf8_lossy(&out.stderr);
    let version: Vec<u32> = text
        .split('/')
        .nth(1)
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    Ok(version >= vec![1, 25, 1])
}

/// The ports of one front.
pub(super) struct Ports {
    pub(super) tls: u16,
    pub(super) mtls: u16,
    pub(super) api_key: u16,
}

/// A value written into nginx.conf inside double quotes: nothing that could end the string,
/// the directive or start a variable.
pub(super) fn check_conf_value(what: &str, value: &str) -> Result<(), TestkitError> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || "\"'\\;{}$#".contains(c);
    if value.is_empty() || value.contains(bad) {
        return Err(TestkitError::Command(format!(
            "TlsFront: the {what} must be non-empty, without whitespace, quotes, `;`, `{{}}`, \
             `$` or `#`"
        )));
    }
    Ok(())
}

fn quoted(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

/// The whole nginx.conf.
pub(super) fn config(
    dir: &Path,
    certs: &TestCerts,
    upstream: &str,
    api_key: &str,
    ports: &Ports,
    http2_directive: bool,
) -> String {
    let mut c = globals(dir);
    c.push_str("http {\n");
    c.push_str(&http_settings(dir, certs, upstream));
    c.push_str(&servers(certs, api_key, ports, http2_directive));
    c.push_str("}\n");
    c
}

/// One process, in the foreground, with every file it writes in `dir`.
fn globals(dir: &Path) -> String {
    let d = |name: &str| quoted(&dir.join(name));
    // Single-process mode: no worker can outlive the process the front kills.
    let mut c = String::from("daemon off;\nmaster_process off;\nworker_processes 1;\n");
    // `user` only matters with worker processes; as root nginx would otherwise hand them to
    // `nobody`, who cannot read the temporary folder.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        c.push_str("user root;\n");
    }
    let _ = writeln!(c, "pid {};\nlock_file {};", d("nginx.pid"), d("nginx.lock"));
    let _ = writeln!(c, "error_log {} info;", d("error.log"));
    c.push_str("events { worker_connections 1024; }\n");
    c
}

/// Logs and temporary paths in `dir`, timeouts long polls fit in, the server certificate and
/// the upstream.
fn http_settings(dir: &Path, certs: &TestCerts, upstream: &str) -> String {
    let d = |name: &str| quoted(&dir.join(name));
    // One line per finished request: the port, the HTTP status and the gRPC method path.
    let mut c = String::from("  log_format lw '$server_port $status $request_uri';\n");
    let _ = writeln!(c, "  access_log {} lw;", d("access.log"));
    for (directive, sub) in [
        ("client_body_temp_path", "client_body"),
        ("proxy_temp_path", "proxy"),
        ("fastcgi_temp_path", "fastcgi"),
        ("uwsgi_temp_path", "uwsgi"),
        ("scgi_temp_path", "scgi"),
    ] {
        let _ = writeln!(c, "  {directive} {};", d(sub));
    }
    // Long polls last about 70 s; nothing here may cut them (or a worker's connection).
    c.push_str(
        "  client_max_body_size 0;\n  client_body_timeout 300s;\n  \
         client_header_timeout 300s;\n  keepalive_timeout 600s;\n  \
         keepalive_requests 1000000;\n  grpc_read_timeout 300s;\n  grpc_send_timeout 300s;\n",
    );
    let _ = writeln!(
        c,
        "  ssl_certificate {};\n  ssl_certificate_key {};",
        quoted(&certs.server_cert_path()),
        quoted(&certs.server_key_path())
    );
    let _ = writeln!(
        c,
        "  upstream temporal {{ server {upstream}; keepalive 16; }}"
    );
    c
}

/// The three TLS servers: plain TLS, mTLS, and TLS with the API key checked.
fn servers(certs: &TestCerts, api_key: &str, ports: &Ports, http2_directive: bool) -> String {
    let listen = |port: u16| {
        if http2_directive {
            format!("listen 127.0.0.1:{port} ssl; http2 on;")
        } else {
            format!("listen 127.0.0.1:{port} ssl http2;")
        }
    };
    let pass = "grpc_pass grpc://temporal;";
    let mut c = String::new();
    let _ = writeln!(
        c,
        "  server {{ {} location / {{ {pass} }} }}",
        listen(ports.tls)
    );
    let _ = writeln!(
        c,
        "  server {{ {} ssl_verify_client on; ssl_client_certificate {}; \
         location / {{ {pass} }} }}",
        listen(ports.mtls),
        quoted(&certs.ca_path())
    );
    let _ = writeln!(
        c,
        "  server {{ {} location / {{ if ($http_authorization != \"Bearer {api_key}\") \
         {{ return 403; }} {pass} }} }}",
        listen(ports.api_key)
    );
    c
}
