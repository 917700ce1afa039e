//! Per-invocation configuration: what [`crate::Options::on_invocation`] callbacks get
//! ([`InvocationConfig`]), and the teardowns they register ([`Teardown`]).

use std::{pin::Pin, sync::Arc};

use temporalio_client::ConnectionOptions;
use temporalio_sdk::{WorkerOptions, activities::ActivityImplementer};

use crate::{BoxError, InvocationStart, ShutdownContext};

/// A future the per-invocation callback returns, borrowing its [`InvocationConfig`].
type ConfigureFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + 'a>>;

/// The type-erased per-invocation callback.
type ConfigureFn = dyn for<'a> Fn(&'a mut InvocationConfig) -> ConfigureFuture<'a> + Send + Sync;

/// The type-erased teardown.
type TeardownFn = dyn FnOnce(ShutdownContext) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>
    + Send;

/// What one invocation may change before its client connects and its worker starts: given to
/// every [`crate::Options::on_invocation`] callback, in registration order.
///
/// It starts from the options the configure callback left (validated at init), with this
/// invocation's identity. What it holds after the callbacks is checked as at init (headers
/// sendable, slots and pollers in range) and the lifecycle's own settings are enforced again
/// (task queue, Worker Deployment Versioning, eager activities off): only the connection
/// (API key, headers, ...), the identity and the worker's own options (slots, pollers, rate
/// limits, activity instances) change per invocation.
#[non_exhaustive]
pub struct InvocationConfig {
    /// What is known about the invocation: request id, invoked ARN, X-Ray header, deadline,
    /// cold or warm.
    pub invocation: InvocationStart,
    /// The event Lambda delivered (`Null` in local mode, or when there was none).
    pub event: serde_json::Value,
    /// The worker identity: `<requestId>@<functionArn>` unless the configure callback set
    /// `worker_options.client_identity_override`. Set it here to change it for this
    /// invocation (connection and worker both use it; `None` leaves the SDK's default).
    pub identity: Option<String>,
    /// This invocation's connection settings: the API key, gRPC headers (`headers`), TLS and
    /// the rest. Start from what init resolved.
    pub connection_options: ConnectionOptions,
    /// This invocation's SDK worker options: slots (`tuner`), pollers, rate limits and the
    /// registrations ([`InvocationConfig::register_activities`] replaces an instance for this
    /// invocation only). The task queue, deployment options and eager activities are enforced
    /// after the callbacks, whatever this holds.
    pub worker_options: WorkerOptions,
    teardowns: Vec<Teardown>,
}

impl std::fmt::Debug for InvocationConfig {
    /// Names, never the connection's values (the API key and headers are secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvocationConfig")
            .field("invocation", &self.invocation)
            .field("identity", &self.identity)
            .field("target", &self.connection_options.target.as_str())
            .field("teardowns", &self.teardowns.len())
            .finish_non_exhaustive()
    }
}

impl InvocationConfig {
    /// The configuration one invocation starts from.
    pub fn new(
        invocation: InvocationStart,
        event: serde_json::Value,
        identity: Option<String>,
        connection_options: ConnectionOptions,
        worker_options: WorkerOptions,
    ) -> Self {
        Self {
            invocation,
            event,
            identity,
            connection_options,
            worker_options,
            teardowns: Vec::new(),
        }
    }

    /// Registers every activity of an `#[activities]` implementer for this invocation only,
    /// replacing the instance registered at init under the same activity names: the way to
    /// hand an activity values of this invocation (its request id, credentials fetched for
    /// it) beside state shared by the process (an `Arc` of a pool built at init).
    pub fn register_activities<AI: ActivityImplementer>(&mut self, instance: AI) -> &mut Self {
        self.worker_options.register_activities(instance);
        self
    }

    /// Adds a teardown for this invocation: run after the worker has drained and before the
    /// response is posted, before the process's shutdown hooks (`Options::on_shutdown`), with
    /// the same budget and the still connected client. Teardowns run in reverse order of
    /// registration (the last set up is the first torn down), also when connecting or
    /// running failed and when a later callback failed; an error, a panic or an overrun is
    /// logged and the next one runs.
    pub fn on_teardown<F, Fut>(&mut self, teardown: F) -> &mut Self
    where
        F: FnOnce(ShutdownContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.teardowns
            .push(Teardown(Box::new(move |ctx| Box::pin(teardown(ctx)))));
        self
    }

    /// Takes the teardowns registered so far, in registration order (for the engine).
    pub fn take_teardowns(&mut self) -> Vec<Teardown> {
        std::mem::take(&mut self.teardowns)
    }
}

/// A teardown registered with [`InvocationConfig::on_teardown`].
pub struct Teardown(Box<TeardownFn>);

impl std::fmt::Debug for Teardown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Teardown")
    }
}

impl Teardown {
    /// Runs the teardown.
    pub fn call(self, ctx: ShutdownContext) -> impl Future<Output = Result<(), BoxError>> + Send {
        (self.0)(ctx)
    }
}

/// A registered per-invocation callback ([`crate::Options::on_invocation`]).
#[derive(Clone)]
pub struct InvocationHook(Arc<ConfigureFn>);

impl std::fmt::Debug for InvocationHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvocationHook")
    }
}

/// Gives a closure the higher-ranked signature [`ConfigureFn`] needs.
fn erased<C>(c: C) -> C
where
    C: for<'a> Fn(&'a mut InvocationConfig) -> ConfigureFuture<'a>,
{
    c
}

impl InvocationHook {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: AsyncFn(&mut InvocationConfig) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        Self(Arc::new(erased(move |config| {
            let f = f.clone();
            Box::pin(async move { (*f)(config).await })
        })))
    }

    /// Runs the callback on `config`.
    pub fn call<'a>(
        &self,
        config: &'a mut InvocationConfig,
    ) -> impl Future<Output = Result<(), BoxError>> + 'a {
        (self.0)(config)
    }
}
