//! `cargo lambdaworker package`: a deployable, reproducible Lambda zip in
//! `target/lambda/<name>/bootstrap.zip`, as cargo-lambda lays it out.
//!
//! `bootstrap` at the root (0755), included files (0644) at their archive paths, entries
//! sorted, timestamps fixed (1980-01-01), deflate: the same inputs give the same bytes
//! ([`archive`]). Before anything is written ([`checks`]): every path `temporal.toml`
//! references must be in the package (relative to `/var/task`), plain-text private keys
//! draw a warning, and the binary's glibc requirement must fit `provided.al2023` (glibc
//! 2.34).

pub mod archive;
pub mod checks;
pub mod include;
pub mod secrets;

use std::{ffi::OsString, path::PathBuf};

pub use archive::{Entries, collect, write_zip};
pub use checks::{MissingFile, check_config, glibc_requirement};
pub use include::{parse_include, parse_include_from};

use crate::{Error, Project, Selection};

/// The newest glibc `provided.al2023` has.
pub const AL2023_GLIBC: (u32, u32) = (2, 34);
/// Where Lambda unpacks the zip.
pub const TASK_ROOT: &str = "/var/task";

/// `package`'s flags: the project, and what to package.
#[derive(Debug, Clone, clap::Args)]
pub struct PackageArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// What to package.
    #[command(flatten)]
    pub request: Request,
}

impl PackageArgs {
    /// Parses `package`'s flags (`args` without the program's name) for another front end,
    /// such as this repository's `cargo xtask package`; `bin_name` is how usage lines name
    /// it. `--help` comes back as an error whose `use_stderr()` is false.
    pub fn try_parse_from<I, T>(bin_name: &str, args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        use clap::{Args, FromArgMatches};
        let command = clap::Command::new("package")
            .bin_name(bin_name.to_owned())
            .no_binary_name(true);
        let matches = Self::augment_args(command)
            .about("Build a deployable, reproducible target/lambda/<name>/bootstrap.zip")
            .try_get_matches_from(args)?;
        Self::from_arg_matches(&matches)
    }

    /// The command: the metadata's `include` list and the flags' (a flag naming the same
    /// archive path wins), then [`package`]. Returns the zip's path.
    pub fn run(self) -> Result<PathBuf, Error> {
        let project = Project::locate(&self.select)?;
        let mut request = self.request;
        request.includes = crate::deploy::settings::package_includes(&project, request.includes)?;
        package(&project, &request)
    }
}

/// What to package, besides the binary ([`Project`]): `package`'s own flags (each field's
/// doc is its `--help` line; `deploy` builds one from its settings).
#[derive(Debug, Clone, PartialEq, Default, clap::Args)]
pub struct Request {
    /// A file or folder to add: PATH or PATH=ARCHIVE_PATH (e.g. temporal.toml, certs=certs);
    /// added to `include` in [package.metadata.lambdaworker].
    #[arg(long = "include", value_name = "INCLUDE", value_parser = parse_include)]
    pub includes: Vec<(PathBuf, String)>,
    /// x86_64 or arm64 (arm64 builds with cargo-zigbuild).
    #[arg(long = "target", value_name = "TARGET", default_value = "x86_64")]
    pub arch: Arch,
    /// Fail when the zip is larger than this many MiB.
    #[arg(long = "max-size", value_name = "MAX_SIZE", value_parser = mib_to_bytes)]
    pub max_zip_bytes: Option<u64>,
    /// The cargo profile to build with (release by default).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profile: Option<String>,
}

impl Request {
    /// The profile's name and the folder cargo writes it to (`dev` → `debug`).
    fn profile(&self) -> (&str, &str) {
        match self.profile.as_deref() {
            None | Some("release") => ("release", "release"),
            Some("dev") | Some("debug") => ("dev", "debug"),
            Some(other) => (other, other),
        }
    }
}

/// `--max-size MiB` in bytes.
fn mib_to_bytes(value: &str) -> Result<u64, std::num::ParseFloatError> {
    Ok((value.parse::<f64>()? * 1024.0 * 1024.0) as u64)
}

/// The Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arch {
    /// x86_64 (built natively here).
    #[default]
    X86_64,
    /// arm64 / Graviton (needs cargo-zigbuild).
    Arm64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

