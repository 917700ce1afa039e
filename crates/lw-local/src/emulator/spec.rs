//! [`FunctionSpec`]: how one function instance is run: its program, name, memory, timeout,
//! environment, version and per-instance concurrency.

use std::{path::PathBuf, time::Duration};

/// How to run the function (build it with [`FunctionSpec::new`] and the setters).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FunctionSpec {
    /// The `bootstrap` program.
    pub program: PathBuf,
    /// Function name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// Function timeout: each invocation's deadline is this long after it is handed out.
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB.
    pub memory_mb: u32,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Working directory (and `LAMBDA_TASK_ROOT` unless set in `env`).
    pub task_root: Option<PathBuf>,
    /// A malformed `/next` answer to give instead of the next queued event.
    #[cfg(feature = "testing")]
    pub(super) next_fault: Option<super::NextFault>,
    /// The published version this instance runs (`None`: `$LATEST`): its number goes into
    /// `AWS_LAMBDA_FUNCTION_VERSION` and the invoked function ARN.
    pub version: Option<String>,
    /// Invocations the process may hold at once (Lambda Managed Instances'
    /// `PerExecutionEnvironmentMaxConcurrency`). Above 1, the process gets
    /// `AWS_LAMBDA_MAX_CONCURRENCY`, and a timed-out invocation fails alone: the process is
    /// not killed and its other invocations go on, as on Managed Instances. Default 1.
    pub max_concurrency: u32,
    /// The AWS credentials the process gets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`),
    /// as Lambda gives a function its role's: lw-local gives its own run's. `None`: none.
    pub credentials: Option<crate::Credentials>,
}

/// What a function process gets from the environment of the program that starts it, when
/// set there: what it needs to find programs and libraries and write temporary files.
/// Everything else it gets is Lambda's own variables and its configured environment (see
/// `docs/local-serverless.md`): the developer's AWS credentials, `TEMPORAL_*` settings and
/// the like never reach it.
pub const INHERITED_ENV: [&str; 3] = ["PATH", "LD_LIBRARY_PATH", "TMPDIR"];

impl FunctionSpec {
    /// A spec with Lambda-like defaults: 60 s timeout, 256 MB.
    pub fn new(program: impl Into<PathBuf>, name: &str) -> Self {
        Self {
            program: program.into(),
            name: name.to_owned(),
            timeout: Duration::from_secs(60),
            memory_mb: 256,
            env: Vec::new(),
            task_root: None,
            #[cfg(feature = "testing")]
            next_fault: None,
            version: None,
            max_concurrency: 1,
            credentials: None,
        }
    }

    /// Gives the process these AWS credentials.
    pub fn credentials(mut self, c: crate::Credentials) -> Self {
        self.credentials = Some(c);
        self
    }

    /// Lets the process hold up to `n` invocations at once (Lambda Managed Instances).
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.to_owned(), v.into()));
        self
    }

    /// The function's ARN, qualified with the version when it runs a published one.
    pub fn arn(&self) -> String {
        let arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}",
            self.name
        );
        match &self.version {
            Some(v) => format!("{arn}:{v}"),
            None => arn,
        }
    }
}
