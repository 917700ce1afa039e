use std::time::Duration;

use crate::{BoxError, ConnectDetail, ConnectProblem};

/// Everything that can fail in `lw-runtime`: init errors (fatal: `run_worker` returns them)
/// and invocation errors (reported to Lambda with `errorType` = the variant name).
///
/// Each variant's message says what happened and what to do; the cause, when there is one,
/// is its [`source`](std::error::Error::source), not repeated in the message.
/// [`Error::message`] joins the two, and is what Lambda and the logs show. `Debug` prints the
/// same, so `main` returning `Result<(), lambdaworker::Error>` prints a readable line.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration could not be resolved.
    #[error(transparent)]
    Config(#[from] lw_config::ConfigError),
    /// The options are not valid.
    #[error(transparent)]
    Options(lw_options::OptionsError),
    /// The configure callback returned an error.
    #[error("the configure callback failed")]
    Configure(#[source] BoxError),
    /// The configure callback (async, `run_worker_async`) did not finish within the init
    /// budget.
    #[error(
        "make the configure callback finish within {budget:?} (Lambda's init phase allows \
         10s): bound what it waits for (a pool's connect timeout), or build it lazily on first \
         use; it was cut off"
    )]
    ConfigureTimeout {
        /// The budget it had.
        budget: Duration,
    },
    /// The function's environment (`LW_DEPLOYMENT_NAME`, `LW_BUILD_ID`) names a Worker
    /// Deployment Version other than the one the code serves (given to `run_worker`, or set
    /// by the configure callback). An init error rather than a warning: the environment's
    /// version is the one registered and routed to, so this worker would poll a version that
    /// gets no task and do nothing, silently; an init error shows in Lambda's and the Worker
    /// Controller's records and in the logs.
    #[error("{}", version_mismatch(environment, deployment_name, build_id))]
    VersionMismatch {
        /// The variables whose values differ from the code's version, with those values.
        environment: Vec<(&'static str, String)>,
        /// The deployment name in code.
        deployment_name: String,
        /// The build id in code.
        build_id: String,
    },
    /// `TEMPORAL_TASK_QUEUE` names a task queue other than the one the configure callback
    /// left in `opts.task_queue`. An init error for the same reason as
    /// [`Error::VersionMismatch`]: tasks are routed to the environment's queue, so this worker
    /// would poll a queue nobody sends its tasks to.
    #[error(
        "set opts.task_queue only when it is empty (`if opts.task_queue.is_empty() {{ .. }}`), \
         or set TEMPORAL_TASK_QUEUE to the same queue: TEMPORAL_TASK_QUEUE is `{value}`, but \
         the configure callback set opts.task_queue to `{task_queue}` (this function's tasks \
         are routed to the environment's queue, so a worker polling another one gets none)"
    )]
    TaskQueueMismatch {
        /// `TEMPORAL_TASK_QUEUE`.
        value: String,
        /// `opts.task_queue` after the configure callback.
        task_queue: String,
    },
    /// The SDK runtime could not be created.
    #[error("cannot create the Temporal SDK runtime")]
    Runtime(#[source] BoxError),
    /// Not started by Lambda (or a custom runtime speaking its API).
    #[error(
        "set {}: not running under AWS Lambda (Lambda sets these for every function; a custom \
         runtime or emulator must too)",
        missing.join(", ")
    )]
    NotInLambda {
        /// The variables that are missing or empty.
        missing: Vec<&'static str>,
    },
    /// A variable Lambda sets has a value the runtime cannot use.
    #[error(
        "set {name} to {expected}: it is `{value}` (Lambda sets it for every function; a custom \
         runtime or emulator must set it the same way)"
    )]
    BadLambdaVariable {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The Runtime API answered in a way `lambda_runtime` cannot handle (it panicked; the
    /// panic was caught).
    #[error(
        "check that AWS_LAMBDA_RUNTIME_API ({api}) is a Lambda Runtime API: its answer could \
         not be handled ({reason})"
    )]
    RuntimeApi {
        /// `AWS_LAMBDA_RUNTIME_API`.
        api: String,
        /// What was wrong, as `lambda_runtime` put it.
        reason: String,
    },
    /// The process is shutting down (SIGTERM: Lambda's shutdown phase): no new worker starts.
    #[error("the function is shutting down (SIGTERM received); no worker was started")]
    ShuttingDown,
    /// Too little time left to do useful work.
    #[error(
        "raise the function timeout or lower opts.shutdown_deadline_buffer: not enough time to \
         work: {remaining:?} left before the deadline minus a shutdown buffer of {buffer:?} \
         leaves {work:?} (more than 1s is needed)"
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
        "check the address ({address_source}) and that the server is reachable from the \
         function (in a VPC, a route to it): no connection to {address} within the \
         {window:?} work window"
    )]
    ConnectTimeout {
        /// The server address.
        address: String,
        /// Where the address came from.
        address_source: String,
        /// How long connecting was allowed.
        window: Duration,
    },
    /// Connecting failed. The message leads with the fix for the [`ConnectProblem`], naming
    /// the setting and where it came from; the transport's own text follows as the source.
    #[error("{fix}")]
    Connect {
        /// The server address.
        address: String,
        /// What kind of failure it was.
        problem: ConnectProblem,
        /// What to do, naming the setting and its source.
        fix: String,
        /// The transport's account, readable; [`ConnectDetail::error`] is the SDK's error.
        #[source]
        source: ConnectDetail,
    },
    /// The server refused the task queue: its name, the namespace, or the credentials'
    /// access to them. Checked before the first poll of the process.
    #[error(
        "fix the task queue `{task_queue}` or namespace `{namespace}`, or the credentials' \
         access to them: the server refused them ({code:?}): {reason}"
    )]
    TaskQueueRejected {
        /// The task queue.
        task_queue: String,
        /// The namespace.
        namespace: String,
        /// The server's gRPC code.
        code: temporalio_client::tonic::Code,
        /// The server's message.
        reason: String,
    },
    /// A per-invocation callback (`Options::on_invocation`) returned an error or panicked:
    /// this invocation fails, the next one runs it again.
    #[error("the per-invocation callback (opts.on_invocation) failed for this invocation")]
    InvocationConfigure(#[source] BoxError),
    /// A per-invocation callback was still running when only the minimum work time (1 s) of
    /// the invocation's work window was left; it was cut off and the invocation failed.
    #[error(
        "make the per-invocation callback (opts.on_invocation) finish sooner, or raise the \
         function timeout: it was cut off after {took:?}, leaving no time to work"
    )]
    InvocationConfigureTimeout {
        /// How long it ran before it was cut off.
        took: Duration,
    },
    /// A per-invocation callback left options a worker cannot run with.
    #[error(transparent)]
    InvocationOptions(lw_options::OptionsError),
    /// The worker could not be created.
    #[error("starting the worker failed")]
    WorkerStart(#[source] BoxError),
    /// The worker stopped with an error before the deadline.
    #[error("the worker failed while polling")]
    WorkerRun(#[source] BoxError),
    /// The worker stopped before the deadline without an error and without being asked to.
    #[error("the worker stopped before the deadline without an error")]
    WorkerStopped,
    /// The invocation panicked (a bug in a hook or in the SDK); its worker was dropped.
    #[error(
        "report this as a bug: the invocation panicked ({reason}); its worker was dropped, so \
         its unfinished tasks time out on the server and are retried"
    )]
    Panicked {
        /// The panic's message.
        reason: String,
    },
    /// The Lambda runtime loop failed.
    #[error(
        "check that AWS_LAMBDA_RUNTIME_API is a Lambda Runtime API: the runtime loop stopped on \
         its answer (a malformed header such as Lambda-Runtime-Deadline-Ms, or a lost \
         connection)"
    )]
    Lambda(#[source] BoxError),
}

