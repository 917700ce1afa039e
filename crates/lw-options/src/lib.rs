#![warn(missing_docs)]
//! The [`Options`] a Lambda worker's configure callback receives.
//!
//! [`Options`] arrives pre-filled: client settings resolved by `lw-config`, the task queue
//! from `TEMPORAL_TASK_QUEUE`, and the Lambda-tuned worker defaults below. The callback
//! changes any public field and registers workflows, activities and shutdown hooks; what it
//! sets always wins. After the callback, [`Options::validate`] checks the result once, at
//! init, and [`Options::worker_options`] builds a fresh SDK `WorkerOptions` for each
//! invocation.
//!
//! | setting | Lambda default |
//! |---|---|
//! | max concurrent activities | 2 |
//! | max concurrent workflow tasks | 10 |
//! | max concurrent local activities | 2 |
//! | max concurrent Nexus tasks | 5 |
//! | workflow / activity / Nexus task pollers | 2 / 1 / 1 |
//! | stop timeout | 5 s |
//! | eager activities | always disabled |
//! | sticky cache | 100 workflows |
//! | shutdown deadline buffer | stop timeout + 2 s |
//!
//! This crate knows nothing of Lambda's runtime: the lifecycle lives in `lw-runtime`.
//!
//! ```
//! use lw_options::{Options, VersioningBehavior, WorkerDeploymentVersion};
//! use std::time::Duration;
//!
//! let version = WorkerDeploymentVersion::builder()
//!     .deployment_name("my-app")
//!     .build_id("build-1")
//!     .build();
//! let config = lw_config::ClientConfig::load_from(&Default::default())?;
//! let mut opts = Options::from_config(version, &config, None)?;
//! opts.task_queue = "my-task-queue".into();
//! opts.worker.max_concurrent_activities = 5;
//! opts.worker.stop_timeout = Duration::from_secs(8);
//! opts.default_versioning_behavior = Some(VersioningBehavior::AutoUpgrade);
//! opts.on_shutdown(|ctx| async move {
//!     println!("{:?} left to flush", ctx.remaining());
//!     Ok(())
//! });
//! # struct Acts;
//! # #[temporalio_macros::activities] impl Acts { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
//! # opts.register_activities(Acts);
//! let validated = opts.validate()?;
//! // The buffer follows the changed stop timeout.
//! assert_eq!(validated.shutdown_deadline_buffer(), Duration::from_secs(10));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod hooks;
mod report;

use std::{sync::Arc, time::Duration};

use temporalio_client::{ClientOptions, ConnectionOptions};
use temporalio_common::{ActivityDefinition, WorkflowDefinition, worker::WorkerDeploymentOptions};
use temporalio_sdk::{
    WorkerOptions,
    activities::{ActivityImplementer, ExecutableActivity},
    runtime::{
        PollerBehavior,
        worker_tuner::{FixedSizeSlotSupplier, TunerHolder, WorkerTuner},
    },
};

pub use error::OptionsError;
pub use hooks::{BoxError, InvocationStart, ShutdownContext, ShutdownHook, StartHook};
pub use report::{EndHook, Ended, InvocationReport, RunEnd};
/// The Temporal SDK's metrics backend trait, for [`Options::set_metrics_meter`].
pub use temporalio_common::telemetry::metrics::CoreMeter;
pub use temporalio_common::worker::{VersioningBehavior, WorkerDeploymentVersion};
pub use temporalio_sdk::workflows::WorkflowImplementation;

/// Defaults applied before the configure callback runs (the seed's table).
pub mod defaults {
    use std::time::Duration;
    /// Activities running at once.
    pub const MAX_CONCURRENT_ACTIVITIES: usize = 2;
    /// Workflow tasks processed at once.
    pub const MAX_CONCURRENT_WORKFLOW_TASKS: usize = 10;
    /// Local activities running at once.
    pub const MAX_CONCURRENT_LOCAL_ACTIVITIES: usize = 2;
    /// Nexus tasks processed at once.
    pub const MAX_CONCURRENT_NEXUS_TASKS: usize = 5;
    /// Concurrent workflow task polls (the SDK needs at least 2 with a sticky cache).
    pub const WORKFLOW_TASK_POLLERS: usize = 2;
    /// Concurrent activity task polls.
    pub const ACTIVITY_TASK_POLLERS: usize = 1;
    /// Concurrent Nexus task polls.
    pub const NEXUS_TASK_POLLERS: usize = 1;
    /// How long the drain waits for in-flight work.
    pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);
    /// Workflows kept in the sticky cache.
    pub const STICKY_CACHE_SIZE: usize = 100;
    /// Added to the stop timeout to give the default shutdown deadline buffer.
    pub const BUFFER_MARGIN: Duration = Duration::from_secs(2);
}

