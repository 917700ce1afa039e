use std::{pin::Pin, sync::Arc, time::Duration};

use temporalio_client::Client;
use tokio::time::Instant;

/// The error type hooks and the configure callback return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

type HookFn = dyn Fn(ShutdownContext) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>
    + Send
    + Sync;

/// What a shutdown hook is told: how long it may take, and the invocation's client.
///
/// Hooks run after the worker has drained and before the client is closed, so a hook can
/// still call Temporal through [`ShutdownContext::client`].
#[derive(Clone)]
pub struct ShutdownContext {
    deadline: Instant,
    client: Option<Client>,
}

impl std::fmt::Debug for ShutdownContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownContext")
            .field("deadline", &self.deadline)
            .field("client", &self.client.is_some())
            .finish()
    }
}

impl ShutdownContext {
    /// A context whose budget ends at `deadline`, with no client.
    pub fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            client: None,
        }
    }

    /// The same context carrying the invocation's connected client.
    pub fn with_client(mut self, client: Option<Client>) -> Self {
        self.client = client;
        self
    }

    /// When the hook is cut off.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Budget left for this hook.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The invocation's client, still connected; `None` when connecting failed (hooks run
    /// then too) or under a custom backend that has no SDK client.
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }
}

/// A registered shutdown hook.
#[derive(Clone)]
pub struct ShutdownHook(Arc<HookFn>);

impl std::fmt::Debug for ShutdownHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShutdownHook")
    }
}

impl ShutdownHook {
    pub(crate) fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(ShutdownContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        Self(Arc::new(move |ctx| Box::pin(f(ctx))))
    }

    /// Runs the hook.
    pub fn call(&self, ctx: ShutdownContext) -> impl Future<Output = Result<(), BoxError>> + Send {
        (self.0)(ctx)
    }
}

/// What an invocation-start hook is told: the invocation about to run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationStart {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// The invoked function's ARN.
    pub function_arn: String,
    /// Lambda's X-Ray trace header (`Lambda-Runtime-Trace-Id`), when it sent one.
    pub xray_trace_id: Option<String>,
    /// When the invocation must have answered.
    pub deadline: Instant,
    /// Whether this is the process's first invocation (a cold start).
    pub cold: bool,
}

impl InvocationStart {
    /// Describes an invocation.
    pub fn new(
        request_id: impl Into<String>,
        function_arn: impl Into<String>,
        xray_trace_id: Option<String>,
        deadline: Instant,
        cold: bool,
    ) -> Self {
        Self {
            request_id: request_id.into(),
            function_arn: function_arn.into(),
            xray_trace_id,
            deadline,
            cold,
        }
    }
}

/// A registered invocation-start hook.
#[derive(Clone)]
pub struct StartHook(Arc<dyn Fn(&InvocationStart) + Send + Sync>);

impl std::fmt::Debug for StartHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StartHook")
    }
}

impl StartHook {
    pub(crate) fn new(f: impl Fn(&InvocationStart) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Runs the hook.
    pub fn call(&self, start: &InvocationStart) {
        (self.0)(start)
    }
}
