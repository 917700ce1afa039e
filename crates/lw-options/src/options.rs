//! [`Options`]: what the configure callback changes, and its registration and hook methods.

use std::{sync::Arc, time::Duration};

use temporalio_client::{ClientOptions, ConnectionOptions};
use temporalio_common::{
    ActivityDefinition, WorkflowDefinition,
    telemetry::metrics::CoreMeter,
    worker::{VersioningBehavior, WorkerDeploymentVersion},
};
use temporalio_sdk::{
    WorkerOptions,
    activities::{ActivityImplementer, ExecutableActivity},
    workflows::WorkflowImplementation,
};

use crate::{
    BoxError, InvocationReport, InvocationStart, OptionsError, ShutdownContext, defaults,
    hooks::{ShutdownHook, StartHook},
    invocation::{InvocationConfig, InvocationHook},
    report::EndHook,
};

/// Per-workflow registration options.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RegisterOptions {
    /// AutoUpgrade or Pinned. `None` uses [`Options::default_versioning_behavior`].
    pub versioning_behavior: Option<VersioningBehavior>,
}

impl RegisterOptions {
    /// Options declaring `behavior`.
    pub fn versioning_behavior(behavior: VersioningBehavior) -> Self {
        Self {
            versioning_behavior: Some(behavior),
        }
    }
}

/// What the configure callback gets: defaults pre-filled, everything public overridable.
///
/// The connection, client and worker settings are the Temporal SDK's own option types, so
/// anything the SDK can set is set here the same way. Three things the Lambda lifecycle owns
/// are enforced on every invocation's copy of [`Options::worker_options`], whatever it holds:
/// the task queue ([`Options::task_queue`]), the deployment options (this
/// [`Options::deployment_version`] with Worker Deployment Versioning on and the registered
/// workflows' behaviour) and eager activities (off: an eagerly dispatched activity would be
/// lost when the invocation's connection closes). The worker identity is
/// `<requestId>@<functionArn>` unless `worker_options.client_identity_override` is set.
#[non_exhaustive]
pub struct Options {
    /// Task queue to poll. `run_worker` pre-fills it from `TEMPORAL_TASK_QUEUE`; required.
    pub task_queue: String,
    /// The Worker Deployment Version this function serves (from `run_worker`).
    pub deployment_version: WorkerDeploymentVersion,
    /// Connection settings (address, TLS, API key, headers), pre-filled from `lw-config`.
    pub connection_options: ConnectionOptions,
    /// Client settings (namespace, data converter, interceptors), pre-filled from `lw-config`.
    pub client_options: ClientOptions,
    /// Where each connection setting came from (file and key, environment variable, code
    /// override or default), filled by [`Options::from_config`]. A failed connection's
    /// message names the setting to fix from it. If the configure callback replaces a
    /// connection setting, set its entry here too (say, `"my secrets manager"`).
    pub connection_sources: lw_config::Sources,
    /// The SDK's worker options, pre-filled with the Lambda defaults
    /// ([`defaults::worker_options`]): slot limits (`tuner`, see
    /// [`defaults::SlotLimits`]), pollers, sticky cache, `graceful_shutdown_period` (the stop
    /// timeout, 5 s; required), interceptors, heartbeat throttling and the rest. Register
    /// workflows and activities through [`Options`]' own methods, which also record each
    /// workflow's versioning behaviour.
    pub worker_options: WorkerOptions,
    /// Versioning behaviour for workflows registered without their own. Default `None`:
    /// every workflow must then declare one.
    pub default_versioning_behavior: Option<VersioningBehavior>,
    /// Time before the invocation deadline at which the worker starts draining. `None` (the
    /// default): the stop timeout + 2 s. Set, it must be at least the stop timeout.
    pub shutdown_deadline_buffer: Option<Duration>,
    /// Idle early exit (opt-in): when set, an invocation stops polling, drains and returns
    /// once nothing (no workflow activation, activity or local activity) has been in flight
    /// for this long since the worker started or last finished something. `run_worker`
    /// pre-fills it from `LAMBDAWORKER_IDLE_EXIT` (`2s`, `500ms`, `off`). Default `None`:
    /// poll until the deadline minus the buffer, as every other SDK does.
    ///
    /// Use it only when Temporal's Worker Controller invokes the function (serverless
    /// workers): it invokes again as soon as a task finds no poller, so nothing waits long.
    /// The cost: the sticky cache goes with the worker, so a workflow's next task replays
    /// its history on the next invocation. Between 100 ms and 15 minutes.
    pub idle_exit: Option<Duration>,
    /// Print the [`InvocationReport`] as one JSON line on stdout at the end of every
    /// invocation. Default `true`; the hooks and the response body get it either way.
    pub print_report: bool,
    pub(crate) workflows: Vec<(&'static str, Option<VersioningBehavior>)>,
    pub(crate) activities_registered: bool,
    pub(crate) hooks: Vec<ShutdownHook>,
    pub(crate) start_hooks: Vec<StartHook>,
    pub(crate) invocation_hooks: Vec<InvocationHook>,
    pub(crate) end_hooks: Vec<EndHook>,
    pub(crate) metrics_meter: Option<Arc<dyn CoreMeter>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wo = &self.worker_options;
        f.debug_struct("Options")
            .field("task_queue", &self.task_queue)
            .field("deployment_version", &self.deployment_version)
            .field("target", &self.connection_options.target.as_str())
            .field("namespace", &self.client_options.namespace)
            .field("tuner", &wo.tuner)
            .field("max_cached_workflows", &wo.max_cached_workflows)
            .field("graceful_shutdown_period", &wo.graceful_shutdown_period)
            .field(
                "default_versioning_behavior",
                &self.default_versioning_behavior,
            )
            .field("shutdown_deadline_buffer", &self.shutdown_deadline_buffer)
            .field("idle_exit", &self.idle_exit)
            .field("workflows", &self.workflows)
            .field("shutdown_hooks", &self.hooks.len())
            .field("invocation_hooks", &self.invocation_hooks.len())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Options pre-filled from resolved configuration, reading certificate files.
    pub fn from_config(
        version: WorkerDeploymentVersion,
        config: &lw_config::ClientConfig,
        task_queue: Option<String>,
    ) -> Result<Self, OptionsError> {
        let (connection_options, client_options) = config.to_options()?;
        let mut me = Self::with_client(version, connection_options, client_options);
        me.connection_sources = config.sources.clone();
        if let Some(q) = task_queue {
            me.task_queue = q;
        }
        Ok(me)
    }

    /// Options with explicit client settings (no config resolution).
    pub fn with_client(
        version: WorkerDeploymentVersion,
        connection_options: ConnectionOptions,
        client_options: ClientOptions,
    ) -> Self {
        Self {
            task_queue: String::new(),
            deployment_version: version,
            connection_options,
            client_options,
            connection_sources: lw_config::Sources::default(),
            worker_options: defaults::worker_options(),
            default_versioning_behavior: None,
            shutdown_deadline_buffer: None,
            idle_exit: None,
            print_report: true,
            workflows: Vec::new(),
            activities_registered: false,
            hooks: Vec::new(),
            start_hooks: Vec::new(),
            invocation_hooks: Vec::new(),
            end_hooks: Vec::new(),
            metrics_meter: None,
        }
    }

    /// The workflow types registered so far, in registration order.
    pub fn workflow_types(&self) -> Vec<&'static str> {
        self.workflows.iter().map(|(name, _)| *name).collect()
    }

