use std::{pin::Pin, sync::Arc, time::Duration};

use tokio::time::Instant;

/// The error type shutdown hooks return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

type HookFn = dyn Fn(ShutdownContext) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>
    + Send
    + Sync;

/// What a shutdown hook is told: how long it may take.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownContext {
    deadline: Instant,
}

impl ShutdownContext {
    /// A context whose budget ends at `deadline`.
    pub fn new(deadline: Instant) -> Self {
        Self { deadline }
    }

    /// When the hook is cut off.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Budget left for this hook.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
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
