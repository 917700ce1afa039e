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
    /// A deploy setting is missing or wrong (the message names the flag and metadata key).
    #[error("{0}")]
    Settings(String),
    /// AWS refused or failed a step.
    #[error("{fix}: {step} failed: {detail}")]
    Aws {
        /// What to do.
        fix: String,
        /// The step.
        step: String,
        /// AWS's answer (error code and message).
        detail: String,
    },
    /// The Temporal server refused a step.
    #[error("{fix}: {step} failed: {code}: {message}")]
    Temporal {
        /// What to do.
        fix: String,
        /// The step.
        step: String,
        /// The gRPC status code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// Connecting to Temporal (or reading its configuration) failed, as a worker would report
    /// it.
    #[error(transparent)]
    Connect(#[from] lw_runtime::Error),
    /// The request conflicts with what is deployed.
    #[error("{0}")]
    Refused(String),
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