/// `stringify!`s the variant `$e` is, from a list of every variant: the name cannot differ from
/// the variant, and the compiler checks the list is complete.
macro_rules! variant_name {
    ($e:expr; $($variant:ident),+ $(,)?) => {
        match $e {
            $(Error::$variant { .. } => stringify!($variant),)+
        }
    };
}

impl Error {
    /// The variant's own name (`"WorkerStart"` for [`Error::WorkerStart`]): the Lambda
    /// `errorType` of an invocation or init error.
    pub fn kind(&self) -> &'static str {
        variant_name!(
            self;
            Config, Options, Configure, ConfigureTimeout, VersionMismatch, TaskQueueMismatch, Runtime, NotInLambda, BadLambdaVariable, RuntimeApi,
            ShuttingDown, NotEnoughTime, ConnectTimeout, Connect, TaskQueueRejected,
            InvocationConfigure, InvocationConfigureTimeout, InvocationOptions,
            WorkerStart, WorkerRun, WorkerStopped, Panicked, Lambda,
        )
    }

    /// The message and every cause under it, joined with `": "`; a cause whose text the
    /// message already holds is not repeated.
    pub fn message(&self) -> String {
        error_chain(self)
    }
}

/// [`Error::VersionMismatch`]'s message: the fix first, then each differing variable and the
/// version in code.
fn version_mismatch(
    environment: &[(&'static str, String)],
    deployment_name: &str,
    build_id: &str,
) -> String {
    let set: Vec<String> = environment
        .iter()
        .map(|(name, value)| format!("{name} is `{value}`"))
        .collect();
    format!(
        "use lambdaworker::version_from_env_or({deployment_name:?}, {build_id:?}) for the \
         version given to run_worker, or give it the version the environment names: {}, but \
         the code serves deployment name `{deployment_name}`, build id `{build_id}` (the \
         environment's version is the one registered and routed to, by `cargo lambdaworker \
         dev` and `deploy` or your deployment, so a worker polling another one gets no task)",
        set.join(" and ")
    )
}

/// `e` and every cause under it ([`source`](std::error::Error::source)), joined with
/// `": "`; a cause whose text is already in the line is not repeated (many errors print their
/// source inside their own message). What [`Error::message`] and the logs show, and the one
/// line a CLI prints for any error.
///
/// ```
/// let io = std::io::Error::other("connection refused");
/// let e = lw_runtime::Error::WorkerStart(io.into());
/// assert_eq!(lw_runtime::error_chain(&e), "starting the worker failed: connection refused");
/// ```
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

impl std::fmt::Debug for Error {
    /// The same as [`Error::message`]: what `main` prints when it returns this error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.message(),
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

#[cfg(test)]
mod tests;
