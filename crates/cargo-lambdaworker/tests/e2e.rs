//! `cargo lambdaworker` as a user runs it, on a project outside this workspace: `new`, the
//! project's own test, `dev --watch` (a workflow completes through the Worker Controller, an
//! edit becomes a new current version, Ctrl-C prints the accounting and leaves no process
//! behind), and `package` (a zip the Runtime API emulator runs).
//!
//! The new project depends on `lambdaworker` by version, patched to this workspace, with the
//! workspace's Cargo.lock and target directory, so the dependencies are built once (the
//! release build of `package` has a target folder of its own: see its test).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

mod common;
use common::{target_dir, workspace};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-lambdaworker");
const NAME: &str = "e2e-worker";

/// `cargo lambdaworker <args>` in `dir`, as cargo runs a subcommand.
fn subcommand(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("lambdaworker")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

fn ok(mut cmd: Command, what: &str) -> String {
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
fn new_project(parent: &Path) -> PathBuf {
    let out = ok(subcommand(parent, &["new", NAME]), "new");
    assert!(out.contains("cargo lambdaworker dev"), "{out}");
    let dir = parent.join(NAME);
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
    dir
}

/// The output lines of a running process, collected as they come.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn follow(&self, pipe: impl std::io::Read + Send + 'static) {
        let lines = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
    }

    fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits for a line containing `needle`; returns it.
    fn wait_for(&self, needle: &str, limit: Duration) -> String {
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

fn temporal(address: &str, args: &[&str]) -> Command {
    let cli = std::env::var_os("TEMPORAL_CLI").unwrap_or_else(|| "temporal".into());
    let mut cmd = Command::new(cli);
    cmd.args(args).args(["--address", address]);
    cmd
}

/// Starts a Greeting workflow and waits for its result.
fn greet(address: &str, id: &str) -> String {
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
fn descendants(pid: u32) -> Vec<u32> {
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

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

struct Running {
    child: Child,
    out: Lines,
    err: Lines,
}

fn start_dev(dir: &Path) -> Running {
    let mut child = subcommand(dir, &["dev", "--watch", "--timeout", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dev");
    let (out, err) = (Lines::default(), Lines::default());
    out.follow(child.stdout.take().expect("stdout"));
    err.follow(child.stderr.take().expect("stderr"));
    Running { child, out, err }
}

#[test]
fn new_and_dev_watch_as_a_user_runs_them() {
    common::yield_cpu();
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = new_project(parent.path());
    // The starter project builds and passes its own test.
    let mut test = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    test.arg("test")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target_dir());
    let out = ok(test, "cargo test in the new project");
    assert!(out.contains("greets_by_name ... ok"), "{out}");

    let mut dev = start_dev(&dir);
    let line = dev
        .out
        .wait_for("Temporal dev server at ", Duration::from_secs(600));
    let address = line
        .split_whitespace()
        .nth(4)
        .expect("the address")
        .to_owned();
    let first = greet(&address, "e2e-1");
    assert!(first.contains("Hello, World!"), "{first}");
    dev.out.wait_for(
        &format!("invocation {NAME}:1 cold"),
        Duration::from_secs(60),
    );

    // --watch: an edit is rebuilt and becomes the current version.
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).expect("lib.rs");
    std::fs::write(&lib, text.replace("Hello, {name}!", "Howdy, {name}!")).expect("edit");
    dev.err
        .wait_for(&format!("version {NAME}/build-2"), Duration::from_secs(600));
    let second = greet(&address, "e2e-2");
    assert!(second.contains("Howdy, World!"), "{second}");

    // Ctrl-C: the accounting, and nothing left running.
    let pid = dev.child.id();
    let children = descendants(pid);
    assert!(!children.is_empty(), "dev started no process?");
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = dev.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < until,
            "dev did not stop:\n{}",
            dev.err.all()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}\n{}", dev.err.all());
    dev.out.wait_for("invocations", Duration::from_secs(5));
    let report = dev.out.all();
    assert!(
        report.contains(&format!("{NAME}:1")) && report.contains(&format!("{NAME}:2")),
        "{report}"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while children.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < until,
            "left running: {:?}",
            children.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `package` on a new project: the release build (the template's LTO profile) within the
/// 8 MiB budget, laid out as Lambda wants it, the same bytes when packaged again, a zip the
/// Runtime API emulator runs. The suite's one LTO build (`cargo xtask package`'s test packages
/// a dev build); it builds in a target folder of its own, so it runs beside the dev builds of
/// the other tests instead of after them (cargo holds a target folder for a whole build), and
/// the folder goes once the zip is checked.
#[test]
fn package_makes_a_zip_lambda_runs_within_the_size_budget() {
    common::yield_cpu();
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = new_project(parent.path());
    let target = target_dir().join("package-test");
    let manifest = dir.join("Cargo.toml");
    let include = dir.join("temporal.toml");
    let package = || {
        let mut cmd = subcommand(
            parent.path(),
            &[
                "package",
                "--manifest-path",
                manifest.to_str().expect("utf-8"),
                "--include",
                include.to_str().expect("utf-8"),
                "--max-size",
                "8",
            ],
        );
        cmd.env("CARGO_TARGET_DIR", &target);
        cmd
    };
    let out = ok(package(), "package");
    let zip = target.join("lambda").join(NAME).join("bootstrap.zip");
    assert!(out.contains("bootstrap.zip"), "{out}");
    let first = std::fs::read(&zip).expect("zip");
    assert!(first.len() <= 8 * 1024 * 1024, "{} bytes", first.len());
    assert_eq!(
        modes(&first),
        [
            ("bootstrap".to_owned(), Some(0o100755)),
            ("temporal.toml".to_owned(), Some(0o100644)),
        ]
    );
    ok(package(), "package again");
    assert_eq!(
        std::fs::read(&zip).expect("zip"),
        first,
        "zip bytes differ when packaged again"
    );
    let unpacked = tempfile::tempdir().expect("temp dir");
    let file = std::fs::File::open(&zip).expect("zip");
    zip::ZipArchive::new(file)
        .expect("a zip")
        .extract(unpacked.path())
        .expect("extract");
    let _ = std::fs::remove_dir_all(&target);
    runs_under_the_emulator(unpacked.path(), "Hello, Zip!");
}

/// Each entry of `zip` with its Unix mode.
fn modes(zip: &[u8]) -> Vec<(String, Option<u32>)> {
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
fn runs_under_the_emulator(unpacked: &Path, expected: &str) {
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
