//! [`Project`]: the Cargo project a command works on, and the binary in it that is the
//! function, read from `cargo metadata` as cargo-lambda does.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package, Target, TargetKind};

use crate::Error;

/// Which project and binary: the usual cargo selection flags (`--manifest-path`,
/// `--package`, `--bin`, `--example`), flattened into every command's flags. Without
/// `--manifest-path`, the current folder's project; without `--package`, the workspace's
/// default members.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    /// The project's (or workspace's) Cargo.toml.
    #[arg(long)]
    pub manifest_path: Option<PathBuf>,
    /// The package holding the function's binary.
    #[arg(long, short)]
    pub package: Option<String>,
    /// The function's binary.
    #[arg(long)]
    pub bin: Option<String>,
    /// An example as the function.
    #[arg(long, conflicts_with = "bin")]
    pub example: Option<String>,
}

/// The function's binary target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR`).
    pub target_dir: PathBuf,
    /// The package holding the binary.
    pub package: String,
    /// The package's folder.
    pub package_dir: PathBuf,
    /// The package's `Cargo.toml`.
    pub package_manifest: PathBuf,
    /// The package's version.
    pub version: String,
    /// The package's `[package.metadata]` table (`deploy` reads `lambdaworker` in it).
    pub metadata: serde_json::Value,
    /// The binary's (or example's) name.
    pub name: String,
    /// Whether it is an example.
    pub example: bool,
}

impl Project {
    /// Reads the project with `cargo metadata` and picks the function's binary. A package
    /// that does not depend on `lambdaworker` (or `lw-runtime`) is refused: its binary would
    /// not serve invocations.
    pub fn locate(sel: &Selection) -> Result<Project, Error> {
        let mut cmd = MetadataCommand::new();
        cmd.no_deps();
        if let Some(m) = &sel.manifest_path {
            cmd.manifest_path(m);
        }
        let meta = cmd.exec().map_err(Error::Metadata)?;
        let (package, target) = pick(&meta, sel)?;
        let serves = package
            .dependencies
            .iter()
            .any(|d| d.name == "lambdaworker" || d.name == "lw-runtime");
        if !serves {
            return Err(Error::NotAWorker {
                package: package.name.to_string(),
            });
        }
        Ok(Project {
            workspace_root: meta.workspace_root.clone().into(),
            target_dir: meta.target_directory.clone().into(),
            package: package.name.to_string(),
            package_dir: package
                .manifest_path
                .parent()
                .map(|p| p.to_path_buf().into())
                .unwrap_or_else(|| meta.workspace_root.clone().into()),
            package_manifest: package.manifest_path.clone().into(),
            version: package.version.to_string(),
            metadata: package.metadata.clone(),
            name: target.name.clone(),
            example: target.is_kind(TargetKind::Example),
        })
    }

    /// `cargo build` arguments selecting this binary (and its package, so features stay the
    /// package's own).
    pub fn build_args(&self) -> Vec<String> {
        let kind = if self.example { "--example" } else { "--bin" };
        vec![
            "-p".into(),
            self.package.clone(),
            kind.into(),
            self.name.clone(),
        ]
    }

    /// The built binary for a profile folder (`debug`, `release`) and an optional target
    /// triple.
    pub fn binary(&self, profile: &str, triple: Option<&str>) -> PathBuf {
        let mut dir = self.target_dir.clone();
        if let Some(t) = triple {
            dir = dir.join(t);
        }
        dir = dir.join(profile);
        if self.example {
            dir = dir.join("examples");
        }
        dir.join(&self.name)
    }

    /// The workspace manifest, for `cargo --manifest-path`.
    pub fn manifest(&self) -> PathBuf {
        self.workspace_root.join("Cargo.toml")
    }

    /// Where `package` writes, as cargo-lambda does: `target/lambda/<name>/`.
    pub fn lambda_dir(&self) -> PathBuf {
        self.target_dir.join("lambda").join(&self.name)
    }
}

/// The package and target the selection names, or the only candidate.
fn pick<'m>(meta: &'m Metadata, sel: &Selection) -> Result<(&'m Package, &'m Target), Error> {
    let packages: Vec<&Package> = match &sel.package {
        Some(name) => {
            let p = meta
                .workspace_packages()
                .into_iter()
                .find(|p| p.name == name.as_str())
                .ok_or_else(|| Error::NoSuchPackage {
                    name: name.clone(),
                    packages: meta
                        .workspace_packages()
                        .iter()
                        .map(|p| p.name.to_string())
                        .collect(),
                })?;
            vec![p]
        }
        None => meta.workspace_default_packages(),
    };
    let (kind, wanted) = match (&sel.example, &sel.bin) {
        (Some(e), _) => (TargetKind::Example, Some(e.as_str())),
        (None, b) => (TargetKind::Bin, b.as_deref()),
    };
    let candidates: Vec<(&Package, &Target)> = packages
        .iter()
        .flat_map(|p| p.targets.iter().map(move |t| (*p, t)))
        .filter(|(_, t)| t.is_kind(kind.clone()))
        .filter(|(_, t)| wanted.is_none_or(|w| t.name == w))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(match wanted {
            Some(w) => Error::NoSuchTarget {
                kind: kind_word(&kind),
                name: w.to_owned(),
                place: where_(sel),
            },
            None => Error::NoBinary { place: where_(sel) },
        }),
        many => Err(Error::SeveralBinaries {
            place: where_(sel),
            names: many.iter().map(|(_, t)| t.name.clone()).collect(),
        }),
    }
}

fn kind_word(kind: &TargetKind) -> &'static str {
    if *kind == TargetKind::Example {
        "example"
    } else {
        "binary"
    }
}

fn where_(sel: &Selection) -> String {
    match (&sel.package, &sel.manifest_path) {
        (Some(p), _) => format!("package `{p}`"),
        (None, Some(m)) => format!("{}", m.display()),
        (None, None) => "this project".to_owned(),
    }
}

/// Whether `dir` (a package folder) changed since `since`: any file under `src/`, `build.rs`
/// or `Cargo.toml` with a newer modification time.
pub fn changed_since(dir: &Path, since: std::time::SystemTime) -> bool {
    fn newer(path: &Path, since: std::time::SystemTime) -> bool {
        let Ok(md) = std::fs::metadata(path) else {
            return false;
        };
        if md.is_dir() {
            return std::fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| newer(&e.path(), since));
        }
        md.modified().is_ok_and(|m| m > since)
    }
    ["src", "build.rs", "Cargo.toml"]
        .iter()
        .any(|p| newer(&dir.join(p), since))
}
