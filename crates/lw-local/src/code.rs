//! Function code as lw-local keeps it: each upload unpacked (or a program copied) into a
//! folder of its own that is never reused, so a published version's code cannot change.

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use base64::Engine;
use sha2::Digest;

use crate::LocalError;

/// A function's code, as `CreateFunction` and `UpdateFunctionCode` take it.
#[derive(Debug, Clone)]
pub enum Code {
    /// A deployment package: a zip with `bootstrap` at its root (custom runtime).
    Zip(Vec<u8>),
    /// A `bootstrap` program on this machine, copied in (what `cargo lambdaworker dev`
    /// registers for each build, without zipping a debug binary).
    File(PathBuf),
}

/// Code as stored: where it runs from and its identity.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) bootstrap: PathBuf,
    pub(crate) task_root: Option<PathBuf>,
    /// Computed when first asked for a program registered by path (hashing a debug binary
    /// on every rebuild would cost seconds for nothing).
    pub(crate) sha256: Option<String>,
    pub(crate) size: u64,
}

/// The folder every function's code is stored in (removed with the service).
pub(crate) struct Store {
    root: tempfile::TempDir,
    next: AtomicU64,
}

fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Lambda's rule for a function name: 1 to 64 letters, digits, `-` or `_` (anything else,
/// a path such as `../x` among them, is refused as Lambda refuses it).
pub fn check_name(name: &str) -> Result<(), LocalError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(LocalError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (at \
             most 64 characters)"
        )))
    }
}

impl Stored {
    /// The code's hash; empty for a program registered by a path that cannot be read.
    pub(crate) fn sha256(&self) -> Result<String, LocalError> {
        match &self.sha256 {
            Some(s) => Ok(s.clone()),
            None => Ok(std::fs::read(&self.bootstrap)
                .map(|b| sha256_base64(&b))
                .unwrap_or_default()),
        }
    }
}

impl Store {
    /// A new, empty folder under the system's temporary folder.
    pub(crate) fn new() -> Result<Store, LocalError> {
        Ok(Store {
            root: tempfile::Builder::new()
                .prefix("lw-local-code-")
                .tempdir()?,
            next: AtomicU64::new(1),
        })
    }

    /// Stores `code` in a folder of its own (never reused, so a version's code cannot change).
    pub(crate) fn put(&self, name: &str, code: Code) -> Result<Stored, LocalError> {
        check_name(name)?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join(format!("{name}-{n}"));
        std::fs::create_dir_all(&dir)?;
        match code {
            Code::File(program) => {
                let bootstrap = dir.join("bootstrap");
                std::fs::copy(&program, &bootstrap).map_err(|e| {
                    LocalError::InvalidParameter(format!(
                        "cannot read the program {}: {e}",
                        program.display()
                    ))
                })?;
                let size = std::fs::metadata(&bootstrap)?.len();
                Ok(Stored {
                    bootstrap,
                    task_root: Some(dir),
                    sha256: None,
                    size,
                })
            }
            Code::Zip(bytes) => {
                let sha = sha256_base64(&bytes);
                unzip(&bytes, &dir)?;
                let bootstrap = dir.join("bootstrap");
                if !bootstrap.is_file() {
                    return Err(LocalError::InvalidParameter(
                        "the deployment package has no `bootstrap` at its root (a custom \
                         runtime's zip holds the executable as `bootstrap`)"
                            .into(),
                    ));
                }
                Ok(Stored {
                    bootstrap,
                    task_root: Some(dir),
                    sha256: Some(sha),
                    size: bytes.len() as u64,
                })
            }
        }
    }
}

/// Extracts a deployment package, keeping the files' Unix modes (`bootstrap` must stay
/// executable); a path that leaves the folder is refused.
fn unzip(bytes: &[u8], dir: &Path) -> Result<(), LocalError> {
    let bad = |e: zip::result::ZipError| {
        LocalError::InvalidParameter(format!("Could not unzip uploaded file: {e}"))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(bad)?;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(bad)?;
        let Some(relative) = file.enclosed_name() else {
            return Err(LocalError::InvalidParameter(format!(
                "Could not unzip uploaded file: `{}` leaves the package",
                file.name().map(|n| n.into_owned()).unwrap_or_default()
            )));
        };
        let path = dir.join(relative);
        if file.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.read_to_end(&mut data)?;
        std::fs::write(&path, &data)?;
        if let Some(mode) = file.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))?;
        }
    }
    Ok(())
}
