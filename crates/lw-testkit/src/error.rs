/// Fixture failures.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// nginx (the TLS front) is missing.
    #[error(
        "nginx was not found (in $LW_NGINX, on PATH or at /usr/sbin/nginx): install it with \
         `apt-get install nginx-light` (or run `cargo xtask test`, which does)"
    )]
    NoNginx,
    /// Generating the test certificates failed.
    #[error("test certificates: {0}")]
    Certs(#[from] rcgen::Error),
    /// A command failed.
    #[error("{0}")]
    Command(String),
    /// Something did not happen in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// The dev server, a function instance or a child process (lw-local).
    #[error(transparent)]
    Local(#[from] lw_local::LocalError),
}
