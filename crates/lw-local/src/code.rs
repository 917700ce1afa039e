//! Function code as lw-local keeps it: each upload unpacked (or a program copied) into a
//! folder of its own that is never reused, so a published version's code cannot change.
//! A folder is removed when nothing runs or publishes from it any more (a failed upload at
//! once), and every folder when the service is dropped.
//!
//! Unzipping trusts nothing the zip says: each entry is read through a reader that stops at
//! what is left of [`UNZIPPED_LIMIT`], paths that leave the folder and symbolic links are
//! refused.

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
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

/// Lambda's limit on a function's code unzipped (250 MB): a deployment package that unzips
/// to more is refused (as Lambda refuses it), whatever sizes its headers claim.
pub const UNZIPPED_LIMIT: u64 = 250 * 1024 * 1024;

/// What each entry of a package costs against [`UNZIPPED_LIMIT`] besides its bytes (a
/// file-system block): a package of a million empty files is refused like a large one.
pub const ENTRY_COST: u64 = 4096;

/// Code as stored: where it runs from and its identity.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) bootstrap: PathBuf,
    pub(crate) task_root: Option<PathBuf>,
    /// Computed when first asked for a program registered by path (hashing a debug binary
    /// on every rebuild would cost seconds for nothing).
    pub(crate) sha256: Option<String>,
    pub(crate) size: u64,
    /// The folder lw-local stored it in (`None`: a program registered where it is): removed
    /// when the last holder (`$LATEST`, a version, a pool still running it) lets go.
    pub(crate) folder: Option<Arc<Folder>>,
}

/// A folder of stored code, removed when dropped.
#[derive(Debug)]
pub(crate) struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The folder every function's code is stored in (removed with the service).
pub(crate) struct Store {
    root: tempfile::TempDir,
    next: AtomicU64,
    /// [`UNZIPPED_LIMIT`], lower in tests.
    limit: u64,
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
            // Private (0700): no other user reads the code or plants files in it.
            root: tempfile::Builder::new()
                .prefix("lw-local-code-")
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .tempdir()?,
            next: AtomicU64::new(1),
            limit: UNZIPPED_LIMIT,
        })
    }

    /// The folder all code is stored in.
    #[cfg(test)]
    pub(crate) fn root(&self) -> &Path {
        self.root.path()
    }

    /// A store that refuses code unzipping to more than `limit` bytes.
    #[cfg(test)]
    pub(crate) fn with_limit(limit: u64) -> Result<Store, LocalError> {
        Ok(Store {
            limit,
            ..Store::new()?
        })
    }

    /// Stores `code` in a folder of its own (never reused, so a version's code cannot
    /// change); on failure the folder is removed at once.
    pub(crate) fn put(&self, name: &str, code: Code) -> Result<Stored, LocalError> {
        check_name(name)?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join(format!("{name}-{n}"));
        std::fs::create_dir_all(&dir)?;
        // Removes the folder when dropped: on every error below, and once the stored code is
        // no longer held.
        let folder = Arc::new(Folder(dir.clone()));
        let mut stored = self.fill(&dir, code)?;
        stored.folder = Some(folder);
        Ok(stored)
    }

    fn fill(&self, dir: &Path, code: Code) -> Result<Stored, LocalError> {
        let dir = dir.to_path_buf();
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
                    folder: None,
                })
            }
            Code::Zip(bytes) => {
                let sha = sha256_base64(&bytes);
                unzip(&bytes, &dir, self.limit)?;
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
                    folder: None,
                })
            }
        }
    }
}

/// Extracts a deployment package, keeping the files' Unix modes (`bootstrap` must stay
/// executable). Refused (`InvalidParameter`, naming the entry): a path that leaves the
/// folder, a symbolic link, and more than `limit` bytes in all (each entry counting
/// [`ENTRY_COST`] more), whatever the headers claim.
fn unzip(bytes: &[u8], dir: &Path, limit: u64) -> Result<(), LocalError> {
    let bad = |e: zip::result::ZipError| {
        LocalError::InvalidParameter(format!("Could not unzip uploaded file: {e}"))
    };
    let too_big = || {
        LocalError::InvalidParameter(format!(
            "Unzipped size must be smaller than {limit} bytes: the deployment package unzips \
             to more (Lambda's limit for a function's code unzipped is 250 MB); make the \
             package smaller"
        ))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(bad)?;
    let mut left = limit;
    if (archive.len() as u64).saturating_mul(ENTRY_COST) > limit {
        return Err(too_big());
    }
    for i in 0..archive.len() {
        left -= ENTRY_COST;
        let mut file = archive.by_index(i).map_err(bad)?;
        let shown = file.name().map(|n| n.into_owned()).unwrap_or_default();
        let Some(relative) = file.enclosed_name() else {
            return Err(LocalError::InvalidParameter(format!(
                "Could not unzip uploaded file: `{shown}` leaves the package"
            )));
        };
        if file.is_symlink() {
            return Err(LocalError::InvalidParameter(format!(
                "Could not unzip uploaded file: `{shown}` is a symbolic link; lw-local unpacks \
                 regular files and folders only (put the file itself in the package)"
            )));
        }
        let path = dir.join(relative);
        if file.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        // A claim above the limit is refused before reading; a false one is caught below.
        if file.size() > left {
            return Err(too_big());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                LocalError::InvalidParameter(format!(
                    "Could not unzip uploaded file: `{shown}` (twice in the package?): {e}"
                ))
            })?;
        // One byte more than is left: reading it means the entry is too big.
        let written = std::io::copy(&mut (&mut file).take(left + 1), &mut out).map_err(|e| {
            LocalError::InvalidParameter(format!("Could not unzip uploaded file: `{shown}`: {e}"))
        })?;
        if written > left {
            return Err(too_big());
        }
        left -= written;
        if let Some(mode) = file.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            // Permission bits only: no set-user-id or set-group-id from an upload.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
