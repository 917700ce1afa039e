//! What `package` builds for: the Lambda architecture, the glibc floor, and the compiler
//! that gets there from the host it runs on (cargo natively, or cargo-zigbuild, which links
//! against any glibc version for either architecture from any host, as cargo-lambda does).

use std::path::PathBuf;

use crate::Error;

/// The newest glibc `provided.al2023` has, the default floor.
pub const AL2023_GLIBC: Glibc = Glibc(2, 34);
/// The oldest floor offered: `provided.al2`'s glibc.
pub const AL2_GLIBC: Glibc = Glibc(2, 26);

/// The Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arch {
    /// x86_64.
    #[default]
    X86_64,
    /// arm64 / Graviton.
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

    /// The name Lambda gives it.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// `std::env::consts::ARCH`'s name for it.
    fn rust_arch(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
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

/// A glibc version, `MAJOR.MINOR`: the newest the packaged binary may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Glibc(pub u32, pub u32);

impl Default for Glibc {
    fn default() -> Self {
        AL2023_GLIBC
    }
}

impl std::fmt::Display for Glibc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl std::str::FromStr for Glibc {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::BadGlibc {
            value: s.to_owned(),
        };
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let v = Glibc(
            major.parse().map_err(|_| bad())?,
            minor.parse().map_err(|_| bad())?,
        );
        if (AL2_GLIBC..=AL2023_GLIBC).contains(&v) {
            Ok(v)
        } else {
            Err(bad())
        }
    }
}

/// How the binary is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compiler {
    /// cargo on a Linux glibc host of the target's architecture for the 2.34 floor,
    /// cargo-zigbuild anywhere else or for an older floor.
    #[default]
    Auto,
    /// `cargo build` for the host: a Linux host of the target's architecture only.
    Cargo,
    /// `cargo zigbuild --target <triple>.<glibc>`.
    Zig,
}

impl std::str::FromStr for Compiler {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(Compiler::Auto),
            "cargo" => Ok(Compiler::Cargo),
            "zig" | "zigbuild" | "cargo-zigbuild" => Ok(Compiler::Zig),
            other => Err(Error::UnknownCompiler {
                value: other.to_owned(),
            }),
        }
    }
}

/// A host: `std::env::consts::{OS, ARCH}` and whether it links glibc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// `linux`, `macos`, …
    pub os: &'static str,
    /// `x86_64`, `aarch64`, …
    pub arch: &'static str,
    /// Whether the host's own target is a glibc one (`-gnu`).
    pub gnu: bool,
}

impl Host {
    /// The host this program runs on.
    pub fn this() -> Self {
        Host {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            gnu: cfg!(target_env = "gnu"),
        }
    }

    /// Whether a plain `cargo build` here makes a binary Lambda's `arch` can run.
    pub fn builds_natively_for(self, arch: Arch) -> bool {
        self.os == "linux" && self.gnu && self.arch == arch.rust_arch()
    }

    fn describe(self) -> String {
        format!("{} {}", self.os, self.arch)
    }
}

/// How a build goes: the compiler settled for this host, and the cargo arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `cargo` or `zig`, never `Auto`.
    pub compiler: Compiler,
    /// The `--target` cargo-zigbuild gets (`x86_64-unknown-linux-gnu.2.34`); none natively.
    pub zig_target: Option<String>,
    /// The folder under the target directory the binary lands in (the triple, for zig).
    pub triple_dir: Option<&'static str>,
}

impl Plan {
    /// Settles `compiler` for `host`; `Cargo` on a host that cannot build for `arch` is
    /// refused, naming the host.
    pub fn new(compiler: Compiler, arch: Arch, glibc: Glibc, host: Host) -> Result<Self, Error> {
        let native = host.builds_natively_for(arch);
        let compiler = match compiler {
            // A floor below provided.al2023's is what zig is for: the host's glibc is newer.
            Compiler::Auto if native && glibc >= AL2023_GLIBC => Compiler::Cargo,
            Compiler::Auto => Compiler::Zig,
            Compiler::Cargo if !native => {
                return Err(Error::NotNative {
                    host: host.describe(),
                    arch,
                });
            }
            other => other,
        };
        Ok(match compiler {
            Compiler::Zig => Plan {
                compiler,
                zig_target: Some(format!("{}.{glibc}", arch.triple())),
                triple_dir: Some(arch.triple()),
            },
            _ => Plan {
                compiler,
                zig_target: None,
                triple_dir: None,
            },
        })
    }
}