    /// Registers a workflow using [`Options::default_versioning_behavior`].
    pub fn register_workflow<W>(&mut self) -> Result<&mut Self, OptionsError>
    where
        W: WorkflowImplementation,
        <W::Run as WorkflowDefinition>::Input: Send,
    {
        self.register_workflow_with_options::<W>(RegisterOptions::default())
    }

    /// Registers a workflow declaring its versioning behaviour.
    pub fn register_workflow_with_options<W>(
        &mut self,
        options: RegisterOptions,
    ) -> Result<&mut Self, OptionsError>
    where
        W: WorkflowImplementation,
        <W::Run as WorkflowDefinition>::Input: Send,
    {
        self.worker_options
            .register_workflow::<W>()
            .map_err(OptionsError::Registration)?;
        self.workflows
            .push((W::name(), options.versioning_behavior));
        Ok(self)
    }

    /// Registers every activity of an `#[activities]` implementer.
    pub fn register_activities<AI: ActivityImplementer>(&mut self, instance: AI) -> &mut Self {
        self.worker_options.register_activities(instance);
        self.activities_registered = true;
        self
    }

    /// Registers one activity. Activity names come from `#[activity(name = "...")]`; the
    /// Temporal Rust SDK 1.1.1 has no other per-activity registration options.
    pub fn register_activity<AD>(&mut self, instance: Arc<AD::Implementer>) -> &mut Self
    where
        AD: ActivityDefinition + ExecutableActivity,
        AD::Input: Send + Sync,
        AD::Output: Send + Sync,
    {
        self.worker_options.register_activity::<AD>(instance);
        self.activities_registered = true;
        self
    }

