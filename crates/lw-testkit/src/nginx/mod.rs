//! A real TLS front for the dev server: nginx (Debian's `nginx-light`) terminating TLS and
//! passing gRPC on to the dev server's plaintext frontend. This file starts, watches and
//! stops nginx; `conf` writes its configuration.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{DevServer, TestCerts, TestkitError, free_port, unique};

mod conf;

use conf::{Ports, check_conf_value, config, has_http2_directive};

/// nginx in front of a dev server on three loopback TLS ports, all with the
/// [`TestCerts`] server certificate (SAN `DNS:temporal.test` only, so clients dialling
/// `127.0.0.1` set their server name to [`crate::SERVER_NAME`]):
///
/// | port | requires |
/// |---|---|
/// | [`TlsFront::tls_port`] | nothing beyond TLS |
/// | [`TlsFront::mtls_port`] | a client certificate signed by the CA ([`TestCerts::client_cert_path`]); without one, or with another CA's, nginx answers HTTP 400 |
/// | [`TlsFront::api_key_port`] | `authorization: Bearer <api_key>`; otherwise nginx answers a plain HTTP 403 (no gRPC status), as a misconfigured proxy would |
///
/// nginx runs as one process (`master_process off`, so no worker outlives it) in its own
/// process group, with its configuration, logs, pid and temporary files in a temporary
/// folder. It is killed on drop and, being spawned tied to this process, when the test
/// process exits.
#[derive(Debug)]
pub struct TlsFront {
    upstream: String,
    api_key: String,
    tls_port: u16,
    mtls_port: u16,
    api_key_port: u16,
    pid: u32,
    stopped: AtomicBool,
    certs: TestCerts,
    dir: tempfile::TempDir,
}

static SHARED: OnceLock<Result<TlsFront, String>> = OnceLock::new();

/// The first nginx program of `$LW_NGINX`, PATH and `/usr/sbin` (not on a non-root user's
/// PATH).
pub fn find_nginx() -> Result<PathBuf, TestkitError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::var_os("LW_NGINX")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|d| d.join("nginx")))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file())
        .ok_or(TestkitError::NoNginx)
}

/// Reaps `pid` if it has exited; true when it is gone.
fn reaped(pid: u32) -> bool {
    let mut status = 0;
    // SAFETY: waiting, without blocking, on a child this fixture started.
    let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
    r == pid as libc::pid_t || r == -1
}