/// Checks that cargo-zigbuild runs and that the Rust standard library for `arch` is
/// installed, so the build does not fail half-way with a linker or `can't find crate
/// for std` message.
pub fn check_zig_ready(arch: Arch) -> Result<(), Error> {
    let zig = crate::cargo()
        .args(["zigbuild", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !zig {
        return Err(Error::NoCrossLinker);
    }
    if !std_installed(arch) {
        return Err(Error::NoTargetStd {
            triple: arch.triple(),
        });
    }
    Ok(())
}

/// Whether rustc has the standard library for `arch`'s triple.
fn std_installed(arch: Arch) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = std::process::Command::new(rustc)
        .args(["--print", "target-libdir", "--target", arch.triple()])
        .output()
    else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success()
        && std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX_X86: Host = Host {
        os: "linux",
        arch: "x86_64",
        gnu: true,
    };
    const MAC_ARM: Host = Host {
        os: "macos",
        arch: "aarch64",
        gnu: false,
    };

    #[test]
    fn auto_builds_natively_only_where_lambda_can_run_the_result() {
        let p = Plan::new(Compiler::Auto, Arch::X86_64, AL2023_GLIBC, LINUX_X86).unwrap();
        assert_eq!(p.compiler, Compiler::Cargo);
        assert_eq!(p.triple_dir, None);
        let p = Plan::new(Compiler::Auto, Arch::Arm64, AL2023_GLIBC, LINUX_X86).unwrap();
        assert_eq!(p.compiler, Compiler::Zig);
        assert_eq!(
            p.zig_target.as_deref(),
            Some("aarch64-unknown-linux-gnu.2.34")
        );
        let p = Plan::new(Compiler::Auto, Arch::X86_64, Glibc(2, 26), MAC_ARM).unwrap();
        assert_eq!(
            p.zig_target.as_deref(),
            Some("x86_64-unknown-linux-gnu.2.26")
        );
        assert_eq!(p.triple_dir, Some("x86_64-unknown-linux-gnu"));
        let musl = Host {
            gnu: false,
            ..LINUX_X86
        };
        let p = Plan::new(Compiler::Auto, Arch::X86_64, AL2023_GLIBC, musl).unwrap();
        assert_eq!(p.compiler, Compiler::Zig);
    }

    #[test]
    fn cargo_on_a_foreign_host_is_refused_naming_the_host() {
        let e = Plan::new(Compiler::Cargo, Arch::X86_64, AL2023_GLIBC, MAC_ARM)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("use --compiler zig"), "{e}");
        assert!(e.contains("macos aarch64"), "{e}");
        assert!(e.contains("x86_64"), "{e}");
    }

    #[test]
    fn glibc_floors_parse_within_what_lambda_runtimes_have() {
        assert_eq!("2.34".parse::<Glibc>().unwrap(), AL2023_GLIBC);
        assert_eq!("2.26".parse::<Glibc>().unwrap(), Glibc(2, 26));
        for bad in ["2.35", "2", "two.34", "2.25", ""] {
            let e = bad.parse::<Glibc>().unwrap_err().to_string();
            assert!(e.contains("2.26") && e.contains("2.34"), "{bad}: {e}");
        }
        assert_eq!(Glibc::default().to_string(), "2.34");
    }

    #[test]
    fn compilers_and_architectures_parse() {
        assert_eq!("cargo-zigbuild".parse::<Compiler>().unwrap(), Compiler::Zig);
        let e = "cross".parse::<Compiler>().unwrap_err().to_string();
        assert!(e.contains("auto, cargo or zig"), "{e}");
        assert_eq!("arm64".parse::<Arch>().unwrap(), Arch::Arm64);
        let e = "sparc".parse::<Arch>().unwrap_err().to_string();
        assert!(e.contains("x86_64 or arm64"), "{e}");
    }

    #[test]
    fn the_host_std_is_found_and_a_missing_one_is_not() {
        // This test runs on an x86_64 or arm64 Linux host with its own std installed.
        let here = if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        };
        assert!(std_installed(here));
    }
}