/// Worker limits and behaviour, pre-filled with the Lambda-tuned [`defaults`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerSettings {
    /// Activities running at once. Default 2.
    pub max_concurrent_activities: usize,
    /// Workflow tasks processed at once. Default 10.
    pub max_concurrent_workflow_tasks: usize,
    /// Local activities running at once. Default 2.
    pub max_concurrent_local_activities: usize,
    /// Nexus tasks processed at once. Default 5 (kept for when the SDK can register Nexus
    /// handlers; 1.1.1 cannot).
    pub max_concurrent_nexus_tasks: usize,
    /// Concurrent workflow task polls. Default 2.
    pub workflow_task_pollers: usize,
    /// Concurrent activity task polls. Default 1.
    pub activity_task_pollers: usize,
    /// Concurrent Nexus task polls. Default 1.
    pub nexus_task_pollers: usize,
    /// Workflows kept in the sticky cache (0 disables it). Default 100.
    pub max_cached_workflows: usize,
    /// How long the drain waits for in-flight work before cancelling activities and then
    /// abandoning them. Default 5 s.
    pub stop_timeout: Duration,
    /// Worker identity. Default: `<requestId>@<functionArn>` per invocation.
    pub identity: Option<String>,
    /// A tuner that replaces the four fixed slot limits above, if set.
    pub tuner: Option<WorkerTuner>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            max_concurrent_activities: defaults::MAX_CONCURRENT_ACTIVITIES,
            max_concurrent_workflow_tasks: defaults::MAX_CONCURRENT_WORKFLOW_TASKS,
            max_concurrent_local_activities: defaults::MAX_CONCURRENT_LOCAL_ACTIVITIES,
            max_concurrent_nexus_tasks: defaults::MAX_CONCURRENT_NEXUS_TASKS,
            workflow_task_pollers: defaults::WORKFLOW_TASK_POLLERS,
            activity_task_pollers: defaults::ACTIVITY_TASK_POLLERS,
            nexus_task_pollers: defaults::NEXUS_TASK_POLLERS,
            max_cached_workflows: defaults::STICKY_CACHE_SIZE,
            stop_timeout: defaults::STOP_TIMEOUT,
            identity: None,
            tuner: None,
        }
    }
}

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

type WorkerCustomizer = Arc<dyn Fn(&mut WorkerOptions) + Send + Sync>;

/// What the configure callback gets: defaults pre-filled, everything public overridable.
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
    /// Worker limits, pre-filled with the Lambda defaults.
    pub worker: WorkerSettings,
    /// Versioning behaviour for workflows registered without their own. Default `None`:
    /// every workflow must then declare one.
    pub default_versioning_behavior: Option<VersioningBehavior>,
    /// Time before the invocation deadline at which the worker starts draining. Default:
    /// stop timeout + 2 s; recomputed from a changed stop timeout unless set here.
    pub shutdown_deadline_buffer: Duration,
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
    registry: WorkerOptions,
    workflows: Vec<(&'static str, Option<VersioningBehavior>)>,
    activities_registered: bool,
    hooks: Vec<ShutdownHook>,
    start_hooks: Vec<StartHook>,
    end_hooks: Vec<EndHook>,
    customizers: Vec<WorkerCustomizer>,
    metrics_meter: Option<Arc<dyn CoreMeter>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("task_queue", &self.task_queue)
            .field("deployment_version", &self.deployment_version)
            .field("target", &self.connection_options.target.as_str())
            .field("namespace", &self.client_options.namespace)
            .field("worker", &self.worker)
            .field(
                "default_versioning_behavior",
                &self.default_versioning_behavior,
            )
            .field("shutdown_deadline_buffer", &self.shutdown_deadline_buffer)
            .field("idle_exit", &self.idle_exit)
            .field("workflows", &self.workflows)
            .field("shutdown_hooks", &self.hooks.len())
            .finish_non_exhaustive()
    }
}