    /// Adds a hook run after the worker has drained and before the client closes, in
    /// registration order, on every invocation (also when connecting or starting failed),
    /// after the invocation's teardowns ([`InvocationConfig::on_teardown`]).
    /// Each is told its remaining budget and given the client ([`ShutdownContext::client`]),
    /// and is cut off at the invocation's deadline; an error is logged and the next hook
    /// still runs.
    pub fn on_shutdown<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(ShutdownContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.hooks.push(ShutdownHook::new(hook));
        self
    }

    /// Adds a hook run at the start of every invocation, before connecting, with what is known
    /// about it (request id, ARN, X-Ray trace header, deadline, cold or warm). It must be
    /// quick: it runs on the invocation's path. `lw-otel` starts the invocation span here.
    pub fn on_invocation_start<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&InvocationStart) + Send + Sync + 'static,
    {
        self.start_hooks.push(StartHook::new(hook));
        self
    }

    /// Adds an async callback run on every invocation, after the invocation-start hooks and
    /// before connecting: it sees the invocation ([`InvocationConfig::invocation`]: request
    /// id, deadline, invoked ARN, cold or warm; [`InvocationConfig::event`]: the event) and
    /// may change what a worker may change per invocation (the connection's API key and
    /// headers, the identity, slots, pollers, activity instances), and register a teardown
    /// ([`InvocationConfig::on_teardown`]) run after the drain, before the response.
    ///
    /// Callbacks run in registration order, each on the same [`InvocationConfig`]. Their time
    /// counts against the invocation's work window: a callback still running when only 1 s of
    /// it is left is cut off, and the invocation fails (`InvocationConfigureTimeout`). An
    /// error or a panic fails this invocation only (`InvocationConfigure`), as do options it
    /// leaves invalid (`InvocationOptions`); the shutdown hooks and the teardowns registered so
    /// far still run. What the process builds once (a pool, a client) belongs in the
    /// configure callback, given to activities through their instance; what changes per
    /// invocation belongs here.
    ///
    /// Write it as an `async` closure (`async move |inv| { .. }`): its future may borrow the
    /// [`InvocationConfig`] and the closure's captures. Without a callback registered (the
    /// default), nothing of this runs.
    ///
    /// ```
    /// # let mut opts = lw_options::Options::with_client(
    /// #     lw_options::WorkerDeploymentVersion::builder().deployment_name("a").build_id("b").build(),
    /// #     temporalio_client::ConnectionOptions::new(temporalio_client::Url::parse("http://localhost:7233").unwrap()).build(),
    /// #     temporalio_client::ClientOptions::new("default").build());
    /// # async fn fetch_api_key(_request_id: &str) -> Result<String, lw_options::BoxError> { Ok("key".into()) }
    /// opts.on_invocation(async |inv| {
    ///     inv.connection_options.api_key = Some(fetch_api_key(&inv.invocation.request_id).await?);
    ///     let request_id = inv.invocation.request_id.clone();
    ///     inv.on_teardown(move |_ctx| async move {
    ///         println!("{request_id} done");
    ///         Ok(())
    ///     });
    ///     Ok(())
    /// });
    /// ```
    pub fn on_invocation<F>(&mut self, callback: F) -> &mut Self
    where
        F: AsyncFn(&mut InvocationConfig) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        self.invocation_hooks.push(InvocationHook::new(callback));
        self
    }

    /// Adds a hook run at the end of every invocation (also a failed one) with its
    /// [`InvocationReport`], after the shutdown hooks and the close, just before the response
    /// is posted. It must be quick. A panicking hook is logged.
    pub fn on_invocation_end<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&InvocationReport) + Send + Sync + 'static,
    {
        self.end_hooks.push(EndHook::new(hook));
        self
    }

    /// Sends the SDK's worker metrics to `meter` (the process's SDK runtime is built with it
    /// at init). Client metrics go through `connection_options.metrics_meter`. `lw-otel` sets
    /// both to an OpenTelemetry meter it can flush every invocation.
    pub fn set_metrics_meter(&mut self, meter: Arc<dyn CoreMeter>) -> &mut Self {
        self.metrics_meter = Some(meter);
        self
    }
}
