//! `package` cross-built with cargo-zigbuild, and the cross-builds this host cannot do.

use crate::{
    common::{self, target_dir},
    support::{NAME, modes, new_project, ok, runs_under_the_emulator, subcommand},
};

/// `package` on a new project cross-built with cargo-zigbuild for x86_64, glibc 2.34
/// (`--compiler zig`: the path a macOS or arm64 laptop takes; the native release build is the
/// quick start's, [`crate::quickstart`]): laid out as Lambda wants it, the same bytes when
/// packaged again, a `bootstrap` that `package` checked to be an x86_64 ELF executable needing
/// glibc 2.34 at most, which the Runtime API emulator runs. A dev build, in the shared target
/// folder (the cross build's own artifacts land in `x86_64-unknown-linux-gnu/`).
#[test]
fn package_cross_builds_with_zig_a_zip_lambda_runs() {
    common::yield_cpu();
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = new_project(parent.path());
    let manifest = dir.join("Cargo.toml");
    let include = dir.join("temporal.toml");
    let package = || {
        subcommand(
            parent.path(),
            &[
                "package",
                "--manifest-path",
                manifest.to_str().expect("utf-8"),
                "--include",
                include.to_str().expect("utf-8"),
                "--profile",
                "dev",
                "--compiler",
                "zig",
            ],
        )
    };
    let out = ok(package(), "package");
    let target = target_dir();
    let zip = target.join("lambda").join(NAME).join("bootstrap.zip");
    assert!(
        out.contains("for x86_64 (glibc 2.34 or older) with cargo-zigbuild"),
        "{out}"
    );
    assert!(
        target
            .join("x86_64-unknown-linux-gnu/debug")
            .join(NAME)
            .is_file(),
        "not cross-built:\n{out}"
    );
    assert!(out.contains("(glibc 2.3"), "{out}");
    let first = std::fs::read(&zip).expect("zip");
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
    runs_under_the_emulator(unpacked.path(), "Hello, Zip!");
}

/// Cross-builds this host cannot do stop before building and say what to install or use:
/// `--compiler cargo` for arm64 on an x86_64 host names the host; arm64 through
/// cargo-zigbuild without arm64's standard library names the `rustup` command.
#[cfg(target_arch = "x86_64")]
#[test]
fn cross_builds_this_host_cannot_do_say_what_to_install() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = new_project(parent.path());
    let manifest = dir.join("Cargo.toml");
    let refused = |extra: &[&str]| {
        let mut args = vec![
            "package",
            "--manifest-path",
            manifest.to_str().expect("utf-8"),
        ];
        args.extend(extra);
        let out = subcommand(parent.path(), &args).output().expect("package");
        assert!(!out.status.success(), "{extra:?} packaged");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = refused(&["--target", "arm64", "--compiler", "cargo"]);
    assert!(
        e.contains("use --compiler zig (or auto): a plain cargo build on this linux x86_64 host"),
        "{e}"
    );
    let e = refused(&["--target", "arm64", "--glibc", "2.40"]);
    assert!(e.contains("write --glibc as 2.26"), "{e}");
    let aarch64_std = std::process::Command::new("rustc")
        .args([
            "--print",
            "target-libdir",
            "--target",
            "aarch64-unknown-linux-gnu",
        ])
        .output()
        .ok()
        .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|d| {
            d.join("..").exists() && std::fs::read_dir(&d).is_ok_and(|mut e| e.next().is_some())
        });
    if aarch64_std {
        eprintln!("arm64's standard library is installed here: the rustup hint is not reachable");
        return;
    }
    let e = refused(&["--target", "arm64"]);
    assert!(
        e.contains("run `rustup target add aarch64-unknown-linux-gnu`"),
        "{e}"
    );
}