const IDLE_EXIT_MIN: Duration = Duration::from_millis(100);
const IDLE_EXIT_MAX: Duration = Duration::from_secs(15 * 60);

/// Parses an idle-exit setting as `LAMBDAWORKER_IDLE_EXIT` writes it: `2s`, `1.5s`, `500ms`,
/// `2` (seconds); `off`, `0` or empty for none. `source` names where the text came from.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(lw_options::parse_idle_exit("500ms", "X").unwrap(), Some(Duration::from_millis(500)));
/// assert_eq!(lw_options::parse_idle_exit("off", "X").unwrap(), None);
/// assert!(lw_options::parse_idle_exit("soon", "X").is_err());
/// ```
pub fn parse_idle_exit(text: &str, source: &str) -> Result<Option<Duration>, OptionsError> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() || t == "off" || t == "false" || t == "0" {
        return Ok(None);
    }
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t.as_str(), 1.0)
    };
    let bad = || {
        OptionsError::InvalidIdleExit(format!(
            "{source} is {text:?}: write a duration such as 2s, 1.5s, 500ms or 1min, or off; it must be between 100ms and 15min"
        ))
    };
    let secs: f64 = number.trim().parse().map_err(|_| bad())?;
    let d = Duration::try_from_secs_f64(secs * scale).map_err(|_| bad())?;
    if !(IDLE_EXIT_MIN..=IDLE_EXIT_MAX).contains(&d) {
        return Err(bad());
    }
    Ok(Some(d))
}