impl TlsFront {
    /// The one front of this test process, in front of [`DevServer::shared`], with a random
    /// API key; started on first use. nginx is killed and its files removed when the process
    /// exits.
    pub fn shared() -> Result<&'static TlsFront, TestkitError> {
        SHARED
            .get_or_init(|| {
                let server = DevServer::shared().map_err(|e| e.to_string())?;
                let front = Self::start(&server.address, &unique("lw-test-api-key"))
                    .map_err(|e| e.to_string())?;
                // SAFETY: registering a plain `extern "C" fn` once.
                unsafe { libc::atexit(remove_shared) };
                Ok(front)
            })
            .as_ref()
            .map_err(|e| TestkitError::Command(e.clone()))
    }

    /// Starts nginx in front of `upstream` (`host:port` of a dev server's gRPC frontend) with
    /// fresh [`TestCerts`], and waits until its three ports accept connections. Requests to
    /// [`TlsFront::api_key_port`] must carry `authorization: Bearer <api_key>`.
    pub fn start(upstream: &str, api_key: &str) -> Result<TlsFront, TestkitError> {
        check_conf_value("upstream", upstream)?;
        check_conf_value("API key", api_key)?;
        let nginx = find_nginx()?;
        let http2_directive = has_http2_directive(&nginx)?;
        // A port found free can be taken before nginx binds it: then try new ones.
        let mut attempts = 3;
        loop {
            attempts -= 1;
            match Self::launch(&nginx, http2_directive, upstream, api_key) {
                Err(e) if attempts > 0 && e.to_string().contains("Address already in use") => {}
                result => return result,
            }
        }
    }

    fn launch(
        nginx: &Path,
        http2_directive: bool,
        upstream: &str,
        api_key: &str,
    ) -> Result<TlsFront, TestkitError> {
        let certs = TestCerts::generate()?;
        let dir = tempfile::Builder::new().prefix("lw-nginx-").tempdir()?;
        let ports = Ports {
            tls: free_port()?,
            mtls: free_port()?,
            api_key: free_port()?,
        };
        let conf = dir.path().join("nginx.conf");
        let text = config(
            dir.path(),
            &certs,
            upstream,
            api_key,
            &ports,
            http2_directive,
        );
        std::fs::write(&conf, text)?;
        let pid = spawn(nginx, dir.path(), &conf)?;
        let front = TlsFront {
            upstream: upstream.to_owned(),
            api_key: api_key.to_owned(),
            tls_port: ports.tls,
            mtls_port: ports.mtls,
            api_key_port: ports.api_key,
            pid,
            stopped: AtomicBool::new(false),
            certs,
            dir,
        };
        front.wait_ready(Duration::from_secs(20))?;
        Ok(front)
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), TestkitError> {
        let until = Instant::now() + limit;
        for port in [self.tls_port, self.mtls_port, self.api_key_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if reaped(self.pid) {
                    return Err(TestkitError::Command(format!(
                        "nginx exited at start: {}",
                        self.error_log()
                    )));
                }
                if Instant::now() > until {
                    return Err(TestkitError::Timeout(format!(
                        "nginx not accepting connections on 127.0.0.1:{port} after {limit:?}: {}",
                        self.error_log()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// TLS only (server certificate of [`TestCerts`]).
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }

    /// TLS with a client certificate required (`ssl_verify_client on`, trusting the CA of
    /// [`TestCerts`]).
    pub fn mtls_port(&self) -> u16 {
        self.mtls_port
    }

    /// TLS; every request must carry `authorization: Bearer <api_key>` or gets HTTP 403.
    pub fn api_key_port(&self) -> u16 {
        self.api_key_port
    }

    /// `127.0.0.1:<port>`, for a `temporal.toml` `address`.
    pub fn address(&self, port: u16) -> String {
        format!("127.0.0.1:{port}")
    }

    /// The API key [`TlsFront::api_key_port`] accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The certificates: the server's, the CA that signed it and the client certificate, and
    /// an unrelated CA with its own client certificate.
    pub fn certs(&self) -> &TestCerts {
        &self.certs
    }

    /// The `host:port` nginx passes gRPC to.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// nginx's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// nginx's error log so far (startup problems, rejected client certificates).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The requests `port` has finished so far (a long poll shows up when it returns), as
    /// `(HTTP status, path)`; the path of a gRPC call is its method,
    /// `/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue`; a poll cut short
    /// by the client shows up as 499.
    pub fn served(&self, port: u16) -> Vec<(u16, String)> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ' ');
                let p: u16 = parts.next()?.parse().ok()?;
                let status: u16 = parts.next()?.parse().ok()?;
                (p == port).then(|| (status, parts.next().unwrap_or_default().to_owned()))
            })
            .collect()
    }

    /// Kills nginx (its whole process group) and reaps it.
    pub fn stop(&self) {
        // Once only: a reaped pid may be reused, and -pid would then be someone else's group.
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let pid = self.pid as libc::pid_t;
        // SAFETY: signalling the process group of the child this fixture started (its own
        // group, created at spawn).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let until = Instant::now() + Duration::from_secs(5);
        while !reaped(self.pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The shared front's cleanup at exit (statics are never dropped): nginx killed, its folder
/// and the certificates removed.
extern "C" fn remove_shared() {
    if let Some(Ok(front)) = SHARED.get() {
        front.stop();
        let _ = std::fs::remove_dir_all(front.dir.path());
        let _ = std::fs::remove_dir_all(front.certs.dir());
    }
}

/// nginx with `dir` as its prefix, in a process group of its own, its output in
/// `dir/nginx.out` (never a pipe a test runner waits on).
fn spawn(nginx: &Path, dir: &Path, conf: &Path) -> Result<u32, TestkitError> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(dir.join("nginx.out"))?;
    let mut cmd = Command::new(nginx);
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0);
    Ok(lw_local::process::spawn_tied(cmd)?)
}
