//! `cargo lambdaworker package`: a deployable, reproducible Lambda zip in
//! `target/lambda/<name>/bootstrap.zip`, as cargo-lambda lays it out.
//!
//! `bootstrap` at the root (0755), included files (0644) at their archive paths, entries
//! sorted, timestamps fixed (1980-01-01), deflate: the same inputs give the same bytes
//! ([`archive`]). Before anything is written ([`checks`]): every path `temporal.toml`
//! references must be in the package (relative to `/var/task`), plain-text private keys
//! draw a warning. After the build, the binary must be an ELF executable for the
//! function's architecture ([`elf`]) needing no newer glibc than the floor (2.34,
//! `provided.al2023`'s, by default). [`target`] settles how to build from the host at hand.

pub mod archive;
pub mod checks;
pub mod elf;
pub mod include;
pub mod secrets;
pub mod target;

use std::{ffi::OsString, path::PathBuf};

pub use archive::{Entries, collect, write_zip};
pub use checks::{MissingFile, check_config, glibc_requirement};
pub use include::{parse_include, parse_include_from};
pub use target::{AL2023_GLIBC, Arch, Compiler, Glibc, Host, Plan};

use crate::{Error, Project, Selection};

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
    /// The Lambda architecture: x86_64 or arm64.
    #[arg(long = "target", value_name = "TARGET", default_value = "x86_64")]
    pub arch: Arch,
    /// The newest glibc the binary may need, 2.26 (provided.al2) to 2.34 (provided.al2023).
    #[arg(long = "glibc", value_name = "VERSION", default_value = "2.34")]
    pub glibc: Glibc,
    /// auto (cargo on a Linux host of the target's architecture for glibc 2.34, else
    /// cargo-zigbuild),
    /// cargo, or zig (cargo-zigbuild: any host, any glibc floor).
    #[arg(long = "compiler", value_name = "COMPILER", default_value = "auto")]
    pub compiler: Compiler,
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

/// Builds the binary for the request's architecture and glibc floor, from this host
/// ([`Plan`]), and returns its path.
pub fn build(project: &Project, req: &Request) -> Result<PathBuf, Error> {
    let plan = Plan::new(req.compiler, req.arch, req.glibc, Host::this())?;
    let (profile, folder) = req.profile();
    let mut cmd = crate::cargo();
    match &plan.zig_target {
        Some(zig_target) => {
            target::check_zig_ready(req.arch)?;
            cmd.args(["zigbuild", "--profile", profile, "--target", zig_target]);
        }
        None => {
            cmd.args(["build", "--profile", profile]);
        }
    }
    cmd.arg("--manifest-path").arg(project.manifest());
    cmd.args(project.build_args());
    crate::progress(&format!(
        "building {} for {} (glibc {} or older) with {} and the {profile} profile",
        project.name,
        req.arch.lambda_name(),
        req.glibc,
        if plan.zig_target.is_some() {
            "cargo-zigbuild"
        } else {
            "cargo"
        },
    ));
    crate::run_build(cmd)?;
    Ok(project.binary(folder, plan.triple_dir))
}

/// Refuses a binary Lambda cannot run on `req`'s architecture and runtime: not an ELF
/// executable for it, or needing a newer glibc than the floor. Returns the glibc it needs.
fn check_binary(
    binary: &std::path::Path,
    bytes: &[u8],
    req: &Request,
) -> Result<Option<Glibc>, Error> {
    if let Some(found) = elf::mismatch(bytes, req.arch) {
        return Err(Error::NotLambdaExecutable {
            binary: binary.to_owned(),
            found,
            arch: req.arch,
        });
    }
    let glibc = glibc_requirement(bytes).map(|(major, minor)| Glibc(major, minor));
    match glibc {
        Some(needs) if needs > req.glibc => Err(Error::GlibcTooNew {
            binary: binary.to_owned(),
            needs,
            floor: req.glibc,
            arch: req.arch,
        }),
        _ => Ok(glibc),
    }
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
    let glibc = check_binary(&binary, &bytes, req)?;
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
        glibc.map_or_else(|| "none".into(), |g| g.to_string()),
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
    fn a_binary_for_another_machine_or_a_newer_glibc_is_refused() {
        let req = |arch| Request {
            arch,
            ..Request::default()
        };
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (here, other) = if cfg!(target_arch = "aarch64") {
            (Arch::Arm64, Arch::X86_64)
        } else {
            (Arch::X86_64, Arch::Arm64)
        };
        let path = std::path::Path::new("target/x/bootstrap");
        assert!(check_binary(path, &this, &req(here)).is_ok());
        let e = check_binary(path, &this, &req(other))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("not packaged: target/x/bootstrap is a Linux ELF executable for"),
            "{e}"
        );
        assert!(
            e.contains(&format!("--target {}", other.lambda_name())),
            "{e}"
        );
        let mut new = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0".to_vec();
        new.extend(
            match here {
                Arch::X86_64 => 62u16,
                Arch::Arm64 => 183,
            }
            .to_le_bytes(),
        );
        // Built at run time: the literal would be in this test binary itself.
        new.extend(format!("..GLIBC_2.{}\0GLIBC_2.17\0", std::hint::black_box(39)).as_bytes());
        let e = check_binary(path, &new, &req(here))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs glibc 2.39, newer than the floor 2.34"),
            "{e}"
        );
        assert!(e.contains("--compiler zig"), "{e}");
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
        assert_eq!(a.request.glibc, AL2023_GLIBC);
        assert_eq!(a.request.compiler, Compiler::Auto);
        let a = PackageArgs::try_parse_from(
            "cargo xtask package",
            ["--compiler", "zig", "--glibc", "2.28", "--target", "arm64"],
        )
        .unwrap();
        assert_eq!(
            (a.request.compiler, a.request.glibc, a.request.arch),
            (Compiler::Zig, Glibc(2, 28), Arch::Arm64)
        );
        let e =
            PackageArgs::try_parse_from("cargo xtask package", ["--glibc", "2.38"]).unwrap_err();
        assert!(e.to_string().contains("2.26"), "{e}");
        let e =
            PackageArgs::try_parse_from("cargo xtask package", ["--target", "sparc"]).unwrap_err();
        assert!(e.to_string().contains("use x86_64 or arm64"), "{e}");
    }
}