/// The default shutdown buffer for a stop timeout.
pub fn default_buffer(stop_timeout: Duration) -> Duration {
    stop_timeout + defaults::BUFFER_MARGIN
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
        let worker = WorkerSettings::default();
        Self {
            task_queue: String::new(),
            deployment_version: version,
            connection_options,
            client_options,
            shutdown_deadline_buffer: default_buffer(worker.stop_timeout),
            worker,
            default_versioning_behavior: None,
            registry: WorkerOptions::new("").build(),
            workflows: Vec::new(),
            activities_registered: false,
            hooks: Vec::new(),
            start_hooks: Vec::new(),
            end_hooks: Vec::new(),
            idle_exit: None,
            print_report: true,
            customizers: Vec::new(),
            metrics_meter: None,
        }
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
        self.registry
            .register_workflow::<W>()
            .map_err(|e| OptionsError::Registration(e.to_string()))?;
        self.workflows
            .push((W::name(), options.versioning_behavior));
        Ok(self)
    }

    /// Registers every activity of an `#[activities]` implementer.
    pub fn register_activities<AI: ActivityImplementer>(&mut self, instance: AI) -> &mut Self {
        self.registry.register_activities(instance);
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
        self.registry.register_activity::<AD>(instance);
        self.activities_registered = true;
        self
    }

    /// Adds a hook run after the worker stops, in registration order, on every invocation
    /// (also when connecting or starting failed). Each is told its remaining budget and is
    /// cut off at the invocation's deadline; an error is logged and the next hook still runs.
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

    /// Adds a hook run at the end of every invocation (also a failed one) with its
    /// [`InvocationReport`], after the shutdown hooks, just before the response is posted.
    /// It must be quick. A panicking hook is logged.
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

    /// Changes anything else on the SDK's `WorkerOptions` (interceptors, heartbeat throttling,
    /// ...), applied after the Lambda settings each invocation. Eager activities stay off.
    pub fn customize_worker<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&mut WorkerOptions) + Send + Sync + 'static,
    {
        self.customizers.push(Arc::new(f));
        self
    }

    /// Checks the options once, at init, and fixes what is derived.
    pub fn validate(self) -> Result<ValidatedOptions, OptionsError> {
        let v = &self.deployment_version;
        if v.deployment_name.trim().is_empty() || v.build_id.trim().is_empty() {
            return Err(OptionsError::BlankVersion {
                deployment_name: v.deployment_name.clone(),
                build_id: v.build_id.clone(),
            });
        }
        if self.task_queue.trim().is_empty() {
            return Err(OptionsError::MissingTaskQueue);
        }
        if self.workflows.is_empty() && !self.activities_registered {
            return Err(OptionsError::NothingRegistered);
        }
        if self.default_versioning_behavior == Some(VersioningBehavior::Unspecified) {
            return Err(OptionsError::UnspecifiedBehavior {
                workflow: "default_versioning_behavior".into(),
            });
        }
        let mut behavior: Option<(&str, VersioningBehavior)> = None;
        for (name, declared) in &self.workflows {
            let b = match declared.or(self.default_versioning_behavior) {
                None | Some(VersioningBehavior::Unspecified) => {
                    return Err(OptionsError::UnspecifiedBehavior {
                        workflow: (*name).to_owned(),
                    });
                }
                Some(b) => b,
            };
            match behavior {
                None => behavior = Some((name, b)),
                Some((first, fb)) if fb != b => {
                    return Err(OptionsError::MixedBehaviors {
                        first: first.to_owned(),
                        first_behavior: fb,
                        second: (*name).to_owned(),
                        second_behavior: b,
                    });
                }
                Some(_) => {}
            }
        }
        let w = &self.worker;
        for (field, value) in [
            ("max_concurrent_activities", w.max_concurrent_activities),
            (
                "max_concurrent_workflow_tasks",
                w.max_concurrent_workflow_tasks,
            ),
            (
                "max_concurrent_local_activities",
                w.max_concurrent_local_activities,
            ),
            ("max_concurrent_nexus_tasks", w.max_concurrent_nexus_tasks),
            ("activity_task_pollers", w.activity_task_pollers),
            ("nexus_task_pollers", w.nexus_task_pollers),
        ] {
            if value == 0 {
                return Err(OptionsError::InvalidLimit {
                    field,
                    message: "must be at least 1".into(),
                });
            }
        }
        if w.max_cached_workflows > 0 && w.workflow_task_pollers < 2 {
            return Err(OptionsError::InvalidLimit {
                field: "workflow_task_pollers",
                message: "must be at least 2 while the sticky cache is on \
                          (max_cached_workflows > 0)"
                    .into(),
            });
        }
        if w.workflow_task_pollers == 0 {
            return Err(OptionsError::InvalidLimit {
                field: "workflow_task_pollers",
                message: "must be at least 1".into(),
            });
        }
        if let Some(idle) = self.idle_exit
            && !(IDLE_EXIT_MIN..=IDLE_EXIT_MAX).contains(&idle)
        {
            return Err(OptionsError::InvalidIdleExit(format!(
                "opts.idle_exit is {idle:?}; it must be between 100ms and 15min (or None to poll until the deadline)"
            )));
        }
        // Java's rule: a changed stop timeout moves the buffer unless the buffer was set.
        let mut me = self;
        if me.shutdown_deadline_buffer == default_buffer(defaults::STOP_TIMEOUT)
            && me.worker.stop_timeout != defaults::STOP_TIMEOUT
        {
            me.shutdown_deadline_buffer = default_buffer(me.worker.stop_timeout);
        }
        if me.shutdown_deadline_buffer < me.worker.stop_timeout {
            tracing::warn!(
                buffer = ?me.shutdown_deadline_buffer,
                stop_timeout = ?me.worker.stop_timeout,
                "shutdown_deadline_buffer is shorter than the stop timeout: the drain will be \
                 cut short to keep the invocation inside its deadline"
            );
        }
        let behavior = behavior.map(|(_, b)| b);
        // Try building once so a bad tuner fails at init, not per invocation.
        let validated = ValidatedOptions {
            behavior,
            options: me,
        };
        let probe = validated.worker_options(None);
        probe
            .to_core_options("probe".into(), "probe".into())
            .map_err(OptionsError::Worker)?;
        Ok(validated)
    }
}

/// Options that passed [`Options::validate`]: what the lifecycle engine runs with.
#[derive(Debug)]
pub struct ValidatedOptions {
    options: Options,
    behavior: Option<VersioningBehavior>,
}

