//! The TLS front fixture itself: nginx starts on three ports with the generated
//! certificates, refuses unsafe configuration values, and is gone once dropped.

use std::{net::TcpStream, time::Duration};

use lw_testkit::{TestCerts, TlsFront};

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn starts_on_three_ports_and_is_gone_after_drop() {
    // Nothing listens upstream: the front only has to start.
    let upstream = format!("127.0.0.1:{}", lw_testkit::free_port().unwrap());
    let front = TlsFront::start(&upstream, "k3y-for-this-test").expect("nginx");
    let pid = front.pid();
    for port in [front.tls_port(), front.mtls_port(), front.api_key_port()] {
        TcpStream::connect(("127.0.0.1", port)).expect("accepting");
    }
    let certs = front.certs();
    for path in [
        certs.ca_path(),
        certs.server_cert_path(),
        certs.server_key_path(),
        certs.client_cert_path(),
        certs.client_key_path(),
        certs.other_ca_path(),
        certs.other_client_cert_path(),
        certs.other_client_key_path(),
    ] {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN"), "{}", path.display());
    }
    assert_eq!(
        std::fs::read_to_string(certs.ca_path()).unwrap(),
        certs.ca_pem()
    );
    assert_ne!(certs.ca_pem(), certs.other_ca_pem());
    assert!(certs.client_key_pem().contains("PRIVATE KEY"));
    assert!(!TestCerts::pem_body_lines(certs.client_key_pem()).is_empty());
    let log = front.error_log();
    for level in ["[warn]", "[error]", "[crit]", "[alert]", "[emerg]"] {
        assert!(!log.contains(level), "{log}");
    }
    assert!(alive(pid));
    let ports = [front.tls_port(), front.mtls_port(), front.api_key_port()];
    drop(front);
    assert!(!alive(pid), "nginx {pid} outlived its fixture");
    for port in ports {
        assert!(
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
                .is_err(),
            "port {port} still open"
        );
    }
}

#[test]
fn refuses_values_that_would_break_the_config() {
    for (upstream, key) in [
        ("127.0.0.1:1", "a key"),
        ("127.0.0.1:1", "k\"; return 200; #"),
        ("127.0.0.1:1", "$http_host"),
        ("127.0.0.1:1; x", "key"),
        ("", "key"),
    ] {
        let err = TlsFront::start(upstream, key).expect_err("refused");
        assert!(err.to_string().contains("TlsFront:"), "{err}");
    }
}
