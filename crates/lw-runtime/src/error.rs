use std::time::Duration;

/// Everything that can fail in `lw-runtime`: init errors (fatal, the process exits) and
/// invocation errors (reported to Lambda with `errorType` = the variant name).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration could not be resolved.
    #[error("configuration: {0}")]
    Config(#[from] lw_config::ConfigError),
    /// The options are not valid.
    #[error("options: {0}")]
    Options(lw_options::OptionsError),
    /// The configure callback returned an error.
    #[error("the configure callback failed: {0}")]
    Configure(String),
    /// The SDK runtime could not be created.
    #[error("cannot create the Temporal SDK runtime: {0}")]
    Runtime(String),
    /// Not started by Lambda (or a custom runtime speaking its API).
    #[error("{0}")]
    NotInLambda(String),
    /// The process is shutting down (SIGTERM: Lambda's shutdown phase): no new worker starts.
    #[error("the function is shutting down (SIGTERM received); no worker was started")]
    ShuttingDown,
    /// Too little time left to do useful work.
    #[error(
        "not enough time to work: {remaining:?} left before the deadline minus a shutdown \
         buffer of {buffer:?} leaves {work:?} (more than 1s is needed); raise the function \
         timeout or lower opts.shutdown_deadline_buffer"
    )]
    NotEnoughTime {
        /// Time left before the deadline when the invocation arrived.
        remaining: Duration,
        /// The shutdown deadline buffer.
        buffer: Duration,
        /// remaining − buffer.
        work: Duration,
    },
    /// Connecting did not finish within the work window.
    #[error(
        "dialing {address}: no connection within the {window:?} work window; check the address and that the server is reachable from the function"
    )]
    ConnectTimeout {
        /// The server address.
        address: String,
        /// How long connecting was allowed.
        window: Duration,
    },
    /// Connecting failed.
    #[error("dialing {address}: {message}")]
    Connect {
        /// The server address.
        address: String,
        /// The client's error.
        message: String,
    },
    /// The worker could not be created.
    #[error("starting the worker failed: {0}")]
    WorkerStart(String),
    /// The worker stopped with an error before the deadline.
    #[error("the worker failed while polling: {0}")]
    WorkerRun(String),
    /// The Lambda runtime loop failed.
    #[error("Lambda runtime: {0}")]
    Lambda(String),
}

impl Error {
    /// The variant's name: the Lambda `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "Config",
            Error::Options(_) => "Options",
            Error::Configure(_) => "Configure",
            Error::Runtime(_) => "Runtime",
            Error::NotInLambda(_) => "NotInLambda",
            Error::ShuttingDown => "ShuttingDown",
            Error::NotEnoughTime { .. } => "NotEnoughTime",
            Error::ConnectTimeout { .. } => "ConnectTimeout",
            Error::Connect { .. } => "Connect",
            Error::WorkerStart(_) => "WorkerStart",
            Error::WorkerRun(_) => "WorkerRun",
            Error::Lambda(_) => "Lambda",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.to_string(),
        }
    }
}

impl From<lw_options::OptionsError> for Error {
    /// A configuration error met while building options (a certificate file that cannot be
    /// read) stays a `Config` error, so Lambda shows `errorType: Config`.
    fn from(e: lw_options::OptionsError) -> Self {
        match e {
            lw_options::OptionsError::Config(c) => Error::Config(c),
            other => Error::Options(other),
        }
    }
}