impl std::str::FromStr for Arch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "x86_64" | "x86-64" | "amd64" => Ok(Arch::X86_64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            other => Err(Error::UnknownArch {
                value: other.to_owned(),
            }),
        }
    }
}

/// Builds the binary with the project's release profile (or the one asked for) and returns
/// its path.
pub fn build(project: &Project, req: &Request) -> Result<PathBuf, Error> {
    let mut cmd = crate::cargo();
    let (profile, folder) = req.profile();
    let triple = match req.arch {
        Arch::X86_64 => {
            cmd.args(["build", "--profile", profile]);
            None
        }
        Arch::Arm64 => {
            let zig = crate::cargo()
                .args(["zigbuild", "--version"])
                .output()
                .is_ok_and(|o| o.status.success());
            if !zig {
                return Err(Error::NoCrossLinker);
            }
            let triple = req.arch.triple();
            cmd.args(["zigbuild", "--profile", profile, "--target", triple]);
            Some(triple)
        }
    };
    cmd.arg("--manifest-path").arg(project.manifest());
    cmd.args(project.build_args());
    crate::progress(&format!(
        "building {} for {} with the {profile} profile",
        project.name,
        req.arch.triple()
    ));
    crate::run_build(cmd)?;
    Ok(project.binary(folder, triple))
}

/// The whole command: checks, build, zip, report. Returns the zip's path.
pub fn package(project: &Project, req: &Request) -> Result<PathBuf, Error> {
    // Check what can be checked before the (slow) build.
    let entries = collect(&req.includes)?;
    for w in check_config(&entries)? {
        crate::progress(&format!("warning: {w}"));
    }
    let binary = build(project, req)?;
    let bytes =
        std::fs::read(&binary).map_err(Error::io(&binary, "cannot read the built binary"))?;
    let glibc = glibc_requirement(&bytes);
    if let Some(needs) = glibc
        && needs > AL2023_GLIBC
    {
        return Err(Error::GlibcTooNew {
            binary,
            needs,
            has: AL2023_GLIBC,
            arch: req.arch,
        });
    }
    let zip = write_zip(&bytes, &entries)?;
    let out_dir = project.lambda_dir();
    std::fs::create_dir_all(&out_dir).map_err(Error::io(&out_dir, "cannot create the folder"))?;
    let out = out_dir.join("bootstrap.zip");
    std::fs::write(&out, &zip).map_err(Error::io(&out, "cannot write the zip"))?;
    let mib = |n: usize| n as f64 / 1024.0 / 1024.0;
    println!(
        "{}: bootstrap {:.2} MiB (glibc {}), zip {:.2} MiB, {} other file(s)",
        out.display(),
        mib(bytes.len()),
        glibc.map_or_else(|| "none".into(), |(a, b)| format!("{a}.{b}")),
        mib(zip.len()),
        entries.len()
    );
    match req.max_zip_bytes {
        Some(max_bytes) if zip.len() as u64 > max_bytes => Err(Error::TooLarge {
            zip: out,
            bytes: zip.len() as u64,
            max_bytes,
        }),
        _ => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_parse() {
        assert_eq!("arm64".parse::<Arch>().unwrap(), Arch::Arm64);
        let e = "sparc".parse::<Arch>().unwrap_err().to_string();
        assert!(e.contains("x86_64 or arm64"), "{e}");
    }

    #[test]
    fn packages_flags_parse_for_another_front_end() {
        let a = PackageArgs::try_parse_from(
            "cargo xtask package",
            [
                "--bin",
                "greeting",
                "--include",
                "t.toml",
                "--max-size",
                "8",
            ],
        )
        .unwrap();
        assert_eq!(a.select.bin.as_deref(), Some("greeting"));
        assert_eq!(a.request.includes, [("t.toml".into(), "t.toml".into())]);
        assert_eq!(a.request.max_zip_bytes, Some(8 * 1024 * 1024));
        assert_eq!(a.request.arch, Arch::X86_64);
        let e =
            PackageArgs::try_parse_from("cargo xtask package", ["--target", "sparc"]).unwrap_err();
        assert!(e.to_string().contains("use x86_64 or arm64"), "{e}");
    }
}
