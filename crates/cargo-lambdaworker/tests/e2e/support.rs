//! What the tests share: running the subcommand, a new project, following a process's
//! output, the Temporal CLI, process trees, and serving a packaged zip under the emulator.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::common::{target_dir, workspace};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_cargo-lambdaworker");
pub(crate) const NAME: &str = "e2e-worker";

/// `cargo lambdaworker <args>` in `dir`, as cargo runs a subcommand.
pub(crate) fn subcommand(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("lambdaworker")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

pub(crate) fn ok(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// `new`, pointed at this workspace.
pub(crate) fn new_project(parent: &Path) -> PathBuf {
    let out = ok(subcommand(parent, &["new", NAME]), "new");
    assert!(out.contains("cargo lambdaworker dev"), "{out}");
    let dir = parent.join(NAME);
    patch_to_workspace(&dir);
    dir
}

/// Points a new project's `lambdaworker` (by version, not yet on a registry this machine
/// reaches) at this workspace, with the workspace's Cargo.lock, and builds its dev profile
/// without debug info (as the workspace's dependencies are built).
pub(crate) fn patch_to_workspace(dir: &Path) {
    let manifest = dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
    assert!(text.contains("lambdaworker = \"0."), "by version: {text}");
    text.push_str(&format!(
        "\n[workspace]\n\n[patch.crates-io]\nlambdaworker = {{ path = {:?} }}\n\n\
         [profile.dev]\ndebug = false\n",
        workspace().join("crates/lambdaworker")
    ));
    std::fs::write(&manifest, text).expect("patch");
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock");
}

/// The output lines of a running process, collected as they come.
#[derive(Clone, Default)]
pub(crate) struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    pub(crate) fn follow(&self, pipe: impl std::io::Read + Send + 'static) {
        let lines = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
    }

    pub(crate) fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits for a line containing `needle`; returns it.
    pub(crate) fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let until = Instant::now() + limit;
        loop {
            if let Some(l) = self.0.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            assert!(
                Instant::now() < until,
                "no line with `{needle}` within {limit:?}:\n{}",
                self.all()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub(crate) fn temporal(address: &str, args: &[&str]) -> Command {
    let cli = std::env::var_os("TEMPORAL_CLI").unwrap_or_else(|| "temporal".into());
    let mut cmd = Command::new(cli);
    cmd.args(args).args(["--address", address]);
    cmd
}

/// Starts a Greeting workflow and waits for its result.
pub(crate) fn greet(address: &str, id: &str) -> String {
    let input = "\"World\"";
    ok(
        temporal(
            address,
            &[
                "workflow",
                "start",
                "--task-queue",
                NAME,
                "--type",
                "Greeting",
                "--workflow-id",
                id,
                "--input",
                input,
            ],
        ),
        "temporal workflow start",
    );
    ok(
        temporal(
            address,
            &[
                "workflow",
                "result",
                "--workflow-id",
                id,
                "--output",
                "json",
                // A deadline: a controller that never invokes fails the test, not CI.
                "--command-timeout",
                "180s",
            ],
        ),
        "temporal workflow result",
    )
}

/// Every live process whose parent chain includes `pid`.
pub(crate) fn descendants(pid: u32) -> Vec<u32> {
    let parent_of = |p: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        after.split_whitespace().nth(1)?.parse().ok()
    };
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    all.into_iter()
        .filter(|p| {
            let mut cur = *p;
            for _ in 0..32 {
                match parent_of(cur) {
                    Some(pp) if pp == pid => return true,
                    Some(pp) if pp > 1 => cur = pp,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// A process the test started, its output followed.
pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) out: Lines,
    pub(crate) err: Lines,
}

impl Running {
    /// Starts `cmd` with its output piped and followed.
    pub(crate) fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (out, err) = (Lines::default(), Lines::default());
        out.follow(child.stdout.take().expect("stdout"));
        err.follow(child.stderr.take().expect("stderr"));
        Running { child, out, err }
    }

    /// Ctrl-C, as a user stops `dev`; waits (with a deadline) for it to exit.
    pub(crate) fn interrupt(&mut self) -> std::process::ExitStatus {
        // SAFETY: signalling the child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < until,
                "did not stop on Ctrl-C:\n{}",
                self.err.all()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The address in `dev`'s `Temporal dev server at <address> ...` line, once printed.
pub(crate) fn dev_address(dev: &Running) -> String {
    let line = dev
        .out
        .wait_for("Temporal dev server at ", Duration::from_secs(600));
    line.split_whitespace()
        .nth(4)
        .expect("the address")
        .to_owned()
}

/// `dev --watch` with a 10 s function timeout, in `dir`.
pub(crate) fn start_dev(dir: &Path) -> Running {
    Running::spawn(subcommand(dir, &["dev", "--watch", "--timeout", "10"]))
}

/// Each entry of `zip` with its Unix mode.
pub(crate) fn modes(zip: &[u8]) -> Vec<(String, Option<u32>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    (0..z.len())
        .map(|i| {
            let f = z.by_index(i).expect("entry");
            (f.name().expect("a UTF-8 name").into_owned(), f.unix_mode())
        })
        .collect()
}

/// Serves one workflow with the unpacked zip's bootstrap under the Runtime API emulator;
/// its result must be `expected`.
pub(crate) fn runs_under_the_emulator(unpacked: &Path, expected: &str) {
    let bootstrap = unpacked.join("bootstrap");
    assert!(unpacked.join("temporal.toml").is_file());
    let server = lw_testkit::DevServer::shared().expect("dev server");
    let deployment = lw_testkit::unique("packaged");
    server
        .set_current_version(&deployment, "zip")
        .expect("current version");
    let task_queue = lw_testkit::unique("tq");
    let spec = lw_testkit::FunctionSpec::new(&bootstrap, NAME)
        .timeout(Duration::from_secs(10))
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", "zip");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let function = lw_testkit::LocalFunction::new(spec)
            .await
            .expect("emulator");
        let id = lw_testkit::unique("wf");
        server
            .start_workflow(&task_queue, "Greeting", &id, &serde_json::json!("Zip"))
            .expect("start");
        // Each invocation polls for about 3 s (10 s timeout, 7 s shutdown buffer).
        let until = Instant::now() + Duration::from_secs(60);
        let result = loop {
            let r = function
                .invoke(serde_json::json!({}))
                .await
                .expect("invoke");
            assert!(
                r.response().is_some(),
                "{:?}\n{}",
                r.outcome,
                function.logs()
            );
            if let Some(v) = server.result(&id).expect("history") {
                break v;
            }
            assert!(Instant::now() < until, "no result:\n{}", function.logs());
        };
        assert_eq!(result, serde_json::json!(expected));
    });
}
