//! [`Error`]: what can go wrong, each message leading with what to do.

use std::path::PathBuf;

/// Why a `cargo lambdaworker` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The project could not be read (`cargo metadata` failed or found no such target).
    #[error("{0}")]
    Project(String),
    /// `cargo metadata` failed to run or answered something unreadable.
    #[error("cargo metadata failed; check the manifest path and that `cargo` is on PATH")]
    Metadata(#[source] cargo_metadata::Error),
    /// A build failed.
    #[error("fix the build errors above: `{command}` failed ({status})")]
    Build {
        /// The command that ran.
        command: String,
        /// How it ended.
        status: String,
    },
    /// A file could not be read or written.
    #[error("{}: {action}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The package was refused by a check (config references, glibc, size).
    #[error("not packaged: {0}")]
    Package(String),
    /// `new` refused the name or the folder.
    #[error("{0}")]
    New(String),
    /// The local AWS or dev server failed.
    #[error(transparent)]
    Local(#[from] lw_local::LocalError),
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            path,
            action,
            source,
        }
    }
}
