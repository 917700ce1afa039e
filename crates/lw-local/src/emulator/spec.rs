//! How a function is run: its program, name, memory, timeout, environment and the
//! faults a test asks the Runtime API for.

use std::{path::PathBuf, time::Duration};

/// How to run the function.
#[derive(Debug, Clone)]
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
    pub next_fault: Option<NextFault>,
    /// The published version this instance runs (`None`: `$LATEST`): its number goes into
    /// `AWS_LAMBDA_FUNCTION_VERSION` and the invoked function ARN.
    pub version: Option<String>,
    /// Invocations the process may hold at once (Lambda Managed Instances'
    /// `PerExecutionEnvironmentMaxConcurrency`). Above 1, the process gets
    /// `AWS_LAMBDA_MAX_CONCURRENCY`, and a timed-out invocation fails alone: the process is
    /// not killed and its other invocations go on, as on Managed Instances. Default 1.
    pub max_concurrency: u32,
}

/// A malformed `/next` answer, as a broken or foreign Runtime API might give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextFault {
    /// This HTTP status, with a JSON error body and no invocation headers.
    Status(u16),
    /// 200 without `Lambda-Runtime-Aws-Request-Id`.
    MissingRequestId,
    /// 200 without `Lambda-Runtime-Deadline-Ms`.
    MissingDeadline,
    /// 200 with a `Lambda-Runtime-Deadline-Ms` that is not a number.
    DeadlineNotANumber,
}

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
            next_fault: None,
            version: None,
            max_concurrency: 1,
        }
    }

    /// Lets the process hold up to `n` invocations at once (Lambda Managed Instances).
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Answers `/next` with `fault` instead of the next queued event.
    pub fn next_fault(mut self, fault: NextFault) -> Self {
        self.next_fault = Some(fault);
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