impl ValidatedOptions {
    /// The validated options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Time before the deadline at which draining starts.
    pub fn shutdown_deadline_buffer(&self) -> Duration {
        self.options.shutdown_deadline_buffer
    }

    /// How long the drain may wait for in-flight work.
    pub fn stop_timeout(&self) -> Duration {
        self.options.worker.stop_timeout
    }

    /// The versioning behaviour every registered workflow shares (`None` for an
    /// activity-only worker).
    pub fn versioning_behavior(&self) -> Option<VersioningBehavior> {
        self.behavior
    }

    /// The invocation-start hooks, in registration order.
    pub fn invocation_start_hooks(&self) -> &[StartHook] {
        &self.options.start_hooks
    }

    /// The invocation-end hooks, in registration order.
    pub fn invocation_end_hooks(&self) -> &[EndHook] {
        &self.options.end_hooks
    }

    /// The idle early exit period, if enabled.
    pub fn idle_exit(&self) -> Option<Duration> {
        self.options.idle_exit
    }

    /// The metrics backend for the SDK runtime's worker metrics, if one was set.
    pub fn metrics_meter(&self) -> Option<Arc<dyn CoreMeter>> {
        self.options.metrics_meter.clone()
    }

    /// Shutdown hooks, in registration order.
    pub fn shutdown_hooks(&self) -> &[ShutdownHook] {
        &self.options.hooks
    }

    /// The identity to use: the user's if set, else `<requestId>@<functionArn>` when an
    /// invocation gives those (an empty part becomes `unknown`), else none.
    pub fn identity(&self, invocation: Option<(&str, &str)>) -> Option<String> {
        if let Some(id) = &self.options.worker.identity {
            return Some(id.clone());
        }
        invocation.map(|(request_id, arn)| {
            let part = |s: &str| {
                if s.is_empty() {
                    "unknown".to_owned()
                } else {
                    s.to_owned()
                }
            };
            format!("{}@{}", part(request_id), part(arn))
        })
    }

    /// Connection options for one invocation, carrying `identity`.
    pub fn connection_options(&self, identity: Option<&str>) -> ConnectionOptions {
        let mut c = self.options.connection_options.clone();
        if let Some(id) = identity {
            c.identity = id.to_owned();
        }
        c
    }

    /// Client options for one invocation.
    pub fn client_options(&self) -> ClientOptions {
        self.options.client_options.clone()
    }

    /// A fresh SDK `WorkerOptions` for one invocation: registrations replayed, Lambda limits,
    /// versioning on, eager activities off.
    pub fn worker_options(&self, identity: Option<&str>) -> WorkerOptions {
        let o = &self.options;
        let w = &o.worker;
        let mut wo = o.registry.clone();
        wo.task_queue = o.task_queue.clone();
        wo.deployment_options = WorkerDeploymentOptions::new(o.deployment_version.clone())
            .use_worker_versioning(true)
            .maybe_default_versioning_behavior(self.behavior)
            .build();
        wo.tuner = w.tuner.clone().unwrap_or_else(|| {
            TunerHolder::builder()
                .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(
                    w.max_concurrent_workflow_tasks,
                ))
                .activity_task_slot_supplier(FixedSizeSlotSupplier::new(
                    w.max_concurrent_activities,
                ))
                .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(
                    w.max_concurrent_local_activities,
                ))
                .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(w.max_concurrent_nexus_tasks))
                .build()
                .into()
        });
        wo.workflow_task_poller_behavior =
            Some(PollerBehavior::SimpleMaximum(w.workflow_task_pollers));
        wo.activity_task_poller_behavior =
            Some(PollerBehavior::SimpleMaximum(w.activity_task_pollers));
        wo.nexus_task_poller_behavior = Some(PollerBehavior::SimpleMaximum(w.nexus_task_pollers));
        wo.max_cached_workflows = w.max_cached_workflows;
        wo.graceful_shutdown_period = Some(w.stop_timeout);
        wo.client_identity_override = identity.map(str::to_owned);
        for c in &o.customizers {
            c(&mut wo);
        }
        // Eager activities need a long-lived connection: always off, whatever was customised.
        wo.max_eager_activity_reservations_per_workflow_task = 0;
        wo.task_queue = o.task_queue.clone();
        wo
    }
}

#[cfg(test)]
mod tests;
