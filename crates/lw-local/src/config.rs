//! [`FunctionConfig`]: what a function registered with lw-local is (name, program, limits,
//! environment), with Lambda's defaults, and the [`FunctionSpec`] each of its instances is
//! started from.

use std::{path::PathBuf, time::Duration};

use crate::FunctionSpec;

/// A function registered with the local Lambda service.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// Function name (the ARN is `arn:aws:lambda:us-east-1:000000000000:function:<name>`).
    pub name: String,
    /// The `bootstrap` program.
    pub bootstrap: PathBuf,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Function timeout.
    pub timeout: Duration,
    /// Memory, MB (billing and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u32,
    /// Reserved concurrency: at most this many instances run at once.
    pub concurrency: usize,
    /// Invocations one instance holds at once (Lambda Managed Instances'
    /// `PerExecutionEnvironmentMaxConcurrency`; the process gets `AWS_LAMBDA_MAX_CONCURRENCY`).
    /// Default 1: one at a time, as on Lambda (default).
    pub per_instance_concurrency: u32,
    /// The capacity provider (recorded) of a function created for Lambda Managed Instances
    /// through the API.
    pub capacity_provider: Option<String>,
    /// `LAMBDA_TASK_ROOT` and working directory.
    pub task_root: Option<PathBuf>,
    /// The function's description.
    pub description: String,
    /// The execution role (recorded; nothing here assumes it).
    pub role: String,
}

impl FunctionConfig {
    /// A function with Lambda's defaults for the rest: 60 s timeout, 256 MB, concurrency 10.
    pub fn new(name: impl Into<String>, bootstrap: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            bootstrap: bootstrap.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(60),
            memory_mb: 256,
            concurrency: 10,
            per_instance_concurrency: 1,
            capacity_provider: None,
            task_root: None,
            description: String::new(),
            role: "arn:aws:iam::000000000000:role/lambda-execution".into(),
        }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the memory size.
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// Sets the reserved concurrency.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Lets each instance hold up to `n` invocations at once (Lambda Managed Instances).
    pub fn per_instance_concurrency(mut self, n: u32) -> Self {
        self.per_instance_concurrency = n.max(1);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The unqualified ARN.
    pub fn arn(&self) -> String {
        self.spec(None).arn()
    }

    /// The spec an instance of this function runs with: `version` is the published version
    /// it serves (`None`: `$LATEST`).
    pub(crate) fn spec(&self, version: Option<&str>) -> FunctionSpec {
        let mut spec = FunctionSpec::new(&self.bootstrap, &self.name).timeout(self.timeout);
        spec.memory_mb = self.memory_mb;
        spec.task_root = self.task_root.clone();
        spec.env = self.env.clone();
        spec.version = version.map(str::to_owned);
        spec.max_concurrency = self.per_instance_concurrency;
        spec
    }
}
