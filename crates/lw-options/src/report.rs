//! What one invocation did: the response body, the JSON report line, and what
//! [`crate::Options::on_invocation_end`] hooks receive.

use std::sync::Arc;

use serde::Serialize;

/// How the worker's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// Drained within the stop timeout.
    Drained,
    /// The drain overran and the run was dropped.
    Forced,
}

/// Why the invocation stopped polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// The deadline minus the shutdown buffer was reached.
    Deadline,
    /// Nothing was in flight for the idle period ([`crate::Options::idle_exit`]).
    Idle,
    /// The process was asked to stop (SIGTERM: Lambda's shutdown phase, or Ctrl-C).
    Shutdown,
    /// The invocation failed (see `error`).
    Error,
}

/// Something that went less than well without failing the invocation; each is also logged
/// as a warning. Serialised in snake case (`"little_work_time"`, ...) in the report line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// Less than 5 s of work time: raise the function timeout.
    LittleWorkTime,
    /// An invocation-start hook panicked.
    StartHookPanicked,
    /// The worker reported an error while draining.
    DrainError,
    /// In-flight work outlived the stop timeout; the run was dropped.
    ForcedStop,
    /// Stopped early on SIGTERM.
    ShutdownRequested,
    /// The runtime sent no usable deadline; a default window was used.
    NoDeadline,
}

/// What an invocation did.
///
/// The Lambda response body, printed as one JSON line (`"lambdaworker": "invocation"`) at the
/// end of every invocation, and handed to [`crate::Options::on_invocation_end`] hooks, e.g.
/// to emit it as metrics. Durations are milliseconds.
///
/// ```
/// # let mut opts = lw_options::Options::with_client(
/// #     lw_options::WorkerDeploymentVersion::builder().deployment_name("a").build_id("b").build(),
/// #     temporalio_client::ConnectionOptions::new(temporalio_client::Url::parse("http://localhost:7233").unwrap()).build(),
/// #     temporalio_client::ClientOptions::new("default").build());
/// opts.on_invocation_end(|report| {
///     if report.ended == lw_options::Ended::Idle {
///         println!("left {} ms early", report.billed_ms);
///     }
/// });
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct InvocationReport {
    /// The request id.
    pub request_id: String,
    /// The worker identity used.
    pub identity: Option<String>,
    /// Whether this was the process's first invocation.
    pub cold: bool,
    /// Why polling stopped.
    pub ended: Ended,
    /// How the run ended, when a worker ran.
    pub run_end: Option<RunEnd>,
    /// The error kind (the `lw_runtime::Error` variant), when `ended` is `error`.
    pub error: Option<String>,
    /// Cold invocations: process init (from `run_worker` to ready), ms.
    pub init_ms: Option<u64>,
    /// The per-invocation callbacks (`Options::on_invocation`), ms; 0 without any.
    pub configure_ms: u64,
    /// Connect time, ms.
    pub connect_ms: u64,
    /// Creating the worker, ms.
    pub worker_start_ms: u64,
    /// From worker start to the stop request, ms.
    pub poll_ms: u64,
    /// From the stop request to the run's end, ms.
    pub drain_ms: u64,
    /// Teardowns and shutdown hooks, ms.
    pub hooks_ms: u64,
    /// Workflow activations completed.
    pub workflow_activations: u64,
    /// Activities completed (any outcome).
    pub activities: u64,
    /// Local activities completed (any outcome).
    pub local_activities: u64,
    /// From the invocation's hand-out to this report (the response is posted right after):
    /// the billed duration, ms.
    pub billed_ms: u64,
    /// What went less than well without failing the invocation.
    pub warnings: Vec<Warning>,
}

impl InvocationReport {
    /// An empty report for `request_id`: filled in as the invocation goes.
    pub fn new(request_id: impl Into<String>, cold: bool) -> Self {
        Self {
            request_id: request_id.into(),
            identity: None,
            cold,
            ended: Ended::Deadline,
            run_end: None,
            error: None,
            init_ms: None,
            configure_ms: 0,
            connect_ms: 0,
            worker_start_ms: 0,
            poll_ms: 0,
            drain_ms: 0,
            hooks_ms: 0,
            workflow_activations: 0,
            activities: 0,
            local_activities: 0,
            billed_ms: 0,
            warnings: Vec::new(),
        }
    }

    /// The one-line JSON form printed at the end of every invocation.
    pub fn to_json_line(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("lambdaworker".into(), "invocation".into());
        }
        v.to_string()
    }
}

/// A registered invocation-end hook.
#[derive(Clone)]
pub struct EndHook(Arc<dyn Fn(&InvocationReport) + Send + Sync>);

impl std::fmt::Debug for EndHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndHook")
    }
}

impl EndHook {
    pub(crate) fn new(f: impl Fn(&InvocationReport) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Runs the hook.
    pub fn call(&self, report: &InvocationReport) {
        (self.0)(report)
    }
}
