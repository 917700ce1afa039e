//! The publish check: every crate meant for crates.io packaged as `cargo publish` would upload
//! it, then the packages, unpacked, checked together as a user's build would see them.
//!
//! `cargo publish --workspace --dry-run` does the same with a full build of each package on its
//! own: seven dependency trees, each with its own features, about six minutes and 3 GB on this
//! 2-core machine. Here the packages are made by cargo (`cargo package --no-verify`: the file
//! list, the normalized manifests, the lock files) and compiled with `cargo check` in the
//! gates' folder, where clippy has already checked the dependencies: a file missing from a
//! package, a path-only dependency or a manifest that only works inside the workspace fails
//! here as it would on crates.io, in about a minute.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{cargo, run, workspace_root};

/// The crates published to crates.io, in dependency order.
pub(crate) const PUBLISHED: &[&str] = &[
    "lw-config",
    "lw-options",
    "lw-runtime",
    "lw-otel",
    "lambdaworker",
    "lw-local",
    "cargo-lambdaworker",
];

/// Packages every published crate, unpacks the packages into `gates/packaged` and checks them
/// there (libraries and binaries, default features), with the dependencies of the workspace's
/// lock file.
pub(crate) fn check_packages(target: &Path, gates: &Path) -> Result<(), String> {
    let packages = target.join("package");
    let _ = std::fs::remove_dir_all(&packages);
    let mut package = cargo();
    package.args(["package", "--no-verify", "--allow-dirty"]);
    for name in PUBLISHED {
        package.args(["-p", name]);
    }
    run("cargo package --no-verify (the published crates)", package)?;
    let dir = gates.join("packaged");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut unpacked = Vec::new();
    for name in PUBLISHED {
        let file = crate_file(&packages, name)?;
        unpack(&file, &dir)?;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        unpacked.push((*name, stem));
    }
    std::fs::write(dir.join("Cargo.toml"), manifest(&unpacked))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let lock = workspace_root().join("Cargo.lock");
    std::fs::copy(&lock, dir.join("Cargo.lock")).map_err(|e| format!("{}: {e}", lock.display()))?;
    let mut check = cargo();
    check
        .args(["check", "--workspace", "--lib", "--bins", "--offline"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", gates);
    run("cargo check of the packaged crates", check)
}

/// Unpacks a `.crate` (a gzipped tar) into `dir`.
fn unpack(file: &Path, dir: &Path) -> Result<(), String> {
    let status = Command::new("tar")
        .arg("xzf")
        .arg(file)
        .arg("-C")
        .arg(dir)
        .status()
        .map_err(|e| format!("tar (to unpack {}): {e}", file.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("could not unpack {} ({status})", file.display()))
    }
}

/// `target/package/<name>-<version>.crate`.
fn crate_file(packages: &Path, name: &str) -> Result<PathBuf, String> {
    let prefix = format!("{name}-");
    std::fs::read_dir(packages)
        .map_err(|e| format!("{}: {e}", packages.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".crate"))
                .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        })
        .ok_or(format!(
            "cargo package wrote no {name}-<version>.crate in {}",
            packages.display()
        ))
}

/// A workspace of the unpacked packages, each dependency on another of them resolved to its
/// package (as crates.io would resolve it) instead of the source tree.
fn manifest(unpacked: &[(&str, String)]) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask test`: the packaged crates, checked together.\n\
         [workspace]\nresolver = \"3\"\nmembers = [\n",
    );
    for (_, folder) in unpacked {
        let _ = writeln!(text, "    {folder:?},");
    }
    text.push_str("]\n\n[patch.crates-io]\n");
    for (name, folder) in unpacked {
        let _ = writeln!(text, "{name} = {{ path = {folder:?} }}");
    }
    // The workspace's dev profile, so the dependencies clippy checked are reused.
    text.push_str("\n[profile.dev]\ndebug = false\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packages_are_members_and_patch_each_other() {
        let text = manifest(&[
            ("lw-config", "lw-config-0.1.0".into()),
            ("lambdaworker", "lambdaworker-0.1.0".into()),
        ]);
        let parsed: toml::Value = toml::from_str(&text).expect("valid TOML");
        assert_eq!(
            parsed["workspace"]["members"],
            toml::Value::Array(vec!["lw-config-0.1.0".into(), "lambdaworker-0.1.0".into()])
        );
        assert_eq!(
            parsed["patch"]["crates-io"]["lambdaworker"]["path"].as_str(),
            Some("lambdaworker-0.1.0")
        );
    }

    #[test]
    fn the_crate_file_is_found_by_name_and_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in [
            "lw-config-0.1.0.crate",
            "lw-config-extra-0.1.0.crate",
            "lw-otel-0.1.0.crate",
        ] {
            std::fs::write(dir.path().join(f), b"").expect("write");
        }
        let found = crate_file(dir.path(), "lw-config").expect("found");
        assert!(
            found.ends_with("lw-config-0.1.0.crate"),
            "{}",
            found.display()
        );
        let missing = crate_file(dir.path(), "lambdaworker").unwrap_err();
        assert!(
            missing.contains("no lambdaworker-<version>.crate"),
            "{missing}"
        );
    }
}
